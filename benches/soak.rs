//! Soak: the console (real binary, in a pseudo-terminal) follows a directory while a writer appends
//! 20,000 lines/s and rotates the log by rename every minute (keeping five old files); resident
//! memory of the console is sampled every 10 s and must stay flat. 30 minutes by default
//! (`FOLEY_SOAK_MINUTES` to change). Run with `cargo bench --bench soak`.
#![allow(clippy::unwrap_used, clippy::panic)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const RATE: u64 = 20_000;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let minutes: u64 = std::env::var("FOLEY_SOAK_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("inference.log");
    std::fs::write(&log, b"").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written, dir, log) =
            (Arc::clone(&stop), Arc::clone(&written), dir.path().to_path_buf(), log.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            let (mut n, mut rotations) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                if started.elapsed().as_secs() / 60 > rotations {
                    rotations += 1;
                    for k in (1..5).rev() {
                        let _ = std::fs::rename(
                            dir.join(format!("inference.log.{k}")),
                            dir.join(format!("inference.log.{}", k + 1)),
                        );
                    }
                    std::fs::rename(&log, dir.join("inference.log.1")).unwrap();
                    file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
                }
                let due = (started.elapsed().as_secs_f64() * RATE as f64) as u64;
                let mut batch = String::with_capacity(((due - n.min(due)) * 130) as usize);
                while n < due {
                    let (level, tail) = if n.is_multiple_of(40) {
                        ("ERROR", " error_code=MODEL_INFER_FAIL reason=\"CUDA out of memory\"")
                    } else {
                        ("INFO", " audio_gen_success=True")
                    };
                    let t = n / RATE;
                    batch.push_str(&format!(
                        "2025-09-01 {:02}:{:02}:{:02} [{level}] video_id=vid_{:06x} inference_time=1.{}s{tail}\n",
                        10 + t / 3600 % 12,
                        t / 60 % 60,
                        t % 60,
                        n % 50_000,
                        n % 10
                    ));
                    n += 1;
                }
                file.write_all(batch.as_bytes()).unwrap();
                written.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let pty = native_pty_system().openpty(PtySize { rows: 48, cols: 160, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.arg(dir.path().to_str().unwrap());
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    let mut keys = pty.master.take_writer().unwrap();
    let pid = child.process_id().unwrap();
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(minutes * 60) {
        std::thread::sleep(Duration::from_secs(10));
        let rss = rss_kib(pid);
        samples.push(rss);
        println!(
            "soak t={:>5}s written={:>10} rss={:>7} KiB",
            started.elapsed().as_secs(),
            written.load(Ordering::Relaxed),
            rss
        );
    }
    let _ = keys.write_all(b"q");
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let settled = &samples[samples.len().min(6)..];
    let (min, max) = (settled.iter().min().copied().unwrap_or(0), settled.iter().max().copied().unwrap_or(0));
    println!(
        "soak: {minutes} min at {RATE} lines/s, rotation every minute: rss after the first minute {min}..{max} KiB"
    );
}
