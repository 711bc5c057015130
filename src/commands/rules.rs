//! `foley-triage rules [--check FILE]`: list the rule base, or validate a rule file.

use crate::cli::RulesArgs;
use crate::config::Config;
use crate::enrich::rules;
use anyhow::Result;

pub fn run(args: &RulesArgs, config: &Config) -> Result<i32> {
    if let Some(path) = &args.check {
        return Ok(match rules::load_rules_file(path) {
            Ok(r) => {
                println!("{}: {} rules, all valid", path.display(), r.len());
                0
            }
            Err(e) => {
                crate::applog::error(&e.to_string());
                super::EXIT_USAGE
            }
        });
    }
    let enricher = config.enricher()?;
    println!("{:<28} {:<20} {:<9} {:<22} CAUSE => FIX", "ID", "ERROR CODE / MATCH", "SEVERITY", "CATEGORY");
    for rule in &enricher.rules {
        let s = &rule.spec;
        let matcher = match (&s.error_code, &s.pattern) {
            (Some(c), Some(_)) => format!("{c} + pattern"),
            (Some(c), None) => c.clone(),
            (None, _) => format!(
                "keywords{}",
                s.component.as_deref().or(s.source.as_deref()).map(|c| format!(" ({c})")).unwrap_or_default()
            ),
        };
        println!("{:<28} {:<20} {:<9} {:<22} {} => {}", s.id, matcher, s.severity.as_str(), s.category, s.cause, s.fix);
    }
    Ok(0)
}
