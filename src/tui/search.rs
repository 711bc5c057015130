//! The search over every line (`/text` then Enter), pure: starting it (the engine searches the
//! range on screen, not the tail ring), its progress and results, and the keys while its results
//! are on the tail screen — move, `n`/`N` through the matches, Enter opens the match's video
//! (or, naming none, its context), `x` its context, `v`/`Y`/`←`/`→` as in every line list,
//! Esc cancels a running search or closes the results. The ring's own filter stays set, so the
//! tail shows the same text highlighted once the results close.

use super::keys::Action;
use super::state::{SearchState, State};
use super::update::Effect;
use crate::backend::worker::Update;

/// Starts a search for `text` over the range on screen.
pub fn start(state: &mut State, text: &str) -> Vec<Effect> {
    let (from_ms, to_ms) = state.search_range();
    state.search =
        SearchState { text: text.to_string(), from_ms, to_ms, running: true, shown: true, ..SearchState::default() };
    let summary = state.search.summary();
    state.set_status(summary);
    vec![Effect::Search { text: text.to_string(), from_ms, to_ms }]
}

/// Takes the engine's answer to a search (an answer to an older search is dropped).
pub fn on_engine(state: &mut State, update: Update) {
    match update {
        Update::SearchProgress { text, done, total } if state.search.running && text == state.search.text => {
            state.search.progress = (done, total);
        }
        Update::SearchResults(result) if state.search.running && result.query.text == state.search.text => {
            state.search.running = false;
            state.search.selected = 0;
            state.search.result = Some(*result);
            let summary = state.search.summary();
            state.set_status(summary);
        }
        _ => {}
    }
}

/// The keys while the search's results are on screen; `None` for the keys it leaves to the tail.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let count = state.search.result.as_ref().map_or(0, |r| r.matches.len());
    let last = count.saturating_sub(1);
    let page = state.tail_rows().saturating_sub(2).max(1);
    let selected = state.search.selected;
    state.search.selected = match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(page),
        Action::PageDown => (selected + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        Action::NextMatch if count > 0 => (selected + 1) % count,
        Action::PrevMatch if count > 0 => (selected + count - 1) % count,
        Action::NextMatch | Action::PrevMatch => selected,
        Action::Back => {
            if state.search.running {
                state.search.running = false;
                state.search.shown = false;
                state.set_status(format!("/{}: search cancelled", state.search.text));
                return Some(vec![Effect::CancelSearch]);
            }
            state.search.shown = false;
            state.set_status("search results closed: the tail shows the text highlighted; Esc clears it");
            return Some(Vec::new());
        }
        // Enter: the match's video (its drill-down has the context on `x`); a match that names
        // no video or request opens in its context
        Action::Enter => {
            let chosen = state.search.result.as_ref().and_then(|r| r.matches.get(selected)).cloned();
            return Some(match chosen {
                Some(e) => match e.video_id.clone().or_else(|| e.request_id.clone()) {
                    Some(id) => super::update::open_drill(state, id),
                    None => super::lines::open_context(state, &e),
                },
                None => Vec::new(),
            });
        }
        _ => return None,
    };
    if matches!(action, Action::NextMatch | Action::PrevMatch) && count > 0 {
        state.set_status(format!("{} · match {} of {count}", state.search.summary(), state.search.selected + 1));
    }
    Some(Vec::new())
}
