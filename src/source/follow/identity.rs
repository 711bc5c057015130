//! How a file is told from another: (device, inode), and its content — the first KiB, then a
//! sample where two contents end — to recognise a file rewritten in place, a reused inode when a
//! file closed while idle is reopened, and a copy (copytruncate's, or a compressed rotation) of
//! content already read. A file's size and modification time (its stamp) tell whether it changed
//! since it was last looked at.

use super::tracked::read_at_most;
use super::{Follower, State};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes at the start of a file that identify its content.
pub(super) const HEAD_LEN: usize = 1024;
/// Bytes kept from just before the read position, to recognise a copy of content read.
pub(super) const WINDOW_LEN: usize = 16 * 1024;
/// Bytes compared where a possible copy and the original end.
const SAMPLE_LEN: u64 = 256;
/// Contents no longer open that files appearing later are compared with.
const MAX_RECORDS: usize = 128;

/// A file's size and modification time: when both are as last seen, the file is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    pub(super) size: u64,
    pub(super) mtime: (i64, i64),
}

impl Stamp {
    pub(super) fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp { size: meta.len(), mtime: (meta.mtime(), meta.mtime_nsec()) }
    }
}

/// What a name points to now.
#[derive(Debug, Clone, Copy)]
pub(super) struct NameMeta {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) mtime: (i64, i64),
    /// A named pipe (FIFO), read as a stream.
    pub(super) pipe: bool,
}

impl NameMeta {
    pub(super) fn identity(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    pub(super) fn stamp(&self) -> Stamp {
        Stamp { size: self.size, mtime: self.mtime }
    }
}

/// What is at a followed name now.
#[derive(Debug, Clone)]
pub(super) enum Look {
    /// A regular file or a named pipe.
    Found(NameMeta),
    /// Nothing (or nothing that can be read as a log: a directory, a socket).
    Missing,
    /// Something that stops the name from being followed, said in words (a symbolic link loop,
    /// no permission).
    Problem(String),
}

impl Look {
    pub(super) fn meta(&self) -> Option<NameMeta> {
        match self {
            Look::Found(meta) => Some(*meta),
            _ => None,
        }
    }
}

/// Looks at what `path` names now (following symbolic links).
pub(super) fn look(path: &Path) -> Look {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() || meta.file_type().is_fifo() => Look::Found(NameMeta {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            pipe: meta.file_type().is_fifo(),
        }),
        Ok(_) => Look::Missing,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Look::Problem(
            "is a symbolic link loop (too many levels of symbolic links); waiting for it to be fixed".into(),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) => Look::Missing,
        Err(e) => Look::Problem(format!("cannot be looked at: {e}")),
    }
}

/// The head and last window of content read, up to `end`.
#[derive(Debug, Clone, Default)]
pub(super) struct Snapshot {
    pub(super) head: Vec<u8>,
    pub(super) window: Vec<u8>,
    pub(super) end: u64,
}

impl Snapshot {
    /// Adds the bytes that follow `end`.
    pub(super) fn push(&mut self, data: &[u8]) {
        if self.end == self.head.len() as u64 && self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
        }
        push_window(&mut self.window, data);
        self.end += data.len() as u64;
    }
}

pub(super) fn push_window(window: &mut Vec<u8>, data: &[u8]) {
    if data.len() >= WINDOW_LEN {
        window.clear();
        window.extend_from_slice(&data[data.len() - WINDOW_LEN..]);
        return;
    }
    window.extend_from_slice(data);
    if window.len() > WINDOW_LEN {
        let excess = window.len() - WINDOW_LEN;
        window.drain(..excess);
    }
}

/// Content whose bytes can be compared: an open file, or what is kept of content read.
pub(super) trait Content {
    fn size(&self) -> u64;
    fn head(&self) -> &[u8];
    /// Bytes `[from, to)`, when they are still available.
    fn bytes(&self, from: u64, to: u64) -> Option<Vec<u8>>;
}

impl Snapshot {
    pub(super) fn content(&self) -> ContentRef<'_> {
        ContentRef { head: &self.head, window: &self.window, end: self.end }
    }
}

impl Content for Snapshot {
    fn size(&self) -> u64 {
        self.end
    }
    fn head(&self) -> &[u8] {
        &self.head
    }
    fn bytes(&self, from: u64, to: u64) -> Option<Vec<u8>> {
        self.content().bytes(from, to)
    }
}

/// What is kept of content read (its head, and the window before `end`), borrowed.
pub(super) struct ContentRef<'a> {
    pub(super) head: &'a [u8],
    pub(super) window: &'a [u8],
    pub(super) end: u64,
}

impl Content for ContentRef<'_> {
    fn size(&self) -> u64 {
        self.end
    }
    fn head(&self) -> &[u8] {
        self.head
    }
    fn bytes(&self, from: u64, to: u64) -> Option<Vec<u8>> {
        if from > to || to > self.end {
            return None;
        }
        if to <= self.head.len() as u64 {
            return self.head.get(from as usize..to as usize).map(<[u8]>::to_vec);
        }
        let start = self.end - self.window.len() as u64;
        if from < start {
            return None;
        }
        self.window.get((from - start) as usize..(to - start) as usize).map(<[u8]>::to_vec)
    }
}

pub(super) struct OpenContent<'a> {
    pub(super) file: &'a File,
    pub(super) size: u64,
    pub(super) head: &'a [u8],
}

impl Content for OpenContent<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn head(&self) -> &[u8] {
        self.head
    }
    fn bytes(&self, from: u64, to: u64) -> Option<Vec<u8>> {
        if from > to || to > self.size {
            return None;
        }
        let bytes = read_at_most(self.file, from, (to - from) as usize).ok()?;
        (bytes.len() as u64 == to - from).then_some(bytes)
    }
}

/// True when two heads agree over their common length (and there is one).
pub(super) fn heads_agree(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

/// True when `candidate` holds the same bytes as `known` over their common length: their heads
/// agree, and so do the last bytes of the common part (or, where those are no longer available,
/// the heads agree over a full KiB).
pub(super) fn same_prefix(candidate: &dyn Content, known: &dyn Content) -> bool {
    let (a, b) = (candidate.head(), known.head());
    if !heads_agree(a, b) {
        return false;
    }
    let n = a.len().min(b.len());
    let common = candidate.size().min(known.size());
    if common <= n as u64 {
        return true;
    }
    let k = SAMPLE_LEN.min(common);
    match (candidate.bytes(common - k, common), known.bytes(common - k, common)) {
        (Some(x), Some(y)) => x == y,
        _ => n == HEAD_LEN,
    }
}

/// Content read under one name that is no longer open (or no longer the same content).
#[derive(Debug)]
pub(super) struct Record {
    pub(super) slot: usize,
    pub(super) snapshot: Snapshot,
}

/// Where content already read was found for a file that appeared later.
pub(super) enum Found {
    /// In a file still open; `read_to` is how far it has been read.
    Open { read_to: u64 },
    /// In content no longer open, read up to `end`.
    Record { end: u64 },
}

impl Follower {
    pub(super) fn remember(&mut self, slot: usize, snapshot: Snapshot) {
        if snapshot.end == 0 {
            return;
        }
        if self.records.len() >= MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(Record { slot, snapshot });
    }

    /// For a file that appeared after the start and has data, not judged yet: `Some(None)` to hold
    /// it back (a copy of content still being read), `Some(Some(offset))` to read it from `offset`
    /// (0: new content; more: a copy of content read that far). `None` when there is nothing to
    /// decide.
    pub(super) fn fresh_decision(&self, i: usize) -> Option<Option<u64>> {
        let State::Plain(t) = &self.slots.get(i)?.state else { return None };
        if !t.fresh {
            return None;
        }
        let file = t.file.as_deref()?;
        let size = file.metadata().ok()?.len();
        if size == 0 {
            return Some(None);
        }
        let head = read_at_most(file, 0, HEAD_LEN).ok()?;
        let candidate = OpenContent { file, size, head: &head };
        Some(match self.find_copy(i, &candidate) {
            Some(Found::Open { .. }) => None,
            Some(Found::Record { end }) => Some(end.min(size)),
            None => Some(0),
        })
    }

    /// Looks for content already read, under other names, that `candidate` is a copy of.
    pub(super) fn find_copy(&self, i: usize, candidate: &dyn Content) -> Option<Found> {
        for (j, slot) in self.slots.iter().enumerate() {
            if j == i {
                continue;
            }
            let current = match &slot.state {
                State::Plain(t) => Some(t),
                _ => None,
            };
            for t in current.into_iter().chain(slot.retiring.iter()) {
                if t.fresh || !heads_agree(candidate.head(), &t.head) {
                    continue;
                }
                // an open file is compared as it is now; one closed while idle, as it was read
                let same = match t.file.as_deref() {
                    Some(file) => {
                        let Ok(meta) = file.metadata() else { continue };
                        same_prefix(candidate, &OpenContent { file, size: meta.len(), head: &t.head })
                    }
                    None => same_prefix(candidate, &t.content()),
                };
                if same {
                    return Some(Found::Open { read_to: t.offset });
                }
            }
        }
        self.records
            .iter()
            .rev()
            .filter(|r| r.slot != i)
            .find(|r| same_prefix(candidate, &r.snapshot))
            .map(|r| Found::Record { end: r.snapshot.end })
    }

    /// How far content that `candidate` is a copy of was read, by any name (the newest such
    /// content first).
    pub(super) fn read_end_of_copy(&self, candidate: &dyn Content) -> Option<u64> {
        self.records.iter().rev().find(|r| same_prefix(candidate, &r.snapshot)).map(|r| r.snapshot.end)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_compare_prefixes() {
        let mut whole = Snapshot::default();
        whole.push(&vec![b'a'; 3000]);
        whole.push(b"0123456789");
        let mut copy = Snapshot::default();
        copy.push(&vec![b'a'; 3000]);
        assert!(same_prefix(&copy, &whole));
        let mut other = Snapshot::default();
        other.push(&vec![b'a'; 2990]);
        other.push(b"different!");
        assert!(!same_prefix(&other, &whole));
        assert!(!same_prefix(&Snapshot::default(), &whole), "empty content matches nothing");
    }
}
