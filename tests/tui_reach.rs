//! Reaching anything from the console (issue 12): the command line (`:`), the whole line (`v`,
//! `Y`, `←`/`→`), context in the drill-down (`x`), the overview's time cursor and zoom (`[` `]`
//! `z` `Z`), the panels entered (`w`, Enter) and the top videos filtered and sorted (`f`, `s`),
//! on ratatui's TestBackend with the demo data and its real local backend answering.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::range::Bound;
use foley_triage::backend::worker::Update;
use foley_triage::backend::{Backend, TimeRange};
use foley_triage::config::Config;
use foley_triage::tui::state::{Input, Overlay, Panel, Screen, State};
use foley_triage::tui::update::{Effect, Msg, update};

fn demo_backend() -> (foley_triage::demo::DemoDir, LocalBackend) {
    let demo = foley_triage::demo::materialize().expect("demo");
    let config = Config::default();
    let backend = LocalBackend::open(demo.files(), config.enricher().expect("rules"), &config, 2, false, Vec::new());
    (demo, backend)
}

/// The overview of `range` and the alert rules' firings in it, as the engine sends them.
fn overview(state: &mut State, backend: &mut LocalBackend, range: TimeRange) {
    let mut overview = backend.overview(range);
    let rules = foley_triage::alerts::rules::builtin();
    let at = overview.window_to.or(overview.data_to);
    let (alerts, _) = foley_triage::backend::alerts::evaluate_range(backend, &rules, range, overview.window_from, at);
    overview.alerts = foley_triage::backend::alerts::rows_of(&alerts.alerts, at.unwrap_or(i64::MAX));
    update(state, Msg::Engine(Update::Alerts(Box::new(alerts))));
    update(
        state,
        Msg::Engine(Update::Overview {
            overview: Box::new(overview),
            range,
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
}

fn demo_state(backend: &mut LocalBackend) -> State {
    let mut state = State::new("demo".into(), &Config::default());
    update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
    update(&mut state, Msg::Resize { width: 160, height: 48 });
    let range = state.range;
    overview(&mut state, backend, range);
    update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 20_000))));
    state
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, key(code))
}

/// Types `:text` and Enter; returns the effects of Enter.
fn command(state: &mut State, text: &str) -> Vec<Effect> {
    press(state, KeyCode::Char(':'));
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
    press(state, KeyCode::Enter)
}

fn without_history(effects: Vec<Effect>) -> Vec<Effect> {
    effects.into_iter().filter(|e| !matches!(e, Effect::SaveHistory(_))).collect()
}

fn header(state: &State) -> String {
    render(state, 160, 48).lines().next().unwrap_or_default().to_string()
}

/// 2025-09-01 14:10:00 UTC.
const T1410: i64 = 1_756_735_800_000;

#[test]
fn range_commands_set_the_range_and_the_header_shows_it_in_absolute_times() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let effects = command(&mut state, "last 30m");
    assert!(effects.contains(&Effect::SaveHistory(vec!["last 30m".into()])), "{effects:?}");
    assert_eq!(without_history(effects), vec![Effect::Window(TimeRange::last(1_800_000))]);
    let range = state.range;
    overview(&mut state, &mut backend, range);
    assert!(header(&state).contains("last 30m 14:29:59 … 14:59:59 │"), "{}", header(&state));
    let effects = without_history(command(&mut state, "range 2025-09-01 14:10:00 2025-09-01 14:20:00"));
    let zoomed = TimeRange::between(T1410, T1410 + 600_000);
    assert_eq!(effects, vec![Effect::Window(zoomed)]);
    overview(&mut state, &mut backend, zoomed);
    assert!(header(&state).contains("│ 14:10:00 … 14:20:00 │"), "{}", header(&state));
    let o = state.overview.as_ref().unwrap();
    assert!(o.window_from == Some(T1410) && o.window_to == Some(T1410 + 600_000), "the backend computed that range");
    let effects = without_history(command(&mut state, "since 2025-09-01T14:05:00Z"));
    assert_eq!(effects, vec![Effect::Window(zoomed.with_from(Bound::At(T1410 - 300_000)))]);
    let effects = without_history(command(&mut state, "until 10m"));
    assert_eq!(
        effects,
        vec![Effect::Window(zoomed.with_from(Bound::At(T1410 - 300_000)).with_to(Bound::Ago(600_000)))]
    );
    assert_eq!(without_history(command(&mut state, "all")), vec![Effect::Window(TimeRange::ALL)]);
    // a malformed time says what it expected; nothing changes
    assert!(without_history(command(&mut state, "since yesterday")).is_empty());
    assert!(state.status.contains(":since `yesterday`: expected a time (2025-09-01T14:00:00Z"), "{}", state.status);
    assert_eq!(state.range, TimeRange::ALL);
    // a range that ends before it starts is refused
    command(&mut state, "range 2025-09-01T14:20:00Z 2025-09-01T14:10:00Z");
    assert_eq!(state.range, zoomed, "ends put in order");
}

#[test]
fn id_filter_theme_help_quit_and_unknown_commands() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    assert_eq!(without_history(command(&mut state, "video vid_fa9b63")), vec![Effect::Related("vid_fa9b63".into())]);
    assert_eq!(state.screen, Screen::Drill);
    press(&mut state, KeyCode::Char('1'));
    assert_eq!(without_history(command(&mut state, "req_2ae111cc")), vec![Effect::Related("req_2ae111cc".into())]);
    press(&mut state, KeyCode::Char('1'));
    command(&mut state, "code VIDEO_DECODE_ERR");
    let top = state.top_videos();
    assert!(!top.is_empty() && top.iter().all(|v| v.codes.iter().any(|c| c == "VIDEO_DECODE_ERR")));
    let tail = state.tail_visible();
    assert!(!tail.is_empty() && tail.iter().all(|(_, e)| e.error_code.as_deref() == Some("VIDEO_DECODE_ERR")));
    assert!(render(&state, 160, 48).contains(":code VIDEO_DECODE_ERR"), "the list says its filter");
    command(&mut state, "component ffmpeg");
    command(&mut state, "level error");
    assert!(
        state
            .tail_visible()
            .iter()
            .all(|(_, e)| e.component == "ffmpeg" && e.level >= foley_triage::event::Level::Error)
    );
    command(&mut state, "clear");
    assert!(state.tail.code.is_none() && state.tail.component.is_none() && state.tail.min_level.is_none());
    assert_eq!(without_history(command(&mut state, "theme light")), vec![Effect::SetTheme("light".into())]);
    command(&mut state, "frobnicate");
    assert!(state.status.contains("unknown command `frobnicate`") && state.status.contains("video, code, component"));
    command(&mut state, "help");
    assert_eq!(state.overlay, Some(Overlay::Help));
    let listed = (0..60).any(|_| {
        press(&mut state, KeyCode::Char('j'));
        render(&state, 160, 48).contains(":range FROM TO")
    });
    assert!(listed, "help lists the commands");
    press(&mut state, KeyCode::Esc);
    command(&mut state, "q");
    assert!(state.quit);
}

#[test]
fn tab_completes_and_history_recalls() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    press(&mut state, KeyCode::Char(':'));
    for c in "video vid_fa9b".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Tab);
    assert!(matches!(&state.input, Input::Command(l) if l.text == "video vid_fa9b63"), "{:?}", state.input);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char(':'));
    for c in "code MODEL_".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Tab);
    let screen = render(&state, 160, 48);
    let last = screen.lines().last().unwrap_or_default();
    assert!(last.contains("completions: MODEL_INFER_FAIL MODEL_TIMEOUT"), "{last}");
    press(&mut state, KeyCode::Esc);
    command(&mut state, "last 30m");
    command(&mut state, "level warn");
    state.history.insert(0, "from an earlier run".into());
    press(&mut state, KeyCode::Char(':'));
    press(&mut state, KeyCode::Up);
    assert!(matches!(&state.input, Input::Command(l) if l.text == "level warn"));
    press(&mut state, KeyCode::Up);
    press(&mut state, KeyCode::Up);
    assert!(matches!(&state.input, Input::Command(l) if l.text == "from an earlier run"));
    press(&mut state, KeyCode::Down);
    assert!(matches!(&state.input, Input::Command(l) if l.text == "last 30m"));
}

#[test]
fn a_line_whole_copied_and_scrolled_sideways() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    press(&mut state, KeyCode::Char('3'));
    press(&mut state, KeyCode::Up); // pauses, selects a line
    let selected = state.tail_selected().cloned().unwrap();
    press(&mut state, KeyCode::Char('v'));
    assert_eq!(state.overlay, Some(Overlay::Line));
    let screen = render(&state, 160, 48);
    assert!(screen.contains("The line whole") && screen.contains("── the line"), "{screen}");
    assert!(screen.contains(&format!("component {}", selected.component)), "every field in a table");
    match press(&mut state, KeyCode::Char('Y')).as_slice() {
        [Effect::Copy { text, label }] => {
            assert_eq!(label, "the whole line");
            assert_eq!(text, &selected.raw);
        }
        other => panic!("expected a copy: {other:?}"),
    }
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.overlay, None);
    let before = render(&state, 160, 48);
    press(&mut state, KeyCode::Right);
    assert_eq!(state.hscroll, 20);
    let after = render(&state, 160, 48);
    assert!(after.contains('«') && !before.contains('«'), "scrolled sideways: marked");
    press(&mut state, KeyCode::Left);
    assert_eq!(state.hscroll, 0);
    assert_eq!(state.screen, Screen::Tail, "← scrolls, it does not go back");
}

#[test]
fn context_shows_every_source_around_the_line_with_the_gpu() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let id = state.top_videos()[0].video_id.clone();
    press(&mut state, KeyCode::Enter);
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&id)))));
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char('j'));
    let anchor = state.drill.related.as_ref().unwrap().events[2].clone();
    let effects = press(&mut state, KeyCode::Char('x'));
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    let at = anchor.ts_ms.unwrap();
    assert_eq!((query.from_ms, query.to_ms), (at - 30_000, at + 30_000), "±30 s by default");
    update(&mut state, Msg::Engine(Update::Lines(Box::new(backend.lines(query)))));
    let context = state.drill.context.as_ref().unwrap();
    let sources: std::collections::BTreeSet<_> = context.events.iter().map(|e| e.source).collect();
    assert!(sources.len() >= 3, "every source: {sources:?}");
    assert!(context.events.iter().all(|e| query.in_span(e.ts_ms)));
    assert!(!context.gpu.is_empty(), "the demo logs GPU samples");
    let screen = render(&state, 160, 48);
    assert!(screen.contains("Context ±30 s") && screen.contains('◆') && screen.contains("GPU ·"), "{screen}");
    // Enter on a context line opens it whole
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.overlay, Some(Overlay::Line));
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('x'));
    assert!(!state.drill.show_context);
}

#[test]
fn the_time_cursor_zooms_and_z_goes_back() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let plain = render(&state, 160, 48);
    press(&mut state, KeyCode::Char(']'));
    let at = state.time_cursor.unwrap();
    press(&mut state, KeyCode::Char('['));
    assert_eq!(state.time_cursor, Some(at.saturating_sub(1)));
    let drawn = render(&state, 160, 48);
    let heat = drawn.lines().find(|l| l.contains("MODEL_INFER_FAIL")).unwrap();
    let bars = |row: &str| row.matches('│').count();
    let plain_heat = plain.lines().find(|l| l.contains("MODEL_INFER_FAIL")).unwrap();
    assert_eq!(bars(heat), bars(plain_heat) + 1, "the cursor drawn in the heatmap:\n{heat}\n{plain_heat}");
    let effects = press(&mut state, KeyCode::Char('z'));
    let [Effect::Window(zoomed)] = effects.as_slice() else { panic!("{effects:?}") };
    let window = zoomed.window(None);
    let step = state.overview.as_ref().unwrap().series.step_ms;
    assert_eq!(window.to_ms.unwrap() - window.from_ms.unwrap() + 1, 5 * step, "the bucket ± 2");
    overview(&mut state, &mut backend, *zoomed);
    assert!(!header(&state).contains("last 1h"), "{}", header(&state));
    assert_eq!(state.zoom_stack, vec![TimeRange::last(3_600_000)]);
    assert_eq!(press(&mut state, KeyCode::Char('Z')), vec![Effect::Window(TimeRange::last(3_600_000))]);
    assert!(press(&mut state, KeyCode::Char('Z')).is_empty() && state.status.contains("not zoomed in"));
}

#[test]
fn every_panel_can_be_entered_and_the_top_list_filtered_and_sorted() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    press(&mut state, KeyCode::Char('w'));
    assert_eq!(state.focus, Panel::Heatmap);
    let effects = press(&mut state, KeyCode::Enter);
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(query.code.as_deref(), Some("MODEL_INFER_FAIL"));
    assert_eq!(state.screen, Screen::Lines);
    update(&mut state, Msg::Engine(Update::Lines(Box::new(backend.lines(query)))));
    let lines = state.lines.answer.as_ref().unwrap();
    assert!(
        !lines.events.is_empty() && lines.events.iter().all(|e| e.error_code.as_deref() == Some("MODEL_INFER_FAIL"))
    );
    assert!(render(&state, 160, 48).contains("MODEL_INFER_FAIL 14:"), "the lines screen names its query");
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.screen, Screen::Overview);
    // an unknown-error pattern: its lines, each with that template
    update(&mut state, Msg::Key(KeyEvent::new(KeyCode::Right, KeyModifiers::CONTROL)));
    assert_eq!(state.focus, Panel::Unknown);
    let effects = press(&mut state, KeyCode::Enter);
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    let answer = backend.lines(query);
    let template = state.overview.as_ref().unwrap().unknown_patterns[0].clone();
    assert!(answer.events.len() as u64 >= template.count.min(1), "the pattern's lines");
    assert!(answer.events.iter().all(|e| foley_triage::backend::lines::template_of(e) == template.template));
    press(&mut state, KeyCode::Esc);
    // a fired alert: the lines of its rule's filter over its windows
    press(&mut state, KeyCode::Char('w'));
    assert_eq!(state.focus, Panel::Alerts);
    assert!(render(&state, 160, 48).contains("▶ model error burst"), "the alerts listed, one selected");
    let effects = press(&mut state, KeyCode::Enter);
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(query.filter.as_deref(), Some("error_code:MODEL_*"));
    let answer = backend.lines(query);
    assert!(!answer.events.is_empty());
    assert!(answer.events.iter().all(|e| e.error_code.as_deref().is_some_and(|c| c.starts_with("MODEL_"))));
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('w'));
    assert_eq!(state.focus, Panel::Videos);
    // f filters, s sorts
    press(&mut state, KeyCode::Char('f'));
    for c in "codec".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Enter);
    let shown = state.top_videos();
    assert!(!shown.is_empty() && shown.iter().all(|v| v.cause.to_lowercase().contains("codec")));
    assert!(render(&state, 160, 48).contains("· f codec"));
    press(&mut state, KeyCode::Char('s'));
    press(&mut state, KeyCode::Char('s'));
    let ids: Vec<&str> = state.top_videos().iter().map(|v| v.video_id.as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "sorted by id: {ids:?}");
    assert!(render(&state, 160, 48).contains("· by id"));
}

#[test]
fn the_new_screens_fit_80x24() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    update(&mut state, Msg::Resize { width: 80, height: 24 });
    command(&mut state, "last 30m");
    let range = state.range;
    overview(&mut state, &mut backend, range);
    let screen = render(&state, 80, 24);
    assert!(screen.lines().next().unwrap().contains("last 30m 14:29:59 … 14:59:59"), "{screen}");
    // narrow: the focused panel takes the place of the top videos
    press(&mut state, KeyCode::Char('w'));
    assert!(render(&state, 80, 24).contains("▶ Error heatmap"), "{}", render(&state, 80, 24));
    press(&mut state, KeyCode::Char('w'));
    assert!(render(&state, 80, 24).contains("▶ Unknown errors"), "{}", render(&state, 80, 24));
    press(&mut state, KeyCode::Char('3'));
    press(&mut state, KeyCode::Char('v'));
    let screen = render(&state, 80, 24);
    assert!(screen.contains("── the line"), "{screen}");
    assert!(!screen.chars().filter(|c| *c != '\n').any(foley_triage::text::is_unsafe_char));
}

/// A line timed in 2099 (a host's clock gone wrong) is said on the status line once, with the way
/// to see it, and `:suspect` lists it from the backend (it is in no window).
#[test]
fn suspect_times_are_said_and_listed_by_the_suspect_command() {
    use std::io::Write;
    let demo = foley_triage::demo::materialize().expect("demo");
    let inference = demo.files()[0].clone();
    let mut file = std::fs::OpenOptions::new().append(true).open(&inference).unwrap();
    writeln!(file, "2099-01-01 00:00:00 [ERROR] video_id=vid_clock error_code=MODEL_TIMEOUT").unwrap();
    drop(file);
    let config = Config::default();
    let mut backend =
        LocalBackend::open(demo.files(), config.enricher().expect("rules"), &config, 2, false, Vec::new());
    let mut state = demo_state(&mut backend);
    assert!(
        state.status.contains("1 line with a time in the future") && state.status.contains(":suspect lists them"),
        "{}",
        state.status
    );
    let effects = without_history(command(&mut state, "suspect"));
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(state.screen, Screen::Lines);
    let lines = backend.lines(query);
    update(&mut state, Msg::Engine(Update::Lines(Box::new(lines))));
    let answer = state.lines.answer.as_ref().expect("the answer");
    let ids: Vec<&str> = answer.events.iter().filter_map(|e| e.video_id.as_deref()).collect();
    assert_eq!(ids, ["vid_clock"], "only the line from 2099");
    assert!(render(&state, 160, 48).contains("vid_clock"));
    // the past ones: none in the demo, and the screen says so rather than nothing
    let effects = without_history(command(&mut state, "suspect past"));
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    update(&mut state, Msg::Engine(Update::Lines(Box::new(backend.lines(query)))));
    assert!(state.lines.answer.as_ref().is_some_and(|a| a.events.is_empty()));
}

/// `:video` with an id no line mentions says so, with the data's times, instead of an empty
/// drill-down of "0 failures".
#[test]
fn an_unknown_video_id_says_no_line_mentions_it() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let effects = without_history(command(&mut state, "video vid_nosuch"));
    assert_eq!(effects, vec![Effect::Related("vid_nosuch".into())]);
    let related = backend.related("vid_nosuch");
    assert!(related.events.is_empty());
    update(&mut state, Msg::Engine(Update::Related(Box::new(related))));
    assert_eq!(state.status, "no line mentions vid_nosuch in the data");
    let screen = render(&state, 160, 48);
    assert!(screen.contains("No line between 2025-09-01T"), "{screen}");
    assert!(screen.contains("mentions vid_nosuch"), "{screen}");
    assert!(!screen.contains("0 failures"), "{screen}");
}
