//! The Patterns screen, pure: asking the engine for the templates of the range (when the screen
//! opens, the range or the baseline changes, and again with each fresh overview while it is on
//! screen), taking its answer, moving in the two lists (templates; what changed: `w` switches) and
//! Enter on a row: the lines of a template (every level, any rule) or of a code over the range.

use super::keys::Action;
use super::state::{Screen, State};
use super::update::Effect;
use crate::backend::PatternsQuery;
use crate::backend::lines::LineQuery;
use crate::stats::template_rows::{PatternOptions, PatternsView};

/// The query for the range and baseline on screen.
pub fn query(state: &State) -> PatternsQuery {
    PatternsQuery {
        range: state.range,
        baseline: state.patterns.baseline,
        options: PatternOptions { new_minutes: state.patterns.new_minutes, ..PatternOptions::default() },
    }
}

/// Asks for the patterns unless an answer for the same query is on its way.
pub fn request(state: &mut State) -> Vec<Effect> {
    let query = query(state);
    let same = state.patterns.answer.as_ref().is_some_and(|(q, _, _)| *q == query);
    if state.patterns.pending && same {
        return Vec::new();
    }
    state.patterns.pending = true;
    vec![Effect::Patterns(query)]
}

/// Opens the screen (asks the engine).
pub fn open(state: &mut State) -> Vec<Effect> {
    state.screen = Screen::Patterns;
    if state.patterns.answer.is_none() {
        state.set_status("loading the patterns of the range…");
    }
    request(state)
}

/// Takes the engine's answer (an answer for another range or baseline is kept until the next).
pub fn receive(state: &mut State, query: PatternsQuery, view: PatternsView, took_ms: u64) {
    let wanted = query == self::query(state);
    state.patterns.pending = state.patterns.pending && !wanted;
    let first = state.patterns.answer.is_none();
    state.patterns.cursor = state.patterns.cursor.min(view.rows.len().saturating_sub(1));
    state.patterns.change_cursor = state.patterns.change_cursor.min(view.changes.len().saturating_sub(1));
    if first && state.screen == Screen::Patterns {
        let new = view.rows.iter().filter(|r| r.new).count();
        state.set_status(format!(
            "{} templates ({new} new), {} changed against the baseline, in {took_ms} ms",
            view.total_rows,
            view.changes.len()
        ));
    }
    state.patterns.answer = Some((query, view, took_ms));
}

/// Rows of the focused list.
pub fn focused_len(state: &State) -> usize {
    state.patterns.answer.as_ref().map_or(
        0,
        |(_, v, _)| {
            if state.patterns.on_changes { v.changes.len() } else { v.rows.len() }
        },
    )
}

/// j/k, pages, top, bottom in the focused list.
pub fn move_cursor(state: &mut State, action: Action) {
    let len = focused_len(state);
    let page = (state.size.1 as usize / 3).max(1);
    let cursor = if state.patterns.on_changes { &mut state.patterns.change_cursor } else { &mut state.patterns.cursor };
    super::lines::move_cursor(cursor, len, action, page);
}

/// `w`: the other list.
pub fn switch_focus(state: &mut State) {
    state.patterns.on_changes = !state.patterns.on_changes;
    state.set_status(if state.patterns.on_changes {
        "what changed: Enter lists the lines of the selected template or code (w: templates)"
    } else {
        "templates: Enter lists the lines of the selected template (w: what changed)"
    });
}

/// Enter: the lines of the selected template or code over the range answered.
pub fn enter(state: &mut State) -> Vec<Effect> {
    let Some((_, view, _)) = &state.patterns.answer else {
        state.set_status("the patterns are still loading");
        return Vec::new();
    };
    let (from, to) =
        view.span.unwrap_or((view.window.from_ms.unwrap_or(i64::MIN), view.window.to_ms.unwrap_or(i64::MAX)));
    let query = if state.patterns.on_changes {
        let Some(c) = view.changes.get(state.patterns.change_cursor) else {
            state.set_status("nothing changed against the baseline");
            return Vec::new();
        };
        let title = format!("{} {}: {}", c.change, c.kind, crate::text::sanitize_owned(&c.name, 80));
        // a gone row's lines are in the baseline
        let (from, to) = match (c.change, view.baseline.from_ms, view.baseline.to_ms) {
            ("gone", Some(f), Some(t)) => (f, t),
            _ => (from, to),
        };
        match c.kind {
            "code" => LineQuery {
                from_ms: from,
                to_ms: to,
                code: Some(c.name.clone()),
                template: None,
                known_too: false,
                filter: None,
                title,
            },
            _ => template_query(from, to, &c.name, title),
        }
    } else {
        let Some(row) = view.rows.get(state.patterns.cursor) else {
            state.set_status("no template of errors or warnings in this range");
            return Vec::new();
        };
        let title = format!("pattern: {}", crate::text::sanitize_owned(&row.template, 80));
        template_query(from, to, &row.template, title)
    };
    super::lines::open(state, query)
}

fn template_query(from_ms: i64, to_ms: i64, template: &str, title: String) -> LineQuery {
    LineQuery { from_ms, to_ms, code: None, template: Some(template.to_string()), known_too: true, filter: None, title }
}
