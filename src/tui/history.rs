//! The command line's history, kept across runs in the state directory (`command-history`):
//! one command a line, created 0600, never read or written through a symlink, its lines made
//! terminal-safe when read back.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Bytes of history read at most (a bigger file is read from its end).
const MAX_BYTES: u64 = 256 * 1024;

/// Where the history is kept.
pub fn path() -> PathBuf {
    crate::config::state_dir().join("command-history")
}

/// The history in `path`, oldest first (empty when there is none, or it cannot be read safely).
pub fn load(path: &Path) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) else {
        return Vec::new();
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    let len = file.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(MAX_BYTES);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.take(MAX_BYTES).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<String> = text
        .lines()
        .skip(usize::from(start > 0)) // a line cut by the start
        .map(|l| crate::text::sanitize_owned(l.trim(), 500))
        .filter(|l| !l.is_empty())
        .collect();
    let excess = lines.len().saturating_sub(super::prompt::HISTORY_KEPT);
    lines.drain(..excess);
    lines
}

/// Writes the history to `path` (its directory created 0700): the file 0600, replaced whole,
/// never through a symlink (a symlink there is an error, left alone).
pub fn save(path: &Path, history: &[String]) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    file.set_len(0)?;
    let mut text = String::new();
    for line in history {
        text.push_str(&line.replace(['\n', '\r'], " "));
        text.push('\n');
    }
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_round_trips_0600_and_never_through_a_symlink() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("state").join("command-history");
        let lines = vec!["video vid_1".to_string(), "last 30m".to_string()];
        save(&path, &lines).expect("save");
        assert_eq!(load(&path), lines);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        // a symlink in its place: neither read nor written through
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "secret\n").expect("write");
        let link = dir.path().join("linked");
        std::os::unix::fs::symlink(&outside, &link).expect("symlink");
        assert!(load(&link).is_empty(), "not read through a symlink");
        assert!(save(&link, &lines).is_err(), "not written through a symlink");
        assert_eq!(std::fs::read_to_string(&outside).expect("read"), "secret\n");
        // hostile bytes come back terminal-safe
        std::fs::write(&path, b"video \x1b]52;c;AAAA\x07vid_1\n\xff\xfe\n").expect("write");
        assert!(load(&path).iter().all(|l| !l.chars().any(crate::text::is_unsafe_char)), "{:?}", load(&path));
    }
}
