//! Every format's parser, the detector and the template masker on arbitrary text: no panic.
#![no_main]
use foley_triage::parse::{detect, parse_as, Format, LineParser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for format in Format::ALL {
        if let Some(event) = parse_as(format, &text, 0) {
            let _ = event.all_fields();
            let _ = event.into_owned();
        }
    }
    let _ = detect(text.lines(), 3600);
    let event = LineParser::new(None, 0).parse(&text);
    let _ = foley_triage::patterns::template(&event.message);
    let _ = foley_triage::parse::time::parse_any(&text, 0);
    let _ = foley_triage::parse::units::size_bytes(&text);
});
