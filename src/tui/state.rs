//! What the screen shows: the state the pure `update` changes and the views only read.

use crate::backend::Related;
use crate::event::{Level, OwnedEvent};
use crate::stats::overview::Overview;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Overview,
    Drill,
    Tail,
    Codes,
}

/// The windows `t` cycles through (`None` = all data).
pub const WINDOWS: [(&str, Option<i64>); 5] =
    [("5m", Some(300_000)), ("15m", Some(900_000)), ("1h", Some(3_600_000)), ("24h", Some(86_400_000)), ("all", None)];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Normal,
    /// Typing a search (`/`).
    Search(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TailState {
    pub events: VecDeque<OwnedEvent>,
    pub last_seq: u64,
    pub paused: bool,
    /// Lines that arrived while paused.
    pub waiting: usize,
    /// Minimum level shown (`l` cycles).
    pub min_level: Option<Level>,
    /// Component filter (`c` cycles through the components seen).
    pub component: Option<String>,
    /// Only events with an error code (`e`).
    pub errors_only: bool,
    pub query: String,
    /// Offset from the newest line (0 = following the end).
    pub scroll: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrillState {
    pub video_id: String,
    pub related: Option<Related>,
    pub scroll: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub screen: Screen,
    pub previous: Screen,
    pub help: bool,
    pub window: usize,
    pub source: String,
    pub overview: Option<Overview>,
    /// The window the shown overview was computed for (it lags the chosen one until the engine
    /// answers).
    pub overview_span: Option<i64>,
    /// Wall-clock time the overview arrived.
    pub overview_at_ms: i64,
    pub events_per_second: f64,
    pub video_selected: usize,
    pub code_selected: usize,
    /// Enter on a code lists its videos.
    pub code_videos: bool,
    /// The videos of the listed code, as the engine answered: (code, window, rows); `None` while
    /// the answer is on its way.
    pub code_video_rows: Option<(String, Option<i64>, Vec<crate::stats::overview::VideoRow>)>,
    pub tail: TailState,
    pub drill: DrillState,
    pub input: Input,
    pub status: String,
    pub status_at_ms: i64,
    pub mouse: bool,
    pub quit: bool,
    /// How far the engine got opening its backend, until the first overview arrives.
    pub loading: Option<String>,
    /// Why the backend could not be opened (the console ends and says it).
    pub failed: Option<String>,
    pub now_ms: i64,
    /// Link settings (retry template, Kibana), for the actions.
    pub links: crate::config::Links,
    /// Alert rules in force and the health formula, for help.
    pub alert_rules: Vec<crate::alerts::AlertRule>,
    pub health_formula: String,
}

impl State {
    pub fn new(source: String, config: &crate::config::Config) -> State {
        State {
            screen: Screen::Overview,
            previous: Screen::Overview,
            help: false,
            window: 2,
            source,
            overview: None,
            overview_span: None,
            overview_at_ms: 0,
            events_per_second: 0.0,
            video_selected: 0,
            code_selected: 0,
            code_videos: false,
            code_video_rows: None,
            tail: TailState::default(),
            drill: DrillState::default(),
            input: Input::Normal,
            status: "loading…".into(),
            status_at_ms: 0,
            mouse: false,
            quit: false,
            loading: None,
            failed: None,
            now_ms: 0,
            links: config.links.clone(),
            alert_rules: config.alerts.clone(),
            health_formula: config.health.describe(),
        }
    }

    pub fn window_label(&self) -> &'static str {
        WINDOWS[self.window % WINDOWS.len()].0
    }

    pub fn window_span(&self) -> Option<i64> {
        WINDOWS[self.window % WINDOWS.len()].1
    }

    /// The tail events passing the filters, oldest first.
    pub fn tail_visible(&self) -> Vec<&OwnedEvent> {
        self.tail.events.iter().filter(|e| self.tail_passes(e)).collect()
    }

    pub fn tail_passes(&self, e: &OwnedEvent) -> bool {
        let t = &self.tail;
        t.min_level.is_none_or(|l| e.level >= l)
            && t.component.as_deref().is_none_or(|c| e.component == c)
            && (!t.errors_only || e.is_error())
    }

    /// True when the tail line matches the search text (case-insensitive).
    pub fn tail_matches(&self, e: &OwnedEvent) -> bool {
        !self.tail.query.is_empty() && e.raw.to_lowercase().contains(&self.tail.query.to_lowercase())
    }

    /// The code selected on the codes screen.
    pub fn selected_code(&self) -> Option<&str> {
        self.overview.as_ref()?.codes.get(self.code_selected).map(|c| c.code.as_str())
    }

    /// Every video listed on the codes screen for the selected code (empty until the engine
    /// answers, see [`State::code_videos_loading`]).
    pub fn videos_of_selected_code(&self) -> Vec<&crate::stats::overview::VideoRow> {
        match (&self.code_video_rows, self.selected_code()) {
            (Some((code, span, rows)), Some(selected)) if code == selected && *span == self.window_span() => {
                rows.iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// True while the selected code's videos for this window have not arrived.
    pub fn code_videos_loading(&self) -> bool {
        !matches!((&self.code_video_rows, self.selected_code()),
            (Some((code, span, _)), Some(selected)) if code == selected && *span == self.window_span())
    }
}
