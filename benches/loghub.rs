//! Grouping accuracy and speed of the template miner on the Loghub-2k benchmark (Zhu et al., ICSE-SEIP
//! 2019). The data is never part of the project: give its directory as the first argument or in
//! `LOGHUB_DIR` (one sub-directory per system holding `<System>_2k.log_structured_corrected.csv`, or
//! `_structured.csv`). One setting (the miner's defaults) for every system.
//!
//! `cargo bench --bench loghub -- /path/to/loghub` prints one row per system, the average, and the
//! messages mined per second on one core.

use foley_triage::patterns::{Miner, Settings};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One system: its messages (the `Content` column) and their true template ids (`EventId`).
struct System {
    name: String,
    messages: Vec<String>,
    truth: Vec<String>,
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LOGHUB_DIR").map(PathBuf::from));
    let Some(dir) = dir else {
        eprintln!("loghub: no data (give the Loghub-2k directory as an argument or in LOGHUB_DIR); skipped");
        return;
    };
    let systems = match load_all(&dir) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => {
            eprintln!("loghub: no *_structured*.csv under {}", dir.display());
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("loghub: {e}");
            std::process::exit(2);
        }
    };
    let mut settings = Settings::default();
    // exploration only: the figures reported are with the defaults
    if let Some(s) = std::env::var("LOGHUB_SIMILARITY").ok().and_then(|v| v.parse().ok()) {
        settings.similarity = s;
    }
    if let Some(p) = std::env::var("LOGHUB_PREFIX").ok().and_then(|v| v.parse().ok()) {
        settings.prefix_tokens = p;
    }
    println!("| system | messages | true groups | found groups | grouping accuracy |");
    println!("|---|---:|---:|---:|---:|");
    let mut total = 0.0;
    for system in &systems {
        let mut miner = Miner::new(settings);
        let predicted: Vec<u64> = system.messages.iter().map(|m| miner.add(m, None).id).collect();
        let accuracy = grouping_accuracy(&predicted, &system.truth);
        let true_groups = system.truth.iter().collect::<std::collections::HashSet<_>>().len();
        println!(
            "| {} | {} | {} | {} | {:.3} |",
            system.name,
            system.messages.len(),
            true_groups,
            miner.len(),
            accuracy
        );
        if std::env::var_os("LOGHUB_VERBOSE").is_some() {
            explain(system, &predicted, &miner);
        }
        total += accuracy;
    }
    println!("| **average** | | | | **{:.3}** |", total / systems.len() as f64);
    let messages: usize = systems.iter().map(|s| s.messages.len()).sum();
    let mut mined = 0usize;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        for system in &systems {
            let mut miner = Miner::new(settings);
            for m in &system.messages {
                std::hint::black_box(miner.add(m, None));
            }
        }
        mined += messages;
    }
    let rate = mined as f64 / started.elapsed().as_secs_f64();
    println!("\nthroughput: {:.2} million messages/s on one core ({mined} messages)", rate / 1e6);
}

/// Zhu et al.: a message is correct when the messages of its predicted group are exactly the
/// messages of its true group.
fn grouping_accuracy(predicted: &[u64], truth: &[String]) -> f64 {
    let mut true_sizes: HashMap<&str, usize> = HashMap::new();
    for t in truth {
        *true_sizes.entry(t.as_str()).or_default() += 1;
    }
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, p) in predicted.iter().enumerate() {
        groups.entry(*p).or_default().push(i);
    }
    let mut correct = 0usize;
    for members in groups.values() {
        let label = truth[members[0]].as_str();
        if members.iter().all(|&i| truth[i] == label) && true_sizes.get(label) == Some(&members.len()) {
            correct += members.len();
        }
    }
    if truth.is_empty() { 1.0 } else { correct as f64 / truth.len() as f64 }
}

/// With LOGHUB_VERBOSE: the true groups that were split or merged, with their templates.
fn explain(system: &System, predicted: &[u64], miner: &Miner) {
    let mut by_truth: HashMap<&str, HashMap<u64, usize>> = HashMap::new();
    for (t, p) in system.truth.iter().zip(predicted) {
        *by_truth.entry(t).or_default().entry(*p).or_default() += 1;
    }
    let mut by_pred: HashMap<u64, HashMap<&str, usize>> = HashMap::new();
    for (t, p) in system.truth.iter().zip(predicted) {
        *by_pred.entry(*p).or_default().entry(t).or_default() += 1;
    }
    let text = |id: u64| miner.get(id).map(|t| t.text()).unwrap_or_default();
    for (truth, preds) in &by_truth {
        if preds.len() > 1 {
            println!("  split {truth}:");
            for (p, n) in preds {
                println!("     {n:5} {}", text(*p));
            }
        }
    }
    for (p, truths) in &by_pred {
        if truths.len() > 1 {
            println!("  merged {:?} into {}", truths, text(*p));
        }
    }
}

fn load_all(dir: &Path) -> Result<Vec<System>, String> {
    let mut systems = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for sub in entries {
        let name = sub.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let corrected = sub.join(format!("{name}_2k.log_structured_corrected.csv"));
        let plain = sub.join(format!("{name}_2k.log_structured.csv"));
        let file = if corrected.exists() { corrected } else { plain };
        if !file.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let rows = parse_csv(&text);
        let Some(header) = rows.first() else { continue };
        let column = |name: &str| header.iter().position(|h| h == name);
        let (Some(content), Some(event)) = (column("Content"), column("EventId")) else {
            return Err(format!("{}: no Content or EventId column", file.display()));
        };
        let mut system = System { name, messages: Vec::new(), truth: Vec::new() };
        for row in &rows[1..] {
            if let (Some(m), Some(t)) = (row.get(content), row.get(event)) {
                system.messages.push(m.clone());
                system.truth.push(t.clone());
            }
        }
        systems.push(system);
    }
    Ok(systems)
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
