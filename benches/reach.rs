//! Reaching any line on 1 GB of mixed simulated logs (issue 12): the cost of the id index while
//! the files are read (ingest MB/s with and without it, its resident bytes per line), the
//! drill-down of random videos and requests from the index, a free-text search over every byte,
//! and the headless `video` command (the release binary, reading the file included).
//!
//! It reads the `ingest` bench's data (`target/bench-data/mixed-1GB-v1.log`); make it once with
//! `cargo bench --bench ingest -- none` (a filter that matches no case: only the data is made).
//! Under `cargo test --all-targets` it is run without `--bench` and exits at once.

#![allow(clippy::unwrap_used, clippy::panic)]

use foley_triage::backend::cancel::Canceller;
use foley_triage::backend::index::IndexBuilder;
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::{Backend, SearchQuery};
use foley_triage::config::Config;
use foley_triage::source::read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MB: f64 = 1e6;
const THREADS: usize = 2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("reach bench: skipped (run it with `cargo bench --bench reach`)");
        return;
    }
    let runs: usize = std::env::var("FOLEY_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let path = data_dir().join("mixed-1GB-v1.log");
    if !path.exists() {
        eprintln!("{} is missing: make it with `cargo bench --bench ingest -- none`", path.display());
        std::process::exit(2);
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    warm(&path);
    println!("data: {} ({:.0} MB), {THREADS} threads, best of {runs} runs", path.display(), bytes as f64 / MB);
    println!();
    println!("| case | result |");
    println!("|---|---|");

    // 1. ingest with and without the index
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let settings = config.ingest();
    let file = std::fs::File::open(&path).unwrap();
    let mut head = vec![0u8; 65536];
    let got = read::read_full_at(&file, &mut head, 0).unwrap();
    let format = read::detect_format(&head[..got], 0);
    let plain = best(runs, || {
        let (stats, _) = read::read_file_parallel(&file, "data", bytes, 0, format, &enricher, &settings, THREADS);
        std::hint::black_box(stats.lines.total);
    });
    let mut index_stats = (0usize, 0u64, 0usize);
    let indexed = best(runs, || {
        let (stats, _, builders) = read::read_file_parallel_with(
            &file,
            "data",
            bytes,
            0,
            format,
            &enricher,
            &settings,
            THREADS,
            &IndexBuilder::new,
        );
        let mut index = foley_triage::backend::index::IdIndex::new();
        index.absorb(builders);
        index_stats = (index.heap_bytes(), index.lines(), index.ids());
        std::hint::black_box(stats.lines.total);
    });
    let mbps = |d: Duration| bytes as f64 / MB / d.as_secs_f64();
    println!("| ingest without the index | {:.2} s, {:.0} MB/s |", plain.as_secs_f64(), mbps(plain));
    println!(
        "| ingest with the index | {:.2} s, {:.0} MB/s ({:+.1} % time) |",
        indexed.as_secs_f64(),
        mbps(indexed),
        (indexed.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0
    );
    let (heap, lines, ids) = index_stats;
    println!(
        "| index size | {:.1} MiB for {lines} lines and {ids} ids: **{:.2} bytes/line** |",
        heap as f64 / 1048576.0,
        heap as f64 / lines as f64
    );

    // 2. the drill-down of random videos and requests
    let started = Instant::now();
    let mut backend =
        LocalBackend::open(vec![path.clone()], config.enricher().unwrap(), &config, THREADS, false, Vec::new());
    println!("| console open (read + index + tail) | {:.2} s |", started.elapsed().as_secs_f64());
    let (videos, requests) = sample_ids(&path, 20);
    for (what, ids) in [("video", &videos), ("request", &requests)] {
        let mut times: Vec<(Duration, usize)> = ids
            .iter()
            .map(|id| {
                let t = Instant::now();
                let related = backend.related(id);
                (t.elapsed(), related.events.len())
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2];
        let worst = times[times.len() - 1];
        println!(
            "| drill-down of a random {what} ({} ids) | median {:.1} ms ({} lines), max {:.1} ms ({} lines) |",
            times.len(),
            median.0.as_secs_f64() * 1000.0,
            median.1,
            worst.0.as_secs_f64() * 1000.0,
            worst.1
        );
    }

    // 3. free-text search over every byte
    for text in ["CUDA out of memory", "AUDIO_VOCODER_NAN", videos[0].as_str(), "no such text anywhere"] {
        let mut result = None;
        let took = best(runs, || {
            result = Some(backend.search(&SearchQuery::new(text, None, None), &Canceller::new(), &mut |_, _| {}));
        });
        let total = result.map_or(0, |r| r.total);
        println!(
            "| search `{text}` over the whole file | {:.2} s ({:.0} MB/s), {total} matches |",
            took.as_secs_f64(),
            mbps(took)
        );
    }

    // 4. headless `video ID` (the release binary: reading the file, the index, the answer)
    let binary = env!("CARGO_BIN_EXE_foley-triage");
    let took = best(runs, || {
        let out = std::process::Command::new(binary)
            .args(["video", &videos[0], path.to_str().unwrap(), "--json", "--threads", &THREADS.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    println!("| headless `video ID FILE` (whole process) | {:.2} s |", took.as_secs_f64());
}

/// The best of `runs` timings.
fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Up to `n` video and request ids from lines spread evenly over the file.
fn sample_ids(path: &Path, n: usize) -> (Vec<String>, Vec<String>) {
    let file = std::fs::File::open(path).unwrap();
    let len = file.metadata().unwrap().len();
    let (mut videos, mut requests) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..n as u64 * 4 {
        let at = len * i / (n as u64 * 4);
        let got = read::read_full_at(&file, &mut buf, at).unwrap();
        let text = String::from_utf8_lossy(&buf[..got]);
        let id = |key: &str| {
            text.find(key).map(|k| {
                let rest = &text[k + key.len()..];
                rest[..rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len())].to_string()
            })
        };
        if videos.len() < n
            && let Some(v) = id("video_id=")
        {
            videos.push(v);
        }
        if requests.len() < n
            && let Some(r) = id("request_id=")
        {
            requests.push(r);
        }
    }
    (videos, requests)
}

/// Reads the file once so that every case finds it in the page cache.
fn warm(path: &Path) {
    let mut file = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 8 << 20];
    while std::io::Read::read(&mut file, &mut buf).unwrap() > 0 {}
}

/// `target/bench-data` (as the ingest bench finds it); `FOLEY_BENCH_DATA` overrides it.
fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FOLEY_BENCH_DATA") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().ok();
    let target = exe
        .as_deref()
        .and_then(|e| {
            e.ancestors().find(|a| a.join("CACHEDIR.TAG").exists() || a.file_name() == Some("target".as_ref()))
        })
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}
