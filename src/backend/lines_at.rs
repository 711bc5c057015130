//! Reading back chosen lines of a file by their byte offsets (the id index's positions): positioned
//! reads of a small window from each offset (neighbouring offsets share one read), parsed through
//! the same pipeline as the first read, keeping only the events that start at a wanted offset.

use crate::enrich::{Enriched, Enricher};
use crate::event::{Event, Origin};
use crate::parse::Format;
use crate::pipeline::{EventSink, IngestSettings};
use crate::source::read;
use std::fs::File;

/// Bytes read from a wanted offset on: enough for a line with its traceback, almost always; a
/// line that does not fit is read again with room for the longest line.
const WINDOW: u64 = 16 * 1024;

/// What one read back needs to know about its input.
pub struct Input<'a> {
    pub file: &'a File,
    pub name: &'a str,
    pub index: u32,
    pub format: Option<Format>,
    pub enricher: &'a Enricher,
    pub settings: &'a IngestSettings,
}

/// Hands `sink` every event that starts at one of `offsets` (sorted) of the input, in offset
/// order. Offsets beyond the file's end (it shrank, or was replaced) are skipped.
pub fn read_lines_at(input: &Input<'_>, offsets: &[u64], sink: &mut dyn EventSink) {
    let len = input.file.metadata().map_or(0, |m| m.len());
    let mut missed: Vec<u64> = Vec::new();
    let mut i = 0;
    while i < offsets.len() {
        let from = offsets[i];
        if from >= len {
            break;
        }
        // the offsets whose windows overlap are read at once
        let mut j = i + 1;
        while j < offsets.len() && offsets[j] < offsets[j - 1] + WINDOW && offsets[j] < len {
            j += 1;
        }
        let to = (offsets[j - 1] + WINDOW).min(len);
        let wanted = &offsets[i..j];
        let mut found = vec![false; wanted.len()];
        read_window(input, (from, to, len), wanted, &mut found, sink);
        missed.extend(wanted.iter().zip(&found).filter(|(_, f)| !**f).map(|(o, _)| *o));
        i = j;
    }
    // a line longer than the window: read again with room for the longest line
    let room = input.settings.options.max_line as u64 + WINDOW;
    for offset in missed {
        let mut found = [false];
        read_window(input, (offset, (offset + room).min(len), len), &[offset], &mut found, sink);
    }
}

fn read_window(
    input: &Input<'_>,
    (from, to, len): (u64, u64, u64),
    wanted: &[u64],
    found: &mut [bool],
    sink: &mut dyn EventSink,
) {
    let mut ingestor = input.settings.ingestor(input.enricher, input.format, input.index);
    let last = wanted.last().copied().unwrap_or(0);
    let mut keep = |event: &Event<'_>, enriched: &Enriched, origin: Origin, raw: &[u8]| {
        if let Ok(k) = wanted.binary_search(&origin.offset) {
            // the window's last line may be cut at its end: only taken when the window reached
            // its end (the next line began inside it)
            let complete = origin.offset < last || to >= len || origin.offset + (raw.len() as u64) < to;
            if complete && !found[k] {
                found[k] = true;
                sink.event(event, enriched, origin, raw);
            }
        }
    };
    read::read_range(&mut ingestor, input.file, input.name, from, to, &mut keep);
}
