//! What the lint reports: findings, statements it could not read, and
//! mistakes in the opt-outs themselves.

use std::fmt;

use crate::rules::{Rule, Severity};

/// A statement a rule fired on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The migration file, as messages name it.
    pub file: String,
    /// The statement's first line in the file.
    pub line: usize,
    /// The rule.
    pub rule: Rule,
    /// What the statement does (`drops column users.email`).
    pub message: String,
}

impl Finding {
    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
}

impl fmt::Display for Finding {
    /// `migrations/x.sql:12: warning[drop-column]: drops column users.email: <why>`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}[{}]: {}: {}",
            self.file,
            self.line,
            self.severity().name(),
            self.rule.id(),
            self.message,
            self.rule.explanation()
        )
    }
}

/// A statement the SQL parser cannot read: no rule looked at it, so it is
/// neither safe nor unsafe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotChecked {
    /// The migration file.
    pub file: String,
    /// The statement's first line.
    pub line: usize,
    /// The parser's reason.
    pub reason: String,
}

impl fmt::Display for NotChecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: note: not checked: the SQL parser cannot read this statement ({}); review it by hand",
            self.file, self.line, self.reason
        )
    }
}

/// A mistake in a `-- migrate:allow` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The migration file.
    pub file: String,
    /// The comment's line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The lint of one revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The findings, in file order.
    pub findings: Vec<Finding>,
    /// The statements no rule could look at, in file order.
    pub not_checked: Vec<NotChecked>,
}
