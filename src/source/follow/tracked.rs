//! A plain file being read: its identity, what was seen of its content, and its read position;
//! reading what is new with positioned reads (a file truncated underneath is noticed, never
//! mapped). Its descriptor may be closed while it is idle (see `budget`); it is reopened, by
//! identity, before it is read again.

use super::budget::Handle;
use super::identity::{ContentRef, HEAD_LEN, OpenContent, Snapshot, Stamp, WINDOW_LEN, push_window, same_prefix};
use super::splitter::{Piece, Splitter};
use super::{BINARY_NUL_PERCENT, BINARY_SAMPLE, READ_BUDGET};
use crate::source::nul_percent;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::SystemTime;

/// A plain file being read.
#[derive(Debug)]
pub(super) struct Tracked {
    /// `None` while closed to keep within the descriptor budget.
    pub(super) file: Option<Handle>,
    pub(super) dev: u64,
    pub(super) ino: u64,
    /// The first bytes of the file (up to a KiB), as far as they have been seen.
    pub(super) head: Vec<u8>,
    /// The last bytes before `offset`.
    pub(super) window: Vec<u8>,
    /// Next byte to read.
    pub(super) offset: u64,
    pub(super) splitter: Splitter,
    pub(super) binary_checked: bool,
    /// Appeared after the start and not judged yet: it may be a copy of content already read.
    pub(super) fresh: bool,
    /// The file's stamp when it was last read to its end: while its name shows the same, there is
    /// nothing to read and the file is not touched.
    pub(super) seen: Option<Stamp>,
    /// Read since the descriptor budget last looked at it (it is kept open a round longer).
    pub(super) used: bool,
    /// The ticket of its place in the budget's queue (current files only).
    pub(super) ticket: u64,
    /// Empty when last looked at (just truncated, or new): if it is truncated before its first
    /// bytes are read, nothing in it tells. Before those bytes are read, rotated files beside it are
    /// looked for (the content in between may be in a copy).
    pub(super) blind: bool,
    /// When the file was made, where the filesystem keeps it: rotated files made later are
    /// newer than it.
    pub(super) born: Option<SystemTime>,
    /// When its content was last seen as read (not truncated or rewritten): content that replaced
    /// it began later.
    pub(super) intact_at: SystemTime,
}

impl Tracked {
    /// A file just opened, read from its start; `head` is what was read of its first bytes.
    pub(super) fn new(file: Handle, identity: (u64, u64), head: &[u8]) -> Tracked {
        Tracked {
            file: Some(file),
            dev: identity.0,
            ino: identity.1,
            head: head[..head.len().min(HEAD_LEN)].to_vec(),
            window: Vec::new(),
            offset: 0,
            splitter: Splitter::default(),
            binary_checked: false,
            fresh: false,
            seen: None,
            used: true,
            ticket: 0,
            blind: false,
            born: None,
            intact_at: SystemTime::now(),
        }
    }

    fn open_file(&self) -> std::io::Result<&File> {
        self.file.as_deref().ok_or_else(|| std::io::Error::other("the file is not open"))
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot { head: self.head.clone(), window: self.window.clone(), end: self.offset }
    }

    pub(super) fn content(&self) -> ContentRef<'_> {
        ContentRef { head: &self.head, window: &self.window, end: self.offset }
    }

    /// After reopening by identity: true when `file` still holds the content read up to the read
    /// position (same head, same bytes just before it). A reused inode holds other bytes.
    pub(super) fn same_content(&self, file: &File, size: u64) -> bool {
        if self.offset == 0 {
            return true;
        }
        let Ok(head) = read_at_most(file, 0, HEAD_LEN) else { return false };
        size >= self.offset && same_prefix(&OpenContent { file, size, head: &head }, &self.content())
    }

    /// Re-reads the head; false when it no longer agrees with the one seen (content rewritten).
    pub(super) fn refresh_head(&mut self) -> std::io::Result<bool> {
        let now = read_at_most(self.open_file()?, 0, HEAD_LEN)?;
        let n = now.len().min(self.head.len());
        if now[..n] != self.head[..n] {
            return Ok(false);
        }
        if now.len() > self.head.len() {
            self.head = now;
        }
        Ok(true)
    }

    /// True when the file was truncated, or truncated and rewritten, since it was last read.
    pub(super) fn replaced(&mut self) -> std::io::Result<bool> {
        let size = self.open_file()?.metadata()?.len();
        Ok(size < self.offset || (size > 0 && !self.refresh_head()?))
    }

    /// Starts over at byte 0 (the content was replaced); returns what was read of the old content
    /// and the splitter holding its unfinished last line.
    pub(super) fn restart(&mut self) -> (Snapshot, Splitter) {
        let old = self.snapshot();
        let splitter = std::mem::take(&mut self.splitter);
        self.head = self.open_file().and_then(|f| read_at_most(f, 0, HEAD_LEN)).unwrap_or_default();
        self.window.clear();
        self.offset = 0;
        self.binary_checked = false;
        self.fresh = false;
        self.seen = None;
        self.blind = self.head.is_empty();
        (old, splitter)
    }

    /// Moves the read position to `offset` (a file's start, or where a copy continues).
    pub(super) fn seek(&mut self, offset: u64) {
        self.offset = offset;
        let from = offset.saturating_sub(WINDOW_LEN as u64);
        self.window =
            self.open_file().and_then(|f| read_at_most(f, from, (offset - from) as usize)).unwrap_or_default();
    }
}

pub(super) enum Step {
    Idle,
    Read { more: bool },
    Replaced,
    Binary(u32),
}

/// Reads what is new in a tracked file (at most [`READ_BUDGET`] bytes); the file must be open.
/// Bytes are only used when the file was not truncated or rewritten while they were read.
pub(super) fn read_tracked(t: &mut Tracked, max_line: usize, out: &mut Vec<Piece>) -> std::io::Result<Step> {
    let checked_at = SystemTime::now();
    let file = t.open_file()?;
    let size = file.metadata()?.len();
    if size < t.offset {
        return Ok(Step::Replaced);
    }
    if !t.binary_checked && size > 0 {
        let sample = read_at_most(file, 0, BINARY_SAMPLE)?;
        let percent = nul_percent(&sample);
        if percent > BINARY_NUL_PERCENT {
            return Ok(Step::Binary(percent));
        }
        t.binary_checked = true;
    }
    let file = t.open_file()?;
    if size == t.offset {
        if !t.refresh_head()? {
            return Ok(Step::Replaced);
        }
        t.intact_at = checked_at;
        return Ok(Step::Idle);
    }
    let want = (size - t.offset).min(READ_BUDGET) as usize;
    let buf = read_at_most(file, t.offset, want)?;
    if buf.is_empty() {
        return Ok(Step::Idle);
    }
    let now = file.metadata()?.len();
    if now < t.offset + buf.len() as u64 || !t.refresh_head()? {
        return Ok(Step::Replaced);
    }
    push_window(&mut t.window, &buf);
    t.splitter.feed(&buf, t.offset, max_line, out);
    t.offset += buf.len() as u64;
    t.used = true;
    t.intact_at = checked_at;
    Ok(Step::Read { more: t.offset < now })
}

/// Reads up to `len` bytes at `offset` (fewer at the end of the file).
pub(super) fn read_at_most(file: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}
