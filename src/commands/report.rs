//! `foley-triage report`: read everything given, print the overview as text or JSON.

use super::EXIT_USAGE;
use crate::cli::{InputArgs, ReportArgs};
use crate::config::Config;
use crate::source::{self, Input, ReadOptions};
use crate::stats::overview::{self, OverviewOptions, Window};
use anyhow::{Context, Result, anyhow};

/// Parses `--since`/`--until`: an absolute time, or a duration before now (`30m`).
pub fn parse_time_arg(s: &str, offset: i64, now_ms: i64) -> Option<i64> {
    crate::parse::time::parse_any(s, offset)
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| {
                crate::parse::time::days_from_civil(d.year_ce().1 as i64, d.month0() + 1, d.day0() + 1) * 86_400_000
                    - offset * 1000
            })
        })
        .or_else(|| crate::alerts::parse_window(s).map(|d| now_ms - d))
}

use chrono::Datelike;

/// What the input options resolve to.
pub struct Resolved {
    pub inputs: Vec<Input>,
    pub read: ReadOptions,
}

pub fn resolve_inputs(args: &InputArgs, config: &Config) -> Result<Resolved> {
    let offset = config.offset_seconds().unwrap_or(0);
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
    let inputs = if args.paths.is_empty() {
        let dir = crate::demo::materialize().context("cannot write the bundled demo logs to a temporary directory")?;
        source::resolve(&[dir.display().to_string()])?
    } else {
        source::resolve(&args.paths)?
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    Ok(Resolved {
        inputs,
        read: ReadOptions {
            pipeline: crate::pipeline::PipelineOptions {
                max_line: config.max_line_bytes,
                window,
                default_offset: offset,
                times: config.time_limits(Some(now)),
            },
            bucket_ms: config.bucket_ms().unwrap_or(60_000),
            threads,
            format,
        },
    })
}

/// The report from a cluster: the same overview, computed from aggregations.
fn run_es(args: &ReportArgs, es: &crate::cli::EsArgs, config: &Config) -> Result<i32> {
    let offset = config.offset_seconds().unwrap_or(0);
    let now = chrono::Utc::now().timestamp_millis();
    let mut window = Window::ALL;
    for (arg, slot) in [(&args.input.since, &mut window.from_ms), (&args.input.until, &mut window.to_ms)] {
        if let Some(s) = arg {
            match parse_time_arg(s, offset, now) {
                Some(t) => *slot = Some(t),
                None => {
                    eprintln!("foley-triage: `{s}`: not a time (2025-09-01T14:00:00Z) or a duration (30m)");
                    return Ok(EXIT_USAGE);
                }
            }
        }
    }
    let client = match crate::elastic::connect_with_fields(es, &config.elastic.fields) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("foley-triage: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut backend = crate::backend::elastic::EsBackend::new(client, config.enricher()?, config);
    let mut overview = match backend.overview_of(window, true) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("foley-triage: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    for warning in &backend.warnings {
        eprintln!("foley-triage: warning: {warning}");
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

pub fn run(args: &ReportArgs, es: &crate::cli::EsArgs, config: &Config) -> Result<i32> {
    if es.enabled() {
        return run_es(args, es, config);
    }
    let resolved = match resolve_inputs(&args.input, config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("foley-triage: {e:#}");
            return Ok(EXIT_USAGE);
        }
    };
    let enricher = config.enricher()?;
    let (stats, problems) = source::read_all(&resolved.inputs, &enricher, resolved.read);
    let mut unreadable = false;
    for problem in &problems {
        eprintln!("foley-triage: {problem}");
        unreadable |= !matches!(problem, source::SourceError::Binary(..));
    }
    if unreadable {
        return Ok(EXIT_USAGE);
    }
    let overview = overview::compute(
        &stats,
        &enricher,
        resolved.read.pipeline.window,
        OverviewOptions { health: &config.health, alert_rules: &config.alerts, top_videos: args.top, top_patterns: 20 },
    );
    print_overview(args, &overview)?;
    Ok(0)
}
