//! Property tests: no input panics the parsers or the pipeline, every line is accounted for, and
//! the sanitiser never lets a control character through.
#![allow(clippy::panic, clippy::unwrap_used)]

use foley_triage::enrich::Enricher;
use foley_triage::parse::{Format, LineParser};
use foley_triage::pipeline::{Ingestor, NoSink, PipelineOptions};
use proptest::prelude::*;

/// Lines that look like the real formats, with hostile pieces spliced in.
fn line_like() -> impl Strategy<Value = Vec<u8>> {
    let prefixes = prop::sample::select(vec![
        "2025-09-01 14:23:11 [ERROR] ".to_string(),
        "2025-13-45 99:99:99 [INFO] ".to_string(),
        "[2025-09-01 14:23:11,189] ERROR in app: ".to_string(),
        "10.0.0.1 - - [01/Sep/2025:14:23:11 +0000] \"GET /x?video_id=".to_string(),
        "[hevc @ 0x55d5] ".to_string(),
        "{\"log\":\"".to_string(),
        "{\"kind\":\"Event\",\"reason\":\"".to_string(),
        "Traceback (most recent call last):".to_string(),
        "    File \"x\"".to_string(),
        String::new(),
    ]);
    let body = prop::collection::vec(
        prop::sample::select(vec![
            b"video_id=vid_1 ".to_vec(),
            b"error_code=MODEL_INFER_FAIL ".to_vec(),
            b"reason=\"unterminated ".to_vec(),
            b"inference_time=2.4s ".to_vec(),
            b"gpu_mem=999999999999TiB ".to_vec(),
            b"\x1b[31m".to_vec(),
            b"\x1b]52;c;aGk=\x07".to_vec(),
            b"\xff\xfe".to_vec(),
            b"\x00".to_vec(),
            b"\\\"".to_vec(),
            b"=".to_vec(),
            b"\xe2\x80\xae".to_vec(),
            b"\t".to_vec(),
            b"{\"a\":".to_vec(),
            "é€🙂".as_bytes().to_vec(),
        ]),
        0..12,
    );
    (prefixes, body, prop::collection::vec(any::<u8>(), 0..20)).prop_map(|(p, b, tail)| {
        let mut line = p.into_bytes();
        for piece in b {
            line.extend(piece);
        }
        line.extend(tail.into_iter().filter(|c| *c != b'\n'));
        line
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_line_panics_any_parser(line in line_like()) {
        let text = String::from_utf8_lossy(&line);
        for format in Format::ALL {
            let _ = foley_triage::parse::parse_as(format, &text, 0);
        }
        let event = LineParser::new(None, 0).parse(&text);
        let _ = event.all_fields();
        let _ = foley_triage::patterns::template(&event.message);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_every_line_is_counted(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..40)) {
        let enricher = Enricher::builtin();
        let mut input = Vec::new();
        for l in &lines {
            input.extend(l.iter().copied().filter(|c| *c != b'\n'));
            input.push(b'\n');
        }
        for format in [None, Some(Format::SeedKv), Some(Format::Python), Some(Format::Json)] {
            let mut ingestor = Ingestor::new(&enricher, LineParser::new(format, 0), PipelineOptions { max_line: 64, ..PipelineOptions::default() }, 60_000);
            let consumed = ingestor.ingest_block(&input, 0, true, &mut NoSink);
            prop_assert_eq!(consumed, input.len());
            prop_assert_eq!(ingestor.stats.lines.total, lines.len() as u64, "every line counted once");
        }
    }

    #[test]
    fn streaming_in_any_chunks_equals_one_block(lines in prop::collection::vec(line_like(), 1..30), chunk in 1usize..64) {
        let enricher = Enricher::builtin();
        let mut input = Vec::new();
        for l in &lines {
            input.extend(l);
            input.push(b'\n');
        }
        let mut whole = Ingestor::new(&enricher, LineParser::new(None, 0), PipelineOptions::default(), 60_000);
        whole.ingest_block(&input, 0, true, &mut NoSink);
        struct Chunks<'a>(&'a [u8], usize);
        impl std::io::Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(self.0.len()).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut streamed = Ingestor::new(&enricher, LineParser::new(None, 0), PipelineOptions::default(), 60_000);
        foley_triage::pipeline::ingest_reader(&mut streamed, Chunks(&input, chunk), &mut NoSink).unwrap();
        prop_assert_eq!(streamed.stats.lines, whole.stats.lines);
        prop_assert_eq!(streamed.stats.level_total(foley_triage::event::Level::Error), whole.stats.level_total(foley_triage::event::Level::Error));
    }

    #[test]
    fn sanitised_text_is_always_terminal_safe(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let clean = foley_triage::text::sanitize_bytes(&bytes);
        prop_assert!(foley_triage::text::is_terminal_safe(&clean));
        prop_assert!(!clean.contains(char::from(0x1b_u8)), "ESC passed through");
    }

    #[test]
    fn sanitise_keeps_safe_text_unchanged(s in "[a-zA-Z0-9 _.:=/\\-]{0,80}") {
        prop_assert_eq!(foley_triage::text::sanitize(&s), s.clone());
    }
}

#[test]
fn a_ten_megabyte_line_is_truncated_not_buffered_whole() {
    let enricher = Enricher::builtin();
    let mut input = b"2025-09-01 14:23:11 [ERROR] error_code=MODEL_INFER_FAIL reason=\"".to_vec();
    input.extend(std::iter::repeat_n(b'x', 10 << 20));
    input.extend(b"\"\n2025-09-01 14:23:12 [INFO] video_id=vid_2 audio_gen_success=True\n");
    let mut ingestor = Ingestor::new(&enricher, LineParser::new(None, 0), PipelineOptions::default(), 60_000);
    foley_triage::pipeline::ingest_reader(&mut ingestor, std::io::Cursor::new(input), &mut NoSink).unwrap();
    assert_eq!(ingestor.stats.lines.total, 2);
    assert_eq!(ingestor.stats.lines.truncated, 1);
    assert_eq!(ingestor.stats.level_total(foley_triage::event::Level::Info), 1, "the line after it is intact");
}
