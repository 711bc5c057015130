//! The console's screens on ratatui's TestBackend: snapshots of every screen at 80×24 and 160×48
//! on the demo data, key flows through the pure `update`, and a render of hostile lines that must
//! leave no control character in any cell.
#![allow(clippy::panic, clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::worker::Update;
use foley_triage::config::Config;
mod common;

use common::render;
use foley_triage::tui::state::{Screen, State};
use foley_triage::tui::update::{Effect, Msg, update};
use std::path::PathBuf;

/// The demo's files stay on disk while the backend lives (drill-downs read them again).
fn demo_backend() -> (foley_triage::demo::DemoDir, LocalBackend) {
    let demo = foley_triage::demo::materialize().expect("demo");
    let paths: Vec<PathBuf> = demo.files();
    let config = Config::default();
    let backend = LocalBackend::open(paths, config.enricher().expect("rules"), &config, 2, false, Vec::new());
    (demo, backend)
}

/// A state as the runtime would build it, with the clock and source fixed for stable snapshots.
fn demo_state(backend: &mut LocalBackend) -> State {
    let config = Config::default();
    let mut state = State::new("demo".into(), &config);
    // 2025-09-01T15:00:30Z: thirty seconds after the demo's last event
    update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
    let range = state.range;
    let mut overview = backend.overview(range);
    // the alert rules as the engine evaluates them over the range
    let rules = foley_triage::alerts::rules::builtin();
    let at = overview.window_to.or(overview.data_to);
    let (alerts, _) = foley_triage::backend::alerts::evaluate_range(backend, &rules, range, overview.window_from, at);
    overview.alerts = foley_triage::backend::alerts::rows_of(&alerts.alerts, at.unwrap());
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(overview),
            range,
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    update(&mut state, Msg::Engine(Update::Alerts(Box::new(alerts))));
    update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 20_000))));
    state
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn resize(state: &mut State, width: u16, height: u16) {
    update(state, Msg::Resize { width, height });
}

#[test]
fn every_screen_at_two_sizes() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let top = state.overview.as_ref().unwrap().top_failing_videos[0].video_id.clone();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        state.screen = Screen::Overview;
        insta::assert_snapshot!(format!("overview_{w}x{h}"), render(&state, w, h));
    }
    // drill down on the top video
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::Related(top.clone())]);
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&top)))));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        insta::assert_snapshot!(format!("drill_{w}x{h}"), render(&state, w, h));
    }
    update(&mut state, key(KeyCode::Char('3')));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        insta::assert_snapshot!(format!("tail_{w}x{h}"), render(&state, w, h));
    }
    update(&mut state, key(KeyCode::Char('4')));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        insta::assert_snapshot!(format!("codes_{w}x{h}"), render(&state, w, h));
    }
    // the patterns screen, answered by the real backend (its time fixed, for the snapshot)
    let effects = update(&mut state, key(KeyCode::Char('5')));
    let Some(Effect::Patterns(query)) = effects.first() else { panic!("{effects:?}") };
    let view = backend.patterns(query);
    update(&mut state, Msg::Engine(Update::Patterns { query: query.clone(), view: Box::new(view), took_ms: 1 }));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        insta::assert_snapshot!(format!("patterns_{w}x{h}"), render(&state, w, h));
    }
    // the alerts screen, and Enter: the selected firing's latest lines from the real backend
    update(&mut state, key(KeyCode::Char('6')));
    assert_eq!(state.screen, Screen::Alerts);
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        insta::assert_snapshot!(format!("alerts_{w}x{h}"), render(&state, w, h));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    let Some(Effect::Lines(query)) = effects.first() else { panic!("{effects:?}") };
    assert!(query.filter.is_some(), "{query:?}");
    update(&mut state, Msg::Engine(Update::Lines(Box::new(backend.lines(query)))));
    resize(&mut state, 160, 48);
    insta::assert_snapshot!("alerts_latest_160x48", render(&state, 160, 48));
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, key(KeyCode::Char('4')));
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        resize(&mut state, w, h);
        update(&mut state, key(KeyCode::Char('?')));
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&state, w, h));
        update(&mut state, key(KeyCode::Esc));
    }
    // below the minimum size: a message, no panic
    let small = render(&state, 40, 10);
    assert!(small.contains("needs at least 80"), "{small}");
}

#[test]
fn drill_down_flow_copies_the_retry_link() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let row = state.overview.as_ref().unwrap().top_failing_videos[1].clone();
    update(&mut state, key(KeyCode::Char('j')));
    assert_eq!(update(&mut state, key(KeyCode::Enter)), vec![Effect::Related(row.video_id.clone())]);
    assert_eq!(state.screen, Screen::Drill);
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&row.video_id)))));
    let related = state.drill.related.as_ref().unwrap();
    assert!(related.events.len() >= row.failures as usize, "every failure line is among the related lines");
    assert!(related.events.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms), "time order");
    let sources: std::collections::BTreeSet<_> = related.events.iter().map(|e| e.source).collect();
    assert!(sources.len() >= 3, "lines from several sources: {sources:?}");
    match update(&mut state, key(KeyCode::Char('y'))).as_slice() {
        [Effect::Copy { text, label }] => {
            assert_eq!(label, "retry link");
            assert!(text.contains(&format!("/jobs/{}/retry", row.video_id)), "{text}");
        }
        other => panic!("expected a copy, got {other:?}"),
    }
    match update(&mut state, key(KeyCode::Char('o'))).as_slice() {
        [Effect::Open(url)] => {
            assert!(url.contains("/app/discover#/?_g=(time:(from:") && url.contains(&row.video_id), "{url}")
        }
        other => panic!("expected an open, got {other:?}"),
    }
    match update(&mut state, key(KeyCode::Char('c'))).as_slice() {
        [Effect::Copy { text, .. }] => assert!(text.contains("likely cause") && text.contains(&row.video_id)),
        other => panic!("expected a summary, got {other:?}"),
    }
    match update(&mut state, key(KeyCode::Char('e'))).as_slice() {
        [Effect::Export { content, .. }] => {
            let events = state.drill.related.as_ref().unwrap().events.len();
            let starts = content.lines().filter(|l| l.contains(".log:") && l.contains('\t')).count();
            assert_eq!(starts, events, "one entry per related line");
        }
        other => panic!("expected an export, got {other:?}"),
    }
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Overview);
}

/// Item 16: the exported bundle keeps a joined traceback as the lines it was, not `\n` escapes.
#[test]
fn export_writes_tracebacks_as_real_lines() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let top = state.overview.as_ref().unwrap().top_failing_videos[0].video_id.clone();
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&top)))));
    let related = state.drill.related.as_ref().unwrap();
    assert!(related.events.iter().any(|e| e.raw.contains("\\nTraceback")), "the demo video has a joined traceback");
    let effects = update(&mut state, key(KeyCode::Char('e')));
    let [Effect::Export { content, .. }] = effects.as_slice() else { panic!("no export: {effects:?}") };
    assert!(content.contains("\nTraceback (most recent call last):\n  File "), "{content}");
    assert!(!content.contains("\\nTraceback"), "no escaped newline left before a traceback line");
}

#[test]
fn tail_filters_and_search() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    update(&mut state, key(KeyCode::Char('3')));
    let all = state.tail_visible().len();
    assert!(all > 100);
    update(&mut state, key(KeyCode::Char('e')));
    let errors = state.tail_visible().len();
    assert!(errors > 0 && errors < all, "errors only: {errors} of {all}");
    assert!(state.tail_visible().iter().all(|(_, e)| e.is_error()));
    update(&mut state, key(KeyCode::Char('e')));
    update(&mut state, key(KeyCode::Char('/')));
    for c in "vocoder".chars() {
        update(&mut state, key(KeyCode::Char(c)));
    }
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.tail.query, "vocoder");
    assert!(state.tail_matches(state.tail_selected().unwrap()), "the search selects a matching line");
    assert!(state.tail.paused, "a search holds the tail at the match");
    update(&mut state, key(KeyCode::Char(' ')));
    assert!(!state.tail.paused);
    assert_eq!(
        update(&mut state, key(KeyCode::Char('t'))),
        vec![Effect::Window(foley_triage::backend::TimeRange::last(86_400_000))]
    );
    update(&mut state, key(KeyCode::Char('q')));
    assert!(state.quit);
}

/// New tail events made from the demo's, with fresh sequence numbers after `from`.
fn more_events(backend: &LocalBackend, from: u64, count: usize) -> Vec<(u64, foley_triage::event::OwnedEvent)> {
    let base = backend.tail(0, 20_000);
    (0..count)
        .map(|i| {
            let (_, mut e) = base[i % base.len()].clone();
            e.raw = format!("NEW {i} {}", e.raw);
            (from + 1 + i as u64, e)
        })
        .collect()
}

/// The tail's rows (inside the frame), without the mark column.
fn tail_rows(screen: &str) -> Vec<String> {
    screen.lines().skip(2).take(20).map(|l| l.chars().skip(3).collect()).collect()
}

/// Item 1: paused, the rows on screen do not move, however many lines arrive and however many
/// old ones leave the ring; the count of waiting lines grows; G follows again.
#[test]
fn the_paused_tail_holds_still() {
    let (_demo, mut backend) = demo_backend();
    for pause_key in [KeyCode::Char(' '), KeyCode::Char('k')] {
        let mut state = demo_state(&mut backend);
        resize(&mut state, 80, 24);
        update(&mut state, key(KeyCode::Char('3')));
        let following = render(&state, 80, 24);
        update(&mut state, key(pause_key));
        let paused = render(&state, 80, 24);
        assert_eq!(tail_rows(&paused), tail_rows(&following), "pausing moves nothing");
        let mut seq = state.tail.last_seq;
        let mut waiting = 0;
        // a few lines, then more than the whole ring (every line on screen leaves it meanwhile)
        for batch in [10usize, 2_000, 25_000] {
            update(&mut state, Msg::Engine(Update::Tail(more_events(&backend, seq, batch))));
            seq += batch as u64;
            waiting += batch;
            let now = render(&state, 80, 24);
            assert_eq!(tail_rows(&now), tail_rows(&paused), "{pause_key:?}: the rows moved after {batch} new lines");
            assert!(now.contains(&format!("PAUSED ({waiting} new)")), "{now}");
        }
        // scrolling up moves the mark, not the rows
        update(&mut state, key(KeyCode::Char('k')));
        update(&mut state, key(KeyCode::Char('k')));
        let scrolled = render(&state, 80, 24);
        assert_eq!(tail_rows(&scrolled), tail_rows(&paused));
        update(&mut state, Msg::Engine(Update::Tail(more_events(&backend, seq, 50))));
        seq += 50;
        assert_eq!(render(&state, 80, 24), {
            let mut expected = scrolled.clone();
            expected = expected.replace(&format!("PAUSED ({waiting} new)"), &format!("PAUSED ({} new)", waiting + 50));
            expected
        });
        update(&mut state, key(KeyCode::Char('G')));
        let live = render(&state, 80, 24);
        assert!(live.contains("following"), "{live}");
        assert!(tail_rows(&live).iter().all(|r| r.contains("NEW ")), "G shows the newest lines:\n{live}");
        assert_eq!(state.tail.events.len(), 20_000, "the ring keeps its capacity");
        assert_eq!(state.tail.events.back().map(|(s, _)| *s), Some(seq));
    }
}

/// Item 12: the selected tail line is always on screen and marked by a column of its own, in every
/// theme and without colour; Enter drills into that line's video.
#[test]
fn the_selected_tail_line_is_marked_in_every_theme() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    resize(&mut state, 80, 24);
    update(&mut state, key(KeyCode::Char('3')));
    update(&mut state, key(KeyCode::Char('e'))); // errors only: every line names a video
    update(&mut state, key(KeyCode::Char(' ')));
    for _ in 0..30 {
        update(&mut state, key(KeyCode::Char('k'))); // past the top of the first frame
    }
    let selected = state.tail_selected().unwrap().clone();
    let mut themes: Vec<foley_triage::tui::theme::Theme> = foley_triage::tui::theme::Theme::builtin_names()
        .into_iter()
        .map(|n| foley_triage::tui::theme::Theme::load(n).unwrap())
        .collect();
    themes.push(foley_triage::tui::theme::Theme::monochrome());
    for theme in &themes {
        let screen = common::render_with(&state, 80, 24, theme);
        let marked: Vec<&str> = screen.lines().filter(|l| l.starts_with("│▶")).collect();
        assert_eq!(marked.len(), 1, "{}: one marked line:\n{screen}", theme.name);
        let shown = marked[0].trim_end_matches('│').trim_end().trim_end_matches('…');
        let time = foley_triage::clock::format_clock(selected.ts_ms.unwrap());
        assert!(shown.contains(&time) && shown.contains(&selected.raw[..20]), "{}: {shown}", theme.name);
    }
    let id = selected.video_id.clone().unwrap();
    assert_eq!(update(&mut state, key(KeyCode::Enter)), vec![Effect::Related(id)]);
}

/// Item 10: help scrolls (the whole of it is reachable at 80×24); only ?, Esc and q close it.
#[test]
fn help_scrolls_and_only_its_keys_close_it() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    resize(&mut state, 80, 24);
    update(&mut state, key(KeyCode::Char('?')));
    let first = render(&state, 80, 24);
    assert!(first.contains("Tab / Shift-Tab") && !first.contains("Alert rules in force"), "{first}");
    for stray in ['x', '1', 'e', 't'] {
        assert_eq!(update(&mut state, key(KeyCode::Char(stray))), Vec::new());
        assert!(state.overlay.is_some(), "{stray} closed help");
    }
    update(&mut state, key(KeyCode::Char('G')));
    let last = render(&state, 80, 24);
    let final_rule = state.alert_rules.last().unwrap().name.clone();
    assert!(last.contains("Alert rules in force") && last.contains(&final_rule), "{last}");
    assert!(last.contains("rows ") && last.contains(" of "), "the title says where: {last}");
    update(&mut state, key(KeyCode::Char('g')));
    update(&mut state, key(KeyCode::PageDown));
    assert!(render(&state, 80, 24) != first, "PgDn scrolls");
    update(&mut state, key(KeyCode::Char('q')));
    assert!(state.overlay.is_none() && !state.quit, "q closes help, not the console");
    update(&mut state, key(KeyCode::Char('?')));
    update(&mut state, key(KeyCode::Esc));
    assert!(state.overlay.is_none());
    update(&mut state, key(KeyCode::Char('?')));
    update(&mut state, key(KeyCode::Char('?')));
    assert!(state.overlay.is_none());
}

/// The lines of a bordered screen, inside the borders, joined (wrapped values read whole).
fn joined(screen: &str) -> String {
    screen.lines().map(|l| l.trim_start_matches(['│', ' ']).trim_end_matches(['│', ' '])).collect::<Vec<_>>().concat()
}

/// Item 10: at 80×24 every screen shows the window and the lag, each link whole, and the codes'
/// cause and fix; whatever is cut ends in `…`.
#[test]
fn at_80x24_nothing_that_matters_is_lost() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    resize(&mut state, 80, 24);
    let top = state.overview.as_ref().unwrap().top_failing_videos[0].clone();
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&top.video_id)))));
    for screen in ['1', '2', '3', '4'] {
        update(&mut state, key(KeyCode::Char(screen)));
        let text = render(&state, 80, 24);
        let header = text.lines().next().unwrap();
        assert!(
            header.contains("last 1h 13:59:59 … 14:59:59") && header.contains("30s behind"),
            "screen {screen}: {header}"
        );
    }
    update(&mut state, key(KeyCode::Char('2')));
    let drill = render(&state, 80, 24);
    let row = state.drill.related.as_ref().unwrap().row.clone().unwrap();
    let retry = foley_triage::integrate::links::retry_link(
        &state.links.retry_url,
        &top.video_id,
        row.request_id.as_deref(),
        row.last_seen,
    );
    assert!(retry.contains("request_id=req_"), "{retry}");
    assert!(joined(&drill).contains(&retry), "the retry link whole:\n{drill}");
    update(&mut state, key(KeyCode::Char('4')));
    let codes = render(&state, 80, 24);
    let c = &state.overview.as_ref().unwrap().codes[0];
    let cause_fix = format!("{} → {}", c.explanation.cause, c.explanation.fix);
    assert!(codes.contains(&cause_fix), "cause → fix on a line of its own:\n{codes}");
    for screen in ['1', '2', '3'] {
        update(&mut state, key(KeyCode::Char(screen)));
        let text = render(&state, 80, 24);
        // the drill-down's facts wrap (checked above); its related lines are cut
        let from = if screen == '2' { text.lines().position(|l| l.contains("Related lines")).unwrap() } else { 1 };
        for line in text.lines().skip(from) {
            // a row of a panel that reaches the right border with text was cut: it ends in …
            let inside = line.trim_end_matches('│').trim_end_matches('┐').trim_end_matches('┘');
            let full = inside.chars().count() >= 79 && !inside.ends_with(' ') && !inside.ends_with('─');
            // (one panel across the screen: side-by-side panels are narrower and checked by eye)
            if full && line.starts_with('│') && line.matches('│').count() == 2 {
                assert!(inside.ends_with('…'), "screen {screen}: cut without …: {line}");
            }
        }
    }
}

/// Item 11: a status message that does not fit is cut with … and read whole in the message log
/// (m); the alerts line wraps so the third alert is read whole at 160 columns.
#[test]
fn long_messages_and_alerts_are_read_whole() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    resize(&mut state, 80, 24);
    let url = format!("https://kibana.example/app/discover#/?_g=(time:(from:'x',to:'y'))&_a=({})", "q".repeat(150));
    update(&mut state, Msg::Engine(Update::Notice(format!("Kibana link copied: {url}"))));
    let screen = render(&state, 80, 24);
    let status = screen.lines().last().unwrap();
    assert!(status.contains('…') && status.contains("m log"), "{status}");
    update(&mut state, key(KeyCode::Char('m')));
    let log = render(&state, 80, 24);
    // the overlay's inside: columns 5 to 75 at 80 wide
    let inside: String = log
        .lines()
        .map(|l| l.chars().skip(5).take(70).collect::<String>().trim().to_string())
        .collect::<Vec<_>>()
        .concat();
    assert!(inside.contains(&url), "the message whole in the log:\n{log}");
    assert!(log.contains("Messages"), "{log}");
    update(&mut state, key(KeyCode::Char('m')));
    assert!(state.overlay.is_none());
    resize(&mut state, 160, 48);
    let overview = render(&state, 160, 48);
    let alerts = &state.overview.as_ref().unwrap().alerts;
    assert!(alerts.len() >= 3, "the demo fires three alerts");
    let banner: Vec<&str> = overview.lines().skip(1).take_while(|l| !l.starts_with('┌')).map(str::trim).collect();
    let banner = banner.join(" ");
    for a in alerts {
        let whole = format!(
            "{} {}–{} (peak",
            a.rule,
            foley_triage::clock::format_clock(a.from),
            foley_triage::clock::format_clock(a.to)
        );
        assert!(banner.contains(&whole), "alert {} whole on the overview: {banner}", a.rule);
    }
    assert!(!banner.contains('…'), "{banner}");
}

/// Item 13: Shift-Tab cycles the screens backwards.
#[test]
fn shift_tab_cycles_backwards() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let mut seen = Vec::new();
    for _ in 0..6 {
        update(&mut state, Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)));
        seen.push(state.screen);
    }
    assert_eq!(
        seen,
        vec![Screen::Alerts, Screen::Patterns, Screen::Codes, Screen::Tail, Screen::Drill, Screen::Overview]
    );
}

/// Item 19: while the engine reads, every screen says so (with its progress), none looks empty.
#[test]
fn every_screen_says_reading_while_the_engine_reads() {
    let mut state = State::new("logs/".into(), &Config::default());
    update(&mut state, Msg::Engine(Update::Progress("reading logs/a.log (1 of 3)".into())));
    for screen in ['1', '2', '3', '4'] {
        update(&mut state, key(KeyCode::Char(screen)));
        let text = render(&state, 80, 24);
        let body: String = text.lines().skip(1).take(22).collect::<Vec<_>>().join("\n");
        assert!(body.contains("reading logs/a.log (1 of 3)"), "screen {screen}:\n{text}");
    }
}

/// An empty panel says whether there is no data or nothing wrong: never "all clear" when nothing
/// was loaded (a backend error, or no files).
#[test]
fn empty_panels_never_read_all_clear_without_data() {
    let config = Config::default();
    let enricher = config.enricher().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut empty = LocalBackend::open(Vec::new(), enricher, &config, 1, false, Vec::new());
    for (source, expect) in [
        ("cluster http://127.0.0.1:9 · ERROR: timed out after 30 s (--es-timeout)", "the backend reported an error"),
        (empty.describe().as_str(), "no log files in"),
    ] {
        let mut state = State::new(dir.path().display().to_string(), &config);
        update(
            &mut state,
            Msg::Engine(Update::Overview {
                overview: Box::new(empty.overview(foley_triage::backend::TimeRange::ALL)),
                range: foley_triage::backend::TimeRange::last(3_600_000),
                events_per_second: 0.0,
                source: source.into(),
            }),
        );
        for screen in ['1', '3', '4'] {
            update(&mut state, key(KeyCode::Char(screen)));
            let text = render(&state, 160, 48);
            assert!(joined(&text).contains(expect), "screen {screen} for {source}:\n{text}");
            assert!(!text.contains("explained by a rule") && !text.contains("no error codes"), "{text}");
        }
    }
}

/// A code's videos are paged (PgUp/PgDn, "rows a–b of N") and sorted with s: failures, last
/// seen, id.
#[test]
fn a_codes_videos_are_paged_and_sorted() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    resize(&mut state, 80, 24);
    update(&mut state, key(KeyCode::Char('4')));
    let code = state.selected_code().unwrap().to_string();
    let range = state.range;
    assert_eq!(update(&mut state, key(KeyCode::Enter)), vec![Effect::CodeVideos { code: code.clone(), range }]);
    let template = state.overview.as_ref().unwrap().top_failing_videos[0].clone();
    let rows: Vec<_> = (0..500u64)
        .map(|i| {
            let mut r = template.clone();
            r.video_id = format!("vid_{:06}", (i * 7919) % 1000);
            r.failures = 1 + (i % 13);
            r.last_seen = Some(1_756_738_000_000 + ((i * 31) % 500) as i64 * 1000);
            r
        })
        .collect();
    update(&mut state, Msg::Engine(Update::CodeVideos { code: code.clone(), range, rows }));
    let first = render(&state, 80, 24);
    assert!(first.contains("rows 1–19 of 500"), "{first}");
    assert!(first.contains("sorted by failures"), "{first}");
    update(&mut state, key(KeyCode::PageDown));
    assert!(render(&state, 80, 24).contains("rows 20–38 of 500"));
    update(&mut state, key(KeyCode::Char('G')));
    assert!(render(&state, 80, 24).contains("rows 495–500 of 500"));
    let failures: Vec<u64> = state.videos_of_selected_code().iter().map(|v| v.failures).collect();
    assert!(failures.windows(2).all(|w| w[0] >= w[1]), "most failures first");
    update(&mut state, key(KeyCode::Char('s')));
    assert!(render(&state, 80, 24).contains("sorted by last seen"));
    let seen: Vec<_> = state.videos_of_selected_code().iter().map(|v| v.last_seen).collect();
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");
    update(&mut state, key(KeyCode::Char('s')));
    let ids: Vec<_> = state.videos_of_selected_code().iter().map(|v| v.video_id.clone()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "by id");
    update(&mut state, key(KeyCode::PageUp));
    update(&mut state, key(KeyCode::Char('g')));
    let top = render(&state, 80, 24);
    assert!(top.contains("rows 1–19 of 500") && top.contains("sorted by id"), "{top}");
    let selected = state.videos_of_selected_code()[0].video_id.clone();
    assert_eq!(update(&mut state, key(KeyCode::Enter)), vec![Effect::Related(selected)]);
}

#[test]
fn hostile_lines_leave_no_control_character_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.log");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"2025-09-01 14:23:11 [ERROR] video_id=vid_e5c0de error_code=MODEL_INFER_FAIL reason=\"\x1b]52;c;aGFjaw==\x07\x1b[2J\x1b[31mred\x9b\xe2\x80\xae evil\"\n");
    bytes.extend_from_slice(
        b"2025-09-01 14:23:12 [ERROR] video_id=vid_e5c0de error_code=\x1bPtmux;x\x1b\\ \x00\x7f\ttab\r\n",
    );
    bytes.extend_from_slice(b"\x1b[?1049l\x1b]0;title\x07 \xff\xfe raw garbage\n");
    std::fs::write(&path, &bytes).unwrap();
    let config = Config::default();
    let mut backend = LocalBackend::open(vec![path], config.enricher().unwrap(), &config, 1, false, Vec::new());
    let mut state = demo_state(&mut backend);
    for screen in ['1', '3', '4'] {
        update(&mut state, key(KeyCode::Char(screen)));
        let screen_text = render(&state, 160, 48);
        assert!(
            !screen_text.chars().filter(|c| *c != '\n').any(foley_triage::text::is_unsafe_char),
            "control character on screen:\n{screen_text}"
        );
        assert!(
            !screen_text.contains('\u{fffd}') || screen_text.contains("garbage"),
            "replacement only for the bad bytes"
        );
    }
    update(&mut state, key(KeyCode::Char('1')));
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related("vid_e5c0de")))));
    let screen_text = render(&state, 160, 48);
    assert!(screen_text.contains("vid_e5c0de"));
    assert!(!screen_text.chars().filter(|c| *c != '\n').any(foley_triage::text::is_unsafe_char));
}

#[test]
fn a_newly_chosen_window_says_loading_until_its_overview_arrives() {
    let (_demo, mut backend) = demo_backend();
    let mut state = demo_state(&mut backend);
    let header = |state: &State| render(state, 160, 48).lines().next().unwrap_or_default().to_string();
    assert!(header(&state).contains("last 1h 13:59:59 … 14:59:59 │"), "{}", header(&state));
    let effects = update(&mut state, key(KeyCode::Char('t')));
    let Some(Effect::Window(range)) = effects.first().cloned() else { panic!("no window request: {effects:?}") };
    // the old window's numbers are still on screen: the header says so
    assert!(header(&state).contains("(loading…)"), "{}", header(&state));
    // an overview for another window (an engine refresh already on its way) does not clear it
    let old = backend.overview(foley_triage::backend::TimeRange::last(3_600_000));
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(old),
            range: foley_triage::backend::TimeRange::last(3_600_000),
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    assert!(header(&state).contains("(loading…)"), "{}", header(&state));
    let new = backend.overview(range);
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(new),
            range,
            events_per_second: 0.0,
            source: "demo logs".into(),
        }),
    );
    assert!(!header(&state).contains("loading"), "{}", header(&state));
    assert!(header(&state).contains("last 24h 08-31 14:59:59 … 09-01 14:59:59 │"), "{}", header(&state));
}
