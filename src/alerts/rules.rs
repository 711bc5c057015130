//! Alert rule files (`[[alert]]` tables in TOML): the seed's three built in
//! (`assets/alerts.toml`), a user's file adding rules or replacing one by `name`; validated into
//! [`Rule`]s with messages that give the file, line and column.

use crate::query::{self, FieldName, Query};
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::Spanned;

/// The built-in rules.
pub const BUILTIN_ALERTS: &str = include_str!("../../assets/alerts.toml");

/// How bad a firing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What a rule measures over its window.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Events matching the filter.
    Count,
    /// Events matching the filter over events matching `over`.
    Ratio { over: Query },
    /// A statistic of a numeric field over the events matching the filter.
    Stat { field: FieldName, stat: Stat },
    /// Values of `field` first seen in the window.
    NewValue { field: FieldName },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Avg,
    Max,
    /// A fraction in 0..=1.
    Percentile(f64),
}

/// The unit of a rule's value and threshold, for showing them (`4.63s`, `44.7%`, `30.0 GiB`);
/// the numbers themselves stay in base units (ms, a fraction, bytes) in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Events or values counted.
    #[default]
    Count,
    /// A fraction in 0..=1, shown as a percentage.
    Ratio,
    /// Milliseconds, shown as seconds (or ms under a second).
    Ms,
    Bytes,
    /// Already a percentage (GPU utilisation).
    Percent,
    /// Any other number (a field of the line, an HTTP status).
    Number,
}

impl Unit {
    /// `v` in this unit, without needless decimals.
    pub fn show(self, v: f64) -> String {
        if !v.is_finite() {
            return v.to_string();
        }
        match self {
            Unit::Ratio => format!("{:.1}%", v * 100.0),
            Unit::Ms if v.abs() >= 1000.0 => format!("{:.2}s", v / 1000.0),
            Unit::Ms => format!("{v:.0}ms"),
            Unit::Bytes => {
                const GIB: f64 = (1u64 << 30) as f64;
                const MIB: f64 = (1u64 << 20) as f64;
                if v.abs() >= GIB { format!("{:.1} GiB", v / GIB) } else { format!("{:.0} MiB", v / MIB) }
            }
            Unit::Percent => format!("{v:.0}%"),
            Unit::Count | Unit::Number => {
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    format!("{v:.0}")
                } else if self == Unit::Count {
                    format!("{v:.1}")
                } else {
                    format!("{v:.3}")
                }
            }
        }
    }
}

/// A validated alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub kind: Kind,
    /// Events the rule looks at (all when `None`).
    pub filter: Option<Query>,
    /// The filter as written, for messages and links.
    pub filter_text: String,
    pub window_ms: i64,
    pub window_text: String,
    /// Fires when the value is strictly above this (in base units: ms, bytes, percent).
    pub threshold: f64,
    pub min_count: u64,
    pub severity: Severity,
    pub for_ms: i64,
    pub cooldown_ms: i64,
    /// Where the rule came from (`FILE:LINE`).
    pub origin: String,
}

impl Rule {
    /// The unit of the rule's value and threshold.
    pub fn unit(&self) -> Unit {
        match &self.kind {
            Kind::Count | Kind::NewValue { .. } => Unit::Count,
            Kind::Ratio { .. } => Unit::Ratio,
            Kind::Stat { field, .. } => match field {
                FieldName::Latency => Unit::Ms,
                FieldName::GpuMem => Unit::Bytes,
                FieldName::GpuUtil => Unit::Percent,
                _ => Unit::Number,
            },
        }
    }

    /// One line saying what the rule measures and when it fires (help, the Alerts screen).
    pub fn describe(&self) -> String {
        let filter = if self.filter_text.is_empty() { "every event".to_string() } else { self.filter_text.clone() };
        let what = match &self.kind {
            Kind::Count => format!("count of {filter}"),
            Kind::Ratio { over } => format!("ratio of {filter} over {over}"),
            Kind::Stat { field, stat } => {
                let stat = match stat {
                    Stat::Avg => "avg".to_string(),
                    Stat::Max => "max".to_string(),
                    Stat::Percentile(q) => format!("p{}", (q * 100.0).round()),
                };
                format!("{stat} of {} where {filter}", field.document_field())
            }
            Kind::NewValue { field } => format!("new {} in {filter}", field.document_field()),
        };
        let held = if self.for_ms > 0 {
            format!(", for {}", crate::backend::range::duration_text(self.for_ms))
        } else {
            String::new()
        };
        format!(
            "{what} over {} > {} [{}]{held}",
            self.window_text,
            self.unit().show(self.threshold),
            self.severity.as_str()
        )
    }
}

/// A mistake in an alert rule file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct AlertRuleError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl AlertRuleError {
    fn describe(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.path, self.message)
        } else {
            format!("{}:{}:{}: {}", self.path, self.line, self.column, self.message)
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    alert: Vec<Spanned<RuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    filter: Option<Spanned<String>>,
    #[serde(default)]
    over: Option<Spanned<String>>,
    #[serde(default)]
    field: Option<Spanned<String>>,
    #[serde(default)]
    percentile: Option<Spanned<f64>>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    threshold: Option<Spanned<toml::Value>>,
    #[serde(default)]
    min_count: u64,
    #[serde(default)]
    severity: Severity,
    #[serde(default, rename = "for")]
    for_: Option<Spanned<String>>,
    #[serde(default)]
    cooldown: Option<Spanned<String>>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// Parses and validates one alert rule file. Returns the rules and the names turned off
/// (`enabled = false`).
pub fn parse_alert_rules(text: &str, path: &str) -> Result<(Vec<Rule>, Vec<String>), AlertRuleError> {
    let path = crate::text::sanitize(path).into_owned();
    let at = |offset: usize, message: String| {
        let (line, column) = query::parse::line_column(text, offset);
        AlertRuleError { path: path.clone(), line, column, message: crate::text::sanitize_lines(&message) }
    };
    let file: RuleFile =
        toml::from_str(text).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().trim_end().to_string()))?;
    let mut rules = Vec::new();
    let mut disabled = Vec::new();
    for spanned in file.alert {
        let start = spanned.span().start;
        let spec = spanned.into_inner();
        let name = crate::text::sanitize_owned(spec.name.trim(), 200);
        if name.is_empty() {
            return Err(at(start, "an alert rule needs a `name`".into()));
        }
        if rules.iter().any(|r: &Rule| r.name == name) || disabled.contains(&name) {
            return Err(at(start, format!("a second rule named `{name}` in the same file; names must differ")));
        }
        if !spec.enabled {
            disabled.push(name);
            continue;
        }
        let origin = {
            let (line, _) = query::parse::line_column(text, start);
            format!("{path}:{line}")
        };
        rules.push(validate(spec, name, origin, start).map_err(|(offset, m)| at(offset, m))?);
    }
    Ok((rules, disabled))
}

type Invalid = (usize, String);

fn validate(spec: RuleSpec, name: String, origin: String, start: usize) -> Result<Rule, Invalid> {
    let filter_of = |s: &Spanned<String>, key: &str| -> Result<Query, Invalid> {
        query::parse(s.get_ref()).map_err(|e| {
            // the filter's own line and column, inside the string (after its opening quote)
            let offset = s.span().start + 1 + e.offset;
            (offset, format!("rule `{name}`: `{key}`: {}", e.message))
        })
    };
    let duration = |s: &Option<Spanned<String>>, key: &str, default: i64| -> Result<i64, Invalid> {
        match s {
            None => Ok(default),
            Some(s) if s.get_ref().trim() == "0" => Ok(0),
            Some(s) => super::parse_window(s.get_ref()).ok_or_else(|| {
                (
                    s.span().start,
                    format!("rule `{name}`: `{key}` = \"{}\" is not a duration like 90s, 5m or 1h", s.get_ref()),
                )
            }),
        }
    };
    let window_ms = duration(&spec.window, "window", 300_000)?;
    let window_text = spec.window.as_ref().map_or_else(|| "5m".to_string(), |w| w.get_ref().trim().to_string());
    let for_ms = duration(&spec.for_, "for", 0)?;
    let cooldown_ms = duration(&spec.cooldown, "cooldown", 0)?;
    let filter = spec.filter.as_ref().map(|f| filter_of(f, "filter")).transpose()?;
    let filter_text = spec.filter.as_ref().map(|f| f.get_ref().clone()).unwrap_or_default();
    let kind_text = spec.kind.as_ref().map(|k| k.get_ref().as_str()).unwrap_or("count");
    let kind_at = spec.kind.as_ref().map_or(start, |k| k.span().start);
    let needs_field = |what: &str| -> Result<FieldName, Invalid> {
        match &spec.field {
            Some(f) => Ok(FieldName::from_name(f.get_ref().trim())),
            None => Err((
                kind_at,
                format!("rule `{name}`: kind \"{what}\" needs a `field` (e.g. field = \"inference_time\")"),
            )),
        }
    };
    let kind = match kind_text {
        "count" => Kind::Count,
        "ratio" => match &spec.over {
            Some(over) => Kind::Ratio { over: filter_of(over, "over")? },
            None => {
                return Err((
                    kind_at,
                    format!(
                        "rule `{name}`: kind \"ratio\" needs `over`, the filter of the denominator (e.g. over = \"job:true\")"
                    ),
                ));
            }
        },
        "avg" => Kind::Stat { field: needs_field("avg")?, stat: Stat::Avg },
        "max" => Kind::Stat { field: needs_field("max")?, stat: Stat::Max },
        "percentile" => {
            let q = spec.percentile.as_ref().ok_or_else(|| {
                (kind_at, format!("rule `{name}`: kind \"percentile\" needs `percentile` (e.g. percentile = 95)"))
            })?;
            if !(0.0..=100.0).contains(q.get_ref()) {
                return Err((q.span().start, format!("rule `{name}`: `percentile` must be from 0 to 100")));
            }
            Kind::Stat { field: needs_field("percentile")?, stat: Stat::Percentile(q.get_ref() / 100.0) }
        }
        "new_value" => Kind::NewValue {
            field: spec.field.as_ref().map_or(FieldName::ErrorCode, |f| FieldName::from_name(f.get_ref().trim())),
        },
        other => {
            return Err((
                kind_at,
                format!("rule `{name}`: unknown kind \"{other}\"; use count, ratio, avg, max, percentile or new_value"),
            ));
        }
    };
    let threshold = match &spec.threshold {
        Some(t) => threshold_of(t).map_err(|m| (t.span().start, format!("rule `{name}`: `threshold`: {m}")))?,
        None if matches!(kind, Kind::NewValue { .. }) => 0.0,
        None => return Err((start, format!("rule `{name}`: `threshold` is missing"))),
    };
    if spec.over.is_some() && !matches!(kind, Kind::Ratio { .. }) {
        let over_at = spec.over.as_ref().map_or(0, |o| o.span().start);
        return Err((over_at, format!("rule `{name}`: `over` only goes with kind \"ratio\"")));
    }
    Ok(Rule {
        name,
        kind,
        filter,
        filter_text,
        window_ms,
        window_text,
        threshold,
        min_count: spec.min_count,
        severity: spec.severity,
        for_ms,
        cooldown_ms,
        origin,
    })
}

fn threshold_of(value: &Spanned<toml::Value>) -> Result<f64, String> {
    let v = match value.get_ref() {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        toml::Value::String(s) => match query::Number::parse(s) {
            Some(n) => n.value,
            None => return Err(format!("\"{s}\" is not a number with a unit (3s, 30GiB, 90%, 0.05)")),
        },
        _ => return Err("must be a number, or a string with a unit (\"3s\")".into()),
    };
    if v.is_finite() { Ok(v) } else { Err("must be a finite number".into()) }
}

/// The rules in force: the built-in ones, then each file's in order, a later rule replacing an
/// earlier one of the same name.
pub fn merge(layers: Vec<(Vec<Rule>, Vec<String>)>) -> Vec<Rule> {
    let mut all: Vec<Rule> = Vec::new();
    for (rules, disabled) in layers {
        all.retain(|r| !disabled.contains(&r.name));
        for rule in rules {
            match all.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = rule,
                None => all.push(rule),
            }
        }
    }
    all
}

/// The built-in rules.
pub fn builtin() -> Vec<Rule> {
    parse_alert_rules(BUILTIN_ALERTS, "assets/alerts.toml (built in)").map(|(r, _)| r).unwrap_or_default()
}

/// Reads one alert rule file from disk.
pub fn load_file(path: &Path) -> Result<(Vec<Rule>, Vec<String>), AlertRuleError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AlertRuleError {
        path: crate::text::sanitize(&name).into_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse_alert_rules(&text, &name)
}

/// The rules in force: built in, then `alerts.toml` in the config directory (when present), then
/// `extra` (`--rules FILE`).
pub fn load(extra: Option<&Path>) -> Result<Vec<Rule>, AlertRuleError> {
    load_over(extra, Vec::new())
}

/// [`load`] with `config` (the config file's old `[[alert]]` tables, converted) between the
/// built-in rules and the rule files.
pub fn load_over(extra: Option<&Path>, config: Vec<Rule>) -> Result<Vec<Rule>, AlertRuleError> {
    let mut layers = vec![(builtin(), Vec::new()), (config, Vec::new())];
    if let Some(user) = crate::config::config_dir().map(|d| d.join("alerts.toml")).filter(|p| p.exists()) {
        layers.push(load_file(&user)?);
    }
    if let Some(path) = extra {
        layers.push(load_file(path)?);
    }
    Ok(merge(layers))
}

/// The config file's `[[alert]]` tables (the old form: `metric = "count" | "share" |
/// "avg_latency"`) as alert rules, and a note that says what to write instead.
pub fn from_config(old: &[super::AlertRule]) -> Result<(Vec<Rule>, String), String> {
    use super::AlertMetric;
    let mut text = String::new();
    for rule in old {
        let name = toml::Value::String(rule.name.clone());
        let codes = toml::Value::String(format!("error_code:{}", rule.codes.as_deref().unwrap_or("*")));
        text.push_str(&format!("[[alert]]\nname = {name}\nwindow = {}\n", toml::Value::String(rule.window.clone())));
        text.push_str(&format!("threshold = {}\nmin_count = {}\n", rule.threshold, rule.min_count));
        match rule.metric {
            AlertMetric::Count => text.push_str(&format!("kind = \"count\"\nfilter = {codes}\n")),
            AlertMetric::Share => text.push_str(&format!("kind = \"ratio\"\nfilter = {codes}\nover = \"job:true\"\n")),
            AlertMetric::AvgLatency => {
                let component = toml::Value::String(format!(
                    "component:{}",
                    rule.component.as_deref().unwrap_or("model_inference")
                ));
                text.push_str(&format!("kind = \"avg\"\nfield = \"inference_time\"\nfilter = {component}\n"))
            }
        }
        text.push('\n');
    }
    let (rules, _) = parse_alert_rules(&text, "config.toml [[alert]]").map_err(|e| e.to_string())?;
    let names: Vec<&str> = old.iter().map(|r| r.name.as_str()).collect();
    let note = format!(
        "config.toml: [[alert]] ({}) is the old form, applied as alert rules; move them to alerts.toml in the \
         config directory (kind = \"count\" | \"ratio\" | \"avg\", filter = \"error_code:…\"; see assets/alerts.toml)",
        names.join(", ")
    );
    Ok((rules, note))
}

/// True when a TOML text holds alert rules (`[[alert]]` tables): how `rules --check` tells an
/// alert rule file from a rule base file.
pub fn holds_alert_rules(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("alert") && !t.contains_key("rule"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_are_the_seeds_three_and_new_templates() {
        let (rules, _) = parse_alert_rules(BUILTIN_ALERTS, "built in").expect("built-in rules parse");
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["model error burst", "video decode failures", "inference latency", "new error templates"]);
        assert!(matches!(rules[3].kind, Kind::NewValue { field: FieldName::Template }));
        assert_eq!((rules[3].threshold, rules[3].window_ms), (2.0, 600_000));
        assert_eq!(rules[2].threshold, 3000.0, "3s in milliseconds");
        assert!(matches!(rules[1].kind, Kind::Ratio { .. }));
        assert_eq!(rules[0].window_ms, 300_000);
    }

    #[test]
    fn user_rules_add_replace_and_disable_by_name() {
        let user = r#"
[[alert]]
name = "model error burst"
filter = "error_code:MODEL_*"
threshold = 3
for = "2m"
cooldown = "10m"

[[alert]]
name = "inference latency"
enabled = false

[[alert]]
name = "p95 latency"
kind = "percentile"
percentile = 95
field = "inference_time"
threshold = "5s"
"#;
        let merged = merge(vec![(builtin(), vec![]), parse_alert_rules(user, "user.toml").expect("valid")]);
        let names: Vec<&str> = merged.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["model error burst", "video decode failures", "new error templates", "p95 latency"]);
        assert_eq!((merged[0].threshold, merged[0].for_ms, merged[0].cooldown_ms), (3.0, 120_000, 600_000));
        assert!(matches!(merged[3].kind, Kind::Stat { stat: Stat::Percentile(q), .. } if (q - 0.95).abs() < 1e-9));
    }

    #[test]
    fn values_are_shown_in_their_rules_units() {
        let (rules, _) = parse_alert_rules(BUILTIN_ALERTS, "built in").expect("built-in rules parse");
        let unit = |name: &str| rules.iter().find(|r| r.name == name).unwrap().unit();
        assert_eq!(unit("model error burst").show(245.0), "245");
        assert_eq!(unit("video decode failures").show(0.447), "44.7%");
        assert_eq!(unit("inference latency").show(4630.358), "4.63s");
        assert_eq!(unit("inference latency").show(850.0), "850ms");
        assert_eq!(unit("new error templates").show(3.0), "3");
        let gpu = "[[alert]]\nname = \"gpu\"\nkind = \"max\"\nfield = \"gpu_mem\"\nthreshold = \"30GiB\"\n";
        let (gpu, _) = parse_alert_rules(gpu, "gpu.toml").expect("valid");
        assert_eq!(gpu[0].unit(), Unit::Bytes);
        assert_eq!(gpu[0].unit().show(gpu[0].threshold), "30.0 GiB");
        assert!(gpu[0].describe().contains("> 30.0 GiB"), "{}", gpu[0].describe());
    }

    #[test]
    fn mistakes_give_file_line_and_column() {
        let bad_filter = "[[alert]]\nname = \"x\"\nthreshold = 1\nfilter = \"level:ERROR and (code:X\"\n";
        let e = parse_alert_rules(bad_filter, "a.toml").unwrap_err();
        assert_eq!((e.line, e.column), (4, 27), "{e}");
        assert!(e.to_string().starts_with("a.toml:4:27: rule `x`: `filter`:"), "{e}");
        let unknown_key = "[[alert]]\nname = \"x\"\nthreshold = 1\nsevrity = \"critical\"\n";
        let e = parse_alert_rules(unknown_key, "a.toml").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("sevrity"), "{e}");
        let bad_kind = "[[alert]]\nname = \"x\"\nkind = \"sum\"\nthreshold = 1\n";
        let e = parse_alert_rules(bad_kind, "a.toml").unwrap_err();
        assert_eq!((e.line, e.column), (3, 8), "{e}");
        let bad_window = "[[alert]]\nname = \"x\"\nwindow = \"soon\"\nthreshold = 1\n";
        assert_eq!(parse_alert_rules(bad_window, "a.toml").unwrap_err().line, 3);
        let bad_threshold = "[[alert]]\nname = \"x\"\nthreshold = \"fast\"\n";
        assert_eq!(parse_alert_rules(bad_threshold, "a.toml").unwrap_err().line, 3);
        let twice = "[[alert]]\nname = \"x\"\nthreshold = 1\n\n[[alert]]\nname = \"x\"\nthreshold = 2\n";
        let e = parse_alert_rules(twice, "a.toml").unwrap_err();
        assert!(e.line == 5 && e.message.contains("second rule named `x`"), "{e}");
        let e = load_file(Path::new("/nonexistent/alerts.toml")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/alerts.toml: cannot read"), "{e}");
        let ratio_without_over = "[[alert]]\nname = \"x\"\nkind = \"ratio\"\nthreshold = 1\n";
        assert!(parse_alert_rules(ratio_without_over, "a.toml").unwrap_err().message.contains("needs `over`"));
        assert!(holds_alert_rules(BUILTIN_ALERTS));
        assert!(!holds_alert_rules(crate::enrich::rules::BUILTIN_RULES));
    }
}
