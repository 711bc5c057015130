//! Line lists: the lines of a panel entered (a heatmap cell, an unknown-error pattern, a fired
//! alert), and the list drawing the drill-down shares (selected line marked, scrolled sideways by
//! `←` / `→` instead of cut, the anchor of a context marked).
//!
//! ```text
//! ┌ MODEL_INFER_FAIL 14:21:00 … 14:21:59 · 12 lines · 1-12 · v whole line · ←/→ ┐
//! │▶ 14:21:02 inference ERROR model_inference  error_code=MODEL_INFER_FAIL …     │
//! └──────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::{State, Theme, block, fit, mark};
use crate::clock::format_clock;
use crate::event::OwnedEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = &state.lines.query.title;
    let Some(answer) = &state.lines.answer else {
        let text = format!(" loading {title}…");
        frame.render_widget(Paragraph::new(text).style(theme.dim).block(block(title, area.width, theme)), area);
        return;
    };
    let rows = area.height.saturating_sub(2) as usize;
    let (lines, start) = list(&answer.events, state.lines.cursor, rows, area.width, state.hscroll, None, theme);
    let mut heading = format!(
        "{title} · {} lines{} · {}-{} · v whole line · Y copy · ←/→ · Esc back",
        answer.events.len(),
        if answer.truncated { " (capped)" } else { "" },
        (start + 1).min(answer.events.len()),
        (start + rows).min(answer.events.len())
    );
    if answer.events.is_empty() {
        heading = format!("{title} · no line in this span");
    }
    frame.render_widget(Paragraph::new(lines).block(block(&heading, area.width, theme)), area);
}

/// The rows of a line list `rows` high with `cursor` selected and in sight; each line's text
/// scrolled `hscroll` columns (a `«` says so); lines at `anchor` (a context's) marked `◆`.
/// Returns the rows and the index of the first one.
pub fn list(
    events: &[OwnedEvent],
    cursor: usize,
    rows: usize,
    width: u16,
    hscroll: usize,
    anchor: Option<(u32, u64)>,
    theme: &Theme,
) -> (Vec<Line<'static>>, usize) {
    let inner = width.saturating_sub(2) as usize;
    let rows = rows.max(1);
    let start = cursor.saturating_sub(rows - 1).min(events.len().saturating_sub(rows));
    let mut lines = Vec::with_capacity(rows);
    for (i, e) in events.iter().enumerate().skip(start).take(rows) {
        let selected = i == cursor;
        let is_anchor = anchor == Some((e.origin.file, e.origin.offset));
        let head = format!(
            "{}{}{:<9}{:<10}{:<6}",
            mark(selected),
            if anchor.is_some() { if is_anchor { "◆ " } else { "  " } } else { "" },
            e.ts_ms.map(format_clock).unwrap_or_else(|| "--:--:--".into()),
            e.source.as_str(),
            e.level.as_str()
        );
        let text = format!("{head}{}", scrolled(&e.raw, hscroll));
        let mut style = theme.level(e.level);
        if selected {
            style = style.patch(theme.selection).add_modifier(Modifier::BOLD);
        }
        lines.push(Line::from(Span::styled(super::text::pad(&text, inner), style)));
    }
    (lines, start)
}

/// `text` without its first `hscroll` characters, `«` in their place.
pub fn scrolled(text: &str, hscroll: usize) -> String {
    if hscroll == 0 {
        return text.to_string();
    }
    let rest: String = text.chars().skip(hscroll).collect();
    format!("«{rest}")
}

/// A sparkline of optional samples, as the overview draws the GPU (missing samples blank).
pub fn samples_line(values: &[Option<f64>], width: usize) -> String {
    let ints: Vec<u64> = values.iter().map(|v| v.map_or(0, |x| x.max(0.0).round() as u64)).collect();
    fit(&super::sparkline(&ints, width), width)
}
