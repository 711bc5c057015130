//! The interactive console (ratatui + crossterm).

use crate::cli::Cli;
use crate::config::Config;

pub fn run(cli: &Cli, config: &Config) -> anyhow::Result<i32> {
    let _ = (cli, config);
    eprintln!("foley-triage: the interactive console is not built yet; use `foley-triage report`");
    Ok(2)
}
