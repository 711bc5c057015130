//! Values with units, normalised: durations to milliseconds (`2.4s`, `300ms`, `1m`), sizes to bytes
//! (`56GiB`, `512MB`), percentages to numbers (`87%`).

/// Splits `12.5ms` into the number and the unit suffix, in one pass for the common short
/// values (the slow, general path only for long or odd numbers).
#[inline]
fn split_number(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let negative = b.first() == Some(&b'-');
    let mut i = usize::from(negative);
    // `int` stays below 10^15 on the fast path, so the signed conversion (one instruction, where
    // the unsigned one is a sequence) is exact
    let (mut int, mut frac_digits, mut digits, mut dot) = (0i64, 0u32, 0usize, false);
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                int = int.wrapping_mul(10).wrapping_add((c - b'0') as i64);
                frac_digits += u32::from(dot);
                digits += 1;
            }
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    let number = if digits <= 15 {
        let v = match frac_digits {
            0 => int as f64,
            f => int as f64 / POW10[f as usize],
        };
        if negative { -v } else { v }
    } else {
        parse_decimal(&s[..i])?
    };
    let unit = &s[i..];
    Some((number, if unit.starts_with(' ') { unit.trim_start() } else { unit }))
}

/// Exact powers of ten for the fast path's at most 15 digits.
const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// A small decimal parser for `123`, `2.4`, `-0.5`: faster than `str::parse::<f64>` for the short
/// values logs carry; falls back to it for anything unusual.
#[inline]
pub fn parse_decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (negative, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 15 {
        return s.parse::<f64>().ok().filter(|v| v.is_finite());
    }
    let mut int: u64 = 0;
    let mut frac_div: u64 = 0;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                int = int * 10 + (c - b'0') as u64;
                if frac_div > 0 {
                    frac_div *= 10;
                }
            }
            b'.' if frac_div == 0 => frac_div = 1,
            _ => return None,
        }
    }
    let v = if frac_div > 1 { int as f64 / frac_div as f64 } else { int as f64 };
    Some(if negative { -v } else { v })
}

/// A duration in milliseconds. A bare number is taken as `bare_unit_ms` milliseconds per unit
/// (seconds, 1000.0, for fields such as `inference_time=2.4`).
pub fn duration_ms(s: &str, bare_unit_ms: f64) -> Option<f64> {
    let (n, unit) = split_number(s)?;
    let factor = match unit {
        "" => bare_unit_ms,
        "ms" => 1.0,
        "s" | "sec" | "secs" => 1000.0,
        "us" | "µs" => 0.001,
        "ns" => 0.000_001,
        "m" | "min" | "mins" => 60_000.0,
        "h" | "hr" => 3_600_000.0,
        _ => return None,
    };
    Some(n * factor)
}

/// A size in bytes; a bare number is taken as bytes.
pub fn size_bytes(s: &str) -> Option<f64> {
    let (n, unit) = split_number(s)?;
    let factor = match unit {
        "" | "B" | "b" => 1.0,
        "KiB" | "K" | "k" => 1024.0,
        "KB" | "kB" => 1000.0,
        "MiB" | "M" => 1024.0 * 1024.0,
        "MB" => 1e6,
        "GiB" | "G" => 1024.0 * 1024.0 * 1024.0,
        "GB" => 1e9,
        "TiB" | "T" => 1024f64.powi(4),
        "TB" => 1e12,
        _ => return None,
    };
    Some(n * factor)
}

/// A percentage (`87%`, `87`, `0.87` is taken as 0.87 %, not 87 %).
pub fn percent(s: &str) -> Option<f64> {
    let (n, unit) = split_number(s)?;
    match unit {
        "" | "%" => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("2.4s", 1000.0), Some(2400.0));
        assert_eq!(duration_ms("300ms", 1000.0), Some(300.0));
        assert_eq!(duration_ms("120s", 1000.0), Some(120_000.0));
        assert_eq!(duration_ms("1.5", 1000.0), Some(1500.0));
        assert_eq!(duration_ms("2m", 1000.0), Some(120_000.0));
        assert_eq!(duration_ms("fast", 1000.0), None);
        assert_eq!(duration_ms("", 1000.0), None);
        assert_eq!(duration_ms("3parsecs", 1000.0), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_bytes("56GiB"), Some(56.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(size_bytes("512MB"), Some(512e6));
        assert_eq!(size_bytes("100"), Some(100.0));
        assert_eq!(size_bytes("lots"), None);
    }

    proptest::proptest! {
        #[test]
        fn one_pass_numbers_match_std(int in 0u64..10_000_000, frac in proptest::option::of("[0-9]{1,6}"), negative: bool) {
            let text = format!("{}{int}{}", if negative { "-" } else { "" }, frac.map(|f| format!(".{f}")).unwrap_or_default());
            let expected: f64 = text.parse().unwrap_or(0.0);
            let got = duration_ms(&format!("{text}ms"), 1.0).unwrap_or(f64::NAN);
            proptest::prop_assert!((got - expected).abs() <= expected.abs() * 1e-12, "{} -> {}", text, got);
        }
    }

    #[test]
    fn decimals_match_std() {
        for s in ["0", "1", "2.4", "0.125", "-3.5", "123456789.25"] {
            assert_eq!(parse_decimal(s), s.parse::<f64>().ok(), "{s}");
        }
        assert_eq!(parse_decimal("1.2.3"), None);
    }
}
