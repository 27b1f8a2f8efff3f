//! The CLI's one error type: lines to print and the exit code they mean.
//! Every library error is turned into one of these in one place, so each
//! kind of failure has one exit code whatever verb hit it.

use migrate_core::{LoadError, PlanError};

/// The exit codes `migrate --help` documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything went as asked.
    Ok = 0,
    /// `migrate check` found differences.
    Differences = 1,
    /// Usage, configuration, migration files or an unresolvable target.
    Usage = 2,
    /// The database: unreachable, a statement failed, the lock timed out.
    Database = 3,
    /// The database's history does not match the migrations.
    History = 4,
    /// Ctrl-C (SIGINT): 128 + 2, as a shell reports it.
    Interrupted = 130,
    /// SIGTERM: 128 + 15.
    Terminated = 143,
}

/// A failure: one or more `error:` lines, optional `hint:` lines, and an
/// exit code.
#[derive(Debug, Clone)]
pub struct CliError {
    /// Which exit code.
    pub exit: Exit,
    /// One message per line, each printed as `error: ...`.
    pub errors: Vec<String>,
    /// Lines of a migration file, printed as they are under the errors
    /// (`  14 | ALTER TABLE ...`).
    pub quote: Vec<String>,
    /// What to do next, each printed as `hint: ...`.
    pub hints: Vec<String>,
}

/// What every command returns.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// One error line.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            errors: vec![one_line(&message.into())],
            quote: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// A usage or configuration error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(Exit::Usage, message)
    }

    /// Adds a `hint:` line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

/// Messages must stay one line each: a database's error text sometimes
/// carries newlines, which would read as separate, unprefixed errors.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub use migrate_core::load::io_reason;

impl From<Vec<LoadError>> for CliError {
    /// The directory's problems, one per line, as `load_dir` (and so the
    /// compiler) reports them.
    fn from(errors: Vec<LoadError>) -> Self {
        CliError {
            exit: Exit::Usage,
            errors: errors.iter().map(|e| one_line(&e.to_string())).collect(),
            quote: Vec::new(),
            hints: Vec::new(),
        }
    }
}

impl From<PlanError> for CliError {
    fn from(err: PlanError) -> Self {
        let hint = match &err {
            PlanError::UnknownRevision { .. } => Some("`migrate history` lists the revisions"),
            PlanError::MultipleHeads { .. } => Some("`migrate heads` shows them"),
            _ => None,
        };
        let error = CliError::usage(err.to_string());
        match hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

impl From<migrate_runtime::Error> for CliError {
    fn from(err: migrate_runtime::Error) -> Self {
        use migrate_runtime::Error as E;
        match err {
            E::Plan(plan) => plan.into(),
            E::InvalidMigrations(errors) => errors.into(),
            E::InvalidHistoryTable(message) => CliError::usage(message),
            E::UnknownRevisions { .. } => CliError::new(Exit::History, err.to_string()).hint(
                "`migrate stamp <rev> --purge` forgets them, once you know the schema matches <rev>",
            ),
            E::ChecksumMismatch { .. }
            | E::HalfApplied { .. }
            | E::InconsistentHistory { .. }
            | E::HistoryWriteMismatch { .. } => CliError::new(Exit::History, err.to_string()),
            E::Database(source) => database_error(&source),
            E::RevisionFailed {
                location: Some(ref location),
                ..
            } => {
                // The message ends with the quoted lines: they go under the
                // one error line as they are, not joined into it.
                let quote = location.quote();
                let message = err.to_string();
                let summary = message.strip_suffix(&quote).unwrap_or(&message);
                let mut error = CliError::new(Exit::Database, summary);
                error.quote = quote.lines().map(str::to_string).collect();
                error
            }
            other => CliError::new(Exit::Database, other.to_string()),
        }
    }
}

/// A database error met after connecting.
pub fn database_error(err: &sqlx::Error) -> CliError {
    let message = match err {
        sqlx::Error::Database(db) => format!("the database said: {}", db.message()),
        sqlx::Error::Io(io) => format!("lost the connection to the database: {}", io_reason(io)),
        other => format!("database error: {other}"),
    };
    CliError::new(Exit::Database, message)
}

impl From<serde_json::Error> for CliError {
    fn from(err: serde_json::Error) -> Self {
        CliError::new(Exit::Usage, format!("cannot write JSON: {err}"))
    }
}
