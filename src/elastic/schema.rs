//! The documents `ship` writes: one per event, with the enrichment the console needs already
//! computed (component, rule, template, unknown template, latency bin), into daily indices
//! `<prefix>-YYYY.MM.dd`, with ids derived from file and offset so that shipping twice is harmless.

use crate::enrich::{Attribution, Enriched, Enricher};
use crate::event::{Event, Origin};
use serde_json::{Map, Value, json};

/// The field holding when `ship` sent the document (ms): the live tail follows it, so that a
/// document with an older `@timestamp` that arrives late is still shown (ECS `event.ingested`).
pub const INGESTED: &str = "ingested";

/// The version of the mapping below, kept in the template's `_meta` (3: `template`, every error
/// and warning's template, for the Patterns screen).
pub const SCHEMA_VERSION: u32 = 3;

/// Longest message indexed whole in `message.keyword`.
pub const MESSAGE_KEYWORD_MAX: u32 = 1024;

/// Index template so that strings are keywords and numbers are doubles from the first document.
pub fn index_template(prefix: &str) -> Value {
    let keyword = json!({"type": "keyword", "ignore_above": 1024});
    let mut properties = Map::new();
    properties
        .insert("@timestamp".into(), json!({"type": "date", "format": "epoch_millis||strict_date_optional_time"}));
    for field in super::fields::KEYWORD_FIELDS {
        properties.insert(field.into(), keyword.clone());
    }
    for field in ["latency_ms", "gpu_mem_bytes", "gpu_util_pct"] {
        properties.insert(field.into(), json!({"type": "double"}));
    }
    for field in ["latency_bin", "http_status", "lines"] {
        properties.insert(field.into(), json!({"type": "integer"}));
    }
    properties.insert("log_offset".into(), json!({"type": "long"}));
    properties.insert(INGESTED.into(), json!({"type": "date", "format": "epoch_millis"}));
    for field in ["parsed", "is_error", "job_outcome"] {
        properties.insert(field.into(), json!({"type": "boolean"}));
    }
    // the message is searchable text (Kibana's free-text search), with a keyword sub-field for
    // exact filters and aggregations, capped so that a huge message does not fail the document
    properties.insert(
        "message".into(),
        json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": MESSAGE_KEYWORD_MAX}}}),
    );
    // the raw line (only with `ship --keep-raw`) is for reading, not searching
    properties.insert("raw".into(), json!({"type": "text", "index": false}));
    json!({
        "index_patterns": [format!("{prefix}-*")],
        "template": {"settings": {"number_of_shards": 1}, "mappings": {"properties": properties}}
    })
}

/// `<prefix>-YYYY.MM.dd` of the event's UTC date, or `<prefix>-undated`.
pub fn index_name(prefix: &str, ts_ms: Option<i64>) -> String {
    match ts_ms.and_then(chrono::DateTime::from_timestamp_millis) {
        Some(t) => format!("{prefix}-{}", t.format("%Y.%m.%d")),
        None => format!("{prefix}-undated"),
    }
}

/// A stable id (FNV-1a, 64 bits) from the file's path and the event's offset.
pub fn document_id(path: &str, offset: u64) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes().chain(offset.to_le_bytes()) {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The document for one event.
pub fn document(
    enricher: &Enricher,
    event: &Event<'_>,
    enriched: &Enriched,
    origin: Origin,
    raw: &[u8],
    path: &str,
) -> Value {
    use crate::text::sanitize_owned as clean;
    let mut doc = Map::new();
    if let Some(ts) = event.ts_ms {
        doc.insert("@timestamp".into(), json!(ts));
    }
    doc.insert("level".into(), json!(event.level.as_str()));
    doc.insert("source".into(), json!(event.source.as_str()));
    doc.insert("component".into(), json!(enricher.components.name(enriched.component)));
    doc.insert("parsed".into(), json!(event.parsed));
    doc.insert("lines".into(), json!(1 + event.continuation_lines));
    doc.insert("is_error".into(), json!(enriched.is_error));
    if let Some(code) = event.error_code.as_deref() {
        doc.insert("error_code".into(), json!(clean(code, 128)));
        doc.insert("error_category".into(), json!(crate::enrich::component::error_category(code)));
    }
    if let Some(v) = event.video_id.as_deref() {
        doc.insert("video_id".into(), json!(clean(v, 128)));
    }
    if let Some(r) = event.request_id.as_deref() {
        doc.insert("request_id".into(), json!(clean(r, 128)));
    }
    doc.insert("message".into(), json!(clean(&event.message, 512)));
    if let Some(ms) = event.latency_ms.filter(|v| v.is_finite() && *v >= 0.0) {
        doc.insert("latency_ms".into(), json!(ms));
        doc.insert("latency_bin".into(), json!(crate::stats::histogram::bin_of(ms)));
    }
    if let Some(v) = event.gpu_mem_bytes.filter(|v| v.is_finite()) {
        doc.insert("gpu_mem_bytes".into(), json!(v));
    }
    if let Some(v) = event.gpu_util_pct.filter(|v| v.is_finite()) {
        doc.insert("gpu_util_pct".into(), json!(v));
    }
    if let Some(s) = event.http_status {
        doc.insert("http_status".into(), json!(s));
    }
    doc.insert("job_outcome".into(), json!(event.job_outcome && event.video_id.is_some()));
    // every error and warning's template (the Patterns screen), keyed as the files key it; an
    // unknown error's also in `unknown_template` (the overview's panel, and older readers)
    let template = crate::stats::templates::wanted(event, enriched).then(|| crate::patterns::unknown_template(event));
    match enriched.attribution {
        Attribution::Rule(id) => {
            if let Some(rule) = enricher.rule(id) {
                doc.insert("rule".into(), json!(rule.spec.id));
            }
        }
        Attribution::Unknown => {
            let unknown = template.clone().unwrap_or_else(|| crate::patterns::unknown_template(event));
            doc.insert("unknown_template".into(), json!(unknown));
        }
        Attribution::None => {}
    }
    if let Some(t) = template {
        doc.insert("template".into(), json!(t));
    }
    doc.insert("raw".into(), json!(clean(&String::from_utf8_lossy(raw), crate::event::MAX_KEPT_CHARS)));
    doc.insert("log_file".into(), json!(path));
    doc.insert("log_offset".into(), json!(origin.offset));
    Value::Object(doc)
}

/// An owned event back from a shipped document (drill-down and tail over a cluster).
pub fn owned_from_document(source: &Value, file_index: u32) -> crate::event::OwnedEvent {
    use crate::text::sanitize_owned as clean;
    let text = |k: &str| source[k].as_str().map(|s| clean(s, crate::event::MAX_KEPT_CHARS));
    let level = source["level"].as_str().and_then(crate::event::Level::parse).unwrap_or_default();
    crate::event::OwnedEvent {
        ts_ms: source["@timestamp"]
            .as_i64()
            .or_else(|| source["@timestamp"].as_str().and_then(|t| crate::parse::time::parse_any(t, 0))),
        level,
        source: source["source"].as_str().and_then(crate::event::Source::parse).unwrap_or_default(),
        parsed: source["parsed"].as_bool().unwrap_or(true),
        component: text("component").unwrap_or_default(),
        video_id: text("video_id"),
        request_id: text("request_id"),
        error_code: text("error_code"),
        message: text("message").unwrap_or_default(),
        latency_ms: source["latency_ms"].as_f64(),
        fields: Vec::new(),
        raw: text("raw").or_else(|| text("message")).unwrap_or_default(),
        origin: Origin { file: file_index, offset: source["log_offset"].as_u64().unwrap_or(0) },
        rule: text("rule"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(index_name("hunyuan-foley", Some(1_756_736_591_000)), "hunyuan-foley-2025.09.01");
        assert_eq!(index_name("hunyuan-foley", None), "hunyuan-foley-undated");
        assert_eq!(document_id("/a.log", 10), document_id("/a.log", 10));
        assert_ne!(document_id("/a.log", 10), document_id("/a.log", 11));
        assert_ne!(document_id("/a.log", 10), document_id("/b.log", 10));
    }
}
