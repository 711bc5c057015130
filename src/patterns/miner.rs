//! The online template miner (Drain family): masked tokens go down a fixed-depth prefix tree keyed by
//! token count and leading tokens; in the leaf, the most similar template takes the message and turns
//! the tokens where they differ into `<*>`; otherwise a new template starts. Memory is bounded (a cap
//! on templates; the least recently seen are evicted and counted) and ids are stable: a template keeps
//! its id as it generalises, and the same input gives the same templates and ids.

use super::mask::{self, ANY};
use rustc_hash::FxHashMap;

/// The miner's settings: one setting for every kind of log (no per-data-set tuning).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// The share of a template's constant tokens a message must equal to join it (0 to 1).
    pub similarity: f64,
    /// Leading tokens that key the prefix tree (after the token count).
    pub prefix_tokens: usize,
    /// Children of a tree node before new tokens share its `<*>` child.
    pub max_children: usize,
    /// Templates kept; beyond it the least recently seen are evicted.
    pub max_templates: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { similarity: 0.7, prefix_tokens: 2, max_children: 64, max_templates: 20_000 }
    }
}

/// One template: its stable id, tokens, and when it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Stable: kept as the template generalises and across restarts (see `store`).
    pub id: u64,
    pub tokens: Vec<Box<str>>,
    /// Messages that joined it.
    pub count: u64,
    /// Earliest and latest event time (ms since the epoch) of the messages that carried one.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The miner's clock when it was last matched (orders the eviction).
    pub(crate) last_tick: u64,
}

impl Template {
    /// The template as text, tokens separated by one space.
    pub fn text(&self) -> String {
        self.tokens.join(" ")
    }
}

/// What `Miner::add` did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub id: u64,
    /// A new template started with this message.
    pub created: bool,
    /// An existing template gained a wildcard.
    pub generalised: bool,
}

#[derive(Debug, Default)]
struct Node {
    children: FxHashMap<Box<str>, u32>,
    /// Slots of the templates in this leaf.
    templates: Vec<u32>,
}

/// The streaming miner. Not thread-safe by itself; one per thread or behind a lock.
#[derive(Debug)]
pub struct Miner {
    settings: Settings,
    nodes: Vec<Node>,
    /// The subtree of each token count.
    by_length: FxHashMap<u32, u32>,
    slots: Vec<Option<Template>>,
    free: Vec<u32>,
    /// The leaf each slot lives in.
    leaf_of: Vec<u32>,
    by_id: FxHashMap<u64, u32>,
    next_id: u64,
    tick: u64,
    live: usize,
    evicted: u64,
    scratch: String,
    spans: Vec<(u32, u32)>,
}

impl Default for Miner {
    fn default() -> Self {
        Miner::new(Settings::default())
    }
}

impl Miner {
    pub fn new(settings: Settings) -> Self {
        let settings = Settings {
            similarity: if settings.similarity.is_finite() { settings.similarity.clamp(0.0, 1.0) } else { 0.5 },
            prefix_tokens: settings.prefix_tokens.min(8),
            max_children: settings.max_children.max(2),
            max_templates: settings.max_templates.max(8),
        };
        Miner {
            settings,
            nodes: vec![Node::default()],
            by_length: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            leaf_of: Vec::new(),
            by_id: FxHashMap::default(),
            next_id: 1,
            tick: 0,
            live: 0,
            evicted: 0,
            scratch: String::new(),
            spans: Vec::new(),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Templates kept now.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Templates evicted to keep within `max_templates`.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The id the next new template will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    pub fn get(&self, id: u64) -> Option<&Template> {
        self.by_id.get(&id).and_then(|&slot| self.slots.get(slot as usize)?.as_ref())
    }

    /// Every template kept, by id.
    pub fn templates(&self) -> Vec<&Template> {
        let mut all: Vec<&Template> = self.slots.iter().flatten().collect();
        all.sort_by_key(|t| t.id);
        all
    }

    /// Mines one message (with its event time, if any): the template it joined or started.
    pub fn add(&mut self, message: &str, time_ms: Option<i64>) -> Matched {
        let mut text = std::mem::take(&mut self.scratch);
        let mut spans = std::mem::take(&mut self.spans);
        mask::mask_into(message, &mut text, &mut spans);
        let tokens: smallvec::SmallVec<[&str; 32]> =
            spans.iter().map(|&(s, e)| text.get(s as usize..e as usize).unwrap_or("")).collect();
        let matched = self.add_tokens(&tokens, time_ms);
        drop(tokens);
        self.scratch = text;
        self.spans = spans;
        matched
    }

    /// Finds the template that would take `message`, without changing anything.
    pub fn peek(&self, message: &str) -> Option<u64> {
        let mut text = String::new();
        let mut spans = Vec::new();
        mask::mask_into(message, &mut text, &mut spans);
        let tokens: Vec<&str> = spans.iter().map(|&(s, e)| text.get(s as usize..e as usize).unwrap_or("")).collect();
        let leaf = self.find_leaf(&tokens)?;
        let (slot, _) = self.best_in(leaf, &tokens)?;
        self.slots.get(slot as usize)?.as_ref().map(|t| t.id)
    }

    fn add_tokens(&mut self, tokens: &[&str], time_ms: Option<i64>) -> Matched {
        self.tick += 1;
        if let Some(leaf) = self.find_leaf(tokens)
            && let Some((slot, _)) = self.best_in(leaf, tokens)
            && let Some(Some(template)) = self.slots.get_mut(slot as usize)
        {
            let mut generalised = false;
            for (have, new) in template.tokens.iter_mut().zip(tokens) {
                if **have != **new && &**have != ANY {
                    *have = generalise(have, new);
                    generalised = true;
                }
            }
            template.count = template.count.saturating_add(1);
            template.last_tick = self.tick;
            see(template, time_ms);
            return Matched { id: template.id, created: false, generalised };
        }
        if self.live >= self.settings.max_templates {
            self.evict();
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut template = Template {
            id,
            tokens: tokens.iter().map(|&t| Box::from(t)).collect(),
            count: 1,
            first_ms: None,
            last_ms: None,
            last_tick: self.tick,
        };
        see(&mut template, time_ms);
        self.insert(template);
        Matched { id, created: true, generalised: false }
    }

    /// Puts a template into the tree (new, or read back from the store).
    pub(crate) fn insert(&mut self, template: Template) {
        let tokens: Vec<&str> = template.tokens.iter().map(|t| &**t).collect();
        let leaf = self.leaf_for_insert(&tokens);
        let id = template.id;
        self.next_id = self.next_id.max(id.saturating_add(1));
        self.tick = self.tick.max(template.last_tick);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(template);
                self.leaf_of[slot as usize] = leaf;
                slot
            }
            None => {
                self.slots.push(Some(template));
                self.leaf_of.push(leaf);
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(old) = self.by_id.insert(id, slot) {
            // an id read twice from a damaged store: the later wins
            self.remove_slot(old);
        }
        self.nodes[leaf as usize].templates.push(slot);
        self.live += 1;
    }

    pub(crate) fn set_next_id(&mut self, next: u64) {
        self.next_id = self.next_id.max(next);
    }

    pub(crate) fn set_evicted(&mut self, evicted: u64) {
        self.evicted = evicted;
    }

    fn remove_slot(&mut self, slot: u32) {
        if let Some(Some(_)) = self.slots.get(slot as usize) {
            self.slots[slot as usize] = None;
            let leaf = self.leaf_of[slot as usize] as usize;
            self.nodes[leaf].templates.retain(|&s| s != slot);
            self.free.push(slot);
            self.live -= 1;
        }
    }

    /// Evicts the least recently seen eighth of the templates, then rebuilds the tree from those that
    /// remain so that its nodes stay bounded too.
    fn evict(&mut self) {
        let mut ages: Vec<(u64, u64)> = self.slots.iter().flatten().map(|t| (t.last_tick, t.id)).collect();
        ages.sort_unstable();
        let drop_count = (self.settings.max_templates / 8).max(1).min(ages.len());
        let gone: rustc_hash::FxHashSet<u64> = ages[..drop_count].iter().map(|&(_, id)| id).collect();
        let mut kept: Vec<Template> = self.slots.drain(..).flatten().filter(|t| !gone.contains(&t.id)).collect();
        kept.sort_by_key(|t| t.id);
        self.evicted = self.evicted.saturating_add(drop_count as u64);
        self.nodes = vec![Node::default()];
        self.by_length.clear();
        self.free.clear();
        self.leaf_of.clear();
        self.by_id.clear();
        self.live = 0;
        for template in kept {
            self.insert(template);
        }
    }

    /// The tree key of a token: tokens holding a digit or a mask share the wildcard child.
    fn key(token: &str) -> &str {
        if token.bytes().any(|c| c.is_ascii_digit() || c == b'<') { ANY } else { token }
    }

    fn find_leaf(&self, tokens: &[&str]) -> Option<u32> {
        let mut node = *self.by_length.get(&(tokens.len() as u32))?;
        for token in tokens.iter().take(self.settings.prefix_tokens) {
            let children = &self.nodes[node as usize].children;
            node = match children.get(Self::key(token)) {
                Some(&child) => child,
                None => *children.get(ANY)?,
            };
        }
        Some(node)
    }

    fn leaf_for_insert(&mut self, tokens: &[&str]) -> u32 {
        let length = tokens.len() as u32;
        let mut node = match self.by_length.get(&length) {
            Some(&n) => n,
            None => {
                let n = self.new_node();
                self.by_length.insert(length, n);
                n
            }
        };
        for token in tokens.iter().take(self.settings.prefix_tokens) {
            let key = Self::key(token);
            let children = &self.nodes[node as usize].children;
            node = if let Some(&child) = children.get(key) {
                child
            } else if children.len() + 1 < self.settings.max_children || key == ANY {
                self.child(node, key)
            } else {
                self.child(node, ANY)
            };
        }
        node
    }

    fn child(&mut self, node: u32, key: &str) -> u32 {
        if let Some(&child) = self.nodes[node as usize].children.get(key) {
            return child;
        }
        let child = self.new_node();
        self.nodes[node as usize].children.insert(key.into(), child);
        child
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    /// The most similar template of a leaf, if similar enough: the share of the template's constant
    /// tokens the message equals (ties: more constant tokens, then the older id).
    fn best_in(&self, leaf: u32, tokens: &[&str]) -> Option<(u32, f64)> {
        let mut best: Option<(u32, f64, usize, u64)> = None;
        for &slot in &self.nodes[leaf as usize].templates {
            let Some(Some(template)) = self.slots.get(slot as usize) else { continue };
            let (similarity, constants) = similarity(&template.tokens, tokens);
            let better = match best {
                None => true,
                Some((_, s, c, id)) => {
                    similarity > s || similarity == s && (constants > c || constants == c && template.id < id)
                }
            };
            if better {
                best = Some((slot, similarity, constants, template.id));
            }
        }
        best.filter(|&(_, s, _, _)| s >= self.settings.similarity).map(|(slot, s, _, _)| (slot, s))
    }
}

fn see(template: &mut Template, time_ms: Option<i64>) {
    if let Some(t) = time_ms {
        template.first_ms = Some(template.first_ms.map_or(t, |f| f.min(t)));
        template.last_ms = Some(template.last_ms.map_or(t, |l| l.max(t)));
    }
}

/// How similar a message is to a template: equal tokens over all tokens, where a wildcard counts as
/// equal; and how many of the template's tokens are constants.
fn similarity(template: &[Box<str>], tokens: &[&str]) -> (f64, usize) {
    if template.len() != tokens.len() {
        return (0.0, 0);
    }
    if tokens.is_empty() {
        return (1.0, 0);
    }
    let mut equal = 0usize;
    let mut constants = 0usize;
    for (have, new) in template.iter().zip(tokens) {
        if &**have == ANY {
            equal += 1;
            continue;
        }
        constants += 1;
        if **have == **new {
            equal += 1;
        } else {
            match differ(have, new) {
                Difference::Value => {}
                Difference::KeyValue => equal += 1,
                Difference::Shape => return (0.0, 0),
            }
        }
    }
    (equal as f64 / tokens.len() as f64, constants)
}

/// How two unequal tokens differ.
enum Difference {
    /// A word or a value: the position may become a wildcard.
    Value,
    /// The value of the same key (`user=root`, `user=<*>`): the template's key stays.
    KeyValue,
    /// The structure differs (`(uid=<N>)` and `LOGIN(uid=<N>)`, or a key set in one and empty in the
    /// other): not the same event.
    Shape,
}

fn differ(have: &str, new: &str) -> Difference {
    let (a, b) = (core(have), core(new));
    match (key_value(a), key_value(b)) {
        (Some((ka, va)), Some((kb, vb))) if ka == kb => {
            if va.is_empty() != vb.is_empty() {
                Difference::Shape
            } else if va == ANY {
                Difference::KeyValue
            } else {
                Difference::Value
            }
        }
        _ if is_composite(a) && is_composite(b) => Difference::Shape,
        _ => Difference::Value,
    }
}

/// What a template token becomes when a message differs there: `key=<*>` for the value of one key,
/// else `<*>`.
fn generalise(have: &str, new: &str) -> Box<str> {
    let (a, b) = (core(have), core(new));
    if let (Some((ka, _)), Some((kb, _))) = (key_value(a), key_value(b))
        && ka == kb
    {
        return format!("{ka}{ANY}").into();
    }
    ANY.into()
}

/// A token without the punctuation around it (`[preauth]` → `preauth`; masks keep their brackets).
fn core(token: &str) -> &str {
    let keep = |c: char| c.is_alphanumeric() || matches!(c, '<' | '>' | '*' | '_' | '=');
    let start = token.find(|c: char| c.is_alphanumeric() || c == '<' || c == '_').unwrap_or(token.len());
    let end = token.char_indices().rev().find(|&(_, c)| keep(c)).map_or(start, |(i, c)| i + c.len_utf8()).max(start);
    &token[start..end]
}

/// `key=value` or `key:value` where the key is a name: the key with its separator, and the value.
fn key_value(core: &str) -> Option<(&str, &str)> {
    let at = core.find(['=', ':'])?;
    let key = &core[..at];
    let first = key.chars().next()?;
    if !first.is_ascii_alphabetic()
        || !key.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    {
        return None;
    }
    Some((&core[..=at], &core[at + 1..]))
}

/// A token made of parts joined by punctuation (`LOGIN(uid=<N>)`, `a,b`), not a plain word or value.
fn is_composite(core: &str) -> bool {
    core.bytes().any(|c| matches!(c, b'=' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b';' | b':' | b'|' | b'@'))
}
