//! Configuration: one struct with serde defaults, layered default < file < environment < flags,
//! validated with messages that name the file and the problem. `config init` writes the commented
//! example from `assets/config.example.toml`, which a test keeps in step with the defaults.

use crate::alerts::{self, AlertRule};
use crate::enrich::component::{ComponentConfig, ComponentTable};
use crate::enrich::{Enricher, rules};
use crate::stats::health::HealthConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Links {
    /// Retry link template; `{video_id}`, `{request_id}` and `{time}` are filled in (URL-encoded).
    pub retry_url: String,
    /// Kibana base URL (`https://kibana.example.com`); empty disables Kibana links.
    pub kibana_url: String,
    /// Kibana data view id (not the index pattern).
    pub data_view: String,
}

impl Default for Links {
    fn default() -> Self {
        Links {
            retry_url: "https://foley-debug.internal/jobs/{video_id}/retry?request_id={request_id}".into(),
            kibana_url: "http://localhost:5601".into(),
            data_view: "hunyuan-foley".into(),
        }
    }
}

/// The offset of timestamps that carry no zone (`+08:00`, `-05:30`, `UTC`), checked when the
/// config is read: a bad value is a config error naming the key, never a silent fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone {
    seconds: i64,
}

impl Timezone {
    pub const UTC: Timezone = Timezone { seconds: 0 };

    /// Seconds east of UTC.
    pub fn offset_seconds(self) -> i64 {
        self.seconds
    }
}

impl TryFrom<String> for Timezone {
    type Error = String;
    fn try_from(s: String) -> Result<Timezone, String> {
        s.parse()
    }
}

impl std::str::FromStr for Timezone {
    type Err = String;
    fn from_str(text: &str) -> Result<Timezone, String> {
        let bad = || format!("`{text}` is not an offset like +08:00 or -05:30 (at most ±14:00), or UTC");
        let s = text.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Timezone::UTC);
        }
        let sign = match s.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(bad()),
        };
        let (h, m) = s[1..].split_once(':').unwrap_or((&s[1..], "0"));
        let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(0..=14).contains(&h) || !(0..=59).contains(&m) || (h == 14 && m > 0) {
            return Err(bad());
        }
        Ok(Timezone { seconds: sign * (h * 3600 + m * 60) })
    }
}

impl From<Timezone> for String {
    fn from(t: Timezone) -> String {
        let sign = if t.seconds < 0 { '-' } else { '+' };
        let abs = t.seconds.abs();
        format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    }
}

/// The length of a statistics bucket (`1m`, `30s`; at least a second, at most a day), checked
/// when the config is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BucketLength {
    ms: i64,
}

impl BucketLength {
    pub const MINUTE: BucketLength = BucketLength { ms: 60_000 };

    pub fn ms(self) -> i64 {
        self.ms
    }
}

impl TryFrom<String> for BucketLength {
    type Error = String;
    fn try_from(s: String) -> Result<BucketLength, String> {
        match alerts::parse_window(&s) {
            Some(ms) if (1000..=86_400_000).contains(&ms) => Ok(BucketLength { ms }),
            _ => Err(format!("`{s}` is not a duration like 1m or 30s (from 1s to 1d)")),
        }
    }
}

impl From<BucketLength> for String {
    fn from(b: BucketLength) -> String {
        match b.ms {
            ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
            ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
            ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
            ms => format!("{ms}ms"),
        }
    }
}

/// How far past now an event's time may lie before it is suspect (`1d`, `6h`; at most 100 years),
/// checked when the config is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tolerance {
    ms: i64,
}

impl Tolerance {
    pub const DAY: Tolerance = Tolerance { ms: 86_400_000 };

    pub fn ms(self) -> i64 {
        self.ms
    }
}

impl TryFrom<String> for Tolerance {
    type Error = String;
    fn try_from(s: String) -> Result<Tolerance, String> {
        match alerts::parse_window(&s) {
            Some(ms) if (0..=100 * 366 * 86_400_000).contains(&ms) => Ok(Tolerance { ms }),
            _ => Err(format!("`{s}` is not a duration like 1d or 6h (at most 100 years)")),
        }
    }
}

impl From<Tolerance> for String {
    fn from(t: Tolerance) -> String {
        String::from(BucketLength { ms: t.ms })
    }
}

/// The longest line kept whole (bytes): from 1 KiB to 1 GiB.
pub const MAX_LINE_RANGE: std::ops::RangeInclusive<usize> = 1024..=(1 << 30);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Offset of timestamps that carry no zone, e.g. `+08:00` (default UTC).
    pub timezone: Timezone,
    /// Length of a statistics bucket (`1m`); windows and alerts are counted in whole buckets.
    pub bucket: BucketLength,
    /// Longest line kept whole; longer lines are truncated with a marker.
    pub max_line_bytes: usize,
    /// How far past now an event's time may lie (`1d`) before it is suspect: counted, kept, but
    /// out of every window. Times before 1990 are always suspect.
    pub future_tolerance: Tolerance,
    /// Extra rule files, read after the built-in rules and `rules.toml` in the config directory.
    pub rule_files: Vec<PathBuf>,
    pub components: ComponentConfig,
    pub health: HealthConfig,
    /// Alert rules in the old form (`metric = "count"`…); none by default. Converted and applied
    /// with a note; the rules live in alerts.toml ([`crate::alerts::rules`]).
    #[serde(rename = "alert")]
    pub alerts: Vec<AlertRule>,
    pub links: Links,
    /// `auto`, `osc52`, `system` or `none`.
    pub clipboard: String,
    /// Theme name (`dark`, `light`, `high-contrast`, `solarized`) or a path to a theme file.
    pub theme: String,
    /// Seconds either side of a line that the drill-down's context (`x`) shows.
    pub context_seconds: u32,
    /// The Patterns screen flags a template first seen within this many minutes of the newest
    /// data as new.
    pub new_pattern_minutes: u32,
    pub elastic: ElasticConfig,
    /// Where `check --notify` sends alerts (`[[notify]]`: kind, and `url_env` or `url_file`).
    pub notify: Vec<crate::notify::NotifyTarget>,
    /// What the console does when a rule starts firing (`[alerts]`).
    #[serde(rename = "alerts")]
    pub alerting: AlertingConfig,
}

/// `[alerts]`: the console's bell and notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AlertingConfig {
    /// Ring the terminal bell (BEL) when a rule starts firing.
    pub bell: bool,
    /// The console sends to the `[[notify]]` targets when a rule starts firing or resolves.
    pub notify_from_console: bool,
}

/// Cluster settings that are not secrets (those come from the environment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ElasticConfig {
    /// Our field name → the index's, for indices filled by another pipeline
    /// (e.g. `latency_ms = "inference_ms"`). `.keyword` sub-fields are found by themselves.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Named clusters, opened with `--cluster NAME`.
    pub clusters: std::collections::BTreeMap<String, ClusterConfig>,
}

/// A named cluster: where it is and how to authenticate, never the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    pub urls: Vec<String>,
    pub cloud_id: Option<String>,
    pub index: Option<String>,
    /// File holding an API key (`chmod 600`).
    pub key_file: Option<PathBuf>,
    /// Ask for the secret on the terminal: `api-key`, `token` or `password`.
    pub prompt: Option<crate::cli::PromptFor>,
    /// User name for basic authentication (the password comes from the environment or the prompt).
    pub user: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    pub timeout_secs: Option<u64>,
    /// Kibana for this cluster's deep links.
    pub kibana_url: Option<String>,
    /// Rejected with a message: secrets do not belong in the config file.
    #[serde(skip_serializing)]
    pub password: Option<toml::Value>,
    #[serde(skip_serializing)]
    pub api_key: Option<toml::Value>,
    #[serde(skip_serializing)]
    pub token: Option<toml::Value>,
}

impl ElasticConfig {
    /// The cluster options: the named cluster's settings under what the command line gave.
    pub fn resolve(&self, args: &crate::cli::EsArgs) -> Result<crate::cli::EsArgs, String> {
        let Some(name) = args.cluster.as_deref() else { return Ok(args.clone()) };
        let Some(c) = self.clusters.get(name) else {
            let known: Vec<&str> = self.clusters.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!("no cluster `{name}` in the config: the config names no clusters ([elastic.clusters.NAME])")
            } else {
                format!("no cluster `{name}` in the config (it names: {})", known.join(", "))
            });
        };
        let mut out = args.clone();
        if out.es.is_empty() && out.cloud_id.is_none() {
            out.es = c.urls.clone();
            out.cloud_id = c.cloud_id.clone();
        }
        out.index = out.index.or_else(|| c.index.clone());
        out.es_key_file = out.es_key_file.or_else(|| c.key_file.clone());
        out.es_prompt = out.es_prompt.or(c.prompt);
        out.es_user = out.es_user.or_else(|| c.user.clone());
        out.ca_file = out.ca_file.or_else(|| c.ca_file.clone());
        out.insecure |= c.insecure;
        if let Some(t) = c.timeout_secs
            && args.es_timeout == crate::cli::DEFAULT_ES_TIMEOUT
        {
            out.es_timeout = t;
        }
        if out.es.is_empty() && out.cloud_id.is_none() {
            return Err(format!("cluster `{name}` in the config has neither `urls` nor `cloud_id`"));
        }
        Ok(out)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timezone: Timezone::UTC,
            bucket: BucketLength::MINUTE,
            max_line_bytes: crate::pipeline::DEFAULT_MAX_LINE,
            future_tolerance: Tolerance::DAY,
            rule_files: Vec::new(),
            components: ComponentConfig::default(),
            health: HealthConfig::default(),
            alerts: Vec::new(),
            links: Links::default(),
            clipboard: "auto".into(),
            theme: "dark".into(),
            context_seconds: 30,
            new_pattern_minutes: 15,
            elastic: ElasticConfig::default(),
            notify: Vec::new(),
            alerting: AlertingConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config {path}: {message}")]
    Invalid { path: String, message: String },
    #[error(transparent)]
    Rules(#[from] rules::RuleError),
}

/// The directory holding `config.toml` and `rules.toml`, when the platform has one.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "foley-triage").map(|d| d.config_dir().to_path_buf())
}

/// The directory for the app's own log and state.
pub fn state_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "foley-triage")
        .map(|d| d.state_dir().unwrap_or(d.cache_dir()).to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("foley-triage"))
}

impl Config {
    /// Loads the config: `explicit` if given (it must exist), else `$FOLEY_TRIAGE_CONFIG`, else
    /// `config.toml` in the config directory if present, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let env_path = std::env::var_os("FOLEY_TRIAGE_CONFIG").map(PathBuf::from);
        let path = explicit
            .map(Path::to_path_buf)
            .or(env_path)
            .or_else(|| config_dir().map(|d| d.join("config.toml")).filter(|p| p.exists()));
        let Some(path) = path else { return Ok((Config::default(), None)) };
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let config = Config::parse(&text, &path.display().to_string())?;
        Ok((config, Some(path)))
    }

    pub fn parse(text: &str, path: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_string(),
            message: format!("\n{}", crate::text::sanitize_lines(&redact_secrets(e.to_string().trim_end()))),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_string(), message };
        if !MAX_LINE_RANGE.contains(&self.max_line_bytes) {
            return Err(invalid(format!(
                "max_line_bytes = {} is out of range: from {} (1 KiB) to {} (1 GiB)",
                self.max_line_bytes,
                MAX_LINE_RANGE.start(),
                MAX_LINE_RANGE.end()
            )));
        }
        if let Err(message) = self.health.check() {
            return Err(invalid(format!("[health] {message}")));
        }
        for rule in &self.alerts {
            if alerts::parse_window(&rule.window).is_none() {
                return Err(invalid(format!(
                    "alert `{}`: window `{}` is not a duration like 5m",
                    rule.name, rule.window
                )));
            }
            if !rule.threshold.is_finite() || rule.threshold < 0.0 {
                return Err(invalid(format!(
                    "alert `{}`: threshold {} must be a finite number, 0 or more",
                    rule.name, rule.threshold
                )));
            }
        }
        if !matches!(self.clipboard.as_str(), "auto" | "osc52" | "system" | "none") {
            return Err(invalid(format!("clipboard `{}` must be auto, osc52, system or none", self.clipboard)));
        }
        for target in &self.notify {
            target.check().map_err(&invalid)?;
        }
        let refuse = crate::elastic::secrets::refuse_credentials;
        refuse("links.kibana_url", &self.links.kibana_url).map_err(&invalid)?;
        for (name, cluster) in &self.elastic.clusters {
            for url in &cluster.urls {
                refuse(&format!("cluster `{name}`: url"), url).map_err(&invalid)?;
            }
            if let Some(url) = &cluster.kibana_url {
                refuse(&format!("cluster `{name}`: kibana_url"), url).map_err(&invalid)?;
            }
            for (key, value) in
                [("password", &cluster.password), ("api_key", &cluster.api_key), ("token", &cluster.token)]
            {
                if value.is_some() {
                    return Err(invalid(format!(
                        "cluster `{name}`: `{key}` is a secret and is not read from the config file; use {}, \
                         `key_file` or `prompt`",
                        crate::elastic::AUTH_ENV
                    )));
                }
            }
        }
        Ok(())
    }

    /// Applies command-line / environment overrides, then validates the result.
    pub fn apply(&mut self, o: &crate::cli::Overrides) -> Result<(), ConfigError> {
        let set = |slot: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                *slot = v.clone();
            }
        };
        set(&mut self.theme, &o.theme);
        set(&mut self.clipboard, &o.clipboard);
        if let Some(zone) = &o.timezone {
            self.timezone = zone.parse().map_err(|message: String| ConfigError::Invalid {
                path: "command line / environment".into(),
                message: format!("--timezone {message}"),
            })?;
        }
        set(&mut self.links.kibana_url, &o.kibana_url);
        set(&mut self.links.data_view, &o.data_view);
        set(&mut self.links.retry_url, &o.retry_url);
        self.validate("command line / environment")
    }

    /// Seconds east of UTC for zone-less timestamps.
    pub fn offset_seconds(&self) -> i64 {
        self.timezone.offset_seconds()
    }

    pub fn bucket_ms(&self) -> i64 {
        self.bucket.ms()
    }

    /// How lines are read and counted, from these settings (everything; `window` narrows it; the
    /// times of events are judged against the system clock as lines are read).
    pub fn ingest(&self) -> crate::pipeline::IngestSettings {
        crate::pipeline::IngestSettings {
            options: crate::pipeline::PipelineOptions {
                max_line: self.max_line_bytes,
                window: crate::stats::overview::Window::ALL,
                default_offset: self.offset_seconds(),
                times: self.time_limits(None),
            },
            bucket_ms: self.bucket_ms(),
        }
    }

    /// The plausible range of event times at `now_ms` (`None`: the system clock, read as lines
    /// are read).
    pub fn time_limits(&self, now_ms: Option<i64>) -> crate::parse::time::TimeLimits {
        crate::parse::time::TimeLimits {
            now_ms,
            future_tolerance_ms: self.future_tolerance.ms(),
            floor_ms: crate::parse::time::FLOOR_MS,
        }
    }

    /// The user's rule files, in the order they apply: `rules.toml` in the config directory (which
    /// may not exist yet), then `rule_files`.
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = config_dir().map(|d| d.join("rules.toml")).into_iter().collect();
        files.extend(self.rule_files.iter().cloned());
        files
    }

    /// The rule base: built-in rules, then `rules.toml` in the config directory, then `rule_files`.
    pub fn enricher(&self) -> Result<Enricher, ConfigError> {
        let mut all = rules::parse_rules(rules::BUILTIN_RULES, "assets/rules.toml (built in)")?;
        for file in self.rule_paths().into_iter().filter(|p| p.exists()) {
            all = rules::merge_rules(all, rules::load_rules_file(&file)?);
        }
        Ok(Enricher::new(ComponentTable::new(&self.components), all))
    }
}

/// Keys whose values are secrets wherever they appear in a config or rule file.
fn looks_secret(key: &str) -> bool {
    let key = key.trim().trim_matches('"').to_ascii_lowercase();
    ["password", "passwd", "secret", "token", "api_key", "apikey", "credential", "private_key"]
        .iter()
        .any(|s| key.contains(s))
        || key == "key"
        || key.ends_with("_key") && key != "key_file"
}

/// A parser's message with the values of secret-looking keys in its quoted source lines replaced,
/// so that an error never prints a secret (`api_key = "…"` on the offending line).
pub fn redact_secrets(message: &str) -> String {
    message
        .lines()
        .map(|line| {
            // the quoted source lines look like `12 | key = value`
            let Some((gutter, code)) = line.split_once('|') else { return line.to_string() };
            if !gutter.trim().chars().all(|c| c.is_ascii_digit()) {
                return line.to_string();
            }
            match code.split_once('=') {
                Some((key, _)) if looks_secret(key) => format!("{gutter}|{key}= «redacted»"),
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The commented example config shipped with the tool.
pub const EXAMPLE: &str = include_str!("../assets/config.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_equals_defaults() {
        let parsed = Config::parse(EXAMPLE, "assets/config.example.toml").expect("example parses");
        assert_eq!(parsed, Config::default(), "assets/config.example.toml drifted from Config::default()");
    }

    #[test]
    fn invalid_configs_say_what_is_wrong() {
        let err = Config::parse("timezon = \"+08:00\"", "c.toml").expect_err("typo").to_string();
        assert!(err.contains("c.toml") && err.contains("timezon"), "{err}");
        let err = Config::parse("timezone = \"Mars\"", "c.toml").expect_err("bad zone").to_string();
        assert!(err.contains("not an offset"), "{err}");
        let err = Config::parse("bucket = \"0s\"", "c.toml").expect_err("bad bucket").to_string();
        assert!(err.contains("bucket"), "{err}");
    }

    #[test]
    fn offsets() {
        let zone = |s: &str| s.parse::<Timezone>().map(Timezone::offset_seconds);
        assert_eq!(zone("+08:00"), Ok(8 * 3600));
        assert_eq!(zone("-05:30"), Ok(-(5 * 3600 + 1800)));
        assert_eq!(zone("UTC"), Ok(0));
        assert_eq!(zone("+14:00"), Ok(14 * 3600));
        for bad in ["+14:30", "+99:00", "+9999", "Mars", "", "+08:60"] {
            assert!(zone(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(String::from("-05:30".parse::<Timezone>().unwrap()), "-05:30");
    }

    #[test]
    fn numbers_out_of_range_are_config_errors_not_panics() {
        let err = Config::parse("max_line_bytes = 4611686018427387904", "c.toml").expect_err("2^62").to_string();
        assert!(err.contains("max_line_bytes") && err.contains("out of range"), "{err}");
        let err = Config::parse("max_line_bytes = 10", "c.toml").expect_err("too small").to_string();
        assert!(err.contains("max_line_bytes"), "{err}");
        let err = Config::parse("bucket = \"400d\"", "c.toml").expect_err("huge bucket").to_string();
        assert!(err.contains("bucket"), "{err}");
    }

    #[test]
    fn a_parse_error_keeps_its_lines_and_hides_secrets() {
        let text = "[elastic.clusters.prod]\nurls = [\"http://x\"]\napi_key = \"s3cr3t-value\" oops\n";
        let err = Config::parse(text, "c.toml").expect_err("syntax").to_string();
        assert!(!err.contains("s3cr3t-value"), "the secret was printed: {err}");
        assert!(err.contains("line 3") || err.contains("3 |"), "the line is named: {err}");
        assert!(err.contains('^'), "a caret points at the column: {err}");
        assert!(err.lines().count() > 2, "the message keeps its lines: {err}");
    }
}
