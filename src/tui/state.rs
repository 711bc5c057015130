//! What the screen shows: the state the pure `update` changes and the views only read.

use crate::backend::worker::TAIL_CAPACITY;
use crate::backend::{Related, TimeRange};
use crate::event::{Level, OwnedEvent};
use crate::stats::overview::{Overview, VideoRow};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Overview,
    Drill,
    Tail,
    Codes,
    /// The templates of errors and warnings, and what changed against a baseline.
    Patterns,
    /// The lines of a panel entered (a heatmap cell, an alert, an unknown-error pattern); not in
    /// the Tab cycle, Esc goes back.
    Lines,
    /// Every firing of the alert rules in the range: acknowledge, silence, its lines.
    Alerts,
}

/// The overview's panels, in focus order (`w`, Ctrl-arrows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Panel {
    #[default]
    Videos,
    Heatmap,
    Unknown,
    Alerts,
}

impl Panel {
    pub const ALL: [Panel; 4] = [Panel::Videos, Panel::Heatmap, Panel::Unknown, Panel::Alerts];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Videos => "top failing videos",
            Panel::Heatmap => "error heatmap",
            Panel::Unknown => "unknown errors",
            Panel::Alerts => "alerts",
        }
    }
}

/// A list of lines the engine answered (a panel's lines), and the selected one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinesState {
    pub query: crate::backend::lines::LineQuery,
    /// `None` while the answer is on its way.
    pub answer: Option<crate::backend::lines::Lines>,
    pub cursor: usize,
    /// The screen Esc returns to (the one the lines were opened from).
    pub back: Option<Screen>,
}

/// The Patterns screen: the engine's answer, the list focused and the selected rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternsState {
    /// The last answer, with the query it answered and how long it took (ms).
    pub answer: Option<(crate::backend::PatternsQuery, crate::stats::template_rows::PatternsView, u64)>,
    /// A request is on its way.
    pub pending: bool,
    /// The baseline chosen with `:baseline FROM TO` (`None`: the same length just before).
    pub baseline: Option<TimeRange>,
    /// The changes list has the focus (`w`), else the templates.
    pub on_changes: bool,
    pub cursor: usize,
    pub change_cursor: usize,
    /// Minutes within which a first-seen template is new (config `new_pattern_minutes`).
    pub new_minutes: u32,
}

/// The ranges `t` cycles through (back from the newest data, or all of it).
pub const WINDOWS: [(&str, TimeRange); 5] = [
    ("5m", TimeRange::last(300_000)),
    ("15m", TimeRange::last(900_000)),
    ("1h", TimeRange::last(3_600_000)),
    ("24h", TimeRange::last(86_400_000)),
    ("all", TimeRange::ALL),
];

/// Status messages kept for the message log (`m`).
pub const MESSAGES_KEPT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Normal,
    /// Typing a search (`/`).
    Search(String),
    /// Typing a command (`:`).
    Command(super::prompt::CommandLine),
    /// Typing the top videos' filter (`f`).
    Filter(String),
    /// Typing how long to silence an alert rule (`S` on the Alerts screen).
    Silence(String),
}

/// A scrollable overlay over the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// Every key, the health formula, the alert rules (`?`).
    Help,
    /// The last status messages with their times, and the alerts whole (`m`).
    Messages,
    /// One line whole (`v`): wrapped, JSON pretty-printed, a traceback as its lines, its fields.
    Line,
}

/// How the videos of a code are ordered (`s` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoOrder {
    /// Most failures first.
    #[default]
    Failures,
    /// Most recently failed first.
    LastSeen,
    /// By video id.
    Id,
}

impl VideoOrder {
    pub fn label(self) -> &'static str {
        match self {
            VideoOrder::Failures => "failures",
            VideoOrder::LastSeen => "last seen",
            VideoOrder::Id => "id",
        }
    }

    pub fn next(self) -> VideoOrder {
        match self {
            VideoOrder::Failures => VideoOrder::LastSeen,
            VideoOrder::LastSeen => VideoOrder::Id,
            VideoOrder::Id => VideoOrder::Failures,
        }
    }

    /// Sorts rows in this order (ties broken by id, so the order is stable across refreshes).
    pub fn sort(self, rows: &mut [VideoRow]) {
        rows.sort_by(|a, b| self.compare(a, b));
    }

    /// The order of two rows.
    pub fn compare(self, a: &VideoRow, b: &VideoRow) -> std::cmp::Ordering {
        match self {
            VideoOrder::Failures => b.failures.cmp(&a.failures).then_with(|| a.video_id.cmp(&b.video_id)),
            VideoOrder::LastSeen => b.last_seen.cmp(&a.last_seen).then_with(|| a.video_id.cmp(&b.video_id)),
            VideoOrder::Id => a.video_id.cmp(&b.video_id),
        }
    }
}

/// The live tail. While following, new events are appended to `events` (a ring of
/// [`TAIL_CAPACITY`]) and the newest is selected. Paused, `events` is frozen — arrivals go to
/// `held` and are counted in `waiting` — and the view is pinned by sequence numbers: `top` is the
/// first row on screen, `cursor` the selected line. Nothing on screen moves until `Space` or `G`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TailState {
    /// The events shown, oldest first, with their sequence numbers.
    pub events: VecDeque<(u64, OwnedEvent)>,
    /// Events that arrived while paused (the newest [`TAIL_CAPACITY`]), appended on resume.
    pub held: VecDeque<(u64, OwnedEvent)>,
    pub last_seq: u64,
    pub paused: bool,
    /// Lines that arrived while paused (all of them, even those `held` no longer keeps).
    pub waiting: usize,
    /// Minimum level shown (`l` cycles).
    pub min_level: Option<Level>,
    /// Component filter (`c` cycles through the components seen).
    pub component: Option<String>,
    /// Only events with an error code (`e`).
    pub errors_only: bool,
    /// Only events with this error code (`:code`; the top videos too).
    pub code: Option<String>,
    /// Only events matching this filter in the query language (`:filter`), as typed and parsed.
    pub filter: Option<(String, crate::query::Query)>,
    pub query: String,
    /// Paused: the sequence number of the selected line.
    pub cursor: u64,
    /// Paused: the sequence number of the first line on screen.
    pub top: u64,
}

impl TailState {
    /// Takes new events: appended while following, held while paused.
    pub fn receive(&mut self, events: Vec<(u64, OwnedEvent)>) {
        for (seq, event) in events {
            self.last_seq = self.last_seq.max(seq);
            let ring = if self.paused {
                self.waiting += 1;
                &mut self.held
            } else {
                &mut self.events
            };
            if ring.len() >= TAIL_CAPACITY {
                ring.pop_front();
            }
            ring.push_back((seq, event));
        }
    }

    /// Follows the end again: the held events join the ring.
    pub fn resume(&mut self) {
        self.paused = false;
        self.waiting = 0;
        self.events.extend(self.held.drain(..));
        let excess = self.events.len().saturating_sub(TAIL_CAPACITY);
        self.events.drain(..excess);
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrillState {
    pub video_id: String,
    pub related: Option<Related>,
    /// The selected related line.
    pub scroll: usize,
    /// Context (`x`): the lines of every source around the selected one, instead of the related
    /// lines; `context` is the engine's answer (`None` while on its way).
    pub show_context: bool,
    pub context: Option<crate::backend::lines::Lines>,
    /// The selected context line.
    pub context_cursor: usize,
}

/// A search over every line in a range (Enter on `/text`): running with its progress, then its
/// results, shown on the tail screen in place of the ring until Esc.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchState {
    pub text: String,
    /// The range searched (milliseconds; `None`: unbounded).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub running: bool,
    /// (done, total) bytes or documents.
    pub progress: (u64, u64),
    pub result: Option<crate::backend::SearchResult>,
    /// The selected match.
    pub selected: usize,
    /// The results (or the progress) are on screen.
    pub shown: bool,
}

impl SearchState {
    /// "412 matches in 60 min", and whether the list holds them all.
    pub fn summary(&self) -> String {
        let range = match (self.from_ms, self.to_ms) {
            (Some(from), Some(to)) => format!("in {} min", ((to - from).max(0) as u64).div_ceil(60_000)),
            _ => "in all the data".to_string(),
        };
        let Some(result) = &self.result else {
            return if self.running {
                let (done, total) = self.progress;
                let share = done.saturating_mul(100).checked_div(total).unwrap_or(0);
                format!("/{}: searching every line {range}… {share}% (Esc cancels)", self.text)
            } else {
                format!("/{}: search cancelled", self.text)
            };
        };
        let at_least = if result.total_at_least { "at least " } else { "" };
        let mut text = format!("/{}: {at_least}{} matches {range}", self.text, result.total);
        if result.capped {
            text.push_str(&format!(" (the first {} listed)", result.matches.len()));
        }
        if let Some(e) = &result.error {
            text = format!("/{}: the search failed: {e}", self.text);
        }
        text
    }
}

/// A status message, kept for the message log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Wall-clock time it was said (0 before the first tick).
    pub at_ms: i64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub screen: Screen,
    pub previous: Screen,
    /// The overlay shown over the screen, if any, and how far it is scrolled.
    pub overlay: Option<Overlay>,
    pub overlay_scroll: usize,
    /// The time range every panel shows (`t`, `:since`, `:range`, zoom).
    pub range: TimeRange,
    /// The ranges before each zoom (`Z` goes back).
    pub zoom_stack: Vec<TimeRange>,
    /// What the backend says it reads (the header).
    pub source: String,
    /// What the console was asked to open, as given (kept when the backend's description is empty).
    pub inputs: String,
    pub overview: Option<Overview>,
    /// The range the shown overview was computed for (it lags the chosen one until the engine
    /// answers).
    pub overview_range: Option<TimeRange>,
    /// Wall-clock time the overview arrived.
    pub overview_at_ms: i64,
    /// The error the backend reported with its last overview (the numbers shown are then old or
    /// empty, never "all clear").
    pub backend_error: Option<String>,
    pub events_per_second: f64,
    pub video_selected: usize,
    pub code_selected: usize,
    /// Enter on a code lists its videos.
    pub code_videos: bool,
    /// The videos of the listed code, as the engine answered, sorted by `video_order`:
    /// (code, window, rows); `None` while the answer is on its way.
    pub code_video_rows: Option<(String, TimeRange, Vec<VideoRow>)>,
    pub video_order: VideoOrder,
    /// The top failing videos: only those whose id, code or cause holds this (`f`), in this
    /// order (`s`).
    pub video_filter: String,
    pub top_order: VideoOrder,
    pub tail: TailState,
    pub drill: DrillState,
    /// The lines of a panel entered (`Screen::Lines`).
    pub lines: LinesState,
    pub patterns: PatternsState,
    /// The rule being written (`L` on an unknown template).
    pub form: Option<super::label::RuleForm>,
    /// The user's rule file, where labelled rules are appended (`rules.toml` in the config
    /// directory).
    pub rule_file: Option<std::path::PathBuf>,
    /// The line shown whole (`Overlay::Line`).
    pub detail: Option<OwnedEvent>,
    /// Columns the line lists are scrolled sideways (`←` / `→`).
    pub hscroll: usize,
    /// The overview's focused panel and selected row in it (heatmap codes, patterns, alerts).
    pub focus: Panel,
    pub panel_selected: usize,
    /// The overview's time cursor: a point of the series (`[` / `]`), `None` until moved.
    pub time_cursor: Option<usize>,
    /// Seconds either side of a line that context (`x`) shows.
    pub context_seconds: u32,
    /// How far past now a time may lie before it is suspect (`future_tolerance`), for `:suspect`.
    pub future_tolerance_ms: i64,
    /// The suspect lines already said on the status line.
    pub suspect_said: u64,
    /// The search over every line (`/` then Enter).
    pub search: SearchState,
    pub input: Input,
    /// Command lines entered, oldest first (kept across runs in the state directory).
    pub history: Vec<String>,
    /// The zone of times typed without one (`:since 14:00`), seconds east of UTC.
    pub offset_seconds: i64,
    pub status: String,
    pub status_at_ms: i64,
    /// The last [`MESSAGES_KEPT`] status messages, oldest first.
    pub messages: VecDeque<Message>,
    pub mouse: bool,
    pub quit: bool,
    /// How far the engine got opening its backend, until the first overview arrives.
    pub loading: Option<String>,
    /// Why the backend could not be opened (the console ends and says it).
    pub failed: Option<String>,
    pub now_ms: i64,
    /// The terminal's size (columns, rows), for paging; the views draw in what they are given.
    pub size: (u16, u16),
    /// Link settings (retry template, Kibana), for the actions.
    pub links: crate::config::Links,
    /// The Alerts screen: the engine's last evaluation, acknowledgements and silences.
    pub alerts: super::alerts::AlertsState,
    /// Alert rules in force (as the engine evaluates them) and the health formula, for help.
    pub alert_rules: Vec<crate::alerts::rules::Rule>,
    pub health_formula: String,
}

impl State {
    pub fn new(source: String, config: &crate::config::Config) -> State {
        State {
            screen: Screen::Overview,
            previous: Screen::Overview,
            overlay: None,
            overlay_scroll: 0,
            range: crate::backend::worker::DEFAULT_RANGE,
            zoom_stack: Vec::new(),
            inputs: source.clone(),
            source,
            overview: None,
            overview_range: None,
            overview_at_ms: 0,
            backend_error: None,
            events_per_second: 0.0,
            video_selected: 0,
            code_selected: 0,
            code_videos: false,
            code_video_rows: None,
            video_order: VideoOrder::default(),
            video_filter: String::new(),
            top_order: VideoOrder::default(),
            tail: TailState::default(),
            drill: DrillState::default(),
            lines: LinesState::default(),
            form: None,
            rule_file: crate::config::config_dir().map(|d| d.join("rules.toml")),
            patterns: PatternsState { new_minutes: config.new_pattern_minutes, ..PatternsState::default() },
            detail: None,
            hscroll: 0,
            focus: Panel::default(),
            panel_selected: 0,
            time_cursor: None,
            context_seconds: config.context_seconds,
            future_tolerance_ms: config.future_tolerance.ms(),
            suspect_said: 0,
            search: SearchState::default(),
            input: Input::Normal,
            history: Vec::new(),
            offset_seconds: config.offset_seconds(),
            status: "loading…".into(),
            status_at_ms: 0,
            messages: VecDeque::new(),
            mouse: false,
            quit: false,
            loading: None,
            failed: None,
            now_ms: 0,
            size: (80, 24),
            links: config.links.clone(),
            alerts: super::alerts::AlertsState { bell: config.alerting.bell, ..Default::default() },
            alert_rules: crate::alerts::rules::builtin(),
            health_formula: config.health.describe(),
        }
    }

    /// Says something on the status line; it is kept in the message log too.
    pub fn set_status(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.messages.back().is_none_or(|m| m.text != text) {
            if self.messages.len() >= MESSAGES_KEPT {
                self.messages.pop_front();
            }
            self.messages.push_back(Message { at_ms: self.now_ms, text: text.clone() });
        }
        self.status = text;
        self.status_at_ms = self.now_ms;
    }

    /// The range's short name (`last 1h`, `all`, or its absolute ends).
    pub fn range_label(&self) -> String {
        self.range.label()
    }

    /// The range's absolute ends against the shown data (`14:00:00 … 14:59:59`), for the header.
    pub fn range_absolute(&self) -> Option<String> {
        let newest = self.overview.as_ref().and_then(|o| o.data_to);
        let window = self.range.window(newest);
        // the day too when the range crosses midnight
        let span_days = |a: Option<i64>, b: Option<i64>| matches!((a, b), (Some(a), Some(b)) if a.div_euclid(86_400_000) != b.div_euclid(86_400_000));
        let with_day =
            span_days(window.from_ms.or(self.overview.as_ref().and_then(|o| o.data_from)), window.to_ms.or(newest));
        let clock = |ms: i64| {
            if with_day {
                chrono::DateTime::from_timestamp_millis(ms)
                    .map(|t| t.format("%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| crate::clock::format_clock(ms))
            } else {
                crate::clock::format_clock(ms)
            }
        };
        match (window.from_ms, window.to_ms.or(newest)) {
            (Some(from), Some(to)) => Some(format!("{} … {}", clock(from), clock(to))),
            (None, Some(to)) => {
                let first = self.overview.as_ref().and_then(|o| o.data_from);
                Some(format!("{} … {}", first.map(clock).unwrap_or_else(|| "start".into()), clock(to)))
            }
            (Some(from), None) => Some(format!("{} … end", clock(from))),
            (None, None) => None,
        }
    }

    /// The time range a search covers: the console's range against the newest data.
    pub fn search_range(&self) -> (Option<i64>, Option<i64>) {
        let newest = self.overview.as_ref().and_then(|o| o.data_to);
        let window = self.range.window(newest);
        (window.from_ms, window.to_ms)
    }

    /// Rows of lines inside the tail's frame at the current size (header, status line, borders
    /// taken off).
    pub fn tail_rows(&self) -> usize {
        (self.size.1 as usize).saturating_sub(4).max(1)
    }

    /// The tail events passing the filters, oldest first, with their sequence numbers.
    pub fn tail_visible(&self) -> Vec<(u64, &OwnedEvent)> {
        self.tail.events.iter().filter(|(_, e)| self.tail_passes(e)).map(|(s, e)| (*s, e)).collect()
    }

    pub fn tail_passes(&self, e: &OwnedEvent) -> bool {
        let t = &self.tail;
        t.min_level.is_none_or(|l| e.level >= l)
            && t.component.as_deref().is_none_or(|c| e.component == c)
            && (!t.errors_only || e.is_error())
            && t.code.as_deref().is_none_or(|c| e.error_code.as_deref() == Some(c))
            && t.filter.as_ref().is_none_or(|(_, q)| crate::query::matcher::matches_owned(q, e))
    }

    /// The overview's top failing videos that the `:code` filter lets through, with their index
    /// in the overview's list.
    pub fn top_videos(&self) -> Vec<&VideoRow> {
        let Some(o) = &self.overview else { return Vec::new() };
        let filter = self.video_filter.to_lowercase();
        let mut rows: Vec<&VideoRow> = o
            .top_failing_videos
            .iter()
            .filter(|v| self.tail.code.as_deref().is_none_or(|c| v.codes.iter().any(|x| x == c)))
            .filter(|v| {
                filter.is_empty()
                    || contains_folded(&v.video_id, &filter)
                    || contains_folded(&v.cause, &filter)
                    || v.codes.iter().any(|c| contains_folded(c, &filter))
            })
            .collect();
        if self.top_order != VideoOrder::Failures {
            rows.sort_by(|a, b| self.top_order.compare(a, b));
        }
        rows
    }

    /// True when the tail line matches the search text (case-insensitive).
    pub fn tail_matches(&self, e: &OwnedEvent) -> bool {
        !self.tail.query.is_empty() && contains_folded(&e.raw, &self.tail.query.to_lowercase())
    }

    /// The index (in `visible`) of the selected tail line: the newest while following; paused, the
    /// line at the cursor (or the nearest older one the filters show, else the oldest shown).
    pub fn tail_cursor_index(&self, visible: &[(u64, &OwnedEvent)]) -> Option<usize> {
        if visible.is_empty() {
            return None;
        }
        if !self.tail.paused {
            return Some(visible.len() - 1);
        }
        let after = visible.partition_point(|(seq, _)| *seq <= self.tail.cursor);
        Some(after.saturating_sub(1))
    }

    /// The rows of `visible` on screen, `rows` high: the newest while following; paused, from
    /// the pinned top line, moved only as far as needed to keep the selected line on screen.
    pub fn tail_frame(&self, visible: &[(u64, &OwnedEvent)], rows: usize) -> std::ops::Range<usize> {
        let len = visible.len();
        let rows = rows.max(1);
        if !self.tail.paused {
            return len.saturating_sub(rows)..len;
        }
        let Some(cursor) = self.tail_cursor_index(visible) else { return 0..0 };
        let mut top = visible.partition_point(|(seq, _)| *seq < self.tail.top).min(len.saturating_sub(1));
        if cursor < top {
            top = cursor;
        } else if cursor >= top + rows {
            top = cursor + 1 - rows;
        }
        top..(top + rows).min(len)
    }

    /// The selected tail line (Enter drills into its video).
    pub fn tail_selected(&self) -> Option<&OwnedEvent> {
        let visible = self.tail_visible();
        self.tail_cursor_index(&visible).map(|i| visible[i].1)
    }

    /// The code selected on the codes screen.
    pub fn selected_code(&self) -> Option<&str> {
        self.overview.as_ref()?.codes.get(self.code_selected).map(|c| c.code.as_str())
    }

    /// Every video listed on the codes screen for the selected code, in the chosen order (empty
    /// until the engine answers, see [`State::code_videos_loading`]).
    pub fn videos_of_selected_code(&self) -> &[VideoRow] {
        match (&self.code_video_rows, self.selected_code()) {
            (Some((code, range, rows)), Some(selected)) if code == selected && *range == self.range => rows,
            _ => &[],
        }
    }

    /// True while the selected code's videos for this window have not arrived.
    pub fn code_videos_loading(&self) -> bool {
        !matches!((&self.code_video_rows, self.selected_code()),
            (Some((code, range, _)), Some(selected)) if code == selected && *range == self.range)
    }

    /// Rows of the code's video list on screen at the current size (header, status line, borders
    /// and the column heads taken off).
    pub fn code_video_page(&self) -> usize {
        (self.size.1 as usize).saturating_sub(5).max(1)
    }
}

/// Case-insensitive `contains` with the needle already lower-cased; no allocation for ASCII text.
fn contains_folded(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(needle)
}
