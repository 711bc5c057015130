//! The inference service's format from the seed: `TIMESTAMP [LEVEL] key=value key="quoted \"value\""`.
//! Any key order; free words between pairs are kept as part of the message; values with units are
//! normalised by [`super::fields`]. Borrows from the line; only quoted values with escapes allocate.

use super::{fields, time};
use crate::event::{Event, Level, Source};
use crate::kv::pairs;
use std::borrow::Cow;

/// Parses one line, or `None` if it is not in this format.
#[inline]
pub fn parse(line: &str, default_offset: i64) -> Option<Event<'_>> {
    header(line, default_offset).map(build)
}

/// What the first bytes of a line say: its time, level and the `key=value` text after them.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    ts_ms: i64,
    level: Level,
    content: &'a str,
}

/// Checks that `line` is in this format and splits its head off (cheap: no event is built, so that
/// a line of another format costs little and a line of this one is built in place by [`build`]).
#[inline]
pub fn header(line: &str, default_offset: i64) -> Option<Header<'_>> {
    let (ts, used) = time::parse_iso_prefix(line, default_offset)?;
    let rest = line[used..].trim_start();
    let bracketed = rest.starts_with('[');
    let (level, content) = split_level(rest)?;
    // `[LEVEL]` is the seed's grok pattern; a bare level must be followed by key=value pairs, so that
    // Python's `TIME LEVEL logger: message` is left to its own parser
    if !bracketed && !content.split(' ').next().is_some_and(|w| w.contains('=')) {
        return None;
    }
    Some(Header { ts_ms: ts, level, content })
}

/// The event of a line whose [`header`] matched. Returns the event by value (not in an `Option`)
/// so that it is written straight into the caller's slot: the event is a few hundred bytes and
/// moving it once per line showed in the profile.
#[inline]
pub fn build(header: Header<'_>) -> Event<'_> {
    let mut event = Event {
        ts_ms: Some(header.ts_ms),
        level: header.level,
        source: Source::Inference,
        parsed: true,
        message: Cow::Borrowed(header.content),
        ..Event::default()
    };
    split_pairs(header.content, &mut event);
    fields::finish(&mut event);
    event
}

/// `[ERROR] rest` or `ERROR rest`.
#[inline]
fn split_level(s: &str) -> Option<(Level, &str)> {
    if let Some(inner) = s.strip_prefix('[') {
        let end = inner.bytes().take(12).position(|c| c == b']')?;
        let level = Level::parse(inner[..end].trim())?;
        Some((level, inner[end + 1..].trim_start()))
    } else {
        let end = memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len());
        let level = Level::parse(&s[..end])?;
        Some((level, s[end..].trim_start()))
    }
}

/// Reads the `key=value` pairs of `content` into the event's typed slots and keeps the text as the
/// event's lazily split fields. Returns the number of pairs.
pub fn split_pairs<'a>(content: &'a str, event: &mut Event<'a>) -> usize {
    let n = match split_unquoted(content, event) {
        Some(n) => n,
        None => {
            let mut n = 0;
            for (key, value) in pairs(content) {
                fields::apply_typed(event, key, &value);
                n += 1;
            }
            n
        }
    };
    event.kv = content;
    n
}

/// Longest text [`split_unquoted`] takes, in 64-byte words.
const WORDS: usize = 4;

/// The hot path of [`split_pairs`], for texts of up to 256 bytes without a double quote (most lines:
/// quotes come with the `reason="…"` of errors). There every pair is a run of non-spaces holding an
/// `=` (not first), so the pairs are found from two bitmasks of the whole text (spaces, `=`): the
/// starts of the runs come from the space mask alone and each run's `=` and end are a
/// trailing-zero count, independent of the run before it, where the sequential scanner of
/// [`pairs`] must finish one pair to know where the next starts (that chain of dependent loads was
/// a quarter of the ingest profile).
/// Hand-written: no crate classifies several characters of a short text into bitmasks (memchr's
/// searchers find one needle per call). `None` (nothing applied) when the text does not qualify.
#[inline]
fn split_unquoted<'a>(content: &'a str, event: &mut Event<'a>) -> Option<usize> {
    let b = content.as_bytes();
    let len = b.len();
    if len > 64 * WORDS {
        return None;
    }
    // one word past the text: all spaces (a run ends at the end of the text), no `=`
    let mut space = [u64::MAX; WORDS + 1];
    let mut eq = [0u64; WORDS + 1];
    let mut quotes = 0;
    for w in 0..len.div_ceil(64) {
        let m = classify_at(b, 64 * w);
        let past_end = if 64 * (w + 1) <= len { 0 } else { u64::MAX << (len - 64 * w) };
        space[w] = m.space | past_end;
        eq[w] = m.eq;
        quotes |= m.quote;
    }
    if quotes != 0 {
        return None;
    }
    let mut n = 0;
    let mut after_space = 1; // a run may start at 0
    for (w, &s) in space.iter().enumerate().take(len.div_ceil(64)) {
        let mut starts = !s & ((s << 1) | after_space);
        after_space = s >> 63;
        while starts != 0 {
            let start = 64 * w + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            let end = next_set(&space, start);
            let at = next_set(&eq, start);
            if at >= end || at == start {
                continue; // a free word
            }
            n += 1;
            debug_assert!(start < at && at < end && end <= len);
            // SAFETY: `start < at < end <= len` (checked above: `at < end`; `end` is at most the
            // length, where the padding's spaces begin), and each is a char boundary: `start` is 0
            // or follows a space, `at` is an `=` (so `at + 1` follows one), `end` is a space or the
            // end; ASCII bytes are never inside a UTF-8 sequence. The checked `get` was a measured
            // cost here (two boundary tests per pair, on a dependency chain).
            let (key, value) = unsafe { (content.get_unchecked(start..at), content.get_unchecked(at + 1..end)) };
            fields::apply_typed(event, key, &Cow::Borrowed(value));
        }
    }
    Some(n)
}

/// The first set bit at or after `from` of a multi-word mask, or `usize::MAX`.
#[inline]
fn next_set(mask: &[u64; WORDS + 1], from: usize) -> usize {
    let mut w = from / 64;
    let mut bits = mask.get(w).map_or(0, |m| m & (u64::MAX << (from % 64)));
    loop {
        if bits != 0 {
            return 64 * w + bits.trailing_zeros() as usize;
        }
        w += 1;
        match mask.get(w) {
            Some(m) => bits = *m,
            None => return usize::MAX,
        }
    }
}

/// Where the bytes the fast path looks for are in one 64-byte block: bit `k` is set when byte `k`
/// of the block is that character.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Masks {
    space: u64,
    eq: u64,
    quote: u64,
}

/// Classifies the (up to) 64 bytes of `b` from `base`; bits past the end of `b` are clear.
#[inline]
fn classify_at(b: &[u8], base: usize) -> Masks {
    if let Some(block) = b.get(base..base + 64).and_then(|s| <&[u8; 64]>::try_from(s).ok()) {
        return classify(block);
    }
    match b.len().checked_sub(64).and_then(|w| Some((w, <&[u8; 64]>::try_from(b.get(w..)?).ok()?))) {
        // the last, partial block of a text of 64 bytes or more: classify the 64 bytes that end the
        // text and shift them into place (no copy)
        Some((w, block)) => {
            let m = classify(block);
            let shift = (base - w) as u32;
            Masks {
                space: m.space.checked_shr(shift).unwrap_or(0),
                eq: m.eq.checked_shr(shift).unwrap_or(0),
                quote: m.quote.checked_shr(shift).unwrap_or(0),
            }
        }
        None => {
            // a short text: padded with zero bytes, which match none of the classes
            let mut block = [0u8; 64];
            let tail = b.get(base..).unwrap_or_default();
            block[..tail.len()].copy_from_slice(tail);
            classify(&block)
        }
    }
}

/// Classifies a 64-byte block: SSE2 (part of the x86-64 baseline, so no runtime detection).
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify(block: &[u8; 64]) -> Masks {
    // SAFETY: SSE2 is part of the x86-64 baseline: every x86-64 CPU has it.
    unsafe { classify_sse2(block) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn classify_sse2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut m = Masks::default();
    let (space, eq, quote) = (_mm_set1_epi8(b' ' as i8), _mm_set1_epi8(b'=' as i8), _mm_set1_epi8(b'"' as i8));
    for k in 0..4 {
        // SAFETY: reads the 16 bytes at offset 16 * k <= 48 of a 64-byte array; `loadu` has no
        // alignment requirement.
        let v = unsafe { _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>()) };
        let bits = |c| (_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) as u32 as u64) << (16 * k);
        m.space |= bits(space);
        m.eq |= bits(eq);
        m.quote |= bits(quote);
    }
    m
}

/// Classifies a 64-byte block, eight bytes at a time (SWAR) where SSE2 is not available.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify(block: &[u8; 64]) -> Masks {
    classify_swar(block)
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))] // the fallback, tested against SSE2 there
fn classify_swar(block: &[u8; 64]) -> Masks {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    // exact per byte (no borrow between bytes): 0x80 in each byte of `word` equal to `c`
    let equal = |word: u64, c: u8| {
        let x = word ^ (0x0101_0101_0101_0101 * c as u64);
        !(((x & LO7) + LO7) | x | LO7) & HI
    };
    // gathers the eight 0x80 flags into the low byte (bit k = byte k)
    let gather = |flags: u64| ((flags >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) & 0xff;
    let mut m = Masks::default();
    for (k, chunk) in block.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        m.space |= gather(equal(word, b' ')) << (8 * k);
        m.eq |= gather(equal(word, b'=')) << (8 * k);
        m.quote |= gather(equal(word, b'"')) << (8 * k);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::find_either;

    #[test]
    fn seed_error_line() {
        let e = parse(
            r#"2025-09-01 14:23:11 [ERROR] video_id=vid_7a3b9c inference_time=2.4s error_code=MODEL_INFER_FAIL reason="CUDA out of memory""#,
            0,
        )
        .expect("parses");
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.video_id.as_deref(), Some("vid_7a3b9c"));
        assert_eq!(e.error_code.as_deref(), Some("MODEL_INFER_FAIL"));
        assert_eq!(e.latency_ms, Some(2400.0));
        assert_eq!(e.message, "CUDA out of memory");
        assert!(e.job_outcome);
        assert!(matches!(e.field("reason"), Some(Cow::Borrowed(_))), "quoted value without escapes borrows");
    }

    #[test]
    fn seed_info_line_any_order_and_units() {
        let e = parse(
            "2025-09-01T14:23:15.250Z INFO audio_gen_success=True duration=120s video_id=vid_d2e4f1 gpu_mem=56GiB gpu_util=91%",
            0,
        )
        .expect("parses");
        assert_eq!(e.level, Level::Info);
        assert_eq!(e.ts_ms, Some(1_756_736_595_250));
        assert_eq!(e.video_id.as_deref(), Some("vid_d2e4f1"));
        assert_eq!(e.gpu_mem_bytes, Some(56.0 * 1024f64.powi(3)));
        assert_eq!(e.gpu_util_pct, Some(91.0));
        assert!(e.job_outcome);
        assert_eq!(e.field("duration").as_deref(), Some("120s"));
    }

    #[test]
    fn escaped_quotes_and_empty_values() {
        let e = parse(r#"2025-09-01 14:23:11 [WARN] prompt="say \"hi\"" error_code= reason="""#, 0).expect("parses");
        assert_eq!(e.field("prompt").as_deref(), Some("say \"hi\""));
        assert_eq!(e.error_code, None, "an empty error_code is no error code");
        assert_eq!(e.field("reason").as_deref(), Some(""));
    }

    #[test]
    fn unterminated_quote_does_not_panic() {
        let e = parse(r#"2025-09-01 14:23:11 [ERROR] reason="never closed \"#, 0).expect("parses");
        assert_eq!(e.level, Level::Error);
    }

    fn naive_masks(block: &[u8; 64]) -> Masks {
        let bits = |c: u8| block.iter().enumerate().filter(|(_, b)| **b == c).fold(0u64, |m, (k, _)| m | 1 << k);
        Masks { space: bits(b' '), eq: bits(b'='), quote: bits(b'"') }
    }

    /// The typed slots as the sequential tokenizer fills them: the reference for the fast path.
    fn sequential(content: &str) -> (usize, String) {
        let mut event = Event::default();
        let mut n = 0;
        for (key, value) in pairs(content) {
            fields::apply_typed(&mut event, key, &value);
            n += 1;
        }
        event.kv = content;
        (n, format!("{event:?}"))
    }

    fn fast(content: &str) -> (usize, String) {
        let mut event = Event::default();
        let n = split_pairs(content, &mut event);
        (n, format!("{event:?}"))
    }

    proptest::proptest! {
        #[test]
        fn find_either_matches_a_plain_scan(bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', b'=', b' ', b'"', b'\\', 0xff]), 0..40), from in 0usize..40) {
            let from = from.min(bytes.len());
            let plain = bytes[from..].iter().position(|c| *c == b'=' || *c == b' ').map_or(bytes.len(), |p| from + p);
            proptest::prop_assert_eq!(find_either(&bytes, from, b'=', b' '), plain);
        }

        #[test]
        fn classify_matches_a_plain_scan(bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', b'=', b' ', b'"', b'\\', 0x00, 0xa0, 0xbd, 0xff]), 64)) {
            let block: [u8; 64] = bytes.try_into().expect("64 bytes");
            proptest::prop_assert_eq!(classify(&block), naive_masks(&block));
            proptest::prop_assert_eq!(classify_swar(&block), naive_masks(&block));
        }

        #[test]
        fn fast_path_matches_the_sequential_tokenizer(chars in proptest::collection::vec(proptest::sample::select(vec!['a', 'k', '=', '=', ' ', ' ', ' ', '"', '\\', 'é', '\u{0}', '€', '1', '%']), 0..300)) {
            let text: String = chars.into_iter().collect();
            proptest::prop_assert_eq!(fast(&text), sequential(&text));
        }

        #[test]
        fn fast_path_matches_on_log_like_text(
            pairs in proptest::collection::vec((proptest::sample::select(vec!["video_id", "inference_time", "gpu_mem", "gpu_util", "error_code", "reason", "level", "component", "took", "latency_ms", "duration", "x", ""]), "(|=|=[a-zA-Z0-9_.%]{0,12}|=\"[a-z ]{0,20}\"?)"), 0..30),
            sep in "( |  )",
        ) {
            let text = pairs.iter().map(|(k, v)| format!("{k}{v}")).collect::<Vec<_>>().join(&sep);
            proptest::prop_assert_eq!(fast(&text), sequential(&text));
        }
    }

    #[test]
    fn rejects_other_formats() {
        assert!(parse("2025-09-01 14:23:11,189 ERROR in app: boom", 0).is_none());
        assert!(parse("hello world", 0).is_none());
        assert!(parse("2025-02-30 14:23:11 [ERROR] x=1", 0).is_none(), "impossible date");
    }
}
