//! A dropped SSH connection: the terminal is hung up under the console (its pseudo-terminal's
//! master closed, as sshd does). The console must end within seconds, not spin a core forever, and
//! remove the live demo's private directory — whether the kernel's SIGHUP reaches it (it leads the
//! terminal's session) or not (a shell that died without passing it on).
//!
//! These tests open their own pseudo-terminal with libc, because closing the master is the point
//! and `portable_pty`'s reader keeps a duplicate of it open.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A pseudo-terminal pair at 160×48.
fn open_pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize { ws_row: 48, ws_col: 160, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty writes two descriptors this test then owns.
    let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // openpty's descriptors are inherited across exec: a child holding the master open (its own,
    // or another test's) would keep the terminal from ever hanging up
    for fd in [master, slave] {
        // SAFETY: fcntl on descriptors just returned by openpty.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: fresh descriptors returned by openpty.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Reads what the master has for up to `wait`, appending to `seen`.
fn read_some(master: &OwnedFd, seen: &mut Vec<u8>, wait: Duration) {
    let mut fds = libc::pollfd { fd: master.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd on the stack.
    let ready = unsafe { libc::poll(&mut fds, 1, wait.as_millis() as i32) };
    if ready > 0 && fds.revents & libc::POLLIN != 0 {
        let mut buf = [0u8; 65536];
        // SAFETY: reading into a stack buffer of its length.
        let n = unsafe { libc::read(master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            seen.extend_from_slice(&buf[..n as usize]);
        }
    }
}

fn live_dirs(home: &std::path::Path) -> usize {
    std::fs::read_dir(home)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("foley-triage-live-"))
        .count()
}

/// How the console ended and what its log says (for a failure's message).
fn why(status: std::process::ExitStatus, home: &tempfile::TempDir) -> String {
    let log = std::fs::read_to_string(home.path().join("foley-triage").join("foley-triage.log")).unwrap_or_default();
    let dirs: Vec<String> = std::fs::read_dir(home.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into())
        .collect();
    format!("{status:?}; home holds {dirs:?}; log: {log}")
}

/// Starts `--demo` on a fresh pty (as the session's controlling process when `controlling`),
/// waits for its screen, closes the master and returns how long the console took to end, with
/// its home directory.
fn hang_up(controlling: bool) -> (Duration, std::process::ExitStatus, tempfile::TempDir) {
    // no other test of this file forks between openpty and FD_CLOEXEC (its child would inherit
    // this master)
    static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let spawning = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let (master, slave) = open_pty();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.arg("--demo")
        .env("TERM", "xterm-256color")
        .env("SSH_TTY", "/dev/pts/99")
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("TMPDIR", home.path())
        .env_remove("TMUX")
        .current_dir(home.path());
    for stdio in 0..3 {
        let fd = slave.try_clone().unwrap();
        match stdio {
            0 => cmd.stdin(Stdio::from(fd)),
            1 => cmd.stdout(Stdio::from(fd)),
            _ => cmd.stderr(Stdio::from(fd)),
        };
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if controlling && libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn");
    drop(cmd); // its copies of the slave
    drop(slave);
    drop(spawning);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        read_some(&master, &mut seen, Duration::from_millis(100));
        let mut parser = vt100::Parser::new(48, 160, 0);
        parser.process(&seen);
        if parser.screen().contents().contains("Top failing videos") {
            break;
        }
        assert!(Instant::now() < deadline, "no screen:\n{}", parser.screen().contents());
    }
    assert_eq!(live_dirs(home.path()), 1);
    let closed = Instant::now();
    drop(master);
    let until = closed + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the console still runs 30 s after its terminal was hung up (controlling: {controlling})");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (closed.elapsed(), status, home)
}

/// The console leads the terminal's session, so the kernel sends it SIGHUP when the master closes.
#[test]
fn a_dropped_connection_with_sighup_ends_the_console() {
    let (took, status, home) = hang_up(true);
    assert!(status.code().is_some(), "the console crashed instead of ending ({})", why(status, &home));
    assert_eq!(live_dirs(home.path()), 0, "the live demo's directory was left behind ({})", why(status, &home));
    assert!(took < Duration::from_secs(30));
}

/// Nobody sends SIGHUP (the console is not the session's controlling process): the hung-up
/// terminal itself is noticed.
#[test]
fn a_dropped_connection_without_sighup_ends_the_console() {
    let (took, status, home) = hang_up(false);
    assert!(status.code().is_some(), "the console crashed instead of ending ({})", why(status, &home));
    assert_eq!(live_dirs(home.path()), 0, "the live demo's directory was left behind ({})", why(status, &home));
    assert!(took < Duration::from_secs(30));
}
