//! The follower's line splitter: a stream cut into chunks at points the fuzzer picks, with a line
//! cap it picks, gives every complete line once, in order, at its offset (see `check_splitter`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let max_line = 1 + (head as usize % 64);
    // the bytes after the first cut the stream at every 0xFE (a chunk boundary, dropped)
    let chunks: Vec<&[u8]> = rest.split(|&b| b == 0xfe).collect();
    if let Err(problem) = foley_triage::source::follow::check_splitter(&chunks, max_line) {
        panic!("{problem}");
    }
});
