//! One module per subcommand; each returns the process exit code.

pub mod check;
pub mod check_watch;
pub mod config;
pub mod console;
pub mod es;
pub mod follow;
pub mod patterns;
pub mod report;
pub mod rules;
pub mod search;
pub mod ship;
pub mod simulate;
pub mod video;

/// Exit status for bad arguments or unreadable input.
pub const EXIT_USAGE: i32 = 2;

/// Sends the alerts of a check to the configured targets, says what was sent and what failed;
/// false when a delivery failed.
pub fn notify_alerts(checked: &check::Checked, config: &crate::config::Config) -> bool {
    if config.notify.is_empty() {
        crate::applog::warn("--notify: the config names no [[notify]] targets; nothing sent");
        return true;
    }
    let state = crate::config::state_dir().join("notify-state.json");
    let deliveries = crate::notify::notify(
        &checked.alerts,
        checked.at_ms,
        &config.notify,
        &config.links,
        &state,
        crate::notify::deliver::NotifyOptions::default(),
    );
    let mut all_ok = true;
    for d in &deliveries {
        match &d.error {
            None => crate::applog::info(&format!("notified {}: {} {}", d.target, d.status, d.rule)),
            Some(e) => {
                all_ok = false;
                crate::applog::error(&format!("notification to {} ({} {}) failed: {e}", d.target, d.status, d.rule));
            }
        }
    }
    all_ok
}
