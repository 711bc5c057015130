//! Field names on the cluster: our names (those `ship` writes) renamed to an index's own (from the
//! config, e.g. a Logstash pipeline's), and `.keyword` sub-fields found with `_field_caps` for the
//! fields we aggregate, filter and sort on — so indices with dynamic text mappings work too.
//! Queries are rewritten on the way out, `_source` keys renamed back on the way in.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Fields used in `terms`, `term` and sorts: they need keyword (not text) mappings.
pub const KEYWORD_FIELDS: [&str; 11] = [
    "level",
    "source",
    "component",
    "error_code",
    "error_category",
    "video_id",
    "request_id",
    "rule",
    "unknown_template",
    "log_file",
    "template",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldMap {
    /// our name → the index's name
    rename: HashMap<String, String>,
    /// the index's name → ours (for `_source`)
    back: HashMap<String, String>,
    /// the index's name → its keyword sub-field, where the field itself is text
    keyword: HashMap<String, String>,
    /// our names of the fields the index has (from `_field_caps`)
    present: std::collections::HashSet<String>,
}

/// Fields besides [`KEYWORD_FIELDS`] whose presence changes what is asked.
pub const OPTIONAL_FIELDS: [&str; 1] = [super::schema::INGESTED];

impl FieldMap {
    pub fn new(renames: &BTreeMap<String, String>) -> FieldMap {
        let rename: HashMap<String, String> = renames.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        let back = rename.iter().map(|(a, b)| (b.clone(), a.clone())).collect();
        FieldMap { rename, back, keyword: HashMap::new(), present: Default::default() }
    }

    /// The index's name of one of our fields.
    pub fn name<'a>(&'a self, ours: &'a str) -> &'a str {
        self.rename.get(ours).map(String::as_str).unwrap_or(ours)
    }

    /// The fields to ask `_field_caps` about.
    pub fn caps_fields(&self) -> Vec<String> {
        KEYWORD_FIELDS
            .iter()
            .flat_map(|f| {
                let name = self.name(f).to_string();
                [format!("{name}.keyword"), name]
            })
            .chain(OPTIONAL_FIELDS.iter().map(|f| self.name(f).to_string()))
            .collect()
    }

    /// True when the index has one of our fields (as learnt from `_field_caps`).
    pub fn has(&self, ours: &str) -> bool {
        self.present.contains(ours)
    }

    /// Learns from a `_field_caps` answer which fields are text with a `.keyword` sub-field.
    pub fn learn(&mut self, caps: &Value) {
        let fields = &caps["fields"];
        for ours in KEYWORD_FIELDS.iter().chain(OPTIONAL_FIELDS.iter()) {
            if fields[self.name(ours)].is_object() {
                self.present.insert(ours.to_string());
            }
        }
        for ours in KEYWORD_FIELDS {
            let name = self.name(ours).to_string();
            let is_text = fields[&name].get("text").is_some() && fields[&name].get("keyword").is_none();
            let sub = format!("{name}.keyword");
            if is_text && fields[&sub].get("keyword").is_some() {
                self.keyword.insert(name, sub);
            }
        }
    }

    /// The index's name of one of our fields for sorts and aggregations: its keyword sub-field
    /// when the field itself is text.
    pub fn query_name(&self, ours: &str) -> String {
        let name = self.name(ours);
        self.keyword.get(name).cloned().unwrap_or_else(|| name.to_string())
    }

    /// Rewrites a query or aggregation body in place.
    pub fn rewrite_query(&self, value: &mut Value) {
        if self.rename.is_empty() && self.keyword.is_empty() {
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match key.as_str() {
                        "field" => {
                            if let Value::String(s) = child {
                                *s = self.query_name(s);
                            }
                        }
                        "term" | "terms" | "prefix" | "wildcard" | "range" | "match_phrase" => {
                            if let Value::Object(inner) = child {
                                let renamed: serde_json::Map<String, Value> =
                                    std::mem::take(inner).into_iter().map(|(k, v)| (self.query_name(&k), v)).collect();
                                *inner = renamed;
                            }
                            self.rewrite_query(child);
                        }
                        "sort" => {
                            if let Value::Array(items) = child {
                                for item in items.iter_mut() {
                                    if let Value::Object(inner) = item {
                                        let renamed: serde_json::Map<String, Value> = std::mem::take(inner)
                                            .into_iter()
                                            .map(|(k, v)| (self.query_name(&k), v))
                                            .collect();
                                        *inner = renamed;
                                    }
                                }
                            }
                        }
                        "_source" => {
                            if let Value::Array(items) = child {
                                for item in items.iter_mut() {
                                    if let Value::String(s) = item {
                                        *s = self.name(s).to_string();
                                    }
                                }
                            }
                        }
                        _ => self.rewrite_query(child),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.rewrite_query(v)),
            _ => {}
        }
    }

    /// Renames `_source` keys of an answer back to ours.
    pub fn rewrite_answer(&self, value: &mut Value) {
        if self.back.is_empty() {
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "_source" {
                        if let Value::Object(inner) = child {
                            let renamed: serde_json::Map<String, Value> = std::mem::take(inner)
                                .into_iter()
                                .map(|(k, v)| (self.back.get(&k).cloned().unwrap_or(k), v))
                                .collect();
                            *inner = renamed;
                        }
                    } else {
                        self.rewrite_answer(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.rewrite_answer(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_and_keywords() {
        let mut map = FieldMap::new(&BTreeMap::from([("latency_ms".to_string(), "inference_ms".to_string())]));
        map.learn(&json!({"fields": {
            "video_id": {"text": {"type": "text"}}, "video_id.keyword": {"keyword": {"type": "keyword"}},
            "level": {"keyword": {"type": "keyword"}}
        }}));
        let mut q = json!({
            "query": {"term": {"video_id": "v"}},
            "post_filter": {"wildcard": {"video_id": {"value": "v*"}}},
            "sort": [{"@timestamp": "asc"}, {"video_id": "desc"}],
            "aggs": {"v": {"terms": {"field": "video_id", "size": 5}}, "l": {"terms": {"field": "level"}}, "s": {"stats": {"field": "latency_ms"}}},
            "_source": ["latency_ms", "video_id"]
        });
        map.rewrite_query(&mut q);
        assert_eq!(q["query"]["term"]["video_id.keyword"], "v");
        assert_eq!(q["post_filter"]["wildcard"]["video_id.keyword"]["value"], "v*");
        assert_eq!(q["sort"][1]["video_id.keyword"], "desc");
        assert_eq!(q["aggs"]["v"]["terms"]["field"], "video_id.keyword");
        assert_eq!(q["aggs"]["v"]["terms"]["size"], 5);
        assert_eq!(q["aggs"]["l"]["terms"]["field"], "level", "already a keyword");
        assert_eq!(q["aggs"]["s"]["stats"]["field"], "inference_ms");
        assert_eq!(q["_source"][0], "inference_ms");
        let mut answer = json!({"hits": {"hits": [{"_source": {"inference_ms": 5, "video_id": "v"}}]}});
        map.rewrite_answer(&mut answer);
        assert_eq!(answer["hits"]["hits"][0]["_source"]["latency_ms"], 5);
    }
}
