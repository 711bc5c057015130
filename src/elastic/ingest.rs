//! The ingest pipeline `es init --pipeline` writes: for a team shipping the seed's `key=value` logs
//! with Filebeat straight to the cluster, the equivalent of the seed's Logstash filter (dissect
//! rather than grok, kv), plus the fields the console reads, from the same tables the console uses:
//! the component map of the config, the error levels, the rule base (each rule a `set` processor in
//! the console's order: code rules with a pattern first, then code rules, then keyword rules) and
//! the latency bins. `unknown_template` is an approximation of the console's (numbers masked).

use crate::config::Config;
use crate::enrich::Enricher;
use serde_json::{Value, json};

/// The latency histogram's bins (`stats::histogram`), for the script; a test checks them against
/// the console's own `bin_of`.
const MIN_EXP: i32 = -10;
const MAX_EXP: i32 = 30;
const SUB_BITS: u32 = 4;
const SUB_BINS: i64 = 1 << SUB_BITS;
const BINS: i64 = (MAX_EXP - MIN_EXP) as i64 * SUB_BINS + 1;

/// The pipeline's name for an index prefix.
pub fn name(prefix: &str) -> String {
    format!("{prefix}-enrich")
}

/// A painless string literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A painless regex literal, case-insensitive as the rule base is.
fn regex(pattern: &str) -> String {
    format!("/(?i){}/", pattern.replace('/', "\\/"))
}

/// Error component, level and latency, as the console's enrichment computes them.
const ENRICH_SCRIPT: &str = r#"
String code = ctx.error_code;
if (code != null) { int i = code.indexOf('_'); ctx.error_category = i > 0 ? code.substring(0, i) : code; }
String component = null;
if (code != null) {
  int best = -1;
  for (def p : params.prefixes.entrySet()) {
    if (code.startsWith(p.getKey()) && p.getKey().length() > best) { best = p.getKey().length(); component = p.getValue(); }
  }
}
if (component == null && ctx.component != null && params.components.contains(ctx.component)) { component = ctx.component; }
if (ctx.source == null) { ctx.source = params.source; }
if (component == null) { component = params.sources.getOrDefault(ctx.source, 'other'); }
ctx.component = component;
ctx.parsed = ctx.level != null;
String level = ctx.level == null ? 'INFO' : ctx.level.toUpperCase();
ctx.level = level;
ctx.is_error = params.error_levels.contains(level) || code != null;
ctx.lines = 1;
ctx.job_outcome = ctx.audio_gen_success != null && ctx.video_id != null;
if (ctx.inference_time != null) {
  String t = ctx.inference_time.toString();
  double scale = 1000.0;
  if (t.endsWith('ms')) { scale = 1.0; t = t.substring(0, t.length() - 2); }
  else if (t.endsWith('s')) { t = t.substring(0, t.length() - 1); }
  try {
    double ms = Double.parseDouble(t) * scale;
    ctx.latency_ms = ms;
    if (ms < 1.0 / 1024.0) { ctx.latency_bin = 0; }
    else {
      long bits = Double.doubleToRawLongBits(ms);
      int exp = (int) ((bits >> 52) & 0x7ff) - 1023;
      if (exp >= params.max_exp) { ctx.latency_bin = params.bins - 1; }
      else { ctx.latency_bin = 1 + (exp - params.min_exp) * params.sub_bins + (int) ((bits >> (52 - params.sub_bits)) & (params.sub_bins - 1)); }
    }
  } catch (NumberFormatException e) {}
}
"#;

/// The unexplained error's template (approximate: tokens holding a digit become `<N>`).
const TEMPLATE_SCRIPT: &str = r#"
String message = ctx.message == null ? '' : ctx.message;
StringBuilder out = new StringBuilder();
for (String word : message.splitOnToken(' ')) {
  boolean digit = false;
  for (int i = 0; i < word.length(); i++) { if (Character.isDigit(word.charAt(i))) { digit = true; } }
  if (out.length() > 0) { out.append(' '); }
  out.append(digit ? '<N>' : word);
}
String head = ctx.error_code != null ? ctx.error_code + ': ' : '[' + ctx.source + '] ';
ctx.unknown_template = head + out.toString();
"#;

/// The pipeline's body (`PUT /_ingest/pipeline/NAME`, the same on Elasticsearch and OpenSearch).
pub fn body(config: &Config, enricher: &Enricher) -> Value {
    let c = &config.components;
    let mut processors = vec![
        json!({"dissect": {"field": "message", "pattern": "%{_ts} %{+_ts} [%{level}] %{_content}",
            "append_separator": " ", "ignore_failure": true}}),
        json!({"date": {"field": "_ts", "formats": ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss,SSS", "ISO8601"],
            "timezone": config.timezone, "target_field": "@timestamp", "ignore_failure": true}}),
        // key=value pairs; a quoted value may hold spaces, so split only before the next key
        json!({"kv": {"field": "_content", "field_split": " (?=[A-Za-z_][A-Za-z0-9_.]*=)", "value_split": "=",
            "trim_value": "\"", "ignore_failure": true}}),
        json!({"script": {"lang": "painless", "source": ENRICH_SCRIPT.trim(), "params": {
            "prefixes": c.prefixes,
            "sources": c.sources,
            "components": enricher.components.names,
            "source": "inference",
            "error_levels": ["ERROR", "FATAL", "CRITICAL"],
            "min_exp": MIN_EXP, "max_exp": MAX_EXP, "sub_bits": SUB_BITS, "sub_bins": SUB_BINS, "bins": BINS
        }}}),
    ];
    // the rules, in the order the console tries them
    let rules = &enricher.rules;
    let code_rules = rules.iter().filter(|r| r.spec.error_code.is_some());
    let ordered: Vec<_> = code_rules
        .clone()
        .filter(|r| r.spec.pattern.is_some())
        .chain(code_rules.filter(|r| r.spec.pattern.is_none()))
        .chain(rules.iter().filter(|r| r.spec.error_code.is_none()))
        .collect();
    for rule in ordered {
        let mut condition = vec!["ctx.rule == null".to_string(), "ctx.is_error == true".to_string()];
        if let Some(code) = &rule.spec.error_code {
            condition.push(format!("ctx.error_code == {}", quoted(code)));
        }
        if let Some(component) = &rule.spec.component {
            condition.push(format!("ctx.component == {}", quoted(component)));
        }
        if let Some(source) = &rule.spec.source {
            condition.push(format!("ctx.source == {}", quoted(source)));
        }
        if let Some(pattern) = &rule.spec.pattern {
            condition.push(format!("ctx.message != null && ctx.message =~ {}", regex(pattern)));
        }
        processors.push(json!({"set": {"field": "rule", "value": rule.spec.id, "if": condition.join(" && ")}}));
    }
    processors.push(json!({"script": {"lang": "painless", "source": TEMPLATE_SCRIPT.trim(),
        "if": "ctx.is_error == true && ctx.rule == null"}}));
    processors.push(json!({"remove": {"field": ["_ts", "_content"], "ignore_missing": true}}));
    json!({
        "description": "foley-triage: the seed's key=value logs, with the fields the console reads",
        "processors": processors,
        "_meta": {"managed_by": super::setup::MANAGED_BY}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script's bin formula, in Rust, with the script's parameters.
    fn script_bin(ms: f64) -> i64 {
        if ms < 1.0 / 1024.0 {
            return 0;
        }
        let bits = ms.to_bits() as i64;
        let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
        if exp >= MAX_EXP {
            return BINS - 1;
        }
        1 + (exp - MIN_EXP) as i64 * SUB_BINS + ((bits >> (52 - SUB_BITS)) & (SUB_BINS - 1))
    }

    #[test]
    fn the_scripts_latency_bins_are_the_consoles() {
        for ms in [0.0, 0.0005, 0.001, 0.9, 1.0, 1.2, 37.5, 1200.0, 86_400_000.0, 1e12, 1e300] {
            assert_eq!(script_bin(ms), crate::stats::histogram::bin_of(ms) as i64, "{ms}");
        }
    }

    #[test]
    fn the_pipeline_follows_the_consoles_tables() {
        let config = Config::default();
        let enricher = config.enricher().expect("rules");
        let pipeline = body(&config, &enricher);
        let processors = pipeline["processors"].as_array().expect("processors");
        let kinds: Vec<&str> =
            processors.iter().filter_map(|p| p.as_object()?.keys().next().map(String::as_str)).collect();
        assert_eq!(&kinds[..4], ["dissect", "date", "kv", "script"]);
        let sets: Vec<&Value> = processors.iter().filter_map(|p| p.get("set")).collect();
        assert_eq!(sets.len(), enricher.rules.len(), "one processor per rule");
        assert_eq!(processors[3]["script"]["params"]["prefixes"]["MODEL_"], "model_inference");
        // a code rule with a pattern comes before the same code's plain rule
        let position = |id: &str| sets.iter().position(|s| s["value"] == id).expect(id);
        assert!(position("model-infer-nccl") < position("cuda-oom"));
        let nccl = &sets[position("model-infer-nccl")]["if"];
        assert!(
            nccl.as_str().is_some_and(|c| c.contains("ctx.error_code == 'MODEL_INFER_FAIL'") && c.contains("=~ /(?i)"))
        );
        assert_eq!(quoted("it's"), "'it\\'s'");
        assert_eq!(regex("a/b"), "/(?i)a\\/b/");
    }
}
