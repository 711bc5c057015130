#![allow(clippy::panic, clippy::unwrap_used)]
//! Event times end to end: one line dated 2099 or 9999 neither empties the window nor hangs the
//! report; epoch numbers in any unit; Kubernetes events with their time in any field; events
//! without a time take the one of the line before; zone offsets beyond ±14:00 are refused; and
//! property tests of the readers (no panic, saturating, magnitude classification round-trips).

use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::config::Config;
use foley_triage::enrich::Enricher;
use foley_triage::parse::time::{
    self, DEFAULT_FUTURE_TOLERANCE_MS, FLOOR_MS, MAX_OFFSET_SECONDS, MAX_TIME_MS, MIN_TIME_MS, TimeClass, TimeLimits,
};
use foley_triage::pipeline::PipelineOptions;
use foley_triage::source::{self, Input, ReadOptions};
use foley_triage::stats::overview::{self, Overview, OverviewOptions, Window};
use foley_triage::stats::{Bucket, LineCounts, Stats};
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// 2025-09-01T14:23:11Z
const T2025: i64 = 1_756_736_591_000;
const HOUR: i64 = 3_600_000;
/// Long enough for a debug build on a busy machine; the old code needed 87 s (release) and more.
const DEADLINE: Duration = Duration::from_secs(10);

/// Runs `foley-triage report ARGS`, killed at the deadline; returns its stdout.
fn report_within_deadline(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_foley-triage"))
        .arg("report")
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`report {}` did not finish within {DEADLINE:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(status.success(), "report failed: {stderr}");
    std::fs::read_to_string(&out_path).unwrap()
}

fn report_json_within_deadline(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&report_within_deadline(&all)).expect("one JSON object")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn nginx_line(day: &str, video: &str) -> String {
    format!(
        "10.0.3.17 - - [{day}] \"POST /api/v1/generate?video_id={video} HTTP/1.1\" 500 187 \"-\" \"foley-client/1.4\" 2.512\n"
    )
}

#[test]
fn nginx_lines_dated_2025_and_9999_report_at_once_and_the_9999_one_is_suspect() {
    let dir = tempfile::tempdir().unwrap();
    let text = nginx_line("01/Sep/2025:14:23:11 +0000", "vid_1") + &nginx_line("01/Sep/9999:14:23:11 +0000", "vid_2");
    let path = write(dir.path(), "access.log", &text);
    let report = report_json_within_deadline(&[&path]);
    assert_eq!(report["lines"]["suspect_future"], 1, "{}", report["lines"]);
    assert_eq!(report["lines"]["suspect"], 1);
    assert_eq!(report["lines"]["suspect_past"], 0);
    assert_eq!(report["data"]["to"], "2025-09-01T14:23:11.000Z", "the 9999 line is not the end of the data");
    assert_eq!(report["events"], 2, "the suspect line is still an event");
    assert_eq!(report["errors"], 2);
    let text = report_within_deadline(&[&path]);
    assert!(
        text.contains("1 line with a time in the future, ignored for the windows"),
        "the text report says it:\n{text}"
    );
}

#[test]
fn json_ts_in_nanoseconds_is_read_as_nanoseconds() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..3)
        .map(|i| {
            format!(
                "{{\"ts\": {}, \"levelname\": \"ERROR\", \"name\": \"foley.infer\", \"message\": \"CUDA out of memory\", \"video_id\": \"vid_{i}\", \"error_code\": \"MODEL_INFER_FAIL\"}}\n",
                (T2025 + i * 1000) as i128 * 1_000_000
            )
        })
        .collect();
    let path = write(dir.path(), "infer.jsonl", &lines);
    let report = report_json_within_deadline(&[&path]);
    assert_eq!(report["data"]["from"], "2025-09-01T14:23:11.000Z", "{}", report["data"]);
    assert_eq!(report["data"]["to"], "2025-09-01T14:23:13.000Z");
    assert_eq!(report["lines"]["suspect"], 0);
    assert_eq!(report["by_code"]["MODEL_INFER_FAIL"], 3);
}

/// The bundled demo in a fresh directory, with `extra` appended to `inference.log`.
fn demo_dir(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in foley_triage::demo::FILES {
        let mut bytes = bytes.to_vec();
        if name == "inference.log" {
            bytes.extend_from_slice(extra.as_bytes());
        }
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// The console's last hour: its overview, with the alert rows the engine adds (the built-in
/// rules evaluated over the range as of its end, as `backend::worker` does).
fn last_hour_in_console(dir: &Path) -> Overview {
    let config = Config::default();
    let mut backend = LocalBackend::open(files_of(dir), config.enricher().unwrap(), &config, 2, false, Vec::new());
    let range = foley_triage::backend::TimeRange::last(HOUR);
    let mut overview = backend.overview(range);
    let rules = foley_triage::alerts::rules::builtin();
    let at = overview.window_to.or(overview.data_to);
    let (answer, _) =
        foley_triage::backend::alerts::evaluate_range(&mut backend, &rules, range, overview.window_from, at);
    assert!(answer.error.is_none(), "{:?}", answer.error);
    overview.alerts = foley_triage::backend::alerts::rows_of(&answer.alerts, at.unwrap_or(i64::MAX));
    overview
}

const LINE_2099: &str = "2099-01-01 00:00:00 [ERROR] video_id=vid_future error_code=MODEL_INFER_FAIL worker=gpu-1\n";

#[test]
fn one_line_dated_2099_does_not_empty_the_last_hour_of_the_demo() {
    let (plain, with_2099) = (demo_dir(""), demo_dir(LINE_2099));
    let before = last_hour_in_console(plain.path());
    let after = last_hour_in_console(with_2099.path());
    assert!(before.events > 20_000 && before.errors > 1000, "the demo hour is busy: {}", before.events);
    assert_eq!(after.window_to, before.window_to, "the window still ends at the demo's last event");
    assert_eq!((after.events, after.errors), (before.events, before.errors), "nothing of the hour is lost");
    assert!(!before.alerts.is_empty(), "the demo's hour fires");
    assert_eq!(after.alerts, before.alerts);
    assert_eq!(after.top_failing_videos, before.top_failing_videos);
    assert_eq!(after.lines.suspect_future, 1);
    assert_eq!(after.data_to, before.data_to);

    // the headless report: the same alerts and data span, the line counted as suspect
    let report = report_json_within_deadline(&[with_2099.path().to_str().unwrap()]);
    let plain_report = report_json_within_deadline(&[plain.path().to_str().unwrap()]);
    assert_eq!(report["data"], plain_report["data"]);
    assert_eq!(report["alerts"], plain_report["alerts"]);
    assert_eq!(report["lines"]["suspect_future"], 1);
    assert_eq!(report["events"].as_u64(), plain_report["events"].as_u64().map(|n| n + 1), "still an event");
    assert_eq!(plain_report["lines"]["suspect"], 0);
    assert_eq!(plain_report["lines"]["inherited_time"], 0);
    assert_eq!(plain_report["lines"]["untimed"], 0);
}

/// Reads `files` at a fixed "now" and returns the statistics.
fn read_at(files: &[PathBuf], now_ms: i64, tolerance_ms: i64) -> Stats {
    let inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
    let settings = foley_triage::pipeline::IngestSettings {
        options: PipelineOptions {
            times: TimeLimits { future_tolerance_ms: tolerance_ms, ..TimeLimits::at(now_ms) },
            ..PipelineOptions::default()
        },
        bucket_ms: 60_000,
    };
    let options = ReadOptions { settings, threads: 1, format: None };
    let read = source::read_all(&inputs, &Enricher::builtin(), options, &|_| {});
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    read.stats
}

fn last_hour(stats: &Stats) -> Overview {
    let health = Default::default();
    let options = OverviewOptions { health: &health, alert_rules: &[], top_videos: 10, top_patterns: 10 };
    let window = Window::last(HOUR, stats.last_ms.expect("timed data"));
    overview::compute(stats, &Enricher::builtin(), window, options)
}

#[test]
fn the_future_tolerance_is_measured_from_the_callers_now() {
    // "now" is the demo's end; a line 2 hours ahead is within a 1-day tolerance, one 2 days ahead is not
    let now = 1_756_738_800_000; // 2025-09-01T15:00:00Z
    let soon = "2025-09-01 17:00:00 [ERROR] video_id=vid_soon error_code=MODEL_INFER_FAIL\n";
    let later = "2025-09-03 15:00:01 [ERROR] video_id=vid_later error_code=MODEL_INFER_FAIL\n";
    let past = "1989-12-31 23:59:59 [ERROR] video_id=vid_old error_code=MODEL_INFER_FAIL\n";
    let dir = demo_dir(&format!("{later}{past}"));
    let stats = read_at(&files_of(dir.path()), now, DEFAULT_FUTURE_TOLERANCE_MS);
    assert_eq!((stats.lines.suspect_future, stats.lines.suspect_past, stats.lines.suspect), (1, 1, 2));
    assert_eq!(stats.last_ms, Some(1_756_738_799_732), "the demo's last event");
    assert!(last_hour(&stats).events > 20_000);
    assert_eq!(
        stats.lines.suspect_note().as_deref(),
        Some(
            "1 line with a time in the future and 1 dated before 1990, ignored for the windows (kept in the tail \
             and the drill-down)"
        )
    );
    // within the tolerance: an ordinary event, and the window's anchor
    let dir = demo_dir(soon);
    let stats = read_at(&files_of(dir.path()), now, DEFAULT_FUTURE_TOLERANCE_MS);
    assert_eq!((stats.lines.suspect, stats.last_ms), (0, Some(1_756_746_000_000)));
    // a tolerance of one hour makes it suspect
    let stats = read_at(&files_of(dir.path()), now, HOUR);
    assert_eq!((stats.lines.suspect_future, stats.last_ms), (1, Some(1_756_738_799_732)));
}

#[test]
fn the_tolerance_is_a_config_setting() {
    let config = Config::parse("future_tolerance = \"6h\"", "c.toml").expect("valid");
    assert_eq!(config.time_limits(Some(0)).future_tolerance_ms, 6 * HOUR);
    assert_eq!(Config::default().time_limits(None).future_tolerance_ms, DEFAULT_FUTURE_TOLERANCE_MS);
    let err = Config::parse("future_tolerance = \"soon\"", "c.toml").expect_err("invalid").to_string();
    assert!(err.contains("future_tolerance"), "{err}");
}

#[test]
fn kubernetes_events_with_a_top_level_time_are_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    // an hour of inference lines, and 51 OOM kills whose time is only in a shipper's field
    let inference: String =
        (0..60).map(|m| format!("2025-09-01 14:{m:02}:00 [INFO] worker=gpu-1 queue_depth=3 batch_size=4\n")).collect();
    let fields = ["time", "@timestamp", "timestamp"];
    let events: String = (0..51)
        .map(|i| {
            format!(
                "{{\"kind\":\"Event\",\"type\":\"Warning\",\"reason\":\"OOMKilled\",\"message\":\"Container foley-infer was OOMKilled\",\"involvedObject\":{{\"kind\":\"Pod\",\"name\":\"foley-infer-{i}\"}},\"lastTimestamp\":null,\"{}\":\"2025-09-01T14:{:02}:30Z\"}}\n",
                fields[i % 3],
                i % 60
            )
        })
        .collect();
    let a = write(dir.path(), "inference.log", &inference);
    let b = write(dir.path(), "k8s_events.jsonl", &events);
    let report = report_json_within_deadline(&[&a, &b]);
    assert_eq!(report["lines"]["untimed"], 0, "{}", report["lines"]);
    let stats = read_at(&[PathBuf::from(&a), PathBuf::from(&b)], T2025, DEFAULT_FUTURE_TOLERANCE_MS);
    let hour = last_hour(&stats);
    assert_eq!(hour.by_component.get("scheduler").map(|c| c.errors), Some(51), "{:?}", hour.by_component.keys());
}

#[test]
fn an_event_without_a_time_takes_the_time_of_the_line_before() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        // no line before it: stays untimed
        r#"{"kind":"Event","type":"Warning","reason":"BackOff","message":"Back-off restarting","involvedObject":{"name":"p0"}}"#,
        r#"{"log":"{\"levelname\": \"INFO\", \"name\": \"foley.scheduler\", \"message\": \"queue stats\"}\n","stream":"stdout","time":"2025-09-01T14:23:11Z"}"#,
        r#"{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"killed","involvedObject":{"name":"p1"}}"#,
        r#"{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"killed","involvedObject":{"name":"p2"}}"#,
    ];
    let path = write(dir.path(), "events.jsonl", &(lines.join("\n") + "\n"));
    let stats = read_at(&[PathBuf::from(&path)], T2025, DEFAULT_FUTURE_TOLERANCE_MS);
    assert_eq!((stats.lines.inherited_time, stats.lines.untimed), (2, 1), "{:?}", stats.lines);
    let hour = last_hour(&stats);
    assert_eq!(hour.by_component.get("scheduler").map(|c| c.errors), Some(2), "both OOM kills are in the window");
    assert_eq!(
        stats.lines.inherited_note().as_deref(),
        Some("2 events without a time took the time of the line before them")
    );

    // FFmpeg lines without the wrapper's timestamp take the one of the line before
    let ffmpeg = "2025-09-01 14:23:10.130 video_id=vid_7a3b9c Input #0, mov,mp4, from '/data/in/vid_7a3b9c.mp4':\n\
                  [h264 @ 0x55d5c] Invalid NAL unit size (1234 > 567).\n\
                  Error while decoding stream #0:0: Invalid data found when processing input\n";
    let path = write(dir.path(), "ffmpeg.log", ffmpeg);
    let report = report_json_within_deadline(&[&path]);
    assert_eq!(report["lines"]["inherited_time"], 2, "{}", report["lines"]);
    assert_eq!(report["lines"]["untimed"], 0);
    let text = report_within_deadline(&[&path]);
    assert!(text.contains("2 events without a time took the time of the line before them"), "{text}");
}

#[test]
fn nginx_offsets_beyond_fourteen_hours_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = nginx_line("01/Sep/2025:14:23:11 +9999", "vid_1")
        + &nginx_line("01/Sep/2025:14:23:11 -9999", "vid_2")
        + &nginx_line("01/Sep/2025:14:23:11 +1400", "vid_3");
    for line in text.lines().take(2) {
        assert!(foley_triage::parse::nginx::parse(line).is_none(), "{line}");
    }
    let path = write(dir.path(), "access.log", &text);
    let report = report_json_within_deadline(&[&path]);
    assert_eq!(report["lines"]["unparsed"], 2, "{}", report["lines"]);
    assert_eq!(report["data"]["from"], "2025-09-01T00:23:11.000Z");
}

#[test]
fn counters_saturate_instead_of_wrapping() {
    let mut a = Bucket::new(2);
    a.events = u32::MAX - 1;
    a.component_events[1] = u32::MAX;
    let mut b = Bucket::new(2);
    b.events = 5;
    b.component_events[1] = 5;
    a.merge(&b, &[]);
    assert_eq!((a.events, a.component_events[1]), (u32::MAX, u32::MAX));
    let mut lines = LineCounts { total: u64::MAX, ..LineCounts::default() };
    lines.merge(&LineCounts { total: 3, ..LineCounts::default() });
    assert_eq!(lines.total, u64::MAX);
    assert_eq!(Window::last(i64::MAX, i64::MIN).from_ms, Some(i64::MIN + 1));
}

/// The readers' range, give or take a zone offset.
fn in_range(ms: i64) -> bool {
    let margin = MAX_OFFSET_SECONDS * 1000;
    (MIN_TIME_MS - margin..=MAX_TIME_MS + margin).contains(&ms)
}

proptest! {
    #[test]
    fn readers_never_panic_and_stay_in_range(text in "\\PC{0,40}", offset in -50_400i64..=50_400) {
        for ms in [time::parse_any(&text, offset), time::parse_nginx_time(&text)].into_iter().flatten() {
            prop_assert!(in_range(ms), "{text:?} -> {ms}");
        }
        if let Some((ms, used)) = time::parse_iso_prefix(&text, offset) {
            prop_assert!(in_range(ms) && used <= text.len());
        }
    }

    #[test]
    fn timestamp_shaped_text_never_panics(
        y in 0u32..10_000, mo in 0u32..14, d in 0u32..33, h in 0u32..26, mi in 0u32..62, s in 0u32..62,
        frac in "[0-9]{0,12}", sign in "[+-]", oh in 0u32..100, om in 0u32..100,
    ) {
        let iso = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac}{sign}{oh:02}:{om:02}");
        let accepted = time::parse_any(&iso, 0);
        prop_assert!(accepted.is_none_or(in_range));
        if oh * 60 + om > 14 * 60 || om > 59 {
            prop_assert_eq!(accepted, None, "{}", iso);
        }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let month = months[(mo as usize) % 12];
        let nginx = format!("{d:02}/{month}/{y:04}:{h:02}:{mi:02}:{s:02} {sign}{oh:02}{om:02}");
        let accepted = time::parse_nginx_time(&nginx);
        prop_assert!(accepted.is_none_or(in_range));
        if oh * 60 + om > 14 * 60 || om > 59 {
            prop_assert_eq!(accepted, None, "{}", nginx);
        }
    }

    #[test]
    fn epoch_numbers_saturate(n in any::<f64>(), i in any::<i64>()) {
        if let Some(ms) = time::epoch_number_to_ms(n) {
            prop_assert!((0..=MAX_TIME_MS).contains(&ms), "{n} -> {ms}");
        } else {
            prop_assert!(!n.is_finite() || n < 0.0);
        }
        match time::epoch_integer_to_ms(i) {
            Some(ms) => prop_assert!((0..=MAX_TIME_MS).contains(&ms)),
            None => prop_assert!(i < 0),
        }
    }

    /// From 1973 (10¹¹ ms) to 2255 (before nanoseconds leave an i64), a time written in seconds,
    /// milliseconds, microseconds or nanoseconds reads back as itself.
    #[test]
    fn magnitude_classification_round_trips(ms in 100_000_000_000i64..9_000_000_000_000) {
        let seconds = ms / 1000;
        prop_assert_eq!(time::epoch_integer_to_ms(seconds), Some(seconds * 1000));
        prop_assert_eq!(time::epoch_integer_to_ms(ms), Some(ms));
        prop_assert_eq!(time::epoch_integer_to_ms(ms * 1000 + 999), Some(ms));
        prop_assert_eq!(time::epoch_integer_to_ms(ms * 1_000_000 + 999_999), Some(ms));
        // as text (what a string field holds) and as floats (what a JSON fraction becomes)
        prop_assert_eq!(time::parse_any(&(ms * 1_000_000).to_string(), 0), Some(ms));
        prop_assert_eq!(time::parse_any(&format!("{seconds}.{:03}", ms % 1000), 0), Some(ms));
        for float in [ms as f64 / 1e3, ms as f64, ms as f64 * 1e3, ms as f64 * 1e6] {
            let back = time::epoch_number_to_ms(float).expect("a time");
            prop_assert!((back - ms).abs() <= 1, "{float} -> {back}, not {ms}");
        }
    }

    #[test]
    fn classification_is_total_and_saturating(now in any::<i64>(), tolerance in any::<i64>(), t in any::<i64>()) {
        let range = TimeLimits { now_ms: Some(now), future_tolerance_ms: tolerance, floor_ms: FLOOR_MS }.resolve();
        prop_assert!(range.ceiling_ms >= now);
        let expected = if t > range.ceiling_ms {
            TimeClass::Future
        } else if t < FLOOR_MS {
            TimeClass::Past
        } else {
            TimeClass::Plausible
        };
        prop_assert_eq!(range.classify(t), expected);
    }
}

/// Issue 13 item 8: a Kubernetes event whose only time is a top-level `time` is shipped into the
/// index of its day, never into `<prefix>-undated` (checked on `ship --output`'s bulk files).
#[test]
fn a_kubernetes_event_with_a_top_level_time_is_shipped_with_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("k8s_events.jsonl"),
        concat!(
            r#"{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"Container foley-infer was OOM killed","#,
            r#""involvedObject":{"kind":"Pod","name":"foley-infer-1","namespace":"foley"},"time":"2025-09-03T10:00:00Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("bulk");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_foley-triage"))
        .args(["ship", logs.to_str().unwrap(), "--output", out_dir.to_str().unwrap()])
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> =
        std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n.starts_with("hunyuan-foley-2025.09.03.")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("undated")), "{names:?}");
    let bulk = std::fs::read_to_string(out_dir.join("hunyuan-foley-2025.09.03.0001.ndjson")).unwrap();
    assert!(bulk.contains("\"@timestamp\""), "{bulk}");
}
