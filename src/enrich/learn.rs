//! The labelling loop: a rule drafted for an unknown template (pre-filled from the closest existing
//! rule), written as TOML, appended to the user's rule file atomically (the whole file checked
//! first; a temporary file, fsync, rename; the previous file kept as `.bak`), and merged into the
//! rule base in force (user rules take precedence, as when loaded).

use super::Enricher;
use super::rules::{self, Rule, RuleSpec, Severity};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A rule for a template (`CODE: masked message` or `[source] masked message`, as the Patterns
/// screen lists it): its code, or a pattern made of its constant words (and its source); the
/// category, severity, cause and fix of the closest existing rule.
pub fn draft(enricher: &Enricher, template: &str, example: &str) -> RuleSpec {
    let (code, source, message) = split_template(template);
    let pattern = if code.is_some() { None } else { Some(pattern_of(message)) };
    let closest = closest(enricher, code, example);
    let slug: String = code
        .unwrap_or(message)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|w| w.len() > 1)
        .take(5)
        .collect::<Vec<_>>()
        .join("-");
    let id = format!("learned-{}", if slug.is_empty() { "pattern".into() } else { slug });
    let (category, severity, cause, fix) = match closest {
        Some(rule) => (rule.category.clone(), rule.severity, rule.cause.clone(), rule.fix.clone()),
        None => ("learned".into(), Severity::Medium, format!("learned: {message}"), "describe the fix".into()),
    };
    RuleSpec {
        id,
        error_code: code.map(str::to_string),
        component: None,
        source: if code.is_none() { source.map(str::to_string) } else { None },
        pattern,
        category,
        severity,
        cause,
        fix,
    }
}

/// (code, source, message) of a template.
fn split_template(template: &str) -> (Option<&str>, Option<&str>, &str) {
    if let Some(rest) = template.strip_prefix('[')
        && let Some((source, message)) = rest.split_once("] ")
    {
        return (None, Some(source), message);
    }
    match template.split_once(": ") {
        Some((code, message)) if !code.is_empty() && !code.contains(' ') => (Some(code), None, message),
        _ => (None, None, template),
    }
}

/// A case-insensitive pattern of a masked message: its constant words escaped, `.*` for each run
/// of masked ones.
pub fn pattern_of(message: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for word in message.split_whitespace() {
        let masked = word.starts_with('<') && word.ends_with('>') || word.contains("<*>");
        let part = if masked { ".*".to_string() } else { regex::escape(word) };
        if part == ".*" && parts.last().is_some_and(|p| p == ".*") {
            continue;
        }
        parts.push(part);
    }
    let text = parts.join(" ").replace(" .* ", ".*").replace(" .*", ".*").replace(".* ", ".*");
    text.trim_matches(|c| c == '.' || c == '*').to_string()
}

/// The rule most like an unknown error: one for the same code family (longest shared prefix of
/// `_`-separated words), else a keyword rule whose pattern matches the example.
fn closest<'a>(enricher: &'a Enricher, code: Option<&str>, example: &str) -> Option<&'a RuleSpec> {
    // the characters of the leading `_`-separated words two codes share (`E_` alone is no family)
    let shared = |a: &str, b: &str| {
        let n: usize = a.split('_').zip(b.split('_')).take_while(|(x, y)| x == y).map(|(x, _)| x.len()).sum();
        if n >= 3 { n } else { 0 }
    };
    if let Some(code) = code {
        let best = enricher
            .rules
            .iter()
            .filter_map(|r| r.spec.error_code.as_deref().map(|c| (shared(c, code), r)))
            .filter(|(n, _)| *n > 0)
            .max_by_key(|(n, _)| *n);
        if let Some((_, rule)) = best {
            return Some(&rule.spec);
        }
    }
    enricher.rules.iter().find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(example))).map(|r| &r.spec)
}

/// The rule as a TOML `[[rule]]` table.
pub fn to_toml(spec: &RuleSpec) -> Result<String, String> {
    #[derive(serde::Serialize)]
    struct One<'a> {
        rule: [&'a RuleSpec; 1],
    }
    toml::to_string(&One { rule: [spec] }).map_err(|e| format!("the rule cannot be written as TOML: {e}"))
}

/// Appends `spec` to the rule file at `path` (created with its directory if missing): the new
/// whole text is parsed first (a rule that does not load is refused, the file untouched), then
/// written to a temporary file beside it, flushed to disk and renamed over it; the previous file
/// is kept as `path.bak`. Returns the rules of the new file, and whether a previous file was kept.
pub fn append(path: &Path, spec: &RuleSpec) -> Result<(Vec<Rule>, bool), String> {
    let shown = crate::text::path_text(path);
    let before = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    };
    let mut text = before.clone().unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!(
        "# learned in the console ({})\n",
        crate::clock::format_ms(chrono::Utc::now().timestamp_millis())
    ));
    text.push_str(&to_toml(spec)?);
    let rules = rules::parse_rules(&text, &shown).map_err(|e| format!("the rule was not saved: {e}"))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", crate::text::path_text(&dir)))?;
    if let Some(old) = &before {
        write_atomic(&dir, &backup_of(path), old.as_bytes())?;
    }
    write_atomic(&dir, path, text.as_bytes())?;
    Ok((rules, before.is_some()))
}

/// `rules.toml` → `rules.toml.bak`.
pub fn backup_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".bak");
    path.with_file_name(name)
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), String> {
    let shown = crate::text::path_text(path);
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("cannot write beside {shown}: {e}"))?;
    file.write_all(bytes).and_then(|_| file.as_file().sync_all()).map_err(|e| format!("cannot write {shown}: {e}"))?;
    file.persist(path).map_err(|e| format!("cannot replace {shown}: {}", e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The rule base with `added` merged in (a rule with the same id replaced; new ones take
/// precedence, as the user's files do when loaded).
pub fn with_rules(enricher: &Enricher, added: Vec<Rule>) -> Enricher {
    Enricher::new(enricher.components.clone(), rules::merge_rules(enricher.rules.clone(), added))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_takes_the_code_or_the_constant_words_and_the_closest_rule() {
        let enricher = Enricher::builtin();
        let spec =
            draft(&enricher, "MODEL_VOCODER_NAN: vocoder produced NaN at frame <N>", "vocoder produced NaN at frame 3");
        assert_eq!(spec.error_code.as_deref(), Some("MODEL_VOCODER_NAN"));
        assert!(spec.pattern.is_none());
        assert!(spec.id.starts_with("learned-model-vocoder-nan"), "{}", spec.id);
        let spec = draft(&enricher, "[flask] cannot reach shard <*> of <PATH> now", "cannot reach shard a of /x now");
        assert_eq!(spec.source.as_deref(), Some("flask"));
        assert_eq!(spec.pattern.as_deref(), Some("cannot reach shard.*of.*now"));
        let rule = rules::parse_rules(&to_toml(&spec).unwrap(), "t").unwrap();
        assert!(rule[0].pattern.as_ref().unwrap().is_match("Cannot reach shard beta of /srv/x now"));
    }

    #[test]
    fn append_keeps_a_backup_and_refuses_a_rule_that_does_not_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conf").join("rules.toml");
        let enricher = Enricher::builtin();
        let spec = draft(&enricher, "E_NEW: it broke at <N>", "it broke at 3");
        let (rules, kept) = append(&path, &spec).unwrap();
        assert_eq!((rules.len(), kept), (1, false));
        assert!(!backup_of(&path).exists(), "no previous file, no backup");
        let first = std::fs::read_to_string(&path).unwrap();
        let second = RuleSpec { id: "learned-other".into(), error_code: Some("E_OTHER".into()), ..spec.clone() };
        let (rules, kept) = append(&path, &second).unwrap();
        assert_eq!((rules.len(), kept), (2, true));
        assert_eq!(std::fs::read_to_string(backup_of(&path)).unwrap(), first);
        let bad = RuleSpec { id: "bad".into(), error_code: None, pattern: Some("(".into()), ..spec };
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(append(&path, &bad).unwrap_err().contains("not saved"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "untouched");
    }
}
