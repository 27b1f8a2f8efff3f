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
        "revision `{revision}` ({file}{}) failed: {}{}; {aftermath}{}",
        at_line(.location), database_said(.source), transaction_hint(.source), quote(.location)
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

    /// A write to the history table did not change the one row it was
    /// meant to: something other than this run (an edit by hand, another
    /// tool, a stamp that did not wait for the lock) changed the table
    /// meanwhile.
    #[error(
        "{write} revision `{revision}` in the history table changed {rows} rows where 1 was expected: \
         something other than this run (an edit by hand, another tool, or a stamp that did not wait \
         for the migration lock) changed the history table meanwhile. {}",
        write.consequence(revision)
    )]
    HistoryWriteMismatch {
        /// The revision whose row it was.
        revision: String,
        /// Which write it was.
        write: HistoryWrite,
        /// The rows it changed.
        rows: u64,
    },

    /// The connection died while a revision ran, so whether it took effect
    /// was not known when it died; the history was read again on a new
    /// connection to find out.
    #[error(
        "the connection to the database was lost while {} revision `{revision}` ({file}): {source}; \
         this is a connection problem, not a problem of the file. {}",
        if *.upgrade { "applying" } else { "reverting" },
        .outcome.explain(revision, *.upgrade)
    )]
    ConnectionLost {
        /// The revision id.
        revision: String,
        /// Its file.
        file: String,
        /// Whether it was being applied rather than reverted.
        upgrade: bool,
        /// What the history, read again, says happened.
        outcome: LostOutcome,
        /// The error the connection failed with.
        source: Box<Error>,
    },

    /// The database did not answer one of the runner's own statements
    /// (not a revision's SQL, which may take as long as it takes) within
    /// the I/O timeout: the network or the server is down or stuck.
    #[error(
        "the database did not answer within {waited:?} while {what}: the network to it or the server \
         is down or stuck; the run stopped and closed its connection{}. Check that the database is \
         reachable and run again (the limit is `io_timeout` in migrate.toml, `Runner::with_io_timeout`)",
        if *.lock_may_be_held {
            "; the server frees the migration lock once it notices the connection is gone"
        } else {
            ""
        }
    )]
    IoTimeout {
        /// What the runner was waiting for.
        what: IoWait,
        /// How long it waited.
        waited: Duration,
        /// Whether the run held the migration lock.
        lock_may_be_held: bool,
    },

    /// The embedded revisions do not form a valid graph (only possible for
    /// a runner built by hand; `embed_migrations!` checks at compile time).
    #[error("the migrations are invalid:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidMigrations(Vec<migrate_core::LoadError>),

    /// Any other database error (connecting, reading the history, locking).
    #[error("database error: {}", database_said(.0))]
    Database(#[from] sqlx::Error),
}

impl Error {
    /// Whether the connection died or stopped answering, so that what the
    /// statement in flight did is unknown on this side: an I/O error, a
    /// protocol error, a closed pool, a timeout of the runner's own, or the
    /// server ending the session (PostgreSQL's `57P0x`, class `08`).
    pub(crate) fn is_connection_lost(&self) -> bool {
        match self {
            Error::IoTimeout { .. } => true,
            Error::Database(err) => connection_lost(err),
            _ => false,
        }
    }
}

/// [`Error::is_connection_lost`] of a database error.
pub(crate) fn connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03") || {
                // MariaDB's "Connection was killed" (1927) and the client's
                // "server has gone away" / "lost connection" (2006, 2013).
                #[cfg(feature = "mysql")]
                {
                    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                        .is_some_and(|my| matches!(my.number(), 1927 | 2006 | 2013))
                }
                #[cfg(not(feature = "mysql"))]
                false
            }
        }
        _ => false,
    }
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

/// A write to the history table, named in [`Error::HistoryWriteMismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryWrite {
    /// The pending row written before a revision's SQL.
    RecordPending,
    /// The pending row marked applied after it.
    MarkApplied,
    /// An applied row marked reverting before the down SQL.
    MarkReverting,
    /// The row deleted after the down SQL.
    ForgetReverted,
    /// A row written or deleted by a stamp (rolled back on a mismatch).
    Stamp,
    /// A checksum re-recorded by `migrate repair`.
    UpdateChecksum,
}

impl HistoryWrite {
    /// What the mismatch left behind and what to do.
    fn consequence(self, revision: &str) -> String {
        match self {
            HistoryWrite::RecordPending | HistoryWrite::MarkReverting => {
                "None of the revision's SQL ran. Look at the history (`migrate current`, \
                 `migrate history`), correct it with `migrate stamp` if it is wrong, and run again"
                    .to_string()
            }
            HistoryWrite::MarkApplied => format!(
                "The revision's SQL has run and committed, but the history may not record it: \
                 check the database, then run `migrate stamp {revision}` if its changes are there \
                 (or undo them and stamp its parent)"
            ),
            HistoryWrite::ForgetReverted => {
                "The revision's down SQL has run and committed: check the database and record \
                 what is true with `migrate stamp`"
                    .to_string()
            }
            HistoryWrite::Stamp => "The stamp was rolled back, so nothing changed; look at the \
                 history (`migrate current`) and stamp again"
                .to_string(),
            HistoryWrite::UpdateChecksum => {
                "The checksum was not re-recorded; look at the history \
                 (`migrate status`) and run `migrate repair` again"
                    .to_string()
            }
        }
    }
}

impl std::fmt::Display for HistoryWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HistoryWrite::RecordPending => "recording as pending",
            HistoryWrite::MarkApplied => "marking as applied",
            HistoryWrite::MarkReverting => "marking as reverting",
            HistoryWrite::ForgetReverted => "deleting the row of reverted",
            HistoryWrite::Stamp => "stamping",
            HistoryWrite::UpdateChecksum => "re-recording the checksum of",
        })
    }
}

/// What the history, read on a new connection, says about a revision
/// whose connection died while it ran ([`Error::ConnectionLost`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LostOutcome {
    /// It committed before the connection died.
    Committed,
    /// It was rolled back: nothing of it stayed.
    RolledBack,
    /// It runs outside a transaction (or MySQL committed its DDL) and its
    /// history row is left pending or reverting: part of it may have
    /// taken effect.
    HalfApplied,
    /// The history could not be read: the outcome is still unknown.
    Unknown(String),
}

impl LostOutcome {
    fn explain(&self, revision: &str, upgrade: bool) -> String {
        let done = if upgrade { "applied" } else { "reverted" };
        match self {
            LostOutcome::Committed => format!(
                "Read again on a new connection, the history shows that it committed before the \
                 connection died: `{revision}` is {done}. Run again once the connection is back \
                 for whatever is left"
            ),
            LostOutcome::RolledBack => format!(
                "Read again on a new connection, the history shows that it was rolled back: \
                 `{revision}` is not {done}, and nothing of it stayed. Run again once the \
                 connection is back"
            ),
            LostOutcome::HalfApplied => format!(
                "Read again on a new connection, the history shows `{revision}` left {}: it runs \
                 outside a transaction (or its DDL committed on its own), so part of it may have \
                 taken effect. Inspect the database; the next run refuses and says which \
                 `migrate stamp` records what you find",
                if upgrade { "pending" } else { "reverting" }
            ),
            LostOutcome::Unknown(why) => format!(
                "Whether it took effect is unknown: reading the history on a new connection \
                 failed too ({why}). Once the database is reachable, `migrate current` tells \
                 whether `{revision}` is {done}; then run again"
            ),
        }
    }
}

/// What the runner waited for when an [`Error::IoTimeout`] struck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IoWait {
    /// Reading the history table.
    HistoryRead,
    /// Writing the history table.
    HistoryWrite,
    /// Taking the migration lock (beyond the lock timeout itself).
    Lock,
    /// Releasing the lock.
    Unlock,
    /// Preparing or restoring the session (settings, transaction
    /// boundaries).
    Session,
    /// Checking, from a second connection, that the server still runs a
    /// revision's long SQL (the revision's own wait is not bounded).
    Watch,
}

impl std::fmt::Display for IoWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IoWait::HistoryRead => "reading the history table",
            IoWait::HistoryWrite => "writing the history table",
            IoWait::Lock => "taking the migration lock",
            IoWait::Unlock => "releasing the migration lock",
            IoWait::Session => "setting up or ending the run's session",
            IoWait::Watch => {
                "a revision's SQL ran, checking from a second connection that the server still runs it"
            }
        })
    }
}

/// For statements a database refuses to run in a transaction block
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `ALTER TYPE ... ADD VALUE` on
/// older servers): the header line that fixes it.
/// The database's own words for an error it returned, without sqlx's
/// "error returned from database: " in front (the messages around it
/// already say where the error came from); other errors as sqlx says them.
fn database_said(source: &sqlx::Error) -> String {
    match source {
        sqlx::Error::Database(err) => err.to_string(),
        other => other.to_string(),
    }
}

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
