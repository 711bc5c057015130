//! The template miner: any bytes, split into lines, never panic; every message finds the template it
//! joined, the cap on templates holds, and a store written and read back gives the same templates.
#![no_main]
use foley_triage::patterns::{Miner, Settings, store};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let settings = Settings { max_templates: 16, ..Settings::default() };
    let mut miner = Miner::new(settings);
    for (i, line) in text.lines().enumerate() {
        let matched = miner.add(line, Some(i as i64));
        assert!(miner.get(matched.id).is_some());
        assert!(miner.len() <= 16);
        assert_eq!(miner.peek(line), Some(matched.id));
    }
    let _ = foley_triage::patterns::template(&text);
    let dir = std::env::temp_dir().join(format!("foley-fuzz-miner-{}", std::process::id()));
    let path = dir.join(store::FILE_NAME);
    if store::save(&miner, &path).is_ok() {
        let back = store::load(&path, settings).expect("a store just written reads back");
        let texts = |m: &Miner| m.templates().iter().map(|t| (t.id, t.text())).collect::<Vec<_>>();
        assert_eq!(texts(&back), texts(&miner));
    }
});
