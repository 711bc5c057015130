//! Enrichment: the component of each event, its error category, and the attribution of errors to a
//! rule (likely cause and fix) in the seed's order: exact code → component/source + keywords →
//! unknown.

pub mod component;
pub mod learn;
pub mod rules;

use crate::event::{Event, Source};
use component::{ComponentId, ComponentTable};
use rules::Rule;
use rustc_hash::FxHashMap;

/// Index into [`Enricher::rules`].
pub type RuleId = u16;

/// How an error was explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// Not an error: nothing to explain.
    None,
    /// Explained by a rule (exact code, code + pattern, or keywords).
    Rule(RuleId),
    /// An error no rule explains.
    Unknown,
}

/// What enrichment adds to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enriched {
    pub component: ComponentId,
    pub is_error: bool,
    pub attribution: Attribution,
}

/// Components and rules, compiled for fast lookups.
#[derive(Debug, Clone)]
pub struct Enricher {
    pub components: ComponentTable,
    pub rules: Vec<Rule>,
    /// error code → rules for it, the ones with a pattern first.
    by_code: FxHashMap<String, Vec<RuleId>>,
    /// keyword rules in precedence order, with their compiled restrictions.
    keyword: Vec<(RuleId, Option<ComponentId>, Option<Source>)>,
}

impl Enricher {
    pub fn new(components: ComponentTable, rules: Vec<Rule>) -> Enricher {
        let mut by_code: FxHashMap<String, Vec<RuleId>> = FxHashMap::default();
        let mut keyword = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let id = i as RuleId;
            match &rule.spec.error_code {
                Some(code) => by_code.entry(code.clone()).or_default().push(id),
                None => keyword.push((
                    id,
                    rule.spec.component.as_deref().and_then(|c| components.id(c)),
                    rule.spec.source.as_deref().and_then(Source::parse),
                )),
            }
        }
        for ids in by_code.values_mut() {
            ids.sort_by_key(|id| rules[*id as usize].pattern.is_none());
        }
        Enricher { components, rules, by_code, keyword }
    }

    /// The built-in rules and default components.
    pub fn builtin() -> Enricher {
        let rules = rules::parse_rules(rules::BUILTIN_RULES, "assets/rules.toml").unwrap_or_default();
        Enricher::new(ComponentTable::new(&component::ComponentConfig::default()), rules)
    }

    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.get(id as usize)
    }

    /// The id of the rule named `name` (as documents and owned events carry it).
    pub fn rule_id(&self, name: &str) -> Option<RuleId> {
        self.rules.iter().position(|r| r.spec.id == name).map(|i| i as RuleId)
    }

    /// The explanation a rule name stands for: that rule, or unknown when no rule has the name.
    pub fn attribution_named(&self, name: Option<&str>) -> Attribution {
        name.and_then(|n| self.rule_id(n)).map_or(Attribution::Unknown, Attribution::Rule)
    }

    #[inline]
    pub fn enrich(&self, event: &Event<'_>) -> Enriched {
        let component = self.components.of_event(event);
        let is_error = event.is_error();
        let attribution = if is_error { self.attribute(event, component) } else { Attribution::None };
        Enriched { component, is_error, attribution }
    }

    /// Explains an error event.
    pub fn attribute(&self, event: &Event<'_>, component: ComponentId) -> Attribution {
        let text_matches = |rule: &Rule| match &rule.pattern {
            None => true,
            Some(re) => re.is_match(&event.message) || event.exception.as_deref().is_some_and(|x| re.is_match(x)),
        };
        if let Some(code) = event.error_code.as_deref()
            && let Some(ids) = self.by_code.get(code)
            && let Some(id) = ids.iter().find(|id| text_matches(&self.rules[**id as usize]))
        {
            return Attribution::Rule(*id);
        }
        for (id, only_component, only_source) in &self.keyword {
            if only_component.is_some_and(|c| c != component) || only_source.is_some_and(|s| s != event.source) {
                continue;
            }
            if text_matches(&self.rules[*id as usize]) {
                return Attribution::Rule(*id);
            }
        }
        Attribution::Unknown
    }
}

impl Enricher {
    /// The rule that explains a code on its own (the codes table): what [`Enricher::attribute`]
    /// decides for an error line that carries only this code.
    pub fn attribute_code(&self, code: &str) -> Attribution {
        let event = Event { error_code: Some(code.into()), level: crate::event::Level::Error, ..Default::default() };
        self.attribute(&event, self.components.of_event(&event))
    }
}

/// Why a line is or is not explained (for `rules test`): the same order as [`Enricher::attribute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub component: ComponentId,
    pub is_error: bool,
    /// The rule that explains the line (as if it were an error, when it is not).
    pub rule: Option<RuleId>,
    /// Why that rule, or why none, in words.
    pub reasons: Vec<String>,
}

impl Enricher {
    /// Explains `event` step by step: the exact code (with each code rule's pattern), then the keyword
    /// rules in order with their component and source restrictions. Agrees with [`Enricher::attribute`].
    pub fn explain(&self, event: &Event<'_>) -> Explanation {
        let component = self.components.of_event(event);
        let mut reasons = Vec::new();
        let text_matches = |rule: &Rule| match &rule.pattern {
            None => true,
            Some(re) => re.is_match(&event.message) || event.exception.as_deref().is_some_and(|x| re.is_match(x)),
        };
        let pattern_of = |rule: &Rule| rule.spec.pattern.clone().unwrap_or_default();
        let done = |rule: Option<RuleId>, reasons: Vec<String>| Explanation {
            component,
            is_error: event.is_error(),
            rule,
            reasons,
        };
        match event.error_code.as_deref() {
            Some(code) => match self.by_code.get(code) {
                Some(ids) => {
                    for id in ids {
                        let rule = &self.rules[*id as usize];
                        if text_matches(rule) {
                            let how = match &rule.pattern {
                                Some(_) => format!("error code {code} and its pattern `{}` matches", pattern_of(rule)),
                                None => format!("error code {code}"),
                            };
                            reasons.push(how);
                            return done(Some(*id), reasons);
                        }
                        reasons.push(format!(
                            "rule {} is for code {code} but its pattern `{}` does not match",
                            rule.spec.id,
                            pattern_of(rule)
                        ));
                    }
                }
                None => reasons.push(format!("no rule for error code {code}")),
            },
            None => reasons.push("the line has no error code".to_string()),
        }
        let mut tried = 0usize;
        for (id, only_component, only_source) in &self.keyword {
            let rule = &self.rules[*id as usize];
            if only_component.is_some_and(|c| c != component) || only_source.is_some_and(|s| s != event.source) {
                continue;
            }
            tried += 1;
            if text_matches(rule) {
                let scope = match (&rule.spec.component, &rule.spec.source) {
                    (Some(c), _) => format!(" in component {c}"),
                    (None, Some(s)) => format!(" from source {s}"),
                    (None, None) => String::new(),
                };
                reasons.push(format!("keyword pattern `{}` matches{scope}", pattern_of(rule)));
                return done(Some(*id), reasons);
            }
        }
        reasons.push(format!(
            "none of the {tried} keyword rules for component {} and source {} matches",
            self.components.name(component),
            event.source.as_str()
        ));
        done(None, reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::LineParser;

    #[test]
    fn explain_agrees_with_attribute() {
        let enricher = Enricher::builtin();
        let lines = [
            r#"2025-09-01 14:23:11 [ERROR] video_id=vid_1 error_code=MODEL_INFER_FAIL reason="CUDA out of memory""#,
            r#"2025-09-01 14:23:11 [ERROR] error_code=MODEL_INFER_FAIL reason="NCCL error: unhandled system error""#,
            r#"2025-09-01 14:23:11 [ERROR] video_id=vid_1 reason="allocator ran out of memory""#,
            r#"2025-09-01 14:23:11 [ERROR] error_code=AUDIO_VOCODER_NAN reason="vocoder produced NaN at frame 12""#,
            r#"{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"Container x was OOMKilled","lastTimestamp":"2025-09-01T14:23:12Z"}"#,
            "plain text nobody parses",
        ];
        for line in lines {
            let event = LineParser::new(None, 0).parse(line);
            let component = enricher.components.of_event(&event);
            let explained = enricher.explain(&event);
            let attributed = match enricher.attribute(&event, component) {
                Attribution::Rule(id) => Some(id),
                _ => None,
            };
            assert_eq!(explained.rule, attributed, "{line}");
            assert!(!explained.reasons.is_empty());
        }
    }

    fn explain(line: &str) -> (String, Option<String>) {
        let enricher = Enricher::builtin();
        let event = LineParser::new(None, 0).parse(line);
        let enriched = enricher.enrich(&event);
        let rule = match enriched.attribution {
            Attribution::Rule(id) => enricher.rule(id).map(|r| r.spec.id.clone()),
            _ => None,
        };
        (enricher.components.name(enriched.component).to_string(), rule)
    }

    #[test]
    fn seed_rules_by_code() {
        let (component, rule) = explain(
            r#"2025-09-01 14:23:11 [ERROR] video_id=vid_1 error_code=MODEL_INFER_FAIL reason="CUDA out of memory""#,
        );
        assert_eq!((component.as_str(), rule.as_deref()), ("model_inference", Some("cuda-oom")));
        let (_, rule) = explain(
            r#"2025-09-01 14:23:11 [ERROR] error_code=MODEL_INFER_FAIL reason="NCCL error: unhandled system error""#,
        );
        assert_eq!(rule.as_deref(), Some("model-infer-nccl"), "code + pattern beats code alone");
    }

    #[test]
    fn keyword_fallback_and_unknown() {
        // the seed's example: model_inference + "memory" without a known code
        let (_, rule) = explain(r#"2025-09-01 14:23:11 [ERROR] video_id=vid_1 reason="allocator ran out of memory""#);
        assert_eq!(rule.as_deref(), Some("gpu-memory-keyword"));
        let (component, rule) = explain(
            r#"2025-09-01 14:23:11 [ERROR] error_code=AUDIO_VOCODER_NAN reason="vocoder produced NaN at frame 12""#,
        );
        assert_eq!((component.as_str(), rule), ("audio_generator", None));
        let (_, rule) = explain(
            r#"{"kind":"Event","type":"Warning","reason":"OOMKilled","message":"Container x was OOMKilled","lastTimestamp":"2025-09-01T14:23:12Z"}"#,
        );
        assert_eq!(rule.as_deref(), Some("pod-oomkilled"));
    }

    #[test]
    fn info_lines_are_not_attributed() {
        let enricher = Enricher::builtin();
        let event = LineParser::new(None, 0).parse("2025-09-01 14:23:15 [INFO] video_id=vid_2 audio_gen_success=True");
        assert_eq!(enricher.enrich(&event).attribution, Attribution::None);
    }
}
