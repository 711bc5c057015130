//! The Patterns screen's answer: the templates of errors and warnings in a window, grouped by the
//! miner (messages differing in a variable word are one row), each with its count, trend, first
//! seen, example, components, videos, the rule that explains it and whether it is **new**; and
//! "what changed" against a baseline window ([`super::changes`]). Computed from [`Stats`] on files;
//! a cluster answers the same rows from its aggregations ([`super::cluster_rows`]; from its
//! overviews when its index has no templates: [`from_overviews`]).

use super::Stats;
use super::overview::{Explanation, Overview, Window};
use crate::enrich::{Attribution, Enricher, RuleId};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// Rows kept in one answer (the screen says when more matched).
pub const ROWS_CAP: usize = 500;
/// Trend points per row at most.
pub const TREND_POINTS: usize = 60;
/// Grouped templates listed per row (to find its lines).
const MEMBERS_KEPT: usize = 32;

/// One template of errors and warnings in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateRow {
    /// The template (`<*>` where grouped messages differ).
    pub template: String,
    /// Lines in the window.
    pub count: u64,
    /// Lines per point over the window (oldest first).
    pub trend: Vec<u64>,
    /// First and last seen in all the data read (not only the window).
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// First seen within the last `new_minutes` of the data.
    pub new: bool,
    /// Some of its lines are errors (else warnings only).
    pub errors: bool,
    pub example: String,
    pub components: Vec<String>,
    /// Distinct videos its lines named in the window (`videos_at_least`: more were not kept).
    pub videos: u64,
    pub videos_at_least: bool,
    /// The rule explaining most of its lines, if any, and how many error lines none explained: both
    /// over all the data read, not only the window (as `first_seen`).
    pub explanation: Explanation,
    pub unknown: u64,
    /// The masked templates grouped into this row (at most [`MEMBERS_KEPT`]).
    #[serde(skip)]
    pub members: Vec<String>,
    /// For a template no rule explains: a rule drafted for it (`L` labels it).
    #[serde(skip)]
    pub draft: Option<crate::enrich::rules::RuleSpec>,
}

impl TemplateRow {
    /// A row of `template` with nothing counted yet, its trend `points` zeros.
    pub fn empty(template: String, points: usize) -> TemplateRow {
        TemplateRow {
            template,
            count: 0,
            trend: vec![0; points],
            first_seen: None,
            last_seen: None,
            new: false,
            errors: false,
            example: String::new(),
            components: Vec::new(),
            videos: 0,
            videos_at_least: false,
            explanation: Explanation::none(),
            unknown: 0,
            members: Vec::new(),
            draft: None,
        }
    }
}

/// A template or code whose rate changed between the baseline and the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRow {
    /// `code` or `template`.
    pub kind: &'static str,
    pub name: String,
    pub now: u64,
    pub before: u64,
    /// `new`, `gone`, `rose` or `fell`.
    pub change: &'static str,
    /// Rate in the window over rate in the baseline (`None` for new and gone).
    pub factor: Option<f64>,
    /// Lines more (or fewer) than the baseline's rate predicts: the sort key.
    pub impact: f64,
    /// For a template row: the grouped templates (to find its lines).
    #[serde(skip)]
    pub members: Vec<String>,
}

/// The Patterns screen's answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PatternsView {
    pub window: Window,
    pub baseline: Window,
    /// The times counted (whole buckets: a window's ends are widened to its buckets'), for a
    /// row's lines; `None`: the window's ends.
    pub span: Option<(i64, i64)>,
    pub rows: Vec<TemplateRow>,
    /// Rows before the cap ([`ROWS_CAP`]).
    pub total_rows: usize,
    /// Templates not kept while reading (a cap was reached).
    pub over_cap: u64,
    /// Error and warning lines in the window.
    pub lines: u64,
    pub changes: Vec<ChangeRow>,
    /// Minutes within which a first-seen template is new.
    pub new_minutes: u32,
    /// What this answer cannot say (an index without templates: those of unknown errors only; lines
    /// without a template; a baseline without data).
    pub note: Option<String>,
    pub data_to: Option<i64>,
}

/// Settings of the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternOptions {
    pub new_minutes: u32,
    /// A rate must change by this factor to be listed.
    pub factor: f64,
    /// Lines a template or code needs (in the window or the baseline) to be listed as changed.
    pub min_count: u64,
}

impl Default for PatternOptions {
    fn default() -> Self {
        PatternOptions { new_minutes: 15, factor: 2.0, min_count: 5 }
    }
}

/// The window as inclusive bucket keys.
pub(super) fn keys_of(stats: &Stats, window: Window) -> (i64, i64) {
    let first = stats.first_ms.map_or(0, |f| stats.bucket_of(f));
    let last = stats.last_ms.map_or(0, |l| stats.bucket_of(l));
    (window.from_ms.map_or(first, |f| stats.bucket_of(f)), window.to_ms.map_or(last, |t| stats.bucket_of(t)))
}

/// Mines the keys (in the order of their text, so the answer is deterministic): the group id of
/// each key, and each group's template text.
pub(super) fn group(keys: &[&str]) -> (Vec<u64>, FxHashMap<u64, String>) {
    let mut sorted: Vec<(usize, &str)> = keys.iter().copied().enumerate().collect();
    sorted.sort_by(|a, b| a.1.cmp(b.1));
    let settings = crate::patterns::Settings { max_templates: keys.len().max(8), ..Default::default() };
    let mut miner = crate::patterns::Miner::new(settings);
    let mut ids = vec![0; keys.len()];
    for (at, key) in sorted {
        ids[at] = miner.add(key, None).id;
    }
    // a group of one keeps its key as it is (the lines' own template); a group of several the
    // miner's text, `<*>` where they differ
    let mut members: FxHashMap<u64, usize> = FxHashMap::default();
    for id in &ids {
        *members.entry(*id).or_default() += 1;
    }
    let texts = ids
        .iter()
        .zip(keys)
        .filter_map(|(id, key)| match members.get(id) {
            Some(1) => Some((*id, (*key).to_string())),
            _ => miner.get(*id).map(|t| (*id, crate::text::sanitize_owned(&t.text(), 512))),
        })
        .collect();
    (ids, texts)
}

/// How a window of bucket keys `from..=to` is drawn as a trend: the number of points (at most
/// [`TREND_POINTS`]) and the buckets each point sums. Point `i` covers the buckets
/// `from + i * per_point ..` (a cluster's `date_histogram` buckets the same way: see
/// [`super::cluster_rows::Shape`]).
pub(super) fn trend_shape(from: i64, to: i64) -> (usize, usize) {
    let buckets = usize::try_from((to - from).max(0) + 1).unwrap_or(1);
    let points = buckets.clamp(1, TREND_POINTS);
    (points, buckets.div_ceil(points).max(1))
}

/// A row's explanation from the lines each rule explained (the rule of most lines; on a tie, the
/// rule listed first), else unknown when error lines none explained, else none; its draft rule
/// when unknown (`L`), whether it is new, its components and members in order.
pub(super) fn settle(
    row: &mut TemplateRow,
    rules: &FxHashMap<RuleId, u64>,
    enricher: &Enricher,
    new_after: Option<i64>,
) {
    row.components.sort();
    row.components.dedup();
    row.new = matches!((row.first_seen, new_after), (Some(f), Some(after)) if f > after);
    let rule = rules.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0))).map(|(r, _)| *r);
    row.explanation = match rule {
        Some(r) => Explanation::of(enricher, Attribution::Rule(r)),
        None if row.unknown > 0 => Explanation::unknown(),
        None => Explanation::none(),
    };
    row.members.sort();
    if row.explanation.rule.is_none() && row.unknown > 0 {
        row.draft = Some(crate::enrich::learn::draft(enricher, &row.template, &row.example));
    }
}

/// Most lines first (ties by template), at most [`ROWS_CAP`]; returns the rows before the cap.
pub(super) fn sort_and_cap(rows: &mut Vec<TemplateRow>) -> usize {
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.template.cmp(&b.template)));
    let total = rows.len();
    rows.truncate(ROWS_CAP);
    total
}

/// The rows of a window, most lines first.
pub fn compute(
    stats: &Stats,
    enricher: &Enricher,
    window: Window,
    baseline: Window,
    options: PatternOptions,
) -> PatternsView {
    let (from, to) = keys_of(stats, window);
    let in_window = |k: i64| k >= from && k <= to;
    let keys: Vec<&str> = stats.templates.keys().map(String::as_str).collect();
    let (ids, texts) = group(&keys);
    let (points, per_point) = trend_shape(from, to);
    struct Acc {
        row: TemplateRow,
        components: FxHashSet<u16>,
        videos: FxHashSet<String>,
        rules: FxHashMap<RuleId, u64>,
    }
    let mut groups: FxHashMap<u64, Acc> = FxHashMap::default();
    let mut lines = 0u64;
    for (key, id) in keys.iter().zip(&ids) {
        let t = &stats.templates[*key];
        let count: u64 = if window.is_all() {
            t.count
        } else {
            t.by_bucket.iter().filter(|(k, _, _)| in_window(*k)).map(|(_, _, n)| u64::from(*n)).sum()
        };
        if count == 0 {
            continue;
        }
        lines += count;
        let acc = groups.entry(*id).or_insert_with(|| Acc {
            row: TemplateRow::empty(texts.get(id).cloned().unwrap_or_default(), points),
            components: FxHashSet::default(),
            videos: FxHashSet::default(),
            rules: FxHashMap::default(),
        });
        let row = &mut acc.row;
        row.count += count;
        for (k, c, n) in t.by_bucket.iter().filter(|(k, _, _)| in_window(*k)) {
            let at = usize::try_from(k - from).unwrap_or(0) / per_point;
            if let Some(p) = row.trend.get_mut(at) {
                *p += u64::from(*n);
            }
            acc.components.insert(*c);
        }
        if t.first_ms.is_some() && (row.first_seen.is_none() || t.first_ms < row.first_seen) {
            row.first_seen = t.first_ms;
            row.example = t.example.clone();
        } else if row.example.is_empty() {
            row.example = t.example.clone();
        }
        row.last_seen = row.last_seen.max(t.last_ms);
        row.errors |= t.errors > 0;
        row.unknown += t.unknown;
        for (_, v) in t.videos.iter().filter(|(k, _)| in_window(*k)) {
            acc.videos.insert(v.to_string());
        }
        row.videos_at_least |= t.videos_over_cap;
        for (r, n) in &t.rules {
            *acc.rules.entry(*r).or_default() += u64::from(*n);
        }
        if row.members.len() < MEMBERS_KEPT {
            row.members.push((*key).to_string());
        }
    }
    let new_after = stats.last_ms.map(|l| l - i64::from(options.new_minutes) * 60_000);
    let mut rows: Vec<TemplateRow> = groups
        .into_values()
        .map(|mut acc| {
            let row = &mut acc.row;
            row.components = acc.components.iter().map(|c| enricher.components.name(*c).to_string()).collect();
            row.videos = acc.videos.len() as u64;
            settle(row, &acc.rules, enricher, new_after);
            acc.row
        })
        .collect();
    let total_rows = sort_and_cap(&mut rows);
    let changes = super::changes::compute(stats, window, baseline, options);
    let note = super::changes::baseline_problem(stats.first_ms, window, baseline);
    // the span compared: the part of the baseline that has data
    let baseline = if note.is_none() { super::changes::baseline_with_data(stats.first_ms, baseline) } else { baseline };
    let b = stats.bucket_ms;
    let span = stats.first_ms.map(|_| (from.saturating_mul(b), to.saturating_add(1).saturating_mul(b) - 1));
    PatternsView {
        window,
        baseline,
        span,
        rows,
        total_rows,
        over_cap: stats.templates_over_cap,
        lines,
        changes,
        new_minutes: options.new_minutes,
        note,
        data_to: stats.last_ms,
    }
}

/// The answer from two overviews (a cluster whose index has no `template` field: shipped by an
/// older version, or by another shipper; else [`super::cluster_rows`]): the unknown-error
/// templates its `unknown_template` field holds, mined into groups by the same miner as the
/// files' (the keys of both windows together, so that both sides name the same rows), and codes;
/// errors a rule explains are not templated.
pub fn from_overviews(
    now: &Overview,
    before: &Overview,
    window: Window,
    baseline: Window,
    options: PatternOptions,
) -> PatternsView {
    let new_after = now.data_to.map(|l| l - i64::from(options.new_minutes) * 60_000);
    let mut keys: Vec<&str> =
        now.unknown_patterns.iter().chain(&before.unknown_patterns).map(|p| p.template.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let (ids, texts) = group(&keys);
    let id_of: FxHashMap<&str, u64> = keys.iter().copied().zip(ids.iter().copied()).collect();
    // one row per group of the window: counts summed, times widened, the biggest member's example
    let mut by_group: FxHashMap<u64, (TemplateRow, u64)> = FxHashMap::default();
    for p in &now.unknown_patterns {
        let id = id_of.get(p.template.as_str()).copied().unwrap_or_default();
        let (row, biggest) = by_group.entry(id).or_insert_with(|| {
            let template = texts.get(&id).cloned().unwrap_or_else(|| p.template.clone());
            let row =
                TemplateRow { errors: true, explanation: Explanation::unknown(), ..TemplateRow::empty(template, 0) };
            (row, 0)
        });
        row.count += p.count;
        row.unknown += p.count;
        row.first_seen = match (row.first_seen, p.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        row.last_seen = row.last_seen.max(p.last_seen);
        if p.count > *biggest {
            *biggest = p.count;
            row.example = p.example.clone();
        }
        row.members.push(p.template.clone());
    }
    let mut rows: Vec<TemplateRow> = by_group
        .into_values()
        .map(|(mut row, _)| {
            row.new = matches!((row.first_seen, new_after), (Some(f), Some(after)) if f > after);
            row
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.template.cmp(&b.template)));
    let grouped = |o: &Overview| -> Vec<(String, u64)> {
        let mut sums: FxHashMap<u64, u64> = FxHashMap::default();
        for p in &o.unknown_patterns {
            *sums.entry(id_of.get(p.template.as_str()).copied().unwrap_or_default()).or_default() += p.count;
        }
        sums.into_iter().map(|(id, n)| (texts.get(&id).cloned().unwrap_or_default(), n)).collect()
    };
    let count = |o: &Overview| o.codes.iter().map(|c| (c.code.clone(), c.count)).collect::<Vec<_>>();
    let mut changes = super::changes::classify("code", &count(now), &count(before), window, baseline, options);
    changes.extend(super::changes::classify("template", &grouped(now), &grouped(before), window, baseline, options));
    super::changes::sort(&mut changes);
    PatternsView {
        window,
        baseline,
        span: None,
        total_rows: rows.len(),
        lines: rows.iter().map(|r| r.count).sum(),
        rows,
        over_cap: 0,
        changes,
        new_minutes: options.new_minutes,
        note: Some(
            "cluster: only the templates of unknown errors (the index has no `template` field: shipped by an \
             older foley-triage or another shipper; ship again to list every template); errors a rule \
             explains are compared by code"
                .into(),
        ),
        data_to: now.data_to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::overview::{OverviewOptions, PatternRow};

    fn overview(patterns: &[(&str, u64, i64)]) -> Overview {
        let enricher = Enricher::builtin();
        let health = crate::stats::health::HealthConfig::default();
        let stats = Stats::new(enricher.components.len(), 60_000);
        let mut o =
            crate::stats::overview::compute(&stats, &enricher, Window::ALL, OverviewOptions::console(&health, &[]));
        o.data_to = Some(3_600_000);
        o.unknown_patterns = patterns
            .iter()
            .map(|(t, n, first)| PatternRow {
                template: (*t).to_string(),
                count: *n,
                example: format!("example of {t}"),
                first_seen: Some(*first),
                last_seen: Some(first + 60_000),
            })
            .collect();
        o
    }

    /// On a cluster the templates the aggregation returns are mined into groups as the files'
    /// are: messages that differ in one word are one row, counted together, in both windows.
    #[test]
    fn a_clusters_templates_are_mined_into_groups() {
        let now = overview(&[
            ("E_WORKER: worker alpha lost its lease", 5, 600_000),
            ("E_WORKER: worker beta lost its lease", 7, 300_000),
            ("E_WORKER: worker gamma lost its lease", 2, 900_000),
            ("E_DISK: volume full on /data", 4, 3_500_000),
        ]);
        let before = overview(&[("E_WORKER: worker delta lost its lease", 1, 0)]);
        let window = Window { from_ms: Some(0), to_ms: Some(3_600_000) };
        let baseline = Window { from_ms: Some(-3_600_000), to_ms: Some(0) };
        let view = from_overviews(&now, &before, window, baseline, PatternOptions::default());
        assert_eq!(view.rows.len(), 2, "{:#?}", view.rows);
        let worker = &view.rows[0];
        assert!(worker.template.contains("<*>") && worker.template.starts_with("E_WORKER"), "{}", worker.template);
        assert_eq!((worker.count, worker.unknown), (14, 14));
        assert_eq!((worker.first_seen, worker.last_seen), (Some(300_000), Some(960_000)));
        assert_eq!(worker.example, "example of E_WORKER: worker beta lost its lease", "the biggest member's");
        assert_eq!(worker.members.len(), 3);
        assert!(!worker.new, "first seen an hour before the newest data");
        let disk = &view.rows[1];
        assert_eq!((disk.template.as_str(), disk.count), ("E_DISK: volume full on /data", 4));
        assert!(disk.new, "first seen within the last 15 minutes");
        // what changed: the worker group is one row on both sides (14 against 1), not four
        let worker_changes: Vec<_> = view.changes.iter().filter(|c| c.name.starts_with("E_WORKER")).collect();
        assert_eq!(worker_changes.len(), 1, "{:#?}", view.changes);
    }
}
