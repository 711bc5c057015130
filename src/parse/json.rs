//! JSON lines: python-json-logger records, Docker `json-file` lines (`{"log","stream","time"}`, the
//! `log` text unwrapped and parsed again — nested JSON or any other format), and Kubernetes events
//! (`OOMKilled`, `BackOff`, …). Timestamps, levels and fields are mapped; nested objects are
//! flattened with dotted keys (`involvedObject.name`).
//!
//! JSON is not the volume format, so this parser builds a `serde_json::Value` and owns its strings.

use super::{fields, time};
use crate::event::{Event, Field, Level, Source};
use serde_json::{Map, Value};
use std::borrow::Cow;

const TIME_KEYS: &[&str] =
    &["@timestamp", "timestamp", "time", "ts", "asctime", "lastTimestamp", "eventTime", "firstTimestamp"];
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

fn from_object<'a>(object: &Map<String, Value>, default_offset: i64, depth: u8) -> Event<'a> {
    if object.contains_key("log") && (object.contains_key("stream") || object.contains_key("time")) {
        return docker_line(object, default_offset, depth);
    }
    if object.get("kind").and_then(Value::as_str) == Some("Event") {
        return kubernetes_event(object, default_offset);
    }
    let mut event = Event { parsed: true, source: Source::Inference, ..Event::default() };
    let mut message: Option<String> = None;
    for (key, value) in object {
        let text = value_text(value);
        if TIME_KEYS.contains(&key.as_str()) && event.ts_ms.is_none() {
            event.ts_ms = match value {
                Value::Number(n) => n.as_f64().and_then(time::epoch_number_to_ms),
                _ => time::parse_any(&text, default_offset),
            };
        }
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
    let outer_time = object.get("time").and_then(Value::as_str).and_then(|t| time::parse_any(t, default_offset));
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
    let ts = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .filter_map(|k| object.get(*k).and_then(Value::as_str))
        .find_map(|t| time::parse_any(t, default_offset))
        .or_else(|| {
            object
                .get("metadata")
                .and_then(|m| m.get("creationTimestamp"))
                .and_then(Value::as_str)
                .and_then(|t| time::parse_any(t, default_offset))
        });
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
        message: Cow::Owned(format!("{reason}: {}", text("message"))),
        ..Event::default()
    };
    event.fields.push(Field { key: Cow::Borrowed("reason"), value: Cow::Owned(reason) });
    event.fields.push(Field { key: Cow::Borrowed("type"), value: Cow::Owned(kind) });
    if let Some(obj) = object.get("involvedObject").and_then(Value::as_object) {
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
    fn not_json() {
        assert!(parse("{broken", 0).is_none());
        assert!(parse("[1,2]", 0).is_none());
        assert!(parse("plain", 0).is_none());
    }
}
