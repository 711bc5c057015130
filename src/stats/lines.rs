//! Line accounting: every line read is counted exactly once, with how it was read (parsed,
//! joined, truncated, …) and how its time counted (untimed, suspect, inherited); and the sentences
//! that tell a person about the lines whose times were set aside.

use crate::event::Source;
use crate::parse::time::TimeClass;
use serde::Serialize;

/// Line accounting: every line read is counted exactly once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LineCounts {
    /// Physical lines read.
    pub total: u64,
    /// Lines that started a parsed event.
    pub parsed: u64,
    /// Lines no format recognised (kept as events of source `unknown`).
    pub unparsed: u64,
    /// Lines joined to the event before them (traceback lines).
    pub joined: u64,
    /// Lines outside `--since`/`--until`.
    pub filtered: u64,
    /// Lines longer than the cap, truncated.
    pub truncated: u64,
    /// Lines that held invalid UTF-8 (replaced).
    pub invalid_utf8: u64,
    /// Events whose timestamp was missing or impossible (and that had no line before them to take
    /// a time from).
    pub untimed: u64,
    /// Events whose time is suspect: later than now plus the tolerance, or before 1990. They are
    /// events (totals, tail, drill-down) but in no time bucket nor window. `suspect` is the sum of
    /// `suspect_future` and `suspect_past`.
    pub suspect: u64,
    pub suspect_future: u64,
    pub suspect_past: u64,
    /// Events without a time of their own that took the time of the line before them in the same
    /// file (Kubernetes events or FFmpeg lines without a timestamp).
    pub inherited_time: u64,
    /// Events per source (shown as a map of the sources seen).
    #[serde(serialize_with = "by_source_map")]
    pub by_source: [u64; 6],
}

fn by_source_map<S: serde::Serializer>(counts: &[u64; 6], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(None)?;
    for source in Source::ALL {
        if counts[source.index()] > 0 {
            map.serialize_entry(source.as_str(), &counts[source.index()])?;
        }
    }
    map.end()
}

impl LineCounts {
    pub fn merge(&mut self, o: &LineCounts) {
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut self.total, o.total);
        add(&mut self.parsed, o.parsed);
        add(&mut self.unparsed, o.unparsed);
        add(&mut self.joined, o.joined);
        add(&mut self.filtered, o.filtered);
        add(&mut self.truncated, o.truncated);
        add(&mut self.invalid_utf8, o.invalid_utf8);
        add(&mut self.untimed, o.untimed);
        add(&mut self.suspect, o.suspect);
        add(&mut self.suspect_future, o.suspect_future);
        add(&mut self.suspect_past, o.suspect_past);
        add(&mut self.inherited_time, o.inherited_time);
        for i in 0..6 {
            add(&mut self.by_source[i], o.by_source[i]);
        }
    }

    /// Counts one event whose time is suspect.
    pub fn count_suspect(&mut self, class: TimeClass) {
        match class {
            TimeClass::Future => self.suspect_future = self.suspect_future.saturating_add(1),
            TimeClass::Past => self.suspect_past = self.suspect_past.saturating_add(1),
            TimeClass::Plausible => return,
        }
        self.suspect = self.suspect.saturating_add(1);
    }

    /// One sentence on the events whose times were set aside, for the console and the report:
    /// "3 lines with times in the future and 1 dated before 1990, ignored for the windows (kept in
    /// the tail and the drill-down)". `None` when there are none.
    pub fn suspect_note(&self) -> Option<String> {
        let lines = |n: u64| if n == 1 { "line" } else { "lines" };
        let future = match self.suspect_future {
            0 => None,
            1 => Some("1 line with a time in the future".to_string()),
            n => Some(format!("{n} lines with times in the future")),
        };
        let past = match (self.suspect_past, &future) {
            (0, _) => None,
            (n, Some(_)) => Some(format!("{n} dated before 1990")),
            (n, None) => Some(format!("{n} {} dated before 1990", lines(n))),
        };
        let what = match (future, past) {
            (Some(f), Some(p)) => format!("{f} and {p}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => return None,
        };
        Some(format!("{what}, ignored for the windows (kept in the tail and the drill-down)"))
    }

    /// One sentence on the events that took the time of the line before them; `None` when none did.
    pub fn inherited_note(&self) -> Option<String> {
        match self.inherited_time {
            0 => None,
            1 => Some("1 event without a time took the time of the line before it".to_string()),
            n => Some(format!("{n} events without a time took the time of the line before them")),
        }
    }
}
