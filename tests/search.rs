//! Reaching any line (issue 12 items 2, 3, 8): the id index built while files are read gives the
//! same lines as a scan of every line; the drill-down takes a request id too; free-text search over
//! files; the headless `video` and `search` commands (exit codes, JSON).
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use foley_triage::backend::local::LocalBackend;
use foley_triage::config::Config;
use foley_triage::event::{Event, Origin};
use foley_triage::parse::LineParser;
use foley_triage::pipeline::{Ingestor, PipelineOptions};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The (input, offset) of every line whose video or request id is `id`, by parsing every line.
fn brute_force(paths: &[PathBuf], id: &str) -> BTreeSet<(u32, u64)> {
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let mut found = BTreeSet::new();
    for (index, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let format = foley_triage::source::detect_format(&bytes, 0);
        let mut ingestor = Ingestor::new(&enricher, LineParser::new(format, 0), PipelineOptions::default(), 60_000);
        let mut sink = |e: &Event<'_>, _: &foley_triage::enrich::Enriched, o: Origin, _: &[u8]| {
            if e.video_id.as_deref() == Some(id) || e.request_id.as_deref() == Some(id) {
                found.insert((index as u32, o.offset));
            }
        };
        ingestor.ingest_block(&bytes, 0, true, &mut sink);
    }
    found
}

fn open(paths: &[PathBuf], threads: usize) -> LocalBackend {
    let config = Config::default();
    LocalBackend::open(paths.to_vec(), config.enricher().unwrap(), &config, threads, false, Vec::new())
}

fn indexed(backend: &LocalBackend, id: &str) -> BTreeSet<(u32, u64)> {
    backend.lines_of(id).0.iter().map(|e| (e.origin.file, e.origin.offset)).collect()
}

/// One seed_kv line (sometimes with a traceback after it, sometimes without ids).
fn line(second: u32, video: Option<u8>, request: Option<u8>, traceback: bool, pad: usize) -> String {
    let mut text = format!("2025-09-01 14:{:02}:{:02} [ERROR] worker=gpu-0", second / 60 % 60, second % 60);
    if let Some(v) = video {
        text.push_str(&format!(" video_id=vid_{v:02x}"));
    }
    if let Some(r) = request {
        text.push_str(&format!(" request_id=req_{r:02x}"));
    }
    text.push_str(&format!(" message=\"{}\"\n", "x".repeat(pad)));
    if traceback {
        text.push_str("Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: bad\n");
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_index_gives_the_lines_a_scan_finds(
        files in prop::collection::vec(
            prop::collection::vec((any::<Option<u8>>(), any::<Option<u8>>(), any::<bool>(), 0usize..300), 0..120),
            1..3),
        probe in any::<u8>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (n, lines) in files.iter().enumerate() {
            let text: String = lines
                .iter()
                .enumerate()
                .map(|(i, (v, r, t, pad))| line(i as u32, v.map(|v| v % 16), r.map(|r| r % 32), *t, *pad))
                .collect();
            let path = dir.path().join(format!("app{n}.log"));
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        let backend = open(&paths, 2);
        // unread (the headless commands): the same lines from a scan of the bytes
        let config = Config::default();
        let unread = LocalBackend::open_unread(paths.clone(), config.enricher().unwrap(), &config);
        for id in [format!("vid_{:02x}", probe % 16), format!("req_{:02x}", probe % 32), "vid_zz".to_string()] {
            let expected = brute_force(&paths, &id);
            prop_assert_eq!(indexed(&backend, &id), expected.clone(), "{}", id);
            prop_assert_eq!(indexed(&unread, &id), expected, "unread: {}", id);
        }
    }
}

/// A file large enough to be read by two cores in parallel (index parts merged), with one video
/// whose lines are far apart and lines longer than the read-back window.
#[test]
fn the_index_of_a_file_read_on_two_cores_finds_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut text = String::new();
    let mut i = 0u32;
    while text.len() < 6 << 20 {
        let pad = if i.is_multiple_of(997) { 40_000 } else { 100 };
        text.push_str(&line(i, Some((i % 200) as u8), Some((i % 251) as u8), i.is_multiple_of(13), pad));
        i += 1;
    }
    std::fs::write(&path, &text).unwrap();
    let paths = vec![path];
    let backend = open(&paths, 2);
    for id in ["vid_07", "vid_c7", "req_fa", "req_00"] {
        let expected = brute_force(&paths, id);
        assert!(expected.len() > 100, "{id}: the file has many lines of it");
        assert_eq!(indexed(&backend, id), expected, "{id}");
    }
    let (bytes, lines, ids) = backend.index_size();
    assert!(lines >= i as u64 && ids > 0);
    assert!((bytes as f64) / (lines as f64) < 16.0, "{bytes} bytes for {lines} lines");
}

fn demo_backend() -> (foley_triage::demo::DemoDir, LocalBackend) {
    let demo = foley_triage::demo::materialize().unwrap();
    let backend = open(&demo.files(), 2);
    (demo, backend)
}

/// An event's input, offset, time, video id, request id and raw text.
type Line = (u32, u64, Option<i64>, Option<String>, Option<String>, String);

/// Every event of the files (joined tracebacks as one), with its input number.
fn all_events(paths: &[PathBuf]) -> Vec<Line> {
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let mut out = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let format = foley_triage::source::detect_format(&bytes, 0);
        let mut ingestor = Ingestor::new(&enricher, LineParser::new(format, 0), PipelineOptions::default(), 60_000);
        let mut sink = |e: &Event<'_>, _: &foley_triage::enrich::Enriched, o: Origin, raw: &[u8]| {
            out.push((
                index as u32,
                o.offset,
                e.ts_ms,
                e.video_id.as_deref().map(str::to_string),
                e.request_id.as_deref().map(str::to_string),
                String::from_utf8_lossy(raw).into_owned(),
            ));
        };
        ingestor.ingest_block(&bytes, 0, true, &mut sink);
    }
    out
}

#[test]
fn a_request_id_opens_the_drill_down_of_its_video() {
    use foley_triage::backend::Backend;
    let (demo, mut backend) = demo_backend();
    let events = all_events(&demo.files());
    let (request, video) = events
        .iter()
        .find_map(|e| match (&e.4, &e.3) {
            (Some(r), Some(v)) => Some((r.clone(), v.clone())),
            _ => None,
        })
        .unwrap();
    let related = backend.related(&request);
    assert_eq!(related.video_id, video, "the request's video");
    assert!(related.events.iter().any(|e| e.request_id.as_deref() == Some(request.as_str())));
    let of_video = backend.related(&video);
    assert_eq!(related.events.len(), of_video.events.len(), "the video's lines, the request's among them");
    assert!(related.row.is_some());
}

#[test]
fn a_search_on_files_finds_every_matching_line_in_the_range_not_only_the_tail() {
    use foley_triage::backend::{Backend, SearchQuery, cancel::Canceller};
    let (demo, mut backend) = demo_backend();
    let paths = demo.files();
    let events = all_events(&paths);
    let first = events.iter().filter_map(|e| e.2).min().unwrap();
    let (from, to) = (first + 10 * 60_000, first + 40 * 60_000);
    for phrase in ["CUDA out of memory", "AUDIO_VOCODER_NAN", "accepted"] {
        let expected: BTreeSet<(u32, u64)> = events
            .iter()
            .filter(|e| e.5.contains(phrase) && e.2.is_some_and(|t| t >= from && t <= to))
            .map(|e| (e.0, e.1))
            .collect();
        assert!(!expected.is_empty(), "{phrase}: the demo has such lines");
        let mut query = SearchQuery::new(phrase, Some(from), Some(to));
        query.limit = 100_000;
        let mut calls = 0;
        let result = backend.search(&query, &Canceller::new(), &mut |_, _| calls += 1);
        let found: BTreeSet<(u32, u64)> = result.matches.iter().map(|e| (e.origin.file, e.origin.offset)).collect();
        assert_eq!(found, expected, "{phrase}");
        assert_eq!(result.total, expected.len() as u64);
        assert!(!result.capped && !result.cancelled && calls > 0);
        assert!(result.matches.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms), "in time order");
        // capped: says so, keeps the count
        query.limit = 3;
        let capped = backend.search(&query, &Canceller::new(), &mut |_, _| {});
        assert!(capped.capped && capped.matches.len() == 3 && capped.total == expected.len() as u64);
    }
    // the oldest matching line is older than anything the tail ring holds
    let tail_oldest = backend.tail(0, usize::MAX).iter().filter_map(|(_, e)| e.ts_ms).min().unwrap();
    let all = backend.search(&SearchQuery::new("accepted", None, None), &Canceller::new(), &mut |_, _| {});
    assert!(all.matches.first().unwrap().ts_ms.unwrap() < tail_oldest);
    // a word boundary: a prefix of an id finds nothing
    let video = events.iter().find_map(|e| e.3.clone()).unwrap();
    let prefix = &video[..video.len() - 1];
    let none = backend.search(&SearchQuery::new(prefix, None, None), &Canceller::new(), &mut |_, _| {});
    assert_eq!(none.total, 0, "{prefix}");
    // cancelled before it starts: says so
    let cancel = Canceller::new();
    cancel.begin();
    cancel.cancel();
    let cancelled = backend.search(&SearchQuery::new("accepted", None, None), &cancel, &mut |_, _| {});
    assert!(cancelled.cancelled);
}

fn run(args: &[&str]) -> std::process::Output {
    common::binary().args(args).output().unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn headless_video_and_search_exit_codes_and_json() {
    // the bundled demo when no path is given
    let out = run(&["video", "vid_nope00"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no line mentions vid_nope00 between 2025-"), "{stderr}");
    assert_eq!(run(&["video", "vid_x", "--since", "yesterday-ish"]).status.code(), Some(2));
    assert_eq!(run(&["video", ""]).status.code(), Some(2));
    assert_eq!(run(&["search", "x", "-"]).status.code(), Some(2));
    assert_eq!(run(&["video", "vid_x", "/nonexistent/dir/x.log"]).status.code(), Some(2));

    let report = json(&run(&["report", "--json"]));
    let top = &report["top_failing_videos"][0];
    let video = top["video_id"].as_str().unwrap();
    let facts = json(&run(&["video", video, "--json"]));
    assert_eq!(facts["video_id"], video);
    assert_eq!(facts["failures"], top["failures"]);
    assert_eq!(facts["cause"], top["cause"]);
    let lines = facts["lines"].as_array().unwrap();
    assert!(lines.len() as u64 >= top["failures"].as_u64().unwrap());
    assert!(lines.iter().all(|l| l["raw"].as_str().unwrap().contains(video) || l["video_id"] == video));
    let text = run(&["video", video]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("cause"));

    let found = json(&run(&["search", "CUDA out of memory", "--json", "--limit", "5"]));
    assert!(found["total"].as_u64().unwrap() > 5 && found["capped"] == true);
    assert_eq!(found["lines"].as_array().unwrap().len(), 5);
    let out = run(&["search", "no such phrase anywhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no line mentions no such phrase anywhere between"));
    // a range before the data: nothing
    assert_eq!(run(&["search", "accepted", "--until", "2020-01-01"]).status.code(), Some(1));
}

/// `search --filter`: the query language of the tail and the rules, with a text too; a filter that
/// does not parse says where (exit 2); nothing matching exits 1.
#[test]
fn headless_search_takes_a_filter_in_the_query_language() {
    let found = json(&run(&["search", "--filter", "error_code:MODEL_* and inference_time>3s", "--json"]));
    let lines = found["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "{found}");
    for l in lines {
        assert!(l["error_code"].as_str().unwrap().starts_with("MODEL_"), "{l}");
        let raw = l["raw"].as_str().unwrap();
        let secs: f64 = raw.split("inference_time=").nth(1).and_then(|v| v.split('s').next()).unwrap().parse().unwrap();
        assert!(secs > 3.0, "{raw}");
    }
    // the same filter with a text: a subset, each holding it
    let with_text = json(&run(&["search", "CUDA out of memory", "-f", "error_code:MODEL_*", "--json"]));
    let subset = with_text["lines"].as_array().unwrap();
    assert!(!subset.is_empty());
    assert!(subset.iter().all(|l| l["raw"].as_str().unwrap().contains("CUDA out of memory")), "{with_text}");
    let out = run(&["search", "-f", "level:ERROR and (code:X"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("column 17"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(run(&["search", "-f", "error_code:NO_SUCH_CODE"]).status.code(), Some(1));
    assert_eq!(run(&["search"]).status.code(), Some(2), "a text or a filter is needed");
}

/// A reader that stops early (`| head -1`) ends the output quietly: no panic message, the status
/// of a broken pipe (141), whatever was printed before intact.
#[test]
fn search_into_a_pipe_closed_early_ends_quietly() {
    use std::io::BufRead;
    let mut child = common::binary()
        .args(["search", "accepted"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains("accepted"), "{first}");
    // the reader is dropped here: the pipe is closed with thousands of lines still to print
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

/// `video` and `search` answer the same from files and from a cluster the same files were
/// shipped into.
#[test]
fn video_and_search_agree_on_files_and_a_cluster() {
    use foley_triage::simulate::{self, SimulateOptions};
    let server = common::OsServer::start();
    let dir = tempfile::tempdir().unwrap();
    simulate::write_logs(dir.path(), &SimulateOptions { rate: 0.6, ..SimulateOptions::default() }).unwrap();
    std::fs::remove_file(dir.path().join("manifest.json")).unwrap();
    let path = dir.path().to_str().unwrap();
    let out = run(&["ship", path, "--es", &server.url, "--refresh", "--keep-raw"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let report = json(&run(&["report", path, "--json"]));
    let videos: Vec<String> = report["top_failing_videos"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|v| v["video_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!videos.is_empty());
    let facts = ["video_id", "failures", "codes", "first_seen", "last_seen", "request_id", "cause", "fix"];
    for video in &videos {
        let files = json(&run(&["video", video, path, "--json"]));
        let cluster = json(&run(&["video", video, "--es", &server.url, "--json"]));
        for key in facts {
            assert_eq!(files[key], cluster[key], "{video}: {key}");
        }
        let times = |v: &serde_json::Value| -> Vec<i64> {
            v["lines"].as_array().unwrap().iter().map(|l| l["ts_ms"].as_i64().unwrap_or(0)).collect()
        };
        assert_eq!(times(&files), times(&cluster), "{video}: the same lines");
        // its request id gives the same video on both
        let request = files["request_id"].as_str().unwrap();
        let by_request = json(&run(&["video", request, "--es", &server.url, "--json"]));
        assert_eq!(&by_request["video_id"], video);
        assert_eq!(json(&run(&["video", request, path, "--json"]))["video_id"], *video);
    }
    for query in ["CUDA out of memory", videos[0].as_str()] {
        let files = json(&run(&["search", query, path, "--json", "--limit", "100000"]));
        let cluster = json(&run(&["search", query, "--es", &server.url, "--json", "--limit", "100000"]));
        assert!(files["total"].as_u64().unwrap() > 0, "{query}");
        assert_eq!(files["total"], cluster["total"], "{query}");
        let times = |v: &serde_json::Value| -> Vec<i64> {
            v["lines"].as_array().unwrap().iter().map(|l| l["ts_ms"].as_i64().unwrap_or(0)).collect()
        };
        assert_eq!(times(&files), times(&cluster), "{query}");
    }
    let out = run(&["search", "no such phrase anywhere", "--es", &server.url]);
    assert_eq!(out.status.code(), Some(1));
}

mod console {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use foley_triage::backend::worker::Update;
    use foley_triage::backend::{Backend, SearchQuery, cancel::Canceller};
    use foley_triage::tui::state::{Screen, State};
    use foley_triage::tui::update::{Effect, Msg, update};

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn demo_state(backend: &mut LocalBackend) -> State {
        let config = Config::default();
        let mut state = State::new("demo".into(), &config);
        update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
        update(&mut state, Msg::Resize { width: 120, height: 30 });
        let range = state.range;
        let overview = Box::new(backend.overview(range));
        let source = "demo logs".to_string();
        update(&mut state, Msg::Engine(Update::Overview { overview, range, events_per_second: 0.0, source }));
        update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 20_000))));
        state
    }

    fn type_search(state: &mut State, text: &str) -> Vec<Effect> {
        update(state, key(KeyCode::Char('/')));
        for c in text.chars() {
            update(state, key(KeyCode::Char(c)));
        }
        update(state, key(KeyCode::Enter))
    }

    /// `/text` Enter asks the engine for every line in the window; the results list counts them
    /// and says the range; n/N move through them (wrapping); Enter opens the match's video; Esc
    /// cancels a running search, and closes the results.
    #[test]
    fn slash_searches_every_line_and_n_moves_through_the_results() {
        let (_demo, mut backend) = demo_backend();
        let mut state = demo_state(&mut backend);
        let effects = type_search(&mut state, "CUDA out of memory");
        let Some(Effect::Search { text, from_ms, to_ms }) = effects.last().cloned() else {
            panic!("no search asked for: {effects:?}")
        };
        assert_eq!(text, "CUDA out of memory");
        assert!(from_ms.is_some() && to_ms.is_some(), "the window on screen");
        assert_eq!(state.screen, Screen::Tail);
        let screen = common::render(&state, 120, 30);
        assert!(screen.contains("searching every line in 60 min"), "{screen}");
        // a key while it runs does not wait for it
        update(&mut state, key(KeyCode::Char('j')));
        let mut query = SearchQuery::new(&text, from_ms, to_ms);
        query.limit = 50;
        let result = backend.search(&query, &Canceller::new(), &mut |_, _| {});
        let total = result.total;
        assert!(total > 50);
        update(&mut state, Msg::Engine(Update::SearchResults(Box::new(result))));
        let screen = common::render(&state, 120, 30);
        assert!(screen.contains(&format!("{total} matches in 60 min (the first 50 listed)")), "{screen}");
        assert!(screen.contains("▶"), "the selected match is marked");
        update(&mut state, key(KeyCode::Char('n')));
        update(&mut state, key(KeyCode::Char('n')));
        assert_eq!(state.search.selected, 2);
        update(&mut state, key(KeyCode::Char('N')));
        update(&mut state, key(KeyCode::Char('N')));
        update(&mut state, key(KeyCode::Char('N')));
        assert_eq!(state.search.selected, 49, "N wraps to the last match");
        let video = state.search.result.as_ref().unwrap().matches[49].video_id.clone().unwrap();
        let effects = update(&mut state, key(KeyCode::Enter));
        assert_eq!(effects, vec![Effect::Related(video)]);
        assert_eq!(state.screen, Screen::Drill);
        update(&mut state, key(KeyCode::Esc));
        assert_eq!(state.screen, Screen::Tail);
        update(&mut state, key(KeyCode::Esc));
        assert!(!state.search.shown, "Esc closes the results");
        assert!(!common::render(&state, 120, 30).contains("matches in 60 min"));

        // Esc while a search runs cancels it; its late answer is dropped
        type_search(&mut state, "accepted");
        assert!(state.search.running);
        assert_eq!(update(&mut state, key(KeyCode::Esc)), vec![Effect::CancelSearch]);
        let late = backend.search(&SearchQuery::new("accepted", None, None), &Canceller::new(), &mut |_, _| {});
        update(&mut state, Msg::Engine(Update::SearchResults(Box::new(late))));
        assert!(state.search.result.is_none() && !state.search.shown);
    }

    /// In the results, `v` shows the selected match whole and `Y` copies it (not the hidden tail's
    /// line), `→` scrolls the matches sideways, `x` opens every source's lines around the match with
    /// the match selected, and a match that names no video or request opens in its context.
    #[test]
    fn the_search_results_are_a_line_list_with_context() {
        let (_demo, mut backend) = demo_backend();
        let mut state = demo_state(&mut backend);
        let effects = type_search(&mut state, "CUDA out of memory");
        let Some(Effect::Search { text, from_ms, to_ms }) = effects.last().cloned() else { panic!("{effects:?}") };
        let mut query = SearchQuery::new(&text, from_ms, to_ms);
        query.limit = 20;
        let result = backend.search(&query, &Canceller::new(), &mut |_, _| {});
        update(&mut state, Msg::Engine(Update::SearchResults(Box::new(result))));
        update(&mut state, key(KeyCode::Char('n')));
        let chosen = state.search.result.as_ref().unwrap().matches[1].clone();
        assert_ne!(state.tail_selected().map(|e| e.origin), Some(chosen.origin), "the tail selects another line");
        update(&mut state, key(KeyCode::Char('v')));
        assert_eq!(state.detail.as_ref().map(|e| e.origin), Some(chosen.origin), "v shows the match");
        update(&mut state, key(KeyCode::Char('v')));
        let copied = update(&mut state, key(KeyCode::Char('Y')));
        assert!(
            matches!(copied.as_slice(), [Effect::Copy { text, .. }] if *text == chosen.raw),
            "Y copies the match: {copied:?}"
        );
        update(&mut state, key(KeyCode::Right));
        assert!(state.hscroll > 0);
        assert!(common::render(&state, 120, 30).contains('«'), "the matches are scrolled sideways");
        update(&mut state, key(KeyCode::Left));
        let effects = update(&mut state, key(KeyCode::Char('x')));
        let [Effect::Lines(lines_query)] = effects.as_slice() else { panic!("{effects:?}") };
        assert_eq!(state.screen, Screen::Lines);
        let at = chosen.ts_ms.unwrap();
        assert!(lines_query.from_ms < at && at < lines_query.to_ms);
        let answer = backend.lines(lines_query);
        update(&mut state, Msg::Engine(Update::Lines(Box::new(answer))));
        let lines = state.lines.answer.as_ref().unwrap();
        assert!(lines.events.len() > 1, "other lines around the match");
        assert_eq!(lines.events[state.lines.cursor].ts_ms, Some(at), "the match's time is selected");

        // a match that names no video or request (an nginx access line) opens in its context
        update(&mut state, key(KeyCode::Esc));
        update(&mut state, key(KeyCode::Esc));
        let effects = type_search(&mut state, "GET /healthz");
        let Some(Effect::Search { text, from_ms, to_ms }) = effects.last().cloned() else { panic!("{effects:?}") };
        let result = backend.search(&SearchQuery::new(&text, from_ms, to_ms), &Canceller::new(), &mut |_, _| {});
        assert!(!result.matches.is_empty(), "the demo has health checks");
        assert!(result.matches[0].video_id.is_none() && result.matches[0].request_id.is_none());
        update(&mut state, Msg::Engine(Update::SearchResults(Box::new(result))));
        let effects = update(&mut state, key(KeyCode::Enter));
        assert!(matches!(effects.as_slice(), [Effect::Lines(_)]), "{effects:?}");
        assert_eq!(state.screen, Screen::Lines);
    }

    /// The engine answers a search with its results (counted beyond the list's cap).
    #[test]
    fn the_engine_answers_a_search() {
        let (_demo, backend) = demo_backend();
        let (link, updates) = foley_triage::backend::worker::spawn_open(Box::new(backend));
        link.send(foley_triage::backend::worker::Request::Search(SearchQuery::new("accepted", None, None)));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let result = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match updates.recv_timeout(left).expect("an answer before the deadline") {
                Update::SearchResults(r) => break r,
                _ => continue,
            }
        };
        assert!(result.total > 1000 && result.capped && !result.cancelled);
    }
}

/// In the real console: a search on the demo finds a line the tail ring does not hold (the
/// demo's first video, at 14:00:01, is older than the ring's oldest line).
#[test]
fn a_search_in_the_console_finds_a_line_older_than_the_tail() {
    let mut s = common::Pty::start(&[]);
    s.wait_for("likely cause");
    s.keys(b"/vid_638a61\r");
    let screen = s.wait_for("matches in 60 min");
    assert!(screen.contains("/vid_638a61:"), "{screen}");
    // The terminal is read while frames are still being written, so wait for the finished
    // state (the line is listed and the search has said it is done), not for a half frame.
    let screen = s.wait_for_screen("the first video's line, search finished", |screen| {
        screen.lines().any(|l| l.contains("vid_638a61") && l.contains("14:00:0"))
            && !screen.contains("searching every line")
    });
    assert!(screen.contains("/vid_638a61:"), "{screen}");
    s.keys(b"q");
    s.wait_exit(std::time::Duration::from_secs(20));
}

/// The index stays current while files are followed: lines appended later are found by their id.
#[test]
fn lines_appended_while_following_are_in_the_index() {
    use foley_triage::backend::Backend;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, line(0, Some(1), Some(1), false, 10)).unwrap();
    let config = Config::default();
    let mut backend = LocalBackend::open(vec![path.clone()], config.enricher().unwrap(), &config, 2, true, Vec::new());
    assert_eq!(indexed(&backend, "vid_01").len(), 1);
    assert!(indexed(&backend, "vid_aa").is_empty());
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    for i in 1..50 {
        file.write_all(line(i, Some(0xaa), Some(i as u8), i % 7 == 0, 10).as_bytes()).unwrap();
    }
    file.flush().unwrap();
    common::wait_until("the appended lines in the index", std::time::Duration::from_secs(60), || {
        backend.refresh();
        indexed(&backend, "vid_aa").len() == 49
    });
    let paths = vec![path];
    assert_eq!(indexed(&backend, "vid_aa"), brute_force(&paths, "vid_aa"));
    let related = backend.related("req_07");
    assert_eq!(related.video_id, "vid_aa", "a request appended later opens its video");
}
