//! The follower's descriptor budget: at most a bounded number of files are held open at once
//! (half the process's limit on open files by default). Beyond it, plain files that were idle
//! longest are closed (least recently used, with a second chance for files read since the last
//! look) and reopened when they change — by their identity, checked with their content
//! fingerprint, see `Follower::ensure_open`. When the limit is reached anyway (other parts of the
//! program hold descriptors too), the budget shrinks and a notice says so.

use super::{FollowItem, Follower, NoticeKind, State, notice_item};
use std::collections::VecDeque;
use std::fs::File;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Budget when the limit cannot be read.
const DEFAULT_BUDGET: usize = 512;
/// Bounds of the budget taken from the limit.
const MIN_BUDGET: usize = 4;
const MAX_BUDGET: usize = 4096;

/// An open file counted against the budget while it lives.
#[derive(Debug)]
pub(super) struct Handle {
    file: File,
    count: Arc<AtomicUsize>,
}

impl Deref for Handle {
    type Target = File;
    fn deref(&self) -> &File {
        &self.file
    }
}

impl std::io::Read for Handle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&self.file).read(buf)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The budget, the count of descriptors held, and the queue of plain files that may be closed.
pub(super) struct Descriptors {
    /// Most descriptors held at once.
    budget: usize,
    /// The process's limit on open files, when known (for messages).
    limit: Option<u64>,
    held: Arc<AtomicUsize>,
    /// Followed names whose current file is open, oldest first, with the ticket of that opening
    /// (a later opening of the same name has another ticket).
    queue: VecDeque<(usize, u64)>,
    next_ticket: u64,
    /// More files are followed than the budget: said once.
    told_budget: bool,
    /// The limit was reached: said once.
    told_limit: bool,
}

impl Descriptors {
    /// `max_open` 0: half the process's limit on open files.
    pub(super) fn new(max_open: usize) -> Descriptors {
        let limit = soft_limit();
        let budget = if max_open > 0 {
            max_open
        } else {
            limit.map_or(DEFAULT_BUDGET, |l| usize::try_from(l / 2).unwrap_or(MAX_BUDGET).clamp(MIN_BUDGET, MAX_BUDGET))
        };
        Descriptors {
            budget,
            limit,
            held: Arc::new(AtomicUsize::new(0)),
            queue: VecDeque::new(),
            next_ticket: 0,
            told_budget: false,
            told_limit: false,
        }
    }

    /// Opens `path` for reading, counted.
    pub(super) fn open(&self, path: &Path) -> std::io::Result<Handle> {
        Ok(self.count(File::open(path)?))
    }

    /// Counts a file opened elsewhere.
    pub(super) fn count(&self, file: File) -> Handle {
        self.held.fetch_add(1, Ordering::Relaxed);
        Handle { file, count: Arc::clone(&self.held) }
    }

    pub(super) fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    pub(super) fn budget(&self) -> usize {
        self.budget
    }

    fn full(&self) -> bool {
        self.held() >= self.budget
    }
}

/// The process's soft limit on open files.
fn soft_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit through a pointer to a live, properly aligned value.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// Whether an open failed for lack of descriptors (the process's or the system's).
pub(super) fn out_of_descriptors(error: &std::io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

impl Follower {
    /// Puts the current file of slot `i`, just opened, in the queue of files that may be closed;
    /// returns its ticket. Entries of files closed or replaced since are dropped when the queue
    /// outgrows the names followed.
    pub(super) fn enlist(&mut self, i: usize) -> u64 {
        let queue = &mut self.descriptors.queue;
        if queue.len() > 2 * self.slots.len() + 64 {
            let slots = &self.slots;
            queue.retain(|&(j, ticket)| {
                matches!(slots.get(j).map(|s| &s.state), Some(State::Plain(t)) if t.file.is_some() && t.ticket == ticket)
            });
        }
        self.descriptors.next_ticket += 1;
        queue.push_back((i, self.descriptors.next_ticket));
        self.descriptors.next_ticket
    }

    /// Closes plain files that were idle longest until one more descriptor fits in the budget.
    /// Files read since the last look get a second chance; files being drained after a rotation,
    /// pipes and compressed files being read are never closed here.
    pub(super) fn make_room(&mut self) {
        let mut turns = 2 * self.descriptors.queue.len();
        while self.descriptors.full() && turns > 0 {
            turns -= 1;
            let Some((i, ticket)) = self.descriptors.queue.pop_front() else { break };
            let Some(slot) = self.slots.get_mut(i) else { continue };
            let State::Plain(t) = &mut slot.state else { continue };
            if t.file.is_none() || t.ticket != ticket {
                continue;
            }
            if t.used {
                t.used = false;
                self.descriptors.queue.push_back((i, ticket));
                continue;
            }
            t.file = None;
        }
    }

    /// Opens `path` (a file of slot `i`) within the budget. When the process is out of
    /// descriptors the budget shrinks to what is held, idle files are closed, and the open is
    /// tried once more; if it still fails the slot is retried at a later poll, and a notice says so
    /// once.
    pub(super) fn open_within_budget(
        &mut self,
        i: usize,
        path: &Path,
        items: &mut Vec<FollowItem>,
    ) -> std::io::Result<Handle> {
        self.make_room();
        match self.descriptors.open(path) {
            Err(e) if out_of_descriptors(&e) => {
                let held = self.descriptors.held();
                self.descriptors.budget = (held * 3 / 4).max(MIN_BUDGET);
                self.make_room();
                let retried = self.descriptors.open(path);
                if retried.is_err()
                    && let Some(slot) = self.slots.get_mut(i)
                {
                    slot.due = true;
                }
                if !self.descriptors.told_limit {
                    self.descriptors.told_limit = true;
                    let message = format!(
                        "the limit on open files was reached ({e}); holding at most {} open from now on, \
                         closing idle files and reopening them when they change",
                        self.descriptors.budget
                    );
                    items.push(notice_item(&self.main_path, NoticeKind::Limit, message));
                }
                retried
            }
            other => other,
        }
    }

    /// Says once that more files are followed than are held open at once.
    pub(super) fn tell_budget(&mut self, items: &mut Vec<FollowItem>) {
        let count = self.slots.len();
        if self.descriptors.told_budget || count <= self.descriptors.budget {
            return;
        }
        self.descriptors.told_budget = true;
        let limit = match self.descriptors.limit {
            Some(l) => format!(" (the limit on open files is {l})"),
            None => String::new(),
        };
        let message = format!(
            "following {count} files with at most {} open at once{limit}; idle files are closed and \
             reopened, checked by identity, when they change",
            self.descriptors.budget
        );
        items.push(notice_item(&self.main_path, NoticeKind::Limit, message));
    }
}
