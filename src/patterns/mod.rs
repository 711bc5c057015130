//! Message templates: numbers, ids, hex, paths and quoted values masked, so that unknown errors that
//! differ only in their variables group together (`vocoder produced NaN at frame <N>`).

/// Masks the variable parts of a message. Words are classified one at a time; punctuation around a
/// word is kept so that the template stays readable.
pub fn template(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, word) in message.split(' ').filter(|w| !w.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let start = word.find(|c: char| c.is_alphanumeric() || c == '/' || c == '-' || c == '_').unwrap_or(word.len());
        let end = word
            .rfind(|c: char| c.is_alphanumeric() || c == '/' || c == '_')
            .map(|i| i + word[i..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(start)
            .max(start);
        out.push_str(&word[..start]);
        let core = &word[start..end];
        match classify(core) {
            Some(mask) => out.push_str(mask),
            None => match core.split_once('=') {
                // key=value: keep the key, mask the value
                Some((key, value)) if !key.is_empty() => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(classify(value).unwrap_or(if value.is_empty() { "" } else { "<*>" }));
                }
                _ => out.push_str(core),
            },
        }
        out.push_str(&word[end..]);
    }
    out
}

/// The template an unknown error is grouped by: `CODE: masked message`, or `[source] masked message`
/// without a code; terminal-safe and capped. Shared by the statistics and the documents `ship` writes.
pub fn unknown_template(event: &crate::event::Event<'_>) -> String {
    let masked = template(&event.message);
    let text = match event.error_code.as_deref() {
        Some(code) => format!("{code}: {masked}"),
        None => format!("[{}] {masked}", event.source.as_str()),
    };
    crate::text::sanitize_owned(&text, 512)
}

fn classify(word: &str) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    let b = word.as_bytes();
    if b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b',' | b':' | b'-' | b'+'))
        && b.iter().any(u8::is_ascii_digit)
    {
        return Some("<N>");
    }
    // a number with a unit: 2.4s, 300ms, 56GiB, 91%
    let digits = b.iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
    if digits > 0 && b[digits..].iter().all(u8::is_ascii_alphabetic) && b.len() - digits <= 3 {
        return Some("<N>");
    }
    if (word.starts_with("0x") || word.starts_with("0X")) && b.len() > 2 && b[2..].iter().all(u8::is_ascii_hexdigit) {
        return Some("<HEX>");
    }
    if word.contains('/') && (word.starts_with('/') || word.starts_with("./") || word.contains("://")) {
        return Some("<PATH>");
    }
    // ids: prefix_hex (vid_7a3b9c, req_0011aabb), uuids, long hex
    let hexish = |s: &str| {
        s.len() >= 6 && s.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') && s.bytes().any(|c| c.is_ascii_digit())
    };
    if let Some((_, tail)) = word.split_once('_')
        && hexish(tail)
    {
        return Some("<ID>");
    }
    if hexish(word) {
        return Some("<ID>");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_variables() {
        assert_eq!(template("vocoder produced NaN at frame 1532"), "vocoder produced NaN at frame <N>");
        assert_eq!(template("failed for vid_7a3b9c at 0x55d5c8a3c2c0 (2.4s)"), "failed for <ID> at <HEX> (<N>)");
        assert_eq!(template("cannot open /data/in/x.mp4: denied"), "cannot open <PATH>: denied");
        assert_eq!(template("retry=3 worker=gpu-2"), "retry=<N> worker=<*>");
        assert_eq!(template("id 550e8400-e29b-41d4-a716-446655440000"), "id <ID>");
    }

    #[test]
    fn same_shape_same_template() {
        assert_eq!(template("frame 1 of vid_aaaaa1"), template("frame 99 of vid_bbbbb2"));
    }

    #[test]
    fn odd_text_is_kept() {
        assert_eq!(template(""), "");
        assert_eq!(template("ä ö ü … ¿"), "ä ö ü … ¿");
    }
}
