//! The sanitiser: whatever comes in, nothing a terminal would interpret goes out.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let clean = foley_triage::text::sanitize_bytes(data);
    assert!(foley_triage::text::is_terminal_safe(&clean));
    let capped = foley_triage::text::sanitize_owned(&String::from_utf8_lossy(data), 40);
    assert!(foley_triage::text::is_terminal_safe(&capped));
});
