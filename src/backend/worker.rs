//! The engine: a thread that owns a backend and answers the console's requests (a window's
//! overview, a video's drill-down) while it keeps reading what is new (the live tail). It knows no
//! screen: it emits [`Update`]s, which the console wraps into its own messages. Work that went stale
//! meanwhile (the UI asked for another window or video and cancelled the request in flight) is not
//! sent, and is redone for what the UI wants now.

use super::cancel::Canceller;
use super::{Backend, Related, TimeRange};
use crate::event::OwnedEvent;
use crate::stats::overview::{Overview, VideoRow};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The range a console opens on: the last hour before the newest event.
pub const DEFAULT_RANGE: TimeRange = TimeRange::last(3_600_000);

/// Events kept for the live tail, by the backends and by the console alike.
pub const TAIL_CAPACITY: usize = 20_000;

/// How often a running search says how far it got.
const SEARCH_PROGRESS: Duration = Duration::from_millis(100);

/// How often the engine publishes a fresh overview.
const PUBLISH: Duration = Duration::from_millis(1000);

/// How often the alert rules are evaluated again while new lines arrive (files are read again for
/// them, so not on every overview).
const ALERTS_EVERY: Duration = Duration::from_secs(5);

/// What the engine does with the alert rules: evaluates them over the console's range (the same
/// rules and code as `check`), and, when the config enables it, notifies the `[[notify]]` targets
/// when a rule starts firing or resolves.
#[derive(Debug, Clone, Default)]
pub struct AlertSettings {
    pub rules: Vec<crate::alerts::rules::Rule>,
    pub notify: Option<ConsoleNotify>,
}

/// Where the console's notifications go (config `[alerts] notify_from_console = true`).
#[derive(Debug, Clone)]
pub struct ConsoleNotify {
    pub targets: Vec<crate::notify::NotifyTarget>,
    pub links: crate::config::Links,
    /// The sent/resolved record (shared with `check --notify`).
    pub state_path: std::path::PathBuf,
}

/// What the console asks the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The overview of this range, from now on.
    Window(TimeRange),
    /// The drill-down of a video.
    Related(String),
    /// Every video that failed with a code in a range (the codes screen).
    CodeVideos { code: String, range: TimeRange },
    /// The lines of a time span that pass a query (context, a panel's lines).
    Lines(super::lines::LineQuery),
    /// The templates of errors and warnings in a range, and what changed (the Patterns screen).
    Patterns(super::PatternsQuery),
    /// Every line holding a text in a range (not only the tail's); answered by
    /// [`Update::SearchProgress`]es and one [`Update::SearchResults`].
    Search(super::SearchQuery),
    /// Abandons the search in flight (its results so far are not sent).
    CancelSearch,
    /// Appends a rule to the user's rule file (atomically) and applies the rule base at once.
    AddRule { spec: Box<crate::enrich::rules::RuleSpec>, path: std::path::PathBuf },
}

/// What the engine tells the console.
#[derive(Debug, Clone)]
pub enum Update {
    /// An overview, with the range it was computed for.
    Overview {
        overview: Box<Overview>,
        range: TimeRange,
        events_per_second: f64,
        source: String,
    },
    /// New tail events with their sequence numbers, oldest first.
    Tail(Vec<(u64, OwnedEvent)>),
    Related(Box<Related>),
    /// The lines a [`Request::Lines`] asked for.
    Lines(Box<super::lines::Lines>),
    /// The answer to a [`Request::Patterns`], with how long it took.
    Patterns {
        query: super::PatternsQuery,
        view: Box<crate::stats::template_rows::PatternsView>,
        took_ms: u64,
    },
    /// Every video of a code in a range, most failures first.
    CodeVideos {
        code: String,
        range: TimeRange,
        rows: Vec<VideoRow>,
    },
    /// How far the search in flight got: (done, total) bytes or documents.
    SearchProgress {
        text: String,
        done: u64,
        total: u64,
    },
    /// What a search found (or, cancelled by a newer request, found so far).
    SearchResults(Box<super::SearchResult>),
    /// The alert rules evaluated over the range (sent when the answer changed).
    Alerts(Box<super::alerts::AlertsAnswer>),
    /// A rule was saved and applied (the text says where and what it cost), or why not.
    RuleAdded {
        id: String,
        result: Result<String, String>,
    },
    /// Something to say on the status line (terminal-safe).
    Notice(String),
    /// How far opening the backend got (reading files, connecting).
    Progress(String),
    /// The backend could not be opened: the console says why and ends.
    Failed(String),
}

/// The console's line to the engine: requests, and the canceller that abandons the engine's work in
/// flight when a request makes it stale (known once the backend is open).
pub struct Link {
    requests: mpsc::Sender<Request>,
    cancel: Arc<OnceLock<Canceller>>,
}

impl Link {
    /// Queues the request, then cancels what the engine is doing (it picks the request up next).
    pub fn send(&self, request: Request) {
        let _ = self.requests.send(request);
        if let Some(c) = self.cancel.get() {
            c.cancel();
        }
    }
}

/// Opens a backend on the engine's thread, saying how far it got through `progress`; an error is
/// one plain sentence.
pub type Opener = Box<dyn FnOnce(&dyn Fn(String)) -> Result<Box<dyn Backend>, String> + Send>;

/// Starts the engine on its own thread: it opens the backend (reading files can take a while; the
/// console is already on screen and shows [`Update::Progress`]), then serves requests until the
/// link is dropped. A backend that cannot be opened ends in [`Update::Failed`].
pub fn spawn(open: Opener) -> (Link, mpsc::Receiver<Update>) {
    spawn_with(open, AlertSettings::default())
}

/// [`spawn`], the engine evaluating (and, when enabled, notifying) these alert rules.
pub fn spawn_with(open: Opener, alerts: AlertSettings) -> (Link, mpsc::Receiver<Update>) {
    let (request_tx, request_rx) = mpsc::channel::<Request>();
    let (update_tx, update_rx) = mpsc::channel::<Update>();
    let cancel = Arc::new(OnceLock::new());
    let link = Link { requests: request_tx, cancel: Arc::clone(&cancel) };
    std::thread::spawn(move || {
        let progress_tx = update_tx.clone();
        let progress = move |text: String| {
            let _ = progress_tx.send(Update::Progress(crate::text::sanitize_owned(&text, 200)));
        };
        match open(&progress) {
            Ok(backend) => {
                // a backend without a canceller of its own gets one, so that a search can be
                // abandoned from the console
                let c = backend.canceller().unwrap_or_default();
                let _ = cancel.set(c.clone());
                run_with(backend, request_rx, update_tx, c, alerts);
            }
            Err(e) => {
                tracing::error!("{}", crate::text::sanitize(&e));
                let _ = update_tx.send(Update::Failed(crate::text::sanitize_owned(&e, 400)));
            }
        }
    });
    (link, update_rx)
}

/// Starts the engine on an open backend.
pub fn spawn_open(backend: Box<dyn Backend>) -> (Link, mpsc::Receiver<Update>) {
    spawn(Box::new(move |_: &dyn Fn(String)| Ok(backend)))
}

/// Runs the engine loop on the current thread until the console hangs up.
///
/// Each unit of work (a drill-down, a tail poll, an overview) begins on the backend's canceller,
/// if it has one; an answer that went stale meanwhile is not sent, and the work is redone.
pub fn run(backend: Box<dyn Backend>, requests: mpsc::Receiver<Request>, updates: mpsc::Sender<Update>) {
    let search_cancel = backend.canceller().unwrap_or_default();
    run_cancellable(backend, requests, updates, search_cancel);
}

/// [`run`], a search abandoned when `search_cancel` (the one the console's [`Link`] fires) is.
pub fn run_cancellable(
    backend: Box<dyn Backend>,
    requests: mpsc::Receiver<Request>,
    updates: mpsc::Sender<Update>,
    search_cancel: Canceller,
) {
    run_with(backend, requests, updates, search_cancel, AlertSettings::default());
}

/// [`run_cancellable`] with alert rules.
pub fn run_with(
    mut backend: Box<dyn Backend>,
    requests: mpsc::Receiver<Request>,
    updates: mpsc::Sender<Update>,
    search_cancel: Canceller,
    alert_settings: AlertSettings,
) {
    let mut alerts = AlertEngine::new(alert_settings, updates.clone());
    let cancel = backend.canceller();
    let begin = || cancel.as_ref().map(|c| c.begin());
    let stale = |epoch: Option<u64>| matches!((&cancel, epoch), (Some(c), Some(e)) if c.is_stale(e));
    let mut range: TimeRange = DEFAULT_RANGE;
    let mut last_seq = 0u64;
    let mut last_publish: Option<Instant> = None;
    // the range of the last whole overview sent (a new one gets its counts first)
    let mut published_range: Option<TimeRange> = None;
    let mut rate = EventRate::new(backend.lines_read());
    // work that was cancelled before it finished and is still wanted
    let mut redo_related: Option<String> = None;
    let mut redo_overview = false;
    let mut redo_code: Option<(String, TimeRange)> = None;
    let mut redo_lines: Option<super::lines::LineQuery> = None;
    let mut redo_patterns: Option<super::PatternsQuery> = None;
    // requests that arrived while a search ran (read to know whether it was cancelled)
    let mut backlog: Vec<Request> = Vec::new();
    let mut redo_search: Option<super::SearchQuery> = None;
    loop {
        let mut publish_now = last_publish.is_none() || std::mem::take(&mut redo_overview);
        let redo = redo_related.is_some()
            || redo_code.is_some()
            || redo_lines.is_some()
            || redo_patterns.is_some()
            || redo_search.is_some()
            || !backlog.is_empty();
        let wait = if publish_now || redo { Duration::ZERO } else { Duration::from_millis(200) };
        let mut pending = std::mem::take(&mut backlog);
        match requests.recv_timeout(wait) {
            Ok(request) => pending.push(request),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        pending.extend(requests.try_iter());
        // the newest search, unless a cancel came after it
        let newest_search = match pending.iter().rev().find(|r| matches!(r, Request::Search(_) | Request::CancelSearch))
        {
            Some(Request::Search(query)) => Some(query.clone()),
            Some(_) => {
                redo_search = None;
                None
            }
            None => redo_search.take(),
        };
        let newest_related = pending
            .iter()
            .rev()
            .find_map(|r| match r {
                Request::Related(id) => Some(id.clone()),
                _ => None,
            })
            .or(redo_related.take());
        for request in &pending {
            if let Request::AddRule { spec, path } = request {
                let result = add_rule(backend.as_mut(), spec, path);
                let id = crate::text::sanitize_owned(&spec.id, 200);
                let result = result.map_err(|e| crate::text::sanitize_owned(&e, 600));
                if updates.send(Update::RuleAdded { id, result }).is_err() {
                    return;
                }
                publish_now = true;
            }
        }
        if let Some(chosen) = pending.iter().rev().find_map(|r| match r {
            Request::Window(r) => Some(*r),
            _ => None,
        }) {
            range = chosen;
            publish_now = true;
        }
        let newest_code = pending
            .iter()
            .rev()
            .find_map(|r| match r {
                Request::CodeVideos { code, range } => Some((code.clone(), *range)),
                _ => None,
            })
            .or(redo_code.take());
        if let Some((code, range)) = newest_code {
            let epoch = begin();
            let rows = backend.videos_with_code(&code, range);
            if stale(epoch) {
                redo_code = Some((code, range));
            } else if updates.send(Update::CodeVideos { code, range, rows }).is_err() {
                return;
            }
        }
        let newest_lines = pending
            .iter()
            .rev()
            .find_map(|r| match r {
                Request::Lines(query) => Some(query.clone()),
                _ => None,
            })
            .or(redo_lines.take());
        if let Some(query) = newest_lines {
            let epoch = begin();
            let lines = backend.lines(&query);
            if stale(epoch) {
                redo_lines = Some(query);
            } else if updates.send(Update::Lines(Box::new(lines))).is_err() {
                return;
            }
        }
        let newest_patterns = pending
            .iter()
            .rev()
            .find_map(|r| match r {
                Request::Patterns(query) => Some(query.clone()),
                _ => None,
            })
            .or(redo_patterns.take());
        if let Some(query) = newest_patterns {
            let epoch = begin();
            let started = Instant::now();
            let view = backend.patterns(&query);
            let took_ms = started.elapsed().as_millis() as u64;
            if stale(epoch) {
                redo_patterns = Some(query);
            } else if updates.send(Update::Patterns { query, view: Box::new(view), took_ms }).is_err() {
                return;
            }
        }
        if let Some(id) = newest_related {
            let epoch = begin();
            let related = backend.related(&id);
            if stale(epoch) {
                redo_related = Some(id);
            } else if updates.send(Update::Related(Box::new(related))).is_err() {
                return;
            }
        }
        if let Some(query) = newest_search {
            search_cancel.begin();
            let mut last = Instant::now();
            let mut progress = |done: u64, total: u64| {
                if last.elapsed() >= SEARCH_PROGRESS {
                    last = Instant::now();
                    let _ = updates.send(Update::SearchProgress { text: query.text.clone(), done, total });
                }
            };
            let result = backend.search(&query, &search_cancel, &mut progress);
            if result.cancelled {
                // cancelled by the console: by a cancel or a newer search it is not wanted any
                // more; by another request it is done again after it
                backlog.extend(requests.try_iter());
                if !backlog.iter().any(|r| matches!(r, Request::Search(_) | Request::CancelSearch)) {
                    redo_search = Some(query);
                }
            } else if updates.send(Update::SearchResults(Box::new(result))).is_err() {
                return;
            }
        }
        // requests that queued up while the backend was busy: only the newest window and the
        // newest drill-down still matter (the user has moved on from the others)
        let epoch = begin();
        let notices = backend.refresh();
        if !stale(epoch) {
            for notice in notices {
                tracing::warn!("{}", crate::text::sanitize(&notice));
                let _ = updates.send(Update::Notice(crate::text::sanitize_owned(&notice, 300)));
            }
        }
        let tail = backend.tail(last_seq, TAIL_CAPACITY);
        if let Some((seq, _)) = tail.last() {
            last_seq = *seq;
            if updates.send(Update::Tail(tail)).is_err() {
                return;
            }
        }
        if publish_now || last_publish.is_some_and(|t| t.elapsed() >= PUBLISH) {
            let events_per_second = rate.measure(backend.lines_read());
            if published_range != Some(range) {
                // a range not shown yet: the counts first where the backend answers in parts
                // (a cluster), so that a slow list does not hold the whole screen back
                let epoch = begin();
                if let Some(mut counts) = backend.overview_counts(range) {
                    if stale(epoch) {
                        redo_overview = true;
                        continue;
                    }
                    // the alerts already evaluated for this range, if any, until the lists come
                    counts.alerts = alerts.rows(range);
                    let update = Update::Overview {
                        overview: Box::new(counts),
                        range,
                        events_per_second,
                        source: crate::text::sanitize_owned(&backend.describe(), 120),
                    };
                    if updates.send(update).is_err() {
                        return;
                    }
                }
            }
            let epoch = begin();
            let mut overview = backend.overview(range);
            if stale(epoch) {
                redo_overview = true;
                continue;
            }
            // the screen first, with the alerts already evaluated for this range: evaluating the
            // rules reads the files again, seconds on big inputs
            overview.alerts = alerts.rows(range);
            let source = crate::text::sanitize_owned(&backend.describe(), 120);
            let update = |overview: Overview| Update::Overview {
                overview: Box::new(overview),
                range,
                events_per_second,
                source: source.clone(),
            };
            if updates.send(update(overview.clone())).is_err() {
                return;
            }
            if let Some(answer) = alerts.refresh(backend.as_mut(), range, &overview) {
                if stale(epoch) {
                    // asked again with the next overview
                    alerts.forget();
                } else {
                    if updates.send(Update::Alerts(Box::new(answer))).is_err() {
                        return;
                    }
                    let rows = alerts.rows(range);
                    if rows != overview.alerts {
                        overview.alerts = rows;
                        if updates.send(update(overview)).is_err() {
                            return;
                        }
                    }
                }
            }
            published_range = Some(range);
            last_publish = Some(Instant::now());
        }
    }
}

/// The alert rules on the engine's side: evaluated over the range when the range or the data
/// changed (at most every [`ALERTS_EVERY`] while lines arrive), the last answer kept for the
/// overview's rows; notifications sent from a thread of their own, their outcome said as notices.
struct AlertEngine {
    settings: AlertSettings,
    updates: mpsc::Sender<Update>,
    /// What the last answer was computed for: (range, window start, moment, lines read).
    key: Option<(TimeRange, Option<i64>, Option<i64>, u64)>,
    at: Option<Instant>,
    /// How long the last evaluation took.
    took: Duration,
    answer: Option<super::alerts::AlertsAnswer>,
    /// A delivery is under way (the next evaluation catches up; the state file dedupes).
    sending: Arc<std::sync::atomic::AtomicBool>,
}

impl AlertEngine {
    fn new(settings: AlertSettings, updates: mpsc::Sender<Update>) -> AlertEngine {
        AlertEngine {
            settings,
            updates,
            key: None,
            at: None,
            took: Duration::ZERO,
            answer: None,
            sending: Arc::default(),
        }
    }

    /// The rows the overview shows for `range` (the last answer's, when it was for this range).
    fn rows(&self, range: TimeRange) -> Vec<crate::stats::overview::AlertRow> {
        match &self.answer {
            Some(a) if a.range == range => super::alerts::rows_of(&a.alerts, a.at_ms.unwrap_or(i64::MAX)),
            _ => Vec::new(),
        }
    }

    /// Drops the last answer (it was not sent), so that the next overview evaluates again.
    fn forget(&mut self) {
        self.key = None;
        self.answer = None;
    }

    /// Evaluates the rules over the overview's window when something changed; the new answer.
    fn refresh(
        &mut self,
        backend: &mut dyn Backend,
        range: TimeRange,
        overview: &Overview,
    ) -> Option<super::alerts::AlertsAnswer> {
        let at_ms = overview.window_to.or(overview.data_to);
        let key = (range, overview.window_from, at_ms, backend.lines_read());
        let same_range = self.key.is_some_and(|k| k.0 == range && k.1 == overview.window_from);
        // while lines arrive: every ALERTS_EVERY, or ten times what the last evaluation took
        // (big files are read again for it), so the engine mostly serves the screens
        let every = ALERTS_EVERY.max(self.took * 10);
        if self.key == Some(key) || (same_range && self.at.is_some_and(|t| t.elapsed() < every)) {
            return None;
        }
        self.key = Some(key);
        let started = Instant::now();
        let rules = &self.settings.rules;
        let (answer, all) = if rules.is_empty() {
            // every rule turned off: said, without reading anything
            let answer = super::alerts::in_range(range, 0, Vec::new(), overview.window_from, at_ms.unwrap_or(0));
            (super::alerts::AlertsAnswer { at_ms, ..answer }, Vec::new())
        } else {
            super::alerts::evaluate_range(backend, rules, range, overview.window_from, at_ms)
        };
        self.took = started.elapsed();
        self.at = Some(Instant::now());
        // notifications follow the newest data only (a range that ends earlier is a replay)
        if let (Some(at), super::range::Bound::Open, None) = (answer.at_ms, range.to, &answer.error) {
            self.notify(&all, at);
        }
        if self.answer.as_ref() == Some(&answer) {
            return None;
        }
        self.answer = Some(answer.clone());
        Some(answer)
    }

    /// Sends what started or resolved since the last delivery (console notifications enabled),
    /// on a thread of its own; each outcome comes back as a notice.
    fn notify(&self, alerts: &[crate::alerts::eval::Alert], at_ms: i64) {
        use std::sync::atomic::Ordering;
        let Some(notify) = self.settings.notify.clone() else { return };
        if self.sending.swap(true, Ordering::SeqCst) {
            return;
        }
        let (alerts, updates, sending) = (alerts.to_vec(), self.updates.clone(), Arc::clone(&self.sending));
        std::thread::spawn(move || {
            let deliveries = crate::notify::notify(
                &alerts,
                at_ms,
                &notify.targets,
                &notify.links,
                &notify.state_path,
                crate::notify::deliver::NotifyOptions::default(),
            );
            for d in deliveries {
                let text = match &d.error {
                    None => format!("notified {}: {} {}", d.target, d.status, d.rule),
                    Some(e) => format!("notification to {} ({} {}) failed: {e}", d.target, d.status, d.rule),
                };
                if d.error.is_some() {
                    tracing::error!("{}", crate::text::sanitize(&text));
                } else {
                    tracing::info!("{}", crate::text::sanitize(&text));
                }
                let _ = updates.send(Update::Notice(crate::text::sanitize_owned(&text, 300)));
            }
            sending.store(false, Ordering::SeqCst);
        });
    }
}

/// Saves a rule to the user's file and applies the new rule base (see [`crate::enrich::learn`]).
fn add_rule(
    backend: &mut dyn Backend,
    spec: &crate::enrich::rules::RuleSpec,
    path: &std::path::Path,
) -> Result<String, String> {
    let Some(current) = backend.rules() else {
        return Err(
            "on a cluster the rules are applied when `ship` writes the documents: the rule was not saved".into()
        );
    };
    let current = current.clone();
    let (saved, kept) = crate::enrich::learn::append(path, spec)?;
    let backup = if kept { " (the previous file kept as .bak)" } else { "" };
    let applied = backend
        .set_enricher(crate::enrich::learn::with_rules(&current, saved))
        .map_err(|e| format!("saved to {}{backup}, not applied yet: {e}", crate::text::path_text(path)))?;
    Ok(format!("saved to {}{backup}; {applied}", crate::text::path_text(path)))
}

/// Lines read per second, measured over at least half a second.
struct EventRate {
    lines: u64,
    at: Instant,
    rate: f64,
}

impl EventRate {
    fn new(lines: u64) -> EventRate {
        EventRate { lines, at: Instant::now(), rate: 0.0 }
    }

    fn measure(&mut self, lines: u64) -> f64 {
        let elapsed = self.at.elapsed().as_secs_f64();
        if elapsed >= 0.5 {
            self.rate = lines.saturating_sub(self.lines) as f64 / elapsed;
            self.lines = lines;
            self.at = Instant::now();
        }
        self.rate
    }
}
