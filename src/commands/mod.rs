//! One module per subcommand; each returns the process exit code.

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
