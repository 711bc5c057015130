//! `key=value` text, the seed's log format: iterating the pairs of a text (values optionally
//! double-quoted with backslash escapes) without allocating. The event model reads its lazily
//! stored fields through it, so it depends on nothing but the standard library.

use std::borrow::Cow;

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
pub(crate) fn find_either(b: &[u8], from: usize, c1: u8, c2: u8) -> usize {
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

pub(crate) fn unescape(raw: &str) -> String {
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
