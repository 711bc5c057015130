//! Errors by code: count, trend, share, cause and fix, with the selected code's cause and fix in
//! full below; Enter lists every video that failed with the code (paged, sorted with `s`).
//!
//! ```text
//! ┌ Errors by code (5) · Enter lists videos ───────────────────────────────────────┐
//! │  code                    count  share trend          category                  │
//! │▶ MODEL_INFER_FAIL          419  57.6% ▁▁▂█▇▃▁        CUDA OOM                  │
//! │    GPU memory exhausted → Use a bigger GPU, or lower batch_size                │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ┌ MODEL_INFER_FAIL ──────────────────────────────────────────────────────────────┐
//! │cause  GPU memory exhausted (rule cuda-oom)                                     │
//! │fix    Use a bigger GPU, or lower batch_size                                    │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::text::{pad, wrap};
use super::{State, Theme, block, draw_no_data, fit, mark, no_data, sparkline};
use crate::clock::format_clock;
use crate::stats::overview::CodeRow;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Below this inner width a code's cause → fix goes on a line of its own.
const ONE_LINE_WIDTH: usize = 120;
const TREND: usize = 14;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(o) = &state.overview else {
        draw_no_data(frame, area, "Errors by code", &no_data(state).unwrap_or_default(), theme);
        return;
    };
    if state.code_videos {
        draw_videos(frame, area, state, theme);
        return;
    }
    if o.codes.is_empty() {
        let message = no_data(state).or_else(|| o.lists.missing()).unwrap_or_else(|| {
            format!("no error codes in this window ({} events read, {} errors without a code)", o.events, o.errors)
        });
        draw_no_data(frame, area, "Errors by code", &message, theme);
        return;
    }
    let inner = area.width.saturating_sub(2) as usize;
    let selected = o.codes.get(state.code_selected);
    let detail = selected.map(|c| detail_lines(c, inner, theme)).unwrap_or_default();
    let detail_height = (detail.len() as u16 + 2).min(area.height / 2);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(detail_height)]).areas(area);
    let one_line = inner >= ONE_LINE_WIDTH;
    let per = if one_line { 1 } else { 2 };
    let rows = (list_area.height.saturating_sub(3) as usize / per).max(1);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "  {:<22}{:>7} {:>6} {:<TREND$} {:<18} {}",
            "code",
            "count",
            "share",
            "trend",
            "category",
            if one_line { "cause → fix" } else { "" }
        ),
        theme.dim,
    ))];
    let start = state.code_selected.saturating_sub(rows - 1);
    for (i, c) in o.codes.iter().enumerate().skip(start).take(rows) {
        let is_selected = i == state.code_selected;
        let base = if is_selected { theme.selection } else { theme.text };
        let unknown = if c.explanation.rule.is_none() { base.patch(theme.warn) } else { base };
        let head = format!("{}{:<22}{:>7} {:>5.1}% ", mark(is_selected), fit(&c.code, 21), c.count, c.share * 100.0);
        let used = 2 + 37 + TREND + 20;
        let category = format!(" {:<18} ", fit(&c.explanation.category, 17));
        let cause_fix = format!("{} → {}", c.explanation.cause, c.explanation.fix);
        let mut spans = vec![
            Span::styled(head, base),
            Span::styled(sparkline(&c.trend, TREND), if is_selected { base } else { theme.bad }),
            Span::styled(category, base),
        ];
        if one_line {
            spans.push(Span::styled(pad(&cause_fix, inner.saturating_sub(used)), unknown));
            lines.push(Line::from(spans));
        } else {
            spans.push(Span::styled(pad("", inner.saturating_sub(used)), base));
            lines.push(Line::from(spans));
            lines.push(Line::from(Span::styled(format!("    {}", pad(&cause_fix, inner.saturating_sub(4))), unknown)));
        }
    }
    let title = format!("Errors by code ({}) · Enter lists videos", o.codes.len());
    frame.render_widget(Paragraph::new(lines).block(block(&title, list_area.width, theme)), list_area);
    if let Some(c) = selected {
        frame.render_widget(Paragraph::new(detail).block(block(&c.code, detail_area.width, theme)), detail_area);
    }
}

/// The selected code's category, cause and fix in full, wrapped.
fn detail_lines(c: &CodeRow, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let rule = match &c.explanation.rule {
        Some(r) => format!("{} (rule {r}, {})", c.explanation.cause, c.explanation.category),
        None => format!("{} (no rule matches this code: add one to rules.toml)", c.explanation.cause),
    };
    let mut out = Vec::new();
    for (label, value, style) in [("cause", rule, theme.bad), ("fix", c.explanation.fix.clone(), theme.good)] {
        for (i, part) in wrap(&value, width.saturating_sub(7)).into_iter().enumerate() {
            let head = if i == 0 { format!("{label:<7}") } else { " ".repeat(7) };
            out.push(Line::from(vec![Span::styled(head, theme.dim), Span::styled(part, style)]));
        }
    }
    out
}

/// Every video that failed with the selected code, a page at a time.
fn draw_videos(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    let rows = area.height.saturating_sub(3).max(1) as usize;
    let code = state.selected_code().unwrap_or_default();
    let videos = state.videos_of_selected_code();
    let mut lines = vec![Line::from(Span::styled(
        format!("  {:<14}{:>6} {:<9} {}", "video_id", "fails", "last", "codes"),
        theme.dim,
    ))];
    // whole pages: PgDn shows the next rows, never a shifted copy of these
    let start = (state.video_selected / rows) * rows;
    for (i, v) in videos.iter().enumerate().skip(start).take(rows) {
        let is_selected = i == state.video_selected;
        let style = if is_selected { theme.selection } else { theme.text };
        let text = format!(
            "{}{:<14}{:>6} {:<9} {}",
            mark(is_selected),
            fit(&v.video_id, 13),
            v.failures,
            v.last_seen.map(format_clock).unwrap_or_default(),
            v.codes.join(",")
        );
        lines.push(Line::from(Span::styled(pad(&text, inner), style)));
    }
    let title = if state.code_videos_loading() {
        lines.push(Line::from(Span::styled("loading every video with this code in the window…", theme.dim)));
        format!("{code}: videos · loading… · Esc back")
    } else if videos.is_empty() {
        lines.push(Line::from(Span::styled("no video failed with this code in this window", theme.dim)));
        format!("{code}: no videos · Esc back")
    } else {
        let end = (start + rows).min(videos.len());
        format!(
            "{code} · rows {}–{end} of {} · sorted by {} (s) · Esc back",
            start + 1,
            videos.len(),
            state.video_order.label()
        )
    };
    frame.render_widget(Paragraph::new(lines).block(block(&title, area.width, theme)), area);
}
