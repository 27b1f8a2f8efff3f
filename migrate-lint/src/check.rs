//! The rules applied to one parsed statement.

use std::collections::HashSet;

use migrate_core::Dialect;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, Ident,
    ObjectName, ObjectType, RenameTableNameKind, Statement, TableConstraint,
};

use crate::rules::Rule;

/// What the statements before this one in the revision established: the
/// up section's statements, then the down section's, so that a down is
/// read knowing what its up made.
pub(crate) struct Scope {
    pub(crate) dialect: Dialect,
    /// Whether the revision runs in a transaction.
    pub(crate) transactional: bool,
    /// Tables created earlier in the revision (their key, see
    /// [`table_key`]): the rules about existing tables spare them, since
    /// nobody uses them yet.
    pub(crate) created: HashSet<String>,
    /// Column changes made earlier in the revision, each as the rule that a
    /// later statement undoing or repeating it would break: `ADD COLUMN c`
    /// as `drop-column` of c (a column added by the up has nothing to lose
    /// when its down drops it), a rename to `b` as `rename-column` of b, a
    /// type change as `column-type-change`. Such a later statement is
    /// spared: its revision's own finding, if any, was the first one.
    pub(crate) column_changes: HashSet<(Rule, String, String)>,
    /// Existing tables renamed earlier in the revision, by their new name:
    /// renaming one back is spared like a column's.
    pub(crate) renamed_tables: HashSet<String>,
}

impl Scope {
    fn is_existing(&self, name: &ObjectName) -> bool {
        !self.created.contains(&table_key(name, self.dialect))
    }

    fn postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    fn column_key(&self, rule: Rule, table: &ObjectName, column: &Ident) -> (Rule, String, String) {
        (
            rule,
            table_key(table, self.dialect),
            unquoted(&column.value),
        )
    }

    /// Records a column change, and whether an earlier statement already
    /// made it (the change undoes or repeats that one).
    fn changes_column(&mut self, rule: Rule, table: &ObjectName, column: &Ident) -> bool {
        !self
            .column_changes
            .insert(self.column_key(rule, table, column))
    }
}

/// The key a table is known by: its name parts, unquoted and lowercased,
/// joined by dots, without the dialect's default schema (PostgreSQL's
/// `public`, SQLite's `main`), so that `public.users` and `users` match
/// while `a.users` and `b.users` do not. MySQL has no default schema (the
/// connection's database is not known here): `app.users` and `users` are
/// two tables, so the exemption errs toward firing.
pub(crate) fn table_key(name: &ObjectName, dialect: Dialect) -> String {
    let mut parts: Vec<String> = name
        .0
        .iter()
        .map(|part| unquoted(&part.to_string()))
        .collect();
    let default = match dialect {
        Dialect::Postgres => Some("public"),
        Dialect::Sqlite => Some("main"),
        Dialect::MySql => None,
    };
    if parts.len() > 1 && default.is_some_and(|schema| parts[0] == schema) {
        parts.remove(0);
    }
    parts.join(".")
}

/// An identifier without its quotes, lowercased.
fn unquoted(part: &str) -> String {
    part.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
        .to_lowercase()
}

/// The rules `statement` breaks, each with what it does; records the
/// tables it creates in `scope`.
pub(crate) fn check_statement(statement: &Statement, scope: &mut Scope) -> Vec<(Rule, String)> {
    let mut found = Vec::new();
    match statement {
        Statement::CreateTable(create) => {
            scope.created.insert(table_key(&create.name, scope.dialect));
        }
        Statement::CreateIndex(index) => check_index(index, scope, &mut found),
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            for name in names.iter().filter(|name| scope.is_existing(name)) {
                found.push((Rule::DropTable, format!("drops table {name}")));
            }
        }
        Statement::RenameTable(renames) => {
            for rename in renames {
                rename_table(&rename.old_name, &rename.new_name, scope, &mut found);
            }
        }
        Statement::AlterTable {
            name, operations, ..
        } => {
            for operation in operations {
                check_alter(name, operation, scope, &mut found);
            }
        }
        _ => {}
    }
    found
}

fn rename_table(
    old: &ObjectName,
    new: &ObjectName,
    scope: &mut Scope,
    found: &mut Vec<(Rule, String)>,
) {
    if scope.is_existing(old) {
        // Renaming back what the revision renamed (a down undoing its up)
        // is no new finding; the table keeps its data, so it is still an
        // existing table for the other rules.
        let undoes = scope
            .renamed_tables
            .contains(&table_key(old, scope.dialect));
        scope.renamed_tables.insert(table_key(new, scope.dialect));
        if !undoes {
            found.push((Rule::RenameTable, format!("renames table {old} to {new}")));
        }
    } else {
        let key = table_key(new, scope.dialect);
        scope.created.insert(key);
    }
}

fn check_index(index: &CreateIndex, scope: &Scope, found: &mut Vec<(Rule, String)>) {
    let table = &index.table_name;
    if !scope.is_existing(table) {
        return;
    }
    let what = match &index.name {
        Some(name) => format!("index {name} on {table}"),
        None => format!("an index on {table}"),
    };
    if scope.postgres() {
        // CONCURRENTLY in a transaction is reported before parsing (it
        // fails whatever the parser makes of the statement).
        if !index.concurrently {
            found.push((
                Rule::IndexWithoutConcurrently,
                format!("builds {what} without CONCURRENTLY"),
            ));
        }
    } else if index.unique {
        found.push((Rule::UniqueOnExistingTable, format!("builds unique {what}")));
    }
}

fn check_alter(
    table: &ObjectName,
    operation: &AlterTableOperation,
    scope: &mut Scope,
    found: &mut Vec<(Rule, String)>,
) {
    if let AlterTableOperation::RenameTable { table_name } = operation {
        let (RenameTableNameKind::As(new) | RenameTableNameKind::To(new)) = table_name;
        rename_table(table, new, scope, found);
        return;
    }
    // Column changes are recorded on every table: a later statement of
    // the revision may undo them (see `Scope::column_changes`).
    let existing = scope.is_existing(table);
    let mut column = |scope: &mut Scope, rule: Rule, column: &Ident, message: String| {
        if !scope.changes_column(rule, table, column) && existing {
            found.push((rule, message));
        }
    };
    match operation {
        AlterTableOperation::DropColumn { column_names, .. } => {
            for name in column_names {
                column(
                    scope,
                    Rule::DropColumn,
                    name,
                    format!("drops column {table}.{name}"),
                );
            }
        }
        AlterTableOperation::AddColumn { column_def, .. } => {
            scope.changes_column(Rule::DropColumn, table, &column_def.name);
            if existing {
                check_add_column(table, column_def, scope, found);
            }
        }
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetNotNull if scope.postgres() && existing => found.push((
                Rule::SetNotNull,
                format!("sets {table}.{column_name} NOT NULL"),
            )),
            AlterColumnOperation::SetDataType { data_type, .. } => column(
                scope,
                Rule::ColumnTypeChange,
                column_name,
                format!("changes the type of {table}.{column_name} to {data_type}"),
            ),
            _ => {}
        },
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            ..
        } => column(
            scope,
            Rule::ColumnTypeChange,
            col_name,
            format!("redefines {table}.{col_name} as {data_type}"),
        ),
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            ..
        } => {
            if old_name.value.eq_ignore_ascii_case(&new_name.value) {
                column(
                    scope,
                    Rule::ColumnTypeChange,
                    old_name,
                    format!("redefines {table}.{old_name} as {data_type}"),
                );
            } else {
                rename_column(table, old_name, new_name, scope, found, existing);
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => rename_column(
            table,
            old_column_name,
            new_column_name,
            scope,
            found,
            existing,
        ),
        _ if !existing => {}
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => match constraint {
            TableConstraint::ForeignKey { foreign_table, .. } if scope.postgres() && !not_valid => {
                found.push((
                    Rule::ForeignKeyWithoutNotValid,
                    format!("adds a foreign key from {table} to {foreign_table} without NOT VALID"),
                ))
            }
            TableConstraint::Unique { .. } => found.push((
                Rule::UniqueOnExistingTable,
                format!("adds a unique constraint to {table}"),
            )),
            _ => {}
        },
        _ => {}
    }
}

/// A rename of `old` to `new`: spared when it renames back a column the
/// revision renamed to `old` (a down undoing its up's rename).
fn rename_column(
    table: &ObjectName,
    old: &Ident,
    new: &Ident,
    scope: &mut Scope,
    found: &mut Vec<(Rule, String)>,
    existing: bool,
) {
    let undoes = scope
        .column_changes
        .contains(&scope.column_key(Rule::RenameColumn, table, old));
    scope.changes_column(Rule::RenameColumn, table, new);
    if existing && !undoes {
        found.push((
            Rule::RenameColumn,
            format!("renames column {table}.{old} to {new}"),
        ));
    }
}

fn check_add_column(
    table: &ObjectName,
    column: &ColumnDef,
    scope: &Scope,
    found: &mut Vec<(Rule, String)>,
) {
    let name = &column.name;
    let options = || column.options.iter().map(|option| &option.option);
    let default = options().find_map(|option| match option {
        ColumnOption::Default(expr) => Some(expr.to_string()),
        _ => None,
    });
    let not_null = options().any(|option| matches!(option, ColumnOption::NotNull));
    let generated = options().any(|option| {
        matches!(
            option,
            ColumnOption::Generated { .. } | ColumnOption::DialectSpecific(_)
        )
    });
    if not_null && default.is_none() && !generated {
        found.push((
            Rule::AddColumnNotNullWithoutDefault,
            format!("adds column {table}.{name} NOT NULL without a default"),
        ));
    }
    if options().any(|option| {
        matches!(
            option,
            ColumnOption::Unique {
                is_primary: false,
                ..
            }
        )
    }) {
        found.push((
            Rule::UniqueOnExistingTable,
            format!("adds unique column {table}.{name}"),
        ));
    }
    if scope.postgres() {
        let serial = matches!(
            column.data_type.to_string().to_lowercase().as_str(),
            "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
        );
        let volatile = default.as_deref().and_then(volatile_call);
        if let Some(function) = volatile {
            found.push((
                Rule::VolatileDefault,
                format!("adds column {table}.{name} with default {function}()"),
            ));
        } else if serial {
            found.push((
                Rule::VolatileDefault,
                format!(
                    "adds column {table}.{name} as {} (its default is nextval())",
                    column.data_type
                ),
            ));
        }
    }
}

/// PostgreSQL's volatile functions a default commonly calls: a default
/// that calls one is evaluated per row, so the table is rewritten.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
];

/// The first volatile function `expr` calls.
fn volatile_call(expr: &str) -> Option<&'static str> {
    let lower = expr.to_lowercase();
    let mut words = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '('))
        .filter(|word| !word.is_empty());
    words.find_map(|word| {
        let name = word.split('(').next()?;
        let called = word.len() > name.len();
        VOLATILE_FUNCTIONS
            .iter()
            .copied()
            .find(|function| called && *function == name.rsplit('.').next().unwrap_or(name))
    })
}
