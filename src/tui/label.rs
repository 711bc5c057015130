//! Labelling, pure: `L` on an unknown template of the Patterns screen opens a small form
//! pre-filled with the engine's draft (the template's code or constant words, the closest existing
//! rule's category, severity, cause and fix); Enter asks the engine to save it to the user's rule
//! file and apply it ([`Effect::AddRule`]); Esc closes the form. The engine's answer closes the form
//! (saved) or shows why not, the form kept.

use super::state::{Screen, State};
use super::update::Effect;
use crate::enrich::rules::{RuleSpec, Severity};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The form's fields, in order.
pub const FIELDS: [&str; 8] = ["id", "error_code", "source", "pattern", "category", "severity", "cause", "fix"];

/// The rule being written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleForm {
    /// The template it labels.
    pub template: String,
    /// One text per [`FIELDS`] entry.
    pub values: Vec<String>,
    /// The field being edited.
    pub at: usize,
    /// Sent to the engine, its answer awaited.
    pub saving: bool,
    /// Why the last save failed.
    pub error: Option<String>,
}

impl RuleForm {
    pub fn from_spec(template: &str, spec: &RuleSpec) -> RuleForm {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let values = vec![
            spec.id.clone(),
            opt(&spec.error_code),
            opt(&spec.source),
            opt(&spec.pattern),
            spec.category.clone(),
            spec.severity.as_str().to_string(),
            spec.cause.clone(),
            spec.fix.clone(),
        ];
        RuleForm { template: template.to_string(), values, at: 0, saving: false, error: None }
    }

    /// The rule the form holds, or what is wrong with it.
    pub fn spec(&self) -> Result<RuleSpec, String> {
        let get = |name: &str| FIELDS.iter().position(|f| *f == name).map(|i| self.values[i].trim().to_string());
        let text = |name: &str| get(name).unwrap_or_default();
        let opt = |name: &str| get(name).filter(|v| !v.is_empty());
        let severity = match text("severity").to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            other => return Err(format!("severity `{other}`: use info, low, medium, high or critical")),
        };
        let spec = RuleSpec {
            id: text("id"),
            error_code: opt("error_code"),
            component: None,
            source: opt("source"),
            pattern: opt("pattern"),
            category: text("category"),
            severity,
            cause: text("cause"),
            fix: text("fix"),
        };
        if spec.id.is_empty() {
            return Err("the rule needs an id".into());
        }
        if spec.error_code.is_none() && spec.pattern.is_none() {
            return Err("the rule needs an error_code or a pattern".into());
        }
        Ok(spec)
    }
}

/// `L` on the codes screen: the form for the selected code, when no rule explains it.
fn open_for_code(state: &mut State) {
    let Some(row) = state.overview.as_ref().and_then(|o| o.codes.get(state.code_selected)) else {
        state.set_status("no code selected");
        return;
    };
    let Some(draft) = &row.draft else {
        state.set_status(format!("a rule already explains {} (see the cause column)", row.code));
        return;
    };
    state.form = Some(RuleForm::from_spec(&row.code, draft));
    state
        .set_status("label: ↑/↓ or Tab move between fields, type to edit, Enter saves to your rules.toml, Esc cancels");
}

/// `L`: the form for the selected template (or code), when no rule explains it.
pub fn open(state: &mut State) {
    if state.screen == Screen::Codes && !state.code_videos {
        return open_for_code(state);
    }
    if state.screen != Screen::Patterns || state.patterns.on_changes {
        state
            .set_status("L labels a template or a code: select one on the patterns screen (5) or the codes screen (4)");
        return;
    }
    let Some((_, view, _)) = &state.patterns.answer else { return };
    let Some(row) = view.rows.get(state.patterns.cursor) else {
        state.set_status("no template selected");
        return;
    };
    let Some(draft) = &row.draft else {
        let why = if row.unknown == 0 {
            "a rule already explains this template (or it holds warnings only)"
        } else {
            "this backend cannot take new rules (a cluster applies them when `ship` writes)"
        };
        state.set_status(why);
        return;
    };
    state.form = Some(RuleForm::from_spec(&row.template, draft));
    state
        .set_status("label: ↑/↓ or Tab move between fields, type to edit, Enter saves to your rules.toml, Esc cancels");
}

/// A key while the form is open.
pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(form) = state.form.as_mut() else { return Vec::new() };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => state.quit = true,
        KeyCode::Esc => {
            state.form = None;
            state.set_status("label cancelled: nothing saved");
        }
        KeyCode::Tab | KeyCode::Down => form.at = (form.at + 1) % FIELDS.len(),
        KeyCode::BackTab | KeyCode::Up => form.at = (form.at + FIELDS.len() - 1) % FIELDS.len(),
        KeyCode::Backspace => {
            form.values[form.at].pop();
        }
        KeyCode::Char('u') if ctrl => form.values[form.at].clear(),
        KeyCode::Char(c) if !ctrl => form.values[form.at].push(c),
        KeyCode::Enter if !form.saving => match (form.spec(), &state.rule_file) {
            (Ok(spec), Some(path)) => {
                form.saving = true;
                form.error = None;
                let (id, path) = (spec.id.clone(), path.clone());
                state.set_status(format!("saving rule {id}…"));
                return vec![Effect::AddRule { spec: Box::new(spec), path }];
            }
            (Ok(_), None) => form.error = Some("no config directory on this platform: set XDG_CONFIG_HOME".into()),
            (Err(e), _) => form.error = Some(e),
        },
        _ => {}
    }
    Vec::new()
}

/// The engine's answer to a save.
pub fn saved(state: &mut State, id: String, result: Result<String, String>) -> Vec<Effect> {
    match result {
        Ok(what) => {
            state.form = None;
            state.set_status(format!("rule {id} {what}"));
            if state.screen == Screen::Patterns { super::patterns::request(state) } else { Vec::new() }
        }
        Err(e) => {
            if let Some(form) = state.form.as_mut() {
                form.saving = false;
                form.error = Some(e.clone());
            }
            state.set_status(format!("rule {id} not saved: {e}"));
            Vec::new()
        }
    }
}
