//! The headless report: the overview of the whole input as readable text or one JSON object.
//! Same numbers as the console, since both read [`crate::stats::overview::Overview`].

use crate::clock::format_ms;
use crate::stats::overview::Overview;
use serde_json::{Value, json};
use std::fmt::Write;

/// The report as one JSON value (the keys documented in the README).
pub fn to_json(o: &Overview) -> Value {
    let health: serde_json::Map<String, Value> = o
        .health
        .iter()
        .map(|(name, h)| {
            (
                name.clone(),
                json!({"score": round1(h.score), "error_rate": round4(h.error_rate), "p95_ms": h.p95_ms.map(round1)}),
            )
        })
        .collect();
    let by_component: serde_json::Map<String, Value> = o
        .by_component
        .iter()
        .map(|(name, c)| {
            (name.clone(), json!({"events": c.events, "errors": c.errors, "error_rate": round4(c.error_rate)}))
        })
        .collect();
    json!({
        "window": {"from": o.window_from.map(format_ms), "to": o.window_to.map(format_ms)},
        "data": {"from": o.data_from.map(format_ms), "to": o.data_to.map(format_ms)},
        "lines": o.lines,
        "events": o.events,
        "errors": o.errors,
        "jobs": {"total": o.jobs, "failed": o.job_failures},
        "by_level": o.by_level,
        "by_code": o.by_code,
        "by_component": by_component,
        "health": health,
        "latency_ms": {
            "count": o.latency_ms.count,
            "avg": o.latency_ms.avg.map(round1),
            "p50": o.latency_ms.p50.map(round1),
            "p95": o.latency_ms.p95.map(round1),
            "p99": o.latency_ms.p99.map(round1),
        },
        "codes": o.codes,
        "causes": o.causes,
        "unknown_errors": o.unknown_errors,
        "top_failing_videos": o.top_failing_videos,
        "alerts": o.alerts.iter().map(|a| json!({
            "rule": a.rule, "severity": a.severity, "from": format_ms(a.from), "to": format_ms(a.to),
            "value": round4(a.value), "threshold": a.threshold, "active": a.active,
        })).collect::<Vec<_>>(),
        "unknown_patterns": o.unknown_patterns,
    })
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

fn ms_text(v: Option<f64>) -> String {
    match v {
        Some(ms) if ms >= 1000.0 => format!("{:.2}s", ms / 1000.0),
        Some(ms) => format!("{ms:.0}ms"),
        None => "-".into(),
    }
}

/// The readable summary.
pub fn to_text(o: &Overview) -> String {
    let mut s = String::new();
    let span = match (o.data_from, o.data_to) {
        (Some(a), Some(b)) => format!("{} .. {}", format_ms(a), format_ms(b)),
        _ => "no timestamps".into(),
    };
    let _ = writeln!(s, "foley-triage report  ({span})");
    let l = &o.lines;
    let sources: Vec<String> = crate::event::Source::ALL
        .into_iter()
        .filter(|s| l.by_source[s.index()] > 0)
        .map(|s| format!("{} {}", s.as_str(), l.by_source[s.index()]))
        .collect();
    let _ = writeln!(
        s,
        "lines    {} read, {} parsed, {} unparsed, {} joined to tracebacks  [{}]",
        l.total,
        l.parsed,
        l.unparsed,
        l.joined,
        sources.join(", ")
    );
    if l.truncated + l.invalid_utf8 + l.filtered > 0 {
        let _ = writeln!(
            s,
            "         {} truncated, {} with invalid UTF-8, {} outside --since/--until",
            l.truncated, l.invalid_utf8, l.filtered
        );
    }
    for note in [l.suspect_note(), l.inherited_note()].into_iter().flatten() {
        let _ = writeln!(s, "         {note}");
    }
    if l.untimed > 0 {
        let _ = writeln!(s, "         {} events without a time: in the totals, in no window", l.untimed);
    }
    let levels: Vec<String> = o.by_level.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "levels   {}", levels.join(", "));
    let failed_pct = if o.jobs > 0 { 100.0 * o.job_failures as f64 / o.jobs as f64 } else { 0.0 };
    let _ = writeln!(s, "jobs     {} outcomes, {} failed ({failed_pct:.1}%)", o.jobs, o.job_failures);
    let lat = &o.latency_ms;
    let _ = writeln!(
        s,
        "latency  inference avg {} p50 {} p95 {} p99 {} ({} samples)",
        ms_text(lat.avg),
        ms_text(lat.p50),
        ms_text(lat.p95),
        ms_text(lat.p99),
        lat.count
    );

    let _ = writeln!(s, "\nALERTS");
    if o.alerts.is_empty() {
        let _ = writeln!(s, "  none fired");
    }
    for a in &o.alerts {
        let _ = writeln!(
            s,
            "  {:<24} {:<8} {} .. {}  peak {} (threshold {}){}",
            a.rule,
            a.severity,
            format_ms(a.from),
            format_ms(a.to),
            a.unit.show(a.value),
            a.unit.show(a.threshold),
            if a.active { "  STILL FIRING" } else { "" }
        );
    }

    let _ = writeln!(s, "\nCOMPONENT HEALTH (0-100)");
    for (name, c) in &o.by_component {
        let _ = writeln!(
            s,
            "  {:<16} {:>5.1}  errors {:>6}/{:<7} ({:>5.1}%)  p95 {}",
            name,
            c.score,
            c.errors,
            c.events,
            c.error_rate * 100.0,
            ms_text(c.latency.p95)
        );
    }

    let _ = writeln!(s, "\nERRORS BY CODE");
    for c in &o.codes {
        let _ = writeln!(
            s,
            "  {:<22} {:>6}  {:>5.1}%  {:<16} {}",
            c.code,
            c.count,
            c.share * 100.0,
            c.explanation.category,
            c.explanation.cause
        );
    }

    let _ = writeln!(s, "\nTOP FAILING VIDEOS");
    for v in &o.top_failing_videos {
        let _ = writeln!(
            s,
            "  {:<14} {:>4} failures  {:<28} last {}  -> {}",
            v.video_id,
            v.failures,
            v.codes.join(","),
            v.last_seen.map(format_ms).unwrap_or_default(),
            v.fix
        );
    }

    let _ = writeln!(s, "\nLIKELY CAUSES");
    // rules that say the same thing (an exact-code rule and its keyword fallback) are one line
    let mut causes: Vec<(u64, &str, &str, &str, Vec<&str>)> = Vec::new();
    for c in &o.causes {
        match causes.iter_mut().find(|(_, cat, cause, fix, _)| (*cat, *cause, *fix) == (&c.category, &c.cause, &c.fix))
        {
            Some((count, .., rules)) => {
                *count += c.count;
                rules.push(&c.rule);
            }
            None => causes.push((c.count, &c.category, &c.cause, &c.fix, vec![&c.rule])),
        }
    }
    causes.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (count, category, cause, fix, rules) in causes.iter().take(10) {
        let _ = writeln!(s, "  {count:>6}  {category:<22} {cause}  => {fix}  [{}]", rules.join(", "));
    }

    let _ = writeln!(s, "\nUNKNOWN ERRORS ({} events; no rule matches - label them in rules.toml)", o.unknown_errors);
    for p in &o.unknown_patterns {
        let _ = writeln!(s, "  {:>6}  {}\n          e.g. {}", p.count, p.template, p.example);
    }
    s
}
