//! Makes outside text terminal-safe: the one sanitiser every log- or server-supplied string passes
//! through where it enters the app state (never where it is drawn).
//!
//! Escape sequences (CSI, OSC — including OSC 52 — DCS, …), C0 and C1 controls, DEL and the bidi
//! overrides used in "Trojan Source" attacks are shown escaped (`\x1b`, `\u{202e}`), tabs are
//! expanded to spaces and invalid UTF-8 is replaced with U+FFFD. The result never contains a byte
//! a terminal would interpret.

use std::borrow::Cow;

/// Tab stops are every this many columns.
pub const TAB_WIDTH: usize = 4;

/// True when `c` must not reach a terminal as-is.
#[inline]
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // bidi embeddings, overrides and isolates (Trojan Source)
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{061c}'
        // line/paragraph separators break layout like a newline
        | '\u{2028}' | '\u{2029}'
        // zero-width characters: `vid_a\u{200b}b` must not pass for `vid_ab`
        | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

/// Sanitises text line by line, keeping its line breaks (a parser's multi-line message).
pub fn sanitize_lines(s: &str) -> String {
    s.lines().map(|l| sanitize(l).into_owned()).collect::<Vec<_>>().join("\n")
}

/// A path as terminal-safe text (file names can hold escape sequences too).
pub fn path_text(path: &std::path::Path) -> String {
    sanitize(&path.to_string_lossy()).into_owned()
}

/// Sanitises text that is already valid UTF-8. Borrows when nothing needs changing (the common case).
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut column = 0usize;
    for c in s.chars() {
        if c == '\t' {
            let spaces = TAB_WIDTH - (column % TAB_WIDTH);
            out.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else if is_unsafe_char(c) {
            let escaped = escape_char(c);
            column += escaped.len();
            out.push_str(&escaped);
        } else {
            out.push(c);
            column += 1;
        }
    }
    Cow::Owned(out)
}

/// Sanitises raw bytes: invalid UTF-8 becomes U+FFFD, then [`sanitize`].
pub fn sanitize_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => sanitize(s),
        Cow::Owned(s) => Cow::Owned(sanitize(&s).into_owned()),
    }
}

/// Sanitises into an owned string, truncated to at most `max_chars` characters with a marker.
pub fn sanitize_owned(s: &str, max_chars: usize) -> String {
    let clean = sanitize(s);
    if clean.chars().count() <= max_chars {
        return clean.into_owned();
    }
    let mut out: String = clean.chars().take(max_chars).collect();
    out.push_str(" …[truncated]");
    out
}

fn escape_char(c: char) -> String {
    match c {
        '\u{1b}' => "\\e".to_string(),
        '\n' => "\\n".to_string(),
        '\r' => "\\r".to_string(),
        '\0' => "\\0".to_string(),
        c if (c as u32) < 0x100 => format!("\\x{:02x}", c as u32),
        c => format!("\\u{{{:x}}}", c as u32),
    }
}

/// True when the text holds nothing a terminal would interpret. Used by tests and debug asserts.
pub fn is_terminal_safe(s: &str) -> bool {
    !s.chars().any(is_unsafe_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("plain text"), Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_are_shown_not_interpreted() {
        let s = sanitize("a\x1b[31mred\x1b]52;c;aGk=\x07 \u{202e}evil\u{9b}");
        assert!(is_terminal_safe(&s));
        assert_eq!(s, "a\\e[31mred\\e]52;c;aGk=\\x07 \\u{202e}evil\\x9b");
    }

    #[test]
    fn zero_width_characters_are_shown() {
        assert_eq!(sanitize("vid_a\u{200b}b"), "vid_a\\u{200b}b");
        for c in ['\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}'] {
            assert!(!is_terminal_safe(&format!("a{c}b")), "{c:?}");
        }
        assert_eq!(path_text(std::path::Path::new("x\u{1b}]52;c;aGk=\u{7}.log")), "x\\e]52;c;aGk=\\x07.log");
    }

    #[test]
    fn tabs_expand_to_the_next_stop() {
        assert_eq!(sanitize("ab\tc"), "ab  c");
        assert_eq!(sanitize("\tx"), "    x");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(sanitize_bytes(b"ok\xff\x00"), "ok\u{fffd}\\0");
    }

    #[test]
    fn truncation_is_marked() {
        assert_eq!(sanitize_owned("abcdef", 3), "abc …[truncated]");
    }
}
