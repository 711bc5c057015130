//! The miner's templates and ids kept in the state directory, so that they survive a restart and "new"
//! means new: one JSON file, mode 0600, written atomically (temporary file, fsync, rename), never read
//! or written through a symlink.

use super::miner::{Miner, Settings, Template};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The file in the state directory.
pub const FILE_NAME: &str = "patterns.json";
/// The largest store read back (a damaged or foreign file is refused rather than read whole).
const MAX_BYTES: u64 = 256 * 1024 * 1024;
const VERSION: u32 = 1;

/// Where the templates are kept: `patterns.json` in the state directory.
pub fn default_path() -> PathBuf {
    crate::config::state_dir().join(FILE_NAME)
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    version: u32,
    next_id: u64,
    #[serde(default)]
    evicted: u64,
    templates: Vec<StoredTemplate>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredTemplate {
    id: u64,
    template: String,
    count: u64,
    #[serde(default)]
    first_ms: Option<i64>,
    #[serde(default)]
    last_ms: Option<i64>,
    #[serde(default)]
    last_tick: u64,
}

/// Why the store could not be read or written; the message names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is a symlink; the template store is never read or written through one (remove it)")]
    Symlink { path: String },
    #[error("{path} is not a template store ({reason}); move it away to start afresh")]
    Invalid { path: String, reason: String },
}

fn shown(path: &Path) -> String {
    crate::text::path_text(path)
}

/// Reads a miner back (with `settings`); a missing file gives an empty miner.
pub fn load(path: &Path, settings: Settings) -> Result<Miner, StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| StoreError::Io { path: shown(path), source };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Miner::new(settings)),
        Err(e) => return Err(io(e)),
        Ok(meta) if meta.file_type().is_symlink() => return Err(StoreError::Symlink { path: shown(path) }),
        Ok(_) => {}
    }
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) { StoreError::Symlink { path: shown(path) } } else { io(e) }
    })?;
    let mut text = String::new();
    file.take(MAX_BYTES).read_to_string(&mut text).map_err(io)?;
    let stored: Stored =
        serde_json::from_str(&text).map_err(|e| StoreError::Invalid { path: shown(path), reason: e.to_string() })?;
    if stored.version != VERSION {
        return Err(StoreError::Invalid { path: shown(path), reason: format!("version {}", stored.version) });
    }
    Ok(from_stored(stored, settings))
}

fn from_stored(stored: Stored, settings: Settings) -> Miner {
    let mut miner = Miner::new(settings);
    let mut templates = stored.templates;
    // the most recently seen are kept when the store holds more than the cap
    templates.sort_by_key(|t| std::cmp::Reverse(t.last_tick));
    templates.truncate(miner.settings().max_templates);
    templates.sort_by_key(|t| t.id);
    for t in templates {
        // kept as mined (raw, like the messages it matches); whoever shows a template sanitises it
        let tokens: Vec<Box<str>> = t.template.split(' ').filter(|w| !w.is_empty()).map(Box::from).collect();
        if tokens.len() > super::mask::MAX_TOKENS || t.template.len() > 2 * super::mask::MAX_MESSAGE {
            continue;
        }
        miner.insert(Template {
            id: t.id,
            tokens,
            count: t.count,
            first_ms: t.first_ms,
            last_ms: t.last_ms,
            last_tick: t.last_tick,
        });
    }
    miner.set_next_id(stored.next_id);
    miner.set_evicted(stored.evicted);
    miner
}

/// Writes the miner's templates to `path` atomically: a private temporary file in the same
/// directory, fsync, rename over the old file (a symlink there is refused, never followed).
pub fn save(miner: &Miner, path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let io = |source| StoreError::Io { path: shown(path), source };
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_symlink()
    {
        return Err(StoreError::Symlink { path: shown(path) });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io)?;
    let stored = Stored {
        version: VERSION,
        next_id: miner.next_id(),
        evicted: miner.evicted(),
        templates: miner
            .templates()
            .into_iter()
            .map(|t| StoredTemplate {
                id: t.id,
                template: t.text(),
                count: t.count,
                first_ms: t.first_ms,
                last_ms: t.last_ms,
                last_tick: t.last_tick,
            })
            .collect(),
    };
    let text = serde_json::to_vec(&stored).map_err(|e| io(std::io::Error::other(e)))?;
    // tempfile creates the file with mode 0600 and O_EXCL
    let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    file.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    file.write_all(&text).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
