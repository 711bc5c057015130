//! The drill-down on one video: its facts (wrapped, so the cause, the fix and the retry link are
//! read whole at any width) and every related line.
//!
//! ```text
//! ┌ vid_7a3b9c · 21 failures · MODEL_INFER_FAIL ───────────────────────────────────┐
//! │likely cause  GPU memory exhausted            (rule cuda-oom)                   │
//! │suggested fix Use a bigger GPU, or lower batch_size                             │
//! │first / last  14:21:02 … 14:25:29                                               │
//! │retry (y)     https://foley-debug.internal/jobs/vid_7a3b9c/retry?request_id=req_│
//! │              2ae111cc                                                          │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ┌ Related lines (every source, in time order) ───────────────────────────────────┐
//! │14:21:02 ffmpeg    INFO  Input #0, mov,mp4 … from '/data/in/vid_7a3b9c.mp4':     │
//! ```

use super::text::wrap;
use super::{State, Theme, block, fit};
use crate::parse::time::format_clock;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const LABEL: usize = 14;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let drill = &state.drill;
    if drill.video_id.is_empty() {
        let mut text = " Select a video on the overview, the codes or the tail (Enter) to drill down.".to_string();
        if let Some(why) = super::no_data(state) {
            text = format!(" {why}");
        }
        frame.render_widget(Paragraph::new(text).style(theme.dim), area);
        return;
    }
    let Some(related) = &drill.related else {
        frame
            .render_widget(Paragraph::new(format!(" loading the lines of {}…", drill.video_id)).style(theme.dim), area);
        return;
    };
    let inner = area.width.saturating_sub(2) as usize;
    let row = related.row.as_ref();
    let codes = row.map(|r| r.codes.join(", ")).filter(|c| !c.is_empty()).unwrap_or_else(|| "no error code".into());
    let title = format!("{} · {} failures · {codes}", related.video_id, row.map_or(0, |r| r.failures));
    let e = &related.explanation;
    let retry = crate::tui::actions::retry_link(state, &related.video_id, row);
    let rule =
        e.rule.as_ref().map(|r| format!("(rule {r}, {})", e.category)).unwrap_or_else(|| "(no rule matches)".into());
    let times = format!(
        "{} … {}",
        row.and_then(|r| r.first_seen).map(format_clock).unwrap_or_else(|| "-".into()),
        row.and_then(|r| r.last_seen).map(format_clock).unwrap_or_else(|| "-".into())
    );
    let mut info = Vec::new();
    labelled(&mut info, "likely cause", &format!("{}   {rule}", e.cause), inner, theme.bad, theme);
    labelled(&mut info, "suggested fix", &e.fix, inner, theme.good, theme);
    labelled(&mut info, "first / last", &times, inner, theme.text, theme);
    labelled(&mut info, "retry (y)", &retry, inner, theme.accent, theme);
    // the facts first; the related lines get what is left (at least five rows)
    let info_height = (info.len() as u16 + 2).min(area.height.saturating_sub(7));
    let [info_area, lines_area] = Layout::vertical([Constraint::Length(info_height), Constraint::Min(3)]).areas(area);
    frame.render_widget(Paragraph::new(info).block(block(&title, area.width, theme)), info_area);
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
        "Related lines: {}{} · {}-{} · j/k scroll",
        related.events.len(),
        if related.truncated { "+ (capped)" } else { "" },
        start + 1,
        (start + rows).min(related.events.len())
    );
    frame.render_widget(Paragraph::new(lines).block(block(&title, lines_area.width, theme)), lines_area);
}

/// A label and its value, the value wrapped under itself (nothing is cut).
fn labelled(out: &mut Vec<Line<'static>>, label: &str, value: &str, width: usize, style: Style, theme: &Theme) {
    for (i, part) in wrap(value, width.saturating_sub(LABEL)).into_iter().enumerate() {
        let head = if i == 0 { format!("{label:<LABEL$}") } else { " ".repeat(LABEL) };
        out.push(Line::from(vec![Span::styled(head, theme.dim), Span::styled(part, style)]));
    }
}
