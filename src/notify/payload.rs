//! Each service's message for an alert: Slack blocks, DingTalk and WeCom robot markdown, plain
//! JSON for a webhook. Every text in them is terminal-safe and has had its secrets removed (the
//! related lines on their way in, see [`crate::alerts::collect`]).

use super::target::NotifyKind;
use crate::alerts::eval::Alert;
use crate::clock::format_ms;
use serde_json::{Value, json};

/// Whether a message says a rule started firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// What one message says.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice<'a> {
    pub status: Status,
    pub alert: &'a Alert,
    /// When it resolved (for a resolve message).
    pub resolved_ms: Option<i64>,
    pub kibana: Option<String>,
}

/// WeCom refuses markdown over 4096 bytes; DingTalk and Slack allow more, but a chat message
/// should stay short.
const MAX_MARKDOWN: usize = 3800;

fn title(n: &Notice<'_>) -> String {
    match n.status {
        Status::Firing => format!("FIRING [{}] {}", n.alert.severity.as_str(), n.alert.rule),
        Status::Resolved => format!("RESOLVED {}", n.alert.rule),
    }
}

fn facts(n: &Notice<'_>) -> Vec<(&'static str, String)> {
    let a = n.alert;
    let mut out = vec![
        ("Value", a.unit.show(a.value)),
        ("Threshold", a.unit.show(a.threshold)),
        ("Window", a.window.clone()),
        ("Since", format_ms(a.since_ms)),
    ];
    if let Some(r) = n.resolved_ms {
        out.push(("Resolved", format_ms(r)));
    }
    if !a.filter.is_empty() {
        out.push(("Filter", a.filter.clone()));
    }
    if !a.new_values.is_empty() {
        out.push(("New", a.new_values.join(", ")));
    }
    if !a.top_videos.is_empty() {
        out.push(("Top videos", a.top_videos.iter().map(|(v, c)| format!("{v} ({c})")).collect::<Vec<_>>().join(", ")));
    }
    out
}

fn lines_text(a: &Alert) -> String {
    a.latest_lines.iter().map(|l| l.text.replace("```", "'''")).collect::<Vec<_>>().join("\n")
}

/// Markdown for the chat robots (DingTalk, WeCom).
fn markdown(n: &Notice<'_>) -> String {
    let mut text = format!("### {}\n", title(n));
    for (k, v) in facts(n) {
        text.push_str(&format!("- **{k}**: {v}\n"));
    }
    if let Some(link) = &n.kibana {
        text.push_str(&format!("\n[Open in Kibana]({link})\n"));
    }
    if n.status == Status::Firing && !n.alert.latest_lines.is_empty() {
        let lines = lines_text(n.alert);
        let room = MAX_MARKDOWN.saturating_sub(text.len() + 16);
        let lines = if lines.len() > room {
            let mut cut = room;
            while !lines.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}\n…", &lines[..cut])
        } else {
            lines
        };
        text.push_str(&format!("\n```\n{lines}\n```\n"));
    }
    text
}

/// The request body for a service.
pub fn body(kind: NotifyKind, n: &Notice<'_>) -> Value {
    match kind {
        NotifyKind::Slack => slack(n),
        NotifyKind::Dingtalk => json!({"msgtype": "markdown", "markdown": {"title": title(n), "text": markdown(n)}}),
        NotifyKind::Wecom => json!({"msgtype": "markdown", "markdown": {"content": markdown(n)}}),
        NotifyKind::Webhook => webhook(n),
    }
}

fn slack(n: &Notice<'_>) -> Value {
    let fields: Vec<Value> =
        facts(n).into_iter().map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{k}*\n{v}")})).collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title(n)}}),
        // Slack allows at most 10 fields in a section
        json!({"type": "section", "fields": fields.into_iter().take(10).collect::<Vec<_>>()}),
    ];
    if n.status == Status::Firing && !n.alert.latest_lines.is_empty() {
        let mut lines = lines_text(n.alert);
        if lines.len() > 2900 {
            let mut cut = 2900;
            while !lines.is_char_boundary(cut) {
                cut -= 1;
            }
            lines.truncate(cut);
            lines.push('…');
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("```{lines}```")}}));
    }
    if let Some(link) = &n.kibana {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{link}|Open in Kibana>")}}));
    }
    json!({"text": title(n), "blocks": blocks})
}

fn webhook(n: &Notice<'_>) -> Value {
    let a = n.alert;
    json!({
        "status": n.status.as_str(),
        "rule": a.rule,
        "severity": a.severity.as_str(),
        "value": a.value,
        "peak": a.peak,
        "threshold": a.threshold,
        "window": a.window,
        "filter": a.filter,
        "since": format_ms(a.since_ms),
        "resolved": n.resolved_ms.map(format_ms),
        "new_values": a.new_values,
        "top_videos": a.top_videos.iter().map(|(v, c)| json!({"video_id": v, "events": c})).collect::<Vec<_>>(),
        "latest_lines": a.latest_lines,
        "kibana_url": n.kibana,
    })
}
