//! The one reader: every command that reads logs whole (the report, the console's first read, its
//! drill-down rescans, `ship`) opens and reads its inputs here.
//!
//! - **Opening** ([`open`]): a regular file is read with positioned reads (`pread`) into a reused
//!   buffer, never mapped, so a file truncated while it is read (copytruncate) ends the read with a
//!   notice instead of a SIGBUS; anything else — stdin, a FIFO (after saying it waits for a
//!   writer), a process substitution, a character device, a `/proc` file that reports length 0 — is
//!   read as a stream to its end. Gzip is recognised by its magic bytes (on files and streams) and
//!   decompressed; a corrupt member ends the input with a notice giving the compressed offset, and
//!   what decoded before it is kept. Binary data (NUL or control bytes, invalid UTF-8) is refused
//!   before a line of it is read. A symlink loop is named as such.
//! - **Splitting** is the pipeline's [`Feeder`]: one truncation rule, and every input ends at EOF
//!   whatever its last line looks like.
//! - **Parallel chunks**: a large regular file is split at safe line boundaries (never inside a
//!   traceback) and each core reads its own range; the statistics merge in order.

use super::{Input, SourceError};
use crate::enrich::Enricher;
use crate::parse::Format;
use crate::pipeline::{EventSink, Feeder, IngestSettings, Ingestor, NoSink, READ_CHUNK};
use crate::stats::Stats;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::Path;

/// Bytes sampled at the start of an input for the binary check.
pub const BINARY_SAMPLE: usize = 8192;
/// Bytes sampled at the start of an input to detect its format.
const FORMAT_SAMPLE: usize = 64 * 1024;
/// Files smaller than this are read by one core.
const PARALLEL_MIN: u64 = 4 << 20;

/// Why a sample looks binary: the share of NUL bytes, or of control bytes and invalid UTF-8.
pub fn binary_reason(sample: &[u8]) -> Option<String> {
    if sample.is_empty() {
        return None;
    }
    let nul = memchr::memchr_iter(0, sample).count() * 100 / sample.len();
    if nul > 10 {
        return Some(format!("{nul}% NUL bytes in the first {} KiB", sample.len().div_ceil(1024)));
    }
    if sample.len() < 256 {
        return None;
    }
    // a sample cut in the middle of a character is not counted against it
    let mut odd = 0usize;
    let mut rest = sample;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                odd += text.bytes().filter(|b| is_odd_control(*b)).count();
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                odd += good.iter().filter(|b| is_odd_control(**b)).count();
                match e.error_len() {
                    Some(n) => {
                        odd += n;
                        rest = &bad[n..];
                    }
                    None => break,
                }
            }
        }
    }
    let share = odd * 100 / sample.len();
    (share > 30)
        .then(|| format!("{share}% control bytes or invalid UTF-8 in the first {} KiB", sample.len().div_ceil(1024)))
}

/// Control bytes that text logs do not hold (tab, newline, carriage return, form feed and escape
/// are common in logs and allowed).
fn is_odd_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f
}

pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Picks the format of an input from its first lines (`None`: per-line detection).
pub fn detect_format(head: &[u8], default_offset: i64) -> Option<Format> {
    let text = String::from_utf8_lossy(&head[..head.len().min(FORMAT_SAMPLE)]);
    crate::parse::detect(text.lines(), default_offset)
}

/// A reader that counts the bytes it hands on (the compressed offset of a gzip stream).
pub struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// How an input's bytes come.
pub enum Body {
    /// A regular file of `len` bytes (at open), read with positioned reads.
    File { file: File, len: u64 },
    /// A stream (gzip decompressed as it is read), read to its end.
    Stream(Box<dyn Read + Send>),
}

/// An input opened for reading.
pub struct Opened {
    /// The input's name, terminal-safe.
    pub name: String,
    /// Its format, detected from its first lines (or forced).
    pub format: Option<Format>,
    pub body: Body,
}

/// What reading one input gave besides its events.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Things to tell the user (a file that shrank, a corrupt gzip member), terminal-safe.
    pub notices: Vec<String>,
    /// The input offset reading stopped at (a file's length, a stream's bytes).
    pub end: u64,
}

/// Bytes already read from a stream, handed on before the rest of it.
struct Prefixed<R> {
    head: std::io::Cursor<Vec<u8>>,
    rest: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 { Ok(n) } else { self.rest.read(buf) }
    }
}

/// Reads up to `n` bytes from the start of a stream (fewer at its end).
fn read_head(reader: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// True when the error is a symlink loop (ELOOP).
fn is_symlink_loop(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(40)
}

/// The problem of an input that could not be opened or read, in words.
pub fn io_problem(name: &str, e: std::io::Error) -> SourceError {
    if is_symlink_loop(&e) {
        SourceError::SymlinkLoop(name.to_string())
    } else if e.kind() == std::io::ErrorKind::NotFound {
        SourceError::NotFound(name.to_string())
    } else {
        SourceError::Io(name.to_string(), e)
    }
}

/// Opens an input: decides how its bytes come, refuses binary data, detects its format (unless
/// `forced`). `waiting` is told when opening blocks (a FIFO waits for a writer).
pub fn open(
    input: &Input,
    forced: Option<Format>,
    default_offset: i64,
    waiting: &dyn Fn(&str),
) -> Result<Opened, SourceError> {
    match input {
        Input::Stdin => open_stream("-".to_string(), Box::new(std::io::stdin()), forced, default_offset),
        Input::File(path) => open_path(path, forced, default_offset, waiting),
    }
}

fn open_path(
    path: &Path,
    forced: Option<Format>,
    default_offset: i64,
    waiting: &dyn Fn(&str),
) -> Result<Opened, SourceError> {
    let name = crate::text::path_text(path);
    let meta = std::fs::metadata(path).map_err(|e| io_problem(&name, e))?;
    if meta.is_dir() {
        return Err(SourceError::Io(name, std::io::Error::other("is a directory")));
    }
    if meta.file_type().is_fifo() {
        waiting(&format!("{name} is a FIFO: waiting for a writer…"));
    }
    let file = File::open(path).map_err(|e| io_problem(&name, e))?;
    if !meta.is_file() || meta.len() == 0 {
        // FIFOs, devices, sockets, process substitutions, /proc files (length 0 but not empty)
        return open_stream(name, Box::new(file), forced, default_offset);
    }
    let len = meta.len();
    let mut head = vec![0u8; FORMAT_SAMPLE.min(len as usize)];
    let n = read_full_at(&file, &mut head, 0).map_err(|e| io_problem(&name, e))?;
    head.truncate(n);
    if is_gzip(&head) {
        return open_gzip(name, Box::new(file), forced, default_offset);
    }
    if let Some(reason) = binary_reason(&head[..head.len().min(BINARY_SAMPLE)]) {
        return Err(SourceError::Binary(name, reason));
    }
    let format = forced.or_else(|| detect_format(&head, default_offset));
    Ok(Opened { name, format, body: Body::File { file, len } })
}

fn open_stream(
    name: String,
    mut reader: Box<dyn Read + Send>,
    forced: Option<Format>,
    default_offset: i64,
) -> Result<Opened, SourceError> {
    let head = read_head(&mut reader, FORMAT_SAMPLE).map_err(|e| io_problem(&name, e))?;
    let reader: Box<dyn Read + Send> = Box::new(Prefixed { head: std::io::Cursor::new(head.clone()), rest: reader });
    if is_gzip(&head) {
        return open_gzip(name, reader, forced, default_offset);
    }
    if let Some(reason) = binary_reason(&head[..head.len().min(BINARY_SAMPLE)]) {
        return Err(SourceError::Binary(name, reason));
    }
    let format = forced.or_else(|| detect_format(&head, default_offset));
    Ok(Opened { name, format, body: Body::Stream(reader) })
}

fn open_gzip(
    name: String,
    compressed: Box<dyn Read + Send>,
    forced: Option<Format>,
    default_offset: i64,
) -> Result<Opened, SourceError> {
    let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(Counting { inner: compressed, count: 0 }));
    // the decompressed head decides binary and format; it is handed on before the rest
    let head = match read_head(&mut decoder, FORMAT_SAMPLE) {
        Ok(head) => head,
        Err(e) => return Err(SourceError::Io(name, std::io::Error::new(e.kind(), format!("corrupt gzip data: {e}")))),
    };
    if let Some(reason) = binary_reason(&head[..head.len().min(BINARY_SAMPLE)]) {
        return Err(SourceError::Binary(name, format!("{reason} (decompressed)")));
    }
    let format = forced.or_else(|| detect_format(&head, default_offset));
    let stream: Box<dyn Read + Send> =
        Box::new(GzipWithHead { head: std::io::Cursor::new(head), decoder: Box::new(decoder) });
    Ok(Opened { name, format, body: Body::Stream(stream) })
}

/// A gzip decoder whose first decompressed bytes were read ahead; its errors carry the
/// compressed offset where decoding failed.
struct GzipWithHead {
    head: std::io::Cursor<Vec<u8>>,
    decoder: Box<GzDecoder>,
}

/// A gzip decoder over a counted stream of compressed bytes.
type GzDecoder = flate2::read::MultiGzDecoder<BufReader<Counting<Box<dyn Read + Send>>>>;

impl Read for GzipWithHead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        self.decoder.read(buf).map_err(|e| {
            let at = self.decoder.get_ref().get_ref().count;
            std::io::Error::new(e.kind(), format!("corrupt gzip data near compressed byte {at}: {e}"))
        })
    }
}

/// Reads into `buf` at `offset` until it is full or the file ends; returns the bytes read.
pub fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Offset just after the last newline before `len`: the complete lines of a file being written.
pub fn complete_len(file: &File, len: u64) -> u64 {
    let start = len.saturating_sub(64 * 1024);
    let mut buf = vec![0u8; (len - start) as usize];
    match read_full_at(file, &mut buf, start) {
        Ok(n) => {
            memchr::memrchr(b'\n', &buf[..n]).map_or(if len < 64 * 1024 { 0 } else { len }, |i| start + i as u64 + 1)
        }
        Err(_) => len,
    }
}

/// Reads bytes `from..to` of a regular file through `ingestor` with positioned reads into one
/// reused buffer, handing every event to `sink`. A file that ends before `to` (truncated while it
/// is read) ends the range where it ends, with a notice.
pub fn read_range<S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    file: &File,
    name: &str,
    from: u64,
    to: u64,
    sink: &mut S,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut feeder = Feeder::new(from);
    while feeder.position() < to {
        let at = feeder.position();
        let want = (to - at).min(READ_CHUNK as u64) as usize;
        match feeder.read_from(ingestor, want, |buf| file.read_at(buf, at), sink) {
            Ok(0) => {
                outcome.notices.push(format!(
                    "{name} shrank to {at} bytes while it was read (truncated or rotated by copytruncate?): \
                     read up to there"
                ));
                break;
            }
            Ok(_) => {}
            Err(e) => {
                outcome.notices.push(format!("{name}: read error at byte {at}: {e}; read up to there"));
                break;
            }
        }
    }
    feeder.finish(ingestor, sink);
    outcome.end = feeder.position();
    outcome
}

/// Reads a stream to its end through `ingestor`. A read error (a corrupt gzip member) ends it with
/// a notice; what was read before is kept.
pub fn read_stream<S: EventSink>(
    ingestor: &mut Ingestor<'_>,
    reader: &mut dyn Read,
    name: &str,
    sink: &mut S,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut feeder = Feeder::new(0);
    loop {
        match feeder.read_from(ingestor, 1 << 20, |buf| reader.read(buf), sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                outcome.notices.push(format!("{name}: {e}; read the {} bytes before it", feeder.position()));
                break;
            }
        }
    }
    feeder.finish(ingestor, sink);
    outcome.end = feeder.position();
    outcome
}

/// Reads a whole opened input into statistics, a large regular file split across `threads` cores.
pub fn read_stats(
    opened: Opened,
    index: u32,
    enricher: &Enricher,
    settings: &IngestSettings,
    threads: usize,
) -> (Stats, ReadOutcome) {
    match opened.body {
        Body::File { file, len } => {
            read_file_parallel(&file, &opened.name, len, index, opened.format, enricher, settings, threads)
        }
        Body::Stream(mut reader) => {
            let mut ingestor = settings.ingestor(enricher, opened.format, index);
            let outcome = read_stream(&mut ingestor, &mut reader, &opened.name, &mut NoSink);
            (ingestor.stats, outcome)
        }
    }
}

/// Reads a whole opened input in order, every event to `sink` (one core).
pub fn read_events<S: EventSink>(
    opened: Opened,
    index: u32,
    enricher: &Enricher,
    settings: &IngestSettings,
    sink: &mut S,
) -> (Stats, ReadOutcome) {
    let mut ingestor = settings.ingestor(enricher, opened.format, index);
    let outcome = match opened.body {
        Body::File { file, len } => read_range(&mut ingestor, &file, &opened.name, 0, len, sink),
        Body::Stream(mut reader) => read_stream(&mut ingestor, &mut reader, &opened.name, sink),
    };
    (ingestor.stats, outcome)
}

/// Reads `[0, len)` of a regular file split across `threads` cores at safe line boundaries, each
/// core reading its own range; the statistics are merged in order.
#[allow(clippy::too_many_arguments)]
pub fn read_file_parallel(
    file: &File,
    name: &str,
    len: u64,
    index: u32,
    format: Option<Format>,
    enricher: &Enricher,
    settings: &IngestSettings,
    threads: usize,
) -> (Stats, ReadOutcome) {
    let (stats, outcome, _) =
        read_file_parallel_with(file, name, len, index, format, enricher, settings, threads, &|| NoSink);
    (stats, outcome)
}

/// [`read_file_parallel`], every event also handed to a sink of each core's own (made by
/// `make_sink`, e.g. an index builder); the sinks come back in the order of their ranges.
#[allow(clippy::too_many_arguments)]
pub fn read_file_parallel_with<S: EventSink + Send>(
    file: &File,
    name: &str,
    len: u64,
    index: u32,
    format: Option<Format>,
    enricher: &Enricher,
    settings: &IngestSettings,
    threads: usize,
    make_sink: &(dyn Fn() -> S + Sync),
) -> (Stats, ReadOutcome, Vec<S>) {
    let mut points = vec![0u64];
    if threads > 1 && len >= PARALLEL_MIN {
        let mut window = vec![0u8; 64 * 1024];
        for i in 1..threads as u64 {
            let at = len * i / threads as u64;
            if at <= *points.last().unwrap_or(&0) {
                continue;
            }
            let n = read_full_at(file, &mut window, at.saturating_sub(1)).unwrap_or(0);
            if let Some(split) = crate::pipeline::safe_split(&window[..n], at.saturating_sub(1)) {
                points.push(split);
            }
        }
    }
    points.push(len);
    let run = |from: u64, to: u64| {
        let mut ingestor = settings.ingestor(enricher, format, index);
        let mut sink = make_sink();
        let outcome = read_range(&mut ingestor, file, name, from, to, &mut sink);
        (ingestor.stats, outcome, Some(sink))
    };
    let results: Vec<(Stats, ReadOutcome, Option<S>)> = if points.len() <= 2 {
        vec![run(0, len)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = points.windows(2).map(|w| scope.spawn(move || run(w[0], w[1]))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        let outcome = ReadOutcome { notices: vec![format!("{name}: a reader thread failed")], end: 0 };
                        (Stats::new(enricher.components.len(), settings.bucket_ms), outcome, None)
                    })
                })
                .collect()
        })
    };
    let mut total = Stats::new(enricher.components.len(), settings.bucket_ms);
    let mut outcome = ReadOutcome::default();
    let mut shrank = false;
    let mut sinks = Vec::new();
    for (stats, part, sink) in results {
        total.merge(stats);
        sinks.extend(sink);
        for notice in part.notices {
            // a shrinking file is said once, however many ranges saw it
            let about_shrinking = notice.contains(" shrank to ");
            if !(about_shrinking && shrank) {
                outcome.notices.push(notice);
            }
            shrank |= about_shrinking;
        }
        outcome.end = outcome.end.max(part.end);
    }
    (total, outcome, sinks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_samples() {
        assert!(binary_reason(&[0u8; 4096]).is_some());
        assert!(binary_reason(b"2025-09-01 14:00:00 [INFO] ok\n".repeat(100).as_slice()).is_none());
        // escape sequences and a little invalid UTF-8 in log lines are not binary
        let mut hostile = b"2025-09-01 14:00:00 [ERROR] \x1b[31mred\x1b[0m \xff\xfe bad bytes\n".repeat(50);
        hostile.extend_from_slice(b"\t tabs\r\n");
        assert!(binary_reason(&hostile).is_none(), "{:?}", binary_reason(&hostile));
        // random bytes are
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let random: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(binary_reason(&random).is_some());
    }
}
