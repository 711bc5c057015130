//! Noticing change: `notify` watches on the followed names' directories, and a polling timer for
//! what sends no events (network filesystems, or when watches run out); change events in a burst
//! are gathered into one poll.

use super::{Follower, NoticeKind};
use rustc_hash::FxHashSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Change events queued beyond this many are dropped (a rescan is due anyway).
const MAX_EVENTS_DRAINED: usize = 100_000;
/// After a change event, further events are gathered for this long, so that a burst makes one poll.
const COALESCE: Duration = Duration::from_millis(5);
/// The shortest poll interval used (a zero interval would spin).
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// The `notify` watcher and the change events it sends.
pub(super) struct Watch {
    watcher: notify::RecommendedWatcher,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    watched: FxHashSet<PathBuf>,
    /// Adding a watch failed for lack of resources: no more are tried (polling covers the rest).
    full: bool,
}

impl Watch {
    pub(super) fn new() -> notify::Result<Watch> {
        let (sender, events) = mpsc::channel();
        let watcher = notify::recommended_watcher(sender)?;
        Ok(Watch { watcher, events, watched: FxHashSet::default(), full: false })
    }
}

/// Whether adding a watch failed for lack of kernel resources (inotify watches or instances).
pub(super) fn out_of_watches(error: &notify::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    const ENOSPC: i32 = 28;
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => matches!(io.raw_os_error(), Some(ENFILE | EMFILE | ENOSPC)),
        _ => false,
    }
}

/// Whether a change event may mean names changed (rather than data appended).
fn names_may_have_changed(event: &notify::Event) -> bool {
    use notify::EventKind;
    use notify::event::ModifyKind;
    !matches!(event.kind, EventKind::Modify(ModifyKind::Data(_)) | EventKind::Access(_))
}

impl Follower {
    pub(super) fn interval(&self) -> Duration {
        self.options.poll_interval.max(MIN_POLL_INTERVAL)
    }

    pub(super) fn polling_message(&self, why: &str) -> String {
        format!("cannot watch for changes ({why}); checking every {} ms instead", self.interval().as_millis())
    }

    /// Blocks until something may have changed (a change event, or the poll interval elapsed).
    pub fn wait(&mut self) {
        if self.more_pending {
            return;
        }
        let interval = self.interval();
        let Some(watch) = self.watch.as_mut() else {
            std::thread::sleep(interval);
            return;
        };
        let mut events = Vec::new();
        match watch.events.recv_timeout(interval) {
            Ok(event) => {
                events.push(event);
                // a burst makes one poll
                let until = Instant::now() + COALESCE;
                while events.len() < MAX_EVENTS_DRAINED {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match watch.events.recv_timeout(left) {
                        Ok(event) => events.push(event),
                        Err(_) => break,
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.watch = None;
                let message = self.polling_message("the watcher stopped");
                let path = self.main_path.clone();
                self.notice(&path, NoticeKind::Error, message);
                std::thread::sleep(interval);
            }
        }
        for event in &events {
            self.note_event(event);
        }
    }

    /// Takes the change events queued (a caller may poll without waiting) and notes them.
    pub(super) fn drain_events(&mut self) {
        let Some(watch) = self.watch.as_mut() else { return };
        let events: Vec<_> = watch.events.try_iter().take(MAX_EVENTS_DRAINED).collect();
        if events.len() == MAX_EVENTS_DRAINED {
            // events left queued are dropped: every name is looked at
            while watch.events.try_recv().is_ok() {}
            self.rescan_due = true;
            self.all_due = true;
        }
        for event in &events {
            self.note_event(event);
        }
    }

    /// Marks the names an event concerns as due. Events that may mean names changed call for a
    /// rescan of directories and globs; lost events, for a look at every name.
    fn note_event(&mut self, event: &notify::Result<notify::Event>) {
        let Ok(event) = event else {
            self.rescan_due = true;
            self.all_due = true;
            return;
        };
        if event.need_rescan() {
            self.rescan_due = true;
            self.all_due = true;
        }
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        self.rescan_due |= names_may_have_changed(event);
        for path in &event.paths {
            if let Some(&i) = self.by_event_path.get(path)
                && let Some(slot) = self.slots.get_mut(i)
            {
                slot.due = true;
            }
        }
    }

    /// Watches the directories not watched yet; when watches run out, says so and relies on polling.
    pub(super) fn watch_dirs(&mut self, dirs: Vec<PathBuf>) {
        let mut failure = None;
        if let Some(watch) = self.watch.as_mut() {
            for dir in dirs {
                if watch.full || watch.watched.contains(&dir) {
                    continue;
                }
                use notify::Watcher;
                match watch.watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        watch.watched.insert(dir);
                    }
                    // out of inotify watches or instances: polling only from now on
                    Err(e) if out_of_watches(&e) => {
                        watch.full = true;
                        failure = Some(e.to_string());
                    }
                    // a directory that does not exist yet (or cannot be watched) is tried again at
                    // the next rescan; polling covers it meanwhile
                    Err(_) => {}
                }
            }
        }
        if let Some(why) = failure {
            let message = self.polling_message(&why);
            let path = self.main_path.clone();
            self.notice(&path, NoticeKind::Error, message);
        }
    }
}
