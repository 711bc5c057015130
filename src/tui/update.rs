//! The pure heart of the console: messages in, state changed, effects out. No IO here, so every
//! key flow is unit-testable. Keys go through one table ([`super::keys`]) to [`Action`]s.

use super::keys::{Action, action_for, overlay_action};
use super::state::{DrillState, Input, Overlay, Screen, State, WINDOWS};
use super::tail;
use crate::backend::TimeRange;
use crate::backend::worker::Update;
use crate::event::Level;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Tick {
        now_ms: i64,
    },
    /// What the engine sent.
    Engine(Update),
    /// The terminal's size (columns, rows), at start and on every change.
    Resize {
        width: u16,
        height: u16,
    },
}

impl From<Update> for Msg {
    fn from(update: Update) -> Msg {
        Msg::Engine(update)
    }
}

/// Work for the runtime; results come back as messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Ask the backend for the overview of this range.
    Window(TimeRange),
    Related(String),
    /// Ask for the lines of a time span (context, a panel's lines).
    Lines(crate::backend::lines::LineQuery),
    /// Ask for the templates of a range and what changed (the Patterns screen).
    Patterns(crate::backend::PatternsQuery),
    /// Save a rule to the user's rule file and apply it (the engine does both).
    AddRule {
        spec: Box<crate::enrich::rules::RuleSpec>,
        path: std::path::PathBuf,
    },
    /// Ask for every video of a code in a range.
    CodeVideos {
        code: String,
        range: TimeRange,
    },
    /// Copy text; the label says what it is.
    Copy {
        text: String,
        label: String,
    },
    Open(String),
    /// Keep the command history (written to the state directory).
    SaveHistory(Vec<String>),
    /// Switch to a theme by name or file.
    SetTheme(String),
    /// Write a video's log bundle to a file.
    Export {
        video_id: String,
        content: String,
    },
    SetMouse(bool),
    /// Search every line in a range (not only the tail's).
    Search {
        text: String,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    },
    /// Abandon the search in flight.
    CancelSearch,
    /// Keep the acknowledgements and silences (written to the state directory).
    SaveAlertMarks(super::alerts::AlertMarks),
    /// Ring the terminal bell (a rule started firing; config `[alerts] bell`).
    Bell,
}

/// Rows a page moves on the overview's list (its height varies with the layout).
const PAGE: usize = 10;

/// Where a backend's description carries the error of its last refresh.
const ERROR_MARK: &str = " · ERROR: ";

/// Applies a message; returns the effects to run.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick { now_ms } => {
            state.now_ms = now_ms;
            Vec::new()
        }
        Msg::Resize { width, height } => {
            state.size = (width, height);
            clamp_overlay(state);
            Vec::new()
        }
        Msg::Engine(update) => on_engine(state, update),
        Msg::Key(key) => on_key(state, key),
    }
}

/// The status while an overview's counts are shown and its lists are on their way.
const LISTS_LOADING: &str = "the counts are in; loading the lists (codes, videos, templates, alerts)…";

fn on_engine(state: &mut State, update: Update) -> Vec<Effect> {
    match update {
        Update::Overview { overview, range, events_per_second, source } => {
            let suspect = overview.lines.suspect;
            let lists_loading = overview.lists == crate::stats::overview::Lists::Loading;
            let said_before = state.suspect_said;
            state.overview = Some(*overview);
            state.overview_range = Some(range);
            state.overview_at_ms = state.now_ms;
            state.events_per_second = events_per_second;
            let error = source.split_once(ERROR_MARK).map(|(_, e)| e.to_string());
            if error.is_some() && error != state.backend_error {
                let text = format!("the backend reported an error: {}", error.as_deref().unwrap_or_default());
                state.set_status(text);
            } else if lists_loading {
                state.set_status(LISTS_LOADING);
            } else if state.status == "loading…" || state.status == LISTS_LOADING || state.loading.is_some() {
                state.set_status("ready: ? for help");
            }
            state.backend_error = error;
            state.source = source;
            state.loading = None;
            // lines whose time cannot be right are said once, and again when more arrive
            if suspect > said_before {
                state.suspect_said = suspect;
                if let Some(note) = state.overview.as_ref().and_then(|o| o.lines.suspect_note()) {
                    state.set_status(format!("{note}; :suspect lists them"));
                }
            }
            clamp_selections(state);
            // the patterns on screen follow the data
            if state.screen == Screen::Patterns { super::patterns::request(state) } else { Vec::new() }
        }
        Update::RuleAdded { id, result } => super::label::saved(state, id, result),
        Update::Alerts(answer) => super::alerts::receive(state, *answer),
        Update::Patterns { query, view, took_ms } => {
            super::patterns::receive(state, query, *view, took_ms);
            Vec::new()
        }
        Update::Tail(events) => {
            state.tail.receive(events);
            Vec::new()
        }
        Update::Related(related) => {
            if related.video_id == state.drill.video_id {
                if related.events.is_empty() {
                    state.set_status(format!("no line mentions {} in the data", related.video_id));
                } else {
                    state.set_status(format!("{}: {} related lines", related.video_id, related.events.len()));
                }
                state.drill.related = Some(*related);
            }
            Vec::new()
        }
        Update::CodeVideos { code, range, mut rows } => {
            if state.selected_code() == Some(code.as_str()) {
                state.set_status(format!("{code}: {} failing videos", rows.len()));
                state.video_order.sort(&mut rows);
                state.code_video_rows = Some((code, range, rows));
                let n = state.videos_of_selected_code().len();
                state.video_selected = state.video_selected.min(n.saturating_sub(1));
            }
            Vec::new()
        }
        Update::Lines(lines) => {
            super::lines::receive(state, *lines);
            Vec::new()
        }
        update @ (Update::SearchProgress { .. } | Update::SearchResults(_)) => {
            super::search::on_engine(state, update);
            Vec::new()
        }
        Update::Notice(text) => {
            state.set_status(text);
            Vec::new()
        }
        Update::Progress(text) => {
            state.loading = Some(text);
            Vec::new()
        }
        Update::Failed(reason) => {
            state.failed = Some(reason);
            state.quit = true;
            Vec::new()
        }
    }
}

fn clamp_selections(state: &mut State) {
    if let Some(o) = &state.overview {
        state.code_selected = state.code_selected.min(o.codes.len().saturating_sub(1));
        // the selection is the code's video list's while it is on screen
        if !(state.code_videos && state.screen == Screen::Codes) {
            state.video_selected = state.video_selected.min(state.top_videos().len().saturating_sub(1));
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if state.form.is_some() {
        return super::label::on_key(state, key);
    }
    if matches!(state.input, Input::Command(_)) {
        return super::prompt::on_key(state, key);
    }
    if matches!(state.input, Input::Silence(_)) {
        return super::alerts::on_prompt_key(state, key);
    }
    if let Input::Filter(text) = &mut state.input {
        match key.code {
            KeyCode::Enter => {
                state.video_filter = std::mem::take(text);
                state.input = Input::Normal;
                state.video_selected = 0;
                let n = state.top_videos().len();
                let filter = state.video_filter.clone();
                state.set_status(if filter.is_empty() {
                    "top failing videos: every one".to_string()
                } else {
                    format!("top failing videos matching `{filter}`: {n} (f and an empty line show all)")
                });
            }
            KeyCode::Esc => state.input = Input::Normal,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            _ => {}
        }
        return Vec::new();
    }
    if let Input::Search(text) = &mut state.input {
        match key.code {
            KeyCode::Enter => {
                state.tail.query = std::mem::take(text);
                state.input = Input::Normal;
                let query = state.tail.query.clone();
                let found = state.tail_visible().iter().filter(|(_, e)| state.tail_matches(e)).count();
                state.set_status(if query.is_empty() {
                    "search cleared".to_string()
                } else {
                    format!("/{query}: {found} matching lines (n/N to jump)")
                });
                // from the end, the newest match first; paused, the next one after the selected line
                let forward = state.tail.paused;
                tail::jump_match(state, forward);
                // and every line in the range, beyond the ring
                if !query.is_empty() {
                    let ring = state.status.clone();
                    let effects = super::search::start(state, &query);
                    state.set_status(format!("{ring} · {}", state.search.summary()));
                    return effects;
                }
            }
            KeyCode::Esc => state.input = Input::Normal,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            _ => {}
        }
        return Vec::new();
    }
    if let Some(overlay) = state.overlay {
        match overlay_action(overlay, &key) {
            Some(Action::Quit) => state.quit = true,
            Some(Action::Back) => state.overlay = None,
            Some(Action::Help) => open_overlay(state, Overlay::Help),
            Some(Action::Messages) => open_overlay(state, Overlay::Messages),
            Some(Action::CopyLine) => return super::lines::act(state, Action::CopyLine),
            Some(action) => scroll_overlay(state, action),
            None => {}
        }
        return Vec::new();
    }
    let Some(action) = action_for(state.screen, &key) else { return Vec::new() };
    if state.screen == Screen::Alerts
        && matches!(
            action,
            Action::Enter
                | Action::Back
                | Action::Acknowledge
                | Action::Silence
                | Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
        )
    {
        return super::alerts::act(state, action);
    }
    if state.screen == Screen::Tail
        && state.search.shown
        && let Some(effects) = super::search::on_action(state, action)
    {
        return effects;
    }
    apply(state, action)
}

fn open_overlay(state: &mut State, overlay: Overlay) {
    state.overlay = Some(overlay);
    // help opens at its top; the message log at its newest lines
    state.overlay_scroll = match overlay {
        Overlay::Help => 0,
        Overlay::Messages => usize::MAX,
        Overlay::Line => 0,
    };
    clamp_overlay(state);
}

fn scroll_overlay(state: &mut State, action: Action) {
    let page = super::view::overlay_rows(state).max(1);
    let s = state.overlay_scroll;
    state.overlay_scroll = match action {
        Action::Up => s.saturating_sub(1),
        Action::Down => s.saturating_add(1),
        Action::PageUp => s.saturating_sub(page),
        Action::PageDown => s.saturating_add(page),
        Action::Top => 0,
        Action::Bottom => usize::MAX,
        _ => s,
    };
    clamp_overlay(state);
}

fn clamp_overlay(state: &mut State) {
    state.overlay_scroll = state.overlay_scroll.min(super::view::overlay_max_scroll(state));
}

/// The video row selected on the list on screen (the overview's, or a code's videos).
pub fn selected_video(state: &State) -> Option<&crate::stats::overview::VideoRow> {
    state.overview.as_ref()?;
    match state.screen {
        Screen::Codes if state.code_videos => state.videos_of_selected_code().get(state.video_selected),
        _ => state.top_videos().get(state.video_selected).copied(),
    }
}

/// Opens the drill-down of a video or request id (asks the engine unless it is on screen).
pub fn open_drill(state: &mut State, video_id: String) -> Vec<Effect> {
    state.previous = state.screen;
    state.screen = Screen::Drill;
    if state.drill.video_id != video_id || state.drill.related.is_none() {
        state.drill = DrillState { video_id: video_id.clone(), ..DrillState::default() };
        state.hscroll = 0;
        state.set_status(format!("loading the lines of {video_id}…"));
        return vec![Effect::Related(video_id)];
    }
    Vec::new()
}

const SCREENS: [Screen; 6] =
    [Screen::Overview, Screen::Drill, Screen::Tail, Screen::Codes, Screen::Patterns, Screen::Alerts];

fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    use Action::*;
    match action {
        Quit => state.quit = true,
        Help => open_overlay(state, Overlay::Help),
        Messages => open_overlay(state, Overlay::Messages),
        Back => match state.screen {
            Screen::Drill => {
                state.screen = if state.previous == Screen::Drill { Screen::Overview } else { state.previous }
            }
            Screen::Codes if state.code_videos => {
                state.code_videos = false;
                state.video_selected = 0;
            }
            Screen::Lines => state.screen = state.lines.back.unwrap_or(state.previous),
            Screen::Tail if !state.tail.query.is_empty() => {
                state.tail.query.clear();
                state.set_status("search cleared");
            }
            _ => state.screen = Screen::Overview,
        },
        Enter => match state.screen {
            Screen::Overview if state.focus != super::state::Panel::Videos => return super::zoom::enter(state),
            Screen::Overview => {
                if let Some(v) = selected_video(state) {
                    let id = v.video_id.clone();
                    return open_drill(state, id);
                }
            }
            Screen::Codes => {
                if state.code_videos {
                    if let Some(v) = selected_video(state) {
                        let id = v.video_id.clone();
                        return open_drill(state, id);
                    }
                } else if let Some(code) = state.selected_code().map(str::to_string) {
                    state.code_videos = true;
                    state.video_selected = 0;
                    if state.code_videos_loading() {
                        state.set_status(format!("loading the videos of {code}…"));
                        return vec![Effect::CodeVideos { code, range: state.range }];
                    }
                }
            }
            Screen::Tail => match tail::selected_video(state) {
                Some(id) => return open_drill(state, id),
                None => state.set_status("the selected line names no video"),
            },
            Screen::Patterns => return super::patterns::enter(state),
            Screen::Drill | Screen::Lines | Screen::Alerts => {}
        },
        Up | Down | PageUp | PageDown | Top | Bottom => move_cursor(state, action),
        NextScreen | PreviousScreen => {
            let at = SCREENS.iter().position(|s| *s == state.screen).unwrap_or(0);
            let step = if action == NextScreen { 1 } else { SCREENS.len() - 1 };
            state.screen = SCREENS[(at + step) % SCREENS.len()];
            if state.screen == Screen::Patterns {
                return super::patterns::open(state);
            }
            if state.screen == Screen::Alerts {
                super::alerts::open(state);
            }
        }
        GoTo(Screen::Patterns) => return super::patterns::open(state),
        GoTo(Screen::Alerts) => super::alerts::open(state),
        GoTo(s) => state.screen = s,
        CycleWindow => {
            // the next preset after the one shown (an absolute range goes back to the first)
            let at = WINDOWS.iter().position(|(_, r)| *r == state.range);
            let next = at.map_or(0, |i| (i + 1) % WINDOWS.len());
            state.zoom_stack.clear();
            return set_range(state, WINDOWS[next].1);
        }
        Search => {
            state.screen = Screen::Tail;
            state.input = Input::Search(String::new());
        }
        NextMatch => tail::jump_match(state, true),
        PrevMatch => tail::jump_match(state, false),
        TogglePause => {
            if state.tail.paused {
                tail::follow(state);
                state.set_status("following the end");
            } else {
                tail::pause(state);
                state.set_status("paused: the rows hold still; Space or G follows the end again");
            }
        }
        CycleLevel => {
            state.tail.min_level = match state.tail.min_level {
                None => Some(Level::Info),
                Some(Level::Info) => Some(Level::Warn),
                Some(Level::Warn) => Some(Level::Error),
                _ => None,
            };
            let label = state.tail.min_level.map_or("all levels".to_string(), |l| format!("{} and above", l.as_str()));
            state.set_status(format!("tail: {label}"));
        }
        CycleComponent => {
            let mut names: Vec<String> = state.tail.events.iter().map(|(_, e)| e.component.clone()).collect();
            names.sort();
            names.dedup();
            let next = match &state.tail.component {
                None => names.first().cloned(),
                Some(c) => names.iter().position(|n| n == c).and_then(|i| names.get(i + 1).cloned()),
            };
            state.tail.component = next;
            let label = state.tail.component.clone().unwrap_or_else(|| "all components".into());
            state.set_status(format!("tail: {label}"));
        }
        ToggleErrorsOnly => {
            state.tail.errors_only = !state.tail.errors_only;
            state.set_status(if state.tail.errors_only { "tail: errors only" } else { "tail: all events" });
        }
        CycleOrder if state.screen == Screen::Overview => return super::zoom::act(state, action),
        CycleOrder => cycle_order(state),
        CommandLine => super::prompt::open(state),
        ViewLine | CopyLine | ScrollLeft | ScrollRight | ToggleContext => return super::lines::act(state, action),
        FocusNext | FocusPrevious if state.screen == Screen::Patterns => super::patterns::switch_focus(state),
        Label => super::label::open(state),
        Acknowledge | Silence => {}
        DrillLine => match super::lines::selected(state).and_then(|e| e.video_id.clone()) {
            Some(id) => return open_drill(state, id),
            None => state.set_status("the selected line names no video"),
        },
        CursorEarlier | CursorLater | Zoom | ZoomOut | FocusNext | FocusPrevious | FilterVideos => {
            return super::zoom::act(state, action);
        }
        CopyRetry | OpenKibana | Export | CopySummary => return super::actions::drill_action(state, action),
        ToggleMouse => {
            state.mouse = !state.mouse;
            state.set_status(if state.mouse {
                "mouse capture on (F2 turns it off to select text)"
            } else {
                "mouse capture off"
            });
            return vec![Effect::SetMouse(state.mouse)];
        }
    }
    Vec::new()
}

/// Shows `range` on every panel: the status line says it, the engine is asked for its overview
/// (and for the listed code's videos).
pub fn set_range(state: &mut State, range: TimeRange) -> Vec<Effect> {
    state.range = range;
    let absolute = match state.range_absolute() {
        Some(a) if range.is_relative() || range.is_all() => format!(" ({a})"),
        _ => String::new(),
    };
    state.set_status(format!("range: {}{absolute}", range.label()));
    let mut effects = vec![Effect::Window(range)];
    if state.screen == Screen::Codes
        && state.code_videos
        && let Some(code) = state.selected_code()
    {
        effects.push(Effect::CodeVideos { code: code.to_string(), range });
    }
    if state.screen == Screen::Patterns {
        effects.extend(super::patterns::request(state));
    }
    effects
}

/// `s` on a code's videos: the next order, shown from its top.
fn cycle_order(state: &mut State) {
    state.video_order = state.video_order.next();
    let order = state.video_order;
    if let Some((_, _, rows)) = state.code_video_rows.as_mut() {
        order.sort(rows);
    }
    state.video_selected = 0;
    state.set_status(format!("a code's videos sorted by {}", order.label()));
}

fn move_cursor(state: &mut State, action: Action) {
    let page = match state.screen {
        Screen::Codes if state.code_videos => state.code_video_page(),
        _ => PAGE,
    };
    let (cursor, len): (&mut usize, usize) = match state.screen {
        Screen::Overview if state.focus != super::state::Panel::Videos => {
            let n = super::zoom::panel_len(state);
            (&mut state.panel_selected, n)
        }
        Screen::Overview => {
            let n = state.top_videos().len();
            (&mut state.video_selected, n)
        }
        Screen::Lines => {
            let (n, page) = (state.lines.answer.as_ref().map_or(0, |l| l.events.len()), state.tail_rows());
            return super::lines::move_cursor(&mut state.lines.cursor, n, action, page);
        }
        Screen::Drill if state.drill.show_context => {
            let (n, page) = (state.drill.context.as_ref().map_or(0, |l| l.events.len()), state.tail_rows());
            return super::lines::move_cursor(&mut state.drill.context_cursor, n, action, page);
        }
        Screen::Codes if state.code_videos => {
            let n = state.videos_of_selected_code().len();
            (&mut state.video_selected, n)
        }
        Screen::Codes => (&mut state.code_selected, state.overview.as_ref().map_or(0, |o| o.codes.len())),
        Screen::Drill => (&mut state.drill.scroll, state.drill.related.as_ref().map_or(0, |r| r.events.len())),
        Screen::Tail => return tail::move_cursor(state, action),
        Screen::Patterns => return super::patterns::move_cursor(state, action),
        Screen::Alerts => {
            super::alerts::act(state, action);
            return;
        }
    };
    let last = len.saturating_sub(1);
    *cursor = match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (*cursor + 1).min(last),
        Action::PageUp => cursor.saturating_sub(page),
        Action::PageDown => (*cursor + page).min(last),
        Action::Top => 0,
        _ => last,
    };
}
