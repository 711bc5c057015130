//! `foley-triage follow`: follows files, directories or globs like `tail -F` and prints each event
//! as it arrives — terminal-safe text, or one JSON object per line — through the same parsing and
//! enrichment as the report. Notices (rotation, truncation, …) go to stderr. Runs until killed.

use crate::cli::FollowArgs;
use crate::config::Config;
use crate::enrich::{Attribution, Enriched, Enricher};
use crate::event::{Event, Origin, OwnedEvent};
use crate::pipeline::Ingestor;
use crate::source::follow::{FollowItem, FollowOptions, Follower};
use crate::stats::Stats;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// Room left after `max_line` for the follower's truncation marker, so the parser keeps it.
const MARKER_ROOM: usize = 128;

pub fn run(args: &FollowArgs, config: &Config) -> Result<i32> {
    let enricher = config.enricher()?;
    let mut settings = config.ingest();
    let default_offset = settings.options.default_offset;
    let options = FollowOptions { from_start: args.from_start, max_line: config.max_line_bytes, ..Default::default() };
    settings.options.max_line = config.max_line_bytes.saturating_add(MARKER_ROOM);
    let mut follower = Follower::new(&args.paths, options);
    let mut ingestors: Vec<Option<Ingestor<'_>>> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    loop {
        for item in follower.poll() {
            match item {
                FollowItem::Notice { path, message, .. } => {
                    crate::applog::warn(&format!("{}: {message}", crate::text::path_text(&path)));
                }
                FollowItem::Lines { file, path, offset, bytes } => {
                    let index = file as usize;
                    if ingestors.len() <= index {
                        ingestors.resize_with(index + 1, || None);
                    }
                    let ingestor = ingestors[index].get_or_insert_with(|| {
                        settings.ingestor(&enricher, crate::source::detect_format(&bytes, default_offset), file)
                    });
                    let mut printed: Vec<String> = Vec::new();
                    let mut sink = |event: &Event<'_>, enriched: &Enriched, origin: Origin, raw: &[u8]| {
                        printed.push(render(event, enriched, origin, raw, &enricher, &path, args.json));
                    };
                    ingestor.ingest_block(&bytes, offset, true, &mut sink);
                    // events are printed, not kept: the statistics start afresh for each block
                    ingestor.stats = Stats::new(enricher.components.len(), settings.bucket_ms);
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
            map.insert("file".into(), serde_json::Value::String(crate::text::path_text(path)));
        }
        return value.to_string();
    }
    let time = owned.ts_ms.map_or_else(|| "-".to_string(), crate::clock::format_ms);
    let mut line =
        format!("{time} {:<5} {} {} {}", owned.level.as_str(), owned.source.as_str(), owned.component, owned.message);
    // every identifier stays on the line, so that `follow | grep vid_…` finds the errors too
    for (key, value) in [("video_id", &owned.video_id), ("request_id", &owned.request_id), ("code", &owned.error_code)]
    {
        if let Some(value) = value
            && !owned.message.contains(&format!("{key}={value}"))
        {
            line.push_str(&format!(" {key}={value}"));
        }
    }
    line
}
