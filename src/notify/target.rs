//! `[[notify]]` entries: the kind of service and where its URL (a secret) comes from.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The services a notification can go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    Slack,
    Dingtalk,
    Wecom,
    Webhook,
}

impl NotifyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Slack => "slack",
            NotifyKind::Dingtalk => "dingtalk",
            NotifyKind::Wecom => "wecom",
            NotifyKind::Webhook => "webhook",
        }
    }
}

/// One notification target. The URL is a secret: from `url_env` or `url_file`, never written here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyTarget {
    pub kind: NotifyKind,
    /// Environment variable holding the webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// File holding the webhook URL (`chmod 600`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<PathBuf>,
    /// DingTalk: the robot's signing secret, from an environment variable or a file (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
    /// Only alerts of this severity or worse are sent (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<crate::alerts::rules::Severity>,
    /// Rejected with a message: a webhook URL is a secret.
    #[serde(default, skip_serializing)]
    pub url: Option<toml::Value>,
}

impl NotifyTarget {
    /// A name for messages and the state file that never contains the URL.
    pub fn label(&self) -> String {
        match (&self.url_env, &self.url_file) {
            (Some(var), _) => format!("{} (${var})", self.kind.as_str()),
            (None, Some(path)) => format!("{} ({})", self.kind.as_str(), crate::text::path_text(path)),
            (None, None) => self.kind.as_str().to_string(),
        }
    }

    /// Checks the entry (when the config is read).
    pub fn check(&self) -> Result<(), String> {
        if self.url.is_some() {
            return Err(format!(
                "[[notify]] {}: `url` is a secret and is not read from the config file; use `url_env = \"VAR\"` \
                 or `url_file = \"PATH\"`",
                self.kind.as_str()
            ));
        }
        if self.url_env.is_some() == self.url_file.is_some() {
            return Err(format!("[[notify]] {}: give exactly one of `url_env` and `url_file`", self.kind.as_str()));
        }
        if (self.secret_env.is_some() || self.secret_file.is_some()) && self.kind != NotifyKind::Dingtalk {
            return Err(format!("[[notify]] {}: `secret_env`/`secret_file` are for dingtalk only", self.kind.as_str()));
        }
        Ok(())
    }

    /// The webhook URL, read now from its variable or file.
    pub fn url(&self) -> Result<String, String> {
        let url = secret_from(self.url_env.as_deref(), self.url_file.as_ref(), &self.label())?
            .ok_or_else(|| format!("{}: no URL configured", self.label()))?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("{}: the URL is not an http(s) URL", self.label()));
        }
        Ok(url)
    }

    /// DingTalk's signing secret, when configured.
    pub fn signing_secret(&self) -> Result<Option<String>, String> {
        secret_from(self.secret_env.as_deref(), self.secret_file.as_ref(), &self.label())
    }
}

fn secret_from(env: Option<&str>, file: Option<&PathBuf>, label: &str) -> Result<Option<String>, String> {
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
            _ => Err(format!("{label}: the environment variable ${var} is not set")),
        };
    }
    if let Some(path) = file {
        return match std::fs::read_to_string(path) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
            Ok(_) => Err(format!("{label}: {} is empty", crate::text::path_text(path))),
            Err(e) => Err(format!("{label}: cannot read {}: {e}", crate::text::path_text(path))),
        };
    }
    Ok(None)
}
