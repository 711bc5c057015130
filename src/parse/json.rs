//! JSON lines: python-json-logger records, Docker `json-file` lines (`{"log","stream","time"}`, the
//! `log` text unwrapped and parsed again — nested JSON or any other format), and Kubernetes events
//! (`OOMKilled`, `BackOff`, …). Timestamps, levels and fields are mapped; nested objects are
//! flattened with dotted keys (`involvedObject.name`).
//!
//! Times are read from every field a record of each kind can carry, in a fixed order (the first
//! that holds a time wins; strings in any form [`time::parse_any`] reads, numbers as epoch seconds,
//! ms, µs or ns by magnitude):
//! - a record: [`RECORD_TIME_KEYS`];
//! - a Kubernetes event: [`KUBERNETES_TIME_PATHS`], the event's own times first, then the time a
//!   shipper or exporter added, then when the event object was created; a time before 1990 (Go's
//!   zero time `0001-01-01T00:00:00Z`) is passed over while a later field has a real one;
//! - a Docker line: the time of the record inside `log` when it has one, else
//!   [`DOCKER_TIME_KEYS`] of the outer line.
//!
//! A record with none of them keeps no time here; the pipeline then gives it the time of the line
//! before it in the same file and counts it (`inherited_time`).
//!
//! JSON is not the volume format, so this parser builds a `serde_json::Value` and owns its strings.

use super::{fields, time};
use crate::event::{Event, Field, Level, Source};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Time fields of a log record, in the order they are tried.
pub const RECORD_TIME_KEYS: &[&str] =
    &["@timestamp", "timestamp", "time", "ts", "asctime", "lastTimestamp", "eventTime", "firstTimestamp"];
/// Time fields of a Kubernetes event (core/v1 and events.k8s.io/v1), as paths, in the order they
/// are tried: the last occurrence, the first, what a shipper added, the object's creation.
pub const KUBERNETES_TIME_PATHS: &[&[&str]] = &[
    &["lastTimestamp"],
    &["series", "lastObservedTime"],
    &["eventTime"],
    &["deprecatedLastTimestamp"],
    &["firstTimestamp"],
    &["deprecatedFirstTimestamp"],
    &["@timestamp"],
    &["timestamp"],
    &["time"],
    &["ts"],
    &["metadata", "creationTimestamp"],
];
/// Time fields of the outer Docker / shipper line, in the order they are tried.
pub const DOCKER_TIME_KEYS: &[&str] = &["time", "@timestamp", "timestamp", "ts"];
const MESSAGE_KEYS: &[&str] = &["message", "msg", "log", "reason"];

pub fn parse<'a>(line: &str, default_offset: i64) -> Option<Event<'a>> {
    let trimmed = line.trim_end();
    if !trimmed.starts_with('{') {
        return None;
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    let object = value.as_object()?;
    Some(from_object(object, default_offset, 0))
}

/// The time a JSON value holds: a string in any supported form, or an epoch number.
pub fn time_of(value: &Value, default_offset: i64) -> Option<i64> {
    match value {
        Value::String(s) => time::parse_any(s, default_offset),
        Value::Number(n) => match n.as_i64() {
            Some(i) => time::epoch_integer_to_ms(i),
            None => n.as_f64().and_then(time::epoch_number_to_ms),
        },
        _ => None,
    }
}

/// The first time found among `candidates` (in order): the first from 1990 on, else the first of
/// any date (so a zero value in an early field does not hide a real time in a later one).
fn first_time<'v>(candidates: impl Iterator<Item = &'v Value>, default_offset: i64) -> Option<i64> {
    let mut fallback = None;
    for value in candidates {
        if let Some(t) = time_of(value, default_offset) {
            if t >= time::FLOOR_MS {
                return Some(t);
            }
            fallback = fallback.or(Some(t));
        }
    }
    fallback
}

fn lookup<'v>(object: &'v Map<String, Value>, path: &[&str]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(object.get(*first)?, |v, k| v.get(*k))
}

/// True for a Kubernetes event: `kind: Event`, or the shape of one without its type fields (as
/// event exporters write them): a `reason` and the object it is about.
fn is_kubernetes_event(object: &Map<String, Value>) -> bool {
    match object.get("kind").and_then(Value::as_str) {
        Some(kind) => kind == "Event",
        None => {
            object.contains_key("reason")
                && (object.get("involvedObject").is_some_and(Value::is_object)
                    || object.get("regarding").is_some_and(Value::is_object))
        }
    }
}

fn from_object<'a>(object: &Map<String, Value>, default_offset: i64, depth: u8) -> Event<'a> {
    if object.contains_key("log") && (object.contains_key("stream") || object.contains_key("time")) {
        return docker_line(object, default_offset, depth);
    }
    if is_kubernetes_event(object) {
        return kubernetes_event(object, default_offset);
    }
    let mut event = Event { parsed: true, source: Source::Inference, ..Event::default() };
    event.ts_ms = first_time(RECORD_TIME_KEYS.iter().filter_map(|k| object.get(*k)), default_offset);
    let mut message: Option<String> = None;
    for (key, value) in object {
        let text = value_text(value);
        if MESSAGE_KEYS.contains(&key.as_str()) && message.is_none() {
            message = Some(text.clone());
        }
        if let Value::Object(inner) = value {
            for (k, v) in inner {
                fields::apply_field(&mut event, Cow::Owned(format!("{key}.{k}")), Cow::Owned(value_text(v)));
            }
            continue;
        }
        fields::apply_field(&mut event, Cow::Owned(key.clone()), Cow::Owned(text));
    }
    if let Some(m) = message {
        event.message = Cow::Owned(m);
    }
    if let Some(logger) = event.component_hint.as_deref() {
        event.source = source_from_logger(logger);
    }
    fields::finish(&mut event);
    event
}

/// The service a python logger name belongs to.
fn source_from_logger(logger: &str) -> Source {
    let l = logger.to_ascii_lowercase();
    if l.contains("sched") || l.contains("k8s") || l.contains("kube") {
        Source::Scheduler
    } else if l.contains("flask") || l.contains("web") || l == "app" || l.contains("werkzeug") {
        Source::Flask
    } else if l.contains("ffmpeg") || l.contains("video") || l.contains("preprocess") {
        Source::Ffmpeg
    } else {
        Source::Inference
    }
}

fn docker_line<'a>(object: &Map<String, Value>, default_offset: i64, depth: u8) -> Event<'a> {
    let log = object.get("log").and_then(Value::as_str).unwrap_or("").trim_end_matches(['\n', '\r']);
    let outer_time = first_time(DOCKER_TIME_KEYS.iter().filter_map(|k| object.get(*k)), default_offset);
    let mut event = if depth == 0 && log.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(log) {
            Ok(Value::Object(inner)) => {
                let mut e = from_object(&inner, default_offset, depth + 1);
                if e.component_hint.is_none() {
                    e.source = Source::Scheduler;
                }
                e
            }
            _ => plain_docker(log, default_offset),
        }
    } else {
        plain_docker(log, default_offset)
    };
    if event.ts_ms.is_none() {
        event.ts_ms = outer_time;
    }
    if let Some(stream) = object.get("stream").and_then(Value::as_str) {
        event.fields.push(Field { key: Cow::Borrowed("stream"), value: Cow::Owned(stream.to_string()) });
    }
    event
}

/// The `log` text of a Docker line, parsed with the line formats (seed, flask, ffmpeg) when it fits.
fn plain_docker<'a>(log: &str, default_offset: i64) -> Event<'a> {
    match super::parse_known(log, default_offset) {
        Some(event) => event.into_owned(),
        None => Event {
            parsed: true,
            source: Source::Scheduler,
            message: Cow::Owned(log.to_string()),
            level: if log.contains("ERROR") || log.contains("Error") { Level::Error } else { Level::Info },
            ..Event::default()
        },
    }
}

fn kubernetes_event<'a>(object: &Map<String, Value>, default_offset: i64) -> Event<'a> {
    let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let reason = text("reason");
    let kind = text("type");
    let ts = first_time(KUBERNETES_TIME_PATHS.iter().filter_map(|path| lookup(object, path)), default_offset);
    let failing = matches!(
        reason.as_str(),
        "OOMKilled"
            | "Failed"
            | "BackOff"
            | "Evicted"
            | "FailedScheduling"
            | "Unhealthy"
            | "FailedMount"
            | "CrashLoopBackOff"
    );
    let level = if failing {
        Level::Error
    } else if kind == "Warning" {
        Level::Warn
    } else {
        Level::Info
    };
    let mut event = Event {
        ts_ms: ts,
        level,
        source: Source::Scheduler,
        parsed: true,
        // events.k8s.io/v1 calls the message `note`
        message: Cow::Owned(format!(
            "{reason}: {}",
            if object.contains_key("message") { text("message") } else { text("note") }
        )),
        ..Event::default()
    };
    event.fields.push(Field { key: Cow::Borrowed("reason"), value: Cow::Owned(reason) });
    event.fields.push(Field { key: Cow::Borrowed("type"), value: Cow::Owned(kind) });
    // events.k8s.io/v1 calls the object `regarding`
    if let Some(obj) = object.get("involvedObject").or_else(|| object.get("regarding")).and_then(Value::as_object) {
        for key in ["kind", "name", "namespace"] {
            if let Some(v) = obj.get(key).and_then(Value::as_str) {
                event.fields.push(Field { key: Cow::Owned(format!("object.{key}")), value: Cow::Owned(v.to_string()) });
            }
        }
    }
    event
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_logger() {
        let e = parse(r#"{"asctime": "2025-09-01 14:23:11,189", "levelname": "ERROR", "name": "foley.infer", "message": "CUDA out of memory", "video_id": "vid_1", "error_code": "MODEL_INFER_FAIL", "inference_time": 2.4}"#, 0).expect("parses");
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.ts_ms, Some(1_756_736_591_189));
        assert_eq!(e.video_id.as_deref(), Some("vid_1"));
        assert_eq!(e.error_code.as_deref(), Some("MODEL_INFER_FAIL"));
        assert_eq!(e.latency_ms, Some(2400.0));
        assert_eq!(e.message, "CUDA out of memory");
        assert_eq!(e.source, Source::Inference);
    }

    #[test]
    fn docker_with_nested_json() {
        let e = parse(r#"{"log":"{\"levelname\": \"WARNING\", \"name\": \"foley.scheduler\", \"message\": \"queue full\"}\n","stream":"stderr","time":"2025-09-01T14:23:12.004817Z"}"#, 0).expect("parses");
        assert_eq!(e.level, Level::Warn);
        assert_eq!(e.source, Source::Scheduler);
        assert_eq!(e.ts_ms, Some(1_756_736_592_004));
        assert_eq!(e.message, "queue full");
        assert_eq!(e.field("stream").as_deref(), Some("stderr"));
    }

    #[test]
    fn docker_with_seed_line_inside() {
        let e = parse(r#"{"log":"2025-09-01 14:23:11 [ERROR] video_id=vid_2 error_code=VIDEO_DECODE_ERR\n","stream":"stdout","time":"2025-09-01T14:23:12Z"}"#, 0).expect("parses");
        assert_eq!(e.source, Source::Inference);
        assert_eq!(e.error_code.as_deref(), Some("VIDEO_DECODE_ERR"));
        assert_eq!(e.ts_ms, Some(1_756_736_591_000), "the inner timestamp wins");
    }

    #[test]
    fn kubernetes_oomkilled() {
        let e = parse(r#"{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"Container foley-infer was OOMKilled","involvedObject":{"kind":"Pod","name":"foley-infer-1"},"lastTimestamp":"2025-09-01T14:23:12Z"}"#, 0).expect("parses");
        assert_eq!(e.source, Source::Scheduler);
        assert_eq!(e.level, Level::Error);
        assert!(e.message.contains("OOMKilled"));
        assert_eq!(e.field("object.name").as_deref(), Some("foley-infer-1"));
    }

    #[test]
    fn kubernetes_event_times_in_any_field() {
        let at = Some(1_756_736_592_000);
        for field in ["time", "@timestamp", "timestamp", "ts", "eventTime", "firstTimestamp", "deprecatedLastTimestamp"]
        {
            let line = format!(
                r#"{{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"m","involvedObject":{{"kind":"Pod","name":"p"}},"lastTimestamp":null,"{field}":"2025-09-01T14:23:12Z"}}"#
            );
            assert_eq!(parse(&line, 0).expect("parses").ts_ms, at, "{field}");
        }
        // nested: the series' last observation, the object's creation
        let series = r#"{"kind":"Event","reason":"BackOff","series":{"count":3,"lastObservedTime":"2025-09-01T14:23:12.000000Z"},"involvedObject":{"name":"p"}}"#;
        assert_eq!(parse(series, 0).expect("parses").ts_ms, at);
        let created = r#"{"kind":"Event","reason":"BackOff","metadata":{"creationTimestamp":"2025-09-01T14:23:12Z"},"involvedObject":{"name":"p"}}"#;
        assert_eq!(parse(created, 0).expect("parses").ts_ms, at);
        // epoch numbers in any unit; Go's zero time passed over for a real one
        let ns = r#"{"kind":"Event","reason":"OOMKilled","involvedObject":{"name":"p"},"ts":1756736592000000000}"#;
        assert_eq!(parse(ns, 0).expect("parses").ts_ms, at);
        let zero = r#"{"kind":"Event","reason":"OOMKilled","involvedObject":{"name":"p"},"lastTimestamp":"0001-01-01T00:00:00Z","time":"2025-09-01T14:23:12Z"}"#;
        assert_eq!(parse(zero, 0).expect("parses").ts_ms, at);
        // the order: the event's own last time before what a shipper added
        let both = r#"{"kind":"Event","reason":"OOMKilled","involvedObject":{"name":"p"},"@timestamp":"2025-09-01T15:00:00Z","lastTimestamp":"2025-09-01T14:23:12Z"}"#;
        assert_eq!(parse(both, 0).expect("parses").ts_ms, at);
    }

    #[test]
    fn kubernetes_event_shapes() {
        // as an exporter writes it: no `kind`
        let e = parse(r#"{"reason":"OOMKilled","type":"Warning","message":"killed","involvedObject":{"kind":"Pod","name":"foley-infer-1"},"@timestamp":"2025-09-01T14:23:12Z"}"#, 0).expect("parses");
        assert_eq!((e.source, e.level, e.ts_ms), (Source::Scheduler, Level::Error, Some(1_756_736_592_000)));
        // events.k8s.io/v1: `note`, `regarding`, `eventTime` with microseconds
        let e = parse(r#"{"kind":"Event","apiVersion":"events.k8s.io/v1","reason":"OOMKilled","note":"killed","regarding":{"kind":"Pod","name":"foley-infer-2"},"eventTime":"2025-09-01T14:23:12.123456Z"}"#, 0).expect("parses");
        assert_eq!(e.ts_ms, Some(1_756_736_592_123));
        assert_eq!(e.message, "OOMKilled: killed");
        assert_eq!(e.field("object.name").as_deref(), Some("foley-infer-2"));
        // an event with no time at all stays untimed here (the pipeline gives it one)
        let e = parse(r#"{"kind":"Event","reason":"OOMKilled","involvedObject":{"name":"p"}}"#, 0).expect("parses");
        assert_eq!(e.ts_ms, None);
    }

    #[test]
    fn docker_and_record_times() {
        let at = Some(1_756_736_592_004);
        let e = parse(r#"{"log":"plain text\n","stream":"stdout","@timestamp":"2025-09-01T14:23:12.004Z"}"#, 0)
            .expect("parses");
        assert_eq!(e.ts_ms, at);
        let e = parse(r#"{"log":"plain text\n","stream":"stdout","time":1756736592004}"#, 0).expect("parses");
        assert_eq!(e.ts_ms, at);
        // a record's fields in the documented order, whatever their order in the line
        let e = parse(
            r#"{"ts":1756736600,"asctime":"2025-09-01 14:23:12,004","time":"2025-09-01T14:23:12.004Z","message":"m"}"#,
            0,
        )
        .expect("parses");
        assert_eq!(e.ts_ms, at);
        // nanoseconds, microseconds, seconds with a fraction
        for ts in ["1756736592004000000", "1756736592004000", "1756736592.004"] {
            let e = parse(&format!(r#"{{"ts":{ts},"message":"m"}}"#), 0).expect("parses");
            assert_eq!(e.ts_ms, at, "{ts}");
        }
    }

    #[test]
    fn not_json() {
        assert!(parse("{broken", 0).is_none());
        assert!(parse("[1,2]", 0).is_none());
        assert!(parse("plain", 0).is_none());
    }
}
