//! The alert rules evaluated over a backend's data: one path for `check`, `report` and the
//! console. The files are read with the rules' [`Collector`] (the same reader, enricher and bucket
//! length as the statistics), a cluster answers with aggregations ([`crate::alerts::cluster`]);
//! both give [`RuleData`], evaluated by [`crate::alerts::eval::evaluate`] as of a moment. The
//! console asks for the firings of its range, evaluated as of the range's end.

use super::TimeRange;
use crate::alerts::collect::{Collector, RuleData};
use crate::alerts::eval::{self, Alert};
use crate::alerts::rules::Rule;
use crate::enrich::Enricher;
use crate::parse::Format;
use crate::pipeline::IngestSettings;
use crate::source::{Input, read};

/// Firings listed at most (the newest kept; the answer says how many there were).
pub const ALERTS_CAP: usize = 500;

/// What the rules gathered from a backend's data up to a moment.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub data: Vec<RuleData>,
    /// The oldest event time (the `new_value` baseline).
    pub first_ms: Option<i64>,
    pub bucket_ms: i64,
}

impl Gathered {
    /// Every firing of `rules` up to `at_ms` ([`eval::evaluate`]).
    pub fn evaluate(&self, rules: &[Rule], at_ms: i64) -> Vec<Alert> {
        eval::evaluate(rules, &self.data, self.first_ms, self.bucket_ms, at_ms)
    }
}

/// Reads one opened input whole into `collector`: a regular file on `threads` cores (a collector
/// per range, merged in order), anything else in one pass.
pub fn read_into(
    collector: &mut Collector<'_>,
    opened: read::Opened,
    index: u32,
    enricher: &Enricher,
    settings: &IngestSettings,
    threads: usize,
) -> read::ReadOutcome {
    match opened.body {
        read::Body::File { file, len } if threads > 1 => {
            let (rules, bucket_ms, at_ms) = (collector.rules, collector.bucket_ms, collector.at_ms);
            let make = || Collector::new(rules, enricher, bucket_ms, at_ms);
            let (_, outcome, parts) = read::read_file_parallel_with(
                &file,
                &opened.name,
                len,
                index,
                opened.format,
                enricher,
                settings,
                threads,
                &make,
            );
            for part in parts {
                collector.merge(part);
            }
            outcome
        }
        _ => read::read_events(opened, index, enricher, settings, collector).1,
    }
}

/// Reads `inputs` (each with its format, `None`: detected) with the rules' collector, up to
/// `at_ms`; a regular file split across `threads` cores (a collector each, merged in order), as
/// the statistics are read. Inputs that cannot be opened are the error (all of them named).
pub fn gather_files(
    inputs: &[(Input, Option<Format>)],
    rules: &[Rule],
    enricher: &Enricher,
    settings: &IngestSettings,
    at_ms: i64,
    threads: usize,
) -> Result<Gathered, String> {
    let mut collector = Collector::new(rules, enricher, settings.bucket_ms, at_ms);
    let mut problems = Vec::new();
    let mut read_any = false;
    for (index, (input, format)) in inputs.iter().enumerate() {
        match read::open(input, *format, settings.options.default_offset, &|w| crate::applog::info(w)) {
            Ok(opened) => {
                let outcome = read_into(&mut collector, opened, index as u32, enricher, settings, threads);
                for notice in outcome.notices {
                    tracing::warn!("{}", crate::text::sanitize(&notice));
                }
                read_any = true;
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    if !read_any {
        return Err("no input could be read".into());
    }
    let bucket_ms = collector.bucket_ms;
    let (data, first_ms) = collector.finish();
    Ok(Gathered { data, first_ms, bucket_ms })
}

/// The firings of a console's range: every firing up to the range's end that overlaps it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertsAnswer {
    /// The range asked for.
    pub range: TimeRange,
    /// The range's start (`None`: open).
    pub from_ms: Option<i64>,
    /// The moment evaluated (the range's end, else the newest data); `None`: no data was loaded.
    pub at_ms: Option<i64>,
    /// Rules evaluated.
    pub rules: usize,
    /// The firings in the range, oldest first (the newest [`ALERTS_CAP`] when capped).
    pub alerts: Vec<Alert>,
    /// Firings in the range in all (more than listed when capped).
    pub total: usize,
    /// Why the rules could not be evaluated.
    pub error: Option<String>,
}

impl AlertsAnswer {
    /// True when some firings are not listed.
    pub fn capped(&self) -> bool {
        self.total > self.alerts.len()
    }

    /// The firings still on at the moment evaluated.
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.is_firing())
    }
}

/// Keeps the firings that overlap `from_ms..=at_ms`, at most [`ALERTS_CAP`] (the newest).
pub fn in_range(range: TimeRange, rules: usize, all: Vec<Alert>, from_ms: Option<i64>, at_ms: i64) -> AlertsAnswer {
    let mut alerts: Vec<Alert> = all
        .into_iter()
        .filter(|a| from_ms.is_none_or(|from| a.until_ms.unwrap_or(at_ms) >= from) && a.since_ms <= at_ms)
        .collect();
    let total = alerts.len();
    let excess = total.saturating_sub(ALERTS_CAP);
    alerts.drain(..excess);
    AlertsAnswer { range, from_ms, at_ms: Some(at_ms), rules, alerts, total, error: None }
}

/// The firings of `range` on a backend: the rules evaluated as of `at_ms` (the range's end, else
/// the newest data; `None`: nothing loaded) and kept where they overlap the range from
/// `window_from`. Also every firing up to the moment (what notifications compare).
pub fn evaluate_range(
    backend: &mut dyn super::Backend,
    rules: &[Rule],
    range: TimeRange,
    window_from: Option<i64>,
    at_ms: Option<i64>,
) -> (AlertsAnswer, Vec<Alert>) {
    let Some(at) = at_ms else {
        return (
            AlertsAnswer { range, from_ms: window_from, rules: rules.len(), ..AlertsAnswer::default() },
            Vec::new(),
        );
    };
    match backend.alert_data(rules, at) {
        Ok(gathered) => {
            let all = gathered.evaluate(rules, at);
            (in_range(range, rules.len(), all.clone(), window_from, at), all)
        }
        Err(e) => (
            AlertsAnswer {
                range,
                from_ms: window_from,
                at_ms: Some(at),
                rules: rules.len(),
                error: Some(crate::text::sanitize_owned(&e, 400)),
                ..AlertsAnswer::default()
            },
            Vec::new(),
        ),
    }
}

/// The overview's alert rows of `window` (a report's): `rules` evaluated as of the window's end
/// (else the newest data) over what was gathered, the firings that overlap the window.
pub fn report_rows(
    gathered: &Gathered,
    rules: &[Rule],
    window: crate::stats::overview::Window,
    newest: Option<i64>,
) -> Vec<crate::stats::overview::AlertRow> {
    let Some(at) = window.to_ms.or(newest) else { return Vec::new() };
    let answer = in_range(TimeRange::ALL, rules.len(), gathered.evaluate(rules, at), window.from_ms, at);
    rows_of(&answer.alerts, at)
}

/// The overview's alert rows (the banner, the alerts panel, the report) from evaluated firings.
pub fn rows_of(alerts: &[Alert], at_ms: i64) -> Vec<crate::stats::overview::AlertRow> {
    alerts
        .iter()
        .map(|a| crate::stats::overview::AlertRow {
            rule: a.rule.clone(),
            severity: a.severity.as_str().to_string(),
            from: a.since_ms,
            to: a.until_ms.unwrap_or(at_ms),
            value: if a.is_firing() { a.value } else { a.peak },
            threshold: a.threshold,
            unit: a.unit,
            active: a.is_firing(),
        })
        .collect()
}

/// The alert rules the console and `report` evaluate, as `check` does: the built-in ones, the
/// config's old `[[alert]]` tables (converted, with a note saying so), `alerts.toml` in the config
/// directory, then `extra`.
pub fn rules_in_force(
    extra: Option<&std::path::Path>,
    config: &crate::config::Config,
) -> Result<(Vec<Rule>, Vec<String>), String> {
    let (old, notes) = if config.alerts.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let (rules, note) = crate::alerts::rules::from_config(&config.alerts)?;
        (rules, vec![note])
    };
    let rules = crate::alerts::rules::load_over(extra, old).map_err(|e| e.to_string())?;
    Ok((rules, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(since: i64, until: Option<i64>) -> Alert {
        let rule = crate::alerts::rules::builtin().remove(0);
        let steps = [eval::Step { end_key: 0, from_ms: since, value: Some(20.0), holds: true }];
        let mut a = eval::firings(&rule, &steps, since).remove(0);
        a.until_ms = until;
        a
    }

    #[test]
    fn the_range_keeps_what_overlaps_it() {
        let all = vec![alert(0, Some(10)), alert(20, Some(30)), alert(40, None)];
        let answer = in_range(TimeRange::ALL, 3, all.clone(), Some(25), 50);
        assert_eq!(answer.alerts.len(), 2);
        assert_eq!(answer.alerts[0].since_ms, 20);
        assert_eq!(answer.firing().count(), 1);
        assert!(!answer.capped());
        let open = in_range(TimeRange::ALL, 3, all, None, 50);
        assert_eq!(open.total, 3);
    }
}
