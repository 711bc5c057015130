//! Lines, pure: the selected line of any line list (the tail, the drill-down's related or context
//! lines, a panel's lines), shown whole (`v`, Enter) or copied whole (`Y`); the lists scrolled
//! sideways (`←` / `→`); the drill-down's context (`x`: every source within ±N seconds).

use super::keys::Action;
use super::state::{LinesState, Overlay, Screen, State};
use super::update::Effect;
use crate::backend::lines::{LineQuery, Lines};
use crate::event::OwnedEvent;

/// Columns one `←` / `→` scrolls a line list.
pub const HSCROLL_STEP: usize = 20;

/// The line selected on the screen shown (none on the overview and codes screens).
pub fn selected(state: &State) -> Option<&OwnedEvent> {
    match state.screen {
        Screen::Tail if state.search.shown => {
            state.search.result.as_ref().and_then(|r| r.matches.get(state.search.selected))
        }
        Screen::Tail => state.tail_selected(),
        Screen::Drill if state.drill.show_context => {
            state.drill.context.as_ref().and_then(|c| c.events.get(state.drill.context_cursor))
        }
        Screen::Drill => state.drill.related.as_ref().and_then(|r| r.events.get(state.drill.scroll)),
        Screen::Lines => state.lines.answer.as_ref().and_then(|l| l.events.get(state.lines.cursor)),
        _ => None,
    }
}

/// The file a line came from, by its origin (as the list that holds it names its inputs).
pub fn file_of(state: &State, e: &OwnedEvent) -> Option<String> {
    let files = match state.screen {
        Screen::Tail if state.search.shown => state.search.result.as_ref().map(|r| &r.files),
        Screen::Drill if state.drill.show_context => state.drill.context.as_ref().map(|c| &c.files),
        Screen::Drill => state.drill.related.as_ref().map(|r| &r.files),
        Screen::Lines => state.lines.answer.as_ref().map(|l| &l.files),
        _ => None,
    };
    files.and_then(|f| f.get(e.origin.file as usize)).cloned()
}

/// The keys of line lists: detail, copy, sideways scroll, context.
pub fn act(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::ViewLine => match selected(state).cloned() {
            Some(line) => {
                state.detail = Some(line);
                state.overlay = Some(Overlay::Line);
                state.overlay_scroll = 0;
            }
            None => state.set_status("no line selected"),
        },
        Action::CopyLine => match selected(state).or(state.detail.as_ref()) {
            Some(line) => {
                let text = super::actions::original_lines(line).into_owned();
                return vec![Effect::Copy { text, label: "the whole line".into() }];
            }
            None => state.set_status("no line selected"),
        },
        Action::ScrollLeft => state.hscroll = state.hscroll.saturating_sub(HSCROLL_STEP),
        Action::ScrollRight => {
            let longest = longest_line(state);
            state.hscroll = (state.hscroll + HSCROLL_STEP).min(longest.saturating_sub(HSCROLL_STEP));
        }
        Action::ToggleContext if state.screen == Screen::Tail => {
            return match selected(state).cloned() {
                Some(line) => open_context(state, &line),
                None => {
                    state.set_status("no line selected");
                    Vec::new()
                }
            };
        }
        Action::ToggleContext => return toggle_context(state),
        _ => {}
    }
    Vec::new()
}

/// The longest line of the list on screen, in characters (how far `→` may scroll).
fn longest_line(state: &State) -> usize {
    let longest = |events: &mut dyn Iterator<Item = &OwnedEvent>| events.map(|e| e.raw.chars().count()).max();
    match state.screen {
        Screen::Tail if state.search.shown => state.search.result.as_ref().and_then(|r| longest(&mut r.matches.iter())),
        Screen::Tail => longest(&mut state.tail.events.iter().map(|(_, e)| e)),
        Screen::Drill if state.drill.show_context => {
            state.drill.context.as_ref().and_then(|c| longest(&mut c.events.iter()))
        }
        Screen::Drill => state.drill.related.as_ref().and_then(|r| longest(&mut r.events.iter())),
        Screen::Lines => state.lines.answer.as_ref().and_then(|l| longest(&mut l.events.iter())),
        _ => None,
    }
    .unwrap_or(0)
}

/// `x` in the drill-down: context on (asked of the engine around the selected line) or off.
fn toggle_context(state: &mut State) -> Vec<Effect> {
    if state.drill.show_context {
        state.drill.show_context = false;
        state.set_status("context off: the related lines");
        return Vec::new();
    }
    let Some(line) = state.drill.related.as_ref().and_then(|r| r.events.get(state.drill.scroll)) else {
        state.set_status("no line selected: open a video (Enter) and select a line first");
        return Vec::new();
    };
    let Some(at) = line.ts_ms else {
        state.set_status("the selected line has no time: no context to show");
        return Vec::new();
    };
    let seconds = state.context_seconds;
    let title = format!("±{seconds} s around {}", crate::clock::format_clock(at));
    let query = LineQuery::around(at, seconds, title);
    state.drill.show_context = true;
    let reuse = state.drill.context.as_ref().is_some_and(|c| c.query == query);
    if reuse {
        return Vec::new();
    }
    state.drill.context = None;
    state.drill.context_cursor = 0;
    state.set_status(format!("loading every source's lines within ±{seconds} s…"));
    vec![Effect::Lines(query)]
}

/// Opens every source's lines within `context_seconds` of `line` on the lines screen, the line
/// itself selected when they arrive (a search match, a tail line).
pub fn open_context(state: &mut State, line: &OwnedEvent) -> Vec<Effect> {
    let Some(at) = line.ts_ms else {
        state.set_status("the selected line has no time: no context to show");
        return Vec::new();
    };
    let seconds = state.context_seconds;
    let title = format!("±{seconds} s around {}", crate::clock::format_clock(at));
    open(state, LineQuery::around(at, seconds, title))
}

/// The engine's answer to a lines request: the drill-down's context, or a panel's lines.
pub fn receive(state: &mut State, lines: Lines) {
    if state.drill.show_context && state.drill.context.is_none() && is_context(&lines.query) {
        state.set_status(format!("{} lines from every source {}", lines.events.len(), lines.query.title));
        // the anchor line selected among them
        state.drill.context_cursor = middle(&lines);
        state.drill.context = Some(lines);
    } else if state.lines.query == lines.query {
        match &lines.error {
            Some(e) => state.set_status(format!("{}: the lines could not be read: {e}", lines.query.title)),
            None => state.set_status(format!("{}: {} lines{}", lines.query.title, lines.events.len(), capped(&lines))),
        }
        // a context opens on its middle line (the one it was opened around)
        state.lines.cursor = if is_context(&lines.query) {
            middle(&lines)
        } else if state.screen == Screen::Lines && state.lines.back == Some(Screen::Alerts) {
            // an alert's lines open on the newest
            lines.events.len().saturating_sub(1)
        } else {
            0
        };
        state.lines.answer = Some(lines);
    }
}

/// The first line at or after the middle of the answer's span (the line a context is around).
fn middle(lines: &Lines) -> usize {
    let at = lines.query.from_ms.saturating_add(lines.query.to_ms.saturating_sub(lines.query.from_ms) / 2);
    lines.events.partition_point(|e| e.ts_ms.unwrap_or(i64::MIN) < at).min(lines.events.len().saturating_sub(1))
}

fn capped(lines: &Lines) -> &'static str {
    if lines.truncated { " (the first ones: capped)" } else { "" }
}

/// True when a query is the context of the drill-down's selected line.
fn is_context(query: &LineQuery) -> bool {
    query.code.is_none() && query.template.is_none() && query.filter.is_none() && query.title.starts_with('±')
}

/// Opens the lines of a query on the lines screen.
pub fn open(state: &mut State, query: LineQuery) -> Vec<Effect> {
    if state.screen != Screen::Lines {
        state.previous = state.screen;
    }
    state.screen = Screen::Lines;
    state.hscroll = 0;
    state.set_status(format!("loading {}…", query.title));
    let back = Some(state.previous);
    state.lines = LinesState { query: query.clone(), answer: None, cursor: 0, back };
    vec![Effect::Lines(query)]
}

/// Moves the selection of the lines screen or the drill-down's context.
pub fn move_cursor(cursor: &mut usize, len: usize, action: Action, page: usize) {
    let last = len.saturating_sub(1);
    *cursor = match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (*cursor + 1).min(last),
        Action::PageUp => cursor.saturating_sub(page),
        Action::PageDown => (*cursor + page).min(last),
        Action::Top => 0,
        _ => last,
    };
}
