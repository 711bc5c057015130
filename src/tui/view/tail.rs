//! The live tail: every event as it arrives, coloured by level, newest at the bottom. The selected
//! line (Enter drills into its video) carries the mark `▶`; paused, the rows hold still.
//!
//! ```text
//! ┌ Live tail · 20000 events · PAUSED (12 new): Space or G follows · /oom: 12 matches ─┐
//! │  14:23:10 inference INFO  model_inference  video_id=vid_d2e4f1 duration=120s      │
//! │▶ 14:23:11 inference ERROR model_inference  video_id=vid_7a3b9c error_code=…       │
//! └────────────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::{State, Theme, block_with, draw_no_data, fit, mark, no_data};
use crate::clock::format_clock;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.search.shown {
        return super::search::draw(frame, area, state, theme);
    }
    let t = &state.tail;
    if t.events.is_empty()
        && let Some(message) = no_data(state)
    {
        draw_no_data(frame, area, "Live tail", &message, theme);
        return;
    }
    let visible = state.tail_visible();
    let rows = area.height.saturating_sub(2) as usize;
    let inner = area.width.saturating_sub(2) as usize;
    let frame_rows = state.tail_frame(&visible, rows);
    let cursor = state.tail_cursor_index(&visible);
    let query = t.query.to_lowercase();
    let mut lines = Vec::with_capacity(rows);
    for (i, (_, event)) in visible[frame_rows.clone()].iter().enumerate() {
        let selected = Some(frame_rows.start + i) == cursor;
        let text = format!(
            "{}{:<9}{:<10}{:<6}{:<16}{}",
            mark(selected),
            event.ts_ms.map(format_clock).unwrap_or_else(|| "--:--:--".into()),
            event.source.as_str(),
            event.level.as_str(),
            fit(&event.component, 15),
            super::lines::scrolled(&event.raw, state.hscroll)
        );
        let mut style = theme.level(event.level);
        if !query.is_empty() && state.tail_matches(event) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        if selected {
            style = style.patch(theme.selection).add_modifier(Modifier::BOLD);
        }
        lines.push(Line::from(Span::styled(super::text::pad(&text, inner), style)));
    }
    if t.events.is_empty() {
        lines
            .push(Line::from(Span::styled("no events in the tail yet: new lines show here as they arrive", theme.dim)));
    } else if visible.is_empty() {
        lines.push(Line::from(Span::styled("no events match the filters (l, c, e change them)", theme.dim)));
    }
    let mut title = format!("Live tail · {} events", visible.len());
    if t.paused {
        title.push_str(&format!(" · PAUSED ({} new): Space or G follows", t.waiting));
    } else {
        title.push_str(" · following");
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
    if let Some((text, _)) = &t.filter {
        title.push_str(&format!(" · filter: {}", crate::text::sanitize(text)));
    }
    if !t.query.is_empty() {
        let n = visible.iter().filter(|(_, e)| state.tail_matches(e)).count();
        title.push_str(&format!(" · /{}: {n} matches", t.query));
    }
    let panel = block_with(&title, area.width, theme, if t.paused { theme.warn } else { theme.accent });
    frame.render_widget(Paragraph::new(lines).block(panel), area);
}
