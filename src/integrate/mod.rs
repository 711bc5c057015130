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
/// (where a browser would open on the bastion host, not in front of the user).
pub fn open_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("refusing to open {url}: only http and https links are opened"));
    }
    if over_ssh() {
        return Err("over SSH: not starting a browser on the remote host".into());
    }
    open::that_detached(url).map_err(|e| format!("could not open a browser: {e}"))
}
