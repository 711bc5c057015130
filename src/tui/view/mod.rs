//! Drawing: one file per screen; this one lays out the frame (header, screen, status bar), the help
//! overlay and the too-small message. Views only read the state.

mod codes;
mod drill;
mod help;
mod overview;
mod tail;

use super::state::{Input, Screen, State};
use super::theme::Theme;
use crate::parse::time::format_clock;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole frame.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "foley-triage needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}. Enlarge it, or q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).style(theme.warn).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    let [header, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    draw_header(frame, header, state, theme);
    match state.screen {
        Screen::Overview => overview::draw(frame, body, state, theme),
        Screen::Drill => drill::draw(frame, body, state, theme),
        Screen::Tail => tail::draw(frame, body, state, theme),
        Screen::Codes => codes::draw(frame, body, state, theme),
    }
    draw_status(frame, status, state, theme);
    if state.help {
        help::draw(frame, body, state, theme);
    }
}

fn draw_header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let tabs = [
        ("1", "Overview", Screen::Overview),
        ("2", "Drill-down", Screen::Drill),
        ("3", "Tail", Screen::Tail),
        ("4", "Codes", Screen::Codes),
    ];
    let mut spans = vec![Span::styled(" foley-triage ", theme.header.add_modifier(ratatui::style::Modifier::BOLD))];
    let narrow = area.width < 120;
    for (key, name, screen) in tabs {
        let style = if state.screen == screen { theme.selection } else { theme.header };
        let label = if narrow { format!(" {key}{} ", &name[..1]) } else { format!(" {key} {name} ") };
        spans.push(Span::styled(label, style));
    }
    let lag = match state.overview.as_ref().and_then(|o| o.data_to) {
        Some(to) if state.now_ms > 0 => {
            format!("data to {} ({} behind)", format_clock(to), human_duration(state.now_ms - to))
        }
        Some(to) => format!("data to {}", format_clock(to)),
        None => "no data yet".into(),
    };
    // until the engine answers for a newly chosen window, say that what is shown is the old one
    let loading =
        if state.overview.is_some() && state.overview_span != state.window_span() { " (loading…)" } else { "" };
    let right = format!(
        " {} │ window {}{loading} │ {:.0} ev/s │ {lag} ",
        state.source,
        state.window_label(),
        state.events_per_second
    );
    spans.push(Span::styled(right, theme.header));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header), area);
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let hints = match state.screen {
        Screen::Overview => "j/k move · Enter drill down · y copy retry · t window · Tab screens · ? help · q quit",
        Screen::Drill => "y retry link · o Kibana · e export · c summary · j/k scroll · Esc back · ? help",
        Screen::Tail => "Space pause · / search · n/N · l level · c component · e errors · Enter video · ? help",
        Screen::Codes => "j/k move · Enter videos of code · Esc back · ? help",
    };
    let line = match &state.input {
        Input::Search(text) => Line::from(vec![
            Span::styled("/", theme.accent),
            Span::styled(text.clone(), theme.text),
            Span::styled("▏", theme.accent),
        ]),
        Input::Normal => {
            // a recent status message wins over the key hints on narrow terminals
            let status_text = state.loading.as_deref().unwrap_or(&state.status);
            let recent =
                state.loading.is_some() || (state.now_ms - state.status_at_ms < 8000 && !status_text.is_empty());
            let hints = if recent && status_text.chars().count() + hints.chars().count() + 3 > area.width as usize {
                "? help"
            } else {
                hints
            };
            let room = (area.width as usize).saturating_sub(hints.chars().count() + 3);
            let status: String = status_text.chars().take(room).collect();
            let pad = room.saturating_sub(status.chars().count());
            Line::from(vec![
                Span::styled(format!(" {status}{}", " ".repeat(pad)), theme.accent),
                Span::styled(format!(" {hints}"), theme.dim),
            ])
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `95s` → `1m35s`, for "behind live".
pub fn human_duration(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A one-line sparkline of `values` squeezed (by maximum) into `width` cells.
pub fn sparkline(values: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return " ".repeat(width);
    }
    let binned = rebin(values, width);
    let max = binned.iter().copied().max().unwrap_or(0);
    binned.iter().map(|v| if max == 0 || *v == 0 { ' ' } else { BARS[((*v * 7) / max) as usize] }).collect::<String>()
}

/// Re-bins values into `width` points: by maximum when there are more values than cells, by
/// stretching each value over several cells when there are fewer (so a short window fills the row).
pub fn rebin(values: &[u64], width: usize) -> Vec<u64> {
    if values.is_empty() || width == 0 {
        return Vec::new();
    }
    if values.len() <= width {
        return (0..width).map(|i| values[i * values.len() / width]).collect();
    }
    let per = values.len().div_ceil(width);
    values.chunks(per).map(|c| c.iter().copied().max().unwrap_or(0)).collect()
}

/// Milliseconds as `1.23s` / `850ms`.
pub fn ms_text(v: Option<f64>) -> String {
    match v {
        Some(ms) if ms >= 1000.0 => format!("{:.2}s", ms / 1000.0),
        Some(ms) => format!("{ms:.0}ms"),
        None => "-".into(),
    }
}

/// Cuts a string to `width` characters with an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
