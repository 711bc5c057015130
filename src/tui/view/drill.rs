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
use super::{State, Theme, block};
use crate::clock::format_clock;
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
    if related.events.is_empty() {
        let text = format!(
            " No line {} mentions {} (the whole data is searched, whatever the range). \
             Check the id, or search for it as text with /.",
            super::data_span(state).map(|s| format!("between {s}")).unwrap_or_else(|| "in the data".into()),
            related.video_id
        );
        let lines: Vec<Line> = wrap(&text, area.width as usize).into_iter().map(Line::from).collect();
        frame.render_widget(Paragraph::new(lines).style(theme.warn), area);
        return;
    }
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
    if drill.show_context {
        draw_context(frame, lines_area, state, theme);
        return;
    }
    let rows = lines_area.height.saturating_sub(2) as usize;
    let (lines, start) =
        super::lines::list(&related.events, drill.scroll, rows, lines_area.width, state.hscroll, None, theme);
    let title = format!(
        "Related lines: {}{} · {}-{} · j/k · v whole line · x context · ←/→",
        related.events.len(),
        if related.truncated { "+ (capped)" } else { "" },
        (start + 1).min(related.events.len()),
        (start + rows).min(related.events.len())
    );
    frame.render_widget(Paragraph::new(lines).block(block(&title, lines_area.width, theme)), lines_area);
}

/// Context (`x`): every source's lines around the selected related line (marked `◆`), with the
/// GPU samples of that span beside them when the logs have any.
fn draw_context(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let drill = &state.drill;
    let anchor =
        drill.related.as_ref().and_then(|r| r.events.get(drill.scroll)).map(|e| (e.origin.file, e.origin.offset));
    let Some(context) = &drill.context else {
        let text = format!(" loading every source's lines within ±{} s…", state.context_seconds);
        frame.render_widget(Paragraph::new(text).style(theme.dim).block(block("Context", area.width, theme)), area);
        return;
    };
    let has_gpu = !context.gpu.is_empty() && area.width >= 100;
    let [list_area, gpu_area] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(if has_gpu { 30 } else { 0 })]).areas(area);
    let rows = list_area.height.saturating_sub(2) as usize;
    let (lines, start) =
        super::lines::list(&context.events, drill.context_cursor, rows, list_area.width, state.hscroll, anchor, theme);
    let mut sources: Vec<&str> = context.events.iter().map(|e| e.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let title = format!(
        "Context {} · {} lines from {} · {}-{} · x back",
        context.query.title,
        context.events.len(),
        sources.join(", "),
        (start + 1).min(context.events.len()),
        (start + rows).min(context.events.len())
    );
    frame.render_widget(Paragraph::new(lines).block(block(&title, list_area.width, theme)), list_area);
    if has_gpu {
        let width = gpu_area.width.saturating_sub(2) as usize;
        let mem: Vec<Option<f64>> = context.gpu.iter().map(|g| g.mem_gib).collect();
        let util: Vec<Option<f64>> = context.gpu.iter().map(|g| g.util_pct).collect();
        let peak =
            |v: &[Option<f64>]| v.iter().flatten().fold(None, |m: Option<f64>, x| Some(m.map_or(*x, |m| m.max(*x))));
        let text = vec![
            Line::from(Span::styled(
                format!("memory GiB (peak {})", peak(&mem).map_or("-".into(), |p| format!("{p:.1}"))),
                theme.dim,
            )),
            Line::from(Span::styled(super::lines::samples_line(&mem, width), theme.accent)),
            Line::from(Span::styled(
                format!("utilisation % (peak {})", peak(&util).map_or("-".into(), |p| format!("{p:.0}"))),
                theme.dim,
            )),
            Line::from(Span::styled(super::lines::samples_line(&util, width), theme.accent)),
        ];
        let title = format!("GPU · {} samples", context.gpu.len());
        frame.render_widget(Paragraph::new(text).block(block(&title, gpu_area.width, theme)), gpu_area);
    }
}

/// A label and its value, the value wrapped under itself (nothing is cut).
fn labelled(out: &mut Vec<Line<'static>>, label: &str, value: &str, width: usize, style: Style, theme: &Theme) {
    for (i, part) in wrap(value, width.saturating_sub(LABEL)).into_iter().enumerate() {
        let head = if i == 0 { format!("{label:<LABEL$}") } else { " ".repeat(LABEL) };
        out.push(Line::from(vec![Span::styled(head, theme.dim), Span::styled(part, style)]));
    }
}
