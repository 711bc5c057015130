//! Deterministic log simulator for a HunyuanVideo-Foley style video-to-audio service.
//!
//! Writes the five log sources the triage console reads ([`FILE_NAMES`]) with a scripted incident in them, so that
//! the console can be demonstrated and tested without the real service. The phases sit at fixed fractions of the run
//! (shown here for 60 minutes): an OOM storm with 8 retried "poison" videos in minutes [20, 30), a spike of 10-bit
//! HEVC decode errors in [35, 42), a latency regression in [45, 55), and an error code that no rule knows
//! (`AUDIO_VOCODER_NAN`) in [25, 50).
//!
//! [`write_logs`] writes a whole run at once and returns its [`Manifest`] (the ground truth); [`follow`] appends the
//! same traffic in real time. Both drive one simulator, and `generate_job` makes every line of one job, so both modes
//! share the logic. Each file is sorted by its *printed* timestamps (seconds or milliseconds, as the format has
//! them), so that parsed times never go backwards, even where precisions mix.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use incident::{Line, Simulator};

mod incident;
use serde::{Deserialize, Serialize};

/// The five log files; the `*_FILE` constants index this array.
pub const FILE_NAMES: [&str; 5] = ["inference.log", "ffmpeg.log", "nginx_access.log", "flask.log", "k8s_events.jsonl"];
const INFERENCE_FILE: usize = 0;
const FFMPEG_FILE: usize = 1;
const NGINX_FILE: usize = 2;
const FLASK_FILE: usize = 3;
const K8S_FILE: usize = 4;

const UNKNOWN_CODE: &str = "AUDIO_VOCODER_NAN";
const MINUTE_MS: i64 = 60_000;
const TICK: Duration = Duration::from_millis(100);
const POISON_COUNT: usize = 8;
const LONG_VIDEO_S: u32 = 90;
const MODEL_FAULTS: [&str; 4] = [
    "CUDA out of memory",
    "CUDA error: an illegal memory access was encountered",
    "cuDNN error: CUDNN_STATUS_EXECUTION_FAILED",
    "NCCL error: unhandled system error",
];

/// How much to simulate, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulateOptions {
    /// Length of the run, and the period of the incident timeline in [`follow`].
    pub minutes: u32,
    /// Generation jobs started per second (Poisson arrivals).
    pub rate: f64,
    pub seed: u64,
    /// Epoch milliseconds of the first event (`follow` starts now instead).
    pub start_ms: i64,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        // 2025-09-01T14:00:00Z
        SimulateOptions { minutes: 60, rate: 5.0, seed: 42, start_ms: 1_756_735_200_000 }
    }
}

/// Ground truth of one [`write_logs`] run, also written as `manifest.json`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Manifest {
    pub seed: u64,
    pub start_ms: i64,
    /// End of the run, exclusive: every line is earlier (jobs that would end later are left out).
    pub end_ms: i64,
    /// Jobs written, poison retries included: one outcome line each in `inference.log`.
    pub jobs: u64,
    pub phases: Phases,
    pub poison_videos: Vec<String>,
    pub unknown_code: String,
    /// Lines written per file, traceback lines counted one by one.
    pub lines: BTreeMap<String, u64>,
}

/// `[from_ms, to_ms)` of each incident phase.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Phases {
    pub oom_storm: [i64; 2],
    pub decode_spike: [i64; 2],
    pub latency_regression: [i64; 2],
    pub unknown_code: [i64; 2],
}

/// Writes a whole run into `dir` (created if needed): the five logs and `manifest.json`.
pub fn write_logs(dir: &Path, opts: &SimulateOptions) -> io::Result<Manifest> {
    fs::create_dir_all(dir)?;
    let mut outputs = Outputs::open(dir, false)?;
    let end_ms = opts.start_ms.saturating_add(i64::from(opts.minutes) * MINUTE_MS);
    let mut simulator = Simulator::new(opts, opts.start_ms, Some(end_ms));
    let mut slice_end = opts.start_ms;
    while slice_end < end_ms {
        slice_end = slice_end.saturating_add(1000).min(end_ms);
        simulator.advance(slice_end);
        simulator.write_settled(slice_end, &mut outputs)?;
    }
    simulator.write_settled(i64::MAX, &mut outputs)?;
    outputs.flush()?;
    let manifest = Manifest {
        seed: opts.seed,
        start_ms: opts.start_ms,
        end_ms,
        jobs: simulator.jobs,
        phases: simulator.timeline.phases(),
        poison_videos: simulator.poison.into_iter().map(|video| video.id).collect(),
        unknown_code: UNKNOWN_CODE.to_string(),
        lines: FILE_NAMES.map(String::from).into_iter().zip(outputs.lines).collect(),
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(io::Error::other)?;
    fs::write(dir.join("manifest.json"), json + "\n")?;
    Ok(manifest)
}

/// Appends live traffic to the five logs in `dir`, stamped with the wall clock, until `stop` is set (checked every
/// 100 ms). The incident timeline starts now and repeats every `opts.minutes` minutes. Lines are written once their
/// second is over, so they appear up to about a second late; jobs in flight when it stops are left unfinished.
pub fn follow(dir: &Path, opts: &SimulateOptions, stop: &AtomicBool) -> io::Result<()> {
    let now = Utc::now().timestamp_millis();
    follow_from(dir, &SimulateOptions { start_ms: now, ..*opts }, stop, || {})
}

/// [`follow`] with the timeline starting at `opts.start_ms`, which may be in the past: everything from then to now is
/// written at once (then `backfilled` is called), and the rest live.
pub fn follow_from(dir: &Path, opts: &SimulateOptions, stop: &AtomicBool, backfilled: impl FnOnce()) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut outputs = Outputs::open(dir, true)?;
    let mut simulator = Simulator::new(opts, opts.start_ms, None);
    let mut backfilled = Some(backfilled);
    while !stop.load(Ordering::Relaxed) {
        let tick_started = Instant::now();
        let until_ms = Utc::now().timestamp_millis() + 1;
        simulator.advance(until_ms);
        simulator.write_settled(until_ms, &mut outputs)?;
        outputs.flush()?;
        if let Some(done) = backfilled.take() {
            done();
        }
        if let Some(rest) = TICK.checked_sub(tick_started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    outputs.flush()
}

/// SplitMix64, written here instead of taken from a crate so that a seed gives the same output across crate
/// versions: the tests and the bundled demo rely on the exact bytes.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }
    /// Uniform integer in [low, high].
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % (high - low + 1).max(1) as u64) as i64
    }
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
    /// Log-normal with the given median (Box-Muller for the normal part).
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
        median * (sigma * radius * (std::f64::consts::TAU * self.unit()).cos()).exp()
    }
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
    fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let index = self.between(0, items.len() as i64 - 1) as usize;
        items.get(index).copied().unwrap_or_default()
    }
    /// `digits` lowercase hex characters (at most 16).
    fn hex(&mut self, digits: u32) -> String {
        let value = self.next_u64().checked_shr(64 - 4 * digits).unwrap_or(0);
        format!("{value:0width$x}", width = digits as usize)
    }
}

/// The five files, buffered, with a count of the lines written to each.
struct Outputs {
    writers: Vec<BufWriter<File>>,
    lines: [u64; 5],
}

impl Outputs {
    fn open(dir: &Path, append: bool) -> io::Result<Self> {
        let mut writers = Vec::with_capacity(FILE_NAMES.len());
        for name in FILE_NAMES {
            let file =
                OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(dir.join(name))?;
            writers.push(BufWriter::new(file));
        }
        Ok(Outputs { writers, lines: [0; 5] })
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        let (Some(writer), Some(count)) = (self.writers.get_mut(line.file), self.lines.get_mut(line.file)) else {
            return Ok(());
        };
        writer.write_all(line.text.as_bytes())?;
        writer.write_all(b"\n")?;
        *count += 1 + line.text.matches('\n').count() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writers.iter_mut().try_for_each(|writer| writer.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn short_run(seed: u64) -> SimulateOptions {
        SimulateOptions { minutes: 12, rate: 3.0, seed, ..SimulateOptions::default() }
    }

    #[test]
    fn same_seed_writes_same_bytes() -> io::Result<()> {
        let (first, second, other) = (tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?);
        let manifest = write_logs(first.path(), &short_run(7))?;
        assert_eq!(manifest, write_logs(second.path(), &short_run(7))?);
        write_logs(other.path(), &short_run(8))?;
        for name in FILE_NAMES.iter().chain(&["manifest.json"]) {
            let bytes = fs::read(first.path().join(name))?;
            assert!(!bytes.is_empty(), "{name} is empty");
            assert_eq!(bytes, fs::read(second.path().join(name))?, "{name} differs");
            assert_ne!(bytes, fs::read(other.path().join(name))?, "{name} ignores the seed");
        }
        Ok(())
    }

    #[test]
    fn poison_videos_fail_most() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let manifest = write_logs(dir.path(), &short_run(42))?;
        let log = fs::read_to_string(dir.path().join("inference.log"))?;
        let mut failures: HashMap<&str, usize> = HashMap::new();
        for line in log.lines().filter(|line| line.contains("[ERROR]")) {
            let start = line.find("video_id=").map_or(0, |index| index + 9);
            *failures.entry(line.get(start..start + 10).unwrap_or_default()).or_default() += 1;
        }
        let mut ranked: Vec<(&str, usize)> = failures.into_iter().collect();
        ranked.sort_by_key(|&(video, count)| (std::cmp::Reverse(count), video));
        let mut top: Vec<&str> = ranked.iter().take(8).map(|&(video, _)| video).collect();
        let mut poison: Vec<&str> = manifest.poison_videos.iter().map(String::as_str).collect();
        top.sort_unstable();
        poison.sort_unstable();
        assert_eq!(top, poison);
        assert!(ranked.iter().take(8).all(|&(_, count)| count >= 6));
        assert!(ranked.get(8).is_none_or(|&(_, count)| count < 6));
        Ok(())
    }
}
