//! Key-to-screen latency while ingesting: the real binary in a pseudo-terminal follows a file that
//! a writer thread appends to at 50,000 lines/s; we press `?` and time until the help is on the
//! parsed screen, then `?` again and time until it is gone. Run with `cargo bench --bench keys`.
#![allow(clippy::unwrap_used, clippy::panic)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RATE: u64 = 50_000;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // built by `cargo test --all-targets`, run only by `cargo bench`
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inference.log");
    std::fs::write(&path, b"").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written, path) = (Arc::clone(&stop), Arc::clone(&written), path.clone());
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            let started = Instant::now();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let due = (started.elapsed().as_secs_f64() * RATE as f64) as u64;
                let mut batch = String::new();
                while n < due {
                    let level = if n.is_multiple_of(50) { "ERROR" } else { "INFO" };
                    let code = if n.is_multiple_of(50) {
                        " error_code=MODEL_INFER_FAIL reason=\"CUDA out of memory\""
                    } else {
                        " audio_gen_success=True"
                    };
                    batch.push_str(&format!(
                        "2025-09-01 14:{:02}:{:02} [{level}] video_id=vid_{:06x} inference_time=1.{}s{code}\n",
                        (n / 60_000) % 60,
                        (n / 1000) % 60,
                        n % 4096,
                        n % 10
                    ));
                    n += 1;
                }
                file.write_all(batch.as_bytes()).unwrap();
                written.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let pty = native_pty_system().openpty(PtySize { rows: 48, cols: 160, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_foley-triage"));
    cmd.arg(path.to_str().unwrap());
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut keys = pty.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(48, 160, 0)));
    {
        let parser = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
            }
        });
    }
    let screen_has = |text: &str| parser.lock().unwrap().screen().contents().contains(text);
    let wait = |want: bool, text: &str| -> Duration {
        let started = Instant::now();
        while screen_has(text) != want {
            assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting for {text:?}");
            std::thread::sleep(Duration::from_micros(200));
        }
        started.elapsed()
    };
    wait(true, "Top failing videos");
    std::thread::sleep(Duration::from_secs(2));
    let mut open = Vec::new();
    let mut close = Vec::new();
    for _ in 0..30 {
        keys.write_all(b"?").unwrap();
        keys.flush().unwrap();
        open.push(wait(true, "Alert rules in force"));
        std::thread::sleep(Duration::from_millis(100));
        keys.write_all(b"?").unwrap(); // ? Esc q close help; other keys scroll or do nothing
        keys.flush().unwrap();
        close.push(wait(false, "Alert rules in force"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines_before = written.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(1));
    let rate = written.load(Ordering::Relaxed) - lines_before;
    keys.write_all(b"q").unwrap();
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let summary = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() * 95 / 100], v[v.len() - 1])
    };
    let (p50, p95, max) = summary(open);
    println!("keys/help_open   while ingesting {rate} lines/s: p50 {p50:?}  p95 {p95:?}  max {max:?}");
    let (p50, p95, max) = summary(close);
    println!("keys/help_close  while ingesting {rate} lines/s: p50 {p50:?}  p95 {p95:?}  max {max:?}");
}
