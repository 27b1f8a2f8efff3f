//! What can go wrong at run time. Every message says what happened, which
//! revision and file, and what to do next.

use std::time::Duration;

use migrate_core::{PlanError, SourceLocation};

/// An error from a [`Runner`](crate::Runner) operation.
///
/// Its `Debug` output is its message (see the `Debug` impl below), so a
/// `main` that returns `Result<(), Box<dyn std::error::Error>>` and uses
/// `?` prints what to do rather than the variant's fields.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target could not be resolved, or the plan was refused (for
    /// instance a downgrade through an irreversible revision). Nothing ran.
    #[error(transparent)]
    Plan(#[from] PlanError),

    /// The configured history table name is not an identifier.
    #[error("{0}")]
    InvalidHistoryTable(String),

    /// The database has applied revisions this build does not contain.
    #[error(
        "the database is at {}, which this build does not know; \
         deploy a build that contains {}, or downgrade the database with the build that applied {}",
        quoted(.revisions), them(.revisions), them(.revisions)
    )]
    UnknownRevisions {
        /// The unknown revision ids.
        revisions: Vec<String>,
    },

    /// An applied revision's file changed since it was applied.
    #[error(
        "{file} (revision `{revision}`) was changed after it was applied \
         (checksum {applied:.12}… in the database, {embedded:.12}… in this build); nothing was run. \
         Restore the file as it was applied, or, if the change is reviewed and intended, \
         record the new checksum with `migrate repair`"
    )]
    ChecksumMismatch {
        /// The revision id.
        revision: String,
        /// Its file.
        file: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the embedded file.
        embedded: String,
    },

    /// A revision that cannot be rolled back (MySQL DDL, `transaction:
    /// false`) started on an earlier run and did not finish.
    #[error(
        "{} of revision `{revision}` ({file}) started on an earlier run and did not finish, \
         so some of its statements may have taken effect; nothing was run. Inspect the database, then either {}; \
         then run again",
        if *.reverting { "the downgrade" } else { "the upgrade" },
        if *.reverting {
            format!("finish the revert by hand and run `migrate stamp {before}`, \
                     or restore what it removed and run `migrate stamp {revision}`")
        } else {
            format!("complete the change by hand and run `migrate stamp {revision}`, \
                     or undo it by hand and run `migrate stamp {before}`")
        }
    )]
    HalfApplied {
        /// The revision id.
        revision: String,
        /// Its file.
        file: String,
        /// The stamp target that forgets it and nothing else (`base`, its
        /// parent, or another applied revision nothing applied requires).
        before: String,
        /// Whether it was being downgraded rather than upgraded.
        reverting: bool,
    },

    /// The history says a revision is applied but not one it requires.
    #[error(
        "the history table records `{revision}` as applied but not `{missing}`, which it requires; \
         the table was edited by hand or by another tool. Fix it with `migrate stamp`"
    )]
    InconsistentHistory {
        /// The applied revision.
        revision: String,
        /// Its requirement that is not applied.
        missing: String,
    },

    /// A revision's SQL failed. The message names the file's line where
    /// the failed statement is known (`migrations/b2b2_x.sql:14`), and
    /// quotes it on the lines after.
    #[error(
        "revision `{revision}` ({file}{}) failed: {source}{}; {aftermath}{}",
        at_line(.location), transaction_hint(.source), quote(.location)
    )]
    RevisionFailed {
        /// The revision id.
        revision: String,
        /// Its file.
        file: String,
        /// The database's error.
        source: sqlx::Error,
        /// Where in the file the failed statement is, when the database's
        /// answer tells (a position, or how many statements succeeded
        /// first); `None` when the failure is outside the file's SQL (the
        /// history row, the commit). Boxed, so that every `Result` of this
        /// error stays small.
        location: Option<Box<SourceLocation>>,
        /// What was left behind.
        aftermath: Aftermath,
    },

    /// A revision left a row whose foreign key names no parent row
    /// (checked on SQLite, where the run suspends enforcement so that a
    /// table rebuild keeps the child rows).
    #[error(
        "revision `{revision}` ({file}) left {violation}; \
         `PRAGMA foreign_key_check` lists every such row; {aftermath}"
    )]
    ForeignKeyViolation {
        /// The revision id.
        revision: String,
        /// Its file.
        file: String,
        /// The first offending row.
        violation: crate::backend::ForeignKeyViolation,
        /// What was left behind.
        aftermath: Aftermath,
    },

    /// The migration lock stayed taken too long: by another run or, on
    /// SQLite, by any write transaction.
    #[error(
        "the migration lock on `{table}` stayed taken for {waited:?}: another migration run holds it, \
         or, on SQLite, whose lock is the database's write lock, any open write transaction \
         (the application's own included); if no run is in progress, a crashed one or an idle \
         transaction may still hold it: its session must end (close idle connections) before the lock frees"
    )]
    LockTimeout {
        /// The history table the lock guards.
        table: String,
        /// How long this run waited.
        waited: Duration,
    },

    /// The embedded revisions do not form a valid graph (only possible for
    /// a runner built by hand; `embed_migrations!` checks at compile time).
    #[error("the migrations are invalid:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidMigrations(Vec<migrate_core::LoadError>),

    /// Any other database error (connecting, reading the history, locking).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// `Debug` prints the message: `main() -> Result<_, Box<dyn Error>>` reports
/// a returned error with `{:?}`, and that is where most applications surface
/// a failed boot-time migration. The fields are public for code that needs
/// them.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A step's failure, with where in the file the failed statement is when
/// the database's answer tells.
pub(crate) struct StepFailure {
    pub error: Error,
    pub location: Option<Box<SourceLocation>>,
}

impl StepFailure {
    pub fn at(location: Option<SourceLocation>, failure: crate::backend::BatchFailure) -> Self {
        StepFailure {
            error: failure.source.into(),
            location: location.map(Box::new),
        }
    }
}

impl From<Error> for StepFailure {
    fn from(error: Error) -> Self {
        StepFailure {
            error,
            location: None,
        }
    }
}

impl From<sqlx::Error> for StepFailure {
    fn from(error: sqlx::Error) -> Self {
        Error::from(error).into()
    }
}

/// What a failed revision left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Aftermath {
    /// Its transaction was rolled back; revisions before it stay applied.
    RolledBack,
    /// The run's single transaction was rolled back: nothing of the run
    /// stayed.
    RunRolledBack,
    /// The run's single transaction was rolled back, but only to the last
    /// `transaction: false` revision, which committed the run up to itself.
    RunRolledBackToCommit,
    /// Part of it was committed (MySQL DDL, `transaction: false`), and its
    /// history row is left pending.
    PartiallyApplied,
}

impl std::fmt::Display for Aftermath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Aftermath::RolledBack => {
                "it was rolled back and revisions before it stay applied; fix the file and run again"
            }
            Aftermath::RunRolledBack => {
                "the whole run was rolled back (single-transaction mode), so nothing of it stayed; \
                 fix the file and run again"
            }
            Aftermath::RunRolledBackToCommit => {
                "the run was rolled back (single-transaction mode) to its last `transaction: false` \
                 revision, which had to commit: that revision and those before it stay applied \
                 (`migrate current` shows which); fix the file and run again"
            }
            Aftermath::PartiallyApplied => {
                "part of it was committed (DDL commits implicitly here, or the revision runs outside a \
                 transaction), so its history row is left pending: inspect the database, fix the file, \
                 then follow the instructions the next run gives"
            }
        })
    }
}

/// For statements a database refuses to run in a transaction block
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `ALTER TYPE ... ADD VALUE` on
/// older servers): the header line that fixes it.
fn transaction_hint(source: &sqlx::Error) -> &'static str {
    let message = source.to_string();
    if message.contains("cannot run inside a transaction block")
        || message.contains("cannot be executed within a pipeline")
        || message.contains("cannot VACUUM from within a transaction")
    {
        " (add `-- transaction: false` to the file's header: this statement cannot run in a transaction)"
    } else {
        ""
    }
}

/// `:14`, the line after the file name.
fn at_line(location: &Option<Box<SourceLocation>>) -> String {
    location
        .as_ref()
        .map(|location| format!(":{}", location.line))
        .unwrap_or_default()
}

/// The failed statement's lines, under the message.
fn quote(location: &Option<Box<SourceLocation>>) -> String {
    location
        .as_ref()
        .map(|location| format!("\n{}", location.quote()))
        .unwrap_or_default()
}

fn quoted(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn them(ids: &[String]) -> &'static str {
    if ids.len() == 1 {
        "it"
    } else {
        "them"
    }
}
