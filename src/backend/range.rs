//! The time range a console looks at: each end open, an absolute time, or a length back from the
//! newest data (which is now while following live files). "The last hour" is `Ago(1h)..Open`,
//! an incident is `At(from)..At(to)`, everything is `Open..Open`. The backends resolve a range
//! into a [`Window`] against the newest time they hold; times are parsed with the same syntax as
//! `report --since` ([`parse_time`]).

use crate::stats::overview::Window;

/// One end of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// No limit on this side.
    Open,
    /// An absolute time (Unix milliseconds, UTC).
    At(i64),
    /// This many milliseconds before the newest data.
    Ago(i64),
}

/// A time range: `from..=to`, each end a [`Bound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub from: Bound,
    pub to: Bound,
}

impl Default for TimeRange {
    fn default() -> TimeRange {
        TimeRange::last(3_600_000)
    }
}

impl TimeRange {
    /// Every event.
    pub const ALL: TimeRange = TimeRange { from: Bound::Open, to: Bound::Open };

    /// The last `ms` before the newest data.
    pub const fn last(ms: i64) -> TimeRange {
        TimeRange { from: Bound::Ago(ms), to: Bound::Open }
    }

    /// An absolute range (a zoom, `:range FROM TO`); the ends are put in order.
    pub fn between(from_ms: i64, to_ms: i64) -> TimeRange {
        let (from, to) = if from_ms <= to_ms { (from_ms, to_ms) } else { (to_ms, from_ms) };
        TimeRange { from: Bound::At(from), to: Bound::At(to) }
    }

    pub fn is_all(&self) -> bool {
        *self == TimeRange::ALL
    }

    /// True when the range moves with the newest data (an end given as a length back).
    pub fn is_relative(&self) -> bool {
        matches!(self.from, Bound::Ago(_)) || matches!(self.to, Bound::Ago(_))
    }

    /// The window this range covers when the newest data is at `newest` (`None`: no data yet, and
    /// the relative ends are then open). A length back of `d` covers the `d` up to the newest
    /// event, that event included, exactly as [`Window::last`] does.
    pub fn window(&self, newest: Option<i64>) -> Window {
        let resolve = |bound: Bound, is_from: bool| match bound {
            Bound::Open => None,
            Bound::At(t) => Some(t),
            Bound::Ago(d) => newest.map(|n| {
                let at = n.saturating_sub(d);
                if is_from { at.saturating_add(1) } else { at }
            }),
        };
        let from_ms = resolve(self.from, true);
        let mut to_ms = resolve(self.to, false);
        // "the last hour" ends at the newest event (as it always has)
        if matches!(self.from, Bound::Ago(_)) && self.to == Bound::Open {
            to_ms = newest;
        }
        Window { from_ms, to_ms }
    }

    /// A short name for the header and the status line: `last 1h`, `14:00:00 … 15:00:00`, `all`.
    pub fn label(&self) -> String {
        let end = |b: Bound| match b {
            Bound::Open => String::new(),
            Bound::At(t) => time_text(t),
            Bound::Ago(d) => format!("{} ago", duration_text(d)),
        };
        match (self.from, self.to) {
            (Bound::Open, Bound::Open) => "all".into(),
            (Bound::Ago(d), Bound::Open) => format!("last {}", duration_text(d)),
            (from, Bound::Open) => format!("since {}", end(from)),
            (Bound::Open, to) => format!("until {}", end(to)),
            (from, to) => format!("{} … {}", end(from), end(to)),
        }
    }

    /// This range with `from` replaced (`:since`).
    pub fn with_from(self, from: Bound) -> TimeRange {
        TimeRange { from, ..self }
    }

    /// This range with `to` replaced (`:until`).
    pub fn with_to(self, to: Bound) -> TimeRange {
        TimeRange { to, ..self }
    }
}

/// A time as the range's label writes it (and `:since` reads it back): `2025-09-01 14:00:00` UTC.
pub fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// `3600000` → `1h`, `5400000` → `90m`, `45000` → `45s`.
pub fn duration_text(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")];
    for (unit, name) in UNITS {
        // a day and a half is 36h, one day 24h (as `t` names it); whole days from two on
        if ms >= unit && ms % unit == 0 && (unit != 86_400_000 || ms >= 2 * unit) {
            return format!("{}{name}", ms / unit);
        }
    }
    format!("{ms}ms")
}

/// One end of a range as typed: an absolute time (RFC 3339, `YYYY-MM-DD HH:MM:SS`, a date, in the
/// zone `offset` seconds east when it names none) or a duration back from the newest data
/// (`30m`, `2h`, `1d`). The same syntax as `report --since`.
pub fn parse_bound(text: &str, offset: i64) -> Option<Bound> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(t) = parse_absolute(text, offset) {
        return Some(Bound::At(t));
    }
    crate::alerts::parse_window(text).map(Bound::Ago)
}

/// An absolute time as `report --since` reads it, without the durations.
pub fn parse_absolute(text: &str, offset: i64) -> Option<i64> {
    use chrono::Datelike;
    crate::parse::time::parse_any(text, offset).or_else(|| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| {
            crate::parse::time::days_from_civil(d.year_ce().1 as i64, d.month0() + 1, d.day0() + 1) * 86_400_000
                - offset * 1000
        })
    })
}

/// `report --since`/`--until`: an absolute time, or a duration before `now_ms`.
pub fn parse_time(text: &str, offset: i64, now_ms: i64) -> Option<i64> {
    match parse_bound(text, offset)? {
        Bound::At(t) => Some(t),
        Bound::Ago(d) => Some(now_ms - d),
        Bound::Open => None,
    }
}

/// What a time may look like, for messages about one that is not.
pub const TIME_SYNTAX: &str = "a time (2025-09-01T14:00:00Z, \"2025-09-01 14:00:00\", 2025-09-01) or a duration back from the newest data (30m, 2h, 1d)";

/// The console's `--since`/`--until`: the range they give (the last hour when neither is given).
pub fn from_arguments(since: Option<&str>, until: Option<&str>, offset: i64) -> Result<TimeRange, String> {
    if since.is_none() && until.is_none() {
        return Ok(TimeRange::default());
    }
    let mut range = TimeRange::ALL;
    for (name, text, slot) in [("--since", since, &mut range.from), ("--until", until, &mut range.to)] {
        if let Some(text) = text {
            *slot = parse_bound(text, offset).ok_or_else(|| format!("{name} `{text}`: expected {TIME_SYNTAX}"))?;
        }
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWEST: i64 = 1_756_738_799_000;

    #[test]
    fn a_relative_range_follows_the_newest_data_and_matches_window_last() {
        let range = TimeRange::last(3_600_000);
        assert_eq!(range.window(Some(NEWEST)), Window::last(3_600_000, NEWEST));
        assert_eq!(range.window(None), Window::ALL, "no data yet: open");
        assert!(range.is_relative());
        assert_eq!(range.label(), "last 1h");
        assert_eq!(TimeRange::last(86_400_000).label(), "last 24h");
        assert_eq!(TimeRange::last(2 * 86_400_000).label(), "last 2d");
        assert_eq!(TimeRange::last(90_000).label(), "last 90s");
        assert_eq!(TimeRange::ALL.window(Some(NEWEST)), Window::ALL);
        assert_eq!(TimeRange::ALL.label(), "all");
    }

    #[test]
    fn an_absolute_range_is_itself_whatever_the_data() {
        let range = TimeRange::between(NEWEST, NEWEST - 60_000);
        assert_eq!(range.window(Some(0)), Window { from_ms: Some(NEWEST - 60_000), to_ms: Some(NEWEST) });
        assert!(!range.is_relative());
        assert_eq!(range.label(), "2025-09-01 14:58:59 … 2025-09-01 14:59:59");
        let mixed = TimeRange::ALL.with_from(Bound::At(NEWEST - 10)).with_to(Bound::Ago(5));
        assert_eq!(mixed.window(Some(NEWEST)), Window { from_ms: Some(NEWEST - 10), to_ms: Some(NEWEST - 5) });
    }

    #[test]
    fn times_parse_as_report_reads_them() {
        assert_eq!(parse_bound("30m", 0), Some(Bound::Ago(1_800_000)));
        assert_eq!(parse_bound("1d", 0), Some(Bound::Ago(86_400_000)));
        assert_eq!(parse_bound("2025-09-01T14:59:59Z", 0), Some(Bound::At(NEWEST)));
        assert_eq!(parse_bound("2025-09-01 14:59:59", 0), Some(Bound::At(NEWEST)));
        assert_eq!(parse_bound("2025-09-01 22:59:59", 8 * 3600), Some(Bound::At(NEWEST)), "the zone");
        assert_eq!(parse_bound("2025-09-01", 0), Some(Bound::At(1_756_684_800_000)));
        assert_eq!(parse_bound("yesterday", 0), None);
        assert_eq!(parse_bound("", 0), None);
        assert_eq!(parse_time("30m", 0, 1_800_000), Some(0));
    }

    #[test]
    fn console_arguments_say_what_they_expected() {
        assert_eq!(from_arguments(None, None, 0), Ok(TimeRange::default()));
        assert_eq!(from_arguments(Some("2h"), None, 0), Ok(TimeRange::last(7_200_000)));
        let e = from_arguments(None, Some("soon"), 0).expect_err("bad");
        assert!(e.contains("--until `soon`") && e.contains("expected a time"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn parsing_and_resolving_never_panic(text in "\\PC{0,40}", newest in proptest::prelude::any::<i64>()) {
            if let Some(b) = parse_bound(&text, 0) {
                let range = TimeRange::ALL.with_from(b).with_to(b);
                let _ = range.window(Some(newest));
                let _ = range.label();
            }
        }
    }
}
