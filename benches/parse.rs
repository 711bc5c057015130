//! Criterion micro-benchmarks of the hot path: `LineParser::parse` on one line of each format, and
//! `Ingestor::ingest_block` (parse + enrich + statistics) on 1 MiB blocks of each demo log.
//!
//! `cargo bench --bench parse` (a filter may follow: `cargo bench --bench parse -- ingest_block`).

#![allow(clippy::unwrap_used, clippy::panic)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use foley_triage::config::Config;
use foley_triage::parse::{Format, LineParser};
use foley_triage::pipeline::{Ingestor, NoSink, PipelineOptions};
use std::hint::black_box;
use std::time::Duration;

/// (name, the format the file it comes from is detected as, line).
const LINES: [(&str, Format, &str); 8] = [
    (
        "seed_kv_success",
        Format::SeedKv,
        "2025-09-01 14:00:01 [INFO] video_id=vid_f6172e audio_gen_success=True inference_time=1.0s duration=59s \
         gpu_mem=36.0GiB gpu_util=62% request_id=req_596ad34b",
    ),
    (
        "seed_kv_error",
        Format::SeedKv,
        "2025-09-01 14:01:09 [ERROR] video_id=vid_77433e error_code=VIDEO_DECODE_ERR reason=\"Invalid data found \
         when processing input\" duration=154s request_id=req_28cee708",
    ),
    (
        "python",
        Format::Python,
        "[2025-09-01 14:00:00,018] INFO in app: POST /api/v1/generate video_id=vid_0cf0ed accepted",
    ),
    (
        "nginx",
        Format::Nginx,
        "10.0.2.60 - - [01/Sep/2025:14:00:00 +0000] \"POST /api/v1/generate?video_id=vid_aaed53 HTTP/1.1\" 200 370 \
         \"-\" \"foley-client/1.4\" 0.913",
    ),
    (
        "ffmpeg",
        Format::Ffmpeg,
        "2025-09-01 14:00:00.017 video_id=vid_f6172e [h264 @ 0x55638a61aa30] Stream #0:0: Video: h264 (High), \
         yuv420p, 1280x720",
    ),
    (
        "json_k8s_event",
        Format::Json,
        r#"{"kind":"Event","type":"Normal","reason":"Pulled","message":"Container image \"registry.local/foley/foley-infer:1.4.2\" already present on machine","involvedObject":{"kind":"Pod","name":"foley-infer-7d9f8-x2nx9","namespace":"foley"},"lastTimestamp":"2025-09-01T14:00:04Z"}"#,
    ),
    (
        "json_docker",
        Format::Json,
        r#"{"log":"{\"levelname\": \"INFO\", \"name\": \"foley.scheduler\", \"message\": \"queue stats pending=5 running=7 gpu_util=79% gpu_mem=34.9GiB\", \"asctime\": \"2025-09-01 14:00:00,649\"}\n","stream":"stdout","time":"2025-09-01T14:00:00.649026Z"}"#,
    ),
    // what a mixed file pays: an nginx line in a file detected as seed_kv falls back format by format
    (
        "nginx_in_seed_kv_file",
        Format::SeedKv,
        "10.0.2.60 - - [01/Sep/2025:14:00:00 +0000] \"POST /api/v1/generate?video_id=vid_aaed53 HTTP/1.1\" 200 370 \
         \"-\" \"foley-client/1.4\" 0.913",
    ),
];

fn parse_lines(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, format, line) in LINES {
        let parser = LineParser::new(Some(format), 0);
        assert!(parser.parse(line).parsed, "{name}: the sample line does not parse");
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), line, |b, line| {
            b.iter(|| {
                let event = parser.parse(black_box(line));
                black_box(event.ts_ms);
                black_box(event.parsed)
            })
        });
    }
    group.finish();
}

/// `bytes` of `log` repeated, cut at the end of a line.
fn block_of(log: &[u8], bytes: usize) -> Vec<u8> {
    let mut block = Vec::with_capacity(bytes + log.len());
    while block.len() < bytes {
        block.extend_from_slice(log);
    }
    let end = memchr::memrchr(b'\n', &block[..bytes]).map_or(bytes, |i| i + 1);
    block.truncate(end);
    block
}

fn ingest_blocks(c: &mut Criterion) {
    let enricher = Config::default().enricher().expect("the built-in rule base loads");
    let mut group = c.benchmark_group("ingest_block");
    for (file, bytes) in foley_triage::demo::FILES {
        let block = block_of(bytes, 1 << 20);
        let format = foley_triage::source::detect_format(&block, 0);
        let name = format.map_or("undetected", Format::as_str);
        group.throughput(Throughput::Bytes(block.len() as u64));
        group.bench_with_input(BenchmarkId::new(name, file), &block, |b, block| {
            b.iter(|| {
                let parser = LineParser::new(format, 0);
                let mut ingestor = Ingestor::new(&enricher, parser, PipelineOptions::default(), 60_000);
                let consumed = ingestor.ingest_block(black_box(block), 0, true, &mut NoSink);
                assert_eq!(consumed, block.len());
                black_box(ingestor.stats.lines.total)
            })
        });
    }
    group.finish();
}

fn short() -> Criterion {
    Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_secs(1)).sample_size(20)
}

criterion_group! {
    name = benches;
    config = short();
    targets = parse_lines, ingest_blocks
}
criterion_main!(benches);
