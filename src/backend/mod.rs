//! The questions the screens ask, behind one interface: the overview of a window, the live tail,
//! the related lines of a video. The local backend answers from files through the engine; an
//! Elasticsearch backend answers the same questions with aggregations and searches.

pub mod alerts;
pub mod cancel;
pub mod elastic;
pub mod index;
pub mod lines;
pub mod lines_at;
pub mod local;
pub mod range;
pub mod rule_watch;
pub mod scan;
pub mod tail;
pub mod worker;

use crate::enrich::{Attribution, Enricher};
use crate::event::OwnedEvent;
use crate::stats::overview::{Explanation, Overview, VideoRow, Window};
use crate::stats::template_rows::{PatternOptions, PatternsView};

/// Everything known about one video, for the drill-down: its lines, and the facts computed from
/// them (whatever the top list holds).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Related {
    pub video_id: String,
    /// Every related line from every source, in time order.
    pub events: Vec<OwnedEvent>,
    /// True when more lines matched than were kept.
    pub truncated: bool,
    pub explanation: Explanation,
    /// The facts of the video from its own lines ([`facts_of`]); `None` when no line mentions it.
    pub row: Option<VideoRow>,
    /// Names of the inputs, by `Origin::file`.
    pub files: Vec<String>,
}

impl Related {
    /// The drill-down of a video from its lines (in time order): its facts and explanation are
    /// computed from them, the same way on every backend.
    pub fn from_lines(
        enricher: &Enricher,
        video_id: &str,
        events: Vec<OwnedEvent>,
        truncated: bool,
        files: Vec<String>,
    ) -> Related {
        let row = facts_of(enricher, video_id, &events);
        let explanation = match &row {
            Some(r) if r.failures == 0 && r.rule.is_none() => Explanation::none(),
            _ => explain_related(enricher, video_id, &events),
        };
        Related { video_id: video_id.to_string(), events, truncated, explanation, row, files }
    }
}

pub use range::TimeRange;

/// The range a console looks at (the former name, kept for the callers that only pass it on).
pub type Span = TimeRange;

/// A free-text search over every line in a time range (not only the tail's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    /// The text searched for: a phrase (on files: the exact bytes, at word boundaries), or an id.
    pub text: String,
    /// Times searched, milliseconds since the epoch, inclusive; `None`: unbounded.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Matches kept at most (the count goes on).
    pub limit: usize,
}

/// What the Patterns screen asks: a range, a baseline (`None`: the same length just before).
#[derive(Debug, Clone, PartialEq)]
pub struct PatternsQuery {
    pub range: TimeRange,
    pub baseline: Option<TimeRange>,
    pub options: PatternOptions,
}

impl PatternsQuery {
    /// The baseline window of the resolved window (open when there is none: changes are empty).
    pub fn baseline_window(&self, window: Window) -> Window {
        match self.baseline {
            Some(b) => b.window(window.to_ms),
            None => crate::stats::changes::baseline_before(window).unwrap_or(Window::ALL),
        }
    }
}

/// Matches kept by default.
pub const SEARCH_LIMIT: usize = 1000;

impl SearchQuery {
    pub fn new(text: &str, from_ms: Option<i64>, to_ms: Option<i64>) -> SearchQuery {
        SearchQuery { text: text.to_string(), from_ms, to_ms, limit: SEARCH_LIMIT }
    }

    /// True when `ts_ms` is in the range (an untimed line only when the range is unbounded).
    pub fn in_range(&self, ts_ms: Option<i64>) -> bool {
        match ts_ms {
            Some(t) => self.from_ms.is_none_or(|f| t >= f) && self.to_ms.is_none_or(|u| t <= u),
            None => self.from_ms.is_none() && self.to_ms.is_none(),
        }
    }
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResult {
    pub query: SearchQuery,
    /// The matching lines kept, in time order (at most `query.limit`).
    pub matches: Vec<OwnedEvent>,
    /// Lines that matched in all; `total_at_least` when the server only counted so far.
    pub total: u64,
    pub total_at_least: bool,
    /// More lines matched than were kept.
    pub capped: bool,
    /// The search was cancelled before it finished (what it found so far is kept).
    pub cancelled: bool,
    /// Why the search failed, when it did.
    pub error: Option<String>,
    /// Names of the inputs, by `Origin::file`.
    pub files: Vec<String>,
}

/// The data a console shows, wherever it comes from.
pub trait Backend: Send {
    /// One line naming the source(s), for the header.
    fn describe(&self) -> String;
    /// Reads whatever is new (live sources); returns notices for the status line.
    fn refresh(&mut self) -> Vec<String>;
    /// The overview of a time range (resolved against the newest data).
    fn overview(&mut self, range: TimeRange) -> Overview;
    /// The counts of a range's overview alone (totals, error rate, series, components and health;
    /// the lists empty, marked [`crate::stats::overview::Lists::Loading`]), for a backend whose whole
    /// answer can be slow: the engine shows them first, then asks [`Backend::overview`] for the
    /// rest. `None` (the default): this backend answers whole at once.
    fn overview_counts(&mut self, range: TimeRange) -> Option<Overview> {
        let _ = range;
        None
    }
    /// Tail events with a sequence number above `after`, oldest first, at most `limit`.
    fn tail(&self, after: u64, limit: usize) -> Vec<(u64, OwnedEvent)>;
    /// Everything related to a video.
    fn related(&mut self, video_id: &str) -> Related;
    /// Every video that failed with `code` in the range, most failures first.
    fn videos_with_code(&mut self, code: &str, range: TimeRange) -> Vec<VideoRow> {
        self.overview(range).top_failing_videos.into_iter().filter(|v| v.codes.iter().any(|c| c == code)).collect()
    }
    /// The templates of errors and warnings in the range, and what changed against the baseline
    /// (by default the same length just before). This default answers from two overviews
    /// ([`patterns_from_overviews`]: unknown templates and codes only, said in the answer's note).
    fn patterns(&mut self, query: &PatternsQuery) -> PatternsView {
        patterns_from_overviews(self, query)
    }
    /// The lines of a time span that pass a query (context, a panel's lines), in time order.
    fn lines(&mut self, query: &lines::LineQuery) -> lines::Lines;
    /// Every line in the query's time range that holds its text, whatever the tail keeps;
    /// `progress` hears (done, total) in bytes or documents; stops early when `cancel` fires. This
    /// default searches the tail only.
    fn search(
        &mut self,
        query: &SearchQuery,
        cancel: &cancel::Canceller,
        progress: &mut dyn FnMut(u64, u64),
    ) -> SearchResult {
        let _ = (cancel, progress);
        let mut result = SearchResult { query: query.clone(), ..SearchResult::default() };
        for (_, event) in self.tail(0, usize::MAX) {
            if query.in_range(event.ts_ms) && event.raw.contains(&query.text) {
                result.total += 1;
                if result.matches.len() < query.limit {
                    result.matches.push(event);
                } else {
                    result.capped = true;
                }
            }
        }
        result
    }
    /// The time range of the data: the oldest and newest event times.
    fn data_range(&mut self) -> (Option<i64>, Option<i64>) {
        let overview = self.overview(TimeRange::ALL);
        (overview.data_from, overview.data_to)
    }
    /// The rule base in force, when this backend applies rules itself (files do; a cluster's
    /// documents were attributed when `ship` wrote them).
    fn rules(&self) -> Option<&Enricher> {
        None
    }
    /// Applies a new rule base to everything read (files: read again); says what it cost.
    fn set_enricher(&mut self, enricher: Enricher) -> Result<String, String> {
        let _ = enricher;
        Err("this backend cannot apply new rules".into())
    }
    /// What the alert rules need from the data up to `at_ms` (files: read with the rules'
    /// collector; a cluster: aggregations), evaluated by the same code as `check`'s.
    fn alert_data(&mut self, rules: &[crate::alerts::rules::Rule], at_ms: i64) -> Result<alerts::Gathered, String> {
        let _ = (rules, at_ms);
        Err("this backend cannot evaluate alert rules".into())
    }
    /// Lines read so far (for the events-per-second figure).
    fn lines_read(&self) -> u64;
    /// A handle that abandons the work in flight (for backends whose answers take a round trip);
    /// the console fires it when the view changes.
    fn canceller(&self) -> Option<cancel::Canceller> {
        None
    }
}

/// The Patterns screen's answer from two overviews, for a backend that cannot say more (an index
/// without the `template` field: shipped by an older version, or filled by Filebeat): the unknown
/// errors' templates and codes only, said in the answer's note.
pub fn patterns_from_overviews<B: Backend + ?Sized>(backend: &mut B, query: &PatternsQuery) -> PatternsView {
    let now = backend.overview(query.range);
    let window = Window { from_ms: now.window_from, to_ms: now.window_to };
    let baseline = query.baseline_window(window);
    let before = match (baseline.from_ms, baseline.to_ms) {
        (Some(from), Some(to)) => backend.overview(TimeRange::between(from, to)),
        _ => now.clone(),
    };
    crate::stats::template_rows::from_overviews(&now, &before, window, baseline, query.options)
}

/// The explanation of a video's drill-down, from its related lines alone (so that files and a
/// cluster agree, whatever window or ranking is on screen): the rule of its latest failure (a line
/// with an error code; at the same millisecond, the rule listed first), else of its latest line
/// that a rule explained, else unknown.
pub fn explain_related(enricher: &Enricher, video_id: &str, events: &[OwnedEvent]) -> Explanation {
    let attribution = |e: &OwnedEvent| enricher.attribution_named(e.rule.as_deref());
    let mut latest: Option<(i64, Attribution)> = None;
    for e in events.iter().filter(|e| e.error_code.is_some() && e.video_id.as_deref() == Some(video_id)) {
        let at = e.ts_ms.unwrap_or(i64::MIN);
        let a = attribution(e);
        if crate::stats::explains_later(latest, at, a) {
            latest = Some((at, a));
        }
    }
    let attribution = match latest {
        Some((_, a)) => a,
        None => events
            .iter()
            .rev()
            .map(attribution)
            .find(|a| matches!(a, Attribution::Rule(_)))
            .unwrap_or(Attribution::Unknown),
    };
    Explanation::of(enricher, attribution)
}

/// The facts of a video from its own lines (so that any video, in the top list or not, on files or
/// a cluster, shows the same): failures are its lines with an error code, in the statistics' sense;
/// first and last seen are those of its failures (of all its lines when it has none); the retry
/// request is the latest failure's (at the same millisecond, the greatest id), else the latest line's
/// that carried one; the cause and fix are [`explain_related`]'s.
pub fn facts_of(enricher: &Enricher, video_id: &str, events: &[OwnedEvent]) -> Option<VideoRow> {
    let own: Vec<&OwnedEvent> = events.iter().filter(|e| e.video_id.as_deref() == Some(video_id)).collect();
    let lines: Vec<&OwnedEvent> = if own.is_empty() { events.iter().collect() } else { own };
    if lines.is_empty() {
        return None;
    }
    let failures: Vec<&OwnedEvent> = lines.iter().copied().filter(|e| e.error_code.is_some()).collect();
    let mut codes: Vec<(String, u64)> = Vec::new();
    for code in failures.iter().filter_map(|e| e.error_code.as_deref()) {
        match codes.iter_mut().find(|(c, _)| c == code) {
            Some((_, n)) => *n += 1,
            None => codes.push((code.to_string(), 1)),
        }
    }
    codes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let timed = if failures.is_empty() { &lines } else { &failures };
    let first_seen = timed.iter().filter_map(|e| e.ts_ms).min();
    let last_seen = timed.iter().filter_map(|e| e.ts_ms).max();
    let latest_request = |set: &[&OwnedEvent]| {
        set.iter()
            .filter_map(|e| e.request_id.as_deref().map(|r| (e.ts_ms.unwrap_or(i64::MIN), r)))
            .max()
            .map(|(_, r)| r.to_string())
    };
    let request_id = latest_request(&failures).or_else(|| latest_request(&lines));
    let explanation = if failures.is_empty() && lines.iter().all(|e| e.rule.is_none()) {
        Explanation::none()
    } else {
        explain_related(enricher, video_id, events)
    };
    Some(VideoRow {
        video_id: video_id.to_string(),
        failures: failures.len() as u64,
        codes: codes.into_iter().map(|(c, _)| c).collect(),
        cause: explanation.cause,
        fix: explanation.fix,
        rule: explanation.rule,
        first_seen,
        last_seen,
        request_id,
    })
}
