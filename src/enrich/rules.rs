//! The rule base: error code → category, severity, likely cause and suggested fix, plus keyword
//! rules (component/source + a pattern) for records without a known code. Loaded from TOML — the
//! built-in `assets/rules.toml`, then the user's files, whose rules override built-ins with the
//! same `id` — and validated with messages that name the file, the line and the problem.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One rule as written in TOML.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    /// Exact error code this rule explains.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Restricts a keyword rule to one component.
    #[serde(default)]
    pub component: Option<String>,
    /// Restricts a keyword rule to one source (`inference`, `ffmpeg`, `nginx`, `flask`, `scheduler`).
    #[serde(default)]
    pub source: Option<String>,
    /// Case-insensitive regular expression over the message (and exception type).
    #[serde(default)]
    pub pattern: Option<String>,
    pub category: String,
    pub severity: Severity,
    pub cause: String,
    pub fix: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A rule ready to match.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    pub pattern: Option<Regex>,
    /// Where it was defined, for messages (`rules.toml:12`).
    pub origin: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}:{line}: rule `{id}`: {message}")]
    Invalid { path: String, line: usize, id: String, message: String },
}

/// Parses and validates the text of one rule file.
pub fn parse_rules(text: &str, path: &str) -> Result<Vec<Rule>, RuleError> {
    let path = crate::text::sanitize(path).into_owned();
    let path = path.as_str();
    // the parser's own message: line, column, the line and a caret under the problem
    let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Syntax {
        path: path.to_string(),
        message: format!("\n{}", crate::text::sanitize_lines(&crate::config::redact_secrets(e.to_string().trim_end()))),
    })?;
    let mut rules = Vec::with_capacity(file.rule.len());
    for mut spec in file.rule {
        // rule texts reach the terminal from `rules`, the report and the console: made safe once, here
        for text in [&mut spec.id, &mut spec.category, &mut spec.cause, &mut spec.fix] {
            *text = crate::text::sanitize_owned(text, 2000);
        }
        for text in [&mut spec.error_code, &mut spec.component, &mut spec.source].into_iter().flatten() {
            *text = crate::text::sanitize_owned(text, 256);
        }
        let line = line_of_id(text, &spec.id);
        let invalid =
            |message: String| RuleError::Invalid { path: path.to_string(), line, id: spec.id.clone(), message };
        if spec.id.trim().is_empty() {
            return Err(invalid("`id` is empty".into()));
        }
        if spec.error_code.is_none() && spec.pattern.is_none() {
            return Err(invalid("needs an `error_code`, a `pattern`, or both".into()));
        }
        if let Some(source) = &spec.source
            && crate::event::Source::parse(source).is_none()
        {
            return Err(invalid(format!(
                "unknown source `{source}`; use one of inference, ffmpeg, nginx, flask, scheduler"
            )));
        }
        let pattern = match &spec.pattern {
            Some(p) => Some(
                Regex::new(&format!("(?i){p}"))
                    .map_err(|e| invalid(format!("`pattern` is not a valid regular expression: {e}")))?,
            ),
            None => None,
        };
        rules.push(Rule { origin: format!("{path}:{line}"), spec, pattern });
    }
    Ok(rules)
}

fn line_of_id(text: &str, id: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim();
            l.starts_with("id") && l.contains(&format!("\"{id}\""))
        })
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// Reads a rule file from disk.
pub fn load_rules_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| RuleError::Read { path: path.display().to_string(), source })?;
    parse_rules(&text, &path.display().to_string())
}

/// The built-in rules shipped in `assets/rules.toml`.
pub const BUILTIN_RULES: &str = include_str!("../../assets/rules.toml");

/// Merges `overrides` into `base`: same `id` replaces in place, new rules go first (user rules take
/// precedence over built-in keyword rules).
pub fn merge_rules(base: Vec<Rule>, overrides: Vec<Rule>) -> Vec<Rule> {
    let mut merged = base;
    let mut new_rules = Vec::new();
    for rule in overrides {
        match merged.iter_mut().find(|r| r.spec.id == rule.spec.id) {
            Some(existing) => *existing = rule,
            None => new_rules.push(rule),
        }
    }
    new_rules.extend(merged);
    new_rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let rules = parse_rules(BUILTIN_RULES, "assets/rules.toml").expect("built-in rules are valid");
        assert!(rules.len() >= 15, "seed's three plus at least a dozen");
        for code in ["MODEL_INFER_FAIL", "VIDEO_DECODE_ERR", "AUDIO_DESC_EMPTY"] {
            assert!(rules.iter().any(|r| r.spec.error_code.as_deref() == Some(code)), "{code}");
        }
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let text = "[[rule]]\nid = \"x\"\nerror_code = \"A\"\ncategory = \"c\"\nsevrity = \"high\"\ncause = \"c\"\nfix = \"f\"\n";
        let err = parse_rules(text, "my.toml").expect_err("unknown field").to_string();
        assert!(err.starts_with("my.toml:"), "{err}");
        assert!(err.contains("sevrity"), "{err}");
        assert!(err.contains("line 5"), "{err}");

        let text = "[[rule]]\nid = \"bad\"\npattern = \"(unclosed\"\ncategory = \"c\"\nseverity = \"high\"\ncause = \"c\"\nfix = \"f\"\n";
        let err = parse_rules(text, "my.toml").expect_err("bad regex").to_string();
        assert!(err.starts_with("my.toml:2: rule `bad`"), "{err}");
    }

    #[test]
    fn overrides_replace_by_id() {
        let base = parse_rules(BUILTIN_RULES, "builtin").expect("valid");
        let text = "[[rule]]\nid = \"cuda-oom\"\nerror_code = \"MODEL_INFER_FAIL\"\ncategory = \"CUDA OOM\"\nseverity = \"high\"\ncause = \"ours\"\nfix = \"ours\"\n";
        let user = parse_rules(text, "user").expect("valid");
        let merged = merge_rules(base.clone(), user);
        assert_eq!(merged.len(), base.len());
        let rule = merged.iter().find(|r| r.spec.id == "cuda-oom").expect("present");
        assert_eq!(rule.spec.cause, "ours");
    }
}
