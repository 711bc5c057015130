//! `foley-triage follow`: follows files, directories or globs like `tail -F` and prints each event
//! as it arrives — terminal-safe text, or one JSON object per line — through the same parsing and
//! enrichment as the report. Notices (rotation, truncation, …) go to stderr. Runs until killed.

use crate::cli::FollowArgs;
use crate::config::Config;
use crate::enrich::{Attribution, Enriched, Enricher};
use crate::event::{Event, Origin, OwnedEvent};
use crate::parse::LineParser;
use crate::pipeline::{Ingestor, PipelineOptions};
use crate::source::follow::{FollowItem, FollowOptions, Follower};
use crate::stats::Stats;
use crate::stats::overview::Window;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// Room left after `max_line` for the follower's truncation marker, so the parser keeps it.
const MARKER_ROOM: usize = 128;

pub fn run(args: &FollowArgs, config: &Config) -> Result<i32> {
    let enricher = config.enricher()?;
    let default_offset = config.offset_seconds().unwrap_or(0);
    let bucket_ms = config.bucket_ms().unwrap_or(60_000);
    let options = FollowOptions { from_start: args.from_start, max_line: config.max_line_bytes, ..Default::default() };
    let pipeline = PipelineOptions {
        max_line: config.max_line_bytes.saturating_add(MARKER_ROOM),
        window: Window::ALL,
        default_offset,
        times: config.time_limits(None),
    };
    let mut follower = Follower::new(&args.paths, options);
    let mut ingestors: Vec<Option<Ingestor<'_>>> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    loop {
        for item in follower.poll() {
            match item {
                FollowItem::Notice { path, message, .. } => {
                    eprintln!("foley-triage: {}: {message}", crate::text::sanitize(&path.display().to_string()));
                }
                FollowItem::Lines { file, path, offset, bytes } => {
                    let index = file as usize;
                    if ingestors.len() <= index {
                        ingestors.resize_with(index + 1, || None);
                    }
                    let ingestor = ingestors[index].get_or_insert_with(|| {
                        let format = crate::source::detect_format(&bytes, default_offset);
                        let mut ingestor =
                            Ingestor::new(&enricher, LineParser::new(format, default_offset), pipeline, bucket_ms);
                        ingestor.file = file;
                        ingestor
                    });
                    let mut printed: Vec<String> = Vec::new();
                    let mut sink = |event: &Event<'_>, enriched: &Enriched, origin: Origin, raw: &[u8]| {
                        printed.push(render(event, enriched, origin, raw, &enricher, &path, args.json));
                    };
                    ingestor.ingest_block(&bytes, offset, true, &mut sink);
                    // events are printed, not kept: the statistics start afresh for each block
                    ingestor.stats = Stats::new(enricher.components.len(), bucket_ms);
                    for line in printed {
                        if let Err(e) = writeln!(out, "{line}") {
                            return finish(e);
                        }
                    }
                }
            }
        }
        if let Err(e) = out.flush() {
            return finish(e);
        }
        follower.wait();
    }
}

/// Output closed (`follow … | head`) ends the command quietly; any other write error is an error.
fn finish(e: std::io::Error) -> Result<i32> {
    if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(0) } else { Err(e.into()) }
}

/// One event as a line of output: `time level source component message`, or a JSON object.
fn render(
    event: &Event<'_>,
    enriched: &Enriched,
    origin: Origin,
    raw: &[u8],
    enricher: &Enricher,
    path: &Path,
    json: bool,
) -> String {
    let rule = match enriched.attribution {
        Attribution::Rule(id) => enricher.rule(id).map(|r| r.spec.id.as_str()),
        _ => None,
    };
    let component = enricher.components.name(enriched.component);
    let owned = OwnedEvent::from_event(event, &String::from_utf8_lossy(raw), origin, component, rule);
    if json {
        let mut value = serde_json::to_value(&owned).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("file".into(), serde_json::Value::String(path.display().to_string()));
        }
        return value.to_string();
    }
    let time = owned.ts_ms.map_or_else(|| "-".to_string(), crate::parse::time::format_ms);
    let mut line =
        format!("{time} {:<5} {} {} {}", owned.level.as_str(), owned.source.as_str(), owned.component, owned.message);
    if let Some(code) = &owned.error_code {
        line.push_str(" code=");
        line.push_str(code);
    }
    line
}
