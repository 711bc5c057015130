//! The one reader under bad conditions: inputs that end without a newline after an over-long line
//! (stdin, gzip), a file truncated while it is read, FIFOs, process substitution, `/proc` files,
//! devices, symlink loops, corrupt gzip, binary files, empty inputs and empty windows; and what
//! the report and `follow` print about them.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::binary;
use foley_triage::config::Config;
use foley_triage::event::{Event, Origin};
use foley_triage::source::read;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LINE: &str = "2025-09-01 14:23:11 [ERROR] video_id=vid_7a3b9c request_id=req_1 error_code=MODEL_INFER_FAIL reason=\"CUDA out of memory\"\n";

/// Runs the binary with `stdin` fed, giving up (and failing) after `deadline`.
fn run_with_deadline(args: &[&str], stdin: Vec<u8>, deadline: Duration) -> std::process::Output {
    let mut child =
        binary().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut input = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let until = Instant::now() + deadline;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("{args:?} did not end within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = feeder.join();
    child.wait_with_output().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn an_over_long_last_line_without_newline_ends_the_input() {
    // stdin: 1.1 MB of `a` and no newline (the default cap is 1 MiB)
    let mut data = LINE.as_bytes().to_vec();
    data.extend(std::iter::repeat_n(b'a', 1_100_000));
    let report = json(&run_with_deadline(&["report", "--json", "-"], data.clone(), Duration::from_secs(30)));
    assert_eq!(report["lines"]["total"], 2);
    assert_eq!(report["lines"]["truncated"], 1);
    // the same in a .gz file, and right at the cap
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.log.gz");
    std::fs::write(&path, gzip(&data)).unwrap();
    let report =
        json(&run_with_deadline(&["report", "--json", path.to_str().unwrap()], Vec::new(), Duration::from_secs(30)));
    assert_eq!(report["lines"]["total"], 2);
    assert_eq!(report["lines"]["truncated"], 1);
    let mut exact = LINE.as_bytes().to_vec();
    exact.extend(std::iter::repeat_n(b'b', 1 << 20));
    let report = json(&run_with_deadline(&["report", "--json", "-"], exact, Duration::from_secs(30)));
    assert_eq!(report["lines"]["total"], 2);
}

#[test]
fn a_gzip_of_zeros_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.log.gz");
    std::fs::write(&path, gzip(&vec![0u8; 20 << 20])).unwrap();
    let out = run_with_deadline(&["report", path.to_str().unwrap()], Vec::new(), Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "nothing could be read");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("binary") && stderr.contains("NUL"), "{stderr}");
}

/// A file truncated while it is read (copytruncate) ends the read where it ends, with a notice;
/// it never crashes the reader (a mapping would fault on the pages that went away).
#[test]
fn a_file_truncated_while_it_is_read_is_read_up_to_where_it_still_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let lines = 200_000;
    std::fs::write(&path, LINE.repeat(lines)).unwrap();
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let settings = config.ingest();
    let file = std::fs::File::open(&path).unwrap();
    let len = file.metadata().unwrap().len();
    let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mut ingestor = settings.ingestor(&enricher, None, 0);
    let mut seen = 0usize;
    let mut sink = |_: &Event<'_>, _: &foley_triage::enrich::Enriched, _: Origin, _: &[u8]| {
        seen += 1;
        if seen == 10 {
            // truncated under the reader, after its first chunk
            writer.set_len(1000).unwrap();
        }
    };
    let outcome = read::read_range(&mut ingestor, &file, "app.log", 0, len, &mut sink);
    assert!(seen < lines, "the lines past the truncation are not invented");
    assert!(outcome.notices.iter().any(|n| n.contains("shrank")), "the truncation is said: {:?}", outcome.notices);
    // and the real binary, with the file shrinking under it at once, ends normally
    std::fs::write(&path, LINE.repeat(lines)).unwrap();
    let mut child = binary()
        .args(["report", "--json", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    let status = child.wait().unwrap();
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
}

fn mkfifo(path: &std::path::Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

#[test]
fn fifos_process_substitution_and_proc_files_are_read_as_streams() {
    let dir = tempfile::tempdir().unwrap();
    // a FIFO with a writer
    let fifo = dir.path().join("pipe.log");
    mkfifo(&fifo);
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&writer_path).unwrap();
        for _ in 0..5000 {
            f.write_all(LINE.as_bytes()).unwrap();
        }
    });
    let out = run_with_deadline(&["report", "--json", fifo.to_str().unwrap()], Vec::new(), Duration::from_secs(60));
    writer.join().unwrap();
    assert_eq!(json(&out)["lines"]["total"], 5000);

    // process substitution: bash hands the report /dev/fd/63
    let file = dir.path().join("inference.log");
    std::fs::write(&file, LINE.repeat(8452)).unwrap();
    let script = format!("exec {} report --json <(cat {})", env!("CARGO_BIN_EXE_foley-triage"), file.display());
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert_eq!(json(&out)["lines"]["total"], 8452, "not a silent zero");

    // a /proc file reports length 0 but has lines
    let out = run_with_deadline(&["report", "--json", "/proc/self/status"], Vec::new(), Duration::from_secs(30));
    assert!(json(&out)["lines"]["total"].as_u64().unwrap() > 5);

    // random bytes are refused as binary, not read forever
    let out = run_with_deadline(&["report", "/dev/urandom"], Vec::new(), Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binary"));
}

#[test]
fn a_symlink_loop_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let out = binary().args(["report", a.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loop"), "{stderr}");
    assert!(!stderr.contains("no such file"), "{stderr}");
}

#[test]
fn a_corrupt_gzip_keeps_what_decodes_and_the_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = gzip(LINE.repeat(1000).as_bytes());
    let good = bytes.len();
    // a second member whose data is garbage
    let mut second = gzip(LINE.repeat(1000).as_bytes());
    for b in second.iter_mut().skip(12).take(40) {
        *b ^= 0x5a;
    }
    bytes.extend_from_slice(&second);
    std::fs::write(dir.path().join("old.log.gz"), bytes).unwrap();
    std::fs::write(dir.path().join("new.log"), LINE.repeat(10)).unwrap();
    let out = binary().args(["report", "--json", dir.path().to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = json(&out);
    let total = report["lines"]["total"].as_u64().unwrap();
    assert!(total >= 1010, "the first member and the other file are read: {total}");
    assert!(stderr.contains("corrupt gzip data near compressed byte"), "{stderr}");
    assert!(stderr.contains("old.log.gz"), "{stderr}");
    let at: u64 = stderr.split("compressed byte ").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    assert!(at >= good as u64, "the offset is past the good member ({good}): {at}");
}

#[test]
fn empty_inputs_and_empty_windows_are_said() {
    let dir = tempfile::tempdir().unwrap();
    // an empty directory
    let out = binary().args(["report", dir.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no log files in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // binary files only
    std::fs::write(dir.path().join("core.log"), vec![0u8; 10_000]).unwrap();
    let out = binary().args(["report", dir.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no input could be read");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no input could be read"));
    // old logs and a window in the last 30 minutes
    std::fs::write(dir.path().join("core.log"), LINE.repeat(3)).unwrap();
    let out = binary().args(["report", "--since", "30m", dir.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no events between") && stderr.contains("the newest event is at 2025-09-01"), "{stderr}");
}

/// An all-NUL file next to good logs contributes nothing to the console: no event in the tail, no
/// `unparsed` component on the health panel.
#[test]
fn a_refused_file_contributes_nothing_to_the_console() {
    use foley_triage::backend::Backend;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("inference.log");
    let bad = dir.path().join("zeros.log");
    std::fs::write(&good, LINE.repeat(20)).unwrap();
    std::fs::write(&bad, vec![0u8; 100_000]).unwrap();
    let config = Config::default();
    let mut backend = foley_triage::backend::local::LocalBackend::open(
        vec![good, bad],
        config.enricher().unwrap(),
        &config,
        2,
        true,
        Vec::new(),
    );
    let notices = backend.refresh();
    assert!(notices.iter().any(|n| n.contains("zeros.log") && n.contains("binary")), "{notices:?}");
    let tail = backend.tail(0, 100);
    assert_eq!(tail.len(), 20);
    assert!(tail.iter().all(|(_, e)| !e.raw.contains("\\0")));
    let overview = backend.overview(foley_triage::backend::TimeRange::ALL);
    assert_eq!(overview.lines.total, 20);
    assert!(!overview.health.contains_key("unparsed"), "{:?}", overview.health.keys());
}

#[test]
fn follow_text_keeps_every_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("inference.log");
    std::fs::write(&log, LINE).unwrap();
    let mut child = binary()
        .args(["follow", "--from-start", log.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    for id in ["vid_7a3b9c", "req_1", "MODEL_INFER_FAIL"] {
        assert!(line.contains(id), "{id} missing from {line}");
    }
}

/// File names are outside text too: an escape sequence in a file name never reaches the terminal
/// from the report's messages.
#[test]
fn escape_sequences_in_file_names_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("x\u{1b}]52;c;aGk=\u{7}.log");
    std::fs::write(&hostile, vec![0u8; 10_000]).unwrap();
    std::fs::write(dir.path().join("ok.log"), LINE).unwrap();
    let out = binary().args(["report", dir.path().to_str().unwrap()]).output().unwrap();
    let all = [out.stdout, out.stderr].concat();
    assert!(!all.contains(&0x1b), "an ESC byte was printed: {}", String::from_utf8_lossy(&all));
    assert!(String::from_utf8_lossy(&all).contains("\\e]52"), "the name is shown escaped");
}

mod feeding {
    use foley_triage::pipeline::{Feeder, IngestSettings, NoSink, PipelineOptions};
    use proptest::prelude::*;

    /// Events and line counts from feeding `data` in chunks of `chunk` bytes (0: all at once).
    fn feed(data: &[u8], chunk: usize, max_line: usize) -> (u64, u64, u64) {
        let config = foley_triage::config::Config::default();
        let enricher = config.enricher().unwrap();
        let settings =
            IngestSettings { options: PipelineOptions { max_line, ..PipelineOptions::default() }, bucket_ms: 60_000 };
        let mut ingestor = settings.ingestor(&enricher, None, 0);
        let mut feeder = Feeder::new(0);
        let mut events = 0u64;
        let mut sink = |_: &foley_triage::event::Event<'_>,
                        _: &foley_triage::enrich::Enriched,
                        _: foley_triage::event::Origin,
                        _: &[u8]| events += 1;
        if chunk == 0 {
            feeder.feed(&mut ingestor, data, &mut sink);
        } else {
            let mut at = 0;
            // read_from, as files and streams are read
            while at < data.len() {
                let n = feeder
                    .read_from(
                        &mut ingestor,
                        chunk,
                        |buf| {
                            let n = buf.len().min(data.len() - at);
                            buf[..n].copy_from_slice(&data[at..at + n]);
                            at += n;
                            Ok(n)
                        },
                        &mut sink,
                    )
                    .unwrap();
                assert!(n > 0);
            }
            assert_eq!(feeder.read_from(&mut ingestor, chunk, |_| Ok(0), &mut NoSink).unwrap(), 0);
        }
        feeder.finish(&mut ingestor, &mut sink);
        assert_eq!(feeder.position(), data.len() as u64, "every byte is accounted for");
        (events, ingestor.stats.lines.total, ingestor.stats.lines.truncated)
    }

    fn bytes_with_lines() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                4 => Just(b'a'),
                1 => Just(b'\n'),
                1 => Just(b'\r'),
                1 => Just(b' '),
                1 => any::<u8>(),
                1 => Just(b'x'),
            ],
            0..600,
        )
    }

    /// Found by the `reader` fuzz target: a line exactly the cap long ending in CRLF, its `\r` in
    /// one read and its `\n` in the next, was counted as truncated (the `\r` was counted in its
    /// length while the line was partial).
    #[test]
    fn a_line_at_the_cap_with_crlf_split_between_reads_is_whole() {
        let data = b"\0\xff\x08\0\r\n";
        assert_eq!(feed(data, 0, 4), (1, 1, 0));
        for chunk in 1..data.len() {
            assert_eq!(feed(data, chunk, 4), (1, 1, 0), "chunks of {chunk}");
        }
        // the same at the end of the input without its newline
        assert_eq!(feed(b"abcd\r", 1, 4), feed(b"abcd\r", 0, 4));
        assert_eq!(feed(b"abcd\r", 0, 4).2, 0);
    }

    proptest! {
        /// Whatever the chunking, the same lines and the same truncations; every input ends.
        #[test]
        fn any_chunking_gives_the_same_lines(data in bytes_with_lines(), chunk in 1usize..97, max_line in 8usize..64) {
            let whole = feed(&data, 0, max_line);
            let chunked = feed(&data, chunk, max_line);
            prop_assert_eq!(whole, chunked);
        }
    }
}

/// `report` on a named pipe nobody writes to yet says it waits for a writer (instead of looking
/// hung), then reads what the writer sends and ends when the writer closes.
#[test]
fn report_on_a_fifo_without_a_writer_says_it_waits_then_reads_the_writer() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let mut child = binary()
        .args(["report", "--json"])
        .arg(&fifo)
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = child.stderr.take().unwrap();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&said);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&said.lock().unwrap()).contains("waiting for a writer") {
        assert!(child.try_wait().unwrap().is_none(), "report ended without a writer");
        assert!(Instant::now() < deadline, "never said it waits: {}", String::from_utf8_lossy(&said.lock().unwrap()));
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).expect("open the pipe for writing");
    for i in 0..50 {
        writeln!(writer, "2025-09-01 14:00:{:02} [ERROR] video_id=vid_p{i:03} error_code=MODEL_INFER_FAIL", i % 60)
            .unwrap();
    }
    drop(writer);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "report did not end when the writer closed");
        std::thread::sleep(Duration::from_millis(20));
    };
    reader.join().unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(status.success(), "{status:?}: {}", String::from_utf8_lossy(&said.lock().unwrap()));
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["errors"].as_u64(), Some(50), "{out}");
}
