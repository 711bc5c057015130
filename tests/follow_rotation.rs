#![allow(clippy::panic, clippy::unwrap_used)]
//! The live follower under rotation: a writer thread writes numbered lines at a high rate while the
//! file is rotated every way logrotate and applications do it; every line still on disk when read
//! must be seen exactly once, in order. Then the smaller behaviours (partial lines, long lines,
//! binary files, files that appear later, compressed rotations, copytruncate's copy in a directory),
//! the real binary end to end, and a property test of chunking. Nothing sleeps and hopes: every
//! wait is on a condition, with a deadline.

use flate2::Compression;
use flate2::write::GzEncoder;
use foley_triage::source::follow::{FollowItem, FollowOptions, Follower, NoticeKind};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(10);

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

fn append(path: &Path, bytes: &[u8]) {
    OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn spec(path: &Path) -> Vec<String> {
    vec![path.display().to_string()]
}

/// Polls (waiting in between) until `done` holds for everything collected, or the deadline passes.
fn poll_until(follower: &mut Follower, items: &mut Vec<FollowItem>, done: impl Fn(&[FollowItem]) -> bool) -> bool {
    let end = Instant::now() + DEADLINE;
    loop {
        items.extend(follower.poll());
        if done(items) {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        follower.wait();
    }
}

/// The lines read, per file index, split on '\n' (without it).
fn lines_by_file(items: &[FollowItem]) -> BTreeMap<u32, Vec<Vec<u8>>> {
    let mut out: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
    for item in items {
        if let FollowItem::Lines { file, bytes, .. } = item {
            assert_eq!(bytes.last(), Some(&b'\n'), "every Lines item ends with a newline");
            let lines = out.entry(*file).or_default();
            lines.extend(bytes.split(|&b| b == b'\n').filter(|_| true).map(<[u8]>::to_vec));
            lines.pop(); // the empty piece after the last newline
        }
    }
    out
}

fn all_lines(items: &[FollowItem]) -> Vec<Vec<u8>> {
    lines_by_file(items).into_values().flatten().collect()
}

fn seqs(items: &[FollowItem], writer: &str) -> Vec<u64> {
    all_lines(items).iter().filter_map(|l| seq_of(l, writer)).collect()
}

fn has_notice(items: &[FollowItem], kind: NoticeKind, path_end: &str) -> bool {
    items
        .iter()
        .any(|i| matches!(i, FollowItem::Notice { kind: k, path, .. } if *k == kind && path.ends_with(path_end)))
}

fn notices(items: &[FollowItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            FollowItem::Notice { path, kind, message } => Some(format!("{}: {kind:?}: {message}", path.display())),
            FollowItem::Lines { .. } => None,
        })
        .collect()
}

fn gzip(from: &Path, to: &Path) {
    let data = std::fs::read(from).unwrap();
    let mut encoder = GzEncoder::new(File::create(to).unwrap(), Compression::fast());
    encoder.write_all(&data).unwrap();
    encoder.finish().unwrap();
}

/// Descriptors of this process open on deleted files under `dir`.
fn deleted_descriptors(dir: &Path) -> usize {
    let prefix = dir.display().to_string();
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .map(|target| target.display().to_string())
                .filter(|t| t.starts_with(&prefix) && t.ends_with(" (deleted)"))
                .count()
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------

struct Shared {
    /// The writer's file; rotations swap it (as an application reopening its log).
    file: Mutex<File>,
    /// Lines written so far (the next seq).
    written: AtomicU64,
    /// Highest seq the follower has seen a complete line of, plus one.
    progress: AtomicU64,
    stop_writer: AtomicBool,
    stop_follower: AtomicBool,
}

fn open_append(path: &Path) -> File {
    OpenOptions::new().create(true).append(true).open(path).unwrap()
}

fn wait_for_progress(shared: &Shared, at_least: u64) -> bool {
    let end = Instant::now() + DEADLINE;
    while shared.progress.load(Ordering::SeqCst) < at_least {
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn rotation_torture_loses_and_duplicates_nothing() {
    const ROTATIONS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let shared = Arc::new(Shared {
        file: Mutex::new(open_append(&path)),
        written: AtomicU64::new(0),
        progress: AtomicU64::new(0),
        stop_writer: AtomicBool::new(false),
        stop_follower: AtomicBool::new(false),
    });

    let writer = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let mut seq = 0u64;
            while !shared.stop_writer.load(Ordering::SeqCst) {
                for _ in 0..25 {
                    let mut file = shared.file.lock().unwrap();
                    file.write_all(line("w1", seq).as_bytes()).unwrap();
                    seq += 1;
                    shared.written.store(seq, Ordering::SeqCst);
                }
                thread::sleep(Duration::from_micros(300));
            }
        })
    };

    let follower = {
        let shared = Arc::clone(&shared);
        let specs = spec(&path);
        let dir = dir.path().to_path_buf();
        thread::spawn(move || {
            let mut follower = Follower::new(&specs, options());
            let mut items = Vec::new();
            loop {
                let stop = shared.stop_follower.load(Ordering::SeqCst);
                let batch = follower.poll();
                for item in &batch {
                    if let FollowItem::Lines { bytes, .. } = item {
                        for l in bytes.split(|&b| b == b'\n') {
                            if let Some(seq) = seq_of(l, "w1") {
                                shared.progress.fetch_max(seq + 1, Ordering::SeqCst);
                            }
                        }
                    }
                }
                items.extend(batch);
                if stop {
                    break;
                }
                follower.wait();
            }
            let deleted = deleted_descriptors(&dir);
            (items, follower.paths().to_vec(), deleted)
        })
    };

    let mut at_risk: Vec<std::ops::RangeInclusive<u64>> = Vec::new();
    let mut kinds = [0usize; 5];
    let mut stalled = None;
    for round in 0..ROTATIONS {
        // let some lines through between rotations
        let before = shared.written.load(Ordering::SeqCst);
        while shared.written.load(Ordering::SeqCst) < before + 1000 {
            thread::sleep(Duration::from_millis(1));
        }
        let kind = round % 5;
        kinds[kind] += 1;
        match kind {
            // rename; the application keeps writing to the renamed file until it reopens the name
            0 => {
                std::fs::rename(&path, &rotated).unwrap();
                let written = shared.written.load(Ordering::SeqCst);
                while shared.written.load(Ordering::SeqCst) < written + 100 {
                    thread::sleep(Duration::from_millis(1));
                }
                let mut file = shared.file.lock().unwrap();
                *file = open_append(&path);
            }
            // rename and create the new (empty) file at once (logrotate's `create`), reopen later
            1 => {
                {
                    let _file = shared.file.lock().unwrap();
                    std::fs::rename(&path, &rotated).unwrap();
                    File::create(&path).unwrap();
                }
                let written = shared.written.load(Ordering::SeqCst);
                while shared.written.load(Ordering::SeqCst) < written + 100 {
                    thread::sleep(Duration::from_millis(1));
                }
                let mut file = shared.file.lock().unwrap();
                *file = open_append(&path);
            }
            // copytruncate: lines written between the copy and the truncation are lost on disk
            2 => {
                let copied_through = {
                    let _file = shared.file.lock().unwrap();
                    std::fs::copy(&path, &rotated).unwrap();
                    shared.written.load(Ordering::SeqCst)
                };
                // everything in the copy was read from the original before it is truncated
                if !wait_for_progress(&shared, copied_through) {
                    stalled = Some(copied_through);
                    break;
                }
                let _file = shared.file.lock().unwrap();
                OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
                let truncated_at = shared.written.load(Ordering::SeqCst);
                if truncated_at > copied_through {
                    at_risk.push(copied_through..=truncated_at - 1);
                }
            }
            // delete and recreate
            3 => {
                let mut file = shared.file.lock().unwrap();
                std::fs::remove_file(&path).unwrap();
                *file = open_append(&path);
            }
            // rename, reopen, compress the rotated file and delete it
            _ => {
                {
                    let mut file = shared.file.lock().unwrap();
                    std::fs::rename(&path, &rotated).unwrap();
                    *file = open_append(&path);
                }
                gzip(&rotated, &dir.path().join("app.log.1.gz"));
                std::fs::remove_file(&rotated).unwrap();
            }
        }
    }
    // a last stretch after the last rotation, then stop and let the follower catch up
    let before = shared.written.load(Ordering::SeqCst);
    while shared.written.load(Ordering::SeqCst) < before + 1000 {
        thread::sleep(Duration::from_millis(1));
    }
    shared.stop_writer.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let total = shared.written.load(Ordering::SeqCst);
    let caught_up = wait_for_progress(&shared, total);
    shared.stop_follower.store(true, Ordering::SeqCst);
    let (items, paths, deleted) = follower.join().unwrap();

    // the figures
    let risky = |seq: u64| at_risk.iter().any(|r| r.contains(&seq));
    let mut seen = vec![0u32; total as usize];
    let (mut fragments, mut foreign, mut out_of_order) = (0usize, 0usize, 0usize);
    let mut last: Option<u64> = None;
    for l in all_lines(&items) {
        match seq_of(&l, "w1") {
            Some(seq) if seq < total => {
                seen[seq as usize] += 1;
                if last.is_some_and(|p| seq <= p) {
                    out_of_order += 1;
                }
                last = Some(seq);
            }
            _ => {
                // a partial line flushed at a truncation: the head of a line in a copytruncate window
                let fragment = at_risk.iter().flat_map(|r| r.clone()).any(|s| {
                    let full = line("w1", s);
                    full.as_bytes().starts_with(&l) && l.len() < full.len() - 1
                });
                if fragment { fragments += 1 } else { foreign += 1 }
            }
        }
    }
    let read = seen.iter().filter(|&&n| n > 0).count();
    let duplicated: u32 = seen.iter().map(|&n| n.saturating_sub(1)).sum();
    let window: u64 = at_risk.iter().map(|r| r.end() - r.start() + 1).sum();
    let lost_in_window = (0..total).filter(|&s| seen[s as usize] == 0 && risky(s)).count();
    let lost_outside: Vec<u64> = (0..total).filter(|&s| seen[s as usize] == 0 && !risky(s)).collect();
    println!(
        "rotation torture: {ROTATIONS} rotations (rename {}, rename+create {}, copytruncate {}, delete+recreate {}, \
         rename+gzip {}); written {total}, read {read}, at risk in copytruncate windows {window}, lost there \
         {lost_in_window}, lost elsewhere {}, duplicated {duplicated}, out of order {out_of_order}, fragments \
         {fragments}, foreign {foreign}, descriptors on deleted files {deleted}",
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3],
        kinds[4],
        lost_outside.len(),
    );
    assert!(stalled.is_none(), "the follower never read through seq {stalled:?} before a copytruncate");
    assert!(caught_up, "the follower did not catch up with the writer; notices: {:#?}", notices(&items));
    assert_eq!(paths, vec![path.clone()], "following one name follows only that name");
    assert!(
        lost_outside.is_empty(),
        "lines lost outside copytruncate windows: {:?}",
        &lost_outside[..lost_outside.len().min(20)]
    );
    assert_eq!(duplicated, 0, "duplicated lines");
    assert_eq!(out_of_order, 0, "lines out of order");
    assert_eq!(foreign, 0, "lines that are neither written lines nor fragments of at-risk ones");
    assert!(fragments <= kinds[2], "at most one flushed fragment per truncation");
    assert_eq!(deleted, 0, "no descriptor is kept on a deleted file");
    assert!(has_notice(&items, NoticeKind::Truncated, "app.log"), "copytruncate is reported");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn a_partial_line_is_held_until_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, b"first\nsec");
    let mut follower = Follower::new(&spec(&path), options());
    let items = follower.poll();
    assert_eq!(all_lines(&items), vec![b"first".to_vec()]);
    append(&path, b"ond");
    assert!(all_lines(&follower.poll()).is_empty(), "no newline yet: nothing handed on");
    append(&path, b" half\nthird\n");
    let items = follower.poll();
    assert_eq!(all_lines(&items), vec![b"second half".to_vec(), b"third".to_vec()]);
    match &items[0] {
        FollowItem::Lines { offset, file, .. } => {
            assert_eq!((*offset, *file), (6, 0), "offset of the line's first byte")
        }
        other => panic!("expected lines, got {other:?}"),
    }
}

#[test]
fn a_long_line_is_truncated_with_a_marker_and_the_next_line_is_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    File::create(&path).unwrap();
    let mut follower = Follower::new(&spec(&path), FollowOptions { max_line: 100, ..options() });
    assert!(follower.poll().is_empty());
    // the long line arrives in pieces across polls; its tail is never buffered
    append(&path, &[b'x'; 60]);
    follower.poll();
    append(&path, &[b'y'; 5000]);
    follower.poll();
    append(&path, b"zz\nnext line \xff\xfe kept\n");
    let items = follower.poll();
    let lines = all_lines(&items);
    let mut expected = vec![b'x'; 60];
    expected.extend_from_slice(&[b'y'; 40]);
    expected.extend_from_slice(" …[line truncated: 4962 bytes skipped]".as_bytes());
    assert_eq!(lines, vec![expected, b"next line \xff\xfe kept".to_vec()], "invalid UTF-8 passes through");
    assert!(has_notice(&items, NoticeKind::LineTruncated, "app.log"));
    let next_offset = items.iter().find_map(|i| match i {
        FollowItem::Lines { offset, bytes, .. } if bytes.starts_with(b"next") => Some(*offset),
        _ => None,
    });
    assert_eq!(next_offset, Some(5063), "the line after a truncated one keeps its true offset");
}

#[test]
fn a_binary_file_is_refused_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("core.log");
    let mut data = b"ELF".to_vec();
    data.extend_from_slice(&[0u8; 2000]);
    data.extend_from_slice(b"\nlooks like a line\n");
    std::fs::write(&path, &data).unwrap();
    let mut follower = Follower::new(&spec(&path), options());
    let items = follower.poll();
    assert!(has_notice(&items, NoticeKind::Binary, "core.log"), "{:?}", notices(&items));
    assert!(all_lines(&items).is_empty(), "nothing of a binary file is read");
    append(&path, b"more\n");
    assert!(all_lines(&follower.poll()).is_empty());
}

#[test]
fn a_file_missing_at_the_start_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.log");
    let mut follower = Follower::new(&spec(&path), FollowOptions { from_start: false, ..options() });
    let mut items = follower.poll();
    assert!(has_notice(&items, NoticeKind::Waiting, "later.log"), "{:?}", notices(&items));
    append(&path, line("w1", 0).as_bytes());
    append(&path, line("w1", 1).as_bytes());
    // a file that appears is read from its start, whatever the start rule for files present
    let ok = poll_until(&mut follower, &mut items, |items| seqs(items, "w1") == [0, 1]);
    assert!(ok, "lines of the new file: {:?}; notices {:?}", seqs(&items, "w1"), notices(&items));
    assert!(has_notice(&items, NoticeKind::Appeared, "later.log"));
}

#[test]
fn new_files_in_a_followed_directory_are_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    append(&dir.path().join("old.log"), line("w0", 0).as_bytes());
    let mut follower = Follower::new(&spec(dir.path()), FollowOptions { from_start: false, ..options() });
    let mut items = follower.poll();
    append(&dir.path().join("new.log"), line("w2", 0).as_bytes());
    append(&dir.path().join("notes.md"), b"not a log\n");
    append(&dir.path().join("new.log"), line("w2", 1).as_bytes());
    let ok = poll_until(&mut follower, &mut items, |items| seqs(items, "w2") == [0, 1]);
    assert!(ok, "lines of the new file: {:?}", seqs(&items, "w2"));
    assert_eq!(seqs(&items, "w0"), vec![0], "history of the file present at the start (1 MiB back)");
    assert!(has_notice(&items, NoticeKind::Appeared, "new.log"));
    assert!(!follower.paths().iter().any(|p| p.ends_with("notes.md")), "only log-like names are followed");
}

#[test]
fn a_glob_picks_up_new_matches_and_a_symlink_is_not_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    append(&dir.path().join("a.log"), line("w1", 0).as_bytes());
    std::os::unix::fs::symlink(dir.path().join("a.log"), dir.path().join("current.log")).unwrap();
    let pattern = format!("{}/*.log", dir.path().display());
    let mut follower = Follower::new(&[pattern], options());
    let mut items = follower.poll();
    append(&dir.path().join("b.log"), line("w2", 0).as_bytes());
    append(&dir.path().join("b.txt"), line("w3", 0).as_bytes());
    append(&dir.path().join("a.log"), line("w1", 1).as_bytes());
    let ok = poll_until(&mut follower, &mut items, |i| seqs(i, "w2") == [0] && seqs(i, "w1").len() >= 2);
    assert!(ok, "w1 {:?} w2 {:?}", seqs(&items, "w1"), seqs(&items, "w2"));
    assert_eq!(seqs(&items, "w1"), vec![0, 1], "a file and a symlink to it are read once");
    assert!(seqs(&items, "w3").is_empty(), "names the glob does not match are not followed");
}

#[test]
fn a_named_compressed_file_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("app.log.3");
    std::fs::write(&plain, (0..20).map(|s| line("w1", s)).collect::<String>()).unwrap();
    let gz = dir.path().join("app.log.3.gz");
    gzip(&plain, &gz);
    let mut follower = Follower::new(&spec(&gz), FollowOptions { from_start: false, ..options() });
    let mut items = Vec::new();
    assert!(poll_until(&mut follower, &mut items, |i| seqs(i, "w1").len() >= 20));
    assert_eq!(seqs(&items, "w1"), (0..20).collect::<Vec<_>>());
    assert!(has_notice(&items, NoticeKind::Gzip, "app.log.3.gz"));
    follower.wait();
    assert!(follower.poll().is_empty(), "read once");
}

#[test]
fn a_corrupt_gzip_gives_an_error_notice_and_following_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, line("w1", 0).as_bytes());
    let mut follower = Follower::new(&spec(dir.path()), options());
    let mut items = follower.poll();
    let mut corrupt = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff];
    corrupt.extend_from_slice(b"this is not deflate data at all, and it ends abruptly");
    std::fs::write(dir.path().join("app.log.2.gz"), &corrupt).unwrap();
    let ok = poll_until(&mut follower, &mut items, |items| has_notice(items, NoticeKind::Error, "app.log.2.gz"));
    assert!(ok, "notices: {:?}", notices(&items));
    append(&log, line("w1", 1).as_bytes());
    let ok = poll_until(&mut follower, &mut items, |items| seqs(items, "w1") == [0, 1]);
    assert!(ok, "still following after the corrupt file: {:?}", seqs(&items, "w1"));
}

#[test]
fn a_directory_rotation_chain_with_compression_reads_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let log1 = dir.path().join("app.log.1");
    let write = |from: u64, to: u64| {
        let text: String = (from..to).map(|s| line("w1", s)).collect();
        append(&log, text.as_bytes());
    };
    write(0, 100);
    let mut follower = Follower::new(&spec(dir.path()), options());
    let mut items = Vec::new();
    assert!(poll_until(&mut follower, &mut items, |i| seqs(i, "w1").len() == 100));

    // rename rotation: the application writes a little more through its old descriptor, then
    // reopens the name; the renamed file is read on from where it was, once
    let mut old = open_append(&log);
    std::fs::rename(&log, &log1).unwrap();
    old.write_all((100..110).map(|s| line("w1", s)).collect::<String>().as_bytes()).unwrap();
    drop(old);
    write(110, 160);
    let expected: Vec<u64> = (0..160).collect();
    let ok = poll_until(&mut follower, &mut items, |i| {
        let mut s = seqs(i, "w1");
        s.sort_unstable();
        s == expected
    });
    assert!(ok, "after the rename: {:?}", seqs(&items, "w1"));

    // compress the rotated file and delete it; an unrelated compressed file appears too
    gzip(&log1, &dir.path().join("app.log.1.gz"));
    std::fs::remove_file(&log1).unwrap();
    let other: String = (0..50).map(|s| line("w2", s)).collect();
    let mut encoder = GzEncoder::new(File::create(dir.path().join("other.log.gz")).unwrap(), Compression::fast());
    encoder.write_all(other.as_bytes()).unwrap();
    encoder.finish().unwrap();
    write(160, 200);
    let ok = poll_until(&mut follower, &mut items, |i| {
        seqs(i, "w2").len() == 50
            && seqs(i, "w1").len() >= 200
            && i.iter().any(|n| matches!(n, FollowItem::Notice { kind: NoticeKind::Gzip, path, message } if path.ends_with("app.log.1.gz") && message.contains("not read again")))
    });
    assert!(ok, "seqs {:?}; notices {:#?}", seqs(&items, "w2"), notices(&items));
    let mut w1 = seqs(&items, "w1");
    w1.sort_unstable();
    assert_eq!(w1, (0..200).collect::<Vec<_>>(), "every line once: the compressed copy is not read again");
    assert_eq!(seqs(&items, "w2"), (0..50).collect::<Vec<_>>(), "a compressed file of new content is read once");
    // per file, in order
    for (file, lines) in lines_by_file(&items) {
        let s: Vec<u64> = lines.iter().filter_map(|l| seq_of(l, "w1").or_else(|| seq_of(l, "w2"))).collect();
        assert!(s.windows(2).all(|w| w[0] < w[1]), "file {file} out of order: {s:?}");
    }
}

#[test]
fn copytruncate_in_a_directory_recovers_the_lines_from_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let write = |from: u64, to: u64| {
        let text: String = (from..to).map(|s| line("w1", s)).collect();
        append(&log, text.as_bytes());
    };
    write(0, 100);
    let mut follower = Follower::new(&spec(dir.path()), options());
    let mut items = follower.poll();
    assert_eq!(seqs(&items, "w1").len(), 100);
    // lines 100..200 are written and copied, and the original truncated, before the follower looks
    write(100, 200);
    std::fs::copy(&log, dir.path().join("app.log.1")).unwrap();
    OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    write(200, 300);
    let ok = poll_until(&mut follower, &mut items, |i| seqs(i, "w1").len() >= 300);
    assert!(ok, "seqs {:?}; notices {:#?}", seqs(&items, "w1"), notices(&items));
    let mut all = seqs(&items, "w1");
    all.sort_unstable();
    assert_eq!(all, (0..300).collect::<Vec<_>>(), "every line exactly once; notices {:#?}", notices(&items));
    assert!(has_notice(&items, NoticeKind::Truncated, "app.log"));
}

// ---------------------------------------------------------------------------------------------

#[test]
fn the_follow_command_prints_events_as_json_as_they_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, line("w1", 0).as_bytes());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_foley-triage"))
        .args(["follow", dir.path().to_str().unwrap(), "--json", "--from-start"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the binary");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel::<String>();
    thread::spawn(move || {
        for l in std::io::BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            if sender.send(l).is_err() {
                break;
            }
        }
    });
    let mut events: Vec<serde_json::Value> = Vec::new();
    let mut collect = |want: usize| {
        let end = Instant::now() + DEADLINE;
        while events.len() < want {
            let left = end.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(l) => events.push(serde_json::from_str(&l).expect("one JSON object per line")),
                Err(_) => break,
            }
        }
    };
    collect(1);
    append(
        &log,
        format!(
            "{}{}",
            line("w1", 1),
            "2025-09-01 14:00:05 [ERROR] video_id=v9 error_code=E_TIMEOUT reason=\"\x1b[31mboom\"\n"
        )
        .as_bytes(),
    );
    collect(3);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(events.len(), 3, "events: {events:#?}");
    for event in &events {
        assert!(event["file"].as_str().is_some_and(|f| f.ends_with("app.log")), "{event}");
        assert_eq!(event["source"], "inference");
    }
    assert_eq!(events[0]["raw"], line("w1", 0).trim_end());
    assert_eq!(events[1]["raw"], line("w1", 1).trim_end());
    assert_eq!(events[2]["level"], "ERROR");
    assert_eq!(events[2]["video_id"], "v9");
    assert!(!events[2]["message"].as_str().unwrap_or("\x1b").contains('\x1b'), "terminal-safe: {}", events[2]);
}

// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn chunking_the_writes_does_not_change_the_lines(
        data in prop::collection::vec(prop::sample::select(vec![b'a', b'b', b' ', b'\n', b'\r', 0xff, 0xc3]), 0..1500),
        cuts in prop::collection::vec(0usize..1500, 0..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("chunks.log");
        File::create(&path).unwrap();
        let mut follower = Follower::new(&spec(&path), options());
        let mut items = follower.poll();
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        points.push(data.len());
        points.sort_unstable();
        let mut from = 0;
        for to in points {
            append(&path, &data[from..to]);
            items.extend(follower.poll());
            from = to;
        }
        // the lines read are exactly the input's complete lines, at their offsets
        let complete = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut read = Vec::new();
        for item in &items {
            if let FollowItem::Lines { offset, bytes, .. } = item {
                prop_assert_eq!(*offset, read.len() as u64);
                read.extend_from_slice(bytes);
            }
        }
        prop_assert_eq!(&read[..], &data[..complete]);
        let expected: Vec<&[u8]> = data[..complete].split(|&b| b == b'\n').collect();
        let got: Vec<&[u8]> = read.split(|&b| b == b'\n').collect();
        prop_assert_eq!(got, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The splitter alone, with caps small enough that over-long lines are common: every complete
    /// line once, in order, at its offset, heads within the cap on a UTF-8 boundary.
    #[test]
    fn the_line_splitter_keeps_every_complete_line(
        data in prop::collection::vec(prop::sample::select(vec![b'a', b'\n', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0]), 0..600),
        cuts in prop::collection::vec(0usize..600, 0..8),
        max_line in 1usize..40,
    ) {
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        points.push(data.len());
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for to in points {
            chunks.push(&data[from..to]);
            from = to;
        }
        prop_assert_eq!(foley_triage::source::follow::check_splitter(&chunks, max_line), Ok(()));
    }
}
