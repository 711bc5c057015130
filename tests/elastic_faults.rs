//! What the cluster client does when the server misbehaves, against a local HTTP server on
//! 127.0.0.1 that answers 401, 404, 400, 429-then-200, 503, slowly, or with partial shard
//! failures: each case gives a plain message (or a warning) and never a panic; no secret leaks.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::wait_until;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Handler = Arc<dyn Fn(&str, &str, usize) -> (u16, String, Duration) + Send + Sync>;

struct Mock {
    url: String,
    searches: Arc<AtomicUsize>,
    headers: Arc<Mutex<Vec<String>>>,
}

const INFO: &str = r#"{"name":"n","cluster_name":"c","version":{"number":"8.15.0","build_flavor":"default"},"tagline":"You Know, for Search"}"#;

/// One HTTP/1.1 request from the connection: method, path, header lines, body; `None` when the
/// client hung up.
fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> Option<(String, String, Vec<String>, String)> {
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
    let _ = reader.read_exact(&mut body);
    let mut parts = request_line.split(' ');
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    Some((method, path, headers, String::from_utf8_lossy(&body).into_owned()))
}

/// Writes a JSON answer with `status`.
fn respond(stream: &mut std::net::TcpStream, status: u16, text: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(response.as_bytes())
}

/// The variables a cluster secret can come from: cleared for every child, so that the
/// developer's own environment never changes a test.
const SECRET_VARS: [&str; 4] =
    ["FOLEY_TRIAGE_ES_API_KEY", "FOLEY_TRIAGE_ES_TOKEN", "FOLEY_TRIAGE_ES_USER", "FOLEY_TRIAGE_ES_PASSWORD"];

fn mock(handler: Handler) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let searches = Arc::new(AtomicUsize::new(0));
    let headers = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (Arc::clone(&searches), Arc::clone(&headers));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let (handler, count, seen) = (Arc::clone(&handler), Arc::clone(&count), Arc::clone(&seen));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                while let Some((method, path, headers, _)) = read_request(&mut reader) {
                    seen.lock().unwrap().extend(headers);
                    let (status, text, delay) = if path == "/" {
                        (200, INFO.to_string(), Duration::ZERO)
                    } else if path.contains("_field_caps") {
                        // asked once at connect; the cases under test are about searches
                        (200, r#"{"indices":["hunyuan-foley-x"],"fields":{}}"#.to_string(), Duration::ZERO)
                    } else {
                        let n = count.fetch_add(1, Ordering::SeqCst);
                        handler(&method, &path, n)
                    };
                    std::thread::sleep(delay);
                    if respond(&mut stream, status, &text).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Mock { url, searches, headers }
}

fn empty_search() -> String {
    json!({"took": 1, "timed_out": false, "_shards": {"total": 1, "successful": 1, "failed": 0}, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}, "aggregations": {}}).to_string()
}

fn report(url: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.args(["report", "--json", "--es", url, "--es-timeout", "2"]);
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn unauthorized_names_the_credential_and_never_shows_it() {
    let m = mock(Arc::new(|_, _, _| {
        (401, r#"{"error":{"type":"security_exception","reason":"unable to authenticate"}}"#.into(), Duration::ZERO)
    }));
    let (code, _, stderr) = report(&m.url, &[("FOLEY_TRIAGE_ES_API_KEY", "s3cret-key-value")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("authentication failed (HTTP 401) using API key"), "{stderr}");
    assert!(stderr.contains("FOLEY_TRIAGE_ES_API_KEY"), "{stderr}");
    assert!(!stderr.contains("s3cret-key-value"), "the secret leaked: {stderr}");
    let headers = m.headers.lock().unwrap().join("\n");
    assert!(headers.contains("ApiKey s3cret-key-value"), "the key was sent to the server");
}

#[test]
fn missing_index_says_which_pattern() {
    let m = mock(Arc::new(|_, _, _| {
        (
            404,
            r#"{"error":{"type":"index_not_found_exception","reason":"no such index [hunyuan-foley-*]"}}"#.into(),
            Duration::ZERO,
        )
    }));
    let (code, _, stderr) = report(&m.url, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no index matches `hunyuan-foley-*`"), "{stderr}");
}

#[test]
fn bad_query_shows_the_server_reason() {
    let m = mock(Arc::new(|_, _, _| {
        (400, r#"{"error":{"root_cause":[{"type":"parsing_exception","reason":"unknown field [fixed_intervall]"}],"type":"x","reason":"y"}}"#.into(), Duration::ZERO)
    }));
    let (code, _, stderr) = report(&m.url, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("rejected the query (HTTP 400): unknown field [fixed_intervall]"), "{stderr}");
}

#[test]
fn too_many_requests_is_retried_then_succeeds() {
    let m = mock(Arc::new(|_, _, n| {
        if n == 0 {
            (429, r#"{"error":"too many requests"}"#.into(), Duration::ZERO)
        } else {
            (200, empty_search(), Duration::ZERO)
        }
    }));
    let (code, stdout, stderr) = report(&m.url, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["lines"]["total"], 0);
    assert_eq!(m.searches.load(Ordering::SeqCst), 2, "one 429, one retry");
}

#[test]
fn unavailable_gives_up_with_backoff_and_says_so() {
    let m = mock(Arc::new(|_, _, _| (503, r#"{"error":{"reason":"cluster is recovering"}}"#.into(), Duration::ZERO)));
    let started = std::time::Instant::now();
    let (code, _, stderr) = report(&m.url, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("still failing after 5 tries (HTTP 503: cluster is recovering)"), "{stderr}");
    assert_eq!(m.searches.load(Ordering::SeqCst), 5);
    assert!(started.elapsed() >= Duration::from_millis(300), "backed off between tries");
}

#[test]
fn slow_server_times_out_in_plain_words() {
    let m = mock(Arc::new(|_, _, _| (200, empty_search(), Duration::from_secs(4))));
    let (code, _, stderr) = report(&m.url, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no answer within 2 s (timed out)"), "{stderr}");
    assert!(stderr.contains("--es-timeout"), "the message names the option: {stderr}");
}

#[test]
fn partial_results_are_shown_with_a_warning() {
    let m = mock(Arc::new(|_, _, _| {
        let body = json!({"took": 1, "timed_out": true, "_shards": {"total": 5, "successful": 3, "failed": 2, "failures": [{"reason": {"reason": "node left"}}]}, "hits": {"total": {"value": 10000, "relation": "gte"}, "hits": []}, "aggregations": {}});
        (200, body.to_string(), Duration::ZERO)
    }));
    let (code, stdout, stderr) = report(&m.url, &[]);
    assert_eq!(code, 0, "partial results are still results");
    assert!(stderr.contains("2 of 5 shards failed (node left): results are incomplete"), "{stderr}");
    assert!(stderr.contains("timed out on the server"), "{stderr}");
    assert!(serde_json::from_str::<Value>(&stdout).is_ok());
    let answer = json!({"hits": {"total": {"value": 10000, "relation": "gte"}}});
    assert_eq!(foley_triage::elastic::client::total_text(&answer), "≥ 10000");
}

fn run_binary(args: &[&str]) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.args(args).stdin(std::process::Stdio::null());
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

/// A cluster that refuses connections: one short line naming the URL and the cause, exit status 2
/// in `report`, `ship` and the console alike; `--verbose` adds the whole chain.
#[test]
fn unreachable_cluster_is_one_line_and_exit_2_everywhere() {
    let (_held, port) = common::refusing_port();
    let url = format!("http://127.0.0.1:{port}");
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(logs.path().join("a.log"), "2025-09-01 14:00:00 [INFO] video_id=v1 hello\n").unwrap();
    let logs = logs.path().to_str().unwrap().to_string();
    let expected = format!("cannot reach {url}: connection refused");
    for args in [vec!["report", "--json", "--es", &url], vec!["ship", &logs, "--es", &url]] {
        let (code, stderr) = run_binary(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("reading logs")).collect();
        assert_eq!(lines, [format!("foley-triage: {expected}")], "{args:?}: one short line: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    // the console (in a terminal) opens its screen, then ends with the same line and status
    let mut console = common::Pty::start(&["--es", &url]);
    let status = console.wait_exit(Duration::from_secs(60));
    assert_eq!(status.exit_code(), 2, "{}", console.screen());
    assert!(console.restored());
    let screen = console.screen();
    assert!(screen.contains(&format!("foley-triage: {expected}")), "{screen}");
    assert!(!String::from_utf8_lossy(&console.raw()).contains("panicked"));
    let (code, stderr) = run_binary(&["report", "--json", "--es", &url, "--verbose"]);
    assert_eq!(code, 2);
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("caused by: error sending request"), "the chain with -v: {stderr}");
}

/// A server whose first aggregation search hangs for `slow` (later ones answer at once) and that
/// counts the hanging requests whose connection the client closed before the answer.
struct SlowMock {
    url: String,
    aggregations: Arc<AtomicUsize>,
    closed_early: Arc<AtomicUsize>,
}

fn slow_mock(slow: Duration) -> SlowMock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let aggregations = Arc::new(AtomicUsize::new(0));
    let closed_early = Arc::new(AtomicUsize::new(0));
    let (count, closed) = (Arc::clone(&aggregations), Arc::clone(&closed_early));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let (count, closed) = (Arc::clone(&count), Arc::clone(&closed));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                while let Some((_, path, _, body)) = read_request(&mut reader) {
                    let text = if path == "/" {
                        INFO.to_string()
                    } else if path.contains("_field_caps") {
                        r#"{"indices":["hunyuan-foley-x"],"fields":{}}"#.to_string()
                    } else {
                        if body.contains("\"aggs\"") && count.fetch_add(1, Ordering::SeqCst) == 0 {
                            // hang, watching for the client to hang up
                            stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
                            let until = std::time::Instant::now() + slow;
                            while std::time::Instant::now() < until {
                                match stream.peek(&mut [0u8; 1]) {
                                    Ok(0) => {
                                        closed.fetch_add(1, Ordering::SeqCst);
                                        return;
                                    }
                                    Ok(_) => break,
                                    Err(_) => {}
                                }
                            }
                            stream.set_read_timeout(None).unwrap();
                        }
                        empty_search()
                    };
                    if respond(&mut stream, 200, &text).is_err() {
                        return;
                    }
                }
            });
        }
    });
    SlowMock { url, aggregations, closed_early }
}

fn es_backend(url: &str) -> foley_triage::backend::elastic::EsBackend {
    let args = foley_triage::cli::EsArgs { es: vec![url.to_string()], es_timeout: 60, ..Default::default() };
    let client = foley_triage::elastic::connect(&args).expect("connect");
    let config = foley_triage::config::Config::default();
    foley_triage::backend::elastic::EsBackend::new(client, config.enricher().unwrap(), &config)
}

/// The slow answer would come after this; everything the tests wait for must come long before.
const SLOW: Duration = Duration::from_secs(40);

#[test]
fn a_cancelled_search_returns_at_once_and_closes_its_connection() {
    let m = slow_mock(SLOW);
    let client = foley_triage::elastic::connect(&foley_triage::cli::EsArgs {
        es: vec![m.url.clone()],
        es_timeout: 60,
        ..Default::default()
    })
    .unwrap();
    let cancel = client.cancel.clone();
    cancel.begin();
    let search =
        std::thread::spawn(move || client.search(&json!({"size": 0, "aggs": {"n": {"value_count": {"field": "x"}}}})));
    wait_until("the search to reach the server", Duration::from_secs(20), || {
        m.aggregations.load(Ordering::SeqCst) == 1
    });
    cancel.cancel();
    wait_until("the client to hang up", Duration::from_secs(20), || m.closed_early.load(Ordering::SeqCst) == 1);
    let result = search.join().unwrap();
    assert!(matches!(result, Err(foley_triage::elastic::EsError::Cancelled)), "{result:?}");
}

#[test]
fn the_console_drops_a_stale_refresh_and_shows_the_new_window_first() {
    use foley_triage::backend::Backend;
    use foley_triage::backend::worker::{Request, Update, spawn_open};
    let m = slow_mock(SLOW);
    let backend = es_backend(&m.url);
    assert!(backend.canceller().is_some(), "the cluster backend can cancel");
    let (link, from_engine) = spawn_open(Box::new(backend));
    // the first overview is stuck on the slow server
    wait_until("the first refresh to reach the server", Duration::from_secs(20), || {
        m.aggregations.load(Ordering::SeqCst) == 1
    });
    link.send(Request::Window(foley_triage::backend::TimeRange::last(3_600_000)));
    // the new window's overview comes long before the stuck one could have
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let mut overviews = 0;
    while overviews == 0 {
        let left = until.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "no overview within 20 s: the stale refresh was waited for");
        if let Ok(Update::Overview { source, .. }) = from_engine.recv_timeout(left) {
            assert!(!source.contains("ERROR"), "a cancel is not an error: {source}");
            overviews += 1;
        }
    }
    assert!(m.aggregations.load(Ordering::SeqCst) >= 2, "the overview was asked again");
    wait_until("the stale request's connection to close", Duration::from_secs(20), || {
        m.closed_early.load(Ordering::SeqCst) == 1
    });
}

/// A mock that records the paths asked for and answers every search with an empty result.
fn recording_mock() -> (Mock, Arc<Mutex<Vec<String>>>) {
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&paths);
    let m = mock(Arc::new(move |_, path, _| {
        seen.lock().unwrap().push(path.to_string());
        (200, empty_search(), Duration::ZERO)
    }));
    (m, paths)
}

fn run_with_config(config: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.arg("--config").arg(&path).args(args);
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_named_cluster_from_the_config_gives_urls_index_and_user() {
    let (m, paths) = recording_mock();
    let config =
        format!("[elastic.clusters.prod]\nurls = [\"{}\"]\nindex = \"prod-foley-*\"\nuser = \"alice\"\n", m.url);
    let (code, stderr) =
        run_with_config(&config, &["report", "--json", "--cluster", "prod"], &[("FOLEY_TRIAGE_ES_PASSWORD", "pw-42")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(paths.lock().unwrap().iter().any(|p| p.starts_with("/prod-foley-*/_search")), "{:?}", paths.lock());
    use base64::Engine;
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("alice:pw-42"));
    assert!(m.headers.lock().unwrap().iter().any(|h| h.contains(&basic)), "the config's user was not used");
    assert!(!stderr.contains("pw-42"));
    // the command line wins over the config
    let (code, stderr) = run_with_config(
        &config,
        &["report", "--json", "--cluster", "prod", "--index", "other-*"],
        &[("FOLEY_TRIAGE_ES_PASSWORD", "pw-42")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(paths.lock().unwrap().iter().any(|p| p.starts_with("/other-*/_search")));
}

#[test]
fn a_secret_in_the_config_or_an_unknown_cluster_is_refused_in_plain_words() {
    let (code, stderr) = run_with_config(
        "[elastic.clusters.prod]\nurls = [\"http://127.0.0.1:9\"]\napi_key = \"do-not-store-me\"\n",
        &["report", "--json", "--cluster", "prod"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cluster `prod`: `api_key` is a secret and is not read from the config file"), "{stderr}");
    assert!(!stderr.contains("do-not-store-me"), "{stderr}");
    let (code, stderr) = run_with_config(
        "[elastic.clusters.prod]\nurls = [\"http://127.0.0.1:9\"]\n",
        &["report", "--json", "--cluster", "staging"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no cluster `staging` in the config (it names: prod)"), "{stderr}");
}

#[test]
fn the_api_key_can_be_typed_at_a_prompt_without_echo() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let (m, _) = recording_mock();
    let pty = native_pty_system().openpty(PtySize { rows: 24, cols: 100, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.args(["report", "--json", "--es", &m.url, "--es-prompt", "api-key"]);
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let output = Arc::new(Mutex::new(Vec::new()));
    let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (sink, done) = (Arc::clone(&output), Arc::clone(&drained));
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        done.store(true, Ordering::SeqCst);
    });
    let text = || String::from_utf8_lossy(&output.lock().unwrap()).to_string();
    wait_until("the prompt", Duration::from_secs(20), || text().contains(&format!("API key for {}", m.url)));
    // the prompt is printed just before echo is turned off: type once the terminal no longer echoes
    wait_until("echo to be off", Duration::from_secs(20), || {
        // 0o10 is ECHO in the local flags
        pty.master.get_termios().is_some_and(|t| t.local_flags.bits() & 0o10 == 0)
    });
    writer.write_all(b"typed-secret-77\r").unwrap();
    writer.flush().unwrap();
    wait_until("the report to finish", Duration::from_secs(20), || child.try_wait().unwrap().is_some());
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", text());
    assert!(
        m.headers.lock().unwrap().iter().any(|h| h.contains("ApiKey typed-secret-77")),
        "the typed key was not sent"
    );
    // everything the terminal showed (the reader ends when the child's side closes), without the key
    wait_until("the terminal output to end", Duration::from_secs(20), || drained.load(Ordering::SeqCst));
    assert!(!text().contains("typed-secret-77"), "the key was echoed: {}", text());
}

#[test]
fn credentials_in_the_url_are_refused_without_showing_them() {
    let (code, _, stderr) = report("http://alice:url-s3cret@127.0.0.1:9", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("credentials in a URL would show in the process list"), "{stderr}");
    assert!(stderr.contains("http://127.0.0.1:9"), "the URL is named without them: {stderr}");
    assert!(!stderr.contains("url-s3cret") && !stderr.contains("alice"), "{stderr}");
}

/// A server that echoes the `Authorization` header it received in every error it gives: in a
/// 400's reason, a 503's reason, a partial shard failure and a bulk item's failure (`mode`).
fn echo_mock(mode: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                while let Some((method, path, headers, body)) = read_request(&mut reader) {
                    let auth = headers
                        .iter()
                        .find(|h| h.to_ascii_lowercase().starts_with("authorization:"))
                        .cloned()
                        .unwrap_or_default();
                    let echo = format!("bad header [{auth}]");
                    let (status, text) = if path == "/" {
                        (200, INFO.to_string())
                    } else if path.contains("_field_caps") {
                        (200, r#"{"indices":["hunyuan-foley-x"],"fields":{}}"#.to_string())
                    } else if path.contains("_bulk") {
                        let items: Vec<Value> = (0..body.lines().count() / 2)
                            .map(|i| json!({"index": {"_id": format!("d{i}"), "status": 400, "error": {"reason": echo}}}))
                            .collect();
                        (200, json!({"errors": true, "items": items}).to_string())
                    } else if path.contains("_search") {
                        match mode {
                            "400" => (400, json!({"error": {"root_cause": [{"reason": echo}]}}).to_string()),
                            "503" => (503, json!({"error": {"reason": echo}}).to_string()),
                            "500" => (500, format!("<html>{echo}</html>")),
                            _ => {
                                let body = json!({"timed_out": false, "_shards": {"total": 2, "successful": 1, "failed": 1, "failures": [{"reason": {"reason": echo}}]}, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}, "aggregations": {}});
                                (200, body.to_string())
                            }
                        }
                    } else if method == "GET" && path.contains("_template") {
                        (404, "{}".to_string())
                    } else {
                        (200, r#"{"acknowledged":true}"#.to_string())
                    };
                    if respond(&mut stream, status, &text).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_server_echoing_the_credential_never_gets_it_shown() {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("alice:pw-Echo-42");
    /// What the credential is, the environment that gives it, the forms that must not be shown.
    type Credential<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let credentials: [Credential; 3] = [
        ("api key", &[("FOLEY_TRIAGE_ES_API_KEY", "key-Echo-42")], &["key-Echo-42"]),
        ("token", &[("FOLEY_TRIAGE_ES_TOKEN", "tok-Echo-42")], &["tok-Echo-42"]),
        (
            "password",
            &[("FOLEY_TRIAGE_ES_USER", "alice"), ("FOLEY_TRIAGE_ES_PASSWORD", "pw-Echo-42")],
            &["pw-Echo-42", basic.as_str()],
        ),
    ];
    for mode in ["400", "503", "500", "shards"] {
        let url = echo_mock(mode);
        for (what, env, secrets) in &credentials {
            let (_, _, stderr) = report(&url, env);
            assert!(stderr.contains("bad header [authorization: "), "{mode}/{what}: the echo is shown: {stderr}");
            assert!(stderr.contains("[redacted]"), "{mode}/{what}: {stderr}");
            for secret in *secrets {
                assert!(!stderr.contains(secret), "{mode}/{what}: the credential leaked: {stderr}");
            }
        }
    }
    // a bulk item's failure
    let url = echo_mock("400");
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(logs.path().join("a.log"), "2025-09-01 14:00:00 [INFO] video_id=v1 hello\n").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.args(["ship", logs.path().to_str().unwrap(), "--es", &url]);
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    let out = cmd.env("FOLEY_TRIAGE_ES_API_KEY", "key-Echo-42").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed (HTTP 400): bad header"), "{stderr}");
    assert!(!stderr.contains("key-Echo-42"), "the credential leaked: {stderr}");
}

#[test]
fn credentials_in_any_url_are_refused_without_showing_them() {
    // a query parameter on --es
    let (code, _, stderr) = report("http://127.0.0.1:9/?api_key=Qs3cret", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the parameter `api_key`") && stderr.contains("api_key=[redacted]"), "{stderr}");
    assert!(!stderr.contains("Qs3cret"), "{stderr}");
    // the config: a named cluster's URL, its Kibana, the links' Kibana; `config show` refuses too
    for config in [
        "[elastic.clusters.prod]\nurls = [\"http://127.0.0.1:9/?token=Qs3cret\"]\n",
        "[elastic.clusters.prod]\nurls = [\"http://127.0.0.1:9\"]\nkibana_url = \"https://bob:Qs3cret@kibana:5601\"\n",
        "[links]\nkibana_url = \"https://kibana:5601/?password=Qs3cret\"\n",
    ] {
        for args in [&["config", "show"][..], &["report", "--json", "--cluster", "prod"][..]] {
            let (code, stderr) = run_with_config(config, args, &[]);
            assert_eq!(code, 2, "{config} {args:?}: {stderr}");
            assert!(stderr.contains("credentials in a URL"), "{stderr}");
            assert!(!stderr.contains("Qs3cret"), "{config} {args:?}: {stderr}");
        }
    }
    // --kibana-url on the command line
    let (code, stderr) = run_with_config("", &["config", "show", "--kibana-url", "https://u:Qs3cret@k"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("Qs3cret"), "{stderr}");
    // a clean config still shows
    let (code, stderr) = run_with_config("[links]\nkibana_url = \"https://kibana:5601\"\n", &["config", "show"], &[]);
    assert_eq!(code, 0, "{stderr}");
}

/// The console's refreshes back off after an error (jittered, growing, capped) instead of asking
/// the failing cluster again several times a second, and say when the next try is.
#[test]
fn a_failing_cluster_is_asked_again_only_after_a_growing_wait() {
    use foley_triage::backend::Backend;
    use foley_triage::backend::elastic::backoff;
    let m = mock(Arc::new(|_, _, _| (500, r#"{"error":{"reason":"internal boom"}}"#.into(), Duration::ZERO)));
    let mut es = es_backend(&m.url);
    for _ in 0..40 {
        es.overview(foley_triage::backend::TimeRange::last(3_600_000));
        es.refresh();
    }
    assert_eq!(m.searches.load(Ordering::SeqCst), 1, "one try, then a wait");
    let text = es.describe();
    assert!(text.contains("HTTP 500: internal boom") && text.contains("next try in 1 s"), "{text}");
    wait_until("the first wait to pass", Duration::from_secs(20), || es.next_try_in().is_none());
    es.overview(foley_triage::backend::TimeRange::last(3_600_000));
    assert_eq!(m.searches.load(Ordering::SeqCst), 2, "asked again once the wait passed");
    let second = es.next_try_in().expect("waiting again");
    assert!(second >= Duration::from_millis(900), "the second wait is longer: {second:?}");
    for failures in 1..40 {
        let wait = backoff(failures);
        let full = Duration::from_millis((1000u64 << (failures - 1).min(16)).min(60_000));
        assert!(wait <= full && wait >= full / 2, "{failures}: {wait:?} within [{:?}, {full:?}]", full / 2);
    }
}

/// Issue 13 item 7: a cluster slow to answer at start-up. The console opens its screen first and
/// shows the connection's progress there (not "reading logs…" on the plain terminal), and keys
/// typed meanwhile are not echoed onto the terminal left after quitting.
#[test]
fn a_slow_cluster_at_start_up_shows_its_progress_inside_the_screen() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                while let Some((_, path, _, _)) = read_request(&mut reader) {
                    let text = if path == "/" {
                        // the first answer takes its time
                        std::thread::sleep(Duration::from_secs(3));
                        INFO.to_string()
                    } else if path.contains("_field_caps") {
                        r#"{"indices":["hunyuan-foley-x"],"fields":{}}"#.to_string()
                    } else {
                        empty_search()
                    };
                    if respond(&mut stream, 200, &text).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut console = common::Pty::start(&["--es", &url, "--es-timeout", "30"]);
    let screen = console.wait_for("connecting to the cluster");
    assert!(!screen.contains("reading logs"), "{screen}");
    console.keys(b"xyz");
    console.wait_for_screen("the console ready", |s| !s.contains("connecting to the cluster"));
    console.keys(b"q");
    let status = console.wait_exit(Duration::from_secs(30));
    assert_eq!(status.exit_code(), 0, "{}", console.screen());
    assert!(console.restored());
    assert!(!console.screen().contains("xyz"), "keys typed while connecting were echoed: {}", console.screen());
}
