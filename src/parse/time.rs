//! Timestamp parsing on the hot path: ISO-8601 / `YYYY-MM-DD HH:MM:SS[.,fff]` and the Nginx
//! `dd/Mon/yyyy:HH:MM:SS ±zzzz` form, to milliseconds since the epoch; epoch numbers in seconds,
//! milliseconds, microseconds or nanoseconds, told apart by magnitude ([`epoch_unit`]); and the
//! plausibility check that marks times far in the future or before 1990 as suspect
//! ([`TimeLimits`]), so that one bad line can neither anchor a window nor stretch the time axis.
//!
//! Hand-written rather than chrono's `parse_from_str`: that one interprets a format string per call
//! and costs ~10x more, which matters at millions of lines a second. Dates are validated (month,
//! day of month, leap years), zone offsets are at most ±14:00 (the widest in use); an impossible
//! timestamp gives `None`, never a panic. Every result lies in `MIN_TIME_MS..=MAX_TIME_MS` (years
//! 0000 to 9999, give or take the zone), so arithmetic on times has room to spare.

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

/// Earliest time any reader returns: 0000-01-01T00:00:00Z.
pub const MIN_TIME_MS: i64 = -62_167_219_200_000;
/// Latest time any reader returns: 9999-12-31T23:59:59.999Z. Epoch numbers beyond it saturate here.
pub const MAX_TIME_MS: i64 = 253_402_300_799_999;
/// Widest zone offset accepted (UTC+14:00, Kiribati; the most negative in use is −12:00).
pub const MAX_OFFSET_SECONDS: i64 = 14 * 3600;

/// Clamps a time into `MIN_TIME_MS..=MAX_TIME_MS` (for arithmetic results shown or sent on).
pub fn clamp_time(ms: i64) -> i64 {
    ms.clamp(MIN_TIME_MS, MAX_TIME_MS)
}

/// A zone offset from its sign, hours and minutes; `None` beyond ±14:00 or with minutes over 59.
#[inline]
fn zone_offset(sign: i64, hours: u32, minutes: u32) -> Option<i64> {
    let seconds = hours as i64 * 3600 + minutes as i64 * 60;
    (minutes <= 59 && seconds <= MAX_OFFSET_SECONDS).then_some(sign * seconds)
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
                    offset = zone_offset(sign, hh, mm)?;
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

/// Parses Nginx's `$time_local`: `01/Sep/2025:14:23:11 +0000`. Offsets beyond ±14:00 are refused.
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
    let offset = zone_offset(sign, digits(b, 22, 2)?, digits(b, 24, 2)?)?;
    epoch_ms(year, month, day, hour, minute, second, 0, offset)
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
    if let Some(ms) = parse_epoch_decimal(s) {
        return Some(ms);
    }
    if let Ok(n) = s.parse::<f64>() {
        return epoch_number_to_ms(n);
    }
    None
}

/// An epoch number written as plain decimal digits (`1756736591.123`, `1756736591123456789`), read
/// exactly, with no float in between; `None` for any other text (signs, exponents).
fn parse_epoch_decimal(s: &str) -> Option<i64> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // more digits than an i64 holds: beyond every unit's range, saturated like any other
    let Ok(n) = whole.parse::<i64>() else { return Some(MAX_TIME_MS) };
    let ms = epoch_integer_to_ms(n)?;
    if epoch_unit(n as f64) != EpochUnit::Seconds {
        return Some(ms); // a fraction of a millisecond or less: truncated
    }
    let millis =
        fraction.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0i64, |a, c| a * 10 + i64::from(c - b'0'));
    Some(ms.saturating_add(millis).min(MAX_TIME_MS))
}

/// The unit of an epoch number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// Tells the unit of a (non-negative) epoch number by its magnitude: below 10¹¹ seconds, below
/// 10¹⁴ milliseconds, below 10¹⁷ microseconds, else nanoseconds. Each unit's range covers the times
/// from 1973-03-03 (10¹¹ ms) to the year 5138 (10¹⁴ ms), so within those years every unit is read
/// back to the same time; a seconds value past 5138 does not occur in logs, nor one in
/// milliseconds before 1973.
pub fn epoch_unit(magnitude: f64) -> EpochUnit {
    if magnitude < 1e11 {
        EpochUnit::Seconds
    } else if magnitude < 1e14 {
        EpochUnit::Millis
    } else if magnitude < 1e17 {
        EpochUnit::Micros
    } else {
        EpochUnit::Nanos
    }
}

/// An epoch number (any unit, fractions allowed) in milliseconds: `None` if negative or not
/// finite; saturated at [`MAX_TIME_MS`] beyond it (`1e300` reads as the year 9999, a suspect time,
/// not as a wrapped one).
pub fn epoch_number_to_ms(n: f64) -> Option<i64> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let micros = match epoch_unit(n) {
        EpochUnit::Seconds => n * 1e6,
        EpochUnit::Millis => n * 1e3,
        EpochUnit::Micros => n,
        EpochUnit::Nanos => n / 1e3,
    };
    // rounded to the microsecond first, which undoes the float's representation error
    // (1756736591.123 is 1756736591.12299990…), then truncated to the millisecond like the text
    // readers; `as` saturates, and the bound keeps the result in the readers' range
    Some(((micros.round() / 1e3) as i64).min(MAX_TIME_MS))
}

/// [`epoch_number_to_ms`] for an integer, exactly (no rounding through a float).
pub fn epoch_integer_to_ms(n: i64) -> Option<i64> {
    if n < 0 {
        return None;
    }
    let ms = match epoch_unit(n as f64) {
        EpochUnit::Seconds => n.saturating_mul(1000),
        EpochUnit::Millis => n,
        EpochUnit::Micros => n / 1000,
        EpochUnit::Nanos => n / 1_000_000,
    };
    Some(ms.min(MAX_TIME_MS))
}

/// 1990-01-01T00:00:00Z: times before it are suspect. No log this tool reads predates it; a time
/// before it is a zero value (the epoch, Go's `0001-01-01`), a clock that lost its setting, or a
/// number read in the wrong unit.
pub const FLOOR_MS: i64 = 631_152_000_000;
/// How far past "now" a time may lie before it is suspect, by default: one day (clock skew
/// between hosts and zone mistakes stay within it; a year typo or a wrong unit does not).
pub const DEFAULT_FUTURE_TOLERANCE_MS: i64 = 86_400_000;

/// Where a time stands against the plausible range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeClass {
    /// Within the range: counted in the time buckets.
    Plausible,
    /// Later than now plus the tolerance.
    Future,
    /// Before [`FLOOR_MS`].
    Past,
}

/// The plausible range of event times: from [`FLOOR_MS`] to "now" plus a tolerance. Times outside
/// are *suspect*: the event is kept (tail, drill-down) with its time, counted, and left out of
/// the time buckets, so it never anchors a window nor stretches a time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// "Now", epoch ms, as the caller sees it; `None` reads the system clock when reading starts
    /// (and again for every block, so a follower that runs for days keeps up).
    pub now_ms: Option<i64>,
    pub future_tolerance_ms: i64,
    pub floor_ms: i64,
}

impl Default for TimeLimits {
    fn default() -> Self {
        TimeLimits { now_ms: None, future_tolerance_ms: DEFAULT_FUTURE_TOLERANCE_MS, floor_ms: FLOOR_MS }
    }
}

impl TimeLimits {
    /// The default limits at a fixed "now" (deterministic, for tests and for one report run).
    pub fn at(now_ms: i64) -> TimeLimits {
        TimeLimits { now_ms: Some(now_ms), ..TimeLimits::default() }
    }

    /// The range in force: "now" resolved (the system clock when not given).
    pub fn resolve(&self) -> TimeRange {
        let now = self.now_ms.unwrap_or_else(system_now_ms);
        TimeRange { floor_ms: self.floor_ms, ceiling_ms: now.saturating_add(self.future_tolerance_ms.max(0)) }
    }
}

/// The system clock in epoch milliseconds.
pub fn system_now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A resolved plausible range, inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub floor_ms: i64,
    pub ceiling_ms: i64,
}

impl TimeRange {
    /// Every time is plausible (for statistics rebuilt from data already checked).
    pub const ANY: TimeRange = TimeRange { floor_ms: i64::MIN, ceiling_ms: i64::MAX };

    /// True for a plausible time.
    #[inline]
    pub fn contains(&self, ms: i64) -> bool {
        ms >= self.floor_ms && ms <= self.ceiling_ms
    }

    #[inline]
    pub fn classify(&self, ms: i64) -> TimeClass {
        if ms > self.ceiling_ms {
            TimeClass::Future
        } else if ms < self.floor_ms {
            TimeClass::Past
        } else {
            TimeClass::Plausible
        }
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

    #[test]
    fn epoch_numbers_by_magnitude() {
        // the same instant in seconds, with a fraction, in ms, µs and ns
        for text in ["1756736591.123", "1756736591123", "1756736591123456", "1756736591123456789"] {
            assert_eq!(parse_any(text, 0), Some(1_756_736_591_123), "{text}");
        }
        assert_eq!(epoch_number_to_ms(1_756_736_591_123_456_789.0), Some(1_756_736_591_123));
        assert_eq!(epoch_integer_to_ms(1_756_736_591_123_456_789), Some(1_756_736_591_123));
        // beyond any unit: saturated at the year 9999, never wrapped
        assert_eq!(epoch_number_to_ms(1e300), Some(MAX_TIME_MS));
        assert_eq!(parse_any("1e300", 0), Some(MAX_TIME_MS));
        assert_eq!(epoch_integer_to_ms(i64::MAX), Some(9_223_372_036_854), "nanoseconds: the year 2262");
        assert_eq!(epoch_number_to_ms(-1.0), None);
        assert_eq!(epoch_number_to_ms(f64::NAN), None);
        assert_eq!(epoch_number_to_ms(f64::INFINITY), None);
    }

    #[test]
    fn zone_offsets_beyond_fourteen_hours_are_refused() {
        assert_eq!(parse_nginx_time("01/Sep/2025:14:23:11 +9999"), None);
        assert_eq!(parse_nginx_time("01/Sep/2025:14:23:11 -9999"), None);
        assert_eq!(parse_nginx_time("01/Sep/2025:14:23:11 +1401"), None);
        assert_eq!(parse_nginx_time("01/Sep/2025:14:23:11 +0060"), None);
        assert_eq!(parse_nginx_time("02/Sep/2025:04:23:11 +1400"), Some(1_756_736_591_000));
        assert_eq!(parse_nginx_time("01/Sep/2025:02:23:11 -1200"), Some(1_756_736_591_000));
        assert_eq!(parse_any("2025-09-01T14:23:11+15:00", 0), None);
        assert_eq!(parse_any("2025-09-01T14:23:11-23:59", 0), None);
        assert_eq!(parse_any("2025-09-02T04:23:11+14:00", 0), Some(1_756_736_591_000));
    }

    #[test]
    fn suspect_times() {
        let now = 1_756_736_591_000;
        let range = TimeLimits::at(now).resolve();
        assert_eq!(range.classify(now), TimeClass::Plausible);
        assert_eq!(range.classify(now + DEFAULT_FUTURE_TOLERANCE_MS), TimeClass::Plausible);
        assert_eq!(range.classify(now + DEFAULT_FUTURE_TOLERANCE_MS + 1), TimeClass::Future);
        assert_eq!(range.classify(FLOOR_MS), TimeClass::Plausible);
        assert_eq!(range.classify(FLOOR_MS - 1), TimeClass::Past);
        assert_eq!(range.classify(0), TimeClass::Past);
        // a "now" at the end of time saturates instead of wrapping into the past
        let late = TimeLimits::at(i64::MAX).resolve();
        assert_eq!(late.ceiling_ms, i64::MAX);
        assert_eq!(late.classify(MAX_TIME_MS), TimeClass::Plausible);
        // the system clock when no "now" is given
        assert_eq!(TimeLimits::default().resolve().classify(system_now_ms()), TimeClass::Plausible);
    }
}
