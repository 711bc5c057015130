//! The file backend: statistics over whole files read at start (through the one reader, all
//! cores), then the files followed for new lines; a bounded tail of recent events; drill-down from
//! the id index built while the files are read ([`super::index`]): only the lines of that video or
//! request are read back, by positioned reads (inputs that cannot be read at an offset, a gzip
//! file or a stream, are rescanned).

use super::index::{IdIndex, IndexBuilder};
use super::tail::TailRing;
use super::{Backend, Related, TimeRange};
use crate::enrich::{Attribution, Enricher};
use crate::event::{Event, Origin, OwnedEvent};
use crate::parse::Format;
use crate::pipeline::IngestSettings;
use crate::source::follow::{FollowItem, FollowOptions, Follower};
use crate::source::read::{self, Body};
use crate::source::{Input, SourceError};
use crate::stats::Stats;
use crate::stats::health::HealthConfig;
use crate::stats::overview::{self, Overview, OverviewOptions, Window};
use std::path::PathBuf;

mod reach; // an id's lines by positioned reads, free-text search over the bytes

/// Bytes of history read back from the end of each file for the tail at start.
pub const TAIL_HISTORY_BYTES: u64 = 1 << 20;
/// Related lines kept for one video.
pub const RELATED_CAP: usize = 5_000;
/// Statistics older than this (behind the newest event) are dropped in live mode.
pub const KEEP_HISTORY_MS: i64 = 25 * 3600 * 1000;

/// One input: its path and format, once known.
struct Followed {
    path: PathBuf,
    format: Option<Format>,
    /// Its lines are in the id index by byte offset (a regular, uncompressed file).
    indexed: bool,
}

/// True when a path names a gzip file (read again whole).
fn is_gzip(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// True when a path's lines can be read back at their byte offsets.
fn positionable(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

pub struct LocalBackend {
    files: Vec<Followed>,
    enricher: Enricher,
    health: HealthConfig,
    settings: IngestSettings,
    stats: Stats,
    tail: TailRing,
    /// Where every video's and request's lines are.
    index: IdIndex,
    live: bool,
    /// Follows the inputs by name after the first read (live mode).
    follower: Option<Follower>,
    /// What the header calls these inputs, when not their paths.
    label: Option<String>,
    /// Things the first read has to say (a file refused, a file that shrank), for the first refresh.
    pending_notices: Vec<String>,
    /// How the inputs were read, to read them again when the rules change.
    threads: usize,
    follow_specs: Vec<String>,
    /// The user's rule files, read again when edited (see [`super::rule_watch`]).
    rule_watch: Option<super::rule_watch::RuleWatch>,
}

impl LocalBackend {
    /// Reads `paths` whole (statistics) and their recent history (tail). With `live`, new lines are
    /// picked up on every refresh.
    pub fn open(
        paths: Vec<PathBuf>,
        enricher: Enricher,
        config: &crate::config::Config,
        threads: usize,
        live: bool,
        follow_specs: Vec<String>,
    ) -> LocalBackend {
        LocalBackend::open_reporting(paths, enricher, config, threads, live, follow_specs, &|_| {})
    }

    /// The inputs opened without being read (no statistics, no index, no tail), for the headless
    /// `video` and `search`: their answers come from a scan of the bytes ([`super::scan`]), which
    /// is faster than reading everything. Inputs that cannot be opened are in the first refresh's
    /// notices.
    pub fn open_unread(paths: Vec<PathBuf>, enricher: Enricher, config: &crate::config::Config) -> LocalBackend {
        let mut backend = LocalBackend::open_reporting(Vec::new(), enricher, config, 1, false, Vec::new(), &|_| {});
        let offset = backend.settings.options.default_offset;
        for path in paths {
            match read::open(&Input::File(path.clone()), None, offset, &|_| {}) {
                Ok(opened) => backend.files.push(Followed { path, format: opened.format, indexed: false }),
                Err(e) => backend.pending_notices.push(e.to_string()),
            }
        }
        backend
    }

    /// [`LocalBackend::open`], saying which file it is reading through `progress`.
    pub fn open_reporting(
        paths: Vec<PathBuf>,
        enricher: Enricher,
        config: &crate::config::Config,
        threads: usize,
        live: bool,
        follow_specs: Vec<String>,
        progress: &dyn Fn(String),
    ) -> LocalBackend {
        let settings = config.ingest();
        let mut backend = LocalBackend {
            files: Vec::new(),
            stats: Stats::new(enricher.components.len(), settings.bucket_ms),
            enricher,
            health: config.health.clone(),
            settings,
            tail: TailRing::new(),
            index: IdIndex::new(),
            live,
            follower: None,
            label: None,
            pending_notices: Vec::new(),
            threads,
            follow_specs,
            rule_watch: None,
        };
        backend.read_inputs(paths, progress);
        let rebuild_from = config.clone();
        backend.rule_watch = Some(super::rule_watch::RuleWatch::new(
            config.rule_paths(),
            Box::new(move || rebuild_from.enricher().map_err(|e| e.to_string())),
        ));
        backend
    }

    /// Reads the inputs whole (statistics, index, the tail's history) and starts following them
    /// when live.
    fn read_inputs(&mut self, paths: Vec<PathBuf>, progress: &dyn Fn(String)) {
        let (threads, live, follow_specs) = (self.threads, self.live, self.follow_specs.clone());
        let settings = self.settings;
        let backend = self;
        let count = paths.len();
        let mut history: Vec<OwnedEvent> = Vec::new();
        let mut starts: Vec<(PathBuf, u64)> = Vec::new();
        for (index, path) in paths.into_iter().enumerate() {
            progress(format!("reading {} ({} of {count})", crate::text::path_text(&path), index + 1));
            let (format, end, indexed) = backend.first_read(&path, index as u32, threads, live, &mut history, progress);
            if let Some(end) = end {
                starts.push((path.clone(), end));
            }
            backend.files.push(Followed { path, format, indexed });
        }
        if live {
            let specs: Vec<String> = if follow_specs.is_empty() {
                backend.files.iter().map(|f| f.path.display().to_string()).collect()
            } else {
                follow_specs
            };
            let options = FollowOptions {
                from_start: false,
                history_bytes: 0,
                max_line: settings.options.max_line,
                ..FollowOptions::default()
            };
            let mut follower = Follower::new(&specs, options);
            for (path, end) in &starts {
                follower.start_at(path, *end);
            }
            backend.follower = Some(follower);
        }
        history.sort_by_key(|e| e.ts_ms.unwrap_or(i64::MIN));
        let skip = history.len().saturating_sub(backend.tail.capacity());
        for event in history.into_iter().skip(skip) {
            backend.tail.push(event);
        }
        backend.stats.settle();
    }

    /// Reads one input whole into the statistics and its last [`TAIL_HISTORY_BYTES`] into
    /// `history`; returns its format and, for a regular file, the offset following should start at
    /// (the end of its complete lines when live). A refused or unreadable input is noted.
    fn first_read(
        &mut self,
        path: &std::path::Path,
        index: u32,
        threads: usize,
        live: bool,
        history: &mut Vec<OwnedEvent>,
        progress: &dyn Fn(String),
    ) -> (Option<Format>, Option<u64>, bool) {
        let offset = self.settings.options.default_offset;
        let opened = match read::open(&Input::File(path.to_path_buf()), None, offset, &|what| progress(what.into())) {
            Ok(o) => o,
            // followed once it appears
            Err(SourceError::NotFound(_)) if live => return (None, Some(0), positionable(path)),
            Err(e) => {
                self.pending_notices.push(e.to_string());
                return (None, None, false);
            }
        };
        let format = opened.format;
        match opened.body {
            Body::File { file, len } => {
                let end = if live { read::complete_len(&file, len) } else { len };
                let (stats, outcome, builders) = read::read_file_parallel_with(
                    &file,
                    &opened.name,
                    end,
                    index,
                    format,
                    &self.enricher,
                    &self.settings,
                    threads,
                    &IndexBuilder::new,
                );
                self.stats.merge(stats);
                self.index.absorb(builders);
                self.pending_notices.extend(outcome.notices);
                history.extend(self.read_history(&file, &opened.name, index, format, outcome.end));
                (format, Some(outcome.end), true)
            }
            Body::Stream(_) if live => {
                // a FIFO or a compressed file: the follower reads it (a FIFO as it is written)
                (format, None, false)
            }
            Body::Stream(mut reader) => {
                let mut ingestor = self.settings.ingestor(&self.enricher, format, index);
                let mut kept: Vec<OwnedEvent> = Vec::new();
                let enricher = &self.enricher;
                let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
                    if kept.len() >= TailRing::CAPACITY * 2 {
                        kept.drain(..TailRing::CAPACITY);
                    }
                    kept.push(owned(enricher, event, enriched, origin, raw));
                };
                let outcome = read::read_stream(&mut ingestor, &mut reader, &opened.name, &mut sink);
                self.stats.merge(ingestor.stats);
                self.pending_notices.extend(outcome.notices);
                history.extend(kept);
                (format, None, false)
            }
        }
    }

    /// The window a range covers, against the newest event read.
    fn window_of(&self, range: TimeRange) -> Window {
        range.window(self.stats.last_ms)
    }

    /// Names the inputs in the header (e.g. "bundled demo") instead of by their paths.
    pub fn described_as(mut self, label: &str) -> LocalBackend {
        self.label = Some(label.to_string());
        self
    }

    /// Parses the last [`TAIL_HISTORY_BYTES`] before `end` (from the next line start on) into owned
    /// events (statistics untouched).
    fn read_history(
        &self,
        file: &std::fs::File,
        name: &str,
        index: u32,
        format: Option<Format>,
        end: u64,
    ) -> Vec<OwnedEvent> {
        let mut start = end.saturating_sub(TAIL_HISTORY_BYTES);
        if start > 0 {
            let mut probe = vec![0u8; 64 * 1024];
            let n = read::read_full_at(file, &mut probe, start - 1).unwrap_or(0);
            start = match memchr::memchr(b'\n', &probe[..n]) {
                Some(i) => start - 1 + i as u64 + 1,
                None => end,
            };
        }
        let mut events = Vec::new();
        let mut ingestor = self.settings.ingestor(&self.enricher, format, index);
        let enricher = &self.enricher;
        let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
            events.push(owned(enricher, event, enriched, origin, raw));
        };
        read::read_range(&mut ingestor, file, name, start, end, &mut sink);
        events
    }

    /// Reads what the follower found new (rotation, truncation and new files handled there) into
    /// the statistics and the tail; returns its notices for the status line.
    fn follow_once(&mut self) -> Vec<String> {
        let Some(follower) = self.follower.as_mut() else { return Vec::new() };
        let items = follower.poll();
        let mut notices = Vec::new();
        for item in items {
            match item {
                FollowItem::Notice { path, message, .. } => {
                    notices.push(format!("{}: {message}", crate::text::path_text(&path)))
                }
                FollowItem::Lines { path, offset, bytes, .. } => {
                    let index = match self.files.iter().position(|f| f.path == path) {
                        Some(i) => i,
                        None => {
                            let format = read::detect_format(&bytes, self.settings.options.default_offset);
                            let indexed = positionable(&path) && !read::is_gzip(&bytes);
                            self.files.push(Followed { path: path.clone(), format, indexed });
                            self.files.len() - 1
                        }
                    };
                    if self.files[index].format.is_none() {
                        self.files[index].format = read::detect_format(&bytes, self.settings.options.default_offset);
                    }
                    let mut ingestor = self.settings.ingestor(&self.enricher, self.files[index].format, index as u32);
                    let mut fresh = Vec::new();
                    let enricher = &self.enricher;
                    let index_lines = self.files[index].indexed;
                    let id_index = &mut self.index;
                    let mut sink =
                        |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
                            if index_lines {
                                id_index.add_event(event, origin.file, origin.offset);
                            }
                            fresh.push(owned(enricher, event, enriched, origin, raw));
                        };
                    ingestor.ingest_block(&bytes, offset, true, &mut sink);
                    self.stats.merge(ingestor.stats);
                    for event in fresh {
                        self.tail.push(event);
                    }
                }
            }
        }
        if let Some(last) = self.stats.last_ms {
            self.stats.trim_before(last.saturating_sub(KEEP_HISTORY_MS));
        }
        notices
    }
}

impl LocalBackend {
    /// A rule file edited by hand: the rule base built again and every input read again under it;
    /// a file that no longer reads leaves the rules in force and says where it is wrong.
    fn reload_edited_rules(&mut self) -> Vec<String> {
        use super::rule_watch::Reloaded;
        let Some(reloaded) = self.rule_watch.as_mut().and_then(|w| w.check()) else {
            return Vec::new();
        };
        match reloaded {
            Reloaded::Rules(enricher, changed) => {
                let names: Vec<String> = changed.iter().map(|p| crate::text::path_text(p)).collect();
                let count = enricher.rules.len();
                match self.set_enricher(*enricher) {
                    Ok(done) => vec![format!("rules reloaded from {} ({count} rules); {done}", names.join(", "))],
                    Err(e) => vec![format!("rules changed in {} but not applied: {e}", names.join(", "))],
                }
            }
            Reloaded::Failed(e) => {
                // one line for the status: the parser's words (where and what), not its quoted source
                let words: Vec<&str> = e.lines().map(str::trim).filter(|l| !l.is_empty() && !l.contains('|')).collect();
                vec![format!(
                    "the edited rule file does not read; the previous rules stay in force: {}",
                    words.join(" ")
                )]
            }
        }
    }
}

/// An owned, sanitised event with its component name and rule id.
pub fn owned(
    enricher: &Enricher,
    event: &Event<'_>,
    enriched: &crate::enrich::Enriched,
    origin: Origin,
    raw: &[u8],
) -> OwnedEvent {
    let rule = match enriched.attribution {
        Attribution::Rule(id) => enricher.rule(id).map(|r| r.spec.id.as_str()),
        _ => None,
    };
    OwnedEvent::from_event(
        event,
        &String::from_utf8_lossy(raw),
        origin,
        enricher.components.name(enriched.component),
        rule,
    )
}

impl Backend for LocalBackend {
    fn describe(&self) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        match self.files.as_slice() {
            [] => "no log files yet".into(),
            [one] => crate::text::path_text(&one.path),
            many => {
                let dirs: std::collections::BTreeSet<String> =
                    many.iter().filter_map(|f| f.path.parent().map(crate::text::path_text)).collect();
                format!("{} files in {}", many.len(), dirs.into_iter().collect::<Vec<_>>().join(", "))
            }
        }
    }

    fn refresh(&mut self) -> Vec<String> {
        let mut notices = std::mem::take(&mut self.pending_notices);
        if self.live {
            notices.extend(self.follow_once());
        }
        notices.extend(self.reload_edited_rules());
        notices
    }

    fn overview(&mut self, range: TimeRange) -> Overview {
        self.stats.settle();
        let window = self.window_of(range);
        overview::compute(&self.stats, &self.enricher, window, OverviewOptions::console(&self.health, &[]))
    }

    fn tail(&self, after: u64, limit: usize) -> Vec<(u64, OwnedEvent)> {
        self.tail.since(after, limit)
    }

    fn related(&mut self, id: &str) -> Related {
        let (mut events, mut truncated) = self.lines_of(id);
        // a request id: the drill-down of its video, with the request's lines
        let video = events.iter().filter(|e| e.request_id.as_deref() == Some(id)).find_map(|e| e.video_id.clone());
        let video_id = match video {
            Some(video) if video != id => {
                let (more, more_truncated) = self.lines_of(&video);
                truncated |= more_truncated;
                events.extend(more);
                video
            }
            _ => id.to_string(),
        };
        events.sort_by_key(|e| (e.ts_ms.unwrap_or(i64::MIN), e.origin.file, e.origin.offset));
        events.dedup_by_key(|e| (e.origin.file, e.origin.offset));
        if events.len() > RELATED_CAP {
            events.truncate(RELATED_CAP);
            truncated = true;
        }
        let files = self.files.iter().map(|f| crate::text::path_text(&f.path)).collect();
        Related::from_lines(&self.enricher, &video_id, events, truncated, files)
    }

    fn search(
        &mut self,
        query: &super::SearchQuery,
        cancel: &super::cancel::Canceller,
        progress: &mut dyn FnMut(u64, u64),
    ) -> super::SearchResult {
        self.search_files(query, cancel, progress, 2)
    }

    fn data_range(&mut self) -> (Option<i64>, Option<i64>) {
        if self.stats.first_ms.is_some() {
            return (self.stats.first_ms, self.stats.last_ms);
        }
        // inputs opened unread: the times of the first and last 64 KiB of each file
        let (mut first, mut last) = (None::<i64>, None::<i64>);
        for (index, followed) in self.files.iter().enumerate() {
            let Ok(file) = std::fs::File::open(&followed.path) else { continue };
            let len = file.metadata().map_or(0, |m| m.len());
            for (from, to) in [(0, len.min(1 << 16)), (len.saturating_sub(1 << 16), len)] {
                let mut ingestor = self.settings.ingestor(&self.enricher, followed.format, index as u32);
                let mut sink = |event: &Event<'_>, _: &crate::enrich::Enriched, _: Origin, _: &[u8]| {
                    if let Some(t) = event.ts_ms {
                        first = Some(first.map_or(t, |f| f.min(t)));
                        last = Some(last.map_or(t, |l| l.max(t)));
                    }
                };
                read::read_range(&mut ingestor, &file, "", from, to, &mut sink);
            }
        }
        (first, last)
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
        for (index, followed) in self.files.iter().enumerate() {
            if !std::fs::metadata(&followed.path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let input = Input::File(followed.path.clone());
            let Ok(opened) = read::open(&input, followed.format, self.settings.options.default_offset, &|_| {}) else {
                continue;
            };
            let enricher = &self.enricher;
            let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
                if !query.in_span(event.ts_ms) {
                    return;
                }
                if let Some(f) = &filter
                    && !f.matches(&crate::alerts::collect::subject_of(enricher, event, enriched))
                {
                    return;
                }
                if query.wants_gpu() && (event.gpu_mem_bytes.is_some() || event.gpu_util_pct.is_some()) {
                    answer.gpu.push(GpuSample {
                        at_ms: event.ts_ms.unwrap_or_default(),
                        mem_gib: event.gpu_mem_bytes.map(|b| b / (1u64 << 30) as f64),
                        util_pct: event.gpu_util_pct,
                    });
                }
                let kept = owned(enricher, event, enriched, origin, raw);
                if query.matches(&kept) {
                    if answer.events.len() < LINES_CAP {
                        answer.events.push(kept);
                    } else {
                        answer.truncated = true;
                    }
                }
            };
            read::read_events(opened, index as u32, enricher, &self.settings, &mut sink);
        }
        answer.files = self.files.iter().map(|f| crate::text::path_text(&f.path)).collect();
        answer.finish()
    }

    fn patterns(&mut self, query: &super::PatternsQuery) -> crate::stats::template_rows::PatternsView {
        self.stats.settle();
        let window = self.window_of(query.range);
        let baseline = query.baseline_window(window);
        crate::stats::template_rows::compute(&self.stats, &self.enricher, window, baseline, query.options)
    }

    fn lines_read(&self) -> u64 {
        self.stats.lines.total
    }

    /// Reads every input again with the rules' collector (the same reading `check` does).
    fn alert_data(
        &mut self,
        rules: &[crate::alerts::rules::Rule],
        at_ms: i64,
    ) -> Result<super::alerts::Gathered, String> {
        if self.files.iter().any(|f| !f.indexed && !positionable(&f.path) && !is_gzip(&f.path)) {
            return Err("an input is a stream (stdin, a FIFO): the alert rules need files they can read again".into());
        }
        let inputs: Vec<(Input, Option<Format>)> =
            self.files.iter().map(|f| (Input::File(f.path.clone()), f.format)).collect();
        super::alerts::gather_files(&inputs, rules, &self.enricher, &self.settings, at_ms, self.threads)
    }

    /// Reads every input again with the new rules (the statistics hold each line's attribution):
    /// the cost of a first read. An input read as a stream (stdin, a FIFO) cannot be read again.
    fn rules(&self) -> Option<&Enricher> {
        Some(&self.enricher)
    }

    fn set_enricher(&mut self, enricher: Enricher) -> Result<String, String> {
        if self.files.iter().any(|f| !f.indexed && !positionable(&f.path)) {
            return Err(
                "an input is a stream (stdin, a FIFO or compressed): it cannot be read again; restart to apply".into(),
            );
        }
        let started = std::time::Instant::now();
        let paths: Vec<PathBuf> = self.files.drain(..).map(|f| f.path).collect();
        self.enricher = enricher;
        // the files as they are now are the ones applied (a rule saved by the console is not an edit)
        if let Some(watch) = self.rule_watch.as_mut() {
            watch.restamp();
        }
        self.stats = Stats::new(self.enricher.components.len(), self.settings.bucket_ms);
        self.tail = TailRing::new();
        self.index = IdIndex::new();
        self.follower = None;
        self.read_inputs(paths, &|_| {});
        Ok(format!("every input read again in {} ms", started.elapsed().as_millis()))
    }

    fn videos_with_code(&mut self, code: &str, range: TimeRange) -> Vec<crate::stats::overview::VideoRow> {
        self.stats.settle();
        crate::stats::videos::videos_with_code(&self.stats, &self.enricher, code, self.window_of(range))
    }
}
