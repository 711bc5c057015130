//! The console (no subcommand): decides what to open — files followed live, the bundled demo, a
//! live simulated incident, or a cluster — hands the opening to the engine (so that the screen is up
//! while files are read or a cluster answers) and runs the console until the user quits.

use super::EXIT_USAGE;
use crate::backend::local::LocalBackend;
use crate::backend::worker::{self, Opener};
use crate::backend::{Backend, elastic::EsBackend};
use crate::cli::Cli;
use crate::config::Config;
use crate::demo::DemoDir;
use crate::simulate::{self, SimulateOptions};
use crate::tui::Ending;
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Minutes of the simulated incident written at once when `--demo` starts, before it goes on live.
pub const DEMO_BACKFILL_MINUTES: i64 = 60;

/// What runs beside the console and must be stopped or removed when it ends, whichever way.
#[derive(Default)]
struct Companions {
    /// Stops the live simulator.
    simulator: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    /// The demo's private directory, removed on drop.
    demo: Option<DemoDir>,
}

impl Drop for Companions {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.simulator.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = handle.join();
        }
    }
}

pub fn run(cli: &Cli, config: &Config) -> Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        crate::applog::error(
            "the console needs a terminal (standard input and output are not one); for a summary without one, use \
             `foley-triage report`",
        );
        return Ok(EXIT_USAGE);
    }
    // what can be checked at once is checked before the screen opens
    if let Err(e) = crate::tui::theme::Theme::load(&config.theme) {
        crate::applog::error(&e.to_string());
        return Ok(EXIT_USAGE);
    }
    let range = match crate::backend::range::from_arguments(
        cli.since.as_deref(),
        cli.until.as_deref(),
        config.offset_seconds(),
    ) {
        Ok(r) => r,
        Err(e) => {
            crate::applog::error(&e);
            return Ok(EXIT_USAGE);
        }
    };
    let enricher = match config.enricher() {
        Ok(e) => e,
        Err(e) => {
            crate::applog::error(&e.to_string());
            return Ok(EXIT_USAGE);
        }
    };
    let (alert_rules, notes) = match crate::backend::alerts::rules_in_force(cli.rules.as_deref(), config) {
        Ok(r) => r,
        Err(e) => {
            crate::applog::error(&e);
            return Ok(EXIT_USAGE);
        }
    };
    for note in notes {
        crate::applog::warn(&note);
    }
    let notify = if config.alerting.notify_from_console {
        if config.notify.is_empty() {
            crate::applog::warn("[alerts] notify_from_console = true, but the config names no [[notify]] targets");
        }
        Some(crate::backend::worker::ConsoleNotify {
            targets: config.notify.clone(),
            links: config.links.clone(),
            state_path: crate::config::state_dir().join("notify-state.json"),
        })
    } else {
        None
    };
    let alert_settings = crate::backend::worker::AlertSettings { rules: alert_rules.clone(), notify };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut companions = Companions::default();
    let (source, open): (String, Opener) = if cli.es.enabled() {
        let es = cli.es.clone();
        let fields = config.elastic.fields.clone();
        let config = config.clone();
        let label =
            format!("cluster {}", es.es.first().map(|u| crate::elastic::client::redact_url(u)).unwrap_or_default());
        (
            label,
            Box::new(move |progress: &dyn Fn(String)| {
                progress("connecting to the cluster…".into());
                let client = crate::elastic::connect_with_fields(&es, &fields).map_err(|e| e.to_string())?;
                Ok(Box::new(EsBackend::new(client, enricher, &config)) as Box<dyn Backend>)
            }),
        )
    } else if cli.demo {
        let demo = match DemoDir::new("live") {
            Ok(d) => d,
            Err(e) => {
                crate::applog::error(&format!("cannot create a private temporary directory for the demo: {e}"));
                return Ok(EXIT_USAGE);
            }
        };
        let paths = demo.files();
        for path in &paths {
            if let Err(e) = crate::demo::create_new(path) {
                crate::applog::error(&format!("cannot create {}: {e}", path.display()));
                return Ok(EXIT_USAGE);
            }
        }
        // the last hour of the incident is written at once, then it goes on live
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, dir) = (Arc::clone(&stop), demo.path().to_path_buf());
        let start_ms = chrono::Utc::now().timestamp_millis() - DEMO_BACKFILL_MINUTES * 60_000;
        let (written_tx, written_rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let options = SimulateOptions { minutes: 60, rate: 5.0, start_ms, ..Default::default() };
            if let Err(e) = simulate::follow_from(&dir, &options, &flag, || {
                let _ = written_tx.send(());
            }) {
                tracing::error!("simulator stopped: {e}");
            }
        });
        companions.simulator = Some((stop, handle));
        companions.demo = Some(demo);
        let config = config.clone();
        (
            "live demo".into(),
            Box::new(move |progress: &dyn Fn(String)| {
                progress(format!("simulating the last {DEMO_BACKFILL_MINUTES} minutes of an incident…"));
                // the backfill is read whole at start; without it the first screen would be empty
                let _ = written_rx.recv_timeout(std::time::Duration::from_secs(60));
                let backend =
                    LocalBackend::open_reporting(paths, enricher, &config, threads, true, Vec::new(), progress);
                Ok(Box::new(backend.described_as("live demo")) as Box<dyn Backend>)
            }),
        )
    } else if cli.paths.is_empty() {
        let demo = match crate::demo::materialize() {
            Ok(d) => d,
            Err(e) => {
                crate::applog::error(&format!(
                    "cannot write the bundled demo logs to a private temporary directory: {e}"
                ));
                return Ok(EXIT_USAGE);
            }
        };
        let paths = demo.files();
        companions.demo = Some(demo);
        let config = config.clone();
        (
            "bundled demo".into(),
            Box::new(move |progress: &dyn Fn(String)| {
                let backend =
                    LocalBackend::open_reporting(paths, enricher, &config, threads, false, Vec::new(), progress);
                Ok(Box::new(backend.described_as("bundled demo (5 files)")) as Box<dyn Backend>)
            }),
        )
    } else {
        let inputs = match crate::source::resolve(&cli.paths) {
            Ok(i) => i,
            Err(e) => {
                crate::applog::error(&e.to_string());
                return Ok(EXIT_USAGE);
            }
        };
        let paths: Vec<PathBuf> = inputs
            .into_iter()
            .filter_map(|i| match i {
                crate::source::Input::File(p) => Some(p),
                crate::source::Input::Stdin => None,
            })
            .collect();
        let specs = cli.paths.clone();
        let config = config.clone();
        (
            crate::text::sanitize_owned(&cli.paths.join(" "), 120),
            Box::new(move |progress: &dyn Fn(String)| {
                let backend = LocalBackend::open_reporting(paths, enricher, &config, threads, true, specs, progress);
                Ok(Box::new(backend) as Box<dyn Backend>)
            }),
        )
    };
    let (link, updates) = worker::spawn_with(open, alert_settings);
    let ending = crate::tui::run(config, source, range, &alert_rules, &link, &updates);
    drop(companions);
    match ending? {
        Ending::Quit => Ok(0),
        Ending::Failed(reason) => {
            crate::applog::error(&reason.to_string());
            Ok(EXIT_USAGE)
        }
    }
}
