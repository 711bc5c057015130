//! foley-triage: parse the command line, run one command, exit with its status.

use clap::Parser;
use foley_triage::cli::{Cli, Command};
use foley_triage::{commands, config::Config};

fn main() {
    quiet_broken_pipe();
    let cli = Cli::parse();
    foley_triage::applog::init();
    let verbose = cli.verbose;
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => fail(&e, verbose),
    };
    // a demo directory still owned by a thread that has not finished (process::exit runs no
    // destructors)
    foley_triage::demo::remove_registered();
    std::process::exit(code);
}

/// A reader that stops early (`search … | head`) closes the pipe, and the next `println!` panics
/// with a broken pipe: end quietly instead, as command-line tools do, with the status a shell
/// gives a process ended by SIGPIPE (141). Any other panic goes to the default hook.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            foley_triage::demo::remove_registered();
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Prints an error in one line and gives its exit status: a cluster that cannot be read is
/// unreadable input (2) in every command, anything else 1. `--verbose` adds the causes.
fn fail(e: &anyhow::Error, verbose: bool) -> i32 {
    foley_triage::applog::error(&format!("{e:#}"));
    match e.downcast_ref::<foley_triage::elastic::EsError>() {
        Some(es) => {
            if let Some(detail) = es.detail() {
                tracing::warn!("{e:#}: {detail}");
                if verbose {
                    foley_triage::applog::say(&format!("foley-triage: caused by: {detail}"));
                }
            }
            commands::EXIT_USAGE
        }
        None => 1,
    }
}

fn run(mut cli: Cli) -> anyhow::Result<i32> {
    let (mut config, loaded_from) = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            foley_triage::applog::error(&e.to_string());
            return Ok(commands::EXIT_USAGE);
        }
    };
    if let Err(e) = config.apply(&cli.overrides) {
        foley_triage::applog::error(&e.to_string());
        return Ok(commands::EXIT_USAGE);
    }
    // a named cluster's settings, under what the command line gave
    match config.elastic.resolve(&cli.es) {
        Ok(es) => cli.es = es,
        Err(e) => {
            foley_triage::applog::error(&e.to_string());
            return Ok(commands::EXIT_USAGE);
        }
    }
    if let Some(kibana) =
        cli.es.cloud_id.as_deref().and_then(|id| foley_triage::elastic::decode_cloud_id(id).ok()).and_then(|(_, k)| k)
        && cli.overrides.kibana_url.is_none()
    {
        config.links.kibana_url = kibana;
    }
    // the cluster's own Kibana, when named, over the one a cloud id implies
    if let Some(kibana) = cli.es.cluster.as_deref().and_then(|n| config.elastic.clusters.get(n)?.kibana_url.clone())
        && cli.overrides.kibana_url.is_none()
    {
        config.links.kibana_url = kibana;
    }
    match &cli.command {
        Some(Command::Report(args)) => commands::report::run(args, &cli.es, &config),
        Some(Command::Video(args)) => commands::video::run(args, &cli.es, &config),
        Some(Command::Search(args)) => commands::search::run(args, &cli.es, &config),
        Some(Command::Follow(args)) => commands::follow::run(args, &config),
        Some(Command::Simulate(args)) => commands::simulate::run(args),
        Some(Command::Ship(args)) => commands::ship::run(args, &cli.es, &config),
        Some(Command::Rules(args)) => commands::rules::run(args, &config),
        Some(Command::Check(args)) => commands::check::run(args, &cli.es, &config),
        Some(Command::Patterns(args)) => commands::patterns::run(args, &config),
        Some(Command::Es { action }) => commands::es::run(action, &cli.es, &config, loaded_from.as_deref()),
        Some(Command::Config { action }) => commands::config::run(action, &config, loaded_from.as_deref()),
        None => commands::console::run(&cli, &config),
    }
}
