//! Field semantics shared by every format: which keys mean video id, error code, latency, GPU
//! memory…, and how their values are normalised into the event's typed slots.

use super::units;
use crate::event::{Event, Field};
use std::borrow::Cow;

/// Applies one `key=value` to the event's typed slots and stores the field (formats whose fields
/// are not kept as `key=value` text).
pub fn apply_field<'a>(event: &mut Event<'a>, key: Cow<'a, str>, value: Cow<'a, str>) {
    apply_typed(event, &key, &value);
    event.fields.push(Field { key, value });
}

/// Fills the typed slots the statistics use from one `key=value`. Keys are told apart by length
/// first, so that the common unknown keys cost one comparison.
#[inline]
#[allow(clippy::ptr_arg)] // the Cow is cloned into the event: borrowed values stay borrowed
pub fn apply_typed<'a>(event: &mut Event<'a>, key: &str, value: &Cow<'a, str>) {
    if !matches!(key.len(), 3..=17) {
        return;
    }
    match key {
        "video_id" | "videoId" | "vid" => event.video_id = Some(value.clone()),
        "request_id" | "requestId" | "req_id" | "trace_id" => event.request_id = Some(value.clone()),
        "error_code" | "errorCode" | "err_code" if !value.is_empty() => event.error_code = Some(value.clone()),
        "reason" | "msg" | "message" | "error" | "err" if !value.is_empty() => event.message = value.clone(),
        "inference_time" | "infer_time" => {
            event.latency_ms = units::duration_ms(value, 1000.0);
            event.job_outcome |= event.video_id.is_some();
        }
        "latency" | "latency_ms" | "elapsed" | "elapsed_ms" | "took" => {
            let bare = if key.ends_with("_ms") { 1.0 } else { 1000.0 };
            if event.latency_ms.is_none() {
                event.latency_ms = units::duration_ms(value, bare);
            }
        }
        "gpu_mem" | "gpu_mem_used" | "gpu_memory" | "gpu_memory_used" => event.gpu_mem_bytes = units::size_bytes(value),
        "gpu_util" | "gpu_utilization" | "gpu_util_pct" => event.gpu_util_pct = units::percent(value),
        "audio_gen_success" | "success" => {
            event.job_outcome = true;
            if value.eq_ignore_ascii_case("false") && event.level < crate::event::Level::Error {
                event.level = crate::event::Level::Error;
            }
        }
        "level" | "levelname" | "severity" => {
            if let Some(level) = crate::event::Level::parse(value) {
                event.level = level;
            }
        }
        "component" | "service" | "container" | "logger" | "name"
            if event.component_hint.is_none() && !value.is_empty() =>
        {
            event.component_hint = Some(value.clone())
        }
        _ => {}
    }
}

/// After all fields are applied: derive what depends on several of them.
#[inline]
pub fn finish(event: &mut Event<'_>) {
    if event.error_code.is_some() && event.video_id.is_some() {
        event.job_outcome = true;
    }
}
