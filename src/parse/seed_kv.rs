//! The inference service's format from the seed: `TIMESTAMP [LEVEL] key=value key="quoted \"value\""`.
//! Any key order; free words between pairs are kept as part of the message; values with units are
//! normalised by [`super::fields`]. Borrows from the line; only quoted values with escapes allocate.

use super::{fields, time};
use crate::event::{Event, Level, Source};
use std::borrow::Cow;

/// Parses one line, or `None` if it is not in this format.
pub fn parse<'a>(line: &'a str, default_offset: i64) -> Option<Event<'a>> {
    let (ts, used) = time::parse_iso_prefix(line, default_offset)?;
    let rest = line[used..].trim_start();
    let bracketed = rest.starts_with('[');
    let (level, content) = split_level(rest)?;
    let mut event = Event {
        ts_ms: Some(ts),
        level,
        source: Source::Inference,
        parsed: true,
        message: Cow::Borrowed(content),
        ..Event::default()
    };
    // `[LEVEL]` is the seed's grok pattern; a bare level must be followed by key=value pairs, so that
    // Python's `TIME LEVEL logger: message` is left to its own parser
    if !bracketed && !content.split(' ').next().is_some_and(|w| w.contains('=')) {
        return None;
    }
    split_pairs(content, &mut event);
    fields::finish(&mut event);
    Some(event)
}

/// `[ERROR] rest` or `ERROR rest`.
fn split_level(s: &str) -> Option<(Level, &str)> {
    if let Some(inner) = s.strip_prefix('[') {
        let end = inner.bytes().take(12).position(|c| c == b']')?;
        let level = Level::parse(inner[..end].trim())?;
        Some((level, inner[end + 1..].trim_start()))
    } else {
        let end = memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len());
        let level = Level::parse(&s[..end])?;
        Some((level, s[end..].trim_start()))
    }
}

/// Reads the `key=value` pairs of `content` into the event's typed slots and keeps the text as the
/// event's lazily split fields. Returns the number of pairs.
pub fn split_pairs<'a>(content: &'a str, event: &mut Event<'a>) -> usize {
    let mut n = 0;
    for (key, value) in pairs(content) {
        fields::apply_typed(event, key, &value);
        n += 1;
    }
    event.kv = content;
    n
}

/// Iterates the `key=value` pairs of a text (values optionally double-quoted with backslash
/// escapes; free words between pairs are skipped). Only quoted values with escapes allocate.
pub fn pairs(content: &str) -> Pairs<'_> {
    Pairs { text: content, pos: 0 }
}

pub struct Pairs<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let content = self.text;
        let b = content.as_bytes();
        let mut i = self.pos;
        while i < b.len() {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            let start = i;
            i = find_either(b, i, b'=', b' ');
            if i >= b.len() || b[i] == b' ' || i == start {
                // a free word
                i = find_either(b, i, b' ', b' ');
                continue;
            }
            let key = &content[start..i];
            i += 1; // '='
            let value: Cow<'a, str>;
            if i < b.len() && b[i] == b'"' {
                i += 1;
                let vstart = i;
                let mut escaped = false;
                loop {
                    i = find_either(b, i, b'"', b'\\');
                    if i < b.len() && b[i] == b'\\' {
                        escaped = true;
                        i += 2;
                        continue;
                    }
                    break;
                }
                let vend = i.min(b.len());
                let raw = &content[vstart..vend];
                value = if escaped { Cow::Owned(unescape(raw)) } else { Cow::Borrowed(raw) };
                i = (i + 1).min(b.len());
            } else {
                let vstart = i;
                i = find_either(b, i, b' ', b' ');
                value = Cow::Borrowed(&content[vstart..i]);
            }
            self.pos = i;
            return Some((key, value));
        }
        self.pos = b.len();
        None
    }
}

/// Position of the first `c1` or `c2` at or after `from` (or the length). Eight bytes at a time
/// (SWAR): keys and values are 5–40 bytes, too short for a memchr call to pay off and long enough
/// for a byte loop to dominate the profile.
#[inline]
fn find_either(b: &[u8], from: usize, c1: u8, c2: u8) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (m1, m2) = (LO * c1 as u64, LO * c2 as u64);
    let mut i = from;
    while i + 8 <= b.len() {
        let Ok(chunk) = <[u8; 8]>::try_from(&b[i..i + 8]) else { break };
        let word = u64::from_le_bytes(chunk);
        let (x1, x2) = (word ^ m1, word ^ m2);
        // a zero byte in x1 or x2 marks a match; the lowest flagged byte is exact
        let found = (x1.wrapping_sub(LO) & !x1 & HI) | (x2.wrapping_sub(LO) & !x2 & HI);
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i] != c1 && b[i] != c2 {
        i += 1;
    }
    i.min(b.len())
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_error_line() {
        let e = parse(
            r#"2025-09-01 14:23:11 [ERROR] video_id=vid_7a3b9c inference_time=2.4s error_code=MODEL_INFER_FAIL reason="CUDA out of memory""#,
            0,
        )
        .expect("parses");
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.video_id.as_deref(), Some("vid_7a3b9c"));
        assert_eq!(e.error_code.as_deref(), Some("MODEL_INFER_FAIL"));
        assert_eq!(e.latency_ms, Some(2400.0));
        assert_eq!(e.message, "CUDA out of memory");
        assert!(e.job_outcome);
        assert!(matches!(e.field("reason"), Some(Cow::Borrowed(_))), "quoted value without escapes borrows");
    }

    #[test]
    fn seed_info_line_any_order_and_units() {
        let e = parse(
            "2025-09-01T14:23:15.250Z INFO audio_gen_success=True duration=120s video_id=vid_d2e4f1 gpu_mem=56GiB gpu_util=91%",
            0,
        )
        .expect("parses");
        assert_eq!(e.level, Level::Info);
        assert_eq!(e.ts_ms, Some(1_756_736_595_250));
        assert_eq!(e.video_id.as_deref(), Some("vid_d2e4f1"));
        assert_eq!(e.gpu_mem_bytes, Some(56.0 * 1024f64.powi(3)));
        assert_eq!(e.gpu_util_pct, Some(91.0));
        assert!(e.job_outcome);
        assert_eq!(e.field("duration").as_deref(), Some("120s"));
    }

    #[test]
    fn escaped_quotes_and_empty_values() {
        let e = parse(r#"2025-09-01 14:23:11 [WARN] prompt="say \"hi\"" error_code= reason="""#, 0).expect("parses");
        assert_eq!(e.field("prompt").as_deref(), Some("say \"hi\""));
        assert_eq!(e.error_code, None, "an empty error_code is no error code");
        assert_eq!(e.field("reason").as_deref(), Some(""));
    }

    #[test]
    fn unterminated_quote_does_not_panic() {
        let e = parse(r#"2025-09-01 14:23:11 [ERROR] reason="never closed \"#, 0).expect("parses");
        assert_eq!(e.level, Level::Error);
    }

    proptest::proptest! {
        #[test]
        fn find_either_matches_a_plain_scan(bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', b'=', b' ', b'"', b'\\', 0xff]), 0..40), from in 0usize..40) {
            let from = from.min(bytes.len());
            let plain = bytes[from..].iter().position(|c| *c == b'=' || *c == b' ').map_or(bytes.len(), |p| from + p);
            proptest::prop_assert_eq!(find_either(&bytes, from, b'=', b' '), plain);
        }
    }

    #[test]
    fn rejects_other_formats() {
        assert!(parse("2025-09-01 14:23:11,189 ERROR in app: boom", 0).is_none());
        assert!(parse("hello world", 0).is_none());
        assert!(parse("2025-02-30 14:23:11 [ERROR] x=1", 0).is_none(), "impossible date");
    }
}
