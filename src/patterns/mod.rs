//! Message templates: generic masking of variables (`mask`), the online template miner (`miner`) that
//! groups messages differing in a variable word, and its store in the state directory (`store`), so
//! that unknown errors group together (`vocoder produced NaN at frame <N>`).

pub mod mask;
pub mod miner;
pub mod store;

pub use miner::{Matched, Miner, Settings, Template};

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
