//! The arrows that must never exist (ARCHITECTURE.md), checked on the source text: a module that
//! names a room it must not know fails here, with the file and the line.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level rooms a file names: `crate::room` anywhere, and the rooms of `use crate::{a, b::c}`.
fn rooms_named(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or_default();
                for item in inner.split(',') {
                    let room: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !room.is_empty() {
                        out.push((n + 1, room));
                    }
                }
            } else {
                let room: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.push((n + 1, room));
            }
        }
    }
    out
}

fn violations(dirs: &[&str], forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in dirs {
        let path = root.join(dir);
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
    }
    assert!(!files.is_empty(), "no files under {dirs:?}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, room) in rooms_named(&text) {
            if forbidden.contains(&room.as_str()) {
                found.push(format!("{}:{line} names crate::{room}", file.display()));
            }
        }
    }
    found
}

#[test]
fn the_checker_sees_every_way_of_naming_a_room() {
    let text = "use crate::{source::read, tui};\nlet x = crate::elastic::Client::new(); // crate::simulate\n";
    let rooms: Vec<String> = rooms_named(text).into_iter().map(|(_, r)| r).collect();
    assert_eq!(rooms, ["source", "tui", "elastic"]);
}

#[test]
fn the_engine_knows_no_screen() {
    let below = [
        "backend",
        "source",
        "pipeline.rs",
        "parse",
        "stats",
        "enrich",
        "elastic",
        "event.rs",
        "alerts",
        "patterns",
        "query",
        "notify",
    ];
    let found = violations(&below, &["tui"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_ui_does_no_io_and_reads_no_raw_lines() {
    let found = violations(&["tui"], &["source", "elastic", "simulate", "pipeline"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_event_model_depends_on_text_helpers_only() {
    let all = [
        "backend",
        "source",
        "pipeline",
        "parse",
        "stats",
        "enrich",
        "elastic",
        "alerts",
        "patterns",
        "query",
        "notify",
        "tui",
        "integrate",
        "simulate",
        "config",
        "commands",
        "demo",
    ];
    let found = violations(&["event.rs"], &all);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn statistics_and_parsers_never_read_files_or_servers() {
    let found = violations(&["stats", "parse", "pipeline.rs"], &["source", "elastic", "backend", "simulate"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}
