//! The live tail both backends keep: a ring of the most recent events, each with a sequence
//! number, so that the engine can hand the console only what is new.

use super::worker::TAIL_CAPACITY;
use crate::event::OwnedEvent;
use std::collections::VecDeque;

/// The most recent [`TAIL_CAPACITY`] events, numbered from 1 in arrival order.
#[derive(Debug, Clone)]
pub struct TailRing {
    events: VecDeque<(u64, OwnedEvent)>,
    next_seq: u64,
}

impl Default for TailRing {
    fn default() -> Self {
        TailRing::new()
    }
}

impl TailRing {
    pub const CAPACITY: usize = TAIL_CAPACITY;

    pub fn new() -> TailRing {
        TailRing { events: VecDeque::new(), next_seq: 1 }
    }

    pub fn capacity(&self) -> usize {
        Self::CAPACITY
    }

    /// Adds an event, dropping the oldest when full.
    pub fn push(&mut self, event: OwnedEvent) {
        if self.events.len() >= Self::CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back((self.next_seq, event));
        self.next_seq += 1;
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The newest event, if any.
    pub fn last(&self) -> Option<&OwnedEvent> {
        self.events.back().map(|(_, e)| e)
    }

    /// Events numbered above `after`, oldest first, at most the newest `limit` of them.
    pub fn since(&self, after: u64, limit: usize) -> Vec<(u64, OwnedEvent)> {
        let fresh = self.events.iter().rev().take_while(|(seq, _)| *seq > after).count();
        let take = fresh.min(limit);
        self.events.iter().skip(self.events.len() - take).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u64) -> OwnedEvent {
        let e = crate::event::Event { message: std::borrow::Cow::Owned(n.to_string()), ..Default::default() };
        OwnedEvent::from_event(&e, &n.to_string(), crate::event::Origin::default(), "c", None)
    }

    #[test]
    fn since_hands_on_only_the_new_and_at_most_the_limit() {
        let mut ring = TailRing::new();
        for n in 0..10 {
            ring.push(event(n));
        }
        let all = ring.since(0, 100);
        assert_eq!(all.len(), 10);
        assert_eq!(all[0].0, 1);
        let newer = ring.since(7, 100);
        assert_eq!(newer.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![8, 9, 10]);
        let limited = ring.since(0, 2);
        assert_eq!(limited.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![9, 10]);
        for n in 0..TailRing::CAPACITY as u64 {
            ring.push(event(n));
        }
        assert_eq!(ring.len(), TailRing::CAPACITY);
    }
}
