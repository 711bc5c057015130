//! `foley-triage video ID`: the drill-down of one video (or request) without the screen — its
//! facts (failures, codes, first and last seen, latest request, cause and fix) and every related
//! line, from files or a cluster, as text or JSON. Also the opening both line commands share.

use super::EXIT_USAGE;
use crate::backend::{Backend, Related};
use crate::cli::{EsArgs, InputArgs, VideoArgs};
use crate::clock::format_ms;
use crate::config::Config;
use crate::event::OwnedEvent;
use anyhow::Result;
use serde_json::json;

/// Exit status when nothing matches.
pub const EXIT_NOTHING: i32 = 1;

/// A backend opened for a headless command, with the time range asked for.
pub struct Opened {
    pub backend: Box<dyn Backend>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// The bundled demo's directory when no path was given (removed on drop).
    _demo: Option<crate::demo::DemoDir>,
}

impl Opened {
    /// The range in words, for "no line mentions … between … and …": the bounds asked for, else
    /// the data's own.
    pub fn range_text(&mut self) -> (String, String) {
        let (first, last) = self.backend.data_range();
        let edge = |ms: Option<i64>| ms.map_or_else(|| "…".to_string(), format_ms);
        (edge(self.from_ms.or(first)), edge(self.to_ms.or(last)))
    }
}

/// Opens what `report` would read — the paths (or the bundled demo), or the cluster — with the
/// same `--since`/`--until` syntax. A bad argument is said and gives `Err(EXIT_USAGE)`; a cluster
/// error is returned as an error (one line, exit 2, by `main`).
pub fn open(input: &InputArgs, es: &EsArgs, config: &Config) -> Result<std::result::Result<Opened, i32>> {
    let enricher = config.enricher()?;
    if es.enabled() {
        let offset = config.offset_seconds();
        let now = chrono::Utc::now().timestamp_millis();
        let (mut from, mut to) = (None, None);
        for (arg, slot) in [(&input.since, &mut from), (&input.until, &mut to)] {
            if let Some(s) = arg {
                match super::report::parse_time_arg(s, offset, now) {
                    Some(t) => *slot = Some(t),
                    None => {
                        crate::applog::error(&format!(
                            "`{s}`: not a time (2025-09-01T14:00:00Z, \"2025-09-01 14:00:00\") or a duration (30m)"
                        ));
                        return Ok(Err(EXIT_USAGE));
                    }
                }
            }
        }
        let client = crate::elastic::connect_with_fields(es, &config.elastic.fields)?;
        let backend = crate::backend::elastic::EsBackend::new(client, enricher, config);
        return Ok(Ok(Opened { backend: Box::new(backend), from_ms: from, to_ms: to, _demo: None }));
    }
    let resolved = match super::report::resolve_inputs(input, config) {
        Ok(r) => r,
        Err(e) => {
            crate::applog::error(&format!("{e:#}"));
            return Ok(Err(EXIT_USAGE));
        }
    };
    let mut paths = Vec::new();
    for item in &resolved.inputs {
        match item {
            crate::source::Input::File(path) => paths.push(path.clone()),
            crate::source::Input::Stdin => {
                crate::applog::error("`-` (stdin): this command reads files again by offset; name the files");
                return Ok(Err(EXIT_USAGE));
            }
        }
    }
    if paths.is_empty() {
        crate::applog::error("no log files found in the paths given; name the files, or use a glob like 'DIR/*'");
        return Ok(Err(EXIT_USAGE));
    }
    let window = resolved.read.settings.options.window;
    // no statistics needed: the answers come from a scan of the bytes
    let count = paths.len();
    let mut backend = crate::backend::local::LocalBackend::open_unread(paths, enricher, config);
    let problems = backend.refresh();
    for problem in &problems {
        crate::applog::error(problem);
    }
    if problems.len() >= count {
        return Ok(Err(EXIT_USAGE));
    }
    Ok(Ok(Opened { backend: Box::new(backend), from_ms: window.from_ms, to_ms: window.to_ms, _demo: resolved.demo }))
}

/// One line as JSON: where it is, what it says.
pub fn line_json(event: &OwnedEvent, files: &[String]) -> serde_json::Value {
    json!({
        "time": event.ts_ms.map(format_ms),
        "ts_ms": event.ts_ms,
        "level": format!("{:?}", event.level).to_lowercase(),
        "component": event.component,
        "video_id": event.video_id,
        "request_id": event.request_id,
        "error_code": event.error_code,
        "message": event.message,
        "file": files.get(event.origin.file as usize),
        "offset": event.origin.offset,
        "raw": event.raw,
    })
}

/// One line as text: time, component, the line.
pub fn line_text(event: &OwnedEvent) -> String {
    let time = event.ts_ms.map_or_else(|| "-".repeat(24), format_ms);
    format!("{time}  {:<12} {}", event.component, event.raw.replace('\n', "\n    "))
}

fn facts_json(related: &Related) -> serde_json::Value {
    let row = related.row.as_ref();
    json!({
        "video_id": related.video_id,
        "failures": row.map_or(0, |r| r.failures),
        "codes": row.map(|r| r.codes.clone()).unwrap_or_default(),
        "first_seen": row.and_then(|r| r.first_seen).map(format_ms),
        "last_seen": row.and_then(|r| r.last_seen).map(format_ms),
        "request_id": row.and_then(|r| r.request_id.clone()),
        "rule": related.explanation.rule,
        "cause": related.explanation.cause,
        "fix": related.explanation.fix,
        "truncated": related.truncated,
        "lines": related.events.iter().map(|e| line_json(e, &related.files)).collect::<Vec<_>>(),
    })
}

fn facts_text(related: &Related) -> String {
    let mut out = String::new();
    let row = related.row.as_ref();
    let when = |ms: Option<i64>| ms.map_or_else(|| "-".to_string(), format_ms);
    out.push_str(&format!("video       {}\n", related.video_id));
    out.push_str(&format!("failures    {}\n", row.map_or(0, |r| r.failures)));
    out.push_str(&format!("codes       {}\n", row.map(|r| r.codes.join(", ")).unwrap_or_default()));
    out.push_str(&format!("first seen  {}\n", when(row.and_then(|r| r.first_seen))));
    out.push_str(&format!("last seen   {}\n", when(row.and_then(|r| r.last_seen))));
    out.push_str(&format!("request     {}\n", row.and_then(|r| r.request_id.clone()).unwrap_or_else(|| "-".into())));
    out.push_str(&format!("cause       {}\n", related.explanation.cause));
    out.push_str(&format!("fix         {}\n", related.explanation.fix));
    let more = if related.truncated { " (more matched; the first are shown)" } else { "" };
    out.push_str(&format!("\n{} lines{more}\n", related.events.len()));
    for event in &related.events {
        out.push_str(&line_text(event));
        out.push('\n');
    }
    out
}

/// True when an id looks like something the user can mean (not empty, no control characters).
pub fn valid_text(what: &str, text: &str) -> bool {
    if text.trim().is_empty() || text.chars().any(char::is_control) || text.len() > 1024 {
        crate::applog::error(&format!(
            "{what}: give a non-empty text of at most 1024 characters, without control characters"
        ));
        return false;
    }
    true
}

pub fn run(args: &VideoArgs, es: &EsArgs, config: &Config) -> Result<i32> {
    if !valid_text("video ID", &args.id) {
        return Ok(EXIT_USAGE);
    }
    let mut opened = match open(&args.input, es, config)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let mut related = opened.backend.related(&args.id);
    let (from, to) = (opened.from_ms, opened.to_ms);
    if from.is_some() || to.is_some() {
        let query = crate::backend::SearchQuery::new(&args.id, from, to);
        let events: Vec<OwnedEvent> = related.events.drain(..).filter(|e| query.in_range(e.ts_ms)).collect();
        let enricher = config.enricher()?;
        related =
            Related::from_lines(&enricher, &related.video_id.clone(), events, related.truncated, related.files.clone());
    }
    if related.events.is_empty() {
        let (from, to) = opened.range_text();
        crate::applog::error(&format!("no line mentions {} between {from} and {to}", crate::text::sanitize(&args.id)));
        return Ok(EXIT_NOTHING);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&facts_json(&related))?);
    } else {
        print!("{}", facts_text(&related));
    }
    Ok(0)
}
