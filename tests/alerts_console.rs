//! The console's alerts (issue 15): the engine evaluates the same rules as `check` and both agree
//! on the firings of the same files and range; the Alerts screen in a real pseudo-terminal on the
//! bundled demo: opened, a firing acknowledged, its rule silenced, the state file and the header
//! checked, and the marks read back by the next session. Every wait has a deadline.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::Pty as Session;
use foley_triage::backend::Backend;
use foley_triage::backend::TimeRange;
use foley_triage::backend::local::LocalBackend;
use foley_triage::config::Config;
use std::time::Duration;

/// (rule, since, until) of every firing, sorted.
type Firings = Vec<(String, i64, Option<i64>)>;

/// `check --at AT --json FILES` (no user rules): every firing it reports.
fn check_firings(files: &[std::path::PathBuf], at: &str, home: &std::path::Path) -> Firings {
    let out = common::binary()
        .arg("check")
        .arg("--at")
        .arg(at)
        .arg("--json")
        .args(files)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home)
        .env("HOME", home)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut all: Firings = Vec::new();
    for key in ["firing", "resolved"] {
        for a in json[key].as_array().unwrap() {
            all.push((
                a["rule"].as_str().unwrap().to_string(),
                a["since_ms"].as_i64().unwrap(),
                a["until_ms"].as_i64(),
            ));
        }
    }
    all.sort();
    all
}

#[test]
fn the_console_and_check_agree_on_the_firings_of_the_same_files_and_range() {
    let demo = foley_triage::demo::materialize().unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = Config::default();
    let mut backend = LocalBackend::open(demo.files(), config.enricher().unwrap(), &config, 2, false, Vec::new());
    let rules = foley_triage::alerts::rules::builtin();
    // 14:10 … 14:40 and the whole last hour of the demo's incident
    for (from, to, at) in [
        (1_756_735_800_000i64, 1_756_737_600_000i64, "2025-09-01T14:40:00Z"),
        (1_756_735_200_000, 1_756_738_799_000, "2025-09-01T14:59:59Z"),
    ] {
        let range = TimeRange::between(from, to);
        // as the engine does: the overview's window, the rules evaluated as of its end
        let overview = backend.overview(range);
        assert_eq!((overview.window_from, overview.window_to), (Some(from), Some(to)));
        let (answer, _) = foley_triage::backend::alerts::evaluate_range(
            &mut backend,
            &rules,
            range,
            overview.window_from,
            overview.window_to,
        );
        assert!(answer.error.is_none(), "{answer:?}");
        let mut console: Firings = answer.alerts.iter().map(|a| (a.rule.clone(), a.since_ms, a.until_ms)).collect();
        console.sort();
        assert!(!console.is_empty(), "the demo's incident fires in {at}");
        // check reports every firing up to the moment; those overlapping the range are the console's
        let checked: Firings = check_firings(&demo.files(), at, home.path())
            .into_iter()
            .filter(|(_, _, until)| until.is_none_or(|u| u >= from))
            .collect();
        assert_eq!(console, checked, "as of {at}");
    }
}

/// The state file's marks, once it exists and `done` holds.
fn marks_when(path: &std::path::Path, what: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let mut found = serde_json::Value::Null;
    common::wait_until(what, Duration::from_secs(20), || {
        let Ok(text) = std::fs::read_to_string(path) else { return false };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { return false };
        let ok = done(&json);
        found = json;
        ok
    });
    found
}

#[test]
fn the_alerts_screen_in_a_pty_acknowledges_and_silences_on_the_demo() {
    use std::os::unix::fs::PermissionsExt;
    // wide enough for the header to name the silenced rule
    let mut s = Session::start_with(&[], 220, 48, &[]);
    s.wait_for("Top failing videos");
    s.keys(b"6");
    s.wait_for("Alerts ·");
    // the demo's incident: three rules fired in the last hour, the list shows them
    let screen = s.wait_for_screen("the firings listed", |screen| {
        ["model error burst", "video decode failures", "inference latency"].iter().all(|r| screen.contains(r))
    });
    assert!(screen.contains("resolved") || screen.contains("firing"), "{screen}");
    let selected = screen.lines().find(|l| l.contains('▶')).unwrap().to_string();
    let rule = ["model error burst", "video decode failures", "inference latency"]
        .into_iter()
        .find(|r| selected.contains(r))
        .unwrap_or_else(|| panic!("a rule selected: {selected}"));
    // a: acknowledged on screen and in the state file (0600)
    s.keys(b"a");
    s.wait_for_screen("the firing acknowledged", |screen| {
        screen.lines().any(|l| l.contains('▶') && l.contains("acknowledged"))
    });
    let path = s.home.join("foley-triage").join("alert-marks.json");
    let marks =
        marks_when(&path, "the acknowledgement on disk", |m| m["acks"].as_array().is_some_and(|a| a.len() == 1));
    assert_eq!(marks["acks"][0]["rule"], rule);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    // S: silenced for a typed duration; the header says so
    s.keys(b"S");
    s.wait_for("silence `");
    s.keys(b"4h\r");
    let screen = s.wait_for_screen("the silence in the header", |screen| {
        screen.lines().next().is_some_and(|h| h.contains("silenced"))
    });
    let header = screen.lines().next().unwrap();
    assert!(header.contains(&format!("silenced: {rule} until")), "{header}");
    let marks = marks_when(&path, "the silence on disk", |m| m["silences"].as_array().is_some_and(|a| a.len() == 1));
    assert_eq!(marks["silences"][0]["rule"], rule);
    let until = marks["silences"][0]["until_ms"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!((until - now - 4 * 3_600_000).abs() < 120_000, "until {until}, now {now}");
    assert_eq!(marks["acks"].as_array().unwrap().len(), 1, "the acknowledgement kept");
    s.keys(b"q");
    assert!(s.wait_exit(Duration::from_secs(30)).success());
    // the next session reads them back: the header says the silence from the start
    let mut again = Session::start_full(
        &[],
        220,
        48,
        &[("XDG_STATE_HOME", s.home.to_str().unwrap()), ("XDG_CONFIG_HOME", s.home.to_str().unwrap())],
        &[],
        None,
    );
    again.wait_for("Top failing videos");
    again.wait_for(&format!("silenced: {rule} until"));
    again.keys(b"6");
    again.wait_for_screen("the acknowledgement read back", |screen| screen.contains("acknowledged"));
    again.keys(b"q");
    assert!(again.wait_exit(Duration::from_secs(30)).success());
}

/// `--rules FILE` adds rules to the console as it does to `check`: the Alerts screen lists their
/// firings and help lists the rule.
#[test]
fn the_console_takes_a_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("mine.toml");
    std::fs::write(
        &rules,
        "[[alert]]\nname = \"decode storm\"\nfilter = \"error_code:VIDEO_DECODE_ERR\"\nwindow = \"2m\"\nthreshold = 5\nseverity = \"info\"\n",
    )
    .unwrap();
    let mut s = Session::start_with(&["--rules", rules.to_str().unwrap()], 160, 48, &[]);
    s.wait_for("Top failing videos");
    s.keys(b"6");
    s.wait_for_screen("the file's rule fired", |screen| {
        screen.lines().any(|l| l.contains("decode storm") && l.contains("info"))
    });
    s.wait_for("5 rules as of");
    s.keys(b"?");
    s.wait_for("Help ·");
    s.keys(b"G");
    s.wait_for("Alert rules in force");
    s.wait_for("count of error_code:VIDEO_DECODE_ERR over 2m > 5 [info]");
    s.keys(b"q");
    s.keys(b"q");
    assert!(s.wait_exit(Duration::from_secs(30)).success());
}

/// The engine sends a range's overview before it evaluates the alert rules (which read the files
/// again: seconds on big inputs), then the alerts, then the overview again with its alert rows; the
/// screen says the rules are being evaluated in between, never "none fired".
#[test]
fn the_overview_comes_before_the_alerts_evaluation() {
    use foley_triage::backend::worker::{AlertSettings, Update, spawn_with};
    let demo = foley_triage::demo::materialize().unwrap();
    let config = Config::default();
    let backend = LocalBackend::open(demo.files(), config.enricher().unwrap(), &config, 1, false, Vec::new());
    let settings = AlertSettings { rules: foley_triage::alerts::rules::builtin(), notify: None };
    let (_link, updates) = spawn_with(Box::new(move |_: &dyn Fn(String)| Ok(Box::new(backend) as _)), settings);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut order = Vec::new();
    let mut state = foley_triage::tui::state::State::new("demo".into(), &config);
    use foley_triage::tui::update::{Msg, update};
    update(&mut state, Msg::Resize { width: 160, height: 48 });
    let mut first_screen = None;
    while order.iter().filter(|k| **k == "overview").count() < 2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "timed out; updates so far {order:?}");
        match updates.recv_timeout(left) {
            Ok(u @ Update::Overview { .. }) => {
                let alerts = matches!(&u, Update::Overview { overview, .. } if !overview.alerts.is_empty());
                order.push(if alerts { "overview with alerts" } else { "overview" });
                update(&mut state, Msg::Engine(u));
                if first_screen.is_none() {
                    first_screen = Some(common::render(&state, 160, 48));
                }
                if alerts {
                    break;
                }
            }
            Ok(u @ Update::Alerts(_)) => {
                order.push("alerts");
                update(&mut state, Msg::Engine(u));
            }
            Ok(_) => {}
            Err(e) => panic!("the engine stopped: {e}; {order:?}"),
        }
    }
    assert_eq!(order, ["overview", "alerts", "overview with alerts"]);
    let first = first_screen.unwrap();
    assert!(first.contains("alert rules: evaluating over this range"), "{first}");
    let after = common::render(&state, 160, 48);
    assert!(after.contains("fired in this window: model error burst"), "{after}");
}
