#![allow(clippy::panic, clippy::unwrap_used)]
//! The follower on many files and on files that are not plain: ten thousand files under
//! `ulimit -n 256` (every line read, the limit said), the idle cost of following them, a change
//! event naming the one file to read among many, files closed while idle and found again by
//! identity (rotated, rewritten), named pipes with and without a writer, and a symbolic link
//! loop. The real binary where the issue was seen with it. Every wait is on a condition, with a
//! deadline.

use foley_triage::source::follow::{FollowItem, FollowOptions, Follower, NoticeKind};
use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);
/// For the ten-thousand-file runs of the debug binary on a shared machine.
const LONG_DEADLINE: Duration = Duration::from_secs(600);
const FILES: usize = 10_000;

fn line(writer: &str, seq: u64) -> String {
    format!("2025-09-01 14:00:00 [INFO] seq={seq} writer={writer}\n")
}

/// (writer, seq) of a line written by `line`.
fn parse(text: &str) -> Option<(String, u64)> {
    let rest = text.strip_prefix("2025-09-01 14:00:00 [INFO] seq=")?;
    let (number, writer) = rest.trim_end().split_once(" writer=")?;
    Some((writer.to_string(), number.parse().ok()?))
}

fn append(path: &Path, bytes: &[u8]) {
    OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn options() -> FollowOptions {
    FollowOptions { from_start: true, poll_interval: Duration::from_millis(20), ..FollowOptions::default() }
}

fn lines(items: &[FollowItem]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        if let FollowItem::Lines { bytes, .. } = item {
            out.extend(String::from_utf8_lossy(bytes).lines().map(str::to_string));
        }
    }
    out
}

fn notices(items: &[FollowItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            FollowItem::Notice { path, kind, message } => Some(format!("{}: {kind:?}: {message}", path.display())),
            FollowItem::Lines { .. } => None,
        })
        .collect()
}

fn has_notice(items: &[FollowItem], kind: NoticeKind, words: &str) -> bool {
    items
        .iter()
        .any(|i| matches!(i, FollowItem::Notice { kind: k, message, .. } if *k == kind && message.contains(words)))
}

/// Polls (waiting in between) until `done` holds for everything collected, or the deadline passes.
fn poll_until(follower: &mut Follower, items: &mut Vec<FollowItem>, done: impl Fn(&[FollowItem]) -> bool) -> bool {
    let end = Instant::now() + DEADLINE;
    loop {
        items.extend(follower.poll());
        if done(items) {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        follower.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The real binary on ten thousand files

/// The binary following a directory, its output lines arriving on channels; killed when dropped.
struct Running {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Running {
    /// `foley-triage follow --json DIR`, under `ulimit -n LIMIT` when given.
    fn start(dir: &Path, limit: Option<u32>) -> Running {
        let binary = env!("CARGO_BIN_EXE_foley-triage");
        let script = match limit {
            Some(n) => format!("ulimit -n {n} && exec \"$0\" follow --json \"$1\""),
            None => "exec \"$0\" follow --json \"$1\"".to_string(),
        };
        let mut child = Command::new("sh")
            .args(["-c", &script, binary, dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        let forward = |out: Box<dyn std::io::Read + Send>| {
            let (sender, receiver) = mpsc::channel();
            thread::spawn(move || {
                for l in std::io::BufReader::new(out).lines() {
                    let Ok(l) = l else { break };
                    if sender.send(l).is_err() {
                        break;
                    }
                }
            });
            receiver
        };
        let stdout = forward(Box::new(child.stdout.take().unwrap()));
        let stderr = forward(Box::new(child.stderr.take().unwrap()));
        Running { child, stdout, stderr }
    }

    /// Collects the (writer, seq) of events printed until `want` distinct ones of `writer` have
    /// arrived or the deadline passes; returns the distinct seqs seen.
    fn collect(&self, writer: &str, want: usize, seen: &mut BTreeSet<u64>) {
        let end = Instant::now() + LONG_DEADLINE;
        while seen.len() < want {
            let left = end.saturating_duration_since(Instant::now());
            let Ok(l) = self.stdout.recv_timeout(left) else { break };
            let event: serde_json::Value = serde_json::from_str(&l).expect("one JSON object per line");
            if let Some((w, seq)) = event["raw"].as_str().and_then(parse)
                && w == writer
            {
                seen.insert(seq);
            }
        }
    }

    fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// CPU time (user + system) the process has used, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // the fields after the command name (which may hold spaces) start with the state
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf reads a constant of the system.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        ticks as f64 / per_second.max(1) as f64
    }

    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map(|d| d.count()).unwrap_or(0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of `FILES` log files, each holding one line of writer "w1" (seq = file number).
fn ten_thousand_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..FILES {
        std::fs::write(dir.path().join(format!("f{n:05}.log")), line("w1", n as u64)).unwrap();
    }
    dir
}

#[test]
fn ten_thousand_files_under_a_limit_of_256_descriptors_are_all_read() {
    let dir = ten_thousand_files();
    let run = Running::start(dir.path(), Some(256));
    let mut first = BTreeSet::new();
    run.collect("w1", FILES, &mut first);
    let notices = run.stderr_lines();
    assert_eq!(
        first.len(),
        FILES,
        "lines of the files present at the start; notices: {:?}",
        &notices[..notices.len().min(5)]
    );
    assert!(
        notices.iter().any(|n| n.contains("following 10000 files with at most") && n.contains("256")),
        "the limit is said: {notices:?}"
    );
    // every file changes after the start: each is reopened (by identity) to be read
    for n in 0..FILES {
        append(&dir.path().join(format!("f{n:05}.log")), line("w2", n as u64).as_bytes());
    }
    let mut second = BTreeSet::new();
    run.collect("w2", FILES, &mut second);
    let later = run.stderr_lines();
    assert_eq!(second.len(), FILES, "lines appended to every file after the start; notices: {later:?}");
    let held = run.descriptors();
    println!(
        "ten thousand files under ulimit -n 256: read {} + {}, descriptors held {held}",
        first.len(),
        second.len()
    );
    assert!(held <= 128 + 16, "at most half the limit is held open, plus a few: {held}");
}

#[test]
fn ten_thousand_idle_files_cost_almost_no_cpu() {
    let dir = ten_thousand_files();
    let run = Running::start(dir.path(), None);
    let mut seen = BTreeSet::new();
    run.collect("w1", FILES, &mut seen);
    assert_eq!(seen.len(), FILES, "every file's line arrives first");
    // settle (the last lines were just printed), then measure over a few seconds of nothing new
    thread::sleep(Duration::from_secs(1));
    let (cpu, wall) = (run.cpu_seconds(), Instant::now());
    thread::sleep(Duration::from_secs(4));
    let share = (run.cpu_seconds() - cpu) / wall.elapsed().as_secs_f64();
    println!("ten thousand idle files: {:.2} % of a core", share * 100.0);
    assert!(share < 0.05, "following idle files costs {:.1} % of a core", share * 100.0);
}

// ---------------------------------------------------------------------------------------------
// Change events among many names; files closed while idle

#[test]
fn among_many_files_a_change_event_names_the_one_to_read() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..300 {
        std::fs::write(dir.path().join(format!("f{n:03}.log")), line("w1", n)).unwrap();
    }
    // no sweep within the test's time: only change events can bring the new line
    let hour = FollowOptions { poll_interval: Duration::from_secs(3600), ..options() };
    let mut follower = Follower::new(&[dir.path().display().to_string()], hour);
    let mut items = follower.poll();
    assert_eq!(lines(&items).len(), 300);
    append(&dir.path().join("f123.log"), line("w2", 0).as_bytes());
    let started = Instant::now();
    follower.wait();
    items.extend(follower.poll());
    let ok = poll_until(&mut follower, &mut items, |i| lines(i).iter().any(|l| l.contains("writer=w2")));
    assert!(ok && started.elapsed() < Duration::from_secs(60), "the appended line arrives by its event");
}

#[test]
fn a_file_closed_while_idle_and_rotated_is_found_again_by_identity() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    append(&a, line("a", 0).as_bytes());
    append(&b, line("b", 0).as_bytes());
    let one = FollowOptions { max_open: 1, ..options() };
    let specs = [a.display().to_string(), b.display().to_string()];
    let mut follower = Follower::new(&specs, one);
    let mut items = follower.poll();
    assert_eq!(lines(&items).len(), 2, "{:?}", notices(&items));
    // the application writes on through its descriptor, then the log is rotated by rename
    let mut writer = OpenOptions::new().append(true).open(&a).unwrap();
    writer.write_all(line("a", 1).as_bytes()).unwrap();
    std::fs::rename(&a, dir.path().join("a.log.1")).unwrap();
    writer.write_all(line("a", 2).as_bytes()).unwrap();
    append(&a, line("a", 3).as_bytes());
    append(&b, line("b", 1).as_bytes());
    let ok = poll_until(&mut follower, &mut items, |i| lines(i).len() >= 6);
    let a_seqs: Vec<u64> =
        lines(&items).iter().filter_map(|l| parse(l)).filter(|(w, _)| w == "a").map(|(_, s)| s).collect();
    assert!(ok, "lines {:?}; notices {:?}", lines(&items), notices(&items));
    assert_eq!(a_seqs, vec![0, 1, 2, 3], "every line of the rotated file once, in order");
}

#[test]
fn a_file_closed_while_idle_and_rewritten_is_read_again_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::fs::write(&a, line("a", 0) + &line("a", 1)).unwrap();
    append(&b, line("b", 0).as_bytes());
    let one = FollowOptions { max_open: 1, ..options() };
    let mut follower = Follower::new(&[a.display().to_string(), b.display().to_string()], one);
    let mut items = follower.poll();
    assert_eq!(lines(&items).len(), 3);
    // the same inode, other content, longer than what was read: only the content tells
    std::fs::write(&a, line("x", 7) + &line("x", 8) + &line("x", 9)).unwrap();
    let ok = poll_until(&mut follower, &mut items, |i| lines(i).iter().filter(|l| l.contains("writer=x")).count() == 3);
    assert!(ok, "lines {:?}; notices {:?}", lines(&items), notices(&items));
    assert!(has_notice(&items, NoticeKind::Truncated, "reading it from the start"), "{:?}", notices(&items));
}

// ---------------------------------------------------------------------------------------------
// Named pipes and symbolic link loops

/// A line the binary printed: (on stdout, text).
type Printed = (bool, String);

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn a_named_pipe_is_followed_and_a_missing_writer_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("app.log");
    mkfifo(&fifo);
    let mut follower = Follower::new(&[fifo.display().to_string()], options());
    let mut items = Vec::new();
    let ok = poll_until(&mut follower, &mut items, |i| has_notice(i, NoticeKind::Waiting, "no writer"));
    assert!(ok, "a pipe without a writer says it waits for one: {:?}", notices(&items));
    assert!(!notices(&items).iter().any(|n| n.contains("does not exist")), "{:?}", notices(&items));
    // a writer comes (opening for writing does not block: the follower reads)
    let mut writer = OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all((0..100).map(|s| line("p", s)).collect::<String>().as_bytes()).unwrap();
    writer.write_all(b"last line without its newline").unwrap();
    let ok = poll_until(&mut follower, &mut items, |i| lines(i).len() >= 100);
    assert!(ok, "lines from the pipe: {}; notices {:?}", lines(&items).len(), notices(&items));
    drop(writer);
    let ok = poll_until(&mut follower, &mut items, |i| has_notice(i, NoticeKind::Waiting, "closed the named pipe"));
    assert!(ok, "the writer leaving is said: {:?}", notices(&items));
    let got = lines(&items);
    let expected: Vec<String> = (0..100).map(|s| line("p", s).trim_end().to_string()).collect();
    assert_eq!(&got[..100], &expected[..], "every line, in order");
    assert_eq!(got.get(100).map(String::as_str), Some("last line without its newline"), "its last line is ended");
    // another writer is followed too
    let mut again = OpenOptions::new().write(true).open(&fifo).unwrap();
    again.write_all(line("p", 100).as_bytes()).unwrap();
    let ok = poll_until(&mut follower, &mut items, |i| lines(i).iter().any(|l| l.contains("seq=100 ")));
    assert!(ok, "a second writer: {:?}", notices(&items));
}

#[test]
fn the_follow_command_follows_a_named_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("inference.log");
    mkfifo(&fifo);
    let mut child = Command::new(env!("CARGO_BIN_EXE_foley-triage"))
        .args(["follow", "--json", fifo.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (sender, receiver) = mpsc::channel::<Printed>();
    let errors = sender.clone();
    thread::spawn(move || {
        stdout.lines().map_while(Result::ok).for_each(|l| {
            let _ = sender.send((true, l));
        })
    });
    thread::spawn(move || {
        stderr.lines().map_while(Result::ok).for_each(|l| {
            let _ = errors.send((false, l));
        })
    });
    let mut received: Vec<Printed> = Vec::new();
    let mut wait_for = |want: &dyn Fn(&[Printed]) -> bool| {
        let end = Instant::now() + DEADLINE;
        while !want(&received) {
            match receiver.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(l) => received.push(l),
                Err(_) => break,
            }
        }
        received.clone()
    };
    let got = wait_for(&|r| r.iter().any(|(out, l)| !out && l.contains("waiting for one")));
    assert!(got.iter().any(|(out, l)| !out && l.contains("no writer")), "{got:?}");
    let mut writer = OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all((0..3).map(|s| line("p", s)).collect::<String>().as_bytes()).unwrap();
    let got = wait_for(&|r| r.iter().filter(|(out, _)| *out).count() >= 3);
    let _ = child.kill();
    let _ = child.wait();
    let events: Vec<serde_json::Value> =
        got.iter().filter(|(out, _)| *out).map(|(_, l)| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 3, "{got:?}");
    assert_eq!(events[2]["raw"], line("p", 2).trim_end());
}

#[test]
fn a_symbolic_link_loop_is_called_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let mut follower = Follower::new(&[a.display().to_string()], options());
    let items = follower.poll();
    assert!(has_notice(&items, NoticeKind::Error, "symbolic link loop"), "{:?}", notices(&items));
    assert!(!notices(&items).iter().any(|n| n.contains("does not exist")), "{:?}", notices(&items));
    // mended: followed
    std::fs::remove_file(&b).unwrap();
    append(&b, line("w1", 0).as_bytes());
    let mut items = items;
    let ok = poll_until(&mut follower, &mut items, |i| lines(i).len() == 1);
    assert!(ok, "{:?}", notices(&items));
}
