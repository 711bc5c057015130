//! Threshold alerts evaluated over sliding windows of the time buckets: the seed's three rules
//! (model error burst, video decode share, inference latency) by default, more in config. The
//! evaluation works on a per-bucket (numerator, denominator) series, so the file engine and the
//! Elasticsearch backend feed the same code. Evaluating costs in proportion to the buckets that
//! hold data, never to the time they span.

pub mod cluster; // the same data from a cluster, with aggregations
pub mod collect; // what the rules need, gathered from events read from files
pub mod eval; // windows, the condition, `for` and cool-down: the firings
pub mod redact; // secrets out of log lines before they are sent
pub mod rules; // alert rule files: built in, user files, validation

use crate::enrich::component::ComponentTable;
use crate::stats::{Bucket, Stats};
use serde::{Deserialize, Serialize};

/// What an alert measures over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// Number of events whose error code matches `codes`.
    Count,
    /// Events whose code matches `codes`, as a fraction of job outcomes (requests).
    Share,
    /// Average latency of `component` in milliseconds.
    AvgLatency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    pub metric: AlertMetric,
    /// Error codes counted: exact (`VIDEO_DECODE_ERR`) or a prefix glob (`MODEL_*`).
    #[serde(default)]
    pub codes: Option<String>,
    /// Component whose latency is averaged (`avg_latency`).
    #[serde(default)]
    pub component: Option<String>,
    /// Sliding window length (`5m`, `90s`, `1h`).
    #[serde(default = "default_window")]
    pub window: String,
    /// Fires when the value is strictly above this.
    pub threshold: f64,
    /// Minimum denominator (requests or latency samples) in the window before the rule may fire.
    #[serde(default)]
    pub min_count: u64,
    /// Where notifications go (informational here; webhooks come with the alerting feature).
    #[serde(default)]
    pub channel: Option<String>,
}

fn default_window() -> String {
    "5m".to_string()
}

/// The seed's three alert rules.
pub fn default_rules() -> Vec<AlertRule> {
    vec![
        AlertRule {
            name: "model error burst".into(),
            metric: AlertMetric::Count,
            codes: Some("MODEL_*".into()),
            component: None,
            window: "5m".into(),
            threshold: 10.0,
            min_count: 0,
            channel: Some("dingtalk".into()),
        },
        AlertRule {
            name: "video decode failures".into(),
            metric: AlertMetric::Share,
            codes: Some("VIDEO_DECODE_ERR".into()),
            component: None,
            window: "5m".into(),
            threshold: 0.05,
            min_count: 20,
            channel: Some("email+sms".into()),
        },
        AlertRule {
            name: "inference latency".into(),
            metric: AlertMetric::AvgLatency,
            codes: None,
            component: Some("model_inference".into()),
            window: "5m".into(),
            threshold: 3000.0,
            min_count: 5,
            channel: Some("slack".into()),
        },
    ]
}

/// Parses `5m`, `90s`, `1h`, `2d`, `500ms` into milliseconds.
pub fn parse_window(s: &str) -> Option<i64> {
    let ms = crate::parse::units::duration_ms(s.trim(), 1000.0)
        .or_else(|| s.trim().strip_suffix('d').and_then(|d| d.parse::<f64>().ok()).map(|d| d * 86_400_000.0))?;
    (ms >= 1.0).then_some(ms as i64)
}

/// True when `code` matches a pattern: exact, or `PREFIX*`.
pub fn code_matches(pattern: &str, code: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => code.starts_with(prefix),
        None => pattern == code,
    }
}

/// One interval during which a rule fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Firing {
    pub rule: String,
    /// Start of the first firing window, epoch ms.
    pub from: i64,
    /// End of the last firing window, epoch ms.
    pub to: i64,
    /// The worst value seen while firing.
    pub value: f64,
    pub threshold: f64,
    pub metric: AlertMetric,
}

/// The per-bucket numerator and denominator a rule needs, from local statistics.
/// `component` is the index of the rule's component (for `avg_latency`).
pub fn bucket_terms(rule: &AlertRule, stats: &Stats, bucket: &Bucket, component: Option<usize>) -> (f64, f64) {
    let coded = || {
        let pattern = rule.codes.as_deref().unwrap_or("*");
        bucket
            .codes
            .iter()
            .filter(|(code, _)| code_matches(pattern, stats.code(*code)))
            .map(|(_, n)| *n as f64)
            .sum::<f64>()
    };
    match rule.metric {
        AlertMetric::Count => (coded(), 1.0),
        AlertMetric::Share => (coded(), bucket.jobs as f64),
        AlertMetric::AvgLatency => match component.and_then(|i| bucket.latency.get(i)) {
            Some(h) => (h.sum, h.count as f64),
            None => (0.0, 0.0),
        },
    }
}

/// Evaluates a rule over a series of `(bucket_start_ms, numerator, denominator)` sorted by time,
/// with empty buckets allowed to be missing. Returns the merged firing intervals.
///
/// The window's sums change only where a bucket enters the window (at its own key) or leaves it
/// (`width` buckets later); in between, the value and the firing state stay the same. So only those
/// points are visited: the cost is proportional to the buckets that hold data (at most two steps
/// per bucket), never to the time between the first and the last of them.
pub fn evaluate(rule: &AlertRule, series: &[(i64, f64, f64)], bucket_ms: i64) -> Vec<Firing> {
    let Some(window_ms) = parse_window(&rule.window) else { return Vec::new() };
    let bucket_ms = bucket_ms.max(1);
    let width = (window_ms / bucket_ms).max(1);
    let key = |i: usize| series[i].0.div_euclid(bucket_ms);
    if series.is_empty() {
        return Vec::new();
    }
    let last_key = key(series.len() - 1);
    let mut firings: Vec<Firing> = Vec::new();
    let mut num = 0.0;
    let mut den = 0.0;
    // two cursors over the sparse series: `head` enters the window, `tail` leaves it
    let (mut head, mut tail) = (0usize, 0usize);
    // the last bucket of the window being looked at
    let mut end = key(0);
    loop {
        while head < series.len() && key(head) <= end {
            num += series[head].1;
            den += series[head].2;
            head += 1;
        }
        while tail < head && key(tail) <= end.saturating_sub(width) {
            num -= series[tail].1;
            den -= series[tail].2;
            tail += 1;
        }
        // the next window that differs: the next bucket to enter or to leave (both after `end`)
        let next_enter = (head < series.len()).then(|| key(head));
        let next_leave = (tail < head).then(|| key(tail).saturating_add(width));
        let next = match (next_enter, next_leave) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // windows ending in `end..=same_until` all have this value
        let same_until = next.map_or(last_key, |n| n.saturating_sub(1).min(last_key)).max(end);
        let value = match rule.metric {
            AlertMetric::Count => (den >= rule.min_count as f64).then_some(num),
            AlertMetric::Share | AlertMetric::AvgLatency => {
                (den > 0.0 && den >= rule.min_count as f64).then(|| num / den)
            }
        };
        if let Some(value) = value.filter(|v| *v > rule.threshold) {
            let from = end.saturating_sub(width).saturating_add(1).saturating_mul(bucket_ms);
            let to = same_until.saturating_add(1).saturating_mul(bucket_ms);
            match firings.last_mut() {
                Some(f) if f.to >= from => {
                    f.to = to;
                    f.value = f.value.max(value);
                }
                _ => firings.push(Firing {
                    rule: rule.name.clone(),
                    from,
                    to,
                    value,
                    threshold: rule.threshold,
                    metric: rule.metric,
                }),
            }
        }
        if same_until >= last_key {
            break;
        }
        end = same_until + 1;
    }
    firings
}

/// Evaluates every rule over local statistics (settled).
pub fn evaluate_stats(
    rules: &[AlertRule],
    stats: &Stats,
    components: &ComponentTable,
    from_key: i64,
    to_key: i64,
) -> Vec<Firing> {
    let mut all = Vec::new();
    for rule in rules {
        let component = components.id(rule.component.as_deref().unwrap_or("model_inference")).map(usize::from);
        let series: Vec<(i64, f64, f64)> = stats
            .bucket_range(from_key, to_key)
            .map(|(key, bucket)| {
                let (n, d) = bucket_terms(rule, stats, bucket, component);
                (key.saturating_mul(stats.bucket_ms), n, d)
            })
            .collect();
        all.extend(evaluate(rule, &series, stats.bucket_ms));
    }
    all.sort_by_key(|f| f.from);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_rule(threshold: f64) -> AlertRule {
        AlertRule { threshold, ..default_rules().remove(0) }
    }

    #[test]
    fn sliding_window_fires_inside_and_merges() {
        let minute = 60_000;
        // 3 errors a minute for minutes 10..20, nothing else
        let series: Vec<(i64, f64, f64)> =
            (0..30).map(|m| (m * minute, if (10..20).contains(&m) { 3.0 } else { 0.0 }, 1.0)).collect();
        let firings = evaluate(&count_rule(10.0), &series, minute);
        assert_eq!(firings.len(), 1);
        let f = &firings[0];
        // 4 minutes of 3 = 12 > 10: the first firing window ends after minute 13
        assert_eq!(f.from, 9 * minute);
        // the last window with four busy minutes ends after minute 20
        assert_eq!(f.to, 21 * minute);
        assert_eq!(f.value, 15.0);
    }

    #[test]
    fn sparse_series_and_min_count() {
        let minute = 60_000;
        let rule = AlertRule { min_count: 20, ..default_rules().remove(1) };
        // 2 decode errors out of 10 jobs: 20 % but too few requests
        let series = vec![(0, 2.0, 10.0)];
        assert!(evaluate(&rule, &series, minute).is_empty());
        let series = vec![(0, 2.0, 10.0), (10 * minute, 3.0, 30.0)];
        let firings = evaluate(&rule, &series, minute);
        assert_eq!(firings.len(), 1);
        assert!((firings[0].value - 0.1).abs() < 1e-9);
    }

    /// The evaluation as first written: one step per bucket of the span (the reference).
    fn evaluate_every_bucket(rule: &AlertRule, series: &[(i64, f64, f64)], bucket_ms: i64) -> Vec<Firing> {
        let width = (parse_window(&rule.window).expect("window") / bucket_ms).max(1);
        let (Some(first), Some(last)) = (series.first(), series.last()) else { return Vec::new() };
        let mut firings: Vec<Firing> = Vec::new();
        let (mut num, mut den, mut head, mut tail) = (0.0, 0.0, 0usize, 0usize);
        for end in first.0.div_euclid(bucket_ms)..=last.0.div_euclid(bucket_ms) {
            while head < series.len() && series[head].0.div_euclid(bucket_ms) <= end {
                num += series[head].1;
                den += series[head].2;
                head += 1;
            }
            while tail < head && series[tail].0.div_euclid(bucket_ms) <= end - width {
                num -= series[tail].1;
                den -= series[tail].2;
                tail += 1;
            }
            let value = match rule.metric {
                AlertMetric::Count => (den >= rule.min_count as f64).then_some(num),
                _ => (den > 0.0 && den >= rule.min_count as f64).then(|| num / den),
            };
            let Some(value) = value.filter(|v| *v > rule.threshold) else { continue };
            let (from, to) = ((end - width + 1) * bucket_ms, (end + 1) * bucket_ms);
            match firings.last_mut() {
                Some(f) if f.to >= from => {
                    f.to = to;
                    f.value = f.value.max(value);
                }
                _ => firings.push(Firing {
                    rule: rule.name.clone(),
                    from,
                    to,
                    value,
                    threshold: rule.threshold,
                    metric: rule.metric,
                }),
            }
        }
        firings
    }

    proptest::proptest! {
        #[test]
        fn visiting_only_changes_gives_the_same_firings(
            buckets in proptest::collection::btree_map(-50i64..400, (0u8..6, 0u8..40), 0..40),
            rule_index in 0usize..3,
            window_minutes in 1i64..12,
            threshold in 0u8..12,
            min_count in 0u64..3,
        ) {
            let minute = 60_000;
            let base = default_rules().remove(rule_index);
            let rule = AlertRule {
                window: format!("{window_minutes}m"),
                threshold: match base.metric { AlertMetric::Count => threshold as f64, _ => threshold as f64 / 10.0 },
                min_count,
                ..base
            };
            let series: Vec<(i64, f64, f64)> =
                buckets.iter().map(|(k, (n, d))| (k * minute, *n as f64, *d as f64)).collect();
            proptest::prop_assert_eq!(evaluate(&rule, &series, minute), evaluate_every_bucket(&rule, &series, minute));
        }
    }

    #[test]
    fn buckets_thousands_of_years_apart_cost_two_steps_each() {
        // 2025 and 9999, a minute bucket each: the span is 4 billion minutes; the old evaluation
        // walked every one of them (87 s for a two-line report)
        let minute = 60_000;
        let series = vec![(1_756_684_800_000, 20.0, 1.0), (253_402_300_740_000, 20.0, 1.0)];
        let firings = evaluate(&count_rule(10.0), &series, minute);
        assert_eq!(firings.len(), 2);
        assert_eq!((firings[0].from, firings[0].to), (1_756_684_800_000 - 4 * minute, 1_756_684_800_000 + 5 * minute));
        assert_eq!(firings[1].to, 253_402_300_740_000 + minute, "the last window ends with the data");
        // the ends of time: no overflow
        let series = vec![(i64::MIN, 20.0, 1.0), (i64::MAX - 5, 20.0, 1.0)];
        assert_eq!(evaluate(&count_rule(10.0), &series, minute).len(), 2);
    }

    #[test]
    fn windows_and_patterns() {
        assert_eq!(parse_window("5m"), Some(300_000));
        assert_eq!(parse_window("90s"), Some(90_000));
        assert_eq!(parse_window("2d"), Some(172_800_000));
        assert_eq!(parse_window("soon"), None);
        assert!(code_matches("MODEL_*", "MODEL_INFER_FAIL"));
        assert!(!code_matches("MODEL_*", "VIDEO_DECODE_ERR"));
        assert!(code_matches("VIDEO_DECODE_ERR", "VIDEO_DECODE_ERR"));
    }
}
