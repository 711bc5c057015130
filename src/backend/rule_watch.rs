//! Rule files watched while the console runs: a rule file edited by hand (or replaced by an
//! editor's save-by-rename) is read again and applied; a file that no longer reads keeps the rules
//! in force and says why, with the line and column the parser gives.
//!
//! Polled from the engine's refresh (at most once a second, a `stat` per file) rather than through
//! inotify: the files are few, the engine already wakes every 200 ms, and a poll sees a file that
//! appears, is replaced or sits on a network file system alike.

use crate::enrich::Enricher;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// How often the files are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// What identifies a version of a file: inode, length and modification time (absent: no file).
type Stamp = Option<(u64, u64, SystemTime)>;

/// Builds the whole rule base again from the files (the config's `enricher`).
pub type Rebuild = Box<dyn Fn() -> Result<Enricher, String> + Send>;

pub struct RuleWatch {
    paths: Vec<PathBuf>,
    stamps: Vec<Stamp>,
    rebuild: Rebuild,
    checked: Instant,
}

fn stamp(path: &std::path::Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.ino(), meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
}

/// What a look at the files found.
pub enum Reloaded {
    /// The files changed and read: the new rule base, and the files that changed.
    Rules(Box<Enricher>, Vec<PathBuf>),
    /// The files changed and do not read: the message (the previous rules stay in force).
    Failed(String),
}

impl RuleWatch {
    /// Watches `paths` as they are now (a path without a file is watched for its appearance).
    pub fn new(paths: Vec<PathBuf>, rebuild: Rebuild) -> RuleWatch {
        let stamps = paths.iter().map(|p| stamp(p)).collect();
        RuleWatch { paths, stamps, rebuild, checked: Instant::now() }
    }

    /// The files as they are now are the ones in force (after the console wrote one itself).
    pub fn restamp(&mut self) {
        self.stamps = self.paths.iter().map(|p| stamp(p)).collect();
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Looks at the files when a second has passed since the last look; `Some` when one changed.
    pub fn check(&mut self) -> Option<Reloaded> {
        if self.checked.elapsed() < EVERY {
            return None;
        }
        self.check_now()
    }

    /// Looks at the files now.
    pub fn check_now(&mut self) -> Option<Reloaded> {
        self.checked = Instant::now();
        let now: Vec<Stamp> = self.paths.iter().map(|p| stamp(p)).collect();
        let changed: Vec<PathBuf> = self
            .paths
            .iter()
            .zip(now.iter().zip(&self.stamps))
            .filter(|(_, (a, b))| a != b)
            .map(|(p, _)| p.clone())
            .collect();
        if changed.is_empty() {
            return None;
        }
        // a failed read is remembered too: the same broken file is reported once, not every second
        self.stamps = now;
        Some(match (self.rebuild)() {
            Ok(enricher) => Reloaded::Rules(Box::new(enricher), changed),
            Err(e) => Reloaded::Failed(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch_of(path: PathBuf) -> RuleWatch {
        let file = path.clone();
        RuleWatch::new(
            vec![path],
            Box::new(move || {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                let rules = crate::enrich::rules::parse_rules(&text, "rules.toml").map_err(|e| e.to_string())?;
                Ok(Enricher::new(crate::enrich::component::ComponentTable::new(&Default::default()), rules))
            }),
        )
    }

    #[test]
    fn a_change_is_seen_once_and_a_broken_file_is_said_once() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("rules.toml");
        let mut watch = watch_of(path.clone());
        assert!(watch.check_now().is_none(), "nothing changed yet");
        std::fs::write(&path, "").expect("write");
        assert!(matches!(watch.check_now(), Some(Reloaded::Rules(_, ref p)) if p == std::slice::from_ref(&path)));
        assert!(watch.check_now().is_none(), "the same file is not reloaded twice");
        std::fs::write(&path, "[[rule]]\nid = \"x\"\ncode = \n").expect("write");
        match watch.check_now() {
            Some(Reloaded::Failed(e)) => assert!(e.contains("line 3"), "{e}"),
            _ => panic!("a broken file is reported"),
        }
        assert!(watch.check_now().is_none(), "a broken file is said once");
        std::fs::remove_file(&path).expect("rm");
        assert!(watch.check_now().is_some(), "a removed file is a change");
        // at most once a second through `check`
        std::fs::write(&path, "").expect("write");
        assert!(watch.check().is_none());
        watch.restamp();
        assert!(watch.check_now().is_none(), "restamped: the console's own write is not a change");
    }
}
