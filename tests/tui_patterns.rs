//! The Patterns screen (issue 14): the templates of errors and warnings in the range with their
//! rule, videos and a new flag; Enter lists a template's lines; what changed against a baseline —
//! on ratatui's TestBackend with the demo data (and a generated incident) and the real local
//! backend answering.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::worker::Update;
use foley_triage::backend::{Backend, PatternsQuery, TimeRange};
use foley_triage::config::Config;
use foley_triage::simulate::{self, SimulateOptions};
use foley_triage::tui::state::{Screen, State};
use foley_triage::tui::update::{Effect, Msg, update};

fn open(paths: Vec<std::path::PathBuf>) -> LocalBackend {
    let config = Config::default();
    LocalBackend::open(paths, config.enricher().expect("rules"), &config, 2, false, Vec::new())
}

fn state_on(backend: &mut LocalBackend, range: TimeRange) -> State {
    let mut state = State::new("demo".into(), &Config::default());
    update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
    update(&mut state, Msg::Resize { width: 160, height: 48 });
    state.range = range;
    let overview = backend.overview(range);
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(overview),
            range,
            events_per_second: 0.0,
            source: "demo".into(),
        }),
    );
    state
}

fn press(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Answers the screen's request with the backend's, as the engine would.
fn answer(state: &mut State, backend: &mut LocalBackend, effects: &[Effect]) {
    let query: &PatternsQuery =
        effects.iter().find_map(|e| if let Effect::Patterns(q) = e { Some(q) } else { None }).expect("a request");
    let view = backend.patterns(query);
    update(state, Msg::Engine(Update::Patterns { query: query.clone(), view: Box::new(view), took_ms: 1 }));
}

#[test]
fn patterns_list_every_template_with_its_rule_videos_and_lines() {
    let demo = foley_triage::demo::materialize().expect("demo");
    let mut backend = open(demo.files());
    let mut state = state_on(&mut backend, TimeRange::ALL);
    let effects = press(&mut state, KeyCode::Char('5'));
    assert_eq!(state.screen, Screen::Patterns);
    assert!(render(&state, 160, 48).contains("asking the engine"), "the screen says it waits");
    answer(&mut state, &mut backend, &effects);
    let (_, view, _) = state.patterns.answer.clone().unwrap();
    assert!(view.rows.len() >= 3, "{:?}", view.rows);
    // every template, not only the unknown: some a rule explains, some none
    assert!(view.rows.iter().any(|r| r.explanation.rule.is_some()), "attributed templates listed");
    assert!(view.rows.iter().any(|r| r.explanation.rule.is_none() && r.unknown > 0), "unknown templates listed");
    assert!(view.rows.iter().any(|r| r.videos > 0 && !r.components.is_empty()));
    assert!(view.rows.windows(2).all(|w| w[0].count >= w[1].count), "most lines first");
    // the demo ends in an incident whose unknown code starts late: first seen near the end → new
    let overview = state.overview.clone().unwrap();
    let end = overview.data_to.unwrap();
    for row in &view.rows {
        let recent = row.first_seen.is_some_and(|f| f > end - 15 * 60_000);
        assert_eq!(row.new, recent, "{}", row.template);
    }
    let screen = render(&state, 160, 48);
    assert!(screen.contains("Patterns ·") && screen.contains("What changed"), "{screen}");
    assert!(screen.contains(&view.rows[0].template[..20]), "{screen}");
    let small = render(&state, 80, 24);
    assert!(small.contains("Patterns"), "{small}");
    // Enter on each of the first rows lists exactly its lines (grouped templates included)
    for at in 0..view.rows.len().min(6) {
        state.patterns.cursor = at;
        let effects = press(&mut state, KeyCode::Enter);
        let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
        assert_eq!(state.screen, Screen::Lines);
        let lines = backend.lines(query);
        assert_eq!(lines.events.len() as u64, view.rows[at].count, "lines of `{}`", view.rows[at].template);
        // and a video among them drills down as usual (d)
        update(&mut state, Msg::Engine(Update::Lines(Box::new(lines.clone()))));
        if let Some(i) = lines.events.iter().position(|e| e.video_id.is_some()) {
            state.lines.cursor = i;
            let effects = press(&mut state, KeyCode::Char('d'));
            assert!(matches!(effects.as_slice(), [Effect::Related(_)]), "{effects:?}");
            assert_eq!(state.screen, Screen::Drill);
            press(&mut state, KeyCode::Esc);
        }
        press(&mut state, KeyCode::Esc);
        assert_eq!(state.screen, Screen::Patterns);
    }
}

#[test]
fn a_range_without_errors_says_nothing_is_wrong_and_an_empty_one_says_no_data() {
    let demo = foley_triage::demo::materialize().expect("demo");
    let mut backend = open(demo.files());
    // before the data: nothing read
    let mut state = state_on(&mut backend, TimeRange::between(1_000_000_000_000, 1_000_000_060_000));
    let effects = press(&mut state, KeyCode::Char('5'));
    answer(&mut state, &mut backend, &effects);
    let screen = render(&state, 80, 24);
    assert!(screen.contains("no events in this range"), "{screen}");
    // only INFO lines: nothing wrong, said so
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.log");
    let text: String =
        (0..50).map(|i| format!("2025-09-01 14:00:{:02}.000 [INFO] worker-1 all good n={i}\n", i % 60)).collect();
    std::fs::write(&path, text).unwrap();
    let mut backend = open(vec![path]);
    let mut state = state_on(&mut backend, TimeRange::ALL);
    assert!(state.overview.as_ref().unwrap().events >= 50);
    let effects = press(&mut state, KeyCode::Char('5'));
    answer(&mut state, &mut backend, &effects);
    let screen = render(&state, 80, 24);
    assert!(screen.contains("nothing wrong"), "{screen}");
}

#[test]
fn what_changed_puts_the_incidents_new_code_and_its_spiking_code_first() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = simulate::write_logs(dir.path(), &SimulateOptions::default()).unwrap();
    let paths = simulate::FILE_NAMES.iter().map(|n| dir.path().join(n)).collect();
    let mut backend = open(paths);
    // minutes 20..30 of the run: the OOM storm (20–30) and the unknown code's start (25);
    // the baseline is minutes 10..20
    let start = manifest.start_ms;
    let range = TimeRange::between(start + 20 * 60_000, start + 30 * 60_000 - 1);
    let mut state = state_on(&mut backend, range);
    let effects = press(&mut state, KeyCode::Char('5'));
    answer(&mut state, &mut backend, &effects);
    let (_, view, _) = state.patterns.answer.clone().unwrap();
    let codes: Vec<(&str, &str)> =
        view.changes.iter().filter(|c| c.kind == "code").map(|c| (c.name.as_str(), c.change)).collect();
    assert!(codes.len() >= 2, "{:?}", view.changes);
    assert_eq!(codes[0], (manifest.unknown_code.as_str(), "new"), "{codes:?}");
    assert_eq!(codes[1], ("MODEL_INFER_FAIL", "rose"), "{codes:?}");
    let spike = view.changes.iter().find(|c| c.kind == "code" && c.name == "MODEL_INFER_FAIL").unwrap();
    assert!(spike.factor.unwrap() >= 2.0 && spike.before >= 1, "{spike:?}");
    // codes come first in the list, then templates: the new code's own template is new too
    assert_eq!(view.changes[0].name, manifest.unknown_code);
    assert!(
        view.changes
            .iter()
            .any(|c| c.kind == "template" && c.change == "new" && c.name.starts_with(&manifest.unknown_code)),
        "{:?}",
        view.changes
    );
    assert!(render(&state, 160, 48).contains(&format!("new   {:>7}", "-")), "the change and its factor shown");
    // w and Enter: the new code's lines
    press(&mut state, KeyCode::Char('w'));
    state.patterns.change_cursor = view.changes.iter().position(|c| c.kind == "code").unwrap();
    let effects = press(&mut state, KeyCode::Enter);
    let [Effect::Lines(query)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(query.code.as_deref(), Some(manifest.unknown_code.as_str()));
    // a baseline before the data holds nothing: nothing is called new, and the screen says why
    let early = PatternsQuery {
        range: TimeRange::between(start, start + 10 * 60_000 - 1),
        ..foley_triage::tui::patterns::query(&state)
    };
    let before = backend.patterns(&early);
    assert!(before.changes.is_empty(), "{:?}", before.changes);
    assert!(before.note.as_deref().is_some_and(|n| n.starts_with("the baseline holds no data")), "{:?}", before.note);
    // :baseline FROM TO compares with another span
    let effects = {
        press(&mut state, KeyCode::Esc);
        press(&mut state, KeyCode::Char(':'));
        for c in "baseline 2025-09-01T14:20:00Z 2025-09-01T14:29:59Z".chars() {
            press(&mut state, KeyCode::Char(c));
        }
        press(&mut state, KeyCode::Enter)
    };
    answer(&mut state, &mut backend, &effects);
    let (_, view, _) = state.patterns.answer.clone().unwrap();
    assert_eq!(view.baseline.from_ms, Some(start + 20 * 60_000));
    assert!(view.changes.is_empty(), "the range against itself: nothing changed: {:?}", view.changes);
}

/// A baseline reaching back before the data compares rates over the part of it that has data
/// (counting the time without data as quiet would call a steady code "risen"), and says so when
/// that part is too short for a rate.
#[test]
fn a_baseline_partly_before_the_data_compares_only_its_part_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inference.log");
    // one error a minute, 14:00:30 to 14:39:30: a steady rate throughout
    let text: String = (0..40)
        .map(|m| format!("2025-09-01 14:{m:02}:30 [ERROR] video_id=vid_{m} error_code=E_STEADY reason=\"steady\"\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    let mut backend = open(vec![path]);
    let at = |h: i64, m: i64| 1_756_684_800_000 + (h * 60 + m) * 60_000;
    let steady = |view: &foley_triage::stats::template_rows::PatternsView| {
        view.changes
            .iter()
            .filter(|c| c.name.contains("E_STEADY"))
            .map(|c| (c.change, c.now, c.before))
            .collect::<Vec<_>>()
    };
    // 14:10-14:39 against 13:40-14:09, whose data starts at 14:00:30: 30 now, 10 in ~10 minutes
    let query =
        |from, to| PatternsQuery { range: TimeRange::between(from, to), baseline: None, options: Default::default() };
    let view = backend.patterns(&query(at(14, 10), at(14, 40) - 1));
    assert_eq!(view.note, None);
    assert!(steady(&view).is_empty(), "a steady code is not new or risen: {:?}", view.changes);
    assert_eq!(view.baseline.from_ms, Some(at(14, 0) + 30_000), "the span compared starts with the data");
    // 14:04-14:39 against 13:28-14:03: four minutes of data, too few for a rate
    let view = backend.patterns(&query(at(14, 4), at(14, 40) - 1));
    assert!(view.changes.is_empty(), "{:?}", view.changes);
    assert!(
        view.note.as_deref().is_some_and(|n| n.starts_with("the baseline holds only 3m30s of data")),
        "{:?}",
        view.note
    );
}

/// `L` on the codes screen: a code no rule explains gets the form, pre-filled with a rule for the
/// code; a code a rule explains says so and opens nothing.
#[test]
fn l_on_a_code_no_rule_explains_opens_the_form_for_that_code() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("app.log");
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!(
            "2025-09-01 14:{i:02}:01.000 [ERROR] worker-1 video_id=vid_a{i:04}b error_code=E_FROB_BROKEN frobnicator broke\n"
        ));
    }
    for i in 0..5 {
        text.push_str(&format!(
            "2025-09-01 14:{i:02}:03.000 [ERROR] worker-1 video_id=vid_c{i:04}d error_code=VIDEO_DECODE_ERR bad codec\n"
        ));
    }
    std::fs::write(&log, text).expect("write");
    let mut backend = open(vec![log]);
    let mut state = state_on(&mut backend, TimeRange::ALL);
    press(&mut state, KeyCode::Char('4'));
    assert_eq!(state.screen, Screen::Codes);
    let codes: Vec<String> = state.overview.as_ref().unwrap().codes.iter().map(|c| c.code.clone()).collect();
    assert_eq!(codes, ["E_FROB_BROKEN", "VIDEO_DECODE_ERR"]);
    press(&mut state, KeyCode::Char('L'));
    let form = state.form.clone().expect("the form for the unknown code");
    assert_eq!(form.values[0], "learned-frob-broken");
    assert_eq!(form.values[1], "E_FROB_BROKEN");
    let screen = render(&state, 160, 48);
    assert!(screen.contains("E_FROB_BROKEN"), "{screen}");
    press(&mut state, KeyCode::Esc);
    assert!(state.form.is_none());
    // the known code: no form, and the status says why
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char('L'));
    assert!(state.form.is_none());
    assert!(state.status.contains("a rule already explains VIDEO_DECODE_ERR"), "{:?}", state.status);
}
