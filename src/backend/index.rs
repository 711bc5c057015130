//! The id index: for every `video_id` and `request_id` seen while the logs are read, where its
//! lines are (input number and byte offset), so that a drill-down reads only that id's lines with
//! positioned reads instead of rescanning every file.
//!
//! Memory is what makes it affordable on gigabytes of logs, so nothing per line is a pointer or a
//! string:
//! - an id is kept as a 64-bit hash of its text (the reader of the lines checks the id, so a
//!   collision costs a wasted read, never a wrong answer);
//! - a position is `input << 40 | offset` (inputs up to 2²⁴, files up to 1 TiB);
//! - the positions of one id are sorted and delta-encoded as LEB128 varints into one shared byte
//!   array; a sorted array of (hash, start) finds them by binary search (12 bytes per id).
//!
//! Lines are added in batches ([`IndexBuilder`], one per reader thread) that are sorted and packed
//! when they grow, then merged ([`IdIndex::absorb`]); lines appended later (files followed live)
//! go to a small unpacked tier that is packed in when it grows. [`IdIndex::heap_bytes`] is the
//! resident size, for the bytes-per-line figure.

use crate::event::Event;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hasher;

/// Bits of a position that hold the byte offset.
const OFFSET_BITS: u32 = 40;
/// Positions a builder collects before it packs them.
const BATCH: usize = 1 << 20;
/// Positions of the live tier before it is packed into the rest.
const LIVE_LIMIT: usize = 1 << 18;

/// The hash an id is indexed under.
pub fn id_hash(id: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(id.as_bytes());
    // spread the bits (FxHasher's low bits are weak for short texts)
    let mut x = hasher.finish() ^ (id.len() as u64).rotate_left(32);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// A line's place: input number and byte offset of its first byte.
pub fn position(file: u32, offset: u64) -> u64 {
    ((file as u64) << OFFSET_BITS) | (offset & ((1 << OFFSET_BITS) - 1))
}

/// The input number and byte offset of a position.
pub fn split_position(position: u64) -> (u32, u64) {
    ((position >> OFFSET_BITS) as u32, position & ((1 << OFFSET_BITS) - 1))
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        value |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    None
}

/// Sorted ids with their delta-encoded positions.
#[derive(Debug, Default, Clone)]
struct Packed {
    /// (hash, start of its positions in `postings`), sorted by hash; one entry per id.
    keys: Vec<(u64, u32)>,
    /// Per id: the count of positions, then each position as the delta from the one before.
    postings: Vec<u8>,
}

impl Packed {
    /// Packs (hash, position) pairs (sorted here).
    fn from_pairs(pairs: &mut [(u64, u64)]) -> Packed {
        pairs.sort_unstable();
        let mut packed = Packed::default();
        let mut i = 0;
        while i < pairs.len() {
            let hash = pairs[i].0;
            let mut j = i;
            while j < pairs.len() && pairs[j].0 == hash {
                j += 1;
            }
            let mut positions: Vec<u64> = pairs[i..j].iter().map(|p| p.1).collect();
            positions.dedup();
            packed.push(hash, &positions);
            i = j;
        }
        packed
    }

    fn push(&mut self, hash: u64, positions: &[u64]) {
        let start = self.postings.len() as u32;
        self.keys.push((hash, start));
        put_varint(&mut self.postings, positions.len() as u64);
        let mut last = 0;
        for &p in positions {
            put_varint(&mut self.postings, p - last);
            last = p;
        }
    }

    fn positions_at(&self, start: u32, out: &mut Vec<u64>) {
        let mut at = start as usize;
        let Some(count) = get_varint(&self.postings, &mut at) else { return };
        let mut last = 0u64;
        for _ in 0..count {
            let Some(delta) = get_varint(&self.postings, &mut at) else { return };
            last += delta;
            out.push(last);
        }
    }

    fn positions(&self, hash: u64, out: &mut Vec<u64>) {
        if let Ok(i) = self.keys.binary_search_by_key(&hash, |k| k.0) {
            self.positions_at(self.keys[i].1, out);
        }
    }

    /// Merges packed parts into one (positions of an id found in several are sorted together).
    fn merge(parts: Vec<Packed>) -> Packed {
        if parts.len() == 1 {
            return parts.into_iter().next().unwrap_or_default();
        }
        let mut merged = Packed {
            keys: Vec::with_capacity(parts.iter().map(|p| p.keys.len()).max().unwrap_or(0)),
            postings: Vec::with_capacity(parts.iter().map(|p| p.postings.len()).sum()),
        };
        // a min-heap of (hash, part, key index)
        let mut heap: BinaryHeap<std::cmp::Reverse<(u64, usize, usize)>> = BinaryHeap::new();
        for (p, part) in parts.iter().enumerate() {
            if let Some(k) = part.keys.first() {
                heap.push(std::cmp::Reverse((k.0, p, 0)));
            }
        }
        let mut positions: Vec<u64> = Vec::new();
        while let Some(std::cmp::Reverse((hash, p, k))) = heap.pop() {
            parts[p].positions_at(parts[p].keys[k].1, &mut positions);
            if let Some(next) = parts[p].keys.get(k + 1) {
                heap.push(std::cmp::Reverse((next.0, p, k + 1)));
            }
            if heap.peek().is_some_and(|std::cmp::Reverse((h, _, _))| *h == hash) {
                continue; // more of this id in another part
            }
            positions.sort_unstable();
            positions.dedup();
            merged.push(hash, &positions);
            positions.clear();
        }
        merged.keys.shrink_to_fit();
        merged.postings.shrink_to_fit();
        merged
    }

    fn heap_bytes(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<(u64, u32)>() + self.postings.capacity()
    }
}

/// Collects the ids of the lines one reader thread reads; [`IdIndex::absorb`] takes it in.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    pending: Vec<(u64, u64)>,
    parts: Vec<Packed>,
    lines: u64,
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Records the ids of one event that starts at `offset` of input `file`.
    #[inline]
    pub fn add_event(&mut self, event: &Event<'_>, file: u32, offset: u64) {
        self.lines += 1;
        let at = position(file, offset);
        if let Some(v) = event.video_id.as_deref() {
            self.add(id_hash(v), at);
        }
        if let Some(r) = event.request_id.as_deref() {
            self.add(id_hash(r), at);
        }
    }

    #[inline]
    fn add(&mut self, hash: u64, at: u64) {
        self.pending.push((hash, at));
        if self.pending.len() >= BATCH {
            self.parts.push(Packed::from_pairs(&mut self.pending));
            self.pending.clear();
        }
    }

    fn finish(mut self) -> (Vec<Packed>, u64) {
        if !self.pending.is_empty() {
            self.parts.push(Packed::from_pairs(&mut self.pending));
        }
        (self.parts, self.lines)
    }
}

impl crate::pipeline::EventSink for IndexBuilder {
    #[inline]
    fn event(&mut self, event: &Event<'_>, _: &crate::enrich::Enriched, origin: crate::event::Origin, _: &[u8]) {
        self.add_event(event, origin.file, origin.offset);
    }
}

/// The positions of every id's lines (see the module's documentation).
#[derive(Debug, Default)]
pub struct IdIndex {
    packed: Packed,
    /// Lines added one by one since the last packing (files followed live).
    live: HashMap<u64, Vec<u64>, rustc_hash::FxBuildHasher>,
    live_positions: usize,
    /// Lines seen (with or without an id), for the bytes-per-line figure.
    lines: u64,
}

impl IdIndex {
    pub fn new() -> IdIndex {
        IdIndex::default()
    }

    /// Takes in what builders collected.
    pub fn absorb(&mut self, builders: Vec<IndexBuilder>) {
        let mut parts = vec![std::mem::take(&mut self.packed)];
        for builder in builders {
            let (more, lines) = builder.finish();
            parts.extend(more);
            self.lines += lines;
        }
        parts.retain(|p| !p.keys.is_empty());
        self.packed = Packed::merge(parts);
    }

    /// Records the ids of one event read later (a followed file's new line).
    pub fn add_event(&mut self, event: &Event<'_>, file: u32, offset: u64) {
        self.lines += 1;
        let at = position(file, offset);
        for id in [event.video_id.as_deref(), event.request_id.as_deref()].into_iter().flatten() {
            self.live.entry(id_hash(id)).or_default().push(at);
            self.live_positions += 1;
        }
        if self.live_positions >= LIVE_LIMIT {
            let mut pairs: Vec<(u64, u64)> =
                self.live.drain().flat_map(|(h, ps)| ps.into_iter().map(move |p| (h, p))).collect();
            self.live_positions = 0;
            let fresh = Packed::from_pairs(&mut pairs);
            self.packed = Packed::merge(vec![std::mem::take(&mut self.packed), fresh]);
        }
    }

    /// The positions of the lines of `id` (input, offset), sorted; may hold a few of other ids
    /// whose hash is the same (the caller checks each line).
    pub fn lookup(&self, id: &str) -> Vec<(u32, u64)> {
        let hash = id_hash(id);
        let mut positions = Vec::new();
        self.packed.positions(hash, &mut positions);
        if let Some(more) = self.live.get(&hash) {
            positions.extend_from_slice(more);
            positions.sort_unstable();
            positions.dedup();
        }
        positions.into_iter().map(split_position).collect()
    }

    /// Distinct ids indexed (packed ones; live ones may repeat them).
    pub fn ids(&self) -> usize {
        self.packed.keys.len() + self.live.len()
    }

    /// Lines the index has seen.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Resident bytes of the index (its arrays' capacities; the live tier estimated).
    pub fn heap_bytes(&self) -> usize {
        let live: usize = self.live.values().map(|v| v.capacity() * 8 + 8 + 24 + 8).sum();
        self.packed.heap_bytes() + live
    }

    /// Resident bytes per line read.
    pub fn bytes_per_line(&self) -> f64 {
        if self.lines == 0 { 0.0 } else { self.heap_bytes() as f64 / self.lines as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 1 << 40, u64::MAX >> 1] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut at = 0;
            assert_eq!(get_varint(&out, &mut at), Some(v));
            assert_eq!(at, out.len());
        }
    }

    #[test]
    fn parts_merge_with_positions_sorted() {
        let mut a = vec![(5, 30), (1, 10), (5, 3)];
        let mut b = vec![(5, 4), (2, 7)];
        let merged = Packed::merge(vec![Packed::from_pairs(&mut a), Packed::from_pairs(&mut b)]);
        let mut out = Vec::new();
        merged.positions(5, &mut out);
        assert_eq!(out, vec![3, 4, 30]);
        out.clear();
        merged.positions(9, &mut out);
        assert!(out.is_empty());
        assert_eq!(merged.keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 2, 5]);
    }

    #[test]
    fn positions_split_back() {
        assert_eq!(split_position(position(7, 123_456_789_012)), (7, 123_456_789_012));
    }
}
