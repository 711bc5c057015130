//! Message templates: generic masking of variables (`mask`), the online template miner (`miner`) that
//! groups messages differing in a variable word, and its store in the state directory (`store`), so
//! that unknown errors group together (`vocoder produced NaN at frame <N>`).

pub mod mask;
pub mod miner;
pub mod store;

pub use miner::{Matched, Miner, Settings, Template};

use crate::text;

/// Masks the variable parts of a message (see `mask`): the template of one message on its own.
pub fn template(message: &str) -> String {
    mask::mask(message)
}

/// The template an unknown error is grouped by: `CODE: masked message`, or `[source] masked message`
/// without a code; terminal-safe and capped. Shared by the statistics and the documents `ship` writes.
pub fn unknown_template(event: &crate::event::Event<'_>) -> String {
    let masked = template(&event.message);
    let text = match event.error_code.as_deref() {
        Some(code) => format!("{code}: {masked}"),
        None => format!("[{}] {masked}", event.source.as_str()),
    };
    crate::text::sanitize_owned(&text, 512)
}

/// Groups the rows of unknown-error templates (each a message masked on its own) with the miner, so
/// that messages differing in a variable word count as one kind: counts add up, the example is the
/// earliest, and the template shows `<*>` where they differ. Deterministic: the rows are mined in
/// the order of their text, whatever order they came in.
pub fn group_rows(mut rows: Vec<crate::stats::overview::PatternRow>) -> Vec<crate::stats::overview::PatternRow> {
    use crate::stats::overview::PatternRow;
    rows.sort_by(|a, b| a.template.cmp(&b.template));
    let mut miner = Miner::new(Settings { max_templates: rows.len().max(8), ..Settings::default() });
    let mut grouped: rustc_hash::FxHashMap<u64, PatternRow> = rustc_hash::FxHashMap::default();
    let mut order = Vec::new();
    for row in rows {
        let id = miner.add(&row.template, None).id;
        match grouped.get_mut(&id) {
            Some(group) => {
                group.count = group.count.saturating_add(row.count);
                if row.first_seen.is_some() && (group.first_seen.is_none() || row.first_seen < group.first_seen) {
                    group.example = row.example;
                    group.first_seen = row.first_seen;
                }
                group.last_seen = group.last_seen.max(row.last_seen);
            }
            None => {
                order.push(id);
                grouped.insert(id, row);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|id| {
            let mut row = grouped.remove(&id)?;
            if let Some(template) = miner.get(id) {
                row.template = text::sanitize_owned(&template.text(), 512);
            }
            Some(row)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_variables() {
        assert_eq!(template("vocoder produced NaN at frame 1532"), "vocoder produced NaN at frame <N>");
        assert_eq!(template("failed for vid_7a3b9c at 0x55d5c8a3c2c0 (2.4s)"), "failed for <ID> at <HEX> (<N>)");
        assert_eq!(template("cannot open /data/in/x.mp4: denied"), "cannot open <PATH>: denied");
        assert_eq!(template("retry=3 worker=gpu-2"), "retry=<N> worker=<ID>");
        assert_eq!(template("id 550e8400-e29b-41d4-a716-446655440000"), "id <ID>");
    }

    #[test]
    fn rows_differing_in_a_word_are_one_kind() {
        use crate::stats::overview::PatternRow;
        let row = |template: &str, count, first: i64| PatternRow {
            template: template.to_string(),
            count,
            example: format!("example {first}"),
            first_seen: Some(first),
            last_seen: Some(first + 10),
        };
        let rows = vec![
            row("[flask] cannot reach shard alpha of the store", 3, 50),
            row("[flask] cannot reach shard beta of the store", 2, 20),
            row("[flask] cannot reach shard gamma of the store", 1, 90),
            row("E_DISK: disk <ID> is full", 4, 70),
        ];
        let mut grouped = group_rows(rows.clone());
        grouped.sort_by_key(|row| std::cmp::Reverse(row.count));
        assert_eq!(grouped.len(), 2, "{grouped:?}");
        assert_eq!(grouped[0].template, "[flask] cannot reach shard <*> of the store");
        assert_eq!(grouped[0].count, 6);
        assert_eq!((grouped[0].first_seen, grouped[0].last_seen), (Some(20), Some(100)));
        assert_eq!(grouped[0].example, "example 20");
        assert_eq!(grouped[1].template, "E_DISK: disk <ID> is full");
        // the order rows come in does not change the answer
        let mut reversed = group_rows(rows.into_iter().rev().collect());
        reversed.sort_by_key(|row| std::cmp::Reverse(row.count));
        assert_eq!(reversed, grouped);
    }

    #[test]
    fn same_shape_same_template() {
        assert_eq!(template("frame 1 of vid_aaaaa1"), template("frame 99 of vid_bbbbb2"));
    }

    #[test]
    fn odd_text_is_kept() {
        assert_eq!(template(""), "");
        assert_eq!(template("ä ö ü … ¿"), "ä ö ü … ¿");
    }
}

#[cfg(test)]
mod miner_tests;
