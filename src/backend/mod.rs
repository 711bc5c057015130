//! The questions the screens ask, behind one interface: the overview of a window, the live tail,
//! the related lines of a video. The local backend answers from files through the engine; an
//! Elasticsearch backend answers the same questions with aggregations and searches.

pub mod cancel;
pub mod elastic;
pub mod local;
pub mod worker;

use crate::enrich::{Attribution, Enricher};
use crate::event::OwnedEvent;
use crate::stats::overview::{Explanation, Overview, VideoRow};

/// Everything known about one video, for the drill-down.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Related {
    pub video_id: String,
    /// Every related line from every source, in time order.
    pub events: Vec<OwnedEvent>,
    /// True when more lines matched than were kept.
    pub truncated: bool,
    pub explanation: Explanation,
    /// The video's row in the failure ranking, when it failed.
    pub row: Option<VideoRow>,
    /// Names of the inputs, by `Origin::file`.
    pub files: Vec<String>,
}

/// A window relative to the newest data: the last `span_ms`, or everything.
pub type Span = Option<i64>;

/// The data a console shows, wherever it comes from.
pub trait Backend: Send {
    /// One line naming the source(s), for the header.
    fn describe(&self) -> String;
    /// Reads whatever is new (live sources); returns notices for the status line.
    fn refresh(&mut self) -> Vec<String>;
    /// The overview of the window ending at the newest event.
    fn overview(&mut self, span: Span) -> Overview;
    /// Tail events with a sequence number above `after`, oldest first, at most `limit`.
    fn tail(&self, after: u64, limit: usize) -> Vec<(u64, OwnedEvent)>;
    /// Everything related to a video.
    fn related(&mut self, video_id: &str) -> Related;
    /// Lines read so far (for the events-per-second figure).
    fn lines_read(&self) -> u64;
    /// A handle that abandons the work in flight (for backends whose answers take a round trip);
    /// the console fires it when the view changes.
    fn canceller(&self) -> Option<cancel::Canceller> {
        None
    }
}

/// The explanation of a video's drill-down, from its related lines alone (so that files and a
/// cluster agree, whatever window or ranking is on screen): the rule of its latest failure (a line
/// with an error code; at the same millisecond, the rule listed first), else of its latest line
/// that a rule explained, else unknown.
pub fn explain_related(enricher: &Enricher, video_id: &str, events: &[OwnedEvent]) -> Explanation {
    let attribution = |e: &OwnedEvent| enricher.attribution_named(e.rule.as_deref());
    let mut latest: Option<(i64, Attribution)> = None;
    for e in events.iter().filter(|e| e.error_code.is_some() && e.video_id.as_deref() == Some(video_id)) {
        let at = e.ts_ms.unwrap_or(i64::MIN);
        let a = attribution(e);
        if crate::stats::explains_later(latest, at, a) {
            latest = Some((at, a));
        }
    }
    let attribution = match latest {
        Some((_, a)) => a,
        None => events
            .iter()
            .rev()
            .map(attribution)
            .find(|a| matches!(a, Attribution::Rule(_)))
            .unwrap_or(Attribution::Unknown),
    };
    Explanation::of(enricher, attribution)
}
