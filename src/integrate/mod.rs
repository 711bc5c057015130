//! Integrations with the world outside the terminal: the clipboard (OSC 52 over SSH, the system
//! clipboard locally), opening links (http/https only, never a browser over SSH), and the links
//! themselves (retry link template, Kibana Discover deep links in rison).

pub mod clipboard;
pub mod links;

/// True when running inside an SSH session.
pub fn over_ssh() -> bool {
    std::env::var_os("SSH_TTY").is_some() || std::env::var_os("SSH_CONNECTION").is_some()
}

/// Opens an http(s) URL in the local browser. Refuses other schemes, and never runs over SSH
/// (where a browser would open on the bastion host, not in front of the user). The error is a
/// short reason, to follow "no browser opened: " on the status line.
pub fn open_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("only http and https links are opened".into());
    }
    if over_ssh() {
        return Err("over SSH it would open on the remote host, not in front of you".into());
    }
    open::that_detached(url).map_err(|e| browser_failure(&e, url))
}

/// Why no browser opened, in a few words: the launcher's own message, its first line, with the
/// link (already shown after it) named instead of repeated.
fn browser_failure(e: &std::io::Error, url: &str) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return "no launcher found (xdg-open, gio, gnome-open, kde-open, wslview)".into();
    }
    let text = e.to_string().replace(url, "<link>");
    let first = text.lines().next().unwrap_or_default();
    crate::text::sanitize_owned(first, 120)
}
