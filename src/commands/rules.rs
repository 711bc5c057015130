//! `foley-triage rules [--check FILE]`: list the rule base, or validate a rule file;
//! `foley-triage rules test LINE`: which rule explains a line and why, or that none does.

use crate::cli::RulesArgs;
use crate::config::Config;
use crate::enrich::rules;
use anyhow::Result;

pub fn run(args: &RulesArgs, config: &Config) -> Result<i32> {
    if let Some(crate::cli::RulesAction::Test { line, format }) = &args.action {
        return test_line(line, format.as_deref(), config);
    }
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

/// Prints how the rule base explains one line: what was parsed, the component, the rule and why.
fn test_line(line: &str, format: Option<&str>, config: &Config) -> Result<i32> {
    use crate::text::sanitize;
    let forced = match format {
        Some(f) => match crate::parse::Format::parse_name(f) {
            Some(format) => Some(format),
            None => {
                crate::applog::error(&format!("--format `{f}`: use seed_kv, json, nginx, python or ffmpeg"));
                return Ok(super::EXIT_USAGE);
            }
        },
        None => None,
    };
    let enricher = config.enricher()?;
    let event =
        crate::parse::LineParser::new(forced, config.offset_seconds()).parse(line.trim_end_matches(['\n', '\r']));
    let explained = enricher.explain(&event);
    println!("line:       {}", sanitize(line));
    println!(
        "parsed:     {} (level {}, source {}, error code {})",
        if event.parsed { "yes" } else { "no format fits; read as plain text" },
        event.level.as_str(),
        event.source.as_str(),
        event.error_code.as_deref().map_or_else(|| "none".to_string(), |c| sanitize(c).into_owned())
    );
    println!("message:    {}", sanitize(&event.message));
    println!("component:  {}", enricher.components.name(explained.component));
    if !explained.is_error {
        println!("note:       not an error or warning: the console attributes errors only; shown as if it were one");
    }
    for reason in &explained.reasons {
        println!("why:        {}", sanitize(reason));
    }
    match explained.rule.and_then(|id| enricher.rule(id)) {
        Some(rule) => {
            let s = &rule.spec;
            println!("rule:       {} ({})", s.id, rule.origin);
            println!("category:   {} (severity {})", s.category, s.severity.as_str());
            println!("cause:      {}", s.cause);
            println!("fix:        {}", s.fix);
            Ok(0)
        }
        None => {
            println!("rule:       none matches: the line is an unknown error");
            println!("template:   {}", sanitize(&crate::patterns::template(&event.message)));
            Ok(1)
        }
    }
}
