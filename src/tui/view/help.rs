//! Help: every key, the health formula and the alert rules in force, wrapped to the overlay's
//! width (the overlay scrolls; only `?`, Esc and `q` close it).

use super::State;
use super::text::wrap;
use crate::tui::keys::KEYS;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

const KEY_COLUMN: usize = 18;

/// The help text as lines of at most `width` columns.
pub fn lines(state: &State, width: usize, key_style: Style) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let describe_width = width.saturating_sub(KEY_COLUMN).max(10);
    for (key, description) in KEYS {
        for (i, part) in wrap(description, describe_width).into_iter().enumerate() {
            let key = if i == 0 { format!("{key:<KEY_COLUMN$}") } else { " ".repeat(KEY_COLUMN) };
            lines.push(Line::from(vec![Span::styled(key, key_style), Span::raw(part)]));
        }
    }
    lines.push(Line::from(Span::styled("Commands (:)", key_style)));
    for (name, description) in crate::tui::command::COMMANDS {
        let (args, what) = description.split_once(": ").unwrap_or(("", description));
        let key = format!(":{name} {args}");
        for (i, part) in wrap(what, describe_width).into_iter().enumerate() {
            let key = if i == 0 { format!("{key:<KEY_COLUMN$}") } else { " ".repeat(KEY_COLUMN) };
            lines.push(Line::from(vec![Span::styled(key, key_style), Span::raw(part)]));
        }
    }
    lines.push(Line::from(Span::styled("Health score", key_style)));
    for part in wrap(&state.health_formula, width) {
        lines.push(Line::from(part));
    }
    lines.push(Line::from(Span::styled("Alert rules in force", key_style)));
    for rule in &state.alert_rules {
        let text = format!("{:<24} {}", rule.name, rule.describe());
        for (i, part) in wrap(&text, width.saturating_sub(2)).into_iter().enumerate() {
            lines.push(Line::from(format!("{}{part}", if i == 0 { "  " } else { "    " })));
        }
    }
    lines
}
