//! The app's own log: `foley-triage.log` in the state directory, never the screen. Every error and
//! warning a command says is written there too (the texts are already terminal-safe and free of
//! secrets where they are made). The file is created mode 0600 in a 0700 directory and never
//! through a symbolic link.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The log file, once opened.
static FILE: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// The log's path.
pub fn path() -> PathBuf {
    crate::config::state_dir().join("foley-triage.log")
}

/// Opens the log (appending) and routes `tracing` events to it; `FOLEY_TRIAGE_LOG` sets the level
/// (default `info`). Problems opening it are not fatal: the app runs without its log.
pub fn init() {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = crate::config::state_dir();
    if std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).is_err() {
        return;
    }
    let Ok(file) =
        std::fs::OpenOptions::new().append(true).create(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path())
    else {
        return;
    };
    let Ok(clone) = file.try_clone() else { return };
    if FILE.set(Mutex::new(file)).is_err() {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(Mutex::new(clone))
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FOLEY_TRIAGE_LOG").unwrap_or_else(|_| "info".into()),
        )
        .try_init();
}

/// Says an error on stderr (`foley-triage: …`) and writes it to the log.
pub fn error(text: &str) {
    tracing::error!("{text}");
    say(&format!("foley-triage: {text}"));
}

/// Says a warning on stderr (`foley-triage: warning: …`) and writes it to the log.
pub fn warn(text: &str) {
    tracing::warn!("{text}");
    say(&format!("foley-triage: warning: {text}"));
}

/// Says something on stderr (`foley-triage: …`) and writes it to the log.
pub fn info(text: &str) {
    tracing::info!("{text}");
    say(&format!("foley-triage: {text}"));
}

/// Writes a line to standard error, ignoring a failure: after an SSH connection drops, standard
/// error is a hung-up terminal, and `eprintln!` would panic there (a panic on the way out).
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// Writes a line to the log only (for the console, whose screen is the place to say things).
pub fn note(text: &str) {
    tracing::info!("{text}");
    if let Some(file) = FILE.get()
        && let Ok(mut f) = file.lock()
    {
        let _ = f.flush();
    }
}
