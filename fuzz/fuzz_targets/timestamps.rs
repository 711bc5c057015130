//! The timestamp readers on arbitrary text and numbers: no panic, every time within the years
//! 0000–9999 (give or take a zone offset), epoch numbers saturated rather than wrapped, the
//! plausibility check total, and the JSON time fields read the same way.
#![no_main]
use foley_triage::parse::time::{self, MAX_OFFSET_SECONDS, MAX_TIME_MS, MIN_TIME_MS};
use libfuzzer_sys::fuzz_target;

fn in_range(ms: i64) -> bool {
    let margin = MAX_OFFSET_SECONDS * 1000;
    (MIN_TIME_MS - margin..=MAX_TIME_MS + margin).contains(&ms)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for offset in [0, 8 * 3600, -MAX_OFFSET_SECONDS] {
        if let Some(ms) = time::parse_any(&text, offset) {
            assert!(in_range(ms), "{text:?} -> {ms}");
        }
        if let Some((ms, used)) = time::parse_iso_prefix(&text, offset) {
            assert!(in_range(ms) && used <= text.len(), "{text:?} -> {ms}");
        }
    }
    if let Some(ms) = time::parse_nginx_time(&text) {
        assert!(in_range(ms), "{text:?} -> {ms}");
    }
    // the first 8 bytes as an integer and as a float: any unit, saturated, never negative
    if data.len() >= 8 {
        let bytes: [u8; 8] = data[..8].try_into().unwrap_or_default();
        if let Some(ms) = time::epoch_integer_to_ms(i64::from_le_bytes(bytes)) {
            assert!((0..=MAX_TIME_MS).contains(&ms));
        }
        if let Some(ms) = time::epoch_number_to_ms(f64::from_le_bytes(bytes)) {
            assert!((0..=MAX_TIME_MS).contains(&ms));
        }
        let now = i64::from_le_bytes(bytes);
        let range = time::TimeLimits { now_ms: Some(now), future_tolerance_ms: now.wrapping_mul(3), floor_ms: now / 7 }
            .resolve();
        let _ = range.classify(now.wrapping_add(1));
    }
    // a JSON line with the text in each time field
    let line = serde_json::json!({"kind": "Event", "reason": "OOMKilled", "involvedObject": {"name": "p"},
        "lastTimestamp": &*text, "time": &*text})
    .to_string();
    if let Some(event) = foley_triage::parse::json::parse(&line, 0)
        && let Some(ms) = event.ts_ms
    {
        assert!(in_range(ms), "{line} -> {ms}");
    }
});
