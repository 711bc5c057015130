//! The Alerts screen, pure: every firing of the range with its state (firing, resolved,
//! acknowledged, silenced); Enter shows the selected firing's 10 latest related lines, Enter again
//! all of them (the lines screen); `a` acknowledges a firing, `S` silences its rule for a while
//! (a prompt: 15m, 1h, 4h, 1d or a typed duration). Acknowledgements and silences are kept in the
//! state directory ([`super::alert_marks`]); the engine's answers arrive as
//! [`crate::backend::alerts::AlertsAnswer`]s.

use super::keys::Action;
use super::state::{Input, Screen, State};
use super::update::Effect;
use crate::alerts::eval::Alert;
use crate::backend::alerts::AlertsAnswer;
use crate::backend::lines::LineQuery;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// Related lines shown under the list on Enter (Enter again: all of them).
pub const LATEST_SHOWN: usize = 10;

/// The durations the silence prompt offers (↑ ↓ cycle them).
pub const SILENCE_PRESETS: [&str; 4] = ["15m", "1h", "4h", "1d"];

/// An acknowledged firing: a rule's firing is known by its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub rule: String,
    pub since_ms: i64,
    /// When it was acknowledged (wall clock).
    pub at_ms: i64,
}

/// A rule silenced until a moment (wall clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub rule: String,
    pub until_ms: i64,
    /// When it was silenced.
    pub at_ms: i64,
}

/// Acknowledgements and silences, as kept in the state directory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertMarks {
    #[serde(default)]
    pub acks: Vec<Ack>,
    #[serde(default)]
    pub silences: Vec<Silence>,
}

/// Acknowledgements kept at most (the oldest dropped).
const ACKS_KEPT: usize = 1000;

impl AlertMarks {
    pub fn acked(&self, alert: &Alert) -> bool {
        self.acks.iter().any(|a| a.rule == alert.rule && a.since_ms == alert.since_ms)
    }

    /// The moment the rule's silence ends, when it is silenced at `now_ms`.
    pub fn silenced_until(&self, rule: &str, now_ms: i64) -> Option<i64> {
        self.silences.iter().filter(|s| s.rule == rule && s.until_ms > now_ms).map(|s| s.until_ms).max()
    }

    /// The silences still on at `now_ms`.
    pub fn active_silences(&self, now_ms: i64) -> Vec<&Silence> {
        let mut on: Vec<&Silence> = self.silences.iter().filter(|s| s.until_ms > now_ms).collect();
        on.sort_by_key(|s| s.until_ms);
        on
    }

    /// Drops silences that ended and the oldest acknowledgements beyond [`ACKS_KEPT`].
    pub fn prune(&mut self, now_ms: i64) {
        self.silences.retain(|s| s.until_ms > now_ms);
        let excess = self.acks.len().saturating_sub(ACKS_KEPT);
        self.acks.drain(..excess);
    }
}

/// What the screen says of a firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiringState {
    Firing,
    Resolved,
    Acknowledged,
    Silenced,
}

impl FiringState {
    pub fn as_str(self) -> &'static str {
        match self {
            FiringState::Firing => "firing",
            FiringState::Resolved => "resolved",
            FiringState::Acknowledged => "acknowledged",
            FiringState::Silenced => "silenced",
        }
    }
}

/// The Alerts screen's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertsState {
    /// The engine's last answer (`None` until the first).
    pub answer: Option<AlertsAnswer>,
    /// The selected firing (newest first on screen).
    pub cursor: usize,
    /// Enter: the selected firing's latest lines under the list.
    pub expanded: bool,
    pub marks: AlertMarks,
    /// Ring the terminal bell when a rule starts firing (config `[alerts] bell`).
    pub bell: bool,
    /// The rule the silence prompt is for.
    pub silencing: Option<String>,
}

impl State {
    /// The firings on the Alerts screen, newest first.
    pub fn alert_rows(&self) -> Vec<&Alert> {
        self.alerts.answer.as_ref().map(|a| a.alerts.iter().rev().collect()).unwrap_or_default()
    }

    /// The state of a firing now.
    pub fn firing_state(&self, alert: &Alert) -> FiringState {
        if alert.is_firing() && self.alerts.marks.silenced_until(&alert.rule, self.now_ms).is_some() {
            FiringState::Silenced
        } else if self.alerts.marks.acked(alert) {
            FiringState::Acknowledged
        } else if alert.is_firing() {
            FiringState::Firing
        } else {
            FiringState::Resolved
        }
    }

    /// The selected firing.
    pub fn selected_alert(&self) -> Option<&Alert> {
        self.alert_rows().get(self.alerts.cursor).copied()
    }
}

/// The engine's answer: kept; a rule that starts firing (not silenced) rings the bell when
/// enabled.
pub fn receive(state: &mut State, answer: AlertsAnswer) -> Vec<Effect> {
    let before: Vec<(String, i64)> = match &state.alerts.answer {
        Some(old) if old.range == answer.range => old.firing().map(|a| (a.rule.clone(), a.since_ms)).collect(),
        // the first answer, or another range: nothing "started"
        _ => answer.firing().map(|a| (a.rule.clone(), a.since_ms)).collect(),
    };
    let started: Vec<&Alert> = answer
        .firing()
        .filter(|a| !before.iter().any(|(r, s)| *r == a.rule && *s == a.since_ms))
        .filter(|a| state.alerts.marks.silenced_until(&a.rule, state.now_ms).is_none())
        .collect();
    let mut effects = Vec::new();
    if let Some(first) = started.first() {
        state.set_status(format!(
            "ALERT {}: {} since {}",
            first.rule,
            first.unit.show(first.value),
            crate::clock::format_clock(first.since_ms)
        ));
        if state.alerts.bell {
            effects.push(Effect::Bell);
        }
    }
    if let Some(e) = &answer.error
        && state.alerts.answer.as_ref().and_then(|a| a.error.as_ref()) != Some(e)
    {
        state.set_status(format!("the alert rules could not be evaluated: {e}"));
    }
    state.alerts.answer = Some(answer);
    let n = state.alert_rows().len();
    state.alerts.cursor = state.alerts.cursor.min(n.saturating_sub(1));
    effects
}

/// The filter of a rule's related lines: its filter, and for a statistic or a new value, the
/// lines that carry the field.
fn related_filter(alert: &Alert, rules: &[crate::alerts::rules::Rule]) -> Option<String> {
    use crate::alerts::rules::Kind;
    use crate::query::{Pattern, Query};
    let rule = rules.iter().find(|r| r.name == alert.rule);
    let field = rule.and_then(|r| match &r.kind {
        Kind::Stat { field, .. } | Kind::NewValue { field } => Some(field.clone()),
        _ => None,
    });
    let present = field.map(|field| Query::Field { field, pattern: Pattern::Present });
    match (rule.and_then(|r| r.filter.clone()), present) {
        (Some(filter), Some(present)) => Some(Query::And(vec![filter, present]).to_string()),
        (None, Some(present)) => Some(present.to_string()),
        _ => (!alert.filter.is_empty()).then(|| alert.filter.clone()),
    }
}

/// The lines related to a firing: its rule's filter over the firing's windows.
pub fn related_query(alert: &Alert, at_ms: i64, rules: &[crate::alerts::rules::Rule]) -> LineQuery {
    let window = crate::alerts::parse_window(&alert.window).unwrap_or(0);
    let from = alert.since_ms.saturating_sub(window);
    let to = alert.until_ms.unwrap_or(at_ms);
    let title =
        format!("alert {} {} … {}", alert.rule, crate::clock::format_clock(from), crate::clock::format_clock(to));
    LineQuery { from_ms: from, to_ms: to, filter: related_filter(alert, rules), title, ..LineQuery::default() }
}

/// Opens the Alerts screen.
pub fn open(state: &mut State) {
    state.screen = Screen::Alerts;
    match &state.alerts.answer {
        None => state.set_status("alerts: waiting for the engine to evaluate the rules…"),
        Some(a) => state.set_status(format!(
            "alerts: {} firings in the range ({} firing now), {} rules",
            a.total,
            a.firing().count(),
            a.rules
        )),
    }
}

/// The Alerts screen's keys.
pub fn act(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Enter => return enter(state),
        Action::Acknowledge => return acknowledge(state),
        Action::Silence => match state.selected_alert().map(|a| a.rule.clone()) {
            Some(rule) => {
                state.alerts.silencing = Some(rule);
                state.input = Input::Silence(String::new());
            }
            None => state.set_status("no firing selected"),
        },
        Action::Back if state.alerts.expanded => state.alerts.expanded = false,
        Action::Back => state.screen = Screen::Overview,
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            let n = state.alert_rows().len();
            let page = state.tail_rows().saturating_sub(4).max(1);
            let before = state.alerts.cursor;
            super::lines::move_cursor(&mut state.alerts.cursor, n, action, page);
            if state.alerts.cursor != before && state.alerts.expanded {
                return ask_lines(state);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Asks for the selected firing's related lines (kept in the lines screen's state).
fn ask_lines(state: &mut State) -> Vec<Effect> {
    let at = state.alerts.answer.as_ref().and_then(|a| a.at_ms).unwrap_or(i64::MAX);
    let Some(query) = state.selected_alert().map(|a| related_query(a, at, &state.alert_rules)) else {
        state.set_status("no firing selected");
        return Vec::new();
    };
    if state.lines.query == query && state.lines.answer.is_some() {
        return Vec::new();
    }
    state.set_status(format!("loading {}…", query.title));
    state.lines =
        super::state::LinesState { query: query.clone(), answer: None, cursor: 0, back: Some(Screen::Alerts) };
    vec![Effect::Lines(query)]
}

/// Enter: the 10 latest related lines under the list; again: all of them on the lines screen.
fn enter(state: &mut State) -> Vec<Effect> {
    if !state.alerts.expanded {
        state.alerts.expanded = true;
        return ask_lines(state);
    }
    let effects = ask_lines(state);
    state.previous = Screen::Alerts;
    state.screen = Screen::Lines;
    state.hscroll = 0;
    // the newest line selected
    if let Some(n) = state.lines.answer.as_ref().map(|l| l.events.len()) {
        state.lines.cursor = n.saturating_sub(1);
    }
    effects
}

/// `a`: acknowledges the selected firing (again: takes it back).
fn acknowledge(state: &mut State) -> Vec<Effect> {
    let Some(alert) = state.selected_alert().cloned() else {
        state.set_status("no firing selected");
        return Vec::new();
    };
    let marks = &mut state.alerts.marks;
    if marks.acked(&alert) {
        marks.acks.retain(|a| !(a.rule == alert.rule && a.since_ms == alert.since_ms));
        state.set_status(format!("{}: acknowledgement taken back", alert.rule));
    } else {
        marks.acks.push(Ack { rule: alert.rule.clone(), since_ms: alert.since_ms, at_ms: state.now_ms });
        state.set_status(format!("{} (since {}) acknowledged", alert.rule, crate::clock::format_clock(alert.since_ms)));
    }
    vec![Effect::SaveAlertMarks(state.alerts.marks.clone())]
}

/// The silence prompt's keys: a duration typed or chosen (↑ ↓), Enter silences, Esc cancels;
/// `0` or `off` lifts the rule's silence.
pub fn on_prompt_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Input::Silence(text) = &mut state.input else { return Vec::new() };
    match key.code {
        KeyCode::Esc => {
            state.input = Input::Normal;
            state.alerts.silencing = None;
            state.set_status("silence cancelled");
            return Vec::new();
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Up | KeyCode::Down | KeyCode::Tab => {
            let at = SILENCE_PRESETS.iter().position(|p| p == text);
            let next = match (at, key.code) {
                (None, KeyCode::Up) => SILENCE_PRESETS.len() - 1,
                (None, _) => 0,
                (Some(i), KeyCode::Up) => (i + SILENCE_PRESETS.len() - 1) % SILENCE_PRESETS.len(),
                (Some(i), _) => (i + 1) % SILENCE_PRESETS.len(),
            };
            *text = SILENCE_PRESETS[next].to_string();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && text.chars().count() < 20 => text.push(c),
        KeyCode::Enter => {
            let typed = text.trim().to_string();
            return silence(state, &typed);
        }
        _ => {}
    }
    Vec::new()
}

/// Silences the prompt's rule for `typed` (a duration), or lifts its silence (`0`, `off`).
fn silence(state: &mut State, typed: &str) -> Vec<Effect> {
    let Some(rule) = state.alerts.silencing.clone() else {
        state.input = Input::Normal;
        return Vec::new();
    };
    let now = state.now_ms;
    if typed == "0" || typed.eq_ignore_ascii_case("off") {
        state.alerts.marks.silences.retain(|s| s.rule != rule);
        state.input = Input::Normal;
        state.alerts.silencing = None;
        state.set_status(format!("{rule}: silence lifted"));
        return vec![Effect::SaveAlertMarks(state.alerts.marks.clone())];
    }
    let Some(ms) = crate::alerts::parse_window(typed).filter(|ms| *ms >= 60_000 && *ms <= 30 * 86_400_000) else {
        state.set_status(format!(
            "`{}` is not a duration from 1m to 30d (15m, 1h, 4h, 1d); Esc cancels",
            crate::text::sanitize(typed)
        ));
        return Vec::new();
    };
    let until = now.saturating_add(ms);
    state.alerts.marks.prune(now);
    state.alerts.marks.silences.retain(|s| s.rule != rule);
    state.alerts.marks.silences.push(Silence { rule: rule.clone(), until_ms: until, at_ms: now });
    state.input = Input::Normal;
    state.alerts.silencing = None;
    state.set_status(format!(
        "{rule} silenced for {} (until {}); S then `off` lifts it",
        crate::backend::range::duration_text(ms),
        crate::clock::format_clock(until)
    ));
    vec![Effect::SaveAlertMarks(state.alerts.marks.clone())]
}
