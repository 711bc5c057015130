//! What a cluster needs before the console can read it, as requests: the index template (the
//! mapping the console relies on, an explicit priority), the component template holding the
//! settings a user may change (created once, never overwritten), the lifecycle policy (ILM on
//! Elasticsearch, ISM on OpenSearch: [`super::lifecycle`]) and, in Kibana, the data view and saved searches. Each item
//! is compared with what exists, so that running it again changes nothing.

use super::EsError;
use super::client::{EsClient, Flavor};
use serde_json::{Value, json};

/// Who made a template: written into `_meta`, so that `es doctor` and `ship` recognise it.
pub const MANAGED_BY: &str = "foley-triage";

/// The index template's priority unless told otherwise: above the built-in `logs-*-*` (100) and
/// most hand-made templates, so ours wins for our pattern.
pub const DEFAULT_PRIORITY: u64 = 200;

/// One thing `es init` looks after.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What it is, for the summary (`index template hunyuan-foley`).
    pub what: String,
    /// The request that creates or updates it; `None` when nothing is to be done.
    pub request: Option<Request>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: reqwest::Method,
    pub path: String,
    pub body: Value,
    /// Sent to Kibana rather than to the cluster.
    pub kibana: bool,
}

impl Request {
    pub(super) fn es(method: reqwest::Method, path: String, body: Value) -> Request {
        Request { method, path, body, kibana: false }
    }

    /// The request as a user would type it (`PUT /path` and the body).
    pub fn show(&self) -> String {
        let body = serde_json::to_string_pretty(&self.body).unwrap_or_default();
        format!("{}{} {}\n{body}", if self.kibana { "Kibana: " } else { "" }, self.method, self.path)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Create,
    /// What differs, in words.
    Change(Vec<String>),
    LeftAlone(String),
    /// Not possible here, and why.
    Skipped(String),
}

/// The names `es init` uses for one index prefix.
#[derive(Debug, Clone)]
pub struct Names {
    pub prefix: String,
    pub pattern: String,
    pub template: String,
    pub component: String,
    pub policy: String,
    /// The write alias `ship` writes through when rollover is set up, and its first index.
    pub alias: String,
    pub first_index: String,
}

impl Names {
    pub fn new(prefix: &str) -> Names {
        Names {
            prefix: prefix.to_string(),
            pattern: format!("{prefix}-*"),
            template: prefix.to_string(),
            component: format!("{prefix}-settings"),
            policy: format!("{prefix}-retention"),
            alias: format!("{prefix}-write"),
            first_index: format!("{prefix}-000001"),
        }
    }
}

/// A GET that may find nothing: `Ok(None)` on 404, an error naming the API when the server has no
/// such API (`no handler found`).
pub fn get_optional(client: &EsClient, path: &str) -> Result<Option<Value>, EsError> {
    match client.get(path) {
        Ok(v) => Ok(Some(v)),
        Err(EsError::Http { status: 404, .. } | EsError::NoIndex { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// True for the error a server gives for an API it does not have (a plugin that is not installed).
pub fn is_missing_api(e: &EsError) -> bool {
    match e {
        EsError::BadQuery { reason, .. } | EsError::Http { reason, .. } => {
            reason.contains("no handler found") || reason.contains("Incorrect HTTP method")
        }
        _ => false,
    }
}

/// The component template: the settings a user may change.
pub fn component_body(replicas: u32) -> Value {
    json!({
        "template": {"settings": {"index": {"number_of_shards": 1, "number_of_replicas": replicas, "refresh_interval": "5s"}}},
        "_meta": {"managed_by": MANAGED_BY, "note": "yours to change: es init and ship never overwrite it"}
    })
}

/// The index template: the mapping the console relies on, the component template, and the
/// lifecycle policy's settings when a policy is attached (`lifecycle`; see [`super::lifecycle`]).
pub fn index_template_body(
    names: &Names,
    priority: u64,
    flavor: Option<Flavor>,
    lifecycle: Option<&super::lifecycle::Lifecycle>,
) -> Value {
    let mut template = super::schema::index_template(&names.prefix);
    let mappings = template["template"]["mappings"].take();
    let mut body = json!({
        "index_patterns": [names.pattern],
        "priority": priority,
        "composed_of": [names.component],
        "template": {"mappings": mappings},
        "_meta": {"managed_by": MANAGED_BY, "schema": super::schema::SCHEMA_VERSION}
    });
    if let Some(settings) = lifecycle.and_then(|l| super::lifecycle::template_settings(names, flavor, l)) {
        body["template"]["settings"] = settings;
    }
    body
}

/// What differs between an existing index template and ours, in words (only what the console
/// relies on: patterns, the component template, field types, the lifecycle).
pub fn template_differences(existing: &Value, ours: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if existing["index_patterns"] != ours["index_patterns"] {
        out.push(format!("index patterns {} instead of {}", existing["index_patterns"], ours["index_patterns"]));
    }
    let composed = existing["composed_of"].as_array().cloned().unwrap_or_default();
    for c in ours["composed_of"].as_array().into_iter().flatten() {
        if !composed.contains(c) {
            out.push(format!("not composed of {c}"));
        }
    }
    let props = &existing["template"]["mappings"]["properties"];
    for (field, mapping) in ours["template"]["mappings"]["properties"].as_object().into_iter().flatten() {
        let have = &props[field];
        if have.is_null() {
            out.push(format!("no mapping for `{field}`"));
        } else if have["type"] != mapping["type"] {
            out.push(format!("`{field}` is {} instead of {}", have["type"], mapping["type"]));
        } else if mapping["fields"]["keyword"].is_object() && !have["fields"]["keyword"].is_object() {
            out.push(format!("`{field}` has no keyword sub-field"));
        }
    }
    for (key, what) in [
        ("index.lifecycle.name", "lifecycle policy"),
        ("index.lifecycle.rollover_alias", "rollover alias"),
        ("plugins.index_state_management.rollover_alias", "rollover alias"),
    ] {
        let read = |v: &Value| super::lifecycle::setting(&v["template"]["settings"], key).as_str().map(str::to_string);
        if let Some(want) = read(ours)
            && read(existing).as_deref() != Some(want.as_str())
        {
            out.push(format!("{what} not `{want}`"));
        }
    }
    out
}

/// The index template step: create when missing, change what differs (keeping a priority the
/// user set), else leave alone.
pub fn plan_index_template(
    client: &EsClient,
    names: &Names,
    priority: u64,
    lifecycle: Option<&super::lifecycle::Lifecycle>,
) -> Result<Step, EsError> {
    let path = format!("/_index_template/{}", names.template);
    let mut ours = index_template_body(names, priority, client.flavor, lifecycle);
    let what = format!("index template {} (priority {priority})", names.template);
    let existing = get_optional(client, &path)?
        .and_then(|v| v["index_templates"].as_array().and_then(|a| a.first().cloned()))
        .map(|t| t["index_template"].clone());
    let Some(existing) = existing else {
        return Ok(Step {
            what,
            request: Some(Request::es(reqwest::Method::PUT, path, ours)),
            outcome: Outcome::Create,
        });
    };
    let differences = template_differences(&existing, &ours);
    let kept = existing["priority"].as_u64().filter(|p| *p != priority);
    if differences.is_empty() {
        let note = kept.map_or(String::new(), |p| format!(" (its priority {p} kept)"));
        return Ok(Step { what, request: None, outcome: Outcome::LeftAlone(format!("as the console needs it{note}")) });
    }
    if let Some(p) = kept {
        ours["priority"] = json!(p);
    }
    Ok(Step {
        what,
        request: Some(Request::es(reqwest::Method::PUT, path, ours)),
        outcome: Outcome::Change(differences),
    })
}

/// The component template step: created when missing, never overwritten.
pub fn plan_component(client: &EsClient, names: &Names, replicas: u32) -> Result<Step, EsError> {
    let path = format!("/_component_template/{}", names.component);
    let what = format!("component template {} (shards, replicas, refresh interval)", names.component);
    Ok(match get_optional(client, &path)? {
        Some(_) => {
            Step { what, request: None, outcome: Outcome::LeftAlone("yours to change: never overwritten".into()) }
        }
        None => Step {
            what,
            request: Some(Request::es(reqwest::Method::PUT, path, component_body(replicas))),
            outcome: Outcome::Create,
        },
    })
}

/// The ingest pipeline step (see [`super::ingest`]): created when missing, changed when its
/// processors differ, else left alone.
pub fn plan_pipeline(client: &EsClient, names: &Names, ours: Value) -> Result<Step, EsError> {
    let name = super::ingest::name(&names.prefix);
    let path = format!("/_ingest/pipeline/{name}");
    let what = format!("ingest pipeline {name} (the seed's logs with the fields the console reads)");
    let existing = match get_optional(client, &path) {
        Ok(v) => v,
        Err(e) if is_missing_api(&e) => {
            return Ok(Step {
                what,
                request: None,
                outcome: Outcome::Skipped("this server has no ingest pipelines".into()),
            });
        }
        Err(e) => return Err(e),
    };
    Ok(match existing.map(|v| v[&name].clone()) {
        None | Some(Value::Null) => {
            Step { what, request: Some(Request::es(reqwest::Method::PUT, path, ours)), outcome: Outcome::Create }
        }
        Some(have) if have["processors"] == ours["processors"] => {
            Step { what, request: None, outcome: Outcome::LeftAlone("as the console's tables give it".into()) }
        }
        Some(_) => Step {
            what,
            request: Some(Request::es(reqwest::Method::PUT, path, ours)),
            outcome: Outcome::Change(vec!["the rules or the component map changed".into()]),
        },
    })
}

/// The saved searches for the console's main questions: id, title, KQL.
pub const SAVED_SEARCHES: [(&str, &str, &str); 3] = [
    ("foley-triage-errors", "foley-triage: errors", "is_error:true"),
    ("foley-triage-unexplained", "foley-triage: errors no rule explains", "is_error:true and unknown_template:*"),
    ("foley-triage-failed-jobs", "foley-triage: failed jobs", "job_outcome:true and is_error:true"),
];

/// The data view body (Kibana 8's data views API).
pub fn data_view_body(id: &str, pattern: &str) -> Value {
    json!({"data_view": {"id": id, "title": pattern, "name": pattern, "timeFieldName": "@timestamp"}})
}

/// A saved search on the data view (Kibana's saved objects API).
pub fn saved_search_body(title: &str, kql: &str, data_view: &str) -> Value {
    let source = json!({
        "query": {"query": kql, "language": "kuery"},
        "filter": [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"
    });
    json!({
        "attributes": {
            "title": title,
            "columns": ["level", "component", "video_id", "error_code", "message"],
            "sort": [["@timestamp", "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": source.to_string()}
        },
        "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": data_view}]
    })
}

/// The Kibana steps: the data view for the pattern, then the saved searches.
pub fn plan_kibana(kibana: &EsClient, data_view: &str, pattern: &str) -> Result<Vec<Step>, EsError> {
    let kibana_request = |method, path: String, body| Some(Request { method, path, body, kibana: true });
    let mut steps = Vec::new();
    let path = format!("/api/data_views/data_view/{data_view}");
    let what = format!("Kibana data view {data_view} ({pattern})");
    steps.push(match get_optional(kibana, &path)? {
        Some(existing) if existing["data_view"]["title"] == pattern => {
            Step { what, request: None, outcome: Outcome::LeftAlone("as the links need it".into()) }
        }
        Some(existing) => Step {
            what,
            request: kibana_request(
                reqwest::Method::POST,
                path,
                json!({"data_view": {"title": pattern, "timeFieldName": "@timestamp"}}),
            ),
            outcome: Outcome::Change(vec![format!(
                "its pattern is {} instead of `{pattern}`",
                existing["data_view"]["title"]
            )]),
        },
        None => Step {
            what,
            request: kibana_request(
                reqwest::Method::POST,
                "/api/data_views/data_view".into(),
                data_view_body(data_view, pattern),
            ),
            outcome: Outcome::Create,
        },
    });
    for (id, title, kql) in SAVED_SEARCHES {
        let path = format!("/api/saved_objects/search/{id}");
        let what = format!("Kibana saved search \"{title}\"");
        steps.push(match get_optional(kibana, &path)? {
            Some(_) => Step { what, request: None, outcome: Outcome::LeftAlone("exists".into()) },
            None => Step {
                what,
                request: kibana_request(reqwest::Method::POST, path, saved_search_body(title, kql, data_view)),
                outcome: Outcome::Create,
            },
        });
    }
    Ok(steps)
}

/// Sends a step's request.
pub fn apply(client: &EsClient, kibana: Option<&EsClient>, request: &Request) -> Result<Value, EsError> {
    let target = if request.kibana {
        kibana.ok_or_else(|| EsError::Config("a Kibana request without a Kibana URL".into()))?
    } else {
        client
    };
    target.request(request.method.clone(), &request.path, Some(request.body.to_string()), false)
}

/// What `ship` does before writing: creates the templates when missing; when the index template
/// exists, leaves it alone and returns what differs from what the console needs (for a warning).
pub fn ensure_for_ship(client: &EsClient, prefix: &str) -> Result<Vec<String>, EsError> {
    let names = Names::new(prefix);
    let template = plan_index_template(client, &names, DEFAULT_PRIORITY, None)?;
    match template.outcome {
        Outcome::Create => {
            let component = plan_component(client, &names, 1)?;
            for step in [component, template] {
                if let Some(request) = &step.request {
                    apply(client, None, request)?;
                }
            }
            Ok(Vec::new())
        }
        Outcome::Change(differences) => Ok(differences),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_template_matches_itself_and_names_a_changed_field() {
        let names = Names::new("hunyuan-foley");
        let daily = crate::elastic::lifecycle::Lifecycle { retention: Some("14d".into()), rollover: None };
        let ours = index_template_body(&names, 200, Some(Flavor::Elasticsearch(8)), Some(&daily));
        assert!(template_differences(&ours, &ours).is_empty());
        assert_eq!(ours["template"]["settings"]["index"]["lifecycle"]["name"], "hunyuan-foley-retention");
        assert!(
            ours["template"]["settings"].get("number_of_replicas").is_none(),
            "user settings live in the component"
        );
        let mut theirs = ours.clone();
        theirs["template"]["mappings"]["properties"]["video_id"] = json!({"type": "text"});
        theirs["template"]["mappings"]["properties"]["message"] = json!({"type": "text"});
        let differences = template_differences(&theirs, &ours);
        assert!(
            differences.iter().any(|d| d.contains("`video_id` is \"text\" instead of \"keyword\"")),
            "{differences:?}"
        );
        assert!(differences.iter().any(|d| d.contains("`message` has no keyword sub-field")), "{differences:?}");
        let os = index_template_body(&names, 200, Some(Flavor::OpenSearch(2)), Some(&daily));
        assert!(os["template"].get("settings").is_none(), "OpenSearch refuses ILM settings");
    }
}
