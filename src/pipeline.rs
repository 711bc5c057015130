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
            if self.range.contains(ts) {
                self.stats.note_filtered(ts);
            }
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
pub fn starts_continuation(bytes: &[u8]) -> bool {
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()).min(256);
    python::is_continuation(&String::from_utf8_lossy(&bytes[..end]))
}

/// The first safe split point in `window` (a slice of the input starting at offset
/// `window_offset`): just after a newline and before a line that does not continue a traceback.
/// `None` if the window holds no such point.
pub fn safe_split(window: &[u8], window_offset: u64) -> Option<u64> {
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

/// How lines are read and counted: the pipeline options and the statistics' bucket length. Built
/// from the config ([`crate::config::Config::ingest`]); one constructor makes an ingestor of it.
#[derive(Debug, Clone, Copy)]
pub struct IngestSettings {
    pub options: PipelineOptions,
    pub bucket_ms: i64,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings { options: PipelineOptions::default(), bucket_ms: 60_000 }
    }
}

impl IngestSettings {
    /// An ingestor for input number `file` in `format` (`None`: detected line by line).
    pub fn ingestor<'e>(
        &self,
        enricher: &'e Enricher,
        format: Option<crate::parse::Format>,
        file: u32,
    ) -> Ingestor<'e> {
        let parser = LineParser::new(format, self.options.default_offset);
        let mut ingestor = Ingestor::new(enricher, parser, self.options, self.bucket_ms);
        ingestor.file = file;
        ingestor
    }
}

/// Bytes read at a time from a file or stream.
pub const READ_CHUNK: usize = 8 << 20;

/// Feeds the bytes of one input, in chunks of any size, through an ingestor: the one place lines
/// are split across chunk boundaries and the one truncation rule. A partial line (or an event still
/// collecting traceback lines) is carried to the next chunk; a line longer than `max_line` keeps its
/// head (counted as truncated) and the rest is skipped as it arrives, never buffered; [`Feeder::finish`]
/// ends the input whatever its last line looks like (no newline, over-long, mid-skip).
pub struct Feeder {
    buf: Vec<u8>,
    /// Input offset of `buf[0]`.
    offset: u64,
    /// Skipping the rest of an over-long line, up to its newline.
    skipping: bool,
    /// Bytes taken in so far (the input offset of the next byte).
    next: u64,
}

impl Feeder {
    /// A feeder for an input whose first byte fed is at `offset`.
    pub fn new(offset: u64) -> Feeder {
        Feeder { buf: Vec::new(), offset, skipping: false, next: offset }
    }

    /// The input offset of the next byte to feed.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Reads once from `source` into the feeder's own buffer (at most `chunk` bytes) and processes
    /// what is complete; returns the bytes read (0 at the end of the input). No copy beyond the
    /// carried partial line.
    pub fn read_from<S: EventSink>(
        &mut self,
        ingestor: &mut Ingestor<'_>,
        chunk: usize,
        mut source: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
        sink: &mut S,
    ) -> std::io::Result<usize> {
        let start = self.buf.len();
        self.buf.resize(start + chunk.max(1), 0);
        let n = loop {
            match source(&mut self.buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(start + n);
        self.next += n as u64;
        if n > 0 {
            self.process(ingestor, start, sink);
        }
        Ok(n)
    }

    /// Feeds `data` (copied in).
    pub fn feed<S: EventSink>(&mut self, ingestor: &mut Ingestor<'_>, data: &[u8], sink: &mut S) {
        let start = self.buf.len();
        self.buf.extend_from_slice(data);
        self.next += data.len() as u64;
        self.process(ingestor, start, sink);
    }

    /// Processes the buffer; the bytes from `fresh` on are new.
    fn process<S: EventSink>(&mut self, ingestor: &mut Ingestor<'_>, fresh: usize, sink: &mut S) {
        if self.skipping {
            // everything before `fresh` was already skipped
            match memchr::memchr(b'\n', &self.buf[fresh..]) {
                Some(i) => {
                    let skip = fresh + i + 1;
                    self.buf.drain(..skip);
                    self.offset += skip as u64;
                    self.skipping = false;
                }
                None => {
                    self.offset += self.buf.len() as u64;
                    self.buf.clear();
                    return;
                }
            }
        }
        let consumed = ingestor.ingest_block(&self.buf, self.offset, false, sink);
        self.discard(consumed);
        // a partial last line longer than the cap: keep its head, skip the rest as it arrives
        let max_line = ingestor.options.max_line;
        let line_start = memchr::memrchr(b'\n', &self.buf).map_or(0, |i| i + 1);
        if line_len(&self.buf[line_start..]) > max_line {
            if line_start > 0 {
                // what comes before it ends here (an event collecting traceback lines, say)
                let done = ingestor.ingest_block(&self.buf[..line_start], self.offset, true, sink);
                debug_assert_eq!(done, line_start);
                self.discard(line_start);
            }
            self.truncate_line(ingestor, sink);
        }
    }

    /// Takes the head of the over-long line at the start of the buffer as a truncated line and
    /// skips the rest of it.
    fn truncate_line<S: EventSink>(&mut self, ingestor: &mut Ingestor<'_>, sink: &mut S) {
        let max_line = ingestor.options.max_line;
        let mut head = self.buf[..max_line.min(self.buf.len())].to_vec();
        head.push(b'\n');
        ingestor.ingest_block(&head, self.offset, true, sink);
        ingestor.stats.lines.truncated += 1;
        match memchr::memchr(b'\n', &self.buf[max_line.min(self.buf.len())..]) {
            Some(i) => {
                let skip = max_line + i + 1;
                self.discard(skip);
            }
            None => {
                self.offset += self.buf.len() as u64;
                self.buf.clear();
                self.skipping = true;
            }
        }
    }

    fn discard(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let n = n.min(self.buf.len());
        self.buf.copy_within(n.., 0);
        self.buf.truncate(self.buf.len() - n);
        self.offset += n as u64;
    }

    /// The end of the input: everything left becomes events.
    pub fn finish<S: EventSink>(&mut self, ingestor: &mut Ingestor<'_>, sink: &mut S) {
        if !self.skipping && !self.buf.is_empty() {
            if line_len(&self.buf) > ingestor.options.max_line && memchr::memchr(b'\n', &self.buf).is_none() {
                self.truncate_line(ingestor, sink);
            } else {
                let consumed = ingestor.ingest_block(&self.buf, self.offset, true, sink);
                debug_assert_eq!(consumed, self.buf.len());
            }
        }
        self.offset += self.buf.len() as u64;
        self.buf.clear();
        self.skipping = false;
    }
}

/// The length of a line without its newline as [`Ingestor::ingest_block`] measures it against the
/// cap: one trailing `\r` is not counted (it may be the first half of a CRLF whose `\n` comes in
/// the next read).
fn line_len(line: &[u8]) -> usize {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.len() - usize::from(line.last() == Some(&b'\r'))
}

/// Reads an input stream (stdin, gzip, a test's chunks) to its end through an ingestor.
pub fn ingest_reader<R: std::io::Read, S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    reader: R,
    sink: &mut S,
) -> std::io::Result<()> {
    ingest_reader_at(ingestor, reader, 0, sink)
}

/// [`ingest_reader`] for a stream whose first byte is at `start_offset` of the input. A read error
/// ends the input: what was read is kept, the error returned.
pub fn ingest_reader_at<R: std::io::Read, S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    mut reader: R,
    start_offset: u64,
    sink: &mut S,
) -> std::io::Result<()> {
    let mut feeder = Feeder::new(start_offset);
    let chunk = 1 << 20;
    loop {
        match feeder.read_from(ingestor, chunk, |buf| reader.read(buf), sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                feeder.finish(ingestor, sink);
                return Err(e);
            }
        }
    }
    feeder.finish(ingestor, sink);
    Ok(())
}

/// Convenience for tests and small inputs: ingest a string slice.
pub fn ingest_str(enricher: &Enricher, text: &str, options: PipelineOptions) -> Stats {
    let format = crate::parse::detect(text.lines(), options.default_offset);
    let mut ingestor = IngestSettings { options, bucket_ms: 60_000 }.ingestor(enricher, format, 0);
    ingestor.ingest_block(text.as_bytes(), 0, true, &mut NoSink);
    ingestor.stats
}

/// Repairs invalid UTF-8 for display.
pub fn lossy(raw: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(raw)
}
