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

    /// On an error, also print the causes behind it (e.g. the whole chain of a failed connection).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(flatten)]
    pub es: EsArgs,

    #[command(flatten)]
    pub overrides: Overrides,

    /// The console's range starts here: a time (RFC 3339, `YYYY-MM-DD HH:MM:SS`) or a duration
    /// back from the newest data (`30m`) [default: the last hour].
    #[arg(long)]
    pub since: Option<String>,
    /// The console's range ends here (a time, or a duration back from the newest data).
    #[arg(long)]
    pub until: Option<String>,
    /// An alert rule file for the console: its rules are added to the built-in ones and
    /// alerts.toml in the config directory (a rule with the same name replaces one), as `check
    /// --rules` does.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

/// Settings that override the config file (flags win over the environment, which wins over the file).
#[derive(Debug, Args, Clone, Default)]
pub struct Overrides {
    /// Theme: dark, light, high-contrast, solarized, or a theme file.
    #[arg(long, global = true, env = "FOLEY_TRIAGE_THEME")]
    pub theme: Option<String>,
    /// Clipboard: auto, osc52, system or none.
    #[arg(long, global = true, env = "FOLEY_TRIAGE_CLIPBOARD")]
    pub clipboard: Option<String>,
    /// Offset of zone-less timestamps, e.g. +08:00.
    #[arg(long, global = true, env = "FOLEY_TRIAGE_TIMEZONE", allow_hyphen_values = true)]
    pub timezone: Option<String>,
    /// Kibana base URL for deep links.
    #[arg(long, global = true, env = "FOLEY_TRIAGE_KIBANA_URL")]
    pub kibana_url: Option<String>,
    /// Kibana data view id.
    #[arg(long, global = true, env = "FOLEY_TRIAGE_DATA_VIEW")]
    pub data_view: Option<String>,
    /// Retry link template ({video_id}, {request_id}, {time}).
    #[arg(long, global = true, env = "FOLEY_TRIAGE_RETRY_URL")]
    pub retry_url: Option<String>,
}

/// Where the Elasticsearch / OpenSearch cluster is. Secrets are read from the environment
/// (FOLEY_TRIAGE_ES_API_KEY, FOLEY_TRIAGE_ES_TOKEN, FOLEY_TRIAGE_ES_USER + FOLEY_TRIAGE_ES_PASSWORD) or a
/// key file, never from the command line.
#[derive(Debug, Args, Clone, Default)]
pub struct EsArgs {
    /// Elasticsearch / OpenSearch URL(s), comma-separated: read logs from the cluster.
    #[arg(long, global = true, value_delimiter = ',')]
    pub es: Vec<String>,
    /// Elastic Cloud id (gives the Elasticsearch and Kibana URLs).
    #[arg(long, global = true)]
    pub cloud_id: Option<String>,
    /// Index pattern to read [default: hunyuan-foley-*].
    #[arg(long, global = true)]
    pub index: Option<String>,
    /// A cluster named in the config file (`[elastic.clusters.NAME]`); options given here win.
    #[arg(long, global = true)]
    pub cluster: Option<String>,
    /// Ask for the cluster's secret on the terminal, without echo: api-key, token or password
    /// (the user name from FOLEY_TRIAGE_ES_USER, the cluster's `user`, or asked too).
    #[arg(long, global = true, value_enum)]
    pub es_prompt: Option<PromptFor>,
    /// User name for basic authentication when the password is asked for (not a secret).
    #[arg(skip)]
    pub es_user: Option<String>,
    /// File holding an API key (warns when group or others can read it).
    #[arg(long, global = true)]
    pub es_key_file: Option<PathBuf>,
    /// PEM file of a CA to trust besides the system roots.
    #[arg(long, global = true)]
    pub ca_file: Option<PathBuf>,
    /// Do not verify TLS certificates (loudly insecure).
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Seconds before a request to the cluster gives up.
    #[arg(long, global = true, default_value_t = DEFAULT_ES_TIMEOUT)]
    pub es_timeout: u64,
    /// The index's field names: ours (written by ship), ecs (Filebeat), logstash or seed (the
    /// seed's grok + kv filter); detected from the index when not given. Indices without the
    /// fields ship computes are read back line by line and enriched here.
    #[arg(long = "fields", global = true, value_name = "PRESET")]
    pub fields: Option<String>,
}

/// Seconds before a cluster request gives up, unless told otherwise.
pub const DEFAULT_ES_TIMEOUT: u64 = 30;

impl EsArgs {
    pub fn enabled(&self) -> bool {
        !self.es.is_empty() || self.cloud_id.is_some() || self.cluster.is_some()
    }
}

/// Which secret `--es-prompt` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptFor {
    ApiKey,
    Token,
    Password,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read logs and print a triage summary (or one JSON object with --json).
    Report(ReportArgs),
    /// Print everything about one video or request id: its facts and every related line.
    Video(VideoArgs),
    /// Print every line that holds a text (a phrase, at word boundaries, or an id) in a time range.
    Search(SearchArgs),
    /// Follow files, directories or globs like `tail -F` and print each event as it arrives.
    Follow(FollowArgs),
    /// Write realistic demo logs with an incident into DIR.
    Simulate(SimulateArgs),
    /// Parse local logs and bulk-index them into daily indices of a cluster (--es URL).
    Ship(ShipArgs),
    /// List the rule base, or check a rule file (a rule base, or alert rules).
    Rules(RulesArgs),
    /// Evaluate the alert rules over log files as of now (or --at TIME): prints the firing alerts;
    /// exits 0 when none fires, 1 when some do, 2 when they could not be evaluated.
    Check(CheckArgs),
    /// Mine message templates: one CSV row per line (line_no,template_id,template), or a summary.
    Patterns(PatternsArgs),
    /// Set up a cluster for the console (templates, lifecycle, Kibana) or check one.
    Es {
        #[command(subcommand)]
        action: EsAction,
    },
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
pub struct PatternsArgs {
    /// Files or directories to read; `-` (the default) reads stdin.
    pub paths: Vec<String>,
    /// Each line is a bare message: no timestamp or level prefix to strip.
    #[arg(long)]
    pub content_only: bool,
    /// Print the templates with their counts, first and last seen, instead of one row per line.
    #[arg(long)]
    pub summary: bool,
    /// JSON instead of CSV (one object per line, or one object with --summary).
    #[arg(long)]
    pub json: bool,
    /// Keep the template ids in the state directory (read before, written after), so that the same
    /// template keeps its id from one run to the next.
    #[arg(long)]
    pub keep: bool,
    /// Force one format for every input: seed_kv, json, nginx, python, ffmpeg.
    #[arg(long)]
    pub format: Option<String>,
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
pub struct VideoArgs {
    /// A video id (vid_…) or a request id (req_…).
    pub id: String,
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The text to find: a phrase (case-sensitive, at word boundaries) or an id.
    #[arg(required_unless_present = "filter")]
    pub query: Option<String>,
    /// The lines of events matching a filter in the query language (the tail's `:filter`, the
    /// alert rules'): `error_code:MODEL_* and inference_time>3s`; with QUERY, holding that text too.
    #[arg(long, short = 'f', value_name = "FILTER")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Matching lines printed at most (all are counted).
    #[arg(long, default_value_t = crate::backend::SEARCH_LIMIT)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct FollowArgs {
    /// Files (they may not exist yet), directories (new log files in them are picked up) or globs.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Print one JSON object per event, with its source file, instead of text.
    #[arg(long)]
    pub json: bool,
    /// Read the files from the beginning instead of from the end.
    #[arg(long)]
    pub from_start: bool,
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
pub struct ShipArgs {
    /// Files, directories or globs to ship.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Index name prefix; documents go to <prefix>-YYYY.MM.dd.
    #[arg(long, default_value = "hunyuan-foley")]
    pub index_prefix: String,
    /// Documents per bulk request.
    #[arg(long, default_value_t = 5000)]
    pub batch: usize,
    /// Refresh the indices when done (so that searches see everything at once).
    #[arg(long)]
    pub refresh: bool,
    /// Write the bulk requests to files in DIR instead of sending them (INDEX.NNNN.ndjson, each
    /// under 90 MiB, plus the mappings as INDEX.index.json), for a cluster this host cannot reach:
    /// load each with `curl -H 'Content-Type: application/x-ndjson' --data-binary @FILE URL/_bulk`.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Also store each raw line (`raw`, not indexed): the drill-down then shows the lines as
    /// written; without it, it shows each event's message (the bulk body is several times smaller).
    #[arg(long)]
    pub keep_raw: bool,
}

#[derive(Debug, Subcommand)]
pub enum EsAction {
    /// Create what the console needs on the cluster (--es URL): an index template with an
    /// explicit priority, a component template for your settings (never overwritten), a
    /// lifecycle policy (ILM or ISM), and with --kibana a data view and saved searches. Running it
    /// again changes only what differs; it prints what it created, changed or left alone.
    Init(EsInitArgs),
    /// Check a cluster against what the console needs, and say what to fix with which request.
    Doctor(EsDoctorArgs),
}

#[derive(Debug, Args)]
pub struct EsInitArgs {
    /// Index name prefix; the pattern is <prefix>-*.
    #[arg(long, default_value = "hunyuan-foley")]
    pub index_prefix: String,
    /// Kibana URL: also create the data view (its id is written to the config) and saved searches.
    #[arg(long)]
    pub kibana: Option<String>,
    /// Delete indices this long after their day, or after their rollover (`14d`); `none`: never.
    #[arg(long, default_value = "14d")]
    pub retention: String,
    /// Write through a rollover alias (`<prefix>-write`, first index `<prefix>-000001`) whose
    /// index rolls over by size or age, instead of daily indices. Kept once set up.
    #[arg(long)]
    pub rollover: bool,
    /// Roll over when a primary shard reaches this size (with --rollover).
    #[arg(long, default_value = "50gb", value_name = "SIZE")]
    pub rollover_size: String,
    /// Roll over when the write index is this old (with --rollover).
    #[arg(long, default_value = "1d", value_name = "AGE")]
    pub rollover_age: String,
    /// Index template priority (an existing template keeps its own).
    #[arg(long, default_value_t = crate::elastic::setup::DEFAULT_PRIORITY)]
    pub priority: u64,
    /// Replicas in the component template, when it is created.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Print the requests instead of sending them (what exists is still read).
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the ingest pipeline `<prefix>-enrich`, for logs shipped by Filebeat straight to
    /// the cluster: it adds the fields the console reads, from the console's own tables.
    #[arg(long)]
    pub pipeline: bool,
}

#[derive(Debug, Args)]
pub struct EsDoctorArgs {
    /// Index name prefix of the templates to check.
    #[arg(long, default_value = "hunyuan-foley")]
    pub index_prefix: String,
    /// Kibana URL, to check the data view.
    #[arg(long)]
    pub kibana: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files, directories or globs; `-` reads stdin. Default: the bundled demo logs.
    pub paths: Vec<String>,
    /// An alert rule file: its rules are added to the built-in ones (a rule with the same name
    /// replaces the built-in one).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Evaluate as of this time instead of now (replay an incident): RFC 3339,
    /// `YYYY-MM-DD HH:MM:SS`, or a duration ago (`30m`).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Send the firing alerts to the `[[notify]]` targets of the config (never without this flag).
    #[arg(long)]
    pub notify: bool,
    /// Force one format for every input: seed_kv, json, nginx, python, ffmpeg.
    #[arg(long)]
    pub format: Option<String>,
    /// Keep evaluating as of now every --interval (re-reading the files, or asking the cluster),
    /// printing each rule that starts firing or resolves; Ctrl-C stops.
    #[arg(long)]
    pub watch: bool,
    /// How often --watch evaluates.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub interval: String,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Check this rule file and report problems instead of listing.
    #[arg(long)]
    pub check: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Option<RulesAction>,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Show which rule explains a log line and why (code, pattern, component), or that none does
    /// (exit status 1).
    Test {
        /// The log line, as it appears in the log.
        line: String,
        /// Force one format: seed_kv, json, nginx, python, ffmpeg.
        #[arg(long)]
        format: Option<String>,
    },
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
