//! The effects the pure update asks for, carried out by the runtime: requests to the engine, the
//! clipboard, opening a link, writing an export, mouse capture. Each user-visible one ends in a
//! status message saying what was done (and how to check, where the terminal cannot confirm).

use super::state::State;
use super::theme::Theme;
use super::update::Effect;
use crate::backend::worker::{Link, Request};
use crate::integrate::clipboard::{self, ClipboardMode};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs one effect.
pub fn run(effect: Effect, state: &mut State, clipboard_mode: ClipboardMode, link: &Link, theme: &mut Theme) {
    match effect {
        Effect::SaveHistory(lines) => {
            if let Err(e) = super::history::save(&super::history::path(), &lines) {
                say(state, format!("the command history was not kept: {}: {e}", super::history::path().display()));
            }
        }
        Effect::SetTheme(name) => match Theme::load(&name) {
            Ok(loaded) => {
                *theme = loaded;
                say(state, format!("theme: {name}"));
            }
            Err(e) => say(state, format!("{e}; themes: {}", Theme::builtin_names().join(", "))),
        },
        Effect::Window(range) => link.send(Request::Window(range)),
        Effect::Related(id) => link.send(Request::Related(id)),
        Effect::Lines(query) => link.send(Request::Lines(query)),
        Effect::Patterns(query) => link.send(Request::Patterns(query)),
        Effect::AddRule { spec, path } => link.send(Request::AddRule { spec, path }),
        Effect::CodeVideos { code, range } => link.send(Request::CodeVideos { code, range }),
        Effect::Search { text, from_ms, to_ms } => {
            link.send(Request::Search(crate::backend::SearchQuery::new(&text, from_ms, to_ms)))
        }
        Effect::CancelSearch => link.send(Request::CancelSearch),
        Effect::SaveAlertMarks(marks) => {
            let path = super::alert_marks::path();
            if let Err(e) = super::alert_marks::save(&path, &marks) {
                say(state, format!("acknowledgements and silences not kept: {}: {e}", crate::text::path_text(&path)));
            }
        }
        Effect::Bell => {
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x07").and_then(|_| out.flush());
        }
        Effect::Copy { text, label } => {
            let shown = text.lines().next().unwrap_or("").to_string();
            let done = copy(&text, &label, clipboard_mode);
            say(state, format!("{done}: {shown}"));
        }
        Effect::Open(url) => {
            let message = match crate::integrate::open_url(&url) {
                Ok(()) => format!("opened the Kibana link in your browser: {url}"),
                Err(reason) => {
                    let done = copy(&url, "Kibana link", clipboard_mode);
                    format!("{done}; no browser opened: {reason}: {url}")
                }
            };
            say(state, message);
        }
        Effect::Export { video_id, content } => {
            let name = export_name(&video_id, chrono::Utc::now());
            let working = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let message = export(&video_id, &content, &name, &working, &crate::config::state_dir());
            say(state, message);
        }
        Effect::SetMouse(on) => {
            let _ = if on {
                crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
            } else {
                crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture)
            };
        }
    }
}

fn say(state: &mut State, text: String) {
    state.set_status(crate::text::sanitize_owned(&text, 600));
}

/// Copies `text` and says what was done (writing an OSC 52 sequence to the terminal if needed).
fn copy(text: &str, label: &str, mode: ClipboardMode) -> String {
    match clipboard::copy(text, mode) {
        Ok(copied) => {
            if let Some(sequence) = copied.sequence() {
                let mut out = std::io::stdout();
                if let Err(e) = out.write_all(sequence.as_bytes()).and_then(|_| out.flush()) {
                    return format!("{label} not copied: cannot write to the terminal ({e})");
                }
            }
            copied.describe(label)
        }
        Err(e) => format!("{label} not copied: {e}"),
    }
}

/// `foley-triage-<video>-<UTC time>.log`, the video id reduced to safe characters.
pub fn export_name(video_id: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "foley-triage-{}-{}.log",
        video_id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-', "_"),
        now.format("%Y%m%dT%H%M%S")
    )
}

/// Writes an export into the working directory, or, when that cannot be written, into the state
/// directory; returns the status message saying where it went (or why it went nowhere).
pub fn export(video_id: &str, content: &str, name: &str, working: &Path, state_dir: &Path) -> String {
    let lines = content.lines().count();
    match write_new(working, name, content) {
        Ok(path) => format!("exported {lines} lines of {video_id} to {}", path.display()),
        Err(first) => {
            let fallback = std::fs::create_dir_all(state_dir).and_then(|_| write_new(state_dir, name, content));
            match fallback {
                Ok(path) => format!(
                    "exported {lines} lines of {video_id} to {} (the working directory {} cannot be written: {first})",
                    path.display(),
                    working.display()
                ),
                Err(second) => format!(
                    "could not export {video_id}: {}: {first}; {}: {second}",
                    working.display(),
                    state_dir.display()
                ),
            }
        }
    }
}

/// Creates `dir/name` new (never following a symlink, never overwriting: `name-2`, `name-3`, …
/// when taken), mode 0600, and writes `content`.
pub fn write_new(dir: &Path, name: &str, content: &str) -> std::io::Result<PathBuf> {
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    for attempt in 1..=100 {
        let candidate = if attempt == 1 {
            name.to_string()
        } else if extension.is_empty() {
            format!("{stem}-{attempt}")
        } else {
            format!("{stem}-{attempt}.{extension}")
        };
        let path = dir.join(candidate);
        match crate::demo::create_new(&path) {
            Ok(mut file) => {
                file.write_all(content.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{name} and 99 numbered names are taken")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_never_overwrites_nor_follows_a_symlink_and_falls_back_to_the_state_directory() {
        let dir = tempfile::tempdir().expect("dir");
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "keep me").expect("write");
        let working = dir.path().join("work");
        std::fs::create_dir(&working).expect("dir");
        std::os::unix::fs::symlink(&outside, working.join("bundle.log")).expect("symlink");
        let state = dir.path().join("state");
        let said = export("vid_1", "a\nb\n", "bundle.log", &working, &state);
        assert!(said.contains(&working.join("bundle-2.log").display().to_string()), "{said}");
        assert_eq!(std::fs::read_to_string(&outside).expect("read"), "keep me", "the symlink was not followed");
        let said = export("vid_1", "c\n", "bundle.log", &working, &state);
        assert!(said.contains("bundle-3.log"), "{said}");
        assert_eq!(std::fs::read_to_string(working.join("bundle-2.log")).expect("read"), "a\nb\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(working.join("bundle-2.log")).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // a working directory that cannot be written (a path under a file: fails even for root)
        let unwritable = outside.join("sub");
        let said = export("vid_1", "d\n", "bundle.log", &unwritable, &state);
        assert!(said.contains(&state.join("bundle.log").display().to_string()), "{said}");
        assert!(said.contains("cannot be written"), "{said}");
        assert_eq!(std::fs::read_to_string(state.join("bundle.log")).expect("read"), "d\n");
    }
}
