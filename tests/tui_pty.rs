//! The real binary in a real pseudo-terminal: open on the demo logs, drill down on the top video,
//! copy its retry link (OSC 52 bytes checked), open help, filter the tail, quit. The screen is
//! parsed with vt100; every wait has a deadline.
#![allow(clippy::panic, clippy::unwrap_used)]

use base64::Engine;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Session {
    output: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let pty =
            native_pty_system().openpty(PtySize { rows: 48, cols: 160, pixel_width: 0, pixel_height: 0 }).expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_foley-triage"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("SSH_TTY", "/dev/pts/99"); // as if over SSH: the clipboard goes through OSC 52
        cmd.env_remove("TMUX");
        cmd.env_remove("DISPLAY");
        let state = tempfile::tempdir().expect("dir").keep();
        cmd.env("HOME", &state);
        cmd.env("XDG_STATE_HOME", &state);
        cmd.env("XDG_CONFIG_HOME", &state);
        cmd.cwd(&state);
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let _keep_master = pty.master;
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session { output, writer, child }
    }

    fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(48, 160, 0);
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {text:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    fn raw(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }
}

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

/// CPU ticks (user + system) a process has used, from /proc.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn an_idle_console_does_not_spin() {
    let mut s = Session::start(&[]);
    s.wait_for("Top failing videos");
    let pid = s.child.process_id().expect("pid");
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(pid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(pid) - before;
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let share = used as f64 / ticks_per_second / started.elapsed().as_secs_f64();
    assert!(share < 0.25, "idle console used {:.0}% of a core", share * 100.0);
    s.keys(b"q");
}
