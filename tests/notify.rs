#![allow(clippy::panic, clippy::unwrap_used)]
//! Notifications against a local HTTP server (127.0.0.1, started here): each service's payload,
//! retries on 5xx, no repeat while a rule stays firing, one resolve message, failures reported,
//! and nothing sent by `check` without `--notify`.

use foley_triage::alerts::collect::RelatedLine;
use foley_triage::alerts::eval::Alert;
use foley_triage::alerts::rules::Severity;
use foley_triage::config::Links;
use foley_triage::notify::deliver::NotifyOptions;
use foley_triage::notify::target::NotifyKind;
use foley_triage::notify::{NotifyTarget, notify};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

/// A tiny HTTP server: answers each request with the next status of `script` (200 when the script
/// is used up) and keeps every request's path and body.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Server {
    fn start(script: Vec<u16>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook?access_token=abc", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = header.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                seen.lock().unwrap().push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                let status = script.next().unwrap_or(200);
                let answer = if status == 200 { "{\"errcode\":0,\"errmsg\":\"ok\"}" } else { "busy" };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Server { url, requests }
    }

    fn bodies(&self) -> Vec<Value> {
        self.requests.lock().unwrap().iter().map(|(_, b)| b.clone()).collect()
    }
}

fn target(kind: NotifyKind, dir: &Path, url: &str) -> NotifyTarget {
    let file = dir.join(format!("{}.url", kind.as_str()));
    std::fs::write(&file, url).unwrap();
    NotifyTarget {
        kind,
        url_env: None,
        url_file: Some(file),
        secret_env: None,
        secret_file: None,
        min_severity: None,
        url: None,
    }
}

fn alert(until: Option<i64>) -> Alert {
    Alert {
        rule: "model error burst".into(),
        severity: Severity::Critical,
        since_ms: 1_756_736_460_000,
        until_ms: until,
        value: 42.0,
        peak: 50.0,
        threshold: 10.0,
        unit: foley_triage::alerts::rules::Unit::Count,
        window: "5m".into(),
        filter: "error_code:MODEL_*".into(),
        new_values: vec![],
        latest_lines: (0..10)
            .map(|i| RelatedLine {
                ts_ms: 1_756_736_460_000 + i,
                text: format!("2025-09-01 14:21:00 [ERROR] video_id=vid_{i} error_code=MODEL_INFER_FAIL"),
                video_id: Some(format!("vid_{i}")),
            })
            .collect(),
        top_videos: vec![("vid_7a5beb".into(), 20), ("vid_013f03".into(), 17)],
    }
}

fn fast() -> NotifyOptions {
    NotifyOptions { retries: 3, first_backoff: Duration::from_millis(20), timeout: Duration::from_secs(5) }
}

const AT: i64 = 1_756_736_700_000;

#[test]
fn each_service_gets_its_own_format() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![]);
    let kinds = [NotifyKind::Slack, NotifyKind::Dingtalk, NotifyKind::Wecom, NotifyKind::Webhook];
    let targets: Vec<NotifyTarget> = kinds.iter().map(|k| target(*k, dir.path(), &server.url)).collect();
    let links = Links { kibana_url: "https://kibana.example.com".into(), ..Links::default() };
    let done = notify(&[alert(None)], AT, &targets, &links, &dir.path().join("state.json"), fast());
    assert_eq!(done.len(), 4, "{done:?}");
    assert!(done.iter().all(|d| d.ok() && d.attempts == 1), "{done:?}");
    let bodies = server.bodies();
    // Slack: blocks with a header, the facts, the lines, the Kibana link
    let slack = &bodies[0];
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert_eq!(slack["blocks"][0]["text"]["text"], "FIRING [critical] model error burst");
    let text = slack.to_string();
    for part in
        ["*Value*\\n42", "*Threshold*\\n10", "*Window*\\n5m", "vid_7a5beb (20)", "vid_9 error_code", "Open in Kibana"]
    {
        assert!(text.contains(part), "slack lacks {part}: {text}");
    }
    // DingTalk and WeCom: robot markdown
    assert_eq!(bodies[1]["msgtype"], "markdown");
    assert_eq!(bodies[1]["markdown"]["title"], "FIRING [critical] model error burst");
    let ding = bodies[1]["markdown"]["text"].as_str().unwrap();
    assert!(
        ding.starts_with("### FIRING [critical] model error burst\n") && ding.contains("- **Value**: 42"),
        "{ding}"
    );
    assert!(ding.contains("[Open in Kibana](https://kibana.example.com/app/discover#/"), "{ding}");
    assert_eq!(ding.matches("error_code=MODEL_INFER_FAIL").count(), 10, "ten latest lines");
    assert_eq!(bodies[2]["msgtype"], "markdown");
    assert!(bodies[2]["markdown"]["content"].as_str().unwrap().contains("- **Threshold**: 10"));
    // webhook: plain JSON
    let hook = &bodies[3];
    assert_eq!((hook["status"].as_str(), hook["rule"].as_str()), (Some("firing"), Some("model error burst")));
    assert_eq!((hook["value"].as_f64(), hook["threshold"].as_f64()), (Some(42.0), Some(10.0)));
    assert_eq!(hook["latest_lines"].as_array().unwrap().len(), 10);
    assert_eq!(hook["top_videos"][0]["video_id"], "vid_7a5beb");
}

#[test]
fn retries_on_5xx_once_per_firing_then_one_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let server = Server::start(vec![503, 502]);
    let targets = [target(NotifyKind::Webhook, dir.path(), &server.url)];
    let links = Links::default();
    let done = notify(&[alert(None)], AT, &targets, &links, &state, fast());
    assert_eq!(done.len(), 1);
    assert!(done[0].ok(), "{done:?}");
    assert_eq!(done[0].attempts, 3, "two 5xx answers, then through");
    assert_eq!(server.bodies().len(), 3);
    // still firing a minute later: nothing more
    let done = notify(&[alert(None)], AT + 60_000, &targets, &links, &state, fast());
    assert!(done.is_empty(), "{done:?}");
    assert_eq!(server.bodies().len(), 3, "no duplicate while firing");
    // resolved: one message
    let resolved_at = AT + 120_000;
    let done = notify(&[alert(Some(resolved_at))], AT + 180_000, &targets, &links, &state, fast());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].status, "resolved");
    let last = server.bodies().pop().unwrap();
    assert_eq!(last["status"], "resolved");
    assert_eq!(last["resolved"], foley_triage::clock::format_ms(resolved_at));
    // and only once
    assert!(notify(&[alert(Some(resolved_at))], AT + 240_000, &targets, &links, &state, fast()).is_empty());
    assert_eq!(server.bodies().len(), 4);
}

#[test]
fn a_failed_delivery_is_reported_and_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let server = Server::start(vec![500, 500]);
    let targets = [target(NotifyKind::Slack, dir.path(), &server.url)];
    let options = NotifyOptions { retries: 1, ..fast() };
    let done = notify(&[alert(None)], AT, &targets, &Links::default(), &state, options);
    assert_eq!(done.len(), 1);
    let error = done[0].error.clone().expect("reported as failed");
    assert!(error.contains("500") && error.contains("2 attempt"), "{error}");
    assert!(!error.contains("127.0.0.1") && !error.contains("access_token"), "no URL in {error}");
    // not remembered as sent: the next run tries again, and gets through
    let done = notify(&[alert(None)], AT + 60_000, &targets, &Links::default(), &state, options);
    assert!(done.len() == 1 && done[0].ok(), "{done:?}");
    // a missing URL variable is a reported failure too
    let missing =
        NotifyTarget { url_env: Some("FOLEY_TRIAGE_TEST_UNSET_HOOK".into()), url_file: None, ..targets[0].clone() };
    let done = notify(&[alert(None)], AT, &[missing], &Links::default(), &dir.path().join("s2.json"), options);
    assert!(done[0].error.as_deref().unwrap().contains("$FOLEY_TRIAGE_TEST_UNSET_HOOK is not set"));
}

fn incident_with_a_hostile_line(dir: &Path) -> PathBuf {
    let logs = dir.join("logs");
    foley_triage::simulate::write_logs(&logs, &foley_triage::simulate::SimulateOptions::default()).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(logs.join("inference.log")).unwrap();
    writeln!(
        f,
        "2025-09-01 14:25:00 [ERROR] video_id=vid_evil error_code=MODEL_INFER_FAIL reason=\"boom \x1b]52;c;aGk=\x07\" api_key=sk-secret-1"
    )
    .unwrap();
    logs
}

#[test]
fn check_sends_only_with_notify() {
    let dir = tempfile::tempdir().unwrap();
    let logs = incident_with_a_hostile_line(dir.path());
    let server = Server::start(vec![]);
    let url_file = dir.path().join("hook.url");
    std::fs::write(&url_file, &server.url).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[[notify]]\nkind = \"webhook\"\nurl_file = \"{}\"\n", url_file.display()))
        .unwrap();
    let run = |notify: bool| {
        let mut cmd = common::binary();
        cmd.env("FOLEY_TRIAGE_CONFIG", &config)
            .env("HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .args(["check", logs.to_str().unwrap(), "--at", "2025-09-01 14:25:00"]);
        if notify {
            cmd.arg("--notify");
        }
        cmd.output().unwrap()
    };
    let out = run(false);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(server.bodies().is_empty(), "nothing sent without --notify");
    let out = run(true);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 1, "one message for the one firing rule");
    let body = bodies[0].to_string();
    assert_eq!(bodies[0]["rule"], "model error burst");
    assert!(body.contains("vid_evil"), "the hostile line is among the latest: {body}");
    assert!(!body.contains("sk-secret-1"), "secret stripped: {body}");
    assert!(!body.contains('\u{1b}') && !body.contains("\\u001b"), "terminal-safe: {body}");
    for output in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(output);
        assert!(!text.contains("access_token") && !text.contains(&server.url), "the URL never shows: {text}");
    }
    // run again: still firing, not sent twice
    let out = run(true);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.bodies().len(), 1, "no duplicate across runs");
}

#[test]
fn a_url_in_the_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[[notify]]\nkind = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/secret\"\n")
        .unwrap();
    let out = common::binary().env("FOLEY_TRIAGE_CONFIG", &config).args(["check", "--at", "1h"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`url` is a secret") && !stderr.contains("hooks.slack.com/services/T/B/secret"),
        "{stderr}"
    );
}

/// Console notifications (`[alerts] notify_from_console`): the engine, not the UI, sends when a
/// rule starts firing, and says how each delivery went as a notice (a failed one too).
#[test]
fn the_console_engine_notifies_when_a_rule_fires_and_says_failures() {
    use foley_triage::backend::worker::{AlertSettings, ConsoleNotify, Update, spawn_with};
    let dir = tempfile::tempdir().unwrap();
    // a burst of model errors at the end of the data: firing at the newest event
    let log = dir.path().join("burst.log");
    let text: String = (0..20)
        .map(|i| {
            format!("2025-09-01 14:00:{i:02} [ERROR] video_id=vid_b{i} error_code=MODEL_INFER_FAIL cuda says no\n")
        })
        .collect();
    std::fs::write(&log, text).unwrap();
    let server = Server::start(vec![]);
    let good = target(NotifyKind::Webhook, dir.path(), &server.url);
    let broken = NotifyTarget { url_file: Some(dir.path().join("missing.url")), ..good.clone() };
    let config = foley_triage::config::Config::default();
    let backend = foley_triage::backend::local::LocalBackend::open(
        vec![log],
        config.enricher().unwrap(),
        &config,
        1,
        false,
        Vec::new(),
    );
    let settings = AlertSettings {
        rules: foley_triage::alerts::rules::builtin(),
        notify: Some(ConsoleNotify {
            targets: vec![good, broken],
            links: Links::default(),
            state_path: dir.path().join("notify-state.json"),
        }),
    };
    let (_link, updates) = spawn_with(Box::new(move |_: &dyn Fn(String)| Ok(Box::new(backend) as _)), settings);
    let mut notices = Vec::new();
    let mut alerts = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while notices.len() < 2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "timed out waiting for two delivery notices; got {notices:?}");
        match updates.recv_timeout(left) {
            Ok(Update::Notice(text)) => notices.push(text),
            Ok(Update::Alerts(answer)) => alerts = Some(answer),
            Ok(_) => {}
            Err(e) => panic!("the engine stopped: {e}; notices {notices:?}"),
        }
    }
    let answer = alerts.expect("the alerts answer before the deliveries");
    assert!(answer.firing().any(|a| a.rule == "model error burst"), "{answer:?}");
    assert!(
        notices.iter().any(|n| n.starts_with("notified webhook") && n.contains("model error burst")),
        "{notices:?}"
    );
    assert!(notices.iter().any(|n| n.contains("failed") && n.contains("missing.url")), "{notices:?}");
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["rule"], "model error burst");
}
