//! The live follower: `tail -F` for many files at once, rotation-proof. Follows files by name
//! (rename, copytruncate, delete-and-recreate, names that do not exist yet), named pipes,
//! directories and globs (new files are picked up), reads rotated `.gz` files once, and hands back
//! complete lines with their file offsets; it never maps files (a log truncated underneath is read
//! with `pread`).
//!
//! How a file is told from another (`identity`): by (device, inode), checked with its content —
//! the first KiB, then a sample where two contents end. The head tells a file truncated and
//! rewritten in place; a file that appears later and is a copy of content already read (the copy
//! copytruncate leaves, a compressed rotation) is read only from where reading the original
//! stopped. When a name's file is rotated away or truncated, its directory is looked at
//! (`rotated`): the copy copytruncate made is read on from where the original was left (with its
//! unfinished last line), and rotated files never seen at the name are read oldest first.
//!
//! Rotation by rename with a writer that keeps writing to the renamed file for a while: the old file
//! is drained at every poll until the file now at the name has data (the writer has moved on) or it
//! is deleted, then closed; its last partial line is flushed as a line. No descriptor is kept on a
//! deleted file.
//!
//! Many files (`budget`): at most a bounded number are held open (half the limit on open files);
//! idle ones are closed and reopened, by identity and content, when they change. A file closed
//! while idle and then rotated out of its directory, or deleted, is not found again (lines written
//! to it after it was last read are lost); a file rotated within its directory is.
//!
//! Change is noticed by `notify` watches on the parent directories; a name is looked at (one
//! `stat`) when an event names it, and every name in turn by a sweep of at most 256 names per poll
//! interval, since network filesystems deliver no events (with up to 256 names, every name at every
//! poll). A file whose size and time are as when it was last read to its end is not touched. If
//! watches cannot be created the follower only sweeps.

mod attach;
mod budget;
mod gz;
mod identity;
mod names;
mod pipe;
mod read;
mod rotated;
pub(crate) mod splitter;
mod tracked;
mod watch;

pub use splitter::{check_splitter, truncation_marker};

use crate::pipeline::DEFAULT_MAX_LINE;
use attach::Detached;
use budget::Descriptors;
use gz::{Gz, GzKey, GzPhase};
use identity::{Look, Record, look};
use names::{Spec, SpecKind};
use pipe::Pipe;
use rotated::{CLOCK_SLACK, Known, Listing};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use tracked::Tracked;
use watch::Watch;

/// Most bytes read from one file in one poll; the rest is read at the next.
const READ_BUDGET: u64 = 8 << 20;
/// Bytes sampled for the binary check, and the share of NUL bytes above which a file is refused.
const BINARY_SAMPLE: usize = 8192;
const BINARY_NUL_PERCENT: u32 = 10;
/// Names looked at per poll interval by the sweep (all of them, at every poll, up to this many).
const SWEEP_PER_INTERVAL: usize = 256;

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
    /// Most files held open at once; 0: half the process's limit on open files.
    pub max_open: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            from_start: false,
            history_bytes: 1 << 20,
            max_line: DEFAULT_MAX_LINE,
            poll_interval: Duration::from_millis(250),
            max_open: 0,
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
    /// Something a user should see: rotated, truncated, waiting for file (or for a pipe's writer),
    /// file appeared, file is binary, gzip member read, corrupt gzip, line truncated, a limit
    /// reached, read error.
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
    /// The limit on open files shapes how files are followed.
    Limit,
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
            NoticeKind::Limit => "limit",
            NoticeKind::Error => "error",
        }
    }
}

enum State {
    /// Nothing (readable) at the name.
    Missing,
    Plain(Tracked),
    Gz(Box<Gz>),
    Pipe(Box<Pipe>),
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
            State::Pipe(p) => Some((p.dev, p.ino)),
            State::Alias { dev, ino } | State::Binary { dev, ino } => Some((*dev, *ino)),
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
    /// To be looked at by the next poll (a change event named it, or it has work left).
    due: bool,
    /// A file of this name had more to read than one poll reads.
    more: bool,
    /// When the content followed at this name now began (less slack): rotated files made before
    /// are history. `None` until the name first held a file.
    floor: Option<SystemTime>,
}

impl Slot {
    /// Work left that no change event would announce.
    fn busy(&self) -> bool {
        self.more
            || !self.retiring.is_empty()
            || match &self.state {
                State::Plain(t) => t.fresh,
                State::Gz(g) => !matches!(g.phase, GzPhase::Done),
                State::Pipe(_) => true,
                _ => false,
            }
    }
}

/// A name looked at in this poll.
struct Checked {
    i: usize,
    look: Look,
    /// Its file left the name this poll (renamed, deleted or replaced).
    rotated: bool,
    /// A file came back at the name after an earlier one left: files rotated away in between
    /// may lie beside it.
    returned: bool,
    /// It took over a file read under another name (older content, read first).
    took_over: bool,
}

/// Follows files, directories and globs; see the module documentation.
pub struct Follower {
    options: FollowOptions,
    specs: Vec<Spec>,
    slots: Vec<Slot>,
    paths: Vec<PathBuf>,
    by_path: FxHashMap<PathBuf, usize>,
    /// Slots by the absolute path change events name their files with.
    by_event_path: FxHashMap<PathBuf, usize>,
    records: VecDeque<Record>,
    done_gz: VecDeque<GzKey>,
    watch: Option<Watch>,
    /// Notices produced outside a poll, handed out by the next one.
    pending: Vec<FollowItem>,
    rescan_due: bool,
    last_rescan: Instant,
    /// Change events were lost: every name is looked at by the next poll.
    all_due: bool,
    /// Where the sweep goes on, and when it last went.
    sweep: usize,
    last_sweep: Instant,
    /// Some file had more to read than one poll reads: the next wait returns at once.
    more_pending: bool,
    /// The path used for notices that concern no single file.
    main_path: PathBuf,
    /// The first poll is over: names found from now on are new files, read from their start.
    started: bool,
    started_at: SystemTime,
    /// Where to start reading files present at the first poll, when the caller already read them
    /// up to there (the console reads whole files on all cores first, then follows from the end).
    start_at: FxHashMap<PathBuf, u64>,
    descriptors: Descriptors,
    /// Rotated files beside followed names already dealt with.
    known: Known,
    /// Directory listings read during this poll.
    listings: FxHashMap<PathBuf, Listing>,
    /// Identities of the files followed, with their slot (built when first needed in a poll).
    holders: Option<FxHashMap<(u64, u64), (usize, bool)>>,
}

impl Follower {
    /// `specs`: files (may not exist yet: wait for them), named pipes, directories (follow the
    /// log files in them, pick up new ones), globs (pick up new matches).
    pub fn new(specs: &[String], options: FollowOptions) -> Follower {
        let mut follower = Follower {
            options,
            specs: Vec::new(),
            slots: Vec::new(),
            paths: Vec::new(),
            by_path: FxHashMap::default(),
            by_event_path: FxHashMap::default(),
            records: VecDeque::new(),
            done_gz: VecDeque::new(),
            watch: None,
            pending: Vec::new(),
            rescan_due: true,
            last_rescan: Instant::now(),
            all_due: false,
            sweep: 0,
            last_sweep: Instant::now(),
            more_pending: false,
            main_path: specs.first().map(PathBuf::from).unwrap_or_default(),
            started: false,
            started_at: SystemTime::now(),
            start_at: FxHashMap::default(),
            descriptors: Descriptors::new(options.max_open),
            known: Known::default(),
            listings: FxHashMap::default(),
            holders: None,
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

    /// Reads everything new in the followed files now (non-blocking apart from the reads
    /// themselves, at most 8 MiB per file per poll) and returns it in order per file. With more than
    /// 256 names, only those that change events named, those with work left, and the sweep's share
    /// are looked at. `file` indexes are stable per path for the follower's lifetime.
    pub fn poll(&mut self) -> Vec<FollowItem> {
        self.drain_events();
        self.more_pending = false;
        if self.rescan_due || self.last_rescan.elapsed() >= self.rescan_period() {
            self.rescan();
        }
        let mut items = std::mem::take(&mut self.pending);
        self.tell_budget(&mut items);
        let check = self.names_to_check();
        let looked_at = SystemTime::now();
        let mut looks = self.look_at(check);

        // files whose name no longer points to them are taken off it
        let mut detached: Vec<(usize, Detached)> = Vec::new();
        for c in &mut looks {
            let slot = &mut self.slots[c.i];
            let at_name = c.look.meta().map(|m| m.identity());
            let held = slot.state.identity();
            let alias = matches!(slot.state, State::Alias { .. });
            if held.is_none() || (held == at_name && !alias) {
                continue;
            }
            match std::mem::replace(&mut slot.state, State::Missing) {
                State::Plain(t) => {
                    detached.push((c.i, Detached::Plain(Box::new(t))));
                    c.rotated = true;
                }
                State::Gz(g) if matches!(g.phase, GzPhase::Reading { .. }) => detached.push((c.i, Detached::Gz(g))),
                _ => {}
            }
        }
        self.holders = None;

        // files still at their name: truncated or rewritten in place? (only those that changed)
        for c in &looks {
            let i = c.i;
            let State::Plain(t) = &mut self.slots[i].state else { continue };
            if t.seen.is_some() && t.seen == c.look.meta().map(|m| m.stamp()) {
                t.intact_at = looked_at;
                continue;
            }
            match self.ensure_open(i, &mut items) {
                attach::Reopen::Open => {}
                attach::Reopen::Replaced => {
                    self.restart(i, &mut items);
                    continue;
                }
                attach::Reopen::Moved | attach::Reopen::Failed => continue,
            }
            let State::Plain(t) = &mut self.slots[i].state else { continue };
            match t.replaced() {
                Ok(true) => {
                    self.restart(i, &mut items);
                }
                Ok(false) => {}
                Err(e) => self.error_once(i, format!("cannot read: {e}"), &mut items),
            }
        }

        // names without a file: find the one there now
        for c in &mut looks {
            let i = c.i;
            if matches!(self.slots[i].state, State::Missing) {
                match &c.look {
                    Look::Found(meta) => {
                        let had_a_file = self.slots[i].floor.is_some();
                        c.took_over = self.attach(i, *meta, &mut detached, c.rotated, &mut items);
                        c.returned = had_a_file && !c.rotated && !matches!(self.slots[i].state, State::Missing);
                    }
                    Look::Missing => {
                        let slot = &mut self.slots[i];
                        if slot.named && !slot.waiting {
                            slot.waiting = true;
                            let message = if c.rotated {
                                "has been moved away or deleted; waiting for a new file"
                            } else {
                                "does not exist yet; waiting for it to appear"
                            };
                            let kind = if c.rotated { NoticeKind::Rotated } else { NoticeKind::Waiting };
                            items.push(notice_item(&slot.path, kind, message.to_string()));
                        }
                    }
                    Look::Problem(message) => {
                        let message = message.clone();
                        self.error_once(i, message, &mut items);
                    }
                }
            }
            self.slots[i].initial = false;
        }

        // files nobody took over are drained under their old name (those closed while idle are
        // found again beside it first), and rotated files never seen at the name are looked for
        let mut lost: FxHashMap<usize, Tracked> = FxHashMap::default();
        for (i, open) in detached {
            match open {
                Detached::Plain(t) if t.file.is_some() => self.drain_later(i, *t),
                Detached::Plain(t) => {
                    lost.insert(i, *t);
                }
                Detached::Gz(g) => self.remember_gz(g.key),
            }
        }
        for c in looks.iter().filter(|c| c.rotated || c.returned) {
            // the content at the name now began when its file was made (or, not knowing, now)
            let born = match &self.slots[c.i].state {
                State::Plain(t) => t.born,
                _ => None,
            };
            self.adopt_siblings(c.i, lost.remove(&c.i), None, born, &mut items);
            // (not knowing its birth: every rotated file older than this poll's look was taken now)
            let floor = self.floor_at(born.unwrap_or(looked_at), CLOCK_SLACK);
            self.slots[c.i].floor = Some(floor);
        }

        // files renamed from one followed name to another hold older lines: they are read first
        let order = looks.iter().filter(|c| c.took_over).chain(looks.iter().filter(|c| !c.took_over));
        for c in order {
            let name = c.look.meta();
            let switched = name.is_some_and(|m| m.size > 0);
            if self.read_retiring(c.i, switched, &mut items) {
                self.read_current(c.i, name, &mut items);
            }
        }
        for c in &looks {
            let slot = &mut self.slots[c.i];
            slot.due |= slot.busy();
        }
        self.listings.clear();
        self.holders = None;
        self.started = true;
        items
    }

    /// How often directories and globs are listed again without a change event: every poll
    /// interval, or as often as the sweep goes round when it takes longer.
    fn rescan_period(&self) -> Duration {
        let rounds = self.slots.len().div_ceil(SWEEP_PER_INTERVAL).max(1);
        self.interval() * u32::try_from(rounds).unwrap_or(u32::MAX)
    }

    /// The names to look at in this poll, in index order: every name at the first poll, after
    /// lost events, or when there are few; otherwise those due and the sweep's share.
    fn names_to_check(&mut self) -> Vec<usize> {
        let count = self.slots.len();
        let everything = !self.started || self.all_due || count <= SWEEP_PER_INTERVAL;
        self.all_due = false;
        let sweep_from = if !everything && self.last_sweep.elapsed() >= self.interval() {
            self.last_sweep = Instant::now();
            let from = self.sweep % count;
            self.sweep = (from + SWEEP_PER_INTERVAL) % count;
            Some(from)
        } else {
            None
        };
        let mut check = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let swept = sweep_from.is_some_and(|from| (i + count - from) % count < SWEEP_PER_INTERVAL);
            if everything || swept || slot.due {
                slot.due = false;
                slot.more = false;
                check.push(i);
            }
        }
        check
    }

    /// Looks at the names in `check`; a name whose file another name holds (renamed from there)
    /// brings that name in too, so that a rename between followed names is seen from both ends.
    fn look_at(&self, check: Vec<usize>) -> Vec<Checked> {
        let checked = |i: usize| Checked {
            i,
            look: look(&self.slots[i].path),
            rotated: false,
            returned: false,
            took_over: false,
        };
        let mut looks: Vec<Checked> = check.into_iter().map(checked).collect();
        if looks.len() == self.slots.len() {
            return looks;
        }
        let moved_here = |c: &Checked| {
            let at = c.look.meta()?.identity();
            (self.slots[c.i].state.identity() != Some(at)).then_some(at)
        };
        let mut queue: Vec<(u64, u64)> = looks.iter().filter_map(moved_here).collect();
        if queue.is_empty() {
            return looks;
        }
        let holders: FxHashMap<(u64, u64), usize> =
            self.slots.iter().enumerate().filter_map(|(j, s)| Some((s.state.identity()?, j))).collect();
        let mut seen: FxHashSet<usize> = looks.iter().map(|c| c.i).collect();
        while let Some(identity) = queue.pop() {
            if let Some(&j) = holders.get(&identity)
                && seen.insert(j)
            {
                let c = checked(j);
                queue.extend(moved_here(&c));
                looks.push(c);
            }
        }
        looks.sort_by_key(|c| c.i);
        looks
    }

    fn error_once(&mut self, i: usize, message: String, items: &mut Vec<FollowItem>) {
        let Some(slot) = self.slots.get_mut(i) else { return };
        if slot.last_error.as_deref() != Some(message.as_str()) {
            items.push(notice_item(&slot.path, NoticeKind::Error, message.clone()));
            slot.last_error = Some(message);
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
