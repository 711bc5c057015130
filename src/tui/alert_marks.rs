//! Acknowledgements and silences of the Alerts screen, kept across runs in the state directory
//! (`alert-marks.json`): written whole to a new file beside it (0600, created, never opened
//! through a symlink) and renamed over it, so a reader sees the old file or the new one; a symlink
//! or another user's file in its place is an error, left alone. Read back with the texts made
//! terminal-safe.

use super::alerts::AlertMarks;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Bytes read at most.
const MAX_BYTES: u64 = 1 << 20;

/// Where the marks are kept.
pub fn path() -> PathBuf {
    crate::config::state_dir().join("alert-marks.json")
}

/// The marks in `path` (none when there is no file, or it cannot be read safely: said in `Err`).
pub fn load(path: &Path) -> Result<AlertMarks, String> {
    use std::io::Read;
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AlertMarks::default()),
        Err(e) => return Err(format!("{}: {e}", crate::text::path_text(path))),
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(format!("{}: not a regular file", crate::text::path_text(path)));
    }
    let mut text = String::new();
    file.take(MAX_BYTES).read_to_string(&mut text).map_err(|e| format!("{}: {e}", crate::text::path_text(path)))?;
    let mut marks: AlertMarks =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", crate::text::path_text(path)))?;
    for a in &mut marks.acks {
        a.rule = crate::text::sanitize_owned(&a.rule, 200);
    }
    for s in &mut marks.silences {
        s.rule = crate::text::sanitize_owned(&s.rule, 200);
    }
    Ok(marks)
}

/// Writes the marks to `path` atomically (its directory created 0700, the file 0600).
pub fn save(path: &Path, marks: &AlertMarks) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no directory"))?;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // what is there now must be our own regular file (or nothing)
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if !(meta.file_type().is_file() && meta.nlink() == 1 && meta.uid() == me) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "something else is there (a symbolic link, a hard link or another user's file): not replaced",
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let text = serde_json::to_string_pretty(marks).map_err(std::io::Error::other)?;
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::alerts::{Ack, Silence};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn marks_round_trip_0600_atomically_and_never_through_a_symlink() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("state").join("alert-marks.json");
        assert_eq!(load(&path).expect("no file is no marks"), AlertMarks::default());
        let marks = AlertMarks {
            acks: vec![Ack { rule: "model error burst".into(), since_ms: 5, at_ms: 6 }],
            silences: vec![Silence { rule: "inference latency".into(), until_ms: 100, at_ms: 7 }],
        };
        save(&path, &marks).expect("saved");
        assert_eq!(load(&path).expect("read"), marks);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // replaced whole; no temporary left behind
        save(&path, &AlertMarks::default()).expect("saved again");
        assert_eq!(load(&path).expect("read"), AlertMarks::default());
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        // a symlink in its place: neither read nor replaced, its target untouched
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "keep").expect("target");
        std::fs::remove_file(&path).expect("rm");
        std::os::unix::fs::symlink(&target, &path).expect("symlink");
        assert!(load(&path).is_err());
        assert!(save(&path, &marks).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
    }
}
