//! `foley-triage check`: evaluates the alert rules over log files as of now, or as of `--at` (a
//! replay), prints the firing alerts and exits 0 (none firing), 1 (some firing) or 2 (could not
//! evaluate); with `--notify`, sends them to the `[[notify]]` targets.

use super::EXIT_USAGE;
use crate::alerts::eval::Alert;
use crate::alerts::rules::Rule;
use crate::cli::{CheckArgs, InputArgs};
use crate::clock::format_ms;
use crate::config::Config;
use crate::source;
use anyhow::Result;
use serde_json::json;

/// Exit status when at least one rule is firing.
pub const EXIT_FIRING: i32 = 1;

/// What one evaluation found.
#[derive(Debug)]
pub struct Checked {
    pub at_ms: i64,
    pub rules: usize,
    /// Every firing up to the moment, in time order; those still firing have `until_ms: None`.
    pub alerts: Vec<Alert>,
}

impl Checked {
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.is_firing())
    }
}

/// Reads the inputs and evaluates `rules` as of `at_ms`. Errors are the reasons it could not.
pub fn evaluate_files(
    inputs: &[source::Input],
    rules: &[Rule],
    config: &Config,
    read_options: source::ReadOptions,
    at_ms: i64,
) -> Result<Checked, String> {
    let enricher = config.enricher().map_err(|e| e.to_string())?;
    let inputs: Vec<_> = inputs.iter().map(|i| (i.clone(), read_options.format)).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let gathered =
        crate::backend::alerts::gather_files(&inputs, rules, &enricher, &read_options.settings, at_ms, threads)?;
    let alerts = gathered.evaluate(rules, at_ms);
    Ok(Checked { at_ms, rules: rules.len(), alerts })
}

/// Asks the cluster and evaluates `rules` as of `at_ms`. A cluster error goes back to `main`,
/// which says it in one line with exit status 2.
pub fn evaluate_cluster(es: &crate::cli::EsArgs, rules: &[Rule], config: &Config, at_ms: i64) -> Result<Checked> {
    let client = crate::elastic::connect_with_fields(es, &config.elastic.fields)?;
    let bucket_ms = config.bucket.ms();
    let (data, first_ms) = crate::alerts::cluster::collect(&client, rules, bucket_ms, at_ms)?;
    let alerts =
        crate::backend::alerts::Gathered { data, first_ms, bucket_ms: bucket_ms.max(1000) }.evaluate(rules, at_ms);
    Ok(Checked { at_ms, rules: rules.len(), alerts })
}

pub fn run(args: &CheckArgs, es: &crate::cli::EsArgs, config: &Config) -> Result<i32> {
    let rules = match crate::backend::alerts::rules_in_force(args.rules.as_deref(), config) {
        Ok((rules, notes)) => {
            for note in notes {
                crate::applog::warn(&note);
            }
            rules
        }
        Err(e) => {
            crate::applog::error(&e);
            return Ok(EXIT_USAGE);
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    let at_ms = match &args.at {
        None => now,
        Some(text) => match super::report::parse_time_arg(text, config.offset_seconds(), now) {
            Some(t) => t,
            None => {
                crate::applog::error(&format!(
                    "--at `{}`: not a time (2025-09-01T14:30:00Z, \"2025-09-01 14:30:00\") or a duration ago (30m)",
                    crate::text::sanitize(text)
                ));
                return Ok(EXIT_USAGE);
            }
        },
    };
    if es.enabled() {
        if !args.paths.is_empty() {
            crate::applog::error("check reads either files or a cluster (--es), not both");
            return Ok(EXIT_USAGE);
        }
        let checked = evaluate_cluster(es, &rules, config, at_ms)?;
        return finish(&checked, args, config);
    }
    if args.watch {
        if args.at.is_some() {
            crate::applog::error("--watch evaluates as of now; it does not go with --at");
            return Ok(EXIT_USAGE);
        }
        return Ok(watch(args, es, &rules, config));
    }
    let input = InputArgs {
        paths: args.paths.clone(),
        since: None,
        until: None,
        format: args.format.clone(),
        threads: Some(1),
    };
    let resolved = match super::report::resolve_inputs(&input, config) {
        Ok(r) if !r.inputs.is_empty() => r,
        Ok(_) => {
            crate::applog::error("no log files found in the paths given");
            return Ok(EXIT_USAGE);
        }
        Err(e) => {
            crate::applog::error(&format!("{e:#}"));
            return Ok(EXIT_USAGE);
        }
    };
    let checked = match evaluate_files(&resolved.inputs, &rules, config, resolved.read, at_ms) {
        Ok(c) => c,
        Err(e) => {
            crate::applog::error(&format!("cannot evaluate the alert rules: {e}"));
            return Ok(EXIT_USAGE);
        }
    };
    finish(&checked, args, config)
}

/// Prints what a check found, notifies when asked, and gives the exit status.
fn finish(checked: &Checked, args: &CheckArgs, config: &Config) -> Result<i32> {
    print(checked, args.json)?;
    let mut failed_delivery = false;
    if args.notify {
        failed_delivery = !super::notify_alerts(checked, config);
    }
    let firing = checked.firing().count() > 0;
    Ok(if failed_delivery {
        EXIT_USAGE
    } else if firing {
        EXIT_FIRING
    } else {
        0
    })
}

fn print(checked: &Checked, as_json: bool) -> Result<()> {
    if as_json {
        let firing: Vec<&Alert> = checked.firing().collect();
        let resolved: Vec<&Alert> = checked.alerts.iter().filter(|a| !a.is_firing()).collect();
        let out = json!({
            "at": format_ms(checked.at_ms),
            "rules": checked.rules,
            "firing": firing,
            "resolved": resolved,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let firing: Vec<&Alert> = checked.firing().collect();
    println!(
        "{} rules as of {}: {} firing, {} resolved before",
        checked.rules,
        format_ms(checked.at_ms),
        firing.len(),
        checked.alerts.len() - firing.len()
    );
    for alert in firing {
        print_alert(alert);
    }
    Ok(())
}

/// One firing alert as text: the headline, new values, top videos, the latest lines.
pub fn print_alert(alert: &Alert) {
    println!(
        "FIRING [{}] {}: {} > {} over {} since {}",
        alert.severity.as_str(),
        alert.rule,
        alert.unit.show(alert.value),
        alert.unit.show(alert.threshold),
        alert.window,
        format_ms(alert.since_ms)
    );
    if !alert.new_values.is_empty() {
        println!("  new: {}", alert.new_values.join(", "));
    }
    if !alert.top_videos.is_empty() {
        let videos: Vec<String> = alert.top_videos.iter().map(|(v, n)| format!("{v} ({n})")).collect();
        println!("  videos: {}", videos.join(", "));
    }
    for line in &alert.latest_lines {
        println!("  | {}", line.text);
    }
}

/// `--watch`: evaluates every `--interval` as of now until stopped.
fn watch(args: &CheckArgs, es: &crate::cli::EsArgs, rules: &[Rule], config: &Config) -> i32 {
    let interval = match crate::alerts::parse_window(&args.interval) {
        Some(ms) if ms >= 1000 => std::time::Duration::from_millis(ms as u64),
        _ => {
            crate::applog::error(&format!(
                "--interval `{}`: not a duration of a second or more (30s, 1m)",
                crate::text::sanitize(&args.interval)
            ));
            return EXIT_USAGE;
        }
    };
    let input = InputArgs {
        paths: args.paths.clone(),
        since: None,
        until: None,
        format: args.format.clone(),
        threads: Some(1),
    };
    let resolved = if es.enabled() {
        None
    } else {
        match super::report::resolve_inputs(&input, config) {
            Ok(r) => Some(r),
            Err(e) => {
                crate::applog::error(&format!("{e:#}"));
                return EXIT_USAGE;
            }
        }
    };
    let evaluate = |at_ms: i64| match &resolved {
        None => evaluate_cluster(es, rules, config, at_ms).map_err(|e| format!("{e:#}")),
        Some(r) => {
            // files may appear, rotate or go between rounds: the paths are resolved again each time
            let inputs = if args.paths.is_empty() { Ok(r.inputs.clone()) } else { source::resolve(&args.paths) };
            let inputs = inputs.map_err(|e| e.to_string())?;
            evaluate_files(&inputs, rules, config, r.read, at_ms)
        }
    };
    let notify = |checked: &Checked| {
        if args.notify {
            super::notify_alerts(checked, config);
        }
    };
    super::check_watch::watch(interval, args.json, evaluate, notify)
}
