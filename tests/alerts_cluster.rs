#![allow(clippy::panic, clippy::unwrap_used)]
//! The same alert rules give the same firings on files and on a cluster: a simulated incident is
//! shipped to an OpenSearch-compatible test server (osmem-server, on a free loopback port), then
//! `check --at` over the files and `check --es --at` over the cluster are compared, every rule
//! kind included (count, ratio, avg, percentile, new_value).

mod common;

use common::start_server;

use foley_triage::simulate::{self, SimulateOptions};
use serde_json::Value;

/// (rule, since, until, value rounded) of every firing, firing and resolved.
fn firings(json: &Value) -> Vec<(String, i64, Option<i64>, String)> {
    let mut out: Vec<(String, i64, Option<i64>, String)> = ["firing", "resolved"]
        .iter()
        .flat_map(|k| json[*k].as_array().unwrap().clone())
        .map(|a| {
            (
                a["rule"].as_str().unwrap().to_string(),
                a["since_ms"].as_i64().unwrap(),
                a["until_ms"].as_i64(),
                format!("{:.6}", a["peak"].as_f64().unwrap()),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn files_and_cluster_fire_the_same() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    // a small incident: the in-memory server indexes ~1,500 documents a second
    let m = simulate::write_logs(&logs, &SimulateOptions { rate: 0.6, ..SimulateOptions::default() }).unwrap();
    std::fs::remove_file(logs.join("manifest.json")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        r#"
[[alert]]
name = "model error burst"
filter = "error_code:MODEL_*"
threshold = 3
for = "1m"
cooldown = "5m"

[[alert]]
name = "new error code"
kind = "new_value"
window = "10m"

[[alert]]
name = "new template"
kind = "new_value"
field = "template"
window = "10m"

[[alert]]
name = "p90 inference"
kind = "percentile"
percentile = 90
field = "inference_time"
filter = "job:true and not level:debug"
threshold = "4s"
min_count = 5

[[alert]]
name = "slowest"
kind = "max"
field = "latency"
filter = "source:inference"
threshold = "9s"
"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = common::binary()
            .env("FOLEY_TRIAGE_CONFIG", &config)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .args(args)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let shipped = common::binary()
        .env("FOLEY_TRIAGE_CONFIG", &config)
        .args(["ship", logs.to_str().unwrap(), "--es", &server.url, "--refresh"])
        .output()
        .unwrap();
    assert!(shipped.status.success(), "{}", String::from_utf8_lossy(&shipped.stderr));
    let rules = rules.to_str().unwrap();
    let mut fired = 0;
    let mut names = std::collections::BTreeSet::new();
    for minutes in [15, 25, 38, 50, 59] {
        let at = foley_triage::clock::format_ms(m.start_ms + minutes * 60_000);
        let files = run(&["check", logs.to_str().unwrap(), "--rules", rules, "--at", &at, "--json"]);
        let cluster = run(&["check", "--es", &server.url, "--rules", rules, "--at", &at, "--json"]);
        assert_eq!(firings(&files), firings(&cluster), "at {at}");
        let firing = |j: &Value| j["firing"].as_array().unwrap().iter().map(|a| a["rule"].clone()).collect::<Vec<_>>();
        assert_eq!(firing(&files), firing(&cluster), "at {at}");
        fired += firings(&files).len();
        names.extend(firings(&files).into_iter().map(|f| f.0));
        let news =
            |j: &Value| j["firing"].as_array().unwrap().iter().map(|a| a["new_values"].clone()).collect::<Vec<_>>();
        assert_eq!(news(&files), news(&cluster), "at {at}");
    }
    assert!(fired >= 6, "the incident fires the rules ({fired} firings seen)");
    for rule in [
        "model error burst",
        "video decode failures",
        "inference latency",
        "new error code",
        "new template",
        "p90 inference",
    ] {
        assert!(names.contains(rule), "{rule} fired somewhere: {names:?}");
    }
}

/// The console's engine on a cluster evaluates the same rules as on the files: the firings of the
/// same range (as of its end) agree.
#[test]
fn the_console_fires_the_same_on_files_and_on_a_cluster() {
    use foley_triage::backend::Backend;
    use foley_triage::backend::TimeRange;
    use foley_triage::backend::alerts::evaluate_range;
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let m = simulate::write_logs(&logs, &SimulateOptions { rate: 0.6, ..SimulateOptions::default() }).unwrap();
    std::fs::remove_file(logs.join("manifest.json")).unwrap();
    let config_file = dir.path().join("config.toml");
    std::fs::write(&config_file, "").unwrap();
    let shipped = common::binary()
        .env("FOLEY_TRIAGE_CONFIG", &config_file)
        .args(["ship", logs.to_str().unwrap(), "--es", &server.url, "--refresh"])
        .output()
        .unwrap();
    assert!(shipped.status.success(), "{}", String::from_utf8_lossy(&shipped.stderr));
    let config = foley_triage::config::Config::default();
    let paths: Vec<std::path::PathBuf> =
        std::fs::read_dir(&logs).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    let mut files = foley_triage::backend::local::LocalBackend::open(
        paths,
        config.enricher().unwrap(),
        &config,
        1,
        false,
        Vec::new(),
    );
    let args = foley_triage::cli::EsArgs { es: vec![server.url.clone()], es_timeout: 30, ..Default::default() };
    let client = foley_triage::elastic::connect(&args).expect("connect");
    let mut cluster = foley_triage::backend::elastic::EsBackend::new(client, config.enricher().unwrap(), &config);
    let rules = foley_triage::alerts::rules::builtin();
    let mut seen = 0;
    for (from, to) in [(10, 40), (0, 59), (35, 50)] {
        let (from, to) = (m.start_ms + from * 60_000, m.start_ms + to * 60_000);
        let range = TimeRange::between(from, to);
        let on = |backend: &mut dyn Backend| {
            let (answer, _) = evaluate_range(backend, &rules, range, Some(from), Some(to));
            assert!(answer.error.is_none(), "{answer:?}");
            answer.alerts.iter().map(|a| (a.rule.clone(), a.since_ms, a.until_ms)).collect::<Vec<_>>()
        };
        let (a, b) = (on(&mut files), on(&mut cluster));
        assert_eq!(a, b, "{range:?}");
        seen += a.len();
    }
    assert!(seen >= 3, "the incident fires ({seen} firings)");
}
