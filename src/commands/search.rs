//! `foley-triage search QUERY`: every line that holds a text (a phrase or an id) in a time range,
//! from files (a scan of every byte, not the tail) or a cluster (a query on the server), as text
//! or JSON. `--filter FILTER`: the lines of the events a filter in the query language matches
//! (files: the matcher on every event read; a cluster: the filter as query DSL).

use super::EXIT_USAGE;
use super::video::{EXIT_NOTHING, line_json, line_text, open, valid_text};
use crate::backend::SearchQuery;
use crate::backend::cancel::Canceller;
use crate::cli::{EsArgs, SearchArgs};
use crate::config::Config;
use anyhow::Result;
use serde_json::json;

pub fn run(args: &SearchArgs, es: &EsArgs, config: &Config) -> Result<i32> {
    if let Some(filter) = &args.filter {
        return run_filter(args, filter, es, config);
    }
    let Some(text) = args.query.as_deref() else { return Ok(EXIT_USAGE) };
    if !valid_text("search QUERY", text) {
        return Ok(EXIT_USAGE);
    }
    let mut opened = match open(&args.input, es, config)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let mut query = SearchQuery::new(text, opened.from_ms, opened.to_ms);
    query.limit = args.limit.max(1);
    let result = opened.backend.search(&query, &Canceller::new(), &mut |_, _| {});
    if let Some(e) = &result.error {
        crate::applog::error(&format!("search failed: {e}"));
        return Ok(EXIT_USAGE);
    }
    if result.total == 0 {
        let (from, to) = opened.range_text();
        crate::applog::error(&format!("no line mentions {} between {from} and {to}", crate::text::sanitize(text)));
        return Ok(EXIT_NOTHING);
    }
    let total = format!("{}{}", if result.total_at_least { "at least " } else { "" }, result.total);
    if args.json {
        let out = json!({
            "query": args.query,
            "from": query.from_ms.map(crate::clock::format_ms),
            "to": query.to_ms.map(crate::clock::format_ms),
            "total": result.total,
            "total_at_least": result.total_at_least,
            "capped": result.capped,
            "lines": result.matches.iter().map(|e| line_json(e, &result.files)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for event in &result.matches {
            println!("{}", line_text(event));
        }
        let shown = if result.capped {
            format!(" (the first {} shown; --limit for more)", result.matches.len())
        } else {
            String::new()
        };
        eprintln!("{total} matches{shown}");
    }
    Ok(0)
}

/// `search --filter FILTER [QUERY]`: the filter (and the text, as quoted free text) checked on every
/// event in the range by the backend; the first [`crate::backend::lines::LINES_CAP`] lines in time
/// order, at most `--limit` printed. A filter that does not parse is said with its column (exit 2).
fn run_filter(args: &SearchArgs, filter: &str, es: &EsArgs, config: &Config) -> Result<i32> {
    if !valid_text("search --filter", filter) || args.query.as_deref().is_some_and(|q| !valid_text("search QUERY", q)) {
        return Ok(EXIT_USAGE);
    }
    let mut text = filter.to_string();
    if let Some(q) = args.query.as_deref() {
        let quoted = format!("\"{}\"", q.replace('\\', "\\\\").replace('"', "\\\""));
        text = format!("({filter}) and {quoted}");
    }
    if let Err(e) = crate::query::parse::parse(filter) {
        crate::applog::error(&format!("search --filter `{}`: {e}", crate::text::sanitize(filter)));
        return Ok(EXIT_USAGE);
    }
    let mut opened = match open(&args.input, es, config)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let query = crate::backend::lines::LineQuery {
        from_ms: opened.from_ms.unwrap_or(i64::MIN),
        to_ms: opened.to_ms.unwrap_or(i64::MAX),
        code: None,
        template: None,
        known_too: false,
        filter: Some(text.clone()),
        title: text.clone(),
    };
    let lines = opened.backend.lines(&query);
    if let Some(e) = &lines.error {
        crate::applog::error(&format!("search failed: {e}"));
        return Ok(EXIT_USAGE);
    }
    if lines.events.is_empty() {
        let (from, to) = opened.range_text();
        crate::applog::error(&format!("no event matches {} between {from} and {to}", crate::text::sanitize(&text)));
        return Ok(EXIT_NOTHING);
    }
    let limit = args.limit.max(1);
    let shown = &lines.events[..lines.events.len().min(limit)];
    let capped = lines.truncated || shown.len() < lines.events.len();
    if args.json {
        let out = json!({
            "filter": text,
            "from": opened.from_ms.map(crate::clock::format_ms),
            "to": opened.to_ms.map(crate::clock::format_ms),
            "total": lines.events.len(),
            "total_at_least": lines.truncated,
            "capped": capped,
            "lines": shown.iter().map(|e| line_json(e, &lines.files)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for event in shown {
            println!("{}", line_text(event));
        }
        let total = format!("{}{}", if lines.truncated { "at least " } else { "" }, lines.events.len());
        let note = if capped { format!(" (the first {} shown; --limit for more)", shown.len()) } else { String::new() };
        eprintln!("{total} matches{note}");
    }
    Ok(0)
}
