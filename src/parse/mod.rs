//! Parsing: one module per log format, a detector that picks the format of a file from a sample of
//! its lines, and a per-line dispatcher that falls back to the other formats (mixed input) and then
//! to an unparsed event, so that no line is ever dropped.

pub mod ffmpeg;
pub mod fields;
pub mod json;
pub mod nginx;
pub mod python;
pub mod seed_kv;
pub mod time;
pub mod units;

use crate::event::Event;
use serde::{Deserialize, Serialize};

/// The formats the service's sources write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `TIMESTAMP [LEVEL] key=value …` (inference service).
    SeedKv,
    /// JSON lines (python-json-logger, Docker json-file, Kubernetes events).
    Json,
    /// Nginx combined access log with request time.
    Nginx,
    /// Flask / Python logging with tracebacks.
    Python,
    /// FFmpeg stderr.
    Ffmpeg,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::SeedKv, Format::Python, Format::Nginx, Format::Ffmpeg, Format::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::SeedKv => "seed_kv",
            Format::Json => "json",
            Format::Nginx => "nginx",
            Format::Python => "python",
            Format::Ffmpeg => "ffmpeg",
        }
    }

    pub fn parse_name(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Parses `line` as `format`, or `None` if it does not fit.
#[inline]
pub fn parse_as(format: Format, line: &str, default_offset: i64) -> Option<Event<'_>> {
    match format {
        Format::SeedKv => seed_kv::parse(line, default_offset),
        Format::Python => python::parse(line, default_offset),
        Format::Nginx => nginx::parse(line),
        Format::Ffmpeg => ffmpeg::parse(line, default_offset),
        Format::Json => {
            if line.as_bytes().first() == Some(&b'{') {
                json::parse(line, default_offset)
            } else {
                None
            }
        }
    }
}

/// Tries the line formats except JSON (used for text found inside Docker JSON lines).
pub fn parse_known(line: &str, default_offset: i64) -> Option<Event<'_>> {
    [Format::SeedKv, Format::Python, Format::Nginx, Format::Ffmpeg]
        .into_iter()
        .find_map(|f| parse_as(f, line, default_offset))
}

/// Per-line parser for one input: the detected (or configured) format first, then the others.
#[derive(Debug, Clone, Copy)]
pub struct LineParser {
    pub preferred: Option<Format>,
    pub default_offset: i64,
}

impl LineParser {
    pub fn new(preferred: Option<Format>, default_offset: i64) -> LineParser {
        LineParser { preferred, default_offset }
    }

    /// Always returns an event: an unparsed one when no format fits.
    #[inline]
    pub fn parse<'a>(&self, line: &'a str) -> Event<'a> {
        if self.preferred == Some(Format::SeedKv) {
            // the hot path: the event is built straight into the return slot, not moved out of an
            // `Option` (see `seed_kv::build`)
            if let Some(header) = seed_kv::header(line, self.default_offset) {
                return seed_kv::build(header);
            }
        } else if let Some(format) = self.preferred
            && let Some(event) = parse_as(format, line, self.default_offset)
        {
            return event;
        }
        for format in Format::ALL {
            if Some(format) == self.preferred {
                continue;
            }
            if let Some(event) = parse_as(format, line, self.default_offset) {
                return event;
            }
        }
        Event::unparsed(line)
    }
}

/// Picks the format that parses most of the sample lines (at least one); `None` if none fits.
pub fn detect<'a>(sample: impl IntoIterator<Item = &'a str>, default_offset: i64) -> Option<Format> {
    let mut scores = [0usize; 5];
    for line in sample.into_iter().filter(|l| !l.trim().is_empty()).take(200) {
        if python::is_continuation(line) {
            continue;
        }
        for (i, format) in Format::ALL.into_iter().enumerate() {
            if parse_as(format, line, default_offset).is_some() {
                scores[i] += 1;
            }
        }
    }
    let (best, score) = scores.iter().enumerate().max_by_key(|(i, s)| (**s, std::cmp::Reverse(*i)))?;
    (*score > 0).then(|| Format::ALL[best])
}

/// Finds a video id in free text: the value of `video_id=` or a `vid_…` token.
pub fn find_video_id(text: &str) -> Option<&str> {
    let id_end =
        |s: &str| s.bytes().position(|c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-')).unwrap_or(s.len());
    if let Some(at) = memchr::memmem::find(text.as_bytes(), b"video_id=") {
        let rest = &text[at + 9..];
        let end = id_end(rest);
        if end > 0 {
            return Some(&rest[..end]);
        }
    }
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = memchr::memmem::find(&bytes[from..], b"vid_") {
        let at = from + pos;
        let boundary = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let rest = &text[at..];
        let end = id_end(rest);
        if boundary && end > 4 {
            return Some(&rest[..end]);
        }
        from = at + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        let cases: [(&str, Format); 5] = [
            ("2025-09-01 14:23:11 [ERROR] video_id=vid_7a3b9c error_code=MODEL_INFER_FAIL", Format::SeedKv),
            ("[2025-09-01 14:23:11,189] ERROR in app: Exception on /x [POST]", Format::Python),
            (r#"1.2.3.4 - - [01/Sep/2025:14:23:11 +0000] "GET / HTTP/1.1" 200 2 "-" "c" 0.001"#, Format::Nginx),
            ("[hevc @ 0x55d5c8a3c2c0] Error while decoding stream #0:0", Format::Ffmpeg),
            (r#"{"level":"info","message":"x"}"#, Format::Json),
        ];
        for (line, format) in cases {
            assert_eq!(detect([line], 0), Some(format), "{line}");
        }
        assert_eq!(detect(["nothing here"], 0), None);
    }

    #[test]
    fn mixed_lines_fall_back() {
        let parser = LineParser::new(Some(Format::SeedKv), 0);
        let e = parser.parse(r#"{"levelname":"ERROR","message":"x"}"#);
        assert!(e.parsed);
        let e = parser.parse("garbage \u{1b}[31m line");
        assert!(!e.parsed);
        assert_eq!(e.message, "garbage \u{1b}[31m line", "unparsed lines are kept whole");
    }

    #[test]
    fn video_ids_in_text() {
        assert_eq!(find_video_id("from '/data/in/vid_7a3b9c.mp4':"), Some("vid_7a3b9c"));
        assert_eq!(find_video_id("x video_id=abc-1 y"), Some("abc-1"));
        assert_eq!(find_video_id("covid_19 vid_"), None);
    }
}
