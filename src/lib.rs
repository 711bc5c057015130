//! foley-triage: a terminal triage console for the logs of an AI video-to-audio service.
//!
//! Data flows one way: source → parse → enrich → stats → backend → state → view / report.
//! ARCHITECTURE.md is the map.

pub mod alerts; // threshold alerts over sliding windows of the statistics
pub mod applog; // the app's own log file (errors and warnings, mode 0600)
pub mod backend; // the questions screens ask (overview, tail, a video, a code's videos) and the engine thread
pub mod cli; // command-line definitions
pub mod clock; // how times are written for people (views, reports, links)
pub mod commands; // one module per subcommand
pub mod config; // configuration: defaults < file < environment < flags
pub mod demo; // the bundled demo logs, written into a private temporary directory
pub mod elastic; // Elasticsearch / OpenSearch: client, documents, aggregations
pub mod enrich; // components, rule base, attribution
pub mod event; // the event model
pub mod integrate; // clipboard, browser, retry and Kibana links
pub mod kv; // key=value text: the pairs of a line, without allocating
pub mod notify; // alerts to Slack, DingTalk, WeCom or a webhook: payloads, retries, no repeats
pub mod parse; // one parser per log format, detection
pub mod patterns; // message templates for unknown errors
pub mod pipeline; // bytes → events → statistics, block by block
pub mod query; // the one filter language: parser, local matcher, query DSL
pub mod report; // the headless report (text / JSON)
pub mod simulate; // writes realistic demo logs with an incident (the logs the console reads)
pub mod source; // inputs: resolving names, the one reader (files, streams, gzip), the live follower
pub mod stats; // mergeable statistics, histograms, health, the overview
pub mod text; // the terminal-safety sanitiser
pub mod tui; // the interactive console
