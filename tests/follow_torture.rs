#![allow(clippy::panic, clippy::unwrap_used)]
//! The live follower at the rotation rates logrotate and busy services reach: 200 copytruncates
//! at 25,000 lines/s, and 200 renames at 100 a second (about half a million lines/s or more). The
//! writer rotates itself, as logrotate does between two writes, so every line written is on disk in
//! some file: none may be lost, none read twice, none out of order, counted exactly as they arrive.
//! (The mixed 20-rotation torture and the smaller behaviours are in `follow_rotation.rs`.)

use foley_triage::source::follow::{FollowItem, FollowOptions, Follower};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

fn line(writer: &str, seq: u64) -> String {
    format!("2025-09-01 14:00:00 [INFO] seq={seq} writer={writer}\n")
}

/// The seq of a complete line of `writer`, if it is one.
fn seq_of(text: &[u8], writer: &str) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    let rest = text.strip_prefix("2025-09-01 14:00:00 [INFO] seq=")?;
    let (number, tail) = rest.split_once(' ')?;
    (tail == format!("writer={writer}")).then(|| number.parse().ok())?
}

fn options() -> FollowOptions {
    FollowOptions { from_start: true, poll_interval: Duration::from_millis(20), ..FollowOptions::default() }
}

fn open_append(path: &Path) -> File {
    OpenOptions::new().create(true).append(true).open(path).unwrap()
}

/// Exact accounting of the lines of one writer, kept as they arrive.
#[derive(Default)]
struct Tally {
    /// How many times each seq was read.
    seen: Vec<u32>,
    last: Option<u64>,
    out_of_order: usize,
    /// The first lines out of order: (the seq before, the seq, notices so far).
    swaps: Vec<(u64, u64, usize)>,
    foreign: Vec<String>,
    notices: Vec<String>,
}

impl Tally {
    fn take(&mut self, items: &[FollowItem], writer: &str, progress: &AtomicU64) {
        for item in items {
            match item {
                FollowItem::Lines { bytes, .. } => {
                    let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                    pieces.pop(); // after the last newline
                    for l in pieces {
                        let Some(seq) = seq_of(l, writer) else {
                            self.foreign.push(String::from_utf8_lossy(l).into_owned());
                            continue;
                        };
                        let index = seq as usize;
                        if self.seen.len() <= index {
                            self.seen.resize(index + 1, 0);
                        }
                        self.seen[index] += 1;
                        if let Some(before) = self.last.filter(|&p| seq <= p) {
                            self.out_of_order += 1;
                            if self.swaps.len() < 5 {
                                self.swaps.push((before, seq, self.notices.len()));
                            }
                        }
                        self.last = Some(seq);
                        progress.fetch_max(seq + 1, Ordering::SeqCst);
                    }
                }
                FollowItem::Notice { path, kind, message } => {
                    self.notices.push(format!("{}: {kind:?}: {message}", path.display()))
                }
            }
        }
    }

    fn lost(&self, total: u64) -> Vec<u64> {
        (0..total).filter(|&s| self.seen.get(s as usize).is_none_or(|&n| n == 0)).collect()
    }

    fn duplicated(&self) -> u32 {
        self.seen.iter().map(|&n| n.saturating_sub(1)).sum()
    }

    fn count(&self, words: &str) -> usize {
        self.notices.iter().filter(|n| n.contains(words)).count()
    }
}

/// Follows `path` in a thread, keeping a tally of writer "w1"'s lines, until `stop`; returns once
/// the follower has made its first poll.
fn follow_in_thread(
    path: &Path,
    progress: &Arc<AtomicU64>,
    stop: &Arc<AtomicBool>,
) -> thread::JoinHandle<(Tally, Vec<PathBuf>)> {
    let (specs, progress, stop) = (vec![path.display().to_string()], Arc::clone(progress), Arc::clone(stop));
    let (started, ready) = mpsc::channel();
    let handle = thread::spawn(move || {
        let mut follower = Follower::new(&specs, options());
        let mut tally = Tally::default();
        tally.take(&follower.poll(), "w1", &progress);
        let _ = started.send(());
        loop {
            let stopping = stop.load(Ordering::SeqCst);
            tally.take(&follower.poll(), "w1", &progress);
            if stopping {
                break;
            }
            follower.wait();
        }
        (tally, follower.paths().to_vec())
    });
    // files rotated before the follower started are history: the writer starts after it
    ready.recv_timeout(Duration::from_secs(60)).expect("the follower starts");
    handle
}

/// Waits until the follower has read through `total` lines (or the deadline passes).
fn caught_up(progress: &AtomicU64, total: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(120);
    while progress.load(Ordering::SeqCst) < total {
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Writes `count` numbered lines from `seq` on, at most `rate` lines a second since `started`.
fn write_paced(file: &mut File, seq: &mut u64, count: u64, rate: u64, started: Instant) {
    let until = *seq + count;
    while *seq < until {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        if *seq >= due {
            thread::sleep(Duration::from_micros(500));
            continue;
        }
        let n = (due - *seq).min(until - *seq).min(200);
        let batch: String = (*seq..*seq + n).map(|s| line("w1", s)).collect();
        file.write_all(batch.as_bytes()).unwrap();
        *seq += n;
    }
}

fn assert_exact(tally: &Tally, total: u64, what: &str) {
    let lost = tally.lost(total);
    assert!(
        lost.is_empty(),
        "{what}: {} lines lost, first {:?}; notices {:#?}",
        lost.len(),
        &lost[..lost.len().min(20)],
        &tally.notices[..tally.notices.len().min(40)]
    );
    assert_eq!(tally.duplicated(), 0, "{what}: duplicated lines");
    let around: Vec<&[String]> = tally
        .swaps
        .iter()
        .map(|&(_, _, n)| &tally.notices[n.saturating_sub(4)..(n + 2).min(tally.notices.len())])
        .collect();
    assert_eq!(tally.out_of_order, 0, "{what}: lines out of order: {:?}, notices around {around:#?}", tally.swaps);
    assert!(
        tally.foreign.is_empty(),
        "{what}: lines that were not written: {:?}",
        &tally.foreign[..tally.foreign.len().min(5)]
    );
}

#[test]
fn two_hundred_copytruncates_at_25000_lines_a_second_lose_nothing() {
    const ROTATIONS: usize = 200;
    const RATE: u64 = 25_000;
    const PER_ROTATION: u64 = 1_250; // a rotation every 50 ms
    const KEEP: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut file = open_append(&path);
    let (progress, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let follower = follow_in_thread(&path, &progress, &stop);
    let started = Instant::now();
    let mut seq = 0u64;
    for rotation in 0..=ROTATIONS {
        write_paced(&mut file, &mut seq, PER_ROTATION, RATE, started);
        if rotation == ROTATIONS {
            break;
        }
        // logrotate's copytruncate with `rotate 50`: shift the copies, copy, truncate in place
        for k in (1..KEEP).rev() {
            let _ =
                std::fs::rename(dir.path().join(format!("app.log.{k}")), dir.path().join(format!("app.log.{}", k + 1)));
        }
        std::fs::copy(&path, dir.path().join("app.log.1")).unwrap();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    }
    let total = seq;
    let elapsed = started.elapsed();
    let done = caught_up(&progress, total);
    stop.store(true, Ordering::SeqCst);
    let (tally, paths) = follower.join().unwrap();
    println!(
        "copytruncate torture: {ROTATIONS} copytruncates, {total} lines in {:.1} s ({:.0} lines/s); read {}, lost {}, \
         duplicated {}, out of order {}; truncations noticed {}, continued from the copy {}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        tally.seen.iter().filter(|&&n| n > 0).count(),
        tally.lost(total).len(),
        tally.duplicated(),
        tally.out_of_order,
        tally.count("file truncated"),
        tally.count("read from its copy"),
    );
    assert!(done, "the follower did not catch up: {} of {total}", progress.load(Ordering::SeqCst));
    assert_eq!(paths, vec![path.clone()], "following one name follows only that name");
    assert_exact(&tally, total, "copytruncate");
    assert!(tally.count("file truncated") > 0, "truncations are reported");
}

#[test]
fn two_hundred_renames_at_100_a_second_lose_nothing() {
    const ROTATIONS: usize = 200;
    const EVERY: Duration = Duration::from_millis(10);
    const RATE: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut file = open_append(&path);
    let (progress, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let follower = follow_in_thread(&path, &progress, &stop);
    let started = Instant::now();
    let mut seq = 0u64;
    let mut next_rotation = started + EVERY;
    for rotated in 1..=ROTATIONS {
        // as many lines as fit before the rotation is due (up to a million a second)
        while Instant::now() < next_rotation {
            write_paced(&mut file, &mut seq, 100, RATE, started);
        }
        // dateext-style: every rotated file keeps its own name
        std::fs::rename(&path, dir.path().join(format!("app.log-{rotated:05}"))).unwrap();
        file = open_append(&path);
        next_rotation += EVERY;
    }
    write_paced(&mut file, &mut seq, 1_000, RATE, started);
    let total = seq;
    let elapsed = started.elapsed();
    let done = caught_up(&progress, total);
    stop.store(true, Ordering::SeqCst);
    let (tally, paths) = follower.join().unwrap();
    let unseen = tally.count("rotated before it was seen");
    println!(
        "rename torture: {ROTATIONS} renames in {:.2} s ({:.0} a second), {total} lines ({:.0} lines/s); read {}, \
         lost {}, duplicated {}, out of order {}; rotated files found beside the name {unseen}",
        elapsed.as_secs_f64(),
        ROTATIONS as f64 / elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        tally.seen.iter().filter(|&&n| n > 0).count(),
        tally.lost(total).len(),
        tally.duplicated(),
        tally.out_of_order,
    );
    assert!(done, "the follower did not catch up: {} of {total}", progress.load(Ordering::SeqCst));
    assert_eq!(paths, vec![path.clone()], "following one name follows only that name");
    assert_exact(&tally, total, "fast renames");
}

// ---------------------------------------------------------------------------------------------
// The same, one step at a time

/// Polls (at least once, waiting in between) until `want` lines were read or the deadline passes.
fn poll_lines_until(follower: &mut Follower, seen: &mut Vec<String>, notes: &mut Vec<String>, want: usize) {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        for item in follower.poll() {
            match item {
                FollowItem::Lines { bytes, .. } => {
                    seen.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_string));
                }
                FollowItem::Notice { message, .. } => notes.push(message),
            }
        }
        if seen.len() >= want || Instant::now() >= end {
            return;
        }
        follower.wait();
    }
}

fn numbered(from: u64, to: u64) -> String {
    (from..to).map(|s| line("w1", s)).collect()
}

#[test]
fn lines_written_between_the_last_read_and_a_copytruncate_are_read_from_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut file = open_append(&path);
    file.write_all(numbered(0, 100).as_bytes()).unwrap();
    let mut follower = Follower::new(&[path.display().to_string()], options());
    let (mut seen, mut notes) = (Vec::new(), Vec::new());
    poll_lines_until(&mut follower, &mut seen, &mut notes, 100);
    // 50 more lines and half a line, copied and truncated before the follower looks again
    file.write_all(numbered(100, 150).as_bytes()).unwrap();
    file.write_all(b"2025-09-01 14:00:00 [INFO] seq=150 wri").unwrap();
    std::fs::copy(&path, dir.path().join("app.log.1")).unwrap();
    OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    file.write_all(numbered(151, 160).as_bytes()).unwrap();
    poll_lines_until(&mut follower, &mut seen, &mut notes, 160);
    let expected: Vec<String> = (0..150)
        .map(|s| line("w1", s).trim_end().to_string())
        .chain(["2025-09-01 14:00:00 [INFO] seq=150 wri".to_string()])
        .chain((151..160).map(|s| line("w1", s).trim_end().to_string()))
        .collect();
    assert_eq!(seen, expected, "notices {notes:?}");
    assert!(notes.iter().any(|n| n.contains("read from its copy app.log.1")), "{notes:?}");
}

#[test]
fn rotated_files_never_seen_at_the_name_are_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    // a rotated file from before the start is history: not read
    std::fs::write(dir.path().join("app.log-00000"), numbered(900, 910)).unwrap();
    std::fs::write(&path, numbered(0, 10)).unwrap();
    let mut follower = Follower::new(&[path.display().to_string()], options());
    let (mut seen, mut notes) = (Vec::new(), Vec::new());
    poll_lines_until(&mut follower, &mut seen, &mut notes, 10);
    // three rotations between two polls: two files are never at the name when a poll looks
    for k in 1..=3u64 {
        std::fs::rename(&path, dir.path().join(format!("app.log-{k:05}"))).unwrap();
        std::fs::write(&path, numbered(10 * k, 10 * k + 10)).unwrap();
    }
    poll_lines_until(&mut follower, &mut seen, &mut notes, 40);
    // a few more polls: nothing more may come (the history file is not read)
    for _ in 0..3 {
        follower.wait();
        poll_lines_until(&mut follower, &mut seen, &mut notes, 0);
    }
    let expected: Vec<String> = (0..40).map(|s| line("w1", s).trim_end().to_string()).collect();
    assert_eq!(seen, expected, "every line once, in order, none of the history; notices {notes:?}");
    assert_eq!(notes.iter().filter(|n| n.contains("rotated before it was seen")).count(), 2, "{notes:?}");
}
