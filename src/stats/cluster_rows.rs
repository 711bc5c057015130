//! The Patterns screen's answer from a cluster: the same rows as the files'
//! ([`super::template_rows::compute`]) from what aggregations on the `template` field `ship` writes
//! (every error and warning, keyed as the files key it) say about each template over all the data
//! ([`Seen`]) and in the window ([`InWindow`]), grouped by the same miner over the same keys. Plain
//! data, so that it is tested without a server; the queries are `elastic::patterns`'.

use super::overview::Window;
use super::template_rows::{
    ChangeRow, PatternOptions, PatternsView, TemplateRow, group, settle, sort_and_cap, trend_shape,
};
use crate::enrich::{Enricher, RuleId};
use rustc_hash::FxHashMap;

/// Grouped templates listed per row (as the files keep them).
const MEMBERS_KEPT: usize = 32;

/// One template over all the data (the files' [`super::templates::TemplateStats`] outside its
/// buckets).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    pub key: String,
    /// Its error lines (the rest are warnings).
    pub errors: u64,
    /// Its error lines no rule explained, and the lines each rule explained (by rule id).
    pub unknown: u64,
    pub rules: Vec<(String, u64)>,
    /// Its first and last plausible times, and the message of its earliest line.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub example: String,
}

/// One template in the window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InWindow {
    pub key: String,
    pub count: u64,
    /// Lines per trend point, by the point's start (ms; see [`Shape`]).
    pub trend: Vec<(i64, u64)>,
    /// Components and distinct videos of its timed lines.
    pub components: Vec<String>,
    pub videos: u64,
}

/// What a cluster answered for one Patterns query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterTemplates {
    /// The data's first and last plausible times (every document, templated or not).
    pub data_from: Option<i64>,
    pub data_to: Option<i64>,
    pub seen: Vec<Seen>,
    /// Lines of the templates beyond the aggregation's size (all the data).
    pub over_cap: u64,
    pub window: Vec<InWindow>,
    /// The distinct videos in the window of each group of several templates (its members, all
    /// the data's, sorted), counted over the group's lines together.
    pub group_videos: Vec<(Vec<String>, u64)>,
    /// Lines per template in the baseline, and per error code in the window and the baseline.
    pub baseline: Vec<(String, u64)>,
    pub codes_now: Vec<(String, u64)>,
    pub codes_before: Vec<(String, u64)>,
    /// Error and warning lines in the window without a `template` (shipped by an older version).
    pub untemplated: u64,
}

/// The bucket keys a window covers and how its trend is drawn, as the files do
/// ([`super::template_rows`]): an open end is the data's first or last bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub bucket_ms: i64,
    /// The first and last bucket keys.
    pub from: i64,
    pub to: i64,
    pub points: usize,
    pub per_point: usize,
}

impl Shape {
    pub fn new(window: Window, data_from: Option<i64>, data_to: Option<i64>, bucket_ms: i64) -> Shape {
        let bucket_ms = bucket_ms.max(1);
        let key = |t: i64| t.div_euclid(bucket_ms);
        let from = window.from_ms.map_or(data_from.map_or(0, key), key);
        let to = window.to_ms.map_or(data_to.map_or(0, key), key);
        let (points, per_point) = trend_shape(from, to);
        Shape { bucket_ms, from, to, points, per_point }
    }

    /// The times of the whole buckets covered (inclusive).
    pub fn span(&self) -> (i64, i64) {
        (self.from.saturating_mul(self.bucket_ms), self.to.saturating_add(1).saturating_mul(self.bucket_ms) - 1)
    }

    /// A trend point's length: a `date_histogram` with this `fixed_interval` and [`Shape::offset_ms`]
    /// starts a bucket where each point starts.
    pub fn interval_ms(&self) -> i64 {
        (self.per_point as i64).saturating_mul(self.bucket_ms).max(1)
    }

    pub fn offset_ms(&self) -> i64 {
        self.from.saturating_mul(self.bucket_ms).rem_euclid(self.interval_ms())
    }

    /// The point a `date_histogram` bucket starting at `start_ms` is (`None`: outside the window).
    pub fn point_of(&self, start_ms: i64) -> Option<usize> {
        let at = start_ms.checked_sub(self.from.saturating_mul(self.bucket_ms))?;
        if at < 0 {
            return None;
        }
        usize::try_from(at / self.interval_ms()).ok().filter(|p| *p < self.points)
    }
}

/// The groups of several templates the miner makes of `keys` (each sorted; in order), whose
/// distinct videos are counted together ([`ClusterTemplates::group_videos`]).
pub fn groups_of_several(keys: &[&str]) -> Vec<Vec<String>> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let (ids, _) = group(&keys);
    let mut by_id: FxHashMap<u64, Vec<String>> = FxHashMap::default();
    for (key, id) in keys.iter().zip(&ids) {
        by_id.entry(*id).or_default().push((*key).to_string());
    }
    let mut groups: Vec<Vec<String>> = by_id.into_values().filter(|m| m.len() > 1).collect();
    for g in &mut groups {
        g.sort();
    }
    groups.sort();
    groups
}

/// The keys the rows are mined from: every template of the data, as on files (those of the window
/// too, should the data's have been capped).
pub fn row_keys(answer: &ClusterTemplates) -> Vec<&str> {
    let mut keys: Vec<&str> =
        answer.seen.iter().map(|s| s.key.as_str()).chain(answer.window.iter().map(|w| w.key.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The Patterns screen's answer from a cluster's: rows grouped by the miner over every template of
/// the data (as the files), each with its counts and trend summed, components merged, videos of the
/// group counted together, the rule explaining most of its lines, new as the files say it; and what
/// changed against the baseline.
pub fn rows(
    answer: &ClusterTemplates,
    enricher: &Enricher,
    window: Window,
    baseline: Window,
    options: PatternOptions,
    shape: Shape,
) -> PatternsView {
    let keys = row_keys(answer);
    let (ids, texts) = group(&keys);
    let id_of: FxHashMap<&str, u64> = keys.iter().copied().zip(ids.iter().copied()).collect();
    let seen: FxHashMap<&str, &Seen> = answer.seen.iter().map(|s| (s.key.as_str(), s)).collect();
    let mut all_members: FxHashMap<u64, Vec<&str>> = FxHashMap::default();
    for (key, id) in keys.iter().zip(&ids) {
        all_members.entry(*id).or_default().push(key);
    }
    struct Acc {
        row: TemplateRow,
        rules: FxHashMap<RuleId, u64>,
        /// Each member's videos (the group's when it has several members counted together).
        videos: Vec<u64>,
    }
    let mut groups: FxHashMap<u64, Acc> = FxHashMap::default();
    let mut lines = 0u64;
    let mut in_window: Vec<&InWindow> = answer.window.iter().filter(|w| w.count > 0).collect();
    in_window.sort_by(|a, b| a.key.cmp(&b.key));
    for w in in_window {
        let id = id_of.get(w.key.as_str()).copied().unwrap_or_default();
        lines += w.count;
        let acc = groups.entry(id).or_insert_with(|| Acc {
            row: TemplateRow::empty(texts.get(&id).cloned().unwrap_or_else(|| w.key.clone()), shape.points),
            rules: FxHashMap::default(),
            videos: Vec::new(),
        });
        let row = &mut acc.row;
        row.count += w.count;
        for (start, n) in &w.trend {
            if let Some(p) = shape.point_of(*start).and_then(|p| row.trend.get_mut(p)) {
                *p += n;
            }
        }
        row.components.extend(w.components.iter().cloned());
        acc.videos.push(w.videos);
        if let Some(s) = seen.get(w.key.as_str()) {
            if s.first_ms.is_some() && (row.first_seen.is_none() || s.first_ms < row.first_seen) {
                row.first_seen = s.first_ms;
                row.example = s.example.clone();
            } else if row.example.is_empty() {
                row.example = s.example.clone();
            }
            row.last_seen = row.last_seen.max(s.last_ms);
            row.errors |= s.errors > 0;
            row.unknown += s.unknown;
            for (name, n) in &s.rules {
                if let Some(r) = enricher.rule_id(name) {
                    *acc.rules.entry(r).or_default() += n;
                }
            }
        }
        if row.members.len() < MEMBERS_KEPT {
            row.members.push(w.key.clone());
        }
    }
    let new_after = answer.data_to.map(|l| l - i64::from(options.new_minutes) * 60_000);
    let mut rows: Vec<TemplateRow> = groups
        .into_iter()
        .map(|(id, mut acc)| {
            let row = &mut acc.row;
            let members = all_members.get(&id).map(Vec::as_slice).unwrap_or_default();
            let together =
                answer.group_videos.iter().find(|(m, _)| m.iter().map(String::as_str).eq(members.iter().copied()));
            (row.videos, row.videos_at_least) = match (acc.videos.as_slice(), together) {
                ([one], _) if members.len() <= 1 => (*one, false),
                (_, Some((_, n))) => (*n, false),
                // no count of the group's lines together: the most of one member is a lower bound
                (each, None) => (each.iter().copied().max().unwrap_or(0), true),
            };
            settle(row, &acc.rules, enricher, new_after);
            acc.row
        })
        .collect();
    let total_rows = sort_and_cap(&mut rows);
    let (changes, problem) = changes(answer, window, baseline, options);
    // the span compared: the part of the baseline that has data (as the files)
    let baseline =
        if problem.is_none() { super::changes::baseline_with_data(answer.data_from, baseline) } else { baseline };
    PatternsView {
        window,
        baseline,
        span: answer.data_from.map(|_| shape.span()),
        rows,
        total_rows,
        over_cap: answer.over_cap,
        lines,
        changes,
        new_minutes: options.new_minutes,
        note: note(answer, problem),
        data_to: answer.data_to,
    }
}

/// What the screen says besides the rows: a baseline without data (as the files), error and
/// warning lines without a template (an index shipped by an older version).
/// (The screen shows a note that starts with the baseline's in the changes' panel alone, and from
/// the baseline's on in it: so the baseline's comes last.)
fn note(answer: &ClusterTemplates, baseline_problem: Option<String>) -> Option<String> {
    let mut notes = Vec::new();
    if answer.untemplated > 0 {
        notes.push(format!(
            "cluster: {} error and warning lines in the range have no `template` field (shipped by an older \
             foley-triage) and are not listed; ship them again to list them",
            answer.untemplated
        ));
    }
    notes.extend(baseline_problem);
    (!notes.is_empty()).then(|| notes.join(" · "))
}

/// What changed: templates grouped by the miner over the keys of both windows together (as the
/// files), and codes, the baseline's rates over its part with data; nothing when a window is open
/// or the baseline holds no data or too little (the second value says why, as on files).
fn changes(
    answer: &ClusterTemplates,
    window: Window,
    baseline: Window,
    options: PatternOptions,
) -> (Vec<ChangeRow>, Option<String>) {
    let problem = super::changes::baseline_problem(answer.data_from, window, baseline);
    if super::changes::length(window).is_none() || super::changes::length(baseline).is_none() || problem.is_some() {
        return (Vec::new(), problem);
    }
    // the baseline's counts are the same over its part with data: there is none before it
    let baseline = super::changes::baseline_with_data(answer.data_from, baseline);
    let now: Vec<(&str, u64)> = answer.window.iter().map(|w| (w.key.as_str(), w.count)).collect();
    let before: Vec<(&str, u64)> = answer.baseline.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    let mut keys: Vec<&str> = now.iter().chain(&before).filter(|(_, n)| *n > 0).map(|(k, _)| *k).collect();
    keys.sort_unstable();
    keys.dedup();
    let (ids, texts) = group(&keys);
    let id_of: FxHashMap<&str, u64> = keys.iter().copied().zip(ids.iter().copied()).collect();
    let mut members: FxHashMap<u64, Vec<String>> = FxHashMap::default();
    for (key, id) in keys.iter().zip(&ids) {
        members.entry(*id).or_default().push((*key).to_string());
    }
    let sums = |side: &[(&str, u64)]| -> Vec<(String, u64)> {
        let mut by_group: FxHashMap<u64, u64> = FxHashMap::default();
        for (key, n) in side {
            if let Some(id) = id_of.get(key) {
                *by_group.entry(*id).or_default() += n;
            }
        }
        by_group.into_iter().map(|(id, n)| (texts.get(&id).cloned().unwrap_or_default(), n)).collect()
    };
    let (now, before) = (sums(&now), sums(&before));
    let mut rows = super::changes::classify("template", &now, &before, window, baseline, options);
    let by_text: FxHashMap<&String, u64> = texts.iter().map(|(id, text)| (text, *id)).collect();
    for row in &mut rows {
        if let Some(list) = by_text.get(&row.name).and_then(|id| members.get(id)) {
            row.members.clone_from(list);
        }
    }
    rows.extend(super::changes::classify("code", &answer.codes_now, &answer.codes_before, window, baseline, options));
    super::changes::sort(&mut rows);
    (rows, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn seen(key: &str, first_min: i64, unknown: u64, rules: &[(&str, u64)]) -> Seen {
        Seen {
            key: key.into(),
            errors: unknown + rules.iter().map(|(_, n)| n).sum::<u64>(),
            unknown,
            rules: rules.iter().map(|(r, n)| ((*r).to_string(), *n)).collect(),
            first_ms: Some(first_min * MIN),
            last_ms: Some((first_min + 5) * MIN),
            example: format!("example of {key}"),
        }
    }

    fn in_window(key: &str, trend: &[(i64, u64)], components: &[&str], videos: u64) -> InWindow {
        InWindow {
            key: key.into(),
            count: trend.iter().map(|(_, n)| n).sum(),
            trend: trend.iter().map(|(m, n)| (m * MIN, *n)).collect(),
            components: components.iter().map(|c| (*c).to_string()).collect(),
            videos,
        }
    }

    /// The answer of a cluster into rows: templates differing in one word are one row whose
    /// counts, trend points, components and times combine; its videos are the group's counted
    /// together (a lower bound, said, when the cluster could not count them together); the rule of
    /// most lines explains a row, an unknown row gets a draft rule (`L`); new is the files' rule;
    /// what changed groups both windows' keys together and lists the codes.
    #[test]
    fn a_clusters_answer_becomes_the_files_rows() {
        let enricher = Enricher::builtin();
        let worker = |w: &str| format!("E_WORKER: worker {w} lost its lease");
        let (alpha, beta, gamma) = (worker("alpha"), worker("beta"), worker("gamma"));
        let oom = "CUDA_OOM: out of memory on <*>".to_string();
        let warn = "[inference] queue depth <N> above limit".to_string();
        let window = Window { from_ms: Some(60 * MIN), to_ms: Some(120 * MIN - 1) };
        let baseline = Window { from_ms: Some(0), to_ms: Some(60 * MIN - 1) };
        let answer = ClusterTemplates {
            data_from: Some(0),
            data_to: Some(120 * MIN - 1),
            seen: vec![
                seen(&alpha, 62, 3, &[]),
                seen(&beta, 61, 4, &[]),
                // gamma is only in the baseline: grouped with the others all the same (as on files)
                seen(&gamma, 10, 2, &[]),
                seen(&oom, 30, 0, &[("model-timeout", 2), ("cuda-oom", 9)]),
                seen(&warn, 110, 0, &[]),
            ],
            over_cap: 7,
            window: vec![
                in_window(&alpha, &[(60, 1), (90, 2)], &["inference"], 2),
                in_window(&beta, &[(61, 4)], &["scheduler"], 3),
                in_window(&oom, &[(100, 11)], &["inference"], 5),
                in_window(&warn, &[(110, 6)], &["inference"], 0),
            ],
            group_videos: vec![(vec![alpha.clone(), beta.clone(), gamma.clone()], 4)],
            baseline: vec![(gamma.clone(), 2), (oom.clone(), 1)],
            codes_now: vec![("CUDA_OOM".into(), 11)],
            codes_before: vec![],
            untemplated: 0,
        };
        let options = PatternOptions::default();
        let shape = Shape::new(window, answer.data_from, answer.data_to, MIN);
        assert_eq!((shape.points, shape.per_point), (60, 1));
        let view = rows(&answer, &enricher, window, baseline, options, shape);
        assert_eq!(view.note, None, "a complete answer says nothing more");
        assert_eq!((view.lines, view.total_rows, view.over_cap), (24, 3, 7));
        let row = |prefix: &str| view.rows.iter().find(|r| r.template.starts_with(prefix)).expect(prefix);
        let workers = row("E_WORKER");
        assert_eq!(workers.template, "E_WORKER: worker <*> lost its lease");
        assert_eq!(workers.count, 7);
        assert_eq!((workers.trend[0], workers.trend[1], workers.trend[30]), (1, 4, 2));
        assert_eq!(workers.trend.iter().sum::<u64>(), 7);
        assert_eq!(workers.components, ["inference", "scheduler"]);
        assert_eq!((workers.videos, workers.videos_at_least), (4, false), "the group's videos counted together");
        assert_eq!(workers.first_seen, Some(61 * MIN), "beta's, the earliest of the members in the window");
        assert_eq!(workers.example, format!("example of {beta}"));
        assert_eq!(workers.members, [alpha.clone(), beta.clone()], "gamma has no line in the window");
        assert_eq!((workers.unknown, workers.explanation.rule.as_deref()), (7, None));
        assert_eq!(workers.explanation.category, "unknown");
        assert!(workers.draft.is_some(), "an unknown row can be labelled");
        assert!(!workers.new);
        let oom_row = row("CUDA_OOM");
        assert_eq!(oom_row.explanation.rule.as_deref(), Some("cuda-oom"), "the rule of most lines");
        assert!(oom_row.draft.is_none() && oom_row.errors);
        assert_eq!(oom_row.trend[40], 11);
        let warn_row = row("[inference]");
        assert_eq!((warn_row.errors, warn_row.explanation.category.as_str()), (false, "none"));
        assert!(warn_row.new, "first seen within 15 minutes of the newest data");
        assert_eq!(view.rows[0].template, oom, "most lines first");
        assert_eq!(view.span, Some((60 * MIN, 120 * MIN - 1)));

        // what changed: the worker group is one row on both sides (7 against gamma's 2), the OOM
        // template rose, the warning and the code are new
        let changes: Vec<(&str, &str, &str)> =
            view.changes.iter().map(|c| (c.kind, c.name.as_str(), c.change)).collect();
        assert_eq!(
            changes,
            [
                ("code", "CUDA_OOM", "new"),
                ("template", warn.as_str(), "new"),
                ("template", oom.as_str(), "rose"),
                ("template", "E_WORKER: worker <*> lost its lease", "rose"),
            ],
            "{:#?}",
            view.changes
        );
        let worker_change = view.changes.iter().find(|c| c.name.starts_with("E_WORKER")).unwrap();
        assert_eq!(worker_change.members, [alpha.clone(), beta.clone(), gamma.clone()]);

        // without the group's count together, the most of one member, said to be a lower bound
        let apart = ClusterTemplates { group_videos: Vec::new(), ..answer.clone() };
        let view = rows(&apart, &enricher, window, baseline, options, shape);
        let workers = view.rows.iter().find(|r| r.template.starts_with("E_WORKER")).unwrap();
        assert_eq!((workers.videos, workers.videos_at_least), (3, true));

        // a baseline before the data: nothing compared, said as on files; lines without a
        // template are said too
        let early = ClusterTemplates { data_from: Some(60 * MIN), untemplated: 3, ..answer };
        let view = rows(&early, &enricher, window, baseline, options, shape);
        assert!(view.changes.is_empty());
        let note = view.note.unwrap();
        assert!(note.starts_with("cluster: 3 error and warning lines"), "{note}");
        assert!(note.ends_with(&super::super::changes::baseline_note(Some(60 * MIN))), "{note}");
    }
}
