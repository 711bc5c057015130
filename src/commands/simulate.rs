//! `foley-triage simulate`: write demo logs with an incident, or keep appending live.

use crate::cli::SimulateArgs;
use crate::simulate::{self, SimulateOptions};
use anyhow::{Context, Result};
use std::sync::atomic::AtomicBool;

pub fn run(args: &SimulateArgs) -> Result<i32> {
    if !(args.rate > 0.0 && args.rate <= 100_000.0) {
        crate::applog::error("--rate must be between 0 and 100000 jobs per second");
        return Ok(super::EXIT_USAGE);
    }
    if args.minutes == 0 {
        crate::applog::error("--minutes must be at least 1");
        return Ok(super::EXIT_USAGE);
    }
    let options =
        SimulateOptions { minutes: args.minutes, rate: args.rate, seed: args.seed, ..SimulateOptions::default() };
    if args.follow {
        // Ctrl-C ends the process; every batch is flushed, so nothing is left half-written.
        let stop = AtomicBool::new(false);
        eprintln!("writing live logs to {} (Ctrl-C to stop)", args.dir.display());
        simulate::follow(&args.dir, &options, &stop).with_context(|| format!("writing to {}", args.dir.display()))?;
        return Ok(0);
    }
    let manifest =
        simulate::write_logs(&args.dir, &options).with_context(|| format!("writing to {}", args.dir.display()))?;
    eprintln!("wrote {} jobs of logs to {} ({} files)", manifest.jobs, args.dir.display(), simulate::FILE_NAMES.len());
    Ok(0)
}
