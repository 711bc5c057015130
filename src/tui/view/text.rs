//! Text that fits: cutting to a width with `…` (never silently), and wrapping onto more lines
//! (words kept whole where they fit, long ones — URLs — broken anywhere, nothing lost). Widths are
//! display columns, so wide characters (CJK in log messages) are counted as the terminal draws them.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display columns of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cuts `s` to at most `max` columns; a cut string ends in `…`.
pub fn fit(s: &str, max: usize) -> String {
    if s.len() <= max || width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` cut or padded to exactly `columns` columns.
pub fn pad(s: &str, columns: usize) -> String {
    let mut out = fit(s, columns);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', columns.saturating_sub(w)));
    out
}

/// Wraps `s` into lines of at most `max` columns: at spaces where possible, anywhere inside a word
/// longer than a line. Every character is kept (but the spaces a break replaces).
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in s.split(' ') {
        let w = width(word);
        let gap = usize::from(!line.is_empty());
        if used + gap + w <= max {
            if gap == 1 {
                line.push(' ');
            }
            line.push_str(word);
            used += gap + w;
            continue;
        }
        if w <= max {
            lines.push(std::mem::take(&mut line));
            line.push_str(word);
            used = w;
            continue;
        }
        // a word longer than a line: fill the current line, then break it anywhere
        if gap == 1 && used + 1 < max {
            line.push(' ');
            used += 1;
        } else if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > max {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis_by_display_width() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("显存不足错误", 5), "显存…");
        assert!(width(&fit("显存不足错误", 5)) <= 5);
        assert_eq!(pad("ab", 4), "ab  ");
    }

    #[test]
    fn wrap_keeps_every_character() {
        let url = "https://foley-debug.internal/jobs/vid_fa9b63/retry?request_id=req_2ae111cc";
        let lines = wrap(&format!("retry {url} now"), 20);
        assert!(lines.iter().all(|l| width(l) <= 20), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("retry{url}now"));
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
        assert_eq!(wrap("", 5), vec![""]);
    }
}
