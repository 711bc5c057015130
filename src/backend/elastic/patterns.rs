//! The Patterns screen of a cluster: every template of errors and warnings from two aggregation
//! requests on the `template` field `ship` writes ([`crate::elastic::patterns`]), made into the
//! files' rows ([`crate::stats::cluster_rows`]); the answer kept while no document arrives.

use super::EsBackend;
use crate::elastic::EsError;
use crate::elastic::client::EsClient;
use crate::stats::template_rows::PatternsView;

impl EsBackend {
    /// True when the index has the `template` field `ship` writes; asked again while it has not
    /// (an index shipped to after the console connected).
    pub(super) fn has_templates(&mut self) -> bool {
        if !self.client.fields.has("template") {
            let name = self.client.fields.name("template").to_string();
            let keyword = format!("{name}.keyword");
            if let Ok(caps) = self.client.field_caps(&[&name, &keyword]) {
                self.client.fields.learn(&caps);
            }
        }
        self.client.fields.has("template")
    }

    /// The Patterns screen's answer: the data's first and last times (two sorted searches of one
    /// hit), then two aggregations: each template over all the data with the baseline's counts,
    /// then the window's (see [`crate::elastic::patterns`]).
    pub(super) fn try_patterns(&mut self, query: &crate::backend::PatternsQuery) -> Result<PatternsView, EsError> {
        use crate::elastic::patterns;
        use crate::stats::cluster_rows::{self, ClusterTemplates, Shape};
        self.resolve_newest(query.range)?;
        let window = query.range.window(self.data_end);
        let baseline = query.baseline_window(window);
        let limits = self.settings.options.times.resolve();
        let b = self.bucket_ms;
        // what changed needs both windows closed; each counted in whole buckets, as on files
        let baseline_span = match (window.from_ms.zip(window.to_ms), baseline.from_ms.zip(baseline.to_ms)) {
            (Some(_), Some((from, to))) => Some((from.div_euclid(b) * b, (to.div_euclid(b) + 1) * b - 1)),
            _ => None,
        };
        let mut answer = ClusterTemplates::default();
        let bound = |client: &EsClient, order: &str| -> Result<Option<i64>, EsError> {
            Ok(patterns::read_bound(&client.search(&patterns::bound_query(limits, order))?.body))
        };
        (answer.data_from, answer.data_to) = (bound(&self.client, "asc")?, bound(&self.client, "desc")?);
        // the same query over the same documents: the answer given last (a live refresh)
        let documents =
            self.client.post(&format!("/{}/_count", self.client.options.index), &serde_json::json!({}))?["count"]
                .as_u64()
                .unwrap_or(u64::MAX);
        let key = (query.clone(), answer.data_from, answer.data_to, documents);
        if let Some((_, view)) = self.patterns_cache.as_ref().filter(|(k, _)| *k == key && documents != u64::MAX) {
            return Ok(view.clone());
        }
        let data = self.client.search(&patterns::data_query(limits, baseline_span))?;
        patterns::read_data(&data.body, &mut answer);
        // (`data_end` stays the overview's: it also marks where the ingest rate counts from)
        let shape = Shape::new(window, answer.data_from, answer.data_to, b);
        let keys: Vec<&str> = answer.seen.iter().map(|s| s.key.as_str()).collect();
        let groups = cluster_rows::groups_of_several(&keys);
        let all = window.is_all();
        let span = (!all).then(|| shape.span());
        let found =
            self.client.search(&patterns::window_query(span, &shape, limits, &groups, baseline_span.is_some()))?;
        patterns::read_window(&found.body, all, &groups, &mut answer);
        if answer.seen.is_empty() && answer.untemplated > 0 {
            // mapped (the index template is new) but written by an older `ship`: as before
            return Ok(crate::backend::patterns_from_overviews(self, query));
        }
        let mut view = cluster_rows::rows(&answer, &self.enricher, window, baseline, query.options, shape);
        let warnings: Vec<String> = data.warnings.into_iter().chain(found.warnings).collect();
        if warnings.is_empty() {
            // an incomplete answer is asked again next time
            self.patterns_cache = Some((key, view.clone()));
        } else {
            let text = format!("cluster: {}", warnings.join("; "));
            view.note = Some(match view.note.take() {
                Some(n) => format!("{n}; {text}"),
                None => text,
            });
        }
        Ok(view)
    }
}
