//! The interactive console (ratatui + crossterm), in The Elm Architecture: `Msg` → pure
//! [`update::update`] → `Effect`s run here → results back as `Msg`s → [`view::draw`]. The engine
//! ([`crate::backend::worker`]) runs on its own thread and is handed in by the command that opened
//! it: the UI does no IO on data, never waits on the engine, and redraws on input or on a tick,
//! never once per log line.

pub mod state;
pub mod theme;
pub mod update;
pub mod view;

use crate::backend::worker::{Link, Request, Update};
use crate::config::Config;
use crate::integrate::clipboard::{self, ClipboardMode, Copied};
use anyhow::Result;
use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use state::State;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use update::{Effect, Msg};

/// Frames per second at most.
const FRAME: Duration = Duration::from_millis(50);

fn init_logging() {
    crate::applog::init();
}

/// How a console session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The user quit (q, Ctrl-C) or a signal asked the console to stop.
    Quit,
    /// The backend could not be opened; the reason, in one sentence.
    Failed(String),
}

/// The signals that end the console cleanly (the terminal restored): SIGTERM, SIGHUP (the SSH
/// connection dropped), SIGQUIT and SIGINT (Ctrl-C arrives as a key in raw mode, but `kill -INT`
/// does not).
fn stop_on_signals() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGQUIT,
        signal_hook::consts::SIGINT,
    ] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&flag)) {
            tracing::warn!("cannot watch signal {signal}: {e}");
        }
    }
    flag
}

/// Runs the console on an engine (already started: it may still be opening its backend) until the
/// user quits, a signal arrives, or the engine says the backend could not be opened. Every way out
/// restores the terminal; a panic does too (`ratatui::init`'s hook).
pub fn run(config: &Config, source: String, link: &Link, updates: &mpsc::Receiver<Update>) -> Result<Ending> {
    init_logging();
    let theme = theme::Theme::load(&config.theme).map_err(anyhow::Error::msg)?;
    let clipboard_mode = ClipboardMode::parse(&config.clipboard);
    let mut state = State::new(source, config);
    let stop = stop_on_signals();
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            return Ok(Ending::Failed(format!(
                "the console needs a terminal ({e}); for a summary without one, use `foley-triage report`"
            )));
        }
    };
    let result = ui_loop(&mut terminal, &mut state, &theme, clipboard_mode, link, updates, &stop);
    if state.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
    result?;
    Ok(match state.failed.take() {
        Some(reason) => Ending::Failed(reason),
        None => Ending::Quit,
    })
}

fn ui_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    theme: &theme::Theme,
    clipboard_mode: ClipboardMode,
    link: &Link,
    from_engine: &mpsc::Receiver<Update>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut msgs = vec![Msg::Tick { now_ms }];
        while let Ok(update) = from_engine.try_recv() {
            msgs.push(Msg::Engine(update));
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
        if state.quit || stop.load(Ordering::Relaxed) {
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

fn run_effect(effect: Effect, state: &mut State, clipboard_mode: ClipboardMode, link: &Link) {
    match effect {
        Effect::Window(span) => link.send(Request::Window(span)),
        Effect::Related(id) => link.send(Request::Related(id)),
        Effect::CodeVideos { code, span } => link.send(Request::CodeVideos { code, span }),
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
