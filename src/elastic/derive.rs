//! Indices filled by Filebeat or Logstash rather than by `ship`: field-name presets (`ecs` for
//! Filebeat, `logstash` for Logstash's defaults, `seed` for the seed's grok + kv filter), detected
//! from `_field_caps` when not given; and, for an index without the fields `ship` computes
//! (`component`, `is_error`, `rule`, …), the overview derived here: the window's log lines are read
//! back from the documents, in file order, and go through the very pipeline the files go through
//! (parsing, traceback joining, enrichment, statistics), so that errors, components, codes and
//! attribution are the files' own. That costs documents rather than aggregations: the number read
//! is said in the header, and past [`DERIVE_MAX`] documents the numbers are from the first ones only
//! (said too).

use super::EsError;
use super::client::EsClient;
use crate::enrich::Enricher;
use crate::pipeline::{NoSink, PipelineOptions};
use crate::stats::Stats;
use serde_json::Value;
use std::collections::BTreeMap;

/// The field-name presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// What `ship` writes: nothing to derive.
    Ours,
    /// Filebeat's ECS names (`log.level`, `error.code`, `labels.video_id`, `log.file.path`, …).
    Ecs,
    /// Logstash's defaults: the line in `message`, the file in `log.file.path`.
    Logstash,
    /// The seed's Logstash filter (grok + kv): `level`, `video_id`, `error_code`, … at the top.
    Seed,
}

impl Preset {
    pub fn parse(name: &str) -> Option<Preset> {
        match name {
            "ours" | "ship" => Some(Preset::Ours),
            "ecs" | "filebeat" => Some(Preset::Ecs),
            "logstash" => Some(Preset::Logstash),
            "seed" => Some(Preset::Seed),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Ours => "ours",
            Preset::Ecs => "ecs",
            Preset::Logstash => "logstash",
            Preset::Seed => "seed",
        }
    }

    /// Our field name → the index's, for this preset.
    pub fn renames(self) -> BTreeMap<String, String> {
        let pairs: &[(&str, &str)] = match self {
            Preset::Ours => &[],
            Preset::Ecs => &[
                ("level", "log.level"),
                ("error_code", "error.code"),
                ("video_id", "labels.video_id"),
                ("request_id", "labels.request_id"),
                ("log_file", "log.file.path"),
                ("log_offset", "log.offset"),
            ],
            Preset::Logstash | Preset::Seed => &[("log_file", "log.file.path"), ("log_offset", "log.offset")],
        };
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// Whether the overview is derived here (the index lacks the fields `ship` computes).
    pub fn derived(self) -> bool {
        self != Preset::Ours
    }
}

/// The fields `_field_caps` is asked about to choose a preset.
pub const DETECT_FIELDS: [&str; 9] = [
    "component",
    "is_error",
    "log.level",
    "error.code",
    "labels.video_id",
    "level",
    "video_id",
    "error_code",
    "message",
];

/// The preset an index's fields point to: ours when `ship` wrote it, ECS when Filebeat's names are
/// there, the seed's when its kv fields are, Logstash's defaults when there is a `message` and no
/// more; ours when nothing tells (an empty index).
pub fn detect(caps: &Value) -> Preset {
    let has = |f: &str| caps["fields"][f].is_object();
    if has("component") && has("is_error") {
        Preset::Ours
    } else if has("log.level") || has("error.code") || has("labels.video_id") {
        Preset::Ecs
    } else if has("level") || has("video_id") || has("error_code") {
        Preset::Seed
    } else if has("message") {
        Preset::Logstash
    } else {
        Preset::Ours
    }
}

/// Documents read per page, and at most per overview.
pub const PAGE: usize = 5_000;
pub const DERIVE_MAX: usize = 2_000_000;

/// A value at a dotted path, whether the document nests it (`{"log":{"file":…}}`) or not.
pub fn at_path<'a>(source: &'a Value, path: &str) -> &'a Value {
    if let Some(v) = source.get(path) {
        return v;
    }
    let mut current = source;
    for part in path.split('.') {
        current = &current[part];
    }
    current
}

/// Statistics derived from the window's documents, and how many documents were read (with
/// whether the cap cut it short).
pub struct Derived {
    pub stats: Stats,
    pub documents: usize,
    pub capped: bool,
    /// The files read, in the order of the events' `origin.file`.
    pub files: Vec<String>,
}

/// Reads the documents with times in `range` (or all), groups their lines by file in offset
/// order, and runs each file's lines through the file pipeline with `window` (so that events
/// outside it are counted as filtered, as with files).
pub fn derive(
    client: &EsClient,
    enricher: &Enricher,
    range: Option<(i64, i64)>,
    pipeline: PipelineOptions,
    bucket_ms: i64,
) -> Result<Derived, EsError> {
    derive_into(client, enricher, range, pipeline, bucket_ms, &mut NoSink)
}

/// [`derive`], handing each event to `sink` too (with its file's index, in file and offset order):
/// the lines of a span on such an index, as the files give them.
pub fn derive_into(
    client: &EsClient,
    enricher: &Enricher,
    range: Option<(i64, i64)>,
    pipeline: PipelineOptions,
    bucket_ms: i64,
    sink: &mut dyn crate::pipeline::EventSink,
) -> Result<Derived, EsError> {
    let file_field = client.fields.name("log_file").to_string();
    let file_sort = client.fields.query_name("log_file");
    let offset_field = client.fields.name("log_offset").to_string();
    let pit = client.open_pit("2m").ok();
    let mut files: BTreeMap<String, Vec<(u64, i64, String)>> = BTreeMap::new();
    let mut after: Option<Value> = None;
    let mut documents = 0usize;
    let mut capped = false;
    loop {
        let body = super::queries::lines_page(
            &super::queries::LineFields { file: &file_field, file_sort: &file_sort, offset: &offset_field },
            range,
            PAGE,
            after.as_ref(),
            pit.as_deref(),
        );
        // sent as it is: the field names are the index's already
        let answer = match &pit {
            Some(_) => client.post("/_search", &body)?,
            None => client.post(&format!("/{}/_search", client.options.index), &body)?,
        };
        let hits = answer["hits"]["hits"].as_array().cloned().unwrap_or_default();
        for hit in &hits {
            let source = &hit["_source"];
            let line = at_path(source, "event.original").as_str().or_else(|| source["message"].as_str());
            let Some(line) = line else { continue };
            let file = at_path(source, &file_field).as_str().unwrap_or("").to_string();
            let offset = at_path(source, &offset_field).as_u64().unwrap_or(u64::MAX);
            let time = source["@timestamp"].as_i64().unwrap_or(i64::MIN);
            files.entry(file).or_default().push((offset, time, line.trim_end_matches(['\n', '\r']).to_string()));
        }
        documents += hits.len();
        after = hits.last().and_then(|h| h.get("sort").cloned());
        if hits.len() < PAGE || after.is_none() {
            break;
        }
        if documents >= DERIVE_MAX {
            capped = true;
            break;
        }
    }
    if let Some(id) = pit {
        client.close_pit(&id);
    }
    let default_offset = pipeline.default_offset;
    let mut stats = Stats::new(enricher.components.len(), bucket_ms);
    let names: Vec<String> = files.keys().cloned().collect();
    for (index, (_, mut lines)) in files.into_iter().enumerate() {
        lines.sort_by_key(|(offset, time, _)| (*offset, *time));
        let mut text = String::with_capacity(lines.iter().map(|l| l.2.len() + 1).sum());
        for (_, _, line) in &lines {
            text.push_str(line);
            text.push('\n');
        }
        let format = crate::source::detect_format(text.as_bytes(), default_offset);
        let settings = crate::pipeline::IngestSettings { options: pipeline, bucket_ms };
        let mut ingestor = settings.ingestor(enricher, format, index as u32);
        let mut forward = |e: &crate::event::Event<'_>,
                           en: &crate::enrich::Enriched,
                           o: crate::event::Origin,
                           r: &[u8]| { sink.event(e, en, o, r) };
        ingestor.ingest_block(text.as_bytes(), 0, true, &mut forward);
        stats.merge(ingestor.stats);
    }
    stats.settle();
    Ok(Derived { stats, documents, capped, files: names })
}

/// The event of a document of an index whose fields are derived here: its line (`event.original`,
/// else `message`) parsed and enriched as the files' lines are; `None` without a line.
pub fn owned_from_line(
    source: &Value,
    enricher: &Enricher,
    fields: &super::fields::FieldMap,
    file_index: u32,
    default_offset: i64,
) -> Option<crate::event::OwnedEvent> {
    let line = at_path(source, "event.original").as_str().or_else(|| source["message"].as_str())?;
    let line = line.trim_end_matches(['\n', '\r']);
    let parser =
        crate::parse::LineParser::new(crate::source::detect_format(line.as_bytes(), default_offset), default_offset);
    let mut event = parser.parse(line);
    if event.ts_ms.is_none() {
        // a line without its own time (a traceback's) keeps the document's
        event.ts_ms = source["@timestamp"]
            .as_i64()
            .or_else(|| source["@timestamp"].as_str().and_then(|t| crate::parse::time::parse_any(t, 0)));
    }
    let enriched = enricher.enrich(&event);
    let offset = at_path(source, fields.name("log_offset")).as_u64().unwrap_or(0);
    let origin = crate::event::Origin { file: file_index, offset };
    let rule = match enriched.attribution {
        crate::enrich::Attribution::Rule(id) => enricher.rule(id).map(|r| r.spec.id.as_str()),
        _ => None,
    };
    Some(crate::event::OwnedEvent::from_event(&event, line, origin, enricher.components.name(enriched.component), rule))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn presets_are_detected_from_field_caps() {
        let caps = |fields: &[&str]| {
            let map: serde_json::Map<String, Value> =
                fields.iter().map(|f| (f.to_string(), json!({"keyword": {"type": "keyword"}}))).collect();
            json!({"fields": map})
        };
        assert_eq!(detect(&caps(&["component", "is_error", "level"])), Preset::Ours);
        assert_eq!(detect(&caps(&["log.level", "message"])), Preset::Ecs);
        assert_eq!(detect(&caps(&["level", "video_id"])), Preset::Seed);
        assert_eq!(detect(&caps(&["message"])), Preset::Logstash);
        assert_eq!(detect(&caps(&[])), Preset::Ours, "nothing tells");
        assert_eq!(Preset::Ecs.renames()["video_id"], "labels.video_id");
        assert_eq!(Preset::parse("filebeat"), Some(Preset::Ecs));
    }

    #[test]
    fn dotted_paths_nested_or_flat() {
        let nested = json!({"log": {"file": {"path": "/a.log"}}});
        let flat = json!({"log.file.path": "/b.log"});
        assert_eq!(at_path(&nested, "log.file.path"), "/a.log");
        assert_eq!(at_path(&flat, "log.file.path"), "/b.log");
        assert!(at_path(&flat, "nope.x").is_null());
    }
}
