//! The rule base from the command line: a rule file's syntax error is shown as the TOML parser
//! gives it (line, column, caret); rule texts with escape sequences print escaped everywhere; the
//! report's LIKELY CAUSES never lists the same cause twice.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::binary;

#[test]
fn a_rule_files_syntax_error_keeps_line_column_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"x\"\nerror_code = \"X_FAIL\"\ncategory = \"c\"\nseverity = \"high\" oops\n",
    )
    .unwrap();
    let out = binary().args(["rules", "--check", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().count() >= 4, "not flattened onto one line: {stderr}");
    assert!(stderr.contains("line 5"), "{stderr}");
    assert!(stderr.contains("column"), "{stderr}");
    assert!(stderr.lines().any(|l| l.trim_start().starts_with('|') && l.contains('^')), "a caret line: {stderr}");
}

#[test]
fn rule_texts_with_escape_sequences_print_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("evil.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"evil\"\nerror_code = \"EVIL_CODE\"\ncategory = \"cat\"\nseverity = \"high\"\n\
         cause = \"boom \\u001b]52;c;aGk=\\u0007 here\"\nfix = \"\\u001b[2Jclear\"\n",
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("rule_files = [{:?}]\n", rules.display().to_string())).unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "2025-09-01 14:23:11 [ERROR] video_id=vid_1 error_code=EVIL_CODE reason=\"x\"\n").unwrap();
    for args in [vec!["rules"], vec!["report", log.to_str().unwrap()]] {
        let out = binary().args(["--config", config.to_str().unwrap()]).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let all = [out.stdout, out.stderr].concat();
        assert!(!all.contains(&0x1b), "{args:?} printed an ESC byte");
        assert!(String::from_utf8_lossy(&all).contains("\\e]52"), "{args:?}: shown escaped");
    }
}

#[test]
fn likely_causes_are_listed_once_each() {
    let out = binary().arg("report").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("LIKELY CAUSES"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(section.len() > 3, "{text}");
    // the text after the count is the cause; no two lines say the same
    let mut seen = std::collections::BTreeSet::new();
    for line in &section {
        let rest = line.trim_start().split_once("  ").map(|(_, r)| r.trim().to_string()).unwrap();
        assert!(seen.insert(rest.clone()), "listed twice: {rest}");
    }
    let empty = section.iter().filter(|l| l.contains("Empty text description")).count();
    assert_eq!(empty, 1, "{section:#?}");
}

#[test]
fn rules_test_names_the_rule_and_why_or_that_none_matches() {
    let home = tempfile::tempdir().unwrap();
    let run = |line: &str| {
        let out = binary()
            .args(["rules", "test", line])
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env_remove("FOLEY_TRIAGE_CONFIG")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // by code, after the code's pattern rule was tried and did not match
    let (code, out) =
        run(r#"2025-09-01 14:23:11 [ERROR] video_id=vid_1 error_code=MODEL_INFER_FAIL reason="CUDA out of memory""#);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rule:       cuda-oom"), "{out}");
    assert!(out.contains("why:        error code MODEL_INFER_FAIL"), "{out}");
    assert!(out.contains("model-infer-nccl is for code MODEL_INFER_FAIL but its pattern"), "{out}");
    assert!(out.contains("component:  model_inference"), "{out}");
    // by keyword, without a code
    let (code, out) = run(r#"2025-09-01 14:23:11 [ERROR] video_id=vid_1 reason="allocator ran out of memory""#);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rule:       gpu-memory-keyword"), "{out}");
    assert!(out.contains("keyword pattern"), "{out}");
    // none: exit status 1, with the template the unknown error is grouped by
    let (code, out) =
        run(r#"2025-09-01 14:23:11 [ERROR] error_code=AUDIO_VOCODER_NAN reason="vocoder produced NaN at frame 12""#);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no rule for error code AUDIO_VOCODER_NAN"), "{out}");
    assert!(out.contains("rule:       none matches"), "{out}");
    assert!(out.contains("template:   vocoder produced NaN at frame <N>"), "{out}");
    // hostile text is shown escaped
    let (_, out) = run("2025-09-01 14:23:11 [ERROR] bad \u{1b}]52;c;aGk=\u{7} thing");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
}
