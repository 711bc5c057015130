//! `foley-triage patterns`: one CSV row per line with a stable template id, the summary with counts
//! and first/last seen, JSON, the prefix stripped by the parsers, ids kept across runs with `--keep`
//! (in a 0600 store), and bad input refused with a message instead of a panic.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::binary;
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `patterns` with `args`, feeding `stdin`; the state directory is private to the test.
fn run(args: &[&str], stdin: &str, home: &std::path::Path) -> (i32, String, String) {
    let mut cmd: Command = binary();
    cmd.arg("patterns")
        .args(args)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("FOLEY_TRIAGE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A minimal RFC 4180 reader for the rows printed.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn one_row_per_line_with_stable_ids() {
    let home = tempfile::tempdir().unwrap();
    let input = "Invalid user webmaster from 173.234.31.186\n\
                 Connection closed by 10.0.0.1 [preauth]\n\
                 Invalid user test, or \"guest\" from 52.80.34.196\n\
                 Invalid user admin from 10.1.2.3\n";
    let (code, out, err) = run(&["--content-only"], input, home.path());
    assert_eq!(code, 0, "{err}");
    let rows = csv_rows(&out);
    assert_eq!(rows[0], ["line_no", "template_id", "template"]);
    assert_eq!(rows.len(), 5, "{out}");
    assert!(rows.iter().all(|r| r.len() == 3), "{rows:?}");
    assert_eq!(rows[1][2], "Invalid user webmaster from <IP>");
    assert_eq!(rows[4][2], "Invalid user <*> from <IP>");
    assert_eq!(rows[1][1], rows[4][1], "the template kept its id while it generalised");
    assert_ne!(rows[1][1], rows[2][1]);
    // a template holding a comma and quotes survives CSV quoting
    assert_eq!(rows[3][2], "Invalid user test, or \"<STR>\" from <IP>");
    assert_eq!((rows[1][0].as_str(), rows[4][0].as_str()), ("1", "4"));
}

#[test]
fn the_summary_counts_and_dates_each_template() {
    let home = tempfile::tempdir().unwrap();
    let input = "2025-09-01 14:00:00 [ERROR] vocoder produced NaN at frame 1532\n\
                 2025-09-01 14:05:00 [INFO] worker=gpu-1 queue_depth=3 batch_size=4\n\
                 2025-09-01 14:09:30 [ERROR] vocoder produced NaN at frame 7\n";
    let (code, out, err) = run(&["--summary"], input, home.path());
    assert_eq!(code, 0, "{err}");
    let rows = csv_rows(&out);
    assert_eq!(rows[0], ["template_id", "count", "first_seen", "last_seen", "first_line", "last_line", "template"]);
    assert_eq!(rows.len(), 3, "{out}");
    let vocoder = &rows[1];
    assert_eq!(vocoder[1], "2");
    // the timestamp and level prefix was stripped by the parser; its time is the first and last seen
    assert_eq!(vocoder[6], "vocoder produced NaN at frame <N>");
    assert!(vocoder[2].starts_with("2025-09-01T") && vocoder[2].contains(":00:00"), "{vocoder:?}");
    assert!(vocoder[3].contains(":09:30"), "{vocoder:?}");
    assert_eq!((vocoder[4].as_str(), vocoder[5].as_str()), ("1", "3"));

    // --content-only keeps the prefix as part of the message: the dates become <N>
    let (_, out, _) = run(&["--summary", "--content-only"], input, home.path());
    assert!(out.contains("<N> <N> [ERROR] vocoder produced NaN at frame <N>"), "{out}");
}

#[test]
fn json_rows_and_summary() {
    let home = tempfile::tempdir().unwrap();
    let input = "disk sda1 full\ndisk sdb2 full\n";
    let (code, out, _) = run(&["--content-only", "--json"], input, home.path());
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["line_no"], 2);
    assert_eq!(rows[0]["template_id"], rows[1]["template_id"]);
    assert_eq!(rows[1]["template"], "disk <ID> full");
    let (_, out, _) = run(&["--content-only", "--json", "--summary"], input, home.path());
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["templates"][0]["count"], 2);
    assert_eq!(summary["templates"][0]["first_line"], 1);
    assert_eq!(summary["templates"][0]["last_line"], 2);
}

#[test]
fn keep_remembers_ids_across_runs_in_a_private_store() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let (_, first, _) = run(&["--content-only", "--keep"], "alpha one happened\nbeta two happened\n", home.path());
    let (_, second, _) = run(&["--content-only", "--keep"], "beta two happened\nalpha one happened\n", home.path());
    let first = csv_rows(&first);
    let second = csv_rows(&second);
    assert_eq!(second[1][1], first[2][1], "beta keeps its id");
    assert_eq!(second[2][1], first[1][1], "alpha keeps its id");
    let store = home.path().join("state").join("foley-triage").join("patterns.json");
    let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // without --keep, ids start afresh in input order
    let (_, third, _) = run(&["--content-only"], "beta two happened\n", home.path());
    assert_eq!(csv_rows(&third)[1][1], "1");
}

#[test]
fn reads_files_and_directories_and_refuses_what_it_cannot_read() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), "job 1 failed\njob 2 failed\n").unwrap();
    std::fs::write(dir.path().join("b.log"), "job 3 failed\n").unwrap();
    let (code, out, err) = run(&["--content-only", dir.path().to_str().unwrap()], "", home.path());
    assert_eq!(code, 0, "{err}");
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3], ["3", "1", "job <N> failed"]);

    let missing = dir.path().join("nope.log");
    let (code, _, err) = run(&[missing.to_str().unwrap()], "", home.path());
    assert_eq!(code, 2);
    assert!(err.contains("nope.log") && err.contains("no such file"), "{err}");
    std::fs::write(dir.path().join("bin.log"), [0u8; 4096]).unwrap();
    let (code, _, err) = run(&[dir.path().join("bin.log").to_str().unwrap()], "", home.path());
    assert_eq!(code, 2);
    assert!(err.contains("binary"), "{err}");
    let (code, _, err) = run(&["--format", "bogus"], "", home.path());
    assert_eq!(code, 2);
    assert!(err.contains("--format"), "{err}");
}

#[test]
fn hostile_lines_come_out_terminal_safe() {
    let home = tempfile::tempdir().unwrap();
    let input = "evil \u{1b}]52;c;aGk=\u{7} text\nnot utf8 \u{fffd} here\n";
    let mut bytes = input.as_bytes().to_vec();
    bytes.extend_from_slice(b"raw \xff\xfe bytes\n");
    let (code, out, _) = run(&["--content-only"], &String::from_utf8_lossy(&bytes), home.path());
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert_eq!(csv_rows(&out).len(), 4);
}

#[test]
fn the_report_counts_unknown_errors_differing_in_a_word_as_one_kind() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("inference.log");
    let lines: String = ["alpha", "beta", "gamma", "delta"]
        .iter()
        .enumerate()
        .map(|(i, shard)| format!("2025-09-01 14:00:0{i} [ERROR] cannot reach shard {shard} of the store\n"))
        .collect();
    std::fs::write(&log, lines).unwrap();
    let out = binary()
        .args(["report", "--json", log.to_str().unwrap()])
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("FOLEY_TRIAGE_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let patterns = report["unknown_patterns"].as_array().unwrap();
    assert_eq!(patterns.len(), 1, "{patterns:?}");
    assert_eq!(patterns[0]["count"], 4);
    assert!(patterns[0]["template"].as_str().unwrap().ends_with("cannot reach shard <*> of the store"));
    assert_eq!(patterns[0]["example"], "cannot reach shard alpha of the store");
}
