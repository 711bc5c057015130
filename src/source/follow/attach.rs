//! Which file a followed name holds: the file now at a name is attached to it (taken over from
//! another name it was renamed from, recognised as another name's file, a named pipe, a
//! compressed file, or opened afresh and placed by the start rule); a file closed while idle is
//! reopened by its identity before it is read again.

use super::budget::out_of_descriptors;
use super::gz::{Gz, GzKey, GzPhase};
use super::identity::NameMeta;
use super::rotated::CLOCK_SLACK;
use super::tracked::{Tracked, read_at_most};
use super::{BINARY_NUL_PERCENT, BINARY_SAMPLE, FollowItem, Follower, NoticeKind, State, binary_notice, notice_item};
use crate::source::{is_gzip, nul_percent};
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

/// A file taken away from its name this poll (renamed, deleted or replaced).
pub(super) enum Detached {
    Plain(Box<Tracked>),
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

/// What reopening a file closed while idle found.
pub(super) enum Reopen {
    /// Open, with the content read.
    Open,
    /// The name holds another file now (left to the next poll's rotation handling).
    Moved,
    /// Same identity, other content: rewritten in place, or a reused inode.
    Replaced,
    /// Not open (an error was reported, or no descriptor is free: retried later).
    Failed,
}

impl Follower {
    /// Makes sure the current file of slot `i` is open: a file closed while idle is reopened at
    /// its name and checked to be the same file (device and inode) holding the same content.
    pub(super) fn ensure_open(&mut self, i: usize, items: &mut Vec<FollowItem>) -> Reopen {
        match &mut self.slots[i].state {
            State::Plain(t) if t.file.is_some() => {
                t.used = true;
                return Reopen::Open;
            }
            State::Plain(_) => {}
            _ => return Reopen::Failed,
        }
        let path = self.slots[i].path.clone();
        let handle = match self.open_within_budget(i, &path, items) {
            Ok(handle) => handle,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.slots[i].due = true;
                return Reopen::Moved;
            }
            Err(e) => {
                if !out_of_descriptors(&e) {
                    self.error_once(i, format!("cannot open: {e}"), items);
                }
                return Reopen::Failed;
            }
        };
        let Ok(meta) = handle.metadata() else { return Reopen::Failed };
        let State::Plain(t) = &mut self.slots[i].state else { return Reopen::Failed };
        if (meta.dev(), meta.ino()) != (t.dev, t.ino) {
            self.slots[i].due = true;
            return Reopen::Moved;
        }
        let same = t.same_content(&handle, meta.len());
        t.file = Some(handle);
        t.used = true;
        let ticket = self.enlist(i);
        if let State::Plain(t) = &mut self.slots[i].state {
            t.ticket = ticket;
        }
        if same { Reopen::Open } else { Reopen::Replaced }
    }

    /// Finds the file now at the name of slot `i`: one taken off another name (renamed here), an
    /// earlier file of some name, another name's file (alias), or a file opened afresh. True when it
    /// took over a file read before (older content, read first).
    pub(super) fn attach(
        &mut self,
        i: usize,
        meta: NameMeta,
        detached: &mut Vec<(usize, Detached)>,
        replaced: bool,
        items: &mut Vec<FollowItem>,
    ) -> bool {
        let key = meta.identity();
        if let Some(pos) = detached.iter().position(|(_, d)| d.identity() == key) {
            let (_, open) = detached.remove(pos);
            self.slots[i].state = match open {
                Detached::Plain(t) => State::Plain(*t),
                Detached::Gz(g) => State::Gz(g),
            };
            self.slots[i].waiting = false;
            self.note_holder(i, key);
            return true;
        }
        let holders = self.identity_holders();
        if let Some(&(j, retiring)) = holders.get(&key) {
            if retiring && let Some(pos) = self.slots[j].retiring.iter().position(|t| (t.dev, t.ino) == key) {
                let t = self.slots[j].retiring.remove(pos);
                self.slots[i].state = State::Plain(t);
                self.slots[i].waiting = false;
                self.note_holder(i, key);
                return true;
            }
            if !retiring && j != i {
                self.slots[i].state = State::Alias { dev: key.0, ino: key.1 };
                return false;
            }
        }
        if self.slots[i].floor.is_none() {
            self.slots[i].floor = Some(self.floor_now(CLOCK_SLACK));
            self.note_history(i);
        }
        if meta.pipe {
            self.attach_pipe(i, key, items);
            return false;
        }
        self.attach_new(i, replaced, items);
        false
    }

    /// Identities of the files followed, with the slot holding each and whether it is being
    /// drained (built once per poll, when a name changed).
    pub(super) fn identity_holders(&mut self) -> &rustc_hash::FxHashMap<(u64, u64), (usize, bool)> {
        if self.holders.is_none() {
            let mut holders = rustc_hash::FxHashMap::default();
            for (j, slot) in self.slots.iter().enumerate() {
                if let Some(id) = slot.state.identity() {
                    holders.entry(id).or_insert((j, false));
                }
                for t in &slot.retiring {
                    holders.insert((t.dev, t.ino), (j, true));
                }
            }
            self.holders = Some(holders);
        }
        self.holders.get_or_insert_default()
    }

    /// Notes that slot `i` now holds `identity` (for the rest of the poll).
    fn note_holder(&mut self, i: usize, identity: (u64, u64)) {
        if let Some(holders) = self.holders.as_mut() {
            holders.insert(identity, (i, false));
        }
    }

    /// Queues `t` to be drained under slot `i`'s name (after the files queued before it).
    pub(super) fn drain_later(&mut self, i: usize, t: Tracked) {
        if let Some(holders) = self.holders.as_mut() {
            holders.insert((t.dev, t.ino), (i, true));
        }
        self.slots[i].retiring.push(t);
    }

    /// Opens the file at the name of slot `i` afresh and places it by the start rule.
    fn attach_new(&mut self, i: usize, replaced: bool, items: &mut Vec<FollowItem>) {
        let path = self.slots[i].path.clone();
        let file = match self.open_within_budget(i, &path, items) {
            Ok(f) => f,
            Err(e) if out_of_descriptors(&e) => return,
            Err(e) => return self.error_once(i, format!("cannot open: {e}"), items),
        };
        let fmeta = match file.metadata() {
            Ok(m) => m,
            Err(e) => return self.error_once(i, format!("cannot read: {e}"), items),
        };
        let sample = match read_at_most(&file, 0, BINARY_SAMPLE) {
            Ok(s) => s,
            Err(e) => return self.error_once(i, format!("cannot read: {e}"), items),
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
        self.note_holder(i, (dev, ino));

        if gzip {
            let gz_key = GzKey { dev, ino, size: fmeta.len(), mtime: (fmeta.mtime(), fmeta.mtime_nsec()) };
            let named = self.slots[i].named;
            drop(file);
            let phase = if self.done_gz.contains(&gz_key) {
                GzPhase::Done
            } else if initial && !named && !self.options.from_start {
                self.remember_gz(gz_key);
                GzPhase::Done
            } else if initial {
                GzPhase::Queued
            } else {
                GzPhase::Settling { since: Instant::now() }
            };
            self.slots[i].state = State::Gz(Box::new(Gz { key: gz_key, phase }));
            return;
        }
        let percent = nul_percent(&sample);
        if percent > BINARY_NUL_PERCENT {
            items.push(binary_notice(&path, percent));
            self.slots[i].state = State::Binary { dev, ino };
            return;
        }
        let size = fmeta.len();
        let mut t = Tracked::new(file, (dev, ino), &sample);
        t.born = fmeta.created().ok();
        // empty: a copytruncate before its first bytes are read would leave no trace in it
        t.blind = sample.is_empty();
        t.binary_checked = !sample.is_empty();
        t.fresh = !initial;
        t.ticket = self.enlist(i);
        if let Some(start) = preset.filter(|s| *s <= size) {
            t.seek(start);
        } else if initial && !self.options.from_start {
            let start = size.saturating_sub(self.options.history_bytes);
            t.seek(start);
            // start at a line start: drop the rest of a line begun before `start`
            t.splitter.discard = start > 0 && t.window.last() != Some(&b'\n');
        }
        self.slots[i].state = State::Plain(t);
    }
}
