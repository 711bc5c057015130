//! The drill-down on one video.
//!
//! ```text
//! ┌ vid_7a3b9c · 21 failures · MODEL_INFER_FAIL ───────────────────────────────────┐
//! │ likely cause  GPU memory exhausted            (rule cuda-oom)                  │
//! │ suggested fix Use a bigger GPU, or lower batch_size                            │
//! │ first / last  14:21:02 … 14:25:29   retry https://…                            │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ┌ Related lines (every source, in time order) ───────────────────────────────────┐
//! │ 14:21:02 ffmpeg    INFO  Input #0, mov,mp4 … from '/data/in/vid_7a3b9c.mp4':   │
//! ```

use super::{State, Theme, fit};
use crate::parse::time::format_clock;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let drill = &state.drill;
    if drill.video_id.is_empty() {
        frame.render_widget(
            Paragraph::new(" Select a video on the overview (Enter) to drill down.").style(theme.dim),
            area,
        );
        return;
    }
    let [info, lines_area] = Layout::vertical([Constraint::Length(6), Constraint::Min(3)]).areas(area);
    let Some(related) = &drill.related else {
        frame
            .render_widget(Paragraph::new(format!(" loading the lines of {}…", drill.video_id)).style(theme.dim), area);
        return;
    };
    let row = related.row.as_ref();
    let title = format!(
        " {} · {} failures · {} ",
        related.video_id,
        row.map_or(0, |r| r.failures),
        row.map(|r| r.codes.join(", ")).filter(|c| !c.is_empty()).unwrap_or_else(|| "no error code".into())
    );
    let e = &related.explanation;
    let retry = crate::integrate::links::retry_link(
        &state.links.retry_url,
        &related.video_id,
        row.and_then(|r| r.request_id.as_deref()),
        row.and_then(|r| r.last_seen),
    );
    let label = |s: &str| Span::styled(format!("{s:<14}"), theme.dim);
    let info_lines = vec![
        Line::from(vec![
            label("likely cause"),
            Span::styled(e.cause.clone(), theme.bad),
            Span::styled(
                e.rule
                    .as_ref()
                    .map(|r| format!("   (rule {r}, {})", e.category))
                    .unwrap_or_else(|| "   (no rule matches)".into()),
                theme.dim,
            ),
        ]),
        Line::from(vec![label("suggested fix"), Span::styled(e.fix.clone(), theme.good)]),
        Line::from(vec![
            label("first / last"),
            Span::styled(
                format!(
                    "{} … {}",
                    row.and_then(|r| r.first_seen).map(format_clock).unwrap_or_else(|| "-".into()),
                    row.and_then(|r| r.last_seen).map(format_clock).unwrap_or_else(|| "-".into())
                ),
                theme.text,
            ),
        ]),
        Line::from(vec![label("retry (y)"), Span::styled(retry, theme.accent)]),
    ];
    frame.render_widget(
        Paragraph::new(info_lines).block(
            Block::default().borders(Borders::ALL).border_style(theme.dim).title(Span::styled(title, theme.accent)),
        ),
        info,
    );
    let inner = lines_area.width.saturating_sub(2) as usize;
    let rows = lines_area.height.saturating_sub(2) as usize;
    let start = drill.scroll.min(related.events.len().saturating_sub(rows.max(1)));
    let mut lines = Vec::new();
    for event in related.events.iter().skip(start).take(rows) {
        let text = format!(
            "{:<9}{:<10}{:<6}{}",
            event.ts_ms.map(format_clock).unwrap_or_else(|| "--:--:--".into()),
            event.source.as_str(),
            event.level.as_str(),
            event.raw
        );
        lines.push(Line::from(Span::styled(fit(&text, inner), theme.level(event.level))));
    }
    let title = format!(
        " Related lines: {}{} · {}-{} · j/k scroll ",
        related.events.len(),
        if related.truncated { "+ (capped)" } else { "" },
        start + 1,
        (start + rows).min(related.events.len())
    );
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default().borders(Borders::ALL).border_style(theme.dim).title(Span::styled(title, theme.accent)),
        ),
        lines_area,
    );
}
