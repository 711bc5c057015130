//! The live follower: `tail -F` for many files at once, rotation-proof. Follows files by name
//! (rename, copytruncate, delete-and-recreate, names that do not exist yet), directories and globs
//! (new files are picked up), reads rotated `.gz` files once, and hands back complete lines with
//! their file offsets; it never maps files (a log truncated underneath is read with `pread`).
//!
//! How a file is told from another. While a file is open its (device, inode) names it: an open
//! file's inode cannot be reused. Its first KiB tells whether it was truncated and rewritten in
//! place (same inode, other content). A file that appears later is compared with content already
//! read — the first KiB, then a sample where the two end — so that the copy copytruncate leaves and
//! a compressed rotation are not read a second time (a copy is read only from where reading the
//! original stopped, which recovers lines copytruncate would lose). Contents are compared by their
//! bytes rather than a hash of them, so a shorter prefix can be compared with a longer one.
//!
//! Rotation by rename with a writer that keeps writing to the renamed file for a while: the old file
//! is drained at every poll until the file now at the name has data (the writer has moved on) or it
//! is deleted, then closed; its last partial line is flushed as a line. No descriptor is kept on a
//! deleted file.
//!
//! Change is noticed by `notify` watches on the parent directories and, since network filesystems
//! deliver no events, by a periodic poll; if watches cannot be created the follower only polls.

use crate::pipeline::DEFAULT_MAX_LINE;
use crate::source::{is_gzip, looks_like_log, nul_percent};
use flate2::read::MultiGzDecoder;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Bytes at the start of a file that identify its content.
const HEAD_LEN: usize = 1024;
/// Bytes kept from just before the read position, to recognise a copy of content read.
const WINDOW_LEN: usize = 16 * 1024;
/// Bytes compared where a possible copy and the original end.
const SAMPLE_LEN: u64 = 256;
/// Most bytes read from one file in one poll; the rest is read at the next.
const READ_BUDGET: u64 = 8 << 20;
/// Bytes sampled for the binary check, and the share of NUL bytes above which a file is refused.
const BINARY_SAMPLE: usize = 8192;
const BINARY_NUL_PERCENT: u32 = 10;
/// Contents no longer open that files appearing later are compared with.
const MAX_RECORDS: usize = 128;
/// Compressed files already dealt with, so that a renamed one is not read again.
const MAX_DONE_GZ: usize = 4096;
/// Change events queued beyond this many are dropped (a rescan is due anyway).
const MAX_EVENTS_DRAINED: usize = 100_000;
/// After a change event, further events are gathered for this long, so that a burst makes one poll.
const COALESCE: Duration = Duration::from_millis(5);
/// The shortest poll interval used (a zero interval would spin).
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// How files are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOptions {
    /// Read the files present at the start from their beginning instead of their end.
    pub from_start: bool,
    /// Without `from_start`: read back up to this many bytes before the end of each file present at
    /// the start (from the next line start on).
    pub history_bytes: u64,
    /// Longest line handed on whole; longer lines are truncated with a visible marker.
    pub max_line: usize,
    /// How often files are checked when no change event arrives.
    pub poll_interval: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            from_start: false,
            history_bytes: 1 << 20,
            max_line: DEFAULT_MAX_LINE,
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// What a poll hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowItem {
    /// Complete lines (each ending in '\n') read from one file; `offset` is the file offset of
    /// bytes[0]. Over-long lines arrive already truncated to max_line with the marker bytes
    /// " …[line truncated: N bytes skipped]" appended before the '\n'; such a line comes in an item
    /// of its own, so that offsets inside every other item are exact. Lines of a compressed file
    /// carry offsets in its decompressed content.
    Lines { file: u32, path: PathBuf, offset: u64, bytes: Vec<u8> },
    /// Something a user should see: rotated, truncated, waiting for file, file appeared, file is
    /// binary, gzip member read, corrupt gzip, line truncated, read error.
    Notice { path: PathBuf, kind: NoticeKind, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Rotated,
    Truncated,
    Waiting,
    Appeared,
    Binary,
    LineTruncated,
    Gzip,
    Error,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Rotated => "rotated",
            NoticeKind::Truncated => "truncated",
            NoticeKind::Waiting => "waiting",
            NoticeKind::Appeared => "appeared",
            NoticeKind::Binary => "binary",
            NoticeKind::LineTruncated => "line truncated",
            NoticeKind::Gzip => "gzip",
            NoticeKind::Error => "error",
        }
    }
}

/// The marker put at the end of a truncated line, before its newline.
pub fn truncation_marker(skipped: u64) -> String {
    format!(" …[line truncated: {skipped} bytes skipped]")
}

// ---------------------------------------------------------------------------------------------
// Lines

/// A piece of output from the line splitter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Contiguous complete lines starting at `offset`.
    Lines { offset: u64, bytes: Vec<u8> },
    /// The kept head of an over-long line starting at `offset`, and how many bytes were skipped.
    Truncated { offset: u64, head: Vec<u8>, skipped: u64 },
}

/// Runs the line splitter over `chunks` (one stream cut at arbitrary points) and checks what it
/// gives against the stream: every complete line once, in order, at its offset, byte for byte,
/// over-long lines cut to at most `max_line` bytes on a UTF-8 boundary with the rest counted.
/// For the fuzz target and the property test; `Err` says what broke.
#[doc(hidden)]
pub fn check_splitter(chunks: &[&[u8]], max_line: usize) -> Result<(), String> {
    let stream: Vec<u8> = chunks.concat();
    let out = split_chunks(chunks, max_line);
    let mut next = 0usize; // where the next line must start
    for piece in &out {
        match piece {
            Piece::Lines { offset, bytes } => {
                let at = *offset as usize;
                if at != next || stream.get(at..at + bytes.len()) != Some(bytes.as_slice()) {
                    return Err(format!("lines at {at} (expected {next}) differ from the stream"));
                }
                if bytes.last() != Some(&b'\n') || bytes.split(|&b| b == b'\n').any(|l| l.len() > max_line) {
                    return Err(format!("lines at {at}: not whole lines within the cap"));
                }
                next = at + bytes.len();
            }
            Piece::Truncated { offset, head, skipped } => {
                let at = *offset as usize;
                let end = at + head.len() + *skipped as usize;
                if at != next || head.len() > max_line || stream.get(at..at + head.len()) != Some(head.as_slice()) {
                    return Err(format!("truncated line at {at} (expected {next}): head differs or too long"));
                }
                if stream.get(end) != Some(&b'\n') || stream[at..end].contains(&b'\n') {
                    return Err(format!("truncated line at {at}: head + skipped is not the line"));
                }
                next = end + 1;
            }
        }
    }
    let complete = stream.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if next != complete {
        return Err(format!("complete lines end at {complete}, output ends at {next}"));
    }
    Ok(())
}

/// The splitter's output for one stream given as consecutive chunks.
fn split_chunks(chunks: &[&[u8]], max_line: usize) -> Vec<Piece> {
    let mut splitter = Splitter::default();
    let mut out = Vec::new();
    let mut offset = 0u64;
    for chunk in chunks {
        splitter.feed(chunk, offset, max_line, &mut out);
        offset += chunk.len() as u64;
    }
    out
}

/// Cuts a byte stream into complete lines, holding a partial last line until its newline arrives;
/// an over-long line keeps its first `max_line` bytes and the rest is counted, not buffered.
#[derive(Debug, Default)]
struct Splitter {
    /// The line not yet ended (at most `max_line` bytes of it).
    partial: Vec<u8>,
    /// Offset of `partial[0]`.
    partial_offset: u64,
    /// Bytes of the current line skipped so far; the line is over-long when this is non-zero.
    skipped: u64,
    /// Drop bytes up to the next newline (reading started in the middle of a line).
    discard: bool,
}

impl Splitter {
    fn feed(&mut self, mut data: &[u8], mut offset: u64, max_line: usize, out: &mut Vec<Piece>) {
        if self.discard {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.discard = false;
                    data = &data[i + 1..];
                    offset += (i + 1) as u64;
                }
                None => return,
            }
        }
        let mut run: Vec<u8> = Vec::new();
        let mut run_offset = 0u64;
        while let Some(i) = memchr::memchr(b'\n', data) {
            let open_line = !self.partial.is_empty() || self.skipped > 0;
            let line_offset = if open_line { self.partial_offset } else { offset };
            if self.skipped > 0 {
                self.skipped += i as u64;
                flush_run(&mut run, run_offset, out);
                out.push(Piece::Truncated {
                    offset: line_offset,
                    head: std::mem::take(&mut self.partial),
                    skipped: self.skipped,
                });
                self.skipped = 0;
            } else if self.partial.len() + i > max_line {
                let mut head = std::mem::take(&mut self.partial);
                let take = max_line.saturating_sub(head.len()).min(i);
                head.extend_from_slice(&data[..take]);
                let keep = utf8_boundary(&head);
                let skipped = (i - take + head.len() - keep) as u64;
                head.truncate(keep);
                flush_run(&mut run, run_offset, out);
                out.push(Piece::Truncated { offset: line_offset, head, skipped });
            } else {
                if run.is_empty() {
                    run_offset = line_offset;
                }
                run.append(&mut self.partial);
                run.extend_from_slice(&data[..=i]);
            }
            data = &data[i + 1..];
            offset += (i + 1) as u64;
        }
        flush_run(&mut run, run_offset, out);
        if data.is_empty() {
            return;
        }
        if self.skipped > 0 {
            self.skipped += data.len() as u64;
            return;
        }
        if self.partial.is_empty() {
            self.partial_offset = offset;
        }
        let room = max_line.saturating_sub(self.partial.len());
        if data.len() > room {
            self.partial.extend_from_slice(&data[..room]);
            let keep = utf8_boundary(&self.partial);
            self.skipped = (data.len() - room + self.partial.len() - keep) as u64;
            self.partial.truncate(keep);
        } else {
            self.partial.extend_from_slice(data);
        }
    }

    /// Hands on the partial last line as a line of its own (the file ended for good).
    fn flush(&mut self, out: &mut Vec<Piece>) {
        if self.skipped > 0 {
            out.push(Piece::Truncated {
                offset: self.partial_offset,
                head: std::mem::take(&mut self.partial),
                skipped: self.skipped,
            });
        } else if !self.partial.is_empty() {
            let mut bytes = std::mem::take(&mut self.partial);
            bytes.push(b'\n');
            out.push(Piece::Lines { offset: self.partial_offset, bytes });
        }
        *self = Splitter::default();
    }
}

fn flush_run(run: &mut Vec<u8>, offset: u64, out: &mut Vec<Piece>) {
    if !run.is_empty() {
        out.push(Piece::Lines { offset, bytes: std::mem::take(run) });
    }
}

/// Length of `bytes` without a UTF-8 sequence cut short at its end (so that a truncated line does
/// not end in half a character).
fn utf8_boundary(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=n.min(4) {
        let b = bytes[n - back];
        if b & 0xC0 != 0x80 {
            let need = match b {
                0xF8.. => 1,
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            return if need > back { n - back } else { n };
        }
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Contents

/// The head and last window of content read, up to `end`.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    head: Vec<u8>,
    window: Vec<u8>,
    end: u64,
}

impl Snapshot {
    /// Adds the bytes that follow `end`.
    fn push(&mut self, data: &[u8]) {
        if self.end == self.head.len() as u64 && self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
        }
        push_window(&mut self.window, data);
        self.end += data.len() as u64;
    }
}

fn push_window(window: &mut Vec<u8>, data: &[u8]) {
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
trait Content {
    fn size(&self) -> u64;
    fn head(&self) -> &[u8];
    /// Bytes `[from, to)`, when they are still available.
    fn bytes(&self, from: u64, to: u64) -> Option<Vec<u8>>;
}

impl Content for Snapshot {
    fn size(&self) -> u64 {
        self.end
    }
    fn head(&self) -> &[u8] {
        &self.head
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

struct OpenContent<'a> {
    file: &'a File,
    size: u64,
    head: &'a [u8],
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
fn heads_agree(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

/// True when `candidate` holds the same bytes as `known` over their common length: their heads
/// agree, and so do the last bytes of the common part (or, where those are no longer available,
/// the heads agree over a full KiB).
fn same_prefix(candidate: &dyn Content, known: &dyn Content) -> bool {
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
struct Record {
    slot: usize,
    snapshot: Snapshot,
}

/// Where content already read was found for a file that appeared later.
enum Found {
    /// In a file still open; `read_to` is how far it has been read.
    Open { read_to: u64 },
    /// In content no longer open, read up to `end`.
    Record { end: u64 },
}

// ---------------------------------------------------------------------------------------------
// Files

/// An open plain file being read.
#[derive(Debug)]
struct Tracked {
    file: File,
    dev: u64,
    ino: u64,
    /// The first bytes of the file (up to a KiB), as far as they have been seen.
    head: Vec<u8>,
    /// The last bytes before `offset`.
    window: Vec<u8>,
    /// Next byte to read.
    offset: u64,
    splitter: Splitter,
    binary_checked: bool,
    /// Appeared after the start and not judged yet: it may be a copy of content already read.
    fresh: bool,
}

impl Tracked {
    fn snapshot(&self) -> Snapshot {
        Snapshot { head: self.head.clone(), window: self.window.clone(), end: self.offset }
    }

    /// Re-reads the head; false when it no longer agrees with the one seen (content rewritten).
    fn refresh_head(&mut self) -> std::io::Result<bool> {
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
    fn replaced(&mut self) -> std::io::Result<bool> {
        let size = self.file.metadata()?.len();
        Ok(size < self.offset || (size > 0 && !self.refresh_head()?))
    }

    /// Starts over at byte 0 (the content was replaced); returns the pieces still held and what was
    /// read of the old content.
    fn restart(&mut self, out: &mut Vec<Piece>) -> Snapshot {
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
    fn seek(&mut self, offset: u64) {
        self.offset = offset;
        let from = offset.saturating_sub(WINDOW_LEN as u64);
        self.window = read_at_most(&self.file, from, (offset - from) as usize).unwrap_or_default();
    }
}

enum Step {
    Idle,
    Read { more: bool },
    Replaced,
    Binary(u32),
}

/// Reads what is new in a tracked file (at most [`READ_BUDGET`] bytes). Bytes are only used when
/// the file was not truncated or rewritten while they were read.
fn read_tracked(t: &mut Tracked, max_line: usize, out: &mut Vec<Piece>) -> std::io::Result<Step> {
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
fn read_at_most(file: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
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

/// A compressed file's decompressed stream.
struct GzReader {
    decoder: MultiGzDecoder<BufReader<File>>,
    /// Decompressed bytes read so far.
    pos: u64,
}

impl GzReader {
    /// Up to `budget` decompressed bytes, and whether the stream ended.
    fn read(&mut self, budget: u64) -> std::io::Result<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        while (out.len() as u64) < budget {
            match self.decoder.read(&mut chunk) {
                Ok(0) => {
                    self.pos += out.len() as u64;
                    return Ok((out, true));
                }
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += out.len() as u64;
        Ok((out, false))
    }
}

/// Identity of a compressed file dealt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GzKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

struct Gz {
    key: GzKey,
    phase: GzPhase,
}

enum GzPhase {
    /// Seen; examined once its size and time have stayed the same for a poll interval.
    Settling { since: Instant },
    /// Being decompressed once to compare it with content already read.
    Probing { reader: GzReader, probe: Snapshot },
    /// A compressed copy of content still being read: decided when that content ends.
    Held { probe: Snapshot },
    /// Being read, from the decompressed offset `skip_to` on.
    Reading { reader: GzReader, skip_to: u64, splitter: Splitter },
    /// Read, skipped or refused.
    Done,
}

enum State {
    /// Nothing (readable) at the name.
    Missing,
    Plain(Tracked),
    Gz(Box<Gz>),
    /// Another name's file (a hard link or symlink to it): not read twice.
    Alias {
        dev: u64,
        ino: u64,
    },
    /// Refused as binary.
    Binary {
        dev: u64,
        ino: u64,
    },
}

impl State {
    fn identity(&self) -> Option<(u64, u64)> {
        match self {
            State::Missing => None,
            State::Plain(t) => Some((t.dev, t.ino)),
            State::Gz(g) => Some((g.key.dev, g.key.ino)),
            State::Alias { dev, ino } | State::Binary { dev, ino } => Some((*dev, *ino)),
        }
    }
}

/// A file taken away from its name this poll (renamed, deleted or replaced).
enum Detached {
    Plain(Tracked),
    Gz(Box<Gz>),
}

impl Detached {
    fn identity(&self) -> (u64, u64) {
        match self {
            Detached::Plain(t) => (t.dev, t.ino),
            Detached::Gz(g) => (g.key.dev, g.key.ino),
        }
    }
}

/// One followed name; its index is the `file` of its items.
struct Slot {
    path: PathBuf,
    /// Named on the command line (not found in a directory or by a glob).
    named: bool,
    /// Not resolved yet: a file present at the first poll is read by the start rule.
    initial: bool,
    state: State,
    /// Earlier files of this name, drained until the file now at the name has data or they are
    /// deleted; oldest first.
    retiring: Vec<Tracked>,
    /// A Waiting notice was given and the name has not come back since.
    waiting: bool,
    /// The last error reported for this name (not repeated).
    last_error: Option<String>,
}

/// What a name points to now.
#[derive(Debug, Clone, Copy)]
struct NameMeta {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

fn name_meta(path: &Path) -> Option<NameMeta> {
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then(|| NameMeta {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.len(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    })
}

enum SpecKind {
    File,
    Dir,
    Glob,
}

struct Spec {
    text: String,
    kind: SpecKind,
}

struct Watch {
    watcher: notify::RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    watched: FxHashSet<PathBuf>,
    /// Adding a watch failed for lack of resources: no more are tried (polling covers the rest).
    full: bool,
}

/// Whether adding a watch failed for lack of kernel resources (inotify watches or instances).
fn out_of_watches(error: &notify::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    const ENOSPC: i32 = 28;
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => matches!(io.raw_os_error(), Some(ENFILE | EMFILE | ENOSPC)),
        _ => false,
    }
}

/// Whether a change event may mean names changed (rather than data appended).
fn names_may_have_changed(event: &notify::Result<notify::Event>) -> bool {
    use notify::EventKind;
    use notify::event::ModifyKind;
    match event {
        Ok(e) => !matches!(e.kind, EventKind::Modify(ModifyKind::Data(_)) | EventKind::Access(_)),
        Err(_) => true,
    }
}

/// Follows files, directories and globs; see the module documentation.
pub struct Follower {
    options: FollowOptions,
    specs: Vec<Spec>,
    slots: Vec<Slot>,
    paths: Vec<PathBuf>,
    by_path: FxHashMap<PathBuf, usize>,
    records: VecDeque<Record>,
    done_gz: VecDeque<GzKey>,
    watch: Option<Watch>,
    /// Notices produced outside a poll, handed out by the next one.
    pending: Vec<FollowItem>,
    rescan_due: bool,
    last_rescan: Instant,
    /// Some file had more to read than one poll reads: the next wait returns at once.
    more_pending: bool,
    /// The path used for notices that concern no single file.
    main_path: PathBuf,
    /// The first poll is over: names found from now on are new files, read from their start.
    started: bool,
    /// Where to start reading files present at the first poll, when the caller already read them
    /// up to there (the console reads whole files on all cores first, then follows from the end).
    start_at: FxHashMap<PathBuf, u64>,
}

impl Follower {
    /// `specs`: files (may not exist yet: wait for them), directories (follow the log files in
    /// them, pick up new ones), globs (pick up new matches).
    pub fn new(specs: &[String], options: FollowOptions) -> Follower {
        let mut follower = Follower {
            options,
            specs: Vec::new(),
            slots: Vec::new(),
            paths: Vec::new(),
            by_path: FxHashMap::default(),
            records: VecDeque::new(),
            done_gz: VecDeque::new(),
            watch: None,
            pending: Vec::new(),
            rescan_due: true,
            last_rescan: Instant::now(),
            more_pending: false,
            main_path: specs.first().map(PathBuf::from).unwrap_or_default(),
            started: false,
            start_at: FxHashMap::default(),
        };
        for text in specs {
            let path = Path::new(text);
            let kind = if path.is_dir() {
                SpecKind::Dir
            } else if !path.exists() && text.contains(['*', '?', '[']) {
                if let Err(e) = glob::Pattern::new(text) {
                    follower.notice(path, NoticeKind::Error, format!("not a valid glob pattern ({e}); ignored"));
                    continue;
                }
                SpecKind::Glob
            } else {
                SpecKind::File
            };
            follower.specs.push(Spec { text: text.clone(), kind });
        }
        let (sender, events) = mpsc::channel();
        match notify::recommended_watcher(sender) {
            Ok(watcher) => follower.watch = Some(Watch { watcher, events, watched: FxHashSet::default(), full: false }),
            Err(e) => {
                let message = follower.polling_message(&e.to_string());
                let path = follower.main_path.clone();
                follower.notice(&path, NoticeKind::Error, message);
            }
        }
        follower.rescan();
        follower
    }

    /// Starts `path` at `offset` (a line start) at the first poll instead of the start rule, so that
    /// a caller who already read the file up to there neither loses nor repeats a line.
    pub fn start_at(&mut self, path: &Path, offset: u64) {
        self.start_at.insert(path.to_path_buf(), offset);
    }

    /// Paths by file index.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    fn interval(&self) -> Duration {
        self.options.poll_interval.max(MIN_POLL_INTERVAL)
    }

    fn polling_message(&self, why: &str) -> String {
        format!("cannot watch for changes ({why}); checking every {} ms instead", self.interval().as_millis())
    }

    fn notice(&mut self, path: &Path, kind: NoticeKind, message: String) {
        self.pending.push(FollowItem::Notice { path: path.to_path_buf(), kind, message });
    }

    /// Blocks until something may have changed (a change event, or the poll interval elapsed).
    pub fn wait(&mut self) {
        if self.more_pending {
            return;
        }
        let interval = self.interval();
        let Some(watch) = self.watch.as_mut() else {
            std::thread::sleep(interval);
            return;
        };
        match watch.events.recv_timeout(interval) {
            Ok(event) => {
                let mut rescan = names_may_have_changed(&event);
                let until = Instant::now() + COALESCE;
                loop {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match watch.events.recv_timeout(left) {
                        Ok(event) => rescan |= names_may_have_changed(&event),
                        Err(_) => break,
                    }
                }
                self.rescan_due |= rescan;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.watch = None;
                let message = self.polling_message("the watcher stopped");
                let path = self.main_path.clone();
                self.notice(&path, NoticeKind::Error, message);
                std::thread::sleep(interval);
            }
        }
    }

    /// Takes the change events queued (a caller may poll without waiting), noting whether names
    /// may have changed.
    fn drain_events(&mut self) {
        let Some(watch) = self.watch.as_mut() else { return };
        for _ in 0..MAX_EVENTS_DRAINED {
            match watch.events.try_recv() {
                Ok(event) => self.rescan_due |= names_may_have_changed(&event),
                Err(_) => return,
            }
        }
        self.rescan_due = true;
    }

    /// Adds a slot for a name not followed yet.
    fn add_slot(&mut self, path: PathBuf, named: bool) {
        if let Some(&i) = self.by_path.get(&path) {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.named |= named;
            }
            return;
        }
        self.by_path.insert(path.clone(), self.slots.len());
        self.paths.push(path.clone());
        self.slots.push(Slot {
            path,
            named,
            initial: !self.started,
            state: State::Missing,
            retiring: Vec::new(),
            waiting: false,
            last_error: None,
        });
    }

    /// Finds the names to follow (new files in directories, new glob matches) and watches their
    /// directories.
    fn rescan(&mut self) {
        self.rescan_due = false;
        self.last_rescan = Instant::now();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut found: Vec<(PathBuf, bool)> = Vec::new();
        for spec in &self.specs {
            let path = Path::new(&spec.text);
            match spec.kind {
                SpecKind::File => {
                    dirs.push(parent_dir(path));
                    found.push((path.to_path_buf(), true));
                }
                SpecKind::Dir => {
                    dirs.push(path.to_path_buf());
                    let Ok(entries) = std::fs::read_dir(path) else { continue };
                    let mut names: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| looks_like_log(p) && (self.by_path.contains_key(p) || p.is_file()))
                        .collect();
                    names.sort();
                    found.extend(names.into_iter().map(|p| (p, false)));
                }
                SpecKind::Glob => {
                    dirs.push(glob_base(&spec.text));
                    let Ok(paths) = glob::glob(&spec.text) else { continue };
                    let mut names: Vec<PathBuf> =
                        paths.filter_map(Result::ok).filter(|p| self.by_path.contains_key(p) || p.is_file()).collect();
                    names.sort();
                    for p in &names {
                        dirs.push(parent_dir(p));
                    }
                    found.extend(names.into_iter().map(|p| (p, false)));
                }
            }
        }
        for (path, named) in found {
            self.add_slot(path, named);
        }
        self.watch_dirs(dirs);
    }

    fn watch_dirs(&mut self, dirs: Vec<PathBuf>) {
        let mut failure = None;
        if let Some(watch) = self.watch.as_mut() {
            for dir in dirs {
                if watch.full || watch.watched.contains(&dir) {
                    continue;
                }
                use notify::Watcher;
                match watch.watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        watch.watched.insert(dir);
                    }
                    // out of inotify watches or instances: polling only from now on
                    Err(e) if out_of_watches(&e) => {
                        watch.full = true;
                        failure = Some(e.to_string());
                    }
                    // a directory that does not exist yet (or cannot be watched) is tried again at
                    // the next rescan; polling covers it meanwhile
                    Err(_) => {}
                }
            }
        }
        if let Some(why) = failure {
            let message = self.polling_message(&why);
            let path = self.main_path.clone();
            self.notice(&path, NoticeKind::Error, message);
        }
    }

    /// Reads everything new in all followed files now (non-blocking apart from the reads
    /// themselves, at most 8 MiB per file per poll) and returns it in order per file. `file`
    /// indexes are stable per path for the follower's lifetime.
    pub fn poll(&mut self) -> Vec<FollowItem> {
        self.drain_events();
        self.more_pending = false;
        if self.rescan_due || self.watch.is_none() || self.last_rescan.elapsed() >= self.interval() {
            self.rescan();
        }
        let mut items = std::mem::take(&mut self.pending);
        let names: Vec<Option<NameMeta>> = self.slots.iter().map(|s| name_meta(&s.path)).collect();
        let count = self.slots.len();

        // files whose name no longer points to them are taken off it
        let mut detached: Vec<(usize, Detached)> = Vec::new();
        let mut replaced = vec![false; count];
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let at_name = names[i].map(|m| (m.dev, m.ino));
            let held = slot.state.identity();
            let alias = matches!(slot.state, State::Alias { .. });
            if held.is_none() || (held == at_name && !alias) {
                continue;
            }
            match std::mem::replace(&mut slot.state, State::Missing) {
                State::Plain(t) => {
                    detached.push((i, Detached::Plain(t)));
                    replaced[i] = true;
                }
                State::Gz(g) if matches!(g.phase, GzPhase::Reading { .. }) => detached.push((i, Detached::Gz(g))),
                _ => {}
            }
        }

        // files still at their name: truncated or rewritten in place?
        for i in 0..count {
            let State::Plain(t) = &mut self.slots[i].state else { continue };
            match t.replaced() {
                Ok(true) => self.restart(i, &mut items),
                Ok(false) => {}
                Err(e) => self.error_once(i, format!("cannot read: {e}"), &mut items),
            }
        }

        // names without a file: find the one there now
        let mut took_over = vec![false; count];
        for (i, name) in names.iter().enumerate() {
            if matches!(self.slots[i].state, State::Missing) {
                match *name {
                    Some(meta) => took_over[i] = self.attach(i, meta, &mut detached, replaced[i], &mut items),
                    None => {
                        let slot = &mut self.slots[i];
                        if slot.named && !slot.waiting {
                            slot.waiting = true;
                            let message = if replaced[i] {
                                "has been moved away or deleted; waiting for a new file"
                            } else {
                                "does not exist yet; waiting for it to appear"
                            };
                            let kind = if replaced[i] { NoticeKind::Rotated } else { NoticeKind::Waiting };
                            items.push(notice_item(&slot.path, kind, message.to_string()));
                        }
                    }
                }
            }
            self.slots[i].initial = false;
        }

        // files nobody took over are drained under their old name
        for (i, open) in detached {
            match open {
                Detached::Plain(t) => self.slots[i].retiring.push(t),
                Detached::Gz(g) => self.remember_gz(g.key),
            }
        }

        // files renamed from one followed name to another hold older lines: they are read first
        let order = (0..count).filter(|&i| took_over[i]).chain((0..count).filter(|&i| !took_over[i]));
        for i in order {
            let name = names[i];
            let switched = name.is_some_and(|m| m.size > 0);
            if self.read_retiring(i, switched, &mut items) {
                self.read_current(i, name, &mut items);
            }
        }
        self.started = true;
        items
    }

    fn error_once(&mut self, i: usize, message: String, items: &mut Vec<FollowItem>) {
        let Some(slot) = self.slots.get_mut(i) else { return };
        if slot.last_error.as_deref() != Some(message.as_str()) {
            items.push(notice_item(&slot.path, NoticeKind::Error, message.clone()));
            slot.last_error = Some(message);
        }
    }

    fn remember(&mut self, slot: usize, snapshot: Snapshot) {
        if snapshot.end == 0 {
            return;
        }
        if self.records.len() >= MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(Record { slot, snapshot });
    }

    fn remember_gz(&mut self, key: GzKey) {
        if self.done_gz.contains(&key) {
            return;
        }
        if self.done_gz.len() >= MAX_DONE_GZ {
            self.done_gz.pop_front();
        }
        self.done_gz.push_back(key);
    }

    /// The current file of slot `i` was truncated or rewritten: flush, remember, start over.
    fn restart(&mut self, i: usize, items: &mut Vec<FollowItem>) {
        let State::Plain(t) = &mut self.slots[i].state else { return };
        let mut pieces = Vec::new();
        let old = t.restart(&mut pieces);
        let path = self.slots[i].path.clone();
        self.emit(i, pieces, items);
        self.remember(i, old);
        items.push(notice_item(&path, NoticeKind::Truncated, "file truncated; reading it from the start".into()));
    }

    /// Finds the file now at the name of slot `i`: one taken off another name (renamed here), an
    /// earlier file of some name, another name's file (alias), or a file opened afresh. True when it
    /// took over a file read before (older content, read first).
    fn attach(
        &mut self,
        i: usize,
        meta: NameMeta,
        detached: &mut Vec<(usize, Detached)>,
        replaced: bool,
        items: &mut Vec<FollowItem>,
    ) -> bool {
        let key = (meta.dev, meta.ino);
        if let Some(pos) = detached.iter().position(|(_, d)| d.identity() == key) {
            let (_, open) = detached.remove(pos);
            self.slots[i].state = match open {
                Detached::Plain(t) => State::Plain(t),
                Detached::Gz(g) => State::Gz(g),
            };
            self.slots[i].waiting = false;
            return true;
        }
        for j in 0..self.slots.len() {
            if let Some(pos) = self.slots[j].retiring.iter().position(|t| (t.dev, t.ino) == key) {
                let t = self.slots[j].retiring.remove(pos);
                self.slots[i].state = State::Plain(t);
                self.slots[i].waiting = false;
                return true;
            }
        }
        if self.slots.iter().enumerate().any(|(j, s)| j != i && s.state.identity() == Some(key)) {
            self.slots[i].state = State::Alias { dev: key.0, ino: key.1 };
            return false;
        }
        let path = self.slots[i].path.clone();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                self.error_once(i, format!("cannot open: {e}"), items);
                return false;
            }
        };
        let fmeta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                self.error_once(i, format!("cannot read: {e}"), items);
                return false;
            }
        };
        let sample = match read_at_most(&file, 0, BINARY_SAMPLE) {
            Ok(s) => s,
            Err(e) => {
                self.error_once(i, format!("cannot read: {e}"), items);
                return false;
            }
        };
        let preset = if self.slots[i].initial { self.start_at.remove(&self.slots[i].path) } else { None };
        let slot = &mut self.slots[i];
        slot.last_error = None;
        let (dev, ino) = (fmeta.dev(), fmeta.ino());
        let initial = slot.initial;
        let gzip = is_gzip(&sample);
        if replaced {
            items.push(notice_item(&path, NoticeKind::Rotated, "has been replaced; following the new file".into()));
        } else if slot.waiting {
            items.push(notice_item(&path, NoticeKind::Appeared, "has appeared; following it".into()));
        } else if !initial && !gzip {
            items.push(notice_item(&path, NoticeKind::Appeared, "new file; following it".into()));
        }
        slot.waiting = false;

        if gzip {
            let gz_key = GzKey { dev, ino, size: fmeta.len(), mtime: (fmeta.mtime(), fmeta.mtime_nsec()) };
            let named = slot.named;
            let phase = if self.done_gz.contains(&gz_key) {
                GzPhase::Done
            } else if initial && !named && !self.options.from_start {
                self.remember_gz(gz_key);
                GzPhase::Done
            } else if initial {
                items.push(notice_item(&path, NoticeKind::Gzip, "reading compressed file".into()));
                GzPhase::Reading {
                    reader: GzReader { decoder: MultiGzDecoder::new(BufReader::new(file)), pos: 0 },
                    skip_to: 0,
                    splitter: Splitter::default(),
                }
            } else {
                GzPhase::Settling { since: Instant::now() }
            };
            self.slots[i].state = State::Gz(Box::new(Gz { key: gz_key, phase }));
            return false;
        }
        let percent = nul_percent(&sample);
        if percent > BINARY_NUL_PERCENT {
            items.push(binary_notice(&path, percent));
            slot.state = State::Binary { dev, ino };
            return false;
        }
        let size = fmeta.len();
        let mut t = Tracked {
            file,
            dev,
            ino,
            head: sample[..sample.len().min(HEAD_LEN)].to_vec(),
            window: Vec::new(),
            offset: 0,
            splitter: Splitter::default(),
            binary_checked: !sample.is_empty(),
            fresh: !initial,
        };
        if let Some(start) = preset.filter(|s| *s <= size && !gzip) {
            t.seek(start);
        } else if initial && !self.options.from_start {
            let start = size.saturating_sub(self.options.history_bytes);
            t.seek(start);
            // start at a line start: drop the rest of a line begun before `start`
            t.splitter.discard = start > 0 && t.window.last() != Some(&b'\n');
        }
        slot.state = State::Plain(t);
        false
    }

    /// Drains the earlier files of slot `i`, closing each once the file now at the name has data
    /// (`switched`: the writer has moved on) or it is deleted. False while one still has more to
    /// read than a poll reads (the current file waits, to keep the order).
    fn read_retiring(&mut self, i: usize, switched: bool, items: &mut Vec<FollowItem>) -> bool {
        let max_line = self.options.max_line;
        let mut k = 0;
        while k < self.slots[i].retiring.len() {
            let t = &mut self.slots[i].retiring[k];
            let mut pieces = Vec::new();
            let mut close = false;
            let mut problem = None;
            match read_tracked(t, max_line, &mut pieces) {
                Ok(Step::Read { more: true }) => {
                    self.emit(i, pieces, items);
                    self.more_pending = true;
                    return false;
                }
                Ok(Step::Read { more: false } | Step::Idle) => {}
                Ok(Step::Replaced | Step::Binary(_)) => close = true,
                Err(e) => {
                    problem = Some(format!("cannot read the rotated file: {e}"));
                    close = true;
                }
            }
            let deleted = t.file.metadata().map_or(true, |m| m.nlink() == 0);
            if close || deleted || switched {
                let mut t = self.slots[i].retiring.remove(k);
                t.splitter.flush(&mut pieces);
                self.emit(i, pieces, items);
                let snapshot = t.snapshot();
                drop(t);
                self.remember(i, snapshot);
            } else {
                self.emit(i, pieces, items);
                k += 1;
            }
            if let Some(message) = problem {
                self.error_once(i, message, items);
            }
        }
        true
    }

    fn read_current(&mut self, i: usize, meta: Option<NameMeta>, items: &mut Vec<FollowItem>) {
        match &self.slots[i].state {
            State::Plain(_) => self.read_plain(i, items),
            State::Gz(_) => self.read_gz(i, meta, items),
            _ => {}
        }
    }

    fn read_plain(&mut self, i: usize, items: &mut Vec<FollowItem>) {
        if let Some(decision) = self.fresh_decision(i) {
            let path = self.slots[i].path.clone();
            let State::Plain(t) = &mut self.slots[i].state else { return };
            match decision {
                None => return,
                Some(resume) => {
                    t.fresh = false;
                    if resume > 0 {
                        t.seek(resume);
                        items.push(notice_item(
                            &path,
                            NoticeKind::Rotated,
                            format!("a copy of lines already read; reading it from byte {resume} on"),
                        ));
                    }
                }
            }
        }
        let max_line = self.options.max_line;
        for _ in 0..2 {
            let State::Plain(t) = &mut self.slots[i].state else { return };
            if t.fresh {
                return;
            }
            let mut pieces = Vec::new();
            let step = read_tracked(t, max_line, &mut pieces);
            self.emit(i, pieces, items);
            match step {
                Ok(Step::Idle) => return,
                Ok(Step::Read { more }) => {
                    self.more_pending |= more;
                    self.slots[i].last_error = None;
                    return;
                }
                Ok(Step::Replaced) => self.restart(i, items),
                Ok(Step::Binary(percent)) => {
                    let path = self.slots[i].path.clone();
                    items.push(binary_notice(&path, percent));
                    if let State::Plain(t) = &self.slots[i].state {
                        self.slots[i].state = State::Binary { dev: t.dev, ino: t.ino };
                    }
                    return;
                }
                Err(e) => return self.error_once(i, format!("cannot read: {e}"), items),
            }
        }
    }

    /// For a file that appeared after the start and has data, not judged yet: `Some(None)` to hold
    /// it back (a copy of content still being read), `Some(Some(offset))` to read it from `offset`
    /// (0: new content; more: a copy of content read that far). `None` when there is nothing to
    /// decide.
    fn fresh_decision(&self, i: usize) -> Option<Option<u64>> {
        let State::Plain(t) = &self.slots.get(i)?.state else { return None };
        if !t.fresh {
            return None;
        }
        let size = t.file.metadata().ok()?.len();
        if size == 0 {
            return Some(None);
        }
        let head = read_at_most(&t.file, 0, HEAD_LEN).ok()?;
        let candidate = OpenContent { file: &t.file, size, head: &head };
        Some(match self.find_copy(i, &candidate) {
            Some(Found::Open { .. }) => None,
            Some(Found::Record { end }) => Some(end.min(size)),
            None => Some(0),
        })
    }

    /// Looks for content already read, under other names, that `candidate` is a copy of.
    fn find_copy(&self, i: usize, candidate: &dyn Content) -> Option<Found> {
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
                let Ok(meta) = t.file.metadata() else { continue };
                let known = OpenContent { file: &t.file, size: meta.len(), head: &t.head };
                if same_prefix(candidate, &known) {
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

    fn read_gz(&mut self, i: usize, meta: Option<NameMeta>, items: &mut Vec<FollowItem>) {
        let interval = self.interval();
        let max_line = self.options.max_line;
        let path = self.slots[i].path.clone();
        let State::Gz(gz) = &mut self.slots[i].state else { return };
        match &mut gz.phase {
            GzPhase::Done => {}
            GzPhase::Settling { since } => {
                let Some(meta) = meta else { return };
                if (meta.size, meta.mtime) != (gz.key.size, gz.key.mtime) {
                    gz.key.size = meta.size;
                    gz.key.mtime = meta.mtime;
                    *since = Instant::now();
                } else if since.elapsed() >= interval {
                    if self.done_gz.contains(&gz.key) {
                        gz.phase = GzPhase::Done;
                        return;
                    }
                    match open_gz(&path, gz.key) {
                        Ok(Some(reader)) => {
                            gz.phase = GzPhase::Probing { reader, probe: Snapshot::default() };
                            self.more_pending = true;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            let key = gz.key;
                            gz.phase = GzPhase::Done;
                            self.remember_gz(key);
                            self.error_once(i, format!("cannot open: {e}"), items);
                        }
                    }
                }
            }
            GzPhase::Probing { reader, probe } => match reader.read(READ_BUDGET) {
                Ok((data, end)) => {
                    probe.push(&data);
                    if end {
                        let probe = std::mem::take(probe);
                        gz.phase = GzPhase::Held { probe };
                        self.decide_gz(i, items);
                    } else {
                        self.more_pending = true;
                    }
                }
                Err(e) => {
                    let key = gz.key;
                    gz.phase = GzPhase::Done;
                    self.remember_gz(key);
                    items.push(notice_item(&path, NoticeKind::Error, format!("corrupt gzip data ({e}); not read")));
                }
            },
            GzPhase::Held { .. } => self.decide_gz(i, items),
            GzPhase::Reading { reader, skip_to, splitter } => {
                let start = reader.pos;
                let result = reader.read(READ_BUDGET);
                let mut pieces = Vec::new();
                let (data, end, problem) = match result {
                    Ok((data, end)) => (data, end, None),
                    Err(e) => (Vec::new(), true, Some(e)),
                };
                let skip = skip_to.saturating_sub(start).min(data.len() as u64) as usize;
                splitter.feed(&data[skip..], start + skip as u64, max_line, &mut pieces);
                if end {
                    splitter.flush(&mut pieces);
                    let key = gz.key;
                    gz.phase = GzPhase::Done;
                    self.remember_gz(key);
                } else {
                    self.more_pending = true;
                }
                self.emit(i, pieces, items);
                if let Some(e) = problem {
                    items.push(notice_item(
                        &path,
                        NoticeKind::Error,
                        format!("corrupt gzip data ({e}); stopped reading"),
                    ));
                }
            }
        }
    }

    /// Decides what to do with a compressed file decompressed once: skip it (a compressed copy of
    /// lines read), read it from where reading its original stopped, hold it back (its original is
    /// still being read), or read it whole.
    fn decide_gz(&mut self, i: usize, items: &mut Vec<FollowItem>) {
        let path = self.slots[i].path.clone();
        let decision = {
            let State::Gz(gz) = &self.slots[i].state else { return };
            let GzPhase::Held { probe } = &gz.phase else { return };
            match self.find_copy(i, probe) {
                Some(Found::Open { read_to }) if probe.end <= read_to => Some(probe.end),
                Some(Found::Open { .. }) => None,
                Some(Found::Record { end }) => Some(end.min(probe.end)),
                None => Some(0),
            }
        };
        let Some(from) = decision else { return };
        let State::Gz(gz) = &mut self.slots[i].state else { return };
        let GzPhase::Held { probe } = &gz.phase else { return };
        let key = gz.key;
        if from >= probe.end {
            gz.phase = GzPhase::Done;
            self.remember_gz(key);
            items.push(notice_item(
                &path,
                NoticeKind::Gzip,
                "a compressed copy of lines already read; not read again".into(),
            ));
            return;
        }
        match open_gz(&path, key) {
            Ok(Some(reader)) => {
                gz.phase = GzPhase::Reading { reader, skip_to: from, splitter: Splitter::default() };
                self.more_pending = true;
                let message = if from == 0 {
                    "reading rotated compressed file".to_string()
                } else {
                    format!("reading rotated compressed file from decompressed byte {from} on (the rest was read)")
                };
                items.push(notice_item(&path, NoticeKind::Gzip, message));
            }
            Ok(None) => gz.phase = GzPhase::Settling { since: Instant::now() },
            Err(e) => {
                gz.phase = GzPhase::Done;
                self.remember_gz(key);
                self.error_once(i, format!("cannot open: {e}"), items);
            }
        }
    }

    fn emit(&self, i: usize, pieces: Vec<Piece>, items: &mut Vec<FollowItem>) {
        let Some(path) = self.paths.get(i) else { return };
        for piece in pieces {
            match piece {
                Piece::Lines { offset, bytes } => {
                    items.push(FollowItem::Lines { file: i as u32, path: path.clone(), offset, bytes })
                }
                Piece::Truncated { offset, head, skipped } => {
                    let mut bytes = head;
                    bytes.extend_from_slice(truncation_marker(skipped).as_bytes());
                    bytes.push(b'\n');
                    items.push(FollowItem::Lines { file: i as u32, path: path.clone(), offset, bytes });
                    items.push(notice_item(
                        path,
                        NoticeKind::LineTruncated,
                        format!(
                            "line at byte {offset} is longer than {} bytes; truncated ({skipped} bytes skipped)",
                            self.options.max_line
                        ),
                    ));
                }
            }
        }
    }
}

/// Opens a compressed file for reading if it is still the one identified by `key`.
fn open_gz(path: &Path, key: GzKey) -> std::io::Result<Option<GzReader>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if (meta.dev(), meta.ino()) != (key.dev, key.ino) {
        return Ok(None);
    }
    Ok(Some(GzReader { decoder: MultiGzDecoder::new(BufReader::new(file)), pos: 0 }))
}

fn notice_item(path: &Path, kind: NoticeKind, message: String) -> FollowItem {
    FollowItem::Notice { path: path.to_path_buf(), kind, message }
}

fn binary_notice(path: &Path, percent: u32) -> FollowItem {
    notice_item(
        path,
        NoticeKind::Binary,
        format!("looks like a binary file ({percent}% NUL bytes in the first 8 KiB); not read"),
    )
}

/// The directory a file's name lives in (`.` for a bare name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The directory part of a glob before its first wildcard.
fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for component in Path::new(pattern).components() {
        if let Component::Normal(part) = component
            && part.to_string_lossy().contains(['*', '?', '['])
        {
            break;
        }
        base.push(component);
    }
    if base.as_os_str().is_empty() { PathBuf::from(".") } else { base }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::Write;

    fn split(chunks: &[&[u8]], max_line: usize) -> Vec<Piece> {
        split_chunks(chunks, max_line)
    }

    #[test]
    fn a_follower_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Follower>();
        assert_send::<FollowItem>();
    }

    #[test]
    fn without_watches_changes_are_found_by_polling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let spec = vec![path.display().to_string()];
        let options = FollowOptions { poll_interval: Duration::from_millis(10), ..FollowOptions::default() };
        let mut follower = Follower::new(&spec, options);
        follower.watch = None; // as when no inotify instance could be had
        assert!(follower.poll().iter().any(|i| matches!(i, FollowItem::Notice { kind: NoticeKind::Waiting, .. })));
        std::fs::write(&path, b"hello\n").unwrap();
        let started = Instant::now();
        follower.wait();
        assert!(started.elapsed() < Duration::from_secs(5), "wait returns after the poll interval");
        assert_eq!(lines_of(&follower.poll()), b"hello\n");
    }

    #[test]
    fn partial_lines_are_held_until_their_newline() {
        let out = split(&[b"ab", b"c\nde", b"f\ng"], 100);
        assert_eq!(
            out,
            vec![
                Piece::Lines { offset: 0, bytes: b"abc\n".to_vec() },
                Piece::Lines { offset: 4, bytes: b"def\n".to_vec() }
            ]
        );
    }

    #[test]
    fn long_lines_keep_their_head_and_count_the_rest() {
        let out = split(&[b"0123", b"456789", b"abc\nok\n"], 5);
        assert_eq!(
            out,
            vec![
                Piece::Truncated { offset: 0, head: b"01234".to_vec(), skipped: 8 },
                Piece::Lines { offset: 14, bytes: b"ok\n".to_vec() }
            ]
        );
        // a line of exactly max_line bytes is whole
        assert_eq!(split(&[b"01234\n"], 5), vec![Piece::Lines { offset: 0, bytes: b"01234\n".to_vec() }]);
    }

    #[test]
    fn truncation_does_not_cut_a_character() {
        let out = split(&["aé€x\n".as_bytes()], 4);
        // 'a' (1) + 'é' (2) + '€' (3): keeping 4 bytes would cut '€'
        assert_eq!(out, vec![Piece::Truncated { offset: 0, head: "aé".as_bytes().to_vec(), skipped: 4 }]);
        assert_eq!(utf8_boundary("€".as_bytes()), 3);
        assert_eq!(utf8_boundary(&"€".as_bytes()[..2]), 0);
        assert_eq!(utf8_boundary(b"\xff\xfe"), 2);
    }

    #[test]
    fn flush_hands_on_the_partial_line() {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        splitter.feed(b"x\ntail", 10, 100, &mut out);
        splitter.flush(&mut out);
        assert_eq!(
            out,
            vec![
                Piece::Lines { offset: 10, bytes: b"x\n".to_vec() },
                Piece::Lines { offset: 12, bytes: b"tail\n".to_vec() }
            ]
        );
    }

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

    fn lines_of(items: &[FollowItem]) -> Vec<u8> {
        let mut all = Vec::new();
        for item in items {
            if let FollowItem::Lines { bytes, .. } = item {
                all.extend_from_slice(bytes);
            }
        }
        all
    }

    #[test]
    fn history_starts_at_a_line_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, b"first line\nsecond line\nthird\n").unwrap();
        let spec = vec![path.display().to_string()];
        let mut follower = Follower::new(&spec, FollowOptions { history_bytes: 15, ..FollowOptions::default() });
        assert_eq!(lines_of(&follower.poll()), b"third\n");
        let mut follower = Follower::new(&spec, FollowOptions { history_bytes: 0, ..FollowOptions::default() });
        assert!(lines_of(&follower.poll()).is_empty());
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"new\n").unwrap();
        assert_eq!(lines_of(&follower.poll()), b"new\n");
    }

    #[test]
    fn truncated_in_place_is_read_again_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, b"one\ntwo\n").unwrap();
        let spec = vec![path.display().to_string()];
        let mut follower = Follower::new(&spec, FollowOptions { from_start: true, ..FollowOptions::default() });
        assert_eq!(lines_of(&follower.poll()), b"one\ntwo\n");
        // rewritten longer than the old offset: only the changed head tells
        std::fs::write(&path, b"three\nfour\n").unwrap();
        let items = follower.poll();
        assert_eq!(lines_of(&items), b"three\nfour\n");
        assert!(items.iter().any(|i| matches!(i, FollowItem::Notice { kind: NoticeKind::Truncated, .. })));
    }

    #[test]
    fn a_renamed_file_is_drained_until_the_new_one_has_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let old = dir.path().join("a.log.1");
        std::fs::write(&path, b"1\n").unwrap();
        let spec = vec![path.display().to_string()];
        let mut follower = Follower::new(&spec, FollowOptions { from_start: true, ..FollowOptions::default() });
        assert_eq!(lines_of(&follower.poll()), b"1\n");
        let mut writer = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::fs::rename(&path, &old).unwrap();
        std::fs::write(&path, b"").unwrap();
        writer.write_all(b"2\n").unwrap();
        assert_eq!(lines_of(&follower.poll()), b"2\n");
        writer.write_all(b"3 partial").unwrap();
        assert_eq!(lines_of(&follower.poll()), b"");
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"4\n").unwrap();
        // the old file's partial tail is flushed before the new file's lines
        assert_eq!(lines_of(&follower.poll()), b"3 partial\n4\n");
        assert!(follower.slots[0].retiring.is_empty(), "the old file is closed once the new one has data");
    }
}
