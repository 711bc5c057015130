#![allow(clippy::panic, clippy::unwrap_used)]
//! The headless report, end to end: generate an incident with the simulator, run the real binary,
//! and check that the report finds it (top failing videos, alerts inside the incident and not
//! outside it, the unknown code listed as unknown).

use foley_triage::simulate::{self, Manifest, SimulateOptions};
use serde_json::Value;

mod common;

use common::binary;

fn incident() -> (tempfile::TempDir, Manifest) {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = simulate::write_logs(dir.path(), &SimulateOptions::default()).expect("simulate");
    (dir, manifest)
}

fn report_json(args: &[&str]) -> Value {
    let out = binary().arg("report").arg("--json").args(args).output().expect("run binary");
    assert!(out.status.success(), "report failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("report prints one JSON object")
}

fn ms(v: &Value) -> i64 {
    let text = v.as_str().expect("time string");
    foley_triage::parse::time::parse_any(text, 0).expect("ISO time")
}

#[test]
fn report_finds_the_simulated_incident() {
    let (dir, manifest) = incident();
    let report = report_json(&[dir.path().to_str().expect("utf-8 path")]);

    // every line accounted for
    let written: u64 = manifest.lines.values().sum();
    assert_eq!(report["lines"]["total"].as_u64(), Some(written), "lines read == lines written");
    assert_eq!(report["lines"]["unparsed"].as_u64(), Some(0), "the simulator writes only known formats");
    for source in ["inference", "ffmpeg", "nginx", "flask", "scheduler"] {
        assert!(report["lines"]["by_source"][source].as_u64().unwrap_or(0) > 0, "{source} lines counted");
    }

    // the poison videos are the top failing ones
    let top: Vec<&str> = report["top_failing_videos"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v["video_id"].as_str().expect("id"))
        .collect();
    assert_eq!(top.len(), 10);
    let mut expected = manifest.poison_videos.clone();
    expected.sort();
    let mut got: Vec<String> = top[..8].iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, expected, "the 8 retried videos lead the ranking");
    let first = &report["top_failing_videos"][0];
    assert_eq!(first["codes"][0], "MODEL_INFER_FAIL");
    assert_eq!(first["cause"], "GPU memory exhausted");

    // alerts fire inside their incident phase, and only there
    let alerts = report["alerts"].as_array().expect("alerts array");
    let phase_of = |rule: &str| match rule {
        "model error burst" => manifest.phases.oom_storm,
        "video decode failures" => manifest.phases.decode_spike,
        "inference latency" => manifest.phases.latency_regression,
        other => panic!("unexpected alert {other}"),
    };
    for rule in ["model error burst", "video decode failures", "inference latency"] {
        let firings: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == rule).collect();
        assert!(!firings.is_empty(), "{rule} fired");
        let [from, to] = phase_of(rule);
        for f in firings {
            // a 5-minute window may start up to 5 minutes before the phase and end 5 minutes after
            let (a, b) = (ms(&f["from"]), ms(&f["to"]));
            assert!(a >= from - 5 * 60_000 && b <= to + 5 * 60_000, "{rule} fired at {a}..{b}, outside {from}..{to}");
            assert!(a < to && b > from, "{rule} overlaps its phase");
        }
    }

    // the code no rule knows is listed as unknown
    let unknown = report["unknown_patterns"].as_array().expect("array");
    assert!(
        unknown.iter().any(|p| p["template"].as_str().unwrap_or("").starts_with(&manifest.unknown_code)),
        "unknown code {} listed: {unknown:?}",
        manifest.unknown_code
    );
    assert!(report["by_code"][&manifest.unknown_code].as_u64().unwrap_or(0) > 0);
    // and known codes are not
    assert!(!unknown.iter().any(|p| p["template"].as_str().unwrap_or("").starts_with("MODEL_INFER_FAIL")));

    // health: the model is the sickest component
    let model = report["health"]["model_inference"]["score"].as_f64().expect("score");
    assert!(model < 100.0);
    assert!(report["latency_ms"]["p95"].as_f64().expect("p95") > report["latency_ms"]["p50"].as_f64().expect("p50"));
}

#[test]
fn since_and_until_restrict_the_window() {
    let (dir, manifest) = incident();
    let [from, to] = manifest.phases.decode_spike;
    let fmt = foley_triage::clock::format_ms;
    let report = report_json(&[dir.path().to_str().expect("path"), "--since", &fmt(from), "--until", &fmt(to - 1)]);
    let alerts = report["alerts"].as_array().expect("alerts");
    assert!(alerts.iter().any(|a| a["rule"] == "video decode failures"));
    assert!(!alerts.iter().any(|a| a["rule"] == "model error burst"), "the OOM storm is outside the window");
    assert!(report["lines"]["filtered"].as_u64().expect("filtered") > 0);
}

#[test]
fn stdin_gzip_and_text_output() {
    let (dir, _) = incident();
    let inference = std::fs::read(dir.path().join("inference.log")).expect("read");
    // stdin
    let mut child = binary()
        .args(["report", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&inference).expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let from_stdin: Value = serde_json::from_slice(&out.stdout).expect("json");
    let from_file = report_json(&[dir.path().join("inference.log").to_str().expect("path")]);
    assert_eq!(from_stdin["by_code"], from_file["by_code"]);
    assert_eq!(from_stdin["lines"]["total"], from_file["lines"]["total"]);

    // gzip, multi-member (two rotated halves concatenated)
    let gz_path = dir.path().join("inference.log.1.gz");
    {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let half = inference.len() / 2;
        let cut = half + inference[half..].iter().position(|b| *b == b'\n').expect("newline") + 1;
        let mut bytes = Vec::new();
        for part in [&inference[..cut], &inference[cut..]] {
            let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part).expect("gz");
            bytes.extend(enc.finish().expect("gz"));
        }
        std::fs::write(&gz_path, bytes).expect("write gz");
    }
    let from_gz = report_json(&[gz_path.to_str().expect("path")]);
    assert_eq!(from_gz["by_code"], from_file["by_code"]);

    // text output names the sections
    let out = binary().arg("report").arg(dir.path()).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for section in ["ALERTS", "COMPONENT HEALTH", "TOP FAILING VIDEOS", "UNKNOWN ERRORS"] {
        assert!(text.contains(section), "{section} in text report");
    }
}

#[test]
fn bad_arguments_exit_2_with_a_reason() {
    for args in [
        vec!["report", "/no/such/file.log"],
        vec!["report", "--since", "yesterday-ish"],
        vec!["report", "--format", "xml", "x"],
        vec!["report", "--bogus"],
    ] {
        let out = binary().args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.trim().is_empty(), "a reason is printed for {args:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn default_runs_on_the_bundled_demo() {
    let report = report_json(&[]);
    assert!(report["lines"]["total"].as_u64().expect("total") > 1000, "the demo set is read");
    assert!(!report["alerts"].as_array().expect("alerts").is_empty(), "the demo incident fires alerts");
}

#[test]
fn hostile_input_is_counted_not_fatal() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("hostile.log");
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice(
        b"2025-09-01 14:23:11 [ERROR] video_id=vid_aaaaaa error_code=MODEL_INFER_FAIL reason=\"\x1b]52;c;aGk=\x07\"\n",
    );
    bytes.extend_from_slice(b"2025-09-01 14:23:12 [ERROR] video_id=vid_\xff\xfe error_code=VIDEO_DECODE_ERR\n");
    bytes.extend_from_slice(b"\x00\x00 nul line\n");
    bytes.extend_from_slice(b"2025-13-45 99:99:99 [ERROR] error_code=MODEL_INFER_FAIL\n");
    bytes.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    bytes.push(b'\n');
    bytes.extend_from_slice(b"2025-09-01 14:23:13 [INFO] video_id=vid_bbbbbb audio_gen_success=True\n");
    std::fs::write(&path, &bytes).expect("write");
    let report = report_json(&[path.to_str().expect("path")]);
    assert_eq!(report["lines"]["total"].as_u64(), Some(6));
    assert_eq!(report["lines"]["truncated"].as_u64(), Some(1));
    assert_eq!(report["lines"]["invalid_utf8"].as_u64(), Some(1));
    assert_eq!(report["by_code"]["VIDEO_DECODE_ERR"].as_u64(), Some(1));
    let text = serde_json::to_string(&report).expect("json");
    assert!(!text.contains('\u{1b}'), "no raw escape byte reaches the output");
}

#[test]
fn a_video_failing_twice_in_one_millisecond_is_explained_the_same_whatever_the_line_order() {
    // two failures of one video at the same time, explained by different rules: the exact-code
    // rule (listed first in the rule base) must win whichever line is read last
    let dir = tempfile::tempdir().unwrap();
    let exact = "2025-09-01 14:00:00 [ERROR] video_id=vid_tie001 error_code=AUDIO_DESC_EMPTY reason=\"no text\" request_id=req_a\n";
    let keyword = "2025-09-01 14:00:00 [ERROR] video_id=vid_tie001 error_code=AUDIO_NEW_CODE reason=\"audio description is empty\" request_id=req_b\n";
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::fs::write(&a, format!("{exact}{keyword}")).unwrap();
    std::fs::write(&b, format!("{keyword}{exact}")).unwrap();
    for path in [&a, &b] {
        let report = report_json(&[path.to_str().unwrap(), "--threads", "1"]);
        let video = &report["top_failing_videos"][0];
        assert_eq!(video["video_id"], "vid_tie001");
        assert_eq!(video["failures"], 2);
        assert_eq!(video["rule"], "empty-description", "{}: {video}", path.display());
        // the retry link's request: at the same time, the greatest id
        assert_eq!(video["request_id"], "req_b", "{}: {video}", path.display());
    }
}

/// The report's alerts are `check`'s evaluation, on a file and on a stream alike (a stream is
/// gathered in its one pass; a file is read again).
#[test]
fn alerts_are_the_same_from_a_file_and_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let demo = foley_triage::demo::materialize().unwrap();
    let inference = demo.path().join("inference.log");
    let bytes = std::fs::read(&inference).unwrap();
    let run = |args: &[&str], stdin: Option<&[u8]>| {
        use std::io::Write;
        let mut child = common::binary()
            .env("XDG_CONFIG_HOME", dir.path())
            .env("HOME", dir.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            input.write_all(bytes).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["alerts"].clone()
    };
    let from_file = run(&["report", "--json", inference.to_str().unwrap()], None);
    let from_stdin = run(&["report", "--json", "-"], Some(&bytes));
    assert_eq!(from_file, from_stdin);
    let rules: Vec<&str> = from_file.as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"model error burst") && rules.contains(&"inference latency"), "{rules:?}");
}
