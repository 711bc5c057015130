//! Command-line definitions (clap). Secrets are never accepted as arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "foley-triage", version, about = "Triage console for a video-to-audio (HunyuanVideo-Foley style) service's logs", long_about = None)]
pub struct Cli {
    /// Config file (default: $FOLEY_TRIAGE_CONFIG, else config.toml in the config directory).
    #[arg(long, global = true, env = "FOLEY_TRIAGE_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Log files, directories or globs to open in the console (default: the bundled demo logs).
    pub paths: Vec<String>,

    /// Open the console on a simulated incident written live.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read logs and print a triage summary (or one JSON object with --json).
    Report(ReportArgs),
    /// Write realistic demo logs with an incident into DIR.
    Simulate(SimulateArgs),
    /// List the rule base, or check a rule file.
    Rules(RulesArgs),
    /// Show or create the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files, directories or globs; `-` reads stdin. Default: the bundled demo logs.
    pub paths: Vec<String>,
    /// Only events at or after this time (RFC 3339, `YYYY-MM-DD HH:MM:SS`, or a duration ago: `30m`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events at or before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Force one format for every input: seed_kv, json, nginx, python, ffmpeg.
    #[arg(long)]
    pub format: Option<String>,
    /// Worker threads for large files (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Number of failing videos listed.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Directory to write the logs into (created if missing).
    pub dir: PathBuf,
    /// Minutes of logs to write.
    #[arg(long, default_value_t = 60)]
    pub minutes: u32,
    /// Generation jobs per second.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Random seed; the same seed writes the same logs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Keep appending in real time (Ctrl-C stops).
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Check this rule file and report problems instead of listing.
    #[arg(long)]
    pub check: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print where the config and rule files are read from.
    Path,
    /// Write the commented default config (to the config directory, or PATH).
    Init {
        path: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the effective configuration.
    Show,
}
