//! The cluster's tail: new documents since the last poll, each exactly once, in the order they
//! arrived (the ingest time `ship` writes, else `@timestamp`), with a look-back for documents
//! that become searchable late.

use super::EsBackend;
use crate::elastic::{EsError, queries, schema};
use serde_json::Value;

/// How far behind the newest tail position each poll looks again for documents that became
/// searchable late; and the most new documents one poll takes (the next poll goes on).
pub const TAIL_LOOK_BACK_MS: i64 = 10_000;
pub const TAIL_POLL_MAX: usize = 5_000;
/// Pages of ids read when the tail starts, to know what was already there.
const TAIL_PRIME_PAGES: usize = 50;

impl EsBackend {
    /// The field the tail follows: the ingest time `ship` writes, when the index has it (documents
    /// appear in the order they arrived, whatever their own time), else `@timestamp`.
    pub fn tail_field(&self) -> &'static str {
        if self.client.fields.has(schema::INGESTED) { schema::INGESTED } else { "@timestamp" }
    }

    /// New documents since the last poll, each exactly once, in arrival order. Every poll looks
    /// back [`TAIL_LOOK_BACK_MS`] behind the newest position seen and drops the documents already
    /// shown (by id): a document that becomes searchable late (refresh, several shippers, clocks
    /// apart) is still shown, once.
    pub fn poll_tail(&mut self) -> Result<usize, crate::elastic::EsError> {
        let field = self.tail_field();
        let Some(newest) = self.tail_newest else {
            // start with the newest page: look backwards once
            let answer = self.client.search(&queries::tail_start(field))?;
            let mut hits: Vec<Value> = answer.body["hits"]["hits"].as_array().cloned().unwrap_or_default();
            hits.reverse();
            let taken = self.take_hits(&hits);
            // what is already there within the look-back counts as seen: ids only, not shown
            if let Some(newest) = self.tail_newest {
                self.mark_seen(field, newest.saturating_sub(TAIL_LOOK_BACK_MS))?;
            }
            if self.tail_newest.is_none() && field == schema::INGESTED {
                // nothing yet: what arrives from now on (minus the look-back) is new; by
                // `@timestamp` there is no such "now", so the first page is asked for again
                self.tail_newest = Some(chrono::Utc::now().timestamp_millis());
            }
            return Ok(taken);
        };
        let floor = newest.saturating_sub(TAIL_LOOK_BACK_MS);
        let mut after: Option<Value> = None;
        let mut taken = 0;
        loop {
            let answer = self.client.search(&queries::tail_since(field, floor, after.as_ref()))?;
            let hits: Vec<Value> = answer.body["hits"]["hits"].as_array().cloned().unwrap_or_default();
            taken += self.take_hits(&hits);
            after = hits.last().and_then(|h| h.get("sort").cloned());
            if hits.len() < queries::TAIL_PAGE || after.is_none() || taken >= TAIL_POLL_MAX {
                break;
            }
        }
        let keep_from = self.tail_newest.unwrap_or(newest).saturating_sub(TAIL_LOOK_BACK_MS);
        self.tail_seen.retain(|_, at| *at >= keep_from);
        Ok(taken)
    }

    /// Records the ids of the documents at or after `floor` as seen, without showing them.
    fn mark_seen(&mut self, field: &str, floor: i64) -> Result<(), EsError> {
        let mut after: Option<Value> = None;
        for _ in 0..TAIL_PRIME_PAGES {
            let mut body = queries::tail_since(field, floor, after.as_ref());
            body["_source"] = Value::Bool(false);
            let answer = self.client.search(&body)?;
            let hits: Vec<Value> = answer.body["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for hit in &hits {
                let at = hit["sort"][0].as_i64().or_else(|| hit["sort"][0].as_f64().map(|v| v as i64));
                if let (Some(id), Some(at)) = (hit["_id"].as_str(), at) {
                    self.tail_seen.insert(id.to_string(), at);
                }
            }
            after = hits.last().and_then(|h| h.get("sort").cloned());
            if hits.len() < queries::TAIL_PAGE || after.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Adds the hits not shown yet to the tail; returns how many.
    fn take_hits(&mut self, hits: &[Value]) -> usize {
        let mut taken = 0;
        for hit in hits {
            let position = hit["sort"][0].as_i64().or_else(|| hit["sort"][0].as_f64().map(|v| v as i64));
            let id = hit["_id"].as_str().map(str::to_string);
            if let (Some(id), Some(at)) = (id, position)
                && self.tail_seen.insert(id, at).is_some()
            {
                continue;
            }
            if let Some(at) = position {
                self.tail_newest = Some(self.tail_newest.map_or(at, |n| n.max(at)));
            }
            let path = hit["_source"]["log_file"].as_str().unwrap_or("").to_string();
            let index = self.file_index(&path);
            let event = schema::owned_from_document(&hit["_source"], index);
            self.tail.push(event);
            taken += 1;
        }
        taken
    }
}
