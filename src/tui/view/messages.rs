//! The message log (`m`): the alerts of the window in full, the backend's error if any, and every
//! status message with its time, newest last — so that nothing cut on a line is lost.

use super::State;
use super::text::wrap;
use crate::clock::format_clock;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// The log as lines of at most `width` columns.
pub fn lines(state: &State, width: usize, heading: Style) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    let alerts = state.overview.as_ref().map(|o| o.alerts.as_slice()).unwrap_or_default();
    if !alerts.is_empty() {
        out.push(Line::from(Span::styled(format!("Alerts in this range ({})", state.range_label()), heading)));
        for a in alerts {
            let now = if a.active { " · FIRING at the newest data" } else { "" };
            let text = format!(
                "{}: {}–{}, peak {} (threshold {}){now}",
                a.rule,
                format_clock(a.from),
                format_clock(a.to),
                a.unit.show(a.value),
                a.unit.show(a.threshold)
            );
            push_wrapped(&mut out, &text, width, 2);
        }
    }
    if let Some(error) = &state.backend_error {
        out.push(Line::from(Span::styled("The backend's last error", heading)));
        push_wrapped(&mut out, error, width, 2);
    }
    out.push(Line::from(Span::styled("Messages, newest last (times UTC)", heading)));
    if state.messages.is_empty() {
        push_wrapped(&mut out, "no messages yet", width, 2);
    }
    for m in &state.messages {
        let at = if m.at_ms > 0 { format_clock(m.at_ms) } else { "--:--:--".into() };
        push_wrapped(&mut out, &format!("{at}  {}", m.text), width, 10);
    }
    out
}

/// Wraps `text` to `width`, the lines after the first indented by `indent` columns.
fn push_wrapped(out: &mut Vec<Line<'static>>, text: &str, width: usize, indent: usize) {
    for (i, part) in wrap(text, width.saturating_sub(indent)).into_iter().enumerate() {
        let pad = if i == 0 { String::new() } else { " ".repeat(indent) };
        out.push(Line::from(format!("{pad}{part}")));
    }
}
