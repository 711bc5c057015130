//! The interactive console (ratatui + crossterm), in The Elm Architecture: `Msg` → pure
//! [`update::update`] → `Effect`s run here → results back as `Msg`s → [`view::draw`]. The backend
//! runs on its own thread (the engine): the UI loop never waits on IO, and redraws on input or
//! on a tick, never once per log line.

pub mod state;
pub mod theme;
pub mod update;
pub mod view;

use crate::backend::local::LocalBackend;
use crate::backend::{Backend, Span};
use crate::cli::Cli;
use crate::config::Config;
use crate::integrate::clipboard::{self, ClipboardMode, Copied};
use anyhow::{Context, Result};
use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use state::State;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use update::{Effect, Msg};

/// What the UI asks the engine.
#[derive(Debug)]
pub enum Request {
    Window(Span),
    Related(String),
}

/// Frames per second at most.
const FRAME: Duration = Duration::from_millis(50);
/// How often the engine publishes a fresh overview.
const PUBLISH: Duration = Duration::from_millis(1000);

/// Runs the engine loop on the current thread until the UI hangs up.
///
/// Each unit of work (a drill-down, a tail poll, an overview) begins on the backend's canceller,
/// if it has one; an answer that went stale meanwhile (the UI asked for another window or video
/// and cancelled the request in flight) is not sent, and the work is redone for what the UI
/// wants now.
pub fn run_engine(mut backend: Box<dyn Backend>, requests: mpsc::Receiver<Request>, to_ui: mpsc::Sender<Msg>) {
    let cancel = backend.canceller();
    let begin = || cancel.as_ref().map(|c| c.begin());
    let stale = |epoch: Option<u64>| matches!((&cancel, epoch), (Some(c), Some(e)) if c.is_stale(e));
    let mut span: Span = state::WINDOWS[2].1;
    let mut last_seq = 0u64;
    let mut last_publish: Option<Instant> = None;
    let mut last_lines = backend.lines_read();
    let mut last_lines_at = Instant::now();
    let mut eps = 0.0;
    // work that was cancelled before it finished and is still wanted
    let mut redo_related: Option<String> = None;
    let mut redo_overview = false;
    loop {
        let mut publish_now = last_publish.is_none() || std::mem::take(&mut redo_overview);
        let wait = if publish_now || redo_related.is_some() { Duration::ZERO } else { Duration::from_millis(200) };
        let mut pending = match requests.recv_timeout(wait) {
            Ok(request) => vec![request],
            Err(mpsc::RecvTimeoutError::Timeout) => Vec::new(),
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        pending.extend(requests.try_iter());
        // requests that queued up while the backend was busy: only the newest window and the
        // newest drill-down still matter (the user has moved on from the others)
        let newest_related = pending
            .iter()
            .rev()
            .find_map(|r| match r {
                Request::Related(id) => Some(id.clone()),
                Request::Window(_) => None,
            })
            .or(redo_related.take());
        if let Some(s) = pending.iter().rev().find_map(|r| match r {
            Request::Window(s) => Some(*s),
            Request::Related(_) => None,
        }) {
            span = s;
            publish_now = true;
        }
        if let Some(id) = newest_related {
            let epoch = begin();
            let related = backend.related(&id);
            if stale(epoch) {
                redo_related = Some(id);
            } else if to_ui.send(Msg::Related(Box::new(related))).is_err() {
                return;
            }
        }
        let epoch = begin();
        let notices = backend.refresh();
        if !stale(epoch) {
            for notice in notices {
                let _ = to_ui.send(Msg::Notice(crate::text::sanitize_owned(&notice, 300)));
            }
        }
        let tail = backend.tail(last_seq, state::TAIL_KEEP);
        if let Some((seq, _)) = tail.last() {
            last_seq = *seq;
            if to_ui.send(Msg::Tail(tail)).is_err() {
                return;
            }
        }
        if publish_now || last_publish.is_some_and(|t| t.elapsed() >= PUBLISH) {
            let elapsed = last_lines_at.elapsed().as_secs_f64();
            if elapsed >= 0.5 {
                let lines = backend.lines_read();
                eps = lines.saturating_sub(last_lines) as f64 / elapsed;
                last_lines = lines;
                last_lines_at = Instant::now();
            }
            let epoch = begin();
            let overview = backend.overview(span);
            if stale(epoch) {
                redo_overview = true;
                continue;
            }
            let msg = Msg::Overview {
                overview: Box::new(overview),
                span,
                events_per_second: eps,
                source: crate::text::sanitize_owned(&backend.describe(), 120),
            };
            if to_ui.send(msg).is_err() {
                return;
            }
            last_publish = Some(Instant::now());
        }
    }
}

/// The UI's line to the engine: requests, and the canceller that abandons the engine's work in
/// flight when a request makes it stale.
pub struct EngineLink {
    pub requests: mpsc::Sender<Request>,
    pub cancel: Option<crate::backend::cancel::Canceller>,
}

impl EngineLink {
    /// Queues the request, then cancels what the engine is doing (it picks the request up next).
    pub fn send(&self, request: Request) {
        let _ = self.requests.send(request);
        if let Some(c) = &self.cancel {
            c.cancel();
        }
    }
}

/// What the console opens: files (followed live), the bundled demo, or a live simulated incident.
pub struct Opened {
    pub backend: Box<dyn Backend>,
    /// Stops the live simulator, if one runs.
    pub stop: Option<Arc<AtomicBool>>,
}

pub fn open_backend(cli: &Cli, config: &Config) -> Result<Opened> {
    let enricher = config.enricher()?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    if cli.es.enabled() {
        let client = crate::elastic::connect_with_fields(&cli.es, &config.elastic.fields)?;
        return Ok(Opened {
            backend: Box::new(crate::backend::elastic::EsBackend::new(client, enricher, config)),
            stop: None,
        });
    }
    if cli.demo {
        let dir = std::env::temp_dir().join(format!("foley-triage-live-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for name in crate::source::simulate::FILE_NAMES {
            std::fs::write(dir.join(name), b"").with_context(|| format!("creating {}", dir.display()))?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let sim_dir = dir.clone();
        std::thread::spawn(move || {
            let options = crate::source::simulate::SimulateOptions { minutes: 10, rate: 20.0, ..Default::default() };
            if let Err(e) = crate::source::simulate::follow(&sim_dir, &options, &flag) {
                tracing::error!("simulator stopped: {e}");
            }
        });
        let paths = crate::source::simulate::FILE_NAMES.iter().map(|n| dir.join(n)).collect();
        return Ok(Opened {
            backend: Box::new(LocalBackend::open(
                paths,
                enricher,
                config,
                threads,
                true,
                vec![dir.display().to_string()],
            )),
            stop: Some(stop),
        });
    }
    let (paths, live) = if cli.paths.is_empty() {
        let dir = crate::demo::materialize().context("writing the bundled demo logs to a temporary directory")?;
        (crate::source::simulate::FILE_NAMES.iter().map(|n| dir.join(n)).collect::<Vec<PathBuf>>(), false)
    } else {
        let inputs = crate::source::resolve(&cli.paths)?;
        let paths = inputs
            .into_iter()
            .filter_map(|i| match i {
                crate::source::Input::File(p) => Some(p),
                crate::source::Input::Stdin => None,
            })
            .collect();
        (paths, true)
    };
    let specs = if live { cli.paths.clone() } else { Vec::new() };
    Ok(Opened { backend: Box::new(LocalBackend::open(paths, enricher, config, threads, live, specs)), stop: None })
}

fn init_logging() {
    let dir = crate::config::state_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let appender = tracing_appender::rolling::never(dir, "foley-triage.log");
    let _ = tracing_subscriber::fmt()
        .with_writer(appender)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FOLEY_TRIAGE_LOG").unwrap_or_else(|_| "info".into()),
        )
        .try_init();
}

/// Runs the console until the user quits.
pub fn run(cli: &Cli, config: &Config) -> Result<i32> {
    init_logging();
    let theme = theme::Theme::load(&config.theme).map_err(anyhow::Error::msg)?;
    let clipboard_mode = ClipboardMode::parse(&config.clipboard);
    eprintln!("foley-triage: reading logs…");
    let opened = open_backend(cli, config)?;
    let mut state = State::new(opened.backend.describe(), config);
    let (request_tx, request_rx) = mpsc::channel::<Request>();
    let (ui_tx, ui_rx) = mpsc::channel::<Msg>();
    let link = EngineLink { requests: request_tx, cancel: opened.backend.canceller() };
    let backend = opened.backend;
    std::thread::spawn(move || run_engine(backend, request_rx, ui_tx));

    let mut terminal = ratatui::init();
    let result = ui_loop(&mut terminal, &mut state, &theme, clipboard_mode, &link, &ui_rx);
    if state.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
    if let Some(stop) = opened.stop {
        stop.store(true, Ordering::SeqCst);
    }
    result.map(|_| 0)
}

fn ui_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    theme: &theme::Theme,
    clipboard_mode: ClipboardMode,
    link: &EngineLink,
    from_engine: &mpsc::Receiver<Msg>,
) -> Result<()> {
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut msgs = vec![Msg::Tick { now_ms }];
        while let Ok(msg) = from_engine.try_recv() {
            msgs.push(msg);
            dirty = true;
        }
        // wait for input up to the next frame when something must be drawn, else a whole frame:
        // never a zero timeout when idle (that would spin a core)
        let timeout =
            if dirty { FRAME.saturating_sub(last_draw.elapsed()).max(Duration::from_millis(1)) } else { FRAME };
        if event::poll(timeout)? {
            match event::read()? {
                TermEvent::Key(key) if key.kind != KeyEventKind::Release => msgs.push(Msg::Key(key)),
                TermEvent::Resize(..) => msgs.push(Msg::Resize),
                _ => {}
            }
            dirty = true;
        }
        for msg in msgs {
            for effect in update::update(state, msg) {
                run_effect(effect, state, clipboard_mode, link);
            }
        }
        if state.quit {
            return Ok(());
        }
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|frame| view::draw(frame, state, theme))?;
            last_draw = Instant::now();
            dirty = false;
        } else if last_draw.elapsed() >= Duration::from_secs(1) {
            dirty = true; // the "behind live" clock moves
        }
    }
}

fn set_status(state: &mut State, text: String) {
    state.status = crate::text::sanitize_owned(&text, 400);
    state.status_at_ms = state.now_ms;
}

fn run_effect(effect: Effect, state: &mut State, clipboard_mode: ClipboardMode, link: &EngineLink) {
    match effect {
        Effect::Window(span) => link.send(Request::Window(span)),
        Effect::Related(id) => link.send(Request::Related(id)),
        Effect::Copy { text, label } => {
            let shown = text.lines().next().unwrap_or("").to_string();
            let message = match clipboard::copy(&text, clipboard_mode) {
                Ok(Copied::Osc52(sequence)) => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(sequence.as_bytes()).and_then(|_| out.flush());
                    format!("{label} sent to terminal clipboard: {shown}")
                }
                Ok(Copied::System) => format!("{label} copied to clipboard: {shown}"),
                Ok(Copied::Disabled) => format!("clipboard disabled; {label}: {shown}"),
                Err(e) => format!("{e}; {label}: {shown}"),
            };
            set_status(state, message);
        }
        Effect::Open(url) => {
            let message = match crate::integrate::open_url(&url) {
                Ok(()) => format!("opened {url}"),
                Err(reason) => {
                    let copied = matches!(clipboard::copy(&url, clipboard_mode), Ok(Copied::Osc52(ref s)) if {
                        let mut out = std::io::stdout();
                        out.write_all(s.as_bytes()).and_then(|_| out.flush()).is_ok()
                    });
                    format!(
                        "{reason}; link {}: {url}",
                        if copied { "sent to terminal clipboard" } else { "not copied" }
                    )
                }
            };
            set_status(state, message);
        }
        Effect::Export { video_id, content } => {
            let name = format!(
                "foley-triage-{}-{}.log",
                video_id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-', "_"),
                chrono::Utc::now().format("%Y%m%dT%H%M%S")
            );
            let path =
                std::env::current_dir().map(|d| d.join(&name)).unwrap_or_else(|_| std::env::temp_dir().join(&name));
            let message = match std::fs::write(&path, content) {
                Ok(()) => format!("exported the log bundle of {video_id} to {}", path.display()),
                Err(e) => format!("could not write {}: {e}", path.display()),
            };
            set_status(state, message);
        }
        Effect::SetMouse(on) => {
            let _ = if on {
                crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
            } else {
                crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture)
            };
        }
    }
}
