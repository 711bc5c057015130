//! `foley-triage es init` and `es doctor`: setting a cluster up for the console (templates,
//! lifecycle, Kibana's data view and saved searches; idempotent, with a dry run), and checking an
//! existing one against what the console needs, each problem with the request that fixes it.

use crate::cli::{EsAction, EsArgs, EsDoctorArgs, EsInitArgs};
use crate::config::Config;
use crate::elastic::client::{EsClient, Flavor};
use crate::elastic::setup::{self, Names, Outcome, Step};
use crate::elastic::{EsError, fields, lifecycle};
use anyhow::{Context, Result};
use serde_json::Value;

pub fn run(action: &EsAction, es: &EsArgs, config: &Config, loaded_from: Option<&std::path::Path>) -> Result<i32> {
    if !es.enabled() {
        eprintln!("foley-triage: es needs a cluster: --es URL, --cloud-id or --cluster NAME");
        return Ok(super::EXIT_USAGE);
    }
    match action {
        EsAction::Init(args) => init(args, es, config, loaded_from),
        EsAction::Doctor(args) => doctor(args, es, config),
    }
}

/// A client for Kibana with the cluster's credentials and TLS settings.
fn kibana_client(cluster: &EsClient, url: &str) -> Result<EsClient, EsError> {
    let mut options = cluster.options.clone();
    options.urls = vec![url.trim_end_matches('/').to_string()];
    EsClient::new(options)
}

fn print_step(step: &Step, dry_run: bool) {
    let (word, note) = match (&step.outcome, dry_run) {
        (Outcome::Create, false) => ("created   ", String::new()),
        (Outcome::Create, true) => ("would create", String::new()),
        (Outcome::Change(d), false) => ("changed   ", format!(": {}", d.join("; "))),
        (Outcome::Change(d), true) => ("would change", format!(": {}", d.join("; "))),
        (Outcome::LeftAlone(why), _) => ("left alone", format!(": {why}")),
        (Outcome::Skipped(why), _) => ("skipped   ", format!(": {why}")),
    };
    println!("{word} {}{note}", step.what);
    if dry_run && let Some(request) = &step.request {
        for line in request.show().lines() {
            println!("    {line}");
        }
    }
}

fn init(args: &EsInitArgs, es: &EsArgs, config: &Config, loaded_from: Option<&std::path::Path>) -> Result<i32> {
    let retention = (args.retention != "none").then(|| args.retention.clone());
    if retention.as_deref().is_some_and(|r| !lifecycle::valid_age(r)) {
        eprintln!("foley-triage: --retention `{}`: use a number and a unit (14d, 36h) or none", args.retention);
        return Ok(super::EXIT_USAGE);
    }
    if !lifecycle::valid_size(&args.rollover_size) || !lifecycle::valid_age(&args.rollover_age) {
        eprintln!(
            "foley-triage: --rollover-size `{}` / --rollover-age `{}`: use a number and a unit (50gb, 1d)",
            args.rollover_size, args.rollover_age
        );
        return Ok(super::EXIT_USAGE);
    }
    if let Some(url) = &args.kibana
        && let Err(e) = crate::elastic::secrets::refuse_credentials("--kibana", url)
    {
        eprintln!("foley-triage: {e}");
        return Ok(super::EXIT_USAGE);
    }
    let client = crate::elastic::connect(es)?;
    let names = Names::new(&args.index_prefix);
    println!(
        "{} at {}: what the console needs for {}",
        client.flavor.map(Flavor::describe).unwrap_or_default(),
        client.options.urls.join(","),
        names.pattern
    );
    // rollover, once set up (the write alias exists), is kept: a later `es init` without
    // --rollover must not turn the write index into one that never rolls over
    let existing_alias = lifecycle::write_index(&client, &names)?;
    if let (false, Some(index)) = (args.rollover, &existing_alias) {
        println!("rollover   kept: {} exists and writes go to {index}", names.alias);
    }
    let rolls = args.rollover || existing_alias.is_some();
    let wanted = lifecycle::Lifecycle {
        retention,
        rollover: rolls
            .then(|| lifecycle::Rollover { size: args.rollover_size.clone(), age: args.rollover_age.clone() }),
    };
    let mut steps = vec![setup::plan_component(&client, &names, args.replicas)?];
    let mut attach = None;
    if wanted.wanted() {
        let step = lifecycle::plan_lifecycle(&client, &names, &wanted)?;
        if !matches!(step.outcome, Outcome::Skipped(_)) {
            attach = Some(&wanted);
        }
        steps.push(step);
    }
    steps.push(setup::plan_index_template(&client, &names, args.priority, attach)?);
    if rolls {
        // after the template and the policy, so that the first index gets both
        steps.push(lifecycle::plan_write_alias(&client, &names)?);
    }
    if args.pipeline {
        let body = crate::elastic::ingest::body(config, &config.enricher()?);
        steps.push(setup::plan_pipeline(&client, &names, body)?);
    }
    let kibana = args.kibana.as_deref().map(|url| kibana_client(&client, url)).transpose()?;
    let data_view = config.links.data_view.clone();
    if let Some(k) = &kibana {
        steps.extend(setup::plan_kibana(k, &data_view, &names.pattern)?);
    }
    for step in &steps {
        if !args.dry_run
            && let Some(request) = &step.request
        {
            setup::apply(&client, kibana.as_ref(), request).with_context(|| step.what.clone())?;
        }
        print_step(step, args.dry_run);
    }
    if args.pipeline
        && steps.iter().any(|s| s.what.starts_with("ingest pipeline") && !matches!(s.outcome, Outcome::Skipped(_)))
    {
        println!(
            "           Filebeat: output.elasticsearch.pipeline: \"{}\" (or index.default_pipeline on its indices)",
            crate::elastic::ingest::name(&names.prefix)
        );
    }
    if let Some(url) = &args.kibana {
        let path = loaded_from
            .map(std::path::Path::to_path_buf)
            .or_else(|| crate::config::config_dir().map(|d| d.join("config.toml")));
        match (path, args.dry_run) {
            (Some(path), false) => {
                write_links(&path, url, &data_view)?;
                println!("wrote      links.kibana_url and links.data_view = \"{data_view}\" to {}", path.display());
            }
            (Some(path), true) => {
                println!("would write links.kibana_url and links.data_view = \"{data_view}\" to {}", path.display())
            }
            (None, _) => println!("no config directory: set links.data_view = \"{data_view}\" yourself"),
        }
    }
    Ok(0)
}

/// Sets `[links] kibana_url` and `data_view` in the config file, keeping everything else (and its
/// comments) as it is; creates the file when there is none.
pub fn write_links(path: &std::path::Path, kibana_url: &str, data_view: &str) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?;
    if !doc.contains_table("links") {
        doc["links"] = toml_edit::table();
    }
    doc["links"]["kibana_url"] = toml_edit::value(kibana_url.trim_end_matches('/'));
    doc["links"]["data_view"] = toml_edit::value(data_view);
    // what is written must still load
    Config::parse(&doc.to_string(), &path.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, doc.to_string()).with_context(|| format!("writing {}", path.display()))
}

/// One finding of `es doctor`.
struct Finding {
    problem: bool,
    text: String,
    fix: Option<String>,
}

fn ok(text: String) -> Finding {
    Finding { problem: false, text, fix: None }
}

fn problem(text: String, fix: String) -> Finding {
    Finding { problem: true, text, fix: Some(fix) }
}

/// Fields the console reads besides the keyword ones, with the type it needs.
const TYPED_FIELDS: [(&str, &str); 6] = [
    ("is_error", "boolean"),
    ("job_outcome", "boolean"),
    ("parsed", "boolean"),
    ("lines", "integer"),
    ("latency_ms", "double"),
    ("latency_bin", "integer"),
];

/// The types `_field_caps` reports for a field (several when indices disagree).
fn types_of(caps: &Value, field: &str) -> Vec<String> {
    caps["fields"][field].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn check_fields(client: &EsClient, findings: &mut Vec<Finding>) -> Result<(), EsError> {
    let mut wanted: Vec<String> = vec!["@timestamp".into(), "message".into()];
    wanted.extend(fields::KEYWORD_FIELDS.iter().flat_map(|f| [f.to_string(), format!("{f}.keyword")]));
    wanted.extend(TYPED_FIELDS.iter().map(|(f, _)| f.to_string()));
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let caps = client.field_caps(&wanted)?;
    let template_fix = "foley-triage es init (new daily indices get the mapping; reindex old ones with POST /_reindex)";
    match types_of(&caps, "@timestamp").as_slice() {
        [] => findings.push(problem(
            "`@timestamp` is missing: the console cannot place documents in time".into(),
            format!("map the time field as a date in the index template ({template_fix})"),
        )),
        [t] if t == "date" || t == "date_nanos" => findings.push(ok("`@timestamp` is a date".into())),
        types => findings.push(problem(
            format!("`@timestamp` is {} instead of a date (a mapping conflict across indices?)", types.join(" and ")),
            template_fix.into(),
        )),
    }
    let mut absent = Vec::new();
    for field in fields::KEYWORD_FIELDS {
        let types = types_of(&caps, field);
        if types.is_empty() {
            absent.push(field.to_string());
        } else if types.iter().any(|t| t == "text") && types_of(&caps, &format!("{field}.keyword")).is_empty() {
            findings.push(problem(
                format!("`{field}` is text without a keyword sub-field: the console cannot count or filter by it"),
                template_fix.into(),
            ));
        } else if types.len() > 1 {
            findings.push(problem(
                format!("`{field}` has conflicting types across indices: {}", types.join(", ")),
                template_fix.into(),
            ));
        }
    }
    for (field, want) in TYPED_FIELDS {
        let types = types_of(&caps, field);
        if types.is_empty() {
            absent.push(field.to_string());
        } else if !types.iter().all(|t| t == want || (want == "double" && (t == "float" || t == "long"))) {
            findings.push(problem(format!("`{field}` is {} instead of {want}", types.join(", ")), template_fix.into()));
        }
    }
    // `template` came with a later `ship`: an index shipped before has everything else
    if absent == ["template"] {
        findings.push(problem(
            "`template` is absent: shipped by an older foley-triage, so the Patterns screen lists only the \
             templates of unknown errors"
                .into(),
            "foley-triage es init, then ship the logs again (into daily indices each document is updated in \
             place: nothing doubled)"
                .into(),
        ));
    } else if absent.is_empty() {
        findings.push(ok("every field the console reads is there".into()));
    } else {
        findings.push(problem(
            format!("fields the console reads are absent: {}", absent.join(", ")),
            "the console derives them itself from the lines (--fields ecs|logstash|seed, detected by itself), \
             reading documents; for the cheaper aggregations, ship with `foley-triage ship`, or have Filebeat \
             use the pipeline `foley-triage es init --pipeline` writes"
                .into(),
        ));
    }
    Ok(())
}

fn check_templates(client: &EsClient, names: &Names, findings: &mut Vec<Finding>) -> Result<(), EsError> {
    let step = setup::plan_index_template(client, names, setup::DEFAULT_PRIORITY, None)?;
    findings.push(match step.outcome {
        Outcome::Create => problem(
            format!(
                "no index template `{}`: new daily indices get dynamic mappings (text for strings)",
                names.template
            ),
            "foley-triage es init   (or: PUT /_index_template/… as `es init --dry-run` prints)".into(),
        ),
        Outcome::Change(d) => problem(
            format!("index template `{}` differs: {}", names.template, d.join("; ")),
            "foley-triage es init".into(),
        ),
        _ => ok(format!("index template `{}` is as the console needs it", names.template)),
    });
    Ok(())
}

fn check_lifecycle(client: &EsClient, names: &Names, findings: &mut Vec<Finding>) -> Result<(), EsError> {
    let pattern = &client.options.index;
    let opensearch = matches!(client.flavor, Some(Flavor::OpenSearch(_)));
    let path =
        if opensearch { format!("/_plugins/_ism/explain/{pattern}") } else { format!("/{pattern}/_ilm/explain") };
    let answer = match client.get(&path) {
        Ok(a) => a,
        Err(e) if setup::is_missing_api(&e) => {
            findings.push(problem(
                "this server has no lifecycle API (ILM / ISM): indices never age out".into(),
                format!(
                    "delete old indices yourself: DELETE /{}-YYYY.MM.dd (daily) or DELETE /{}-NNNNNN (rolled over)",
                    names.prefix, names.prefix
                ),
            ));
            return check_rollover(client, names, opensearch, findings);
        }
        Err(e) => return Err(e),
    };
    let unmanaged: Vec<String> = if opensearch {
        answer
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| {
                *k != "total_managed_indices"
                    && v["index.plugins.index_state_management.policy_id"].is_null()
                    && v["policy_id"].is_null()
            })
            .map(|(k, _)| k.clone())
            .collect()
    } else {
        answer["indices"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v["managed"] != Value::Bool(true))
            .map(|(k, _)| k.clone())
            .collect()
    };
    findings.push(if unmanaged.is_empty() {
        ok("every index has a lifecycle policy".into())
    } else {
        let fix = if opensearch {
            format!(
                "foley-triage es init, then POST /_plugins/_ism/add/{pattern} {{\"policy_id\": \"{}\"}}",
                names.policy
            )
        } else {
            format!(
                "foley-triage es init, then PUT /{pattern}/_settings {{\"index.lifecycle.name\": \"{}\"}}",
                names.policy
            )
        };
        problem(format!("{} indices have no lifecycle policy (e.g. {})", unmanaged.len(), unmanaged[0]), fix)
    });
    check_rollover(client, names, opensearch, findings)
}

/// When rollover is set up (the write alias exists) or asked for by the policy: the alias has a
/// write index, and the policy rolls it over.
fn check_rollover(
    client: &EsClient,
    names: &Names,
    opensearch: bool,
    findings: &mut Vec<Finding>,
) -> Result<(), EsError> {
    let policy_path = if opensearch {
        format!("/_plugins/_ism/policies/{}", names.policy)
    } else {
        format!("/_ilm/policy/{}", names.policy)
    };
    let (policy, api) = match setup::get_optional(client, &policy_path) {
        Ok(p) => (p.unwrap_or_default(), true),
        Err(e) if setup::is_missing_api(&e) => (Value::Null, false),
        Err(e) => return Err(e),
    };
    let rolls = if opensearch {
        policy["policy"]["states"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["actions"].as_array().into_iter().flatten().any(|a| a.get("rollover").is_some()))
    } else {
        policy[&names.policy]["policy"]["phases"]["hot"]["actions"].get("rollover").is_some()
    };
    match (lifecycle::write_index(client, names)?, rolls) {
        (Some(index), true) => {
            findings.push(ok(format!("writes go through {} to {index}, rolled over by {}", names.alias, names.policy)))
        }
        (Some(index), false) => findings.push(problem(
            format!("{} writes to {index}, but no policy rolls it over: it grows without end", names.alias),
            if api {
                "foley-triage es init --rollover".into()
            } else {
                format!("no lifecycle API here: roll it over yourself, e.g. daily: POST /{}/_rollover", names.alias)
            },
        )),
        (None, true) => findings.push(problem(
            format!("the policy {} rolls over, but the write alias {} does not exist", names.policy, names.alias),
            format!(
                "foley-triage es init --rollover, or PUT /{} {{\"aliases\": {{\"{}\": {{\"is_write_index\": true}}}}}}",
                names.first_index, names.alias
            ),
        )),
        (None, false) => {}
    }
    Ok(())
}

/// Daily index sizes, and shards per node against the default limit of 1,000.
fn check_sizes(client: &EsClient, findings: &mut Vec<Finding>) -> Result<(), EsError> {
    const LARGE_SHARD: f64 = 50.0 * 1024.0 * 1024.0 * 1024.0;
    let pattern = &client.options.index;
    let indices =
        client.get(&format!("/_cat/indices/{pattern}?format=json&bytes=b&h=index,pri,pri.store.size,docs.count"))?;
    let mut sizes: Vec<(String, f64, f64)> = indices
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let bytes = i["pri.store.size"].as_str()?.parse::<f64>().ok()?;
            let shards = i["pri"].as_str().and_then(|p| p.parse::<f64>().ok()).unwrap_or(1.0).max(1.0);
            Some((crate::text::sanitize_owned(i["index"].as_str()?, 120), bytes, bytes / shards))
        })
        .collect();
    sizes.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some((name, bytes, _)) = sizes.first() {
        let mean = sizes.iter().map(|s| s.1).sum::<f64>() / sizes.len() as f64;
        findings.push(ok(format!(
            "{} indices; mean {:.1} MB, largest {name} {:.1} MB (primaries)",
            sizes.len(),
            mean / 1e6,
            bytes / 1e6
        )));
    }
    if let Some((name, _, per_shard)) = sizes.iter().find(|s| s.2 > LARGE_SHARD) {
        findings.push(problem(
            format!("{name} has shards of {:.0} GB: above 50 GB they are slow to move and recover", per_shard / 1e9),
            "raise number_of_shards in the component template (PUT /_component_template/<prefix>-settings)".into(),
        ));
    }
    let shards = client.get("/_cat/shards?format=json&h=index,node,state")?;
    let mut per_node: std::collections::BTreeMap<String, usize> = Default::default();
    for s in shards.as_array().into_iter().flatten() {
        if let Some(node) = s["node"].as_str() {
            *per_node.entry(crate::text::sanitize_owned(node, 80)).or_default() += 1;
        }
    }
    match per_node.iter().max_by_key(|(_, n)| **n) {
        Some((node, n)) if *n > 1000 => findings.push(problem(
            format!("node {node} holds {n} shards (the default limit is 1,000 per node)"),
            "fewer, larger indices: a longer retention per index or fewer shards (component template), or more nodes"
                .into(),
        )),
        Some((node, n)) => findings.push(ok(format!("shards per node at most {n} ({node})"))),
        None => {}
    }
    Ok(())
}

fn doctor(args: &EsDoctorArgs, es: &EsArgs, config: &Config) -> Result<i32> {
    let client = crate::elastic::connect(es)?;
    let names = Names::new(&args.index_prefix);
    println!(
        "{} at {}, index pattern {}",
        client.flavor.map(Flavor::describe).unwrap_or_default(),
        client.options.urls.join(","),
        client.options.index
    );
    let mut findings = Vec::new();
    check_fields(&client, &mut findings)?;
    check_templates(&client, &names, &mut findings)?;
    check_lifecycle(&client, &names, &mut findings)?;
    check_sizes(&client, &mut findings)?;
    if let Some(url) = &args.kibana {
        let kibana = kibana_client(&client, url)?;
        let id = &config.links.data_view;
        findings.push(match setup::get_optional(&kibana, &format!("/api/data_views/data_view/{id}"))? {
            Some(_) => ok(format!("Kibana data view `{id}` exists")),
            None => problem(
                format!("Kibana has no data view `{id}`: the console's Kibana links open nothing"),
                format!("foley-triage es init --kibana {url}"),
            ),
        });
    }
    let problems = findings.iter().filter(|f| f.problem).count();
    for f in &findings {
        println!("{} {}", if f.problem { "PROBLEM" } else { "ok     " }, f.text);
        if let Some(fix) = &f.fix {
            println!("        fix: {fix}");
        }
    }
    println!("{problems} problem(s)");
    Ok(if problems > 0 { 1 } else { 0 })
}
