//! `foley-triage patterns [FILE|DIR|-] [--content-only] [--summary] [--json] [--keep]`: mines message
//! templates. Without `--summary`, one CSV row per input line (`line_no,template_id,template`, after a
//! header row; the template as it stood when the line was read, the id stable); with `--summary`, the
//! templates with their counts, first and last seen. Lines are numbered from 1 across the inputs in
//! the order they are read. The timestamp and level prefix is stripped by the project's parsers
//! unless `--content-only`.

use crate::cli::PatternsArgs;
use crate::config::Config;
use crate::parse::{Format, LineParser};
use crate::patterns::{Miner, Settings, store};
use crate::source::{self, Input, read};
use anyhow::{Result, anyhow};
use rustc_hash::FxHashMap;
use std::io::{BufRead, BufReader, Write};

/// The lines each template was first and last seen on.
#[derive(Debug, Clone, Copy)]
struct Lines {
    first: u64,
    last: u64,
}

pub fn run(args: &PatternsArgs, config: &Config) -> Result<i32> {
    match mine(args, config) {
        Ok(code) => Ok(code),
        Err(e) => {
            crate::applog::error(&format!("{e:#}"));
            Ok(super::EXIT_USAGE)
        }
    }
}

fn mine(args: &PatternsArgs, config: &Config) -> Result<i32> {
    let forced = match &args.format {
        Some(f) => Some(
            Format::parse_name(f)
                .ok_or_else(|| anyhow!("--format `{f}`: use seed_kv, json, nginx, python or ffmpeg"))?,
        ),
        None => None,
    };
    let paths = if args.paths.is_empty() { vec!["-".to_string()] } else { args.paths.clone() };
    let inputs = source::resolve(&paths)?;
    if inputs.is_empty() {
        return Err(anyhow!("no log files in {} (*.log, *.jsonl, *.txt, *.gz …); name the files", paths.join(" ")));
    }
    let store_path = store::default_path();
    let mut miner = if args.keep { store::load(&store_path, Settings::default())? } else { Miner::default() };
    let offset = config.offset_seconds();
    let max_line = config.max_line_bytes;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut seen: FxHashMap<u64, Lines> = FxHashMap::default();
    let mut line_no = 0u64;
    let mut problems = 0usize;
    if !args.summary && !args.json {
        writeln!(out, "line_no,template_id,template")?;
    }
    for input in &inputs {
        let waiting = |text: &str| crate::applog::note(text);
        let opened = match read::open(input, forced, offset, &waiting) {
            Ok(o) => o,
            Err(e) => {
                crate::applog::error(&e.to_string());
                problems += 1;
                continue;
            }
        };
        let parser = LineParser::new(opened.format, offset);
        let body: Box<dyn std::io::Read> = match opened.body {
            read::Body::File { file, .. } => Box::new(file),
            read::Body::Stream(stream) => stream,
        };
        let mut reader = BufReader::with_capacity(1 << 16, body);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match std::io::Read::take(&mut reader, max_line as u64 + 1).read_until(b'\n', &mut buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    crate::applog::error(&format!("{}: {e}", input_name(input)));
                    problems += 1;
                    break;
                }
            }
            if buffer.last() != Some(&b'\n') && buffer.len() > max_line {
                // a line longer than the limit: the rest of it is skipped (the one truncation rule)
                skip_rest_of_line(&mut reader)?;
            }
            while matches!(buffer.last(), Some(b'\n' | b'\r')) {
                buffer.pop();
            }
            line_no += 1;
            let text = String::from_utf8_lossy(&buffer[..buffer.len().min(max_line)]);
            let (message, time) = if args.content_only {
                (std::borrow::Cow::Borrowed(text.as_ref()), None)
            } else {
                let event = parser.parse(&text);
                (std::borrow::Cow::Owned(event.message.into_owned()), event.ts_ms)
            };
            let matched = miner.add(&message, time);
            seen.entry(matched.id).and_modify(|l| l.last = line_no).or_insert(Lines { first: line_no, last: line_no });
            if !args.summary {
                let template = miner.get(matched.id).map(|t| t.text()).unwrap_or_default();
                let template = crate::text::sanitize(&template);
                if args.json {
                    let row =
                        serde_json::json!({ "line_no": line_no, "template_id": matched.id, "template": template });
                    writeln!(out, "{row}")?;
                } else {
                    writeln!(out, "{line_no},{},{}", matched.id, csv_field(&template))?;
                }
            }
        }
    }
    if args.summary {
        write_summary(&mut out, &miner, &seen, args.json)?;
    }
    out.flush()?;
    if args.keep {
        store::save(&miner, &store_path)?;
    }
    if miner.evicted() > 0 {
        crate::applog::warn(&format!(
            "{} templates evicted (least recently seen) to stay within {}",
            miner.evicted(),
            miner.settings().max_templates
        ));
    }
    Ok(if problems > 0 && line_no == 0 { super::EXIT_USAGE } else { 0 })
}

fn input_name(input: &Input) -> String {
    crate::text::sanitize(&input.name()).into_owned()
}

fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

/// The templates seen in this run, most frequent first (then by id).
fn write_summary(out: &mut impl Write, miner: &Miner, seen: &FxHashMap<u64, Lines>, json: bool) -> Result<()> {
    let mut templates: Vec<_> = miner.templates().into_iter().filter(|t| seen.contains_key(&t.id)).collect();
    templates.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    let time = |ms: Option<i64>| ms.map(crate::clock::format_ms).unwrap_or_default();
    if json {
        let rows: Vec<_> = templates
            .iter()
            .map(|t| {
                let lines = seen.get(&t.id).copied().unwrap_or(Lines { first: 0, last: 0 });
                serde_json::json!({
                    "template_id": t.id,
                    "template": crate::text::sanitize(&t.text()),
                    "count": t.count,
                    "first_seen": t.first_ms.map(crate::clock::format_ms),
                    "last_seen": t.last_ms.map(crate::clock::format_ms),
                    "first_line": lines.first,
                    "last_line": lines.last,
                })
            })
            .collect();
        let all = serde_json::json!({ "templates": rows, "evicted": miner.evicted() });
        writeln!(out, "{all}")?;
        return Ok(());
    }
    writeln!(out, "template_id,count,first_seen,last_seen,first_line,last_line,template")?;
    for t in templates {
        let lines = seen.get(&t.id).copied().unwrap_or(Lines { first: 0, last: 0 });
        writeln!(
            out,
            "{},{},{},{},{},{},{}",
            t.id,
            t.count,
            time(t.first_ms),
            time(t.last_ms),
            lines.first,
            lines.last,
            csv_field(&crate::text::sanitize(&t.text()))
        )?;
    }
    Ok(())
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces.
pub fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ') {
        std::borrow::Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a b"), "a b");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field(" x"), "\" x\"");
    }
}
