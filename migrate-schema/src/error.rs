//! The one error type of the crate: what happened, and what to do next.

use std::fmt;

/// A failure to read, build, compare or render a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// What happened, naming the file and line where there is one.
    pub message: String,
    /// What to do next, where there is advice.
    pub hint: Option<String>,
    /// The configuration is at fault (a development URL naming a database
    /// in use), not the database: the CLI exits 2 for it, as for any
    /// configuration error, rather than 3.
    pub configuration: bool,
}

impl SchemaError {
    /// An error without advice.
    pub fn new(message: impl Into<String>) -> Self {
        SchemaError {
            message: message.into(),
            hint: None,
            configuration: false,
        }
    }

    /// Marks the error as the configuration's.
    pub fn configuration(mut self) -> Self {
        self.configuration = true;
        self
    }

    /// Adds what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SchemaError {}

/// A database error while reading a catalog or building a scratch schema.
pub fn database(what: &str, err: &sqlx::Error) -> SchemaError {
    let reason = match err {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    SchemaError::new(format!("{what}: {reason}"))
}
