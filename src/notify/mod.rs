//! Notifications: alerts sent to chat (Slack, DingTalk, WeCom) or a plain JSON webhook, only when
//! asked (`check --notify`). Webhook URLs are secrets: read from an environment variable or a file,
//! never from the config file, the command line or a log. One message when a rule starts firing,
//! none while it stays firing, one when it resolves; a failed delivery is retried, then reported.

pub mod deliver; // HTTP with retries, the sent/resolved state kept between runs
pub mod payload; // each service's message format
pub mod target; // `[[notify]]` entries and where their URL comes from

pub use deliver::{Delivery, notify};
pub use target::NotifyTarget;
