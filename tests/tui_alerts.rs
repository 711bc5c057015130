//! The Alerts screen on ratatui's TestBackend, driven through the pure `update`: the firings of
//! the demo as the engine evaluates them, acknowledging and silencing (the effects that keep them,
//! the header, the banner), the bell on a new firing, and what an empty list says.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foley_triage::alerts::eval::Alert;
use foley_triage::backend::Backend;
use foley_triage::backend::TimeRange;
use foley_triage::backend::alerts::{AlertsAnswer, evaluate_range, rows_of};
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::worker::Update;
use foley_triage::config::Config;
use foley_triage::tui::state::{Input, Screen, State};
use foley_triage::tui::update::{Effect, Msg, update};

/// 2025-09-01T15:00:30Z: thirty seconds after the demo's last event.
const NOW: i64 = 1_756_738_830_000;
const MINUTE: i64 = 60_000;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(state: &mut State, text: &str) {
    for c in text.chars() {
        update(state, key(KeyCode::Char(c)));
    }
}

/// The demo read, its overview and alerts delivered as the engine would, for `range`.
fn demo_state(range: TimeRange, config: &Config) -> (foley_triage::demo::DemoDir, LocalBackend, State) {
    let demo = foley_triage::demo::materialize().expect("demo");
    let mut backend = LocalBackend::open(demo.files(), config.enricher().unwrap(), config, 2, false, Vec::new());
    let mut state = State::new("demo".into(), config);
    update(&mut state, Msg::Tick { now_ms: NOW });
    update(&mut state, Msg::Resize { width: 160, height: 48 });
    state.range = range;
    deliver(&mut state, &mut backend, range);
    (demo, backend, state)
}

fn deliver(state: &mut State, backend: &mut LocalBackend, range: TimeRange) -> Vec<Effect> {
    let mut overview = backend.overview(range);
    let rules = foley_triage::alerts::rules::builtin();
    let at = overview.window_to.or(overview.data_to);
    let (answer, _) = evaluate_range(backend, &rules, range, overview.window_from, at);
    overview.alerts = rows_of(&answer.alerts, at.unwrap_or(i64::MAX));
    update(
        state,
        Msg::Engine(Update::Overview {
            overview: Box::new(overview),
            range,
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    update(state, Msg::Engine(Update::Alerts(Box::new(answer))))
}

/// The demo until 14:40: the decode failures still firing, the model error burst resolved.
fn until_1440() -> TimeRange {
    TimeRange::between(1_756_735_200_000, 1_756_737_600_000)
}

#[test]
fn the_screen_lists_every_firing_with_its_state_and_numbers() {
    let (_demo, _backend, mut state) = demo_state(until_1440(), &Config::default());
    update(&mut state, key(KeyCode::Char('6')));
    assert_eq!(state.screen, Screen::Alerts);
    let screen = render(&state, 160, 48);
    let answer = state.alerts.answer.clone().unwrap();
    assert!(!answer.alerts.is_empty(), "the demo's incident fires");
    assert!(screen.contains("6 Alerts"), "{screen}");
    for a in &answer.alerts {
        let row = screen
            .lines()
            .find(|l| l.contains(&a.rule) && l.contains(&foley_triage::clock::format_clock(a.since_ms)))
            .unwrap_or_else(|| panic!("{} listed:\n{screen}", a.rule));
        assert!(row.contains(a.severity.as_str()), "{row}");
        let state_word = if a.is_firing() { "firing" } else { "resolved" };
        assert!(row.contains(state_word), "{row}");
        let until = a.until_ms.map_or("now".to_string(), foley_triage::clock::format_clock);
        assert!(row.contains(&until), "{row}");
        assert!(row.contains(&a.unit.show(a.threshold)), "{row}");
    }
    assert!(answer.firing().count() >= 1, "still firing at 14:40: {answer:?}");
    // the newest first, selected
    let newest = answer.alerts.iter().max_by_key(|a| a.since_ms).unwrap();
    assert_eq!(state.selected_alert().unwrap().since_ms, newest.since_ms);
    // the banner on the overview names the firing rule, its value and since when
    update(&mut state, key(KeyCode::Char('1')));
    let overview = render(&state, 160, 48);
    let firing = answer.firing().next().unwrap();
    let banner = overview.lines().nth(1).unwrap();
    assert!(banner.contains("ALERT") && banner.contains(&firing.rule), "{banner}");
    assert!(banner.contains(&format!("since {}", foley_triage::clock::format_clock(firing.since_ms))), "{banner}");
}

#[test]
fn acknowledging_and_silencing_are_kept_and_shown() {
    let (_demo, _backend, mut state) = demo_state(until_1440(), &Config::default());
    update(&mut state, key(KeyCode::Char('6')));
    let selected = state.selected_alert().cloned().unwrap();
    assert!(selected.is_firing(), "{selected:?}");
    // a: acknowledged, and the marks go to the state directory
    let effects = update(&mut state, key(KeyCode::Char('a')));
    let [Effect::SaveAlertMarks(marks)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(marks.acks.len(), 1);
    assert_eq!((marks.acks[0].rule.as_str(), marks.acks[0].since_ms), (selected.rule.as_str(), selected.since_ms));
    let screen = render(&state, 160, 48);
    let row = screen.lines().find(|l| l.contains('▶')).unwrap();
    assert!(row.contains("acknowledged"), "{row}");
    // S: the prompt; a wrong duration is said, the prompt stays
    update(&mut state, key(KeyCode::Char('S')));
    assert!(matches!(state.input, Input::Silence(_)));
    assert!(render(&state, 160, 48).lines().last().unwrap().contains("silence `"));
    typed(&mut state, "soon");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(state.status.contains("not a duration"), "{}", state.status);
    for _ in 0..4 {
        update(&mut state, key(KeyCode::Backspace));
    }
    // ↓ picks the presets: 15m, then 1h
    update(&mut state, key(KeyCode::Down));
    update(&mut state, key(KeyCode::Down));
    assert_eq!(state.input, Input::Silence("1h".into()));
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::SaveAlertMarks(marks)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(marks.silences.len(), 1);
    assert_eq!(marks.silences[0].rule, selected.rule);
    assert_eq!(marks.silences[0].until_ms, NOW + 60 * MINUTE);
    assert_eq!(state.input, Input::Normal);
    // the header names the rule when there is room, else says how many until when
    let wide = render(&state, 220, 48);
    let header = wide.lines().next().unwrap();
    assert!(header.contains(&format!("silenced: {} until 16:00:30", selected.rule)), "{header}");
    let screen = render(&state, 160, 48);
    let header = screen.lines().next().unwrap();
    assert!(header.contains("1 silenced until 16:00:30"), "{header}");
    let row = screen.lines().find(|l| l.contains('▶')).unwrap();
    assert!(row.contains("silenced"), "{row}");
    // a silenced rule leaves the banner (counted only)
    update(&mut state, key(KeyCode::Char('1')));
    let banner = render(&state, 160, 48).lines().nth(1).unwrap().to_string();
    assert!(!banner.contains(&format!("{} ", selected.rule)) || !banner.contains("ALERT"), "{banner}");
    assert!(banner.contains("silenced"), "{banner}");
    // the silence ends by the clock
    update(&mut state, Msg::Tick { now_ms: NOW + 61 * MINUTE });
    let header = render(&state, 160, 48).lines().next().unwrap().to_string();
    assert!(!header.contains("silenced"), "{header}");
    // `off` lifts a silence
    update(&mut state, Msg::Tick { now_ms: NOW });
    update(&mut state, key(KeyCode::Char('6')));
    update(&mut state, key(KeyCode::Char('S')));
    typed(&mut state, "off");
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::SaveAlertMarks(marks)] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(marks.silences.is_empty());
}

#[test]
fn enter_shows_the_latest_related_lines_then_all_of_them() {
    let (_demo, mut backend, mut state) = demo_state(until_1440(), &Config::default());
    update(&mut state, key(KeyCode::Char('6')));
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    let lines = backend.lines(query);
    assert!(lines.events.len() > 10, "the firing has many lines: {}", lines.events.len());
    update(&mut state, Msg::Engine(Update::Lines(Box::new(lines.clone()))));
    let screen = render(&state, 160, 48);
    assert!(screen.contains(&format!("the 10 latest related lines of {}", lines.events.len())), "{screen}");
    let newest = lines.events.last().unwrap();
    assert!(screen.contains(&newest.raw[..40.min(newest.raw.len())]), "the newest line shown:\n{screen}");
    // every related line matches the rule's filter (the decode failures: their code)
    let alert = state.selected_alert().unwrap().clone();
    if alert.rule == "video decode failures" {
        assert!(lines.events.iter().all(|e| e.error_code.as_deref() == Some("VIDEO_DECODE_ERR")));
    }
    // Enter again: all of them, the newest selected
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty(), "already here: {effects:?}");
    assert_eq!(state.screen, Screen::Lines);
    assert_eq!(state.lines.cursor, lines.events.len() - 1);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Alerts);
}

fn firing(rule: &str, since: i64) -> Alert {
    let rules = foley_triage::alerts::rules::builtin();
    let r = rules.iter().find(|r| r.name == rule).unwrap();
    let step = foley_triage::alerts::eval::Step { end_key: 0, from_ms: since, value: Some(20.0), holds: true };
    foley_triage::alerts::eval::firings(r, &[step], since).remove(0)
}

fn answer(alerts: Vec<Alert>) -> AlertsAnswer {
    let at = 1_756_738_799_000;
    foley_triage::backend::alerts::in_range(TimeRange::last(3_600_000), 3, alerts, None, at)
}

#[test]
fn a_rule_that_starts_firing_rings_the_bell_when_enabled() {
    let mut config = Config::default();
    let mut state = State::new("demo".into(), &config);
    update(&mut state, Msg::Tick { now_ms: NOW });
    // the first answer: what already fires does not ring
    assert!(
        update(&mut state, Msg::Engine(Update::Alerts(Box::new(answer(vec![firing("model error burst", 1)])))))
            .is_empty()
    );
    // off by default: a new firing is said, no bell
    let two = answer(vec![firing("model error burst", 1), firing("inference latency", 2)]);
    assert!(update(&mut state, Msg::Engine(Update::Alerts(Box::new(two.clone())))).is_empty());
    assert!(state.status.contains("ALERT inference latency"), "{}", state.status);
    // on: the bell
    config.alerting.bell = true;
    let mut state = State::new("demo".into(), &config);
    update(&mut state, Msg::Tick { now_ms: NOW });
    update(&mut state, Msg::Engine(Update::Alerts(Box::new(answer(vec![firing("model error burst", 1)])))));
    assert_eq!(update(&mut state, Msg::Engine(Update::Alerts(Box::new(two.clone())))), vec![Effect::Bell]);
    // the same firings again: no bell
    assert!(update(&mut state, Msg::Engine(Update::Alerts(Box::new(two)))).is_empty());
    // a silenced rule that starts firing: no bell
    state.alerts.marks.silences.push(foley_triage::tui::alerts::Silence {
        rule: "video decode failures".into(),
        until_ms: NOW + MINUTE,
        at_ms: NOW,
    });
    let three = answer(vec![
        firing("model error burst", 1),
        firing("inference latency", 2),
        firing("video decode failures", 3),
    ]);
    assert!(update(&mut state, Msg::Engine(Update::Alerts(Box::new(three)))).is_empty());
}

#[test]
fn an_empty_list_says_whether_nothing_was_loaded_or_nothing_fired() {
    let config = Config::default();
    let mut state = State::new("demo".into(), &config);
    update(&mut state, Msg::Tick { now_ms: NOW });
    update(&mut state, key(KeyCode::Char('6')));
    let nothing_yet = render(&state, 80, 24);
    assert!(nothing_yet.contains("reading logs"), "{nothing_yet}");
    let not_loaded = AlertsAnswer { range: TimeRange::ALL, rules: 3, ..AlertsAnswer::default() };
    update(&mut state, Msg::Engine(Update::Alerts(Box::new(not_loaded))));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("nothing was loaded"), "{screen}");
    update(&mut state, Msg::Engine(Update::Alerts(Box::new(answer(Vec::new())))));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("nothing fired in last 1h") && screen.contains("3 rules evaluated"), "{screen}");
    let failed = AlertsAnswer { error: Some("the cluster said 503".into()), ..answer(Vec::new()) };
    update(&mut state, Msg::Engine(Update::Alerts(Box::new(failed))));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("could not be evaluated") && screen.contains("503"), "{screen}");
    // a capped list says so and pages
    let many: Vec<Alert> = (0..600).map(|i| firing("model error burst", i * MINUTE)).collect();
    update(&mut state, Msg::Engine(Update::Alerts(Box::new(answer(many)))));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("newest 500 of 600"), "{screen}");
    update(&mut state, key(KeyCode::PageDown));
    update(&mut state, key(KeyCode::PageDown));
    let screen = render(&state, 80, 24);
    let shown: Vec<&str> = screen.lines().filter(|l| l.contains("model error")).collect();
    assert!(shown.iter().any(|l| l.contains('▶')), "the selection stays in sight:\n{screen}");
    assert!(state.alerts.cursor > 10, "{}", state.alerts.cursor);
}
