//! An index whose fields are derived here (filled by Filebeat or Logstash, without the fields
//! `ship` computes): its overview, Patterns screen and panel lines come from its lines read back
//! and run through the files' pipeline ([`crate::elastic::derive`]).

use super::EsBackend;
use crate::elastic::EsError;
use crate::stats::overview::{self, Overview, OverviewOptions, Window};
use crate::stats::template_rows::PatternsView;

impl EsBackend {
    /// The overview of an index without the fields `ship` computes: its lines read back and
    /// enriched here (see [`crate::elastic::derive`]).
    pub(super) fn derived_overview(
        &mut self,
        window: Window,
        keys: Option<(i64, i64)>,
        exact: bool,
    ) -> Result<Overview, EsError> {
        let pipeline = crate::pipeline::PipelineOptions {
            window: if exact { window } else { Window::ALL },
            ..self.settings.options
        };
        let before = self.client.bytes_received.load(std::sync::atomic::Ordering::Relaxed);
        let derived = crate::elastic::derive::derive(&self.client, &self.enricher, keys, pipeline, self.bucket_ms)?;
        self.bytes_last_refresh =
            self.client.bytes_received.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(before) as usize;
        let mut note =
            format!("fields: {}, derived here from {} documents", self.client.preset.name(), derived.documents);
        self.warnings.clear();
        if derived.capped {
            note.push_str(" (the first ones only: approximate)");
            self.warnings.push(format!(
                "more than {} documents in the window: the numbers are from the first ones only",
                crate::elastic::derive::DERIVE_MAX
            ));
        }
        self.derived_note = Some(note);
        let stats = derived.stats;
        self.data_end = stats.last_ms.or(self.data_end);
        self.lines = stats.lines.total;
        let options = OverviewOptions::console(&self.health, &[]);
        Ok(overview::compute(&stats, &self.enricher, window, options))
    }

    /// The Patterns screen of an index whose fields are derived here: the lines of the range and
    /// its baseline read back and enriched here, then the files' answer (every template of errors
    /// and warnings, with trend, components, videos and rules); first seen within what was read.
    pub(super) fn derived_patterns(&mut self, query: &crate::backend::PatternsQuery) -> Result<PatternsView, EsError> {
        self.resolve_newest(query.range)?;
        let window = query.range.window(self.data_end);
        let baseline = query.baseline_window(window);
        let from = match (window.from_ms, baseline.from_ms) {
            (Some(w), Some(b)) => Some(w.min(b)),
            (w, _) => w,
        };
        let keys = match (from, window.to_ms) {
            (None, None) => None,
            (f, t) => Some((f.unwrap_or(0), t.unwrap_or(i64::MAX / 2))),
        };
        let pipeline = crate::pipeline::PipelineOptions { window: Window::ALL, ..self.settings.options };
        let derived = crate::elastic::derive::derive(&self.client, &self.enricher, keys, pipeline, self.bucket_ms)?;
        let mut view =
            crate::stats::template_rows::compute(&derived.stats, &self.enricher, window, baseline, query.options);
        let mut note = format!(
            "fields: {}, derived here from the {} documents of the range and its baseline (first seen within them)",
            self.client.preset.name(),
            derived.documents
        );
        if derived.capped {
            note.push_str(": the first ones only, approximate");
        }
        view.note = Some(match view.note.take() {
            Some(n) => format!("{note} · {n}"),
            None => note,
        });
        Ok(view)
    }

    /// The lines of a span on an index whose fields are derived here: read back and enriched
    /// here as the files' are, then chosen as on files.
    pub(super) fn derived_lines(
        &mut self,
        query: &crate::backend::lines::LineQuery,
        filter: Option<&crate::query::Query>,
        mut answer: crate::backend::lines::Lines,
    ) -> crate::backend::lines::Lines {
        let enricher = &self.enricher;
        let mut events = Vec::new();
        let mut sink =
            |e: &crate::event::Event<'_>, en: &crate::enrich::Enriched, origin: crate::event::Origin, raw: &[u8]| {
                if events.len() > crate::backend::lines::LINES_CAP
                    || filter.is_some_and(|f| !f.matches(&crate::alerts::collect::subject_of(enricher, e, en)))
                {
                    return;
                }
                let owned = crate::backend::local::owned(enricher, e, en, origin, raw);
                if query.matches(&owned) {
                    events.push(owned);
                }
            };
        let pipeline = crate::pipeline::PipelineOptions { window: Window::ALL, ..self.settings.options };
        let span = Some((query.from_ms, query.to_ms));
        match crate::elastic::derive::derive_into(&self.client, enricher, span, pipeline, self.bucket_ms, &mut sink) {
            Ok(derived) => {
                for mut e in events {
                    let path = derived.files.get(e.origin.file as usize).cloned().unwrap_or_default();
                    e.origin.file = self.file_index(&path);
                    answer.events.push(e);
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
}

/// True when `text` holds `id` as a whole word (not inside a longer id: `vid_1` is not in `vid_10`).
pub(super) fn names(text: &str, id: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    !id.is_empty()
        && text
            .match_indices(id)
            .any(|(at, _)| !word(text[..at].chars().next_back()) && !word(text[at + id.len()..].chars().next()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_names_an_id_as_a_whole_word() {
        assert!(super::names("OOM (video_id=vid_1)", "vid_1"));
        assert!(super::names("vid_1 failed", "vid_1"));
        assert!(!super::names("video_id=vid_10", "vid_1"));
        assert!(!super::names("xvid_1", "vid_1"));
        assert!(!super::names("anything", ""));
    }
}
