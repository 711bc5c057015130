//! The event model: one parsed log record borrowed from its line(s), and an owned, terminal-safe copy
//! for the places that keep events (tail buffer, drill-down, JSON output).

use serde::Serialize;
use smallvec::SmallVec;
use std::borrow::Cow;

/// Severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal];

    /// Parses the usual spellings (`ERROR`, `error`, `WARNING`, `CRITICAL`, `E`…), ASCII case-insensitive.
    pub fn parse(s: &str) -> Option<Level> {
        // the spellings nearly every line uses, compared whole before the case-insensitive match
        match s {
            "INFO" => return Some(Level::Info),
            "ERROR" => return Some(Level::Error),
            "WARN" => return Some(Level::Warn),
            "DEBUG" => return Some(Level::Debug),
            _ => {}
        }
        let b = s.as_bytes();
        let upper = |i: usize| b.get(i).map(|c| c.to_ascii_uppercase());
        Some(match (b.len(), upper(0)?) {
            (5, b'T') if s.eq_ignore_ascii_case("trace") => Level::Trace,
            (5, b'D') if s.eq_ignore_ascii_case("debug") => Level::Debug,
            (4, b'I') if s.eq_ignore_ascii_case("info") => Level::Info,
            (6, b'N') if s.eq_ignore_ascii_case("notice") => Level::Info,
            (4, b'W') if s.eq_ignore_ascii_case("warn") => Level::Warn,
            (7, b'W') if s.eq_ignore_ascii_case("warning") => Level::Warn,
            (5, b'E') if s.eq_ignore_ascii_case("error") => Level::Error,
            (3, b'E') if s.eq_ignore_ascii_case("err") => Level::Error,
            (5, b'F') if s.eq_ignore_ascii_case("fatal") => Level::Fatal,
            (8, b'C') if s.eq_ignore_ascii_case("critical") => Level::Fatal,
            (4, b'C') if s.eq_ignore_ascii_case("crit") => Level::Fatal,
            (5, b'P') if s.eq_ignore_ascii_case("panic") => Level::Fatal,
            (5, b'A') if s.eq_ignore_ascii_case("alert") => Level::Fatal,
            (5, b'E') if s.eq_ignore_ascii_case("emerg") => Level::Fatal,
            (6, b'N') if s.eq_ignore_ascii_case("normal") => Level::Info,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which of the service's log sources a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The model inference service (Python / TorchServe), the seed's `key=value` format.
    Inference,
    /// The video pre-processing module (FFmpeg stderr).
    Ffmpeg,
    /// The web layer's access log (Nginx).
    Nginx,
    /// The web layer's application log (Flask / Python logging).
    Flask,
    /// The resource scheduler (Docker / Kubernetes).
    Scheduler,
    /// A line no format recognised.
    #[default]
    Unknown,
}

impl Source {
    pub const ALL: [Source; 6] =
        [Source::Inference, Source::Ffmpeg, Source::Nginx, Source::Flask, Source::Scheduler, Source::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Inference => "inference",
            Source::Ffmpeg => "ffmpeg",
            Source::Nginx => "nginx",
            Source::Flask => "flask",
            Source::Scheduler => "scheduler",
            Source::Unknown => "unknown",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str().eq_ignore_ascii_case(s))
    }
}

/// One `key=value` (or JSON member) of a record. Borrowed unless unescaping had to allocate.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    pub key: Cow<'a, str>,
    pub value: Cow<'a, str>,
}

/// Fields stored explicitly (formats that are not `key=value` text); inline up to 2, so that the
/// event stays small to move (the seed format keeps its fields as text and stores none).
pub type Fields<'a> = SmallVec<[Field<'a>; 2]>;

/// A parsed record, borrowed from its line. Typed slots hold what the statistics use; `fields` keeps
/// everything else for display.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    /// Event time, milliseconds since the Unix epoch (UTC), when the line had a valid timestamp.
    pub ts_ms: Option<i64>,
    pub level: Level,
    pub source: Source,
    /// False for lines no format recognised (kept and counted, never dropped).
    pub parsed: bool,
    pub video_id: Option<Cow<'a, str>>,
    pub request_id: Option<Cow<'a, str>>,
    pub error_code: Option<Cow<'a, str>>,
    /// The human text of the record (the `reason`, the log message, the ffmpeg line).
    pub message: Cow<'a, str>,
    /// Latency this record reports (inference time, request time), in milliseconds.
    pub latency_ms: Option<f64>,
    /// GPU memory in use, bytes, and utilisation, percent, when the record carries them.
    pub gpu_mem_bytes: Option<f64>,
    pub gpu_util_pct: Option<f64>,
    /// HTTP status (access logs).
    pub http_status: Option<u16>,
    /// True when this record is the outcome of one generation job (success or failure).
    pub job_outcome: bool,
    /// Exception type of a joined Python traceback.
    pub exception: Option<Cow<'a, str>>,
    /// Number of continuation lines (traceback) joined to this event.
    pub continuation_lines: u32,
    /// The component the record belongs to when the source says so explicitly (k8s container, logger name).
    pub component_hint: Option<Cow<'a, str>>,
    /// Fields stored explicitly.
    pub fields: Fields<'a>,
    /// `key=value` text whose pairs are fields too, split lazily (the hot path only reads the typed
    /// slots, so it never stores the pairs).
    pub kv: &'a str,
}

impl<'a> Event<'a> {
    pub fn unparsed(line: &'a str) -> Event<'a> {
        Event { message: Cow::Borrowed(line), source: Source::Unknown, parsed: false, ..Event::default() }
    }

    /// Looks a field up by key (stored fields first, then the `key=value` text).
    pub fn field(&self, key: &str) -> Option<Cow<'_, str>> {
        if let Some(f) = self.fields.iter().find(|f| f.key == key) {
            return Some(Cow::Borrowed(f.value.as_ref()));
        }
        crate::kv::pairs(self.kv).find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every field, stored and from the `key=value` text, in order.
    pub fn all_fields(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        let mut all: Vec<(Cow<'_, str>, Cow<'_, str>)> =
            self.fields.iter().map(|f| (Cow::Borrowed(f.key.as_ref()), Cow::Borrowed(f.value.as_ref()))).collect();
        all.extend(crate::kv::pairs(self.kv).map(|(k, v)| (Cow::Borrowed(k), v)));
        all
    }

    /// Detaches the event from its line (every borrowed string copied).
    pub fn into_owned<'b>(self) -> Event<'b> {
        fn own<'b>(c: Cow<'_, str>) -> Cow<'b, str> {
            Cow::Owned(c.into_owned())
        }
        Event {
            ts_ms: self.ts_ms,
            level: self.level,
            source: self.source,
            parsed: self.parsed,
            video_id: self.video_id.map(own),
            request_id: self.request_id.map(own),
            error_code: self.error_code.map(own),
            message: own(self.message),
            latency_ms: self.latency_ms,
            gpu_mem_bytes: self.gpu_mem_bytes,
            gpu_util_pct: self.gpu_util_pct,
            http_status: self.http_status,
            job_outcome: self.job_outcome,
            exception: self.exception.map(own),
            continuation_lines: self.continuation_lines,
            component_hint: self.component_hint.map(own),
            fields: self
                .fields
                .iter()
                .map(|f| Field { key: own(f.key.clone()), value: own(f.value.clone()) })
                .chain(crate::kv::pairs(self.kv).map(|(k, v)| Field { key: Cow::Owned(k.to_string()), value: own(v) }))
                .collect(),
            kv: "",
        }
    }

    /// True when the record reports a failure: level ERROR or worse, an explicit error code, or a
    /// 5xx response.
    pub fn is_error(&self) -> bool {
        self.level >= Level::Error || self.error_code.is_some() || self.http_status.is_some_and(|s| s >= 500)
    }
}

/// Where a record came from: the file (index into the session's file list) and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub struct Origin {
    pub file: u32,
    pub offset: u64,
}

/// An owned, terminal-safe copy of an event, for the places that keep events around.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnedEvent {
    pub ts_ms: Option<i64>,
    pub level: Level,
    pub source: Source,
    pub parsed: bool,
    pub component: String,
    pub video_id: Option<String>,
    /// The request the line belongs to (the retry link's `request_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub message: String,
    pub latency_ms: Option<f64>,
    pub fields: Vec<(String, String)>,
    /// The raw line(s), sanitised and capped; for display.
    pub raw: String,
    pub origin: Origin,
    /// The rule that explained this event, when it is an error.
    pub rule: Option<String>,
}

/// Longest text kept per owned string; longer text is truncated with a marker.
pub const MAX_KEPT_CHARS: usize = 4096;

impl OwnedEvent {
    pub fn from_event(event: &Event<'_>, raw: &str, origin: Origin, component: &str, rule: Option<&str>) -> OwnedEvent {
        use crate::text::sanitize_owned as clean;
        OwnedEvent {
            ts_ms: event.ts_ms,
            level: event.level,
            source: event.source,
            parsed: event.parsed,
            component: clean(component, 64),
            video_id: event.video_id.as_deref().map(|v| clean(v, 256)),
            request_id: event.request_id.as_deref().map(|v| clean(v, 256)),
            error_code: event.error_code.as_deref().map(|v| clean(v, 256)),
            message: clean(&event.message, MAX_KEPT_CHARS),
            latency_ms: event.latency_ms,
            fields: event.all_fields().iter().map(|(k, v)| (clean(k, 256), clean(v, MAX_KEPT_CHARS))).collect(),
            raw: clean(raw, MAX_KEPT_CHARS),
            origin,
            rule: rule.map(|r| clean(r, 256)),
        }
    }

    pub fn is_error(&self) -> bool {
        self.level >= Level::Error || self.error_code.is_some()
    }
}
