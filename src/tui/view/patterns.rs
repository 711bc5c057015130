//! The Patterns screen: the templates of errors and warnings in the range (every one, not only the
//! unknown), a **new** flag for those first seen in the last N minutes, and what changed against a
//! baseline; the selected row in full below. `w` switches lists, Enter lists a row's lines.
//!
//! ```text
//! ┌ Patterns · 12 templates, 1 new · 3 ms · Enter lists its lines · w what changed ───────────┐
//! │     new   count trend        first    template                              videos rule     │
//! │▶  NEW     112 ▁▁▂█▇▃       14:25:03 E_VOCODER_NAN: vocoder produced NaN at…     37 unknown  │
//! └─────────────────────────────────────────────────────────────────────────────────────────────┘
//! ┌ What changed vs 13:00:00 … 13:59:59 (same length before) ─────────────────────────────────┐
//! │  change  factor    now before kind     name                                                 │
//! │  new          -    112      0 code     E_VOCODER_NAN                                        │
//! └─────────────────────────────────────────────────────────────────────────────────────────────┘
//! ┌ selected ──────────────────────────────────────────────────────────────────────────────────┐
//! │example  vocoder produced NaN at frame 1532                                                  │
//! │rule     unknown: no rule matches → …                                                        │
//! │seen     14:25:03 … 14:59:58 · components vocoder · 37 videos                                │
//! └─────────────────────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::text::{fit, pad};
use super::{State, Theme, block, draw_no_data, mark, no_data, sparkline};
use crate::clock::format_clock;
use crate::stats::template_rows::{ChangeRow, PatternsView, TemplateRow};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const TREND: usize = 12;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some((_, view, took_ms)) = &state.patterns.answer else {
        let message = no_data(state).unwrap_or_else(|| "asking the engine for the patterns of the range…".into());
        draw_no_data(frame, area, "Patterns", &message, theme);
        return;
    };
    if view.rows.is_empty() && view.changes.is_empty() {
        let message = match no_data(state) {
            Some(m) => m,
            None if state.overview.as_ref().is_some_and(|o| o.events == 0) => {
                "no data in this range: no line was read between its ends".into()
            }
            None => format!(
                "nothing wrong: no error or warning in this range ({} events read){}",
                state.overview.as_ref().map_or(0, |o| o.events),
                view.note.as_deref().map(|n| format!(" · {n}")).unwrap_or_default()
            ),
        };
        draw_no_data(frame, area, "Patterns", &message, theme);
        return;
    }
    let detail_height = 5u16.min(area.height / 4).max(3);
    let rest = area.height.saturating_sub(detail_height);
    let changes_height = (rest / 3).max(4).min(rest.saturating_sub(4));
    let [list_area, changes_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(changes_height), Constraint::Length(detail_height)])
            .areas(area);
    draw_templates(frame, list_area, state, view, *took_ms, theme);
    draw_changes(frame, changes_area, state, view, theme);
    draw_detail(frame, detail_area, state, view, theme);
}

fn draw_templates(frame: &mut Frame, area: Rect, state: &State, view: &PatternsView, took_ms: u64, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    let focused = !state.patterns.on_changes;
    let mut lines = Vec::new();
    if let Some(note) = view.note.as_ref().filter(|n| !n.starts_with("the baseline")) {
        lines.push(Line::from(Span::styled(fit(note, inner), theme.warn)));
    }
    let rule_width = if inner >= 120 { 24 } else { 12 };
    let fixed = 2 + 4 + 7 + 1 + TREND + 1 + 9 + 7 + 1 + rule_width;
    let template_width = inner.saturating_sub(fixed).max(8);
    lines.push(Line::from(Span::styled(
        pad(
            &format!(
                "  {:<4}{:>7} {:<TREND$} {:<9}{} {:>6} {}",
                "new",
                "count",
                "trend",
                "first",
                pad("template", template_width),
                "videos",
                "rule"
            ),
            inner,
        ),
        theme.dim,
    )));
    let rows = (area.height.saturating_sub(2) as usize).saturating_sub(lines.len()).max(1);
    // whole pages: PgDn shows the next rows
    let start = (state.patterns.cursor / rows) * rows;
    for (i, row) in view.rows.iter().enumerate().skip(start).take(rows) {
        let selected = focused && i == state.patterns.cursor;
        let base = if selected { theme.selection } else { theme.text };
        let flag = if row.new { "NEW " } else { "    " };
        let rule = match &row.explanation.rule {
            Some(r) if row.unknown > 0 => format!("{r} +?"),
            Some(r) => r.clone(),
            None if row.unknown > 0 => "unknown".into(),
            None => "-".into(),
        };
        let videos = match (row.videos, row.videos_at_least) {
            (0, _) => "-".to_string(),
            (n, true) => format!("≥{n}"),
            (n, false) => n.to_string(),
        };
        lines.push(Line::from(vec![
            Span::styled(mark(selected), base),
            Span::styled(flag, if row.new { base.patch(theme.critical) } else { base }),
            Span::styled(format!("{:>7} ", row.count), base),
            Span::styled(sparkline(&row.trend, TREND), if selected { base } else { theme.bad }),
            Span::styled(format!(" {:<9}", row.first_seen.map(format_clock).unwrap_or_default()), base),
            Span::styled(pad(&row.template, template_width), base),
            Span::styled(format!(" {videos:>6} "), base),
            Span::styled(
                pad(&rule, rule_width),
                if row.explanation.rule.is_none() && row.unknown > 0 { base.patch(theme.warn) } else { base },
            ),
        ]));
    }
    let new = view.rows.iter().filter(|r| r.new).count();
    let shown = if view.total_rows > view.rows.len() {
        format!("the first {} of {} templates", view.rows.len(), view.total_rows)
    } else {
        format!("{} templates", view.total_rows)
    };
    let over = if view.over_cap > 0 { format!(" · {} not kept (cap)", view.over_cap) } else { String::new() };
    let page = if view.rows.len() > rows {
        format!(" · rows {}–{}", start + 1, (start + rows).min(view.rows.len()))
    } else {
        String::new()
    };
    let title = format!(
        "Patterns · {shown}, {new} new (first seen in the last {} min){over}{page} · {took_ms} ms · Enter lines · w",
        view.new_minutes
    );
    let style = if focused { theme.accent } else { theme.dim };
    frame.render_widget(Paragraph::new(lines).block(super::block_with(&title, area.width, theme, style)), area);
}

fn draw_changes(frame: &mut Frame, area: Rect, state: &State, view: &PatternsView, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    let focused = state.patterns.on_changes;
    let baseline = match (view.baseline.from_ms, view.baseline.to_ms) {
        (Some(f), Some(t)) => crate::clock::format_span(f, t),
        _ => String::new(),
    };
    let which = if state.patterns.baseline.is_some() { ":baseline" } else { "the same length before" };
    let mut lines =
        vec![Line::from(Span::styled(pad("  change  factor     now  before kind     name", inner), theme.dim))];
    let rows = (area.height.saturating_sub(3) as usize).max(1);
    if baseline.is_empty() {
        lines.push(Line::from(Span::styled(
            "no baseline: the range has an open end (all); pick a range (t) or :baseline FROM TO",
            theme.dim,
        )));
    } else if let Some(note) = view.note.as_deref().and_then(|n| n.find("the baseline").map(|at| &n[at..])) {
        lines.push(Line::from(Span::styled(fit(note, inner), theme.warn)));
    } else if view.changes.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing new, gone, or changed by ×2 or more (with at least 5 lines) against the baseline",
            theme.dim,
        )));
    }
    let start = (state.patterns.change_cursor / rows) * rows;
    for (i, c) in view.changes.iter().enumerate().skip(start).take(rows) {
        let selected = focused && i == state.patterns.change_cursor;
        let base = if selected { theme.selection } else { theme.text };
        let style = match c.change {
            "new" | "rose" => base.patch(theme.bad),
            _ => base.patch(theme.good),
        };
        lines.push(Line::from(vec![
            Span::styled(mark(selected), base),
            Span::styled(format!("{:<6}", c.change), style),
            Span::styled(pad(&change_text(c), inner.saturating_sub(8)), base),
        ]));
    }
    let page = if view.changes.len() > rows {
        format!(" · rows {}–{} of {}", start + 1, (start + rows).min(view.changes.len()), view.changes.len())
    } else {
        String::new()
    };
    let title = if baseline.is_empty() {
        "What changed".to_string()
    } else {
        format!("What changed vs {baseline} ({which}){page}")
    };
    let style = if focused { theme.accent } else { theme.dim };
    frame.render_widget(Paragraph::new(lines).block(super::block_with(&title, area.width, theme, style)), area);
}

/// `  ×4.0    112      28 code     NAME`.
fn change_text(c: &ChangeRow) -> String {
    let factor = match c.factor {
        Some(f) if f >= 10.0 => format!("×{f:.0}"),
        Some(f) => format!("×{f:.1}"),
        None => "-".into(),
    };
    format!("{factor:>7} {:>7} {:>7} {:<8} {}", c.now, c.before, c.kind, c.name)
}

fn draw_detail(frame: &mut Frame, area: Rect, state: &State, view: &PatternsView, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    let line = |label: &str, value: String, style| {
        Line::from(vec![
            Span::styled(format!("{label:<9}"), theme.dim),
            Span::styled(fit(&value, inner.saturating_sub(9)), style),
        ])
    };
    let (title, lines) = if state.patterns.on_changes {
        match view.changes.get(state.patterns.change_cursor) {
            Some(c) => (
                format!("{} {}", c.change, c.kind),
                vec![
                    line("name", c.name.clone(), theme.text),
                    line("counts", format!("{} in the range, {} in the baseline", c.now, c.before), theme.text),
                ],
            ),
            None => ("selected".to_string(), Vec::new()),
        }
    } else {
        match view.rows.get(state.patterns.cursor) {
            Some(row) => ("selected".to_string(), template_detail(row, &line, theme)),
            None => ("selected".to_string(), Vec::new()),
        }
    };
    frame.render_widget(Paragraph::new(lines).block(block(&title, area.width, theme)), area);
}

fn template_detail<'a>(
    row: &TemplateRow,
    line: &dyn Fn(&str, String, ratatui::style::Style) -> Line<'a>,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let e = &row.explanation;
    let rule = match &e.rule {
        Some(r) => format!("{r} ({}): {} → {}", e.category, e.cause, e.fix),
        None if row.unknown > 0 => {
            format!("no rule explains its {} error lines (all the data read): {}", row.unknown, e.fix)
        }
        None => "warnings only: nothing to explain".to_string(),
    };
    let seen = match (row.first_seen, row.last_seen) {
        (Some(f), Some(l)) => format!("{} … {}", format_clock(f), format_clock(l)),
        _ => "-".into(),
    };
    let components = if row.components.is_empty() { "-".to_string() } else { row.components.join(", ") };
    vec![
        line("example", row.example.clone(), theme.text),
        line("rule", rule, if e.rule.is_some() { theme.good } else { theme.warn }),
        line(
            "seen",
            format!(
                "{seen} · components {components} · {}{} videos",
                if row.videos_at_least { "≥" } else { "" },
                row.videos
            ),
            theme.text,
        ),
    ]
}
