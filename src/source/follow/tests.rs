//! The follower's unit tests (the splitter's and the content comparison's live in their modules).

#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use std::io::Write;

#[test]
fn a_follower_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Follower>();
    assert_send::<FollowItem>();
}

#[test]
fn without_watches_changes_are_found_by_polling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let spec = vec![path.display().to_string()];
    let options = FollowOptions { poll_interval: Duration::from_millis(10), ..FollowOptions::default() };
    let mut follower = Follower::new(&spec, options);
    follower.watch = None; // as when no inotify instance could be had
    assert!(follower.poll().iter().any(|i| matches!(i, FollowItem::Notice { kind: NoticeKind::Waiting, .. })));
    std::fs::write(&path, b"hello\n").unwrap();
    let started = Instant::now();
    follower.wait();
    assert!(started.elapsed() < Duration::from_secs(5), "wait returns after the poll interval");
    assert_eq!(lines_of(&follower.poll()), b"hello\n");
}

fn lines_of(items: &[FollowItem]) -> Vec<u8> {
    let mut all = Vec::new();
    for item in items {
        if let FollowItem::Lines { bytes, .. } = item {
            all.extend_from_slice(bytes);
        }
    }
    all
}

#[test]
fn history_starts_at_a_line_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    std::fs::write(&path, b"first line\nsecond line\nthird\n").unwrap();
    let spec = vec![path.display().to_string()];
    let mut follower = Follower::new(&spec, FollowOptions { history_bytes: 15, ..FollowOptions::default() });
    assert_eq!(lines_of(&follower.poll()), b"third\n");
    let mut follower = Follower::new(&spec, FollowOptions { history_bytes: 0, ..FollowOptions::default() });
    assert!(lines_of(&follower.poll()).is_empty());
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"new\n").unwrap();
    assert_eq!(lines_of(&follower.poll()), b"new\n");
}

#[test]
fn truncated_in_place_is_read_again_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    std::fs::write(&path, b"one\ntwo\n").unwrap();
    let spec = vec![path.display().to_string()];
    let mut follower = Follower::new(&spec, FollowOptions { from_start: true, ..FollowOptions::default() });
    assert_eq!(lines_of(&follower.poll()), b"one\ntwo\n");
    // rewritten longer than the old offset: only the changed head tells
    std::fs::write(&path, b"three\nfour\n").unwrap();
    let items = follower.poll();
    assert_eq!(lines_of(&items), b"three\nfour\n");
    assert!(items.iter().any(|i| matches!(i, FollowItem::Notice { kind: NoticeKind::Truncated, .. })));
}

#[test]
fn a_renamed_file_is_drained_until_the_new_one_has_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let old = dir.path().join("a.log.1");
    std::fs::write(&path, b"1\n").unwrap();
    let spec = vec![path.display().to_string()];
    let mut follower = Follower::new(&spec, FollowOptions { from_start: true, ..FollowOptions::default() });
    assert_eq!(lines_of(&follower.poll()), b"1\n");
    let mut writer = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::fs::rename(&path, &old).unwrap();
    std::fs::write(&path, b"").unwrap();
    writer.write_all(b"2\n").unwrap();
    assert_eq!(lines_of(&follower.poll()), b"2\n");
    writer.write_all(b"3 partial").unwrap();
    assert_eq!(lines_of(&follower.poll()), b"");
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"4\n").unwrap();
    // the old file's partial tail is flushed before the new file's lines
    assert_eq!(lines_of(&follower.poll()), b"3 partial\n4\n");
    assert!(follower.slots[0].retiring.is_empty(), "the old file is closed once the new one has data");
}
