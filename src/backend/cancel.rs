//! Cancelling the backend's work in flight when the console's view changes.
//!
//! The UI thread calls [`Canceller::cancel`] when it asks for a new window or a new drill-down; the
//! engine calls [`Canceller::begin`] before each unit of work and drops results that went stale
//! meanwhile ([`Canceller::is_stale`]). A backend that talks to a server races its request against
//! [`Canceller::cancelled`], so that the request on the wire is abandoned (its connection closed,
//! which makes Elasticsearch cancel the search task) instead of being waited for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Shared {
    /// Bumped by every cancel.
    epoch: AtomicU64,
    /// The epoch the current unit of work began in.
    begun: AtomicU64,
    notify: Notify,
}

/// A cheap, cloneable handle shared by the UI, the engine and the backend.
#[derive(Debug, Clone, Default)]
pub struct Canceller(Arc<Shared>);

impl Canceller {
    pub fn new() -> Canceller {
        Canceller::default()
    }

    /// The work begun so far is stale: abandon it.
    pub fn cancel(&self) {
        self.0.epoch.fetch_add(1, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Marks the start of a unit of work; returns its epoch for [`Canceller::is_stale`].
    pub fn begin(&self) -> u64 {
        let epoch = self.0.epoch.load(Ordering::SeqCst);
        self.0.begun.store(epoch, Ordering::SeqCst);
        epoch
    }

    /// True when a cancel came after the work of `epoch` began.
    pub fn is_stale(&self, epoch: u64) -> bool {
        self.0.epoch.load(Ordering::SeqCst) != epoch
    }

    /// True when the current unit of work has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.epoch.load(Ordering::SeqCst) != self.0.begun.load(Ordering::SeqCst)
    }

    /// Completes when the current unit of work is cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            let mut notified = std::pin::pin!(notified);
            // registered before the check, so that a cancel between the two is not missed
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_cancel_makes_the_begun_work_stale_and_the_next_begin_fresh() {
        let c = Canceller::new();
        let epoch = c.begin();
        assert!(!c.is_stale(epoch) && !c.is_cancelled());
        c.cancel();
        assert!(c.is_stale(epoch) && c.is_cancelled());
        let next = c.begin();
        assert!(!c.is_stale(next) && !c.is_cancelled());
    }

    #[test]
    fn cancelled_wakes_a_waiter_from_another_thread() {
        let c = Canceller::new();
        c.begin();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let other = c.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.cancel();
        });
        let woke =
            runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), c.cancelled()).await.is_ok() });
        canceller.join().unwrap();
        assert!(woke, "the waiter was not woken by the cancel");
    }
}
