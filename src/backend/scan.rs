//! Free-text search over whole files: a SIMD substring scan (`memchr::memmem`) of the files' bytes,
//! read with positioned reads into a reused buffer (never mapped: a file truncated under a map
//! faults), split across cores at line boundaries. Only the lines that hold the text are parsed,
//! to know their time (the range filter) and to show them; a match inside a Python traceback is
//! the event its traceback belongs to.
//!
//! A match counts at word boundaries: when the text starts (ends) with a letter, digit or `_`, the
//! byte before (after) it must not be one, so `vid_12` does not find `vid_123` — close to a phrase
//! query on a cluster. The match is case-sensitive.

use super::cancel::Canceller;
use super::{SearchQuery, SearchResult};
use crate::enrich::{Enriched, Enricher};
use crate::event::{Event, Origin, OwnedEvent};
use crate::parse::Format;
use crate::pipeline::IngestSettings;
use crate::source::read;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes read at a time by each core.
const BLOCK: usize = 4 << 20;
/// Lines walked back from a match inside a traceback to the line that started it.
const MAX_WALK_BACK: usize = 400;

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds the text in bytes, at word boundaries.
pub struct Matcher<'q> {
    finder: memchr::memmem::Finder<'q>,
    len: usize,
    bound_start: bool,
    bound_end: bool,
}

impl<'q> Matcher<'q> {
    pub fn new(text: &'q str) -> Matcher<'q> {
        let bytes = text.as_bytes();
        Matcher {
            finder: memchr::memmem::Finder::new(bytes),
            len: bytes.len(),
            bound_start: bytes.first().is_some_and(|b| is_word(*b)),
            bound_end: bytes.last().is_some_and(|b| is_word(*b)),
        }
    }

    /// The first match at or after `from`, at word boundaries.
    pub fn find_from(&self, haystack: &[u8], mut from: usize) -> Option<usize> {
        while from <= haystack.len() {
            let at = from + self.finder.find(&haystack[from..])?;
            let end = at + self.len;
            let start_ok = !self.bound_start || at == 0 || !is_word(haystack[at - 1]);
            let end_ok = !self.bound_end || end >= haystack.len() || !is_word(haystack[end]);
            if start_ok && end_ok {
                return Some(at);
            }
            from = at + 1;
        }
        None
    }

    pub fn is_in(&self, haystack: &[u8]) -> bool {
        self.find_from(haystack, 0).is_some()
    }
}

/// One input to search.
pub struct Target<'a> {
    pub file: &'a File,
    pub name: &'a str,
    pub len: u64,
    pub index: u32,
    pub format: Option<Format>,
}

/// What the cores found.
#[derive(Default)]
pub struct Found {
    pub matches: Vec<OwnedEvent>,
    pub total: u64,
    pub cancelled: bool,
}

/// What every core shares.
pub struct Context<'a> {
    pub enricher: &'a Enricher,
    pub settings: &'a IngestSettings,
    pub query: &'a SearchQuery,
    pub cancel: &'a Canceller,
    /// Bytes scanned so far (all inputs).
    pub done: &'a AtomicU64,
}

/// Searches a regular file split across `threads` cores; `tick` is called every few dozen
/// milliseconds while they work (for progress).
pub fn search_file(target: &Target<'_>, context: &Context<'_>, threads: usize, tick: &mut dyn FnMut()) -> Found {
    let mut points = vec![0u64];
    let mut probe = vec![0u8; 64 * 1024];
    for i in 1..threads.max(1) as u64 {
        let at = target.len * i / threads as u64;
        let n = read::read_full_at(target.file, &mut probe, at).unwrap_or(0);
        if let Some(nl) = memchr::memchr(b'\n', &probe[..n]) {
            let split = at + nl as u64 + 1;
            if split > *points.last().unwrap_or(&0) && split < target.len {
                points.push(split);
            }
        }
    }
    points.push(target.len);
    let parts: Vec<Found> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            points.windows(2).map(|w| scope.spawn(move || scan_range(target, context, w[0], w[1]))).collect();
        while !handles.iter().all(|h| h.is_finished()) {
            tick();
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut found = Found::default();
    for part in parts {
        found.total += part.total;
        found.cancelled |= part.cancelled;
        found.matches.extend(part.matches);
    }
    found
}

/// Scans `[from, to)` (line boundaries) of a file block by block.
fn scan_range(target: &Target<'_>, context: &Context<'_>, from: u64, to: u64) -> Found {
    let matcher = Matcher::new(&context.query.text);
    let mut found = Found::default();
    let mut buf = vec![0u8; BLOCK];
    let mut ingestor = context.settings.ingestor(context.enricher, target.format, target.index);
    let mut pos = from;
    let mut last_event: Option<u64> = None;
    while pos < to {
        if context.cancel.is_cancelled() {
            found.cancelled = true;
            break;
        }
        let want = ((to - pos) as usize).min(BLOCK);
        let n = match read::read_full_at(target.file, &mut buf[..want], pos) {
            Ok(0) | Err(_) => break, // the file shrank: searched up to there
            Ok(n) => n,
        };
        // whole lines only, unless one line fills the block
        let usable = if pos + (n as u64) < to { memchr::memrchr(b'\n', &buf[..n]).map_or(n, |i| i + 1) } else { n };
        let block = &buf[..usable];
        let mut at = 0;
        while let Some(hit) = matcher.find_from(block, at) {
            let line_start = memchr::memrchr(b'\n', &block[..hit]).map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &block[hit..]).map_or(block.len(), |i| hit + i);
            let start = event_start(block, line_start);
            let end = event_end(block, line_end);
            let offset = pos + start as u64;
            if last_event != Some(offset) {
                last_event = Some(offset);
                take(&mut ingestor, &block[start..end], offset, context.query, &mut found);
            }
            at = end + 1;
        }
        pos += usable as u64;
        context.done.fetch_add(usable as u64, Ordering::Relaxed);
    }
    found
}

/// The start of the event a line belongs to: the line itself, or the line a traceback it
/// continues started at.
fn event_start(block: &[u8], mut line_start: usize) -> usize {
    for _ in 0..MAX_WALK_BACK {
        if line_start == 0 || !crate::pipeline::starts_continuation(&block[line_start..]) {
            break;
        }
        line_start = memchr::memrchr(b'\n', &block[..line_start - 1]).map_or(0, |i| i + 1);
    }
    line_start
}

/// The end of the event whose last line so far ends at `line_end`: on past the traceback lines
/// that continue it.
fn event_end(block: &[u8], mut line_end: usize) -> usize {
    for _ in 0..MAX_WALK_BACK {
        let next = line_end + 1;
        if next >= block.len() || !crate::pipeline::starts_continuation(&block[next..]) {
            break;
        }
        line_end = memchr::memchr(b'\n', &block[next..]).map_or(block.len(), |i| next + i);
    }
    line_end
}

/// Parses the matching event's bytes and keeps it when its time is in the range.
fn take(
    ingestor: &mut crate::pipeline::Ingestor<'_>,
    bytes: &[u8],
    offset: u64,
    query: &SearchQuery,
    found: &mut Found,
) {
    let enricher = ingestor.enricher;
    let mut first: Option<OwnedEvent> = None;
    let mut sink = |event: &Event<'_>, enriched: &Enriched, origin: Origin, raw: &[u8]| {
        if first.is_none() {
            first = Some(super::local::owned(enricher, event, enriched, origin, raw));
        }
    };
    ingestor.ingest_block(bytes, offset, true, &mut sink);
    if let Some(event) = first.filter(|e| query.in_range(e.ts_ms)) {
        found.total += 1;
        if found.matches.len() < query.limit {
            found.matches.push(event);
        }
    }
}

/// Puts what the inputs gave together: time order, the cap, the count.
pub fn finish(query: &SearchQuery, mut found: Found, files: Vec<String>) -> SearchResult {
    found.matches.sort_by_key(|e| (e.ts_ms.unwrap_or(i64::MIN), e.origin.file, e.origin.offset));
    let capped = found.total > query.limit as u64 || found.matches.len() > query.limit;
    found.matches.truncate(query.limit);
    SearchResult {
        query: query.clone(),
        matches: found.matches,
        total: found.total,
        total_at_least: found.cancelled,
        capped,
        cancelled: found.cancelled,
        error: None,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_count_at_word_boundaries() {
        let m = Matcher::new("vid_12");
        assert!(m.is_in(b"video_id=vid_12 ok"));
        assert!(m.is_in(b"/data/vid_12.mp4"));
        assert!(!m.is_in(b"video_id=vid_123"));
        assert!(!m.is_in(b"xvid_12"));
        assert_eq!(m.find_from(b"vid_123 vid_12", 0), Some(8));
        let phrase = Matcher::new("out of memory");
        assert!(phrase.is_in(b"CUDA out of memory."));
        assert!(!phrase.is_in(b"CUDA out of memoryless"));
        // a boundary is asked only on the sides where the text has a word character
        assert!(Matcher::new("=5").is_in(b"a=5 x") && !Matcher::new("=5").is_in(b"a=5x"));
    }
}
