//! One line whole (`v`), as an overlay: every field in a table, then the line itself wrapped, a
//! JSON line pretty-printed, a joined traceback as the lines it was. All text was made
//! terminal-safe where it entered; what is re-formatted here (JSON) is sanitised again.
//!
//! ```text
//! ┌ Line · Y copy · v Esc close ─────────────────────────────────────────┐
//! │time        2025-09-01T14:21:02.120Z                                  │
//! │level       ERROR          source inference   component model_infer… │
//! │file        /logs/inference.log:18234                                 │
//! │video_id    vid_7a3b9c                                                │
//! │fields      duration=120s · gpu=0                                     │
//! │── the line ───────────────────────────────────────────────────────── │
//! │{                                                                     │
//! │  "level": "error",                                                   │
//! ```

use super::text::wrap;
use crate::event::OwnedEvent;
use crate::tui::state::State;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

const LABEL: usize = 12;

/// The overlay's lines at `width` (`emphasis` for the labels).
pub fn lines(state: &State, width: usize, emphasis: Style) -> Vec<Line<'static>> {
    let Some(e) = &state.detail else {
        return vec![Line::from("no line selected")];
    };
    let mut out = Vec::new();
    // the label column fits the longest field name (a space after it), within reason
    let longest = e.fields.iter().map(|(k, _)| super::text::width(k) + 3).max().unwrap_or(0);
    let column = longest.clamp(LABEL, 24);
    let mut field = |label: &str, value: String| {
        for (i, part) in wrap(&value, width.saturating_sub(column).max(8)).into_iter().enumerate() {
            let head = if i == 0 { format!("{:<column$}", super::fit(label, column - 1)) } else { " ".repeat(column) };
            out.push(Line::from(vec![Span::styled(head, emphasis), Span::raw(part)]));
        }
    };
    field("time", e.ts_ms.map(crate::clock::format_ms).unwrap_or_else(|| "(no time)".into()));
    field("level", format!("{}   source {}   component {}", e.level.as_str(), e.source.as_str(), e.component));
    let file = crate::tui::lines::file_of(state, e).unwrap_or_else(|| format!("input #{}", e.origin.file));
    field("file", format!("{file}:{}", e.origin.offset));
    for (label, value) in
        [("video_id", &e.video_id), ("request_id", &e.request_id), ("error_code", &e.error_code), ("rule", &e.rule)]
    {
        if let Some(v) = value {
            field(label, v.clone());
        }
    }
    if let Some(ms) = e.latency_ms {
        field("latency", format!("{ms:.0} ms"));
    }
    for (key, value) in &e.fields {
        field(&format!("· {key}"), value.clone());
    }
    if !e.message.is_empty() && e.message != e.raw {
        field("message", e.message.clone());
    }
    out.push(Line::from(Span::styled(format!("── the line {}", "─".repeat(width.saturating_sub(12))), emphasis)));
    for text in body(e) {
        for part in wrap(&text, width.max(8)) {
            out.push(Line::from(part));
        }
    }
    out
}

/// The line as it reads best: JSON pretty-printed (the whole line, or from its first `{`), a
/// joined traceback split back into its lines, else the line.
pub fn body(e: &OwnedEvent) -> Vec<String> {
    let raw = e.raw.as_str();
    let start = raw.find('{');
    if let Some(start) = start
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(raw[start..].trim_end())
        && value.is_object()
        && let Ok(pretty) = serde_json::to_string_pretty(&value)
    {
        let mut out: Vec<String> = Vec::new();
        if start > 0 {
            out.push(raw[..start].trim_end().to_string());
        }
        out.extend(pretty.lines().map(|l| crate::text::sanitize_owned(l, 4096)));
        return out;
    }
    crate::tui::actions::original_lines(e).lines().map(|l| crate::text::sanitize_owned(l, 4096)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(raw: &str, source: crate::event::Source) -> OwnedEvent {
        OwnedEvent {
            ts_ms: Some(0),
            level: crate::event::Level::Error,
            source,
            parsed: true,
            component: "c".into(),
            video_id: None,
            request_id: None,
            error_code: None,
            message: String::new(),
            latency_ms: None,
            fields: Vec::new(),
            raw: raw.into(),
            origin: crate::event::Origin { file: 0, offset: 0 },
            rule: None,
        }
    }

    #[test]
    fn json_is_pretty_printed_and_a_traceback_gets_its_lines() {
        let e = event("{\"level\":\"error\",\"msg\":\"a\\u001b[31m\"}", crate::event::Source::Scheduler);
        let pretty = body(&e);
        assert_eq!(pretty.first().map(String::as_str), Some("{"));
        assert!(pretty.iter().any(|l| l.contains("\"level\": \"error\"")), "{pretty:?}");
        assert!(pretty.iter().all(|l| !l.chars().any(crate::text::is_unsafe_char)), "{pretty:?}");
        let e = event(
            "[x] ERROR in app: failed\\nTraceback (most recent call last):\\n  File \"a.py\", line 1\\nValueError: bad",
            crate::event::Source::Flask,
        );
        assert_eq!(body(&e).len(), 4, "{:?}", body(&e));
    }
}
