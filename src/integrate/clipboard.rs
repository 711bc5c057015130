//! The clipboard. Over SSH (or without a display) text goes to the user's own terminal with OSC 52
//! (`ESC ] 52 ; c ; <base64> ESC \`); inside tmux through `tmux load-buffer -w -`, which works with
//! tmux's defaults (tmux drops an application's OSC 52 unless `set-clipboard on`, and passthrough
//! is off by default), falling back to plain OSC 52; locally the system clipboard is used through
//! `arboard`. OSC 52 gives no acknowledgement, so [`Copied::describe`] says what was done and how
//! to check. The clipboard is never read.

use base64::Engine;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How to copy, from the config (`auto|osc52|system|none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardMode {
    Auto,
    Osc52,
    System,
    None,
}

impl ClipboardMode {
    pub fn parse(s: &str) -> ClipboardMode {
        match s {
            "osc52" => ClipboardMode::Osc52,
            "system" => ClipboardMode::System,
            "none" => ClipboardMode::None,
            _ => ClipboardMode::Auto,
        }
    }

    /// The concrete method for this environment.
    pub fn resolve(self) -> ClipboardMode {
        match self {
            ClipboardMode::Auto => {
                let no_display = std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none();
                if super::over_ssh() || no_display { ClipboardMode::Osc52 } else { ClipboardMode::System }
            }
            other => other,
        }
    }
}

/// Terminals commonly cap OSC 52 payloads near 74 KB; stay below.
pub const OSC52_MAX_BYTES: usize = 74_000;

/// How long a `tmux` command may take before it is given up on.
const TMUX_DEADLINE: Duration = Duration::from_secs(2);

/// The OSC 52 sequence that sets the clipboard to `text`, terminated with ST. Plain, never
/// wrapped for tmux's passthrough (off by default since tmux 3.3).
pub fn osc52_sequence(text: &str) -> Result<String, String> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    if encoded.len() > OSC52_MAX_BYTES {
        return Err(format!("{} bytes is too long for the terminal clipboard (OSC 52)", text.len()));
    }
    Ok(format!("\x1b]52;c;{encoded}\x1b\\"))
}

/// What was done with the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// Sent to the terminal with OSC 52: the caller writes the sequence, in order with its frames.
    Osc52(String),
    /// Inside tmux, `tmux load-buffer -w -` took it: a tmux buffer, and the clipboard of the
    /// terminal tmux's client runs in.
    Tmux,
    /// Inside tmux, `load-buffer -w` failed (`why`); the plain OSC 52 sequence is to be written,
    /// and tmux's `set-clipboard` option (as tmux answered, if it did) decides whether it lands.
    TmuxOsc52 {
        sequence: String,
        why: String,
        set_clipboard: Option<String>,
    },
    System,
    Disabled,
}

impl Copied {
    /// The OSC 52 sequence the caller must write to the terminal, if any.
    pub fn sequence(&self) -> Option<&str> {
        match self {
            Copied::Osc52(s) | Copied::TmuxOsc52 { sequence: s, .. } => Some(s),
            _ => None,
        }
    }

    /// What was done, and how to check, in words for the status line (`label` names the text).
    pub fn describe(&self, label: &str) -> String {
        match self {
            Copied::Osc52(_) => format!(
                "{label} sent to your terminal's clipboard with OSC 52 (the terminal does not confirm: paste to check)"
            ),
            Copied::Tmux => format!(
                "{label} copied with tmux load-buffer -w to a tmux buffer and your terminal's clipboard (check: tmux show-buffer, or paste)"
            ),
            Copied::TmuxOsc52 { set_clipboard: Some(on), .. } if on == "on" => {
                format!(
                    "{label} sent to tmux with OSC 52; tmux set-clipboard is on, so it keeps it (check: tmux show-buffer)"
                )
            }
            Copied::TmuxOsc52 { why, set_clipboard, .. } => format!(
                "{label} probably NOT copied: tmux load-buffer -w failed ({why}) and tmux drops OSC 52 unless set-clipboard is on (it is {}); run: tmux set -g set-clipboard on",
                set_clipboard.as_deref().unwrap_or("unknown")
            ),
            Copied::System => format!("{label} copied to the system clipboard"),
            Copied::Disabled => {
                format!("{label} not copied: the clipboard is off (clipboard = \"none\" in the config)")
            }
        }
    }
}

/// Copies `text` with `mode`. For OSC 52 the returned sequence must be written to the terminal.
pub fn copy(text: &str, mode: ClipboardMode) -> Result<Copied, String> {
    match mode.resolve() {
        ClipboardMode::None => Ok(Copied::Disabled),
        ClipboardMode::System => {
            let mut clipboard = arboard::Clipboard::new().map_err(|e| format!("system clipboard unavailable: {e}"))?;
            clipboard.set_text(text.to_string()).map_err(|e| format!("system clipboard refused the text: {e}"))?;
            Ok(Copied::System)
        }
        _ if std::env::var_os("TMUX").is_some() => {
            let sequence = osc52_sequence(text)?;
            match tmux(&["load-buffer", "-w", "-"], Some(text.as_bytes())) {
                Ok(_) => Ok(Copied::Tmux),
                Err(why) => {
                    let set_clipboard = tmux(&["show-options", "-gv", "set-clipboard"], None).ok();
                    Ok(Copied::TmuxOsc52 { sequence, why, set_clipboard })
                }
            }
        }
        _ => Ok(Copied::Osc52(osc52_sequence(text)?)),
    }
}

/// Runs `tmux ARGS` (the server of `$TMUX`) with `input` on its stdin; its trimmed output, or why
/// it failed. Given up after [`TMUX_DEADLINE`].
fn tmux(args: &[&str], input: Option<&[u8]>) -> Result<String, String> {
    let mut child = Command::new("tmux")
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(bytes).map_err(|e| format!("tmux: {e}"))?;
    }
    let until = Instant::now() + TMUX_DEADLINE;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("tmux did not answer".into());
            }
        }
    }
    let output = child.wait_with_output().map_err(|e| format!("tmux: {e}"))?;
    let clean = |bytes: &[u8]| crate::text::sanitize_owned(String::from_utf8_lossy(bytes).trim(), 160);
    if output.status.success() {
        Ok(clean(&output.stdout))
    } else {
        let said = clean(&output.stderr);
        Err(if said.is_empty() { format!("tmux exited with {}", output.status) } else { said })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_plain_even_for_tmux() {
        assert_eq!(osc52_sequence("hi").expect("short"), "\x1b]52;c;aGk=\x1b\\");
        assert!(osc52_sequence(&"x".repeat(100_000)).is_err());
    }

    #[test]
    fn every_outcome_says_what_was_done_and_how_to_check() {
        let failed = |set: Option<&str>| Copied::TmuxOsc52 {
            sequence: String::new(),
            why: "unknown flag -w".into(),
            set_clipboard: set.map(str::to_string),
        };
        assert!(Copied::Tmux.describe("retry link").contains("tmux show-buffer"));
        assert!(failed(Some("on")).describe("x").contains("set-clipboard is on"));
        let off = failed(Some("external")).describe("x");
        assert!(off.contains("NOT copied") && off.contains("it is external") && off.contains("set-clipboard on"));
        assert!(Copied::Osc52(String::new()).describe("x").contains("paste to check"));
    }
}
