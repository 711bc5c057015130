//! The file backend: statistics over whole files read at start (fast path, all cores), then the
//! files followed for new lines; a bounded tail of recent events; drill-down by rescanning the
//! files for a video id (memory stays flat: no per-line index is kept).

use super::{Backend, Related, Span};
use crate::enrich::{Attribution, Enricher};
use crate::event::{Event, Origin, OwnedEvent};
use crate::parse::LineParser;
use crate::pipeline::{self, IngestSetup, Ingestor, PipelineOptions};
use crate::source::follow::{FollowItem, FollowOptions, Follower};
use crate::stats::Stats;
use crate::stats::health::HealthConfig;
use crate::stats::overview::{self, Overview, OverviewOptions, Window};
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

/// Events kept for the live tail.
pub const TAIL_CAPACITY: usize = 20_000;
/// Bytes of history read back from the end of each file for the tail at start.
pub const TAIL_HISTORY_BYTES: u64 = 1 << 20;
/// Related lines kept for one video.
pub const RELATED_CAP: usize = 5_000;
/// Statistics older than this (behind the newest event) are dropped in live mode.
pub const KEEP_HISTORY_MS: i64 = 25 * 3600 * 1000;

struct Followed {
    path: PathBuf,
    format: Option<crate::parse::Format>,
    /// Next byte to read.
    offset: u64,
    inode: u64,
}

pub struct LocalBackend {
    files: Vec<Followed>,
    enricher: Enricher,
    health: HealthConfig,
    alert_rules: Vec<crate::alerts::AlertRule>,
    options: PipelineOptions,
    bucket_ms: i64,
    stats: Stats,
    tail: VecDeque<(u64, OwnedEvent)>,
    next_seq: u64,
    live: bool,
    /// Follows the inputs by name after the first read (live mode).
    follower: Option<Follower>,
}

/// Offset just after the last newline in `[0, len)`: the complete lines of a file being written.
fn complete_len(file: &File, len: u64) -> u64 {
    let start = len.saturating_sub(64 * 1024);
    let mut buf = vec![0u8; (len - start) as usize];
    match file.read_at(&mut buf, start) {
        Ok(n) => {
            memchr::memrchr(b'\n', &buf[..n]).map_or(if len < 64 * 1024 { 0 } else { len }, |i| start + i as u64 + 1)
        }
        Err(_) => len,
    }
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
        let options = PipelineOptions {
            max_line: config.max_line_bytes,
            window: Window::ALL,
            default_offset: config.offset_seconds().unwrap_or(0),
            times: config.time_limits(None),
        };
        let bucket_ms = config.bucket_ms().unwrap_or(60_000);
        let mut backend = LocalBackend {
            files: Vec::new(),
            stats: Stats::new(enricher.components.len(), bucket_ms),
            enricher,
            health: config.health.clone(),
            alert_rules: config.alerts.clone(),
            options,
            bucket_ms,
            tail: VecDeque::new(),
            next_seq: 1,
            live,
            follower: None,
        };
        let mut history: Vec<OwnedEvent> = Vec::new();
        for (index, path) in paths.into_iter().enumerate() {
            let mut followed = Followed { path, format: None, offset: 0, inode: 0 };
            if let Ok(file) = File::open(&followed.path) {
                let meta = file.metadata().ok();
                let len = meta.as_ref().map_or(0, |m| m.len());
                followed.inode = meta.as_ref().map_or(0, |m| m.ino());
                let mut head = vec![0u8; 64 * 1024];
                let n = file.read_at(&mut head, 0).unwrap_or(0);
                followed.format = crate::source::detect_format(&head[..n], options.default_offset);
                let end = if live { complete_len(&file, len) } else { len };
                let setup = IngestSetup {
                    enricher: &backend.enricher,
                    parser: LineParser::new(followed.format, options.default_offset),
                    options,
                    bucket_ms,
                    index: index as u32,
                };
                if let Ok(stats) = pipeline::ingest_file_parallel(&file, end, &setup, threads) {
                    backend.stats.merge(stats);
                }
                history.extend(backend.read_history(&file, index as u32, followed.format, end));
                followed.offset = end;
            }
            backend.files.push(followed);
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
                max_line: options.max_line,
                ..FollowOptions::default()
            };
            let mut follower = Follower::new(&specs, options);
            for f in &backend.files {
                follower.start_at(&f.path, f.offset);
            }
            backend.follower = Some(follower);
        }
        history.sort_by_key(|e| e.ts_ms.unwrap_or(i64::MIN));
        let skip = history.len().saturating_sub(TAIL_CAPACITY);
        for event in history.into_iter().skip(skip) {
            backend.push_tail(event);
        }
        backend.stats.settle();
        backend
    }

    fn push_tail(&mut self, event: OwnedEvent) {
        if self.tail.len() >= TAIL_CAPACITY {
            self.tail.pop_front();
        }
        self.tail.push_back((self.next_seq, event));
        self.next_seq += 1;
    }

    /// Parses the last [`TAIL_HISTORY_BYTES`] before `end` into owned events (statistics untouched).
    fn read_history(&self, file: &File, index: u32, format: Option<crate::parse::Format>, end: u64) -> Vec<OwnedEvent> {
        let start = end.saturating_sub(TAIL_HISTORY_BYTES);
        let mut buf = vec![0u8; (end - start) as usize];
        let n = file.read_at(&mut buf, start).unwrap_or(0);
        buf.truncate(n);
        let skip = if start == 0 { 0 } else { memchr::memchr(b'\n', &buf).map_or(buf.len(), |i| i + 1) };
        let mut events = Vec::new();
        let mut ingestor = Ingestor::new(
            &self.enricher,
            LineParser::new(format, self.options.default_offset),
            self.options,
            self.bucket_ms,
        );
        ingestor.file = index;
        let enricher = &self.enricher;
        let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
            events.push(owned(enricher, event, enriched, origin, raw));
        };
        ingestor.ingest_block(&buf[skip..], start + skip as u64, true, &mut sink);
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
                FollowItem::Notice { path, message, .. } => notices.push(format!("{}: {message}", path.display())),
                FollowItem::Lines { path, offset, bytes, .. } => {
                    let index = match self.files.iter().position(|f| f.path == path) {
                        Some(i) => i,
                        None => {
                            let format = crate::source::detect_format(&bytes, self.options.default_offset);
                            self.files.push(Followed { path: path.clone(), format, offset: 0, inode: 0 });
                            self.files.len() - 1
                        }
                    };
                    let format = self.files[index].format;
                    let mut ingestor = Ingestor::new(
                        &self.enricher,
                        LineParser::new(format, self.options.default_offset),
                        self.options,
                        self.bucket_ms,
                    );
                    ingestor.file = index as u32;
                    let mut fresh = Vec::new();
                    let enricher = &self.enricher;
                    let mut sink =
                        |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
                            fresh.push(owned(enricher, event, enriched, origin, raw));
                        };
                    ingestor.ingest_block(&bytes, offset, true, &mut sink);
                    let stats = std::mem::replace(&mut ingestor.stats, Stats::new(0, self.bucket_ms));
                    self.stats.merge(stats);
                    for event in fresh {
                        self.push_tail(event);
                    }
                    self.files[index].offset = offset + bytes.len() as u64;
                }
            }
        }
        if let Some(last) = self.stats.last_ms {
            self.stats.trim_before(last - KEEP_HISTORY_MS);
        }
        notices
    }
}

/// An owned, sanitised event with its component name and rule id.
fn owned(
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
        match self.files.as_slice() {
            [one] => one.path.display().to_string(),
            many => {
                let dirs: std::collections::BTreeSet<String> =
                    many.iter().filter_map(|f| f.path.parent().map(|p| p.display().to_string())).collect();
                format!("{} files in {}", many.len(), dirs.into_iter().collect::<Vec<_>>().join(", "))
            }
        }
    }

    fn refresh(&mut self) -> Vec<String> {
        if self.live { self.follow_once() } else { Vec::new() }
    }

    fn overview(&mut self, span: Span) -> Overview {
        self.stats.settle();
        let window = match (span, self.stats.last_ms) {
            (Some(span), Some(end)) => Window::last(span, end),
            _ => Window::ALL,
        };
        overview::compute(
            &self.stats,
            &self.enricher,
            window,
            OverviewOptions { health: &self.health, alert_rules: &self.alert_rules, top_videos: 50, top_patterns: 20 },
        )
    }

    fn tail(&self, after: u64, limit: usize) -> Vec<(u64, OwnedEvent)> {
        let fresh: Vec<&(u64, OwnedEvent)> = self.tail.iter().filter(|(seq, _)| *seq > after).collect();
        let skip = fresh.len().saturating_sub(limit);
        fresh.into_iter().skip(skip).cloned().collect()
    }

    fn related(&mut self, video_id: &str) -> Related {
        let finder = memchr::memmem::Finder::new(video_id.as_bytes());
        let mut events = Vec::new();
        let mut truncated = false;
        for (index, followed) in self.files.iter().enumerate() {
            let Ok(file) = File::open(&followed.path) else { continue };
            let len = file.metadata().map_or(0, |m| m.len());
            let mut ingestor = Ingestor::new(
                &self.enricher,
                LineParser::new(followed.format, self.options.default_offset),
                self.options,
                self.bucket_ms,
            );
            ingestor.file = index as u32;
            let enricher = &self.enricher;
            let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
                if finder.find(raw).is_some() {
                    if events.len() < RELATED_CAP {
                        events.push(owned(enricher, event, enriched, origin, raw));
                    } else {
                        truncated = true;
                    }
                }
            };
            let mut start = 0u64;
            let mut buf = vec![0u8; 8 << 20];
            while start < len {
                let n = file.read_at(&mut buf, start).unwrap_or(0);
                if n == 0 {
                    break;
                }
                let eof = start + n as u64 >= len;
                let consumed = ingestor.ingest_block(&buf[..n], start, eof, &mut sink);
                if consumed == 0 {
                    break;
                }
                start += consumed as u64;
            }
        }
        events.sort_by_key(|e| (e.ts_ms.unwrap_or(i64::MIN), e.origin.file, e.origin.offset));
        let row = self.overview(None).top_failing_videos.into_iter().find(|v| v.video_id == video_id);
        let explanation = super::explain_related(&self.enricher, video_id, &events);
        Related {
            video_id: video_id.to_string(),
            events,
            truncated,
            explanation,
            row,
            files: self.files.iter().map(|f| f.path.display().to_string()).collect(),
        }
    }

    fn lines_read(&self) -> u64 {
        self.stats.lines.total
    }
}
