//! A/B of how a regular file's bytes reach the pipeline (issue 16 item 4): positioned reads into
//! one reused 8 MiB buffer (what the reader does since a file truncated under a mapping killed
//! the process with SIGBUS) against a memory mapping of the whole file ingested in place (what it
//! did before). The same ingestor, one thread, the same seed-format file on a warm page cache; the
//! best of `FOLEY_BENCH_RUNS` (default 5) runs of each, alternated so that drift hits both.
//!
//! `cargo bench --bench read_ab` generates (once, cached under `target/bench-data/`) a 500 MB
//! seed-format log (the simulator's `inference.log` repeated). Under `cargo test --all-targets`
//! the binary is run without `--bench` and exits at once.

#![allow(clippy::unwrap_used, clippy::panic)]

use foley_triage::config::Config;
use foley_triage::pipeline::{Feeder, NoSink, READ_CHUNK};
use foley_triage::source::read;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SIZE: u64 = 500_000_000;

fn data() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("read_ab-seed-500MB.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= SIZE) {
        return path;
    }
    let sim = tempfile::tempdir().unwrap();
    let options = foley_triage::simulate::SimulateOptions { minutes: 60, ..Default::default() };
    foley_triage::simulate::write_logs(sim.path(), &options).unwrap();
    let one = std::fs::read(sim.path().join("inference.log")).unwrap();
    let mut out = std::io::BufWriter::new(File::create(&path).unwrap());
    let mut written = 0u64;
    while written < SIZE {
        out.write_all(&one).unwrap();
        written += one.len() as u64;
    }
    out.flush().unwrap();
    path
}

/// Positioned reads through the feeder, as `source::read` does: returns (events, time).
fn positioned(path: &PathBuf, config: &Config) -> (u64, Duration) {
    let enricher = config.enricher().unwrap();
    let settings = config.ingest();
    let file = File::open(path).unwrap();
    let started = Instant::now();
    let mut ingestor = settings.ingestor(&enricher, None, 0);
    let mut feeder = Feeder::new(0);
    let mut at = 0u64;
    loop {
        let n =
            feeder.read_from(&mut ingestor, READ_CHUNK, |buf| read::read_full_at(&file, buf, at), &mut NoSink).unwrap();
        if n == 0 {
            break;
        }
        at += n as u64;
    }
    feeder.finish(&mut ingestor, &mut NoSink);
    (ingestor.stats.lines.total, started.elapsed())
}

/// The whole file mapped and ingested in place (no copy).
fn mapped(path: &PathBuf, config: &Config) -> (u64, Duration) {
    let enricher = config.enricher().unwrap();
    let settings = config.ingest();
    let file = File::open(path).unwrap();
    let started = Instant::now();
    // SAFETY: the bench's own file, not changed while it runs.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let mut ingestor = settings.ingestor(&enricher, None, 0);
    ingestor.ingest_block(&map, 0, true, &mut NoSink);
    (ingestor.stats.lines.total, started.elapsed())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let path = data();
    let bytes = std::fs::metadata(&path).unwrap().len() as f64;
    let config = Config::default();
    let runs: usize = std::env::var("FOLEY_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    // warm the page cache
    let _ = std::fs::read(&path).unwrap();
    let mut best = [Duration::MAX; 2];
    let mut lines = [0u64; 2];
    for _ in 0..runs {
        for (i, run) in [positioned as fn(&PathBuf, &Config) -> (u64, Duration), mapped].iter().enumerate() {
            let (n, took) = run(&path, &config);
            lines[i] = n;
            best[i] = best[i].min(took);
        }
    }
    assert_eq!(lines[0], lines[1], "both ways read the same lines");
    println!("read_ab: {:.0} MB seed-format file, {} lines, best of {runs}, one thread", bytes / 1e6, lines[0]);
    for (name, took) in [("positioned reads (8 MiB, reused)", best[0]), ("memory mapping (in place)", best[1])] {
        println!("  {name:<34} {:>7.3} s  {:>6.0} MB/s", took.as_secs_f64(), bytes / 1e6 / took.as_secs_f64());
    }
    println!("  positioned / mapped: {:.3}", best[0].as_secs_f64() / best[1].as_secs_f64());
}
