//! The overview: everything the screens and the headless report show, computed for one time window
//! from the statistics. This is the answer type every backend returns, so the console, the report
//! and the Elasticsearch backend agree number for number.

use super::health::HealthConfig;
use super::histogram::{Histogram, LatencySummary};
use super::{Bucket, Stats};
use crate::alerts::{self, AlertRule, Firing};
use crate::clock::format_ms;
use crate::enrich::{Attribution, Enricher};
use crate::event::Level;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// A time window; `None` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Window {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Window {
    pub const ALL: Window = Window { from_ms: None, to_ms: None };

    pub fn last(duration_ms: i64, end_ms: i64) -> Window {
        Window { from_ms: Some(end_ms.saturating_sub(duration_ms).saturating_add(1)), to_ms: Some(end_ms) }
    }

    pub fn contains(&self, ms: i64) -> bool {
        self.from_ms.is_none_or(|f| ms >= f) && self.to_ms.is_none_or(|t| ms <= t)
    }

    pub fn is_all(&self) -> bool {
        self.from_ms.is_none() && self.to_ms.is_none()
    }
}

fn iso<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format_ms(*ms)),
        None => s.serialize_none(),
    }
}

fn iso_required<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_ms(*ms))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentRow {
    pub name: String,
    pub events: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub latency: LatencySummary,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthRow {
    pub score: f64,
    pub error_rate: f64,
    pub p95_ms: Option<f64>,
}

/// An explanation: the rule that matched, or unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Explanation {
    pub rule: Option<String>,
    pub category: String,
    pub severity: String,
    pub cause: String,
    pub fix: String,
}

impl Explanation {
    pub fn unknown() -> Explanation {
        Explanation {
            rule: None,
            category: "unknown".into(),
            severity: "unknown".into(),
            cause: "unknown: no rule matches".into(),
            fix: "Look at the related lines; add a rule to rules.toml once the cause is known".into(),
        }
    }

    /// Nothing to explain: the lines hold no failure.
    pub fn none() -> Explanation {
        Explanation {
            rule: None,
            category: "none".into(),
            severity: "none".into(),
            cause: "no failure in these lines".into(),
            fix: "-".into(),
        }
    }

    pub fn of(enricher: &Enricher, attribution: Attribution) -> Explanation {
        match attribution {
            Attribution::Rule(id) => match enricher.rule(id) {
                Some(rule) => Explanation {
                    rule: Some(rule.spec.id.clone()),
                    category: rule.spec.category.clone(),
                    severity: rule.spec.severity.as_str().into(),
                    cause: rule.spec.cause.clone(),
                    fix: rule.spec.fix.clone(),
                },
                None => Explanation::unknown(),
            },
            _ => Explanation::unknown(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeRow {
    pub code: String,
    pub count: u64,
    /// Share of all coded events in the window.
    pub share: f64,
    pub component: String,
    pub error_category: String,
    #[serde(flatten)]
    pub explanation: Explanation,
    /// Counts per series point, for the trend sparkline.
    #[serde(skip)]
    pub trend: Vec<u64>,
    /// For a code no rule explains: a rule for it, pre-filled from the closest existing one (`L`).
    #[serde(skip)]
    pub draft: Option<crate::enrich::rules::RuleSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoRow {
    pub video_id: String,
    pub failures: u64,
    pub codes: Vec<String>,
    pub cause: String,
    pub fix: String,
    pub rule: Option<String>,
    #[serde(serialize_with = "iso")]
    pub first_seen: Option<i64>,
    #[serde(serialize_with = "iso")]
    pub last_seen: Option<i64>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseRow {
    pub rule: String,
    pub category: String,
    pub count: u64,
    pub cause: String,
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternRow {
    pub template: String,
    pub count: u64,
    pub example: String,
    #[serde(serialize_with = "iso")]
    pub first_seen: Option<i64>,
    #[serde(serialize_with = "iso")]
    pub last_seen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub rule: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    #[serde(serialize_with = "iso_required")]
    pub from: i64,
    #[serde(serialize_with = "iso_required")]
    pub to: i64,
    pub value: f64,
    pub threshold: f64,
    /// The unit of `value` and `threshold`.
    pub unit: alerts::rules::Unit,
    /// True when the firing interval reaches the end of the data (still firing).
    pub active: bool,
}

/// Time series over the window, re-binned to at most [`MAX_POINTS`] points.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Series {
    pub start_ms: i64,
    pub step_ms: i64,
    pub events: Vec<u64>,
    pub errors: Vec<u64>,
    pub jobs: Vec<u64>,
    /// Per component: (name, errors per point, events per point).
    pub components: Vec<(String, Vec<u64>, Vec<u64>)>,
    /// Top codes × points, the heatmap.
    pub heatmap: Vec<(String, Vec<u64>)>,
    pub gpu_mem_gib: Vec<Option<f64>>,
    pub gpu_util_pct: Vec<Option<f64>>,
    pub inference_latency_ms: Vec<Option<f64>>,
}

pub const MAX_POINTS: usize = 240;

/// Everything a screen or report shows for one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    #[serde(serialize_with = "iso")]
    pub window_from: Option<i64>,
    #[serde(serialize_with = "iso")]
    pub window_to: Option<i64>,
    #[serde(serialize_with = "iso")]
    pub data_from: Option<i64>,
    #[serde(serialize_with = "iso")]
    pub data_to: Option<i64>,
    pub lines: super::LineCounts,
    pub events: u64,
    pub errors: u64,
    pub by_level: BTreeMap<String, u64>,
    pub by_code: BTreeMap<String, u64>,
    pub by_component: BTreeMap<String, ComponentRow>,
    pub health: BTreeMap<String, HealthRow>,
    /// Inference latency (the model_inference component).
    pub latency_ms: LatencySummary,
    pub jobs: u64,
    pub job_failures: u64,
    pub codes: Vec<CodeRow>,
    pub causes: Vec<CauseRow>,
    pub unknown_errors: u64,
    pub top_failing_videos: Vec<VideoRow>,
    pub alerts: Vec<AlertRow>,
    pub unknown_patterns: Vec<PatternRow>,
    #[serde(skip)]
    pub series: Series,
    /// Whether the lists above (codes, causes, failing videos, unknown templates, alerts) are in:
    /// a cluster sends the counts first and the lists after, and the lists can fail alone.
    #[serde(skip)]
    pub lists: Lists,
}

/// What an overview's lists (codes, causes, failing videos, unknown templates, alerts) hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Lists {
    /// Everything is in (files always; a cluster once its second answer came).
    #[default]
    Complete,
    /// Only the counts are in; the lists are on their way (empty, never "all clear").
    Loading,
    /// The counts are in; the lists could not be loaded, for this reason (plain words).
    Failed(String),
}

impl Lists {
    /// What a list panel says instead of its rows, when it has none to show yet.
    pub fn missing(&self) -> Option<String> {
        match self {
            Lists::Complete => None,
            Lists::Loading => Some("loading… (the counts are in; the lists follow)".into()),
            Lists::Failed(why) => Some(why.clone()),
        }
    }
}

/// Settings that shape an overview.
#[derive(Debug, Clone, Copy)]
pub struct OverviewOptions<'a> {
    pub health: &'a HealthConfig,
    pub alert_rules: &'a [AlertRule],
    pub top_videos: usize,
    pub top_patterns: usize,
}

impl<'a> OverviewOptions<'a> {
    /// Failing videos listed on the console's overview (the rest are reached through a code's
    /// list or a drill-down).
    pub const CONSOLE_TOP_VIDEOS: usize = 50;

    /// What the console's overview shows, on every backend.
    pub fn console(health: &'a HealthConfig, alert_rules: &'a [AlertRule]) -> OverviewOptions<'a> {
        OverviewOptions { health, alert_rules, top_videos: Self::CONSOLE_TOP_VIDEOS, top_patterns: 20 }
    }
}

/// Computes the overview of `stats` (settled) over `window`.
pub fn compute(stats: &Stats, enricher: &Enricher, window: Window, options: OverviewOptions<'_>) -> Overview {
    let keys = Keys {
        from: window.from_ms.map(|f| stats.bucket_of(f)).unwrap_or(i64::MIN),
        to: window.to_ms.map(|t| stats.bucket_of(t)).unwrap_or(i64::MAX),
        all: window.is_all(),
    };
    let total = window_total(stats, keys);
    let mut codes = code_rows(stats, enricher, &total);
    let causes = cause_rows(enricher, &total);
    let (by_component, health) = component_rows(enricher, &total, &options);
    let model = enricher.components.id("model_inference").map(usize::from);
    let latency_ms = model.and_then(|i| total.latency.get(i)).map(Histogram::summary).unwrap_or_default();
    let top_failing_videos = top_videos(stats, enricher, keys, options.top_videos);
    let unknown_patterns = pattern_rows(stats, keys, options.top_patterns);
    let alerts = alert_rows(stats, enricher, window, keys, options.alert_rules);
    let series = build_series(stats, enricher, keys.from, keys.to, &mut codes);
    Overview {
        window_from: window.from_ms,
        window_to: window.to_ms,
        data_from: stats.first_ms,
        data_to: stats.last_ms,
        lines: stats.lines,
        events: total.events as u64,
        errors: total.errors as u64,
        by_level: Level::ALL
            .into_iter()
            .filter(|l| total.by_level[l.index()] > 0)
            .map(|l| (l.as_str().to_string(), total.by_level[l.index()] as u64))
            .collect(),
        by_code: codes.iter().map(|c| (c.code.clone(), c.count)).collect(),
        by_component,
        health,
        latency_ms,
        jobs: total.jobs as u64,
        job_failures: total.job_failures as u64,
        codes,
        causes,
        unknown_errors: total.unknown_errors as u64,
        top_failing_videos,
        alerts,
        unknown_patterns,
        series,
        lists: Lists::Complete,
    }
}

/// The window as bucket keys (inclusive), and whether it is everything (untimed events count then).
#[derive(Debug, Clone, Copy)]
struct Keys {
    from: i64,
    to: i64,
    all: bool,
}

impl Keys {
    fn contains(self, key: i64) -> bool {
        key >= self.from && key <= self.to
    }
}

/// Every bucket of the window merged into one (with the untimed events for the whole data).
fn window_total(stats: &Stats, keys: Keys) -> Bucket {
    let mut total = Bucket::new(stats.components());
    for (_, bucket) in stats.bucket_range(keys.from, keys.to) {
        total.merge(bucket, &[]);
    }
    if keys.all {
        total.merge(&stats.untimed, &[]);
    }
    total
}

/// The window's error codes, most frequent first, each with its component and explanation.
fn code_rows(stats: &Stats, enricher: &Enricher, total: &Bucket) -> Vec<CodeRow> {
    let components = &enricher.components;
    let coded_total: u64 = total.codes.iter().map(|(_, n)| *n as u64).sum();
    let mut codes: Vec<CodeRow> = total
        .codes
        .iter()
        .map(|(id, n)| {
            let code = stats.code(*id).to_string();
            let component =
                components.of_code(&code).map(|c| components.name(c).to_string()).unwrap_or_else(|| "unknown".into());
            let explanation = Explanation::of(enricher, enricher.attribute_code(&code));
            let draft =
                explanation.rule.is_none().then(|| crate::enrich::learn::draft(enricher, &format!("{code}: "), &code));
            CodeRow {
                draft,
                error_category: crate::enrich::component::error_category(&code).to_string(),
                code,
                count: *n as u64,
                share: if coded_total > 0 { *n as f64 / coded_total as f64 } else { 0.0 },
                component,
                explanation,
                trend: Vec::new(),
            }
        })
        .collect();
    codes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    codes
}

/// The window's causes (the rules that explained its errors), most frequent first.
fn cause_rows(enricher: &Enricher, total: &Bucket) -> Vec<CauseRow> {
    let mut causes: Vec<CauseRow> = total
        .rules
        .iter()
        .filter_map(|(id, n)| {
            let rule = enricher.rule(*id)?;
            Some(CauseRow {
                rule: rule.spec.id.clone(),
                category: rule.spec.category.clone(),
                count: *n as u64,
                cause: rule.spec.cause.clone(),
                fix: rule.spec.fix.clone(),
            })
        })
        .collect();
    causes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.rule.cmp(&b.rule)));
    causes
}

/// Each component seen in the window with its counts, latency and health score.
fn component_rows(
    enricher: &Enricher,
    total: &Bucket,
    options: &OverviewOptions<'_>,
) -> (BTreeMap<String, ComponentRow>, BTreeMap<String, HealthRow>) {
    let components = &enricher.components;
    let mut by_component = BTreeMap::new();
    let mut health = BTreeMap::new();
    // lines no format recognised are not a component of the service: they are counted in
    // `lines.unparsed` (the report's line counts, the console's header), never scored as healthy
    let unparsed = components.id_of_source(crate::event::Source::Unknown) as usize;
    for (i, name) in components.names.iter().enumerate() {
        let events = total.component_events.get(i).copied().unwrap_or(0) as u64;
        if events == 0 || (i == unparsed && name == "unparsed") {
            continue;
        }
        let errors = total.component_errors.get(i).copied().unwrap_or(0) as u64;
        let error_rate = errors as f64 / events as f64;
        let latency = total.latency.get(i).map(Histogram::summary).unwrap_or_default();
        let score = options.health.score(name, error_rate, latency.p95);
        health.insert(name.clone(), HealthRow { score, error_rate, p95_ms: latency.p95 });
        by_component
            .insert(name.clone(), ComponentRow { name: name.clone(), events, errors, error_rate, latency, score });
    }
    (by_component, health)
}

/// The `top` videos with the most failures in the window (then the latest, then by id). They are
/// ranked on numbers first and rows are built for the top ones only: a long incident has hundreds
/// of thousands of failing videos and the screen shows ten.
fn top_videos(stats: &Stats, enricher: &Enricher, keys: Keys, top: usize) -> Vec<VideoRow> {
    let mut ranked: Vec<(u64, &str, &crate::stats::VideoStats)> = stats
        .videos
        .iter()
        .filter_map(|(id, v)| {
            let failures: u64 = if keys.all {
                v.failures as u64
            } else {
                v.by_bucket.iter().filter(|(k, _, _)| keys.contains(*k)).map(|(_, _, n)| *n as u64).sum()
            };
            (failures > 0).then_some((failures, id.as_str(), v))
        })
        .collect();
    let rank = |a: &(u64, &str, &crate::stats::VideoStats), b: &(u64, &str, &crate::stats::VideoStats)| {
        b.0.cmp(&a.0).then_with(|| b.2.last_ms.cmp(&a.2.last_ms)).then_with(|| a.1.cmp(b.1))
    };
    if ranked.len() > top && top > 0 {
        ranked.select_nth_unstable_by(top - 1, rank);
    }
    ranked.truncate(top);
    ranked.sort_unstable_by(rank);
    ranked.into_iter().map(|(failures, id, v)| super::videos::video_row(stats, enricher, id, v, failures)).collect()
}

/// The window's unknown-error templates, grouped by the miner, most frequent first (`top` kept).
fn pattern_rows(stats: &Stats, keys: Keys, top: usize) -> Vec<PatternRow> {
    let patterns: Vec<PatternRow> = stats
        .patterns
        .iter()
        .filter_map(|(template, p)| {
            let count: u64 = if keys.all {
                p.count
            } else {
                p.by_bucket.iter().filter(|(k, _)| keys.contains(*k)).map(|(_, n)| *n as u64).sum()
            };
            (count > 0).then(|| PatternRow {
                template: template.clone(),
                count,
                example: p.example.clone(),
                first_seen: p.first_ms,
                last_seen: p.last_ms,
            })
        })
        .collect();
    let mut patterns = crate::patterns::group_rows(patterns);
    patterns.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.template.cmp(&b.template)));
    patterns.truncate(top);
    patterns
}

/// The alerts that fired in the window; "still firing" means firing at the end of the data shown
/// (the window's end when it has one).
fn alert_rows(
    stats: &Stats,
    enricher: &Enricher,
    window: Window,
    keys: Keys,
    rules: &[alerts::AlertRule],
) -> Vec<AlertRow> {
    let shown_end = match window.to_ms {
        Some(to) => stats.last_ms.map(|last| last.min(to)),
        None => stats.last_ms,
    };
    let data_end = shown_end.map(|t| stats.bucket_of(t).saturating_add(1).saturating_mul(stats.bucket_ms));
    alerts::evaluate_stats(rules, stats, &enricher.components, keys.from, keys.to)
        .into_iter()
        .map(|f: Firing| AlertRow {
            severity: "warning".into(),
            active: data_end.is_some_and(|end| f.to >= end),
            rule: f.rule,
            from: f.from,
            to: f.to,
            value: f.value,
            threshold: f.threshold,
            unit: match f.metric {
                alerts::AlertMetric::Count => alerts::rules::Unit::Count,
                alerts::AlertMetric::Share => alerts::rules::Unit::Ratio,
                alerts::AlertMetric::AvgLatency => alerts::rules::Unit::Ms,
            },
        })
        .collect()
}

fn build_series(stats: &Stats, enricher: &Enricher, from_key: i64, to_key: i64, codes: &mut [CodeRow]) -> Series {
    let mut keys = stats.bucket_range(from_key, to_key).map(|(k, _)| k);
    let Some(first) = keys.next() else { return Series::default() };
    let first = if from_key == i64::MIN { first } else { from_key };
    let last = if to_key == i64::MAX {
        stats.bucket_range(from_key, to_key).map(|(k, _)| k).last().unwrap_or(first)
    } else {
        to_key
    };
    // the points cover the span, but only the buckets that hold data are visited
    let span = last.saturating_sub(first).saturating_add(1).max(1) as u64;
    let per_point = span.div_ceil(MAX_POINTS as u64).max(1);
    let points = span.div_ceil(per_point) as usize;
    let n_components = enricher.components.len();
    let mut series = Series {
        start_ms: first.saturating_mul(stats.bucket_ms),
        step_ms: i64::try_from(per_point).unwrap_or(i64::MAX).saturating_mul(stats.bucket_ms),
        events: vec![0; points],
        errors: vec![0; points],
        jobs: vec![0; points],
        components: enricher.components.names.iter().map(|n| (n.clone(), vec![0; points], vec![0; points])).collect(),
        heatmap: Vec::new(),
        gpu_mem_gib: vec![None; points],
        gpu_util_pct: vec![None; points],
        inference_latency_ms: vec![None; points],
    };
    for code in codes.iter_mut() {
        code.trend = vec![0; points];
    }
    let code_ids: Vec<Option<u32>> = codes.iter().map(|c| stats.code_id(&c.code)).collect();
    let model = enricher.components.id("model_inference").map(usize::from);
    let mut gpu_mem = vec![super::Gauge::default(); points];
    let mut gpu_util = vec![super::Gauge::default(); points];
    let mut latency = vec![(0.0f64, 0u64); points];
    for (key, bucket) in stats.bucket_range(first, last) {
        let p = ((key.abs_diff(first) / per_point) as usize).min(points - 1);
        series.events[p] += bucket.events as u64;
        series.errors[p] += bucket.errors as u64;
        series.jobs[p] += bucket.jobs as u64;
        for c in 0..n_components {
            series.components[c].1[p] += bucket.component_errors.get(c).copied().unwrap_or(0) as u64;
            series.components[c].2[p] += bucket.component_events.get(c).copied().unwrap_or(0) as u64;
        }
        for (row, id) in codes.iter_mut().zip(&code_ids) {
            if let Some(id) = id {
                row.trend[p] += bucket.code_count(*id) as u64;
            }
        }
        gpu_mem[p].merge(&bucket.gpu_mem_bytes);
        gpu_util[p].merge(&bucket.gpu_util_pct);
        if let Some(h) = model.and_then(|m| bucket.latency.get(m)) {
            latency[p].0 += h.sum;
            latency[p].1 += h.count;
        }
    }
    series.gpu_mem_gib = gpu_mem.iter().map(|g| g.mean().map(|b| b / (1024.0 * 1024.0 * 1024.0))).collect();
    series.gpu_util_pct = gpu_util.iter().map(|g| g.mean()).collect();
    series.inference_latency_ms = latency.iter().map(|(s, n)| (*n > 0).then(|| s / *n as f64)).collect();
    series.heatmap = codes.iter().take(8).map(|c| (c.code.clone(), c.trend.clone())).collect();
    series.components.retain(|(_, _, events)| events.iter().any(|n| *n > 0));
    series
}
