//! `foley-triage rules [--check FILE]`: list the rule base, or validate a rule file.

use crate::cli::RulesArgs;
use crate::config::Config;
use crate::enrich::rules;
use anyhow::Result;

pub fn run(args: &RulesArgs, config: &Config) -> Result<i32> {
    if let Some(path) = &args.check {
        if let Ok(text) = std::fs::read_to_string(path)
            && crate::alerts::rules::holds_alert_rules(&text)
        {
            return Ok(check_alert_rules(&text, path));
        }
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
    list_rule_base(&enricher);
    Ok(0)
}

/// Validates an alert rule file: every rule, its filters, windows and thresholds.
fn check_alert_rules(text: &str, path: &std::path::Path) -> i32 {
    match crate::alerts::rules::parse_alert_rules(text, &path.display().to_string()) {
        Ok((rules, disabled)) => {
            let off = if disabled.is_empty() { String::new() } else { format!(", {} turned off", disabled.len()) };
            println!("{}: {} alert rules, all valid{off}", crate::text::path_text(path), rules.len());
            0
        }
        Err(e) => {
            crate::applog::error(&e.to_string());
            super::EXIT_USAGE
        }
    }
}

fn list_rule_base(enricher: &crate::enrich::Enricher) {
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
}
