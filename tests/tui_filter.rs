//! The tail's `:filter` takes the query language (issue 15): the tail keeps only the lines that
//! match, the title says the filter, a mistake is said with its column and changes nothing.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::render;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::worker::Update;
use foley_triage::config::Config;
use foley_triage::tui::state::{Screen, State};
use foley_triage::tui::update::{Msg, update};

fn command(state: &mut State, text: &str) {
    update(state, Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    for c in text.chars() {
        update(state, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
    update(state, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
}

#[test]
fn the_filter_command_takes_the_query_language() {
    let demo = foley_triage::demo::materialize().unwrap();
    let config = Config::default();
    let backend = LocalBackend::open(demo.files(), config.enricher().unwrap(), &config, 2, false, Vec::new());
    let mut state = State::new("demo".into(), &config);
    update(&mut state, Msg::Resize { width: 160, height: 48 });
    update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 20_000))));
    let all = state.tail_visible().len();
    command(&mut state, "filter error_code:MODEL_* and inference_time>3s");
    assert_eq!(state.screen, Screen::Tail);
    let kept: Vec<_> = state.tail_visible().into_iter().map(|(_, e)| e.clone()).collect();
    assert!(!kept.is_empty() && kept.len() < all, "{} of {all}", kept.len());
    for e in &kept {
        assert!(e.error_code.as_deref().is_some_and(|c| c.starts_with("MODEL_")), "{}", e.raw);
        assert!(e.latency_ms.is_some_and(|ms| ms > 3000.0), "{}", e.raw);
    }
    // every line that matches is kept
    let expected = state
        .tail
        .events
        .iter()
        .filter(|(_, e)| {
            e.error_code.as_deref().is_some_and(|c| c.starts_with("MODEL_"))
                && e.latency_ms.is_some_and(|ms| ms > 3000.0)
        })
        .count();
    assert_eq!(kept.len(), expected);
    assert!(state.status.contains(&format!("{expected} tail lines match")), "{}", state.status);
    let screen = render(&state, 160, 48);
    assert!(screen.contains("filter: error_code:MODEL_* and inference_time>3s"), "{screen}");
    // a mistake: said with its column; the filter in force stays
    command(&mut state, "filter error_code:MODEL_* and (inference_time>3s");
    assert!(state.status.contains(":filter") && state.status.contains("column"), "{}", state.status);
    assert_eq!(state.tail_visible().len(), expected);
    // :filter alone: every line again
    command(&mut state, "filter");
    assert_eq!(state.tail_visible().len(), all);
}
