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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Offset of timestamps that carry no zone, e.g. `+08:00` (default UTC).
    pub timezone: String,
    /// Length of a statistics bucket (`1m`); windows and alerts are counted in whole buckets.
    pub bucket: String,
    /// Longest line kept whole; longer lines are truncated with a marker.
    pub max_line_bytes: usize,
    /// How far past now an event's time may lie (`1d`) before it is suspect: counted, kept, but
    /// out of every window. Times before 1990 are always suspect.
    pub future_tolerance: String,
    /// Extra rule files, read after the built-in rules and `rules.toml` in the config directory.
    pub rule_files: Vec<PathBuf>,
    pub components: ComponentConfig,
    pub health: HealthConfig,
    /// Alert rules; the seed's three by default.
    #[serde(rename = "alert")]
    pub alerts: Vec<AlertRule>,
    pub links: Links,
    /// `auto`, `osc52`, `system` or `none`.
    pub clipboard: String,
    /// Theme name (`dark`, `light`, `high-contrast`, `solarized`) or a path to a theme file.
    pub theme: String,
    pub elastic: ElasticConfig,
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
            timezone: "+00:00".into(),
            bucket: "1m".into(),
            max_line_bytes: crate::pipeline::DEFAULT_MAX_LINE,
            future_tolerance: "1d".into(),
            rule_files: Vec::new(),
            components: ComponentConfig::default(),
            health: HealthConfig::default(),
            alerts: alerts::default_rules(),
            links: Links::default(),
            clipboard: "auto".into(),
            theme: "dark".into(),
            elastic: ElasticConfig::default(),
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
            message: e.to_string().trim_end().replace('\n', " | "),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_string(), message };
        if self.offset_seconds().is_none() {
            return Err(invalid(format!("timezone `{}` is not an offset like +08:00 or -05:00", self.timezone)));
        }
        if self.bucket_ms().is_none() {
            return Err(invalid(format!("bucket `{}` is not a duration like 1m or 30s (at least 1s)", self.bucket)));
        }
        if self.max_line_bytes < 1024 {
            return Err(invalid("max_line_bytes must be at least 1024".into()));
        }
        if self.future_tolerance_ms().is_none() {
            return Err(invalid(format!(
                "future_tolerance `{}` is not a duration like 1d or 6h (at most 100 years)",
                self.future_tolerance
            )));
        }
        for rule in &self.alerts {
            if alerts::parse_window(&rule.window).is_none() {
                return Err(invalid(format!(
                    "alert `{}`: window `{}` is not a duration like 5m",
                    rule.name, rule.window
                )));
            }
        }
        if !matches!(self.clipboard.as_str(), "auto" | "osc52" | "system" | "none") {
            return Err(invalid(format!("clipboard `{}` must be auto, osc52, system or none", self.clipboard)));
        }
        for (name, cluster) in &self.elastic.clusters {
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
        set(&mut self.timezone, &o.timezone);
        set(&mut self.links.kibana_url, &o.kibana_url);
        set(&mut self.links.data_view, &o.data_view);
        set(&mut self.links.retry_url, &o.retry_url);
        self.validate("command line / environment")
    }

    /// Seconds east of UTC for zone-less timestamps.
    pub fn offset_seconds(&self) -> Option<i64> {
        let s = self.timezone.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Some(0);
        }
        let sign = match s.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = s[1..].split_once(':').unwrap_or((&s[1..], "0"));
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
    }

    /// How far past now a time may lie before it is suspect, in milliseconds.
    pub fn future_tolerance_ms(&self) -> Option<i64> {
        alerts::parse_window(&self.future_tolerance).filter(|ms| *ms <= 100 * 366 * 86_400_000)
    }

    /// The plausible range of event times at `now_ms` (`None`: the system clock, read as lines
    /// are read).
    pub fn time_limits(&self, now_ms: Option<i64>) -> crate::parse::time::TimeLimits {
        crate::parse::time::TimeLimits {
            now_ms,
            future_tolerance_ms: self.future_tolerance_ms().unwrap_or(crate::parse::time::DEFAULT_FUTURE_TOLERANCE_MS),
            floor_ms: crate::parse::time::FLOOR_MS,
        }
    }

    pub fn bucket_ms(&self) -> Option<i64> {
        alerts::parse_window(&self.bucket).filter(|ms| *ms >= 1000)
    }

    /// The rule base: built-in rules, then `rules.toml` in the config directory, then `rule_files`.
    pub fn enricher(&self) -> Result<Enricher, ConfigError> {
        let mut all = rules::parse_rules(rules::BUILTIN_RULES, "assets/rules.toml (built in)")?;
        let mut files: Vec<PathBuf> =
            config_dir().map(|d| d.join("rules.toml")).filter(|p| p.exists()).into_iter().collect();
        files.extend(self.rule_files.iter().cloned());
        for file in files {
            all = rules::merge_rules(all, rules::load_rules_file(&file)?);
        }
        Ok(Enricher::new(ComponentTable::new(&self.components), all))
    }
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
        let mut c = Config { timezone: "+08:00".into(), ..Config::default() };
        assert_eq!(c.offset_seconds(), Some(8 * 3600));
        c.timezone = "-05:30".into();
        assert_eq!(c.offset_seconds(), Some(-(5 * 3600 + 1800)));
    }
}
