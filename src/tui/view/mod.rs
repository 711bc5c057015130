//! Drawing: one file per screen; this one lays out the frame (header, screen, status bar), the
//! overlays (help, messages) and the too-small message, and says what an empty panel means (still
//! reading, nothing found, an error) so that no panel reads "all clear" without data. Views only
//! read the state.
//!
//! ```text
//!  1O  2D  3T  4C  bundled demo (5 f… │ last 1h 14:00:00 … 14:59:59 │ 0 ev/s │ data to 14:59:59 (30s behind)
//! ┌ the screen ──────────────────────────────────────────────────────────────────┐
//! └──────────────────────────────────────────────────────────────────────────────┘
//!  status message (cut with …; m shows it whole)                   m log · ? help
//! ```

mod alerts;
mod codes;
mod drill;
mod help;
mod label;
mod line;
mod lines;
mod messages;
mod overview;
mod patterns;
mod search;
mod tail;
pub mod text;

use super::state::{Input, Overlay, Screen, State};
use super::theme::Theme;
use crate::clock::format_clock;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
pub use text::fit;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// The mark of the selected line on every list: a column of its own, so the selection shows
/// without colour (`NO_COLOR`, any theme).
pub const MARK: &str = "▶";

/// Draws the whole frame.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "foley-triage needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}. Enlarge it, or q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).style(theme.warn).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    let [header, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    draw_header(frame, header, state, theme);
    match state.screen {
        Screen::Overview => overview::draw(frame, body, state, theme),
        Screen::Drill => drill::draw(frame, body, state, theme),
        Screen::Tail => tail::draw(frame, body, state, theme),
        Screen::Codes => codes::draw(frame, body, state, theme),
        Screen::Patterns => patterns::draw(frame, body, state, theme),
        Screen::Lines => lines::draw(frame, body, state, theme),
        Screen::Alerts => alerts::draw(frame, body, state, theme),
    }
    draw_status(frame, status, state, theme);
    if let Some(form) = &state.form {
        label::draw(frame, body, state, form, theme);
    }
    if let Some(overlay) = state.overlay {
        draw_overlay(frame, body, state, theme, overlay);
    }
}

/// Why there is nothing to show, when there is nothing: still reading, an error, no files, or
/// nothing in the window. `None` when the overview has events.
pub fn no_data(state: &State) -> Option<String> {
    let Some(o) = &state.overview else {
        return Some(match &state.loading {
            // the progress names itself ("connecting to the cluster…", "reading 3 files…")
            Some(progress) => progress.clone(),
            None => "reading logs…".into(),
        });
    };
    if o.events > 0 {
        return None;
    }
    if let Some(error) = &state.backend_error {
        return Some(format!("no data: the backend reported an error ({error}); nothing was loaded"));
    }
    if o.lines.total == 0 {
        if state.source.starts_with("0 files") || state.source == "no log files yet" {
            return Some(format!(
                "no log files in {}: names ending in .log .jsonl .ndjson .txt .out .err .gz (or .log.N) are read, and new ones as they appear. Try a file: foley-triage PATH/app.log, or the demo: foley-triage --demo",
                state.inputs
            ));
        }
        return Some(format!(
            "no log lines in {} yet: the files are empty; new lines show as they are written",
            state.source
        ));
    }
    Some(match o.data_to {
        Some(to) => format!(
            "no events in this range ({}): the newest event is at {}; t or :last 24h widens it",
            state.range_label(),
            crate::clock::format_ms(to)
        ),
        None => format!("no timed events: {} lines read, none with a time the parsers recognise", o.lines.total),
    })
}

/// A panel that says why it is empty (wrapped to fit).
pub fn draw_no_data(frame: &mut Frame, area: Rect, title: &str, message: &str, theme: &Theme) {
    let inner = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> =
        text::wrap(message, inner).into_iter().map(|l| Line::from(Span::styled(l, theme.warn))).collect();
    frame.render_widget(Paragraph::new(lines).block(block(title, area.width, theme)), area);
}

/// A bordered panel whose title is cut with `…` to the panel's width.
pub fn block<'a>(title: &str, width: u16, theme: &Theme) -> Block<'a> {
    block_with(title, width, theme, theme.accent)
}

/// [`block`] with the title in `style`.
pub fn block_with<'a>(title: &str, width: u16, theme: &Theme, style: ratatui::style::Style) -> Block<'a> {
    let room = (width as usize).saturating_sub(4);
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim)
        .title(Span::styled(format!(" {} ", fit(title.trim(), room)), style))
}

fn draw_header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let tabs = [
        ("1", "Overview", Screen::Overview),
        ("2", "Drill-down", Screen::Drill),
        ("3", "Tail", Screen::Tail),
        ("4", "Codes", Screen::Codes),
        ("5", "Patterns", Screen::Patterns),
        ("6", "Alerts", Screen::Alerts),
    ];
    // the window and the lag always show; the source takes what is left, cut with …
    let loading =
        if state.overview.is_some() && state.overview_range != Some(state.range) { " (loading…)" } else { "" };
    // a relative range says its length and its absolute ends; an absolute one its ends
    let window = match (state.range.is_relative() || state.range.is_all(), state.range_absolute()) {
        (true, Some(absolute)) => format!("{} {absolute}{loading}", state.range_label()),
        (false, Some(absolute)) => format!("{absolute}{loading}"),
        (_, None) => format!("{}{loading}", state.range_label()),
    };
    let to = state.overview.as_ref().and_then(|o| o.data_to);
    let lag = |long: bool| match to {
        Some(to) if state.now_ms > 0 && long => {
            format!("data to {} ({} behind)", format_clock(to), human_duration(state.now_ms - to))
        }
        Some(to) if state.now_ms > 0 => format!("{} behind ({})", human_duration(state.now_ms - to), format_clock(to)),
        Some(to) => format!("data to {}", format_clock(to)),
        None if state.overview.is_none() => "reading…".into(),
        None => "no data".into(),
    };
    let rate = format!("{:.0} ev/s", state.events_per_second);
    let (description, error) = match state.source.split_once(" · ERROR: ") {
        Some((d, _)) => (d.to_string(), true),
        None => (state.source.clone(), false),
    };
    let source =
        if description.starts_with("0 files") { format!("no log files in {}", state.inputs) } else { description };
    let width = area.width as usize;
    // the fullest right-hand side that leaves the source its name (or 20 columns)
    let want = text::width(&source).min(20);
    // silences show while they last: the rule and until when, else how many
    let silences = state.alerts.marks.active_silences(state.now_ms);
    let (silenced_long, silenced_short) = match silences.as_slice() {
        [] => (String::new(), String::new()),
        [one] => (
            format!(" │ silenced: {} until {}", one.rule, format_clock(one.until_ms)),
            format!(" │ 1 silenced until {}", format_clock(one.until_ms)),
        ),
        many => (format!(" │ {} rules silenced", many.len()), format!(" │ {} silenced", many.len())),
    };
    let short_window = format!("{}{loading}", state.range_label());
    let candidates = [
        format!("{silenced_long} │ {window} │ {rate} │ {} ", lag(true)),
        format!("{silenced_long} │ {window} │ {rate} │ {} ", lag(false)),
        format!("{silenced_long} │ {window} │ {} ", lag(false)),
        format!("{silenced_short} │ {window} │ {} ", lag(false)),
        format!("{silenced_short} │ {short_window} │ {} ", lag(false)),
    ];
    // the tabs with their names (and the tool's name when there is room), else their keys; the
    // fullest right-hand side that fits beside them, names kept before the window's clock ends
    let tabs_of = |title: bool, names: bool| -> Vec<Span<'static>> {
        let mut spans = Vec::new();
        if title {
            spans.push(Span::styled(" foley-triage ", theme.header.add_modifier(ratatui::style::Modifier::BOLD)));
        }
        for (key, name, screen) in tabs {
            let style = if state.screen == screen { theme.selection } else { theme.header };
            let label = if names { format!(" {key} {name} ") } else { format!(" {key}{} ", &name[..1]) };
            spans.push(Span::styled(label, style));
        }
        spans
    };
    // (the window's clock ends outrank the source's name on the narrowest header)
    let tiers: [(bool, bool, &[String]); 3] =
        [(true, true, &candidates[..4]), (false, true, &candidates[..]), (false, false, &candidates[..4])];
    let chosen = tiers.iter().find_map(|&(title, names, rights)| {
        let tabs = tabs_of(title, names);
        let used: usize = tabs.iter().map(|s| text::width(&s.content)).sum();
        rights.iter().find(|r| used + text::width(r) + 1 + want <= width).map(|r| (tabs, used, r.clone()))
    });
    let (mut spans, used, right) = chosen.unwrap_or_else(|| {
        let tabs = tabs_of(false, false);
        let used = tabs.iter().map(|s| text::width(&s.content)).sum();
        (tabs, used, candidates[3].clone())
    });
    let error_mark = if error { " · ERROR (m)" } else { "" };
    let room = width.saturating_sub(used + text::width(&right) + 1 + text::width(error_mark));
    let source = if room >= 4 { fit(&source, room) } else { String::new() };
    spans.push(Span::styled(format!(" {source}"), theme.header));
    if error {
        spans.push(Span::styled(error_mark, theme.critical));
    }
    spans.push(Span::styled(right, theme.header));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header), area);
}

fn draw_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let hints = match state.screen {
        Screen::Overview => "j/k move · Enter drill down · y copy retry · t window · Tab screens · ? help",
        Screen::Drill => "y copy retry · o Kibana · e export · c summary · j/k · Esc back · ? help",
        Screen::Tail => "Space pause · / search · n/N · l level · c comp · e errors · Enter · ? help",
        Screen::Codes if state.code_videos => "j/k · PgUp/PgDn page · s sort · Enter drill down · Esc back · ? help",
        Screen::Codes => "j/k move · Enter videos of code · Esc back · ? help",
        Screen::Patterns => "j/k · Enter its lines · w templates/what changed · :baseline · t range · ? help",
        Screen::Lines => "j/k · d drill down · v whole line · Y copy · ←/→ scroll · Esc back · ? help",
        Screen::Alerts => "j/k · Enter its lines · a acknowledge · S silence · t range · ? help",
    };
    let line = match &state.input {
        Input::Search(text) => Line::from(vec![
            Span::styled("/", theme.accent),
            Span::styled(text.clone(), theme.text),
            Span::styled("▏", theme.accent),
        ]),
        Input::Silence(text) => Line::from(vec![
            Span::styled(
                format!(
                    "silence `{}` for (15m 1h 4h 1d: ↑ ↓, or type; off lifts; Esc cancels): ",
                    state.alerts.silencing.as_deref().unwrap_or("")
                ),
                theme.accent,
            ),
            Span::styled(crate::text::sanitize(text).into_owned(), theme.text),
            Span::styled("▏", theme.accent),
        ]),
        Input::Filter(text) => Line::from(vec![
            Span::styled("filter the top videos: ", theme.accent),
            Span::styled(crate::text::sanitize(text).into_owned(), theme.text),
            Span::styled("▏", theme.accent),
        ]),
        Input::Command(line) => {
            // the end of a long line stays in sight
            let room = (area.width as usize).saturating_sub(3);
            let chars: Vec<char> = line.text.chars().collect();
            let shown: String = chars[chars.len().saturating_sub(room)..].iter().collect();
            let mut spans = vec![
                Span::styled(":", theme.accent),
                Span::styled(crate::text::sanitize(&shown).into_owned(), theme.text),
                Span::styled("▏", theme.accent),
            ];
            if !line.completions.is_empty() {
                let used = text::width(&shown) + 2;
                let list = format!("   {} completions: {}", line.completions.len(), line.completions.join(" "));
                let list = crate::text::sanitize_owned(&list, 2000);
                spans.push(Span::styled(fit(&list, (area.width as usize).saturating_sub(used)), theme.dim));
            }
            Line::from(spans)
        }
        Input::Normal => {
            let width = area.width as usize;
            let status_text = state.loading.as_deref().unwrap_or(&state.status);
            let recent =
                state.loading.is_some() || (state.now_ms - state.status_at_ms < 8000 && !status_text.is_empty());
            let full = text::width(status_text);
            // a recent status message wins over the key hints; one that does not fit is cut with …
            // and the message log (m) shows it whole
            let hints = if !recent || full + text::width(hints) + 3 <= width { hints } else { "m log · ? help" };
            let hints = fit(hints, width.saturating_sub(3));
            let room = width.saturating_sub(text::width(&hints) + 3);
            let status = text::pad(status_text, room);
            Line::from(vec![
                Span::styled(format!(" {status}"), theme.accent),
                Span::styled(format!(" {hints} "), theme.dim),
            ])
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Where an overlay is drawn over the screen's area.
fn overlay_rect(area: Rect) -> Rect {
    let width = area.width.saturating_sub(8).min(110);
    let height = area.height.saturating_sub(2);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + 1, width, height }
}

/// The screen's area for the terminal size in the state.
fn body_of(state: &State) -> Rect {
    let (w, h) = state.size;
    Rect { x: 0, y: 1, width: w.max(MIN_WIDTH), height: h.max(MIN_HEIGHT).saturating_sub(2) }
}

/// The overlay's text at `width`; `theme` gives the emphasis (none when only counting lines).
fn overlay_lines(state: &State, overlay: Overlay, width: usize, theme: Option<&Theme>) -> Vec<Line<'static>> {
    let emphasis = theme.map_or(ratatui::style::Style::default(), |t| t.accent);
    match overlay {
        Overlay::Help => help::lines(state, width, emphasis),
        Overlay::Messages => messages::lines(state, width, emphasis),
        Overlay::Line => line::lines(state, width, emphasis),
    }
}

/// Rows of text an overlay shows at once at the current size.
pub fn overlay_rows(state: &State) -> usize {
    overlay_rect(body_of(state)).height.saturating_sub(2) as usize
}

/// How far the open overlay can scroll at the current size.
pub fn overlay_max_scroll(state: &State) -> usize {
    let Some(overlay) = state.overlay else { return 0 };
    let inner = overlay_rect(body_of(state)).width.saturating_sub(2) as usize;
    overlay_lines(state, overlay, inner, None).len().saturating_sub(overlay_rows(state))
}

fn draw_overlay(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, overlay: Overlay) {
    let popup = overlay_rect(area);
    let inner = popup.width.saturating_sub(2) as usize;
    let rows = popup.height.saturating_sub(2) as usize;
    let lines = overlay_lines(state, overlay, inner, Some(theme));
    let top = state.overlay_scroll.min(lines.len().saturating_sub(rows));
    let shown: Vec<Line> = lines.iter().skip(top).take(rows).cloned().collect();
    let name = match overlay {
        Overlay::Help => "Help · ? Esc q close",
        Overlay::Messages => "Messages · m Esc q close",
        Overlay::Line => "The line whole · Y copy · v Esc q close",
    };
    let title = if lines.len() > rows {
        format!("{name} · j/k PgUp/PgDn scroll · rows {}–{} of {}", top + 1, top + shown.len(), lines.len())
    } else {
        name.to_string()
    };
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(format!(" {} ", fit(&title, inner.saturating_sub(2))), theme.accent));
    frame.render_widget(Paragraph::new(shown).style(theme.text).block(block), popup);
}

pub use crate::clock::human_duration;

/// A one-line sparkline of `values` squeezed (by maximum) into `width` cells.
pub fn sparkline(values: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return " ".repeat(width);
    }
    let binned = rebin(values, width);
    let max = binned.iter().copied().max().unwrap_or(0);
    binned.iter().map(|v| if max == 0 || *v == 0 { ' ' } else { BARS[((*v * 7) / max) as usize] }).collect::<String>()
}

/// Re-bins values into `width` points: by maximum when there are more values than cells, by
/// stretching each value over several cells when there are fewer (so a short window fills the row).
pub fn rebin(values: &[u64], width: usize) -> Vec<u64> {
    if values.is_empty() || width == 0 {
        return Vec::new();
    }
    if values.len() <= width {
        return (0..width).map(|i| values[i * values.len() / width]).collect();
    }
    let per = values.len().div_ceil(width);
    values.chunks(per).map(|c| c.iter().copied().max().unwrap_or(0)).collect()
}

/// The cell of a row `width` wide that shows series point `at` of `points` (as [`rebin`] lays
/// them out); `None` when out of range.
pub fn cursor_cell(at: usize, points: usize, width: usize) -> Option<usize> {
    if at >= points || width == 0 {
        return None;
    }
    if points <= width {
        // cell i shows point i * points / width: the first cell showing `at`
        return Some((at * width).div_ceil(points).min(width - 1));
    }
    Some(at / points.div_ceil(width))
}

/// Milliseconds as `1.23s` / `850ms`.
pub fn ms_text(v: Option<f64>) -> String {
    match v {
        Some(ms) if ms >= 1000.0 => format!("{:.2}s", ms / 1000.0),
        Some(ms) => format!("{ms:.0}ms"),
        None => "-".into(),
    }
}

/// The mark column of a list row: [`MARK`] on the selected row, blank on the others.
pub fn mark(selected: bool) -> &'static str {
    if selected { "▶ " } else { "  " }
}

/// The times of the data shown, `2025-09-01T14:00:00.000Z and …`, for "no line between … and …".
pub fn data_span(state: &State) -> Option<String> {
    let o = state.overview.as_ref()?;
    Some(format!("{} and {}", crate::clock::format_ms(o.data_from?), crate::clock::format_ms(o.data_to?)))
}
