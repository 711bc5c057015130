//! Gathers what the alert rules need from a cluster, with aggregations (the filter translated to
//! query DSL, never evaluated by pulling documents): per rule a date histogram of the matching
//! counts or samples, the first time of each value for `new_value`, the latest related lines and
//! the top videos. The answer is the same [`RuleData`] the files give, evaluated by the same code.

use super::collect::{LATEST_LINES, RelatedLine, RuleData};
use super::rules::{Kind, Rule, Stat};
use crate::elastic::EsError;
use crate::elastic::client::EsClient;
use crate::query::FieldName;
use crate::query::dsl::to_dsl;
use crate::stats::histogram::Histogram;
use serde_json::{Value, json};

/// Times before 1990 are suspect and kept out, as the files' pipeline does.
const OLDEST_PLAUSIBLE_MS: i64 = 631_152_000_000;

fn time_range(from: i64, to: i64) -> Value {
    json!({"range": {"@timestamp": {"gte": from, "lte": to, "format": "epoch_millis"}}})
}

fn all_of(clauses: Vec<Value>) -> Value {
    json!({"bool": {"filter": clauses}})
}

/// The rule's filter, or everything.
fn filter_of(rule: &Rule) -> Value {
    rule.filter.as_ref().map_or_else(|| json!({"match_all": {}}), to_dsl)
}

/// The events a rule counts as related (those its related lines and top videos come from).
pub fn related_query(rule: &Rule) -> Value {
    match &rule.kind {
        Kind::Stat { field, .. } => all_of(vec![filter_of(rule), json!({"exists": {"field": field.document_field()}})]),
        Kind::NewValue { field } => all_of(vec![filter_of(rule), json!({"exists": {"field": field.document_field()}})]),
        Kind::Count | Kind::Ratio { .. } => filter_of(rule),
    }
}

/// The aggregation query for one rule's series up to `at_ms`.
pub fn series_query(rule: &Rule, bucket_ms: i64, at_ms: i64) -> Result<Value, String> {
    let range = time_range(OLDEST_PLAUSIBLE_MS, at_ms);
    let histogram = |aggs: Value| json!({"date_histogram": {"field": "@timestamp", "fixed_interval": format!("{bucket_ms}ms"), "min_doc_count": 1}, "aggs": aggs});
    let body = match &rule.kind {
        Kind::Count => {
            json!({"size": 0, "query": all_of(vec![range, filter_of(rule)]), "aggs": {"t": histogram(json!({}))}})
        }
        Kind::Ratio { over } => json!({
            "size": 0,
            "query": all_of(vec![range, json!({"bool": {"should": [filter_of(rule), to_dsl(over)], "minimum_should_match": 1}})]),
            "aggs": {"t": histogram(json!({"num": {"filter": filter_of(rule)}, "den": {"filter": to_dsl(over)}}))}
        }),
        Kind::Stat { field, stat } => {
            let name = field.document_field();
            let mut aggs = json!({"v": {"stats": {"field": name}}});
            if let Stat::Percentile(_) = stat {
                if *field != FieldName::Latency {
                    return Err(format!(
                        "rule `{}`: a percentile on a cluster is supported for inference_time (latency) only",
                        rule.name
                    ));
                }
                aggs["bins"] = json!({"terms": {"field": "latency_bin", "size": 700}});
            }
            let nonnegative = json!({"range": {name: {"gte": 0}}});
            json!({"size": 0, "query": all_of(vec![range, filter_of(rule), nonnegative]), "aggs": {"t": histogram(aggs)}})
        }
        Kind::NewValue { field } => json!({
            "size": 0,
            "query": all_of(vec![range, related_query(rule)]),
            "aggs": {"values": {"terms": {"field": field.document_field(), "size": 10_000}, "aggs": {"first": {"min": {"field": "@timestamp"}}}}}
        }),
    };
    Ok(body)
}

fn buckets(v: &Value) -> &[Value] {
    v["buckets"].as_array().map_or(&[], Vec::as_slice)
}

fn count(v: &Value) -> f64 {
    v["doc_count"].as_f64().unwrap_or(0.0)
}

/// Reads one rule's series answer into cells.
fn cells_of(rule: &Rule, answer: &Value, bucket_ms: i64, data: &mut RuleData) {
    if let Kind::NewValue { .. } = rule.kind {
        for b in buckets(&answer["aggregations"]["values"]) {
            let key = b["key_as_string"].as_str().map(str::to_string).unwrap_or_else(|| match &b["key"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            if let Some(first) = b["first"]["value"].as_f64() {
                data.first_seen.insert(crate::text::sanitize_owned(&key, 256), first as i64);
            }
        }
        return;
    }
    for b in buckets(&answer["aggregations"]["t"]) {
        let Some(start) = b["key"].as_i64().or_else(|| b["key"].as_f64().map(|f| f as i64)) else { continue };
        let key = start.div_euclid(bucket_ms);
        let cell = data.cells.entry(key).or_default();
        match &rule.kind {
            Kind::Count => cell.num += count(b),
            Kind::Ratio { .. } => {
                cell.num += count(&b["num"]);
                cell.den += count(&b["den"]);
            }
            Kind::Stat { stat, .. } => {
                let s = &b["v"];
                cell.num += s["sum"].as_f64().unwrap_or(0.0);
                cell.den += s["count"].as_f64().unwrap_or(0.0);
                if let Some(max) = s["max"].as_f64() {
                    cell.max = Some(cell.max.map_or(max, |m| m.max(max)));
                }
                if let Stat::Percentile(_) = stat {
                    let bins: Vec<(usize, u64)> = buckets(&b["bins"])
                        .iter()
                        .filter_map(|x| Some((x["key"].as_u64()? as usize, x["doc_count"].as_u64()?)))
                        .collect();
                    let h = Histogram::from_bins(
                        &bins,
                        s["sum"].as_f64().unwrap_or(0.0),
                        s["min"].as_f64().unwrap_or(0.0),
                        s["max"].as_f64().unwrap_or(0.0),
                    );
                    cell.histogram.get_or_insert_with(Histogram::default).merge(&h);
                }
            }
            Kind::NewValue { .. } => {}
        }
    }
}

/// The latest related lines and the top videos of the recent span.
fn related_query_body(rule: &Rule, at_ms: i64) -> Value {
    let recent = at_ms.saturating_sub(rule.window_ms).saturating_sub(rule.for_ms);
    json!({
        "size": LATEST_LINES,
        "query": all_of(vec![time_range(OLDEST_PLAUSIBLE_MS, at_ms), related_query(rule)]),
        "sort": [{"@timestamp": {"order": "desc"}}],
        "_source": ["@timestamp", "message", "raw", "video_id"],
        "aggs": {"recent": {"filter": time_range(recent.saturating_add(1), at_ms), "aggs": {
            "videos": {"terms": {"field": "video_id", "size": 5}}
        }}}
    })
}

fn related_of(answer: &Value, data: &mut RuleData) {
    let hits = answer["hits"]["hits"].as_array().map_or(&[][..], Vec::as_slice);
    for hit in hits.iter().rev() {
        let source = &hit["_source"];
        let ts = source["@timestamp"]
            .as_i64()
            .or_else(|| source["@timestamp"].as_str().and_then(|t| crate::parse::time::parse_any(t, 0)))
            .unwrap_or(0);
        let text = source["raw"].as_str().or_else(|| source["message"].as_str()).unwrap_or("");
        data.latest.push(RelatedLine {
            ts_ms: ts,
            text: super::redact::redact_line(&crate::text::sanitize_owned(text, 1000)),
            video_id: source["video_id"].as_str().map(|v| crate::text::sanitize_owned(v, 256)),
        });
    }
    for b in buckets(&answer["aggregations"]["recent"]["videos"]) {
        if let Some(video) = b["key"].as_str() {
            data.videos.insert(crate::text::sanitize_owned(video, 256), b["doc_count"].as_u64().unwrap_or(0));
        }
    }
}

/// Asks the cluster for every rule's data up to `at_ms`; also the oldest event time (the
/// `new_value` baseline).
pub fn collect(
    client: &EsClient,
    rules: &[Rule],
    bucket_ms: i64,
    at_ms: i64,
) -> Result<(Vec<RuleData>, Option<i64>), EsError> {
    let bucket_ms = bucket_ms.max(1000);
    let mut all = Vec::with_capacity(rules.len());
    for rule in rules {
        let mut data = RuleData::default();
        let series = series_query(rule, bucket_ms, at_ms).map_err(EsError::Config)?;
        cells_of(rule, &client.search(&series)?.body, bucket_ms, &mut data);
        related_of(&client.search(&related_query_body(rule, at_ms))?.body, &mut data);
        all.push(data);
    }
    let first = client.search(&json!({
        "size": 0,
        "query": time_range(OLDEST_PLAUSIBLE_MS, at_ms),
        "aggs": {"first": {"min": {"field": "@timestamp"}}}
    }))?;
    let first_ms = first.body["aggregations"]["first"]["value"].as_f64().map(|v| v as i64);
    Ok((all, first_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::rules::builtin;

    #[test]
    fn queries_carry_the_translated_filters() {
        let rules = builtin();
        let q = series_query(&rules[0], 60_000, 1_756_736_700_000).unwrap();
        assert_eq!(q["query"]["bool"]["filter"][1], json!({"prefix": {"error_code": "MODEL_"}}));
        assert_eq!(q["aggs"]["t"]["date_histogram"]["fixed_interval"], "60000ms");
        let q = series_query(&rules[1], 60_000, 1_756_736_700_000).unwrap();
        assert_eq!(q["aggs"]["t"]["aggs"]["num"]["filter"], json!({"term": {"error_code": "VIDEO_DECODE_ERR"}}));
        assert_eq!(
            q["aggs"]["t"]["aggs"]["den"]["filter"]["bool"]["filter"][0],
            json!({"term": {"job_outcome": true}})
        );
        let q = series_query(&rules[2], 60_000, 1_756_736_700_000).unwrap();
        assert_eq!(q["aggs"]["t"]["aggs"]["v"], json!({"stats": {"field": "latency_ms"}}));
        assert_eq!(q["query"]["bool"]["filter"][1], json!({"term": {"component": "model_inference"}}));
    }

    #[test]
    fn an_answer_becomes_cells() {
        let rules = builtin();
        let answer = json!({"aggregations": {"t": {"buckets": [
            {"key": 120_000, "doc_count": 5, "num": {"doc_count": 2}, "den": {"doc_count": 30}},
            {"key": 180_000, "doc_count": 1, "num": {"doc_count": 1}, "den": {"doc_count": 0}}
        ]}}});
        let mut data = RuleData::default();
        cells_of(&rules[1], &answer, 60_000, &mut data);
        assert_eq!(data.cells[&2].num, 2.0);
        assert_eq!(data.cells[&2].den, 30.0);
        assert_eq!(data.cells[&3].num, 1.0);
    }
}
