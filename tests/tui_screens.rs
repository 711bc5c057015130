//! The console's screens on ratatui's TestBackend: snapshots of every screen at 80×24 and 160×48
//! on the demo data, key flows through the pure `update`, and a render of hostile lines that must
//! leave no control character in any cell.
#![allow(clippy::panic, clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::worker::Update;
use foley_triage::config::Config;
mod common;

use common::render;
use foley_triage::tui::state::{Screen, State};
use foley_triage::tui::update::{Effect, Msg, update};
use std::path::PathBuf;

/// The demo's files stay on disk while the backend lives (drill-downs read them again).
fn demo_backend() -> (foley_triage::demo::DemoDir, LocalBackend) {
    let demo = foley_triage::demo::materialize().expect("demo");
    let paths: Vec<PathBuf> = demo.files();
    let config = Config::default();
    let backend = LocalBackend::open(paths, config.enricher().expect("rules"), &config, 2, false, Vec::new());
    (demo, backend)
}

/// A state as the runtime would build it, with the clock and source fixed for stable snapshots.
fn demo_state(backend: &mut LocalBackend) -> State {
    let config = Config::default();
    let mut state = State::new("demo".into(), &config);
    // 2025-09-01T15:00:30Z: thirty seconds after the demo's last event
    update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
    let span = state.window_span();
    let overview = backend.overview(span);
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(overview),
            span,
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 20_000))));
    state
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn every_screen_at_two_sizes() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let top = state.overview.as_ref().unwrap().top_failing_videos[0].video_id.clone();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        state.screen = Screen::Overview;
        insta::assert_snapshot!(format!("overview_{w}x{h}"), render(&state, w, h));
    }
    // drill down on the top video
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::Related(top.clone())]);
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&top)))));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        insta::assert_snapshot!(format!("drill_{w}x{h}"), render(&state, w, h));
    }
    update(&mut state, key(KeyCode::Char('3')));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        insta::assert_snapshot!(format!("tail_{w}x{h}"), render(&state, w, h));
    }
    update(&mut state, key(KeyCode::Char('4')));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        insta::assert_snapshot!(format!("codes_{w}x{h}"), render(&state, w, h));
    }
    update(&mut state, key(KeyCode::Char('?')));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&state, w, h));
    }
    // below the minimum size: a message, no panic
    let small = render(&state, 40, 10);
    assert!(small.contains("needs at least 80"), "{small}");
}

#[test]
fn drill_down_flow_copies_the_retry_link() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let row = state.overview.as_ref().unwrap().top_failing_videos[1].clone();
    update(&mut state, key(KeyCode::Char('j')));
    assert_eq!(update(&mut state, key(KeyCode::Enter)), vec![Effect::Related(row.video_id.clone())]);
    assert_eq!(state.screen, Screen::Drill);
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&row.video_id)))));
    let related = state.drill.related.as_ref().unwrap();
    assert!(related.events.len() >= row.failures as usize, "every failure line is among the related lines");
    assert!(related.events.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms), "time order");
    let sources: std::collections::BTreeSet<_> = related.events.iter().map(|e| e.source).collect();
    assert!(sources.len() >= 3, "lines from several sources: {sources:?}");
    match update(&mut state, key(KeyCode::Char('y'))).as_slice() {
        [Effect::Copy { text, label }] => {
            assert_eq!(label, "retry link");
            assert!(text.contains(&format!("/jobs/{}/retry", row.video_id)), "{text}");
        }
        other => panic!("expected a copy, got {other:?}"),
    }
    match update(&mut state, key(KeyCode::Char('o'))).as_slice() {
        [Effect::Open(url)] => {
            assert!(url.contains("/app/discover#/?_g=(time:(from:") && url.contains(&row.video_id), "{url}")
        }
        other => panic!("expected an open, got {other:?}"),
    }
    match update(&mut state, key(KeyCode::Char('c'))).as_slice() {
        [Effect::Copy { text, .. }] => assert!(text.contains("likely cause") && text.contains(&row.video_id)),
        other => panic!("expected a summary, got {other:?}"),
    }
    match update(&mut state, key(KeyCode::Char('e'))).as_slice() {
        [Effect::Export { content, .. }] => {
            assert_eq!(content.lines().count(), state.drill.related.as_ref().unwrap().events.len())
        }
        other => panic!("expected an export, got {other:?}"),
    }
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Overview);
}

#[test]
fn tail_filters_search_and_pause() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    update(&mut state, key(KeyCode::Char('3')));
    let all = state.tail_visible().len();
    assert!(all > 100);
    update(&mut state, key(KeyCode::Char('e')));
    let errors = state.tail_visible().len();
    assert!(errors > 0 && errors < all, "errors only: {errors} of {all}");
    assert!(state.tail_visible().iter().all(|e| e.is_error()));
    update(&mut state, key(KeyCode::Char('e')));
    update(&mut state, key(KeyCode::Char('/')));
    for c in "vocoder".chars() {
        update(&mut state, key(KeyCode::Char(c)));
    }
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.tail.query, "vocoder");
    let visible = state.tail_visible();
    let current = visible.len() - 1 - state.tail.scroll;
    assert!(state.tail_matches(visible[current]), "n jumps to a matching line");
    assert!(state.tail.paused, "scrolling away from the end pauses");
    update(&mut state, key(KeyCode::Char(' ')));
    assert!(!state.tail.paused);
    update(&mut state, key(KeyCode::Char(' ')));
    update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 3))));
    assert_eq!(state.tail.waiting, 3, "lines arriving while paused are counted");
    assert_eq!(update(&mut state, key(KeyCode::Char('t'))), vec![Effect::Window(Some(86_400_000))]);
    update(&mut state, key(KeyCode::Char('q')));
    assert!(state.quit);
}

#[test]
fn hostile_lines_leave_no_control_character_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.log");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"2025-09-01 14:23:11 [ERROR] video_id=vid_e5c0de error_code=MODEL_INFER_FAIL reason=\"\x1b]52;c;aGFjaw==\x07\x1b[2J\x1b[31mred\x9b\xe2\x80\xae evil\"\n");
    bytes.extend_from_slice(
        b"2025-09-01 14:23:12 [ERROR] video_id=vid_e5c0de error_code=\x1bPtmux;x\x1b\\ \x00\x7f\ttab\r\n",
    );
    bytes.extend_from_slice(b"\x1b[?1049l\x1b]0;title\x07 \xff\xfe raw garbage\n");
    std::fs::write(&path, &bytes).unwrap();
    let config = Config::default();
    let mut backend = LocalBackend::open(vec![path], config.enricher().unwrap(), &config, 1, false, Vec::new());
    let mut state = demo_state(&mut backend);
    for screen in ['1', '3', '4'] {
        update(&mut state, key(KeyCode::Char(screen)));
        let screen_text = render(&state, 160, 48);
        assert!(
            !screen_text.chars().filter(|c| *c != '\n').any(foley_triage::text::is_unsafe_char),
            "control character on screen:\n{screen_text}"
        );
        assert!(
            !screen_text.contains('\u{fffd}') || screen_text.contains("garbage"),
            "replacement only for the bad bytes"
        );
    }
    update(&mut state, key(KeyCode::Char('1')));
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related("vid_e5c0de")))));
    let screen_text = render(&state, 160, 48);
    assert!(screen_text.contains("vid_e5c0de"));
    assert!(!screen_text.chars().filter(|c| *c != '\n').any(foley_triage::text::is_unsafe_char));
}

#[test]
fn a_newly_chosen_window_says_loading_until_its_overview_arrives() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let header = |state: &State| render(state, 160, 48).lines().next().unwrap_or_default().to_string();
    assert!(header(&state).contains("window 1h │"), "{}", header(&state));
    let effects = update(&mut state, key(KeyCode::Char('t')));
    let Some(Effect::Window(span)) = effects.first().cloned() else { panic!("no window request: {effects:?}") };
    // the old window's numbers are still on screen: the header says so
    assert!(header(&state).contains("(loading…)"), "{}", header(&state));
    // an overview for another window (an engine refresh already on its way) does not clear it
    let old = backend.overview(Some(3_600_000));
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(old),
            span: Some(3_600_000),
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    assert!(header(&state).contains("(loading…)"), "{}", header(&state));
    let new = backend.overview(span);
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(new),
            span,
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    assert!(!header(&state).contains("loading"), "{}", header(&state));
    assert!(header(&state).contains(&format!("window {} │", state.window_label())), "{}", header(&state));
}
