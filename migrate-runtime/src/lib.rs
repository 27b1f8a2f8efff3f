//! Apply migrations embedded at compile time, at boot, with sqlx.
//!
//! ```no_run
//! # async fn boot() -> Result<(), Box<dyn std::error::Error>> {
//! static RUNNER: migrate_runtime::Runner = migrate_runtime::embed_migrations!("../migrations");
//! let pool = sqlx::SqlitePool::connect("sqlite://app.db?mode=rwc").await?;
//! RUNNER.run(&pool).await?;
//! # Ok(()) }
//! ```
//!
//! The same calls take a `PgPool` (feature `postgres`), a `MySqlPool`
//! (feature `mysql`) or a `SqlitePool` (feature `sqlite`, on by default).
//! Feature `lint` runs `migrate check --lint`'s rules inside
//! `embed_migrations!` for the dialect it names (`lint = "postgres"`) or
//! migrate.toml's `dialect`: off by default, since it compiles a SQL parser.
//! A run holds one pooled connection throughout, and every future is
//! `Send`. A run dropped part-way (a timeout, a shutdown) cancels its
//! statement on the server and rolls back the revision in progress.

// The runner's operations are instantiated inside each backend's module
// (so that applications compile a call, not the runner); built with no
// backend feature at all, nothing instantiates them.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]

mod backend;
pub mod build;
mod cancel;
mod error;
mod fast_path;
mod history;
mod report;
pub mod runner;
mod session;
pub mod testing;
mod watch;

pub use backend::{Backend, BatchFailure, ForeignKeyViolation};
pub use cancel::cancellations;
pub use error::{Aftermath, Error, HistoryWrite, IoWait, LostOutcome};
pub use history::HistoryRow;
pub use migrate_core as core;
pub use migrate_core::Revision;
pub use report::{Report, RevisionState, RevisionStatus, Status, StepReport};
pub use runner::{
    Runner, TransactionMode, DEFAULT_HISTORY_TABLE, DEFAULT_IO_TIMEOUT, DEFAULT_LOCK_TIMEOUT,
};

/// Embeds a migrations directory, checked at compile time. See the crate
/// documentation of `migrate-macros`.
pub use migrate_macros::embed_migrations;

/// Items the expansion of `embed_migrations!` names. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use migrate_core::Revision;
    pub use std::borrow::Cow;
}
