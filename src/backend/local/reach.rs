//! Reaching any line on files: the lines of a video or request id from the id index by positioned
//! reads (a rescan for the inputs that cannot be read at an offset), and free-text search over the
//! bytes of every input in the range.

use super::{LocalBackend, RELATED_CAP, owned};
use crate::event::{Event, Origin, OwnedEvent};
use crate::source::Input;
use crate::source::read::{self, Body};

impl LocalBackend {
    /// The lines whose video or request id is `id`, in input and offset order: from the id
    /// index by positioned reads, and by a rescan of the inputs that cannot be read at an offset.
    pub fn lines_of(&self, id: &str) -> (Vec<OwnedEvent>, bool) {
        let positions = self.index.lookup(id);
        let mut scanned: Vec<OwnedEvent> = Vec::new();
        let mut events = Vec::new();
        let mut truncated = false;
        let enricher = &self.enricher;
        let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
            if event.video_id.as_deref() == Some(id) || event.request_id.as_deref() == Some(id) {
                if events.len() < RELATED_CAP {
                    events.push(owned(enricher, event, enriched, origin, raw));
                } else {
                    truncated = true;
                }
            }
        };
        for (index, followed) in self.files.iter().enumerate() {
            if followed.indexed {
                let offsets: Vec<u64> =
                    positions.iter().filter(|(f, _)| *f as usize == index).map(|(_, offset)| *offset).collect();
                if offsets.is_empty() {
                    continue;
                }
                let Ok(file) = std::fs::File::open(&followed.path) else { continue };
                let name = crate::text::path_text(&followed.path);
                let input = crate::backend::lines_at::Input {
                    file: &file,
                    name: &name,
                    index: index as u32,
                    format: followed.format,
                    enricher,
                    settings: &self.settings,
                };
                crate::backend::lines_at::read_lines_at(&input, &offsets, &mut sink);
                continue;
            }
            // a FIFO or device cannot be read again (opening it would wait for a writer)
            if !std::fs::metadata(&followed.path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let input = Input::File(followed.path.clone());
            let Ok(opened) = read::open(&input, followed.format, self.settings.options.default_offset, &|_| {}) else {
                continue;
            };
            match opened.body {
                // a regular file not indexed: a scan for the id's bytes, only those lines parsed
                Body::File { file, len } => {
                    let mut query = crate::backend::SearchQuery::new(id, None, None);
                    query.limit = usize::MAX;
                    let done = std::sync::atomic::AtomicU64::new(0);
                    let cancel = crate::backend::cancel::Canceller::new();
                    let context = crate::backend::scan::Context {
                        enricher,
                        settings: &self.settings,
                        query: &query,
                        cancel: &cancel,
                        done: &done,
                    };
                    let target = crate::backend::scan::Target {
                        file: &file,
                        name: &opened.name,
                        len,
                        index: index as u32,
                        format: opened.format,
                    };
                    let found = crate::backend::scan::search_file(&target, &context, 2, &mut || {});
                    scanned.extend(
                        found
                            .matches
                            .into_iter()
                            .filter(|e| e.video_id.as_deref() == Some(id) || e.request_id.as_deref() == Some(id)),
                    );
                }
                Body::Stream(_) => {
                    read::read_events(opened, index as u32, enricher, &self.settings, &mut sink);
                }
            }
        }
        for event in scanned {
            if events.len() < RELATED_CAP {
                events.push(event);
            } else {
                truncated = true;
            }
        }
        (events, truncated)
    }

    /// [`Backend::search`] on `threads` cores: every regular file scanned ([`crate::backend::scan`]), a
    /// compressed file or stream read whole.
    pub fn search_files(
        &self,
        query: &crate::backend::SearchQuery,
        cancel: &crate::backend::cancel::Canceller,
        progress: &mut dyn FnMut(u64, u64),
        threads: usize,
    ) -> crate::backend::SearchResult {
        use crate::backend::scan;
        let done = std::sync::atomic::AtomicU64::new(0);
        let total: u64 = self.files.iter().filter_map(|f| std::fs::metadata(&f.path).ok()).map(|m| m.len()).sum();
        let context = scan::Context { enricher: &self.enricher, settings: &self.settings, query, cancel, done: &done };
        let mut found = scan::Found::default();
        let matcher = scan::Matcher::new(&query.text);
        for (index, followed) in self.files.iter().enumerate() {
            if cancel.is_cancelled() {
                found.cancelled = true;
                break;
            }
            let name = crate::text::path_text(&followed.path);
            if followed.indexed {
                let Ok(file) = std::fs::File::open(&followed.path) else { continue };
                let len = file.metadata().map_or(0, |m| m.len());
                let target =
                    scan::Target { file: &file, name: &name, len, index: index as u32, format: followed.format };
                let mut tick = || progress(done.load(std::sync::atomic::Ordering::Relaxed), total);
                let part = scan::search_file(&target, &context, threads, &mut tick);
                found.total += part.total;
                found.cancelled |= part.cancelled;
                found.matches.extend(part.matches);
                continue;
            }
            if !std::fs::metadata(&followed.path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let input = Input::File(followed.path.clone());
            let Ok(opened) = read::open(&input, followed.format, self.settings.options.default_offset, &|_| {}) else {
                continue;
            };
            let enricher = &self.enricher;
            let mut sink = |event: &Event<'_>, enriched: &crate::enrich::Enriched, origin: Origin, raw: &[u8]| {
                if matcher.is_in(raw) && query.in_range(event.ts_ms) {
                    found.total += 1;
                    if found.matches.len() < query.limit {
                        found.matches.push(owned(enricher, event, enriched, origin, raw));
                    }
                }
            };
            read::read_events(opened, index as u32, enricher, &self.settings, &mut sink);
        }
        progress(done.load(std::sync::atomic::Ordering::Relaxed), total);
        let files = self.files.iter().map(|f| crate::text::path_text(&f.path)).collect();
        scan::finish(query, found, files)
    }

    /// The id index's resident bytes, the lines it has seen and the ids in it.
    pub fn index_size(&self) -> (usize, u64, usize) {
        (self.index.heap_bytes(), self.index.lines(), self.index.ids())
    }
}
