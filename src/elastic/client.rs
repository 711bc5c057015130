//! A thin Elasticsearch/OpenSearch client on reqwest: one request function with fail-over across
//! the given URLs, jittered exponential backoff for 429/502/503/504, errors in plain words, and the
//! few endpoints we use (info, search, bulk, field caps, point in time).
//! Hand-written: the official Rust client has no stable release and no retries.
//!
//! Callers see blocking functions; inside, each request is an async reqwest request driven by the
//! client's own single-threaded tokio runtime and raced against the client's [`Canceller`], so
//! that a request the console no longer needs is dropped on the wire (its connection closed)
//! instead of being waited for.

use super::{AUTH_HINT, Auth, EsError, EsOptions};
use crate::backend::cancel::Canceller;
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::time::Duration;

/// Which server answered `GET /`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Elasticsearch(u32),
    OpenSearch(u32),
}

impl Flavor {
    pub fn describe(self) -> String {
        match self {
            Flavor::Elasticsearch(v) => format!("Elasticsearch {v}"),
            Flavor::OpenSearch(v) => format!("OpenSearch {v}"),
        }
    }
}

/// Detects the flavor from the body of `GET /` (no product header required).
pub fn detect_flavor(info: &Value) -> Flavor {
    let version = &info["version"];
    let major = version["number"].as_str().and_then(|n| n.split('.').next()).and_then(|m| m.parse().ok()).unwrap_or(0);
    if version["distribution"].as_str() == Some("opensearch")
        || info["tagline"].as_str().is_some_and(|t| t.contains("OpenSearch"))
    {
        Flavor::OpenSearch(major)
    } else {
        Flavor::Elasticsearch(major)
    }
}

/// A search answer with what made it incomplete, in words.
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Value,
    pub warnings: Vec<String>,
    /// Bytes received, for the bytes-per-refresh figure.
    pub bytes: usize,
}

pub struct EsClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// Cancels the request in flight (see [`Canceller`]); never fired by the headless commands.
    pub cancel: Canceller,
    pub options: EsOptions,
    pub flavor: Option<Flavor>,
    /// Our field names → the index's (renames, `.keyword` sub-fields).
    pub fields: super::fields::FieldMap,
    /// Total bytes received so far.
    pub bytes_received: std::sync::atomic::AtomicU64,
    /// Strips the credential in use from the servers' text.
    redactor: super::secrets::Redactor,
    /// The index's field names (given with `--fields` or detected at connect).
    pub preset: super::derive::Preset,
}

enum Attempt {
    Retry(u16, String),
    Fatal(EsError),
}

fn auth_headers(auth: &Auth) -> Result<HeaderMap, EsError> {
    let mut headers = HeaderMap::new();
    let value = match auth {
        Auth::None => None,
        Auth::ApiKey(key) => Some(format!("ApiKey {}", key.expose_secret())),
        Auth::Bearer(token) => Some(format!("Bearer {}", token.expose_secret())),
        Auth::Basic { user, password } => {
            use base64::Engine;
            let pair = format!("{user}:{}", password.expose_secret());
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
        }
    };
    if let Some(value) = value {
        let mut header = HeaderValue::from_str(&value)
            .map_err(|_| EsError::Config("the credential holds characters not allowed in an HTTP header".into()))?;
        header.set_sensitive(true);
        headers.insert(AUTHORIZATION, header);
    }
    Ok(headers)
}

/// The server's own reason from an error body (`error.root_cause[0].reason` or `error.reason`).
pub fn server_reason(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let reason = parsed.as_ref().and_then(|v| {
        let e = &v["error"];
        e["root_cause"][0]["reason"].as_str().or(e["reason"].as_str()).or(e.as_str()).map(str::to_string)
    });
    crate::text::sanitize_owned(&reason.unwrap_or_else(|| body.chars().take(300).collect()), 300)
}

impl EsClient {
    pub fn new(options: EsOptions) -> Result<EsClient, EsError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if options.urls.is_empty() {
            return Err(EsError::Config("no Elasticsearch URL given".into()));
        }
        super::secrets::check_urls(&options.urls)?;
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(5))
            .default_headers({
                let mut headers = auth_headers(&options.auth)?;
                // Kibana's API wants it on every write; Elasticsearch ignores it
                headers.insert("kbn-xsrf", HeaderValue::from_static("true"));
                headers
            })
            .user_agent(concat!("foley-triage/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path).map_err(|e| EsError::Config(format!("CA file {}: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| EsError::Config(format!("CA file {}: not a PEM certificate ({e})", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        if options.insecure {
            eprintln!(
                "foley-triage: WARNING: --insecure: TLS certificates are NOT verified; anyone on the path can read and change this traffic"
            );
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| EsError::Config(format!("cannot build the HTTP client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EsError::Config(format!("cannot start the HTTP client's runtime: {e}")))?;
        Ok(EsClient {
            http,
            runtime,
            cancel: Canceller::new(),
            flavor: None,
            fields: Default::default(),
            bytes_received: Default::default(),
            redactor: super::secrets::Redactor::new(&options.auth),
            preset: super::derive::Preset::Ours,
            options,
        })
    }

    /// One request with retries on 429/502/503/504 and fail-over to the next URL when a node cannot
    /// be reached. `body` is JSON, or NDJSON when `ndjson` is set. Returns [`EsError::Cancelled`]
    /// as soon as the client's canceller fires, dropping the request in flight.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        ndjson: bool,
    ) -> Result<Value, EsError> {
        let work = self.request_async(method, path, body, ndjson);
        self.runtime.block_on(async {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => Err(EsError::Cancelled),
                result = work => result,
            }
        })
    }

    async fn request_async(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        ndjson: bool,
    ) -> Result<Value, EsError> {
        let mut last_error = None;
        for base in &self.options.urls {
            let url = format!("{}{}", base.trim_end_matches('/'), path);
            let tries = std::cell::Cell::new(0usize);
            let attempt = || async {
                tries.set(tries.get() + 1);
                self.attempt(&method, &url, base, path, body.as_deref(), ndjson).await
            };
            let backoff = ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(100))
                .with_max_delay(Duration::from_secs(5))
                .with_max_times(4)
                .with_jitter();
            let result =
                attempt.retry(backoff).sleep(tokio::time::sleep).when(|e| matches!(e, Attempt::Retry(..))).await;
            match result {
                Ok(value) => return Ok(value),
                Err(Attempt::Retry(status, reason)) => {
                    return Err(EsError::Unavailable { url: base.clone(), status, tries: tries.get(), reason });
                }
                Err(Attempt::Fatal(e @ EsError::Connect { .. })) => last_error = Some(e),
                Err(Attempt::Fatal(e)) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| EsError::Config("no Elasticsearch URL given".into())))
    }

    /// A request that got no (whole) answer: a timeout, or the connection's failure in words.
    fn transport_error(&self, base: &str, e: &reqwest::Error) -> Attempt {
        Attempt::Fatal(if e.is_timeout() {
            EsError::Timeout { url: base.to_string(), secs: self.options.timeout.as_secs() }
        } else {
            let detail = crate::text::sanitize_owned(&error_chain(e), 1000);
            tracing::warn!(url = base, "cannot reach the cluster: {detail}");
            EsError::Connect { url: base.to_string(), reason: crate::text::sanitize_owned(&root_cause(e), 200), detail }
        })
    }

    /// One try against one node.
    async fn attempt(
        &self,
        method: &reqwest::Method,
        url: &str,
        base: &str,
        path: &str,
        body: Option<&str>,
        ndjson: bool,
    ) -> Result<Value, Attempt> {
        let mut req = self.http.request(method.clone(), url);
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, if ndjson { "application/x-ndjson" } else { "application/json" })
                .body(b.to_string());
        }
        let response = req.send().await.map_err(|e| self.transport_error(base, &e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| self.transport_error(base, &e))?;
        self.bytes_received.fetch_add(text.len() as u64, std::sync::atomic::Ordering::Relaxed);
        // an error's text is shown and logged: first take out the credential, should it echo it
        let text = if (200..300).contains(&status) { text } else { self.redactor.clean(&text) };
        let server_reason = |text: &str| self.redact(&server_reason(text));
        let base = base.to_string();
        match status {
            200..=299 => serde_json::from_str(&text).map_err(|e| {
                Attempt::Fatal(EsError::Http { url: base, status, reason: format!("the answer is not JSON: {e}") })
            }),
            401 | 403 => Err(Attempt::Fatal(EsError::Auth {
                url: base,
                status,
                auth: self.options.auth.clone(),
                hint: AUTH_HINT.into(),
            })),
            404 if text.contains("index_not_found") || path.contains("_search") => {
                Err(Attempt::Fatal(EsError::NoIndex { url: base, index: self.options.index.clone() }))
            }
            400 => Err(Attempt::Fatal(EsError::BadQuery { url: base, reason: server_reason(&text) })),
            429 | 502 | 503 | 504 => Err(Attempt::Retry(status, server_reason(&text))),
            _ => Err(Attempt::Fatal(EsError::Http { url: base, status, reason: server_reason(&text) })),
        }
    }

    /// Server text with the credential in use taken out, for showing or logging.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.clean(text)
    }

    /// An answer's partial failures in words, without the credential.
    fn warnings(&self, body: &Value) -> Vec<String> {
        incomplete_warnings_cleaned(body, &|s: &str| self.redact(s))
    }

    pub fn get(&self, path: &str) -> Result<Value, EsError> {
        self.request(reqwest::Method::GET, path, None, false)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, EsError> {
        self.request(reqwest::Method::POST, path, Some(body.to_string()), false)
    }

    pub fn put(&self, path: &str, body: &Value) -> Result<Value, EsError> {
        self.request(reqwest::Method::PUT, path, Some(body.to_string()), false)
    }

    /// `GET /`: detects Elasticsearch or OpenSearch and its major version.
    pub fn connect(&mut self) -> Result<Flavor, EsError> {
        let info = self.get("/")?;
        let flavor = detect_flavor(&info);
        self.flavor = Some(flavor);
        Ok(flavor)
    }

    /// A search on the configured index pattern, with partial results turned into warnings.
    pub fn search(&self, body: &Value) -> Result<Answer, EsError> {
        let before = self.bytes_received.load(std::sync::atomic::Ordering::Relaxed);
        let path = format!("/{}/_search?allow_no_indices=true&ignore_unavailable=true", self.options.index);
        let mut query = body.clone();
        self.fields.rewrite_query(&mut query);
        let mut body = self.post(&path, &query)?;
        self.fields.rewrite_answer(&mut body);
        let bytes = (self.bytes_received.load(std::sync::atomic::Ordering::Relaxed) - before) as usize;
        Ok(Answer { warnings: self.warnings(&body), body, bytes })
    }

    /// A search inside a point in time (no index in the path).
    pub fn search_pit(&self, body: &Value) -> Result<Answer, EsError> {
        let mut query = body.clone();
        self.fields.rewrite_query(&mut query);
        let mut body = self.post("/_search", &query)?;
        self.fields.rewrite_answer(&mut body);
        Ok(Answer { warnings: self.warnings(&body), body, bytes: 0 })
    }

    /// Opens a point in time on the index pattern; the endpoint differs between the two products.
    pub fn open_pit(&self, keep_alive: &str) -> Result<String, EsError> {
        let index = &self.options.index;
        let answer = match self.flavor {
            Some(Flavor::OpenSearch(_)) => self.request(
                reqwest::Method::POST,
                &format!("/{index}/_search/point_in_time?keep_alive={keep_alive}"),
                None,
                false,
            )?,
            _ => self.request(reqwest::Method::POST, &format!("/{index}/_pit?keep_alive={keep_alive}"), None, false)?,
        };
        answer["pit_id"].as_str().or(answer["id"].as_str()).map(str::to_string).ok_or_else(|| EsError::Http {
            url: self.options.urls[0].clone(),
            status: 200,
            reason: "no point-in-time id in the answer".into(),
        })
    }

    pub fn close_pit(&self, id: &str) {
        let _ = match self.flavor {
            Some(Flavor::OpenSearch(_)) => self.request(
                reqwest::Method::DELETE,
                "/_search/point_in_time",
                Some(serde_json::json!({"pit_id": [id]}).to_string()),
                false,
            ),
            _ => self.request(reqwest::Method::DELETE, "/_pit", Some(serde_json::json!({"id": id}).to_string()), false),
        };
    }

    /// `_bulk` with an NDJSON body.
    pub fn bulk(&self, ndjson: String) -> Result<Value, EsError> {
        self.request(reqwest::Method::POST, "/_bulk", Some(ndjson), true)
    }

    /// `_field_caps` for some fields on the index pattern.
    pub fn field_caps(&self, fields: &[&str]) -> Result<Value, EsError> {
        self.get(&format!(
            "/{}/_field_caps?fields={}&allow_no_indices=true&ignore_unavailable=true",
            self.options.index,
            fields.join(",")
        ))
    }
}

pub use super::secrets::redact_url;

/// Partial shard failures and timeouts, in words.
pub fn incomplete_warnings(body: &Value) -> Vec<String> {
    incomplete_warnings_cleaned(body, &|s: &str| s.to_string())
}

/// [`incomplete_warnings`], with the server's reasons passed through `clean` before they are cut.
fn incomplete_warnings_cleaned(body: &Value, clean: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut warnings = Vec::new();
    if body["timed_out"].as_bool() == Some(true) {
        warnings.push("the search timed out on the server: results are incomplete".to_string());
    }
    let failed = body["_shards"]["failed"].as_u64().unwrap_or(0);
    if failed > 0 {
        let total = body["_shards"]["total"].as_u64().unwrap_or(0);
        let reason = body["_shards"]["failures"][0]["reason"]["reason"].as_str().unwrap_or("unknown reason");
        warnings.push(format!(
            "{failed} of {total} shards failed ({}): results are incomplete",
            crate::text::sanitize_owned(&clean(reason), 200)
        ));
    }
    warnings
}

/// `hits.total` as text: `N`, or `≥ N` when the server only counted a lower bound.
pub fn total_text(body: &Value) -> String {
    let total = &body["hits"]["total"];
    let value = total["value"].as_u64().or(total.as_u64()).unwrap_or(0);
    if total["relation"].as_str() == Some("gte") { format!("≥ {value}") } else { value.to_string() }
}

/// The cause of a failed connection in a few words: the operating system's answer when there is
/// one ("connection refused"), else the innermost error's text.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = e;
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let words = match io.kind() {
                ConnectionRefused => Some("connection refused"),
                ConnectionReset => Some("connection reset"),
                ConnectionAborted => Some("connection aborted"),
                TimedOut => Some("connection timed out"),
                HostUnreachable => Some("host unreachable"),
                NetworkUnreachable => Some("network unreachable"),
                AddrNotAvailable => Some("address not available"),
                _ => None,
            };
            if let Some(words) = words {
                return words.to_string();
            }
        }
        innermost = err;
        current = err.source();
    }
    let text = innermost.to_string();
    if text.is_empty() { e.to_string() } else { text }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
