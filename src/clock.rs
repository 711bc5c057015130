//! How times are written for people: the views, the text and JSON reports, the links. Display
//! only; reading times is `parse::time`'s job.

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

/// `95s` → `1m35s`, for "behind live" and spans of data.
pub fn human_duration(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A span as `14:00:00 … 14:59:59`, with the day (`11-30 09:01:34 … 12-01 09:01:34`) when it
/// crosses midnight (UTC).
pub fn format_span(from: i64, to: i64) -> String {
    if from.div_euclid(86_400_000) == to.div_euclid(86_400_000) {
        return format!("{} … {}", format_clock(from), format_clock(to));
    }
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| format_clock(ms))
    };
    format!("{} … {}", day(from), day(to))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_span_names_the_day_when_it_crosses_midnight() {
        let day = 1_756_684_800_000; // 2025-09-01 00:00:00 UTC
        assert_eq!(super::format_span(day + 3_600_000, day + 7_199_999), "01:00:00 … 01:59:59");
        assert_eq!(super::format_span(day - 3_600_000, day + 3_600_000), "08-31 23:00:00 … 09-01 01:00:00");
    }
}
