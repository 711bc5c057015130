//! The pure heart of the console: messages in, state changed, effects out. No IO here, so every
//! key flow is unit-testable. Keys go through one table ([`action_for`]) to [`Action`]s.

use super::state::{DrillState, Input, Screen, State, WINDOWS};
use crate::backend::worker::{TAIL_CAPACITY, Update};
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
    Resize,
}

impl From<Update> for Msg {
    fn from(update: Update) -> Msg {
        Msg::Engine(update)
    }
}

/// Work for the runtime; results come back as messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Ask the backend for the overview of this window.
    Window(Option<i64>),
    Related(String),
    /// Ask for every video of a code in a window.
    CodeVideos {
        code: String,
        span: Option<i64>,
    },
    /// Copy text; the label says what it is.
    Copy {
        text: String,
        label: String,
    },
    Open(String),
    /// Write a video's log bundle to a file.
    Export {
        video_id: String,
        content: String,
    },
    SetMouse(bool),
}

/// The vocabulary keys map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Back,
    Enter,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextScreen,
    GoTo(Screen),
    CycleWindow,
    Search,
    NextMatch,
    PrevMatch,
    TogglePause,
    CycleLevel,
    CycleComponent,
    ToggleErrorsOnly,
    CopyRetry,
    OpenKibana,
    Export,
    CopySummary,
    ToggleMouse,
}

/// The key table: (screen, key) → action; screen-specific keys first.
pub fn action_for(screen: Screen, key: &KeyEvent) -> Option<Action> {
    use Action::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Quit);
    }
    let specific = match (screen, key.code) {
        (Screen::Tail, KeyCode::Char(' ')) => Some(TogglePause),
        (Screen::Tail, KeyCode::Char('l')) => Some(CycleLevel),
        (Screen::Tail, KeyCode::Char('c')) => Some(CycleComponent),
        (Screen::Tail, KeyCode::Char('e')) => Some(ToggleErrorsOnly),
        (Screen::Drill, KeyCode::Char('y')) => Some(CopyRetry),
        (Screen::Drill, KeyCode::Char('o')) => Some(OpenKibana),
        (Screen::Drill, KeyCode::Char('e')) => Some(Export),
        (Screen::Drill, KeyCode::Char('c')) => Some(CopySummary),
        (Screen::Overview, KeyCode::Char('y')) => Some(CopyRetry),
        (Screen::Overview, KeyCode::Char('o')) => Some(OpenKibana),
        _ => None,
    };
    if specific.is_some() {
        return specific;
    }
    Some(match key.code {
        KeyCode::Char('q') => Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Help,
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Char('h') | KeyCode::Left => Back,
        KeyCode::Enter | KeyCode::Right => Enter,
        KeyCode::Char('k') | KeyCode::Up => Up,
        KeyCode::Char('j') | KeyCode::Down => Down,
        KeyCode::PageUp | KeyCode::Char('b') if !ctrl => PageUp,
        KeyCode::PageDown | KeyCode::Char('f') if !ctrl => PageDown,
        KeyCode::Char('u') if ctrl => PageUp,
        KeyCode::Char('d') if ctrl => PageDown,
        KeyCode::Char('g') | KeyCode::Home => Top,
        KeyCode::Char('G') | KeyCode::End => Bottom,
        KeyCode::Tab => NextScreen,
        KeyCode::Char('1') => GoTo(Screen::Overview),
        KeyCode::Char('2') => GoTo(Screen::Drill),
        KeyCode::Char('3') => GoTo(Screen::Tail),
        KeyCode::Char('4') => GoTo(Screen::Codes),
        KeyCode::Char('t') => CycleWindow,
        KeyCode::Char('/') => Search,
        KeyCode::Char('n') => NextMatch,
        KeyCode::Char('N') => PrevMatch,
        KeyCode::F(2) => ToggleMouse,
        _ => return None,
    })
}

const PAGE: usize = 10;

fn status(state: &mut State, text: impl Into<String>) {
    state.status = text.into();
    state.status_at_ms = state.now_ms;
}

/// Applies a message; returns the effects to run.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick { now_ms } => {
            state.now_ms = now_ms;
            Vec::new()
        }
        Msg::Resize => Vec::new(),
        Msg::Engine(update) => on_engine(state, update),
        Msg::Key(key) => on_key(state, key),
    }
}

fn on_engine(state: &mut State, update: Update) -> Vec<Effect> {
    match update {
        Update::Overview { overview, span, events_per_second, source } => {
            state.overview = Some(*overview);
            state.overview_span = span;
            state.overview_at_ms = state.now_ms;
            state.events_per_second = events_per_second;
            state.source = source;
            if state.status == "loading…" || state.loading.is_some() {
                status(state, "ready: ? for help");
            }
            state.loading = None;
            clamp_selections(state);
            Vec::new()
        }
        Update::Tail(events) => {
            for (seq, event) in events {
                state.tail.last_seq = state.tail.last_seq.max(seq);
                if state.tail.paused {
                    state.tail.waiting += 1;
                }
                if state.tail.events.len() >= TAIL_CAPACITY {
                    state.tail.events.pop_front();
                }
                state.tail.events.push_back(event);
            }
            Vec::new()
        }
        Update::Related(related) => {
            if related.video_id == state.drill.video_id {
                status(state, format!("{}: {} related lines", related.video_id, related.events.len()));
                state.drill.related = Some(*related);
            }
            Vec::new()
        }
        Update::CodeVideos { code, span, rows } => {
            if state.selected_code() == Some(code.as_str()) {
                status(state, format!("{code}: {} failing videos", rows.len()));
                state.code_video_rows = Some((code, span, rows));
            }
            Vec::new()
        }
        Update::Notice(text) => {
            status(state, text);
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
        state.video_selected = state.video_selected.min(o.top_failing_videos.len().saturating_sub(1));
        state.code_selected = state.code_selected.min(o.codes.len().saturating_sub(1));
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if let Input::Search(text) = &mut state.input {
        match key.code {
            KeyCode::Enter => {
                state.tail.query = std::mem::take(text);
                state.input = Input::Normal;
                let query = state.tail.query.clone();
                let found = state.tail_visible().iter().filter(|e| state.tail_matches(e)).count();
                status(
                    state,
                    if query.is_empty() {
                        "search cleared".to_string()
                    } else {
                        format!("/{query}: {found} matching lines (n/N to jump)")
                    },
                );
                jump_match(state, true);
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
    if state.help {
        if matches!(action_for(state.screen, &key), Some(Action::Quit)) && key.code != KeyCode::Char('q') {
            state.quit = true;
        }
        state.help = false;
        return Vec::new();
    }
    let Some(action) = action_for(state.screen, &key) else { return Vec::new() };
    apply(state, action)
}

fn selected_video(state: &State) -> Option<&crate::stats::overview::VideoRow> {
    let o = state.overview.as_ref()?;
    match state.screen {
        Screen::Codes if state.code_videos => state.videos_of_selected_code().get(state.video_selected).copied(),
        _ => o.top_failing_videos.get(state.video_selected),
    }
}

fn open_drill(state: &mut State, video_id: String) -> Vec<Effect> {
    state.previous = state.screen;
    state.screen = Screen::Drill;
    if state.drill.video_id != video_id || state.drill.related.is_none() {
        state.drill = DrillState { video_id: video_id.clone(), related: None, scroll: 0 };
        status(state, format!("loading the lines of {video_id}…"));
        return vec![Effect::Related(video_id)];
    }
    Vec::new()
}

fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    use Action::*;
    match action {
        Quit => state.quit = true,
        Help => state.help = true,
        Back => match state.screen {
            Screen::Drill => {
                state.screen = if state.previous == Screen::Drill { Screen::Overview } else { state.previous }
            }
            Screen::Codes if state.code_videos => {
                state.code_videos = false;
                state.video_selected = 0;
            }
            Screen::Tail if !state.tail.query.is_empty() => {
                state.tail.query.clear();
                status(state, "search cleared");
            }
            _ => state.screen = Screen::Overview,
        },
        Enter => match state.screen {
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
                        status(state, format!("loading the videos of {code}…"));
                        return vec![Effect::CodeVideos { code, span: state.window_span() }];
                    }
                }
            }
            Screen::Tail => {
                let visible = state.tail_visible();
                let index = visible.len().saturating_sub(1 + state.tail.scroll);
                if let Some(id) = visible.get(index).and_then(|e| e.video_id.clone()) {
                    return open_drill(state, id);
                }
            }
            Screen::Drill => {}
        },
        Up | Down | PageUp | PageDown | Top | Bottom => move_cursor(state, action),
        NextScreen => {
            state.screen = match state.screen {
                Screen::Overview => Screen::Drill,
                Screen::Drill => Screen::Tail,
                Screen::Tail => Screen::Codes,
                Screen::Codes => Screen::Overview,
            }
        }
        GoTo(s) => state.screen = s,
        CycleWindow => {
            state.window = (state.window + 1) % WINDOWS.len();
            status(state, format!("window: {}", state.window_label()));
            let mut effects = vec![Effect::Window(state.window_span())];
            if state.screen == Screen::Codes
                && state.code_videos
                && let Some(code) = state.selected_code()
            {
                effects.push(Effect::CodeVideos { code: code.to_string(), span: state.window_span() });
            }
            return effects;
        }
        Search => {
            state.screen = super::state::Screen::Tail;
            state.input = Input::Search(String::new());
        }
        NextMatch => jump_match(state, true),
        PrevMatch => jump_match(state, false),
        TogglePause => {
            state.tail.paused = !state.tail.paused;
            if !state.tail.paused {
                state.tail.waiting = 0;
                state.tail.scroll = 0;
            }
            status(state, if state.tail.paused { "paused: Space resumes" } else { "following" });
        }
        CycleLevel => {
            state.tail.min_level = match state.tail.min_level {
                None => Some(Level::Info),
                Some(Level::Info) => Some(Level::Warn),
                Some(Level::Warn) => Some(Level::Error),
                _ => None,
            };
            let label = state.tail.min_level.map_or("all levels".to_string(), |l| format!("{} and above", l.as_str()));
            status(state, format!("tail: {label}"));
        }
        CycleComponent => {
            let mut names: Vec<String> = state.tail.events.iter().map(|e| e.component.clone()).collect();
            names.sort();
            names.dedup();
            let next = match &state.tail.component {
                None => names.first().cloned(),
                Some(c) => names.iter().position(|n| n == c).and_then(|i| names.get(i + 1).cloned()),
            };
            state.tail.component = next;
            let label = state.tail.component.clone().unwrap_or_else(|| "all components".into());
            status(state, format!("tail: {label}"));
        }
        ToggleErrorsOnly => {
            state.tail.errors_only = !state.tail.errors_only;
            status(state, if state.tail.errors_only { "tail: errors only" } else { "tail: all events" });
        }
        CopyRetry | OpenKibana | Export | CopySummary => return drill_action(state, action),
        ToggleMouse => {
            state.mouse = !state.mouse;
            status(
                state,
                if state.mouse { "mouse capture on (F2 turns it off to select text)" } else { "mouse capture off" },
            );
            return vec![Effect::SetMouse(state.mouse)];
        }
    }
    Vec::new()
}

fn move_cursor(state: &mut State, action: Action) {
    let (cursor, len): (&mut usize, usize) = match state.screen {
        Screen::Overview => {
            (&mut state.video_selected, state.overview.as_ref().map_or(0, |o| o.top_failing_videos.len()))
        }
        Screen::Codes if state.code_videos => {
            let n = state.videos_of_selected_code().len();
            (&mut state.video_selected, n)
        }
        Screen::Codes => (&mut state.code_selected, state.overview.as_ref().map_or(0, |o| o.codes.len())),
        Screen::Drill => (&mut state.drill.scroll, state.drill.related.as_ref().map_or(0, |r| r.events.len())),
        Screen::Tail => {
            // the tail counts from the newest line upwards
            let n = state.tail_visible().len();
            let t = &mut state.tail.scroll;
            *t = match action {
                Action::Up => (*t + 1).min(n.saturating_sub(1)),
                Action::Down => t.saturating_sub(1),
                Action::PageUp => (*t + PAGE).min(n.saturating_sub(1)),
                Action::PageDown => t.saturating_sub(PAGE),
                Action::Top => n.saturating_sub(1),
                _ => 0,
            };
            if *t > 0 && !state.tail.paused {
                state.tail.paused = true;
                status(state, "paused while scrolled: G or Space returns to the end");
            } else if *t == 0 && matches!(action, Action::Bottom) && state.tail.paused {
                state.tail.paused = false;
                state.tail.waiting = 0;
            }
            return;
        }
    };
    let last = len.saturating_sub(1);
    *cursor = match action {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (*cursor + 1).min(last),
        Action::PageUp => cursor.saturating_sub(PAGE),
        Action::PageDown => (*cursor + PAGE).min(last),
        Action::Top => 0,
        _ => last,
    };
}

/// Moves the tail view to the next (or previous) line matching the search.
fn jump_match(state: &mut State, forward: bool) {
    if state.tail.query.is_empty() {
        return;
    }
    let visible = state.tail_visible();
    let n = visible.len();
    let current = n.saturating_sub(1 + state.tail.scroll);
    let matches: Vec<usize> =
        visible.iter().enumerate().filter(|(_, e)| state.tail_matches(e)).map(|(i, _)| i).collect();
    let target = if forward {
        matches.iter().find(|i| **i > current).or(matches.first())
    } else {
        matches.iter().rev().find(|i| **i < current).or(matches.last())
    };
    match target {
        Some(i) => {
            state.tail.scroll = n - 1 - i;
            state.tail.paused = state.tail.scroll > 0 || state.tail.paused;
        }
        None => status(state, format!("/{}: no match", state.tail.query)),
    }
}

/// Builds the retry link, Kibana link, export and summary for the drill-down's video (or the
/// selected row of a list).
fn drill_action(state: &mut State, action: Action) -> Vec<Effect> {
    use crate::integrate::links;
    let in_drill = state.screen == Screen::Drill && !state.drill.video_id.is_empty();
    let row = if in_drill {
        state.drill.related.as_ref().and_then(|r| r.row.clone())
    } else {
        selected_video(state).cloned()
    };
    let video_id = if in_drill {
        state.drill.video_id.clone()
    } else {
        row.as_ref().map(|r| r.video_id.clone()).unwrap_or_default()
    };
    if video_id.is_empty() {
        status(state, "no video selected");
        return Vec::new();
    }
    let request_id = row.as_ref().and_then(|r| r.request_id.clone());
    let (first, last) = row.as_ref().map_or((state.now_ms, state.now_ms), |r| {
        let last = r.last_seen.unwrap_or(state.now_ms);
        (r.first_seen.unwrap_or(last), last)
    });
    let retry = links::retry_link(
        &state.links.retry_url,
        &video_id,
        request_id.as_deref(),
        row.as_ref().and_then(|r| r.last_seen),
    );
    let kibana = links::kibana_for_video(&state.links, &video_id, first, last);
    match action {
        Action::CopyRetry => vec![Effect::Copy { text: retry, label: "retry link".into() }],
        Action::OpenKibana => match kibana {
            Some(url) => vec![Effect::Open(url)],
            None => {
                status(state, "no Kibana URL configured (links.kibana_url)");
                Vec::new()
            }
        },
        Action::Export => {
            let Some(related) = state.drill.related.as_ref().filter(|r| r.video_id == video_id) else {
                status(state, "open the video (Enter) before exporting its lines");
                return Vec::new();
            };
            let mut bundle = String::new();
            for e in &related.events {
                let file = related.files.get(e.origin.file as usize).map_or("?", String::as_str);
                bundle.push_str(&format!("{file}:{}\t{}\n", e.origin.offset, e.raw));
            }
            vec![Effect::Export { video_id, content: bundle }]
        }
        Action::CopySummary => {
            let explanation =
                state.drill.related.as_ref().filter(|r| r.video_id == video_id).map(|r| r.explanation.clone());
            let (cause, fix, rule) = match (&explanation, &row) {
                (Some(e), _) => (e.cause.clone(), e.fix.clone(), e.rule.clone()),
                (None, Some(r)) => (r.cause.clone(), r.fix.clone(), r.rule.clone()),
                _ => ("unknown".into(), "-".into(), None),
            };
            let fmt = |ms: Option<i64>| ms.map(crate::parse::time::format_ms).unwrap_or_else(|| "-".into());
            let summary = format!(
                "### Failing video `{video_id}`\n- failures: {}\n- codes: {}\n- likely cause: {cause}{}\n- suggested fix: {fix}\n- first seen: {}\n- last seen: {}\n- retry: {retry}\n- kibana: {}\n",
                row.as_ref().map_or(0, |r| r.failures),
                row.as_ref().map(|r| r.codes.join(", ")).unwrap_or_default(),
                rule.map(|r| format!(" (rule `{r}`)")).unwrap_or_default(),
                fmt(row.as_ref().and_then(|r| r.first_seen)),
                fmt(row.as_ref().and_then(|r| r.last_seen)),
                kibana.unwrap_or_else(|| "-".into()),
            );
            vec![Effect::Copy { text: summary, label: "incident summary".into() }]
        }
        _ => Vec::new(),
    }
}
