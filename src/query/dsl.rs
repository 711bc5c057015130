//! A filter as Elasticsearch / OpenSearch query DSL, so a cluster evaluates it where the documents
//! are (never by pulling them). Field names are those `ship` writes; an index with other names is
//! handled by [`crate::elastic::fields::FieldMap::rewrite_query`] on the way out.

use super::{FieldName, Pattern, Query};
use serde_json::{Value, json};

/// The filter as a query DSL clause.
pub fn to_dsl(query: &Query) -> Value {
    match query {
        Query::Field { field, pattern } => field_clause(field, pattern),
        Query::Compare { field, op, value } => {
            json!({"range": {field.document_field(): {op.range_key(): value.value}}})
        }
        Query::Text(text) => json!({"match_phrase": {"message": text}}),
        Query::And(parts) => json!({"bool": {"filter": parts.iter().map(to_dsl).collect::<Vec<_>>()}}),
        Query::Or(parts) => {
            json!({"bool": {"should": parts.iter().map(to_dsl).collect::<Vec<_>>(), "minimum_should_match": 1}})
        }
        Query::Not(inner) => json!({"bool": {"must_not": [to_dsl(inner)]}}),
    }
}

fn field_clause(field: &FieldName, pattern: &Pattern) -> Value {
    let name = field.document_field();
    match (field, pattern) {
        (FieldName::Job, Pattern::Exact(v)) => {
            let job = json!({"bool": {"filter": [{"term": {"job_outcome": true}}, {"exists": {"field": "video_id"}}]}});
            if v.eq_ignore_ascii_case("true") { job } else { json!({"bool": {"must_not": [job]}}) }
        }
        (FieldName::Error, Pattern::Exact(v)) => json!({"term": {name: v.eq_ignore_ascii_case("true")}}),
        (_, Pattern::Present) => json!({"exists": {"field": name}}),
        (FieldName::Message, Pattern::Exact(v)) => json!({"match_phrase": {"message": v}}),
        (FieldName::Level, Pattern::Exact(v)) => json!({"term": {name: v.to_ascii_uppercase()}}),
        (FieldName::Source, Pattern::Exact(v)) => json!({"term": {name: v.to_ascii_lowercase()}}),
        (_, Pattern::Exact(v)) if field.is_numeric() => match super::Number::parse(v) {
            Some(n) => json!({"term": {name: n.value}}),
            None => json!({"match_none": {}}),
        },
        (_, Pattern::Exact(v)) => json!({"term": {name: v}}),
        (FieldName::Level, Pattern::Prefix(p)) => json!({"prefix": {name: p.to_ascii_uppercase()}}),
        (_, Pattern::Prefix(p)) => json!({"prefix": {name: p}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn dsl(filter: &str) -> Value {
        to_dsl(&parse(filter).expect(filter))
    }

    #[test]
    fn terms_translate() {
        assert_eq!(dsl("error_code:MODEL_*"), json!({"prefix": {"error_code": "MODEL_"}}));
        assert_eq!(dsl("code:VIDEO_DECODE_ERR"), json!({"term": {"error_code": "VIDEO_DECODE_ERR"}}));
        assert_eq!(dsl("level:error"), json!({"term": {"level": "ERROR"}}));
        assert_eq!(dsl("inference_time>3s"), json!({"range": {"latency_ms": {"gt": 3000.0}}}));
        assert_eq!(dsl("gpu_util<=90%"), json!({"range": {"gpu_util_pct": {"lte": 90.0}}}));
        assert_eq!(dsl("video_id:*"), json!({"exists": {"field": "video_id"}}));
        assert_eq!(dsl("\"out of memory\""), json!({"match_phrase": {"message": "out of memory"}}));
        assert_eq!(
            dsl("job:true"),
            json!({"bool": {"filter": [{"term": {"job_outcome": true}}, {"exists": {"field": "video_id"}}]}})
        );
    }

    #[test]
    fn operators_translate() {
        assert_eq!(
            dsl("a:1 and (b:2 or not c:3)"),
            json!({"bool": {"filter": [
                {"term": {"a": "1"}},
                {"bool": {"should": [
                    {"term": {"b": "2"}},
                    {"bool": {"must_not": [{"term": {"c": "3"}}]}}
                ], "minimum_should_match": 1}}
            ]}})
        );
    }
}
