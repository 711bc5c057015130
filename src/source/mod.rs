//! Sources: resolving what the user named (files, directories, globs, `-` for stdin) into inputs,
//! and reading each — memory-mapped and split across cores, or streamed (stdin, gzip) — through
//! the pipeline. Problems with one input are reported and the others still read.

pub mod follow;

use crate::enrich::Enricher;
use crate::parse::{self, LineParser};
use crate::pipeline::{self, Ingestor, NoSink, PipelineOptions};
use crate::stats::Stats;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One thing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("{0}: the glob matched no files")]
    EmptyGlob(String),
    #[error("{0}: not a valid glob pattern ({1})")]
    BadGlob(String, String),
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: looks like a binary file ({1}% NUL bytes in the first 8 KiB); not read")]
    Binary(String, u32),
}

/// True for names that look like log files in a directory listing.
pub(crate) fn looks_like_log(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') || name == "manifest.json" {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    [".log", ".jsonl", ".ndjson", ".txt", ".out", ".err", ".gz"].iter().any(|ext| lower.ends_with(ext))
        || lower.contains(".log.")
}

/// Resolves the command-line arguments into inputs, in a stable order.
pub fn resolve(args: &[String]) -> Result<Vec<Input>, SourceError> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| SourceError::Io(arg.clone(), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && looks_like_log(p))
                .collect();
            files.sort();
            inputs.extend(files.into_iter().map(Input::File));
        } else if path.exists() {
            inputs.push(Input::File(path.to_path_buf()));
        } else if arg.contains(['*', '?', '[']) {
            let paths = glob::glob(arg).map_err(|e| SourceError::BadGlob(arg.clone(), e.to_string()))?;
            let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
            if files.is_empty() {
                return Err(SourceError::EmptyGlob(arg.clone()));
            }
            files.sort();
            inputs.extend(files.into_iter().map(Input::File));
        } else {
            return Err(SourceError::NotFound(arg.clone()));
        }
    }
    Ok(inputs)
}

/// Percentage of NUL bytes in a sample; > 10 % means a binary file.
pub fn nul_percent(sample: &[u8]) -> u32 {
    if sample.is_empty() {
        return 0;
    }
    (memchr::memchr_iter(0, sample).count() * 100 / sample.len()) as u32
}

pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Picks the format of an input from its first lines (`None`: per-line detection).
pub fn detect_format(head: &[u8], default_offset: i64) -> Option<parse::Format> {
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    parse::detect(text.lines(), default_offset)
}

/// Settings for reading inputs.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub pipeline: PipelineOptions,
    pub bucket_ms: i64,
    pub threads: usize,
    /// Forces a format for every input instead of detecting it.
    pub format: Option<parse::Format>,
}

/// Reads every input into one set of statistics. Inputs that cannot be read are skipped and their
/// problem returned alongside, so one bad file does not hide the others.
pub fn read_all(inputs: &[Input], enricher: &Enricher, options: ReadOptions) -> (Stats, Vec<SourceError>) {
    let mut total = Stats::new(enricher.components.len(), options.bucket_ms);
    let mut problems = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match read_one(input, index as u32, enricher, options) {
            Ok(stats) => total.merge(stats),
            Err(e) => problems.push(e),
        }
    }
    total.settle();
    (total, problems)
}

/// Reads one input.
pub fn read_one(input: &Input, index: u32, enricher: &Enricher, options: ReadOptions) -> Result<Stats, SourceError> {
    let offset = options.pipeline.default_offset;
    match input {
        Input::Stdin => {
            let stdin = std::io::stdin().lock();
            let mut ingestor =
                Ingestor::new(enricher, LineParser::new(options.format, offset), options.pipeline, options.bucket_ms);
            ingestor.file = index;
            pipeline::ingest_reader(&mut ingestor, stdin, &mut NoSink).map_err(|e| SourceError::Io("-".into(), e))?;
            Ok(ingestor.stats)
        }
        Input::File(path) => {
            let name = path.display().to_string();
            let file = File::open(path).map_err(|e| SourceError::Io(name.clone(), e))?;
            let mut head = vec![0u8; 8192];
            let n = (&file).take(8192).read(&mut head).map_err(|e| SourceError::Io(name.clone(), e))?;
            head.truncate(n);
            if is_gzip(&head) {
                return read_gzip(path, index, enricher, options);
            }
            let nul = nul_percent(&head);
            if nul > 10 {
                return Err(SourceError::Binary(name, nul));
            }
            let len = file.metadata().map_err(|e| SourceError::Io(name.clone(), e))?.len();
            if len == 0 {
                return Ok(Stats::new(enricher.components.len(), options.bucket_ms));
            }
            let mut head = vec![0u8; 64 * 1024];
            let n = std::os::unix::fs::FileExt::read_at(&file, &mut head, 0)
                .map_err(|e| SourceError::Io(name.clone(), e))?;
            let format = options.format.or_else(|| detect_format(&head[..n], offset));
            let setup = pipeline::IngestSetup {
                enricher,
                parser: LineParser::new(format, offset),
                options: options.pipeline,
                bucket_ms: options.bucket_ms,
                index,
            };
            pipeline::ingest_file_parallel(&file, len, &setup, options.threads).map_err(|e| SourceError::Io(name, e))
        }
    }
}

fn read_gzip(path: &Path, index: u32, enricher: &Enricher, options: ReadOptions) -> Result<Stats, SourceError> {
    let name = path.display().to_string();
    let open = || File::open(path).map_err(|e| SourceError::Io(name.clone(), e));
    let mut head = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(open()?).take(64 * 1024).read_to_end(&mut head);
    let format = options.format.or_else(|| detect_format(&head, options.pipeline.default_offset));
    let mut ingestor = Ingestor::new(
        enricher,
        LineParser::new(format, options.pipeline.default_offset),
        options.pipeline,
        options.bucket_ms,
    );
    ingestor.file = index;
    let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(open()?));
    pipeline::ingest_reader(&mut ingestor, decoder, &mut NoSink)
        .map_err(|e| SourceError::Io(name.clone(), std::io::Error::new(e.kind(), format!("corrupt gzip data: {e}"))))?;
    Ok(ingestor.stats)
}
