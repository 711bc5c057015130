//! Help: every key, the health formula and the alert rules in force (an overlay; any key closes).

use super::{State, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub const KEYS: [(&str, &str); 22] = [
    ("Tab / 1-4", "switch screen: overview, drill-down, tail, codes"),
    ("j k ↓ ↑", "move / scroll"),
    ("g G", "top / bottom (G returns the tail to live)"),
    ("PgUp PgDn ^u ^d", "page"),
    ("Enter", "drill down on the selected video (or list a code's videos)"),
    ("Esc", "back"),
    ("t", "cycle the window: 5m 15m 1h 24h all"),
    ("/", "search the tail; n / N next / previous match"),
    ("Space", "tail: pause / follow (shows lines waiting)"),
    ("l", "tail: minimum level (all, INFO, WARN, ERROR)"),
    ("c", "tail: component filter · drill-down: copy Markdown incident summary"),
    ("e", "tail: errors only · drill-down: export the video's log bundle"),
    ("y", "copy the retry link (OSC 52 over SSH)"),
    ("o", "open the Kibana deep link (over SSH: shown and copied)"),
    ("F2", "mouse capture on/off (off keeps text selectable)"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
    ("", ""),
    ("health", "see the formula below"),
    ("windows", "relative to the newest event, not the wall clock"),
    ("lag", "header: how far the newest event is behind now"),
    ("themes", "dark, light, high-contrast, solarized; NO_COLOR honoured"),
];

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let width = area.width.saturating_sub(8).min(110);
    let height = area.height.saturating_sub(2);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + 1, width, height };
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, v)| {
            Line::from(vec![Span::styled(format!("{k:<18}"), theme.accent), Span::styled(v.to_string(), theme.text)])
        })
        .collect();
    lines.push(Line::from(Span::styled("Health score", theme.accent)));
    lines.push(Line::from(Span::styled(state.health_formula.clone(), theme.text)));
    lines.push(Line::from(Span::styled("Alert rules in force", theme.accent)));
    for rule in &state.alert_rules {
        let what = match rule.metric {
            crate::alerts::AlertMetric::Count => format!("count of {} errors", rule.codes.as_deref().unwrap_or("*")),
            crate::alerts::AlertMetric::Share => {
                format!("share of jobs failing with {}", rule.codes.as_deref().unwrap_or("*"))
            }
            crate::alerts::AlertMetric::AvgLatency => {
                format!("average latency of {} (ms)", rule.component.as_deref().unwrap_or("model_inference"))
            }
        };
        lines.push(Line::from(Span::styled(
            format!("  {:<24} {what} over {} > {}", rule.name, rule.window, rule.threshold),
            theme.text,
        )));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).border_style(theme.accent).title(" Help · any key closes ")),
        popup,
    );
}
