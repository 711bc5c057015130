//! The templates of every error and warning (not only the unknown ones), for the Patterns screen and
//! "what changed": per template its lines per time bucket and component, the videos it hit (a
//! bounded list of (bucket, video)), the rules that explained its lines and how many none did.
//! Keyed like the unknown-error panel ([`crate::patterns::unknown_template`]: `CODE: masked message`
//! or `[source] masked message`); grouped by the miner when a window is asked for
//! ([`super::template_rows`]). Mergeable, bounded ([`MAX_TEMPLATES`], [`VIDEOS_KEPT`]).

use super::{MAX_PATTERNS, PatternStats, add_pair_small, max_opt, min_opt};
use crate::enrich::Enricher;
use crate::enrich::{Attribution, Enriched, RuleId};
use crate::event::{Event, Level};
use compact_str::CompactString;
use smallvec::SmallVec;

/// Templates kept; beyond it new ones are counted, not kept.
pub const MAX_TEMPLATES: usize = 5_000;
/// (bucket, video) pairs kept per template; beyond it the count of videos is a lower bound.
pub const VIDEOS_KEPT: usize = 512;

/// One template of errors and warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateStats {
    /// Lines, and among them errors (the rest are warnings).
    pub count: u64,
    pub errors: u64,
    /// The message of its earliest line.
    pub example: String,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// (bucket key, component, lines).
    pub by_bucket: SmallVec<[(i64, u16, u32); 4]>,
    /// (bucket key, video) pairs, at most [`VIDEOS_KEPT`].
    pub videos: Vec<(i64, CompactString)>,
    pub videos_over_cap: bool,
    /// Lines each rule explained, and lines of errors no rule explained.
    pub rules: SmallVec<[(RuleId, u32); 2]>,
    pub unknown: u64,
}

/// Whether an event is templated: every error, and every warning.
pub fn wanted(event: &Event<'_>, enriched: &Enriched) -> bool {
    enriched.is_error || event.level == Level::Warn
}

impl TemplateStats {
    /// Counts one line at `ts` in bucket `key`.
    pub fn record(&mut self, event: &Event<'_>, enriched: &Enriched, ts: Option<i64>, key: Option<i64>) {
        self.count = self.count.saturating_add(1);
        if enriched.is_error {
            self.errors = self.errors.saturating_add(1);
        }
        if let Some(t) = ts {
            if self.first_ms.is_none_or(|f| t < f) {
                self.first_ms = Some(t);
                self.example = crate::text::sanitize_owned(&event.message, 512);
            }
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        } else if self.example.is_empty() {
            self.example = crate::text::sanitize_owned(&event.message, 512);
        }
        match enriched.attribution {
            Attribution::Rule(rule) => bump_rule(&mut self.rules, rule, 1),
            Attribution::Unknown => self.unknown = self.unknown.saturating_add(1),
            Attribution::None => {}
        }
        if let Some(k) = key {
            bump(&mut self.by_bucket, k, enriched.component, 1);
            if let Some(video) = event.video_id.as_deref() {
                self.add_video(k, video);
            }
        }
    }

    fn add_video(&mut self, key: i64, video: &str) {
        // logs come mostly in time order: a repeat is among the last pairs
        if self.videos.iter().rev().take(8).any(|(k, v)| *k == key && v == video) {
            return;
        }
        if self.videos.len() >= VIDEOS_KEPT {
            self.videos_over_cap = true;
            return;
        }
        self.videos.push((key, super::clean_id(video)));
    }

    /// Adds what `other` counted.
    pub fn merge(&mut self, other: TemplateStats) {
        self.count = self.count.saturating_add(other.count);
        self.errors = self.errors.saturating_add(other.errors);
        if other.first_ms.is_some() && (self.first_ms.is_none() || other.first_ms < self.first_ms) {
            self.example = other.example;
        }
        self.first_ms = min_opt(self.first_ms, other.first_ms);
        self.last_ms = max_opt(self.last_ms, other.last_ms);
        for (k, c, n) in other.by_bucket {
            bump(&mut self.by_bucket, k, c, n);
        }
        for (k, v) in other.videos {
            self.add_video(k, &v);
        }
        self.videos_over_cap |= other.videos_over_cap;
        for (r, n) in other.rules {
            bump_rule(&mut self.rules, r, n);
        }
        self.unknown = self.unknown.saturating_add(other.unknown);
    }

    /// Drops the history before bucket `key`; false when nothing is left.
    pub fn trim_before(&mut self, key: i64) -> bool {
        self.by_bucket.retain(|(k, _, _)| *k >= key);
        self.videos.retain(|(k, _)| *k >= key);
        !self.by_bucket.is_empty()
    }
}

fn bump(entries: &mut SmallVec<[(i64, u16, u32); 4]>, key: i64, component: u16, n: u32) {
    match entries.iter_mut().rev().find(|(k, c, _)| *k == key && *c == component) {
        Some((_, _, count)) => *count = count.saturating_add(n),
        None => entries.push((key, component, n)),
    }
}

fn bump_rule(entries: &mut SmallVec<[(RuleId, u32); 2]>, rule: RuleId, n: u32) {
    match entries.iter_mut().find(|(r, _)| *r == rule) {
        Some((_, count)) => *count = count.saturating_add(n),
        None => entries.push((rule, n)),
    }
}

impl super::Stats {
    /// Counts an error or warning under its template (kept up to [`MAX_TEMPLATES`]).
    pub(super) fn record_template(
        &mut self,
        event: &Event<'_>,
        enriched: &Enriched,
        ts: Option<i64>,
        key: Option<i64>,
    ) {
        let template = crate::patterns::unknown_template(event);
        let len = self.templates.len();
        let stats = match self.templates.get_mut(&template) {
            Some(s) => s,
            None if len >= MAX_TEMPLATES => {
                self.templates_over_cap = self.templates_over_cap.saturating_add(1);
                return;
            }
            None => self.templates.entry(template).or_default(),
        };
        stats.record(event, enriched, ts, key);
    }

    pub(super) fn merge_templates(&mut self, theirs: rustc_hash::FxHashMap<String, TemplateStats>, over_cap: u64) {
        self.templates_over_cap = self.templates_over_cap.saturating_add(over_cap);
        for (template, t) in theirs {
            let len = self.templates.len();
            match self.templates.get_mut(&template) {
                Some(ours) => ours.merge(t),
                None if len >= MAX_TEMPLATES => self.templates_over_cap = self.templates_over_cap.saturating_add(1),
                None => {
                    self.templates.insert(template, t);
                }
            }
        }
    }

    /// Counts an unknown error under its template (the overview's unknown-error panel).
    pub(super) fn record_unknown(&mut self, event: &Event<'_>, ts: Option<i64>, key: Option<i64>, enricher: &Enricher) {
        let _ = enricher;
        let template = crate::patterns::unknown_template(event);
        let len = self.patterns.len();
        let stats = match self.patterns.get_mut(&template) {
            Some(s) => s,
            None if len >= MAX_PATTERNS => {
                self.patterns_over_cap += 1;
                return;
            }
            None => self.patterns.entry(template).or_insert_with(|| PatternStats {
                example: crate::text::sanitize_owned(&event.message, 512),
                ..PatternStats::default()
            }),
        };
        stats.count = stats.count.saturating_add(1);
        if let Some(t) = ts {
            if stats.first_ms.is_none_or(|f| t < f) {
                stats.first_ms = Some(t);
                stats.example = crate::text::sanitize_owned(&event.message, 512);
            }
            stats.last_ms = Some(stats.last_ms.map_or(t, |l| l.max(t)));
        }
        if let Some(k) = key {
            add_pair_small(&mut stats.by_bucket, k, 1);
        }
    }
}
