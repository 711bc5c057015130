//! The console's watchdog: the way out when the UI thread cannot take it itself.
//!
//! When an SSH connection drops, the terminal is hung up under the console. crossterm 0.29 then
//! spins in its event reader (its read of the dead terminal returns 0 bytes and it polls again,
//! crossterm issue #793) and `event::poll` never returns, so the UI loop never sees the SIGHUP
//! flag, keeps a core at 100 % and never removes the live demo's directory. This thread watches
//! from outside: when a stop signal has been waiting longer than [`GRACE`], or the terminal is
//! hung up and the UI loop has not come round for [`STALE`], it restores what it can, removes the
//! registered demo directories, logs why and ends the process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a stop signal may wait for the UI loop before the watchdog ends the process.
pub const GRACE: Duration = Duration::from_secs(2);
/// How long the UI loop may go without a beat while the terminal is hung up.
pub const STALE: Duration = Duration::from_secs(2);
/// How often the watchdog looks.
const PERIOD: Duration = Duration::from_millis(200);
/// The exit status when the watchdog ends the process (the terminal or a signal ended the session).
pub const EXIT_STATUS: i32 = 129;

/// What the UI loop touches each time round, and the stop flag the signal handlers set.
#[derive(Clone)]
pub struct Heartbeat {
    start: Instant,
    last_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Heartbeat {
    fn new(stop: Arc<AtomicBool>) -> Heartbeat {
        Heartbeat { start: Instant::now(), last_ms: Arc::new(AtomicU64::new(0)), stop }
    }

    /// Whether a signal asked the console to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The UI loop is alive.
    pub fn beat(&self) {
        self.last_ms.store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn age(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// The watchdog thread; stopped (and joined) on drop, when the UI loop ended by itself.
pub struct Watchdog {
    done: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `stop` (set by the signal handlers) and the returned heartbeat.
    pub fn start(stop: Arc<AtomicBool>) -> (Watchdog, Heartbeat) {
        let heartbeat = Heartbeat::new(stop);
        let done = Arc::new(AtomicBool::new(false));
        let (beat, finished) = (heartbeat.clone(), Arc::clone(&done));
        let handle = std::thread::Builder::new().name("watchdog".into()).spawn(move || watch(&beat, &finished)).ok();
        (Watchdog { done, handle }, heartbeat)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn watch(heartbeat: &Heartbeat, done: &AtomicBool) {
    let mut stop_seen: Option<Instant> = None;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(PERIOD);
        if done.load(Ordering::Relaxed) {
            return;
        }
        if heartbeat.stop_requested() {
            let since = *stop_seen.get_or_insert_with(Instant::now);
            if since.elapsed() >= GRACE {
                end("a stop signal arrived and the screen did not answer");
            }
        }
        if heartbeat.age() >= STALE && terminal_hung_up() {
            end("the terminal went away (the SSH connection dropped?)");
        }
    }
}

/// Whether the terminal the console draws on (standard output) is hung up or closed.
pub fn terminal_hung_up() -> bool {
    let mut fds = libc::pollfd { fd: libc::STDOUT_FILENO, events: 0, revents: 0 };
    // SAFETY: one pollfd on the stack, a zero timeout; poll only writes `revents`.
    let ready = unsafe { libc::poll(&mut fds, 1, 0) };
    ready > 0 && fds.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// Restores what can be restored, removes the demo directories, says why in the log, exits.
fn end(why: &str) -> ! {
    if !terminal_hung_up() {
        // leave the alternate screen, show the cursor, stop mouse reports; raw mode off
        let _ = crossterm::terminal::disable_raw_mode();
        let reset = b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?25h\x1b[?1049l";
        // SAFETY: a write of a static buffer to standard output.
        let _ = unsafe { libc::write(libc::STDOUT_FILENO, reset.as_ptr().cast(), reset.len()) };
    }
    crate::demo::remove_registered();
    crate::applog::note(&format!("watchdog: {why}; exiting"));
    std::process::exit(EXIT_STATUS)
}
