//! The Earshot collector: receives feedback from the widget, keeps it in SQLite and gives it
//! back to the site owner as CSV. `main.rs` is only the command line; everything a test needs
//! to build the same app lives here.

pub mod accounts;
pub mod app;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod client_ip;
pub mod conversation;
pub mod dashboard;
pub mod error;
pub mod export;
pub mod files;
pub mod first_run;
pub mod headers;
pub mod inbound;
pub mod ingest;
pub mod logins;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod operations;
pub mod owner;
pub mod passwords;
pub mod rate_limit;
pub mod screenshots;
pub mod sites;
pub mod slow_headers;
pub mod state;
pub mod webhooks;
pub mod widget_settings;
pub mod workers;

pub use app::{build_app, configure};
pub use earshot_store::{self as store, Store, origin};
pub use error::AppError;
pub use state::AppState;
