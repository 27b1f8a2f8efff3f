//! Apply migrations embedded at compile time, at boot, with sqlx.
//!
//! ```no_run
//! # async fn boot() -> Result<(), Box<dyn std::error::Error>> {
//! static RUNNER: migrate_runtime::Runner = migrate_runtime::embed_migrations!("../migrations");
//! let pool = sqlx::SqlitePool::connect("sqlite://app.db?mode=rwc").await?;
//! RUNNER.run(&pool).await?;
//! # Ok(()) }
//! ```

pub mod build;
pub mod runner;

pub use migrate_core as core;
pub use migrate_core::Revision;
pub use runner::Runner;

/// Embeds a migrations directory, checked at compile time. See the crate
/// documentation of `migrate-macros`.
pub use migrate_macros::embed_migrations;

/// Items the expansion of `embed_migrations!` names. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use migrate_core::Revision;
    pub use std::borrow::Cow;
}
