//! Evaluates alert rules over what [`super::collect`] gathered: the rule's value over a sliding
//! window ending at each bucket, the condition (value above threshold), then the firing state with
//! the minimum duration (`for`) and the cool-down. Only the windows where a bucket enters or leaves
//! are visited, so the cost follows the buckets that hold data, never the time they span.

use super::collect::{Cell, RelatedLine, RuleData};
use super::rules::{Kind, Rule, Severity, Stat};
use serde::Serialize;
use std::collections::BTreeMap;

/// The condition over one stretch of time: from the start of the bucket `end_key` (the window's
/// last; the earliest the value could have changed, and the same at every evaluation while that
/// bucket is being filled) until the next step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The last bucket of the window.
    pub end_key: i64,
    /// When this value starts to hold: the start of that bucket.
    pub from_ms: i64,
    pub value: Option<f64>,
    pub holds: bool,
}

/// One firing of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub rule: String,
    pub severity: Severity,
    /// When it started firing (after `for`), epoch ms.
    pub since_ms: i64,
    /// When it resolved; `None` while still firing at the moment of evaluation.
    pub until_ms: Option<i64>,
    /// The latest value while firing.
    pub value: f64,
    /// The worst value while firing.
    pub peak: f64,
    pub threshold: f64,
    /// The unit of `value`, `peak` and `threshold` (for showing them).
    pub unit: super::rules::Unit,
    pub window: String,
    pub filter: String,
    /// `new_value`: the values first seen in the window.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_values: Vec<String>,
    /// The latest related lines (for a firing that is still on), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub latest_lines: Vec<RelatedLine>,
    /// Videos with the most related events in the recent span, most first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_videos: Vec<(String, u64)>,
}

impl Alert {
    pub fn is_firing(&self) -> bool {
        self.until_ms.is_none()
    }
}

/// The `new_value` rule's cells: per bucket, the values first seen there, after the baseline (the
/// first window of the data).
fn new_value_cells(rule: &Rule, data: &RuleData, first_ms: Option<i64>, bucket_ms: i64) -> BTreeMap<i64, Cell> {
    let mut cells = BTreeMap::new();
    let Some(first) = first_ms else { return cells };
    let baseline_end = first.saturating_add(rule.window_ms);
    for seen in data.first_seen.values().filter(|t| **t >= baseline_end) {
        cells.entry(seen.div_euclid(bucket_ms)).or_insert_with(Cell::default).num += 1.0;
    }
    cells
}

/// The rule's value over the buckets `from_key..=to_key`.
fn value_of(rule: &Rule, cells: &BTreeMap<i64, Cell>, from_key: i64, to_key: i64) -> Option<f64> {
    let mut num = 0.0;
    let mut den = 0.0;
    let mut max: Option<f64> = None;
    let mut histogram: Option<crate::stats::histogram::Histogram> = None;
    for cell in cells.range(from_key..=to_key).map(|(_, c)| c) {
        num += cell.num;
        den += cell.den;
        if let Some(m) = cell.max {
            max = Some(max.map_or(m, |x| x.max(m)));
        }
        if let Some(h) = &cell.histogram {
            histogram.get_or_insert_with(Default::default).merge(h);
        }
    }
    let enough = den > 0.0 && den >= rule.min_count as f64;
    match &rule.kind {
        Kind::Count | Kind::NewValue { .. } => Some(num),
        Kind::Ratio { .. } => enough.then(|| num / den),
        Kind::Stat { stat: Stat::Avg, .. } => enough.then(|| num / den),
        Kind::Stat { stat: Stat::Max, .. } => max.filter(|_| enough),
        Kind::Stat { stat: Stat::Percentile(q), .. } => histogram.and_then(|h| h.percentile(*q)).filter(|_| enough),
    }
}

/// The condition at every window end where it may change, up to the moment `at_ms`.
pub fn steps(rule: &Rule, cells: &BTreeMap<i64, Cell>, bucket_ms: i64, at_ms: i64) -> Vec<Step> {
    let bucket_ms = bucket_ms.max(1);
    let width = (rule.window_ms / bucket_ms).max(1);
    let at_key = at_ms.div_euclid(bucket_ms);
    let mut ends: Vec<i64> = Vec::with_capacity(cells.len() * 2 + 1);
    for key in cells.range(..=at_key).map(|(k, _)| *k) {
        ends.push(key);
        let leaves = key.saturating_add(width);
        if leaves <= at_key {
            ends.push(leaves);
        }
    }
    ends.push(at_key);
    ends.sort_unstable();
    ends.dedup();
    ends.into_iter()
        .map(|end| {
            let value = value_of(rule, cells, end.saturating_sub(width).saturating_add(1), end);
            let from_ms = end.saturating_mul(bucket_ms);
            Step { end_key: end, from_ms, value, holds: value.is_some_and(|v| v > rule.threshold) }
        })
        .collect()
}

/// Applies `for` and the cool-down to the condition: the firings up to `at_ms`.
pub fn firings(rule: &Rule, steps: &[Step], at_ms: i64) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = Vec::new();
    let mut true_since: Option<i64> = None;
    let mut firing: Option<Alert> = None;
    let mut last_resolved: Option<i64> = None;
    for (i, step) in steps.iter().enumerate() {
        // this step's value holds until the next step (the last one: at the moment itself)
        let until = steps.get(i + 1).map_or(at_ms, |s| s.from_ms);
        if !step.holds {
            true_since = None;
            if let Some(mut alert) = firing.take() {
                alert.until_ms = Some(step.from_ms);
                last_resolved = Some(step.from_ms);
                alerts.push(alert);
            }
            continue;
        }
        let value = step.value.unwrap_or(0.0);
        let start = *true_since.get_or_insert(step.from_ms);
        match &mut firing {
            Some(alert) => {
                alert.value = value;
                alert.peak = alert.peak.max(value);
            }
            None => {
                let fire_at = start
                    .saturating_add(rule.for_ms)
                    .max(last_resolved.map_or(i64::MIN, |r| r.saturating_add(rule.cooldown_ms)))
                    .max(step.from_ms);
                let last = i + 1 == steps.len();
                if fire_at < until || (last && fire_at <= at_ms) {
                    firing = Some(Alert {
                        rule: rule.name.clone(),
                        severity: rule.severity,
                        since_ms: fire_at,
                        until_ms: None,
                        value,
                        peak: value,
                        threshold: rule.threshold,
                        unit: rule.unit(),
                        window: rule.window_text.clone(),
                        filter: rule.filter_text.clone(),
                        new_values: Vec::new(),
                        latest_lines: Vec::new(),
                        top_videos: Vec::new(),
                    });
                }
            }
        }
    }
    alerts.extend(firing);
    alerts
}

/// Every firing of every rule up to `at_ms`, the ones still firing carrying their related lines,
/// top videos and (for `new_value`) the new values.
pub fn evaluate(rules: &[Rule], data: &[RuleData], first_ms: Option<i64>, bucket_ms: i64, at_ms: i64) -> Vec<Alert> {
    let mut all = Vec::new();
    for (rule, data) in rules.iter().zip(data) {
        let derived;
        let cells = match &rule.kind {
            Kind::NewValue { .. } => {
                derived = new_value_cells(rule, data, first_ms, bucket_ms);
                &derived
            }
            _ => &data.cells,
        };
        let steps = steps(rule, cells, bucket_ms, at_ms);
        let mut alerts = firings(rule, &steps, at_ms);
        if let Some(current) = alerts.last_mut().filter(|a| a.is_firing()) {
            current.latest_lines = data.latest.clone();
            let mut videos: Vec<(String, u64)> = data.videos.iter().map(|(v, n)| (v.clone(), *n)).collect();
            videos.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            videos.truncate(5);
            current.top_videos = videos;
            if let Kind::NewValue { .. } = rule.kind {
                let since = at_ms.saturating_sub(rule.window_ms);
                let baseline_end = first_ms.unwrap_or(i64::MAX).saturating_add(rule.window_ms);
                let mut new: Vec<String> = data
                    .first_seen
                    .iter()
                    .filter(|(_, t)| **t > since && **t >= baseline_end)
                    .map(|(v, _)| v.clone())
                    .collect();
                new.sort();
                current.new_values = new;
            }
        }
        all.extend(alerts);
    }
    all.sort_by(|a, b| a.since_ms.cmp(&b.since_ms).then_with(|| a.rule.cmp(&b.rule)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::rules::parse_alert_rules;

    const MINUTE: i64 = 60_000;

    fn rule(toml: &str) -> Rule {
        let text = format!("[[alert]]\nname = \"r\"\n{toml}\n");
        parse_alert_rules(&text, "test").expect("valid rule").0.remove(0)
    }

    /// Cells of a count rule: `per_minute[i]` events in minute `i`.
    fn cells(per_minute: &[(i64, f64)]) -> BTreeMap<i64, Cell> {
        per_minute.iter().map(|(m, n)| (*m, Cell { num: *n, ..Cell::default() })).collect()
    }

    #[test]
    fn count_fires_inside_not_outside_and_resolves() {
        let r = rule("threshold = 10\nwindow = \"5m\"");
        // 3 a minute in minutes 10..20
        let c = cells(&(10..20).map(|m| (m, 3.0)).collect::<Vec<_>>());
        let alerts = firings(&r, &steps(&r, &c, MINUTE, 40 * MINUTE), 40 * MINUTE);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        // 12 > 10 once minutes 10..13 are in: the window ending with minute 13, from its start
        assert_eq!(alerts[0].since_ms, 13 * MINUTE);
        // the window ending with minute 21 (17..=21) holds 17, 18, 19: 9, resolved at its start
        assert_eq!(alerts[0].until_ms, Some(21 * MINUTE));
        assert_eq!(alerts[0].peak, 15.0);
        // evaluated before the burst: nothing; during it: firing
        assert!(firings(&r, &steps(&r, &c, MINUTE, 12 * MINUTE), 12 * MINUTE).is_empty());
        let during = firings(&r, &steps(&r, &c, MINUTE, 16 * MINUTE + 30_000), 16 * MINUTE + 30_000);
        assert!(during.len() == 1 && during[0].is_firing(), "{during:?}");
        // evaluated again later in the same minute: the same firing (the same start)
        let later = firings(&r, &steps(&r, &c, MINUTE, 16 * MINUTE + 50_000), 16 * MINUTE + 50_000);
        assert_eq!(later[0].since_ms, during[0].since_ms);
        // the minute the threshold is crossed in: the firing starts with that minute, whenever evaluated
        for at in [13 * MINUTE + 1, 13 * MINUTE + 59_000, 14 * MINUTE] {
            let f = firings(&r, &steps(&r, &c, MINUTE, at), at);
            assert_eq!(f[0].since_ms, 13 * MINUTE, "evaluated at {at}");
        }
    }

    #[test]
    fn minimum_duration_and_cool_down() {
        let c = cells(&(10..20).map(|m| (m, 3.0)).chain((24..27).map(|m| (m, 20.0))).collect::<Vec<_>>());
        let plain = rule("threshold = 10");
        let at = 60 * MINUTE;
        assert_eq!(firings(&plain, &steps(&plain, &c, MINUTE, at), at).len(), 2);
        // for 3m: the first burst holds from 13:00 to 21:00, so it fires at 16:00
        let held = rule("threshold = 10\nfor = \"3m\"");
        let alerts = firings(&held, &steps(&held, &c, MINUTE, at), at);
        assert_eq!(alerts[0].since_ms, 16 * MINUTE);
        // for 10m: neither burst holds that long
        let long = rule("threshold = 10\nfor = \"10m\"");
        assert!(firings(&long, &steps(&long, &c, MINUTE, at), at).is_empty());
        // cool-down 5m after resolving at 21:00: the second burst (from 24:00) waits until 26:00
        let cool = rule("threshold = 10\ncooldown = \"5m\"");
        let alerts = firings(&cool, &steps(&cool, &c, MINUTE, at), at);
        assert_eq!(alerts.len(), 2, "{alerts:?}");
        assert_eq!(alerts[0].until_ms, Some(21 * MINUTE));
        assert_eq!(alerts[1].since_ms, 26 * MINUTE);
        // cool-down 20m: the second burst (over by 31:00) never fires
        let cold = rule("threshold = 10\ncooldown = \"20m\"");
        assert_eq!(firings(&cold, &steps(&cold, &c, MINUTE, at), at).len(), 1);
    }

    #[test]
    fn ratio_needs_its_minimum_denominator() {
        let r = rule("kind = \"ratio\"\nfilter = \"code:X\"\nover = \"job:true\"\nthreshold = 0.05\nmin_count = 20");
        let few: BTreeMap<i64, Cell> = [(0, Cell { num: 2.0, den: 10.0, ..Cell::default() })].into();
        assert!(firings(&r, &steps(&r, &few, MINUTE, MINUTE), MINUTE).is_empty());
        let enough: BTreeMap<i64, Cell> = [
            (0, Cell { num: 2.0, den: 10.0, ..Cell::default() }),
            (1, Cell { num: 1.0, den: 20.0, ..Cell::default() }),
        ]
        .into();
        let alerts = firings(&r, &steps(&r, &enough, MINUTE, 2 * MINUTE - 1), 2 * MINUTE - 1);
        assert_eq!(alerts.len(), 1);
        assert!((alerts[0].value - 0.1).abs() < 1e-9);
    }

    #[test]
    fn spans_of_thousands_of_years_cost_little() {
        let r = rule("threshold = 10");
        let c = cells(&[(29_278_080, 20.0), (4_223_371_679, 20.0)]);
        let at = 4_223_371_680 * MINUTE;
        let s = steps(&r, &c, MINUTE, at);
        assert!(s.len() <= 5, "{}", s.len());
        assert_eq!(firings(&r, &s, at).len(), 2);
    }
}
