//! Reading a followed name: its earlier files first (drained after a rotation, oldest first),
//! then the file now at the name — a plain file (only when its stamp shows a change), a
//! compressed file, or a named pipe — handing on complete lines as items.

use super::attach::Reopen;
use super::identity::{Stamp, look};
use super::rotated::{CLOCK_SLACK, Continuation};
use super::splitter::{Piece, truncation_marker};
use super::tracked::{Step, read_tracked};
use super::{FollowItem, Follower, NoticeKind, State, binary_notice, notice_item};
use crate::source::follow::identity::NameMeta;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

impl Follower {
    /// Drains the earlier files of slot `i`, closing each once the file now at the name has data
    /// (`switched`: the writer has moved on) or it is deleted. False while one still has more to
    /// read than a poll reads (the current file waits, to keep the order).
    pub(super) fn read_retiring(&mut self, i: usize, switched: bool, items: &mut Vec<FollowItem>) -> bool {
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
                    self.slots[i].more = true;
                    return false;
                }
                Ok(Step::Read { more: false } | Step::Idle) => {}
                Ok(Step::Replaced | Step::Binary(_)) => close = true,
                Err(e) => {
                    problem = Some(format!("cannot read the rotated file: {e}"));
                    close = true;
                }
            }
            let deleted = t.file.as_deref().is_none_or(|f| f.metadata().map_or(true, |m| m.nlink() == 0));
            if close || deleted || switched {
                let mut t = self.slots[i].retiring.remove(k);
                t.splitter.flush(&mut pieces);
                self.emit(i, pieces, items);
                self.forget_drained(i, t);
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

    pub(super) fn read_current(&mut self, i: usize, meta: Option<NameMeta>, items: &mut Vec<FollowItem>) {
        match &self.slots[i].state {
            State::Plain(_) => self.read_plain(i, meta.map(|m| m.stamp()), items),
            State::Gz(_) => self.read_gz(i, meta, items),
            State::Pipe(_) => self.read_pipe(i, items),
            _ => {}
        }
    }

    /// Reads the plain file of slot `i` unless its name's `stamp` shows nothing new since it was
    /// last read to its end.
    fn read_plain(&mut self, i: usize, mut stamp: Option<Stamp>, items: &mut Vec<FollowItem>) {
        if let State::Plain(t) = &self.slots[i].state
            && !t.fresh
            && stamp.is_some()
            && t.seen == stamp
        {
            return;
        }
        match self.ensure_open(i, items) {
            Reopen::Open => {}
            Reopen::Replaced => {
                stamp = None;
                if self.restart(i, items) {
                    return self.wait_for_earlier(i);
                }
            }
            Reopen::Moved | Reopen::Failed => return,
        }
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
            if self.read_blind(i, items) {
                return self.wait_for_earlier(i);
            }
            let State::Plain(t) = &mut self.slots[i].state else { return };
            if t.fresh {
                return;
            }
            let mut pieces = Vec::new();
            let step = read_tracked(t, max_line, &mut pieces);
            // read to the end of what the name showed: nothing to do while it shows the same
            if matches!(step, Ok(Step::Idle | Step::Read { more: false })) && stamp.is_some_and(|s| s.size <= t.offset)
            {
                t.seen = stamp;
            }
            self.emit(i, pieces, items);
            match step {
                Ok(Step::Idle) => return,
                Ok(Step::Read { more }) => {
                    if more {
                        self.more_pending = true;
                        self.slots[i].more = true;
                    }
                    self.slots[i].last_error = None;
                    return;
                }
                Ok(Step::Replaced) => {
                    // what the name showed was the content replaced
                    stamp = None;
                    if self.restart(i, items) {
                        return self.wait_for_earlier(i);
                    }
                }
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

    /// The current file of slot `i` was empty when it was last looked at (new, or just truncated)
    /// and holds bytes now: content may have come and been copied and truncated away in between
    /// (copytruncate while this follower lagged). Rotated files beside it are looked for before it
    /// is read; true when some were found (they come first). Only files made while the file was
    /// at the name count: a rotation by rename since is handled by the next poll.
    fn read_blind(&mut self, i: usize, items: &mut Vec<FollowItem>) -> bool {
        let path = self.slots[i].path.clone();
        let State::Plain(t) = &mut self.slots[i].state else { return false };
        let has_bytes = t.file.as_deref().and_then(|f| f.metadata().ok()).is_some_and(|m| m.len() > 0);
        if !t.blind || !has_bytes {
            return false;
        }
        // its head from now on tells a truncation that comes while the directory is looked at
        if t.refresh_head().is_err() {
            return false;
        }
        t.blind = false;
        let at_name = SystemTime::now();
        if look(&path).meta().map(|m| m.identity()) != Some((t.dev, t.ino)) {
            return false;
        }
        self.adopt_siblings(i, None, None, Some(at_name), items);
        !self.slots[i].retiring.is_empty()
    }

    /// Files to drain were found for slot `i` after its current file was read this poll: they
    /// hold older lines, so the current file waits for the next poll.
    fn wait_for_earlier(&mut self, i: usize) {
        self.slots[i].more = true;
        self.more_pending = true;
    }

    /// The current file of slot `i` was truncated or rewritten in place: what was read of the old
    /// content goes on from its copy when copytruncate left one beside it (else its unfinished
    /// last line is handed on), and the file is read again from its start. True when files to
    /// drain (the copy, rotated files never read) now come before it.
    pub(super) fn restart(&mut self, i: usize, items: &mut Vec<FollowItem>) -> bool {
        let State::Plain(t) = &mut self.slots[i].state else { return false };
        let intact_at = t.intact_at;
        let (old, splitter) = t.restart();
        let path = self.slots[i].path.clone();
        let continuation = Continuation { snapshot: old.clone(), splitter };
        let now = std::time::SystemTime::now();
        let copy = self.adopt_siblings(i, None, Some(continuation), Some(now), items);
        // the content that replaced the old one began after the old one was last seen whole
        self.slots[i].floor = Some(self.floor_at(intact_at, CLOCK_SLACK));
        self.remember(i, old);
        let message = match copy {
            Some(name) => format!(
                "file truncated; the rest of what it held is read from its copy {name}, then the file from the start"
            ),
            None => "file truncated; reading it from the start".to_string(),
        };
        items.push(notice_item(&path, NoticeKind::Truncated, message));
        !self.slots[i].retiring.is_empty()
    }

    pub(super) fn emit(&self, i: usize, pieces: Vec<Piece>, items: &mut Vec<FollowItem>) {
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
