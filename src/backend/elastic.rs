//! The Elasticsearch/OpenSearch backend: the overview from aggregations (rebuilt into the engine's
//! statistics), the live tail by polling for newer documents with a tie-breaking sort, and the
//! drill-down by a paged search on the video id (`search_after` in a point in time).

use super::cancel::Canceller;
use super::{Backend, Related, TimeRange};
use crate::elastic::client::EsClient;
use crate::elastic::{EsError, overview as es_overview, queries, schema};
use crate::enrich::Enricher;
use crate::event::OwnedEvent;
use crate::stats::health::HealthConfig;
use crate::stats::overview::{self, Overview, OverviewOptions, Window};
use crate::stats::template_rows::PatternsView;
use serde_json::Value;

mod derived; // an index whose fields are derived here: its lines read back
mod follow;
mod patterns; // the Patterns screen from aggregations on `template`, kept while nothing arrives // the tail: new documents, each once, in arrival order
pub use follow::{TAIL_LOOK_BACK_MS, TAIL_POLL_MAX};

pub struct EsBackend {
    pub client: EsClient,
    enricher: Enricher,
    health: HealthConfig,
    bucket_ms: i64,
    data_end: Option<i64>,
    lines: u64,
    tail: super::tail::TailRing,
    /// The newest tail position seen (ingest time, else `@timestamp`), and the ids of the
    /// documents shown whose position is within the look-back behind it.
    tail_newest: Option<i64>,
    tail_seen: std::collections::HashMap<String, i64>,
    /// The last good overview and when it was made, shown while the cluster misbehaves.
    last_good: Option<Overview>,
    pub last_error: Option<String>,
    pub warnings: Vec<String>,
    files: Vec<String>,
    pub bytes_last_refresh: usize,
    /// For an index whose fields are derived here: how lines are read, and what the last
    /// overview read (for the header).
    settings: crate::pipeline::IngestSettings,
    derived_note: Option<String>,
    /// Errors in a row, and when the cluster may be asked again (see [`backoff`]).
    failures: u32,
    retry_at: Option<std::time::Instant>,
    /// The counts part of the console's last overview, kept for its lists (see [`Counts`]).
    counts: Option<Counts>,
    /// The last Patterns answer and what it was for: the query, the data's first and last time
    /// and the documents in the index. The screen asks again on every refresh; while nothing
    /// arrived (the same bounds and count) the answer is the same, and its aggregations over all
    /// the data are not asked again.
    patterns_cache: Option<(PatternsKey, PatternsView)>,
}

/// What a Patterns answer was for: the query, the data's first and last time, the documents.
type PatternsKey = (super::PatternsQuery, Option<i64>, Option<i64>, u64);

/// The counts part of a console overview (the first answer), kept until its lists arrive.
struct Counts {
    range: TimeRange,
    window: Window,
    keys: Option<(i64, i64)>,
    scope: es_overview::Scope,
    answer: Value,
    at: std::time::Instant,
}

/// How long a counts answer stays good for the lists that follow it.
const COUNTS_FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// The wait after `failures` errors in a row: 1 s doubling up to a minute, jittered down by up to
/// half so that consoles started together do not ask together.
pub fn backoff(failures: u32) -> std::time::Duration {
    const FIRST_MS: u64 = 1000;
    const CAP_MS: u64 = 60_000;
    let full = FIRST_MS.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(CAP_MS);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    // a cheap spread from the clock's low bits (no randomness needed)
    let spread = (nanos as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54; // 0..1023
    std::time::Duration::from_millis(full / 2 + (full / 2) * spread / 1023)
}

/// What a list panel says when the lists' request failed: what failed, and the option that gives
/// a slow cluster more time.
pub fn lists_failure(e: &EsError) -> String {
    let mut text = format!("the lists (codes, causes, failing videos, templates, alerts) did not load: {e}");
    if !text.contains("--es-timeout") {
        text.push_str("; a slow cluster may need a longer --es-timeout SECONDS");
    }
    text.push_str(" (the counts are current; the next refresh asks again)");
    crate::text::sanitize_owned(&text, 600)
}

/// Related documents fetched per page, and at most in all.
pub const PAGE: usize = 1000;
pub const RELATED_MAX: usize = 20_000;
/// Videos of one code fetched at most (the codes screen pages through them).
pub const CODE_VIDEOS_MAX: usize = 10_000;

impl EsBackend {
    pub fn new(client: EsClient, enricher: Enricher, config: &crate::config::Config) -> EsBackend {
        EsBackend {
            client,
            enricher,
            health: config.health.clone(),
            bucket_ms: config.bucket_ms(),
            data_end: None,
            lines: 0,
            tail: super::tail::TailRing::new(),
            tail_newest: None,
            tail_seen: std::collections::HashMap::new(),
            last_good: None,
            last_error: None,
            warnings: Vec::new(),
            files: Vec::new(),
            bytes_last_refresh: 0,
            failures: 0,
            retry_at: None,
            settings: config.ingest(),
            derived_note: None,
            counts: None,
            patterns_cache: None,
        }
    }

    /// How long until the cluster is asked again after errors; `None` when it may be asked now.
    pub fn next_try_in(&self) -> Option<std::time::Duration> {
        self.retry_at.and_then(|at| at.checked_duration_since(std::time::Instant::now())).filter(|d| !d.is_zero())
    }

    /// Records an error (a cancel is none): the next try waits, longer after each error in a row.
    fn failed(&mut self, e: &EsError) {
        if matches!(e, EsError::Cancelled) {
            return;
        }
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(std::time::Instant::now() + backoff(self.failures));
        self.last_error = Some(e.to_string());
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at = None;
        self.last_error = None;
    }

    /// The last error with when the next try is, for the header and the status line.
    fn error_notice(&self) -> Option<String> {
        let e = self.last_error.as_ref()?;
        Some(match self.next_try_in() {
            Some(wait) => format!("{e} · next try in {} s", wait.as_secs_f64().ceil() as u64),
            None => format!("{e} · trying again"),
        })
    }

    fn file_index(&mut self, path: &str) -> u32 {
        match self.files.iter().position(|f| f == path) {
            Some(i) => i as u32,
            None => {
                self.files.push(crate::text::sanitize_owned(path, 512));
                (self.files.len() - 1) as u32
            }
        }
    }

    /// The overview of a range (a relative one resolved against the newest document), or the
    /// error in words.
    pub fn try_overview(&mut self, range: TimeRange) -> Result<Overview, crate::elastic::EsError> {
        self.resolve_newest(range)?;
        self.overview_of(range.window(self.data_end), false)
    }

    /// Finds the newest document's time when a relative range needs it and it is not known yet.
    fn resolve_newest(&mut self, range: TimeRange) -> Result<(), crate::elastic::EsError> {
        if self.data_end.is_none() && range.is_relative() {
            let ceiling = self.settings.options.times.resolve().ceiling_ms;
            let answer = self.client.search(&queries::newest(ceiling))?;
            let newest = &answer.body["hits"]["hits"][0]["sort"][0];
            self.data_end = newest.as_i64().or_else(|| newest.as_f64().map(|v| v as i64));
        }
        Ok(())
    }

    /// The bucket keys' bounds of a window (whole buckets unless `exact`) and what the query
    /// covers besides: the report wants whole-index totals, a console refresh only what its
    /// window needs.
    fn plan(&self, window: Window, exact: bool) -> (Option<(i64, i64)>, es_overview::Scope) {
        let b = self.bucket_ms;
        let keys = match (window.from_ms, window.to_ms) {
            (None, None) => None,
            (f, t) if exact => Some((f.unwrap_or(0), t.unwrap_or(i64::MAX / 2))),
            (f, t) => {
                Some((f.map_or(0, |f| f.div_euclid(b) * b), t.map_or(i64::MAX / 2, |t| (t.div_euclid(b) + 1) * b - 1)))
            }
        };
        let scope = match (exact, keys, self.data_end) {
            (false, Some(_), Some(end)) => {
                es_overview::Scope::Live { newer_than: end, ceiling: self.settings.options.times.resolve().ceiling_ms }
            }
            _ => es_overview::Scope::Report,
        };
        (keys, scope)
    }

    /// Takes in what an answer with the counts says about the data: its newest time, the lines
    /// read (for a live refresh: those newer than the last refresh's newest, the rate of arrival).
    fn note_counts(&mut self, stats: &crate::stats::Stats, answer: &Value, scope: es_overview::Scope) {
        self.data_end = stats.last_ms.or(self.data_end);
        self.lines = match scope {
            es_overview::Scope::Report => stats.lines.total,
            es_overview::Scope::Live { .. } => {
                self.lines + answer["aggregations"]["newer"]["lines"]["value"].as_f64().unwrap_or(0.0) as u64
            }
        };
    }

    /// The overview of an explicit window in one request. With `exact`, only documents inside it
    /// count (the report's `--since/--until`, which filter events); without, whole buckets count
    /// (the console's windows), exactly as the file engine does in each case.
    pub fn overview_of(&mut self, window: Window, exact: bool) -> Result<Overview, crate::elastic::EsError> {
        let (keys, scope) = self.plan(window, exact);
        if self.client.preset.derived() {
            return self.derived_overview(window, keys, exact);
        }
        let answer = self.client.search(&queries::overview(self.bucket_ms, keys, scope))?;
        self.bytes_last_refresh = answer.bytes;
        self.warnings = answer.warnings;
        let stats = es_overview::stats_from_answer(&answer.body, &self.enricher, self.bucket_ms);
        self.note_counts(&stats, &answer.body, scope);
        let options = OverviewOptions::console(&self.health, &[]);
        Ok(overview::compute(&stats, &self.enricher, window, options))
    }

    /// The counts part of a console overview (one cheap request), kept for its lists.
    fn fetch_counts(&mut self, range: TimeRange) -> Result<Counts, EsError> {
        self.resolve_newest(range)?;
        let window = range.window(self.data_end);
        let (keys, scope) = self.plan(window, false);
        let answer = self.client.search(&queries::overview_part(self.bucket_ms, keys, scope, queries::Part::Counts))?;
        self.bytes_last_refresh = answer.bytes;
        self.warnings = answer.warnings;
        let stats = es_overview::stats_from_parts(&answer.body, None, &self.enricher, self.bucket_ms);
        self.note_counts(&stats, &answer.body, scope);
        Ok(Counts { range, window, keys, scope, answer: answer.body, at: std::time::Instant::now() })
    }

    /// The overview of the counts with the lists' answer when there is one (else the lists are
    /// empty and marked as `lists`).
    fn overview_of_parts(&self, counts: &Counts, lists: Option<&Value>, state: overview::Lists) -> Overview {
        let stats = es_overview::stats_from_parts(&counts.answer, lists, &self.enricher, self.bucket_ms);
        let options = OverviewOptions::console(&self.health, &[]);
        let mut o = overview::compute(&stats, &self.enricher, counts.window, options);
        o.lists = state;
        o
    }

    /// A console overview in two requests: the counts (those just fetched by
    /// [`Backend::overview_counts`] for this range, else fetched now), then the lists; a refresh
    /// after a complete screen without error is one whole request instead. When the
    /// lists fail (not cancelled), the counts are answered with the lists marked as failed, in
    /// plain words naming `--es-timeout`, and the error is recorded (the next try waits).
    fn console_overview(&mut self, range: TimeRange) -> Result<Overview, EsError> {
        if self.client.preset.derived() {
            return self.try_overview(range);
        }
        let counts = match self.counts.take() {
            Some(c) if c.range == range && c.at.elapsed() < COUNTS_FRESH => c,
            // a refresh of a screen whose lists came: one request (about a fifth cheaper than
            // two); a slow one fails whole and the last good screen stays
            _ if self.last_good.as_ref().is_some_and(|o| o.lists == overview::Lists::Complete)
                && self.last_error.is_none() =>
            {
                return self.try_overview(range);
            }
            _ => self.fetch_counts(range)?,
        };
        let body = queries::overview_part(self.bucket_ms, counts.keys, counts.scope, queries::Part::Lists);
        match self.client.search(&body) {
            Ok(answer) => {
                self.bytes_last_refresh += answer.bytes;
                self.warnings.extend(answer.warnings);
                Ok(self.overview_of_parts(&counts, Some(&answer.body), overview::Lists::Complete))
            }
            Err(EsError::Cancelled) => Err(EsError::Cancelled),
            Err(e) => {
                let why = lists_failure(&e);
                self.failed(&e);
                Ok(self.overview_of_parts(&counts, None, overview::Lists::Failed(why)))
            }
        }
    }

    /// The last good overview, else an empty one.
    fn last_good_or_empty(&self) -> Overview {
        self.last_good.clone().unwrap_or_else(|| {
            let stats = crate::stats::Stats::new(self.enricher.components.len(), self.bucket_ms);
            let options = OverviewOptions::console(&self.health, &[]);
            overview::compute(&stats, &self.enricher, Window::ALL, options)
        })
    }

    /// Every document of a video in time order, paged with `search_after` inside a point in time.
    pub fn try_related(&mut self, video_id: &str) -> Result<(Vec<OwnedEvent>, bool), crate::elastic::EsError> {
        let pit = self.client.open_pit("1m").ok();
        let mut events = Vec::new();
        let mut after: Option<Value> = None;
        let mut truncated = false;
        // an index whose fields are derived here (Filebeat, Logstash): the lines that name the
        // video, parsed here as the files' are
        let derived = self.client.preset.derived();
        loop {
            let body = if derived {
                queries::related_text_page(video_id, PAGE, after.as_ref(), pit.as_deref())
            } else {
                queries::related_page(video_id, PAGE, after.as_ref(), pit.as_deref())
            };
            let answer = match &pit {
                Some(_) => self.client.search_pit(&body)?,
                None => self.client.search(&body)?,
            };
            let hits: Vec<Value> = answer.body["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for hit in &hits {
                let source = &hit["_source"];
                // (a derived index's documents keep their own nested names)
                let file = if derived {
                    crate::elastic::derive::at_path(source, self.client.fields.name("log_file"))
                } else {
                    &source["log_file"]
                };
                let path = file.as_str().unwrap_or("").to_string();
                let index = self.file_index(&path);
                if derived {
                    let event = crate::elastic::derive::owned_from_line(
                        source,
                        &self.enricher,
                        &self.client.fields,
                        index,
                        self.settings.options.default_offset,
                    );
                    // its own lines, and a line that names it without being an event of its own
                    // (a traceback's line, joined to its event on files: each line is a document here)
                    if let Some(mut e) = event {
                        if e.video_id.is_none() && derived::names(&e.raw, video_id) {
                            e.video_id = Some(video_id.to_string());
                        }
                        if e.video_id.as_deref() == Some(video_id) {
                            events.push(e);
                        }
                    }
                } else {
                    events.push(schema::owned_from_document(source, index));
                }
            }
            after = hits.last().and_then(|h| h.get("sort").cloned());
            if hits.len() < PAGE || after.is_none() {
                break;
            }
            if events.len() >= RELATED_MAX {
                truncated = true;
                break;
            }
        }
        if let Some(id) = pit {
            self.client.close_pit(&id);
        }
        Ok((events, truncated))
    }
}

impl EsBackend {
    /// The documents of a request id, in time order (one page).
    fn try_request(&mut self, request_id: &str) -> Result<Vec<OwnedEvent>, crate::elastic::EsError> {
        let answer = self.client.search(&queries::request_page(request_id, PAGE))?;
        let hits: Vec<Value> = answer.body["hits"]["hits"].as_array().cloned().unwrap_or_default();
        Ok(hits
            .iter()
            .map(|hit| {
                let path = hit["_source"]["log_file"].as_str().unwrap_or("").to_string();
                let index = self.file_index(&path);
                schema::owned_from_document(&hit["_source"], index)
            })
            .collect())
    }

    /// A search on the server, paged with `search_after` in a point in time (plain `search_after`
    /// when the server has none), until the query's limit.
    fn try_search(
        &mut self,
        query: &super::SearchQuery,
        result: &mut super::SearchResult,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), crate::elastic::EsError> {
        let pit = self.client.open_pit("1m").ok();
        let mut after: Option<Value> = None;
        let page = query.limit.clamp(1, PAGE);
        let outcome = loop {
            let body =
                queries::search_page(&query.text, (query.from_ms, query.to_ms), page, after.as_ref(), pit.as_deref());
            let answer = match &pit {
                Some(_) => self.client.search_pit(&body),
                None => self.client.search(&body),
            };
            let answer = match answer {
                Ok(a) => a,
                Err(e) => break Err(e),
            };
            if after.is_none() {
                let total = &answer.body["hits"]["total"];
                result.total = total["value"].as_u64().or_else(|| total.as_u64()).unwrap_or(0);
                result.total_at_least = total["relation"].as_str() == Some("gte");
            }
            let hits: Vec<Value> = answer.body["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for hit in &hits {
                if result.matches.len() >= query.limit {
                    break;
                }
                let path = hit["_source"]["log_file"].as_str().unwrap_or("").to_string();
                let index = self.file_index(&path);
                result.matches.push(schema::owned_from_document(&hit["_source"], index));
            }
            progress(result.matches.len() as u64, result.total.min(query.limit as u64));
            after = hits.last().and_then(|h| h.get("sort").cloned());
            if hits.len() < page || after.is_none() || result.matches.len() >= query.limit {
                break Ok(());
            }
        };
        if let Some(id) = pit {
            self.client.close_pit(&id);
        }
        result.total = result.total.max(result.matches.len() as u64);
        result.capped = result.total > result.matches.len() as u64;
        outcome
    }
}

impl Backend for EsBackend {
    fn describe(&self) -> String {
        let flavor = self.client.flavor.map(|f| f.describe()).unwrap_or_else(|| "cluster".into());
        let mut text = format!("{flavor} {} {}", self.client.options.urls.join(","), self.client.options.index);
        if let Some(note) = &self.derived_note {
            text.push_str(&format!(" · {note}"));
        } else if self.client.preset.derived() {
            text.push_str(&format!(" · fields: {}", self.client.preset.name()));
        }
        if let Some(e) = self.error_notice() {
            text.push_str(&format!(" · ERROR: {e}"));
        } else if !self.warnings.is_empty() {
            text.push_str(&format!(" · WARNING: {}", self.warnings.join("; ")));
        }
        text
    }

    fn refresh(&mut self) -> Vec<String> {
        // after an error, the cluster is left alone until the next try (the header says when)
        if self.next_try_in().is_some() {
            return Vec::new();
        }
        match self.poll_tail() {
            Ok(_) | Err(EsError::Cancelled) => Vec::new(),
            Err(e) => {
                self.failed(&e);
                self.error_notice().into_iter().collect()
            }
        }
    }

    /// The counts first (one cheap request): the engine shows them while the lists load.
    fn overview_counts(&mut self, range: TimeRange) -> Option<Overview> {
        if self.client.preset.derived() || self.next_try_in().is_some() {
            return None;
        }
        match self.fetch_counts(range) {
            Ok(counts) => {
                let o = self.overview_of_parts(&counts, None, overview::Lists::Loading);
                self.counts = Some(counts);
                Some(o)
            }
            Err(e) => {
                // a cancel is no error (the engine asks again); an error waits for the next try
                self.failed(&e);
                None
            }
        }
    }

    fn overview(&mut self, range: TimeRange) -> Overview {
        let result = match self.next_try_in() {
            Some(_) => None,
            None => Some(self.console_overview(range)),
        };
        match result {
            Some(Ok(o)) => {
                // the counts without their lists are good data, but the error stays said
                if o.lists == overview::Lists::Complete {
                    self.succeeded();
                }
                self.last_good = Some(o.clone());
                o
            }
            other => {
                // a cancelled refresh is no error: the engine drops this answer and asks again
                if let Some(Err(e)) = &other {
                    self.failed(e);
                }
                // keep showing the last good data (its age is in the header)
                self.last_good_or_empty()
            }
        }
    }

    fn tail(&self, after: u64, limit: usize) -> Vec<(u64, OwnedEvent)> {
        self.tail.since(after, limit)
    }

    /// Every video with the code in the range, from one aggregation over that code's documents
    /// (not the overview's top list); an index whose fields are derived here keeps the top list.
    fn videos_with_code(&mut self, code: &str, range: TimeRange) -> Vec<crate::stats::overview::VideoRow> {
        if self.client.preset.derived() {
            return self
                .overview(range)
                .top_failing_videos
                .into_iter()
                .filter(|v| v.codes.iter().any(|c| c == code))
                .collect();
        }
        if let Err(e) = self.resolve_newest(range) {
            self.failed(&e);
            return Vec::new();
        }
        let window = range.window(self.data_end);
        let b = self.bucket_ms;
        // whole buckets, as the overview counts them
        let keys = match (window.from_ms, window.to_ms) {
            (None, None) => None,
            (f, t) => {
                Some((f.map_or(0, |f| f.div_euclid(b) * b), t.map_or(i64::MAX / 2, |t| (t.div_euclid(b) + 1) * b - 1)))
            }
        };
        match self.client.search(&queries::code_videos(b, keys, code, CODE_VIDEOS_MAX)) {
            Ok(answer) => {
                let mut stats = crate::stats::Stats::new(self.enricher.components.len(), b);
                es_overview::read_videos(&answer.body["aggregations"], &mut stats, &self.enricher, b);
                crate::stats::videos::videos_with_code(&stats, &self.enricher, code, window)
            }
            Err(e) => {
                self.failed(&e);
                Vec::new()
            }
        }
    }

    fn related(&mut self, id: &str) -> Related {
        // a drill-down is asked for by the user: tried at once, even while refreshes wait
        let (mut events, mut truncated) = self.try_related(id).unwrap_or_else(|e| {
            self.failed(&e);
            (Vec::new(), false)
        });
        let mut video_id = id.to_string();
        if events.is_empty() {
            // a request id: the drill-down of its video, with the request's lines
            let request = self.try_request(id).unwrap_or_else(|e| {
                self.failed(&e);
                Vec::new()
            });
            if let Some(video) = request.iter().find_map(|e| e.video_id.clone()) {
                let (more, more_truncated) = self.try_related(&video).unwrap_or_default();
                truncated |= more_truncated;
                events.extend(more);
                video_id = video;
            }
            events.extend(request);
            events.sort_by_key(|e| (e.ts_ms.unwrap_or(i64::MIN), e.origin.file, e.origin.offset));
            events.dedup_by_key(|e| (e.origin.file, e.origin.offset));
        }
        Related::from_lines(&self.enricher, &video_id, events, truncated, self.files.clone())
    }

    fn search(
        &mut self,
        query: &super::SearchQuery,
        cancel: &Canceller,
        progress: &mut dyn FnMut(u64, u64),
    ) -> super::SearchResult {
        let _ = cancel; // the client races every request against its own canceller (the engine's)
        let mut result = super::SearchResult { query: query.clone(), ..super::SearchResult::default() };
        if let Err(e) = self.try_search(query, &mut result, progress) {
            result.cancelled = matches!(e, crate::elastic::EsError::Cancelled);
            if !result.cancelled {
                result.error = Some(e.to_string());
                self.failed(&e);
            }
        }
        result.files = self.files.clone();
        result
    }

    fn lines(&mut self, query: &super::lines::LineQuery) -> super::lines::Lines {
        use super::lines::{GpuSample, LINES_CAP, Lines};
        let mut answer = Lines { query: query.clone(), ..Lines::default() };
        let filter = match query.parsed_filter() {
            Ok(f) => f,
            Err(e) => {
                answer.error = Some(e);
                return answer;
            }
        };
        // a Patterns row of any error or warning is found by `template`; an unknown error's (and
        // any row on an index without that field) by `unknown_template`
        let field = if query.known_too && self.has_templates() {
            queries::TemplateField::Any
        } else {
            queries::TemplateField::Unknown
        };
        if self.client.preset.derived() {
            return self.derived_lines(query, filter.as_ref(), answer);
        }
        let body = queries::lines_in_span(
            query.from_ms,
            query.to_ms,
            query.code.as_deref(),
            query.template.as_deref().map(|t| (t, field)),
            filter.as_ref(),
            LINES_CAP + 1,
        );
        match self.client.search(&body) {
            Ok(found) => {
                for hit in found.body["hits"]["hits"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    let source = &hit["_source"];
                    let path = source["log_file"].as_str().unwrap_or("").to_string();
                    let index = self.file_index(&path);
                    let event = schema::owned_from_document(source, index);
                    let (mem, util) = (source["gpu_mem_bytes"].as_f64(), source["gpu_util_pct"].as_f64());
                    if query.wants_gpu() && (mem.is_some() || util.is_some()) {
                        answer.gpu.push(GpuSample {
                            at_ms: event.ts_ms.unwrap_or_default(),
                            mem_gib: mem.map(|b| b / (1u64 << 30) as f64),
                            util_pct: util,
                        });
                    }
                    if query.matches(&event) {
                        answer.events.push(event);
                    }
                }
            }
            Err(e) => {
                answer.error = Some(e.to_string());
                self.failed(&e);
            }
        }
        answer.files = self.files.clone();
        answer.finish()
    }

    /// Every template of errors and warnings, as on files, from aggregations on the `template`
    /// field (`crate::elastic::patterns`); an index without it (shipped by an older version, or
    /// filled by Filebeat) answers as before from two overviews, unknown errors only (said).
    fn patterns(&mut self, query: &super::PatternsQuery) -> PatternsView {
        let answer = if self.client.preset.derived() {
            self.derived_patterns(query)
        } else if !self.has_templates() {
            return super::patterns_from_overviews(self, query);
        } else {
            self.try_patterns(query)
        };
        match answer {
            Ok(view) => view,
            Err(e) => {
                self.failed(&e);
                let note = crate::text::sanitize_owned(&format!("cluster: the patterns did not load: {e}"), 600);
                PatternsView { note: Some(note), new_minutes: query.options.new_minutes, ..PatternsView::default() }
            }
        }
    }

    fn lines_read(&self) -> u64 {
        self.lines
    }

    fn alert_data(
        &mut self,
        rules: &[crate::alerts::rules::Rule],
        at_ms: i64,
    ) -> Result<super::alerts::Gathered, String> {
        let bucket_ms = self.bucket_ms.max(1000);
        match crate::alerts::cluster::collect(&self.client, rules, bucket_ms, at_ms) {
            Ok((data, first_ms)) => Ok(super::alerts::Gathered { data, first_ms, bucket_ms }),
            Err(e) => Err(e.to_string()),
        }
    }

    fn canceller(&self) -> Option<Canceller> {
        Some(self.client.cancel.clone())
    }
}
