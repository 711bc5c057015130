//! Failing videos as rows: the top of the ranking for the overview, and every video of one error
//! code in a window (the codes screen), from the statistics kept per failing video.

use super::overview::{Explanation, VideoRow, Window};
use super::{CodeId, Stats, VideoStats};
use crate::enrich::{Attribution, Enricher};

/// The row of one failing video, with `failures` counted in the window asked about.
pub fn video_row(stats: &Stats, enricher: &Enricher, id: &str, v: &VideoStats, failures: u64) -> VideoRow {
    let explanation = Explanation::of(enricher, v.last_attribution.map_or(Attribution::Unknown, |(_, a)| a));
    let mut video_codes: Vec<(CodeId, u32)> = v.codes.iter().copied().collect();
    video_codes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    VideoRow {
        video_id: id.to_string(),
        failures,
        codes: video_codes.iter().map(|(c, _)| stats.code(*c).to_string()).collect(),
        cause: explanation.cause,
        fix: explanation.fix,
        rule: explanation.rule,
        first_seen: v.first_ms,
        last_seen: v.last_ms,
        request_id: v.last_request_id.as_ref().map(|r| r.to_string()),
    }
}

/// The bucket keys a window covers (`None`: all time).
fn window_keys(stats: &Stats, window: Window) -> Option<(i64, i64)> {
    if window.is_all() {
        return None;
    }
    let from = window.from_ms.map_or(i64::MIN, |f| stats.bucket_of(f));
    let to = window.to_ms.map_or(i64::MAX, |t| stats.bucket_of(t));
    Some((from, to))
}

/// Every video that failed with `code` in `window`, most failures of that code first (then the
/// latest, then by id); `failures` counts that code's failures in the window. Videos beyond the
/// statistics' cap ([`super::MAX_VIDEOS`]) are not known: [`Stats::videos_over_cap`] says how many
/// failures were not kept.
pub fn videos_with_code(stats: &Stats, enricher: &Enricher, code: &str, window: Window) -> Vec<VideoRow> {
    let Some(code_id) = stats.code_id(code) else { return Vec::new() };
    let keys = window_keys(stats, window);
    let mut found: Vec<(u64, &str, &VideoStats)> = stats
        .videos
        .iter()
        .filter(|(_, v)| v.codes.iter().any(|(c, _)| *c == code_id))
        .filter_map(|(id, v)| {
            let failures = match keys {
                // untimed failures count for the whole data only
                None => v.codes.iter().find(|(c, _)| *c == code_id).map_or(0, |(_, n)| *n as u64),
                Some(keys) => v.failures_in(Some(keys), Some(code_id)),
            };
            (failures > 0).then_some((failures, id.as_str(), v))
        })
        .collect();
    found.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| b.2.last_ms.cmp(&a.2.last_ms)).then_with(|| a.1.cmp(b.1)));
    found.into_iter().map(|(failures, id, v)| video_row(stats, enricher, id, v, failures)).collect()
}
