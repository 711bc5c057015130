//! Sources: resolving what the user named (files, directories, globs, `-` for stdin) into inputs,
//! and reading each — memory-mapped and split across cores, or streamed (stdin, gzip) — through
//! the pipeline. Problems with one input are reported and the others still read.

pub mod follow;
pub mod read;

pub use read::{detect_format, is_gzip};

use crate::enrich::Enricher;
use crate::parse;
use crate::pipeline::IngestSettings;
use crate::stats::Stats;
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
    #[error("{0}: a loop of symbolic links (too many levels of symlinks)")]
    SymlinkLoop(String),
    #[error("{0}: the glob matched no files")]
    EmptyGlob(String),
    #[error("{0}: not a valid glob pattern ({1})")]
    BadGlob(String, String),
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: looks like a binary file ({1}); not read")]
    Binary(String, String),
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

/// Resolves the command-line arguments into inputs, in a stable order. A directory gives the log
/// files in it (see [`looks_like_log`]); non-regular files (a FIFO, `/dev/stdin`, a process
/// substitution) are inputs like files.
pub fn resolve(args: &[String]) -> Result<Vec<Input>, SourceError> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        let name = crate::text::sanitize(arg).into_owned();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| read::io_problem(&name, e))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && looks_like_log(p))
                    .collect();
                files.sort();
                inputs.extend(files.into_iter().map(Input::File));
            }
            Ok(_) => inputs.push(Input::File(path.to_path_buf())),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(read::io_problem(&name, e)),
            Err(_) if arg.contains(['*', '?', '[']) => {
                let paths = glob::glob(arg).map_err(|e| SourceError::BadGlob(name.clone(), e.to_string()))?;
                let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
                if files.is_empty() {
                    return Err(SourceError::EmptyGlob(name));
                }
                files.sort();
                inputs.extend(files.into_iter().map(Input::File));
            }
            Err(_) if path.symlink_metadata().is_ok() => {
                return Err(SourceError::Io(name, std::io::Error::other("a symbolic link to nothing")));
            }
            Err(_) => return Err(SourceError::NotFound(name)),
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

/// Settings for reading inputs.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub settings: IngestSettings,
    pub threads: usize,
    /// Forces a format for every input instead of detecting it.
    pub format: Option<parse::Format>,
}

/// What reading a set of inputs gave.
#[derive(Debug)]
pub struct ReadAll {
    pub stats: Stats,
    /// Inputs that could not be read, and why (one bad file does not hide the others).
    pub problems: Vec<SourceError>,
    /// Inputs read in part (a file that shrank, a corrupt gzip member), terminal-safe.
    pub notices: Vec<String>,
    /// How many inputs were read (in whole or part).
    pub read: usize,
}

/// Reads every input into one set of statistics. Inputs that cannot be read are skipped and their
/// problem returned alongside. `waiting` is told when an input blocks (a FIFO without a writer).
pub fn read_all(inputs: &[Input], enricher: &Enricher, options: ReadOptions, waiting: &dyn Fn(&str)) -> ReadAll {
    let settings = &options.settings;
    let mut all = ReadAll {
        stats: Stats::new(enricher.components.len(), settings.bucket_ms),
        problems: Vec::new(),
        notices: Vec::new(),
        read: 0,
    };
    for (index, input) in inputs.iter().enumerate() {
        match read::open(input, options.format, settings.options.default_offset, waiting) {
            Ok(opened) => {
                let (stats, outcome) = read::read_stats(opened, index as u32, enricher, settings, options.threads);
                all.stats.merge(stats);
                all.notices.extend(outcome.notices);
                all.read += 1;
            }
            Err(e) => all.problems.push(e),
        }
    }
    all.stats.settle();
    all
}
