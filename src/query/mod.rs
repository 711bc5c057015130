//! The one filter language (alert rules, `check`, and later the tail's filter): `field:value`,
//! prefixes (`error_code:MODEL_*`), numeric comparisons with units (`inference_time>3s`,
//! `gpu_mem>=30GiB`), `and`/`or`/`not`, parentheses and quoted free text. One parser
//! ([`parse`]), one local matcher ([`matcher`]) and one translation to the Elasticsearch query DSL
//! ([`dsl`]), so a filter means the same on files and on a cluster.

pub mod dsl;
pub mod matcher;
pub mod parse;

pub use parse::{QueryError, parse};

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `field:value`, `field:PREFIX*`, `field:*`.
    Field {
        field: FieldName,
        pattern: Pattern,
    },
    /// `field>3s`, `field<=90%`.
    Compare {
        field: FieldName,
        op: CompareOp,
        value: Number,
    },
    /// Quoted or bare free text: a case-insensitive search in the message.
    Text(String),
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
}

/// What a `field:` term matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
    /// `field:*`: the field is present.
    Present,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Greater => ">",
            CompareOp::GreaterOrEqual => ">=",
            CompareOp::Less => "<",
            CompareOp::LessOrEqual => "<=",
        }
    }

    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Greater => left > right,
            CompareOp::GreaterOrEqual => left >= right,
            CompareOp::Less => left < right,
            CompareOp::LessOrEqual => left <= right,
        }
    }
}

/// A number with what its unit says it measures, in base units (milliseconds, bytes, percent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    pub value: f64,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A bare number.
    Plain,
    /// A duration, in milliseconds.
    Duration,
    /// A size, in bytes.
    Bytes,
    /// A percentage.
    Percent,
}

impl Number {
    /// Reads `3s`, `250ms`, `30GiB`, `90%`, `12`, `0.05`.
    pub fn parse(text: &str) -> Option<Number> {
        use crate::parse::units;
        let text = text.trim();
        let number = if let Some(v) = units::parse_decimal(text) {
            Number { value: v, unit: Unit::Plain }
        } else if let Some(v) = text.strip_suffix('%').and_then(units::parse_decimal) {
            Number { value: v, unit: Unit::Percent }
        } else if let Some(v) = units::duration_ms(text, 1.0) {
            Number { value: v, unit: Unit::Duration }
        } else if let Some(v) = units::size_bytes(text) {
            Number { value: v, unit: Unit::Bytes }
        } else {
            return None;
        };
        number.value.is_finite().then_some(number)
    }
}

/// A field of the filter language: the event's typed fields under their names (and a few aliases),
/// or any other field of the line by its own name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldName {
    Level,
    Source,
    Component,
    ErrorCode,
    VideoId,
    RequestId,
    Message,
    /// The rule base's explanation of an error.
    Rule,
    Exception,
    /// Latency in milliseconds (`inference_time`, `latency`, `latency_ms`).
    Latency,
    GpuMem,
    GpuUtil,
    HttpStatus,
    /// `job:true`: the outcome of one generation job.
    Job,
    /// `error:true`: an error (level, code or 5xx).
    Error,
    /// The message template of an error no rule explains (`unknown_template` on a cluster).
    Template,
    /// Any other field, by its name in the line.
    Other(String),
}

impl FieldName {
    pub fn from_name(name: &str) -> FieldName {
        match name.to_ascii_lowercase().as_str() {
            "level" => FieldName::Level,
            "source" => FieldName::Source,
            "component" => FieldName::Component,
            "error_code" | "code" => FieldName::ErrorCode,
            "video_id" | "video" => FieldName::VideoId,
            "request_id" | "request" => FieldName::RequestId,
            "message" | "msg" => FieldName::Message,
            "rule" => FieldName::Rule,
            "exception" => FieldName::Exception,
            "latency" | "latency_ms" | "inference_time" => FieldName::Latency,
            "gpu_mem" | "gpu_mem_bytes" => FieldName::GpuMem,
            "gpu_util" | "gpu_util_pct" => FieldName::GpuUtil,
            "status" | "http_status" => FieldName::HttpStatus,
            "job" | "job_outcome" => FieldName::Job,
            "error" | "is_error" => FieldName::Error,
            "template" | "unknown_template" => FieldName::Template,
            _ => FieldName::Other(name.to_string()),
        }
    }

    /// The field's name in the documents `ship` writes.
    pub fn document_field(&self) -> &str {
        match self {
            FieldName::Level => "level",
            FieldName::Source => "source",
            FieldName::Component => "component",
            FieldName::ErrorCode => "error_code",
            FieldName::VideoId => "video_id",
            FieldName::RequestId => "request_id",
            FieldName::Message => "message",
            FieldName::Rule => "rule",
            FieldName::Exception => "exception",
            FieldName::Latency => "latency_ms",
            FieldName::GpuMem => "gpu_mem_bytes",
            FieldName::GpuUtil => "gpu_util_pct",
            FieldName::HttpStatus => "http_status",
            FieldName::Job => "job_outcome",
            FieldName::Error => "is_error",
            FieldName::Template => "unknown_template",
            FieldName::Other(name) => name,
        }
    }

    /// True for the fields that hold a number (a bare number compared to them is in their unit).
    pub fn is_numeric(&self) -> bool {
        matches!(self, FieldName::Latency | FieldName::GpuMem | FieldName::GpuUtil | FieldName::HttpStatus)
    }
}

impl std::fmt::Display for Query {
    /// The filter written back as text that parses to the same query.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn quote(s: &str) -> String {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
        fn list(f: &mut std::fmt::Formatter<'_>, parts: &[Query], join: &str) -> std::fmt::Result {
            write!(f, "(")?;
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    write!(f, " {join} ")?;
                }
                write!(f, "{p}")?;
            }
            write!(f, ")")
        }
        match self {
            Query::Field { field, pattern } => match pattern {
                Pattern::Exact(v) => write!(f, "{}:{}", field.document_field(), quote(v)),
                Pattern::Prefix(p) => write!(f, "{}:{p}*", field.document_field()),
                Pattern::Present => write!(f, "{}:*", field.document_field()),
            },
            Query::Compare { field, op, value } => {
                let suffix = match value.unit {
                    Unit::Plain => "",
                    Unit::Duration => "ms",
                    Unit::Bytes => "B",
                    Unit::Percent => "%",
                };
                write!(f, "{}{}{}{suffix}", field.document_field(), op.as_str(), value.value)
            }
            Query::Text(t) => write!(f, "{}", quote(t)),
            Query::And(parts) => list(f, parts, "and"),
            Query::Or(parts) => list(f, parts, "or"),
            Query::Not(inner) => write!(f, "not {inner}"),
        }
    }
}
