//! Sends the messages: one when a rule starts firing (none while it stays firing), one when it
//! resolves, each POSTed with retries and backoff on 5xx, 429 and timeouts. What was sent is kept
//! in a small state file between runs (so `check --notify` from cron does not repeat itself); a
//! delivery that fails is returned as such, never dropped silently, and tried again next run.

use super::payload::{self, Notice, Status};
use super::target::{NotifyKind, NotifyTarget};
use crate::alerts::eval::Alert;
use crate::alerts::rules::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct NotifyOptions {
    /// Attempts after the first.
    pub retries: u32,
    /// The wait before the first retry; doubled each time.
    pub first_backoff: Duration,
    /// One request's time limit.
    pub timeout: Duration,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        NotifyOptions { retries: 3, first_backoff: Duration::from_millis(500), timeout: Duration::from_secs(10) }
    }
}

/// The outcome of one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The target, without its URL.
    pub target: String,
    pub rule: String,
    pub status: &'static str,
    pub attempts: u32,
    /// Why it failed, when it did (never holds the URL).
    pub error: Option<String>,
}

impl Delivery {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// A firing already announced to a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sent {
    since_ms: i64,
    severity: Severity,
    value: f64,
    threshold: f64,
    /// Absent in state files written before units were kept (shown as a count then).
    #[serde(default)]
    unit: crate::alerts::rules::Unit,
    window: String,
    filter: String,
}

/// target label → rule → the firing announced.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SentState {
    targets: BTreeMap<String, BTreeMap<String, Sent>>,
}

fn load_state(path: &Path) -> SentState {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            crate::applog::warn(&format!("{}: unreadable ({e}); starting afresh", crate::text::path_text(path)));
            SentState::default()
        }),
        Err(_) => SentState::default(),
    }
}

fn save_state(path: &Path, state: &SentState) -> Result<(), String> {
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", crate::text::path_text(dir)))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", crate::text::path_text(path)))
}

/// Sends what changed since the last run to every target: new firings, and resolutions of the
/// firings announced before. `alerts` are a check's firings (those still on have no `until_ms`);
/// `at_ms` is the moment of the check.
pub fn notify(
    alerts: &[Alert],
    at_ms: i64,
    targets: &[NotifyTarget],
    links: &crate::config::Links,
    state_path: &Path,
    options: NotifyOptions,
) -> Vec<Delivery> {
    let mut state = load_state(state_path);
    let mut deliveries = Vec::new();
    let sender = match Sender::new(options) {
        Ok(s) => s,
        Err(e) => {
            return targets
                .iter()
                .map(|t| Delivery {
                    target: t.label(),
                    rule: String::new(),
                    status: "firing",
                    attempts: 0,
                    error: Some(e.clone()),
                })
                .collect();
        }
    };
    for target in targets {
        let label = target.label();
        let wanted = |a: &Alert| target.min_severity.is_none_or(|min| a.severity >= min);
        let firing: Vec<&Alert> = alerts.iter().filter(|a| a.is_firing() && wanted(a)).collect();
        let sent = state.targets.entry(label.clone()).or_default();
        let mut messages: Vec<(Status, Alert, Option<i64>)> = Vec::new();
        for alert in &firing {
            if sent.get(&alert.rule).is_none_or(|s| s.since_ms != alert.since_ms) {
                messages.push((Status::Firing, (*alert).clone(), None));
            }
        }
        for (rule, record) in sent.iter() {
            if firing.iter().any(|a| &a.rule == rule) {
                continue;
            }
            // the firing as this run saw it end, else as it was announced
            let ended = alerts.iter().find(|a| &a.rule == rule && a.since_ms == record.since_ms && !a.is_firing());
            let (alert, resolved) = match ended {
                Some(a) => (a.clone(), a.until_ms),
                None => (from_record(rule, record), Some(at_ms)),
            };
            messages.push((Status::Resolved, alert, resolved));
        }
        let url = target.url();
        let secret = target.signing_secret();
        for (status, alert, resolved_ms) in messages {
            let window_ms = crate::alerts::parse_window(&alert.window).unwrap_or(300_000);
            let kibana = crate::integrate::links::kibana_discover(
                links,
                &alert.filter,
                alert.since_ms.saturating_sub(window_ms),
                resolved_ms.unwrap_or(at_ms),
            );
            let notice = Notice { status, alert: &alert, resolved_ms, kibana };
            let body = payload::body(target.kind, &notice);
            let (attempts, error) = match (&url, &secret) {
                (Err(e), _) | (_, Err(e)) => (0, Some(e.clone())),
                (Ok(url), Ok(secret)) => sender.send(target.kind, url, secret.as_deref(), &body),
            };
            if error.is_none() {
                match status {
                    Status::Firing => {
                        sent.insert(alert.rule.clone(), record_of(&alert));
                    }
                    Status::Resolved => {
                        sent.remove(&alert.rule);
                    }
                }
            }
            deliveries.push(Delivery {
                target: label.clone(),
                rule: alert.rule.clone(),
                status: status.as_str(),
                attempts,
                error,
            });
        }
    }
    state.targets.retain(|_, rules| !rules.is_empty());
    if let Err(e) = save_state(state_path, &state) {
        deliveries.push(Delivery {
            target: "state".into(),
            rule: String::new(),
            status: "firing",
            attempts: 0,
            error: Some(format!("what was sent could not be remembered, it may be sent again: {e}")),
        });
    }
    deliveries
}

fn record_of(a: &Alert) -> Sent {
    Sent {
        since_ms: a.since_ms,
        severity: a.severity,
        value: a.value,
        threshold: a.threshold,
        unit: a.unit,
        window: a.window.clone(),
        filter: a.filter.clone(),
    }
}

fn from_record(rule: &str, s: &Sent) -> Alert {
    Alert {
        rule: rule.to_string(),
        severity: s.severity,
        since_ms: s.since_ms,
        until_ms: None,
        value: s.value,
        peak: s.value,
        threshold: s.threshold,
        unit: s.unit,
        window: s.window.clone(),
        filter: s.filter.clone(),
        new_values: Vec::new(),
        latest_lines: Vec::new(),
        top_videos: Vec::new(),
    }
}

/// Posts JSON bodies with retries.
struct Sender {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    options: NotifyOptions,
}

impl Sender {
    fn new(options: NotifyOptions) -> Result<Sender, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        Ok(Sender { http, runtime, options })
    }

    /// Sends one body; returns the attempts made and the error, if it never went through.
    fn send(
        &self,
        kind: NotifyKind,
        url: &str,
        secret: Option<&str>,
        body: &serde_json::Value,
    ) -> (u32, Option<String>) {
        let mut attempts = 0;
        let mut wait = self.options.first_backoff;
        loop {
            attempts += 1;
            let url = match (kind, secret) {
                (NotifyKind::Dingtalk, Some(secret)) => {
                    dingtalk_signed(url, secret, chrono::Utc::now().timestamp_millis())
                }
                _ => url.to_string(),
            };
            let outcome = self.runtime.block_on(async {
                let response =
                    self.http.post(&url).json(body).send().await.map_err(|e| (transient(&e), describe(&e)))?;
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status.is_success() {
                    return robot_error(kind, &text).map_or(Ok(()), |e| Err((false, e)));
                }
                let retry = status.is_server_error() || status.as_u16() == 429;
                Err((retry, format!("HTTP {status}")))
            });
            match outcome {
                Ok(()) => return (attempts, None),
                Err((true, e)) if attempts <= self.options.retries => {
                    crate::applog::warn(&format!("notification attempt {attempts} failed ({e}); retrying"));
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                Err((_, e)) => return (attempts, Some(format!("{e} after {attempts} attempt(s)"))),
            }
        }
    }
}

fn transient(e: &reqwest::Error) -> bool {
    e.is_timeout() || e.is_connect() || e.is_request()
}

/// A transport error without its URL.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        crate::text::sanitize_owned(&text, 300)
    }
}

/// DingTalk and WeCom answer HTTP 200 with `{"errcode": N, "errmsg": …}`; N ≠ 0 is a failure.
fn robot_error(kind: NotifyKind, text: &str) -> Option<String> {
    if !matches!(kind, NotifyKind::Dingtalk | NotifyKind::Wecom) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let code = v.get("errcode")?.as_i64()?;
    (code != 0).then(|| {
        let message = v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
        format!("{} refused the message: errcode {code} {}", kind.as_str(), crate::text::sanitize_owned(message, 200))
    })
}

/// DingTalk's signed URL: `timestamp` and `sign` = base64(HMAC-SHA256(secret, "timestamp\nsecret")).
pub fn dingtalk_signed(url: &str, secret: &str, timestamp_ms: i64) -> String {
    use base64::Engine;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{timestamp_ms}\n{secret}").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(tag.as_ref());
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}timestamp={timestamp_ms}&sign={}", crate::integrate::links::url_encode(&sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dingtalk_signature_matches_the_documented_algorithm() {
        // HMAC-SHA256("SEC1", "1700000000000\nSEC1"), base64, URL-encoded
        let url = dingtalk_signed("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC1", 1_700_000_000_000);
        assert!(url.starts_with("https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign="));
        // the value Python's hmac + base64 + urllib.parse.quote give
        assert!(url.ends_with("&sign=ukR4%2BWoOOBTGaOauYqugxVrMSFyr92q4hPxJxuOkiio%3D"), "{url}");
    }

    #[test]
    fn robot_errors_are_failures() {
        assert!(robot_error(NotifyKind::Dingtalk, r#"{"errcode":310000,"errmsg":"sign not match"}"#).is_some());
        assert!(robot_error(NotifyKind::Wecom, r#"{"errcode":0,"errmsg":"ok"}"#).is_none());
        assert!(robot_error(NotifyKind::Slack, "invalid_payload").is_none());
    }
}
