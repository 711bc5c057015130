//! The pipeline: bytes → lines → events → enrichment → statistics (and, for the views that keep
//! events, an [`EventSink`]). Works on blocks of bytes so that a memory-mapped file, a chunk of one
//! split across cores, a gzip stream or a live tail all go through the same loop. Python tracebacks
//! are joined to the event that started them; lines longer than the cap are truncated; invalid
//! UTF-8 is replaced; nothing is dropped without being counted. An event without a time takes the
//! time of the line before it in the same input (counted as `inherited_time`; the first lines of a
//! chunk read on another core have none before them); an event whose time is suspect (see
//! [`TimeLimits`]) is counted and kept, out of the time buckets.

use crate::enrich::{Enriched, Enricher};
use crate::event::{Event, Origin};
use crate::parse::time::{TimeLimits, TimeRange};
use crate::parse::{LineParser, python};
use crate::stats::Stats;
use crate::stats::overview::Window;
use std::borrow::Cow;

/// Receives each event with its enrichment, origin and raw text (the line, or lines when joined).
pub trait EventSink {
    fn event(&mut self, event: &Event<'_>, enriched: &Enriched, origin: Origin, raw: &[u8]);
}

/// A sink that keeps nothing (the headless report).
pub struct NoSink;

impl EventSink for NoSink {
    #[inline]
    fn event(&mut self, _: &Event<'_>, _: &Enriched, _: Origin, _: &[u8]) {}
}

impl<F: FnMut(&Event<'_>, &Enriched, Origin, &[u8])> EventSink for F {
    fn event(&mut self, event: &Event<'_>, enriched: &Enriched, origin: Origin, raw: &[u8]) {
        self(event, enriched, origin, raw)
    }
}

/// Longest line kept whole by default (1 MiB); the rest of a longer line is skipped.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
pub struct PipelineOptions {
    pub max_line: usize,
    /// Events outside are counted as filtered, not recorded.
    pub window: Window,
    pub default_offset: i64,
    /// "Now" and the plausible range of event times.
    pub times: TimeLimits,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            max_line: DEFAULT_MAX_LINE,
            window: Window::ALL,
            default_offset: 0,
            times: TimeLimits::default(),
        }
    }
}

/// Turns the bytes of one input into statistics.
pub struct Ingestor<'e> {
    pub enricher: &'e Enricher,
    pub parser: LineParser,
    pub options: PipelineOptions,
    pub stats: Stats,
    /// Index of the input, for origins.
    pub file: u32,
    /// The plausible range of times, resolved at each block.
    range: TimeRange,
    /// The time of the last event that had one, for the next event that has none.
    last_time: Option<i64>,
}

/// A Python event waiting for its traceback lines.
struct Pending<'a> {
    event: Event<'a>,
    start: usize,
    end: usize,
    lines: u64,
    flags: LineFlags,
}

#[derive(Debug, Clone, Copy, Default)]
struct LineFlags {
    truncated: u64,
    invalid_utf8: u64,
}

impl<'e> Ingestor<'e> {
    pub fn new(enricher: &'e Enricher, parser: LineParser, options: PipelineOptions, bucket_ms: i64) -> Ingestor<'e> {
        Ingestor {
            enricher,
            parser,
            options,
            stats: Stats::new(enricher.components.len(), bucket_ms),
            file: 0,
            range: options.times.resolve(),
            last_time: None,
        }
    }

    /// Processes the complete lines of `block`, whose first byte is at `block_offset` in the input.
    /// Without `eof`, a trailing partial line and an event that may still get traceback lines are
    /// left unconsumed; the return value is the number of bytes consumed. With `eof`, everything is.
    pub fn ingest_block<S: EventSink>(&mut self, block: &[u8], block_offset: u64, eof: bool, sink: &mut S) -> usize {
        // lines whose bytes were not valid UTF-8 are repaired into owned strings that must outlive
        // the pending event; they are kept here for the block
        let repaired: typed_arena::Arena<String> = typed_arena::Arena::new();
        self.range = self.options.times.resolve();
        let mut pos = 0usize;
        let mut pending: Option<Pending<'_>> = None;
        while pos < block.len() {
            let (line_end, next) = match memchr::memchr(b'\n', &block[pos..]) {
                Some(i) => (pos + i, pos + i + 1),
                None if eof => (block.len(), block.len()),
                None => break,
            };
            let mut raw = &block[pos..line_end];
            if raw.last() == Some(&b'\r') {
                raw = &raw[..raw.len() - 1];
            }
            let mut flags = LineFlags::default();
            if raw.len() > self.options.max_line {
                raw = &raw[..self.options.max_line];
                flags.truncated = 1;
            }
            let text: &str = match simdutf8::basic::from_utf8(raw) {
                Ok(s) => s,
                Err(_) => {
                    flags.invalid_utf8 = 1;
                    repaired.alloc(String::from_utf8_lossy(raw).into_owned()).as_str()
                }
            };
            if let Some(p) = pending.as_mut()
                && python::is_continuation(text)
            {
                python::join_continuation(&mut p.event, text);
                p.end = next;
                p.lines += 1;
                p.flags.truncated += flags.truncated;
                p.flags.invalid_utf8 += flags.invalid_utf8;
                pos = next;
                continue;
            }
            if let Some(p) = pending.take() {
                self.emit(&p.event, &block[p.start..p.end], block_offset + p.start as u64, p.lines, p.flags, sink);
            }
            if text.is_empty() {
                // blank lines are counted, not turned into events
                self.stats.lines.total += 1;
                pos = next;
                continue;
            }
            let event = self.parser.parse(text);
            if event.source == crate::event::Source::Flask {
                pending = Some(Pending { event, start: pos, end: next, lines: 1, flags });
            } else {
                self.emit(&event, &block[pos..next], block_offset + pos as u64, 1, flags, sink);
            }
            pos = next;
        }
        if let Some(p) = pending.take() {
            if eof || p.end - p.start > self.options.max_line {
                self.emit(&p.event, &block[p.start..p.end], block_offset + p.start as u64, p.lines, p.flags, sink);
            } else {
                return p.start;
            }
        }
        pos
    }

    fn emit<S: EventSink>(
        &mut self,
        event: &Event<'_>,
        raw: &[u8],
        offset: u64,
        lines: u64,
        flags: LineFlags,
        sink: &mut S,
    ) {
        self.stats.count_line(event.source, event.parsed);
        self.stats.lines.joined += lines - 1;
        self.stats.lines.total += lines - 1;
        self.stats.lines.truncated += flags.truncated;
        self.stats.lines.invalid_utf8 += flags.invalid_utf8;
        match event.ts_ms {
            Some(_) => self.last_time = event.ts_ms,
            None if event.parsed && self.last_time.is_some() => {
                return self.emit_inherited(event, raw, offset, lines, sink);
            }
            None => {}
        }
        self.record(event, raw, offset, lines, sink);
    }

    /// Filters, enriches and records an event, and hands it to the sink.
    #[inline]
    fn record<S: EventSink>(&mut self, event: &Event<'_>, raw: &[u8], offset: u64, lines: u64, sink: &mut S) -> bool {
        if let Some(ts) = event.ts_ms
            && !self.options.window.contains(ts)
        {
            self.stats.lines.filtered += lines;
            return false;
        }
        let enriched = self.enricher.enrich(event);
        match event.ts_ms {
            Some(ts) if !self.range.contains(ts) => self.record_suspect(event, ts, &enriched),
            _ => self.stats.record(event, &enriched, self.enricher),
        }
        sink.event(event, &enriched, Origin { file: self.file, offset }, trim_newline(raw));
        true
    }

    /// A parsed event without a time: it takes the time of the event before it (a copy with that
    /// time is recorded and handed on), and is counted as such.
    #[cold]
    fn emit_inherited<S: EventSink>(&mut self, event: &Event<'_>, raw: &[u8], offset: u64, lines: u64, sink: &mut S) {
        let timed = Event { ts_ms: self.last_time, ..event.clone() };
        if self.record(&timed, raw, offset, lines, sink) {
            self.stats.lines.inherited_time += 1;
        }
    }

    #[cold]
    fn record_suspect(&mut self, event: &Event<'_>, ts: i64, enriched: &Enriched) {
        let class = self.range.classify(ts);
        self.stats.record_suspect(event, class, enriched, self.enricher);
    }
}

fn trim_newline(raw: &[u8]) -> &[u8] {
    let mut r = raw;
    while let Some((&last, rest)) = r.split_last() {
        if last == b'\n' || last == b'\r' {
            r = rest;
        } else {
            break;
        }
    }
    r
}

/// True when the line starting at `bytes` (up to its newline) continues a traceback.
fn starts_continuation(bytes: &[u8]) -> bool {
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()).min(256);
    python::is_continuation(&String::from_utf8_lossy(&bytes[..end]))
}

/// The first safe split point at or after `at` in `window` (a slice of the input starting at
/// offset `window_offset`): just after a newline and before a line that does not continue a
/// traceback. `None` if the window holds no such point.
fn safe_split(window: &[u8], window_offset: u64) -> Option<u64> {
    let mut i = 0;
    while let Some(nl) = memchr::memchr(b'\n', &window[i..]) {
        i += nl + 1;
        if i >= window.len() {
            return None;
        }
        if !starts_continuation(&window[i..]) {
            return Some(window_offset + i as u64);
        }
    }
    None
}

/// Length of the read-only windows a file range is mapped in: big enough that page-fault and
/// mapping costs vanish, small enough that resident memory stays flat whatever the file size.
const MAP_WINDOW: u64 = 8 << 20;

/// Ingests `[from, to)` of a regular file through memory-mapped windows (no copy into a buffer);
/// a line crossing a window edge is picked up by the next window, which starts at the first byte
/// not consumed.
fn ingest_range(ingestor: &mut Ingestor<'_>, file: &std::fs::File, from: u64, to: u64) -> std::io::Result<()> {
    ingest_range_into(ingestor, file, from, to, &mut NoSink)
}

/// Ingests bytes `from..to` of a file through `ingestor`, window by mapped window (memory stays
/// bounded whatever the file's size), handing every event to `sink`.
pub fn ingest_range_into<S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    file: &std::fs::File,
    from: u64,
    to: u64,
    sink: &mut S,
) -> std::io::Result<()> {
    let page = 4096u64;
    let mut start = from;
    while start < to {
        let aligned = start - start % page;
        let end = (aligned + MAP_WINDOW).min(to);
        let last = end == to;
        // SAFETY: a read-only private map of a log file. A log appended to meanwhile only grows
        // past the mapped length; one truncated underneath could fault, which the report accepts
        // (the live follower reads with read(2) instead and never maps).
        let map = unsafe { memmap2::MmapOptions::new().offset(aligned).len((end - aligned) as usize).map(file)? };
        let _ = map.advise(memmap2::Advice::Sequential);
        let skip = (start - aligned) as usize;
        let consumed = ingestor.ingest_block(&map[skip..], start, last, sink);
        if consumed == 0 && !last {
            // a single line longer than the window: take its head as a truncated line, skip the rest
            let line_end = next_newline(file, end)?.unwrap_or(to);
            let head_len = ingestor.options.max_line.min(map.len() - skip);
            let mut head = map[skip..skip + head_len].to_vec();
            head.push(b'\n');
            ingestor.ingest_block(&head, start, true, sink);
            ingestor.stats.lines.truncated += 1;
            start = (line_end + 1).min(to);
            continue;
        }
        start += consumed as u64;
        if last {
            break;
        }
    }
    Ok(())
}

/// Offset of the first newline at or after `from`, reading forward in blocks.
fn next_newline(file: &std::fs::File, mut from: u64) -> std::io::Result<Option<u64>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read_at(&mut buf, from)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(Some(from + i as u64));
        }
        from += n as u64;
    }
}

/// What an ingestor for one input is made of.
#[derive(Clone, Copy)]
pub struct IngestSetup<'e> {
    pub enricher: &'e Enricher,
    pub parser: LineParser,
    pub options: PipelineOptions,
    pub bucket_ms: i64,
    /// Index of the input, for origins.
    pub index: u32,
}

/// Ingests a regular file of `len` bytes split across `threads` cores, each streaming its own byte
/// range through mapped windows (resident memory stays flat whatever the file size); the statistics
/// are merged in order.
pub fn ingest_file_parallel(
    file: &std::fs::File,
    len: u64,
    setup: &IngestSetup<'_>,
    threads: usize,
) -> std::io::Result<Stats> {
    use std::os::unix::fs::FileExt;
    let IngestSetup { enricher, parser, options, bucket_ms, index } = *setup;
    let mut points = vec![0u64];
    if threads > 1 && len >= 4 << 20 {
        let mut window = vec![0u8; 64 * 1024];
        for i in 1..threads as u64 {
            let at = len * i / threads as u64;
            if at <= *points.last().unwrap_or(&0) {
                continue;
            }
            let n = file.read_at(&mut window, at.saturating_sub(1))?;
            if let Some(split) = safe_split(&window[..n], at.saturating_sub(1)) {
                points.push(split);
            }
        }
    }
    points.push(len);
    let run = |from: u64, to: u64| -> std::io::Result<Stats> {
        let mut ingestor = Ingestor::new(enricher, parser, options, bucket_ms);
        ingestor.file = index;
        ingest_range(&mut ingestor, file, from, to)?;
        Ok(ingestor.stats)
    };
    if points.len() <= 2 {
        return run(0, len);
    }
    let results: Vec<std::io::Result<Stats>> = std::thread::scope(|scope| {
        let handles: Vec<_> = points.windows(2).map(|w| scope.spawn(move || run(w[0], w[1]))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(std::io::Error::other("a reader thread failed"))))
            .collect()
    });
    let mut total: Option<Stats> = None;
    for stats in results {
        let stats = stats?;
        match total.as_mut() {
            Some(t) => t.merge(stats),
            None => total = Some(stats),
        }
    }
    Ok(total.unwrap_or_else(|| Stats::new(enricher.components.len(), bucket_ms)))
}

/// Reads an input stream (stdin, gzip) block by block through an ingestor. Lines longer than the
/// buffer are truncated at the cap and the rest skipped without buffering it.
pub fn ingest_reader<R: std::io::Read, S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    reader: R,
    sink: &mut S,
) -> std::io::Result<()> {
    ingest_reader_at(ingestor, reader, 0, sink)
}

/// [`ingest_reader`] for a stream whose first byte is at `start_offset` of the input.
pub fn ingest_reader_at<R: std::io::Read, S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    mut reader: R,
    start_offset: u64,
    sink: &mut S,
) -> std::io::Result<()> {
    let capacity = (4 << 20).max(ingestor.options.max_line * 2 + 1);
    let mut buf: Vec<u8> = Vec::with_capacity(capacity);
    let mut offset: u64 = start_offset;
    let mut skipping = false;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut data = &chunk[..n];
        if skipping {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    offset += (i + 1) as u64;
                    data = &data[i + 1..];
                    skipping = false;
                }
                None => {
                    offset += n as u64;
                    continue;
                }
            }
        }
        buf.extend_from_slice(data);
        let eof = n == 0;
        let consumed = ingestor.ingest_block(&buf, offset, eof, sink);
        buf.drain(..consumed);
        offset += consumed as u64;
        if eof {
            return Ok(());
        }
        if buf.len() > ingestor.options.max_line && memchr::memchr(b'\n', &buf).is_none() {
            // an over-long line: keep its head as a (truncated) line, skip the rest
            let head_len = ingestor.options.max_line;
            let mut head = buf[..head_len].to_vec();
            head.push(b'\n');
            ingestor.ingest_block(&head, offset, true, sink);
            ingestor.stats.lines.truncated += 1;
            offset += buf.len() as u64;
            buf.clear();
            skipping = true;
        }
    }
}

/// Convenience for tests and small inputs: ingest a string slice.
pub fn ingest_str(enricher: &Enricher, text: &str, options: PipelineOptions) -> Stats {
    let parser = LineParser::new(crate::parse::detect(text.lines(), options.default_offset), options.default_offset);
    let mut ingestor = Ingestor::new(enricher, parser, options, 60_000);
    ingestor.ingest_block(text.as_bytes(), 0, true, &mut NoSink);
    ingestor.stats
}

/// Repairs invalid UTF-8 for display.
pub fn lossy(raw: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(raw)
}
