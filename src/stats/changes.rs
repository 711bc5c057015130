//! What changed: the templates and codes of a window against a baseline window (by default the same
//! length just before it): new, gone, or whose rate rose or fell by more than a factor, sorted by
//! impact (lines more or fewer than the baseline's rate predicts). Small counts are guarded: a row
//! needs `min_count` lines on one side to be listed, so 1 → 3 is not "×3".

use super::Stats;
use super::overview::Window;
use super::template_rows::{ChangeRow, PatternOptions, group, keys_of};
use rustc_hash::FxHashMap;

/// The length of a closed window in milliseconds (`None` when an end is open).
pub(super) fn length(window: Window) -> Option<i64> {
    Some(window.to_ms? - window.from_ms? + 1).filter(|l| *l > 0)
}

/// The baseline of a window: the same length just before it (`None` when an end is open).
pub fn baseline_before(window: Window) -> Option<Window> {
    let len = length(window)?;
    let from = window.from_ms?;
    Some(Window { from_ms: Some(from - len), to_ms: Some(from - 1) })
}

/// True when the baseline ends before `first_ms`, the data's first time (or there is none): it
/// holds no data, and everything would read as new.
pub fn baseline_before_first(first_ms: Option<i64>, baseline: Window) -> bool {
    matches!((first_ms, baseline.to_ms), (Some(first), Some(to)) if to < first) || first_ms.is_none()
}

/// The note of a baseline that holds no data.
pub fn baseline_note(first_ms: Option<i64>) -> String {
    let first = first_ms.map(crate::clock::format_ms).unwrap_or_else(|| "-".into());
    format!("the baseline holds no data (the data starts at {first}): nothing compared; :baseline FROM TO")
}

/// The part of the baseline that has data: it starts no earlier than the data's first time (a
/// baseline reaching back before the data would count the time without data as quiet, and
/// everything would read as new or risen).
pub fn baseline_with_data(first_ms: Option<i64>, baseline: Window) -> Window {
    match (first_ms, baseline.from_ms) {
        (Some(first), Some(from)) if first > from => Window { from_ms: Some(first), to_ms: baseline.to_ms },
        _ => baseline,
    }
}

/// Why nothing can be compared, if so: the baseline holds no data, or too little of it (less than
/// a quarter of the window's length) for a rate. Files and clusters say the same.
pub fn baseline_problem(first_ms: Option<i64>, window: Window, baseline: Window) -> Option<String> {
    if baseline_before_first(first_ms, baseline) {
        return Some(baseline_note(first_ms));
    }
    let (Some(len), Some(covered)) = (length(window), length(baseline_with_data(first_ms, baseline))) else {
        return None;
    };
    (covered * 4 < len).then(|| {
        format!(
            "the baseline holds only {} of data (the data starts at {}): too little to compare rates; \
             a shorter range (t) or :baseline FROM TO",
            crate::clock::human_duration(covered),
            first_ms.map(crate::clock::format_ms).unwrap_or_else(|| "-".into())
        )
    })
}

/// The changes of templates and codes, by impact (empty when either window has an open end, or
/// the baseline has too little data: [`baseline_problem`]). Rates in the baseline are taken over
/// the part of it that has data.
pub fn compute(stats: &Stats, window: Window, baseline: Window, options: PatternOptions) -> Vec<ChangeRow> {
    if length(window).is_none()
        || length(baseline).is_none()
        || baseline_problem(stats.first_ms, window, baseline).is_some()
    {
        return Vec::new();
    }
    let baseline = baseline_with_data(stats.first_ms, baseline);
    let sides = [keys_of(stats, window), keys_of(stats, baseline)];
    // templates: grouped together, so both sides name the same rows
    let keys: Vec<&str> = stats
        .templates
        .iter()
        .filter(|(_, t)| t.by_bucket.iter().any(|(k, _, _)| sides.iter().any(|(f, to)| k >= f && k <= to)))
        .map(|(k, _)| k.as_str())
        .collect();
    let (ids, texts) = group(&keys);
    let mut by_group: FxHashMap<u64, [u64; 2]> = FxHashMap::default();
    let mut members: FxHashMap<u64, Vec<String>> = FxHashMap::default();
    for (key, id) in keys.iter().zip(&ids) {
        let t = &stats.templates[*key];
        let counts = by_group.entry(*id).or_default();
        for (side, (from, to)) in sides.iter().enumerate() {
            counts[side] +=
                t.by_bucket.iter().filter(|(k, _, _)| k >= from && k <= to).map(|(_, _, n)| u64::from(*n)).sum::<u64>();
        }
        members.entry(*id).or_default().push((*key).to_string());
    }
    let split = |counts: &FxHashMap<u64, [u64; 2]>, side: usize| -> Vec<(String, u64)> {
        counts.iter().map(|(id, c)| (texts.get(id).cloned().unwrap_or_default(), c[side])).collect()
    };
    let mut rows = classify("template", &split(&by_group, 0), &split(&by_group, 1), window, baseline, options);
    let by_text: FxHashMap<&String, u64> = texts.iter().map(|(id, text)| (text, *id)).collect();
    for row in &mut rows {
        if let Some(list) = by_text.get(&row.name).and_then(|id| members.get(id)) {
            row.members = list.clone();
            row.members.sort();
        }
    }
    // codes, from the buckets
    let code_counts = |(from, to): (i64, i64)| -> Vec<(String, u64)> {
        let mut counts: FxHashMap<u32, u64> = FxHashMap::default();
        for (_, bucket) in stats.bucket_range(from, to) {
            for (code, n) in &bucket.codes {
                *counts.entry(*code).or_default() += u64::from(*n);
            }
        }
        counts.into_iter().map(|(c, n)| (stats.code(c).to_string(), n)).collect()
    };
    rows.extend(classify("code", &code_counts(sides[0]), &code_counts(sides[1]), window, baseline, options));
    sort(&mut rows);
    rows
}

/// Classifies (name, count) pairs of the window against the baseline's.
pub fn classify(
    kind: &'static str,
    now: &[(String, u64)],
    before: &[(String, u64)],
    window: Window,
    baseline: Window,
    options: PatternOptions,
) -> Vec<ChangeRow> {
    let (Some(len_now), Some(len_before)) = (length(window), length(baseline)) else { return Vec::new() };
    // the baseline's count scaled to the window's length
    let scale = len_now as f64 / len_before as f64;
    let mut all: FxHashMap<&str, [u64; 2]> = FxHashMap::default();
    for (name, n) in now {
        all.entry(name).or_default()[0] += n;
    }
    for (name, n) in before {
        all.entry(name).or_default()[1] += n;
    }
    let factor = options.factor.max(1.0);
    all.into_iter()
        .filter_map(|(name, [now, before])| {
            if now.max(before) < options.min_count.max(1) {
                return None;
            }
            let expected = before as f64 * scale;
            let (change, ratio) = match (now, before) {
                (_, 0) => ("new", None),
                (0, _) => ("gone", None),
                _ => {
                    let ratio = now as f64 / expected;
                    if ratio >= factor {
                        ("rose", Some(ratio))
                    } else if ratio <= 1.0 / factor {
                        ("fell", Some(ratio))
                    } else {
                        return None;
                    }
                }
            };
            Some(ChangeRow {
                kind,
                name: name.to_string(),
                now,
                before,
                change,
                factor: ratio,
                impact: (now as f64 - expected).abs(),
                members: Vec::new(),
            })
        })
        .collect()
}

/// Codes first (the coarse view), then templates; in each, what is new first, then what rose,
/// what is gone, what fell; most impact first within each; ties by name.
pub fn sort(rows: &mut [ChangeRow]) {
    let class = |c: &ChangeRow| match c.change {
        "new" => 0,
        "rose" => 1,
        "gone" => 2,
        _ => 3,
    };
    let kind = |c: &ChangeRow| u8::from(c.kind != "code");
    rows.sort_by(|a, b| {
        kind(a)
            .cmp(&kind(b))
            .then_with(|| class(a).cmp(&class(b)))
            .then_with(|| b.impact.total_cmp(&a.impact))
            .then_with(|| a.name.cmp(&b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(from: i64, to: i64) -> Window {
        Window { from_ms: Some(from), to_ms: Some(to) }
    }

    #[test]
    fn new_gone_rose_fell_and_small_counts_guarded() {
        let now = vec![("A".to_string(), 50), ("B".to_string(), 40), ("C".to_string(), 3), ("D".to_string(), 10)];
        let before = vec![("B".to_string(), 10), ("C".to_string(), 1), ("D".to_string(), 40), ("E".to_string(), 8)];
        let options = PatternOptions::default();
        let mut rows = classify("code", &now, &before, w(1000, 1999), w(0, 999), options);
        sort(&mut rows);
        let got: Vec<(&str, &str)> = rows.iter().map(|r| (r.name.as_str(), r.change)).collect();
        assert_eq!(got, vec![("A", "new"), ("B", "rose"), ("E", "gone"), ("D", "fell")]);
        assert_eq!(rows[1].factor, Some(4.0));
        assert_eq!(rows[3].factor, Some(0.25));
        // C (3 vs 1) is below the minimum count: not listed
        assert!(rows.iter().all(|r| r.name != "C"));
        // a baseline twice as long halves the expected count
        let rows =
            classify("code", &[("B".to_string(), 20)], &[("B".to_string(), 10)], w(1000, 1999), w(0, 1999), options);
        assert_eq!(rows[0].factor, Some(4.0));
        assert_eq!(baseline_before(w(1000, 1999)), Some(w(0, 999)));
        assert_eq!(baseline_before(Window::ALL), None);
    }
}
