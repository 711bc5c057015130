//! What the user named — files (which may not exist yet), named pipes, directories and globs —
//! resolved into the names to follow; new files in a directory and new matches of a glob are
//! picked up.

use super::{Follower, Slot, State};
use crate::source::looks_like_log;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

pub(super) enum SpecKind {
    File,
    Dir,
    Glob,
}

pub(super) struct Spec {
    pub(super) text: String,
    pub(super) kind: SpecKind,
}

impl Follower {
    /// Adds a slot for a name not followed yet.
    pub(super) fn add_slot(&mut self, path: PathBuf, named: bool) {
        if let Some(&i) = self.by_path.get(&path) {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.named |= named;
            }
            return;
        }
        self.by_path.insert(path.clone(), self.slots.len());
        self.by_event_path.insert(event_key(&path), self.slots.len());
        self.paths.push(path.clone());
        self.slots.push(Slot {
            path,
            named,
            initial: !self.started,
            state: State::Missing,
            retiring: Vec::new(),
            waiting: false,
            last_error: None,
            due: true,
            more: false,
            floor: None,
        });
    }

    /// Finds the names to follow (new files in directories, new glob matches) and watches their
    /// directories.
    pub(super) fn rescan(&mut self) {
        self.rescan_due = false;
        self.last_rescan = Instant::now();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut found: Vec<(PathBuf, bool)> = Vec::new();
        for spec in &self.specs {
            let path = Path::new(&spec.text);
            match spec.kind {
                SpecKind::File => {
                    dirs.push(parent_dir(path));
                    found.push((path.to_path_buf(), true));
                }
                SpecKind::Dir => {
                    dirs.push(path.to_path_buf());
                    let Ok(entries) = std::fs::read_dir(path) else { continue };
                    // names followed already stay as they are: only new ones are sorted and added
                    let mut names: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| !self.by_path.contains_key(p) && looks_like_log(p) && p.is_file())
                        .collect();
                    names.sort();
                    found.extend(names.into_iter().map(|p| (p, false)));
                }
                SpecKind::Glob => {
                    dirs.push(glob_base(&spec.text));
                    let Ok(paths) = glob::glob(&spec.text) else { continue };
                    let mut names: Vec<PathBuf> = Vec::new();
                    for p in paths.filter_map(Result::ok) {
                        let known = self.by_path.contains_key(&p);
                        if known || p.is_file() {
                            dirs.push(parent_dir(&p));
                        }
                        if !known && p.is_file() {
                            names.push(p);
                        }
                    }
                    names.sort();
                    found.extend(names.into_iter().map(|p| (p, false)));
                }
            }
        }
        for (path, named) in found {
            self.add_slot(path, named);
        }
        self.watch_dirs(dirs);
    }
}

/// The path change events name the file at `path` with: its directory made absolute (as the
/// watcher makes it, without resolving links) and its name.
pub(super) fn event_key(path: &Path) -> PathBuf {
    let dir = parent_dir(path);
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// The directory a file's name lives in (`.` for a bare name).
pub(super) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The directory part of a glob before its first wildcard.
pub(super) fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for component in Path::new(pattern).components() {
        if let Component::Normal(part) = component
            && part.to_string_lossy().contains(['*', '?', '['])
        {
            break;
        }
        base.push(component);
    }
    if base.as_os_str().is_empty() { PathBuf::from(".") } else { base }
}
