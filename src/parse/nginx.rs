//! Nginx access log: the combined format plus a trailing `$request_time` (seconds):
//! `ip - user [01/Sep/2025:14:23:11 +0000] "POST /path?video_id=v HTTP/1.1" 500 187 "ref" "agent" 2.512`.
//! Status, path, the `video_id` query parameter and the latency become typed fields.

use super::{fields, time, units};
use crate::event::{Event, Level, Source};
use std::borrow::Cow;

pub fn parse(line: &str) -> Option<Event<'_>> {
    let b = line.as_bytes();
    let open = memchr::memchr(b'[', b)?;
    // the remote address and user come before the bracket and contain no quotes
    if open == 0 || memchr::memchr(b'"', &b[..open]).is_some() {
        return None;
    }
    let close = open + memchr::memchr(b']', &b[open..])?;
    let ts = time::parse_nginx_time(&line[open + 1..close])?;
    let after = &line[close + 1..];
    let q1 = memchr::memchr(b'"', after.as_bytes())?;
    let rest = &after[q1 + 1..];
    let q2 = memchr::memchr(b'"', rest.as_bytes())?;
    let request = &rest[..q2];
    let tail = rest[q2 + 1..].trim_start();
    let mut parts = tail.splitn(3, ' ');
    let status: u16 = parts.next()?.parse().ok()?;
    let bytes = parts.next().unwrap_or("-");
    let remainder = parts.next().unwrap_or("");

    let mut event = Event {
        ts_ms: Some(ts),
        level: match status {
            500..=599 => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        },
        source: Source::Nginx,
        parsed: true,
        message: Cow::Borrowed(request),
        http_status: Some(status),
        ..Event::default()
    };
    let mut req = request.split(' ');
    let method = req.next().unwrap_or("");
    let target = req.next().unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    event.fields.push(field("remote_addr", line[..open].split(' ').next().unwrap_or("")));
    event.fields.push(field("method", method));
    event.fields.push(field("path", path));
    event.fields.push(field("status", &tail[..tail.find(' ').unwrap_or(tail.len())]));
    event.fields.push(field("bytes", bytes));
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=')
            && (k == "video_id" || k == "request_id")
        {
            fields::apply_field(&mut event, Cow::Borrowed(k), Cow::Borrowed(v));
        }
    }
    // after the two quoted strings (referer, agent) comes the request time
    if let Some(last_quote) = remainder.rfind('"') {
        let trailing = remainder[last_quote + 1..].trim();
        if let Some(first) = trailing.split(' ').next()
            && let Some(ms) = units::duration_ms(first, 1000.0)
        {
            event.latency_ms = Some(ms);
            event.fields.push(field("request_time", first));
        }
    }
    Some(event)
}

fn field<'a>(key: &'static str, value: &'a str) -> crate::event::Field<'a> {
    crate::event::Field { key: Cow::Borrowed(key), value: Cow::Borrowed(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_with_request_time() {
        let e = parse(r#"10.0.3.17 - - [01/Sep/2025:14:23:11 +0000] "POST /api/v1/generate?video_id=vid_7a3b9c HTTP/1.1" 500 187 "-" "foley-client/1.4" 2.512"#)
            .expect("parses");
        assert_eq!(e.http_status, Some(500));
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.video_id.as_deref(), Some("vid_7a3b9c"));
        assert_eq!(e.latency_ms, Some(2512.0));
        assert_eq!(e.field("path").as_deref(), Some("/api/v1/generate"));
        assert_eq!(e.ts_ms, Some(1_756_736_591_000));
        assert!(e.is_error());
    }

    #[test]
    fn plain_combined_and_odd_requests() {
        let e = parse(r#"::1 - bob [01/Sep/2025:14:23:11 +0200] "GET /healthz HTTP/1.1" 200 2 "-" "curl""#)
            .expect("parses");
        assert_eq!(e.latency_ms, None);
        assert_eq!(e.level, Level::Info);
        let e =
            parse(r#"1.2.3.4 - - [01/Sep/2025:14:23:11 +0000] "\x16\x03\x01" 400 0 "-" "-" 0.000"#).expect("parses");
        assert_eq!(e.http_status, Some(400));
        assert!(parse(r#"1.2.3.4 - - [01/Sep/2025:14:23:11 +0000] "GET /" abc 0"#).is_none());
        assert!(parse("[hevc @ 0x1] error").is_none());
    }
}
