//! Errors by code: count, trend, share, cause and fix; Enter lists the code's failing videos.
//!
//! ```text
//! ┌ Errors by code ────────────────────────────────────────────────────────────────┐
//! │ code               count  share trend        category      cause → fix         │
//! │ MODEL_INFER_FAIL     419  57.6% ▁▁▂█▇▃▁      CUDA OOM      GPU memory … → …    │
//! ```

use super::{State, Theme, fit, sparkline};
use crate::parse::time::format_clock;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(o) = &state.overview else { return };
    let inner = area.width.saturating_sub(2) as usize;
    let rows = area.height.saturating_sub(3) as usize;
    let mut lines = Vec::new();
    let title;
    if state.code_videos {
        let code = o.codes.get(state.code_selected).map(|c| c.code.clone()).unwrap_or_default();
        let count = if state.code_videos_loading() {
            "…".to_string()
        } else {
            state.videos_of_selected_code().len().to_string()
        };
        title = format!(" Videos failing with {code}: {count} · Enter drills down · Esc back ");
        lines.push(Line::from(Span::styled(
            format!("{:<14}{:>6} {:<9} {}", "video_id", "fails", "last", "codes"),
            theme.dim,
        )));
        let videos = state.videos_of_selected_code();
        let start = state.video_selected.saturating_sub(rows.saturating_sub(1));
        for (i, v) in videos.iter().enumerate().skip(start).take(rows) {
            let style = if i == state.video_selected { theme.selection } else { theme.text };
            let text = format!(
                "{:<14}{:>6} {:<9} {}",
                fit(&v.video_id, 13),
                v.failures,
                v.last_seen.map(format_clock).unwrap_or_default(),
                v.codes.join(",")
            );
            lines.push(Line::from(Span::styled(format!("{:<inner$}", fit(&text, inner)), style)));
        }
        if state.code_videos_loading() {
            lines.push(Line::from(Span::styled("loading every video with this code in the window…", theme.dim)));
        } else if videos.is_empty() {
            lines.push(Line::from(Span::styled("no video failed with this code in this window", theme.dim)));
        }
    } else {
        title = format!(" Errors by code ({}) · Enter lists videos ", o.codes.len());
        let trend_width = 14;
        lines.push(Line::from(Span::styled(
            format!(
                "{:<22}{:>7} {:>6} {:<trend_width$} {:<18} {}",
                "code", "count", "share", "trend", "category", "cause → fix"
            ),
            theme.dim,
        )));
        let start = state.code_selected.saturating_sub(rows.saturating_sub(1));
        for (i, c) in o.codes.iter().enumerate().skip(start).take(rows) {
            let selected = i == state.code_selected;
            let base = if selected { theme.selection } else { theme.text };
            let rest =
                format!("{:<18} {} → {}", fit(&c.explanation.category, 17), c.explanation.cause, c.explanation.fix);
            let used = 22 + 7 + 7 + trend_width + 2;
            lines.push(Line::from(vec![
                Span::styled(format!("{:<22}{:>7} {:>5.1}% ", fit(&c.code, 21), c.count, c.share * 100.0), base),
                Span::styled(sparkline(&c.trend, trend_width), if selected { base } else { theme.bad }),
                Span::styled(
                    format!(" {:<w$}", fit(&rest, inner.saturating_sub(used)), w = inner.saturating_sub(used)),
                    if c.explanation.rule.is_none() { base.patch(theme.warn) } else { base },
                ),
            ]));
        }
        if o.codes.is_empty() {
            lines.push(Line::from(Span::styled("no error codes in this window", theme.good)));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default().borders(Borders::ALL).border_style(theme.dim).title(Span::styled(title, theme.accent)),
        ),
        area,
    );
}
