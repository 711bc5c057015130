//! The interactive console (ratatui + crossterm), in The Elm Architecture: `Msg` → pure
//! [`update::update`] → `Effect`s run here → results back as `Msg`s → [`view::draw`]. The engine
//! ([`crate::backend::worker`]) runs on its own thread and is handed in by the command that opened
//! it: the UI does no IO on data, never waits on the engine, and redraws on input or on a tick,
//! never once per log line.

pub mod actions;
pub mod alert_marks;
pub mod alerts;
pub mod command;
pub mod effects;
pub mod history;
pub mod keys;
pub mod label;
pub mod lines;
pub mod patterns;
pub mod prompt;
pub mod search;
pub mod state;
pub mod tail;
pub mod theme;
pub mod update;
pub mod view;
pub mod watchdog;
pub mod zoom;

use crate::backend::worker::{Link, Update};
use crate::config::Config;
use crate::integrate::clipboard::ClipboardMode;
use anyhow::Result;
use crossterm::event::{self, Event as TermEvent, KeyEventKind};
use state::State;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use update::Msg;

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
pub fn run(
    config: &Config,
    source: String,
    range: crate::backend::TimeRange,
    alert_rules: &[crate::alerts::rules::Rule],
    link: &Link,
    updates: &mpsc::Receiver<Update>,
) -> Result<Ending> {
    init_logging();
    let mut theme = theme::Theme::load(&config.theme).map_err(anyhow::Error::msg)?;
    let clipboard_mode = ClipboardMode::parse(&config.clipboard);
    let mut state = State::new(source, config);
    state.history = history::load(&history::path());
    state.alert_rules = alert_rules.to_vec();
    match alert_marks::load(&alert_marks::path()) {
        Ok(marks) => state.alerts.marks = marks,
        Err(e) => state.set_status(format!("acknowledgements and silences not read: {e}")),
    }
    if range != state.range {
        state.range = range;
        link.send(crate::backend::worker::Request::Window(range));
    }
    let stop = stop_on_signals();
    let mut terminal = match init_terminal() {
        Ok(t) => t,
        Err(e) => {
            return Ok(Ending::Failed(format!(
                "the console needs a terminal ({e}); for a summary without one, use `foley-triage report`"
            )));
        }
    };
    let (watchdog, heartbeat) = watchdog::Watchdog::start(stop);
    let result = ui_loop(&mut terminal, &mut state, &mut theme, clipboard_mode, link, updates, &heartbeat);
    drop(watchdog);
    if state.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    restore_quietly();
    // ratatui's terminal says a cursor it could not show with `eprintln!` when dropped, which
    // panics on a hung-up terminal: it is only dropped once the cursor is back
    if terminal.show_cursor().is_err() {
        std::mem::forget(terminal);
    }
    result?;
    Ok(match state.failed.take() {
        Some(reason) => Ending::Failed(reason),
        None => Ending::Quit,
    })
}

/// `ratatui::try_init` without its panic hook and `restore`, which say a failure with `eprintln!`:
/// on a hung-up terminal (a dropped SSH connection) that panics, and inside the panic hook it
/// aborts. Raw mode, the alternate screen, and a hook that restores both, quietly.
fn init_terminal() -> std::io::Result<ratatui::DefaultTerminal> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_quietly();
        // the console itself fails: its demo directory goes too (unwinding may not reach the
        // owner's destructor, a panic while panicking aborts); another thread's panic leaves the
        // console running, with its files
        if std::thread::current().name() == Some("main") {
            crate::demo::remove_registered();
        }
        previous(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

/// Raw mode off and the alternate screen left, as far as the terminal still takes it.
fn restore_quietly() {
    let _ = ratatui::try_restore();
}

fn ui_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    theme: &mut theme::Theme,
    clipboard_mode: ClipboardMode,
    link: &Link,
    from_engine: &mpsc::Receiver<Update>,
    heartbeat: &watchdog::Heartbeat,
) -> Result<()> {
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let size = terminal.size()?;
    let mut msgs = vec![Msg::Resize { width: size.width, height: size.height }];
    loop {
        heartbeat.beat();
        let now_ms = chrono::Utc::now().timestamp_millis();
        msgs.push(Msg::Tick { now_ms });
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
                TermEvent::Resize(width, height) => msgs.push(Msg::Resize { width, height }),
                _ => {}
            }
            dirty = true;
        }
        for msg in msgs.drain(..) {
            for effect in update::update(state, msg) {
                effects::run(effect, state, clipboard_mode, link, theme);
            }
        }
        if state.quit || heartbeat.stop_requested() {
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
