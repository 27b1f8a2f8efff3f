//! The rules: each has a stable id (what `-- migrate:allow` and
//! `lint.allow` name), a severity and the one line that says why it fires.

use migrate_core::suggest::closest;

/// How sure a finding is to hurt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Dangerous on a live database, but maybe intended.
    Warning,
    /// Certain to fail when it runs.
    Error,
}

impl Severity {
    /// `warning` or `error`, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `DROP TABLE` of an existing table.
    DropTable,
    /// `ALTER TABLE ... DROP COLUMN` on an existing table.
    DropColumn,
    /// `ADD COLUMN ... NOT NULL` without a default, on an existing table.
    AddColumnNotNullWithoutDefault,
    /// PostgreSQL `ALTER COLUMN ... SET NOT NULL` on an existing table.
    SetNotNull,
    /// PostgreSQL `CREATE INDEX` without `CONCURRENTLY` on an existing table.
    IndexWithoutConcurrently,
    /// PostgreSQL `CONCURRENTLY` in a revision that runs in a transaction.
    ConcurrentlyInTransaction,
    /// PostgreSQL foreign key added to an existing table without `NOT VALID`.
    ForeignKeyWithoutNotValid,
    /// A unique index or constraint added to an existing table.
    UniqueOnExistingTable,
    /// A column's type changed.
    ColumnTypeChange,
    /// A column renamed.
    RenameColumn,
    /// A table renamed.
    RenameTable,
    /// PostgreSQL column added to an existing table with a volatile default.
    VolatileDefault,
}

impl Rule {
    /// Every rule, in the order the README lists them.
    pub const ALL: [Rule; 12] = [
        Rule::DropTable,
        Rule::DropColumn,
        Rule::AddColumnNotNullWithoutDefault,
        Rule::SetNotNull,
        Rule::IndexWithoutConcurrently,
        Rule::ConcurrentlyInTransaction,
        Rule::ForeignKeyWithoutNotValid,
        Rule::UniqueOnExistingTable,
        Rule::ColumnTypeChange,
        Rule::RenameColumn,
        Rule::RenameTable,
        Rule::VolatileDefault,
    ];

    /// The stable id, as written in `-- migrate:allow` and printed in
    /// `warning[<id>]`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::DropTable => "drop-table",
            Rule::DropColumn => "drop-column",
            Rule::AddColumnNotNullWithoutDefault => "add-column-not-null-without-default",
            Rule::SetNotNull => "set-not-null",
            Rule::IndexWithoutConcurrently => "index-without-concurrently",
            Rule::ConcurrentlyInTransaction => "concurrently-in-transaction",
            Rule::ForeignKeyWithoutNotValid => "foreign-key-without-not-valid",
            Rule::UniqueOnExistingTable => "unique-on-existing-table",
            Rule::ColumnTypeChange => "column-type-change",
            Rule::RenameColumn => "rename-column",
            Rule::RenameTable => "rename-table",
            Rule::VolatileDefault => "volatile-default",
        }
    }

    /// Why the rule fires, in one line.
    pub fn explanation(self) -> &'static str {
        match self {
            Rule::DropTable => {
                "its data is lost, and the running version of the application may still use it"
            }
            Rule::DropColumn => {
                "its data is lost, and the running version of the application may still read it"
            }
            Rule::AddColumnNotNullWithoutDefault => {
                "fails on a table that has rows; add a default, or add the column nullable, \
                 backfill it, then set NOT NULL"
            }
            Rule::SetNotNull => {
                "scans the whole table under an ACCESS EXCLUSIVE lock; add a \
                 CHECK (col IS NOT NULL) NOT VALID constraint and VALIDATE it first"
            }
            Rule::IndexWithoutConcurrently => {
                "blocks writes to the table while the index builds; use CREATE INDEX \
                 CONCURRENTLY in a `-- transaction: false` revision"
            }
            Rule::ConcurrentlyInTransaction => {
                "PostgreSQL refuses CONCURRENTLY inside a transaction block: add \
                 `-- transaction: false` to the header"
            }
            Rule::ForeignKeyWithoutNotValid => {
                "checks every row while locking both tables; add it NOT VALID, then \
                 VALIDATE CONSTRAINT in a later revision"
            }
            Rule::UniqueOnExistingTable => {
                "fails if existing rows have duplicates, and builds an index under a lock"
            }
            Rule::ColumnTypeChange => {
                "may rewrite the whole table under an exclusive lock, and can break the \
                 running version of the application"
            }
            Rule::RenameColumn => {
                "breaks the running version of the application, which still uses the old name"
            }
            Rule::RenameTable => {
                "breaks the running version of the application, which still uses the old name"
            }
            Rule::VolatileDefault => {
                "a volatile default rewrites the whole table under an exclusive lock; add the \
                 column without it, then set the default and backfill"
            }
        }
    }

    /// How sure the finding is to hurt.
    pub fn severity(self) -> Severity {
        match self {
            Rule::ConcurrentlyInTransaction => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.id() == id)
    }

    /// What to say about an id no rule has: the closest id, or every id.
    pub fn unknown_id_message(id: &str) -> String {
        match closest(id, Rule::ALL.iter().map(|rule| rule.id())) {
            Some(meant) => format!("unknown lint rule `{id}`: did you mean `{meant}`?"),
            None => format!(
                "unknown lint rule `{id}`; the rules are: {}",
                Rule::ALL.map(Rule::id).join(", ")
            ),
        }
    }
}
