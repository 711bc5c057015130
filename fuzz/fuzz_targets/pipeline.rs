//! The line splitter and the whole pipeline (parse, enrich, stats) on arbitrary bytes, in one
//! block and streamed in small chunks: no panic, every line counted once.
#![no_main]
use foley_triage::enrich::Enricher;
use foley_triage::parse::LineParser;
use foley_triage::pipeline::{ingest_reader, Ingestor, NoSink, PipelineOptions};
use libfuzzer_sys::fuzz_target;

static ENRICHER: std::sync::OnceLock<Enricher> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let enricher = ENRICHER.get_or_init(Enricher::builtin);
    let options = PipelineOptions { max_line: 256, ..PipelineOptions::default() };
    let mut whole = Ingestor::new(enricher, LineParser::new(None, 0), options, 60_000);
    let consumed = whole.ingest_block(data, 0, true, &mut NoSink);
    assert_eq!(consumed, data.len());
    struct Chunks<'a>(&'a [u8]);
    impl std::io::Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = 7.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let mut streamed = Ingestor::new(enricher, LineParser::new(None, 0), options, 60_000);
    let _ = ingest_reader(&mut streamed, Chunks(data), &mut NoSink);
    whole.stats.settle();
});
