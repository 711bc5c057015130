//! The labelling form (`L` on an unknown template), drawn over the screen: the template, one row
//! per field with the one being edited marked, and why the last save failed.
//!
//! ```text
//! ┌ Label: E_VOCODER_NAN: vocoder produced NaN at frame <N> ─────────┐
//! │▶ id          learned-e-vocoder-nan▏                              │
//! │  error_code  E_VOCODER_NAN                                        │
//! │  …                                                                │
//! │Enter saves to ~/.config/foley-triage/rules.toml · Esc cancels     │
//! └───────────────────────────────────────────────────────────────────┘
//! ```

use super::text::{fit, pad};
use super::{State, Theme, mark};
use crate::tui::label::{FIELDS, RuleForm};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, form: &RuleForm, theme: &Theme) {
    let width = area.width.saturating_sub(4).clamp(20, 110);
    let height = (FIELDS.len() as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width: width.min(area.width),
        height,
    };
    let inner = popup.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for (i, (name, value)) in FIELDS.iter().zip(&form.values).enumerate() {
        let editing = i == form.at;
        let style = if editing { theme.selection } else { theme.text };
        let cursor = if editing { "▏" } else { "" };
        // the end of a long value shows while it is typed
        let room = inner.saturating_sub(14 + 1);
        let chars: Vec<char> = value.chars().collect();
        let shown: String =
            if editing && chars.len() > room { chars[chars.len() - room..].iter().collect() } else { fit(value, room) };
        lines.push(Line::from(vec![
            Span::styled(format!("{}{name:<12}", mark(editing)), theme.dim),
            Span::styled(pad(&format!("{shown}{cursor}"), inner.saturating_sub(14)), style),
        ]));
    }
    let path = state.rule_file.as_deref().map(crate::text::path_text).unwrap_or_else(|| "(no config directory)".into());
    let foot = match (&form.error, form.saving) {
        (_, true) => Line::from(Span::styled("saving and applying…", theme.dim)),
        (Some(e), _) => Line::from(Span::styled(fit(e, inner), theme.critical)),
        (None, _) => Line::from(Span::styled(fit(&format!("Enter saves to {path} · Esc cancels"), inner), theme.dim)),
    };
    lines.push(Line::from(""));
    lines.push(foot);
    let title = format!(" Label: {} ", fit(&form.template, inner.saturating_sub(10)));
    let block =
        Block::default().borders(Borders::ALL).border_style(theme.accent).title(Span::styled(title, theme.accent));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
