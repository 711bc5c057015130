//! The Alerts screen: every firing of the alert rules in the range, newest first, with its state;
//! Enter shows the selected firing's latest related lines below the list.
//!
//! ```text
//! ┌ Alerts · last 1h · 3 firings, 1 firing now · 3 rules as of 14:59:59 ──────────────┐
//! │  state         severity rule                   value    threshold since    until   │
//! │▶ firing        critical model error burst      14       10        14:21:00 now     │
//! │  resolved      warning  inference latency      3412.5   3000      14:10:00 14:15:00│
//! └────────────────────────────────────────────────────────────────────────────────────┘
//! ┌ model error burst: the 10 latest related lines of 412 · Enter: all of them ─────────┐
//! │ 14:25:01 inference ERROR  error_code=MODEL_INFER_FAIL …                             │
//! └────────────────────────────────────────────────────────────────────────────────────┘
//! ```

use super::{State, Theme, block, draw_no_data, fit, mark};
use crate::alerts::rules::Severity;
use crate::clock::format_clock;
use crate::tui::alerts::{FiringState, LATEST_SHOWN};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(answer) = &state.alerts.answer else {
        let why = match super::no_data(state) {
            Some(why) => why,
            None => "evaluating the alert rules over the range…".into(),
        };
        draw_no_data(frame, area, "Alerts", &why, theme);
        return;
    };
    let range = answer.range.label();
    if let Some(e) = &answer.error {
        let text = format!("the alert rules could not be evaluated over {range}: {e}");
        draw_no_data(frame, area, "Alerts", &text, theme);
        return;
    }
    let Some(at) = answer.at_ms else {
        let text = format!(
            "nothing was loaded: no timed events to evaluate the {} rules over ({range}); t or :last 24h widens the range",
            answer.rules
        );
        draw_no_data(frame, area, "Alerts", &text, theme);
        return;
    };
    if answer.alerts.is_empty() {
        let text = format!(
            "nothing fired in {range}: {} rules evaluated over the data as of {}; t or :last 24h widens the range",
            answer.rules,
            format_clock(at)
        );
        draw_no_data(frame, area, "Alerts", &text, theme);
        return;
    }
    let detail_rows = if state.alerts.expanded { (LATEST_SHOWN as u16 + 2).min(area.height / 2) } else { 0 };
    let [list_area, detail_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(detail_rows)]).areas(area);
    draw_list(frame, list_area, state, at, theme);
    if state.alerts.expanded {
        draw_latest(frame, detail_area, state, theme);
    }
}

fn draw_list(frame: &mut Frame, area: Rect, state: &State, at: i64, theme: &Theme) {
    let Some(answer) = &state.alerts.answer else { return };
    let rows = state.alert_rows();
    let firing_now = answer.firing().count();
    let capped = if answer.capped() {
        format!(" (the newest {} of {}; :range narrows)", answer.alerts.len(), answer.total)
    } else {
        String::new()
    };
    let inner = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(3).max(1) as usize;
    let cursor = state.alerts.cursor.min(rows.len().saturating_sub(1));
    let start = cursor.saturating_sub(height - 1).min(rows.len().saturating_sub(height));
    let title = format!(
        "Alerts · {} · {} firings{capped}, {firing_now} firing now · {} rules as of {} · {}-{}",
        answer.range.label(),
        answer.total,
        answer.rules,
        format_clock(at),
        start + 1,
        (start + height).min(rows.len())
    );
    let rule_width = inner.saturating_sub(2 + 13 + 9 + 1 + 10 + 10 + 9 + 9).clamp(10, 40);
    let mut lines = vec![Line::from(Span::styled(
        fit(
            &format!(
                "  {:<13}{:<9}{:<rule_width$} {:<10}{:<10}{:<9}{:<9}",
                "state", "severity", "rule", "value", "threshold", "since", "until"
            ),
            inner,
        ),
        theme.dim,
    ))];
    for (i, alert) in rows.iter().enumerate().skip(start).take(height) {
        let selected = i == cursor;
        let firing_state = state.firing_state(alert);
        let until = match alert.until_ms {
            Some(t) => format_clock(t),
            None => "now".into(),
        };
        let text = format!(
            "{}{:<13}{:<9}{:<rule_width$} {:<10}{:<10}{:<9}{:<9}",
            mark(selected),
            firing_state.as_str(),
            alert.severity.as_str(),
            fit(&alert.rule, rule_width),
            alert.unit.show(if alert.is_firing() { alert.value } else { alert.peak }),
            alert.unit.show(alert.threshold),
            format_clock(alert.since_ms),
            until
        );
        let mut style = match (firing_state, alert.severity) {
            (FiringState::Firing, Severity::Critical) => theme.critical,
            (FiringState::Firing, _) => theme.warn,
            _ => theme.text,
        };
        if selected {
            style = style.patch(theme.selection).add_modifier(Modifier::BOLD);
        }
        lines.push(Line::from(Span::styled(super::text::pad(&text, inner), style)));
    }
    frame.render_widget(Paragraph::new(lines).block(block(&title, area.width, theme)), area);
}

/// The selected firing's latest related lines (Enter), as the engine answered.
fn draw_latest(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(alert) = state.selected_alert() else { return };
    let at = state.alerts.answer.as_ref().and_then(|a| a.at_ms).unwrap_or(i64::MAX);
    let wanted = crate::tui::alerts::related_query(alert, at, &state.alert_rules);
    let answer = state.lines.answer.as_ref().filter(|l| l.query == wanted);
    let Some(lines) = answer else {
        let title = format!("{}: loading its related lines…", alert.rule);
        frame.render_widget(Paragraph::new("").block(block(&title, area.width, theme)), area);
        return;
    };
    if let Some(e) = &lines.error {
        draw_no_data(frame, area, &alert.rule, &format!("its lines could not be read: {e}"), theme);
        return;
    }
    let total = lines.events.len();
    let rows = area.height.saturating_sub(2) as usize;
    let shown = LATEST_SHOWN.min(rows).min(total);
    let title = if total == 0 {
        format!("{}: no related line in {}", alert.rule, wanted.title)
    } else {
        format!(
            "{}: the {shown} latest related lines of {total}{} · Enter: all of them",
            alert.rule,
            if lines.truncated { " (capped: the first ones)" } else { "" }
        )
    };
    let latest = &lines.events[total - shown..];
    let (text, _) = super::lines::list(latest, usize::MAX, rows, area.width, state.hscroll, None, theme);
    frame.render_widget(Paragraph::new(text).block(block(&title, area.width, theme)), area);
}
