//! The questions the screens ask, behind one interface: the overview of a window, the live tail,
//! the related lines of a video. The local backend answers from files through the engine; an
//! Elasticsearch backend answers the same questions with aggregations and searches.

pub mod cancel;
pub mod elastic;
pub mod local;

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
