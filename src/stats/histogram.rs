//! A mergeable latency histogram with log-linear bins (16 per power of two, so a percentile is
//! within about 3 % of the true value), plus exact count, sum, min and max. Constant memory whatever
//! the number of samples; merging two histograms is adding their bins.

use serde::Serialize;

const SUB_BITS: u32 = 4;
const SUB_BINS: usize = 1 << SUB_BITS;
/// Smallest distinguished value: 2^-10 ms (about 1 µs); largest: 2^30 ms (about 12 days).
const MIN_EXP: i32 = -10;
const MAX_EXP: i32 = 30;
const BINS: usize = ((MAX_EXP - MIN_EXP) as usize) * SUB_BINS + 1;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Empty until the first sample, so that an unused histogram costs nothing.
    bins: Vec<u32>,
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

#[inline]
pub fn bin_of(value: f64) -> usize {
    if value.is_nan() || value < 1.0 / 1024.0 {
        return 0; // also NaN and negatives
    }
    let bits = value.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    if exp >= MAX_EXP {
        return BINS - 1;
    }
    let sub = ((bits >> (52 - SUB_BITS)) & (SUB_BINS as u64 - 1)) as usize;
    1 + (exp - MIN_EXP) as usize * SUB_BINS + sub
}

/// A representative value of a bin: its geometric middle.
fn value_of(bin: usize) -> f64 {
    if bin == 0 {
        return 0.0;
    }
    let i = bin - 1;
    let exp = (i / SUB_BINS) as i32 + MIN_EXP;
    let sub = (i % SUB_BINS) as f64;
    let low = 2f64.powi(exp) * (1.0 + sub / SUB_BINS as f64);
    let high = 2f64.powi(exp) * (1.0 + (sub + 1.0) / SUB_BINS as f64);
    (low * high).sqrt()
}

impl Histogram {
    #[inline]
    pub fn record(&mut self, value_ms: f64) {
        if !value_ms.is_finite() || value_ms < 0.0 {
            return;
        }
        if self.bins.is_empty() {
            self.bins = vec![0; BINS];
            self.min = value_ms;
            self.max = value_ms;
        }
        // a bin counts at most the events of its bucket, which stops counting before any count
        // could wrap (see `Stats::record_at`); merges saturate
        self.bins[bin_of(value_ms)] += 1;
        self.count += 1;
        self.sum += value_ms;
        self.min = self.min.min(value_ms);
        self.max = self.max.max(value_ms);
    }

    /// Rebuilds a histogram from bin counts (as stored by `ship` and counted by an aggregation).
    pub fn from_bins(bins: &[(usize, u64)], sum: f64, min: f64, max: f64) -> Histogram {
        let mut h = Histogram::default();
        for (bin, n) in bins {
            if *n == 0 || *bin >= BINS {
                continue;
            }
            if h.bins.is_empty() {
                h.bins = vec![0; BINS];
            }
            h.bins[*bin] = h.bins[*bin].saturating_add(u32::try_from(*n).unwrap_or(u32::MAX));
            h.count = h.count.saturating_add(*n);
        }
        if h.count > 0 {
            h.sum = sum;
            h.min = min;
            h.max = max;
        }
        h
    }

    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            *a = a.saturating_add(*b);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The value below which a fraction `q` (0..=1) of the samples fall.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (bin, &n) in self.bins.iter().enumerate() {
            seen += n as u64;
            if seen >= rank {
                return Some(value_of(bin).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            avg: self.mean(),
            p50: self.percentile(0.50),
            p95: self.percentile(0.95),
            p99: self.percentile(0.99),
            max: (self.count > 0).then_some(self.max),
        }
    }
}

/// Average and percentiles in milliseconds (`None` without samples).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub avg: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_are_close() {
        let mut h = Histogram::default();
        for i in 1..=1000 {
            h.record(i as f64);
        }
        let p95 = h.percentile(0.95).expect("samples");
        assert!((p95 - 950.0).abs() / 950.0 < 0.04, "{p95}");
        assert_eq!(h.mean(), Some(500.5));
        assert_eq!(h.percentile(1.0), Some(1000.0f64.min(value_of(bin_of(1000.0)))).map(|v| v.clamp(1.0, 1000.0)));
    }

    #[test]
    fn empty_and_hostile_values() {
        let mut h = Histogram::default();
        assert_eq!(h.percentile(0.5), None);
        h.record(f64::NAN);
        h.record(-1.0);
        h.record(f64::INFINITY);
        assert!(h.is_empty());
        h.record(0.0);
        h.record(1e15);
        assert_eq!(h.count, 2);
    }

    proptest! {
        #[test]
        fn merge_equals_recording_everything(a in prop::collection::vec(0.0f64..1e6, 0..200), b in prop::collection::vec(0.0f64..1e6, 0..200)) {
            let mut left = Histogram::default();
            a.iter().for_each(|v| left.record(*v));
            let mut right = Histogram::default();
            b.iter().for_each(|v| right.record(*v));
            let mut all = Histogram::default();
            a.iter().chain(&b).for_each(|v| all.record(*v));
            left.merge(&right);
            prop_assert_eq!(left.count, all.count);
            prop_assert_eq!(left.percentile(0.95), all.percentile(0.95));
            prop_assert!((left.sum - all.sum).abs() < 1e-6 * all.sum.max(1.0));
        }

        #[test]
        fn percentile_within_relative_error(values in prop::collection::vec(0.01f64..1e7, 1..300), q in 0.0f64..1.0) {
            let mut h = Histogram::default();
            values.iter().for_each(|v| h.record(*v));
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let rank = ((q * sorted.len() as f64).ceil() as usize).max(1) - 1;
            let exact = sorted[rank];
            let estimate = h.percentile(q).expect("samples");
            prop_assert!((estimate - exact).abs() <= exact * 0.035 + 1e-9, "q={} exact={} estimate={}", q, exact, estimate);
        }
    }
}
