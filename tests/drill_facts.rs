//! Facts from the data, for any video (issue: "a code's video list is silently capped at the top
//! 50" and "drilling down on a video outside the top list shows empty facts"): the drill-down's
//! failures, codes, first/last seen, request id, cause and fix come from the video's own lines, and
//! a code's list of videos holds every video with that code in the window.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::config::Config;
use foley_triage::event::{Event, Origin};
use foley_triage::parse::LineParser;
use foley_triage::pipeline::{Ingestor, PipelineOptions};
use std::collections::{BTreeMap, BTreeSet};

fn demo_backend() -> (foley_triage::demo::DemoDir, LocalBackend) {
    let demo = foley_triage::demo::materialize().unwrap();
    let config = Config::default();
    let backend = LocalBackend::open(demo.files(), config.enricher().unwrap(), &config, 2, false, Vec::new());
    (demo, backend)
}

/// (code → videos) counted straight from the events of the files, as an independent tally.
fn videos_by_code(demo: &foley_triage::demo::DemoDir) -> BTreeMap<String, BTreeSet<String>> {
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let mut by_code: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in demo.files() {
        let bytes = std::fs::read(&path).unwrap();
        let format = foley_triage::source::detect_format(&bytes, 0);
        let mut ingestor = Ingestor::new(&enricher, LineParser::new(format, 0), PipelineOptions::default(), 60_000);
        let mut sink = |e: &Event<'_>, _: &foley_triage::enrich::Enriched, _: Origin, _: &[u8]| {
            if let (Some(code), Some(video)) = (e.error_code.as_deref(), e.video_id.as_deref()) {
                by_code.entry(code.to_string()).or_default().insert(video.to_string());
            }
        };
        ingestor.ingest_block(&bytes, 0, true, &mut sink);
    }
    by_code
}

#[test]
fn a_codes_video_list_holds_every_video_with_that_code() {
    let (demo, mut backend) = demo_backend();
    let expected = videos_by_code(&demo);
    assert!(expected.values().any(|v| v.len() > 50), "the demo has a code with more than 50 videos");
    for (code, videos) in &expected {
        let rows = backend.videos_with_code(code, foley_triage::backend::TimeRange::ALL);
        let listed: BTreeSet<String> = rows.iter().map(|r| r.video_id.clone()).collect();
        assert_eq!(&listed, videos, "{code}: every video with the code, none other");
        assert!(rows.windows(2).all(|w| w[0].failures >= w[1].failures), "{code}: most failures first");
        assert!(rows.iter().all(|r| r.codes.contains(code)), "{code}: each row carries the code");
    }
    // a window: only the videos whose failures with that code fall inside it
    let overview = backend.overview(foley_triage::backend::TimeRange::last(15 * 60_000));
    let end = overview.data_to.unwrap();
    for code in expected.keys() {
        for row in backend.videos_with_code(code, foley_triage::backend::TimeRange::last(15 * 60_000)) {
            assert!(row.failures > 0);
            assert!(
                row.last_seen.unwrap() >= end - 15 * 60_000 - 60_000,
                "{code}: {} is outside the window",
                row.video_id
            );
        }
    }
}

#[test]
fn the_drill_down_of_any_video_has_its_own_facts() {
    let (demo, mut backend) = demo_backend();
    let failed: BTreeSet<String> = videos_by_code(&demo).into_values().flatten().collect();
    let top: BTreeSet<String> = backend
        .overview(foley_triage::backend::TimeRange::ALL)
        .top_failing_videos
        .iter()
        .map(|v| v.video_id.clone())
        .collect();
    // the only MODEL_TIMEOUT of the demo is far down the ranking
    let related = backend.related("vid_cf2945");
    assert!(!top.contains("vid_cf2945"), "the video is outside the top list");
    let row = related.row.expect("facts for a video outside the top list");
    assert_eq!(row.failures, 1);
    assert_eq!(row.codes, vec!["MODEL_TIMEOUT".to_string()]);
    assert_eq!(row.request_id.as_deref(), Some("req_68c3ae75"));
    assert!(row.first_seen.is_some() && row.first_seen == row.last_seen);
    assert!(!related.explanation.cause.is_empty());

    // a video that never failed says so, not "unknown: no rule matches"
    let healthy = foley_triage::demo::FILES[0].1;
    let text = String::from_utf8_lossy(healthy);
    let video = text
        .lines()
        .filter(|l| l.contains("audio_gen_success=True"))
        .map(|l| {
            let start = l.find("video_id=").unwrap() + "video_id=".len();
            l[start..].chars().take_while(|c| !c.is_whitespace()).collect::<String>()
        })
        .find(|v| !failed.contains(v))
        .expect("a video that never failed");
    let related = backend.related(&video);
    let row = related.row.expect("facts");
    assert_eq!(row.failures, 0);
    assert_eq!(related.explanation.cause, "no failure in these lines");
    assert!(row.codes.is_empty());
    assert!(row.first_seen.is_some());
    // the facts of a top video agree with the ranking's row
    let first = backend.overview(foley_triage::backend::TimeRange::ALL).top_failing_videos[0].clone();
    let related = backend.related(&first.video_id);
    let row = related.row.unwrap();
    assert_eq!(row.failures, first.failures);
    assert_eq!(row.codes, first.codes);
    assert_eq!((row.first_seen, row.last_seen), (first.first_seen, first.last_seen));
    assert_eq!(row.request_id, first.request_id);
    assert_eq!(row.cause, first.cause);
}
