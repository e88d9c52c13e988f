//! Storage: one contract ([`Database`]), two engines.
//!
//! - **SQLite** (the default): one file beside the binary. Reads use a small pool of
//!   connections, which WAL mode lets run beside the writer.
//! - **PostgreSQL** (`--database-url postgres://…`): for several collector replicas behind a
//!   load balancer, sharing one database.
//!
//! On both, submissions are written by a single writer thread per collector that commits them
//! in batches (group commit): under load, one commit covers many submissions, and a
//! submission is acknowledged only after the transaction holding it has committed. The
//! submission id is unique in the table, so the same submission sent twice (a retry, or to
//! two replicas at once) is stored once.
//!
//! The crate is the collector's lowest layer: it knows submissions and the owner's records,
//! and nothing of HTTP, the dashboard or the command line.
//!
//! - [`model`]: accounts, sessions, webhooks and deliveries;
//! - [`contract`]: the [`Database`] trait, its records and errors, the SQL both engines share;
//! - [`sqlite`] and `postgres`: the two engines;
//! - [`pool`]: the [`Store`] handle the server shares (connection pools and the writer thread);
//! - [`copy`]: a whole database from one engine to the other (`earshot copy`).

pub mod clock;
pub mod contract;
pub mod copy;
mod error;
pub mod inbound;
mod mail_sql;
pub mod model;
pub mod origin;
pub mod pool;
mod postgres;
mod sql;
pub mod sqlite;
mod stats_sql;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use clock::{now_millis, timestamp};
pub use contract::*;
pub use pool::Store;
pub use postgres::{PgConn, ScratchDatabase};
pub use sqlite::open_connection;
