//! Labelling in a real pseudo-terminal (issue 14): an unknown template on the Patterns screen →
//! `L` → the form, pre-filled → Enter → the rule file on disk holds the rule (and `.bak` the
//! previous file) → the screen attributes those lines, and so does `report`. Every wait has a
//! deadline.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::Pty as Session;
use std::time::Duration;

/// Thirty errors with a code no rule knows, between ordinary lines.
fn frob_log(dir: &std::path::Path) -> std::path::PathBuf {
    let log = dir.join("frob.log");
    let text: String = (0..30)
        .map(|i| {
            format!(
                "2025-09-01 14:{i:02}:01.000 [ERROR] worker-1 video_id=vid_a{i:04}b error_code=E_FROB_BROKEN frobnicator broke at step {i}\n\
                 2025-09-01 14:{i:02}:02.000 [INFO] worker-1 all good n={i}\n"
            )
        })
        .collect();
    std::fs::write(&log, text).unwrap();
    log
}

#[test]
fn an_unknown_pattern_labelled_in_the_console_is_saved_and_attributed_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let log = frob_log(dir.path());
    let mut s = Session::start(&[log.to_str().unwrap()]);
    let rules = s.home.join("foley-triage").join("rules.toml");
    // a previous rule file: kept as .bak
    std::fs::create_dir_all(rules.parent().unwrap()).unwrap();
    std::fs::write(&rules, "# my rules\n").unwrap();
    s.wait_for("Top failing videos");
    s.keys(b"5");
    s.wait_for("Patterns ·");
    s.wait_for_screen("the unknown template", |screen| {
        screen.lines().any(|l| l.contains("E_FROB_BROKEN:") && l.contains("unknown"))
    });
    s.keys(b"L");
    s.wait_for("Label: E_FROB_BROKEN");
    s.wait_for("learned-frob-broken");
    // the cause (the 7th field): cleared and typed
    s.keys(b"\t\t\t\t\t\t");
    s.keys(b"\x15");
    s.keys(b"frobnicator firmware bug");
    s.wait_for("frobnicator firmware bug");
    s.keys(b"\r");
    s.wait_for("saved to");
    let saved = std::fs::read_to_string(&rules).unwrap();
    assert!(saved.starts_with("# my rules\n"), "{saved}");
    assert!(
        saved.contains("id = \"learned-frob-broken\"") && saved.contains("error_code = \"E_FROB_BROKEN\""),
        "{saved}"
    );
    assert!(saved.contains("cause = \"frobnicator firmware bug\""), "{saved}");
    assert_eq!(std::fs::read_to_string(rules.with_file_name("rules.toml.bak")).unwrap(), "# my rules\n");
    // the screen attributes the lines now: the rule in the row, no longer unknown
    s.wait_for_screen("the template attributed", |screen| {
        screen.lines().any(|l| l.contains("E_FROB_BROKEN:") && l.contains("learned-frob-broken"))
    });
    s.keys(b"4");
    s.wait_for("frobnicator firmware bug");
    s.keys(b"q");
    assert!(s.wait_exit(Duration::from_secs(30)).success());
    // and the headless report, with the same configuration directory
    let out = common::binary().arg("report").arg(&log).env("XDG_CONFIG_HOME", &s.home).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("frobnicator firmware bug"), "{report}");
    assert!(!report.contains("UNKNOWN ERRORS (30"), "{report}");
}

/// A rule file edited by hand while the console runs (saved by rename, as editors do) is applied
/// without a restart; a broken edit says where it is wrong and the rules in force stay.
#[test]
fn a_rule_file_edited_by_hand_is_reloaded_and_a_broken_edit_keeps_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let log = frob_log(dir.path());
    let mut s = Session::start(&[log.to_str().unwrap()]);
    let rules = s.home.join("foley-triage").join("rules.toml");
    std::fs::create_dir_all(rules.parent().unwrap()).unwrap();
    s.wait_for("Top failing videos");
    s.keys(b"5");
    s.wait_for_screen("the unknown template", |screen| {
        screen.lines().any(|l| l.contains("E_FROB_BROKEN:") && l.contains("unknown"))
    });
    let save = |text: &str| {
        let tmp = rules.with_file_name(".rules.toml.swp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &rules).unwrap();
    };
    save(
        "[[rule]]\nid = \"hand-frob\"\nerror_code = \"E_FROB_BROKEN\"\ncategory = \"Frobnicator\"\n\
         severity = \"high\"\ncause = \"frobnicator worn out\"\nfix = \"replace the frobnicator\"\n",
    );
    s.wait_for("rules reloaded from");
    s.wait_for_screen("the template attributed by the edited file", |screen| {
        screen.lines().any(|l| l.contains("E_FROB_BROKEN:") && l.contains("hand-frob"))
    });
    // a broken edit: said with its line, the rule in force stays
    save("[[rule]]\nid = \"hand-frob\"\nerror_code = \n");
    let screen = s.wait_for("does not read");
    assert!(screen.contains("line 3"), "{screen}");
    s.keys(b"4");
    s.wait_for("frobnicator worn out");
    s.keys(b"q");
    assert!(s.wait_exit(Duration::from_secs(30)).success());
}
