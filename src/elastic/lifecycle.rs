//! How the indices age out, as requests `es init` compares with what exists: a lifecycle policy
//! (ILM on Elasticsearch, ISM on OpenSearch) that deletes an index `retention` after its day
//! (daily indices, the default), or — with `--rollover` — rolls the write index over by primary
//! shard size or age and deletes each index `retention` after its rollover. Rollover needs a write
//! alias (`<prefix>-write`, first index `<prefix>-000001`): `ship` writes through it when it exists.

use super::EsError;
use super::client::{EsClient, Flavor};
use super::setup::{MANAGED_BY, Names, Outcome, Request, Step, get_optional, is_missing_api};
use serde_json::{Value, json};

/// When the write index rolls over: whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollover {
    /// Size of one primary shard (`50gb`).
    pub size: String,
    /// Age of the index (`1d`).
    pub age: String,
}

/// What `es init` asks of the lifecycle policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// Delete an index this long after its day (daily) or its rollover; `None`: never.
    pub retention: Option<String>,
    /// Roll over through the write alias instead of writing daily indices.
    pub rollover: Option<Rollover>,
}

impl Lifecycle {
    /// A policy is needed at all.
    pub fn wanted(&self) -> bool {
        self.retention.is_some() || self.rollover.is_some()
    }

    /// In words, for the summary.
    pub fn describe(&self) -> String {
        let delete = |after: &str| match &self.retention {
            Some(r) => format!("delete {r} after {after}"),
            None => "never delete".into(),
        };
        match &self.rollover {
            Some(r) => format!("roll over at {} a primary shard or {}, {}", r.size, r.age, delete("rollover")),
            None => delete("the index's day"),
        }
    }
}

/// A time the lifecycle APIs accept: a whole number and a unit (`14d`, `36h`).
pub fn valid_age(s: &str) -> bool {
    let digits = s.trim_end_matches(['d', 'h', 'm', 's']);
    !digits.is_empty() && digits.len() + 1 == s.len() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A size the rollover conditions accept: a whole number and a byte unit (`50gb`).
pub fn valid_size(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ["tb", "gb", "mb", "kb", "b"]
        .iter()
        .any(|unit| lower.strip_suffix(unit).is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())))
}

/// The ILM policy (Elasticsearch). Daily: indices stay hot and are deleted `retention` after the
/// day in their name (the template sets `parse_origination_date`). Rollover: the hot phase rolls
/// the write index over by primary shard size or age; the delete phase counts from the rollover.
pub fn ilm_body(lifecycle: &Lifecycle) -> Value {
    let mut hot = json!({"set_priority": {"priority": 100}});
    if let Some(r) = &lifecycle.rollover {
        hot["rollover"] = json!({"max_primary_shard_size": r.size, "max_age": r.age});
    }
    let mut phases = json!({"hot": {"min_age": "0ms", "actions": hot}});
    if let Some(retention) = &lifecycle.retention {
        phases["delete"] = json!({"min_age": retention, "actions": {"delete": {}}});
    }
    json!({"policy": {"_meta": {"managed_by": MANAGED_BY}, "phases": phases}})
}

/// The ISM policy (OpenSearch): the same states, attached to new indices by its `ism_template`.
/// ISM's rollover rolls over when any of its conditions is met, as ILM's does.
pub fn ism_body(names: &Names, lifecycle: &Lifecycle) -> Value {
    let (actions, age) = match &lifecycle.rollover {
        Some(r) => {
            (json!([{"rollover": {"min_primary_shard_size": r.size, "min_index_age": r.age}}]), "min_rollover_age")
        }
        None => (json!([]), "min_index_age"),
    };
    let mut states = vec![json!({"name": "hot", "actions": actions, "transitions": []})];
    if let Some(retention) = &lifecycle.retention {
        states[0]["transitions"] = json!([{"state_name": "delete", "conditions": {age: retention}}]);
        states.push(json!({"name": "delete", "actions": [{"delete": {}}], "transitions": []}));
    }
    json!({"policy": {
        "description": format!("{MANAGED_BY}: {} ({})", lifecycle.describe(), names.pattern),
        "default_state": "hot",
        "states": states,
        "ism_template": [{"index_patterns": [names.pattern], "priority": 100}]
    }})
}

/// The settings the index template carries for the policy (`None`: none). Elasticsearch names the
/// policy (and the alias to roll over); OpenSearch attaches its policy by `ism_template` and only
/// needs the rollover alias (it refuses `index.lifecycle` settings).
pub fn template_settings(names: &Names, flavor: Option<Flavor>, lifecycle: &Lifecycle) -> Option<Value> {
    match (flavor, &lifecycle.rollover) {
        (Some(Flavor::OpenSearch(_)), Some(_)) => {
            Some(json!({"plugins.index_state_management.rollover_alias": names.alias}))
        }
        (Some(Flavor::OpenSearch(_)), None) => None,
        (_, Some(_)) => Some(json!({"index": {"lifecycle": {"name": names.policy, "rollover_alias": names.alias}}})),
        (_, None) => Some(json!({"index": {"lifecycle": {"name": names.policy, "parse_origination_date": true}}})),
    }
}

/// A setting read from index settings written flat (`index.lifecycle.name`) or nested, with or
/// without the `index.` prefix (each product gives back its own form).
pub fn setting<'a>(settings: &'a Value, dotted: &str) -> &'a Value {
    let short = dotted.strip_prefix("index.").unwrap_or(dotted);
    for key in [dotted, short] {
        if !settings[key].is_null() {
            return &settings[key];
        }
        let mut at = settings;
        for part in key.split('.') {
            at = &at[part];
        }
        if !at.is_null() {
            return at;
        }
        let mut at = &settings["index"];
        for part in short.split('.') {
            at = &at[part];
        }
        if !at.is_null() {
            return at;
        }
    }
    &Value::Null
}

/// The lifecycle step for the product that answered.
pub fn plan_lifecycle(client: &EsClient, names: &Names, lifecycle: &Lifecycle) -> Result<Step, EsError> {
    let opensearch = matches!(client.flavor, Some(Flavor::OpenSearch(_)));
    let base = if opensearch {
        format!("/_plugins/_ism/policies/{}", names.policy)
    } else {
        format!("/_ilm/policy/{}", names.policy)
    };
    let (what, ours) = if opensearch {
        (format!("ISM policy {} ({})", names.policy, lifecycle.describe()), ism_body(names, lifecycle))
    } else {
        (format!("ILM policy {} ({})", names.policy, lifecycle.describe()), ilm_body(lifecycle))
    };
    let existing = match get_optional(client, &base) {
        Ok(v) => v,
        Err(e) if is_missing_api(&e) => {
            let api = if opensearch { "the ISM plugin" } else { "ILM" };
            return Ok(Step {
                what,
                request: None,
                outcome: Outcome::Skipped(format!(
                    "this server lacks {api}: indices will not {} by themselves",
                    if lifecycle.rollover.is_some() { "roll over or age out" } else { "age out" }
                )),
            });
        }
        Err(e) => return Err(e),
    };
    let Some(existing) = existing else {
        return Ok(Step {
            what,
            request: Some(Request::es(reqwest::Method::PUT, base, ours)),
            outcome: Outcome::Create,
        });
    };
    let (have, path) = if opensearch {
        // an update names the version it replaces
        let query = format!(
            "?if_seq_no={}&if_primary_term={}",
            existing["_seq_no"].as_u64().unwrap_or(0),
            existing["_primary_term"].as_u64().unwrap_or(1)
        );
        (existing["policy"].clone(), format!("{base}{query}"))
    } else {
        (existing[&names.policy]["policy"].clone(), base)
    };
    let same = if opensearch {
        have["states"] == ours["policy"]["states"]
            && have["ism_template"][0]["index_patterns"] == ours["policy"]["ism_template"][0]["index_patterns"]
    } else {
        let phases = &ours["policy"]["phases"];
        have["phases"]["delete"]["min_age"] == phases["delete"]["min_age"]
            && have["phases"]["delete"]["actions"]["delete"].is_object() == phases["delete"].is_object()
            && have["phases"]["hot"]["actions"]["rollover"] == phases["hot"]["actions"]["rollover"]
    };
    if same {
        return Ok(Step { what, request: None, outcome: Outcome::LeftAlone("as asked".into()) });
    }
    Ok(Step {
        what,
        request: Some(Request::es(reqwest::Method::PUT, path, ours)),
        outcome: Outcome::Change(vec!["its phases or states differ from these".into()]),
    })
}

/// The index the write alias sends documents to, when the alias exists (rollover is set up).
pub fn write_index(client: &EsClient, names: &Names) -> Result<Option<String>, EsError> {
    let Some(answer) = get_optional(client, &format!("/_alias/{}", names.alias))? else {
        return Ok(None);
    };
    let Some(indices) = answer.as_object() else { return Ok(None) };
    let marked = indices.iter().find(|(_, v)| {
        let w = &v["aliases"][&names.alias]["is_write_index"];
        *w == Value::Bool(true) || w.as_str() == Some("true")
    });
    Ok(marked.or_else(|| if indices.len() == 1 { indices.iter().next() } else { None }).map(|(k, _)| k.clone()))
}

/// The write alias step (rollover only): the first index, created with the alias as its write
/// alias, once the template and the policy exist (so that it gets both); left alone after.
pub fn plan_write_alias(client: &EsClient, names: &Names) -> Result<Step, EsError> {
    let what =
        format!("write alias {} (ship writes through it; the first index is {})", names.alias, names.first_index);
    Ok(match write_index(client, names)? {
        Some(index) => Step { what, request: None, outcome: Outcome::LeftAlone(format!("writes go to {index}")) },
        None => Step {
            what,
            request: Some(Request::es(
                reqwest::Method::PUT,
                format!("/{}", names.first_index),
                json!({"aliases": {names.alias.clone(): {"is_write_index": true}}}),
            )),
            outcome: Outcome::Create,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollover(retention: Option<&str>) -> Lifecycle {
        Lifecycle {
            retention: retention.map(str::to_string),
            rollover: Some(Rollover { size: "50gb".into(), age: "1d".into() }),
        }
    }

    #[test]
    fn daily_bodies_delete_after_the_day() {
        let names = Names::new("p");
        let daily = Lifecycle { retention: Some("14d".into()), rollover: None };
        let ilm = ilm_body(&daily);
        assert_eq!(ilm["policy"]["phases"]["delete"]["min_age"], "14d");
        assert!(ilm["policy"]["phases"]["delete"]["actions"]["delete"].is_object());
        assert!(ilm["policy"]["phases"]["hot"]["actions"].get("rollover").is_none());
        let ism = ism_body(&names, &daily);
        assert_eq!(ism["policy"]["default_state"], "hot");
        assert_eq!(ism["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"], "14d");
        assert_eq!(ism["policy"]["ism_template"][0]["index_patterns"][0], "p-*");
    }

    #[test]
    fn rollover_bodies_roll_over_by_size_or_age_and_delete_after_the_rollover() {
        let names = Names::new("p");
        let ilm = ilm_body(&rollover(Some("7d")));
        assert_eq!(
            ilm["policy"]["phases"]["hot"]["actions"]["rollover"],
            json!({"max_primary_shard_size": "50gb", "max_age": "1d"})
        );
        assert_eq!(ilm["policy"]["phases"]["delete"]["min_age"], "7d");
        let ism = ism_body(&names, &rollover(Some("7d")));
        assert_eq!(
            ism["policy"]["states"][0]["actions"][0]["rollover"],
            json!({"min_primary_shard_size": "50gb", "min_index_age": "1d"})
        );
        assert_eq!(ism["policy"]["states"][0]["transitions"][0]["conditions"], json!({"min_rollover_age": "7d"}));
        // rollover without a retention: no delete state or phase
        let keep = ism_body(&names, &rollover(None));
        assert_eq!(keep["policy"]["states"].as_array().map(Vec::len), Some(1));
        assert!(ilm_body(&rollover(None))["policy"]["phases"].get("delete").is_none());
        // the template names the alias to roll over, in each product's setting
        let es = template_settings(&names, Some(Flavor::Elasticsearch(8)), &rollover(None)).unwrap_or_default();
        assert_eq!(setting(&es, "index.lifecycle.rollover_alias"), "p-write");
        assert!(setting(&es, "index.lifecycle.parse_origination_date").is_null(), "rollover indices carry no date");
        let os = template_settings(&names, Some(Flavor::OpenSearch(2)), &rollover(None)).unwrap_or_default();
        assert_eq!(setting(&os, "plugins.index_state_management.rollover_alias"), "p-write");
        assert!(setting(&os, "index.lifecycle.name").is_null());
    }

    #[test]
    fn settings_are_read_flat_or_nested() {
        let flat = json!({"index.lifecycle.name": "a"});
        let nested = json!({"index": {"lifecycle": {"name": "a"}}});
        let short = json!({"lifecycle": {"name": "a"}});
        for s in [flat, nested, short] {
            assert_eq!(setting(&s, "index.lifecycle.name"), "a", "{s}");
        }
        let os = json!({"plugins": {"index_state_management": {"rollover_alias": "w"}}});
        assert_eq!(setting(&os, "plugins.index_state_management.rollover_alias"), "w");
        assert!(setting(&os, "index.lifecycle.name").is_null());
    }

    #[test]
    fn sizes_and_ages() {
        assert!(valid_size("50gb") && valid_size("500MB") && valid_size("1tb"));
        assert!(!valid_size("gb") && !valid_size("1.5gb") && !valid_size("50") && !valid_size("50 gb"));
        assert!(valid_age("14d") && valid_age("36h"));
        assert!(!valid_age("14") && !valid_age("d") && !valid_age("1.5d") && !valid_age("14dd"));
    }
}
