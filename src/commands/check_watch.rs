//! `check --watch`: evaluates the rules again every `--interval` as of now (re-reading the files,
//! or asking the cluster again) and prints each change: a rule that starts firing, one that
//! resolves. With `--notify`, each round notifies (the sent-state keeps it to one message per
//! firing and one per resolve). Stops on Ctrl-C or SIGTERM.

use super::check::{Checked, print_alert};
use crate::alerts::eval::Alert;
use crate::clock::format_ms;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What changed between two evaluations.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    Firing(&'a Alert),
    /// The firing as it was last seen, and when the new evaluation found it over.
    Resolved(&'a Alert, i64),
}

/// The rules that started firing in `now`, and those firing in `before` that no longer are.
pub fn changes<'a>(before: &'a [Alert], now: &'a Checked) -> Vec<Change<'a>> {
    let same = |a: &Alert, b: &Alert| a.rule == b.rule && a.since_ms == b.since_ms;
    let mut out = Vec::new();
    for old in before.iter().filter(|a| a.is_firing()) {
        if !now.firing().any(|a| same(a, old)) {
            let ended = now.alerts.iter().find(|a| same(a, old)).and_then(|a| a.until_ms).unwrap_or(now.at_ms);
            out.push(Change::Resolved(old, ended));
        }
    }
    for new in now.firing() {
        if !before.iter().any(|a| a.is_firing() && same(a, new)) {
            out.push(Change::Firing(new));
        }
    }
    out
}

fn say(change: &Change<'_>, json: bool) {
    match (change, json) {
        (Change::Firing(a), false) => print_alert(a),
        (Change::Resolved(a, at), false) => {
            println!(
                "RESOLVED [{}] {} at {} (fired since {})",
                a.severity.as_str(),
                a.rule,
                format_ms(*at),
                format_ms(a.since_ms)
            )
        }
        (Change::Firing(a), true) => {
            println!("{}", serde_json::json!({"event": "firing", "alert": a}))
        }
        (Change::Resolved(a, at), true) => {
            println!("{}", serde_json::json!({"event": "resolved", "at": format_ms(*at), "alert": a}))
        }
    }
}

/// Runs `evaluate` every `interval` until a stop signal; returns the exit status of the last
/// evaluation (1 when something was firing, else 0), or 2 when none ever succeeded.
pub fn watch(
    interval: Duration,
    json: bool,
    mut evaluate: impl FnMut(i64) -> Result<Checked, String>,
    mut notify: impl FnMut(&Checked),
) -> i32 {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            crate::applog::warn(&format!("cannot catch signal {signal}: {e}"));
        }
    }
    let mut before: Vec<Alert> = Vec::new();
    let mut status = super::EXIT_USAGE;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        match evaluate(chrono::Utc::now().timestamp_millis()) {
            Ok(now) => {
                for change in changes(&before, &now) {
                    say(&change, json);
                }
                notify(&now);
                status = if now.firing().count() > 0 { super::check::EXIT_FIRING } else { 0 };
                before = now.alerts;
            }
            Err(e) => crate::applog::error(&format!("cannot evaluate the alert rules (trying again): {e}")),
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        while !stop.load(Ordering::Relaxed) && started.elapsed() < interval {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::rules::Severity;

    fn alert(rule: &str, since: i64, until: Option<i64>) -> Alert {
        Alert {
            rule: rule.into(),
            severity: Severity::Warning,
            since_ms: since,
            until_ms: until,
            value: 1.0,
            peak: 1.0,
            threshold: 0.0,
            unit: Default::default(),
            window: "5m".into(),
            filter: String::new(),
            new_values: vec![],
            latest_lines: vec![],
            top_videos: vec![],
        }
    }

    #[test]
    fn starts_and_ends_are_reported_once() {
        let first = Checked { at_ms: 100, rules: 2, alerts: vec![alert("a", 10, None), alert("b", 5, Some(8))] };
        assert_eq!(changes(&[], &first), vec![Change::Firing(&first.alerts[0])]);
        // the same firing again: nothing
        let again = Checked { at_ms: 160, rules: 2, alerts: first.alerts.clone() };
        assert!(changes(&first.alerts, &again).is_empty());
        // a resolved, b fires anew
        let later = Checked { at_ms: 220, rules: 2, alerts: vec![alert("a", 10, Some(200)), alert("b", 210, None)] };
        assert_eq!(
            changes(&again.alerts, &later),
            vec![Change::Resolved(&again.alerts[0], 200), Change::Firing(&later.alerts[1])]
        );
    }
}
