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

mod gz;
mod identity;
mod names;
pub(crate) mod splitter;
mod tracked;
mod watch;

pub use splitter::{check_splitter, truncation_marker};

use crate::pipeline::DEFAULT_MAX_LINE;
use crate::source::{is_gzip, nul_percent};
use flate2::read::MultiGzDecoder;
use gz::{Gz, GzKey, GzPhase, GzReader};
use identity::{HEAD_LEN, NameMeta, Record, name_meta};
use names::{Spec, SpecKind};
use rustc_hash::FxHashMap;
use splitter::{Piece, Splitter};
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tracked::{Step, Tracked, read_at_most, read_tracked};
use watch::Watch;

/// Most bytes read from one file in one poll; the rest is read at the next.
const READ_BUDGET: u64 = 8 << 20;
/// Bytes sampled for the binary check, and the share of NUL bytes above which a file is refused.
const BINARY_SAMPLE: usize = 8192;
const BINARY_NUL_PERCENT: u32 = 10;

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
        match Watch::new() {
            Ok(watch) => follower.watch = Some(watch),
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

    fn notice(&mut self, path: &Path, kind: NoticeKind, message: String) {
        self.pending.push(FollowItem::Notice { path: path.to_path_buf(), kind, message });
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

#[cfg(test)]
mod tests;
