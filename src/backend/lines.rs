//! Lines by time and kind, for the console's context (`x`: every source within ±N seconds of a
//! line) and for entering a panel (a heatmap cell: a code in a bucket; an alert: its codes over its
//! interval; an unknown-error pattern: its lines). Both backends answer the same [`LineQuery`]
//! with the same [`Lines`]: the files by a scan bounded by time, a cluster by one range query.

use crate::event::OwnedEvent;

/// Lines kept for one answer, at most.
pub const LINES_CAP: usize = 5_000;

/// Which lines: those timed inside `from_ms..=to_ms` that pass the filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineQuery {
    pub from_ms: i64,
    pub to_ms: i64,
    /// An error code, exact or a `PREFIX*` glob (an alert's `codes`).
    pub code: Option<String>,
    /// The template of an unknown error (as the overview lists it): its lines without a rule;
    /// `<*>` stands for any one word ([`template_matches`]).
    pub template: Option<String>,
    /// With `template`: the lines of errors a rule explains and of warnings too (the Patterns
    /// screen lists every template, not only the unknown).
    pub known_too: bool,
    /// A filter in the query language (an alert rule's): checked by the backend as it reads
    /// each event (files: the matcher; a cluster: the query DSL), not by [`LineQuery::matches`].
    pub filter: Option<String>,
    /// What the answer is called on screen (`MODEL_INFER_FAIL 14:20–14:21`, `context of …`).
    pub title: String,
}

impl LineQuery {
    /// The lines within `seconds` either side of `at_ms`.
    pub fn around(at_ms: i64, seconds: u32, title: String) -> LineQuery {
        let half = i64::from(seconds) * 1000;
        LineQuery {
            from_ms: at_ms.saturating_sub(half),
            to_ms: at_ms.saturating_add(half),
            code: None,
            template: None,
            known_too: false,
            filter: None,
            title,
        }
    }

    /// The lines whose time is suspect: later than `now_ms` plus `tolerance_ms`, or (`past`)
    /// before the floor (1990), which no window holds (`:suspect`).
    pub fn suspect(now_ms: i64, tolerance_ms: i64, past: bool) -> LineQuery {
        let (from_ms, to_ms, title) = if past {
            (i64::MIN, crate::parse::time::FLOOR_MS - 1, "lines dated before 1990 (left out of every window)")
        } else {
            let ceiling = now_ms.saturating_add(tolerance_ms);
            (ceiling.saturating_add(1), i64::MAX, "lines timed in the future (left out of every window)")
        };
        LineQuery { from_ms, to_ms, code: None, template: None, known_too: false, filter: None, title: title.into() }
    }

    /// True when the GPU samples of the span are wanted (context: no filter; a panel's lines,
    /// filtered to a code or a pattern, carry none).
    pub fn wants_gpu(&self) -> bool {
        self.code.is_none() && self.template.is_none() && self.filter.is_none()
    }

    /// The filter parsed (`Err`: why it is not a filter, with its column).
    pub fn parsed_filter(&self) -> Result<Option<crate::query::Query>, String> {
        match self.filter.as_deref() {
            None => Ok(None),
            Some(text) => crate::query::parse::parse(text).map(Some).map_err(|e| e.to_string()),
        }
    }

    /// True when a timed line is inside the span.
    pub fn in_span(&self, ts_ms: Option<i64>) -> bool {
        ts_ms.is_some_and(|t| t >= self.from_ms && t <= self.to_ms)
    }

    /// True when the line passes the query (time and filters).
    pub fn matches(&self, e: &OwnedEvent) -> bool {
        self.in_span(e.ts_ms)
            && self
                .code
                .as_deref()
                .is_none_or(|p| e.error_code.as_deref().is_some_and(|c| crate::alerts::code_matches(p, c)))
            && self.template.as_deref().is_none_or(|t| {
                let kind = if self.known_too {
                    e.is_error() || e.level == crate::event::Level::Warn
                } else {
                    e.is_error() && e.rule.is_none()
                };
                kind && template_matches(t, &template_of(e))
            })
    }
}

/// Whether a line's template (`text`) belongs to a listed one (`pattern`, grouped by the miner:
/// `<*>` stands for any one word).
pub fn template_matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(crate::patterns::mask::ANY) {
        return pattern == text;
    }
    let (mut p, mut t) = (pattern.split_whitespace(), text.split_whitespace());
    loop {
        match (p.next(), t.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b || a == crate::patterns::mask::ANY => {}
            _ => return false,
        }
    }
}

/// The unknown-error template of a kept line, as the statistics group it
/// ([`crate::patterns::unknown_template`]).
pub fn template_of(e: &OwnedEvent) -> String {
    let masked = crate::patterns::template(&e.message);
    let text = match e.error_code.as_deref() {
        Some(code) => format!("{code}: {masked}"),
        None => format!("[{}] {masked}", e.source.as_str()),
    };
    crate::text::sanitize_owned(&text, 512)
}

/// A GPU sample in the span: its time, memory in GiB and utilisation in percent (either may be
/// missing).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GpuSample {
    pub at_ms: i64,
    pub mem_gib: Option<f64>,
    pub util_pct: Option<f64>,
}

/// The answer: the lines in time order, whether more matched, the inputs' names (by
/// `Origin::file`) and the GPU samples logged in the span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lines {
    pub query: LineQuery,
    pub events: Vec<OwnedEvent>,
    pub truncated: bool,
    pub files: Vec<String>,
    pub gpu: Vec<GpuSample>,
    /// Why the lines could not be read (a filter that does not parse, a cluster error).
    pub error: Option<String>,
}

impl Lines {
    /// Sorts the lines in time order (then by file and offset) and caps them.
    pub fn finish(mut self) -> Lines {
        self.events.sort_by_key(|e| (e.ts_ms.unwrap_or(i64::MIN), e.origin.file, e.origin.offset));
        if self.events.len() > LINES_CAP {
            self.events.truncate(LINES_CAP);
            self.truncated = true;
        }
        let key = |v: Option<f64>| v.unwrap_or(-1.0);
        self.gpu.sort_by(|a, b| {
            a.at_ms
                .cmp(&b.at_ms)
                .then(key(a.mem_gib).total_cmp(&key(b.mem_gib)))
                .then(key(a.util_pct).total_cmp(&key(b.util_pct)))
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts: i64, code: Option<&str>, message: &str) -> OwnedEvent {
        OwnedEvent {
            ts_ms: Some(ts),
            level: crate::event::Level::Error,
            source: crate::event::Source::Inference,
            parsed: true,
            component: "model_inference".into(),
            video_id: None,
            request_id: None,
            error_code: code.map(str::to_string),
            message: message.into(),
            latency_ms: None,
            fields: Vec::new(),
            raw: message.into(),
            origin: crate::event::Origin { file: 0, offset: 0 },
            rule: None,
        }
    }

    #[test]
    fn a_query_matches_by_time_code_glob_and_template() {
        let q = LineQuery { code: Some("MODEL_*".into()), ..LineQuery::around(10_000, 5, "x".into()) };
        assert!(q.matches(&event(5_000, Some("MODEL_INFER_FAIL"), "a")));
        assert!(q.matches(&event(15_000, Some("MODEL_LOAD_FAIL"), "a")));
        assert!(!q.matches(&event(15_001, Some("MODEL_LOAD_FAIL"), "a")), "outside the span");
        assert!(!q.matches(&event(10_000, Some("VIDEO_DECODE_ERR"), "a")), "another code");
        let e = event(10_000, Some("X"), "vocoder NaN at frame 12");
        let q = LineQuery { template: Some(template_of(&e)), ..LineQuery::around(10_000, 1, "t".into()) };
        assert!(q.matches(&event(10_500, Some("X"), "vocoder NaN at frame 99")));
        assert!(!q.matches(&event(10_500, Some("X"), "something else")));
    }
}

/// The event's text with the newlines of a joined traceback restored. Only the escapes that
/// begin a traceback line (as the reader joined them: indented, `Traceback …`, an exception) become
/// newlines; a literal `\n` inside a message stays as written (unless what follows it looks like a
/// traceback line, which the escaped text cannot tell apart).
pub fn original_lines(e: &OwnedEvent) -> std::borrow::Cow<'_, str> {
    if e.source != crate::event::Source::Flask || !e.raw.contains("\\n") {
        return std::borrow::Cow::Borrowed(&e.raw);
    }
    let mut pieces = e.raw.split("\\n");
    let mut out = String::with_capacity(e.raw.len());
    out.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        if crate::parse::python::is_continuation(piece) {
            // a CRLF file leaves the escaped `\r` before the newline
            if out.ends_with("\\r") {
                out.truncate(out.len() - 2);
            }
            out.push('\n');
        } else {
            out.push_str("\\n");
        }
        out.push_str(piece);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod original_lines_tests {
    use super::*;
    use crate::event::Source;

    fn flask(raw: &str) -> OwnedEvent {
        OwnedEvent {
            ts_ms: None,
            level: crate::event::Level::Error,
            source: Source::Flask,
            parsed: true,
            component: "web".into(),
            video_id: None,
            request_id: None,
            error_code: None,
            message: String::new(),
            latency_ms: None,
            fields: Vec::new(),
            raw: raw.into(),
            origin: crate::event::Origin { file: 0, offset: 0 },
            rule: None,
        }
    }

    #[test]
    fn joined_tracebacks_get_their_lines_back_and_literal_escapes_stay() {
        let raw = "[x] ERROR in app: failed sep=\\nhere\\nTraceback (most recent call last):\\n  File \"a.py\", line 1\\nValueError: bad";
        assert_eq!(
            original_lines(&flask(raw)),
            "[x] ERROR in app: failed sep=\\nhere\nTraceback (most recent call last):\n  File \"a.py\", line 1\nValueError: bad"
        );
        let crlf = "[x] ERROR\\r\\nTraceback (most recent call last):\\r\\n  File \"a.py\"";
        assert_eq!(original_lines(&flask(crlf)), "[x] ERROR\nTraceback (most recent call last):\n  File \"a.py\"");
        let mut other = flask("{\"log\":\"a\\nTraceback (most recent call last):\"}");
        other.source = Source::Scheduler;
        assert_eq!(original_lines(&other), other.raw, "only joined Python events are split");
    }
}
