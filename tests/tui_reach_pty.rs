//! The console's reach (issue 12) in a real pseudo-terminal: `--since`/`--until`, the command line
//! (`:last`, `:video`, a mistake, Tab, history kept 0600 across runs), a line whole (`v`), zoom
//! (`]`, `z`, `Z`). Every wait has a deadline.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::Pty as Session;
use std::time::Duration;

fn header(s: &Session) -> String {
    s.lines().first().cloned().unwrap_or_default()
}

fn quit(s: &mut Session) {
    s.keys(b"q");
    let status = s.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn commands_a_whole_line_and_zoom_in_a_terminal() {
    let mut s = Session::start(&[]);
    s.wait_for("Top failing videos");
    s.keys(b":last 30m\r");
    s.wait_for_screen("the header shows the new range", |screen| {
        screen.lines().next().is_some_and(|h| h.contains("last 30m 14:29:59 … 14:59:59"))
    });
    s.keys(b":frobnicate\r");
    s.wait_for("unknown command `frobnicate`");
    s.keys(b":since yesterday\r");
    s.wait_for("expected a time (2025-09-01T14:00:00Z");
    // Tab completes an id from the top list; Enter opens it
    s.keys(b":video vid_fa9b\t");
    s.wait_for(":video vid_fa9b63");
    s.keys(b"\r");
    s.wait_for("Related lines");
    s.keys(b"v");
    s.wait_for("The line whole");
    s.wait_for("── the line");
    s.keys(b"\x1b");
    s.wait_for_screen("the detail closed", |screen| !screen.contains("The line whole"));
    // zoom on the overview: the cursor, z, Z
    s.keys(b"1");
    s.wait_for("Top failing videos");
    s.keys(b"]");
    s.wait_for("time cursor");
    s.keys(b"z");
    s.wait_for_screen("a zoomed, absolute range", |screen| {
        let h = screen.lines().next().unwrap_or_default();
        !h.contains("last 30m") && h.contains(" … ") && !h.contains("loading")
    });
    s.keys(b"Z");
    s.wait_for_screen("back to the range before", |screen| {
        screen.lines().next().is_some_and(|h| h.contains("last 30m") && !h.contains("loading"))
    });
    quit(&mut s);
    // the history was kept, 0600, in the state directory
    let path = s.home.join("foley-triage").join("command-history");
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(kept.contains("last 30m\n") && kept.contains("video vid_fa9b63\n"), "{kept}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn since_and_until_on_the_command_line() {
    let mut s = Session::start(&["--since", "2025-09-01 14:10:00", "--until", "2025-09-01T14:20:00Z"]);
    s.wait_for("Top failing videos");
    s.wait_for_screen("the given range", |screen| {
        screen.lines().next().is_some_and(|h| h.contains("│ 14:10:00 … 14:20:00 │") && !h.contains("loading"))
    });
    assert!(!header(&s).contains("last 1h"), "{}", header(&s));
    quit(&mut s);
    let mut bad = Session::start(&["--since", "soon"]);
    let status = bad.wait_exit(Duration::from_secs(60));
    assert_eq!(status.exit_code(), 2, "{}", bad.screen());
    assert!(bad.screen().contains("--since `soon`: expected a time"), "{}", bad.screen());
}
