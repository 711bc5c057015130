//! Elasticsearch/OpenSearch against a real OpenSearch-compatible server (osmem-server from PyPI,
//! installed by scripts/test), started on a free loopback port and stopped after: ship the demo
//! incident, then check that the report computed from the cluster matches the report from the
//! files number for number; shipping twice adds nothing; the tail picks up new documents exactly
//! once; the drill-down pages past 10,000 hits.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::{start_server, start_server_seeded};

use foley_triage::simulate::{self, SimulateOptions};
use serde_json::Value;
use std::io::{BufRead, BufReader};

fn binary(args: &[&str]) -> std::process::Output {
    common::binary().args(args).output().expect("run")
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn cluster_report_matches_files_and_shipping_is_idempotent() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    // a smaller incident than the default: the in-memory server indexes ~1,500 documents a second
    let manifest =
        simulate::write_logs(dir.path(), &SimulateOptions { rate: 0.6, ..SimulateOptions::default() }).unwrap();
    std::fs::remove_file(dir.path().join("manifest.json")).unwrap();
    let path = dir.path().to_str().unwrap();
    let out = binary(&["ship", path, "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 failed"), "{stderr}");

    let files = json_of(&binary(&["report", path, "--json"]));
    let cluster = json_of(&binary(&["report", "--es", &server.url, "--json"]));
    for key in [
        "by_level",
        "by_code",
        "by_component",
        "health",
        "latency_ms",
        "jobs",
        "codes",
        "causes",
        "unknown_errors",
        "alerts",
        "unknown_patterns",
        "top_failing_videos",
        "events",
        "errors",
    ] {
        assert_eq!(cluster[key], files[key], "`{key}` differs between cluster and files");
    }
    for key in ["total", "parsed", "unparsed", "joined", "by_source"] {
        assert_eq!(cluster["lines"][key], files["lines"][key], "lines.{key}");
    }
    assert!(!cluster["alerts"].as_array().unwrap().is_empty(), "the incident fires alerts");
    let top: Vec<String> = cluster["top_failing_videos"]
        .as_array()
        .unwrap()
        .iter()
        .take(8)
        .map(|v| v["video_id"].as_str().unwrap().to_string())
        .collect();
    for poison in &manifest.poison_videos {
        assert!(top.contains(poison), "{poison} among the top failing videos from the cluster");
    }

    // a window: same numbers too
    let since = "2025-09-01T14:30:00Z";
    let until = "2025-09-01T14:44:59Z";
    let files_w = json_of(&binary(&["report", path, "--json", "--since", since, "--until", until]));
    let cluster_w = json_of(&binary(&["report", "--es", &server.url, "--json", "--since", since, "--until", until]));
    for key in ["by_code", "alerts", "top_failing_videos", "latency_ms", "health", "data", "window"] {
        assert_eq!(cluster_w[key], files_w[key], "windowed `{key}` differs");
    }
    assert!(files_w["lines"]["filtered"].as_u64().unwrap() > 0);
    assert_eq!(cluster_w["lines"]["filtered"], files_w["lines"]["filtered"], "windowed lines.filtered");

    // every screen computed from the cluster matches the same screen computed from the files
    screens_match(&server.url, dir.path());
    code_videos_match(&server.url, dir.path());

    // shipping the same files again creates no duplicates
    let out = binary(&["ship", path, "--es", &server.url, "--refresh", "--keep-raw"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(0 created, "), "{stderr}");
    let again = json_of(&binary(&["report", "--es", &server.url, "--json"]));
    assert_eq!(again["lines"]["total"], files["lines"]["total"]);
}

/// A code's videos (the codes screen, Enter on a code) are every video with that code, from the
/// data, not the top list: the same ids and failures from the cluster as from the files, for every
/// code, over everything and over the last 15 minutes.
fn code_videos_match(url: &str, dir: &std::path::Path) {
    use foley_triage::backend::{Backend, TimeRange};
    let config = foley_triage::config::Config::default();
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    let mut local = foley_triage::backend::local::LocalBackend::open(
        files,
        config.enricher().unwrap(),
        &config,
        2,
        false,
        Vec::new(),
    );
    let mut cluster = backend(url);
    let codes: Vec<String> = local.overview(TimeRange::ALL).codes.iter().map(|c| c.code.clone()).collect();
    assert!(codes.len() >= 3, "{codes:?}");
    let mut beyond_top = false;
    for range in [TimeRange::ALL, TimeRange::last(15 * 60_000)] {
        let top = local.overview(range).top_failing_videos.len();
        for code in &codes {
            let rows = |b: &mut dyn Backend| -> Vec<(String, u64)> {
                b.videos_with_code(code, range).into_iter().map(|v| (v.video_id, v.failures)).collect()
            };
            let (from_files, from_cluster) = (rows(&mut local), rows(&mut cluster));
            assert_eq!(from_cluster, from_files, "{code} over {range:?}");
            beyond_top |= from_files.len() > top.min(50);
        }
    }
    assert!(beyond_top, "some code has more videos than the top list holds: the test shows the cap is gone");
}

/// `ship --output` writes bulk files that a cluster loads as they are: the report from a server
/// seeded with them equals the report from the files.
#[test]
fn shipping_to_files_gives_loadable_bulk_requests() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    simulate::write_logs(&logs, &SimulateOptions { rate: 0.6, minutes: 20, ..SimulateOptions::default() }).unwrap();
    std::fs::remove_file(logs.join("manifest.json")).unwrap();
    let bulk = dir.path().join("bulk");
    let out = binary(&["ship", logs.to_str().unwrap(), "--output", bulk.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&bulk).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["hunyuan-foley-2025.09.01.0001.ndjson", "hunyuan-foley-2025.09.01.index.json"]);
    let body = std::fs::read_to_string(bulk.join(&names[0])).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines.len() > 1000 && lines.len().is_multiple_of(2), "action and document pairs: {}", lines.len());
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).unwrap();
        assert_eq!(action["index"]["_index"], "hunyuan-foley-2025.09.01", "{}", pair[0]);
        assert!(serde_json::from_str::<Value>(pair[1]).unwrap()["@timestamp"].is_i64(), "{}", pair[1]);
    }
    let server = start_server_seeded(&[&bulk]);
    let files = json_of(&binary(&["report", logs.to_str().unwrap(), "--json"]));
    let cluster = json_of(&binary(&["report", "--es", &server.url, "--json"]));
    assert_eq!(cluster["lines"]["total"], files["lines"]["total"]);
    assert_eq!(cluster["events"].as_u64().unwrap() * 2, lines.len() as u64, "one document per event");
    for key in ["by_code", "by_component", "health", "latency_ms", "alerts", "top_failing_videos", "unknown_patterns"] {
        assert_eq!(cluster[key], files[key], "`{key}` differs between the seeded cluster and the files");
    }
}

fn backend(url: &str) -> foley_triage::backend::elastic::EsBackend {
    let args = foley_triage::cli::EsArgs {
        es: vec![url.to_string()],
        index: Some("hunyuan-foley-*".into()),
        es_timeout: 30,
        ..Default::default()
    };
    let client = foley_triage::elastic::connect(&args).expect("connect");
    let config = foley_triage::config::Config::default();
    foley_triage::backend::elastic::EsBackend::new(client, config.enricher().unwrap(), &config)
}

fn write_lines(path: &std::path::Path, from: usize, to: usize, video: &str) {
    use std::fmt::Write;
    let mut text = String::new();
    for i in from..to {
        // many lines share a timestamp: the tie-breaker sort must keep them apart
        let _ = writeln!(
            text,
            "2025-09-02 10:{:02}:{:02} [INFO] video_id={video} seq={i} step=denoise",
            (i / 600) % 60,
            (i / 10) % 60
        );
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn tail_exactly_once_and_drill_down_past_10000() {
    use foley_triage::backend::Backend;
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a.log");
    write_lines(&first, 0, 10_500, "vid_deep01");
    let out = binary(&["ship", first.to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut es = backend(&server.url);
    // drill-down pages beyond 10,000 hits (search_after in a point in time)
    let related = es.related("vid_deep01");
    assert_eq!(related.events.len(), 10_500);
    let seqs: Vec<usize> = related
        .events
        .iter()
        .map(|e| e.raw.split("seq=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seqs, (0..10_500).collect::<Vec<_>>(), "every document once, in order");

    // the tail starts at the newest page, then only new documents, each once
    let start = es.poll_tail().unwrap();
    assert!(start > 0);
    assert_eq!(es.poll_tail().unwrap(), 0, "nothing new");
    // a live refresh covers the window only; new documents move it and count as arrivals
    let before = es.overview(foley_triage::backend::TimeRange::last(3_600_000));
    assert_eq!(es.lines_read(), 0, "no arrivals yet");
    let second = dir.path().join("b.log");
    write_lines(&second, 10_500, 11_700, "vid_deep02");
    let out = binary(&["ship", second.to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success());
    let mut new = 0;
    loop {
        let n = es.poll_tail().unwrap();
        if n == 0 {
            break;
        }
        new += n;
    }
    assert_eq!(new, 1_200, "each new document exactly once");
    let after = es.overview(foley_triage::backend::TimeRange::last(3_600_000));
    assert!(
        after.data_to > before.data_to,
        "the window follows new documents: {:?} -> {:?}",
        before.data_to,
        after.data_to
    );
    assert_eq!(es.lines_read(), 1_200, "the lines that arrived since the last refresh");
    let tail = es.tail(0, 100_000);
    let mut seen: Vec<usize> = tail
        .iter()
        .filter(|(_, e)| e.raw.contains("vid_deep02"))
        .map(|(_, e)| e.raw.split("seq=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap())
        .collect();
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), count, "no duplicates in the tail");
    assert_eq!(count, 1_200);
    // overview works on these documents too
    let overview = es.overview(foley_triage::backend::TimeRange::ALL);
    assert_eq!(overview.lines.total, 11_700);
}

fn render(state: &foley_triage::tui::state::State) -> String {
    // everything below the header (which names the source)
    common::render(state, 160, 48).lines().skip(1).map(|l| format!("{l}\n")).collect()
}

fn screens_match(url: &str, dir: &std::path::Path) {
    use foley_triage::backend::Backend;
    use foley_triage::backend::worker::Update;
    use foley_triage::tui::state::{Screen, State, WINDOWS};
    use foley_triage::tui::update::{Msg, update};
    let config = foley_triage::config::Config::default();
    let paths = simulate::FILE_NAMES.iter().map(|n| dir.join(n)).collect();
    let mut files = foley_triage::backend::local::LocalBackend::open(
        paths,
        config.enricher().unwrap(),
        &config,
        2,
        false,
        Vec::new(),
    );
    let mut cluster = backend(url);
    // the presets `t` cycles through, and an absolute range (a zoom, `:range FROM TO`) inside the data
    let newest = files.overview(foley_triage::backend::TimeRange::ALL).data_to.unwrap();
    let zoom = foley_triage::backend::TimeRange::between(newest - 25 * 60_000, newest - 10 * 60_000);
    let ranges: Vec<(&str, foley_triage::backend::TimeRange)> =
        WINDOWS.iter().copied().chain([("absolute", zoom)]).collect();
    for (label, range) in ranges.iter() {
        let mut states = Vec::new();
        for b in [&mut files as &mut dyn Backend, &mut cluster as &mut dyn Backend] {
            let mut state = State::new("x".into(), &config);
            state.range = *range;
            update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
            update(
                &mut state,
                Msg::Engine(Update::Overview {
                    overview: Box::new(b.overview(*range)),
                    range: *range,
                    events_per_second: 0.0,
                    source: "x".into(),
                }),
            );
            states.push(state);
        }
        for screen in [Screen::Overview, Screen::Codes] {
            let rendered: Vec<String> = states
                .iter_mut()
                .map(|s| {
                    s.screen = screen;
                    render(s)
                })
                .collect();
            assert_eq!(
                rendered[0], rendered[1],
                "{screen:?} screen for window {label} differs between files and cluster"
            );
        }
        // the Patterns screen: every template and what changed, the same
        let query = foley_triage::backend::PatternsQuery { range: *range, baseline: None, options: Default::default() };
        let (a, b) = (files.patterns(&query), cluster.patterns(&query));
        assert!(!a.rows.is_empty(), "templates for window {label}");
        for (x, y) in a.rows.iter().zip(&b.rows) {
            assert_eq!(y, x, "a Patterns row for window {label} differs between files and cluster");
        }
        assert_eq!(b, a, "the Patterns screen for window {label} differs between files and cluster");
        // the drill-down of the top video: same lines from both
        let top = states[0].overview.as_ref().unwrap().top_failing_videos.first().map(|v| v.video_id.clone());
        if let Some(top) = top {
            let a = files.related(&top);
            let b = cluster.related(&top);
            let raw = |r: &foley_triage::backend::Related| r.events.iter().map(|e| e.raw.clone()).collect::<Vec<_>>();
            assert_eq!(raw(&a), raw(&b), "drill-down lines of {top} for window {label}");
            assert_eq!(a.explanation, b.explanation, "drill-down explanation of {top} for window {label}");
        }
    }
    // the console's lines of a span (context `x`, a heatmap cell, an alert's codes): one range
    // query on the cluster, a scan bounded by time on the files; the same lines, the same GPU samples
    use foley_triage::backend::lines::LineQuery;
    let failing = files.overview(foley_triage::backend::TimeRange::ALL).top_failing_videos[0].clone();
    let around = failing.last_seen.unwrap();
    let code = failing.codes[0].clone();
    let prefix = format!("{}*", &code[..code.find('_').map_or(code.len(), |i| i + 1)]);
    let cell = LineQuery { code: Some(code), ..LineQuery::around(around, 60, "cell".into()) };
    let alert = LineQuery { code: Some(prefix), ..LineQuery::around(around, 120, "alert".into()) };
    for query in [LineQuery::around(around, 30, "context".into()), cell, alert] {
        let (a, b) = (files.lines(&query), cluster.lines(&query));
        let raw = |l: &foley_triage::backend::lines::Lines| l.events.iter().map(|e| e.raw.clone()).collect::<Vec<_>>();
        assert!(!a.events.is_empty(), "{}: the files have lines in the span", query.title);
        assert_eq!(raw(&a), raw(&b), "{}: the same lines from files and cluster", query.title);
        let gpu = |l: &foley_triage::backend::lines::Lines| {
            l.gpu.iter().map(|g| (g.at_ms, g.mem_gib.map(|m| (m * 100.0).round()))).collect::<Vec<_>>()
        };
        assert_eq!(gpu(&a), gpu(&b), "{}: the same GPU samples", query.title);
    }
}

#[test]
fn indices_with_dynamic_text_mappings_and_renamed_fields_work() {
    // documents indexed without our template (strings become text + .keyword), one field renamed
    let server = start_server();
    let mut bulk = String::new();
    for i in 0..40 {
        let code = if i % 4 == 0 { "\"error_code\":\"MODEL_INFER_FAIL\",\"rule\":\"cuda-oom\"," } else { "" };
        let level = if i % 4 == 0 { "ERROR" } else { "INFO" };
        bulk.push_str(&format!("{{\"index\":{{\"_index\":\"logstash-foley-2025.09.01\",\"_id\":\"d{i}\"}}}}\n"));
        bulk.push_str(&format!(
            "{{\"@timestamp\":\"2025-09-01T14:{:02}:00Z\",\"level\":\"{level}\",\"source\":\"inference\",\"component\":\"model_inference\",{code}\"video\":\"vid_{:02}\",\"is_error\":{},\"parsed\":true,\"lines\":1,\"message\":\"m{i}\"}}\n",
            i % 60,
            i % 8,
            i % 4 == 0
        ));
    }
    let args = foley_triage::cli::EsArgs {
        es: vec![server.url.clone()],
        index: Some("logstash-foley-*".into()),
        es_timeout: 30,
        ..Default::default()
    };
    let client = foley_triage::elastic::connect(&args).unwrap();
    let answer = client.bulk(bulk).unwrap();
    assert_eq!(answer["errors"], false);
    client.request(reqwest::Method::POST, "/_refresh", None, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[elastic]\nfields = { video_id = \"video\" }\n").unwrap();
    let out = binary(&[
        "report",
        "--json",
        "--es",
        &server.url,
        "--index",
        "logstash-foley-*",
        "--config",
        config.to_str().unwrap(),
    ]);
    let report = json_of(&out);
    assert_eq!(report["by_code"]["MODEL_INFER_FAIL"], 10, "terms on a text field's .keyword");
    assert_eq!(report["by_level"]["ERROR"], 10);
    let top = report["top_failing_videos"].as_array().unwrap();
    assert_eq!(top.len(), 2, "videos found through the renamed field: {top:?}");
    assert_eq!(top[0]["failures"], 5);
}

/// A mistyped index pattern is an error that names it and the indices with a similar name, in the
/// report and the console alike (not an empty report with exit 0).
#[test]
fn a_pattern_matching_no_index_names_the_similar_ones() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    write_lines(&log, 0, 20, "vid_a");
    let out = binary(&["ship", log.to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = "no index matches `hunyan-foley-*` (similar names: hunyuan-foley-2025.09.02)";
    let out = binary(&["report", "--json", "--es", &server.url, "--index", "hunyan-foley-*"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(said), "{stderr}");
    // the console opens its screen, then says it after restoring the terminal, with the same status
    let mut console = common::Pty::start(&["--es", &server.url, "--index", "hunyan-foley-*"]);
    let status = console.wait_exit(std::time::Duration::from_secs(60));
    assert_eq!(status.exit_code(), 2, "{}", console.screen());
    assert!(console.restored(), "the terminal is restored before the message");
    let printed = String::from_utf8_lossy(&console.raw()).to_string();
    assert!(printed.contains(said), "{printed}");
    let out = binary(&["report", "--json", "--es", &server.url, "--index", "metrics-*"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of the cluster's 1 indices has a similar name"));
}

/// Documents that arrive late (an `@timestamp` older than the newest shown, normal with several
/// shippers) are still shown by the tail, each exactly once: the tail follows the ingest time
/// `ship` writes; on an index without it, a look-back by `@timestamp` catches late documents.
#[test]
fn the_tail_shows_late_documents_exactly_once() {
    use foley_triage::backend::Backend;
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let ship = |name: &str, minute: u32, video: &str| {
        let path = dir.path().join(name);
        let text: String = (0..5)
            .map(|i| format!("2025-09-02 10:{minute:02}:{:02} [INFO] video_id={video} seq={i} step=denoise\n", i * 2))
            .collect();
        std::fs::write(&path, text).unwrap();
        let out = binary(&["ship", path.to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    ship("newer.log", 30, "vid_newer");
    let mut es = backend(&server.url);
    assert_eq!(es.tail_field(), "ingested", "the index has the ingest time");
    assert_eq!(es.poll_tail().unwrap(), 5);
    // five documents from another shipper, half an hour older, arrive now
    ship("older.log", 0, "vid_older");
    assert_eq!(es.poll_tail().unwrap(), 5, "the late documents are shown");
    assert_eq!(es.poll_tail().unwrap(), 0, "and only once");
    let tail = es.tail(0, 1000);
    assert_eq!(tail.len(), 10);
    assert_eq!(tail.iter().filter(|(_, e)| e.video_id.as_deref() == Some("vid_older")).count(), 5);

    // an index filled by another pipeline, without the ingest time
    let client = foley_triage::elastic::connect(&foley_triage::cli::EsArgs {
        es: vec![server.url.clone()],
        ..Default::default()
    })
    .unwrap();
    let bulk = |seconds: &[u32]| {
        let body: String = seconds
            .iter()
            .map(|s| {
                format!(
                    "{{\"index\":{{\"_index\":\"beats-1\",\"_id\":\"b{s}\"}}}}\n{{\"@timestamp\":\"2025-09-02T11:00:{s:02}Z\",\"level\":\"INFO\",\"message\":\"m{s}\"}}\n"
                )
            })
            .collect();
        assert_eq!(client.bulk(body).unwrap()["errors"], false);
        client.request(reqwest::Method::POST, "/_refresh", None, false).unwrap();
    };
    bulk(&[30, 31, 32]);
    let args = foley_triage::cli::EsArgs {
        es: vec![server.url.clone()],
        index: Some("beats-*".into()),
        es_timeout: 30,
        ..Default::default()
    };
    let config = foley_triage::config::Config::default();
    let mut beats = foley_triage::backend::elastic::EsBackend::new(
        foley_triage::elastic::connect(&args).unwrap(),
        config.enricher().unwrap(),
        &config,
    );
    assert_eq!(beats.tail_field(), "@timestamp");
    assert_eq!(beats.poll_tail().unwrap(), 3);
    bulk(&[25, 33]); // one 7 s late, one new
    assert_eq!(beats.poll_tail().unwrap(), 2, "a document a few seconds late is shown too");
    assert_eq!(beats.poll_tail().unwrap(), 0);
}

/// An index filled the way Filebeat fills one — ECS names, each line a document with its file
/// and offset, none of the fields `ship` computes — is detected as such and read: the overview's
/// errors, components, codes and attribution equal the files'.
#[test]
fn a_filebeat_index_gives_the_files_numbers() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    simulate::write_logs(dir.path(), &SimulateOptions { rate: 0.6, minutes: 20, ..SimulateOptions::default() })
        .unwrap();
    std::fs::remove_file(dir.path().join("manifest.json")).unwrap();
    let args = foley_triage::cli::EsArgs { es: vec![server.url.clone()], es_timeout: 60, ..Default::default() };
    let client = foley_triage::elastic::connect(&args).unwrap();
    // Filebeat's template maps these (keyword file path and level, long offset, date time)
    client
        .put(
            "/filebeat-8.15.0-2025.09.01",
            &serde_json::json!({"mappings": {"properties": {
                "@timestamp": {"type": "date"},
                "message": {"type": "text"},
                "log": {"properties": {"level": {"type": "keyword"}, "offset": {"type": "long"},
                    "file": {"properties": {"path": {"type": "keyword"}}}}},
                "host": {"properties": {"name": {"type": "keyword"}}}
            }}}),
        )
        .unwrap();
    let mut bulk = String::new();
    let mut documents = 0;
    for name in simulate::FILE_NAMES {
        let path = dir.path().join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let format = foley_triage::source::detect_format(text.as_bytes(), 0);
        let parser = foley_triage::parse::LineParser::new(format, 0);
        let mut offset = 0u64;
        let mut last_time = None;
        for line in text.split_inclusive('\n') {
            let content = line.trim_end_matches('\n');
            let event = parser.parse(content);
            // the module's ingest pipeline takes the time from the line; a traceback line has none
            let time = event.ts_ms.or(last_time);
            last_time = time;
            let mut doc = serde_json::json!({
                "message": content,
                "log": {"file": {"path": path.display().to_string()}, "offset": offset},
                "host": {"name": "gpu-node-1"}, "ecs": {"version": "8.11.0"}, "agent": {"type": "filebeat"}
            });
            if let Some(t) = time {
                doc["@timestamp"] = serde_json::json!(t);
            }
            if event.parsed {
                doc["log"]["level"] = serde_json::json!(event.level.as_str());
            }
            bulk.push_str("{\"index\":{\"_index\":\"filebeat-8.15.0-2025.09.01\"}}\n");
            bulk.push_str(&doc.to_string());
            bulk.push('\n');
            offset += line.len() as u64;
            documents += 1;
            if documents % 5000 == 0 {
                assert_eq!(client.bulk(std::mem::take(&mut bulk)).unwrap()["errors"], false);
            }
        }
    }
    if !bulk.is_empty() {
        assert_eq!(client.bulk(bulk).unwrap()["errors"], false);
    }
    client.request(reqwest::Method::POST, "/_refresh", None, false).unwrap();

    let files = json_of(&binary(&["report", dir.path().to_str().unwrap(), "--json"]));
    let out = binary(&["report", "--es", &server.url, "--index", "filebeat-*", "--json"]);
    let cluster = json_of(&out);
    assert!(files["errors"].as_u64().unwrap() > 100, "the incident has errors");
    for key in [
        "errors",
        "by_component",
        "by_code",
        "by_level",
        "codes",
        "causes",
        "unknown_errors",
        "top_failing_videos",
        "health",
    ] {
        assert_eq!(cluster[key], files[key], "`{key}` differs between the Filebeat index and the files");
    }
    // the same with the preset named, and the header says what was done
    let named =
        json_of(&binary(&["report", "--es", &server.url, "--index", "filebeat-*", "--fields", "ecs", "--json"]));
    assert_eq!(named["causes"], files["causes"]);
    let config = foley_triage::config::Config::default();
    let mut es = foley_triage::backend::elastic::EsBackend::new(
        foley_triage::elastic::connect_with_fields(
            &foley_triage::cli::EsArgs { index: Some("filebeat-*".into()), ..args.clone() },
            &Default::default(),
        )
        .unwrap(),
        config.enricher().unwrap(),
        &config,
    );
    use foley_triage::backend::Backend;
    let overview = es.overview(foley_triage::backend::TimeRange::last(3_600_000));
    assert!(overview.errors > 0);
    let header = es.describe();
    assert!(header.contains(&format!("fields: ecs, derived here from {documents} documents")), "{header}");
    // the drill-down of the top failing video: its lines, parsed here, as the files give them
    let top = files["top_failing_videos"][0]["video_id"].as_str().unwrap().to_string();
    let related = es.related(&top);
    let mut local = foley_triage::backend::local::LocalBackend::open(
        simulate::FILE_NAMES.iter().map(|n| dir.path().join(n)).collect(),
        config.enricher().unwrap(),
        &config,
        2,
        false,
        Vec::new(),
    );
    let on_files = local.related(&top);
    // (a traceback's line is a document of its own in this index: it is shown with the video's
    // lines, by time, message and code as the files' joined event, without its component)
    let lines = |r: &foley_triage::backend::Related| -> Vec<(Option<i64>, String, Option<String>)> {
        let mut out: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.video_id.as_deref() == Some(top.as_str()))
            .map(|e| (e.ts_ms, e.message.clone(), e.error_code.clone()))
            .collect();
        out.sort();
        out
    };
    assert!(!lines(&on_files).is_empty(), "the top video has lines");
    assert_eq!(lines(&related), lines(&on_files), "the drill-down of {top} on the Filebeat index");
    assert!(related.events.iter().all(|e| e.video_id.as_deref() == Some(top.as_str())), "only its own lines");
    // the Patterns screen: every template of errors and warnings, as on files (not only the
    // unknown ones), and Enter on a row gives its lines
    let query = foley_triage::backend::PatternsQuery {
        range: foley_triage::backend::TimeRange::ALL,
        baseline: None,
        options: Default::default(),
    };
    let (on_es, on_disk) = (es.patterns(&query), local.patterns(&query));
    assert!(on_disk.rows.len() > 5 && on_disk.rows.iter().any(|r| r.explanation.rule.is_some()), "{:?}", on_disk.rows);
    assert_eq!(on_es.rows, on_disk.rows);
    assert!(
        on_es.note.as_deref().is_some_and(|n| n.starts_with("fields: ecs, derived here from the")),
        "{:?}",
        on_es.note
    );
    let row = &on_disk.rows[0];
    let (from_ms, to_ms) = on_disk.span.unwrap();
    let lines_query = foley_triage::backend::lines::LineQuery {
        from_ms,
        to_ms,
        code: None,
        template: Some(row.template.clone()),
        known_too: true,
        filter: None,
        title: String::new(),
    };
    let key = |l: &foley_triage::backend::lines::Lines| -> Vec<(Option<i64>, String)> {
        l.events.iter().map(|e| (e.ts_ms, e.message.clone())).collect()
    };
    let (es_lines, disk_lines) = (es.lines(&lines_query), local.lines(&lines_query));
    assert!(!disk_lines.events.is_empty(), "the row has lines");
    assert_eq!(key(&es_lines), key(&disk_lines), "Enter on {}", row.template);
}

/// One document dated far in the future (a clock gone wrong on one host) never anchors the last
/// hour on the cluster either: the newest document is looked for up to now plus the tolerance, so
/// the window still holds the real incident instead of reading as empty (a false all-clear).
#[test]
fn a_document_from_2099_does_not_empty_the_last_hour() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    write_lines(&log, 0, 200, "vid_a");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("2099-01-01 00:00:00 [ERROR] video_id=vid_clock error_code=MODEL_TIMEOUT\n");
    std::fs::write(&log, text).unwrap();
    let out = binary(&["ship", log.to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut backend = backend(&server.url);
    let overview = backend.try_overview(foley_triage::backend::TimeRange::last(3_600_000)).expect("overview");
    let newest = chrono::DateTime::from_timestamp_millis(overview.data_to.expect("a newest time")).unwrap();
    assert_eq!(newest.format("%Y-%m-%d").to_string(), "2025-09-02", "the window is anchored on the real data");
    assert!(overview.events >= 200, "the last hour holds the incident's lines: {}", overview.events);
}

/// One HTTP/1.1 request from a connection: the request line, header lines, body; `None` when the
/// client hung up.
fn read_http_request(reader: &mut BufReader<std::net::TcpStream>) -> Option<(String, Vec<String>, Vec<u8>)> {
    use std::io::Read;
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut length = 0usize;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        headers.push(line.trim().to_string());
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((request_line.trim().to_string(), headers, body))
}

/// A proxy on 127.0.0.1 in front of `upstream` that passes every request on, except those for
/// which `stall` holds: those get no answer for `hold` (the client gives up first).
fn stalling_proxy(upstream: &str, hold: std::time::Duration, stall: fn(&str) -> bool) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                // one request per connection: the answer says `connection: close`
                if let Some((line, headers, body)) = read_http_request(&mut reader) {
                    if stall(&String::from_utf8_lossy(&body)) {
                        std::thread::sleep(hold);
                        return;
                    }
                    // one upstream connection per request, closed after the answer
                    let mut to = std::net::TcpStream::connect(&upstream).unwrap();
                    let mut head = format!("{line}\r\n");
                    for h in headers.iter().filter(|h| !h.to_ascii_lowercase().starts_with("connection:")) {
                        head.push_str(&format!("{h}\r\n"));
                    }
                    head.push_str("connection: close\r\n\r\n");
                    to.write_all(head.as_bytes()).unwrap();
                    to.write_all(&body).unwrap();
                    let mut answer = Vec::new();
                    to.read_to_end(&mut answer).unwrap();
                    let _ = stream.write_all(&answer);
                }
            });
        }
    });
    url
}

/// Issue 13 item 2: the console's first screen arrives in parts. Behind a proxy that answers the
/// counts and holds the lists past `--es-timeout`, the engine sends the counts first (the same
/// numbers as the whole overview, shown on screen while the list panels say "loading…", never
/// "all clear"), then the counts again with the lists' failure in plain words naming
/// `--es-timeout`.
#[test]
fn the_first_screen_shows_the_counts_while_the_lists_load_or_fail() {
    use foley_triage::backend::Backend;
    use foley_triage::backend::worker::{DEFAULT_RANGE, Update, spawn_open};
    use foley_triage::stats::overview::Lists;
    use foley_triage::tui::state::{Screen, State};
    use foley_triage::tui::update::{Msg, update};
    use std::time::{Duration, Instant};
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    simulate::write_logs(dir.path(), &SimulateOptions { rate: 0.6, minutes: 20, ..SimulateOptions::default() })
        .unwrap();
    std::fs::remove_file(dir.path().join("manifest.json")).unwrap();
    let out = binary(&["ship", dir.path().to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let whole = backend(&server.url).overview(DEFAULT_RANGE);
    assert_eq!(whole.lists, Lists::Complete);
    assert!(!whole.top_failing_videos.is_empty() && !whole.codes.is_empty(), "the incident has lists");

    // the lists' request is the one with the failing videos' aggregation
    let proxy = stalling_proxy(&server.url, Duration::from_secs(8), |body| body.contains("\"videos\""));
    let args = foley_triage::cli::EsArgs {
        es: vec![proxy],
        index: Some("hunyuan-foley-*".into()),
        es_timeout: 2,
        ..Default::default()
    };
    let client = foley_triage::elastic::connect(&args).expect("connect");
    let config = foley_triage::config::Config::default();
    let es = foley_triage::backend::elastic::EsBackend::new(client, config.enricher().unwrap(), &config);
    let (_link, from_engine) = spawn_open(Box::new(es));
    let mut state = State::new("x".into(), &config);
    update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
    let until = Instant::now() + Duration::from_secs(60);
    let mut overviews = Vec::new();
    while overviews.len() < 2 {
        let left = until.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "two overviews within 60 s: got {}", overviews.len());
        let Ok(message) = from_engine.recv_timeout(left) else { continue };
        if let Update::Overview { overview, .. } = &message {
            let lists = overview.lists.clone();
            overviews.push((**overview).clone());
            update(&mut state, Msg::Engine(message));
            let screens: Vec<String> = [Screen::Overview, Screen::Codes]
                .into_iter()
                .map(|screen| {
                    state.screen = screen;
                    common::render(&state, 160, 48)
                })
                .collect();
            state.screen = Screen::Overview;
            let screen = screens.join("\n");
            assert!(!screen.contains("explained by a rule"), "no all clear without the lists:\n{screen}");
            assert!(!screen.contains("no failing videos"), "no all clear without the lists:\n{screen}");
            assert!(!screen.contains("no error codes"), "no all clear without the lists:\n{screen}");
            assert!(screen.contains("Component health"), "{screen}");
            let percent = format!("{:.1}%", 100.0 * whole.errors as f64 / whole.events as f64);
            assert!(screen.contains(&percent), "the error rate {percent} is on screen:\n{screen}");
            match &lists {
                Lists::Loading => {
                    assert_eq!(overviews.len(), 1, "the counts come first");
                    assert!(screen.contains("loading…"), "{screen}");
                }
                Lists::Failed(why) => {
                    assert!(why.contains("--es-timeout"), "{why}");
                    let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
                    assert!(flat.contains("did not load") && flat.contains("--es-timeout"), "{screen}");
                }
                Lists::Complete => panic!("the lists were held back, yet came"),
            }
        }
    }
    let (counts, failed) = (&overviews[0], &overviews[1]);
    assert_eq!(counts.lists, Lists::Loading);
    assert!(matches!(failed.lists, Lists::Failed(_)), "{:?}", failed.lists);
    for o in [counts, failed] {
        assert_eq!(
            (o.events, o.errors, o.jobs, o.job_failures),
            (whole.events, whole.errors, whole.jobs, whole.job_failures)
        );
        assert_eq!(o.by_component, whole.by_component, "components");
        assert_eq!(o.health, whole.health, "health");
        assert_eq!(o.series.errors, whole.series.errors, "the sparkline's buckets");
        assert!(o.top_failing_videos.is_empty() && o.codes.is_empty() && o.alerts.is_empty());
    }
}

/// Issue 13 item 8, the ship side: Kubernetes events whose only time is a top-level `time` (or
/// `@timestamp`, `timestamp`) go to the index of their day with `@timestamp`, never to
/// `<prefix>-undated`.
#[test]
fn a_kubernetes_event_with_only_a_top_level_time_is_shipped_to_its_day() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let events: String = ["time", "@timestamp", "timestamp"]
        .iter()
        .enumerate()
        .map(|(i, field)| {
            format!(
                "{{\"kind\":\"Event\",\"type\":\"Warning\",\"reason\":\"OOMKilled\",\"message\":\"Container foley-infer was OOM killed\",\"involvedObject\":{{\"kind\":\"Pod\",\"name\":\"foley-infer-{i}\",\"namespace\":\"foley\"}},\"{field}\":\"2025-09-03T10:00:0{i}Z\"}}\n"
            )
        })
        .collect();
    let path = dir.path().join("k8s_events.jsonl");
    std::fs::write(&path, events).unwrap();
    let out = binary(&["ship", path.to_str().unwrap(), "--es", &server.url, "--refresh"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let es = backend(&server.url);
    let answer = es.client.search(&serde_json::json!({"size": 100, "query": {"match_all": {}}})).unwrap();
    let hits = answer.body["hits"]["hits"].as_array().unwrap().clone();
    assert_eq!(hits.len(), 3, "{}", answer.body);
    let day_start = chrono::DateTime::parse_from_rfc3339("2025-09-03T10:00:00Z").unwrap().timestamp_millis();
    let mut times: Vec<i64> = Vec::new();
    for hit in &hits {
        assert_eq!(hit["_index"], "hunyuan-foley-2025.09.03", "{hit}");
        times.push(hit["_source"]["@timestamp"].as_i64().unwrap_or_else(|| panic!("no @timestamp: {hit}")));
    }
    times.sort();
    assert_eq!(times, [day_start, day_start + 1000, day_start + 2000]);
    let undated = es
        .client
        .search(&serde_json::json!({"size": 0, "query": {"bool": {"must_not": {"exists": {"field": "@timestamp"}}}}}))
        .unwrap();
    assert_eq!(undated.body["hits"]["total"]["value"], 0, "nothing shipped without a time");
}

/// Issue 10 item 4 on a cluster: the drill-down of a video outside the overview's top list, and of
/// a video that never failed, gives the same lines, facts and explanation from the cluster as from
/// the files (the bundled demo, shipped).
#[test]
fn the_drill_down_of_any_video_is_the_same_on_the_cluster() {
    use foley_triage::backend::{Backend, Related, TimeRange};
    let server = start_server();
    let demo = foley_triage::demo::materialize().unwrap();
    let config = foley_triage::config::Config::default();
    let mut files = foley_triage::backend::local::LocalBackend::open(
        demo.files(),
        config.enricher().unwrap(),
        &config,
        2,
        false,
        Vec::new(),
    );
    for path in demo.files() {
        let out = binary(&["ship", path.to_str().unwrap(), "--es", &server.url, "--refresh", "--keep-raw"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut cluster = backend(&server.url);
    let top: Vec<String> =
        files.overview(TimeRange::ALL).top_failing_videos.iter().map(|v| v.video_id.clone()).collect();
    // the demo's only MODEL_TIMEOUT is far down the ranking (see tests/drill_facts.rs)
    let outside = "vid_cf2945";
    assert!(!top.iter().any(|v| v == outside), "the video is outside the top list");
    let cluster_top: Vec<String> =
        cluster.overview(TimeRange::ALL).top_failing_videos.iter().map(|v| v.video_id.clone()).collect();
    assert_eq!(cluster_top, top, "the same top list");
    // a video that never failed: in the inference log with a success, with no error code anywhere
    let failed: std::collections::BTreeSet<String> = files
        .overview(TimeRange::ALL)
        .codes
        .iter()
        .flat_map(|c| files.videos_with_code(&c.code, TimeRange::ALL))
        .map(|v| v.video_id)
        .collect();
    assert!(failed.contains(outside));
    let text = String::from_utf8_lossy(foley_triage::demo::FILES[0].1);
    let healthy = text
        .lines()
        .filter(|l| l.contains("audio_gen_success=True"))
        .filter_map(|l| l.split("video_id=").nth(1))
        .map(|v| v.chars().take_while(|c| !c.is_whitespace()).collect::<String>())
        .find(|v| !failed.contains(v))
        .expect("a video that never failed");
    let raw = |r: &Related| r.events.iter().map(|e| e.raw.clone()).collect::<Vec<_>>();
    for video in [outside, healthy.as_str()] {
        let (a, b) = (files.related(video), cluster.related(video));
        assert!(!a.events.is_empty(), "{video} has lines");
        assert_eq!(raw(&b), raw(&a), "the lines of {video}");
        assert_eq!(b.row, a.row, "the facts of {video}");
        assert_eq!(b.explanation, a.explanation, "the explanation of {video}");
        assert_eq!(b.truncated, a.truncated);
    }
    let row = cluster.related(outside).row.expect("facts on the cluster");
    assert_eq!((row.failures, row.codes.clone()), (1, vec!["MODEL_TIMEOUT".to_string()]));
    assert_eq!(row.request_id.as_deref(), Some("req_68c3ae75"));
    let healthy_row = cluster.related(&healthy);
    assert_eq!(healthy_row.row.as_ref().map(|r| r.failures), Some(0));
    assert_eq!(healthy_row.explanation.cause, "no failure in these lines");
}

/// Bulk files as an older `ship` wrote them: without the `template` field in the documents, and in
/// the mapping unless `mapped` (an index template `es init` updated before an older `ship` wrote).
fn without_templates(bulk: &std::path::Path, out: &std::path::Path, mapped: bool) {
    std::fs::create_dir_all(out).unwrap();
    for entry in std::fs::read_dir(bulk).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap();
        let stripped: String = if name.to_string_lossy().ends_with(".index.json") {
            if mapped {
                std::fs::write(out.join(name), text).unwrap();
                continue;
            }
            let mut mapping: Value = serde_json::from_str(&text).unwrap();
            assert!(mapping["mappings"]["properties"]["template"].is_object(), "{mapping}");
            mapping["mappings"]["properties"].as_object_mut().unwrap().remove("template");
            mapping.to_string()
        } else {
            text.lines()
                .map(|line| {
                    let mut v: Value = serde_json::from_str(line).unwrap();
                    if let Some(doc) = v.as_object_mut() {
                        doc.remove("template");
                    }
                    format!("{v}\n")
                })
                .collect()
        };
        std::fs::write(out.join(name), stripped).unwrap();
    }
}

/// Issue 14 on a cluster: unknown errors whose messages differ in one word are one row on the
/// Patterns screen with every line counted, the same row as from the files — from the `template`
/// field, and from an index an older `ship` wrote (without it: the unknown errors' templates of
/// the overview, said in the note; unit test `a_clusters_templates_are_mined_into_groups`). An
/// index with older days without the field lists the newer ones and says how many lines it left
/// out.
#[test]
fn the_patterns_of_a_cluster_are_the_files_groups() {
    use foley_triage::backend::{Backend, PatternsQuery, TimeRange};
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, day: &str| {
        let path = dir.path().join(name);
        let mut text = String::new();
        for i in 0..40 {
            let word = ["alpha", "beta", "gamma", "delta", "epsilon"][i % 5];
            text.push_str(&format!(
                "{day} 14:{i:02}:00 [INFO] video_id=vid_ok{i:04} inference_time=1.2s audio_gen_success=True\n\
                 {day} 14:{i:02}:30 [ERROR] video_id=vid_w{i:04} error_code=E_WORKER reason=\"worker {word} lost its lease\"\n"
            ));
            if i % 4 == 0 {
                text.push_str(&format!("{day} 14:{i:02}:40 [WARN] video_id=vid_w{i:04} reason=\"slow disk\"\n"));
            }
        }
        std::fs::write(&path, text).unwrap();
        let bulk = dir.path().join(format!("{name}.bulk"));
        let out = binary(&["ship", path.to_str().unwrap(), "--output", bulk.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (path, bulk)
    };
    let (path, bulk) = write("inference.log", "2025-09-01");
    let config = foley_triage::config::Config::default();
    let mut files = foley_triage::backend::local::LocalBackend::open(
        vec![path.clone()],
        config.enricher().unwrap(),
        &config,
        2,
        false,
        Vec::new(),
    );
    let query = PatternsQuery { range: TimeRange::ALL, baseline: None, options: Default::default() };
    let unknown = |rows: &[foley_triage::stats::template_rows::TemplateRow]| -> Vec<(String, u64)> {
        rows.iter().filter(|r| r.unknown > 0).map(|r| (r.template.clone(), r.unknown)).collect()
    };
    let on_files = files.patterns(&query);
    assert_eq!(unknown(&on_files.rows), vec![("E_WORKER: worker <*> lost its lease".to_string(), 40)]);
    assert_eq!(on_files.rows.len(), 2, "and the warning");

    // shipped now: every row, nothing said
    let server = start_server_seeded(&[&bulk]);
    let view = backend(&server.url).patterns(&query);
    assert_eq!(view, on_files);

    // shipped by an older version: the unknown errors only, as before, said
    for mapped in [false, true] {
        let old = dir.path().join(format!("old-{mapped}"));
        without_templates(&bulk, &old, mapped);
        let server = start_server_seeded(&[&old]);
        let view = backend(&server.url).patterns(&query);
        assert_eq!(unknown(&view.rows), unknown(&on_files.rows), "mapped {mapped}: {:#?}", view.rows);
        assert_eq!(view.rows.len(), 1, "no warning: {:#?}", view.rows);
        let note = view.note.unwrap_or_default();
        assert!(note.contains("only the templates of unknown errors"), "mapped {mapped}: {note}");
    }

    // the day before shipped by an older version, this day by this one: this day's rows, and how
    // many error and warning lines of the day before are not listed
    let (_, before) = write("yesterday.log", "2025-08-31");
    let old_before = dir.path().join("old-before");
    without_templates(&before, &old_before, false);
    let server = start_server_seeded(&[&old_before, &bulk]);
    let view = backend(&server.url).patterns(&query);
    let note = view.note.clone().unwrap_or_default();
    assert!(note.starts_with("cluster: 50 error and warning lines in the range have no `template` field"), "{note}");
    // the same rows but for the trend, whose points span both days here
    let without_trend = |rows: &[foley_triage::stats::template_rows::TemplateRow]| {
        rows.iter()
            .map(|r| foley_triage::stats::template_rows::TemplateRow { trend: Vec::new(), ..r.clone() })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_trend(&view.rows), without_trend(&on_files.rows));
    assert!(view.rows.iter().all(|r| r.trend.iter().sum::<u64>() == r.count), "{:#?}", view.rows);
}

/// Two hours of an inference log for the Patterns screen: errors a rule explains (CUDA OOM, rising
/// in the second hour; video decoding, steady), unknown errors differing in one word (new in the
/// second hour but for a few in the first), unknown errors without a code, warnings charged to two
/// components (a hint in the line) and a warning only in the last minutes; many videos.
fn patterns_log(path: &std::path::Path) {
    use std::fmt::Write;
    let mut text = String::new();
    let at =
        |minute: usize, second: usize| format!("2025-09-01 {:02}:{:02}:{second:02}", 12 + minute / 60, minute % 60);
    for m in 0..120 {
        let late = m >= 60;
        let _ = writeln!(text, "{} [INFO] video_id=vid_ok{m:04} inference_time=1.2s audio_gen_success=True", at(m, 0));
        if late || m % 4 == 0 {
            let _ = writeln!(
                text,
                "{} [ERROR] video_id=vid_m{} error_code=MODEL_INFER_FAIL reason=\"CUDA out of memory: tried to allocate {} MiB\"",
                at(m, 5),
                m % 7,
                100 + m
            );
        }
        if m % 3 == 0 {
            let _ = writeln!(
                text,
                "{} [ERROR] video_id=vid_v{} error_code=VIDEO_DECODE_ERR reason=\"unsupported codec hevc in stream {}\"",
                at(m, 10),
                m % 5,
                m % 2
            );
        }
        if late || m % 20 == 10 {
            let word = if late { ["alpha", "beta", "gamma", "delta", "epsilon"][m % 5] } else { "omega" };
            let _ = writeln!(
                text,
                "{} [ERROR] video_id=vid_s{} error_code=SCHED_LEASE reason=\"worker {word} lost its lease\"",
                at(m, 20),
                m % 3
            );
        }
        if m % 6 == 1 {
            let _ = writeln!(text, "{} [ERROR] video_id=vid_u{} upload to bucket b{} refused", at(m, 25), m % 4, m % 9);
        }
        if m % 2 == 0 {
            let component = if m % 4 == 0 { "video_processor" } else { "audio_generator" };
            let _ = writeln!(
                text,
                "{} [WARN] video_id=vid_w{} component={component} reason=\"prompt truncated to 77 tokens\"",
                at(m, 30),
                m % 3
            );
        }
        if m >= 112 {
            let _ = writeln!(text, "{} [WARN] video_id=vid_q{m} reason=\"queue depth {m} above limit\"", at(m, 40));
        }
    }
    std::fs::write(path, text).unwrap();
}

/// Issue 14 on a cluster: the Patterns screen of a cluster is the files' screen — every template
/// of errors and warnings (not only the unknown errors), with the same counts, trend, first seen,
/// example, components, videos, explanation, unknown count, new flag and members, and the same
/// "what changed" against the baseline — for the last hour with its baseline, for everything, and
/// for a range that cuts buckets. Enter on a row finds the same lines on both. (`ship` writes
/// `template` for every error and warning; `elastic::patterns` aggregates it.)
#[test]
fn the_patterns_screen_of_a_cluster_equals_the_files() {
    use foley_triage::backend::lines::LineQuery;
    use foley_triage::backend::{Backend, PatternsQuery, TimeRange};
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inference.log");
    patterns_log(&path);
    let out = binary(&["ship", path.to_str().unwrap(), "--es", &server.url, "--refresh"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = foley_triage::config::Config::default();
    let mut files = foley_triage::backend::local::LocalBackend::open(
        vec![path.clone()],
        config.enricher().unwrap(),
        &config,
        2,
        false,
        Vec::new(),
    );
    let mut cluster = backend(&server.url);
    let hour = 3_600_000;
    let start = 1_756_728_000_000; // 2025-09-01 12:00:00 UTC
    let ranges = [
        ("the second hour, against the first", TimeRange::between(start + hour, start + 2 * hour - 1)),
        ("everything", TimeRange::ALL),
        ("the last 40 minutes", TimeRange::last(40 * 60_000)),
        ("a range cutting minutes", TimeRange::between(start + hour + 30_000, start + 2 * hour - 45_000)),
        // 119 minutes: a trend point of two, starting at an odd minute
        ("from the second minute", TimeRange::between(start + 60_000, start + 2 * hour - 1)),
    ];
    for (label, range) in ranges {
        let query = PatternsQuery { range, baseline: None, options: Default::default() };
        let (a, b) = (files.patterns(&query), cluster.patterns(&query));
        assert!(a.rows.len() >= 6, "{label}: the files list every template: {:#?}", a.rows);
        for (x, y) in a.rows.iter().zip(&b.rows) {
            assert_eq!(y, x, "{label}: a row differs between the files and the cluster");
        }
        assert_eq!(b.rows.len(), a.rows.len(), "{label}: rows");
        assert_eq!(b.changes, a.changes, "{label}: what changed");
        assert_eq!(b, a, "{label}: the whole answer");
    }
    // the second hour: what the screen shows is what the log holds
    let query = PatternsQuery { range: ranges[0].1, baseline: None, options: Default::default() };
    let view = cluster.patterns(&query);
    let row =
        |prefix: &str| view.rows.iter().find(|r| r.template.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}"));
    let lease = row("SCHED_LEASE");
    assert_eq!(lease.template, "SCHED_LEASE: worker <*> lost its lease");
    // omega's lines are in the baseline only: not a member of the second hour's row; the words
    // share their three videos
    assert_eq!((lease.count, lease.videos, lease.unknown, lease.members.len()), (60, 3, 60, 5));
    assert_eq!(lease.first_seen, Some(start + hour + 20_000));
    let oom = row("MODEL_INFER_FAIL");
    assert_eq!(oom.first_seen, Some(start + 5_000), "first seen in all the data, not only the window");
    assert!(lease.draft.is_some() && lease.explanation.rule.is_none());
    assert_eq!((oom.count, oom.videos, oom.explanation.rule.as_deref()), (60, 7, Some("cuda-oom")));
    assert_eq!(oom.trend.len(), 60);
    assert!(oom.trend.iter().all(|n| *n == 1), "{:?}", oom.trend);
    let truncated = row("[inference] prompt truncated");
    assert_eq!(truncated.components, ["audio_generator", "video_processor"]);
    assert!(!truncated.errors && truncated.explanation.category == "none");
    assert!(row("[inference] queue depth").new);
    assert!(view.note.is_none(), "nothing left out: {:?}", view.note);
    let changed = |kind: &str, name: &str| {
        view.changes.iter().find(|c| c.kind == kind && c.name.starts_with(name)).map(|c| (c.change, c.before))
    };
    assert_eq!(changed("template", "SCHED_LEASE"), Some(("rose", 3)), "omega's lines in the baseline are the same row");
    assert_eq!(changed("template", "MODEL_INFER_FAIL"), Some(("rose", 15)));
    assert_eq!(changed("code", "MODEL_INFER_FAIL"), Some(("rose", 15)));
    // Enter on a row: the same lines on both, for a row a rule explains, a grouped unknown row, and
    // a warning
    let span = view.span.unwrap();
    for template in [&oom.template, &lease.template, &truncated.template] {
        let query = LineQuery {
            template: Some(template.clone()),
            known_too: true,
            ..LineQuery::around(span.0, 0, format!("pattern: {template}"))
        };
        let query = LineQuery { from_ms: span.0, to_ms: span.1, ..query };
        let (a, b) = (files.lines(&query), cluster.lines(&query));
        let lines = |l: &foley_triage::backend::lines::Lines| {
            l.events.iter().map(|e| (e.ts_ms, e.message.clone())).collect::<Vec<_>>()
        };
        assert_eq!(lines(&a).len(), view.rows.iter().find(|r| &r.template == template).unwrap().count as usize);
        assert_eq!(lines(&b), lines(&a), "the lines of {template}");
    }
}

/// The Patterns screen asks again on every refresh: while no document arrived, the same answer
/// comes back without its aggregations being asked again; a document that arrives (even one dated
/// before the newest) is counted at once.
#[test]
fn the_patterns_answer_is_asked_again_only_when_documents_arrive() {
    use foley_triage::backend::{Backend, PatternsQuery, TimeRange};
    use std::sync::atomic::Ordering;
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inference.log");
    let line =
        |m: u32| format!("2025-09-01 14:{m:02}:30 [ERROR] video_id=vid_{m} error_code=E_LEASE reason=\"lost\"\n");
    std::fs::write(&path, (0..20).map(line).collect::<String>()).unwrap();
    let ship = |path: &std::path::Path| {
        let out = binary(&["ship", path.to_str().unwrap(), "--es", &server.url, "--refresh"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    ship(&path);
    let mut cluster = backend(&server.url);
    let query = PatternsQuery { range: TimeRange::ALL, baseline: None, options: Default::default() };
    let count =
        |view: &foley_triage::stats::template_rows::PatternsView| view.rows.iter().map(|r| r.count).sum::<u64>();
    let received = |c: &foley_triage::backend::elastic::EsBackend| c.client.bytes_received.load(Ordering::Relaxed);
    let before = received(&cluster);
    let first = cluster.patterns(&query);
    let first_bytes = received(&cluster) - before;
    assert_eq!(count(&first), 20);
    let before = received(&cluster);
    let again = cluster.patterns(&query);
    let again_bytes = received(&cluster) - before;
    assert_eq!(again, first);
    assert!(again_bytes * 3 < first_bytes, "asked again: {again_bytes} bytes against {first_bytes}");
    // a late document (dated before the newest) arrives: counted at once
    let late = dir.path().join("late.log");
    std::fs::write(&late, line(5)).unwrap();
    ship(&late);
    assert_eq!(count(&cluster.patterns(&query)), 21);
}
