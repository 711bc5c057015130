//! The key table: every key the console understands, mapped to an [`Action`] (the vocabulary the
//! pure update speaks), per screen and for the overlays. Help (`?`) lists the same keys.

use super::state::{Overlay, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The vocabulary keys map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Messages,
    Back,
    Enter,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextScreen,
    PreviousScreen,
    GoTo(Screen),
    CycleWindow,
    Search,
    NextMatch,
    PrevMatch,
    TogglePause,
    CycleLevel,
    CycleComponent,
    ToggleErrorsOnly,
    CycleOrder,
    CopyRetry,
    OpenKibana,
    Export,
    CopySummary,
    ToggleMouse,
    /// Open the command line (`:`).
    CommandLine,
    /// The selected line whole, in a detail pane (`v`, Enter in a line list).
    ViewLine,
    /// Copy the selected line whole (`Y`).
    CopyLine,
    /// Scroll a line list sideways (`←` / `→`).
    ScrollLeft,
    ScrollRight,
    /// The drill-down: every source's lines around the selected one (`x`).
    ToggleContext,
    /// The overview's time cursor (`[` / `]`), zoom to it (`z`) and back (`Z`).
    CursorEarlier,
    CursorLater,
    Zoom,
    ZoomOut,
    /// Focus the overview's next / previous panel (`w` / `W`, Ctrl-→ / Ctrl-←).
    FocusNext,
    FocusPrevious,
    /// Filter the top failing videos (`f`).
    FilterVideos,
    /// The drill-down of the selected line's video (`d` on a line list).
    DrillLine,
    /// Write a rule for the selected unknown template (`L` on the patterns screen).
    Label,
    /// Acknowledge the selected firing (`a` on the Alerts screen).
    Acknowledge,
    /// Silence the selected firing's rule for a while (`S` on the Alerts screen).
    Silence,
}

/// The key table: (screen, key) → action; screen-specific keys first.
pub fn action_for(screen: Screen, key: &KeyEvent) -> Option<Action> {
    use Action::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Quit);
    }
    if ctrl && screen == Screen::Overview {
        match key.code {
            KeyCode::Right | KeyCode::Down => return Some(FocusNext),
            KeyCode::Left | KeyCode::Up => return Some(FocusPrevious),
            _ => {}
        }
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
        (Screen::Codes, KeyCode::Char('s')) => Some(CycleOrder),
        (Screen::Overview, KeyCode::Char('s')) => Some(CycleOrder),
        (Screen::Overview, KeyCode::Char('f')) => Some(FilterVideos),
        (Screen::Overview, KeyCode::Char('[')) => Some(CursorEarlier),
        (Screen::Overview, KeyCode::Char(']')) => Some(CursorLater),
        (Screen::Overview, KeyCode::Char('z')) => Some(Zoom),
        (Screen::Overview, KeyCode::Char('w')) => Some(FocusNext),
        (Screen::Overview, KeyCode::Char('W')) => Some(FocusPrevious),
        (Screen::Patterns, KeyCode::Char('w')) => Some(FocusNext),
        (Screen::Patterns, KeyCode::Char('W')) => Some(FocusPrevious),
        (Screen::Lines, KeyCode::Char('d')) => Some(DrillLine),
        (Screen::Patterns | Screen::Codes, KeyCode::Char('L')) => Some(Label),
        (Screen::Alerts, KeyCode::Char('a')) => Some(Acknowledge),
        (Screen::Alerts, KeyCode::Char('S')) => Some(Silence),
        (_, KeyCode::Char('Z')) => Some(ZoomOut),
        (Screen::Tail | Screen::Drill | Screen::Lines, KeyCode::Char('v')) => Some(ViewLine),
        (Screen::Tail | Screen::Drill | Screen::Lines, KeyCode::Char('Y')) => Some(CopyLine),
        (Screen::Tail | Screen::Drill | Screen::Lines, KeyCode::Left) => Some(ScrollLeft),
        (Screen::Tail | Screen::Drill | Screen::Lines, KeyCode::Right) => Some(ScrollRight),
        (Screen::Drill | Screen::Lines, KeyCode::Enter) => Some(ViewLine),
        (Screen::Drill | Screen::Tail, KeyCode::Char('x')) => Some(ToggleContext),
        _ => None,
    };
    if specific.is_some() {
        return specific;
    }
    Some(match key.code {
        KeyCode::Char('q') => Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Help,
        KeyCode::Char('m') => Messages,
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
        KeyCode::BackTab => PreviousScreen,
        KeyCode::Char('1') => GoTo(Screen::Overview),
        KeyCode::Char('2') => GoTo(Screen::Drill),
        KeyCode::Char('3') => GoTo(Screen::Tail),
        KeyCode::Char('4') => GoTo(Screen::Codes),
        KeyCode::Char('5') => GoTo(Screen::Patterns),
        KeyCode::Char('6') => GoTo(Screen::Alerts),
        KeyCode::Char('t') => CycleWindow,
        KeyCode::Char('/') => Search,
        KeyCode::Char(':') => CommandLine,
        KeyCode::Char('n') => NextMatch,
        KeyCode::Char('N') => PrevMatch,
        KeyCode::F(2) => ToggleMouse,
        _ => return None,
    })
}

/// What a key does while an overlay is open: scroll it, switch to the other overlay, or close it
/// (`Back`). Other keys do nothing, so a stray key never closes help unread.
pub fn overlay_action(overlay: Overlay, key: &KeyEvent) -> Option<Action> {
    use Action::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Quit,
        KeyCode::Esc | KeyCode::Char('q') => Back,
        KeyCode::Char('?') | KeyCode::F(1) if overlay == Overlay::Help => Back,
        KeyCode::Char('m') if overlay == Overlay::Messages => Back,
        KeyCode::Char('?') | KeyCode::F(1) => Help,
        KeyCode::Char('m') => Messages,
        KeyCode::Char('Y') if overlay == Overlay::Line => CopyLine,
        KeyCode::Char('v') if overlay == Overlay::Line => Back,
        KeyCode::Char('k') | KeyCode::Up => Up,
        KeyCode::Char('j') | KeyCode::Down => Down,
        KeyCode::PageUp | KeyCode::Char('b') if !ctrl => PageUp,
        KeyCode::PageDown | KeyCode::Char('f') | KeyCode::Char(' ') if !ctrl => PageDown,
        KeyCode::Char('u') if ctrl => PageUp,
        KeyCode::Char('d') if ctrl => PageDown,
        KeyCode::Char('g') | KeyCode::Home => Top,
        KeyCode::Char('G') | KeyCode::End => Bottom,
        _ => return None,
    })
}

/// The keys, as help shows them (the README's table says the same).
pub const KEYS: [(&str, &str); 40] = [
    ("Tab / Shift-Tab", "next / previous screen (1-6 jump: overview, drill-down, tail, codes, patterns, alerts)"),
    ("j k ↓ ↑", "move / scroll"),
    ("g G", "top / bottom (G returns the tail to live)"),
    ("PgUp PgDn ^u ^d", "page"),
    (
        "Enter",
        "drill down on the selected video (or list a code's videos); in a line list: the line whole; alerts: the 10 latest related lines, again: all",
    ),
    ("Esc", "back"),
    (":", "command line (below); Tab completes ids, codes, components; ↑ ↓ history (kept across runs)"),
    ("t", "cycle the range: last 5m 15m 1h 24h, all"),
    ("/", "search every line in the range (Enter): results listed, n / N move, Enter opens, Esc cancels"),
    ("Space", "tail: pause / follow; paused, nothing on screen moves and the title counts the lines waiting"),
    ("l", "tail: minimum level (all, INFO, WARN, ERROR)"),
    ("c", "tail: component filter · drill-down: copy a Markdown incident summary"),
    ("e", "tail: errors only · drill-down: export the video's log bundle to a file"),
    ("s", "overview: sort the top videos · codes: sort a code's videos (failures, last seen, id)"),
    ("f", "overview: filter the top videos by id, code or cause"),
    ("[ ]", "overview: move the time cursor across the sparklines and the heatmap"),
    ("z Z", "zoom every panel to the cursor's bucket ± 2 / back to the range before"),
    ("w W ^→ ^←", "overview: focus the next / previous panel (videos, heatmap, unknown errors, alerts)"),
    ("w", "patterns: switch between the templates and what changed against the baseline (:baseline)"),
    ("L", "patterns, codes: a rule for the selected unknown template or code (to rules.toml, applied at once)"),
    ("d", "a line list (a pattern's lines): the drill-down of the selected line's video"),
    ("a", "alerts: acknowledge the selected firing (again: take it back); kept in the state directory"),
    ("S", "alerts: silence the selected firing's rule for 15m 1h 4h 1d (↑ ↓) or a typed duration; `off` lifts it"),
    ("v", "the selected line whole: every field, JSON pretty-printed, a traceback as its lines"),
    ("Y", "copy the selected line whole"),
    ("← →", "tail, drill-down, lines: scroll the lines sideways"),
    (
        "x",
        "context: every source within ±30 s of the selected line (drill-down: GPU beside; tail, search results: a list)",
    ),
    ("y", "copy the retry link (OSC 52 over SSH; tmux load-buffer inside tmux)"),
    ("o", "open the Kibana deep link (over SSH or without a browser: copied instead)"),
    ("m", "messages: every status message with its time, and the alerts in full"),
    ("F2", "mouse capture on/off (off keeps text selectable)"),
    ("?", "this help (j/k scroll; ? Esc q close)"),
    ("q  Ctrl-C", "quit"),
    ("", ""),
    ("▶", "marks the selected line on every list (Enter acts on it), and the focused panel"),
    ("ranges", "relative ones (last 1h, :since 30m) end at the newest event, not the wall clock"),
    ("times", "2025-09-01T14:00:00Z, \"2025-09-01 14:00:00\" (config zone), 2025-09-01, or 30m 2h 1d back"),
    ("lag", "header: how far the newest event is behind now"),
    ("themes", "dark, light, high-contrast, solarized; NO_COLOR honoured"),
    ("", ""),
];
