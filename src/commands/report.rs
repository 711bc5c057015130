//! `foley-triage report`: read everything given, print the overview as text or JSON.

use super::EXIT_USAGE;
use crate::cli::{InputArgs, ReportArgs};
use crate::config::Config;
use crate::source::{self, Input, ReadOptions};
use crate::stats::overview::{self, OverviewOptions, Window};
use anyhow::{Context, Result, anyhow};

/// Parses `--since`/`--until`: an absolute time, or a duration before now (`30m`).
pub fn parse_time_arg(s: &str, offset: i64, now_ms: i64) -> Option<i64> {
    crate::backend::range::parse_time(s, offset, now_ms)
}

/// What the input options resolve to.
pub struct Resolved {
    pub inputs: Vec<Input>,
    pub read: ReadOptions,
    /// The bundled demo's private directory when no path was given (removed on drop).
    pub demo: Option<crate::demo::DemoDir>,
}

pub fn resolve_inputs(args: &InputArgs, config: &Config) -> Result<Resolved> {
    let offset = config.offset_seconds();
    let now = chrono::Utc::now().timestamp_millis();
    let mut window = Window::ALL;
    if let Some(s) = &args.since {
        window.from_ms = Some(parse_time_arg(s, offset, now).ok_or_else(|| {
            anyhow!("--since `{s}`: not a time (2025-09-01T14:00:00Z, \"2025-09-01 14:00:00\") or a duration (30m)")
        })?);
    }
    if let Some(s) = &args.until {
        window.to_ms =
            Some(parse_time_arg(s, offset, now).ok_or_else(|| anyhow!("--until `{s}`: not a time or a duration"))?);
    }
    let format = match &args.format {
        Some(f) => Some(
            crate::parse::Format::parse_name(f)
                .ok_or_else(|| anyhow!("--format `{f}`: use seed_kv, json, nginx, python or ffmpeg"))?,
        ),
        None => None,
    };
    let (inputs, demo) = if args.paths.is_empty() {
        let demo = crate::demo::materialize()
            .context("cannot write the bundled demo logs to a private temporary directory")?;
        let mut files = demo.files();
        files.sort(); // in name order, as a directory is read
        (files.into_iter().map(Input::File).collect(), Some(demo))
    } else {
        (source::resolve(&args.paths)?, None)
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    let mut settings = config.ingest();
    settings.options.window = window;
    settings.options.times = config.time_limits(Some(now));
    Ok(Resolved { inputs, read: ReadOptions { settings, threads, format }, demo })
}

/// The report from a cluster: the same overview, computed from aggregations.
fn run_es(args: &ReportArgs, es: &crate::cli::EsArgs, config: &Config) -> Result<i32> {
    let offset = config.offset_seconds();
    let now = chrono::Utc::now().timestamp_millis();
    let mut window = Window::ALL;
    for (arg, slot) in [(&args.input.since, &mut window.from_ms), (&args.input.until, &mut window.to_ms)] {
        if let Some(s) = arg {
            match parse_time_arg(s, offset, now) {
                Some(t) => *slot = Some(t),
                None => {
                    crate::applog::error(&format!("`{s}`: not a time (2025-09-01T14:00:00Z) or a duration (30m)"));
                    return Ok(EXIT_USAGE);
                }
            }
        }
    }
    // a cluster error goes back to `main`, which says it in one line with exit status 2
    let client = crate::elastic::connect_with_fields(es, &config.elastic.fields)?;
    let mut backend = crate::backend::elastic::EsBackend::new(client, config.enricher()?, config);
    let mut overview = backend.overview_of(window, true)?;
    let rules = alert_rules(config)?;
    if let Some(at) = window.to_ms.or(overview.data_to) {
        use crate::backend::Backend;
        let gathered = backend.alert_data(&rules, at).map_err(anyhow::Error::msg)?;
        overview.alerts = crate::backend::alerts::report_rows(&gathered, &rules, window, overview.data_to);
    }
    for warning in &backend.warnings {
        crate::applog::warn(&warning.to_string());
    }
    overview.top_failing_videos.truncate(args.top);
    print_overview(args, &overview)?;
    Ok(0)
}

fn print_overview(args: &ReportArgs, overview: &crate::stats::overview::Overview) -> Result<()> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(&crate::report::to_json(overview))?);
    } else {
        print!("{}", crate::report::to_text(overview));
    }
    Ok(())
}

/// Where no input could be found or read, what was given and what to try.
fn nothing_to_read(paths: &[String]) -> String {
    let given = paths.iter().map(|p| crate::text::sanitize(p).into_owned()).collect::<Vec<_>>().join(", ");
    format!(
        "no log files in {given} (a directory is searched for *.log, *.jsonl, *.ndjson, *.txt, *.out, *.err, \
         *.gz and rotated *.log.N files); name the files, or use a glob like 'DIR/*'"
    )
}

pub fn run(args: &ReportArgs, es: &crate::cli::EsArgs, config: &Config) -> Result<i32> {
    if es.enabled() {
        return run_es(args, es, config);
    }
    let resolved = match resolve_inputs(&args.input, config) {
        Ok(r) => r,
        Err(e) => {
            crate::applog::error(&format!("{e:#}"));
            return Ok(EXIT_USAGE);
        }
    };
    if resolved.inputs.is_empty() {
        crate::applog::error(&nothing_to_read(&args.input.paths));
        return Ok(EXIT_USAGE);
    }
    let enricher = config.enricher()?;
    let waiting = |what: &str| crate::applog::info(what);
    let rules = alert_rules(config)?;
    let window = resolved.read.settings.options.window;
    let (read, gathered) = read_with_rules(&resolved.inputs, &enricher, resolved.read, &rules, window, &waiting);
    for notice in &read.notices {
        crate::applog::warn(&notice.to_string());
    }
    let mut unreadable = false;
    for problem in &read.problems {
        crate::applog::error(&problem.to_string());
        unreadable |= !matches!(problem, source::SourceError::Binary(..));
    }
    if read.read == 0 {
        crate::applog::error("no input could be read");
        return Ok(EXIT_USAGE);
    }
    if unreadable {
        return Ok(EXIT_USAGE);
    }
    let stats = read.stats;
    let mut overview = overview::compute(
        &stats,
        &enricher,
        window,
        OverviewOptions { health: &config.health, alert_rules: &[], top_videos: args.top, top_patterns: 20 },
    );
    // the alert rules as `check` evaluates them, as of the window's end
    overview.alerts = crate::backend::alerts::report_rows(&gathered, &rules, window, stats.last_ms);
    if let Some(empty) = empty_result(&stats, window) {
        crate::applog::error(&empty.to_string());
    }
    print_overview(args, &overview)?;
    Ok(0)
}

/// Reads the inputs into one set of statistics, as [`source::read_all`] does, and gathers what the
/// alert rules need: a regular file is read again whole afterwards, on every core (every event up
/// to the window's end: a rule's window reaches back before the report's; not at all when every
/// rule is off), a stream (stdin, a FIFO), which cannot be read again, in the same pass (its
/// events inside the window).
fn read_with_rules(
    inputs: &[source::Input],
    enricher: &crate::enrich::Enricher,
    options: source::ReadOptions,
    rules: &[crate::alerts::rules::Rule],
    window: Window,
    waiting: &dyn Fn(&str),
) -> (source::ReadAll, crate::backend::alerts::Gathered) {
    use crate::source::read;
    let settings = &options.settings;
    let mut collector =
        crate::alerts::collect::Collector::new(rules, enricher, settings.bucket_ms, window.to_ms.unwrap_or(i64::MAX));
    let mut all = source::ReadAll {
        stats: crate::stats::Stats::new(enricher.components.len(), settings.bucket_ms),
        problems: Vec::new(),
        notices: Vec::new(),
        read: 0,
    };
    let mut again = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let regular = matches!(input, source::Input::File(p) if std::fs::metadata(p).is_ok_and(|m| m.is_file()));
        match read::open(input, options.format, settings.options.default_offset, waiting) {
            Ok(opened) => {
                let (stats, outcome) = if regular {
                    again.push((index, input));
                    read::read_stats(opened, index as u32, enricher, settings, options.threads)
                } else {
                    read::read_events(opened, index as u32, enricher, settings, &mut collector)
                };
                all.stats.merge(stats);
                all.notices.extend(outcome.notices);
                all.read += 1;
            }
            Err(e) => all.problems.push(e),
        }
    }
    all.stats.settle();
    let mut whole = *settings;
    whole.options.window = Window::ALL;
    if rules.is_empty() {
        // every rule turned off: nothing to read again
        again.clear();
    }
    for (index, input) in again {
        match read::open(input, options.format, settings.options.default_offset, waiting) {
            // on every core, as the statistics were read
            Ok(opened) => {
                crate::backend::alerts::read_into(
                    &mut collector,
                    opened,
                    index as u32,
                    enricher,
                    &whole,
                    options.threads,
                );
            }
            Err(e) => crate::applog::warn(&format!("the alert rules miss an input: {e}")),
        }
    }
    let bucket_ms = collector.bucket_ms;
    let (data, first_ms) = collector.finish();
    (all, crate::backend::alerts::Gathered { data, first_ms, bucket_ms })
}

/// The alert rules `check` evaluates (the config's old `[[alert]]` converted, said once).
fn alert_rules(config: &Config) -> Result<Vec<crate::alerts::rules::Rule>> {
    let (rules, notes) = crate::backend::alerts::rules_in_force(None, config).map_err(anyhow::Error::msg)?;
    for note in notes {
        crate::applog::warn(&note);
    }
    Ok(rules)
}

/// When the inputs held nothing to report, says what was found and what to try.
fn empty_result(stats: &crate::stats::Stats, window: Window) -> Option<String> {
    use crate::clock::format_ms;
    let lines = &stats.lines;
    if lines.total == 0 {
        return Some("the inputs are empty: no lines read".into());
    }
    if lines.filtered > 0 && lines.filtered >= lines.total.saturating_sub(lines.untimed) && stats.first_ms.is_none() {
        let edge = |ms: Option<i64>| ms.map_or_else(|| "…".to_string(), format_ms);
        let newest = stats.filtered_span.map(|(_, last)| format!("; the newest event is at {}", format_ms(last)));
        let oldest = stats.filtered_span.map(|(first, _)| format!(", the oldest at {}", format_ms(first)));
        return Some(format!(
            "no events between {} and {}{}{}; widen --since/--until",
            edge(window.from_ms),
            edge(window.to_ms),
            newest.unwrap_or_default(),
            oldest.unwrap_or_default()
        ));
    }
    None
}
