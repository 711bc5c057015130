//! The overview's time and panels, pure: a time cursor across the sparklines and the heatmap
//! (`[` / `]`), zoom to the selected bucket ± a few (`z`) and back (`Z`, a stack), focus moved
//! between the panels (`w`, Ctrl-arrows) and Enter on a panel's row (a heatmap code at the cursor,
//! an unknown-error pattern, a fired alert: their lines); the top videos filtered (`f`) and sorted
//! (`s`).

use super::keys::Action;
use super::state::{Input, Panel, State};
use super::update::{Effect, set_range};
use crate::backend::TimeRange;
use crate::backend::lines::LineQuery;
use crate::clock::format_clock;

/// Buckets either side of the cursor's that a zoom keeps.
pub const ZOOM_AROUND: i64 = 2;

/// Points of the overview's series (the time cursor's positions).
pub fn points(state: &State) -> usize {
    state.overview.as_ref().map_or(0, |o| o.series.events.len())
}

/// The time span of a series point: `[start, end]` in milliseconds.
pub fn point_span(state: &State, point: usize) -> Option<(i64, i64)> {
    let s = &state.overview.as_ref()?.series;
    if s.step_ms <= 0 || point >= s.events.len() {
        return None;
    }
    let start = s.start_ms.saturating_add(s.step_ms.saturating_mul(point as i64));
    Some((start, start.saturating_add(s.step_ms - 1)))
}

/// The point with the most errors (where the cursor starts, and what `z` zooms to without one).
fn peak(state: &State) -> Option<usize> {
    let s = &state.overview.as_ref()?.series;
    s.errors.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i))).map(|(i, _)| i)
}

pub fn act(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::CursorEarlier | Action::CursorLater => move_time_cursor(state, action == Action::CursorLater),
        Action::Zoom => return zoom(state),
        Action::ZoomOut => return zoom_out(state),
        Action::FocusNext | Action::FocusPrevious => {
            let at = Panel::ALL.iter().position(|p| *p == state.focus).unwrap_or(0);
            let step = if action == Action::FocusNext { 1 } else { Panel::ALL.len() - 1 };
            state.focus = Panel::ALL[(at + step) % Panel::ALL.len()];
            state.panel_selected = 0;
            state.set_status(format!("focus: {} (Enter lists its lines; w moves on)", state.focus.name()));
        }
        Action::FilterVideos => state.input = Input::Filter(state.video_filter.clone()),
        Action::CycleOrder => {
            state.top_order = state.top_order.next();
            state.video_selected = 0;
            state.set_status(format!("top failing videos sorted by {}", state.top_order.label()));
        }
        _ => {}
    }
    Vec::new()
}

fn move_time_cursor(state: &mut State, later: bool) {
    let n = points(state);
    if n == 0 {
        state.set_status("no data to move the time cursor over");
        return;
    }
    let at = match state.time_cursor {
        None => peak(state).unwrap_or(n - 1),
        Some(i) if later => (i + 1).min(n - 1),
        Some(i) => i.saturating_sub(1),
    };
    state.time_cursor = Some(at);
    if let Some((from, to)) = point_span(state, at) {
        let errors = state.overview.as_ref().and_then(|o| o.series.errors.get(at).copied()).unwrap_or(0);
        state.set_status(format!(
            "time cursor {} … {}: {errors} errors (z zooms here, Z back)",
            format_clock(from),
            format_clock(to)
        ));
    }
}

/// `z`: the range becomes the cursor's bucket ± [`ZOOM_AROUND`] (the old one kept for `Z`).
fn zoom(state: &mut State) -> Vec<Effect> {
    let Some(at) = state.time_cursor.or_else(|| peak(state)) else {
        state.set_status("no data to zoom into");
        return Vec::new();
    };
    let n = points(state);
    let first = (at as i64 - ZOOM_AROUND).max(0) as usize;
    let last = (at + ZOOM_AROUND as usize).min(n.saturating_sub(1));
    let (Some((from, _)), Some((_, to))) = (point_span(state, first), point_span(state, last)) else {
        return Vec::new();
    };
    if TimeRange::between(from, to) == state.range {
        state.set_status("already zoomed in as far as the buckets go");
        return Vec::new();
    }
    state.zoom_stack.push(state.range);
    state.time_cursor = None;
    set_range(state, TimeRange::between(from, to))
}

/// `Z`: back to the range before the last zoom.
fn zoom_out(state: &mut State) -> Vec<Effect> {
    match state.zoom_stack.pop() {
        Some(range) => {
            state.time_cursor = None;
            set_range(state, range)
        }
        None => {
            state.set_status("not zoomed in (z zooms to the time cursor)");
            Vec::new()
        }
    }
}

/// Rows of the focused panel (for moving its selection).
pub fn panel_len(state: &State) -> usize {
    let Some(o) = &state.overview else { return 0 };
    match state.focus {
        Panel::Videos => state.top_videos().len(),
        Panel::Heatmap => o.series.heatmap.len(),
        Panel::Unknown => o.unknown_patterns.len(),
        Panel::Alerts => o.alerts.len(),
    }
}

/// Enter on the overview's focused panel (other than the videos): the lines of its row.
pub fn enter(state: &mut State) -> Vec<Effect> {
    let Some(o) = &state.overview else { return Vec::new() };
    let whole = (o.window_from.or(o.data_from).unwrap_or(i64::MIN), o.window_to.or(o.data_to).unwrap_or(i64::MAX));
    let query = match state.focus {
        Panel::Videos => return Vec::new(),
        Panel::Heatmap => {
            let Some((code, values)) = o.series.heatmap.get(state.panel_selected) else {
                state.set_status("no error code in the heatmap");
                return Vec::new();
            };
            let point = state.time_cursor.unwrap_or_else(|| {
                values.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i))).map_or(0, |(i, _)| i)
            });
            let code = code.clone();
            let Some((from, to)) = point_span(state, point) else { return Vec::new() };
            let title = format!("{code} {} … {}", format_clock(from), format_clock(to));
            LineQuery {
                from_ms: from,
                to_ms: to,
                code: Some(code),
                template: None,
                known_too: false,
                filter: None,
                title,
            }
        }
        Panel::Unknown => {
            let Some(p) = o.unknown_patterns.get(state.panel_selected) else {
                state.set_status("no unknown-error pattern in this range");
                return Vec::new();
            };
            let (from, to) = (p.first_seen.unwrap_or(whole.0), p.last_seen.unwrap_or(whole.1));
            let title = format!("unknown: {}", crate::text::sanitize_owned(&p.template, 80));
            LineQuery {
                from_ms: from,
                to_ms: to,
                code: None,
                template: Some(p.template.clone()),
                known_too: false,
                filter: None,
                title,
            }
        }
        Panel::Alerts => {
            let Some(a) = o.alerts.get(state.panel_selected) else {
                state.set_status("no alert fired in this range");
                return Vec::new();
            };
            // the firing as the engine evaluated it: its rule's filter over its windows
            let answer = state.alerts.answer.as_ref();
            let firing = answer.and_then(|x| x.alerts.iter().find(|f| f.rule == a.rule && f.since_ms == a.from));
            match firing {
                Some(f) => crate::tui::alerts::related_query(
                    f,
                    answer.and_then(|x| x.at_ms).unwrap_or(a.to),
                    &state.alert_rules,
                ),
                None => {
                    let title = format!("alert {} {} … {}", a.rule, format_clock(a.from), format_clock(a.to));
                    LineQuery { from_ms: a.from, to_ms: a.to, title, ..LineQuery::default() }
                }
            }
        }
    };
    super::lines::open(state, query)
}
