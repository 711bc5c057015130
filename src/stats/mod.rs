//! Rolling statistics over enriched events: time buckets of counts per level, source, component and
//! code, latency histograms, GPU gauges, job outcomes; the failing videos and unknown-error
//! templates. Everything is mergeable (`merge`), so chunks of a file processed on different cores
//! combine, and the live tail adds batches. Memory grows with the buckets that hold data, distinct
//! failing videos and distinct unknown templates — never with the number of lines, nor with the
//! time between the first and the last event.
//!
//! Events whose time is suspect (far in the future, before 1990: [`crate::parse::time::TimeLimits`])
//! are counted in [`LineCounts`] and in the totals with the untimed events, never in a time bucket,
//! and never as the first or last time of the data. Every counter saturates instead of wrapping.

pub mod changes;
pub mod cluster_rows;
pub mod health;
pub mod histogram;
pub mod lines;
pub mod overview;
pub mod template_rows;
pub mod templates;
pub mod videos;

pub use lines::LineCounts;

use crate::enrich::{Attribution, Enriched, Enricher, RuleId};
use crate::event::{Event, Level, Source};
use crate::parse::time::TimeClass;
use compact_str::CompactString;
use histogram::Histogram;
use rustc_hash::FxHashMap;
use serde::Serialize;
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// Index into [`Stats::codes`].
pub type CodeId = u32;

/// Limits that keep memory bounded on hostile input.
pub const MAX_VIDEOS: usize = 200_000;
pub const MAX_PATTERNS: usize = 5_000;
pub const MAX_CODES: usize = 10_000;

/// A mean/max gauge (GPU memory, utilisation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Gauge {
    pub sum: f64,
    pub count: u32,
    pub max: f64,
}

impl Gauge {
    #[inline]
    pub fn record(&mut self, v: f64) {
        if v.is_finite() {
            self.sum += v;
            // at most one a bucket's event, so below the bucket's count (see `Stats::record_at`)
            self.count += 1;
            self.max = if self.count == 1 { v } else { self.max.max(v) };
        }
    }
    pub fn merge(&mut self, other: &Gauge) {
        if other.count == 0 {
            return;
        }
        self.max = if self.count == 0 { other.max } else { self.max.max(other.max) };
        self.sum += other.sum;
        self.count = self.count.saturating_add(other.count);
    }
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// Counts of one time bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucket {
    pub events: u32,
    pub errors: u32,
    pub by_level: [u32; 6],
    pub by_source: [u32; 6],
    pub component_events: Vec<u32>,
    pub component_errors: Vec<u32>,
    /// Events carrying an explicit error code: (code, count).
    pub codes: SmallVec<[(CodeId, u32); 8]>,
    /// Errors explained by each rule.
    pub rules: SmallVec<[(RuleId, u32); 8]>,
    pub unknown_errors: u32,
    /// Job outcomes (one per generation job) and how many failed.
    pub jobs: u32,
    pub job_failures: u32,
    pub latency: Vec<Histogram>,
    pub gpu_mem_bytes: Gauge,
    pub gpu_util_pct: Gauge,
}

/// Adds to a counter, saturating at its maximum instead of wrapping.
#[inline]
fn add(counter: &mut u32, n: u32) {
    *counter = counter.saturating_add(n);
}

#[inline]
fn add_pair<K: PartialEq + Copy>(pairs: &mut SmallVec<[(K, u32); 8]>, key: K, n: u32) {
    match pairs.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => add(c, n),
        None => pairs.push((key, n)),
    }
}

/// Counts one for `key` (below the bucket's event count: cannot wrap, see `Stats::record_at`).
#[inline]
fn count_pair<K: PartialEq + Copy>(pairs: &mut SmallVec<[(K, u32); 8]>, key: K) {
    match pairs.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => *c += 1,
        None => pairs.push((key, 1)),
    }
}

impl Bucket {
    pub fn new(components: usize) -> Bucket {
        Bucket {
            component_events: vec![0; components],
            component_errors: vec![0; components],
            latency: vec![Histogram::default(); components],
            ..Bucket::default()
        }
    }

    /// Adds `other` into `self`, translating its code ids through `code_map`.
    pub fn merge(&mut self, other: &Bucket, code_map: &[CodeId]) {
        add(&mut self.events, other.events);
        add(&mut self.errors, other.errors);
        for i in 0..6 {
            add(&mut self.by_level[i], other.by_level[i]);
            add(&mut self.by_source[i], other.by_source[i]);
        }
        for (a, b) in self.component_events.iter_mut().zip(&other.component_events) {
            add(a, *b);
        }
        for (a, b) in self.component_errors.iter_mut().zip(&other.component_errors) {
            add(a, *b);
        }
        for (code, n) in &other.codes {
            add_pair(&mut self.codes, code_map.get(*code as usize).copied().unwrap_or(*code), *n);
        }
        for (rule, n) in &other.rules {
            add_pair(&mut self.rules, *rule, *n);
        }
        add(&mut self.unknown_errors, other.unknown_errors);
        add(&mut self.jobs, other.jobs);
        add(&mut self.job_failures, other.job_failures);
        for (a, b) in self.latency.iter_mut().zip(&other.latency) {
            a.merge(b);
        }
        self.gpu_mem_bytes.merge(&other.gpu_mem_bytes);
        self.gpu_util_pct.merge(&other.gpu_util_pct);
    }

    pub fn code_count(&self, code: CodeId) -> u32 {
        self.codes.iter().find(|(c, _)| *c == code).map_or(0, |(_, n)| *n)
    }
}

/// What is known of one failing video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoStats {
    /// Events with an explicit error code for this video.
    pub failures: u32,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub codes: SmallVec<[(CodeId, u32); 2]>,
    /// The latest failure's explanation, with its time.
    pub last_attribution: Option<(i64, Attribution)>,
    /// The request id of the latest failure that carried one (for the retry link), with its time.
    pub last_request_id: Option<CompactString>,
    pub last_request_ms: Option<i64>,
    /// Failures per (time bucket, code), for windowed rankings and a code's videos in a window
    /// ([`ANY_CODE`] where the code is not known per bucket).
    pub by_bucket: SmallVec<[(i64, CodeId, u32); 4]>,
}

/// The code of a failing video's bucket entry whose code is not known (statistics rebuilt from a
/// cluster's aggregations).
pub const ANY_CODE: CodeId = CodeId::MAX;

impl VideoStats {
    /// Failures in the buckets `from_key..=to_key` (all of them when `None`), of one code or any.
    pub fn failures_in(&self, keys: Option<(i64, i64)>, code: Option<CodeId>) -> u64 {
        self.by_bucket
            .iter()
            .filter(|(k, _, _)| keys.is_none_or(|(from, to)| (from..=to).contains(k)))
            .filter(|(_, c, _)| code.is_none_or(|code| *c == code || *c == ANY_CODE))
            .map(|(_, _, n)| *n as u64)
            .sum()
    }
}

/// One unknown-error template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternStats {
    pub count: u64,
    pub example: String,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub by_bucket: SmallVec<[(i64, u32); 4]>,
}

/// An id (video, request) sanitised for display and capped, inline when short: ids are, and this
/// runs for every failure, so it should not allocate.
pub fn clean_id(s: &str) -> CompactString {
    let clean = crate::text::sanitize(s);
    if clean.len() <= 128 {
        CompactString::new(&*clean)
    } else {
        CompactString::new(crate::text::sanitize_owned(s, 128))
    }
}

/// Whether a failure at `t` explained by `new` replaces the video's current explanation `old`: the
/// latest failure explains a video; among failures at the same millisecond (a job's lines from
/// several sources often share one), the rule listed first in the rule base wins, and unknown
/// comes last. So the answer does not depend on the order lines were read in, and the cluster
/// backend applies the same rule to its documents ([`attribution_rank`]).
pub fn explains_later(old: Option<(i64, Attribution)>, t: i64, new: Attribution) -> bool {
    old.is_none_or(|(at, a)| at < t || (at == t && attribution_rank(new) < attribution_rank(a)))
}

/// The order of explanations at the same time: rules by their place in the rule base, then unknown.
pub fn attribution_rank(a: Attribution) -> u32 {
    match a {
        Attribution::Rule(id) => id as u32,
        Attribution::Unknown | Attribution::None => u32::MAX,
    }
}

/// Whether request `new` at `t` replaces the video's retry request: the latest wins; at the same
/// millisecond, the greatest id (the cluster backend sorts the same way).
fn retries_later(old_ms: Option<i64>, old: Option<&str>, t: i64, new: &str) -> bool {
    match old_ms {
        None => true,
        Some(at) => at < t || (at == t && old.is_none_or(|o| new > o)),
    }
}

/// Statistics over a stream of enriched events.
#[derive(Debug, Clone)]
pub struct Stats {
    pub bucket_ms: i64,
    components: usize,
    pub lines: LineCounts,
    /// Interned error codes (terminal-safe).
    pub codes: Vec<String>,
    code_index: FxHashMap<String, CodeId>,
    buckets: BTreeMap<i64, Bucket>,
    /// The bucket being filled, kept out of the map: logs are mostly in time order.
    hot: Option<(i64, Bucket)>,
    /// Events without a usable time: none, or a suspect one. In the totals of the whole input
    /// only, never in a window.
    pub untimed: Bucket,
    pub videos: FxHashMap<CompactString, VideoStats>,
    pub patterns: FxHashMap<String, PatternStats>,
    /// The templates of every error and warning (the Patterns screen).
    pub templates: FxHashMap<String, templates::TemplateStats>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The oldest and newest times of events outside the window (`--since`/`--until`), to say where
    /// the data is when the window holds none of it.
    pub filtered_span: Option<(i64, i64)>,
    /// Failing videos / templates not kept because a cap was reached.
    pub videos_over_cap: u64,
    pub patterns_over_cap: u64,
    pub templates_over_cap: u64,
}

impl Stats {
    pub fn new(components: usize, bucket_ms: i64) -> Stats {
        Stats {
            bucket_ms: bucket_ms.max(1000),
            components,
            lines: LineCounts::default(),
            codes: Vec::new(),
            code_index: FxHashMap::default(),
            buckets: BTreeMap::new(),
            hot: None,
            untimed: Bucket::new(components),
            videos: FxHashMap::default(),
            patterns: FxHashMap::default(),
            templates: FxHashMap::default(),
            first_ms: None,
            last_ms: None,
            filtered_span: None,
            videos_over_cap: 0,
            patterns_over_cap: 0,
            templates_over_cap: 0,
        }
    }

    pub fn components(&self) -> usize {
        self.components
    }

    /// The bucket key (start time / bucket length) of a time.
    #[inline]
    pub fn bucket_of(&self, ms: i64) -> i64 {
        ms.div_euclid(self.bucket_ms)
    }

    #[inline]
    fn bucket_mut(&mut self, key: Option<i64>) -> &mut Bucket {
        let Some(key) = key else { return &mut self.untimed };
        if self.hot.as_ref().is_none_or(|(k, _)| *k != key) {
            if let Some((old_key, old)) = self.hot.take() {
                self.put_back(old_key, old);
            }
            let bucket = self.buckets.remove(&key).unwrap_or_else(|| Bucket::new(self.components));
            self.hot = Some((key, bucket));
        }
        match &mut self.hot {
            Some((_, bucket)) => bucket,
            None => &mut self.untimed, // unreachable: hot was just set
        }
    }

    fn put_back(&mut self, key: i64, bucket: Bucket) {
        match self.buckets.get_mut(&key) {
            Some(existing) => existing.merge(&bucket, &[]),
            None => {
                self.buckets.insert(key, bucket);
            }
        }
    }

    /// Moves the hot bucket into the map (before reading buckets).
    pub fn settle(&mut self) {
        if let Some((key, bucket)) = self.hot.take() {
            self.put_back(key, bucket);
        }
    }

    /// Buckets in time order (call [`Stats::settle`] first to include the hot one).
    pub fn buckets(&self) -> impl Iterator<Item = (i64, &Bucket)> {
        self.buckets.iter().map(|(k, b)| (*k, b))
    }

    /// Buckets whose keys are in `from_key..=to_key`.
    pub fn bucket_range(&self, from_key: i64, to_key: i64) -> impl Iterator<Item = (i64, &Bucket)> {
        self.buckets.range(from_key..=to_key.max(from_key)).map(|(k, b)| (*k, b))
    }

    pub fn code_id(&self, code: &str) -> Option<CodeId> {
        self.code_index.get(code).copied()
    }

    /// The bucket with this key, created if missing (for statistics rebuilt from aggregations).
    pub fn bucket_entry(&mut self, key: i64) -> &mut Bucket {
        self.settle();
        let components = self.components;
        self.buckets.entry(key).or_insert_with(|| Bucket::new(components))
    }

    /// The id of a code, interned if new.
    pub fn code_id_or_insert(&mut self, code: &str) -> CodeId {
        self.intern(code)
    }

    pub fn code(&self, id: CodeId) -> &str {
        self.codes.get(id as usize).map(String::as_str).unwrap_or("?")
    }

    #[inline]
    fn intern(&mut self, code: &str) -> CodeId {
        if let Some(id) = self.code_index.get(code) {
            return *id;
        }
        if self.codes.len() >= MAX_CODES {
            return self.intern_fallback();
        }
        let clean = crate::text::sanitize_owned(code, 128);
        let id = self.codes.len() as CodeId;
        self.codes.push(clean);
        self.code_index.insert(code.to_string(), id);
        id
    }

    fn intern_fallback(&mut self) -> CodeId {
        const OTHER: &str = "<other codes>";
        if let Some(id) = self.code_index.get(OTHER) {
            return *id;
        }
        let id = self.codes.len() as CodeId;
        self.codes.push(OTHER.to_string());
        self.code_index.insert(OTHER.to_string(), id);
        id
    }

    /// Remembers the time of an event outside the window.
    #[inline]
    pub fn note_filtered(&mut self, ts: i64) {
        self.filtered_span = Some(match self.filtered_span {
            Some((first, last)) => (first.min(ts), last.max(ts)),
            None => (ts, ts),
        });
    }

    /// Counts one physical line that starts an event (`parsed` or not).
    #[inline]
    pub fn count_line(&mut self, source: Source, parsed: bool) {
        self.lines.total += 1;
        self.lines.by_source[source.index()] += 1;
        if parsed {
            self.lines.parsed += 1;
        } else {
            self.lines.unparsed += 1;
        }
    }

    /// Records one enriched event at its time (counted as untimed when it has none).
    #[inline]
    pub fn record(&mut self, event: &Event<'_>, enriched: &Enriched, enricher: &Enricher) {
        if event.ts_ms.is_none() {
            self.lines.untimed += 1;
        }
        self.record_at(event, event.ts_ms, enriched, enricher);
    }

    /// Records one enriched event whose time is suspect (`class` says which way): counted, and kept
    /// with the untimed events, out of every time bucket.
    pub fn record_suspect(&mut self, event: &Event<'_>, class: TimeClass, enriched: &Enriched, enricher: &Enricher) {
        self.lines.count_suspect(class);
        self.record_at(event, None, enriched, enricher);
    }

    /// Records one enriched event in the bucket of `ts` (the untimed one for `None`).
    #[inline]
    fn record_at(&mut self, event: &Event<'_>, ts: Option<i64>, enriched: &Enriched, enricher: &Enricher) {
        if let Some(t) = ts {
            self.first_ms = Some(self.first_ms.map_or(t, |f| f.min(t)));
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        }
        let key = ts.map(|t| self.bucket_of(t));
        let code_id = event.error_code.as_deref().map(|c| self.intern(c));
        let component = enriched.component as usize;
        let bucket = self.bucket_mut(key);
        // an event adds at most one to each count of its bucket, so every count is at most the
        // bucket's `events`, and merges saturate: while `events` is below the maximum, none of the
        // plain increments below can wrap. A full bucket stops counting (saturated).
        if bucket.events < u32::MAX {
            bucket.events += 1;
            bucket.by_level[event.level.index()] += 1;
            bucket.by_source[event.source.index()] += 1;
            if let Some(c) = bucket.component_events.get_mut(component) {
                *c += 1;
            }
            if enriched.is_error {
                bucket.errors += 1;
                if let Some(c) = bucket.component_errors.get_mut(component) {
                    *c += 1;
                }
            }
            if let Some(code) = code_id {
                count_pair(&mut bucket.codes, code);
            }
            match enriched.attribution {
                Attribution::Rule(rule) => count_pair(&mut bucket.rules, rule),
                Attribution::Unknown => bucket.unknown_errors += 1,
                Attribution::None => {}
            }
            if event.job_outcome && event.video_id.is_some() {
                bucket.jobs += 1;
                if enriched.is_error {
                    bucket.job_failures += 1;
                } else {
                    for stage in &enricher.components.pipeline {
                        let stage = *stage as usize;
                        if stage != component
                            && let Some(c) = bucket.component_events.get_mut(stage)
                        {
                            *c += 1;
                        }
                    }
                }
            }
            if let Some(latency) = event.latency_ms
                && let Some(h) = bucket.latency.get_mut(component)
            {
                h.record(latency);
            }
            if let Some(v) = event.gpu_mem_bytes {
                bucket.gpu_mem_bytes.record(v);
            }
            if let Some(v) = event.gpu_util_pct {
                bucket.gpu_util_pct.record(v);
            }
        }
        if let (Some(code), Some(video)) = (code_id, event.video_id.as_deref()) {
            self.record_video_failure(video, code, ts, key, enriched.attribution, event.request_id.as_deref());
        }
        if enriched.attribution == Attribution::Unknown {
            self.record_unknown(event, ts, key, enricher);
        }
        if templates::wanted(event, enriched) {
            self.record_template(event, enriched, ts, key);
        }
    }

    fn record_video_failure(
        &mut self,
        video: &str,
        code: CodeId,
        ts: Option<i64>,
        key: Option<i64>,
        attribution: Attribution,
        request_id: Option<&str>,
    ) {
        let stats = match self.videos.get_mut(video) {
            Some(s) => s,
            None => {
                if self.videos.len() >= MAX_VIDEOS {
                    self.videos_over_cap += 1;
                    return;
                }
                self.videos.entry(clean_id(video)).or_default()
            }
        };
        add(&mut stats.failures, 1);
        add_pair_small(&mut stats.codes, code, 1);
        if let Some(t) = ts {
            stats.first_ms = Some(stats.first_ms.map_or(t, |f| f.min(t)));
            stats.last_ms = Some(stats.last_ms.map_or(t, |l| l.max(t)));
            if explains_later(stats.last_attribution, t, attribution) {
                stats.last_attribution = Some((t, attribution));
            }
            if let Some(r) = request_id
                && retries_later(stats.last_request_ms, stats.last_request_id.as_deref(), t, r)
            {
                stats.last_request_id = Some(clean_id(r));
                stats.last_request_ms = Some(t);
            }
        } else if stats.last_attribution.is_none() {
            stats.last_attribution = Some((i64::MIN, attribution));
        }
        if let Some(k) = key {
            add_triple(&mut stats.by_bucket, k, code, 1);
        }
    }

    /// Adds everything `other` counted. Both must use the same components and bucket length.
    pub fn merge(&mut self, mut other: Stats) {
        self.settle();
        other.settle();
        let code_map: Vec<CodeId> = other.codes.iter().map(|c| self.intern(c)).collect();
        let remap = |id: CodeId| code_map.get(id as usize).copied().unwrap_or(id);
        self.lines.merge(&other.lines);
        for (key, bucket) in &other.buckets {
            match self.buckets.get_mut(key) {
                Some(existing) => existing.merge(bucket, &code_map),
                None => {
                    let mut fresh = Bucket::new(self.components);
                    fresh.merge(bucket, &code_map);
                    self.buckets.insert(*key, fresh);
                }
            }
        }
        self.untimed.merge(&other.untimed, &code_map);
        for (video, theirs) in other.videos {
            let len = self.videos.len();
            let ours = match self.videos.get_mut(&video) {
                Some(v) => v,
                None if len >= MAX_VIDEOS => {
                    self.videos_over_cap += 1;
                    continue;
                }
                None => self.videos.entry(video).or_default(),
            };
            add(&mut ours.failures, theirs.failures);
            for (code, n) in &theirs.codes {
                add_pair_small(&mut ours.codes, remap(*code), *n);
            }
            for (k, code, n) in &theirs.by_bucket {
                let code = if *code == ANY_CODE { ANY_CODE } else { remap(*code) };
                add_triple(&mut ours.by_bucket, *k, code, *n);
            }
            ours.first_ms = min_opt(ours.first_ms, theirs.first_ms);
            ours.last_ms = max_opt(ours.last_ms, theirs.last_ms);
            if let Some((t, a)) = theirs.last_attribution
                && explains_later(ours.last_attribution, t, a)
            {
                ours.last_attribution = Some((t, a));
            }
            if let Some(t) = theirs.last_request_ms
                && let Some(r) = theirs.last_request_id.as_deref()
                && retries_later(ours.last_request_ms, ours.last_request_id.as_deref(), t, r)
            {
                ours.last_request_ms = Some(t);
                ours.last_request_id = theirs.last_request_id;
            }
        }
        for (template, theirs) in other.patterns {
            let len = self.patterns.len();
            match self.patterns.get_mut(&template) {
                Some(ours) => {
                    ours.count = ours.count.saturating_add(theirs.count);
                    if theirs.first_ms.is_some() && (ours.first_ms.is_none() || theirs.first_ms < ours.first_ms) {
                        ours.example = theirs.example;
                    }
                    ours.first_ms = min_opt(ours.first_ms, theirs.first_ms);
                    ours.last_ms = max_opt(ours.last_ms, theirs.last_ms);
                    for (k, n) in &theirs.by_bucket {
                        add_pair_small(&mut ours.by_bucket, *k, *n);
                    }
                }
                None if len >= MAX_PATTERNS => self.patterns_over_cap += 1,
                None => {
                    self.patterns.insert(template, theirs);
                }
            }
        }
        self.merge_templates(std::mem::take(&mut other.templates), other.templates_over_cap);
        self.first_ms = min_opt(self.first_ms, other.first_ms);
        self.last_ms = max_opt(self.last_ms, other.last_ms);
        if let Some((first, last)) = other.filtered_span {
            self.note_filtered(first);
            self.note_filtered(last);
        }
        self.videos_over_cap = self.videos_over_cap.saturating_add(other.videos_over_cap);
        self.patterns_over_cap = self.patterns_over_cap.saturating_add(other.patterns_over_cap);
    }

    /// Drops buckets (and per-video / per-template history) older than `before_ms`; for the live
    /// console, which keeps a bounded history.
    pub fn trim_before(&mut self, before_ms: i64) {
        self.settle();
        let key = self.bucket_of(before_ms);
        self.buckets = self.buckets.split_off(&key);
        self.videos.retain(|_, v| {
            v.by_bucket.retain(|(k, _, _)| *k >= key);
            !v.by_bucket.is_empty()
        });
        self.patterns.retain(|_, p| {
            p.by_bucket.retain(|(k, _)| *k >= key);
            !p.by_bucket.is_empty()
        });
        self.templates.retain(|_, t| t.trim_before(key));
    }

    /// Level counts over all time, for convenience.
    pub fn level_total(&self, level: Level) -> u64 {
        let hot = self.hot.as_ref().map_or(0, |(_, b)| b.by_level[level.index()] as u64);
        self.buckets.values().map(|b| b.by_level[level.index()] as u64).sum::<u64>()
            + self.untimed.by_level[level.index()] as u64
            + hot
    }
}

#[inline]
fn add_pair_small<K: PartialEq + Copy, const N: usize>(pairs: &mut SmallVec<[(K, u32); N]>, key: K, n: u32) {
    match pairs.iter_mut().rev().find(|(k, _)| *k == key) {
        Some((_, c)) => add(c, n),
        None => pairs.push((key, n)),
    }
}

#[inline]
fn add_triple<const N: usize>(entries: &mut SmallVec<[(i64, CodeId, u32); N]>, key: i64, code: CodeId, n: u32) {
    match entries.iter_mut().rev().find(|(k, c, _)| *k == key && *c == code) {
        Some((_, _, count)) => *count += n,
        None => entries.push((key, code, n)),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
