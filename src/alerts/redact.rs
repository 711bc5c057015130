//! Strips secrets from log lines before they leave the host in a notification: `password=…`,
//! `token: …`, `api_key=…`, `Authorization: Bearer …`, and credentials in URLs (`user:pass@`).

use regex::Regex;
use std::sync::LazyLock;

/// What stands in for a removed secret.
pub const REDACTED: &str = "«redacted»";

static SECRET_PAIR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b([a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|signature))(\s*[=:]\s*)("[^"]*"|'[^']*'|(?:bearer|basic)\s+\S+|\S+)"#,
    )
    .ok()
});
static BEARER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}").ok());
static URL_CREDENTIALS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@").ok());

/// The line with its secrets replaced by [`REDACTED`].
pub fn redact_line(line: &str) -> String {
    let mut out = line.to_string();
    if let Some(re) = SECRET_PAIR.as_ref() {
        out = re.replace_all(&out, format!("${{1}}${{2}}{REDACTED}")).into_owned();
    }
    if let Some(re) = BEARER.as_ref() {
        out = re.replace_all(&out, format!("${{1}} {REDACTED}")).into_owned();
    }
    if let Some(re) = URL_CREDENTIALS.as_ref() {
        out = re.replace_all(&out, format!("${{1}}{REDACTED}@")).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_removed_and_the_rest_kept() {
        let line = r#"2025-09-01 14:00:00 [ERROR] video_id=vid_1 api_key=sk-live-123 password="p a s s" reason="upload to https://bob:hunter2@s3.example.com/x failed" Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc"#;
        let clean = redact_line(line);
        for secret in ["sk-live-123", "p a s s", "hunter2", "eyJhbGciOiJIUzI1NiJ9"] {
            assert!(!clean.contains(secret), "{secret} left in {clean}");
        }
        assert!(clean.contains("video_id=vid_1"), "{clean}");
        assert!(clean.contains("s3.example.com/x failed"), "{clean}");
        assert_eq!(redact_line("inference_time=3.5s tokens=77"), "inference_time=3.5s tokens=77");
    }
}
