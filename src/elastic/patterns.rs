//! The Patterns screen on a cluster: two aggregation requests (never documents) on the `template`
//! field `ship` writes for every error and warning, read into
//! [`crate::stats::cluster_rows::ClusterTemplates`] — [`data_query`] over all the templated
//! documents (each template's first and last time, example, errors, rules; the baseline's counts)
//! and [`window_query`] over the window's errors and warnings (counts, trend, components, videos)
//! — after the data's first and last times ([`bound_query`]). The rows are `stats::cluster_rows`',
//! the very groups the files show.

use crate::parse::time::TimeRange as Plausible;
use crate::stats::cluster_rows::{ClusterTemplates, InWindow, Seen, Shape};
use serde_json::{Value, json};

/// Templates asked for at most (as many as the files keep).
pub const TEMPLATES_MAX: usize = crate::stats::templates::MAX_TEMPLATES;
/// Components, rules and codes asked for per template or window at most.
const COMPONENTS_MAX: usize = 50;
const RULES_MAX: usize = 50;
const CODES_MAX: usize = 500;
/// Distinct videos are counted exactly up to about this many (HyperLogLog++ beyond: approximate).
pub const VIDEOS_EXACT: u64 = 3_000;

fn range(from_ms: i64, to_ms: i64) -> Value {
    json!({"range": {"@timestamp": {"gte": from_ms, "lte": to_ms, "format": "epoch_millis"}}})
}

/// Plausible times only (as the files bucket them): after the floor, before now plus the future
/// tolerance.
fn plausible(limits: Plausible) -> Value {
    range(limits.floor_ms, limits.ceiling_ms)
}

/// The order the files read lines in, as near as a cluster knows it: time, file, offset.
fn line_order() -> Value {
    json!([
        {"@timestamp": {"order": "asc"}},
        {"log_file": {"order": "asc", "unmapped_type": "keyword"}},
        {"log_offset": {"order": "asc", "unmapped_type": "long"}}
    ])
}

/// The data's first (`asc`) or last (`desc`) plausible time, every document's: a sorted search of
/// one hit, which servers stop early (a `min`/`max` aggregation over the index visits every
/// document: 2 s against 0.1-0.3 s on the test server's 100,000 documents).
pub fn bound_query(limits: Plausible, order: &str) -> Value {
    json!({
        "size": 1, "_source": false, "track_total_hits": false,
        "sort": [{"@timestamp": {"order": order}}],
        "query": plausible(limits)
    })
}

/// Reads the answer to [`bound_query`].
pub fn read_bound(answer: &Value) -> Option<i64> {
    let at = &answer["hits"]["hits"][0]["sort"][0];
    at.as_i64().or_else(|| at.as_f64().map(|f| f as i64))
}

/// Over all the templated documents (the files' "first seen in all the data read"), per template:
/// error lines, unknown ones, rules, first and last time and its earliest line's message (of its
/// first line read when none is plausibly timed); and when `baseline` (ms, inclusive, whole buckets)
/// is given, the lines per template and per code in it (every line with a code is an error, so
/// templated).
pub fn data_query(limits: Plausible, baseline: Option<(i64, i64)>) -> Value {
    let mut aggs = json!({
        "templates": {"terms": {"field": "template", "size": TEMPLATES_MAX}, "aggs": {
            "errors": {"filter": {"term": {"is_error": true}}},
            "unknown": {"filter": {"exists": {"field": "unknown_template"}}},
            "rules": {"terms": {"field": "rule", "size": RULES_MAX}},
            "timed": {"filter": plausible(limits), "aggs": {
                "first": {"min": {"field": "@timestamp"}},
                "last": {"max": {"field": "@timestamp"}},
                "earliest": {"top_hits": {"size": 1, "sort": line_order(), "_source": ["message"]}}
            }},
            "untimed": {"filter": {"bool": {"must_not": [plausible(limits)]}}, "aggs": {
                "earliest": {"top_hits": {"size": 1, "sort": line_order(), "_source": ["message"]}}
            }}
        }}
    });
    if let Some((from, to)) = baseline {
        aggs["baseline"] = json!({"filter": {"bool": {"filter": [range(from, to), plausible(limits)]}}, "aggs": {
            "templates": {"terms": {"field": "template", "size": TEMPLATES_MAX}},
            "codes": {"terms": {"field": "error_code", "size": CODES_MAX}}
        }});
    }
    json!({"size": 0, "track_total_hits": false, "query": {"exists": {"field": "template"}}, "aggs": aggs})
}

/// Over the window's errors and warnings (`span`: ms, inclusive, whole buckets; `None`: all the
/// data): per template its
/// lines (plausibly timed ones only, as the files count a window, unless it is all the data), its
/// trend in the points of `shape`, components and distinct videos; the distinct videos of each
/// group of several templates (`groups`, counted together); the error and warning lines without a
/// template; and with `codes`, the lines per error code.
pub fn window_query(
    span: Option<(i64, i64)>,
    shape: &Shape,
    limits: Plausible,
    groups: &[Vec<String>],
    codes: bool,
) -> Value {
    let videos = json!({"cardinality": {"field": "video_id", "precision_threshold": VIDEOS_EXACT}});
    let error_or_warning =
        [json!({"term": {"is_error": true}}), json!({"term": {"level": crate::event::Level::Warn.as_str()}})];
    let mut aggs = json!({
        "templates": {"terms": {"field": "template", "size": TEMPLATES_MAX}, "aggs": {
            "timed": {"filter": plausible(limits), "aggs": {
                "trend": {"date_histogram": {
                    "field": "@timestamp",
                    "fixed_interval": format!("{}ms", shape.interval_ms()),
                    "offset": format!("{}ms", shape.offset_ms()),
                    "min_doc_count": 1
                }},
                "components": {"terms": {"field": "component", "size": COMPONENTS_MAX}},
                "videos": videos
            }}
        }},
        "untemplated": {"filter": {"bool": {"must_not": [{"exists": {"field": "template"}}]}}}
    });
    if !groups.is_empty() {
        let filters: serde_json::Map<String, Value> = groups
            .iter()
            .enumerate()
            .map(|(i, members)| (i.to_string(), json!({"terms": {"template": members}})))
            .collect();
        aggs["groups"] = json!({"filter": plausible(limits), "aggs": {
            "g": {"filters": {"filters": filters}, "aggs": {"videos": videos}}
        }});
    }
    if codes {
        aggs["codes"] = json!({"filter": plausible(limits), "aggs": {
            "c": {"terms": {"field": "error_code", "size": CODES_MAX}}
        }});
    }
    // errors and warnings only: templated ones, and those an older `ship` wrote without a template
    let mut should = vec![json!({"exists": {"field": "template"}})];
    should.extend(error_or_warning);
    let mut query = json!({"bool": {"should": should, "minimum_should_match": 1}});
    if let Some((from, to)) = span {
        query["bool"]["filter"] = json!([range(from, to)]);
    }
    json!({"size": 0, "track_total_hits": false, "query": query, "aggs": aggs})
}

fn buckets(v: &Value) -> &[Value] {
    v["buckets"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn count(v: &Value) -> u64 {
    v["doc_count"].as_u64().unwrap_or(0)
}

fn key(v: &Value) -> String {
    let text = match &v["key"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    crate::text::sanitize_owned(&text, 512)
}

fn time(v: &Value) -> Option<i64> {
    v["value"].as_f64().filter(|f| f.is_finite()).map(|f| f as i64)
}

fn counts(v: &Value) -> Vec<(String, u64)> {
    buckets(v).iter().map(|b| (key(b), count(b))).collect()
}

fn earliest(v: &Value) -> Option<String> {
    v["earliest"]["hits"]["hits"][0]["_source"]["message"].as_str().map(|m| crate::text::sanitize_owned(m, 512))
}

/// Reads the answer to [`data_query`].
pub fn read_data(answer: &Value, out: &mut ClusterTemplates) {
    let aggs = &answer["aggregations"];
    out.over_cap = aggs["templates"]["sum_other_doc_count"].as_u64().unwrap_or(0);
    out.seen = buckets(&aggs["templates"])
        .iter()
        .map(|b| {
            let timed = &b["timed"];
            Seen {
                key: key(b),
                errors: count(&b["errors"]),
                unknown: count(&b["unknown"]),
                rules: counts(&b["rules"]),
                first_ms: time(&timed["first"]),
                last_ms: time(&timed["last"]),
                example: earliest(timed).or_else(|| earliest(&b["untimed"])).unwrap_or_default(),
            }
        })
        .collect();
    out.baseline = counts(&aggs["baseline"]["templates"]);
    out.codes_before = counts(&aggs["baseline"]["codes"]);
}

/// Reads the answer to [`window_query`] (`all`: the window is all the data, whose lines count
/// whatever their time; `groups` as asked).
pub fn read_window(answer: &Value, all: bool, groups: &[Vec<String>], out: &mut ClusterTemplates) {
    let aggs = &answer["aggregations"];
    out.window = buckets(&aggs["templates"])
        .iter()
        .map(|b| {
            let timed = &b["timed"];
            InWindow {
                key: key(b),
                count: if all { count(b) } else { count(timed) },
                trend: buckets(&timed["trend"])
                    .iter()
                    .filter_map(|t| {
                        Some((t["key"].as_i64().or_else(|| t["key"].as_f64().map(|f| f as i64))?, count(t)))
                    })
                    .collect(),
                components: buckets(&timed["components"]).iter().map(key).collect(),
                videos: timed["videos"]["value"].as_u64().unwrap_or(0),
            }
        })
        .collect();
    let by_group = &aggs["groups"]["g"]["buckets"];
    out.group_videos = groups
        .iter()
        .enumerate()
        .filter_map(|(i, members)| Some((members.clone(), by_group[i.to_string()]["videos"]["value"].as_u64()?)))
        .collect();
    out.untemplated = count(&aggs["untemplated"]);
    out.codes_now = counts(&aggs["codes"]["c"]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::overview::Window;

    #[test]
    fn the_trend_buckets_start_where_the_files_points_start() {
        // a window of 100 one-minute buckets from key 1_000: points of 2 buckets each (as on files,
        // 60 points, the last ones past the window)
        let window = Window { from_ms: Some(60_000_000), to_ms: Some(66_000_000 - 1) };
        let shape = Shape::new(window, None, None, 60_000);
        assert_eq!((shape.from, shape.to, shape.points, shape.per_point), (1_000, 1_099, 60, 2));
        let limits = Plausible { floor_ms: 0, ceiling_ms: i64::MAX };
        let q = window_query(Some(shape.span()), &shape, limits, &[vec!["a".into(), "b".into()]], true);
        let trend = &q["aggs"]["templates"]["aggs"]["timed"]["aggs"]["trend"]["date_histogram"];
        assert_eq!(trend["fixed_interval"], "120000ms");
        assert_eq!(trend["offset"], "0ms", "60,000,000 is a multiple of 120,000");
        assert_eq!(q["aggs"]["groups"]["aggs"]["g"]["filters"]["filters"]["0"]["terms"]["template"], json!(["a", "b"]));
        assert_eq!(q["query"]["bool"]["filter"][0]["range"]["@timestamp"]["lte"], 66_000_000 - 1);
        let odd = Shape::new(Window { from_ms: Some(60_060_000), to_ms: Some(66_000_000 - 1) }, None, None, 60_000);
        assert_eq!(odd.offset_ms(), 60_060_000 % odd.interval_ms());
        assert_eq!(odd.point_of(60_060_000), Some(0));
        assert_eq!(odd.point_of(60_060_000 + odd.interval_ms()), Some(1));
        assert_eq!(odd.point_of(60_000_000), None, "before the window");
        let no_codes = window_query(None, &shape, limits, &[], false);
        assert!(no_codes["aggs"].get("codes").is_none() && no_codes["aggs"].get("groups").is_none());
        assert!(no_codes["query"]["bool"].get("filter").is_none(), "all the data");
        assert_eq!(no_codes["query"]["bool"]["should"][1], json!({"term": {"is_error": true}}));
    }
}
