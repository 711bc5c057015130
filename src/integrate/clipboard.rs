//! The clipboard. Over SSH (or without a display) text is sent to the user's own terminal with
//! OSC 52 (`ESC ] 52 ; c ; <base64> ESC \`), wrapped for tmux when `TMUX` is set; locally the
//! system clipboard is used through `arboard`. OSC 52 gives no acknowledgement, so callers show
//! the text they sent. The clipboard is never read.

use base64::Engine;

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

/// The OSC 52 sequence that sets the clipboard to `text`, terminated with ST, wrapped in a DCS
/// passthrough when inside tmux (every ESC of the inner sequence doubled).
pub fn osc52_sequence(text: &str, inside_tmux: bool) -> Result<String, String> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    if encoded.len() > OSC52_MAX_BYTES {
        return Err(format!("{} bytes is too long for the terminal clipboard (OSC 52)", text.len()));
    }
    let inner = format!("\x1b]52;c;{encoded}\x1b\\");
    Ok(if inside_tmux { format!("\x1bPtmux;{}\x1b\\", inner.replace('\x1b', "\x1b\x1b")) } else { inner })
}

/// What happened, in words for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// The sequence to write to the terminal (the caller writes it, in order with its frames).
    Osc52(String),
    System,
    Disabled,
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
        _ => Ok(Copied::Osc52(osc52_sequence(text, std::env::var_os("TMUX").is_some())?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_plain_and_tmux() {
        let s = osc52_sequence("hi", false).expect("short");
        assert_eq!(s, "\x1b]52;c;aGk=\x1b\\");
        let t = osc52_sequence("hi", true).expect("short");
        assert_eq!(t, "\x1bPtmux;\x1b\x1b]52;c;aGk=\x1b\x1b\\\x1b\\");
        assert!(osc52_sequence(&"x".repeat(100_000), false).is_err());
    }
}
