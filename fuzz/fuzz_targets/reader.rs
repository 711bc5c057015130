//! The reader's feeding of lines across chunks, on arbitrary bytes in arbitrary chunk sizes with
//! a tiny line cap: every input ends (no loop at EOF, whatever the last line looks like), every
//! byte is accounted for, and the lines and truncations are those of one whole block.
#![no_main]
use foley_triage::enrich::Enricher;
use foley_triage::pipeline::{Feeder, IngestSettings, NoSink, PipelineOptions};
use libfuzzer_sys::fuzz_target;

static ENRICHER: std::sync::OnceLock<Enricher> = std::sync::OnceLock::new();

fn feed(enricher: &Enricher, data: &[u8], chunk: usize, max_line: usize) -> (u64, u64) {
    let settings = IngestSettings { options: PipelineOptions { max_line, ..PipelineOptions::default() }, bucket_ms: 60_000 };
    let mut ingestor = settings.ingestor(enricher, None, 0);
    let mut feeder = Feeder::new(0);
    let mut at = 0;
    loop {
        let n = feeder
            .read_from(&mut ingestor, chunk, |buf| {
                let n = buf.len().min(data.len() - at);
                buf[..n].copy_from_slice(&data[at..at + n]);
                at += n;
                Ok(n)
            }, &mut NoSink)
            .expect("reads from memory do not fail");
        if n == 0 {
            break;
        }
    }
    feeder.finish(&mut ingestor, &mut NoSink);
    assert_eq!(feeder.position(), data.len() as u64);
    (ingestor.stats.lines.total, ingestor.stats.lines.truncated)
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let enricher = ENRICHER.get_or_init(Enricher::builtin);
    let chunk = 1 + (first as usize % 61);
    let max_line = 4 + (first as usize % 29);
    let whole = feed(enricher, data, data.len().max(1), max_line);
    let chunked = feed(enricher, data, chunk, max_line);
    assert_eq!(whole, chunked);
});
