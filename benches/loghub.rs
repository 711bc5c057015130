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
    let mut legacy_total = 0.0;
    for system in &systems {
        let mut ids: HashMap<String, u64> = HashMap::new();
        let predicted: Vec<u64> = system
            .messages
            .iter()
            .map(|m| {
                let next = ids.len() as u64;
                *ids.entry(legacy_template(m)).or_insert(next)
            })
            .collect();
        legacy_total += grouping_accuracy(&predicted, &system.truth);
    }
    println!("\n(before: word-by-word masking alone, average {:.3})", legacy_total / systems.len() as f64);
    let messages: usize = systems.iter().map(|s| s.messages.len()).sum();
    let rate = |work: &dyn Fn()| {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        let mut rounds = 0usize;
        while wall.elapsed() < Duration::from_secs(3) {
            work();
            rounds += 1;
        }
        let n = (rounds * messages) as f64;
        (n / wall.elapsed().as_secs_f64() / 1e6, n / (thread_cpu() - cpu).as_secs_f64().max(1e-9) / 1e6)
    };
    let (wall, cpu) = rate(&|| {
        for system in &systems {
            let mut miner = Miner::new(settings);
            for m in &system.messages {
                std::hint::black_box(miner.add(m, None));
            }
        }
    });
    println!("miner: {cpu:.2} million messages per CPU-second on one core ({wall:.2} million/s wall clock)");
    let (wall, cpu) = rate(&|| {
        for system in &systems {
            for m in &system.messages {
                std::hint::black_box(foley_triage::patterns::template(m));
            }
        }
    });
    println!("masking alone (patterns::template): {cpu:.2} million per CPU-second ({wall:.2} wall)");
    let (wall, cpu) = rate(&|| {
        for system in &systems {
            for m in &system.messages {
                std::hint::black_box(legacy_template(m));
            }
        }
    });
    println!("before (word-by-word template): {cpu:.2} million per CPU-second ({wall:.2} wall)");
}

/// The CPU time this thread has used (the machine may be shared: wall time would count the others).
fn thread_cpu() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec it is given
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The grouping before the miner (the word-by-word masking `patterns::template` had), for comparison.
fn legacy_template(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, word) in message.split(' ').filter(|w| !w.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let start = word.find(|c: char| c.is_alphanumeric() || c == '/' || c == '-' || c == '_').unwrap_or(word.len());
        let end = word
            .rfind(|c: char| c.is_alphanumeric() || c == '/' || c == '_')
            .map(|i| i + word[i..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(start)
            .max(start);
        out.push_str(&word[..start]);
        let core = &word[start..end];
        match legacy_classify(core) {
            Some(mask) => out.push_str(mask),
            None => match core.split_once('=') {
                // key=value: keep the key, mask the value
                Some((key, value)) if !key.is_empty() => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(legacy_classify(value).unwrap_or(if value.is_empty() { "" } else { "<*>" }));
                }
                _ => out.push_str(core),
            },
        }
        out.push_str(&word[end..]);
    }
    out
}
fn legacy_classify(word: &str) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    let b = word.as_bytes();
    if b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b',' | b':' | b'-' | b'+'))
        && b.iter().any(u8::is_ascii_digit)
    {
        return Some("<N>");
    }
    // a number with a unit: 2.4s, 300ms, 56GiB, 91%
    let digits = b.iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
    if digits > 0 && b[digits..].iter().all(u8::is_ascii_alphabetic) && b.len() - digits <= 3 {
        return Some("<N>");
    }
    if (word.starts_with("0x") || word.starts_with("0X")) && b.len() > 2 && b[2..].iter().all(u8::is_ascii_hexdigit) {
        return Some("<HEX>");
    }
    if word.contains('/') && (word.starts_with('/') || word.starts_with("./") || word.contains("://")) {
        return Some("<PATH>");
    }
    // ids: prefix_hex (vid_7a3b9c, req_0011aabb), uuids, long hex
    let hexish = |s: &str| {
        s.len() >= 6 && s.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') && s.bytes().any(|c| c.is_ascii_digit())
    };
    if let Some((_, tail)) = word.split_once('_')
        && hexish(tail)
    {
        return Some("<ID>");
    }
    if hexish(word) {
        return Some("<ID>");
    }
    None
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
