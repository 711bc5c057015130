//! A search's results over every line in the range, drawn on the tail screen in place of the
//! ring while they are shown: the count and range in the title, one match a row (time, source,
//! level, component, the line), the selected one marked; a running search shows its progress.
//!
//! ```text
//! ┌ /CUDA out of memory: 412 matches in 60 min (the first 1000 listed) · n/N · Enter · Esc ┐
//! │  14:20:07 inference ERROR model_inference  video_id=vid_7a5beb error_code=MODEL_INFER… │
//! │▶ 14:20:41 inference ERROR model_inference  video_id=vid_7a5beb error_code=MODEL_INFER… │
//! └────────────────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::{State, Theme, block, fit, mark};
use crate::clock::format_clock;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let search = &state.search;
    let rows = area.height.saturating_sub(2) as usize;
    let inner = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::with_capacity(rows);
    let mut title = search.summary();
    match &search.result {
        None if search.running => {
            lines.push(Line::from(Span::styled("searching every line in the range… Esc cancels", theme.dim)));
        }
        None => lines.push(Line::from(Span::styled("the search was cancelled", theme.dim))),
        Some(result) if result.matches.is_empty() => {
            let text = match &result.error {
                Some(e) => format!("the search failed: {e}"),
                None => "no line in the range holds this text (t widens the window; Esc closes)".to_string(),
            };
            lines.push(Line::from(Span::styled(text, theme.warn)));
        }
        Some(result) => {
            title.push_str(" · n/N · Enter opens · x context · v whole · Esc closes");
            let selected = search.selected.min(result.matches.len().saturating_sub(1));
            let top = selected.saturating_sub(rows.saturating_sub(1));
            for (i, event) in result.matches.iter().enumerate().skip(top).take(rows) {
                let text = format!(
                    "{}{:<9}{:<10}{:<6}{:<16}{}",
                    mark(i == selected),
                    event.ts_ms.map(format_clock).unwrap_or_else(|| "--:--:--".into()),
                    event.source.as_str(),
                    event.level.as_str(),
                    fit(&event.component, 15),
                    super::lines::scrolled(&event.raw, state.hscroll)
                );
                let mut style = theme.level(event.level);
                if i == selected {
                    style = style.patch(theme.selection).add_modifier(Modifier::BOLD);
                }
                lines.push(Line::from(Span::styled(super::text::pad(&text, inner), style)));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block(&title, area.width, theme)), area);
}
