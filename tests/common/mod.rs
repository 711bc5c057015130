//! Helpers the integration tests share: the real binary, the OpenSearch-compatible test server
//! (osmem-server from PyPI, on a free loopback port), waiting on a condition with a deadline,
//! the real binary in a pseudo-terminal (screen parsed with vt100), and a state drawn on ratatui's
//! `TestBackend`. Each test file uses some of them.
#![allow(dead_code, clippy::panic, clippy::unwrap_used)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test, with no cluster secret inherited from the environment.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_foley-triage"));
    for var in ["FOLEY_TRIAGE_ES_API_KEY", "FOLEY_TRIAGE_ES_TOKEN", "FOLEY_TRIAGE_ES_USER", "FOLEY_TRIAGE_ES_PASSWORD"]
    {
        cmd.env_remove(var);
    }
    cmd
}

/// Waits until `done` holds, polling; fails the test after `deadline`, naming `what`.
pub fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Draws the whole console on a `TestBackend` of `width`×`height` in the monochrome theme and
/// returns its cells as text, one line per row.
pub fn render(state: &foley_triage::tui::state::State, width: u16, height: u16) -> String {
    render_with(state, width, height, &foley_triage::tui::theme::Theme::monochrome())
}

/// [`render`] in a given theme.
pub fn render_with(
    state: &foley_triage::tui::state::State,
    width: u16,
    height: u16,
    theme: &foley_triage::tui::theme::Theme,
) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| foley_triage::tui::view::draw(f, state, theme)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// CPU ticks (user + system) a process has used, from /proc.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The real binary in a pseudo-terminal, as if over SSH (the clipboard goes through OSC 52), with a
/// private home, state and config directory as its working directory.
pub struct Pty {
    pub output: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub rows: u16,
    pub cols: u16,
    /// The private home / state / config / working directory.
    pub home: std::path::PathBuf,
    /// Set when the reader has seen the end of the output (every writer to the terminal gone).
    drained: Arc<std::sync::atomic::AtomicBool>,
}

impl Pty {
    /// Starts the console at 160×48.
    pub fn start(args: &[&str]) -> Pty {
        Pty::start_with(args, 160, 48, &[])
    }

    /// Starts the console at `cols`×`rows` with extra environment variables.
    pub fn start_with(args: &[&str], cols: u16, rows: u16, env: &[(&str, &str)]) -> Pty {
        Pty::start_full(args, cols, rows, env, &[], None)
    }

    /// Starts the console at `cols`×`rows`: `env` set, `unset` removed (after the defaults, so
    /// `SSH_TTY` can be taken away), in `cwd` (default: the private home).
    pub fn start_full(
        args: &[&str],
        cols: u16,
        rows: u16,
        env: &[(&str, &str)],
        unset: &[&str],
        cwd: Option<&std::path::Path>,
    ) -> Pty {
        let pty = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_foley-triage"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("SSH_TTY", "/dev/pts/99");
        cmd.env_remove("TMUX");
        cmd.env_remove("DISPLAY");
        cmd.env_remove("NO_COLOR");
        let home = tempfile::tempdir().expect("dir").keep();
        cmd.env("HOME", &home);
        cmd.env("XDG_STATE_HOME", &home);
        cmd.env("XDG_CONFIG_HOME", &home);
        cmd.env("TMPDIR", &home);
        for (k, v) in env {
            cmd.env(k, v);
        }
        for k in unset {
            cmd.env_remove(k);
        }
        cmd.cwd(cwd.unwrap_or(&home));
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = Arc::clone(&drained);
        std::thread::spawn(move || {
            let _keep_master = pty.master;
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Pty { output, writer, child, rows, cols, home, drained }
    }

    /// The screen as the terminal shows it now.
    pub fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(self.rows, self.cols, 0);
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    /// The parsed terminal now (for the cursor, colours, modes).
    pub fn parser(&self) -> vt100::Parser {
        let mut parser = vt100::Parser::new(self.rows, self.cols, 0);
        parser.process(&self.output.lock().unwrap());
        parser
    }

    /// The lines of the screen as the terminal shows them now.
    pub fn lines(&self) -> Vec<String> {
        self.screen().lines().map(str::to_string).collect()
    }

    /// Waits up to 120 s (the machine may be shared and busy) for `text` on screen; returns the screen.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_screen(text, |s| s.contains(text))
    }

    /// Waits up to 120 s until `done` holds for the screen; `what` names it in the failure.
    pub fn wait_for_screen(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn keys(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Every byte the program wrote so far.
    pub fn raw(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }

    /// Waits up to `deadline` for the program to exit; returns its exit status.
    pub fn wait_exit(&mut self, deadline: Duration) -> portable_pty::ExitStatus {
        let until = Instant::now() + deadline;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The program's last words may still be in the terminal's buffer: read them
                // before anyone looks at the screen (a short deadline: a grandchild could keep
                // the terminal open, and then the screen is what was read by then).
                let read_until = Instant::now() + Duration::from_secs(10);
                while !self.drained.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < read_until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return status;
            }
            assert!(Instant::now() < until, "the program did not exit; screen:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// True when the program's output restored the terminal: it left the alternate screen and
    /// showed the cursor again after its last frame.
    pub fn restored(&self) -> bool {
        let raw = self.raw();
        let last = |pattern: &[u8]| raw.windows(pattern.len()).rposition(|w| w == pattern);
        let left_alternate = last(b"\x1b[?1049l");
        let entered_alternate = last(b"\x1b[?1049h");
        let shown_cursor = last(b"\x1b[?25h");
        matches!((left_alternate, entered_alternate), (Some(l), Some(e)) if l > e) && shown_cursor.is_some()
    }
}

/// A loopback port that refuses connections for as long as the returned socket lives: bound but
/// never listening, so no other test can take the port between choosing it and using it (a
/// listener dropped at once would free it for the next test that binds port 0).
pub fn refusing_port() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor this function owns; errors are checked.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        addr.sin_port = 0;
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(fd, &addr as *const libc::sockaddr_in as *const libc::sockaddr, len);
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        let mut got: libc::sockaddr_in = std::mem::zeroed();
        let mut got_len = len;
        let rc = libc::getsockname(fd, &mut got as *mut libc::sockaddr_in as *mut libc::sockaddr, &mut got_len);
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        (owned, u16::from_be(got.sin_port))
    }
}

impl Drop for Pty {
    /// A test that ends (or fails) before its program exits kills it: never a console left running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The OpenSearch-compatible test server (osmem-server from PyPI) on a free loopback port, stopped
/// on drop.
pub struct OsServer {
    child: std::process::Child,
    pub url: String,
}

impl Drop for OsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OsServer {
    pub fn start() -> OsServer {
        use std::io::BufRead;
        let out = Command::new("python3")
            .args(["-c", "import osmem_server; print(osmem_server.resolve_binary())"])
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "osmem-server is not installed: {}", String::from_utf8_lossy(&out.stderr));
        let binary = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let mut child = Command::new(binary)
            .args(["-addr", "127.0.0.1:0", "-parent-pid", &std::process::id().to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start osmem-server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("ready line");
        let ready: serde_json::Value = serde_json::from_str(&line).expect("ready JSON");
        let url = ready["url"].as_str().expect("url").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
        OsServer { child, url }
    }
}

/// The OpenSearch-compatible test server (osmem-server, installed by `scripts/test`), stopped when
/// dropped (and by itself when this process ends: `-parent-pid`).
pub struct Server {
    child: std::process::Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the test server on a free loopback port.
pub fn start_server() -> Server {
    start_server_seeded(&[])
}

/// Starts the test server loaded from `-seed` directories of bulk NDJSON files.
pub fn start_server_seeded(seeds: &[&std::path::Path]) -> Server {
    use std::io::BufRead;
    use std::process::Stdio;
    let out = Command::new("python3")
        .args(["-c", "import osmem_server; print(osmem_server.resolve_binary())"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "osmem-server is not installed (scripts/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let binary = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let mut args =
        vec!["-addr".to_string(), "127.0.0.1:0".into(), "-parent-pid".into(), std::process::id().to_string()];
    for seed in seeds {
        args.extend(["-seed".to_string(), seed.display().to_string()]);
    }
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start osmem-server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("ready JSON");
    let url = ready["url"].as_str().expect("url").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
    Server { child, url }
}
