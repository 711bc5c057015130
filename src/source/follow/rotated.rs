//! Rotated siblings: files beside a followed name that are rotations of it (`app.log.1`,
//! `app.log-20250901`, `app.1.log`, each maybe `.gz`). When a name's file is rotated away or
//! truncated, its directory is looked at once:
//! - the file read before, if it was closed while idle, is found again by its identity (device and
//!   inode, checked with its content) and drained like any rotated file;
//! - the copy copytruncate made is recognised by its content and read on from where reading the
//!   original stopped, with the original's unfinished last line;
//! - rotated files never opened (renamed away before a poll saw them at the name) are read, oldest
//!   first, from their start, or from where their content was read under another name.
//!
//! Only files written since the name's current content began (less a little slack) are
//! candidates, so rotated files present at the start are left alone, as are the followed names
//! themselves. Files dealt with are remembered by identity and stamp, so none is read twice.

use super::identity::{HEAD_LEN, OpenContent, Snapshot, Stamp, same_prefix};
use super::names::parent_dir;
use super::splitter::Splitter;
use super::tracked::{Tracked, read_at_most};
use super::{FollowItem, Follower, NoticeKind, notice_item};
use crate::source::is_gzip;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// File times are coarser than the clock: a file made just after a moment may carry a time just
/// before it.
pub(super) const CLOCK_SLACK: Duration = Duration::from_millis(50);
/// A truncation is noticed a little after it happened: content begun since may be a little older.
pub(super) const TRUNCATION_SLACK: Duration = Duration::from_secs(1);
/// Rotated files remembered as dealt with.
const MAX_KNOWN: usize = 8192;
/// Bytes of a remembered file's head, to tell a reused inode.
const KNOWN_HEAD: usize = 128;

/// The names `name` would be a rotation of: `base.N`, `base-DATE`, `base.DATE`, `base_DATE`, or
/// `stem.N.ext`, `stem-DATE.ext` for `stem.ext` (logrotate's `extension`); each maybe `.gz`.
pub(super) fn rotation_bases(name: &str) -> Vec<String> {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let mut bases = Vec::new();
    if let Some(base) = strip_rotation_suffix(name) {
        bases.push(base.to_string());
    }
    if let Some(dot) = name.rfind('.') {
        let (stem, extension) = name.split_at(dot);
        if extension.len() > 1
            && extension[1..].bytes().all(|b| b.is_ascii_alphabetic())
            && let Some(base) = strip_rotation_suffix(stem)
        {
            bases.push(format!("{base}{extension}"));
        }
    }
    bases
}

/// `name` without a rotation suffix: the earliest `-`, `_` or `.` after which only a number or a
/// date follows.
fn strip_rotation_suffix(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    (1..bytes.len()).find_map(|p| {
        let suffix = &bytes[p + 1..];
        let dated = !suffix.is_empty()
            && suffix[0].is_ascii_digit()
            && suffix.iter().all(|b| b.is_ascii_digit() || b"-_.:T".contains(b));
        (b"-_.".contains(&bytes[p]) && dated).then(|| &name[..p])
    })
}

/// Orders rotated files oldest first: by modification time, then numbered ones (`.1` newer than
/// `.2`) by number, others (dated) by name.
fn older_first(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    let number = |name: &str| name.strip_suffix(".gz").unwrap_or(name).rsplit_once('.')?.1.parse::<u64>().ok();
    a.mtime.cmp(&b.mtime).then_with(|| match (number(&a.name), number(&b.name)) {
        (Some(x), Some(y)) => y.cmp(&x),
        _ => a.name.cmp(&b.name),
    })
}

/// A directory's entries that are rotations of some name, read once per poll.
#[derive(Default)]
pub(super) struct Listing {
    /// Entry names by the name they are a rotation of.
    by_base: FxHashMap<String, Vec<String>>,
    /// Entry names by inode.
    by_ino: FxHashMap<u64, String>,
}

impl Listing {
    fn read(dir: &Path) -> Listing {
        let mut listing = Listing::default();
        let Ok(entries) = std::fs::read_dir(dir) else { return listing };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else { continue };
            for base in rotation_bases(&name) {
                listing.by_base.entry(base).or_default().push(name.clone());
            }
            listing.by_ino.insert(entry.ino(), name);
        }
        listing
    }
}

/// Rotated files dealt with: read to `end`, or judged to hold nothing new.
#[derive(Default)]
pub(super) struct Known {
    files: FxHashMap<(u64, u64), KnownFile>,
    order: VecDeque<(u64, u64)>,
}

struct KnownFile {
    stamp: Stamp,
    end: u64,
    head: Vec<u8>,
}

impl Known {
    pub(super) fn insert(&mut self, identity: (u64, u64), stamp: Stamp, end: u64, head: &[u8]) {
        let file = KnownFile { stamp, end, head: head[..head.len().min(KNOWN_HEAD)].to_vec() };
        if self.files.insert(identity, file).is_none() {
            self.order.push_back(identity);
            if self.order.len() > MAX_KNOWN
                && let Some(old) = self.order.pop_front()
            {
                self.files.remove(&old);
            }
        }
    }

    /// Unchanged since it was dealt with.
    fn unchanged(&self, identity: (u64, u64), stamp: Stamp) -> bool {
        self.files.get(&identity).is_some_and(|k| k.stamp == stamp)
    }

    /// Where a file dealt with and grown since goes on (same head, not shorter).
    fn read_to(&self, identity: (u64, u64), size: u64, head: &[u8]) -> Option<u64> {
        let known = self.files.get(&identity)?;
        let n = known.head.len().min(head.len());
        (size >= known.end && known.head[..n] == head[..n]).then_some(known.end)
    }
}

/// A rotated file beside a followed name, not dealt with yet.
struct Candidate {
    path: PathBuf,
    name: String,
    identity: (u64, u64),
    /// When it was made (or last written, where the filesystem keeps no birth time).
    mtime: SystemTime,
}

/// Where a rotated file found beside a name is read from.
enum Start {
    /// It is the copy of the content being continued.
    Copy,
    /// Its content was read up to here (under another name, or before it grew).
    At(u64),
    /// Content never read.
    New,
}

/// What was read of content replaced in place (copytruncate), to be continued from its copy.
pub(super) struct Continuation {
    pub(super) snapshot: Snapshot,
    pub(super) splitter: Splitter,
}

impl Follower {
    /// The earliest time a rotated file of a name whose content begins now may have been made
    /// (never before the start, less the clock's slack: older files are history).
    pub(super) fn floor_now(&self, slack: Duration) -> SystemTime {
        let now = SystemTime::now().checked_sub(slack).unwrap_or(SystemTime::UNIX_EPOCH);
        let start = self.started_at.checked_sub(CLOCK_SLACK).unwrap_or(SystemTime::UNIX_EPOCH);
        now.max(start)
    }

    fn listing(&mut self, dir: &Path) -> &Listing {
        self.listings.entry(dir.to_path_buf()).or_insert_with(|| Listing::read(dir))
    }

    /// Looks beside slot `i`'s name after its file was rotated away (`lost`: the file, if it was
    /// closed while idle) or truncated (`continuation`: what was read of it). Files found are put
    /// in the slot's queue of files to drain, oldest first, before the file now at the name.
    /// Returns the name of the copy the continuation is read from, if one was found.
    pub(super) fn adopt_siblings(
        &mut self,
        i: usize,
        lost: Option<Tracked>,
        mut continuation: Option<Continuation>,
        items: &mut Vec<FollowItem>,
    ) -> Option<String> {
        let path = self.slots[i].path.clone();
        let dir = parent_dir(&path);
        let base = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let lost_name = lost.as_ref().and_then(|t| self.listing(&dir).by_ino.get(&t.ino).cloned());
        let names = self.listing(&dir).by_base.get(&base).cloned().unwrap_or_default();

        // the file read before, found again by its identity wherever it went in the directory
        if let Some(mut t) = lost {
            let reopened = lost_name.and_then(|name| {
                let handle = self.open_within_budget(i, &dir.join(name), items).ok()?;
                let meta = handle.metadata().ok()?;
                let same = (meta.dev(), meta.ino()) == (t.dev, t.ino) && t.same_content(&handle, meta.len());
                same.then_some(handle)
            });
            match reopened {
                Some(handle) => {
                    t.file = Some(handle);
                    t.seen = None;
                    self.drain_later(i, t);
                }
                None => {
                    let mut pieces = Vec::new();
                    t.splitter.flush(&mut pieces);
                    self.emit(i, pieces, items);
                    self.remember(i, t.snapshot());
                }
            }
        }

        let floor = self.slots[i].floor.unwrap_or_else(|| self.floor_now(CLOCK_SLACK));
        self.identity_holders();
        let held = self.holders.as_ref();
        let mut candidates: Vec<Candidate> = Vec::new();
        for name in names {
            let candidate = dir.join(&name);
            if self.by_path.contains_key(&candidate) {
                continue; // followed in its own right
            }
            let Ok(meta) = std::fs::symlink_metadata(&candidate) else { continue };
            let identity = (meta.dev(), meta.ino());
            let stamp = Stamp::of(&meta);
            let mtime = meta.created().or_else(|_| meta.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
            if !meta.is_file()
                || held.is_some_and(|h| h.contains_key(&identity))
                || self.known.unchanged(identity, stamp)
            {
                continue;
            }
            candidates.push(Candidate { path: candidate, name, identity, mtime });
        }
        candidates.sort_by(older_first);

        let mut copy_name = None;
        for candidate in candidates {
            let Ok(handle) = self.open_within_budget(i, &candidate.path, items) else { continue };
            let Ok(meta) = handle.metadata() else { continue };
            if (meta.dev(), meta.ino()) != candidate.identity {
                continue;
            }
            let size = meta.len();
            let Ok(head) = read_at_most(&handle, 0, HEAD_LEN) else { continue };
            let stamp = Stamp::of(&meta);
            if is_gzip(&head) {
                // compressed rotations are read when a directory or glob names them
                self.known.insert(candidate.identity, stamp, size, &head);
                continue;
            }
            let start = {
                let content = OpenContent { file: &handle, size, head: &head };
                if continuation.as_ref().is_some_and(|c| same_prefix(&content, &c.snapshot)) {
                    Start::Copy
                } else if let Some(end) =
                    self.known.read_to(candidate.identity, size, &head).or_else(|| self.read_end_of_copy(&content))
                {
                    Start::At(end)
                } else {
                    Start::New
                }
            };
            let mut t = Tracked::new(handle, candidate.identity, &head);
            match start {
                Start::Copy => {
                    let Some(read) = continuation.take() else { continue };
                    t.splitter = read.splitter;
                    t.seek(read.snapshot.end.min(size));
                    t.binary_checked = true;
                    copy_name = Some(candidate.name.clone());
                }
                Start::At(end) if end >= size => {
                    self.known.insert(candidate.identity, stamp, size, &head);
                    continue;
                }
                Start::At(end) => {
                    t.seek(end);
                    t.binary_checked = true;
                    let message =
                        format!("{}: a copy of lines already read; reading it from byte {end} on", candidate.name);
                    items.push(notice_item(&path, NoticeKind::Rotated, message));
                }
                // made (or, where the filesystem keeps no birth time, last written) before the
                // content followed now began: older history, not read
                Start::New if candidate.mtime < floor => {
                    self.known.insert(candidate.identity, stamp, size, &head);
                    continue;
                }
                Start::New => {
                    let message = format!("{}: rotated before it was seen at the name; reading it", candidate.name);
                    items.push(notice_item(&path, NoticeKind::Rotated, message));
                }
            }
            self.drain_later(i, t);
        }

        // no copy: the unfinished last line of the old content is handed on as it is
        if let Some(read) = continuation {
            let mut pieces = Vec::new();
            let mut splitter = read.splitter;
            splitter.flush(&mut pieces);
            self.emit(i, pieces, items);
        }
        copy_name
    }

    /// A drained file is closed: remember it, so that it is not taken for a rotated file never read.
    pub(super) fn forget_drained(&mut self, i: usize, t: Tracked) {
        if let Some(file) = t.file.as_deref()
            && let Ok(meta) = file.metadata()
        {
            self.known.insert((t.dev, t.ino), Stamp::of(&meta), t.offset, &t.head);
        }
        let snapshot = t.snapshot();
        drop(t);
        self.remember(i, snapshot);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rotation_names_are_recognised() {
        assert_eq!(rotation_bases("app.log.1"), vec!["app.log"]);
        assert_eq!(rotation_bases("app.log.12.gz"), vec!["app.log"]);
        assert_eq!(rotation_bases("app.log-20250901"), vec!["app.log"]);
        assert_eq!(rotation_bases("app.log-20250901-1693526400.gz"), vec!["app.log"]);
        assert_eq!(rotation_bases("app.log.2025-09-01"), vec!["app.log"]);
        assert_eq!(rotation_bases("app.1.log"), vec!["app.log"]);
        assert_eq!(rotation_bases("app-20250901.log"), vec!["app.log"]);
        assert!(rotation_bases("app.log").is_empty());
        assert!(rotation_bases("app.log.old").is_empty());
        assert!(rotation_bases("notes.txt").is_empty());
        assert_eq!(rotation_bases("a-2.log.1"), vec!["a-2.log"]);
    }
}
