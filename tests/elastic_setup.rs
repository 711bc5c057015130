//! Setting a cluster up and checking it: `es init` against the real OpenSearch-compatible server
//! (templates: created once, left alone after, a user's settings and priority never overwritten;
//! `ship` creates only what is missing and warns on a mismatch), `es doctor` on a deliberately bad
//! mapping, and — for what that server lacks (ILM, ISM, Kibana) — the request bodies checked
//! against the products' documented APIs on a local HTTP server that keeps what it is sent.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::start_server;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const SECRET_VARS: [&str; 4] =
    ["FOLEY_TRIAGE_ES_API_KEY", "FOLEY_TRIAGE_ES_TOKEN", "FOLEY_TRIAGE_ES_USER", "FOLEY_TRIAGE_ES_PASSWORD"];

/// Runs the binary with a config file of its own: (exit status, stdout, stderr).
fn run(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    if !config.exists() {
        std::fs::write(config, "").unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.arg("--config").arg(config).args(args).stdin(Stdio::null());
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn http(url: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let args = foley_triage::cli::EsArgs { es: vec![url.to_string()], es_timeout: 30, ..Default::default() };
    let client =
        foley_triage::elastic::client::EsClient::new(foley_triage::elastic::options_from_args(&args).unwrap()).unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    match client.request(method, path, body.map(|b| b.to_string()), false) {
        Ok(v) => (200, v),
        Err(foley_triage::elastic::EsError::Http { status, .. }) => (status, Value::Null),
        Err(e) => panic!("{path}: {e}"),
    }
}

fn template(url: &str) -> Value {
    http(url, "GET", "/_index_template/hunyuan-foley", None).1["index_templates"][0]["index_template"].clone()
}

fn log_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..20)
        .map(|i| format!("2025-09-02 10:00:{i:02} [ERROR] video_id=vid_{i} error_code=CUDA_OOM step=denoise failed\n"))
        .collect();
    std::fs::write(dir.path().join("inference.log"), text).unwrap();
    dir
}

#[test]
fn es_init_is_idempotent_and_never_overwrites_a_users_choices() {
    let server = start_server();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    // a dry run prints the requests and creates nothing
    let (code, out, err) = run(&config, &["es", "init", "--es", &server.url, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("would create index template hunyuan-foley (priority 200)"), "{out}");
    assert!(out.contains("    PUT /_index_template/hunyuan-foley") && out.contains("\"priority\": 200"), "{out}");
    assert!(out.contains("skipped    ISM policy"), "the test server has no ISM: {out}");
    assert_eq!(http(&server.url, "GET", "/_index_template/hunyuan-foley", None).0, 404, "the dry run created it");

    let (code, out, err) = run(&config, &["es", "init", "--es", &server.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created    component template hunyuan-foley-settings"), "{out}");
    assert!(out.contains("created    index template hunyuan-foley"), "{out}");
    let t = template(&server.url);
    assert_eq!(t["priority"], 200);
    assert_eq!(t["composed_of"][0], "hunyuan-foley-settings");
    assert_eq!(t["template"]["mappings"]["properties"]["message"]["fields"]["keyword"]["ignore_above"], 1024);

    // the user changes the priority and the replicas: neither es init nor ship reverts them
    let mut theirs = t.clone();
    theirs["priority"] = json!(300);
    http(&server.url, "PUT", "/_index_template/hunyuan-foley", Some(theirs));
    http(
        &server.url,
        "PUT",
        "/_component_template/hunyuan-foley-settings",
        Some(json!({"template": {"settings": {"index": {"number_of_replicas": 0}}}})),
    );
    let (code, out, _) = run(&config, &["es", "init", "--es", &server.url]);
    assert_eq!(code, 0);
    assert!(out.contains("left alone component template"), "{out}");
    assert!(
        out.contains(
            "left alone index template hunyuan-foley (priority 200): as the console needs it (its priority 300 kept)"
        ),
        "{out}"
    );
    let logs = log_dir();
    let (code, _, err) = run(&config, &["ship", logs.path().to_str().unwrap(), "--es", &server.url, "--refresh"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(template(&server.url)["priority"], 300, "ship kept the user's priority");
    let component = http(&server.url, "GET", "/_component_template/hunyuan-foley-settings", None).1;
    let settings = &component["component_templates"][0]["component_template"]["template"]["settings"]["index"];
    assert_eq!(settings["number_of_replicas"].to_string().trim_matches('"'), "0", "{component}");

    // a template that no longer fits: ship warns and leaves it; es init fixes it, priority kept
    let mut broken = template(&server.url);
    broken["template"]["mappings"]["properties"]["video_id"] = json!({"type": "text"});
    http(&server.url, "PUT", "/_index_template/hunyuan-foley", Some(broken));
    let (code, _, err) = run(&config, &["ship", logs.path().to_str().unwrap(), "--es", &server.url]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: the index template `hunyuan-foley` differs from what the console needs (`video_id` is \"text\" instead of \"keyword\")"), "{err}");
    assert_eq!(template(&server.url)["template"]["mappings"]["properties"]["video_id"]["type"], "text", "ship left it");
    let (_, out, _) = run(&config, &["es", "init", "--es", &server.url]);
    assert!(
        out.contains(
            "changed    index template hunyuan-foley (priority 200): `video_id` is \"text\" instead of \"keyword\""
        ),
        "{out}"
    );
    let t = template(&server.url);
    assert_eq!(t["template"]["mappings"]["properties"]["video_id"]["type"], "keyword");
    assert_eq!(t["priority"], 300);
}

/// Rollover on the real server: `es init --rollover` creates the first index with the write alias,
/// `ship` writes through it (twice: nothing added the second time), and the report read from the
/// cluster is the files' report. (The server has no ISM: the policy is skipped and `es doctor`
/// says nothing rolls the index over.)
#[test]
fn ship_writes_through_the_rollover_alias_once() {
    let server = start_server();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    let (code, out, err) = run(&config, &["es", "init", "--es", &server.url, "--rollover"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created    write alias hunyuan-foley-write"), "{out}");
    let alias = http(&server.url, "GET", "/_alias/hunyuan-foley-write", None).1;
    assert_eq!(alias["hunyuan-foley-000001"]["aliases"]["hunyuan-foley-write"]["is_write_index"], true, "{alias}");
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..30 {
        // two days: daily indices would be two; through the alias it is one
        let day = 1 + i % 2;
        text.push_str(&format!(
            "2025-09-0{day} 10:00:{i:02} [ERROR] video_id=vid_{i} error_code=CUDA_OOM step=denoise failed\n\
             2025-09-0{day} 10:00:{i:02} [INFO] video_id=vid_{i} inference_time=1.5s audio_gen_success=True\n"
        ));
    }
    std::fs::write(dir.path().join("inference.log"), text).unwrap();
    let logs = dir.path().to_str().unwrap();
    let (code, _, err) = run(&config, &["ship", logs, "--es", &server.url, "--refresh"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("writing through the rollover alias hunyuan-foley-write (now hunyuan-foley-000001)"), "{err}");
    assert!(err.contains("shipped 60 documents to OpenSearch 3 (60 created, 0 already there, 0 failed)"), "{err}");
    let (code, _, err) = run(&config, &["ship", logs, "--es", &server.url, "--refresh"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(0 created, 60 already there, 0 failed)"), "{err}");
    let indices = http(&server.url, "GET", "/_cat/indices/hunyuan-foley-*?format=json", None).1;
    let names: Vec<&str> = indices.as_array().unwrap().iter().filter_map(|i| i["index"].as_str()).collect();
    assert_eq!(names, ["hunyuan-foley-000001"]);
    assert_eq!(indices[0]["docs.count"], "60");
    let (code, on_cluster, err) = run(&config, &["report", "--es", &server.url]);
    assert_eq!(code, 0, "{err}");
    let (_, on_files, _) = run(&config, &["report", logs]);
    let body = |r: &str| r.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(body(&on_cluster), body(&on_files));
    assert!(on_files.contains("MODEL_INFER_FAIL") || on_files.contains("CUDA"), "{on_files}");
    let (_, out, _) = run(&config, &["es", "doctor", "--es", &server.url]);
    assert!(
        out.contains("PROBLEM hunyuan-foley-write writes to hunyuan-foley-000001, but no policy rolls it over"),
        "{out}"
    );
    assert!(out.contains("fix: no lifecycle API here: roll it over yourself"), "{out}");
}

/// `ship` stores the raw line only with `--keep-raw`; the message is searchable text either way.
#[test]
fn raw_lines_are_kept_only_when_asked_and_messages_are_searchable() {
    let server = start_server();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    let logs = log_dir();
    let (code, _, err) = run(&config, &["ship", logs.path().to_str().unwrap(), "--es", &server.url, "--refresh"]);
    assert_eq!(code, 0, "{err}");
    let search = |query: Value| http(&server.url, "POST", "/hunyuan-foley-*/_search", Some(query)).1;
    let hits = search(json!({"size": 1, "query": {"match_all": {}}}));
    let doc = &hits["hits"]["hits"][0]["_source"];
    assert!(doc.get("raw").is_none(), "raw stored without --keep-raw: {doc}");
    assert!(doc["ingested"].is_i64(), "{doc}");
    let found = search(json!({"size": 0, "track_total_hits": true, "query": {"match": {"message": "failed"}}}));
    assert_eq!(found["hits"]["total"]["value"], 20, "free-text search on message: {found}");
    let (code, _, err) =
        run(&config, &["ship", logs.path().to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
    assert_eq!(code, 0, "{err}");
    let hits = search(json!({"size": 1, "query": {"match_all": {}}}));
    assert!(hits["hits"]["hits"][0]["_source"]["raw"].as_str().unwrap().contains("video_id=vid_"), "{hits}");
}

#[test]
fn es_doctor_names_what_is_wrong_with_a_bad_mapping_and_how_to_fix_it() {
    let server = start_server();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    // an index made by hand: video_id text without keyword, no @timestamp, no template
    http(
        &server.url,
        "PUT",
        "/hunyuan-foley-2025.09.01",
        Some(
            json!({"mappings": {"properties": {"video_id": {"type": "text"}, "time": {"type": "date"}, "level": {"type": "keyword"}}}}),
        ),
    );
    let bulk = "{\"index\":{\"_index\":\"hunyuan-foley-2025.09.01\"}}\n{\"video_id\":\"vid_1\",\"time\":\"2025-09-01T10:00:00Z\",\"level\":\"ERROR\"}\n";
    let args = foley_triage::cli::EsArgs { es: vec![server.url.clone()], es_timeout: 30, ..Default::default() };
    foley_triage::elastic::connect(&args).unwrap().bulk(bulk.into()).unwrap();
    let (code, out, err) = run(&config, &["es", "doctor", "--es", &server.url]);
    assert_eq!(code, 1, "problems found: {out}{err}");
    for expected in [
        "PROBLEM `@timestamp` is missing: the console cannot place documents in time",
        "PROBLEM `video_id` is text without a keyword sub-field",
        "PROBLEM fields the console reads are absent: source, component",
        "PROBLEM no index template `hunyuan-foley`",
        "PROBLEM this server has no lifecycle API",
        "ok      shards per node at most",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    assert!(out.lines().filter(|l| l.trim_start().starts_with("fix: ")).count() >= 5, "each problem has a fix:\n{out}");

    // a cluster set up by es init and filled by ship: the mapping and the template are fine
    let good = start_server();
    let logs = log_dir();
    assert_eq!(run(&config, &["es", "init", "--es", &good.url]).0, 0);
    assert_eq!(run(&config, &["ship", logs.path().to_str().unwrap(), "--es", &good.url, "--refresh"]).0, 0);
    let (_, out, _) = run(&config, &["es", "doctor", "--es", &good.url]);
    assert!(out.contains("ok      `@timestamp` is a date"), "{out}");
    assert!(out.contains("ok      index template `hunyuan-foley` is as the console needs it"), "{out}");
    assert!(!out.contains("text without a keyword"), "{out}");
}

/// An index shipped by a foley-triage from before the `template` field: `es doctor` names the one
/// field missing and how to add it, rather than calling the index another pipeline's.
#[test]
fn es_doctor_names_an_index_shipped_before_the_template_field() {
    let server = start_server();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    let mut body = foley_triage::elastic::schema::index_template("hunyuan-foley")["template"].clone();
    body["mappings"]["properties"].as_object_mut().unwrap().remove("template");
    assert_eq!(http(&server.url, "PUT", "/hunyuan-foley-2025.09.01", Some(body)).0, 200);
    let doc = json!({"@timestamp": 1_756_807_200_000i64, "level": "ERROR", "message": "x", "video_id": "vid_1"});
    http(&server.url, "POST", "/hunyuan-foley-2025.09.01/_doc?refresh=true", Some(doc));
    let (code, out, _) = run(&config, &["es", "doctor", "--es", &server.url]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("PROBLEM `template` is absent: shipped by an older foley-triage"), "{out}");
    assert!(out.contains("fix: foley-triage es init, then ship the logs again"), "{out}");
    assert!(!out.contains("fields the console reads are absent"), "{out}");
}

/// What a local server was sent, by path (without the query), and what it keeps.
#[derive(Default)]
struct Store {
    requests: Vec<(String, String, Vec<String>, Value)>,
    kept: HashMap<String, Value>,
    /// Answers to GETs whose path starts with the key (a cluster's state, for `es doctor`).
    canned: Vec<(String, Value)>,
}

/// A server that answers as Elasticsearch (`opensearch` false) or OpenSearch does for the APIs
/// `es init` uses, including Kibana's, keeping what it is sent and giving it back in each API's
/// documented GET shape.
fn product_mock(opensearch: bool) -> (String, Arc<Mutex<Store>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let store = Arc::new(Mutex::new(Store::default()));
    let shared = Arc::clone(&store);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let store = Arc::clone(&shared);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut first = String::new();
                    if reader.read_line(&mut first).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = Vec::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        headers.push(line.trim().to_ascii_lowercase());
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let mut parts = first.split(' ');
                    let method = parts.next().unwrap().to_string();
                    let full = parts.next().unwrap().to_string();
                    let path = full.split('?').next().unwrap().to_string();
                    let name = path.rsplit('/').next().unwrap().to_string();
                    let mut s = store.lock().unwrap();
                    s.requests.push((method.clone(), full.clone(), headers, body.clone()));
                    let (status, answer) = match (method.as_str(), path.as_str()) {
                        ("GET", "/") => {
                            let info = if opensearch {
                                json!({"version": {"number": "2.17.0", "distribution": "opensearch"}})
                            } else {
                                json!({"version": {"number": "8.15.0"}, "tagline": "You Know, for Search"})
                            };
                            (200, info)
                        }
                        ("GET", p) if s.canned.iter().any(|(k, _)| p.starts_with(k.as_str())) => {
                            (200, s.canned.iter().find(|(k, _)| p.starts_with(k.as_str())).unwrap().1.clone())
                        }
                        ("GET", p) if p.contains("_field_caps") => (200, json!({"indices": [], "fields": {}})),
                        ("PUT", p) if body.get("aliases").is_some() => {
                            // an index created with its aliases: GET /_alias/NAME gives them back
                            let index = p.trim_start_matches('/').to_string();
                            for (alias, props) in body["aliases"].as_object().unwrap() {
                                let shape = json!({index.clone(): {"aliases": {alias.clone(): props.clone()}}});
                                s.kept.insert(format!("/_alias/{alias}"), shape);
                            }
                            (200, json!({"acknowledged": true, "index": index}))
                        }
                        ("PUT" | "POST", p) => {
                            let key = if p == "/api/data_views/data_view" {
                                format!("/api/data_views/data_view/{}", body["data_view"]["id"].as_str().unwrap_or(""))
                            } else {
                                p.to_string()
                            };
                            s.kept.insert(key, body);
                            (200, json!({"acknowledged": true}))
                        }
                        ("GET", p) => match s.kept.get(p) {
                            None => (404, json!({"error": {"reason": "not found"}, "status": 404})),
                            Some(kept) => {
                                let shape = if p.starts_with("/_index_template/") {
                                    json!({"index_templates": [{"name": name, "index_template": kept}]})
                                } else if p.starts_with("/_component_template/") {
                                    json!({"component_templates": [{"name": name, "component_template": kept}]})
                                } else if p.starts_with("/_ilm/policy/") {
                                    json!({name.clone(): {"version": 1, "policy": kept["policy"]}})
                                } else if p.starts_with("/_plugins/_ism/policies/") {
                                    json!({"_id": name, "_seq_no": 3, "_primary_term": 1, "policy": kept["policy"]})
                                } else if p.starts_with("/_ingest/pipeline/") {
                                    json!({name.clone(): kept})
                                } else if p.starts_with("/_alias/") {
                                    kept.clone()
                                } else if p.starts_with("/api/data_views/data_view/") {
                                    json!({"data_view": kept["data_view"]})
                                } else {
                                    json!({"id": name, "attributes": kept["attributes"]})
                                };
                                (200, shape)
                            }
                        },
                        _ => (404, json!({})),
                    };
                    drop(s);
                    let text = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if stream.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, store)
}

fn sent<'a>(store: &'a Store, method: &str, path: &str) -> Vec<&'a (String, String, Vec<String>, Value)> {
    store.requests.iter().filter(|r| r.0 == method && r.1.split('?').next() == Some(path)).collect()
}

#[test]
fn lifecycle_and_kibana_requests_follow_the_documented_apis() {
    // Elasticsearch: an ILM policy attached through the index template; Kibana's data view and
    // saved searches; the data view id written to the config
    let (url, store) = product_mock(false);
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    std::fs::write(&config, "# my settings\ntheme = \"light\"\n").unwrap();
    let (code, out, err) =
        run(&config, &["es", "init", "--es", &url, "--kibana", &url, "--retention", "30d", "--pipeline"]);
    assert_eq!(code, 0, "{out}{err}");
    {
        let s = store.lock().unwrap();
        let ilm = sent(&s, "PUT", "/_ilm/policy/hunyuan-foley-retention");
        assert_eq!(ilm.len(), 1, "{out}");
        let policy = &ilm[0].3["policy"];
        assert_eq!(policy["phases"]["delete"]["min_age"], "30d");
        assert_eq!(policy["phases"]["delete"]["actions"], json!({"delete": {}}));
        assert!(policy["phases"]["hot"]["actions"].is_object());
        let template = &sent(&s, "PUT", "/_index_template/hunyuan-foley")[0].3;
        assert_eq!(template["template"]["settings"]["index"]["lifecycle"]["name"], "hunyuan-foley-retention");
        assert_eq!(template["template"]["settings"]["index"]["lifecycle"]["parse_origination_date"], true);
        assert_eq!(template["index_patterns"], json!(["hunyuan-foley-*"]));
        let pipeline = &sent(&s, "PUT", "/_ingest/pipeline/hunyuan-foley-enrich")[0].3;
        let processors = pipeline["processors"].as_array().unwrap();
        assert_eq!(processors[0]["dissect"]["field"], "message");
        assert!(processors[2]["kv"]["field_split"].is_string() && processors[2]["kv"]["value_split"] == "=");
        assert_eq!(processors[3]["script"]["lang"], "painless");
        assert!(processors.iter().any(|p| p["set"]["field"] == "rule" && p["set"]["value"] == "cuda-oom"));
        let view = sent(&s, "POST", "/api/data_views/data_view");
        assert_eq!(view.len(), 1);
        assert!(view[0].2.iter().any(|h| h == "kbn-xsrf: true"), "Kibana needs kbn-xsrf: {:?}", view[0].2);
        assert_eq!(
            view[0].3["data_view"],
            json!({"id": "hunyuan-foley", "title": "hunyuan-foley-*", "name": "hunyuan-foley-*", "timeFieldName": "@timestamp"})
        );
        let searches: Vec<_> =
            s.requests.iter().filter(|r| r.1.starts_with("/api/saved_objects/search/") && r.0 == "POST").collect();
        assert_eq!(searches.len(), 3);
        for search in searches {
            let body = &search.3;
            assert_eq!(
                body["references"][0],
                json!({"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "hunyuan-foley"})
            );
            let source: Value =
                serde_json::from_str(body["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"].as_str().unwrap())
                    .unwrap();
            assert_eq!(source["query"]["language"], "kuery");
            assert_eq!(source["indexRefName"], "kibanaSavedObjectMeta.searchSourceJSON.index");
        }
    }
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("# my settings") && written.contains("theme = \"light\""), "kept: {written}");
    assert!(
        written.contains("data_view = \"hunyuan-foley\"") && written.contains(&format!("kibana_url = \"{url}\"")),
        "{written}"
    );
    // again: everything left alone, nothing written
    let before = store.lock().unwrap().requests.len();
    let (code, out, _) =
        run(&config, &["es", "init", "--es", &url, "--kibana", &url, "--retention", "30d", "--pipeline"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.matches("left alone").count(),
        8,
        "component, ILM, template, pipeline, data view, 3 searches:\n{out}"
    );
    let writes = store.lock().unwrap().requests[before..].iter().filter(|r| r.0 != "GET").count();
    assert_eq!(writes, 0, "{out}");
    // a new retention changes the policy only
    let (_, out, _) = run(&config, &["es", "init", "--es", &url, "--retention", "7d"]);
    assert!(out.contains("changed    ILM policy hunyuan-foley-retention (delete 7d after the index's day)"), "{out}");

    // OpenSearch: an ISM policy with its ism_template; no ILM setting in the index template
    let (url, store) = product_mock(true);
    let (code, out, err) = run(&config, &["es", "init", "--es", &url]);
    assert_eq!(code, 0, "{out}{err}");
    {
        let s = store.lock().unwrap();
        let ism = &sent(&s, "PUT", "/_plugins/_ism/policies/hunyuan-foley-retention")[0].3["policy"];
        assert_eq!(ism["default_state"], "hot");
        assert_eq!(
            ism["states"][0]["transitions"][0],
            json!({"state_name": "delete", "conditions": {"min_index_age": "14d"}})
        );
        assert_eq!(ism["states"][1], json!({"name": "delete", "actions": [{"delete": {}}], "transitions": []}));
        assert_eq!(ism["ism_template"][0]["index_patterns"], json!(["hunyuan-foley-*"]));
        let template = &sent(&s, "PUT", "/_index_template/hunyuan-foley")[0].3;
        assert!(template["template"].get("settings").is_none(), "OpenSearch refuses index.lifecycle settings");
    }
    // an ISM update names the version it replaces
    let (_, out, _) = run(&config, &["es", "init", "--es", &url, "--retention", "3d"]);
    assert!(out.contains("changed    ISM policy"), "{out}");
    let s = store.lock().unwrap();
    let update = s.requests.iter().rev().find(|r| r.0 == "PUT" && r.1.starts_with("/_plugins/_ism/policies/")).unwrap();
    assert!(update.1.ends_with("?if_seq_no=3&if_primary_term=1"), "{}", update.1);
}

#[test]
fn rollover_requests_follow_the_documented_apis() {
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    // Elasticsearch: ILM rolls the write index over by size or age and deletes 30 days after the
    // rollover; the template names the alias to roll over; the first index comes after both
    let (url, store) = product_mock(false);
    let (code, out, err) = run(
        &config,
        &[
            "es",
            "init",
            "--es",
            &url,
            "--rollover",
            "--rollover-size",
            "30gb",
            "--rollover-age",
            "12h",
            "--retention",
            "30d",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("created    ILM policy hunyuan-foley-retention (roll over at 30gb a primary shard or 12h, delete 30d after rollover)"),
        "{out}"
    );
    assert!(out.contains("created    write alias hunyuan-foley-write"), "{out}");
    {
        let s = store.lock().unwrap();
        let policy = &sent(&s, "PUT", "/_ilm/policy/hunyuan-foley-retention")[0].3["policy"];
        assert_eq!(
            policy["phases"]["hot"]["actions"]["rollover"],
            json!({"max_primary_shard_size": "30gb", "max_age": "12h"})
        );
        assert_eq!(policy["phases"]["delete"], json!({"min_age": "30d", "actions": {"delete": {}}}));
        let template = &sent(&s, "PUT", "/_index_template/hunyuan-foley")[0].3;
        assert_eq!(
            template["template"]["settings"]["index"]["lifecycle"],
            json!({"name": "hunyuan-foley-retention", "rollover_alias": "hunyuan-foley-write"}),
            "no parse_origination_date: rolled-over indices carry no date"
        );
        let first = sent(&s, "PUT", "/hunyuan-foley-000001");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].3, json!({"aliases": {"hunyuan-foley-write": {"is_write_index": true}}}));
        let position = |path: &str| s.requests.iter().position(|r| r.0 == "PUT" && r.1.starts_with(path)).unwrap();
        assert!(position("/hunyuan-foley-000001") > position("/_index_template/"), "the first index gets the template");
        assert!(position("/hunyuan-foley-000001") > position("/_ilm/policy/"), "and the policy");
    }
    // again, without --rollover: rollover is kept, nothing is written
    let before = store.lock().unwrap().requests.len();
    let (code, out, _) = run(
        &config,
        &["es", "init", "--es", &url, "--rollover-size", "30gb", "--rollover-age", "12h", "--retention", "30d"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("rollover   kept: hunyuan-foley-write exists and writes go to hunyuan-foley-000001"), "{out}");
    assert!(out.contains("left alone ILM policy") && out.contains("left alone write alias"), "{out}");
    let writes = store.lock().unwrap().requests[before..].iter().filter(|r| r.0 != "GET").count();
    assert_eq!(writes, 0, "{out}");
    // other conditions change the policy only
    let (_, out, _) = run(&config, &["es", "init", "--es", &url, "--retention", "30d"]);
    assert!(out.contains("changed    ILM policy hunyuan-foley-retention (roll over at 50gb"), "{out}");
    assert!(out.contains("left alone index template"), "{out}");

    // OpenSearch: ISM rolls over and deletes after the rollover; the template names the alias
    let (url, store) = product_mock(true);
    let (code, out, err) = run(&config, &["es", "init", "--es", &url, "--rollover", "--retention", "7d"]);
    assert_eq!(code, 0, "{out}{err}");
    let s = store.lock().unwrap();
    let ism = &sent(&s, "PUT", "/_plugins/_ism/policies/hunyuan-foley-retention")[0].3["policy"];
    assert_eq!(
        ism["states"][0],
        json!({"name": "hot", "actions": [{"rollover": {"min_primary_shard_size": "50gb", "min_index_age": "1d"}}],
               "transitions": [{"state_name": "delete", "conditions": {"min_rollover_age": "7d"}}]})
    );
    assert_eq!(ism["ism_template"][0]["index_patterns"], json!(["hunyuan-foley-*"]));
    let template = &sent(&s, "PUT", "/_index_template/hunyuan-foley")[0].3;
    assert_eq!(
        template["template"]["settings"],
        json!({"plugins.index_state_management.rollover_alias": "hunyuan-foley-write"})
    );
    assert_eq!(sent(&s, "PUT", "/hunyuan-foley-000001").len(), 1);
}

/// `es doctor` on a cluster in trouble: a daily index with a 80 GB shard, a node over the shard
/// limit, indices without a policy, and a write alias nothing rolls over.
#[test]
fn es_doctor_names_oversized_shards_and_crowded_nodes() {
    let (url, store) = product_mock(false);
    let gb = 1024u64 * 1024 * 1024;
    let mut shards: Vec<Value> =
        (0..1200).map(|i| json!({"index": format!("other-{i}"), "node": "node-a", "state": "STARTED"})).collect();
    shards.extend((0..40).map(|i| json!({"index": format!("o-{i}"), "node": "node-b", "state": "STARTED"})));
    {
        let mut s = store.lock().unwrap();
        s.canned = vec![
            (
                "/_cat/indices/".into(),
                json!([
                    {"index": "hunyuan-foley-2025.09.01", "pri": "1", "pri.store.size": (80 * gb).to_string(), "docs.count": "1"},
                    {"index": "hunyuan-foley-2025.09.02", "pri": "4", "pri.store.size": (120 * gb).to_string(), "docs.count": "1"}
                ]),
            ),
            ("/_cat/shards".into(), Value::Array(shards)),
            (
                "/hunyuan-foley-*/_ilm/explain".into(),
                json!({"indices": {"hunyuan-foley-2025.09.01": {"managed": false}, "hunyuan-foley-2025.09.02": {"managed": true}}}),
            ),
            (
                "/_alias/hunyuan-foley-write".into(),
                json!({"hunyuan-foley-000003": {"aliases": {"hunyuan-foley-write": {"is_write_index": true}}}}),
            ),
        ];
    }
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    let (code, out, err) = run(&config, &["es", "doctor", "--es", &url]);
    assert_eq!(code, 1, "{out}{err}");
    for expected in [
        "ok      2 indices; mean 107374.2 MB, largest hunyuan-foley-2025.09.02 128849.0 MB (primaries)",
        "PROBLEM hunyuan-foley-2025.09.01 has shards of 86 GB: above 50 GB they are slow to move and recover",
        "PROBLEM node node-a holds 1200 shards (the default limit is 1,000 per node)",
        "PROBLEM 1 indices have no lifecycle policy (e.g. hunyuan-foley-2025.09.01)",
        "PROBLEM hunyuan-foley-write writes to hunyuan-foley-000003, but no policy rolls it over",
        "        fix: foley-triage es init --rollover",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    // 120 GB over 4 primaries is 30 GB a shard: fine
    assert!(!out.contains("hunyuan-foley-2025.09.02 has shards"), "{out}");
    assert!(!out.contains("node node-b"), "{out}");
}
