//! From a diff to statements, per dialect, and the up and down sections of
//! a revision. Each dialect orders its statements so that nothing refers
//! to what does not exist yet: renames, then drops (foreign keys, indexes,
//! constraints, tables), then creates (types, tables in dependency order),
//! column changes, indexes, and foreign keys last.

mod mysql;
mod order;
mod postgres;
pub mod review;
mod sql;
mod sqlite;

use migrate_core::Dialect;

use crate::diff::{diff, SchemaDiff};
use crate::error::SchemaError;
use crate::model::Schema;
use crate::renames::Renames;

pub use sql::ident;

/// `a, b` quoted for MySQL, as its catalog reader writes index columns.
pub fn ident_list_mysql(names: &[String]) -> String {
    sql::ident_list(Dialect::MySql, names)
}

/// One statement, with what a reviewer must check, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The SQL, without a `;`.
    pub sql: String,
    /// What the statement risks and what to check, one note a line.
    pub reviews: Vec<String>,
}

impl Step {
    fn plain(sql: impl Into<String>) -> Step {
        Step {
            sql: sql.into(),
            reviews: Vec::new(),
        }
    }

    fn flagged(sql: impl Into<String>, review: impl Into<String>) -> Step {
        Step {
            sql: sql.into(),
            reviews: vec![review.into()],
        }
    }
}

/// The two sections of a generated revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// What the schema differs in, `from` to `to`.
    pub diff: SchemaDiff,
    /// From `from` to `to`.
    pub up: Vec<Step>,
    /// From `to` back to `from`.
    pub down: Vec<Step>,
}

impl Migration {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.diff.is_empty()
    }
}

/// The statements that turn `from` into `to` and back.
pub fn plan(
    dialect: Dialect,
    from: &Schema,
    to: &Schema,
    renames: &Renames,
) -> Result<Migration, SchemaError> {
    let forward = diff(from, to, renames);
    let backward = diff(
        &with_triggers_of(to, from, renames),
        from,
        &renames.inverted(),
    );
    Ok(Migration {
        up: render(dialect, &forward)?,
        down: render(dialect, &backward)?,
        diff: forward,
    })
}

/// `to` with the SQLite triggers of `from`'s tables: triggers are not
/// declared, so the up section keeps them (a rebuild recreates them), and
/// the down section's rebuilds must recreate them too.
fn with_triggers_of(to: &Schema, from: &Schema, renames: &Renames) -> Schema {
    let mut to = to.clone();
    for table in &mut to.tables {
        let old_name = renames
            .tables
            .iter()
            .find(|(_, new)| *new == table.name)
            .map_or(table.name.as_str(), |(old, _)| old.as_str());
        let triggers = from
            .table(old_name)
            .or_else(|| from.table(&table.name))
            .and_then(|t| t.sqlite.as_ref())
            .map(|s| s.triggers.clone());
        if let (Some(stored), Some(triggers)) = (&mut table.sqlite, triggers) {
            stored.triggers = triggers;
        }
    }
    to
}

/// The statements of one diff.
pub fn render(dialect: Dialect, diff: &SchemaDiff) -> Result<Vec<Step>, SchemaError> {
    match dialect {
        Dialect::Sqlite => sqlite::render(diff),
        Dialect::Postgres => postgres::render(diff),
        Dialect::MySql => mysql::render(diff),
    }
}

/// The DDL that creates `schema` in an empty database (`migrate schema dump`).
pub fn create_all(dialect: Dialect, schema: &Schema) -> Result<Vec<Step>, SchemaError> {
    render(
        dialect,
        &diff(&Schema::default(), schema, &Renames::default()),
    )
}

/// Statements as the text of a section: each ends with `;`, a flagged one
/// follows its `-- REVIEW:` comment after a blank line.
pub fn section_text(steps: &[Step]) -> String {
    let mut text = String::new();
    for step in steps {
        if !step.reviews.is_empty() && !text.is_empty() {
            text.push('\n');
        }
        for review in &step.reviews {
            text.push_str(&format!("-- REVIEW: {review}\n"));
        }
        text.push_str(&step.sql);
        text.push_str(";\n");
    }
    text
}
