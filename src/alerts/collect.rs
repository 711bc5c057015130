//! Gathers what the alert rules need from events read from files, up to the moment of evaluation:
//! per rule and time bucket the matching counts (or the numeric samples), the first time each value
//! of a `new_value` rule's field was seen, the latest related lines (terminal-safe, secrets
//! removed) and the affected videos.

use super::rules::{Kind, Rule, Stat};
use crate::enrich::{Attribution, Enriched, Enricher};
use crate::event::{Event, Origin};
use crate::pipeline::EventSink;
use crate::query::matcher::{Subject, number_of, text_of};
use crate::query::{FieldName, Unit};
use crate::stats::histogram::Histogram;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Related lines kept per rule.
pub const LATEST_LINES: usize = 10;
/// Distinct videos (or new values) remembered per rule.
const MAX_DISTINCT: usize = 10_000;
/// Times before 1990 are suspect (the pipeline keeps them out of the statistics).
const OLDEST_PLAUSIBLE_MS: i64 = 631_152_000_000;

/// One time bucket of one rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Matching events, or the sum of the samples (`avg`).
    pub num: f64,
    /// Denominator events (`ratio`), or samples (`avg`, `max`, `percentile`).
    pub den: f64,
    pub max: Option<f64>,
    pub histogram: Option<Histogram>,
}

/// A line related to a rule, as it may be shown or sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedLine {
    pub ts_ms: i64,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_id: Option<String>,
}

/// What one rule gathered.
#[derive(Debug, Clone, Default)]
pub struct RuleData {
    pub cells: BTreeMap<i64, Cell>,
    /// `new_value`: each value and when it was first seen.
    pub first_seen: FxHashMap<String, i64>,
    /// The newest related lines, oldest first.
    pub latest: Vec<RelatedLine>,
    /// Matching events per video in the recent span (the window, plus `for`, before the moment).
    pub videos: FxHashMap<String, u64>,
}

/// The event sink that feeds the rules.
pub struct Collector<'a> {
    pub rules: &'a [Rule],
    enricher: &'a Enricher,
    pub bucket_ms: i64,
    /// Events after this moment are ignored (the moment of evaluation).
    pub at_ms: i64,
    pub data: Vec<RuleData>,
    /// The oldest event time seen (the start of the `new_value` baseline).
    pub first_ms: Option<i64>,
}

impl<'a> Collector<'a> {
    pub fn new(rules: &'a [Rule], enricher: &'a Enricher, bucket_ms: i64, at_ms: i64) -> Collector<'a> {
        Collector {
            rules,
            enricher,
            bucket_ms: bucket_ms.max(1000),
            at_ms,
            data: vec![RuleData::default(); rules.len()],
            first_ms: None,
        }
    }

    /// Takes one event into account.
    pub fn add(&mut self, event: &Event<'_>, enriched: &Enriched, raw: &[u8]) {
        let Some(ts) = event.ts_ms else { return };
        if ts > self.at_ms || ts < OLDEST_PLAUSIBLE_MS {
            return;
        }
        self.first_ms = Some(self.first_ms.map_or(ts, |f| f.min(ts)));
        let subject = subject_of(self.enricher, event, enriched);
        let key = ts.div_euclid(self.bucket_ms);
        for (rule, data) in self.rules.iter().zip(self.data.iter_mut()) {
            let matched = rule.filter.as_ref().is_none_or(|f| f.matches(&subject));
            let related = match &rule.kind {
                Kind::Count => {
                    if matched {
                        data.cells.entry(key).or_default().num += 1.0;
                    }
                    matched
                }
                Kind::Ratio { over } => {
                    let counted = over.matches(&subject);
                    if matched || counted {
                        let cell = data.cells.entry(key).or_default();
                        cell.num += f64::from(u8::from(matched));
                        cell.den += f64::from(u8::from(counted));
                    }
                    matched
                }
                Kind::Stat { field, stat } => {
                    match sample_of(&subject, field).filter(|v| matched && v.is_finite() && *v >= 0.0) {
                        Some(v) => {
                            let cell = data.cells.entry(key).or_default();
                            cell.num += v;
                            cell.den += 1.0;
                            cell.max = Some(cell.max.map_or(v, |m| m.max(v)));
                            if let Stat::Percentile(_) = stat {
                                cell.histogram.get_or_insert_with(Histogram::default).record(v);
                            }
                            true
                        }
                        None => false,
                    }
                }
                Kind::NewValue { field } => match text_of(&subject, field).filter(|_| matched) {
                    Some(value) => {
                        let len = data.first_seen.len();
                        match data.first_seen.get_mut(value.as_ref()) {
                            Some(first) => *first = (*first).min(ts),
                            None if len < MAX_DISTINCT => {
                                data.first_seen.insert(crate::text::sanitize_owned(&value, 256), ts);
                            }
                            None => {}
                        }
                        true
                    }
                    None => false,
                },
            };
            if !related {
                continue;
            }
            if ts > self.at_ms - rule.window_ms - rule.for_ms
                && let Some(video) = event.video_id.as_deref()
            {
                let len = data.videos.len();
                match data.videos.get_mut(video) {
                    Some(n) => *n += 1,
                    None if len < MAX_DISTINCT => {
                        data.videos.insert(crate::text::sanitize_owned(video, 256), 1);
                    }
                    None => {}
                }
            }
            keep_latest(&mut data.latest, ts, raw, event.video_id.as_deref());
        }
    }
}

/// An event with what enrichment said of it, as filters see it.
pub fn subject_of<'s, 'e>(enricher: &'s Enricher, event: &'s Event<'e>, enriched: &Enriched) -> Subject<'s, 'e> {
    let rule = match enriched.attribution {
        Attribution::Rule(id) => enricher.rule(id).map(|r| r.spec.id.as_str()),
        _ => None,
    };
    Subject {
        event,
        component: enricher.components.name(enriched.component),
        rule,
        is_error: enriched.is_error,
        unexplained: enriched.attribution == Attribution::Unknown,
    }
}

/// A numeric sample of a field: typed fields in their unit; a field of the line as a plain
/// number, else a duration (ms; bare numbers are seconds), a size (bytes) or a percentage.
fn sample_of(subject: &Subject<'_, '_>, field: &FieldName) -> Option<f64> {
    if field.is_numeric() {
        return number_of(subject, field, Unit::Plain);
    }
    [Unit::Plain, Unit::Duration, Unit::Bytes, Unit::Percent].into_iter().find_map(|u| number_of(subject, field, u))
}

/// Keeps the newest [`LATEST_LINES`] lines, oldest first.
fn keep_latest(latest: &mut Vec<RelatedLine>, ts: i64, raw: &[u8], video: Option<&str>) {
    if latest.len() >= LATEST_LINES && latest.first().is_some_and(|l| l.ts_ms > ts) {
        return;
    }
    // the oldest line's buffers are reused when it makes room (this runs for every related line)
    let mut line = if latest.len() >= LATEST_LINES {
        latest.remove(0)
    } else {
        RelatedLine { ts_ms: ts, text: String::new(), video_id: None }
    };
    line.ts_ms = ts;
    // kept as read (capped at 1000 characters); made terminal-safe and stripped of secrets once, by
    // `finish`, for the few lines that stay
    line.text.clear();
    match simdutf8::basic::from_utf8(raw) {
        Ok(s) if s.len() <= 1000 => line.text.push_str(s),
        Ok(s) => line.text.push_str(&s[..s.char_indices().nth(1000).map_or(s.len(), |(i, _)| i)]),
        Err(_) => line.text.extend(crate::pipeline::lossy(raw).chars().take(1000)),
    }
    match (video, &mut line.video_id) {
        (Some(v), Some(kept)) => {
            kept.clear();
            kept.push_str(v);
        }
        (v, kept) => *kept = v.map(str::to_string),
    }
    insert_latest(latest, line);
}

/// Inserts a line after those of its time or older (a later line of the same time is newer) and
/// drops the oldest beyond [`LATEST_LINES`].
fn insert_latest(latest: &mut Vec<RelatedLine>, line: RelatedLine) {
    if latest.len() >= LATEST_LINES && latest.first().is_some_and(|l| l.ts_ms > line.ts_ms) {
        return;
    }
    let at = latest.partition_point(|l| l.ts_ms <= line.ts_ms);
    latest.insert(at, line);
    if latest.len() > LATEST_LINES {
        latest.remove(0);
    }
}

impl Collector<'_> {
    /// Adds what `later` gathered from the part of the input that follows this one's (parallel
    /// reading: each core's range, merged in order). Counts and samples add up, first times take
    /// the earliest, the newest related lines are chosen as one pass would.
    pub fn merge(&mut self, later: Collector<'_>) {
        self.first_ms = match (self.first_ms, later.first_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for (ours, theirs) in self.data.iter_mut().zip(later.data) {
            for (key, cell) in theirs.cells {
                let mine = ours.cells.entry(key).or_default();
                mine.num += cell.num;
                mine.den += cell.den;
                mine.max = match (mine.max, cell.max) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                if let Some(h) = cell.histogram {
                    match &mut mine.histogram {
                        Some(m) => m.merge(&h),
                        None => mine.histogram = Some(h),
                    }
                }
            }
            // past the cap, the values are taken in a fixed order (a single pass keeps the first
            // ones read; either way the cap is said by the counts, not by these names)
            let mut first_seen: Vec<(String, i64)> = theirs.first_seen.into_iter().collect();
            first_seen.sort_unstable();
            for (value, at) in first_seen {
                let len = ours.first_seen.len();
                match ours.first_seen.get_mut(&value) {
                    Some(first) => *first = (*first).min(at),
                    None if len < MAX_DISTINCT => {
                        ours.first_seen.insert(value, at);
                    }
                    None => {}
                }
            }
            let mut videos: Vec<(String, u64)> = theirs.videos.into_iter().collect();
            videos.sort_unstable();
            for (video, n) in videos {
                let len = ours.videos.len();
                match ours.videos.get_mut(&video) {
                    Some(m) => *m += n,
                    None if len < MAX_DISTINCT => {
                        ours.videos.insert(video, n);
                    }
                    None => {}
                }
            }
            // the later part's kept lines, in their order: the same newest lines as one pass
            for line in theirs.latest {
                insert_latest(&mut ours.latest, line);
            }
        }
    }

    /// What was gathered, the related lines made terminal-safe and stripped of secrets.
    pub fn finish(mut self) -> (Vec<RuleData>, Option<i64>) {
        for data in &mut self.data {
            for line in &mut data.latest {
                line.text = super::redact::redact_line(&crate::text::sanitize_owned(&line.text, 1000));
                line.video_id = line.video_id.as_deref().map(|v| crate::text::sanitize_owned(v, 256));
            }
        }
        (self.data, self.first_ms)
    }
}

impl EventSink for Collector<'_> {
    fn event(&mut self, event: &Event<'_>, enriched: &Enriched, _origin: Origin, raw: &[u8]) {
        self.add(event, enriched, raw);
    }
}

#[cfg(test)]
mod latest_tests {
    use super::*;

    type Input = (i64, Vec<u8>, Option<String>);

    /// The newest lines as a plain reference keeps them: sort by (time, arrival), the last ten.
    fn reference(lines: &[Input]) -> Vec<RelatedLine> {
        let mut all: Vec<(usize, &Input)> = lines.iter().enumerate().collect();
        all.sort_by_key(|(i, l)| (l.0, *i));
        let start = all.len().saturating_sub(LATEST_LINES);
        all[start..]
            .iter()
            .map(|(_, (ts, raw, video))| RelatedLine {
                ts_ms: *ts,
                text: String::from_utf8_lossy(raw).chars().take(1000).collect(),
                video_id: video.clone(),
            })
            .collect()
    }

    /// Reusing the dropped line's buffers keeps the same lines: times out of order and repeated,
    /// long lines cut at 1000 characters (multi-byte ones too), invalid UTF-8, with and without a video.
    #[test]
    fn keep_latest_keeps_the_newest_lines_whatever_the_order() {
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        for round in 0..200 {
            let n = (next() % 40) as usize;
            let lines: Vec<Input> = (0..n)
                .map(|i| {
                    let ts = (next() % 12) as i64;
                    let raw = match next() % 4 {
                        0 => "é".repeat(700).into_bytes(),
                        1 => vec![b'x', 0xff, b'y'],
                        2 => "a".repeat(1500).into_bytes(),
                        _ => format!("line {round}.{i}").into_bytes(),
                    };
                    let video = (next() % 2 == 0).then(|| format!("vid_{}", next() % 5));
                    (ts, raw, video)
                })
                .collect();
            let mut latest = Vec::new();
            for (ts, raw, video) in &lines {
                keep_latest(&mut latest, *ts, raw, video.as_deref());
            }
            assert_eq!(latest, reference(&lines), "round {round}");
        }
    }
}
