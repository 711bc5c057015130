//! `foley-triage config path|init|show`.

use crate::cli::ConfigAction;
use crate::config::{self, Config};
use anyhow::{Context, Result};

pub fn run(action: &ConfigAction, config: &Config, loaded_from: Option<&std::path::Path>) -> Result<i32> {
    match action {
        ConfigAction::Path => {
            let dir = config::config_dir();
            println!(
                "config file:  {}",
                loaded_from.map(|p| p.display().to_string()).unwrap_or_else(|| {
                    dir.as_ref()
                        .map(|d| format!("{} (not present; defaults in use)", d.join("config.toml").display()))
                        .unwrap_or_else(|| "none (no home directory; use --config)".into())
                })
            );
            if let Some(d) = dir {
                println!("user rules:   {}", d.join("rules.toml").display());
            }
            println!("app log:      {}", config::state_dir().join("foley-triage.log").display());
        }
        ConfigAction::Init { path, force } => {
            let target = match path.clone().or_else(|| config::config_dir().map(|d| d.join("config.toml"))) {
                Some(p) => p,
                None => {
                    crate::applog::error("no config directory (HOME unset?); give a path: config init PATH");
                    return Ok(super::EXIT_USAGE);
                }
            };
            if target.exists() && !force {
                crate::applog::error(&format!("{} exists; use --force to overwrite", target.display()));
                return Ok(super::EXIT_USAGE);
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&target, config::EXAMPLE).with_context(|| format!("writing {}", target.display()))?;
            println!("wrote {}", target.display());
        }
        ConfigAction::Show => {
            print!("{}", toml::to_string_pretty(config)?);
        }
    }
    Ok(0)
}
