//! The filter language: any text parses or gives an error that points inside it, and whatever
//! parses prints back to text that parses to the same filter and translates to query DSL.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match foley_triage::query::parse(text) {
        Ok(query) => {
            let printed = query.to_string();
            let again = foley_triage::query::parse(&printed).expect("a printed filter parses");
            assert_eq!(again.to_string(), printed);
            let _ = foley_triage::query::dsl::to_dsl(&query);
        }
        Err(e) => assert!(e.offset <= text.len() && e.line >= 1 && e.column >= 1),
    }
});
