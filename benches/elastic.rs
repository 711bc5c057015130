//! Cluster backend: time to the first overview and bytes transferred per refresh, against a real
//! OpenSearch-compatible server (osmem-server, in memory), at two index sizes. Bytes per refresh
//! must not grow with the index: aggregations return buckets, not documents.
//! Run with `cargo bench --bench elastic` (needs `pip install osmem-server`).
#![allow(clippy::unwrap_used, clippy::panic)]

use foley_triage::backend::Backend;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let bin = Command::new("python3")
        .args(["-c", "import osmem_server; print(osmem_server.resolve_binary())"])
        .output()
        .unwrap();
    let bin = String::from_utf8(bin.stdout).unwrap().trim().to_string();
    let mut server = Command::new(bin)
        .args(["-addr", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = serde_json::from_str::<serde_json::Value>(&line).unwrap()["url"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let options = foley_triage::source::simulate::SimulateOptions { rate: 0.6, ..Default::default() };
    let mut copies = 0;
    for target in [1usize, 3] {
        while copies < target {
            let copy = dir.path().join(format!("copy{copies}"));
            foley_triage::source::simulate::write_logs(&copy, &options).unwrap();
            std::fs::remove_file(copy.join("manifest.json")).unwrap();
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_foley-triage"))
                .args(["ship", copy.to_str().unwrap(), "--es", &url, "--refresh"])
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            eprintln!("shipped copy {copies} in {:.1} s", started.elapsed().as_secs_f64());
            copies += 1;
        }
        let args = foley_triage::cli::EsArgs {
            es: vec![url.clone()],
            index: "hunyuan-foley-*".into(),
            es_timeout: 60,
            ..Default::default()
        };
        let config = foley_triage::config::Config::default();
        let started = Instant::now();
        let client = foley_triage::elastic::connect(&args).unwrap();
        let mut backend = foley_triage::backend::elastic::EsBackend::new(client, config.enricher().unwrap(), &config);
        let first = backend.overview(Some(3_600_000));
        let first_screen = started.elapsed();
        let documents = first.lines.total;
        let mut refresh_bytes = Vec::new();
        let mut refresh_time = Vec::new();
        for span in [Some(300_000), Some(900_000), Some(3_600_000), None] {
            let t = Instant::now();
            backend.overview(span);
            refresh_time.push(t.elapsed());
            refresh_bytes.push(backend.bytes_last_refresh);
        }
        println!(
            "elastic/{documents} documents: first overview {:.0} ms; refresh 5m/15m/1h/all: {:?} bytes, {:?} ms",
            first_screen.as_secs_f64() * 1000.0,
            refresh_bytes,
            refresh_time.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}
