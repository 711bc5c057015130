//! Tests of the miner and its store: grouping, stable ids, bounded memory, persistence, no panics.

use super::miner::{Miner, Settings};
use super::store;
use proptest::prelude::*;

fn texts(miner: &Miner) -> Vec<(u64, String, u64)> {
    miner.templates().into_iter().map(|t| (t.id, t.text(), t.count)).collect()
}

#[test]
fn messages_differing_in_a_word_share_a_template() {
    let mut miner = Miner::default();
    let a = miner.add("Invalid user webmaster from 173.234.31.186", Some(10));
    let b = miner.add("Invalid user test from 52.80.34.196", Some(5));
    let c = miner.add("Invalid user admin from 10.0.0.1", Some(20));
    assert!(a.created);
    assert_eq!((a.id, a.id), (b.id, c.id));
    assert!(b.generalised && !c.generalised);
    let t = miner.get(a.id).expect("kept");
    assert_eq!(t.text(), "Invalid user <*> from <IP>");
    assert_eq!((t.count, t.first_ms, t.last_ms), (3, Some(5), Some(20)));
}

#[test]
fn different_messages_get_different_templates() {
    let mut miner = Miner::default();
    let a = miner.add("Accepted password for root from 1.2.3.4 port 22 ssh2", None).id;
    let b = miner.add("Connection closed by 1.2.3.4 [preauth]", None).id;
    let c = miner.add("Failed password for root from 1.2.3.4 port 22 ssh2", None).id;
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(miner.len(), 3);
}

#[test]
fn a_template_keeps_its_id_as_it_generalises() {
    let mut miner = Miner::default();
    let first = miner.add("worker gpu started job alpha in pool main", None);
    let mut ids = vec![first.id];
    for word in ["beta", "gamma", "delta"] {
        ids.push(miner.add(&format!("worker gpu started job {word} in pool main"), None).id);
    }
    ids.push(miner.add("worker gpu started job delta in pool spare", None).id);
    assert!(ids.iter().all(|&id| id == first.id), "{ids:?}");
    assert_eq!(miner.get(first.id).map(|t| t.text()).as_deref(), Some("worker gpu started job <*> in pool <*>"));
}

#[test]
fn the_same_input_gives_the_same_templates() {
    let lines: Vec<String> = (0..500)
        .map(|i| match i % 4 {
            0 => format!("session opened for user u{} by uid={}", i % 7, i),
            1 => format!("connection from 10.0.{}.{} closed after {}ms", i % 3, i % 250, i * 3),
            2 => format!("block blk_{} replicated to node{}", i * 7919, i % 5),
            _ => format!("job {} failed: cannot open /data/{}/in.mp4", i, i % 9),
        })
        .collect();
    let run = || {
        let mut miner = Miner::default();
        let ids: Vec<u64> = lines.iter().map(|l| miner.add(l, None).id).collect();
        (ids, texts(&miner))
    };
    assert_eq!(run(), run());
    assert_eq!(run().1.len(), 4, "{:?}", run().1);
}

#[test]
fn memory_is_bounded_and_evictions_counted() {
    let settings = Settings { max_templates: 64, ..Settings::default() };
    let mut miner = Miner::new(settings);
    // every message its own template: distinct first words and lengths
    for i in 0..5_000u32 {
        let word: String = format!("{i:x}").chars().map(|c| (b'g' + (c as u8 % 16)) as char).collect();
        let tail = " x".repeat((i % 5) as usize);
        miner.add(&format!("{word} happened{tail}"), None);
        assert!(miner.len() <= 64);
    }
    assert!(miner.evicted() > 4_000, "{}", miner.evicted());
    assert_eq!(miner.len() as u64 + miner.evicted(), 5_000);
    // the most recent template survives; the oldest went
    let recent = miner.peek("qmin happened");
    assert!(recent.is_none() || miner.get(recent.unwrap_or(0)).is_some());
    let last = miner.add("the very last one", None);
    assert!(miner.get(last.id).is_some());
    assert_eq!(miner.get(1), None, "the least recently seen is evicted");
}

#[test]
fn a_template_seen_again_is_not_evicted() {
    let settings = Settings { max_templates: 16, ..Settings::default() };
    let mut miner = Miner::new(settings);
    let keep = miner.add("heartbeat from the scheduler", None).id;
    for i in 0..1_000u32 {
        let word: String = format!("{i:x}").chars().map(|c| (b'g' + (c as u8 % 16)) as char).collect();
        miner.add(&format!("{word} odd event"), None);
        assert_eq!(miner.add("heartbeat from the scheduler", None).id, keep);
    }
    assert!(miner.get(keep).is_some());
}

#[test]
fn the_store_keeps_ids_across_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("state").join(store::FILE_NAME);
    let mut miner = Miner::default();
    let a = miner.add("disk sda1 is full at 99%", Some(1_000)).id;
    let b = miner.add("session closed for alice", Some(2_000)).id;
    miner.add("session closed for bob", Some(3_000));
    store::save(&miner, &path).expect("saved");
    let mode = std::fs::metadata(&path).expect("written").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let mut again = store::load(&path, Settings::default()).expect("read back");
    assert_eq!(texts(&again), texts(&miner));
    assert_eq!(again.add("session closed for carol", None).id, b);
    assert_eq!(again.add("disk sdb2 is full at 12%", None).id, a);
    let fresh = again.add("a message never seen", None);
    assert!(fresh.created && fresh.id > b);
    assert_eq!(again.get(b).and_then(|t| t.first_ms), Some(2_000));
}

#[test]
fn the_store_refuses_symlinks_and_garbage() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, "precious").expect("written");
    let link = dir.path().join(store::FILE_NAME);
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let miner = Miner::default();
    let err = store::save(&miner, &link).expect_err("a symlink is refused");
    assert!(err.to_string().contains("symlink"), "{err}");
    assert!(store::load(&link, Settings::default()).is_err());
    assert_eq!(std::fs::read_to_string(&target).expect("untouched"), "precious");

    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{not json").expect("written");
    let err = store::load(&garbage, Settings::default()).expect_err("garbage is refused");
    assert!(err.to_string().contains("not a template store"), "{err}");
    let missing = store::load(&dir.path().join("none.json"), Settings::default()).expect("missing is empty");
    assert!(missing.is_empty());
}

proptest! {
    #[test]
    fn never_panics_and_stays_consistent(lines in proptest::collection::vec(".{0,200}", 0..60)) {
        let settings = Settings { max_templates: 8, ..Settings::default() };
        let mut miner = Miner::new(settings);
        for line in &lines {
            let matched = miner.add(line, Some(0));
            let template = miner.get(matched.id);
            prop_assert!(template.is_some());
            prop_assert!(miner.len() <= 8);
            prop_assert_eq!(miner.peek(line), Some(matched.id));
        }
    }

    #[test]
    fn a_message_matches_its_own_template(words in proptest::collection::vec("[a-z]{1,8}|[0-9]{1,6}|0x[0-9a-f]{4}", 1..20)) {
        let line = words.join(" ");
        let mut miner = Miner::default();
        let first = miner.add(&line, None);
        prop_assert_eq!(miner.add(&line, None).id, first.id);
        let masked = super::mask::mask(&line);
        prop_assert_eq!(miner.get(first.id).map(|t| t.text()), Some(masked));
    }

    #[test]
    fn masking_is_bounded_and_single_spaced(line in ".{0,300}") {
        let masked = super::mask::mask(&line);
        prop_assert!(masked.split(' ').count() <= super::mask::MAX_TOKENS);
        prop_assert!(!masked.starts_with(' ') && !masked.ends_with(' ') && !masked.contains("  "));
        prop_assert!(!masked.chars().any(|c| c.is_ascii_whitespace() && c != ' '));
    }
}
