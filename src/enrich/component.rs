//! Components: the service parts errors are charged to (`model_inference`, `video_processor`,
//! `audio_generator`, `web`, `scheduler`), found from the error-code prefix, an explicit hint in the
//! record, or the source. The table is fixed per session so that statistics stay mergeable.

use crate::event::{Event, Source};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Index into [`ComponentTable::names`].
pub type ComponentId = u16;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentConfig {
    /// error_code prefix → component (`MODEL_` → `model_inference`). The longest prefix wins.
    pub prefixes: BTreeMap<String, String>,
    /// source → component, for records without an error code.
    pub sources: BTreeMap<String, String>,
    /// The stages every generation job passes through. A successful job outcome counts as a good
    /// event for each, so that a stage's error rate is per job even when it only logs failures.
    pub pipeline: Vec<String>,
}

impl Default for ComponentConfig {
    fn default() -> Self {
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ComponentConfig {
            prefixes: map(&[
                ("MODEL_", "model_inference"),
                ("GPU_", "model_inference"),
                ("VIDEO_", "video_processor"),
                ("AUDIO_", "audio_generator"),
                ("HTTP_", "web"),
                ("WEB_", "web"),
                ("SCHED_", "scheduler"),
                ("K8S_", "scheduler"),
                ("STORAGE_", "storage"),
            ]),
            sources: map(&[
                ("inference", "model_inference"),
                ("ffmpeg", "video_processor"),
                ("nginx", "web"),
                ("flask", "web"),
                ("scheduler", "scheduler"),
                ("unknown", "unparsed"),
            ]),
            pipeline: vec!["model_inference".into(), "video_processor".into(), "audio_generator".into()],
        }
    }
}

/// The session's components, with lookups compiled from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentTable {
    pub names: Vec<String>,
    prefixes: Vec<(String, ComponentId)>,
    by_source: [ComponentId; 6],
    /// The stages every job passes through; a successful job counts as an event for each of them.
    pub pipeline: Vec<ComponentId>,
}

impl ComponentTable {
    /// The component lines of a source fall in.
    pub fn id_of_source(&self, source: Source) -> ComponentId {
        self.by_source[source.index()]
    }

    pub fn new(config: &ComponentConfig) -> ComponentTable {
        let mut names: Vec<String> = Vec::new();
        let id_of = |name: &str, names: &mut Vec<String>| -> ComponentId {
            match names.iter().position(|n| n == name) {
                Some(i) => i as ComponentId,
                None => {
                    names.push(name.to_string());
                    (names.len() - 1) as ComponentId
                }
            }
        };
        for standard in ["model_inference", "video_processor", "audio_generator", "web", "scheduler"] {
            id_of(standard, &mut names);
        }
        let mut prefixes: Vec<(String, ComponentId)> =
            config.prefixes.iter().map(|(p, c)| (p.clone(), id_of(c, &mut names))).collect();
        prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut by_source = [0; 6];
        for source in Source::ALL {
            let name = config.sources.get(source.as_str()).map(String::as_str).unwrap_or(match source {
                Source::Unknown => "unparsed",
                _ => "other",
            });
            by_source[source.index()] = id_of(name, &mut names);
        }
        let pipeline = config.pipeline.iter().map(|c| id_of(c, &mut names)).collect();
        ComponentTable { names, prefixes, by_source, pipeline }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, id: ComponentId) -> &str {
        self.names.get(id as usize).map(String::as_str).unwrap_or("other")
    }

    pub fn id(&self, name: &str) -> Option<ComponentId> {
        self.names.iter().position(|n| n == name).map(|i| i as ComponentId)
    }

    /// Component of an error code by prefix, if any prefix matches.
    #[inline]
    pub fn of_code(&self, code: &str) -> Option<ComponentId> {
        self.prefixes.iter().find(|(p, _)| code.starts_with(p.as_str())).map(|(_, c)| *c)
    }

    /// The component an event belongs to: code prefix, then an explicit hint naming a component,
    /// then the source.
    #[inline]
    pub fn of_event(&self, event: &Event<'_>) -> ComponentId {
        if let Some(c) = event.error_code.as_deref().and_then(|code| self.of_code(code)) {
            return c;
        }
        if let Some(hint) = event.component_hint.as_deref()
            && let Some(c) = self.id(hint)
        {
            return c;
        }
        self.by_source[event.source.index()]
    }
}

/// `MODEL_INFER_FAIL` → `MODEL`: the error category, the code's first `_`-separated part.
#[inline]
pub fn error_category(code: &str) -> &str {
    code.split('_').next().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_sources() {
        let table = ComponentTable::new(&ComponentConfig::default());
        assert_eq!(table.name(table.of_code("MODEL_INFER_FAIL").expect("known")), "model_inference");
        assert_eq!(table.name(table.of_code("VIDEO_DECODE_ERR").expect("known")), "video_processor");
        assert_eq!(table.name(table.of_code("AUDIO_DESC_EMPTY").expect("known")), "audio_generator");
        assert_eq!(table.of_code("ZZZ"), None);
        let e = Event { source: Source::Nginx, ..Event::default() };
        assert_eq!(table.name(table.of_event(&e)), "web");
        assert_eq!(error_category("MODEL_INFER_FAIL"), "MODEL");
    }
}
