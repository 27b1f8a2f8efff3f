//! A schema as a sorted list of one-line descriptions (`table users`,
//! `column users.phone varchar(20)`, `index ...`), read from the catalog:
//! enough for an equality check with a readable difference, and small
//! enough that the runtime needs no schema model of its own (the CLI's
//! migrate-schema is never compiled into an application).

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::collections::BTreeSet;
use std::future::Future;

use sqlx::Pool;

use crate::Backend;

/// A database whose schema can be listed: implemented for `sqlx::Sqlite`,
/// `sqlx::Postgres` and `sqlx::MySql`, each behind its feature.
pub trait SchemaSnapshot: Backend {
    /// Lists tables, columns (type, `NOT NULL`, default), indexes,
    /// constraints (CHECK with its expression), foreign keys, views,
    /// triggers and routines (with a digest of the body), and on
    /// PostgreSQL types, sequences, policies, schemas and extensions; the
    /// history table `history_table` (its last dotted part) is left out.
    fn snapshot<'a>(
        pool: &'a Pool<Self>,
        history_table: &'a str,
    ) -> impl Future<Output = Result<Snapshot, sqlx::Error>> + Send + 'a;
}

/// A schema, one sorted line per object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    lines: BTreeSet<String>,
}

impl Snapshot {
    /// A snapshot of these lines.
    pub fn new(lines: impl IntoIterator<Item = String>) -> Snapshot {
        Snapshot {
            lines: lines.into_iter().collect(),
        }
    }

    /// The lines, sorted.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }

    /// What `self` has that `expected` lacks (`+ line`) and what it lacks
    /// (`- line`); empty when they are the same.
    pub fn differences(&self, expected: &Snapshot) -> Vec<String> {
        let extra = self
            .lines
            .difference(&expected.lines)
            .map(|line| format!("+ {line}"));
        let missing = expected
            .lines
            .difference(&self.lines)
            .map(|line| format!("- {line}"));
        extra.chain(missing).collect()
    }
}

/// `text` as an SQL string literal: the history table's name goes into
/// the catalog queries, which take no parameters on every protocol alike.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The last dotted part of the history table's name.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn table_name(history_table: &str) -> &str {
    history_table.rsplit('.').next().unwrap_or(history_table)
}
