//! Rotated siblings: files beside a followed name that are rotations of it (`app.log.1`,
//! `app.log-20250901`, `app.1.log`, each maybe `.gz`). When a name's file is rotated away or
//! truncated, its directory is looked at:
//! - the file read before, if it was closed while idle, is found again by its identity (device and
//!   inode, checked with its content) and drained like any rotated file;
//! - the copy copytruncate made is recognised by its content and read on from where reading the
//!   original stopped, with the original's unfinished last line;
//! - rotated files never opened (renamed away, or copied and truncated away, before a poll saw
//!   them) are read, oldest first, from their start, or from where their content was read under
//!   another name.
//!
//! Only files made since the name's previous content began are candidates (rotated files present
//! when the name first held a file are history, left alone), and only files made before the
//! content now at the name began: newer ones (rotated while a slow poll went on) wait for the
//! name's next rotation, and a copy of what the name holds now (a copy under way) waits for the
//! truncation that follows it. A file truncated while empty cannot show a second truncation
//! before its first bytes are read, so the directory is looked at again before they are. Names
//! move while a rotation is under way: files are gathered by identity, the directory is looked at
//! again until it stays the same, and a file whose name moved is reopened by its inode. Files
//! dealt with are remembered by identity, stamp and birth time, so none is read twice.

use super::budget::Handle;
use super::identity::{Content, HEAD_LEN, OpenContent, Snapshot, Stamp, same_prefix};
use super::names::parent_dir;
use super::splitter::Splitter;
use super::tracked::{Tracked, read_at_most};
use super::{FollowItem, Follower, NoticeKind, State, notice_item};
use crate::source::is_gzip;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// File times are coarser than the clock: a file made just after a moment may carry a time just
/// before it.
pub(super) const CLOCK_SLACK: Duration = Duration::from_millis(50);
/// Rotated files remembered as dealt with.
const MAX_KNOWN: usize = 8192;
/// Bytes of a remembered file's head, to tell a reused inode.
const KNOWN_HEAD: usize = 128;
/// Looks at a directory while names move in it (a rotation under way), at most.
const SCAN_TRIES: usize = 4;

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
    a.made.cmp(&b.made).then_with(|| match (number(&a.name), number(&b.name)) {
        (Some(x), Some(y)) => y.cmp(&x),
        _ => a.name.cmp(&b.name),
    })
}

/// A directory's entries that are rotations of some name, kept for a poll while the directory
/// does not change.
#[derive(Default)]
pub(super) struct Listing {
    /// Entry names by the name they are a rotation of.
    by_base: FxHashMap<String, Vec<String>>,
    /// Entry names by inode.
    by_ino: FxHashMap<u64, String>,
    /// The directory's times just before it was read.
    stamp: Option<DirStamp>,
}

/// A directory's modification and change times: any entry added, removed or renamed changes them.
type DirStamp = (i64, i64, i64, i64);

fn dir_stamp(dir: &Path) -> Option<DirStamp> {
    let meta = std::fs::metadata(dir).ok()?;
    Some((meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec()))
}

impl Listing {
    fn read(dir: &Path) -> Listing {
        let mut listing = Listing { stamp: dir_stamp(dir), ..Listing::default() };
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
    /// Its first bytes (empty when it was not opened: history present at the start).
    head: Vec<u8>,
    /// When it was made, where the filesystem keeps it: a reused inode was made later.
    born: Option<SystemTime>,
}

impl Known {
    pub(super) fn insert(&mut self, identity: (u64, u64), meta: &std::fs::Metadata, end: u64, head: &[u8]) {
        let file = KnownFile {
            stamp: Stamp::of(meta),
            end,
            head: head[..head.len().min(KNOWN_HEAD)].to_vec(),
            born: meta.created().ok(),
        };
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

    /// Where a file dealt with and grown since goes on (same birth, same head, not shorter).
    fn read_to(&self, identity: (u64, u64), meta: &std::fs::Metadata, head: &[u8]) -> Option<u64> {
        let known = self.files.get(&identity)?;
        let n = known.head.len().min(head.len());
        let same_birth = match (known.born, meta.created().ok()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        (same_birth && meta.len() >= known.end && known.head[..n] == head[..n]).then_some(known.end)
    }
}

/// A rotated file beside a followed name, not dealt with yet.
struct Candidate {
    name: String,
    identity: (u64, u64),
    stamp: Stamp,
    /// When it was made (or last written, where the filesystem keeps no birth time).
    made: SystemTime,
}

/// Where a rotated file found beside a name is read from.
enum Start {
    /// It is the copy of the content being continued.
    Copy,
    /// Its content was read up to here (under another name, or before it grew).
    At(u64),
    /// Content never read.
    New,
    /// A copy of what the name holds now (copytruncate under way): it is what a truncation
    /// noticed later is continued from.
    Later,
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
        self.floor_at(SystemTime::now(), slack)
    }

    /// The same for content that began after `began`.
    pub(super) fn floor_at(&self, began: SystemTime, slack: Duration) -> SystemTime {
        let began = began.checked_sub(slack).unwrap_or(SystemTime::UNIX_EPOCH);
        let start = self.started_at.checked_sub(CLOCK_SLACK).unwrap_or(SystemTime::UNIX_EPOCH);
        began.max(start)
    }

    /// The name of slot `i` holds its first file: rotated files beside it now are its history,
    /// remembered as dealt with up to their present size (what is added to them later is read).
    pub(super) fn note_history(&mut self, i: usize) {
        let path = self.slots[i].path.clone();
        let dir = parent_dir(&path);
        let Some(base) = path.file_name().and_then(|n| n.to_str()) else { return };
        let Some(names) = self.listing(&dir).by_base.get(base).cloned() else { return };
        for name in names {
            let sibling = dir.join(name);
            if self.by_path.contains_key(&sibling) {
                continue;
            }
            if let Ok(meta) = std::fs::symlink_metadata(&sibling)
                && meta.is_file()
            {
                self.known.insert((meta.dev(), meta.ino()), &meta, meta.len(), &[]);
            }
        }
    }

    /// The listing of `dir`: the one read earlier in this poll while the directory is unchanged,
    /// else read again.
    fn listing(&mut self, dir: &Path) -> &Listing {
        let fresh = self.listings.get(dir).is_some_and(|l| l.stamp.is_some() && l.stamp == dir_stamp(dir));
        if !fresh {
            self.listings.insert(dir.to_path_buf(), Listing::read(dir));
        }
        self.listings.entry(dir.to_path_buf()).or_default()
    }

    /// Rotations of `base` in `dir` (not followed themselves), each once, by identity, under its
    /// latest name. While a rotation is under way names move as they are looked at: the directory
    /// is looked at again (a few times at most) until it stayed the same while it was looked at.
    fn gather_siblings(&mut self, dir: &Path, base: &str) -> Vec<Candidate> {
        let mut found: FxHashMap<(u64, u64), Candidate> = FxHashMap::default();
        for _ in 0..SCAN_TRIES {
            let listing = self.listing(dir);
            let (names, stamp) = (listing.by_base.get(base).cloned().unwrap_or_default(), listing.stamp);
            let mut moved = false;
            for name in names {
                let path = dir.join(&name);
                if self.by_path.contains_key(&path) {
                    continue; // followed in its own right
                }
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    moved = true; // listed, then gone
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                let identity = (meta.dev(), meta.ino());
                let made = meta.created().or_else(|_| meta.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
                let stamp = Stamp::of(&meta);
                if let Some(seen) = found.insert(identity, Candidate { name, identity, stamp, made }) {
                    moved |= seen.name != found[&identity].name;
                }
            }
            if !moved && stamp.is_some() && stamp == dir_stamp(dir) {
                break;
            }
            self.listings.remove(dir);
        }
        found.into_values().collect()
    }

    /// Opens the file `identity` of slot `i`'s directory, at `name` or, when it moved on since it
    /// was looked at, wherever the directory now has it.
    fn open_by_identity(
        &mut self,
        i: usize,
        dir: &Path,
        name: &str,
        identity: (u64, u64),
        items: &mut Vec<FollowItem>,
    ) -> Option<(Handle, std::fs::Metadata)> {
        let mut name = name.to_string();
        for _ in 0..SCAN_TRIES {
            if let Ok(handle) = self.open_within_budget(i, &dir.join(&name), items)
                && let Ok(meta) = handle.metadata()
                && (meta.dev(), meta.ino()) == identity
            {
                return Some((handle, meta));
            }
            self.listings.remove(dir);
            name = self.listing(dir).by_ino.get(&identity.1)?.clone();
        }
        None
    }

    /// Looks beside slot `i`'s name after its file was rotated away (`lost`: the file, if it was
    /// closed while idle) or truncated (`continuation`: what was read of it). Files found are put
    /// in the slot's queue of files to drain, oldest first, before the file now at the name;
    /// rotated files never read that were made after `newest` (the time the content now at the
    /// name began) are newer than it and left for the name's next rotation. Returns the name of
    /// the copy the continuation is read from, if one was found.
    pub(super) fn adopt_siblings(
        &mut self,
        i: usize,
        lost: Option<Tracked>,
        mut continuation: Option<Continuation>,
        newest: Option<SystemTime>,
        items: &mut Vec<FollowItem>,
    ) -> Option<String> {
        let path = self.slots[i].path.clone();
        let dir = parent_dir(&path);
        let base = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();

        // the file read before, found again by its identity wherever it went in the directory
        if let Some(mut t) = lost {
            let name = self.listing(&dir).by_ino.get(&t.ino).cloned();
            let reopened = name
                .and_then(|name| self.open_by_identity(i, &dir, &name, (t.dev, t.ino), items))
                .filter(|(handle, meta)| t.same_content(handle, meta.len()));
            match reopened {
                Some((handle, _)) => {
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
        let mut candidates = self.gather_siblings(&dir, &base);
        candidates.retain(|c| !self.known.unchanged(c.identity, c.stamp));
        candidates.sort_by(older_first);

        let mut copy_name = None;
        for candidate in candidates {
            self.identity_holders();
            if self.holders.as_ref().is_some_and(|h| h.contains_key(&candidate.identity)) {
                continue; // followed, being drained, or taken just now
            }
            let Some((handle, meta)) = self.open_by_identity(i, &dir, &candidate.name, candidate.identity, items)
            else {
                continue;
            };
            let size = meta.len();
            if size == 0 {
                continue; // nothing to judge it by yet (a copy just begun): looked at again later
            }
            let Ok(head) = read_at_most(&handle, 0, HEAD_LEN) else { continue };
            if is_gzip(&head) {
                // compressed rotations are read when a directory or glob names them
                self.known.insert(candidate.identity, &meta, size, &head);
                continue;
            }
            let start = {
                let content = OpenContent { file: &handle, size, head: &head };
                if continuation.as_ref().is_some_and(|c| same_prefix(&content, &c.snapshot)) {
                    Start::Copy
                } else if self.copy_of_current(i, &content) {
                    Start::Later
                } else if let Some(end) =
                    self.known.read_to(candidate.identity, &meta, &head).or_else(|| self.read_end_of_copy(&content))
                {
                    Start::At(end)
                } else {
                    Start::New
                }
            };
            if matches!(start, Start::Later) {
                continue;
            }
            let mut t = Tracked::new(handle, candidate.identity, &head);
            match start {
                Start::Later => {}
                Start::Copy => {
                    let Some(read) = continuation.take() else { continue };
                    t.splitter = read.splitter;
                    t.seek(read.snapshot.end.min(size));
                    t.binary_checked = true;
                    copy_name = Some(candidate.name.clone());
                }
                Start::At(end) if end >= size => {
                    self.known.insert(candidate.identity, &meta, size, &head);
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
                Start::New if candidate.made < floor => {
                    self.known.insert(candidate.identity, &meta, size, &head);
                    continue;
                }
                // rotated after the file at the name was made (while this poll went on): newer
                Start::New if newest.is_some_and(|n| candidate.made > n) => continue,
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

    /// Whether `candidate` is a copy of the content at slot `i`'s name now (a copy being made of
    /// it, or made and the truncation not noticed yet).
    fn copy_of_current(&self, i: usize, candidate: &dyn Content) -> bool {
        let State::Plain(t) = &self.slots[i].state else { return false };
        match t.file.as_deref() {
            Some(file) => {
                let (Ok(meta), Ok(head)) = (file.metadata(), read_at_most(file, 0, HEAD_LEN)) else { return false };
                same_prefix(candidate, &OpenContent { file, size: meta.len(), head: &head })
            }
            None => t.offset > 0 && same_prefix(candidate, &t.content()),
        }
    }

    /// A drained file is closed: remember it, so that it is not taken for a rotated file never read.
    pub(super) fn forget_drained(&mut self, i: usize, t: Tracked) {
        if let Some(file) = t.file.as_deref()
            && let Ok(meta) = file.metadata()
        {
            self.known.insert((t.dev, t.ino), &meta, t.offset, &t.head);
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
