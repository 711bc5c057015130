//! Frame time: rendering each screen with a full window of the demo data on ratatui's TestBackend
//! at 160×48 and 80×24 (the draw only reads state, so this is the whole per-frame cost).
#![allow(clippy::unwrap_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use foley_triage::backend::Backend;
use foley_triage::backend::local::LocalBackend;
use foley_triage::backend::worker::Update;
use foley_triage::config::Config;
use foley_triage::tui::state::{Screen, State};
use foley_triage::tui::theme::Theme;
use foley_triage::tui::update::{Effect, Msg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;

fn state() -> (State, LocalBackend, foley_triage::demo::DemoDir) {
    let demo = foley_triage::demo::materialize().unwrap();
    let paths = demo.files();
    let config = Config::default();
    let mut backend = LocalBackend::open(paths, config.enricher().unwrap(), &config, 2, false, Vec::new());
    let mut state = State::new("bench".into(), &config);
    state.range = foley_triage::backend::TimeRange::ALL; // all data: the fullest window
    update(&mut state, Msg::Tick { now_ms: 1_756_738_830_000 });
    let overview = backend.overview(foley_triage::backend::TimeRange::ALL);
    update(
        &mut state,
        Msg::Engine(Update::Overview {
            overview: Box::new(overview),
            range: foley_triage::backend::TimeRange::ALL,
            events_per_second: 0.0,
            source: "bench".into(),
        }),
    );
    update(&mut state, Msg::Engine(Update::Tail(backend.tail(0, 20_000))));
    (state, backend, demo)
}

fn frames(c: &mut Criterion) {
    let (mut state, mut backend, _demo) = state();
    let theme = Theme::load("dark").unwrap();
    let top = state.overview.as_ref().unwrap().top_failing_videos[0].video_id.clone();
    update(&mut state, Msg::Engine(Update::Related(Box::new(backend.related(&top)))));
    state.drill.video_id = top;
    let mut group = c.benchmark_group("frame");
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
    for (name, screen) in
        [("overview", Screen::Overview), ("drill", Screen::Drill), ("tail", Screen::Tail), ("codes", Screen::Codes)]
    {
        for (w, h) in [(160u16, 48u16), (80, 24)] {
            state.screen = screen;
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            group.bench_function(format!("{name}_{w}x{h}"), |b| {
                b.iter(|| {
                    terminal.draw(|f| foley_triage::tui::view::draw(f, &state, &theme)).unwrap();
                })
            });
        }
    }
    group.finish();
    // the engine's side of a refresh: the overview of the whole demo window
    let mut group = c.benchmark_group("engine");
    group.measurement_time(Duration::from_secs(3)).sample_size(20);
    group.bench_function("overview_all", |b| b.iter(|| backend.overview(foley_triage::backend::TimeRange::ALL)));
    group.bench_function("overview_1h", |b| {
        b.iter(|| backend.overview(foley_triage::backend::TimeRange::last(3_600_000)))
    });
    group.finish();
    // a range change as the user sees it: the key, the engine's overview of the new range, the
    // frame drawn (zoom to the cursor's bucket with `z`; `t` to the next preset; `:last 30m`)
    let mut group = c.benchmark_group("range_change");
    group.measurement_time(Duration::from_secs(3)).sample_size(20);
    state.screen = Screen::Overview;
    state.range = foley_triage::backend::TimeRange::last(3_600_000);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let press = |state: &mut State, c: char| {
        update(
            state,
            Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            )),
        )
    };
    for (name, keys) in [("zoom_z", "]z"), ("cycle_t", "t"), ("command_last_30m", ":last 30m\r")] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || state.clone(),
                |mut state| {
                    let mut effects = Vec::new();
                    for c in keys.chars() {
                        effects = if c == '\r' {
                            update(
                                &mut state,
                                Msg::Key(crossterm::event::KeyEvent::new(
                                    crossterm::event::KeyCode::Enter,
                                    crossterm::event::KeyModifiers::NONE,
                                )),
                            )
                        } else {
                            press(&mut state, c)
                        };
                    }
                    let Some(Effect::Window(range)) = effects.into_iter().find(|e| matches!(e, Effect::Window(_)))
                    else {
                        panic!("{name}: no range change");
                    };
                    let overview = backend.overview(range);
                    update(
                        &mut state,
                        Msg::Engine(Update::Overview {
                            overview: Box::new(overview),
                            range,
                            events_per_second: 0.0,
                            source: "bench".into(),
                        }),
                    );
                    terminal.draw(|f| foley_triage::tui::view::draw(f, &state, &theme)).unwrap();
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
