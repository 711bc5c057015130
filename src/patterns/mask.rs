//! Generic masking: the variable parts of a message (numbers, hex, UUIDs, IPs and ports, paths, URLs,
//! durations and sizes, quoted strings, `key=value` values, id-like tokens) become placeholders, with
//! no per-data-set tuning. The miner works on the masked tokens this module writes.

/// A number, a duration or a size with its unit (`1532`, `-3.5`, `2.4s`, `56GiB`, `91%`).
pub const NUMBER: &str = "<N>";
/// `0x` hexadecimal.
pub const HEX: &str = "<HEX>";
/// UUIDs, long hex runs and id-like tokens that mix letters and digits (`vid_7a3b9c`, `blk_-69522`).
pub const ID: &str = "<ID>";
/// An absolute or relative file path.
pub const PATH: &str = "<PATH>";
/// An URL (`scheme://…`).
pub const URL: &str = "<URL>";
/// An IPv4 or IPv6 address, with or without its port.
pub const IP: &str = "<IP>";
/// A quoted string.
pub const STRING: &str = "<STR>";
/// Any variable: a `key=value` value, or where two templates differ.
pub const ANY: &str = "<*>";

/// The longest message masked, in bytes; the rest is cut at a character boundary.
pub const MAX_MESSAGE: usize = 4096;
/// The most tokens a message is split into; later words are joined into the last token.
pub const MAX_TOKENS: usize = 128;

/// Masks `message` into `out` as space-separated tokens and records each token's byte range in `spans`.
/// Both are cleared first and reused, so that the hot path allocates nothing once they have grown.
pub fn mask_into(message: &str, out: &mut String, spans: &mut Vec<(u32, u32)>) {
    out.clear();
    spans.clear();
    let message = cut(message, MAX_MESSAGE);
    let mut rest = message;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if rest.is_empty() {
            break;
        }
        if !spans.is_empty() {
            out.push(' ');
        }
        let start = out.len();
        if spans.len() + 1 >= MAX_TOKENS {
            // the tail of a very long message: kept as one masked token
            out.push_str(ANY);
            spans.push((start as u32, out.len() as u32));
            break;
        }
        let word_end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
        let quoted = quoted_len(rest);
        let taken = if let Some(len) = quoted {
            let quote = &rest[..1];
            out.push_str(quote);
            out.push_str(STRING);
            out.push_str(quote);
            // punctuation glued after the closing quote (`'x',`) is kept
            let after_end = rest[len..].find(|c: char| c.is_ascii_whitespace()).map_or(rest.len(), |i| len + i);
            push_word(&rest[len..after_end], out);
            after_end
        } else {
            push_word(&rest[..word_end], out);
            word_end
        };
        spans.push((start as u32, out.len() as u32));
        rest = &rest[taken..];
    }
}

/// The masked text of a message, tokens separated by one space.
pub fn mask(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE));
    let mut spans = Vec::new();
    mask_into(message, &mut out, &mut spans);
    out
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The length of a quoted string at the start of `text` (`"a b"`, `'x'`), up to its closing quote,
/// when it closes before the message ends and the closing quote ends a word.
fn quoted_len(text: &str) -> Option<usize> {
    let quote = *text.as_bytes().first()?;
    if quote != b'"' && quote != b'\'' && quote != b'`' {
        return None;
    }
    let body = &text.as_bytes()[1..];
    let close = memchr::memchr(quote, body)?;
    if close == 0 {
        return None; // an empty string is kept as it is
    }
    let end = close + 2;
    match text.get(end..).and_then(|rest| rest.chars().next()) {
        Some(c) if c.is_ascii_alphanumeric() => None,
        _ => Some(end),
    }
}

/// Writes one whitespace-free word, masked: punctuation around it is kept and the core classified
/// whole (a number, an address, a path, an URL); otherwise the core is split at punctuation that
/// joins parts (`=`, `(`, `,`, `:` …) and each part is classified, so that `uid=0` becomes `uid=<N>`
/// and `LOGIN(uid=0)` becomes `LOGIN(uid=<N>)` while the words around a value stay.
fn push_word(word: &str, out: &mut String) {
    if word.is_empty() {
        return;
    }
    let bytes = word.as_bytes();
    let start = bytes.iter().position(|&c| is_core_start(c)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&c| is_core_end(c)).map_or(start, |i| i + 1).max(start);
    out.push_str(&word[..start]);
    let core = &word[start..end];
    if !core.bytes().any(|c| c.is_ascii_digit() || c == b'/' || c == b'\\') {
        // the common case: a plain word (no digit, no path) is a constant, and so are its parts
        out.push_str(core);
    } else if let Some(mask) = classify_whole(core) {
        out.push_str(mask);
    } else {
        let mut rest = core;
        while let Some(at) = rest.bytes().position(is_joint) {
            push_part(&rest[..at], out);
            out.push_str(&rest[at..at + 1]);
            rest = &rest[at + 1..];
        }
        push_part(rest, out);
    }
    out.push_str(&word[end..]);
}

fn push_part(part: &str, out: &mut String) {
    out.push_str(classify(part).unwrap_or(part));
}

/// Punctuation that joins the parts of a word (`key=value`, `f(x)`, `a,b`, `host:port`).
fn is_joint(c: u8) -> bool {
    matches!(c, b'=' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b';' | b':' | b'"' | b'\'' | b'|' | b'@' | b'#')
}

fn is_core_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'/' | b'-' | b'_' | b'~' | b'.' | b'+' | b'\\') || c >= 0x80
}

fn is_core_end(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'%' | b'=') || c >= 0x80
}

/// The mask for a part of a word: a whole-word mask, or `<ID>` for a token mixing letters and digits.
pub fn classify(word: &str) -> Option<&'static str> {
    if let Some(mask) = classify_whole(word) {
        return Some(mask);
    }
    if !word.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(if word.bytes().any(|c| c.is_ascii_alphabetic()) { ID } else { NUMBER })
}

/// The mask for a whole word that is one value (a number, an address, a path, an URL, a UUID or a
/// long hex run), or `None`.
fn classify_whole(word: &str) -> Option<&'static str> {
    let b = word.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut digits = 0usize;
    let mut letters = 0usize;
    let mut hex_letters = 0usize;
    let mut other = 0usize;
    for &c in b {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c.is_ascii_alphabetic() {
            letters += 1;
            if c.is_ascii_hexdigit() {
                hex_letters += 1;
            }
        } else {
            other += 1;
        }
    }
    if word.contains("://") {
        return Some(URL);
    }
    if is_path(word) {
        return Some(PATH);
    }
    if digits == 0 {
        return None;
    }
    if letters == 0 {
        if is_ipv4(word) {
            return Some(IP);
        }
        // 1532, -3.5, 1,024, 12:30:01, 2026-11-30, +8
        if b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b',' | b':' | b'-' | b'+' | b'/')) {
            return Some(NUMBER);
        }
        return None;
    }
    if (word.starts_with("0x") || word.starts_with("0X")) && b.len() > 2 && b[2..].iter().all(u8::is_ascii_hexdigit) {
        return Some(HEX);
    }
    if is_ipv6(word) {
        return Some(IP);
    }
    if with_unit(b) {
        return Some(NUMBER);
    }
    // UUIDs and hashes: hex digits and dashes only, with digits and hex letters, long enough
    if other == b.iter().filter(|&&c| c == b'-').count() && hex_letters == letters && b.len() >= 8 {
        return Some(ID);
    }
    None
}

fn is_path(word: &str) -> bool {
    let b = word.as_bytes();
    let slashes = b.iter().filter(|&&c| c == b'/').count();
    if b.len() < 2 || slashes == 0 && !(b.len() > 3 && b[1] == b':' && b[2] == b'\\') {
        return false;
    }
    if b[0] == b'/' || word.starts_with("./") || word.starts_with("../") || word.starts_with("~/") {
        return b.len() > 1;
    }
    // a/b/c (two slashes or more), not a fraction like 3/4 (left to numbers)
    slashes >= 2 && b.iter().any(u8::is_ascii_alphabetic) || b[1] == b':'
}

fn is_ipv4(word: &str) -> bool {
    // a.b.c.d or a.b.c.d:port
    let (address, port) = match word.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (word, None),
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let mut parts = 0;
    for part in address.split('.') {
        parts += 1;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    parts == 4
}

fn is_ipv6(word: &str) -> bool {
    let colons = word.bytes().filter(|&c| c == b':').count();
    (2..=8).contains(&colons) && word.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.' || c == b'%')
}

/// A number followed by a short unit: `2.4s`, `300ms`, `56GiB`, `91%`, `12KB/s`.
fn with_unit(b: &[u8]) -> bool {
    let number = b.iter().take_while(|c| c.is_ascii_digit() || matches!(c, b'.' | b',' | b'-' | b'+')).count();
    if number == 0 || !b[..number].iter().any(u8::is_ascii_digit) {
        return false;
    }
    let unit = &b[number..];
    const UNITS: &[&str] = &[
        "ns", "us", "µs", "ms", "s", "sec", "secs", "m", "min", "mins", "h", "hr", "hrs", "d", "days", "b", "kb", "mb",
        "gb", "tb", "kib", "mib", "gib", "tib", "k", "g", "t", "bytes", "bps", "kbps", "mbps", "gbps", "hz", "khz",
        "mhz", "ghz", "x", "px", "fps", "kb/s", "mb/s", "gb/s",
    ];
    UNITS.iter().any(|u| unit.eq_ignore_ascii_case(u.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_each_kind() {
        assert_eq!(mask("frame 1532 took 2.4s of 56GiB at 91%"), "frame <N> took <N> of <N> at <N>");
        assert_eq!(mask("at 0x55d5c8a3c2c0 and 0XFF"), "at <HEX> and <HEX>");
        assert_eq!(mask("id 550e8400-e29b-41d4-a716-446655440000"), "id <ID>");
        assert_eq!(mask("from 10.251.73.220:50010 and [173.234.31.186]"), "from <IP> and [<IP>]");
        assert_eq!(mask("peer fe80::1:2 ok"), "peer <IP> ok");
        assert_eq!(mask("open /data/in/x.mp4: denied"), "open <PATH>: denied");
        assert_eq!(mask("get https://x.example/a?b=1 failed"), "get <URL> failed");
        assert_eq!(mask("said \"hello there\", then 'x'"), "said \"<STR>\", then '<STR>'");
        assert_eq!(
            mask("retry=3 worker=gpu logname= uid=0 (uid=0) LOGIN(uid=0)"),
            "retry=<N> worker=gpu logname= uid=<N> (uid=<N>) LOGIN(uid=<N>)"
        );
        assert_eq!(mask("block blk_-6952295868487656571 for vid_7a3b9c"), "block <ID> for <ID>");
        assert_eq!(mask("(2.4s) took 300ms"), "(<N>) took <N>");
    }

    #[test]
    fn keeps_constants() {
        assert_eq!(mask("Invalid user webmaster from"), "Invalid user webmaster from");
        assert_eq!(mask("  spaced\tout  "), "spaced out");
        assert_eq!(mask("don't stop"), "don't stop");
        assert_eq!(mask(""), "");
        assert_eq!(mask("ä ö ü … ¿"), "ä ö ü … ¿");
    }

    #[test]
    fn spans_are_the_tokens() {
        let mut out = String::new();
        let mut spans = Vec::new();
        mask_into("a 12 b=c", &mut out, &mut spans);
        let tokens: Vec<&str> = spans.iter().map(|&(s, e)| &out[s as usize..e as usize]).collect();
        assert_eq!(tokens, ["a", "<N>", "b=c"]);
    }

    #[test]
    fn long_messages_are_bounded() {
        let long = "word ".repeat(10_000);
        let masked = mask(&long);
        assert!(masked.split(' ').count() <= MAX_TOKENS);
        assert!(masked.len() <= MAX_MESSAGE + ANY.len());
    }
}
