//! Flask / Python `logging` lines, in the three common layouts:
//! `[2025-09-01 14:23:11,189] ERROR in app: msg` (Flask's default),
//! `2025-09-01 14:23:11,189 ERROR in app: msg` / `2025-09-01 14:23:11,189 ERROR foley.app: msg`, and
//! `2025-09-01 14:23:11,189 - foley.app - ERROR - msg`.
//! A traceback that follows is joined to the event by the pipeline using [`is_continuation`] and
//! [`join_continuation`]; its last line gives the exception type and message.

use super::{seed_kv, time};
use crate::event::{Event, Level, Source};
use std::borrow::Cow;

pub fn parse(line: &str, default_offset: i64) -> Option<Event<'_>> {
    let (ts_text, rest) = match line.strip_prefix('[') {
        Some(inner) => {
            let end = memchr::memchr(b']', inner.as_bytes())?;
            (&inner[..end], &inner[end + 1..])
        }
        None => (line, ""),
    };
    let (ts, used) = time::parse_iso_prefix(ts_text, default_offset)?;
    let rest = if line.starts_with('[') { rest } else { &line[used..] };
    let rest = rest.trim_start();
    let (level, logger, message) = split_layout(rest)?;
    let mut event = Event {
        ts_ms: Some(ts),
        level,
        source: Source::Flask,
        parsed: true,
        message: Cow::Borrowed(message),
        ..Event::default()
    };
    if !logger.is_empty() {
        event.component_hint = None;
        event.fields.push(crate::event::Field { key: Cow::Borrowed("logger"), value: Cow::Borrowed(logger) });
    }
    // `key=value` pairs inside the message (video_id=..., error_code=...) are picked up too;
    // the message itself stays the whole text.
    let message_before = event.message.clone();
    seed_kv::split_pairs(message, &mut event);
    if event.field("reason").is_none() && event.field("msg").is_none() {
        event.message = message_before;
    }
    Some(event)
}

/// Returns (level, logger, message) for the supported layouts.
fn split_layout(rest: &str) -> Option<(Level, &str, &str)> {
    // `- logger - LEVEL - message`
    if let Some(after_dash) = rest.strip_prefix("- ") {
        let mut parts = after_dash.splitn(3, " - ");
        let logger = parts.next()?;
        let level = Level::parse(parts.next()?.trim())?;
        return Some((level, logger, parts.next().unwrap_or("")));
    }
    let space = rest.find(' ')?;
    let level = Level::parse(rest[..space].trim_end_matches(':'))?;
    let after = rest[space + 1..].trim_start();
    let after = after.strip_prefix("in ").unwrap_or(after);
    // logger is the word before the first ": "
    match after.find(": ") {
        Some(colon) if !after[..colon].contains(' ') => Some((level, &after[..colon], &after[colon + 2..])),
        _ => Some((level, "", after)),
    }
}

/// True when the line continues a Python traceback begun by an earlier event.
pub fn is_continuation(line: &str) -> bool {
    let b = line.as_bytes();
    match b.first() {
        None => false,
        Some(b' ') | Some(b'\t') => true,
        _ => {
            line.starts_with("Traceback (most recent call last)")
                || line.starts_with("During handling of the above exception")
                || line.starts_with("The above exception was the direct cause")
                || exception_line(line).is_some()
        }
    }
}

/// `package.ExceptionType: message` → (type, message).
pub fn exception_line(line: &str) -> Option<(&str, &str)> {
    let (name, message) = match line.find(": ") {
        Some(i) => (&line[..i], &line[i + 2..]),
        None => (line.trim_end(), ""),
    };
    let last = name.rsplit('.').next()?;
    let ok_chars = name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_');
    let looks_like_type = last.ends_with("Error")
        || last.ends_with("Exception")
        || last.ends_with("Interrupt")
        || last == "StopIteration"
        || last.ends_with("Exit");
    (ok_chars && looks_like_type && !name.is_empty()).then_some((name, message))
}

/// Joins one continuation line to `event`: the exception line sets `exception` and the message.
pub fn join_continuation<'a>(event: &mut Event<'a>, line: &'a str) {
    event.continuation_lines += 1;
    if let Some((exception, message)) = exception_line(line) {
        event.exception = Some(Cow::Borrowed(exception));
        if !message.is_empty() {
            event.message = Cow::Owned(format!("{exception}: {message}"));
            // ids inside the exception message (`video_id=...`) tie the traceback to its video
            if event.video_id.is_none()
                && let Some(id) = super::find_video_id(message)
            {
                event.video_id = Some(Cow::Borrowed(id));
            }
        } else {
            event.message = Cow::Borrowed(exception);
        }
        if event.level < Level::Error {
            event.level = Level::Error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flask_default_layout() {
        let e =
            parse("[2025-09-01 14:23:11,189] ERROR in app: Exception on /api/v1/generate [POST]", 0).expect("parses");
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.ts_ms, Some(1_756_736_591_189));
        assert_eq!(e.field("logger").as_deref(), Some("app"));
        assert_eq!(e.message, "Exception on /api/v1/generate [POST]");
    }

    #[test]
    fn other_layouts() {
        let e = parse("2025-09-01 14:23:11,189 ERROR in app: boom video_id=vid_1", 0).expect("parses");
        assert_eq!(e.video_id.as_deref(), Some("vid_1"));
        assert_eq!(e.message, "boom video_id=vid_1");
        let e = parse("2025-09-01 14:23:11,189 - foley.worker - WARNING - slow", 0).expect("parses");
        assert_eq!(e.level, Level::Warn);
        assert_eq!(e.field("logger").as_deref(), Some("foley.worker"));
        assert_eq!(e.message, "slow");
        assert!(parse("2025-09-01 14:23:11 [ERROR] video_id=x", 0).is_none(), "seed format is not python");
    }

    #[test]
    fn traceback_joins() {
        let mut e =
            parse("[2025-09-01 14:23:11,201] ERROR in app: Exception on /api/v1/generate [POST]", 0).expect("parses");
        let lines = [
            "Traceback (most recent call last):",
            "  File \"/srv/foley/app.py\", line 88, in generate",
            "    audio = pipeline.run(video, prompt)",
            "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.50 GiB (video_id=vid_7a3b9c)",
        ];
        for line in lines {
            assert!(is_continuation(line), "{line}");
            join_continuation(&mut e, line);
        }
        assert_eq!(e.continuation_lines, 4);
        assert_eq!(e.exception.as_deref(), Some("torch.cuda.OutOfMemoryError"));
        assert!(e.message.contains("CUDA out of memory"));
        assert_eq!(e.video_id.as_deref(), Some("vid_7a3b9c"));
        assert!(!is_continuation("[2025-09-01 14:23:12,000] INFO in app: next"));
        assert!(!is_continuation("Error while decoding stream"));
    }
}
