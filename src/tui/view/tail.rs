//! The live tail: every event as it arrives, coloured by level, newest at the bottom.
//!
//! ```text
//! ┌ Live tail · following · ≥WARN · web · /oom: 12 matches ────────────────────────┐
//! │ 14:23:11 inference ERROR model_inference  video_id=vid_7a3b9c error_code=…     │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::{State, Theme, fit};
use crate::parse::time::format_clock;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.tail;
    let visible = state.tail_visible();
    let rows = area.height.saturating_sub(2) as usize;
    let inner = area.width.saturating_sub(2) as usize;
    let end = visible.len().saturating_sub(t.scroll);
    let start = end.saturating_sub(rows);
    let mut lines = Vec::new();
    for (i, event) in visible[start..end].iter().enumerate() {
        let text = format!(
            "{:<9}{:<10}{:<6}{:<16}{}",
            event.ts_ms.map(format_clock).unwrap_or_else(|| "--:--:--".into()),
            event.source.as_str(),
            event.level.as_str(),
            fit(&event.component, 15),
            event.raw
        );
        let mut style = theme.level(event.level);
        if state.tail_matches(event) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        if t.scroll > 0 && start + i == end - 1 {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        lines.push(Line::from(Span::styled(fit(&text, inner), style)));
    }
    if visible.is_empty() {
        lines.push(Line::from(Span::styled("no events match the filters yet", theme.dim)));
    }
    let mut title = format!(" Live tail · {} events", visible.len());
    title.push_str(if t.paused { " · PAUSED" } else { " · following" });
    if t.paused && t.waiting > 0 {
        title.push_str(&format!(" ({} new)", t.waiting));
    }
    if let Some(l) = t.min_level {
        title.push_str(&format!(" · ≥{}", l.as_str()));
    }
    if let Some(c) = &t.component {
        title.push_str(&format!(" · {c}"));
    }
    if t.errors_only {
        title.push_str(" · errors only");
    }
    if !t.query.is_empty() {
        let n = visible.iter().filter(|e| state.tail_matches(e)).count();
        title.push_str(&format!(" · /{}: {n} matches", t.query));
    }
    title.push(' ');
    let title_style = if t.paused { theme.warn } else { theme.accent };
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default().borders(Borders::ALL).border_style(theme.dim).title(Span::styled(title, title_style)),
        ),
        area,
    );
}
