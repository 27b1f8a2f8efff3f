//! Helpers for an application's own tests: [`stairway`] applies every
//! embedded revision, reverts it, checks that the schema is back as it was
//! and applies it again, the test Alembic users write with pytest.
//!
//! ```no_run
//! # async fn example(pool: sqlx::SqlitePool) {
//! static MIGRATIONS: migrate_runtime::Runner = migrate_runtime::embed_migrations!("../migrations");
//! migrate_runtime::testing::stairway(&MIGRATIONS, &pool).await.unwrap();
//! # }
//! ```

mod revert;
mod snapshot;
mod stairway;

pub use revert::{revert_newest, step_back, StepBack};
pub use snapshot::{SchemaSnapshot, Snapshot};
pub use stairway::{stairway, StairwayFailure, StairwayStep};
