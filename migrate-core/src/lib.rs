//! The heart of the migration toolkit, shared by the `embed_migrations!`
//! macro and the `migrate` CLI so that both apply exactly the same rules:
//!
//! - [`parse`]: the migration file format;
//! - [`load`]: reading a migrations directory;
//! - [`graph`]: the revision graph and its validation;
//! - [`target`]: Alembic's target grammar;
//! - [`history`]: which revisions `history -r A:B` lists;
//! - [`plan`]: from an applied set and a target to ordered steps;
//! - [`relative`]: Alembic's `+N` / `-N` and `<label>@+N` walks;
//! - [`config`]: `migrate.toml`, read by the CLI and the macro alike;
//! - [`checksum`]: SHA-256 with line endings normalised;
//! - [`dialect`]: the SQL sent to each database, shared by the runtime and
//!   the offline scripts;
//! - [`statements`]: splitting a section into statements;
//! - [`location`]: pointing a failed statement back into its file.
//!
//! No database and no I/O beyond reading the migration files.

pub mod checksum;
pub mod config;
pub mod dialect;
pub mod digest;
pub mod error;
pub mod graph;
pub mod history;
pub mod load;
pub mod location;
pub mod parse;
pub mod plan;
pub mod relative;
pub mod revision;
pub mod script;
pub mod statements;
pub mod suggest;
pub mod target;

pub use config::{parse_config, LintSettings, ProjectConfig, TransactionModeSetting, CONFIG_FILE};
pub use dialect::{Dialect, HistoryTable, Wrap};
pub use error::{LoadError, PlanError, RevisionRef};
pub use graph::{RevisionGraph, RevisionSet};
pub use load::{load_dir, load_dir_allowing_multiple_heads, MigrationDir, MAX_FILE_BYTES};
pub use location::{RevisionBatch, SectionSource, SourceLocation};
pub use parse::{parse_migration, MAX_MESSAGE_BYTES};
pub use plan::{plan_downgrade, plan_stamp, plan_upgrade, Direction, Plan, StampPlan};
pub use revision::{Revision, Text, TextList};
pub use script::render_script;
pub use target::{Range, Target};
