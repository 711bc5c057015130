//! Reaching any line (issue 12 items 2, 3, 8): the id index built while files are read gives the
//! same lines as a scan of every line; the drill-down takes a request id too; free-text search over
//! files; the headless `video` and `search` commands (exit codes, JSON).
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use foley_triage::backend::local::LocalBackend;
use foley_triage::config::Config;
use foley_triage::event::{Event, Origin};
use foley_triage::parse::LineParser;
use foley_triage::pipeline::{Ingestor, PipelineOptions};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The (input, offset) of every line whose video or request id is `id`, by parsing every line.
fn brute_force(paths: &[PathBuf], id: &str) -> BTreeSet<(u32, u64)> {
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let mut found = BTreeSet::new();
    for (index, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let format = foley_triage::source::detect_format(&bytes, 0);
        let mut ingestor = Ingestor::new(&enricher, LineParser::new(format, 0), PipelineOptions::default(), 60_000);
        let mut sink = |e: &Event<'_>, _: &foley_triage::enrich::Enriched, o: Origin, _: &[u8]| {
            if e.video_id.as_deref() == Some(id) || e.request_id.as_deref() == Some(id) {
                found.insert((index as u32, o.offset));
            }
        };
        ingestor.ingest_block(&bytes, 0, true, &mut sink);
    }
    found
}

fn open(paths: &[PathBuf], threads: usize) -> LocalBackend {
    let config = Config::default();
    LocalBackend::open(paths.to_vec(), config.enricher().unwrap(), &config, threads, false, Vec::new())
}

fn indexed(backend: &LocalBackend, id: &str) -> BTreeSet<(u32, u64)> {
    backend.lines_of(id).0.iter().map(|e| (e.origin.file, e.origin.offset)).collect()
}

/// One seed_kv line (sometimes with a traceback after it, sometimes without ids).
fn line(second: u32, video: Option<u8>, request: Option<u8>, traceback: bool, pad: usize) -> String {
    let mut text = format!("2025-09-01 14:{:02}:{:02} [ERROR] worker=gpu-0", second / 60 % 60, second % 60);
    if let Some(v) = video {
        text.push_str(&format!(" video_id=vid_{v:02x}"));
    }
    if let Some(r) = request {
        text.push_str(&format!(" request_id=req_{r:02x}"));
    }
    text.push_str(&format!(" message=\"{}\"\n", "x".repeat(pad)));
    if traceback {
        text.push_str("Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: bad\n");
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_index_gives_the_lines_a_scan_finds(
        files in prop::collection::vec(
            prop::collection::vec((any::<Option<u8>>(), any::<Option<u8>>(), any::<bool>(), 0usize..300), 0..120),
            1..3),
        probe in any::<u8>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (n, lines) in files.iter().enumerate() {
            let text: String = lines
                .iter()
                .enumerate()
                .map(|(i, (v, r, t, pad))| line(i as u32, v.map(|v| v % 16), r.map(|r| r % 32), *t, *pad))
                .collect();
            let path = dir.path().join(format!("app{n}.log"));
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        let backend = open(&paths, 2);
        for id in [format!("vid_{:02x}", probe % 16), format!("req_{:02x}", probe % 32), "vid_zz".to_string()] {
            prop_assert_eq!(indexed(&backend, &id), brute_force(&paths, &id), "{}", id);
        }
    }
}

/// A file large enough to be read by two cores in parallel (index parts merged), with one video
/// whose lines are far apart and lines longer than the read-back window.
#[test]
fn the_index_of_a_file_read_on_two_cores_finds_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut text = String::new();
    let mut i = 0u32;
    while text.len() < 6 << 20 {
        let pad = if i.is_multiple_of(997) { 40_000 } else { 100 };
        text.push_str(&line(i, Some((i % 200) as u8), Some((i % 251) as u8), i.is_multiple_of(13), pad));
        i += 1;
    }
    std::fs::write(&path, &text).unwrap();
    let paths = vec![path];
    let backend = open(&paths, 2);
    for id in ["vid_07", "vid_c7", "req_fa", "req_00"] {
        let expected = brute_force(&paths, id);
        assert!(expected.len() > 100, "{id}: the file has many lines of it");
        assert_eq!(indexed(&backend, id), expected, "{id}");
    }
    let (bytes, lines, ids) = backend.index_size();
    assert!(lines >= i as u64 && ids > 0);
    assert!((bytes as f64) / (lines as f64) < 16.0, "{bytes} bytes for {lines} lines");
}
