//! End-to-end ingest benchmark: the `report` command's pipeline over 1 GB log files.
//!
//! `cargo bench --bench ingest` generates (once, cached under `target/bench-data/`) a mixed log
//! (the simulator's five sources interleaved in time-aligned blocks of lines) and a seed-format log
//! (the simulator's `inference.log` repeated), each at two sizes, then runs every case — dataset ×
//! size × threads — in a child process (this binary, re-executed with `FOLEY_INGEST_CASE` set), so
//! that the peak RSS (`VmHWM`) each child reports is its own. Each case runs three times on a warm
//! page cache; the best wall time and the highest peak RSS are reported, with `wc -l` for scale.
//!
//! Under `cargo test --all-targets` the binary is run without `--bench` and exits at once.
//! Positional arguments filter the cases by name (`cargo bench --bench ingest -- seed`);
//! `FOLEY_BENCH_RUNS` changes the number of runs per case (default 3).

#![allow(clippy::unwrap_used, clippy::panic)]

use foley_triage::cli::InputArgs;
use foley_triage::commands::report::resolve_inputs;
use foley_triage::config::Config;
use foley_triage::parse::python;
use foley_triage::simulate;
use foley_triage::source;
use foley_triage::stats::overview::{self, OverviewOptions};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CASE_ENV: &str = "FOLEY_INGEST_CASE";
const MB: f64 = 1e6;
/// The two sizes, in bytes (decimal: 250 MB and 1 GB).
const SIZES: [(&str, u64); 2] = [("250MB", 250_000_000), ("1GB", 1_000_000_000)];
const THREADS: [usize; 2] = [1, 2];
/// Bump when the way the data is made changes, so that stale cached files are not reused.
const DATA_VERSION: u32 = 1;
/// Jobs per second in each simulated hour (about 250 MB of logs per hour over the five files).
const SIM_RATE: f64 = 100.0;
/// Interleaving rounds per simulated hour: each round takes the next 1/ROUNDS of every file, so
/// the sources stay aligned in time to within a couple of seconds.
const ROUNDS: usize = 2000;

fn main() -> io::Result<()> {
    if let Ok(case) = std::env::var(CASE_ENV) {
        return child(&case);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench binaries without `--bench`: do nothing there.
        println!("ingest bench: skipped (run it with `cargo bench --bench ingest`)");
        return Ok(());
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let runs: usize = std::env::var("FOLEY_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let started = Instant::now();
    let dir = data_dir();
    fs::create_dir_all(&dir)?;
    let datasets = prepare(&dir)?;
    println!("data: {} (prepared in {:.1?})", dir.display(), started.elapsed());
    println!("machine: {} cores; best of {runs} runs per case; peak RSS = max VmHWM of the runs", cores());

    let baseline = run_child("baseline")?;
    println!("baseline child (config + rule base, no input): peak RSS {:.1} MiB", baseline.hwm_kib as f64 / 1024.0);
    println!();
    println!(
        "| dataset | size | threads | lines | wall (best) | lines/s | MB/s | CPU | others | overview | peak RSS | wc -l | runs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (kind, path_for_size) in &datasets {
        for (size_name, path) in path_for_size {
            let bytes = fs::metadata(path)?.len();
            let (wc_lines, wc_time) = wc(path, runs)?;
            for threads in THREADS {
                let name = format!("{kind}/{size_name}/{threads}t");
                if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
                    continue;
                }
                let mut results = Vec::new();
                for _ in 0..runs {
                    wait_for_quiet();
                    results.push(run_child(&format!("{threads}|{}", path.display()))?);
                }
                let best = results.iter().min_by_key(|r| r.ingest).unwrap();
                let peak = results.iter().map(|r| r.hwm_kib).max().unwrap_or(0);
                if best.lines != wc_lines {
                    eprintln!("warning: {name}: the pipeline counted {} lines, wc -l {wc_lines}", best.lines);
                }
                let secs = best.ingest.as_secs_f64();
                let all: Vec<String> = results.iter().map(|r| format!("{:.2}", r.ingest.as_secs_f64())).collect();
                println!(
                    "| {kind} | {size_name} | {threads} | {} | {secs:.2} s | {:.2} M | {:.0} | {:.2} s | {:.2} | {:.0} ms | {:.1} MiB | {:.2} s | {} |",
                    best.lines,
                    best.lines as f64 / secs / 1e6,
                    bytes as f64 / MB / secs,
                    best.cpu_ticks as f64 / TICKS,
                    best.others_ticks as f64 / TICKS / secs,
                    best.overview.as_secs_f64() * 1000.0,
                    peak as f64 / 1024.0,
                    wc_time.as_secs_f64(),
                    all.join(" "),
                );
            }
        }
    }
    println!();
    println!(
        "lines/s, MB/s (10^6 bytes) and wall: `read_all` (the ingest) of the best run; CPU: its user + system time; \
         others: cores other processes kept busy meanwhile; overview: computing the report from the statistics; \
         peak RSS: the highest VmHWM of the runs; wc -l: best time of `wc -l` on the same file"
    );
    println!("total bench time {:.1?}", started.elapsed());
    Ok(())
}

/// `target/bench-data`, found from this binary's place (`target/release/deps/ingest-…`) so that
/// `CARGO_TARGET_DIR` is honoured; `FOLEY_BENCH_DATA` overrides it.
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

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

// ------------------------------------------------------------------------------------------------
// the child: one measurement

struct Measured {
    lines: u64,
    ingest: Duration,
    overview: Duration,
    hwm_kib: u64,
    /// CPU time (user + system) the ingest took, in clock ticks.
    cpu_ticks: u64,
    /// CPU time other processes took meanwhile, in clock ticks (the machine is shared).
    others_ticks: u64,
}

/// Runs one case in this process and prints one `RESULT` line for the parent.
fn child(case: &str) -> io::Result<()> {
    let config = Config::default();
    let enricher = config.enricher().expect("the built-in rule base loads");
    let (mut lines, mut ingest, mut over, mut cpu, mut others) = (0u64, Duration::ZERO, Duration::ZERO, 0, 0);
    if case != "baseline" {
        let (threads, path) = case.split_once('|').expect("case is THREADS|PATH");
        let args = InputArgs {
            paths: vec![path.to_string()],
            since: None,
            until: None,
            format: None,
            threads: Some(threads.parse().expect("threads is a number")),
        };
        let resolved = resolve_inputs(&args, &config).expect("the input resolves");
        let (own_before, busy_before) = (own_cpu_ticks(), machine_busy_ticks());
        let started = Instant::now();
        let read = source::read_all(&resolved.inputs, &enricher, resolved.read, &|_| {});
        let (stats, problems) = (read.stats, read.problems);
        ingest = started.elapsed();
        cpu = own_cpu_ticks().saturating_sub(own_before);
        others = machine_busy_ticks().saturating_sub(busy_before).saturating_sub(cpu);
        assert!(problems.is_empty(), "cannot read {path}: {problems:?}");
        lines = stats.lines.total;
        let started = Instant::now();
        let ov = overview::compute(
            &stats,
            &enricher,
            resolved.read.settings.options.window,
            OverviewOptions { health: &config.health, alert_rules: &config.alerts, top_videos: 10, top_patterns: 20 },
        );
        let json = foley_triage::report::to_json(&ov).to_string();
        over = started.elapsed();
        std::hint::black_box(json);
    }
    println!("RESULT {lines} {} {} {} {cpu} {others}", ingest.as_nanos(), over.as_nanos(), vm_hwm_kib());
    Ok(())
}

/// Clock ticks per second of `/proc` times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// User + system time of this process so far (finished threads included), in clock ticks.
fn own_cpu_ticks() -> u64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    // after the name: state is field 3; utime and stime are fields 14 and 15
    let fields: Vec<u64> = after_name.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
    fields.iter().sum()
}

/// Busy time of all CPUs of the machine so far (everything but idle and iowait), in clock ticks.
fn machine_busy_ticks() -> u64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu = stat.lines().next().unwrap_or_default();
    let v: Vec<u64> = cpu.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    v.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum()
}

/// Waits (up to `FOLEY_BENCH_QUIET_WAIT` seconds, default 10) until other processes use less than a
/// quarter of a core, so that a run does not share the two cores with someone's build. Returns the
/// load seen last, in cores.
fn wait_for_quiet() -> f64 {
    let limit: u64 = std::env::var("FOLEY_BENCH_QUIET_WAIT").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let started = Instant::now();
    loop {
        let before = machine_busy_ticks();
        std::thread::sleep(Duration::from_millis(500));
        let load = machine_busy_ticks().saturating_sub(before) as f64 / TICKS / 0.5;
        if load < 0.25 || started.elapsed() >= Duration::from_secs(limit) {
            return load;
        }
    }
}

/// Peak resident set size of this process, from `/proc/self/status`.
fn vm_hwm_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn run_child(case: &str) -> io::Result<Measured> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe).env(CASE_ENV, case).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")).unwrap_or_else(|| {
        panic!("case {case} failed ({}): {}{}", out.status, stdout, String::from_utf8_lossy(&out.stderr))
    });
    let v: Vec<u128> = line.split(' ').map(|x| x.parse().expect("a number")).collect();
    let nanos = |n: u128| Duration::from_nanos(n as u64);
    Ok(Measured {
        lines: v[0] as u64,
        ingest: nanos(v[1]),
        overview: nanos(v[2]),
        hwm_kib: v[3] as u64,
        cpu_ticks: v[4] as u64,
        others_ticks: v[5] as u64,
    })
}

/// Line count and best `wc -l` time over `runs` (the first run also warms the page cache).
fn wc(path: &Path, runs: usize) -> io::Result<(u64, Duration)> {
    warm(path)?;
    let mut best = Duration::MAX;
    let mut lines = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let out = Command::new("wc").arg("-l").arg(path).output()?;
        best = best.min(started.elapsed());
        let text = String::from_utf8_lossy(&out.stdout);
        lines = text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    }
    Ok((lines, best))
}

/// Reads the file once so that every run finds it in the page cache.
fn warm(path: &Path) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 8 << 20];
    while file.read(&mut buf)? > 0 {}
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// the data

type Datasets = Vec<(&'static str, Vec<(&'static str, PathBuf)>)>;

/// Makes the data files that are not cached yet.
fn prepare(dir: &Path) -> io::Result<Datasets> {
    let (largest_name, largest) = SIZES[SIZES.len() - 1];
    let path = |kind: &str, size: &str| dir.join(format!("{kind}-{size}-v{DATA_VERSION}.log"));
    let mut datasets = Vec::new();
    for kind in ["mixed", "seed"] {
        let big = path(kind, largest_name);
        if !big.exists() {
            eprintln!("generating {} (once)…", big.display());
            let tmp = big.with_extension("tmp");
            match kind {
                "mixed" => write_mixed(&tmp, largest)?,
                _ => write_seed(&tmp, largest)?,
            }
            fs::rename(&tmp, &big)?;
        }
        let mut files = Vec::new();
        for (name, bytes) in SIZES {
            let p = path(kind, name);
            if bytes != largest && !p.exists() {
                let tmp = p.with_extension("tmp");
                copy_prefix(&big, &tmp, bytes)?;
                fs::rename(&tmp, &p)?;
            }
            files.push((name, p));
        }
        datasets.push((kind, files));
    }
    Ok(datasets)
}

fn sim_options(hour: u32) -> simulate::SimulateOptions {
    let base = simulate::SimulateOptions::default();
    simulate::SimulateOptions {
        minutes: 60,
        rate: SIM_RATE,
        seed: 42 + u64::from(hour),
        start_ms: base.start_ms + i64::from(hour) * 3_600_000,
    }
}

/// Consecutive simulated hours, each one's five files interleaved in time-aligned blocks of whole
/// records (a traceback stays with its line), until `target` bytes; cut at a record boundary.
fn write_mixed(out: &Path, target: u64) -> io::Result<()> {
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut written = 0u64;
    let mut hour = 0;
    while written < target {
        let sim = tempfile::tempdir()?;
        simulate::write_logs(sim.path(), &sim_options(hour))?;
        let files: Vec<Vec<u8>> =
            simulate::FILE_NAMES.iter().map(|name| fs::read(sim.path().join(name))).collect::<io::Result<_>>()?;
        let mut cursors = vec![0usize; files.len()];
        'rounds: for round in 1..=ROUNDS {
            for (file, cursor) in files.iter().zip(cursors.iter_mut()) {
                let end = record_boundary(file, file.len() * round / ROUNDS);
                let block = &file[*cursor..end];
                let room = (target - written) as usize;
                if block.len() >= room {
                    let cut = record_boundary(block, room);
                    writer.write_all(&block[..cut])?;
                    written += cut as u64;
                    break 'rounds;
                }
                writer.write_all(block)?;
                written += block.len() as u64;
                *cursor = end;
            }
        }
        hour += 1;
    }
    writer.flush()
}

/// The simulator's `inference.log` (one hour) repeated until `target` bytes, cut at a line end.
fn write_seed(out: &Path, target: u64) -> io::Result<()> {
    let sim = tempfile::tempdir()?;
    simulate::write_logs(sim.path(), &sim_options(0))?;
    let log = fs::read(sim.path().join("inference.log"))?;
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut written = 0u64;
    while written < target {
        let room = (target - written) as usize;
        let chunk = if log.len() > room { &log[..record_boundary(&log, room)] } else { &log[..] };
        if chunk.is_empty() {
            break;
        }
        writer.write_all(chunk)?;
        written += chunk.len() as u64;
    }
    writer.flush()
}

/// The first offset at or after `at` that starts a record: just after a newline, before a line
/// that does not continue a Python traceback (or the end).
fn record_boundary(data: &[u8], at: usize) -> usize {
    if at == 0 {
        return 0;
    }
    let mut pos = at.min(data.len());
    // on to the start of the next line (unless `at` is one), then on past continuation lines
    while pos < data.len() && data[pos - 1] != b'\n' {
        pos += 1;
    }
    while pos < data.len() {
        let line_end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        if !python::is_continuation(&String::from_utf8_lossy(&data[pos..line_end])) {
            return pos;
        }
        pos = (line_end + 1).min(data.len());
    }
    data.len()
}

/// Copies the records of `src` up to the first record boundary at or after `bytes`.
fn copy_prefix(src: &Path, dst: &Path, bytes: u64) -> io::Result<()> {
    let mut head = vec![0u8; bytes as usize + (1 << 20)];
    let mut file = File::open(src)?;
    let mut n = 0;
    loop {
        let got = file.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
        if n == head.len() {
            break;
        }
    }
    head.truncate(n);
    let end = record_boundary(&head, bytes as usize);
    fs::write(dst, &head[..end])
}
