//! Timestamp parsing on the hot path: ISO-8601 / `YYYY-MM-DD HH:MM:SS[.,fff]` and the Nginx
//! `dd/Mon/yyyy:HH:MM:SS ±zzzz` form, to milliseconds since the epoch.
//!
//! Hand-written rather than chrono's `parse_from_str`: that one interprets a format string per call
//! and costs ~10x more, which matters at millions of lines a second. Dates are validated (month,
//! day of month, leap years); an impossible timestamp gives `None`, never a panic.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian); Howard Hinnant's algorithm.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Builds epoch milliseconds from validated parts; `None` for impossible dates or times.
#[allow(clippy::too_many_arguments)] // the parts of a civil time, in their natural order
pub fn epoch_ms(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
    offset_seconds: i64,
) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 60 allows a leap second; it is folded into the next minute.
    if hour > 23 || minute > 59 || second > 60 || millis > 999 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_seconds;
    Some(secs * 1000 + millis as i64)
}

/// Parses an ISO-8601-like timestamp at the start of `s`. Returns the time (ms) and the number of
/// bytes it used. Without a zone the time is taken at `default_offset_seconds` east of UTC.
pub fn parse_iso_prefix(s: &str, default_offset_seconds: i64) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b' ' && b[10] != b'T' {
        return None;
    }
    // consecutive lines almost always share the date: its day number is cached per thread
    let date_key = u128::from_le_bytes({
        let mut k = [0u8; 16];
        k[..10].copy_from_slice(&b[..10]);
        k
    });
    let cached = LAST_DATE.with(|c| c.get()).filter(|(k, _)| *k == date_key).map(|(_, d)| d);
    let (year, month, day) = match cached {
        Some(_) => (0, 1, 1),
        None => (digits(b, 0, 4)? as i64, digits(b, 5, 2)?, digits(b, 8, 2)?),
    };
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let mut i = 19;
    let mut millis = 0u32;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let mut offset = default_offset_seconds;
    if i < b.len() {
        match b[i] {
            b'Z' | b'z' => {
                offset = 0;
                i += 1;
            }
            b'+' | b'-' => {
                let sign = if b[i] == b'-' { -1 } else { 1 };
                let hh = digits(b, i + 1, 2);
                if let Some(hh) = hh {
                    let (mm, used) = if b.get(i + 3) == Some(&b':') {
                        (digits(b, i + 4, 2)?, 6)
                    } else {
                        (digits(b, i + 3, 2).unwrap_or(0), if digits(b, i + 3, 2).is_some() { 5 } else { 3 })
                    };
                    if hh > 23 || mm > 59 {
                        return None;
                    }
                    offset = sign * (hh as i64 * 3600 + mm as i64 * 60);
                    i += used;
                }
            }
            _ => {}
        }
    }
    let days = match cached {
        Some(days) => days,
        None => {
            if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
                return None;
            }
            let days = days_from_civil(year, month, day);
            LAST_DATE.with(|c| c.set(Some((date_key, days))));
            days
        }
    };
    if hour > 23 || minute > 59 || second > 60 || millis > 999 {
        return None;
    }
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset;
    Some((secs * 1000 + millis as i64, i))
}

thread_local! {
    /// The last valid `YYYY-MM-DD` seen (as bytes) and its day number.
    static LAST_DATE: std::cell::Cell<Option<(u128, i64)>> = const { std::cell::Cell::new(None) };
}

fn month_from_abbrev(m: &[u8]) -> Option<u32> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Parses Nginx's `$time_local`: `01/Sep/2025:14:23:11 +0000`.
pub fn parse_nginx_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let day = digits(b, 0, 2)?;
    let month = month_from_abbrev(&b[3..6])?;
    let year = digits(b, 7, 4)? as i64;
    let hour = digits(b, 12, 2)?;
    let minute = digits(b, 15, 2)?;
    let second = digits(b, 18, 2)?;
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let oh = digits(b, 22, 2)? as i64;
    let om = digits(b, 24, 2)? as i64;
    epoch_ms(year, month, day, hour, minute, second, 0, sign * (oh * 3600 + om * 60))
}

/// Parses a full timestamp string in any supported form, including epoch seconds or milliseconds.
pub fn parse_any(s: &str, default_offset_seconds: i64) -> Option<i64> {
    let s = s.trim();
    if let Some((ms, used)) = parse_iso_prefix(s, default_offset_seconds)
        && used == s.len()
    {
        return Some(ms);
    }
    if let Some(ms) = parse_nginx_time(s) {
        return Some(ms);
    }
    if let Ok(n) = s.parse::<f64>() {
        return epoch_number_to_ms(n);
    }
    None
}

/// Epoch seconds (with fraction) or milliseconds, told apart by magnitude.
pub fn epoch_number_to_ms(n: f64) -> Option<i64> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    if n > 1e11 {
        Some(n as i64) // already milliseconds
    } else {
        Some((n * 1000.0) as i64)
    }
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => format!("{ms}ms"),
    }
}

/// Formats epoch milliseconds as `HH:MM:SS` (UTC), for compact columns.
pub fn format_clock(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%H:%M:%S").to_string(),
        None => "--:--:--".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_format() {
        let (ms, used) = parse_iso_prefix("2025-09-01 14:23:11 [ERROR]", 0).expect("valid");
        assert_eq!(used, 19);
        assert_eq!(ms, 1_756_736_591_000);
    }

    #[test]
    fn fractions_zones_and_commas() {
        assert_eq!(parse_any("2025-09-01T14:23:11.5Z", 0), Some(1_756_736_591_500));
        assert_eq!(parse_any("2025-09-01 14:23:11,189", 0), Some(1_756_736_591_189));
        assert_eq!(parse_any("2025-09-01T22:23:11+08:00", 0), Some(1_756_736_591_000));
        assert_eq!(parse_any("2025-09-01T22:23:11.123456789+0800", 0), Some(1_756_736_591_123));
        // a zone-less time is taken at the configured offset
        assert_eq!(parse_any("2025-09-01 22:23:11", 8 * 3600), Some(1_756_736_591_000));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert_eq!(parse_any("2025-02-30 10:00:00", 0), None);
        assert_eq!(parse_any("2025-13-01 10:00:00", 0), None);
        assert_eq!(parse_any("2025-01-01 24:00:00", 0), None);
        assert!(parse_any("2024-02-29 10:00:00", 0).is_some());
        assert_eq!(parse_any("2023-02-29 10:00:00", 0), None);
        assert_eq!(parse_any("9999-99-99 99:99:99", 0), None);
    }

    #[test]
    fn nginx_time() {
        assert_eq!(parse_nginx_time("01/Sep/2025:14:23:11 +0000"), Some(1_756_736_591_000));
        assert_eq!(parse_nginx_time("01/Sep/2025:16:23:11 +0200"), Some(1_756_736_591_000));
        assert_eq!(parse_nginx_time("01/Foo/2025:14:23:11 +0000"), None);
    }

    #[test]
    fn epoch_numbers() {
        assert_eq!(parse_any("1756736591", 0), Some(1_756_736_591_000));
        assert_eq!(parse_any("1756736591123", 0), Some(1_756_736_591_123));
    }
}
