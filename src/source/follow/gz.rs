//! Rotated compressed files: each is decompressed once when it has settled, compared with content
//! already read, and then skipped (a compressed copy), read from where reading its original stopped,
//! held back (its original is still being read) or read whole; files dealt with are remembered by
//! identity, size and time, so that a renamed one is not read again.

use super::budget::Handle;
use super::identity::{Found, NameMeta, Snapshot};
use super::splitter::Splitter;
use super::{FollowItem, Follower, NoticeKind, READ_BUDGET, State, notice_item};
use flate2::read::MultiGzDecoder;
use std::io::{BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

/// Compressed files already dealt with, so that a renamed one is not read again.
const MAX_DONE_GZ: usize = 4096;

/// A compressed file's decompressed stream.
pub(super) struct GzReader {
    pub(super) decoder: MultiGzDecoder<BufReader<Handle>>,
    /// Decompressed bytes read so far.
    pub(super) pos: u64,
}

impl GzReader {
    /// Up to `budget` decompressed bytes, and whether the stream ended.
    pub(super) fn read(&mut self, budget: u64) -> std::io::Result<(Vec<u8>, bool)> {
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
pub(super) struct GzKey {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) mtime: (i64, i64),
}

pub(super) struct Gz {
    pub(super) key: GzKey,
    pub(super) phase: GzPhase,
}

pub(super) enum GzPhase {
    /// To be read whole from its start as soon as a descriptor is free (a compressed file named,
    /// or present at the start when reading from the start).
    Queued,
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

impl Follower {
    pub(super) fn remember_gz(&mut self, key: GzKey) {
        if self.done_gz.contains(&key) {
            return;
        }
        if self.done_gz.len() >= MAX_DONE_GZ {
            self.done_gz.pop_front();
        }
        self.done_gz.push_back(key);
    }

    pub(super) fn read_gz(&mut self, i: usize, meta: Option<NameMeta>, items: &mut Vec<FollowItem>) {
        let interval = self.interval();
        let max_line = self.options.max_line;
        let path = self.slots[i].path.clone();
        let State::Gz(gz) = &mut self.slots[i].state else { return };
        match &mut gz.phase {
            GzPhase::Done => {}
            GzPhase::Queued => {
                let key = gz.key;
                match self.open_gz(i, &path, key, items) {
                    Ok(Some(reader)) => {
                        items.push(notice_item(&path, NoticeKind::Gzip, "reading compressed file".into()));
                        self.set_gz_phase(i, GzPhase::Reading { reader, skip_to: 0, splitter: Splitter::default() });
                        self.read_gz(i, meta, items);
                    }
                    // no descriptor free yet: tried again at the next poll
                    Ok(None) if self.slots[i].due => {}
                    Ok(None) => {
                        self.set_gz_phase(i, GzPhase::Done);
                        self.remember_gz(key);
                    }
                    Err(e) => {
                        self.set_gz_phase(i, GzPhase::Done);
                        self.remember_gz(key);
                        self.error_once(i, format!("cannot open: {e}"), items);
                    }
                }
            }
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
                    let key = gz.key;
                    match self.open_gz(i, &path, key, items) {
                        Ok(Some(reader)) => {
                            self.set_gz_phase(i, GzPhase::Probing { reader, probe: Snapshot::default() });
                            self.more_pending = true;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            self.set_gz_phase(i, GzPhase::Done);
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
    pub(super) fn decide_gz(&mut self, i: usize, items: &mut Vec<FollowItem>) {
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
        match self.open_gz(i, &path, key, items) {
            Ok(Some(reader)) => {
                self.set_gz_phase(i, GzPhase::Reading { reader, skip_to: from, splitter: Splitter::default() });
                self.more_pending = true;
                let message = if from == 0 {
                    "reading rotated compressed file".to_string()
                } else {
                    format!("reading rotated compressed file from decompressed byte {from} on (the rest was read)")
                };
                items.push(notice_item(&path, NoticeKind::Gzip, message));
            }
            Ok(None) if self.slots[i].due => {}
            Ok(None) => self.set_gz_phase(i, GzPhase::Settling { since: Instant::now() }),
            Err(e) => {
                self.set_gz_phase(i, GzPhase::Done);
                self.remember_gz(key);
                self.error_once(i, format!("cannot open: {e}"), items);
            }
        }
    }

    fn set_gz_phase(&mut self, i: usize, phase: GzPhase) {
        if let State::Gz(gz) = &mut self.slots[i].state {
            gz.phase = phase;
        }
    }

    /// Opens the compressed file of slot `i` if it is still the one identified by `key` and a
    /// descriptor is free within the budget (`Ok(None)` otherwise; the slot is then due again
    /// when only the descriptor was missing).
    fn open_gz(
        &mut self,
        i: usize,
        path: &Path,
        key: GzKey,
        items: &mut Vec<FollowItem>,
    ) -> std::io::Result<Option<GzReader>> {
        self.make_room();
        if self.descriptors.held() >= self.descriptors.budget() {
            self.slots[i].due = true;
            return Ok(None);
        }
        let file = match self.open_within_budget(i, path, items) {
            Ok(file) => file,
            Err(e) if super::budget::out_of_descriptors(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if (meta.dev(), meta.ino()) != (key.dev, key.ino) {
            return Ok(None);
        }
        Ok(Some(GzReader { decoder: MultiGzDecoder::new(BufReader::new(file)), pos: 0 }))
    }
}
