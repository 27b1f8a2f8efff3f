//! SQLite. `ALTER TABLE` renames tables and columns, adds a column without
//! a constraint or a non-constant default, and drops a column nothing
//! refers to; every other change rebuilds the table: create it under a
//! temporary name from the declared `CREATE TABLE`, copy every row,
//! drop the old table, rename the new one, recreate indexes and triggers.
//! The runner switches foreign keys off for the run (so dropping a parent
//! does not delete its children) and runs `foreign_key_check` at the end
//! of the revision.

use migrate_core::Dialect;

use crate::diff::{SchemaDiff, TableDiff};
use crate::error::SchemaError;
use crate::introspect::text;
use crate::model::{Column, Table};
use crate::render::order::{creation_order, drop_order};
use crate::render::review;
use crate::render::sql::ident;
use crate::render::Step;

const D: Dialect = Dialect::Sqlite;

pub fn render(diff: &SchemaDiff) -> Result<Vec<Step>, SchemaError> {
    let mut steps = Vec::new();
    for (old, new) in &diff.tables_renamed {
        steps.push(Step::plain(format!(
            "ALTER TABLE {} RENAME TO {}",
            ident(D, old),
            ident(D, new)
        )));
    }
    for table in &diff.tables_changed {
        for (old, new) in &table.columns_renamed {
            steps.push(Step::plain(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                ident(D, table.name()),
                ident(D, old),
                ident(D, new)
            )));
        }
    }
    let plans: Vec<(&TableDiff, Vec<String>)> = diff
        .tables_changed
        .iter()
        .map(|t| (t, rebuild_reasons(t)))
        .collect();
    for (table, reasons) in &plans {
        if reasons.is_empty() {
            for index in table
                .indexes
                .dropped
                .iter()
                .chain(table.indexes.renamed.iter().map(|(from, _)| from))
            {
                steps.push(Step::plain(format!("DROP INDEX {}", ident(D, &index.name))));
            }
        }
    }
    for table in drop_order(&diff.tables_dropped) {
        steps.push(Step::flagged(
            format!("DROP TABLE {}", ident(D, &table.name)),
            review::drop_table(&table.name),
        ));
    }
    let (created, _) = creation_order(&diff.tables_created);
    for table in &created {
        steps.push(Step::plain(stored_create(table)?));
    }
    for (table, reasons) in &plans {
        if reasons.is_empty() {
            alter_in_place(table, &mut steps);
        } else {
            rebuild(table, reasons, &mut steps)?;
        }
    }
    for table in &created {
        for index in &table.indexes {
            steps.push(Step::plain(stored_index(index)?));
        }
    }
    for (table, reasons) in &plans {
        if reasons.is_empty() {
            for index in table
                .indexes
                .added
                .iter()
                .chain(table.indexes.renamed.iter().map(|(_, to)| to))
            {
                let step = stored_index(index)?;
                steps.push(if index.unique {
                    Step::flagged(step, review::unique(table.name(), &index.definition))
                } else {
                    Step::plain(step)
                });
            }
        }
    }
    Ok(steps)
}

fn stored_create(table: &Table) -> Result<String, SchemaError> {
    table
        .sqlite
        .as_ref()
        .map(|s| s.create.clone())
        .ok_or_else(|| SchemaError::new(format!("no stored CREATE TABLE for {}", table.name)))
}

fn stored_index(index: &crate::model::Index) -> Result<String, SchemaError> {
    index
        .sql
        .clone()
        .ok_or_else(|| SchemaError::new(format!("no stored CREATE INDEX for {}", index.name)))
}

/// Why `ALTER TABLE` cannot make this change; empty when it can.
fn rebuild_reasons(table: &TableDiff) -> Vec<String> {
    let mut reasons = Vec::new();
    for change in &table.columns_changed {
        let mut what = Vec::new();
        if change.type_changed() {
            what.push("type");
        }
        if change.nullability_changed() {
            what.push("nullability");
        }
        if change.default_changed() {
            what.push("default");
        }
        if change.identity_changed() {
            what.push("AUTOINCREMENT");
        }
        reasons.push(format!(
            "change the {} of {}",
            what.join(" and "),
            change.to.name
        ));
    }
    for column in &table.columns_added {
        if let Some(problem) = add_column_problem(&table.to, column) {
            reasons.push(format!("add column {} {problem}", column.name));
        }
    }
    for column in &table.columns_dropped {
        if referenced_in_table(&table.from, &column.name) {
            reasons.push(format!(
                "drop column {}, which a key, index or check uses",
                column.name
            ));
        }
    }
    if table.primary_key.is_some() {
        reasons.push("change the primary key".to_string());
    }
    if !table.uniques.is_empty() {
        reasons.push("add or drop a UNIQUE constraint".to_string());
    }
    if !table.foreign_keys.is_empty() {
        reasons.push("add, change or drop a foreign key".to_string());
    }
    if !table.checks.is_empty() {
        reasons.push("add or drop a CHECK constraint".to_string());
    }
    reasons
}

/// Why `ALTER TABLE ADD COLUMN` cannot add this column, if it cannot.
fn add_column_problem(table: &Table, column: &Column) -> Option<&'static str> {
    let in_key = table
        .primary_key
        .iter()
        .chain(&table.uniques)
        .any(|k| k.columns.contains(&column.name));
    if in_key || column.identity.is_some() {
        return Some("that is part of a key");
    }
    match &column.default {
        Some(default) if !is_constant(default) => Some("with a non-constant default"),
        Some(default) if !column.nullable && default == "NULL" => {
            Some("NOT NULL without a default")
        }
        None if !column.nullable => Some("NOT NULL without a default"),
        _ => None,
    }
}

/// A literal `ALTER TABLE ADD COLUMN` accepts as a default.
fn is_constant(default: &str) -> bool {
    let number = default.trim_start_matches(['-', '+']);
    (default.starts_with('\'') && default.ends_with('\'') && default.len() >= 2)
        || default == "NULL"
        || (!number.is_empty() && number.parse::<f64>().is_ok())
}

/// Whether a column takes part in a key, an index or a check of the table.
fn referenced_in_table(table: &Table, column: &str) -> bool {
    let name = column.to_string();
    table
        .primary_key
        .iter()
        .chain(&table.uniques)
        .any(|k| k.columns.contains(&name))
        || table
            .foreign_keys
            .iter()
            .any(|fk| fk.columns.contains(&name))
        || table
            .indexes
            .iter()
            .any(|i| text::has_word(i.sql.as_deref().unwrap_or(&i.definition), column))
        || table
            .checks
            .iter()
            .any(|c| text::has_word(&c.expression, column))
}

fn alter_in_place(table: &TableDiff, steps: &mut Vec<Step>) {
    let name = ident(D, table.name());
    for column in &table.columns_added {
        let mut definition = format!("ALTER TABLE {name} ADD COLUMN {}", ident(D, &column.name));
        if !column.data_type.is_empty() {
            definition.push_str(&format!(" {}", column.data_type));
        }
        if !column.nullable {
            definition.push_str(" NOT NULL");
        }
        if let Some(default) = &column.default {
            definition.push_str(&format!(" DEFAULT {default}"));
        }
        steps.push(Step::plain(definition));
    }
    for column in &table.columns_dropped {
        steps.push(Step::flagged(
            format!("ALTER TABLE {name} DROP COLUMN {}", ident(D, &column.name)),
            review::drop_column(table.name(), &column.name),
        ));
    }
}

/// The copy-and-rename procedure of <https://sqlite.org/lang_altertable.html>.
fn rebuild(
    table: &TableDiff,
    reasons: &[String],
    steps: &mut Vec<Step>,
) -> Result<(), SchemaError> {
    let name = table.name();
    let temporary = format!("_migrate_new_{name}");
    let create = stored_create(&table.to)?;
    let create = rename_created_table(&create, &ident(D, &temporary)).ok_or_else(|| {
        SchemaError::new(format!(
            "cannot read the table name in the stored CREATE TABLE of {name}"
        ))
    })?;
    let mut notes = vec![review::rebuild(name, reasons)];
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for column in &table.to.columns {
        let Some(existing) = table.from.column(&column.name) else {
            if !column.nullable && column.default.is_none() {
                notes.push(review::not_null_without_default(name, &column.name));
            }
            continue;
        };
        targets.push(ident(D, &column.name));
        let source = ident(D, &column.name);
        sources.push(match &column.default {
            Some(default) if existing.nullable && !column.nullable => {
                notes.push(review::not_null(name, &column.name, Some(default)));
                format!("COALESCE({source}, {default})")
            }
            _ => {
                if existing.nullable && !column.nullable {
                    notes.push(review::not_null(name, &column.name, None));
                }
                source
            }
        });
    }
    for change in &table.columns_changed {
        if let Some(note) = review::type_change(name, change) {
            notes.push(note);
        }
    }
    for column in &table.columns_dropped {
        notes.push(review::drop_column(name, &column.name));
    }
    if let Some((from, to)) = &table.primary_key {
        notes.push(review::primary_key(name, from.as_ref(), to.as_ref()));
    }
    for key in &table.uniques.added {
        notes.push(review::unique(name, &key.columns.join(", ")));
    }
    for fk in &table.foreign_keys.added {
        notes.push(review::foreign_key(name, fk));
    }
    for index in table.indexes.added.iter().filter(|i| i.unique) {
        notes.push(review::unique(name, &index.definition));
    }
    for check in &table.checks.added {
        notes.push(review::check(
            name,
            &format!("CHECK ({})", check.expression),
        ));
    }
    steps.push(Step {
        sql: create,
        reviews: notes,
    });
    steps.push(Step::plain(format!(
        "INSERT INTO {} ({})\nSELECT {} FROM {}",
        ident(D, &temporary),
        targets.join(", "),
        sources.join(", "),
        ident(D, name)
    )));
    steps.push(Step::plain(format!("DROP TABLE {}", ident(D, name))));
    steps.push(Step::plain(format!(
        "ALTER TABLE {} RENAME TO {}",
        ident(D, &temporary),
        ident(D, name)
    )));
    for index in &table.to.indexes {
        steps.push(Step::plain(stored_index(index)?));
    }
    if let Some(stored) = &table.from.sqlite {
        for trigger in &stored.triggers {
            steps.push(Step::plain(trigger.clone()));
        }
    }
    Ok(())
}

/// `CREATE TABLE <name> (...)` with another name.
fn rename_created_table(create: &str, new_name: &str) -> Option<String> {
    let upper = create.to_ascii_uppercase();
    let after_table = upper.find("TABLE")? + "TABLE".len();
    let rest = &create[after_table..];
    let start = after_table + (rest.len() - rest.trim_start().len());
    let bytes = create.as_bytes();
    let mut end = start;
    loop {
        match bytes.get(end)? {
            b'"' | b'`' | b'[' => {
                let close = if bytes[end] == b'[' { b']' } else { bytes[end] };
                end += 1 + create[end + 1..].find(close as char)? + 1;
            }
            _ => {
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
            }
        }
        if bytes.get(end) == Some(&b'.') {
            end += 1;
            continue;
        }
        break;
    }
    (end > start).then(|| format!("{}{new_name}{}", &create[..start], &create[end..]))
}

#[cfg(test)]
mod tests {
    use super::rename_created_table;

    #[test]
    fn the_created_name_is_replaced() {
        assert_eq!(
            rename_created_table("CREATE TABLE users (id int)", "\"x\"").unwrap(),
            "CREATE TABLE \"x\" (id int)"
        );
        assert_eq!(
            rename_created_table("CREATE TABLE \"my users\"(id int)", "x").unwrap(),
            "CREATE TABLE x(id int)"
        );
    }
}
