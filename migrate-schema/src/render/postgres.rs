//! PostgreSQL: everything is an `ALTER` (DDL is transactional, so the
//! revision's statements apply together or not at all).

use migrate_core::Dialect;

use crate::diff::{ColumnChange, EnumChange, SchemaDiff, TableDiff};
use crate::error::SchemaError;
use crate::model::{Column, ForeignKey, Identity, Key, Table};
use crate::render::order::{creation_order, drop_order};
use crate::render::review;
use crate::render::sql::{actions, ident, ident_list};
use crate::render::Step;

const D: Dialect = Dialect::Postgres;

pub fn render(diff: &SchemaDiff) -> Result<Vec<Step>, SchemaError> {
    let mut steps = Vec::new();
    let q = |name: &str| ident(D, name);
    // Renames first: every later statement names things by their new names.
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
        let constraint_renames = table
            .uniques
            .renamed
            .iter()
            .map(|(a, b)| (&a.name, &b.name))
            .chain(table.checks.renamed.iter().map(|(a, b)| (&a.name, &b.name)))
            .chain(
                table
                    .foreign_keys
                    .renamed
                    .iter()
                    .map(|(a, b)| (&a.name, &b.name)),
            );
        for (old, new) in constraint_renames {
            if let (Some(old), Some(new)) = (old, new) {
                steps.push(Step::plain(format!(
                    "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
                    q(old),
                    q(new)
                )));
            }
        }
        if let Some((Some(from), Some(to))) = &table.primary_key {
            if from.columns == to.columns {
                if let (Some(old), Some(new)) = (&from.name, &to.name) {
                    steps.push(Step::plain(format!(
                        "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
                        q(old),
                        q(new)
                    )));
                }
            }
        }
        for (from, to) in &table.indexes.renamed {
            steps.push(Step::plain(format!(
                "ALTER INDEX {} RENAME TO {}",
                q(&from.name),
                q(&to.name)
            )));
        }
    }

    // Drops: foreign keys, indexes, constraints, then tables.
    for table in &diff.tables_changed {
        for fk in &table.foreign_keys.dropped {
            steps.push(drop_constraint(table.name(), fk.name.as_deref()));
        }
    }
    for table in &diff.tables_dropped {
        for fk in &table.foreign_keys {
            let into_dropped = fk.ref_table != table.name
                && diff.tables_dropped.iter().any(|t| t.name == fk.ref_table);
            if into_dropped {
                steps.push(drop_constraint(&table.name, fk.name.as_deref()));
            }
        }
    }
    for table in &diff.tables_changed {
        for index in &table.indexes.dropped {
            steps.push(Step::plain(format!("DROP INDEX {}", q(&index.name))));
        }
        for key in &table.uniques.dropped {
            steps.push(drop_constraint(table.name(), key.name.as_deref()));
        }
        for check in &table.checks.dropped {
            steps.push(drop_constraint(table.name(), check.name.as_deref()));
        }
        if let Some((Some(from), to)) = &table.primary_key {
            if to.as_ref().is_none_or(|to| to.columns != from.columns) {
                steps.push(drop_constraint(table.name(), from.name.as_deref()));
            }
        }
    }
    for table in drop_order(&diff.tables_dropped) {
        steps.push(Step::flagged(
            format!("DROP TABLE {}", q(&table.name)),
            review::drop_table(&table.name),
        ));
    }

    // Types, then tables in dependency order.
    for created in &diff.enums_created {
        let labels: Vec<String> = created.values.iter().map(|v| literal(v)).collect();
        steps.push(Step::plain(format!(
            "CREATE TYPE {} AS ENUM ({})",
            q(&created.name),
            labels.join(", ")
        )));
    }
    for change in &diff.enums_changed {
        steps.extend(enum_change(change));
    }
    let (created, deferred) = creation_order(&diff.tables_created);
    for table in &created {
        steps.push(Step::plain(create_table(table, &deferred)));
        for column in table.columns.iter().filter(|c| c.comment.is_some()) {
            steps.push(comment_on(&table.name, column));
        }
    }

    // Column changes of existing tables.
    for table in &diff.tables_changed {
        column_changes(table, &mut steps)?;
    }
    for table in &diff.tables_changed {
        let t = q(table.name());
        if let Some((from, Some(to))) = &table.primary_key {
            if from.as_ref().is_none_or(|from| from.columns != to.columns) {
                steps.push(Step::flagged(
                    format!("ALTER TABLE {t} ADD {}", key_clause(to, "PRIMARY KEY")),
                    review::primary_key(table.name(), from.as_ref(), Some(to)),
                ));
            }
        }
        for key in &table.uniques.added {
            steps.push(Step::flagged(
                format!("ALTER TABLE {t} ADD {}", key_clause(key, "UNIQUE")),
                review::unique(table.name(), &key.columns.join(", ")),
            ));
        }
        for check in &table.checks.added {
            steps.push(Step::flagged(
                format!(
                    "ALTER TABLE {t} ADD {}",
                    named(check.name.as_deref(), &check.expression)
                ),
                review::check(table.name(), &check.expression),
            ));
        }
    }

    // Indexes, then foreign keys.
    for table in &created {
        for index in &table.indexes {
            steps.push(Step::plain(create_index(table.name.as_str(), index)));
        }
    }
    for table in &diff.tables_changed {
        for index in &table.indexes.added {
            let sql = create_index(table.name(), index);
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
        for fk in &table.foreign_keys.added {
            steps.push(Step::flagged(
                format!("ALTER TABLE {} ADD {}", q(table.name()), fk_clause(fk)),
                review::foreign_key(table.name(), fk),
            ));
        }
    }
    for dropped in &diff.enums_dropped {
        steps.push(Step::plain(format!("DROP TYPE {}", q(&dropped.name))));
    }
    Ok(steps)
}

/// `COMMENT ON COLUMN`: PostgreSQL keeps comments apart from the
/// column's definition; `IS NULL` removes one.
fn comment_on(table: &str, column: &Column) -> Step {
    Step::plain(format!(
        "COMMENT ON COLUMN {}.{} IS {}",
        ident(D, table),
        ident(D, &column.name),
        column
            .comment
            .as_deref()
            .map_or("NULL".to_string(), literal)
    ))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn drop_constraint(table: &str, name: Option<&str>) -> Step {
    Step::plain(format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        ident(D, table),
        ident(D, name.unwrap_or_default())
    ))
}

fn named(name: Option<&str>, clause: &str) -> String {
    match name {
        Some(name) => format!("CONSTRAINT {} {clause}", ident(D, name)),
        None => clause.to_string(),
    }
}

fn key_clause(key: &Key, kind: &str) -> String {
    named(
        key.name.as_deref(),
        &format!("{kind} ({})", ident_list(D, &key.columns)),
    )
}

fn fk_clause(fk: &ForeignKey) -> String {
    named(
        fk.name.as_deref(),
        &format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}){}",
            ident_list(D, &fk.columns),
            ident(D, &fk.ref_table),
            ident_list(D, &fk.ref_columns),
            actions(fk.on_delete, fk.on_update)
        ),
    )
}

fn create_index(table: &str, index: &crate::model::Index) -> String {
    format!(
        "CREATE {}INDEX {} ON {} USING {}",
        if index.unique { "UNIQUE " } else { "" },
        ident(D, &index.name),
        ident(D, table),
        index.definition
    )
}

/// The column's type as written in a definition: a serial's integer type
/// becomes its serial pseudo-type.
fn column_type(column: &Column) -> String {
    if column.identity == Some(Identity::Serial) {
        match column.data_type.as_str() {
            "bigint" => return "bigserial".to_string(),
            "smallint" => return "smallserial".to_string(),
            "integer" => return "serial".to_string(),
            _ => {}
        }
    }
    column.data_type.clone()
}

fn column_definition(column: &Column) -> String {
    let mut text = format!("{} {}", ident(D, &column.name), column_type(column));
    match column.identity {
        Some(Identity::Always) => text.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => text.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        _ => {}
    }
    if !column.nullable {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    text
}

fn create_table(table: &Table, deferred: &[(&Table, &ForeignKey)]) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(column_definition).collect();
    if let Some(key) = &table.primary_key {
        lines.push(key_clause(key, "PRIMARY KEY"));
    }
    for key in &table.uniques {
        lines.push(key_clause(key, "UNIQUE"));
    }
    for check in &table.checks {
        lines.push(named(check.name.as_deref(), &check.expression));
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
        ident(D, &table.name),
        lines.join(",\n    ")
    )
}

/// New labels are added in place; a type that loses or reorders labels
/// (which PostgreSQL cannot do in place) is rebuilt: renamed away, created
/// anew, its columns converted through text, the old type dropped.
fn enum_change(change: &EnumChange) -> Vec<Step> {
    let (name, from, to) = (&change.to.name, &change.from.values, &change.to.values);
    let q = |n: &str| ident(D, n);
    let kept: Vec<&String> = to.iter().filter(|v| from.contains(v)).collect();
    let in_place = from.iter().all(|v| to.contains(v)) && kept.iter().copied().eq(from.iter());
    let mut steps = Vec::new();
    if in_place {
        for (at, value) in to.iter().enumerate() {
            if from.contains(value) {
                continue;
            }
            let position = match to[at + 1..].iter().find(|v| from.contains(v)) {
                Some(next) => format!(" BEFORE {}", literal(next)),
                None => String::new(),
            };
            steps.push(Step::plain(format!(
                "ALTER TYPE {} ADD VALUE {}{position}",
                q(name),
                literal(value)
            )));
        }
        return steps;
    }
    let old = format!("{name}_migrate_old");
    let gone: Vec<String> = from
        .iter()
        .filter(|v| !to.contains(v))
        .map(|v| literal(v))
        .collect();
    let note = if gone.is_empty() {
        format!(
            "rebuilds type {name} to reorder its labels; its columns are converted through text"
        )
    } else {
        format!(
            "rebuilds type {name} without the labels {}: this fails if a row still holds one; update those rows first",
            gone.join(", ")
        )
    };
    steps.push(Step::flagged(
        format!("ALTER TYPE {} RENAME TO {}", q(name), q(&old)),
        note,
    ));
    let labels: Vec<String> = to.iter().map(|v| literal(v)).collect();
    steps.push(Step::plain(format!(
        "CREATE TYPE {} AS ENUM ({})",
        q(name),
        labels.join(", ")
    )));
    for (table, column, default) in &change.columns {
        let prefix = format!("ALTER TABLE {} ALTER COLUMN {}", q(table), q(column));
        if default.is_some() {
            steps.push(Step::plain(format!("{prefix} DROP DEFAULT")));
        }
        steps.push(Step::plain(format!(
            "{prefix} TYPE {} USING {}::text::{}",
            q(name),
            q(column),
            q(name)
        )));
        if let Some(default) = default {
            let retyped = default.replace(&format!("::{}", q(&old)), &format!("::{}", q(name)));
            steps.push(Step::plain(format!("{prefix} SET DEFAULT {retyped}")));
        }
    }
    steps.push(Step::plain(format!("DROP TYPE {}", q(&old))));
    steps
}

fn column_changes(table: &TableDiff, steps: &mut Vec<Step>) -> Result<(), SchemaError> {
    let t = ident(D, table.name());
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
        if column.comment.is_some() {
            steps.push(comment_on(table.name(), column));
        }
    }
    for change in &table.columns_changed {
        alter_column(table.name(), change, steps)?;
        if change.comment_changed() {
            steps.push(comment_on(table.name(), &change.to));
        }
    }
    for column in &table.columns_dropped {
        steps.push(Step::flagged(
            format!("ALTER TABLE {t} DROP COLUMN {}", ident(D, &column.name)),
            review::drop_column(table.name(), &column.name),
        ));
    }
    Ok(())
}

fn alter_column(
    table: &str,
    change: &ColumnChange,
    steps: &mut Vec<Step>,
) -> Result<(), SchemaError> {
    let (from, to) = (&change.from, &change.to);
    if change.identity_changed()
        && (from.identity == Some(Identity::Serial) || to.identity == Some(Identity::Serial))
    {
        return Err(SchemaError::new(format!(
            "{table}.{} changes between serial and another kind of numbering, which is not generated",
            to.name
        ))
        .hint("write this revision by hand (the sequence must be created or dropped), then update schema.sql"));
    }
    let prefix = format!(
        "ALTER TABLE {} ALTER COLUMN {}",
        ident(D, table),
        ident(D, &to.name)
    );
    let identity_removed = from.identity.is_some() && to.identity.is_none();
    if identity_removed {
        steps.push(Step::plain(format!("{prefix} DROP IDENTITY")));
    }
    if change.default_changed() && from.default.is_some() {
        steps.push(Step::plain(format!("{prefix} DROP DEFAULT")));
    }
    if change.type_changed() {
        let sql = format!(
            "{prefix} TYPE {} USING {}::{}",
            to.data_type,
            ident(D, &to.name),
            to.data_type
        );
        steps.push(match review::type_change(table, change) {
            Some(note) => Step::flagged(sql, note),
            None => Step::plain(sql),
        });
    }
    if change.default_changed() {
        if let Some(default) = &to.default {
            steps.push(Step::plain(format!("{prefix} SET DEFAULT {default}")));
        }
    }
    if change.not_null_added() {
        if let Some(default) = &to.default {
            steps.push(Step::flagged(
                format!(
                    "UPDATE {} SET {} = {default} WHERE {} IS NULL",
                    ident(D, table),
                    ident(D, &to.name),
                    ident(D, &to.name)
                ),
                review::not_null(table, &to.name, Some(default)),
            ));
            steps.push(Step::plain(format!("{prefix} SET NOT NULL")));
        } else {
            steps.push(Step::flagged(
                format!("{prefix} SET NOT NULL"),
                review::not_null(table, &to.name, None),
            ));
        }
    } else if change.nullability_changed() {
        steps.push(Step::plain(format!("{prefix} DROP NOT NULL")));
    }
    match (from.identity, to.identity) {
        (None, Some(Identity::Always)) => steps.push(Step::plain(format!(
            "{prefix} ADD GENERATED ALWAYS AS IDENTITY"
        ))),
        (None, Some(Identity::ByDefault)) => steps.push(Step::plain(format!(
            "{prefix} ADD GENERATED BY DEFAULT AS IDENTITY"
        ))),
        (Some(Identity::ByDefault), Some(Identity::Always)) => {
            steps.push(Step::plain(format!("{prefix} SET GENERATED ALWAYS")))
        }
        (Some(Identity::Always), Some(Identity::ByDefault)) => {
            steps.push(Step::plain(format!("{prefix} SET GENERATED BY DEFAULT")))
        }
        _ => {}
    }
    Ok(())
}
