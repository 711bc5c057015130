//! `foley-triage ship PATHS --es URL`: parse local logs with the same pipeline and bulk-index them
//! into daily indices — or through the rollover alias when `es init --rollover` set one up — with
//! ids from file and offset (shipping twice creates no duplicates);
//! per-document failures are reported, 429s retried, progress shown on stderr.

use crate::cli::{EsArgs, ShipArgs};
use crate::config::Config;
use crate::elastic::{client::EsClient, schema};
use crate::enrich::Enricher;
use anyhow::{Context, Result};
use std::io::Write;

/// Counts of one shipping run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shipped {
    pub documents: u64,
    pub created: u64,
    pub updated: u64,
    pub failed: u64,
}

/// Sends one bulk body; retries items rejected with 429 (up to 3 times); returns per-item outcome.
fn send_bulk(client: &EsClient, lines: &[(String, String, String)], totals: &mut Shipped) -> Result<()> {
    let mut pending: Vec<&(String, String, String)> = lines.iter().collect();
    for attempt in 0..4 {
        let body: String = pending.iter().map(|(_, action, doc)| format!("{action}\n{doc}\n")).collect();
        let answer = client.bulk(body).context("bulk request")?;
        let items = answer["items"].as_array().cloned().unwrap_or_default();
        let mut retry = Vec::new();
        for (item, line) in items.iter().zip(pending.iter()) {
            // `index` (daily indices) or `create` (through the rollover alias)
            let result = item.as_object().and_then(|o| o.values().next()).unwrap_or(&serde_json::Value::Null);
            let exists = result["error"]["type"] == "version_conflict_engine_exception";
            match result["status"].as_u64().unwrap_or(0) {
                201 => totals.created += 1,
                200 => totals.updated += 1,
                // `create` of a document shipped before: kept as it is
                409 if exists => totals.updated += 1,
                429 if attempt < 3 => retry.push(*line),
                status => {
                    totals.failed += 1;
                    let reason = result["error"]["reason"].as_str().unwrap_or("unknown reason");
                    eprintln!(
                        "foley-triage: document {} failed (HTTP {status}): {}",
                        result["_id"].as_str().unwrap_or("?"),
                        crate::text::sanitize_owned(&client.redact(reason), 200)
                    );
                }
            }
        }
        if retry.is_empty() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(200 << attempt));
        pending = retry;
    }
    Ok(())
}

/// Where the bulk requests go: a cluster, or NDJSON files to load later.
pub enum Destination<'a> {
    Cluster(&'a EsClient),
    /// Per index, `INDEX.index.json` (mappings) and bulk bodies `INDEX.NNNN.ndjson`, each below
    /// [`PART_BYTES`] (clusters refuse bodies above `http.max_content_length`, 100 MB by default).
    Files {
        dir: std::path::PathBuf,
        open: std::collections::HashMap<String, Part>,
    },
}

/// Largest bulk file written by `ship --output`.
pub const PART_BYTES: u64 = 90 * 1024 * 1024;

/// The bulk file being written for one index.
pub struct Part {
    out: std::io::BufWriter<std::fs::File>,
    number: u32,
    bytes: u64,
}

fn create_part(dir: &std::path::Path, index: &str, number: u32) -> Result<std::io::BufWriter<std::fs::File>> {
    let path = dir.join(format!("{index}.{number:04}.ndjson"));
    let file = crate::demo::create_replacing_own(&path)
        .with_context(|| format!("creating {}", crate::text::path_text(&path)))?;
    Ok(std::io::BufWriter::new(file))
}

impl Destination<'_> {
    /// Gets the destination ready; returns the write alias to write through when rollover is set
    /// up on the cluster (`es init --rollover`), else `None` (daily indices).
    fn prepare(&mut self, prefix: &str) -> Result<Option<String>> {
        match self {
            Destination::Cluster(client) => {
                let names = crate::elastic::setup::Names::new(prefix);
                if let Some(index) =
                    crate::elastic::lifecycle::write_index(client, &names).context("looking for the write alias")?
                {
                    eprintln!("foley-triage: writing through the rollover alias {} (now {index})", names.alias);
                    return Ok(Some(names.alias));
                }
                // create what is missing; never overwrite a template (its priority, settings
                // and mappings may be someone's choice): say what differs instead
                let differences =
                    crate::elastic::setup::ensure_for_ship(client, prefix).context("checking the index template")?;
                if !differences.is_empty() {
                    eprintln!(
                        "foley-triage: warning: the index template `{prefix}` differs from what the console needs ({}); \
                         left as it is: `foley-triage es init` updates it",
                        differences.join("; ")
                    );
                }
            }
            Destination::Files { dir, .. } => {
                std::fs::create_dir_all(&*dir).with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        Ok(None)
    }

    fn send(&mut self, prefix: &str, lines: &[(String, String, String)], totals: &mut Shipped) -> Result<()> {
        match self {
            Destination::Cluster(client) => send_bulk(client, lines, totals),
            Destination::Files { dir, open } => {
                for (index, action, doc) in lines {
                    let part = match open.get_mut(index) {
                        Some(part) => part,
                        None => {
                            let mappings = &schema::index_template(prefix)["template"];
                            let path = dir.join(format!("{index}.index.json"));
                            crate::demo::create_replacing_own(&path)
                                .and_then(|mut f| f.write_all(mappings.to_string().as_bytes()))
                                .with_context(|| format!("writing {}", crate::text::path_text(&path)))?;
                            let out = create_part(dir, index, 1)?;
                            open.entry(index.clone()).or_insert(Part { out, number: 1, bytes: 0 })
                        }
                    };
                    let size = (action.len() + doc.len() + 2) as u64;
                    if part.bytes > 0 && part.bytes + size > PART_BYTES {
                        part.out.flush().with_context(|| format!("writing to {}", dir.display()))?;
                        part.number += 1;
                        part.out = create_part(dir, index, part.number)?;
                        part.bytes = 0;
                    }
                    writeln!(part.out, "{action}\n{doc}").with_context(|| format!("writing to {}", dir.display()))?;
                    part.bytes += size;
                    totals.created += 1;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, prefix: &str, refresh: bool) -> Result<()> {
        match self {
            Destination::Cluster(client) if refresh => {
                client
                    .request(reqwest::Method::POST, &format!("/{prefix}-*/_refresh"), None, false)
                    .context("refreshing the indices")?;
            }
            Destination::Cluster(_) => {}
            Destination::Files { dir, open } => {
                for part in open.values_mut() {
                    part.out.flush().with_context(|| format!("writing to {}", dir.display()))?;
                }
            }
        }
        Ok(())
    }
}

/// Ships every input; returns the counts.
pub fn ship(to: &mut Destination<'_>, enricher: &Enricher, config: &Config, args: &ShipArgs) -> Result<Shipped> {
    let inputs = crate::source::resolve(&args.paths)?;
    let alias = to.prepare(&args.index_prefix)?;
    let settings = config.ingest();
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            crate::source::Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            _ => None,
        })
        .sum();
    let mut done_bytes = 0u64;
    let mut totals = Shipped::default();
    let batch = args.batch.max(1);
    for (index, input) in inputs.iter().enumerate() {
        let crate::source::Input::File(path) = input else {
            crate::applog::error("ship reads files, not stdin; skipped -");
            continue;
        };
        let name = std::fs::canonicalize(path).unwrap_or(path.clone()).display().to_string();
        let len = std::fs::metadata(path).map_or(0, |m| m.len());
        let waiting = |what: &str| crate::applog::info(what);
        let opened = match crate::source::read::open(input, None, settings.options.default_offset, &waiting) {
            Ok(o) => o,
            Err(e @ crate::source::SourceError::Binary(..)) => {
                crate::applog::error(&e.to_string());
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        // bytes of the files shipped before this one, for the progress bar
        let base = done_bytes;
        let mut buffer: Vec<(String, String, String)> = Vec::with_capacity(batch);
        let mut failure: Option<anyhow::Error> = None;
        {
            let mut sink = |event: &crate::event::Event<'_>,
                            enriched: &crate::enrich::Enriched,
                            origin: crate::event::Origin,
                            raw: &[u8]| {
                if failure.is_some() {
                    return;
                }
                let mut doc = schema::document(enricher, event, enriched, origin, raw, &name);
                doc[schema::INGESTED] = serde_json::json!(chrono::Utc::now().timestamp_millis());
                if !args.keep_raw
                    && let Some(fields) = doc.as_object_mut()
                {
                    fields.remove("raw");
                }
                let id = schema::document_id(&name, origin.offset);
                let (index, action) = match &alias {
                    // through the alias, `create`: a document shipped before is a conflict, kept
                    // as it is (its ingest time too) and counted as already there. Ids are unique
                    // within one index: after a rollover, shipping the same lines again adds them
                    Some(alias) => (alias.clone(), serde_json::json!({"create": {"_index": alias, "_id": id}})),
                    None => {
                        let index = schema::index_name(&args.index_prefix, event.ts_ms);
                        let action = serde_json::json!({"index": {"_index": index, "_id": id}});
                        (index, action)
                    }
                };
                buffer.push((index, action.to_string(), doc.to_string()));
                totals.documents += 1;
                if buffer.len() >= batch {
                    if let Err(e) = to.send(&args.index_prefix, &buffer, &mut totals) {
                        failure = Some(e);
                    }
                    buffer.clear();
                    done_bytes = done_bytes.max(base + origin.offset);
                    progress(totals.documents, done_bytes.min(total_bytes), total_bytes);
                }
            };
            let (_, outcome) = crate::source::read::read_events(opened, index as u32, enricher, &settings, &mut sink);
            for notice in outcome.notices {
                crate::applog::warn(&notice.to_string());
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if !buffer.is_empty() {
            to.send(&args.index_prefix, &buffer, &mut totals)?;
        }
        done_bytes = base + len;
        progress(totals.documents, done_bytes.min(total_bytes), total_bytes);
    }
    to.finish(&args.index_prefix, args.refresh)?;
    eprintln!();
    Ok(totals)
}

fn progress(documents: u64, done: u64, total: u64) {
    let width = 30usize;
    let filled = if total == 0 { width } else { ((done as f64 / total as f64) * width as f64) as usize }.min(width);
    eprint!(
        "\r[{}{}] {:>3}% {documents} documents",
        "#".repeat(filled),
        " ".repeat(width - filled),
        (done * 100).checked_div(total).unwrap_or(100)
    );
    let _ = std::io::stderr().flush();
}

pub fn run(args: &ShipArgs, es: &EsArgs, config: &Config) -> Result<i32> {
    if let Some(dir) = &args.output {
        let enricher = config.enricher()?;
        let mut to = Destination::Files { dir: dir.clone(), open: Default::default() };
        let totals = ship(&mut to, &enricher, config, args)?;
        eprintln!("wrote {} documents as bulk requests into {}", totals.documents, dir.display());
        return Ok(0);
    }
    if !es.enabled() {
        crate::applog::error("ship needs a cluster: --es URL (or --cloud-id)");
        return Ok(super::EXIT_USAGE);
    }
    // a cluster error goes back to `main`, which says it in one line with exit status 2
    let client = crate::elastic::connect(es)?;
    let enricher = config.enricher()?;
    let totals = ship(&mut Destination::Cluster(&client), &enricher, config, args)?;
    eprintln!(
        "shipped {} documents to {} ({} created, {} already there, {} failed)",
        totals.documents,
        client.flavor.map(|f| f.describe()).unwrap_or_default(),
        totals.created,
        totals.updated,
        totals.failed
    );
    Ok(if totals.failed > 0 { 1 } else { 0 })
}
