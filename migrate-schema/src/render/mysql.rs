//! MySQL and MariaDB. Each DDL statement commits on its own, so the CLI
//! adds a review note to a revision of several statements.

use migrate_core::Dialect;

use crate::diff::{ColumnChange, SchemaDiff, TableDiff};
use crate::error::SchemaError;
use crate::model::{Column, ForeignKey, Identity, Index, Table};
use crate::render::order::{creation_order, drop_order};
use crate::render::review;
use crate::render::sql::{actions, ident, ident_list};
use crate::render::Step;

const D: Dialect = Dialect::MySql;

fn q(name: &str) -> String {
    ident(D, name)
}

pub fn render(diff: &SchemaDiff) -> Result<Vec<Step>, SchemaError> {
    let mut steps = Vec::new();
    for (old, new) in &diff.tables_renamed {
        steps.push(Step::plain(format!(
            "ALTER TABLE {} RENAME TO {}",
            q(old),
            q(new)
        )));
    }
    for table in &diff.tables_changed {
        let t = q(table.name());
        for (old, new) in &table.columns_renamed {
            steps.push(Step::plain(format!(
                "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                q(old),
                q(new)
            )));
        }
        for (from, to) in &table.indexes.renamed {
            steps.push(Step::plain(format!(
                "ALTER TABLE {t} RENAME INDEX {} TO {}",
                q(&from.name),
                q(&to.name)
            )));
        }
    }

    // Drops: foreign keys (a renamed one is dropped and added: MySQL cannot
    // rename it), indexes, checks, primary keys, then tables.
    for table in &diff.tables_changed {
        let dropped = table
            .foreign_keys
            .dropped
            .iter()
            .chain(table.foreign_keys.renamed.iter().map(|(from, _)| from));
        for fk in dropped {
            steps.push(drop_foreign_key(table.name(), fk));
        }
    }
    for table in &diff.tables_dropped {
        for fk in &table.foreign_keys {
            let into_dropped = fk.ref_table != table.name
                && diff.tables_dropped.iter().any(|t| t.name == fk.ref_table);
            if into_dropped {
                steps.push(drop_foreign_key(&table.name, fk));
            }
        }
    }
    for table in &diff.tables_changed {
        let t = q(table.name());
        for index in &table.indexes.dropped {
            steps.push(Step::plain(format!("DROP INDEX {} ON {t}", q(&index.name))));
        }
        let checks = table
            .checks
            .dropped
            .iter()
            .chain(table.checks.renamed.iter().map(|(from, _)| from));
        for check in checks {
            steps.push(Step::plain(format!(
                "ALTER TABLE {t} DROP CONSTRAINT {}",
                q(check.name.as_deref().unwrap_or_default())
            )));
        }
        if let Some((Some(_), _)) = &table.primary_key {
            steps.push(Step::plain(format!("ALTER TABLE {t} DROP PRIMARY KEY")));
        }
    }
    for table in drop_order(&diff.tables_dropped) {
        steps.push(Step::flagged(
            format!("DROP TABLE {}", q(&table.name)),
            review::drop_table(&table.name),
        ));
    }

    let (created, deferred) = creation_order(&diff.tables_created);
    for table in &created {
        steps.push(Step::plain(create_table(table, &deferred)));
    }
    for table in &diff.tables_changed {
        column_changes(table, &mut steps);
    }
    for table in &diff.tables_changed {
        let t = q(table.name());
        if let Some((from, Some(to))) = &table.primary_key {
            steps.push(Step::flagged(
                format!(
                    "ALTER TABLE {t} ADD PRIMARY KEY ({})",
                    ident_list(D, &to.columns)
                ),
                review::primary_key(table.name(), from.as_ref(), Some(to)),
            ));
        }
        let checks = table
            .checks
            .added
            .iter()
            .chain(table.checks.renamed.iter().map(|(_, to)| to));
        for check in checks {
            steps.push(Step::flagged(
                format!("ALTER TABLE {t} ADD {}", check_clause(check)),
                review::check(table.name(), &check.expression),
            ));
        }
        for index in &table.indexes.added {
            let sql = format!(
                "CREATE {} ON {t} {}",
                index_kind(index),
                index_columns(index)
            );
            steps.push(if index.unique {
                Step::flagged(sql, review::unique(table.name(), &index.definition))
            } else {
                Step::plain(sql)
            });
        }
    }
    for (table, fk) in &deferred {
        steps.push(Step::plain(format!(
            "ALTER TABLE {} ADD {}",
            q(&table.name),
            fk_clause(fk)
        )));
    }
    for table in &diff.tables_changed {
        let added = table
            .foreign_keys
            .added
            .iter()
            .chain(table.foreign_keys.renamed.iter().map(|(_, to)| to));
        for fk in added {
            steps.push(Step::flagged(
                format!("ALTER TABLE {} ADD {}", q(table.name()), fk_clause(fk)),
                review::foreign_key(table.name(), fk),
            ));
        }
    }
    Ok(steps)
}

fn drop_foreign_key(table: &str, fk: &ForeignKey) -> Step {
    Step::plain(format!(
        "ALTER TABLE {} DROP FOREIGN KEY {}",
        q(table),
        q(fk.name.as_deref().unwrap_or_default())
    ))
}

fn check_clause(check: &crate::model::Check) -> String {
    match &check.name {
        Some(name) => format!("CONSTRAINT {} CHECK ({})", q(name), check.expression),
        None => format!("CHECK ({})", check.expression),
    }
}

fn fk_clause(fk: &ForeignKey) -> String {
    let body = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({}){}",
        ident_list(D, &fk.columns),
        q(&fk.ref_table),
        ident_list(D, &fk.ref_columns),
        actions(fk.on_delete, fk.on_update)
    );
    match &fk.name {
        Some(name) => format!("CONSTRAINT {} {body}", q(name)),
        None => body,
    }
}

/// `UNIQUE INDEX name`, `FULLTEXT INDEX name`, `INDEX name`.
fn index_kind(index: &Index) -> String {
    let special = ["FULLTEXT ", "SPATIAL "]
        .into_iter()
        .find(|p| index.definition.starts_with(p))
        .unwrap_or("");
    let unique = if index.unique { "UNIQUE " } else { "" };
    format!("{unique}{special}INDEX {}", q(&index.name))
}

/// The `(...)` of an index definition.
fn index_columns(index: &Index) -> &str {
    index
        .definition
        .find('(')
        .map_or(index.definition.as_str(), |at| &index.definition[at..])
}

/// Everything the column is: `MODIFY COLUMN` replaces the whole
/// definition, so an attribute left out here (a default, `ON UPDATE`, a
/// comment) would be removed by every change to another one.
fn column_definition(column: &Column) -> String {
    let mut text = format!("{} {}", q(&column.name), column.data_type);
    text.push_str(if column.nullable {
        " NULL"
    } else {
        " NOT NULL"
    });
    if let Some(default) = &column.default {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(on_update) = &column.on_update {
        text.push_str(&format!(" ON UPDATE {on_update}"));
    }
    if column.identity == Some(Identity::AutoIncrement) {
        text.push_str(" AUTO_INCREMENT");
    }
    if let Some(comment) = &column.comment {
        text.push_str(&format!(" COMMENT {}", string_literal(comment)));
    }
    text
}

/// A string as a MySQL literal: quotes doubled, and backslashes doubled
/// since MySQL reads them as escapes.
fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

fn create_table(table: &Table, deferred: &[(&Table, &ForeignKey)]) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(column_definition).collect();
    if let Some(key) = &table.primary_key {
        lines.push(format!("PRIMARY KEY ({})", ident_list(D, &key.columns)));
    }
    // Indexes inline: a foreign key would otherwise create an index of
    // its own name first, and a later CREATE INDEX of that name would fail.
    for index in &table.indexes {
        let kind = index_kind(index).replacen("INDEX", "KEY", 1);
        lines.push(format!("{kind} {}", index_columns(index)));
    }
    for check in &table.checks {
        lines.push(check_clause(check));
    }
    for fk in &table.foreign_keys {
        let later = deferred
            .iter()
            .any(|(t, k)| t.name == table.name && std::ptr::eq(*k, fk));
        if !later {
            lines.push(fk_clause(fk));
        }
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        q(&table.name),
        lines.join(",\n    ")
    )
}

fn column_changes(table: &TableDiff, steps: &mut Vec<Step>) {
    let t = q(table.name());
    for column in &table.columns_added {
        let sql = format!("ALTER TABLE {t} ADD COLUMN {}", column_definition(column));
        steps.push(
            if !column.nullable && column.default.is_none() && column.identity.is_none() {
                Step::flagged(
                    sql,
                    review::not_null_without_default(table.name(), &column.name),
                )
            } else {
                Step::plain(sql)
            },
        );
    }
    for change in &table.columns_changed {
        modify_column(table, change, steps);
    }
    for column in &table.columns_dropped {
        steps.push(Step::flagged(
            format!("ALTER TABLE {t} DROP COLUMN {}", q(&column.name)),
            review::drop_column(table.name(), &column.name),
        ));
    }
}

/// `, updated_at = updated_at` for each column of the table with an
/// `ON UPDATE` (before or after this revision), the changed one aside: a
/// backfill that assigns them their own value leaves them as they are,
/// where it would otherwise stamp every row it fills with the time of the
/// migration.
fn keep_on_update_columns(table: &TableDiff, changed: &str) -> String {
    let mut names: Vec<&str> = table
        .from
        .columns
        .iter()
        .chain(&table.to.columns)
        .filter(|c| c.on_update.is_some() && c.name != changed)
        .map(|c| c.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .iter()
        .map(|name| format!(", {} = {}", q(name), q(name)))
        .collect()
}

fn modify_column(table_diff: &TableDiff, change: &ColumnChange, steps: &mut Vec<Step>) {
    let table = table_diff.name();
    let mut notes = Vec::new();
    if change.not_null_added() {
        match &change.to.default {
            Some(default) => {
                steps.push(Step::flagged(
                    format!(
                        "UPDATE {} SET {} = {default}{} WHERE {} IS NULL",
                        q(table),
                        q(&change.to.name),
                        keep_on_update_columns(table_diff, &change.to.name),
                        q(&change.to.name)
                    ),
                    review::not_null(table, &change.to.name, Some(default)),
                ));
            }
            None => notes.push(review::not_null(table, &change.to.name, None)),
        }
    }
    if change.type_changed() {
        notes.extend(review::type_change(table, change));
    }
    steps.push(Step {
        sql: format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            q(table),
            column_definition(&change.to)
        ),
        reviews: notes,
    });
}
