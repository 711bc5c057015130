//! Matches a filter against one event read from a file (the cluster gets the same filter as query
//! DSL instead: [`super::dsl`]).

use super::{CompareOp, FieldName, Number, Pattern, Query, Unit};
use crate::event::Event;
use std::borrow::Cow;

/// An event with what enrichment said of it: everything a filter can ask about.
pub struct Subject<'s, 'e> {
    pub event: &'s Event<'e>,
    /// The component's name.
    pub component: &'s str,
    /// The rule that explained the error, if any.
    pub rule: Option<&'s str>,
    pub is_error: bool,
    /// True when the event is an error no rule explains (it then has a template).
    pub unexplained: bool,
}

impl Query {
    /// True when the event matches.
    pub fn matches(&self, subject: &Subject<'_, '_>) -> bool {
        match self {
            Query::Field { field, pattern } => field_matches(subject, field, pattern),
            Query::Compare { field, op, value } => {
                number_of(subject, field, value.unit).is_some_and(|v| op.holds(v, value.value))
            }
            Query::Text(text) => contains_ignoring_case(&subject.event.message, text),
            Query::And(parts) => parts.iter().all(|p| p.matches(subject)),
            Query::Or(parts) => parts.iter().any(|p| p.matches(subject)),
            Query::Not(inner) => !inner.matches(subject),
        }
    }
}

/// True when a kept event (the tail's) matches. Its fields are those it kept; the GPU figures and
/// whether it was a job's outcome are not kept, so filters on them see none.
pub fn matches_owned(query: &Query, e: &crate::event::OwnedEvent) -> bool {
    use crate::event::Field;
    let event = Event {
        ts_ms: e.ts_ms,
        level: e.level,
        source: e.source,
        parsed: e.parsed,
        video_id: e.video_id.as_deref().map(Cow::Borrowed),
        request_id: e.request_id.as_deref().map(Cow::Borrowed),
        error_code: e.error_code.as_deref().map(Cow::Borrowed),
        message: Cow::Borrowed(&e.message),
        latency_ms: e.latency_ms,
        fields: e.fields.iter().map(|(k, v)| Field { key: Cow::Borrowed(k), value: Cow::Borrowed(v) }).collect(),
        ..Event::default()
    };
    let subject = Subject {
        event: &event,
        component: &e.component,
        rule: e.rule.as_deref(),
        is_error: e.is_error(),
        unexplained: e.is_error() && e.rule.is_none(),
    };
    query.matches(&subject)
}

/// The text of a field of the event, when it has one.
pub fn text_of<'a>(subject: &'a Subject<'_, '_>, field: &FieldName) -> Option<Cow<'a, str>> {
    let event = subject.event;
    let number = |v: Option<f64>| v.map(|v| Cow::Owned(v.to_string()));
    match field {
        FieldName::Level => Some(Cow::Borrowed(event.level.as_str())),
        FieldName::Source => Some(Cow::Borrowed(event.source.as_str())),
        FieldName::Component => Some(Cow::Borrowed(subject.component)),
        FieldName::ErrorCode => event.error_code.as_deref().map(Cow::Borrowed),
        FieldName::VideoId => event.video_id.as_deref().map(Cow::Borrowed),
        FieldName::RequestId => event.request_id.as_deref().map(Cow::Borrowed),
        FieldName::Message => Some(Cow::Borrowed(event.message.as_ref())),
        FieldName::Rule => subject.rule.map(Cow::Borrowed),
        FieldName::Exception => event.exception.as_deref().map(Cow::Borrowed),
        FieldName::Latency => number(event.latency_ms),
        FieldName::GpuMem => number(event.gpu_mem_bytes),
        FieldName::GpuUtil => number(event.gpu_util_pct),
        FieldName::HttpStatus => event.http_status.map(|s| Cow::Owned(s.to_string())),
        FieldName::Job => Some(Cow::Borrowed(if is_job(event) { "true" } else { "false" })),
        FieldName::Error => Some(Cow::Borrowed(if subject.is_error { "true" } else { "false" })),
        FieldName::Template => subject.unexplained.then(|| Cow::Owned(crate::patterns::unknown_template(event))),
        FieldName::Other(name) => event.field(name),
    }
}

/// A generation job's outcome: the record says so and names the video (what the statistics count
/// as a request).
pub fn is_job(event: &Event<'_>) -> bool {
    event.job_outcome && event.video_id.is_some()
}

fn field_matches(subject: &Subject<'_, '_>, field: &FieldName, pattern: &Pattern) -> bool {
    let Some(text) = text_of(subject, field) else { return false };
    match (field, pattern) {
        (_, Pattern::Present) => true,
        (FieldName::Message, Pattern::Exact(v)) => contains_ignoring_case(&text, v),
        (FieldName::Level | FieldName::Source | FieldName::Job | FieldName::Error, Pattern::Exact(v)) => {
            text.eq_ignore_ascii_case(v)
        }
        (_, Pattern::Exact(v)) if field.is_numeric() => {
            let want = Number::parse(v);
            let have = number_of(subject, field, want.map_or(Unit::Plain, |n| n.unit));
            matches!((want, have), (Some(w), Some(h)) if w.value == h)
        }
        (_, Pattern::Exact(v)) => text == v.as_str(),
        (FieldName::Level | FieldName::Source, Pattern::Prefix(p)) => {
            text.len() >= p.len() && text.is_char_boundary(p.len()) && text[..p.len()].eq_ignore_ascii_case(p)
        }
        (_, Pattern::Prefix(p)) => text.starts_with(p.as_str()),
    }
}

/// The value of a numeric field in the unit of the number it is compared to.
pub fn number_of(subject: &Subject<'_, '_>, field: &FieldName, unit: Unit) -> Option<f64> {
    use crate::parse::units;
    let event = subject.event;
    match field {
        FieldName::Latency => event.latency_ms,
        FieldName::GpuMem => event.gpu_mem_bytes,
        FieldName::GpuUtil => event.gpu_util_pct,
        FieldName::HttpStatus => event.http_status.map(f64::from),
        _ => {
            let text = text_of(subject, field)?;
            let text = text.trim();
            match unit {
                Unit::Plain => units::parse_decimal(text),
                // a bare number in a line's duration field is seconds (`inference_time=2.4`)
                Unit::Duration => units::duration_ms(text, if field_in_ms(field) { 1.0 } else { 1000.0 }),
                Unit::Bytes => units::size_bytes(text),
                Unit::Percent => units::percent(text),
            }
        }
    }
}

fn field_in_ms(field: &FieldName) -> bool {
    matches!(field, FieldName::Other(name) if name.ends_with("_ms"))
}

/// Case-insensitive substring search (ASCII case folded; other text compared as is).
pub fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

impl CompareOp {
    /// The Elasticsearch `range` operator.
    pub fn range_key(self) -> &'static str {
        match self {
            CompareOp::Greater => "gt",
            CompareOp::GreaterOrEqual => "gte",
            CompareOp::Less => "lt",
            CompareOp::LessOrEqual => "lte",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn event_with(f: impl FnOnce(&mut Event<'static>)) -> Event<'static> {
        let mut e = Event { parsed: true, ..Event::default() };
        f(&mut e);
        e
    }

    fn matches(filter: &str, event: &Event<'_>) -> bool {
        let subject = Subject {
            event,
            component: "model_inference",
            rule: Some("cuda_oom"),
            is_error: event.is_error(),
            unexplained: false,
        };
        parse(filter).expect(filter).matches(&subject)
    }

    #[test]
    fn fields_prefixes_numbers_and_text() {
        let e = event_with(|e| {
            e.level = crate::event::Level::Error;
            e.error_code = Some("MODEL_INFER_FAIL".into());
            e.video_id = Some("vid_1".into());
            e.latency_ms = Some(3500.0);
            e.gpu_mem_bytes = Some(32.0 * 1024.0 * 1024.0 * 1024.0);
            e.message = "CUDA Out of memory at step 3".into();
            e.kv = "worker=gpu-1 queue_depth=12 inference_time=3.5s";
        });
        assert!(matches("error_code:MODEL_*", &e));
        assert!(matches("code:MODEL_INFER_FAIL and level:error", &e));
        assert!(!matches("error_code:VIDEO_*", &e));
        assert!(matches("inference_time>3s", &e));
        assert!(!matches("inference_time>4s", &e));
        assert!(matches("latency>=3500", &e), "a bare number on latency is milliseconds");
        assert!(matches("gpu_mem>30GiB and gpu_mem<33GiB", &e));
        assert!(matches("\"out of memory\"", &e), "free text ignores case");
        assert!(matches("worker:gpu-1 queue_depth>10", &e), "fields of the line");
        assert!(!matches("not worker:gpu-1", &e));
        assert!(matches("(worker:gpu-2 or worker:gpu-1) and component:model_*", &e));
        assert!(matches("rule:cuda_oom video_id:* not request_id:*", &e));
        assert!(!matches("job:true", &e));
        assert!(matches("error:true", &e));
    }
}
