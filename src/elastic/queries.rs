//! Every request body the console sends to a cluster, in one place: the overview's aggregations,
//! the newest document, the live tail, and a video's related documents. The callers turn the
//! answers into the engine's types; field names here are ours (see [`super::fields`] for renames).

use serde_json::{Value, json};

/// Rules fetched per failing video (those of its latest failures), to choose among those sharing
/// the last millisecond; and the key that stands for "no rule" (unknown errors).
const LATEST_RULES: usize = 4;
const NO_RULE: &str = "(no rule)";

/// Failing videos and unknown templates fetched per refresh (the screens show fewer).
pub const TOP_VIDEOS: usize = 500;
pub const TOP_PATTERNS: usize = 200;

/// Which part of the overview a query asks for: the console asks for the cheap counts first and
/// the lists after (a slow cluster then shows the counts while the lists load, or fail alone);
/// the report asks for the whole in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Totals, the time series (events, errors, levels, sources, components, latency, jobs, GPU),
    /// first and last times: what the error rate, the sparklines and the health need.
    Counts,
    /// Codes and rules per bucket, the failing videos, the unknown templates: what the codes,
    /// causes, top videos, templates and alerts need.
    Lists,
    /// Both in one request.
    Whole,
}

fn per_bucket_aggs(part: Part) -> Value {
    let mut aggs = per_bucket_counts();
    if part == Part::Lists {
        aggs = json!({});
    }
    if part != Part::Counts {
        aggs["codes"] = json!({"terms": {"field": "error_code", "size": 500}});
        aggs["rules"] = json!({"terms": {"field": "rule", "size": 500}});
    }
    aggs
}

fn per_bucket_counts() -> Value {
    json!({
        "levels": {"terms": {"field": "level", "size": 10}},
        "sources": {"terms": {"field": "source", "size": 10}},
        "components": {"terms": {"field": "component", "size": 50}, "aggs": {
            "errors": {"filter": {"term": {"is_error": true}}},
            "bins": {"terms": {"field": "latency_bin", "size": 700}},
            "latency": {"stats": {"field": "latency_ms"}}
        }},
        "unknown": {"filter": {"exists": {"field": "unknown_template"}}},
        "errors": {"filter": {"term": {"is_error": true}}},
        "jobs": {"filter": {"term": {"job_outcome": true}}, "aggs": {
            "failed": {"filter": {"term": {"is_error": true}}},
            "good_by_component": {"filter": {"term": {"is_error": false}}, "aggs": {"c": {"terms": {"field": "component", "size": 50}}}}
        }},
        "gpu_mem": {"stats": {"field": "gpu_mem_bytes"}},
        "gpu_util": {"stats": {"field": "gpu_util_pct"}}
    })
}

/// What one overview query covers besides the window's aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The headless report: totals of the whole index too (line counts, first and last time),
    /// which cost a pass over every document — fine once, not on every refresh.
    Report,
    /// A console refresh: only documents from the window's start on (no upper bound, so that new
    /// documents move the window), plus the lines of the documents newer than `newer_than` (the
    /// newest time seen so far) for the ingest rate. Its cost follows the window, not the index.
    /// Documents later than `ceiling` (now plus the future tolerance) are left out: a clock gone
    /// wrong must not stretch the window nor become its end.
    Live { newer_than: i64, ceiling: i64 },
}

/// The aggregation query for documents with times in `[from, to]` (ms, inclusive), or everything.
pub fn overview(bucket_ms: i64, range: Option<(i64, i64)>, scope: Scope) -> Value {
    overview_part(bucket_ms, range, scope, Part::Whole)
}

/// One [`Part`] of [`overview`]'s query: the same filter, the aggregations of that part only.
pub fn overview_part(bucket_ms: i64, range: Option<(i64, i64)>, scope: Scope, part: Part) -> Value {
    let interval = format!("{bucket_ms}ms");
    let filter = match (range, scope) {
        (Some((from, _)), Scope::Live { ceiling, .. }) => {
            json!({"range": {"@timestamp": {"gte": from, "lte": ceiling, "format": "epoch_millis"}}})
        }
        (Some((from, to)), Scope::Report) => {
            json!({"range": {"@timestamp": {"gte": from, "lte": to, "format": "epoch_millis"}}})
        }
        (None, _) => json!({"match_all": {}}),
    };
    let mut aggs = json!({
        "series": {"date_histogram": {"field": "@timestamp", "fixed_interval": interval, "min_doc_count": 1}, "aggs": per_bucket_aggs(part)},
    });
    if part != Part::Counts {
        aggs["videos"] = json!({"filter": {"bool": {"filter": [{"exists": {"field": "error_code"}}, {"exists": {"field": "video_id"}}]}}, "aggs": {
            "ids": video_ids(&interval, TOP_VIDEOS)
        }});
        aggs["patterns"] = json!({"terms": {"field": "unknown_template", "size": TOP_PATTERNS}, "aggs": {
            "first": {"min": {"field": "@timestamp"}},
            "last": {"max": {"field": "@timestamp"}},
            "earliest": {"top_hits": {"size": 1, "sort": [{"@timestamp": {"order": "asc"}}], "_source": ["message"]}},
            "per_bucket": {"date_histogram": {"field": "@timestamp", "fixed_interval": interval, "min_doc_count": 1}}
        }});
    }
    match scope {
        // the lists need no totals
        _ if part == Part::Lists => {}
        Scope::Report => {
            aggs["all"] = json!({"global": {}, "aggs": {
                "first": {"min": {"field": "@timestamp"}},
                "last": {"max": {"field": "@timestamp"}},
                "lines": {"sum": {"field": "lines"}},
                "parsed": {"filter": {"term": {"parsed": true}}},
                "untimed": {"filter": {"bool": {"must_not": {"exists": {"field": "@timestamp"}}}}},
                "sources": {"terms": {"field": "source", "size": 10}}
            }});
            if let Some((from, to)) = range {
                // `--since/--until`: the data's span inside the window, and the lines outside it
                // (timed documents only, as the files count them)
                aggs["first"] = json!({"min": {"field": "@timestamp"}});
                aggs["last"] = json!({"max": {"field": "@timestamp"}});
                aggs["all"]["aggs"]["outside"] = json!({"filter": {"bool": {
                    "filter": [{"exists": {"field": "@timestamp"}}],
                    "must_not": [{"range": {"@timestamp": {"gte": from, "lte": to, "format": "epoch_millis"}}}]
                }}, "aggs": {"lines": {"sum": {"field": "lines"}}}});
            }
        }
        Scope::Live { newer_than, .. } => {
            aggs["first"] = json!({"min": {"field": "@timestamp"}});
            aggs["last"] = json!({"max": {"field": "@timestamp"}});
            aggs["newer"] = json!({"filter": {"range": {"@timestamp": {"gt": newer_than, "format": "epoch_millis"}}},
                "aggs": {"lines": {"sum": {"field": "lines"}}}});
        }
    }
    if range.is_none() {
        aggs["untimed_events"] = json!({"filter": {"bool": {"must_not": {"exists": {"field": "@timestamp"}}}}, "aggs": per_bucket_aggs(part)});
    }
    // the live refresh counts from its aggregations; only the report wants the exact total
    let exact_total = scope == Scope::Report && part != Part::Lists;
    json!({"size": 0, "track_total_hits": exact_total, "query": filter, "aggs": aggs})
}

/// Failing videos by id (`size` at most), each with what its row needs: codes, first and last
/// time, the rules of its latest failures, its latest request, failures per bucket.
fn video_ids(interval: &str, size: usize) -> Value {
    json!({"terms": {"field": "video_id", "size": size}, "aggs": {
        "codes": {"terms": {"field": "error_code", "size": 20}},
        "first": {"min": {"field": "@timestamp"}},
        "last": {"max": {"field": "@timestamp"}},
        "rules": {"terms": {"field": "rule", "size": LATEST_RULES, "missing": NO_RULE, "order": {"at": "desc"}}, "aggs": {"at": {"max": {"field": "@timestamp"}}}},
        "with_request": {"filter": {"exists": {"field": "request_id"}}, "aggs": {
            "latest": {"top_hits": {"size": 1, "sort": [{"@timestamp": {"order": "desc"}}, {"request_id": {"order": "desc", "unmapped_type": "keyword"}}], "_source": ["request_id", "@timestamp"]}}
        }},
        "per_bucket": {"date_histogram": {"field": "@timestamp", "fixed_interval": interval, "min_doc_count": 1}}
    }})
}

/// Every video that failed with `code` in `[from, to]` (ms, inclusive; `None`: all), for the codes
/// screen: the overview's per-video aggregations on the documents with that code, up to `size`
/// videos (ranked by their failures with it).
pub fn code_videos(bucket_ms: i64, range: Option<(i64, i64)>, code: &str, size: usize) -> Value {
    let interval = format!("{bucket_ms}ms");
    let mut filter = vec![json!({"term": {"error_code": code}}), json!({"exists": {"field": "video_id"}})];
    if let Some((from, to)) = range {
        filter.push(json!({"range": {"@timestamp": {"gte": from, "lte": to, "format": "epoch_millis"}}}));
    }
    json!({
        "size": 0,
        "query": {"bool": {"filter": filter}},
        "aggs": {"videos": {"filter": {"match_all": {}}, "aggs": {"ids": video_ids(&interval, size)}}}
    })
}

/// The newest document's time no later than `ceiling_ms` (now plus the future tolerance: a
/// document dated 2099 must not anchor "the last hour"), by a sorted search of one hit: servers
/// stop early on a sorted field, where a `max` aggregation visits every document (4x slower on
/// the test server).
pub fn newest(ceiling_ms: i64) -> Value {
    json!({
        "size": 1, "_source": false, "track_total_hits": false,
        "sort": [{"@timestamp": {"order": "desc"}}],
        "query": {"range": {"@timestamp": {"lte": ceiling_ms, "format": "epoch_millis"}}}
    })
}

/// The order that keeps documents apart when they share a millisecond: time, file, offset.
pub fn document_order(order: &str) -> Value {
    json!([{"@timestamp": order}, {"log_file": order}, {"log_offset": order}])
}

/// The live tail's order: `field` (the ingest time when the index has one, else `@timestamp`),
/// then file and offset (absent from indices filled by other pipelines: unmapped is fine).
fn tail_order(field: &str, order: &str) -> Value {
    json!([
        {field: {"order": order}},
        {"log_file": {"order": order, "unmapped_type": "keyword"}},
        {"log_offset": {"order": order, "unmapped_type": "long"}}
    ])
}

/// Documents per page of the live tail.
pub const TAIL_PAGE: usize = 1000;

/// A page of the live tail: documents whose `field` is at or after `floor` (a look-back behind
/// the newest seen, so that late arrivals are caught; the caller drops those already shown),
/// oldest first, after `after` (sort values) within one poll.
pub fn tail_since(field: &str, floor: i64, after: Option<&Value>) -> Value {
    let mut body = json!({
        "size": TAIL_PAGE,
        "sort": tail_order(field, "asc"),
        "query": {"range": {field: {"gte": floor, "format": "epoch_millis"}}}
    });
    if let Some(a) = after {
        body["search_after"] = a.clone();
    }
    body
}

/// The tail's first page: the newest documents by `field`, newest first (the caller reverses).
pub fn tail_start(field: &str) -> Value {
    json!({
        "size": 500,
        "sort": tail_order(field, "desc"),
        "query": {"exists": {"field": field}}
    })
}

/// One page of a video's documents in time order, after `after` (sort values) when given, inside
/// the point in time `pit` when given.
pub fn related_page(video_id: &str, page: usize, after: Option<&Value>, pit: Option<&str>) -> Value {
    let mut body = json!({
        "size": page,
        "sort": document_order("asc"),
        "query": {"term": {"video_id": video_id}}
    });
    if let Some(a) = after {
        body["search_after"] = a.clone();
    }
    if let Some(id) = pit {
        body["pit"] = json!({"id": id, "keep_alive": "1m"});
    }
    body
}

/// A page of the documents that may name a video on an index whose fields are derived here: its
/// `video_id` field where the index has one, or the id as a phrase of the line (the lines are
/// parsed here and those of another video dropped).
pub fn related_text_page(video_id: &str, page: usize, after: Option<&Value>, pit: Option<&str>) -> Value {
    let mut body = related_page(video_id, page, after, pit);
    body["query"] = json!({"bool": {"should": [
        {"term": {"video_id": video_id}},
        {"match_phrase": {"message": video_id}},
        {"match_phrase": {"event.original": video_id}}
    ], "minimum_should_match": 1}});
    body
}

/// Which field a template filter looks in: `unknown_template` (unknown errors only), or
/// `template` (every error and warning; indices shipped by older versions lack it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateField {
    Unknown,
    Any,
}

impl TemplateField {
    fn name(self) -> &'static str {
        match self {
            TemplateField::Unknown => "unknown_template",
            TemplateField::Any => "template",
        }
    }
}

/// The lines of a time span (the console's context and the lines of a panel), in document order:
/// a range on `@timestamp`, with the error code (exact, or a `PREFIX*` glob) and the template (in
/// the field said) when given; `size` at most.
pub fn lines_in_span(
    from_ms: i64,
    to_ms: i64,
    code: Option<&str>,
    template: Option<(&str, TemplateField)>,
    query: Option<&crate::query::Query>,
    size: usize,
) -> Value {
    let mut filter = vec![json!({"range": {"@timestamp": {"gte": from_ms, "lte": to_ms, "format": "epoch_millis"}}})];
    if let Some(q) = query {
        filter.push(crate::query::dsl::to_dsl(q));
    }
    match code.map(|c| (c, c.strip_suffix('*'))) {
        Some((_, Some(prefix))) => filter.push(json!({"prefix": {"error_code": prefix}})),
        Some((code, None)) => filter.push(json!({"term": {"error_code": code}})),
        None => {}
    }
    match template {
        // grouped by the miner: `<*>` is any one word
        Some((t, field)) if t.contains(crate::patterns::mask::ANY) => {
            let escaped: Vec<String> = t
                .split(crate::patterns::mask::ANY)
                .map(|part| part.replace('\\', "\\\\").replace('*', "\\*").replace('?', "\\?"))
                .collect();
            filter.push(json!({"wildcard": {field.name(): {"value": escaped.join("*")}}}));
        }
        Some((t, field)) => filter.push(json!({"term": {field.name(): t}})),
        None => {}
    }
    json!({"size": size, "sort": document_order("asc"), "query": {"bool": {"filter": filter}}})
}

/// The documents of a request (to find its video), in time order.
pub fn request_page(request_id: &str, page: usize) -> Value {
    json!({
        "size": page,
        "sort": document_order("asc"),
        "query": {"term": {"request_id": request_id}}
    })
}

/// One page of a free-text search, in time order: the phrase in `message`, or the text as a video
/// or request id; times in `[from, to]` when given. The first page counts every match
/// (`track_total_hits`); the next ones follow `after` (sort values) inside the point in time `pit`
/// when given.
pub fn search_page(
    text: &str,
    range: (Option<i64>, Option<i64>),
    page: usize,
    after: Option<&Value>,
    pit: Option<&str>,
) -> Value {
    let mut time = serde_json::Map::new();
    if let Some(from) = range.0 {
        time.insert("gte".into(), json!(from));
    }
    if let Some(to) = range.1 {
        time.insert("lte".into(), json!(to));
    }
    let mut filter = Vec::new();
    if !time.is_empty() {
        time.insert("format".into(), json!("epoch_millis"));
        filter.push(json!({"range": {"@timestamp": time}}));
    }
    let mut body = json!({
        "size": page,
        "sort": document_order("asc"),
        "track_total_hits": after.is_none(),
        "query": {"bool": {
            "filter": filter,
            "should": [
                {"match_phrase": {"message": text}},
                {"term": {"video_id": text}},
                {"term": {"request_id": text}}
            ],
            "minimum_should_match": 1
        }}
    });
    if let Some(a) = after {
        body["search_after"] = a.clone();
    }
    if let Some(id) = pit {
        body["pit"] = json!({"id": id, "keep_alive": "1m"});
    }
    body
}

/// The index's names of the fields that place a line: its file (and the name to sort on, a
/// keyword sub-field when the field is text) and its offset.
pub struct LineFields<'a> {
    pub file: &'a str,
    pub file_sort: &'a str,
    pub offset: &'a str,
}

/// A page of log lines for deriving the overview here (indices filled by Filebeat or Logstash):
/// the line and where it was, in file and offset order, with times in `range` (or all); inside
/// the point in time `pit` when given. Field names are the index's, not ours.
pub fn lines_page(
    fields: &LineFields<'_>,
    range: Option<(i64, i64)>,
    size: usize,
    after: Option<&Value>,
    pit: Option<&str>,
) -> Value {
    let query = match range {
        Some((from, to)) => json!({"range": {"@timestamp": {"gte": from, "lte": to, "format": "epoch_millis"}}}),
        None => json!({"match_all": {}}),
    };
    let mut body = json!({
        "size": size,
        "_source": ["message", "event.original", "@timestamp", fields.file, fields.offset],
        "query": query,
        "sort": [
            {fields.file_sort: {"order": "asc", "unmapped_type": "keyword"}},
            {fields.offset: {"order": "asc", "unmapped_type": "long"}},
            {"@timestamp": {"order": "asc"}}
        ],
        "track_total_hits": false
    });
    if let Some(a) = after {
        body["search_after"] = a.clone();
    }
    if let Some(id) = pit {
        body["pit"] = json!({"id": id, "keep_alive": "2m"});
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_their_cursor_and_point_in_time() {
        let first = related_page("vid_1", 10, None, None);
        assert_eq!(first["query"]["term"]["video_id"], "vid_1");
        assert!(first.get("search_after").is_none() && first.get("pit").is_none());
        let next = related_page("vid_1", 10, Some(&json!([1, "a", 2])), Some("p1"));
        assert_eq!(next["search_after"], json!([1, "a", 2]));
        assert_eq!(next["pit"]["id"], "p1");
        let page = tail_since("ingested", 5, Some(&json!([7])));
        assert_eq!(page["search_after"], json!([7]));
        assert_eq!(page["query"]["range"]["ingested"]["gte"], 5);
        assert_eq!(tail_start("@timestamp")["sort"][0]["@timestamp"]["order"], "desc");
    }

    #[test]
    fn line_pages_use_the_index_names() {
        let fields = LineFields { file: "log.file.path", file_sort: "log.file.path", offset: "log.offset" };
        let page = lines_page(&fields, Some((1, 2)), 10, Some(&json!(["a", 1])), Some("p"));
        assert_eq!(page["sort"][1]["log.offset"]["unmapped_type"], "long");
        assert_eq!(page["query"]["range"]["@timestamp"]["lte"], 2);
        assert_eq!(page["pit"]["id"], "p");
        assert_eq!(page["_source"][3], "log.file.path");
    }

    #[test]
    fn the_parts_split_the_whole_between_counts_and_lists() {
        let scope = Scope::Live { newer_than: 50, ceiling: 1_000 };
        let counts = overview_part(60_000, Some((0, 100)), scope, Part::Counts);
        let lists = overview_part(60_000, Some((0, 100)), scope, Part::Lists);
        let whole = overview(60_000, Some((0, 100)), scope);
        assert_eq!(counts["query"], whole["query"]);
        assert_eq!(lists["query"], whole["query"]);
        let per_bucket =
            |q: &Value| q["aggs"]["series"]["aggs"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert!(!per_bucket(&counts).contains(&"codes".to_string()) && per_bucket(&counts).contains(&"errors".into()));
        assert_eq!(per_bucket(&lists), ["codes", "rules"]);
        assert!(counts["aggs"].get("videos").is_none() && counts["aggs"].get("newer").is_some());
        assert!(lists["aggs"].get("videos").is_some() && lists["aggs"].get("patterns").is_some());
        assert!(lists["aggs"].get("newer").is_none() && lists["aggs"].get("last").is_none());
        let mut both: Vec<String> = per_bucket(&counts);
        both.extend(per_bucket(&lists));
        both.sort();
        let mut all = per_bucket(&whole);
        all.sort();
        assert_eq!(both, all, "every per-bucket aggregation in exactly one part");
        let report = overview_part(60_000, None, Scope::Report, Part::Lists);
        assert!(report["aggs"].get("all").is_none() && report["track_total_hits"] == false);
    }

    #[test]
    fn a_live_refresh_stops_at_the_future_tolerance_and_has_no_whole_index_totals() {
        let live = overview(60_000, Some((0, 100)), Scope::Live { newer_than: 50, ceiling: 1_000 });
        // no upper bound but now plus the future tolerance
        assert_eq!(live["query"]["range"]["@timestamp"]["lte"], 1_000);
        assert!(live["aggs"].get("all").is_none() && live["aggs"].get("newer").is_some());
        let report = overview(60_000, Some((0, 100)), Scope::Report);
        assert_eq!(report["query"]["range"]["@timestamp"]["lte"], 100);
        assert!(report["aggs"].get("all").is_some());
        assert_eq!(
            report["aggs"]["all"]["aggs"]["outside"]["filter"]["bool"]["must_not"][0]["range"]["@timestamp"]["gte"],
            0
        );
        assert!(report["aggs"].get("first").is_some(), "the span inside the window");
    }
}
