//! An open plain file being read: its identity, what was seen of its content, and its read
//! position; reading what is new with positioned reads (a file truncated underneath is noticed,
//! never mapped).

use super::identity::{HEAD_LEN, Snapshot, WINDOW_LEN, push_window};
use super::splitter::{Piece, Splitter};
use super::{BINARY_NUL_PERCENT, BINARY_SAMPLE, READ_BUDGET};
use crate::source::nul_percent;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// An open plain file being read.
#[derive(Debug)]
pub(super) struct Tracked {
    pub(super) file: File,
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
}

impl Tracked {
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot { head: self.head.clone(), window: self.window.clone(), end: self.offset }
    }

    /// Re-reads the head; false when it no longer agrees with the one seen (content rewritten).
    pub(super) fn refresh_head(&mut self) -> std::io::Result<bool> {
        let now = read_at_most(&self.file, 0, HEAD_LEN)?;
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
        let size = self.file.metadata()?.len();
        Ok(size < self.offset || (size > 0 && !self.refresh_head()?))
    }

    /// Starts over at byte 0 (the content was replaced); returns the pieces still held and what was
    /// read of the old content.
    pub(super) fn restart(&mut self, out: &mut Vec<Piece>) -> Snapshot {
        self.splitter.flush(out);
        let old = self.snapshot();
        self.head = read_at_most(&self.file, 0, HEAD_LEN).unwrap_or_default();
        self.window.clear();
        self.offset = 0;
        self.binary_checked = false;
        self.fresh = false;
        old
    }

    /// Moves the read position to `offset` (a file's start, or where a copy continues).
    pub(super) fn seek(&mut self, offset: u64) {
        self.offset = offset;
        let from = offset.saturating_sub(WINDOW_LEN as u64);
        self.window = read_at_most(&self.file, from, (offset - from) as usize).unwrap_or_default();
    }
}

pub(super) enum Step {
    Idle,
    Read { more: bool },
    Replaced,
    Binary(u32),
}

/// Reads what is new in a tracked file (at most [`READ_BUDGET`] bytes). Bytes are only used when
/// the file was not truncated or rewritten while they were read.
pub(super) fn read_tracked(t: &mut Tracked, max_line: usize, out: &mut Vec<Piece>) -> std::io::Result<Step> {
    let size = t.file.metadata()?.len();
    if size < t.offset {
        return Ok(Step::Replaced);
    }
    if !t.binary_checked && size > 0 {
        let sample = read_at_most(&t.file, 0, BINARY_SAMPLE)?;
        let percent = nul_percent(&sample);
        if percent > BINARY_NUL_PERCENT {
            return Ok(Step::Binary(percent));
        }
        t.binary_checked = true;
    }
    if size == t.offset {
        return Ok(Step::Idle);
    }
    let want = (size - t.offset).min(READ_BUDGET) as usize;
    let buf = read_at_most(&t.file, t.offset, want)?;
    if buf.is_empty() {
        return Ok(Step::Idle);
    }
    let now = t.file.metadata()?.len();
    if now < t.offset + buf.len() as u64 || !t.refresh_head()? {
        return Ok(Step::Replaced);
    }
    push_window(&mut t.window, &buf);
    t.splitter.feed(&buf, t.offset, max_line, out);
    t.offset += buf.len() as u64;
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
