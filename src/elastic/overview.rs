//! The overview from a cluster: the answer to one `_search` of aggregations (never documents; the
//! body is built in [`super::queries`]),
//! turned back into the same [`Stats`] the file engine builds, so that the very same
//! `overview::compute` produces every number — the console and the report agree with the files
//! number for number, and the bytes per refresh depend on the window, not the index size.

use crate::enrich::{Attribution, Enricher};
use crate::event::{Level, Source};
use crate::stats::histogram::Histogram;
use crate::stats::{Bucket, Gauge, PatternStats, Stats, VideoStats};
use serde_json::Value;

pub use super::queries::{Scope, TOP_PATTERNS, TOP_VIDEOS, overview as query};

fn buckets(v: &Value) -> &[Value] {
    v["buckets"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn count(v: &Value) -> u64 {
    v["doc_count"].as_u64().unwrap_or(0)
}

fn key_str(v: &Value) -> String {
    match &v["key"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn time_of(v: &Value) -> Option<i64> {
    v["value"].as_f64().map(|f| f as i64)
}

fn gauge(v: &Value) -> Gauge {
    let n = v["count"].as_u64().unwrap_or(0) as u32;
    if n == 0 {
        return Gauge::default();
    }
    Gauge { sum: v["sum"].as_f64().unwrap_or(0.0), count: n, max: v["max"].as_f64().unwrap_or(0.0) }
}

/// Fills one statistics bucket from its aggregation results.
fn fill_bucket(bucket: &mut Bucket, agg: &Value, stats_codes: &mut dyn FnMut(&str) -> u32, enricher: &Enricher) {
    let components = &enricher.components;
    bucket.events += count(agg) as u32;
    for b in buckets(&agg["levels"]) {
        if let Some(level) = Level::parse(&key_str(b)) {
            bucket.by_level[level.index()] += count(b) as u32;
        }
    }
    for b in buckets(&agg["sources"]) {
        if let Some(source) = Source::parse(&key_str(b)) {
            bucket.by_source[source.index()] += count(b) as u32;
        }
    }
    for b in buckets(&agg["components"]) {
        let Some(c) = components.id(&key_str(b)).map(usize::from) else { continue };
        if let Some(slot) = bucket.component_events.get_mut(c) {
            *slot += count(b) as u32;
        }
        if let Some(slot) = bucket.component_errors.get_mut(c) {
            *slot += count(&b["errors"]) as u32;
        }
        let bins: Vec<(usize, u64)> =
            buckets(&b["bins"]).iter().filter_map(|x| Some((x["key"].as_u64()? as usize, count(x)))).collect();
        let stats = &b["latency"];
        if let Some(h) = bucket.latency.get_mut(c) {
            let rebuilt = Histogram::from_bins(
                &bins,
                stats["sum"].as_f64().unwrap_or(0.0),
                stats["min"].as_f64().unwrap_or(0.0),
                stats["max"].as_f64().unwrap_or(0.0),
            );
            h.merge(&rebuilt);
        }
    }
    fill_lists(bucket, agg, stats_codes, enricher);
    bucket.unknown_errors += count(&agg["unknown"]) as u32;
    bucket.errors += count(&agg["errors"]) as u32;
    bucket.jobs += count(&agg["jobs"]) as u32;
    bucket.job_failures += count(&agg["jobs"]["failed"]) as u32;
    // a successful job counts as a good event for every other pipeline stage (as in the engine)
    for b in buckets(&agg["jobs"]["good_by_component"]["c"]) {
        let own = components.id(&key_str(b));
        for stage in &components.pipeline {
            if Some(*stage) != own
                && let Some(slot) = bucket.component_events.get_mut(*stage as usize)
            {
                *slot += count(b) as u32;
            }
        }
    }
    bucket.gpu_mem_bytes.merge(&gauge(&agg["gpu_mem"]));
    bucket.gpu_util_pct.merge(&gauge(&agg["gpu_util"]));
}

/// Fills one statistics bucket's codes and rules from its aggregation results (absent from the
/// counts part: none then).
fn fill_lists(bucket: &mut Bucket, agg: &Value, stats_codes: &mut dyn FnMut(&str) -> u32, enricher: &Enricher) {
    for b in buckets(&agg["codes"]) {
        let id = stats_codes(&key_str(b));
        bucket.codes.push((id, count(b) as u32));
    }
    for b in buckets(&agg["rules"]) {
        if let Some(id) = enricher.rule_id(&key_str(b)) {
            bucket.rules.push((id, count(b) as u32));
        }
    }
}

/// Rebuilds statistics from the answer to [`query`] (the whole overview in one answer).
pub fn stats_from_answer(answer: &Value, enricher: &Enricher, bucket_ms: i64) -> Stats {
    let aggs = &answer["aggregations"];
    let mut stats = Stats::new(enricher.components.len(), bucket_ms);
    read_counts(aggs, &mut stats, enricher, bucket_ms);
    read_named_lists(aggs, &mut stats, enricher, bucket_ms);
    stats.settle();
    stats
}

/// Rebuilds statistics from the answers to the two parts of the overview
/// ([`super::queries::Part::Counts`], then [`super::queries::Part::Lists`] when it came): without
/// the lists, codes, rules, failing videos and templates are empty.
pub fn stats_from_parts(counts: &Value, lists: Option<&Value>, enricher: &Enricher, bucket_ms: i64) -> Stats {
    let mut stats = Stats::new(enricher.components.len(), bucket_ms);
    read_counts(&counts["aggregations"], &mut stats, enricher, bucket_ms);
    if let Some(lists) = lists {
        let aggs = &lists["aggregations"];
        for b in buckets(&aggs["series"]) {
            let Some(start) = b["key"].as_i64().or_else(|| b["key"].as_f64().map(|f| f as i64)) else { continue };
            let mut bucket = Bucket::new(enricher.components.len());
            let mut codes = |code: &str| stats.code_id_or_insert(code);
            fill_lists(&mut bucket, b, &mut codes, enricher);
            stats.bucket_entry(start.div_euclid(bucket_ms)).merge(&bucket, &[]);
        }
        if !aggs["untimed_events"].is_null() {
            let mut bucket = Bucket::new(enricher.components.len());
            let mut codes = |code: &str| stats.code_id_or_insert(code);
            fill_lists(&mut bucket, &aggs["untimed_events"], &mut codes, enricher);
            stats.untimed.merge(&bucket, &[]);
        }
        read_named_lists(aggs, &mut stats, enricher, bucket_ms);
    }
    stats.settle();
    stats
}

/// The totals, first and last times and the time series of an answer (with the codes and rules
/// per bucket when it holds them).
fn read_counts(aggs: &Value, stats: &mut Stats, enricher: &Enricher, bucket_ms: i64) {
    let all = &aggs["all"];
    let events = count(all);
    stats.lines.total = all["lines"]["value"].as_f64().unwrap_or(0.0) as u64;
    stats.lines.parsed = count(&all["parsed"]);
    stats.lines.unparsed = events.saturating_sub(stats.lines.parsed);
    stats.lines.joined = stats.lines.total.saturating_sub(events);
    stats.lines.untimed = count(&all["untimed"]);
    for b in buckets(&all["sources"]) {
        if let Some(source) = Source::parse(&key_str(b)) {
            stats.lines.by_source[source.index()] += count(b);
        }
    }
    stats.lines.filtered = all["outside"]["lines"]["value"].as_f64().unwrap_or(0.0) as u64;
    // the window's own first and last times (a live refresh, `--since/--until`), else the index's
    let times = if aggs["first"].is_null() { all } else { aggs };
    stats.first_ms = time_of(&times["first"]);
    stats.last_ms = time_of(&times["last"]);

    for b in buckets(&aggs["series"]) {
        let Some(start) = b["key"].as_i64().or_else(|| b["key"].as_f64().map(|f| f as i64)) else { continue };
        let key = start.div_euclid(bucket_ms);
        let mut bucket = Bucket::new(enricher.components.len());
        let mut codes = |code: &str| stats.code_id_or_insert(code);
        fill_bucket(&mut bucket, b, &mut codes, enricher);
        stats.bucket_entry(key).merge(&bucket, &[]);
    }
    if !aggs["untimed_events"].is_null() {
        let mut bucket = Bucket::new(enricher.components.len());
        let mut codes = |code: &str| stats.code_id_or_insert(code);
        fill_bucket(&mut bucket, &aggs["untimed_events"], &mut codes, enricher);
        stats.untimed.merge(&bucket, &[]);
    }
}

/// The failing videos and the unknown templates of an answer.
fn read_named_lists(aggs: &Value, stats: &mut Stats, enricher: &Enricher, bucket_ms: i64) {
    read_videos(aggs, stats, enricher, bucket_ms);
    for p in buckets(&aggs["patterns"]) {
        let mut pattern = PatternStats {
            count: count(p),
            example: crate::text::sanitize_owned(
                p["earliest"]["hits"]["hits"][0]["_source"]["message"].as_str().unwrap_or(""),
                512,
            ),
            first_ms: time_of(&p["first"]),
            last_ms: time_of(&p["last"]),
            ..PatternStats::default()
        };
        for b in buckets(&p["per_bucket"]) {
            if let Some(start) = b["key"].as_i64() {
                pattern.by_bucket.push((start.div_euclid(bucket_ms), count(b) as u32));
            }
        }
        stats.patterns.insert(key_str(p), pattern);
    }
}

/// The failing videos of an answer's `videos` aggregation ([`super::queries::code_videos`] or the
/// overview's), into `stats`.
pub fn read_videos(aggs: &Value, stats: &mut Stats, enricher: &Enricher, bucket_ms: i64) {
    for v in buckets(&aggs["videos"]["ids"]) {
        // the rules of the latest failures, with when each last explained one (several may share
        // the last millisecond): the same choice as the file engine's (`stats::explains_later`)
        let mut attribution_at: Option<(i64, Attribution)> = None;
        for b in buckets(&v["rules"]) {
            let attribution = enricher.attribution_named(Some(&key_str(b)));
            let at = time_of(&b["at"]).unwrap_or(i64::MIN);
            if crate::stats::explains_later(attribution_at, at, attribution) {
                attribution_at = Some((at, attribution));
            }
        }
        let attribution = attribution_at.map_or(Attribution::Unknown, |(_, a)| a);
        let last = time_of(&v["last"]);
        let mut video = VideoStats {
            failures: count(v) as u32,
            first_ms: time_of(&v["first"]),
            last_ms: last,
            last_attribution: Some((last.unwrap_or(i64::MIN), attribution)),
            last_request_id: v["with_request"]["latest"]["hits"]["hits"][0]["_source"]["request_id"]
                .as_str()
                .map(crate::stats::clean_id),
            last_request_ms: v["with_request"]["latest"]["hits"]["hits"][0]["_source"]["@timestamp"].as_i64(),
            ..VideoStats::default()
        };
        for c in buckets(&v["codes"]) {
            let id = stats.code_id_or_insert(&key_str(c));
            video.codes.push((id, count(c) as u32));
        }
        for p in buckets(&v["per_bucket"]) {
            if let Some(start) = p["key"].as_i64() {
                video.by_bucket.push((start.div_euclid(bucket_ms), crate::stats::ANY_CODE, count(p) as u32));
            }
        }
        stats.videos.insert(key_str(v).into(), video);
    }
}
