#![allow(clippy::panic, clippy::unwrap_used)]
//! Alert rules end to end: a simulated incident (OOM storm, decode spike, latency regression, a
//! new error code), replayed with `check --at` inside and outside each phase; the built-in rules
//! give the same firings as the console's own evaluation; rule files checked with line and column.

use foley_triage::alerts::{self, collect::Collector, eval, rules};
use foley_triage::config::Config;
use foley_triage::simulate::{self, Manifest, SimulateOptions};
use foley_triage::source::{self, ReadOptions, read};
use serde_json::Value;
use std::path::Path;

mod common;
use common::binary;

const MINUTE: i64 = 60_000;

fn incident() -> (tempfile::TempDir, Manifest) {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = simulate::write_logs(dir.path(), &SimulateOptions::default()).expect("simulate");
    (dir, manifest)
}

fn iso(ms: i64) -> String {
    foley_triage::clock::format_ms(ms)
}

/// Runs `check --json` as of `at`; returns the exit status and the output.
fn check_at(dir: &Path, at: i64, extra: &[&str]) -> (i32, Value) {
    std::fs::write(dir.join("empty-config.toml"), "").unwrap();
    let out = binary()
        .env("FOLEY_TRIAGE_CONFIG", dir.join("empty-config.toml"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .arg("check")
        .arg(dir)
        .args(["--json", "--at", &iso(at)])
        .args(extra)
        .output()
        .expect("run binary");
    let code = out.status.code().expect("exit code");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --json printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (code, json)
}

fn firing(json: &Value) -> Vec<String> {
    json["firing"].as_array().expect("firing list").iter().map(|a| a["rule"].as_str().unwrap().to_string()).collect()
}

#[test]
fn each_rule_fires_inside_its_phase_and_not_outside() {
    let (dir, m) = incident();
    let p = &m.phases;
    // before the incident: nothing, exit 0
    let (code, json) = check_at(dir.path(), m.start_ms + 15 * MINUTE, &[]);
    assert_eq!((code, firing(&json)), (0, vec![]), "{json}");
    // inside each phase: its rule, exit 1
    for (phase, at, rule) in [
        (p.oom_storm, p.oom_storm[0] + 5 * MINUTE, "model error burst"),
        (p.decode_spike, p.decode_spike[0] + 4 * MINUTE, "video decode failures"),
        (p.latency_regression, p.latency_regression[0] + 5 * MINUTE, "inference latency"),
    ] {
        let (code, json) = check_at(dir.path(), at, &[]);
        assert_eq!(code, 1, "{rule} at {}: {json}", iso(at));
        assert_eq!(firing(&json), vec![rule.to_string()], "at {}", iso(at));
        let alert = &json["firing"][0];
        let since = alert["since_ms"].as_i64().unwrap();
        assert!((phase[0]..=at).contains(&since), "{rule} fires inside its phase, since {}", iso(since));
        assert_eq!(alert["latest_lines"].as_array().unwrap().len(), 10, "ten related lines");
        assert!(!alert["top_videos"].as_array().unwrap().is_empty());
    }
    // the OOM storm's firing names its poison videos first
    let (_, json) = check_at(dir.path(), p.oom_storm[0] + 5 * MINUTE, &[]);
    let top = json["firing"][0]["top_videos"][0][0].as_str().unwrap().to_string();
    assert!(m.poison_videos.contains(&top), "{top} is not a poison video");
    // after the incident: nothing firing, the firings listed as resolved, exit 0
    let (code, json) = check_at(dir.path(), m.end_ms - MINUTE, &[]);
    assert_eq!((code, firing(&json)), (0, vec![]), "{json}");
    let resolved: Vec<&str> =
        json["resolved"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap()).collect();
    for rule in ["model error burst", "video decode failures", "inference latency"] {
        assert!(resolved.contains(&rule), "{rule} resolved: {resolved:?}");
    }
}

#[test]
fn user_rules_new_code_minimum_duration_and_cool_down() {
    let (dir, m) = incident();
    let rules = dir.path().join("my-alerts.toml");
    std::fs::write(
        &rules,
        r#"
[[alert]]
name = "new error code"
kind = "new_value"
field = "error_code"
window = "10m"
severity = "critical"

[[alert]]
name = "new template"
kind = "new_value"
field = "template"
window = "10m"

[[alert]]
name = "model error burst"
filter = "error_code:MODEL_*"
threshold = 10
for = "20m"

[[alert]]
name = "slow p95"
kind = "percentile"
percentile = 95
field = "inference_time"
filter = "job:true"
threshold = "5s"
min_count = 20
"#,
    )
    .unwrap();
    let rules_arg = ["--rules", rules.to_str().unwrap()];
    let p = &m.phases;
    let (code, json) = check_at(dir.path(), p.unknown_code[0] + 3 * MINUTE, &rules_arg);
    assert_eq!(code, 1, "{json}");
    let new =
        json["firing"].as_array().unwrap().iter().find(|a| a["rule"] == "new error code").expect("new code fires");
    assert_eq!(new["new_values"], serde_json::json!([m.unknown_code]), "{new}");
    let template = json["firing"].as_array().unwrap().iter().find(|a| a["rule"] == "new template").expect("fires");
    let prefix = format!("{}: ", m.unknown_code);
    assert!(
        template["new_values"].as_array().unwrap().iter().any(|v| v.as_str().unwrap().starts_with(&prefix)),
        "{template}"
    );
    // 20 minutes of errors before firing: the 10-minute storm never fires the replaced rule
    let (_, json) = check_at(dir.path(), p.oom_storm[1], &rules_arg);
    assert!(!firing(&json).contains(&"model error burst".to_string()), "{json}");
    // the p95 rule fires in the latency regression and not before the incident
    let (_, json) = check_at(dir.path(), p.latency_regression[0] + 6 * MINUTE, &rules_arg);
    assert!(firing(&json).contains(&"slow p95".to_string()), "{json}");
    let (_, json) = check_at(dir.path(), m.start_ms + 15 * MINUTE, &rules_arg);
    assert_eq!(firing(&json), Vec::<String>::new());
}

#[test]
fn could_not_evaluate_exits_2_and_says_where() {
    let (dir, _) = incident();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[alert]]\nname = \"x\"\nthreshold = 1\nfilter = \"level:ERROR and (code:X\"\n").unwrap();
    for args in [
        vec!["check".to_string(), dir.path().display().to_string(), "--rules".into(), bad.display().to_string()],
        vec!["check".to_string(), dir.path().display().to_string(), "--at".into(), "yesterday-ish".into()],
        vec!["check".to_string(), dir.path().join("missing.log").display().to_string()],
    ] {
        let out = binary().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out =
        binary().args(["check", dir.path().to_str().unwrap(), "--rules", bad.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:4:27"), "{stderr}");
    // rules --check: alert rule files too
    let out = binary().args(["rules", "--check", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml:4:27"));
    let good = dir.path().join("good.toml");
    std::fs::write(&good, rules::BUILTIN_ALERTS).unwrap();
    let out = binary().args(["rules", "--check", good.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 alert rules, all valid"));
}

/// The built-in rule files give the same firing windows as the console's own evaluation
/// (`alerts::evaluate_stats` over the statistics), on the same incident.
#[test]
fn builtin_rules_keep_the_consoles_behaviour() {
    let (dir, _) = incident();
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let inputs = source::resolve(&[dir.path().display().to_string()]).unwrap();
    let settings = config.ingest();
    let options = ReadOptions { settings, threads: 1, format: None };
    let all = source::read_all(&inputs, &enricher, options, &|_| {});
    let stats = all.stats;
    let (first, last) = (stats.first_ms.unwrap(), stats.last_ms.unwrap());
    let old = alerts::evaluate_stats(
        &alerts::default_rules(),
        &stats,
        &enricher.components,
        stats.bucket_of(first),
        stats.bucket_of(last),
    );
    assert!(old.len() >= 3, "the incident fires the old rules: {old:?}");

    let new_rules = rules::builtin();
    let mut collector = Collector::new(&new_rules, &enricher, settings.bucket_ms, last);
    for (i, input) in inputs.iter().enumerate() {
        let opened = read::open(input, None, settings.options.default_offset, &|_| {}).unwrap();
        read::read_events(opened, i as u32, &enricher, &settings, &mut collector);
    }
    let b = settings.bucket_ms;
    let mut new: Vec<(String, i64, i64, f64)> = Vec::new();
    for (rule, data) in new_rules.iter().zip(&collector.data) {
        let width = rule.window_ms / b;
        let steps = eval::steps(rule, &data.cells, b, last);
        let mut merged: Vec<(String, i64, i64, f64)> = Vec::new();
        for (i, s) in steps.iter().enumerate().filter(|(_, s)| s.holds) {
            let from = (s.end_key - width + 1) * b;
            let to = steps.get(i + 1).map_or((s.end_key + 1) * b, |n| n.end_key * b);
            let v = s.value.unwrap();
            match merged.last_mut() {
                Some(m) if m.2 >= from => {
                    m.2 = to;
                    m.3 = m.3.max(v);
                }
                _ => merged.push((rule.name.clone(), from, to, v)),
            }
        }
        new.extend(merged);
    }
    new.sort_by_key(|f| f.1);
    let old: Vec<(String, i64, i64, f64)> = old.into_iter().map(|f| (f.rule, f.from, f.to, f.value)).collect();
    assert_eq!(old.len(), new.len(), "old {old:?}\nnew {new:?}");
    for (o, n) in old.iter().zip(&new) {
        assert_eq!((&o.0, o.1, o.2), (&n.0, n.1, n.2));
        assert!((o.3 - n.3).abs() < 1e-6, "{o:?} {n:?}");
    }
}

/// `check --watch` on a file being written: a rule that starts firing is printed once, and
/// SIGTERM stops the watch with the last status (1: firing).
#[test]
fn watch_prints_a_rule_that_starts_firing_once() {
    use std::io::{BufRead, Write};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("inference.log");
    let now = || chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    std::fs::write(&log, format!("{} [INFO] worker=gpu-1 queue_depth=3 batch_size=4\n", now())).unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[alert]]\nname = \"burst\"\nfilter = \"error_code:MODEL_*\"\nwindow = \"2m\"\nthreshold = 3\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let mut child = binary()
        .env("FOLEY_TRIAGE_CONFIG", dir.path().join("config.toml"))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .args(["check", log.to_str().unwrap(), "--rules", rules.to_str().unwrap(), "--watch", "--interval", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = lines.clone();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            seen.lock().unwrap().push(line.unwrap());
        }
    });
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..5 {
        writeln!(f, "{} [ERROR] video_id=vid_{i} error_code=MODEL_INFER_FAIL reason=\"CUDA out of memory\"", now())
            .unwrap();
    }
    drop(f);
    let firing = |l: &Vec<String>| l.iter().filter(|l| l.starts_with("FIRING [warning] burst: 5 > 3 over 2m")).count();
    common::wait_until("the rule to fire", std::time::Duration::from_secs(30), || firing(&lines.lock().unwrap()) == 1);
    // two more rounds at least: still firing, not printed again
    std::thread::sleep(std::time::Duration::from_millis(2500));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "stopped while firing");
    let lines = lines.lock().unwrap().clone();
    assert_eq!(firing(&lines), 1, "printed once: {lines:?}");
}

/// A config.toml with the old `[[alert]]` form still works: converted into rules (replacing the
/// built-in rule of the same name), with a warning that says what to write instead; `check` and
/// `report` list the same firings.
#[test]
fn the_old_config_alert_form_is_converted_with_a_message() {
    let (dir, m) = incident();
    let config = dir.path().join("old.toml");
    // the model error burst made much harder to fire; a share rule of the old form added
    std::fs::write(
        &config,
        "[[alert]]\nname = \"model error burst\"\nmetric = \"count\"\ncodes = \"MODEL_*\"\nwindow = \"5m\"\nthreshold = 100000\n\n\
         [[alert]]\nname = \"decode share\"\nmetric = \"share\"\ncodes = \"VIDEO_DECODE_ERR\"\nwindow = \"5m\"\nthreshold = 0.05\nmin_count = 20\n",
    )
    .unwrap();
    let at = iso(m.start_ms + 59 * MINUTE);
    let out = binary()
        .env("FOLEY_TRIAGE_CONFIG", &config)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .args(["check", dir.path().to_str().unwrap(), "--json", "--at", &at])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[[alert]]") && stderr.contains("old form") && stderr.contains("alerts.toml"), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rules"], 5, "four built in, one added: {json}");
    let all: Vec<String> = ["firing", "resolved"]
        .iter()
        .flat_map(|k| json[*k].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap().to_string()))
        .collect();
    assert!(!all.iter().any(|r| r == "model error burst"), "the config's threshold applies: {all:?}");
    assert!(all.iter().any(|r| r == "decode share"), "the old share rule fires as a ratio: {all:?}");
    // report: the same firings, as of its end
    let out = binary()
        .env("FOLEY_TRIAGE_CONFIG", &config)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .args(["report", dir.path().to_str().unwrap(), "--json", "--until", &at])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut reported: Vec<String> =
        report["alerts"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap().to_string()).collect();
    let mut checked = all.clone();
    reported.sort();
    checked.sort();
    assert_eq!(reported, checked, "report and check agree");
}

/// The rules' data from a file read on two cores (a collector each, merged in order) is the data
/// of one pass: the same firings, values, new values, related lines and videos, for every rule
/// kind, on files big enough to be split.
#[test]
fn gathering_on_two_cores_equals_one_pass() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = SimulateOptions { rate: 14.0, ..SimulateOptions::default() };
    let manifest = simulate::write_logs(dir.path(), &options).expect("simulate");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    let biggest = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).max().unwrap();
    assert!(biggest > 4 << 20, "a file big enough to be read in parts: {biggest} bytes");
    let user = r#"
[[alert]]
name = "new template"
kind = "new_value"
field = "template"
window = "10m"

[[alert]]
name = "slow p95"
kind = "percentile"
percentile = 95
field = "inference_time"
filter = "job:true"
threshold = "5s"
min_count = 20

[[alert]]
name = "gpu max"
kind = "max"
field = "gpu_mem"
threshold = "70GiB"
"#;
    let (user, _) = rules::parse_alert_rules(user, "user.toml").expect("valid");
    let rules = rules::merge(vec![(rules::builtin(), vec![]), (user, vec![])]);
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let inputs: Vec<_> = files.iter().map(|f| (source::Input::File(f.clone()), None)).collect();
    let at = manifest.start_ms + 59 * MINUTE;
    let gather = |threads| {
        foley_triage::backend::alerts::gather_files(&inputs, &rules, &enricher, &config.ingest(), at, threads)
            .expect("read")
    };
    let (one, two) = (gather(1), gather(2));
    assert_eq!(one.first_ms, two.first_ms);
    let (a, b) = (one.evaluate(&rules, at), two.evaluate(&rules, at));
    assert!(a.len() >= 4, "the incident fires several rules: {a:#?}");
    assert_eq!(a, b);
}
