//! The overview, the home screen.
//!
//! ```text
//! ┌ ALERT banner (only while a rule fires) ──────────────────────────────────────┐
//! ┌ Error rate ─────────────────────────┐┌ Component health ─────────────────────┐
//! │ overall   ▁▂▂▃█▇▅▂  4.1%            ││ model_inference  62 ██████░░░░ 9% 4.9s│
//! └─────────────────────────────────────┘└───────────────────────────────────────┘
//! ┌ Error heatmap (codes × time) ───────┐┌ Top failing videos ───────────────────┐
//! │ MODEL_INFER_FAIL ░░▒▓██▓▒░          ││ vid_7a3b9c  21  14:25:29  CUDA OOM    │
//! └─────────────────────────────────────┘└───────────────────────────────────────┘
//! ┌ GPU (when logged) ─────────────────────────────────────────────────────────────┐
//! ```

use super::text::wrap;
use super::{State, Theme, draw_no_data, fit, mark, ms_text, no_data, sparkline};
use crate::clock::format_clock;
use crate::tui::state::Panel;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let o = match (&state.overview, no_data(state)) {
        (Some(o), None) => o,
        (_, why) => {
            draw_no_data(frame, area, "Overview", &why.unwrap_or_default(), theme);
            return;
        }
    };
    let wide = area.width >= 120 && area.height >= 30;
    let has_gpu = o.series.gpu_mem_gib.iter().any(Option::is_some) || o.series.gpu_util_pct.iter().any(Option::is_some);
    let components = o.by_component.len() as u16;
    let alerts = if state.focus == Panel::Alerts && !o.alerts.is_empty() {
        focused_alerts(state, o, area.width as usize)
    } else {
        alert_lines(state, o, area.width as usize, if wide { 3 } else { 2 })
    };
    let [banner, top, middle, bottom] = Layout::vertical([
        Constraint::Length(alerts.len() as u16),
        Constraint::Length(components.max(3) + 3),
        Constraint::Min(5),
        Constraint::Length(if wide && has_gpu { 4 } else { 0 }),
    ])
    .areas(area);
    let loud = o.alerts.iter().any(|a| a.active && !silenced(state, &a.rule));
    let style = if loud { theme.critical.add_modifier(Modifier::REVERSED) } else { theme.warn };
    let lines: Vec<Line> = alerts.into_iter().map(|l| Line::from(Span::styled(l, style))).collect();
    frame.render_widget(Paragraph::new(lines), banner);
    let [rates, health] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    draw_rates(frame, rates, state, o, theme);
    draw_health(frame, health, o, theme);
    if wide {
        let [left, videos] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
        let heat_rows = o.series.heatmap.len().max(1) as u16 + 3;
        let [heat, unknown] = Layout::vertical([Constraint::Length(heat_rows), Constraint::Min(0)]).areas(left);
        draw_heatmap(frame, heat, state, o, theme);
        draw_unknown(frame, unknown, state, o, theme);
        draw_videos(frame, videos, state, o, theme);
        if has_gpu {
            draw_gpu(frame, bottom, o, theme);
        }
    } else {
        // narrow: the focused panel takes the middle (the videos by default)
        match state.focus {
            Panel::Heatmap => draw_heatmap(frame, middle, state, o, theme),
            Panel::Unknown => draw_unknown(frame, middle, state, o, theme),
            _ => draw_videos(frame, middle, state, o, theme),
        }
    }
}

/// True when the rule is silenced now (`S` on the Alerts screen).
fn silenced(state: &State, rule: &str) -> bool {
    state.alerts.marks.silenced_until(rule, state.now_ms).is_some()
}

/// The alerts line, wrapped to `width` on at most `max_lines` lines (the message log, `m`, shows
/// them all when they do not fit): the rules firing at the end of the range (each with its value
/// and since when; silenced ones only counted), else those that fired in the range.
fn alert_lines(state: &State, o: &crate::stats::overview::Overview, width: usize, max_lines: usize) -> Vec<String> {
    if o.alerts.is_empty() {
        // rules that could not be evaluated are not "all clear"
        return match state.alerts.answer.as_ref().and_then(|a| a.error.as_deref()) {
            Some(e) => vec![format!(
                " {}",
                fit(&format!("the alert rules could not be evaluated: {e} (6)"), width.saturating_sub(2))
            )],
            // not evaluated for this range yet (the files are read again for it): not "none fired"
            None if o.data_to.is_some() && state.alerts.answer.as_ref().is_none_or(|a| a.range != state.range) => {
                vec![format!(" {}", fit("alert rules: evaluating over this range… (6)", width.saturating_sub(2)))]
            }
            None => Vec::new(),
        };
    }
    let active: Vec<_> = o.alerts.iter().filter(|a| a.active && !silenced(state, &a.rule)).collect();
    let quiet = o.alerts.iter().filter(|a| a.active && silenced(state, &a.rule)).count();
    let quiet = if quiet > 0 { format!("  ·  {quiet} silenced (6)") } else { String::new() };
    let text = if active.is_empty() {
        let fired: Vec<String> = o
            .alerts
            .iter()
            .map(|a| {
                format!("{} {}–{} (peak {})", a.rule, format_clock(a.from), format_clock(a.to), a.unit.show(a.value))
            })
            .collect();
        // the silenced count first: it must not be the part a long list wraps away
        let quiet = quiet.strip_prefix("  ·  ").map(|q| format!("{q}  ·  ")).unwrap_or_default();
        format!("{quiet}fired in this window: {}", fired.join("  ·  "))
    } else {
        let firing: Vec<String> = active
            .iter()
            .map(|a| {
                format!(
                    "{} {} > {} since {}",
                    a.rule,
                    a.unit.show(a.value),
                    a.unit.show(a.threshold),
                    format_clock(a.from)
                )
            })
            .collect();
        format!("ALERT  {}{quiet}", firing.join("  ·  "))
    };
    let mut lines = wrap(&text, width.saturating_sub(2));
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let suffix = " … m shows all";
        if let Some(last) = lines.last_mut() {
            let room = width.saturating_sub(2 + suffix.chars().count());
            *last = format!("{}{suffix}", fit(last, room).trim_end_matches('…'));
        }
    }
    lines.into_iter().map(|l| format!(" {l}")).collect()
}

fn block<'a>(title: &str, area: Rect, theme: &Theme) -> Block<'a> {
    super::block(title, area.width, theme)
}

/// A panel's block; the focused panel's border and title stand out (and its title says so
/// without colour: `▶`).
fn panel_block<'a>(title: &str, area: Rect, focused: bool, theme: &Theme) -> Block<'a> {
    if focused {
        super::block_with(&format!("▶ {}", title.trim()), area.width, theme, theme.selection).border_style(theme.accent)
    } else {
        block(title, area, theme)
    }
}

/// A row of `width` cells with the time cursor's cell drawn as `│` (none until `[` / `]`).
fn with_cursor(cells: &str, state: &State, width: usize) -> String {
    let Some(at) = state.time_cursor else { return cells.to_string() };
    let points = crate::tui::zoom::points(state);
    let Some(cell) = super::cursor_cell(at, points, width) else { return cells.to_string() };
    cells.chars().enumerate().map(|(i, c)| if i == cell { '│' } else { c }).collect()
}

/// The alerts one a line, the selected one marked (focus on the alerts: Enter lists its lines).
fn focused_alerts(state: &State, o: &crate::stats::overview::Overview, width: usize) -> Vec<String> {
    o.alerts
        .iter()
        .enumerate()
        .take(4)
        .map(|(i, a)| {
            let text = format!(
                "{}{} {}–{} (peak {}){}",
                mark(i == state.panel_selected),
                a.rule,
                format_clock(a.from),
                format_clock(a.to),
                a.unit.show(a.value),
                if i == 0 { "  · Enter: its lines" } else { "" }
            );
            fit(&text, width.saturating_sub(1))
        })
        .collect()
}

fn draw_rates(frame: &mut Frame, area: Rect, state: &State, o: &crate::stats::overview::Overview, theme: &Theme) {
    let inner_width = area.width.saturating_sub(2) as usize;
    let label_width = 16;
    let spark_width = inner_width.saturating_sub(label_width + 8).max(4);
    let rate = |errors: &[u64], events: &[u64]| {
        let (e, n): (u64, u64) = (errors.iter().sum(), events.iter().sum());
        if n == 0 { 0.0 } else { 100.0 * e as f64 / n as f64 }
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{:<label_width$}", "all errors"), theme.text),
        Span::styled(with_cursor(&sparkline(&o.series.errors, spark_width), state, spark_width), theme.bad),
        Span::styled(format!(" {:>5.1}%", rate(&o.series.errors, &o.series.events)), theme.text),
    ])];
    for (name, errors, events) in &o.series.components {
        let pct = rate(errors, events);
        let style = if pct >= 10.0 {
            theme.critical
        } else if pct >= 2.0 {
            theme.bad
        } else {
            theme.warn
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<label_width$}", fit(name, label_width - 1)), theme.text),
            Span::styled(with_cursor(&sparkline(errors, spark_width), state, spark_width), style),
            Span::styled(format!(" {pct:>5.1}%"), theme.text),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(block(" Error rate over the window ", area, theme)), area);
}

fn draw_health(frame: &mut Frame, area: Rect, o: &crate::stats::overview::Overview, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    // the bar goes first when the panel is narrow
    let bar_width = if inner >= 48 { inner.saturating_sub(16 + 5 + 8 + 8 + 2).clamp(4, 20) } else { 0 };
    let mut rows: Vec<_> = o.by_component.values().collect();
    rows.sort_by(|a, b| a.score.total_cmp(&b.score));
    let mut lines = vec![Line::from(Span::styled(
        format!("{:<16}{:>4} {:<bar_width$} {:>7} {:>7}", "component", "score", "", "errors", "p95"),
        theme.dim,
    ))];
    for c in rows {
        let filled = ((c.score / 100.0) * bar_width as f64).round() as usize;
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", fit(&c.name, 15)), theme.text),
            Span::styled(format!("{:>4.0} ", c.score), theme.score(c.score).add_modifier(Modifier::BOLD)),
            Span::styled("█".repeat(filled), theme.score(c.score)),
            Span::styled("░".repeat(bar_width.saturating_sub(filled)), theme.dim),
            Span::styled(format!("{:>7.1}% {:>7}", c.error_rate * 100.0, ms_text(c.latency.p95)), theme.text),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(block(" Component health (0-100) ", area, theme)), area);
}

fn draw_heatmap(frame: &mut Frame, area: Rect, state: &State, o: &crate::stats::overview::Overview, theme: &Theme) {
    const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
    let inner = area.width.saturating_sub(2) as usize;
    let label = 20;
    let width = inner.saturating_sub(label + 1).max(4);
    let max = o.series.heatmap.iter().flat_map(|(_, v)| super::rebin(v, width)).max().unwrap_or(0);
    let mut lines = Vec::new();
    let focused = state.focus == Panel::Heatmap;
    for (i, (code, values)) in o.series.heatmap.iter().enumerate().take(area.height.saturating_sub(3) as usize) {
        let cells: String = super::rebin(values, width)
            .iter()
            .map(|v| if *v == 0 || max == 0 { SHADES[0] } else { SHADES[(1 + (*v * 3) / max) as usize] })
            .collect();
        let selected = focused && i == state.panel_selected;
        let head = if focused {
            format!("{}{:<w$} ", mark(selected), fit(code, label - 2), w = label - 2)
        } else {
            format!("{:<label$} ", fit(code, label))
        };
        lines.push(Line::from(vec![
            Span::styled(head, if selected { theme.selection } else { theme.text }),
            Span::styled(with_cursor(&cells, state, width), theme.bad),
        ]));
    }
    if let (Some(first), true) = (o.series.start_ms.checked_add(0), o.series.step_ms > 0) {
        let end = first + o.series.step_ms * o.series.events.len() as i64;
        let span = format!("{} … {}", format_clock(first), format_clock(end));
        lines.push(Line::from(Span::styled(format!("{:>w$}", span, w = inner), theme.dim)));
    }
    if let (true, Some(why)) = (o.series.heatmap.is_empty(), o.lists.missing()) {
        lines = missing_lines(&o.lists, &why, inner, theme);
    } else if o.series.heatmap.is_empty() {
        let text = format!("no error codes in this window ({} events)", o.events);
        lines = vec![Line::from(Span::styled(fit(&text, inner), theme.good))];
    }
    let title = if focused {
        " Error heatmap · [ ] time · Enter: the code's lines at the cursor "
    } else {
        " Error heatmap: codes × time "
    };
    frame.render_widget(Paragraph::new(lines).block(panel_block(title, area, focused, theme)), area);
}

fn draw_videos(frame: &mut Frame, area: Rect, state: &State, o: &crate::stats::overview::Overview, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    let rows = area.height.saturating_sub(3) as usize;
    let cause_width = inner.saturating_sub(2 + 14 + 6 + 10).max(8);
    let mut lines = vec![Line::from(Span::styled(
        format!("  {:<14}{:>5} {:<9} {}", "video_id", "fails", "last", "likely cause"),
        theme.dim,
    ))];
    let start = state.video_selected.saturating_sub(rows.saturating_sub(1));
    let shown = state.top_videos();
    for (i, v) in shown.iter().enumerate().skip(start).take(rows) {
        let selected = i == state.video_selected;
        let style = if selected { theme.selection } else { theme.text };
        let text = format!(
            "{}{:<14}{:>5} {:<9} {}",
            mark(selected),
            fit(&v.video_id, 13),
            v.failures,
            v.last_seen.map(format_clock).unwrap_or_default(),
            fit(&v.cause, cause_width)
        );
        lines.push(Line::from(Span::styled(super::text::pad(&text, inner), style)));
    }
    if let (true, Some(why)) = (o.top_failing_videos.is_empty(), o.lists.missing()) {
        lines.extend(missing_lines(&o.lists, &why, inner, theme));
    } else if o.top_failing_videos.is_empty() {
        let text = format!("no failing videos in this window ({} events, {} errors)", o.events, o.errors);
        lines.push(Line::from(Span::styled(fit(&text, inner), theme.good)));
    } else if shown.is_empty() {
        let text = "no top failing video passes the filter (f, :code change it)";
        lines.push(Line::from(Span::styled(fit(text, inner), theme.warn)));
    }
    let mut title = format!("Top failing videos ({}) · Enter drills down", o.top_failing_videos.len());
    if shown.len() != o.top_failing_videos.len() {
        title = format!("Top failing videos ({} of {}) · Enter drills down", shown.len(), o.top_failing_videos.len());
    }
    if !state.video_filter.is_empty() {
        title.push_str(&format!(" · f {}", state.video_filter));
    }
    if let Some(code) = &state.tail.code {
        title.push_str(&format!(" · :code {code}"));
    }
    if state.top_order != crate::tui::state::VideoOrder::Failures {
        title.push_str(&format!(" · by {}", state.top_order.label()));
    }
    frame.render_widget(
        Paragraph::new(lines).block(panel_block(&title, area, state.focus == Panel::Videos, theme)),
        area,
    );
}

fn draw_unknown(frame: &mut Frame, area: Rect, state: &State, o: &crate::stats::overview::Overview, theme: &Theme) {
    if area.height < 3 {
        return;
    }
    let inner = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    let focused = state.focus == Panel::Unknown;
    let rows = area.height.saturating_sub(2) as usize;
    let start = if focused { state.panel_selected.saturating_sub(rows.saturating_sub(1)) } else { 0 };
    for (i, p) in o.unknown_patterns.iter().enumerate().skip(start).take(rows) {
        let selected = focused && i == state.panel_selected;
        let head = if focused { mark(selected) } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("{head}{:>6} ", p.count), if selected { theme.selection } else { theme.warn }),
            Span::styled(fit(&p.template, inner.saturating_sub(7 + head.chars().count())), theme.text),
        ]));
    }
    if let (true, Some(why)) = (lines.is_empty(), o.lists.missing()) {
        lines = missing_lines(&o.lists, &why, inner, theme);
    } else if lines.is_empty() {
        // "all clear" only when there were errors and a rule explained each one
        let text = if o.errors == 0 {
            format!("no errors in this window ({} events)", o.events)
        } else if o.unknown_errors > 0 {
            format!("{} errors without a rule; no message template yet", o.unknown_errors)
        } else {
            format!("every error in this window ({}) is explained by a rule", o.errors)
        };
        lines.push(Line::from(Span::styled(fit(&text, inner), theme.good)));
    }
    let title = if focused {
        format!("Unknown errors: {} · Enter: the pattern's lines", o.unknown_errors)
    } else {
        format!("Unknown errors: {} (no rule matches; add one to rules.toml)", o.unknown_errors)
    };
    frame.render_widget(Paragraph::new(lines).block(panel_block(&title, area, focused, theme)), area);
}

/// What a list panel shows while the overview's lists are missing (loading, or why they failed),
/// wrapped to the panel: never "all clear".
pub(super) fn missing_lines<'a>(
    lists: &crate::stats::overview::Lists,
    why: &str,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let style = if matches!(lists, crate::stats::overview::Lists::Failed(_)) { theme.warn } else { theme.dim };
    wrap(why, width).into_iter().map(|l| Line::from(Span::styled(l, style))).collect()
}

fn draw_gpu(frame: &mut Frame, area: Rect, o: &crate::stats::overview::Overview, theme: &Theme) {
    let width = area.width.saturating_sub(2 + 26) as usize;
    let to_int = |v: &[Option<f64>]| v.iter().map(|x| x.map_or(0, |x| x.round() as u64)).collect::<Vec<u64>>();
    let last = |v: &[Option<f64>]| v.iter().rev().flatten().next().copied();
    let mem = to_int(&o.series.gpu_mem_gib);
    let util = to_int(&o.series.gpu_util_pct);
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<18}", "GPU memory (GiB)"), theme.text),
            Span::styled(sparkline(&mem, width), theme.accent),
            Span::styled(
                format!(" {:>6}", last(&o.series.gpu_mem_gib).map_or("-".into(), |v| format!("{v:.1}"))),
                theme.text,
            ),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<18}", "GPU utilisation %"), theme.text),
            Span::styled(sparkline(&util, width), theme.accent),
            Span::styled(
                format!(" {:>6}", last(&o.series.gpu_util_pct).map_or("-".into(), |v| format!("{v:.0}%"))),
                theme.text,
            ),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines).block(block(" Resources (from the logs) ", area, theme)), area);
}
