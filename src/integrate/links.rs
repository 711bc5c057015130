//! Links: the retry link (a configurable template) and Kibana 8 Discover deep links, whose state
//! is rison-encoded in the URL fragment (`_g=(time:(from:'…',to:'…'))&_a=(index:…,query:(…))`).

use crate::clock::format_ms;
use crate::config::Links;

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fills the retry template: `{video_id}`, `{request_id}`, `{time}` (URL-encoded).
pub fn retry_link(template: &str, video_id: &str, request_id: Option<&str>, time_ms: Option<i64>) -> String {
    template
        .replace("{video_id}", &url_encode(video_id))
        .replace("{request_id}", &url_encode(request_id.unwrap_or("")))
        .replace("{time}", &url_encode(&time_ms.map(format_ms).unwrap_or_default()))
}

/// Rison-encodes a string: bare when it is a safe id, else quoted with `'` → `!'` and `!` → `!!`.
pub fn rison_string(s: &str) -> String {
    let first_ok = s.chars().next().is_some_and(|c| !(c.is_ascii_digit() || c == '-'));
    let safe = !s.is_empty()
        && first_ok
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '~' | '-'));
    if safe {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("!'"),
            '!' => out.push_str("!!"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Decodes a rison string (the inverse of [`rison_string`]); for tests.
pub fn rison_decode_string(s: &str) -> Option<String> {
    let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) else { return Some(s.to_string()) };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '!' => out.push(chars.next()?),
            '\'' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Encodes a URL state value as Kibana itself does (`encodeUriQuery`): `encodeURIComponent`, then
/// `@ : $ , ;` put back literal. Everything else outside `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is
/// percent-encoded as UTF-8, so `&`, `=`, `+`, `#`, `%` and spaces in a value cannot split the URL
/// or change on the way back.
fn fragment_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()@:$,;".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A KQL string literal: double-quoted, with `"` and `\` escaped.
pub fn kql_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Kibana 8 Discover URL for a KQL query over `[from_ms, to_ms]`; `None` without a Kibana URL.
pub fn kibana_discover(links: &Links, kql: &str, from_ms: i64, to_ms: i64) -> Option<String> {
    let base = links.kibana_url.trim_end_matches('/');
    if base.is_empty() {
        return None;
    }
    let g = format!("(time:(from:{},to:{}))", rison_string(&format_ms(from_ms)), rison_string(&format_ms(to_ms)));
    let a = format!("(index:{},query:(language:kuery,query:{}))", rison_string(&links.data_view), rison_string(kql));
    Some(format!("{base}/app/discover#/?_g={}&_a={}", fragment_encode(&g), fragment_encode(&a)))
}

/// The Discover link for one video, its failures ± 15 minutes (saturating, and within the years
/// 0000–9999, so that a time at the end of the range cannot wrap into a negative one).
pub fn kibana_for_video(links: &Links, video_id: &str, first_ms: i64, last_ms: i64) -> Option<String> {
    use crate::parse::time::clamp_time;
    let (from, to) = (clamp_time(first_ms.saturating_sub(900_000)), clamp_time(last_ms.saturating_add(900_000)));
    kibana_discover(links, &format!("video_id:{}", kql_quote(video_id)), from, to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rison_ids_and_quoting() {
        assert_eq!(rison_string("hunyuan-foley"), "hunyuan-foley");
        assert_eq!(rison_string("2025-09-01T14:00:00.000Z"), "'2025-09-01T14:00:00.000Z'");
        assert_eq!(rison_string("it's!"), "'it!'s!!'");
        assert_eq!(rison_string("-x"), "'-x'");
        assert_eq!(rison_string(""), "''");
        assert_eq!(rison_string("a b"), "'a b'");
    }

    #[test]
    fn discover_link_shape() {
        let links = Links { kibana_url: "https://kibana.example.com/".into(), ..Links::default() };
        let url = kibana_for_video(&links, "vid_7a3b9c", 1_756_736_591_000, 1_756_736_591_000).expect("configured");
        assert!(url.starts_with("https://kibana.example.com/app/discover#/?_g=(time:(from:'2025-09-01T14:08:11.000Z',to:'2025-09-01T14:38:11.000Z'))&_a=(index:hunyuan-foley,query:(language:kuery,query:'video_id:%22vid_7a3b9c%22'))"), "{url}");
        assert!(kibana_discover(&Links { kibana_url: String::new(), ..Links::default() }, "x", 0, 1).is_none());
    }

    #[test]
    fn times_at_the_ends_of_the_range_saturate() {
        let links = Links { kibana_url: "https://kibana.example.com".into(), ..Links::default() };
        let url = kibana_for_video(&links, "vid_1", i64::MAX, i64::MAX).expect("configured");
        assert!(url.contains("to:'9999-12-31T23:59:59.999Z'"), "{url}");
        assert!(!url.contains("ms'") && !url.contains(":'-"), "{url}");
        let url = kibana_for_video(&links, "vid_1", i64::MIN, i64::MIN).expect("configured");
        assert!(url.contains("from:'0000-01-01T00:00:00.000Z'"), "{url}");
    }

    #[test]
    fn retry_template() {
        let link =
            retry_link("https://x/jobs/{video_id}/retry?r={request_id}&t={time}", "vid_1&x", Some("req 2"), Some(0));
        assert_eq!(link, "https://x/jobs/vid_1%26x/retry?r=req%202&t=1970-01-01T00%3A00%3A00.000Z");
    }

    /// Decodes a fragment parameter as Kibana does: `+` is a space, then percent-decoding.
    fn kibana_param(url: &str, name: &str) -> String {
        let query = url.split_once("#/?").expect("a Discover fragment").1;
        let value = query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {url}"));
        let bytes = value.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("UTF-8")
    }

    /// A minimal rison reader (objects, quoted and bare strings), enough for Discover's state.
    fn rison_value(s: &str) -> (serde_json::Value, &str) {
        if let Some(mut rest) = s.strip_prefix('(') {
            let mut map = serde_json::Map::new();
            while !rest.starts_with(')') {
                let (key, after) = rison_value(rest);
                let after = after.strip_prefix(':').expect("a colon after a key");
                let (value, after) = rison_value(after);
                map.insert(key.as_str().expect("string key").to_string(), value);
                rest = after.strip_prefix(',').unwrap_or(after);
            }
            (serde_json::Value::Object(map), &rest[1..])
        } else if s.starts_with('\'') {
            let mut end = 1;
            let bytes = s.as_bytes();
            while bytes[end] != b'\'' {
                end += if bytes[end] == b'!' { 2 } else { 1 };
            }
            let decoded = rison_decode_string(&s[..=end]).expect("a valid rison string");
            (serde_json::Value::String(decoded), &s[end + 1..])
        } else {
            let end = s.find([':', ',', ')']).unwrap_or(s.len());
            (serde_json::Value::String(s[..end].to_string()), &s[end..])
        }
    }

    #[test]
    fn ampersands_and_pluses_survive_kibanas_decoding() {
        let links = Links { kibana_url: "https://kibana.example.com".into(), ..Links::default() };
        for id in ["vid_a&b=c", "vid_a+b", "vid a#b%20?x/y", "vid_'quoted'!", "vid_ü"] {
            let url = kibana_for_video(&links, id, 0, 0).expect("configured");
            assert!(!url.contains('+') && !url[url.find("_a=").expect("_a") + 3..].contains('&'), "{url}");
            let a = kibana_param(&url, "_a");
            let (state, rest) = rison_value(&a);
            assert!(rest.is_empty(), "the whole state was read: {rest}");
            assert_eq!(state["query"]["query"], format!("video_id:{}", kql_quote(id)), "{url}");
            assert_eq!(state["index"], "hunyuan-foley");
            let g = kibana_param(&url, "_g");
            let (time, _) = rison_value(&g);
            assert_eq!(time["time"]["from"], "1969-12-31T23:45:00.000Z");
        }
    }

    proptest! {
        #[test]
        fn any_video_id_comes_back_from_the_link(id in "\\PC{1,30}") {
            let links = Links { kibana_url: "https://k".into(), ..Links::default() };
            let url = kibana_for_video(&links, &id, 0, 0).expect("configured");
            let a = kibana_param(&url, "_a");
            let (state, _) = rison_value(&a);
            let expected = format!("video_id:{}", kql_quote(&id));
            prop_assert_eq!(state["query"]["query"].as_str(), Some(expected.as_str()));
        }

        #[test]
        fn rison_round_trips(s in ".*") {
            let encoded = rison_string(&s);
            prop_assert_eq!(rison_decode_string(&encoded), Some(s.clone()));
            // a quoted string has no unescaped quote or bang inside
            if encoded.starts_with('\'') {
                let inner = &encoded[1..encoded.len() - 1];
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    prop_assert!(c != '\'');
                    if c == '!' { prop_assert!(matches!(chars.next(), Some('!') | Some('\''))); }
                }
            }
        }
    }
}
