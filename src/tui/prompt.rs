//! The command line on the console (`:`), pure: typing, Tab completion from what the console
//! has seen, history (Up/Down, kept across runs by the runtime), and carrying a [`Command`] out on
//! the state. The parsing itself is [`super::command`]'s.

use super::command::{self, Command, Seen};
use super::state::{Input, Overlay, Screen, State};
use super::update::{Effect, set_range};
use crate::backend::TimeRange;
use crate::backend::range::Bound;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Commands kept in the history (the oldest go first).
pub const HISTORY_KEPT: usize = 500;

/// The command line being typed and where Up/Down are in the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub text: String,
    /// The history entry shown (Up/Down), `None` while typing a new line.
    pub history_at: Option<usize>,
    /// What the last Tab found (shown after the line when there are several).
    pub completions: Vec<String>,
}

/// Opens the command line.
pub fn open(state: &mut State) {
    state.input = Input::Command(CommandLine::default());
}

/// A key while the command line is open.
pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Input::Command(line) = &mut state.input else { return Vec::new() };
    match key.code {
        KeyCode::Esc => state.input = Input::Normal,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => state.input = Input::Normal,
        KeyCode::Enter => {
            let text = std::mem::take(&mut line.text);
            state.input = Input::Normal;
            return run(state, &text);
        }
        KeyCode::Backspace => {
            if line.text.pop().is_none() {
                state.input = Input::Normal;
            }
            line_edited(state);
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            line.text.clear();
            line_edited(state);
        }
        KeyCode::Up => {
            let at = match line.history_at {
                None => state.history.len().checked_sub(1),
                Some(i) => Some(i.saturating_sub(1)),
            };
            if let Some(i) = at {
                line.history_at = Some(i);
                line.text = state.history.get(i).cloned().unwrap_or_default();
            }
        }
        KeyCode::Down => match line.history_at {
            Some(i) if i + 1 < state.history.len() => {
                line.history_at = Some(i + 1);
                line.text = state.history[i + 1].clone();
            }
            Some(_) => {
                line.history_at = None;
                line.text.clear();
            }
            None => {}
        },
        KeyCode::Tab => {
            let text = line.text.clone();
            let (completed, candidates) = complete(state, &text);
            if candidates.is_empty() {
                state.set_status(format!("nothing to complete `{}` from", crate::text::sanitize(&text)));
            }
            if let Input::Command(line) = &mut state.input {
                line.text = completed;
                line.completions = if candidates.len() > 1 { candidates } else { Vec::new() };
            }
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            if line.text.chars().count() < 500 {
                line.text.push(c);
            }
            line_edited(state);
        }
        _ => {}
    }
    Vec::new()
}

/// Typing leaves the history: the line is new.
fn line_edited(state: &mut State) {
    if let Input::Command(line) = &mut state.input {
        line.history_at = None;
        line.completions.clear();
    }
}

/// Completes the command line from the ids, codes and components the console has seen.
pub fn complete(state: &State, text: &str) -> (String, Vec<String>) {
    let mut seen = Seen { themes: crate::tui::theme::Theme::builtin_names(), ..Seen::default() };
    if let Some(o) = &state.overview {
        for v in &o.top_failing_videos {
            seen.ids.push(&v.video_id);
            seen.ids.extend(v.request_id.as_deref());
        }
        seen.codes.extend(o.codes.iter().map(|c| c.code.as_str()));
        seen.components.extend(o.by_component.keys().map(String::as_str));
    }
    for (_, e) in &state.tail.events {
        seen.ids.extend(e.video_id.as_deref());
        seen.ids.extend(e.request_id.as_deref());
        seen.components.push(&e.component);
        seen.codes.extend(e.error_code.as_deref());
    }
    if let Some(r) = &state.drill.related {
        for e in &r.events {
            seen.ids.extend(e.request_id.as_deref());
        }
    }
    command::complete(text, &seen)
}

/// Runs a command line: kept in the history, then carried out (or its mistake said).
pub fn run(state: &mut State, text: &str) -> Vec<Effect> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let mut effects = remember(state, text);
    match command::parse(text, state.offset_seconds) {
        Ok(command) => effects.extend(apply(state, command)),
        Err(message) => state.set_status(message),
    }
    effects
}

/// Adds a line to the history (once: a repeat moves to the end) and asks the runtime to keep it.
fn remember(state: &mut State, text: &str) -> Vec<Effect> {
    let text = crate::text::sanitize_owned(text, 500);
    state.history.retain(|h| *h != text);
    state.history.push(text);
    let excess = state.history.len().saturating_sub(HISTORY_KEPT);
    state.history.drain(..excess);
    vec![Effect::SaveHistory(state.history.clone())]
}

/// Carries a command out.
pub fn apply(state: &mut State, command: Command) -> Vec<Effect> {
    let all = |what: &str, value: Option<&str>| match value {
        Some(v) => format!("{what}: only {v} (:{what} alone shows all again)"),
        None => format!("{what}: all"),
    };
    match command {
        Command::Open(id) => return super::update::open_drill(state, id),
        Command::Code(code) => {
            state.set_status(all("code", code.as_deref()));
            state.tail.code = code;
            state.video_selected = 0;
        }
        Command::Component(component) => {
            state.set_status(all("component", component.as_deref()));
            state.tail.component = component;
        }
        Command::Level(level) => {
            state.set_status(match level {
                Some(l) => format!("level: {} and above (:level alone shows all again)", l.as_str()),
                None => "level: all".into(),
            });
            state.tail.min_level = level;
        }
        Command::Filter(None) => {
            state.tail.filter = None;
            state.set_status("filter: every line");
        }
        Command::Filter(Some(text)) => match crate::query::parse::parse(&text) {
            Ok(query) => {
                state.tail.filter = Some((text.clone(), query));
                let n = state.tail_visible().len();
                state.screen = Screen::Tail;
                let shown = crate::text::sanitize(&text);
                state.set_status(format!("filter `{shown}`: {n} tail lines match (:filter alone shows all)"));
            }
            Err(e) => state.set_status(format!(":filter: column {}: {}", e.column, e.message)),
        },
        Command::Clear => {
            state.tail.code = None;
            state.tail.component = None;
            state.tail.min_level = None;
            state.tail.filter = None;
            state.set_status("filters cleared: every code, component, level and query");
        }
        Command::Since(from) => return change_range(state, state.range.with_from(from)),
        Command::Until(to) => return change_range(state, state.range.with_to(to)),
        Command::Range(Bound::At(a), Bound::At(b)) => return change_range(state, TimeRange::between(a, b)),
        Command::Range(from, to) => return change_range(state, TimeRange { from, to }),
        Command::Last(ms) => return change_range(state, TimeRange::last(ms)),
        Command::All => return change_range(state, TimeRange::ALL),
        Command::Theme(name) => return vec![Effect::SetTheme(name)],
        Command::Help => {
            state.overlay = Some(Overlay::Help);
            state.overlay_scroll = 0;
        }
        Command::Quit => state.quit = true,
        Command::Suspect { past } => {
            return super::lines::open(
                state,
                crate::backend::lines::LineQuery::suspect(state.now_ms, state.future_tolerance_ms, past),
            );
        }
        Command::Baseline(ends) => {
            let baseline = ends.map(|(from, to)| match (from, to) {
                (Bound::At(a), Bound::At(b)) => TimeRange::between(a, b),
                (from, to) => TimeRange { from, to },
            });
            state.patterns.baseline = baseline;
            state.set_status(match baseline {
                Some(b) => format!("baseline: {} (:baseline alone: the same length just before the range)", b.label()),
                None => "baseline: the same length just before the range".to_string(),
            });
            return super::patterns::open(state);
        }
    }
    Vec::new()
}

/// A range typed on the command line: checked (its start before its end), the zoom stack reset.
fn change_range(state: &mut State, range: TimeRange) -> Vec<Effect> {
    let newest = state.overview.as_ref().and_then(|o| o.data_to);
    let window = range.window(newest);
    if let (Some(from), Some(to)) = (window.from_ms, window.to_ms)
        && from > to
    {
        state.set_status(format!(
            "the range would end before it starts ({} … {}); nothing changed",
            crate::backend::range::time_text(from),
            crate::backend::range::time_text(to)
        ));
        return Vec::new();
    }
    state.zoom_stack.clear();
    set_range(state, range)
}
