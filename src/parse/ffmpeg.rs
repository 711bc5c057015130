//! FFmpeg stderr from the video pre-processing module. Lines may carry the wrapper's prefix
//! (`2025-09-01 14:23:10.130 video_id=vid_x `) before ffmpeg's own text (`[hevc @ 0x55d5…] …`,
//! `Error while decoding stream …`, `Invalid data found when processing input`). The video id comes
//! from the prefix or from an input path such as `/data/in/vid_7a3b9c.mp4`.

use super::time;
use crate::event::{Event, Field, Level, Source};
use std::borrow::Cow;

/// Phrases that only ffmpeg prints at the start of a line.
const FFMPEG_STARTS: &[&str] = &[
    "Input #",
    "Output #",
    "Stream #",
    "Stream mapping:",
    "Duration: ",
    "Error while decoding stream",
    "Error while opening",
    "Invalid data found when processing input",
    "Conversion failed!",
    "frame=",
    "ffmpeg version",
    "Could not find codec parameters",
    "moov atom not found",
    "Unknown encoder",
    "Error opening input",
    "Error initializing",
];

/// Phrases that make an ffmpeg line an error.
const ERROR_WORDS: &[&str] =
    &["Error", "error", "Invalid", "failed", "not found", "Could not", "corrupt", "No such file", "Unknown encoder"];

pub fn parse(line: &str, default_offset: i64) -> Option<Event<'_>> {
    let mut rest = line;
    let mut ts = None;
    if let Some((ms, used)) = time::parse_iso_prefix(rest, default_offset) {
        ts = Some(ms);
        rest = rest[used..].trim_start();
    }
    let mut video_id = None;
    if let Some(after) = rest.strip_prefix("video_id=") {
        let end = after.find(' ').unwrap_or(after.len());
        video_id = Some(&after[..end]);
        rest = after[end..].trim_start();
    }
    let (context, text) = split_context(rest);
    if context.is_none() && !FFMPEG_STARTS.iter().any(|p| text.trim_start().starts_with(p)) {
        return None;
    }
    let text_trimmed = text.trim_start();
    let level = if ERROR_WORDS.iter().any(|w| text_trimmed.contains(w)) {
        Level::Error
    } else if text_trimmed.contains("deprecated") || text_trimmed.contains("Warning") {
        Level::Warn
    } else {
        Level::Info
    };
    let mut event = Event {
        ts_ms: ts,
        level,
        source: Source::Ffmpeg,
        parsed: true,
        message: Cow::Borrowed(text_trimmed),
        ..Event::default()
    };
    if let Some(ctx) = context {
        let codec = ctx.split(" @ ").next().unwrap_or(ctx);
        event.fields.push(Field { key: Cow::Borrowed("codec"), value: Cow::Borrowed(codec) });
    }
    let video_id = video_id.or_else(|| super::find_video_id(text_trimmed));
    if let Some(id) = video_id {
        event.video_id = Some(Cow::Borrowed(id));
        event.fields.push(Field { key: Cow::Borrowed("video_id"), value: Cow::Borrowed(id) });
    }
    Some(event)
}

/// Splits `[hevc @ 0x55d5c8a3c2c0] message` into the context and the message.
fn split_context(s: &str) -> (Option<&str>, &str) {
    if let Some(inner) = s.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        let ctx = &inner[..end];
        if ctx.contains(" @ 0x") || ctx.contains(" @ 0X") {
            return (Some(ctx), inner[end + 1..].trim_start());
        }
    }
    (None, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_error_with_prefix() {
        let e = parse(
            "2025-09-01 14:23:10.130 video_id=vid_7a3b9c [hevc @ 0x55d5c8a3c2c0] Error while decoding stream #0:0: Invalid data found when processing input",
            0,
        )
        .expect("parses");
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.video_id.as_deref(), Some("vid_7a3b9c"));
        assert_eq!(e.field("codec").as_deref(), Some("hevc"));
        assert_eq!(e.ts_ms, Some(1_756_736_590_130));
    }

    #[test]
    fn bare_ffmpeg_lines() {
        let e = parse("Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/data/in/vid_00ff11.mp4':", 0).expect("parses");
        assert_eq!(e.video_id.as_deref(), Some("vid_00ff11"));
        assert_eq!(e.level, Level::Info);
        assert_eq!(e.ts_ms, None);
        let e = parse("Invalid data found when processing input", 0).expect("parses");
        assert_eq!(e.level, Level::Error);
        assert!(parse("just some words", 0).is_none());
        assert!(parse("[ERROR] not ffmpeg", 0).is_none());
    }
}
