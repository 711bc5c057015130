//! The console's file backend in live mode: whole files read first, then followed through the
//! rotation-proof follower from exactly where the first read stopped — no line lost or counted twice.
#![allow(clippy::panic, clippy::unwrap_used)]

use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::config::Config;
use std::io::Write;
use std::time::{Duration, Instant};

fn lines(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| {
            format!(
                "2025-09-01 14:{:02}:{:02} [ERROR] video_id=vid_{i:06} error_code=MODEL_INFER_FAIL seq={i}\n",
                (i / 60) % 60,
                i % 60
            )
        })
        .collect()
}

fn append(path: &std::path::Path, text: &str) {
    std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

fn wait_for_total(backend: &mut LocalBackend, want: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        backend.refresh();
        let total = backend
            .overview(foley_triage::backend::TimeRange::ALL)
            .by_code
            .get("MODEL_INFER_FAIL")
            .copied()
            .unwrap_or(0);
        if total >= want || Instant::now() > deadline {
            return total;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn first_read_then_follow_through_rotation_counts_each_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inference.log");
    append(&path, &lines(0, 1000));
    // a partial last line at start: not counted until its newline arrives
    append(&path, "2025-09-01 14:59:59 [ERROR] video_id=vid_partial error_code=MODEL_INFER_FAIL");
    let config = Config::default();
    let mut backend = LocalBackend::open(
        vec![path.clone()],
        config.enricher().unwrap(),
        &config,
        2,
        true,
        vec![dir.path().display().to_string()],
    );
    assert_eq!(backend.overview(foley_triage::backend::TimeRange::ALL).by_code["MODEL_INFER_FAIL"], 1000);
    append(&path, " seq=partial\n");
    append(&path, &lines(1000, 1500));
    assert_eq!(wait_for_total(&mut backend, 1501), 1501);
    // rename rotation, then a new file at the name
    std::fs::rename(&path, dir.path().join("inference.log.1")).unwrap();
    append(&path, &lines(1500, 1800));
    assert_eq!(wait_for_total(&mut backend, 1801), 1801);
    std::thread::sleep(Duration::from_millis(600));
    backend.refresh();
    assert_eq!(
        backend.overview(foley_triage::backend::TimeRange::ALL).by_code["MODEL_INFER_FAIL"],
        1801,
        "nothing counted twice after rotation"
    );
    let tail = backend.tail(0, 100_000);
    assert!(tail.iter().any(|(_, e)| e.raw.contains("seq=1799")), "new lines reach the tail");
}
