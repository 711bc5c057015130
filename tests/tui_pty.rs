//! The real binary in a real pseudo-terminal: open on the demo logs, drill down on the top video,
//! copy its retry link (OSC 52 bytes checked), open help, filter the tail, quit. The screen is
//! parsed with vt100; every wait has a deadline.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::Pty as Session;
use std::time::{Duration, Instant};

#[test]
fn drill_copy_help_tail_quit() {
    let mut s = Session::start(&[]);
    let screen = s.wait_for("Top failing videos");
    // the top row of the ranking
    let line = screen
        .lines()
        .find(|l| l.contains("vid_") && l.contains("GPU memory"))
        .expect("a failing video row")
        .to_string();
    let start = line.find("vid_").unwrap();
    let video: String = line[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();

    s.keys(b"\r");
    s.wait_for("likely cause");
    s.wait_for("Related lines");
    assert!(s.screen().contains(&video));

    s.keys(b"y");
    s.wait_for("sent to terminal clipboard");
    let raw = s.raw();
    let marker = b"\x1b]52;c;";
    let at = raw.windows(marker.len()).position(|w| w == marker).expect("an OSC 52 sequence was written");
    let rest = &raw[at + marker.len()..];
    let end = rest.windows(2).position(|w| w == b"\x1b\\").expect("terminated with ST");
    let copied = base64::engine::general_purpose::STANDARD.decode(&rest[..end]).expect("base64");
    let copied = String::from_utf8(copied).unwrap();
    assert!(copied.contains(&format!("/jobs/{video}/retry")), "copied {copied}");

    s.keys(b"?");
    s.wait_for("Alert rules in force");
    s.keys(b"x"); // any key closes help
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.screen().contains("Alert rules in force") {
        assert!(Instant::now() < deadline, "help did not close");
        std::thread::sleep(Duration::from_millis(50));
    }

    s.keys(b"3");
    s.wait_for("Live tail");
    s.keys(b"/vocoder\r");
    s.wait_for("/vocoder:");
    s.keys(b"e");
    s.wait_for("errors only");

    s.keys(b"q");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    // the terminal was restored: the alternate screen was left
    assert!(s.raw().windows(8).any(|w| w == b"\x1b[?1049l"), "alternate screen left on exit");
}

#[test]
fn live_demo_shows_events_arriving() {
    let mut s = Session::start(&["--demo"]);
    s.keys(b"3");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = s.screen();
        if screen.contains("Live tail") && screen.contains("inference") && screen.contains("following") {
            break;
        }
        assert!(Instant::now() < deadline, "no live events:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    s.keys(b"q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_idle_console_does_not_spin() {
    let mut s = Session::start(&[]);
    s.wait_for("Top failing videos");
    let pid = s.child.process_id().expect("pid");
    std::thread::sleep(Duration::from_millis(500));
    let before = common::cpu_ticks(pid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let used = common::cpu_ticks(pid) - before;
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let share = used as f64 / ticks_per_second / started.elapsed().as_secs_f64();
    assert!(share < 0.25, "idle console used {:.0}% of a core", share * 100.0);
    s.keys(b"q");
}

/// Every way out restores the terminal: SIGTERM, SIGHUP (the SSH connection dropping), SIGQUIT and
/// a `kill -INT` each end the console with the alternate screen left and the cursor shown, and the
/// live demo's temporary directory removed.
#[test]
fn signals_end_the_console_and_restore_the_terminal() {
    for signal in ["TERM", "HUP", "QUIT", "INT"] {
        let mut s = Session::start(&["--demo"]);
        s.wait_for("Top failing videos");
        let home = s.home.clone();
        let live_dirs = || {
            std::fs::read_dir(&home)
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("foley-triage-live-"))
                .count()
        };
        assert_eq!(live_dirs(), 1, "the live demo writes into one private directory");
        let killed = std::process::Command::new("kill").arg(format!("-{signal}")).arg(s.pid().to_string()).status();
        assert!(killed.unwrap().success());
        let status = s.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "SIG{signal}: exit status {status:?}");
        assert!(s.restored(), "SIG{signal} left the terminal in the alternate screen or without a cursor");
        assert_eq!(live_dirs(), 0, "SIG{signal} left the demo's temporary directory behind");
    }
}
