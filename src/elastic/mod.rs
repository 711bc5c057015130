//! Elasticsearch and OpenSearch: connecting (URLs or an Elastic Cloud id, auth from the
//! environment or a key file — never from argv), a thin client with retries, the document schema
//! that `ship` writes, and the aggregation queries that answer the screens' questions.

pub mod client;
pub mod derive;
pub mod fields;
pub mod ingest;
pub mod lifecycle;
pub mod overview;
pub mod patterns;
pub mod queries;
pub mod schema;
pub mod secrets;
pub mod setup;

use secrecy::SecretString;
use std::path::PathBuf;

/// How to authenticate. Secrets live in [`SecretString`]s and are never printed.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        user: String,
        password: SecretString,
    },
    ApiKey(SecretString),
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "none",
            Auth::Basic { .. } => "basic (user and password)",
            Auth::ApiKey(_) => "API key",
            Auth::Bearer(_) => "bearer token",
        })
    }
}

/// Everything needed to reach a cluster.
#[derive(Debug, Clone)]
pub struct EsOptions {
    pub urls: Vec<String>,
    pub index: String,
    pub auth: Auth,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    pub timeout: std::time::Duration,
    /// Kibana URL derived from an Elastic Cloud id, when one was given.
    pub kibana_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EsError {
    #[error("{url}: authentication failed (HTTP {status}) using {auth:?}; check the credential in {hint}")]
    Auth { url: String, status: u16, auth: Auth, hint: String },
    #[error("{url}: no index matches `{index}` (HTTP 404); check --index or ship logs first")]
    NoIndex { url: String, index: String },
    #[error("{url}: no index matches `{index}` ({found}); check --index, or ship logs first")]
    NoMatch { url: String, index: String, found: String },
    #[error("{url}: the server rejected the query (HTTP 400): {reason}")]
    BadQuery { url: String, reason: String },
    #[error("{url}: still failing after {tries} tries (HTTP {status}: {reason}); the cluster is overloaded or down")]
    Unavailable { url: String, status: u16, tries: usize, reason: String },
    #[error("{url}: no answer within {secs} s (timed out); a large index may need a longer --es-timeout SECONDS")]
    Timeout { url: String, secs: u64 },
    /// The node could not be reached: `reason` is the root cause in a few words ("connection
    /// refused"); `detail` the whole error chain, for the app's log and `--verbose`.
    #[error("cannot reach {url}: {reason}")]
    Connect { url: String, reason: String, detail: String },
    #[error("{url}: HTTP {status}: {reason}")]
    Http { url: String, status: u16, reason: String },
    #[error("{0}")]
    Config(String),
    #[error("cancelled: the view changed before the answer came")]
    Cancelled,
}

impl EsError {
    /// The error chain behind the message, when there is more to it than the message says.
    pub fn detail(&self) -> Option<&str> {
        match self {
            EsError::Connect { detail, .. } => Some(detail),
            _ => None,
        }
    }
}

/// The index pattern read when none is given.
pub const DEFAULT_INDEX: &str = "hunyuan-foley-*";

macro_rules! auth_env {
    () => {
        "FOLEY_TRIAGE_ES_API_KEY / FOLEY_TRIAGE_ES_USER + FOLEY_TRIAGE_ES_PASSWORD / FOLEY_TRIAGE_ES_TOKEN"
    };
}

/// The environment variables a secret is read from, for messages.
pub const AUTH_ENV: &str = auth_env!();

/// Where the secret came from, for messages.
pub const AUTH_HINT: &str = concat!(auth_env!(), " or the key file");

/// A non-empty environment variable.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Reads a secret from a key file; warns (on stderr) when others can read it.
pub fn read_key_file(path: &std::path::Path) -> Result<SecretString, EsError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| EsError::Config(format!("key file {}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        eprintln!("foley-triage: warning: key file {} is readable by group or others; chmod 600 it", path.display());
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| EsError::Config(format!("key file {}: {e}", path.display())))?;
    Ok(SecretString::from(text.trim().to_string()))
}

/// Auth from the environment: API key, then bearer token, then user + password; or a key file
/// (its contents are an API key).
pub fn auth_from_env(key_file: Option<&std::path::Path>) -> Result<Auth, EsError> {
    if let Some(path) = key_file {
        return Ok(Auth::ApiKey(read_key_file(path)?));
    }
    if let Some(key) = env_value("FOLEY_TRIAGE_ES_API_KEY") {
        return Ok(Auth::ApiKey(SecretString::from(key)));
    }
    if let Some(token) = env_value("FOLEY_TRIAGE_ES_TOKEN") {
        return Ok(Auth::Bearer(SecretString::from(token)));
    }
    if let (Some(user), Some(password)) = (env_value("FOLEY_TRIAGE_ES_USER"), env_value("FOLEY_TRIAGE_ES_PASSWORD")) {
        return Ok(Auth::Basic { user, password: SecretString::from(password) });
    }
    Ok(Auth::None)
}

/// Asks for the secret on the terminal (`/dev/tty`, without echo), for `--es-prompt`.
pub fn auth_from_prompt(what: crate::cli::PromptFor, user: Option<&str>, url: &str) -> Result<Auth, EsError> {
    use crate::cli::PromptFor;
    let ask = |label: &str| -> Result<String, EsError> {
        let answer = rpassword::prompt_password(format!("{label} for {url}: ")).map_err(|e| {
            EsError::Config(format!(
                "cannot ask for the {label} on a terminal ({e}); set it in the environment instead"
            ))
        })?;
        let answer = answer.trim().to_string();
        if answer.is_empty() {
            return Err(EsError::Config(format!("no {label} given")));
        }
        Ok(answer)
    };
    Ok(match what {
        PromptFor::ApiKey => Auth::ApiKey(SecretString::from(ask("API key")?)),
        PromptFor::Token => Auth::Bearer(SecretString::from(ask("bearer token")?)),
        PromptFor::Password => {
            let user = match user.map(str::to_string).or_else(|| env_value("FOLEY_TRIAGE_ES_USER")) {
                Some(u) => u,
                None => {
                    let mut tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|e| {
                        EsError::Config(format!(
                            "cannot ask for the user name on a terminal ({e}); set FOLEY_TRIAGE_ES_USER"
                        ))
                    })?;
                    use std::io::{BufRead, Write};
                    let _ = write!(tty, "user for {url}: ").and_then(|_| tty.flush());
                    let mut line = String::new();
                    std::io::BufReader::new(tty).read_line(&mut line).map_err(|e| EsError::Config(e.to_string()))?;
                    line.trim().to_string()
                }
            };
            Auth::Basic { password: SecretString::from(ask(&format!("password of {user}"))?), user }
        }
    })
}

/// Decodes an Elastic Cloud id (`name:base64(host$es_id$kibana_id)`) into the Elasticsearch and
/// Kibana URLs.
pub fn decode_cloud_id(cloud_id: &str) -> Result<(String, Option<String>), EsError> {
    use base64::Engine;
    let bad = || EsError::Config(format!("`{cloud_id}` is not an Elastic Cloud id (name:base64)"));
    let encoded = cloud_id.split_once(':').map_or(cloud_id, |(_, e)| e);
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let mut parts = text.split('$');
    let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    let es = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    let (host, port) = host.split_once(':').unwrap_or((host, "443"));
    let kibana = parts.next().filter(|k| !k.is_empty()).map(|k| format!("https://{k}.{host}:{port}"));
    Ok((format!("https://{es}.{host}:{port}"), kibana))
}

/// The connection settings from the command line and environment.
pub fn options_from_args(args: &crate::cli::EsArgs) -> Result<EsOptions, EsError> {
    let mut urls: Vec<String> =
        args.es.iter().map(|u| u.trim().trim_end_matches('/').to_string()).filter(|u| !u.is_empty()).collect();
    let mut kibana_url = None;
    if let Some(id) = &args.cloud_id {
        let (es, kibana) = decode_cloud_id(id)?;
        urls.push(es);
        kibana_url = kibana;
    }
    // before anything names a URL (the prompt does)
    secrets::check_urls(&urls)?;
    let auth = match args.es_prompt {
        Some(what) => auth_from_prompt(what, args.es_user.as_deref(), urls.first().map_or("the cluster", |u| u))?,
        None => match (auth_from_env(args.es_key_file.as_deref())?, &args.es_user) {
            // a user named in the config, with the password from the environment
            (Auth::None, Some(user)) => match env_value("FOLEY_TRIAGE_ES_PASSWORD") {
                Some(password) => Auth::Basic { user: user.clone(), password: SecretString::from(password) },
                None => Auth::None,
            },
            (auth, _) => auth,
        },
    };
    Ok(EsOptions {
        urls,
        index: args.index.clone().unwrap_or_else(|| DEFAULT_INDEX.to_string()),
        auth,
        ca_file: args.ca_file.clone(),
        insecure: args.insecure,
        timeout: std::time::Duration::from_secs(args.es_timeout.max(1)),
        kibana_url,
    })
}

/// Connects for writing (`ship`, `es init`): builds the client, detects the product with `GET /`,
/// and learns the index's field names; an index pattern that matches nothing yet is fine.
pub fn connect(args: &crate::cli::EsArgs) -> Result<client::EsClient, EsError> {
    open(args, &std::collections::BTreeMap::new(), false)
}

/// Connects for reading (the report, the console): as [`connect`], with renames from the config,
/// and an index pattern that matches no index is an error naming the indices that come close.
pub fn connect_with_fields(
    args: &crate::cli::EsArgs,
    renames: &std::collections::BTreeMap<String, String>,
) -> Result<client::EsClient, EsError> {
    open(args, renames, true)
}

fn open(
    args: &crate::cli::EsArgs,
    renames: &std::collections::BTreeMap<String, String>,
    must_match: bool,
) -> Result<client::EsClient, EsError> {
    let mut client = client::EsClient::new(options_from_args(args)?)?;
    client.connect()?;
    // the field names: a preset given or detected, under the config's own renames
    let preset = match args.fields.as_deref() {
        Some(name) => derive::Preset::parse(name).ok_or_else(|| {
            EsError::Config(format!("--fields `{name}`: use ecs (Filebeat), logstash, seed or ours (ship)"))
        })?,
        None => {
            client.field_caps(&derive::DETECT_FIELDS).map(|caps| derive::detect(&caps)).unwrap_or(derive::Preset::Ours)
        }
    };
    let mut renames_in_use = preset.renames();
    renames_in_use.extend(renames.iter().map(|(a, b)| (a.clone(), b.clone())));
    client.preset = preset;
    let mut fields = fields::FieldMap::new(&renames_in_use);
    let wanted = fields.caps_fields();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    if let Ok(caps) = client.field_caps(&wanted) {
        // a pattern that matches no index reads as an empty cluster: say so, with the names
        // that come close
        if must_match && caps["indices"].as_array().is_some_and(Vec::is_empty) {
            return Err(no_match(&client));
        }
        fields.learn(&caps);
    }
    client.fields = fields;
    Ok(client)
}

/// The error for an index pattern that matches nothing, listing the indices with similar names.
fn no_match(client: &client::EsClient) -> EsError {
    let pattern = &client.options.index;
    let names: Vec<String> = client
        .get("/_cat/indices?format=json&h=index")
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["index"].as_str())
        .filter(|n| !n.starts_with('.'))
        .map(|n| crate::text::sanitize_owned(n, 120))
        .collect();
    let similar = similar_indices(pattern, &names);
    let found = match (names.len(), similar.len()) {
        (0, _) => "the cluster has no indices".to_string(),
        (n, 0) => format!("none of the cluster's {n} indices has a similar name"),
        (_, k) => {
            let shown: Vec<&str> = similar.iter().take(5).map(String::as_str).collect();
            let more = if k > 5 { format!(" and {} more", k - 5) } else { String::new() };
            format!("similar names: {}{more}", shown.join(", "))
        }
    };
    EsError::NoMatch { url: client.options.urls[0].clone(), index: pattern.clone(), found }
}

/// Index names close to a pattern: its literal part (without wildcards) within a few edits of the
/// start of the name, or the name holding it.
pub fn similar_indices(pattern: &str, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for part in pattern.split(',').map(str::trim) {
        let literal: String = part.chars().filter(|c| !matches!(c, '*' | '?')).collect();
        let literal = literal.trim_end_matches(['-', '_', '.']).to_lowercase();
        if literal.is_empty() {
            continue;
        }
        let allowed = (literal.chars().count() / 5).max(2);
        for name in names {
            let lower = name.to_lowercase();
            let head: String = lower.chars().take(literal.chars().count()).collect();
            if (lower.contains(&literal) || strsim::levenshtein(&head, &literal) <= allowed) && !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_id() {
        use base64::Engine;
        let id = format!(
            "prod:{}",
            base64::engine::general_purpose::STANDARD.encode("eu-west-1.aws.found.io$abc123$def456")
        );
        let (es, kibana) = decode_cloud_id(&id).expect("valid");
        assert_eq!(es, "https://abc123.eu-west-1.aws.found.io:443");
        assert_eq!(kibana.as_deref(), Some("https://def456.eu-west-1.aws.found.io:443"));
        assert!(decode_cloud_id("nonsense").is_err());
    }

    #[test]
    fn similar_index_names() {
        let names: Vec<String> =
            ["hunyuan-foley-2025.09.01", "hunyuan-foley-2025.09.02", "nginx-2025.09.01"].map(String::from).to_vec();
        assert_eq!(similar_indices("hunyan-foley-*", &names), names[..2].to_vec());
        assert_eq!(similar_indices("foley*", &names), names[..2].to_vec());
        assert!(similar_indices("metrics-*", &names).is_empty());
    }

    #[test]
    fn auth_debug_never_shows_the_secret() {
        let auth = Auth::ApiKey(SecretString::from("s3cr3t".to_string()));
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        let auth = Auth::Basic { user: "u".into(), password: SecretString::from("pw-123".to_string()) };
        assert!(!format!("{auth:?}").contains("pw-123"));
    }
}
