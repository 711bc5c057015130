//! `foley-triage search QUERY`: every line that holds a text (a phrase or an id) in a time range,
//! from files (a scan of every byte, not the tail) or a cluster (a query on the server), as text
//! or JSON.

use super::EXIT_USAGE;
use super::video::{EXIT_NOTHING, line_json, line_text, open, valid_text};
use crate::backend::SearchQuery;
use crate::backend::cancel::Canceller;
use crate::cli::{EsArgs, SearchArgs};
use crate::config::Config;
use anyhow::Result;
use serde_json::json;

pub fn run(args: &SearchArgs, es: &EsArgs, config: &Config) -> Result<i32> {
    if !valid_text("search QUERY", &args.query) {
        return Ok(EXIT_USAGE);
    }
    let mut opened = match open(&args.input, es, config)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let mut query = SearchQuery::new(&args.query, opened.from_ms, opened.to_ms);
    query.limit = args.limit.max(1);
    let result = opened.backend.search(&query, &Canceller::new(), &mut |_, _| {});
    if let Some(e) = &result.error {
        crate::applog::error(&format!("search failed: {e}"));
        return Ok(EXIT_USAGE);
    }
    if result.total == 0 {
        let (from, to) = opened.range_text();
        crate::applog::error(&format!(
            "no line mentions {} between {from} and {to}",
            crate::text::sanitize(&args.query)
        ));
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
