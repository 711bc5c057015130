//! The live tail's moves, pure: pause (freeze what is on screen), follow again, move the selected
//! line, jump to a search match. Paused, the view is pinned by sequence numbers
//! ([`TailState::top`], [`TailState::cursor`]) over a ring that no longer changes, so new lines,
//! and old lines leaving the ring, never move the rows on screen.
//!
//! [`TailState::top`]: super::state::TailState::top
//! [`TailState::cursor`]: super::state::TailState::cursor

use super::keys::Action;
use super::state::State;

/// Pauses the tail where it is: the rows on screen stay, the newest shown line is selected.
pub fn pause(state: &mut State) {
    if state.tail.paused {
        return;
    }
    let rows = state.tail_rows();
    let (top, cursor) = {
        let visible = state.tail_visible();
        let frame = state.tail_frame(&visible, rows);
        let top = visible.get(frame.start).map_or(state.tail.last_seq, |(seq, _)| *seq);
        let cursor = visible.last().map_or(state.tail.last_seq, |(seq, _)| *seq);
        (top, cursor)
    };
    state.tail.paused = true;
    state.tail.top = top;
    state.tail.cursor = cursor;
}

/// Follows the end again: what arrived meanwhile is shown.
pub fn follow(state: &mut State) {
    state.tail.resume();
}

/// Moves the selected line (pausing first: moving away from the end holds the view).
pub fn move_cursor(state: &mut State, action: Action) {
    if action == Action::Bottom {
        if state.tail.paused {
            follow(state);
            state.set_status("following the end");
        }
        return;
    }
    let was_paused = state.tail.paused;
    pause(state);
    if !was_paused {
        state.set_status("paused: the rows hold still; Space or G follows the end again");
    }
    let rows = state.tail_rows();
    let target = {
        let visible = state.tail_visible();
        let Some(current) = state.tail_cursor_index(&visible) else { return };
        let last = visible.len() - 1;
        match action {
            Action::Up => current.saturating_sub(1),
            Action::Down => (current + 1).min(last),
            Action::PageUp => current.saturating_sub(rows),
            Action::PageDown => (current + rows).min(last),
            Action::Top => 0,
            _ => current,
        }
    };
    select(state, target);
}

/// Selects the `index`-th visible line, moving the frame only as far as needed to show it.
fn select(state: &mut State, index: usize) {
    let rows = state.tail_rows();
    let (top, cursor) = {
        let visible = state.tail_visible();
        let Some((cursor, _)) = visible.get(index) else { return };
        let frame = state.tail_frame(&visible, rows);
        let mut top = frame.start;
        if index < top {
            top = index;
        } else if index >= top + rows {
            top = index + 1 - rows;
        }
        (visible[top].0, *cursor)
    };
    state.tail.top = top;
    state.tail.cursor = cursor;
}

/// Selects the next (or previous) line matching the search, pausing the tail.
pub fn jump_match(state: &mut State, forward: bool) {
    if state.tail.query.is_empty() {
        return;
    }
    let target = {
        let visible = state.tail_visible();
        let current = state.tail_cursor_index(&visible).unwrap_or(0);
        let matches: Vec<usize> =
            visible.iter().enumerate().filter(|(_, (_, e))| state.tail_matches(e)).map(|(i, _)| i).collect();
        if forward {
            matches.iter().find(|i| **i > current).or(matches.first()).copied()
        } else {
            matches.iter().rev().find(|i| **i < current).or(matches.last()).copied()
        }
    };
    match target {
        Some(index) => {
            pause(state);
            select(state, index);
        }
        None => {
            let text = format!("/{}: no match", state.tail.query);
            state.set_status(text);
        }
    }
}

/// Enter on the tail: the video of the selected line.
pub fn selected_video(state: &State) -> Option<String> {
    state.tail_selected().and_then(|e| e.video_id.clone())
}
