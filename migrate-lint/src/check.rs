//! The rules applied to one parsed statement.

use std::collections::HashSet;

use migrate_core::Dialect;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, ObjectName,
    ObjectType, RenameTableNameKind, Statement, TableConstraint,
};

use crate::rules::Rule;

/// What the statements before this one in the revision established.
pub(crate) struct Scope {
    pub(crate) dialect: Dialect,
    /// Whether the revision runs in a transaction.
    pub(crate) transactional: bool,
    /// Tables created earlier in the revision (their key, see
    /// [`table_key`]): the rules about existing tables spare them, since
    /// nobody uses them yet.
    pub(crate) created: HashSet<String>,
}

impl Scope {
    fn is_existing(&self, name: &ObjectName) -> bool {
        !self.created.contains(&table_key(name))
    }

    fn postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }
}

/// The key a table is known by: its last name part, unquoted and
/// lowercased (a schema prefix written in one statement and not in
/// another still matches).
pub(crate) fn table_key(name: &ObjectName) -> String {
    name.0
        .last()
        .map(|part| part.to_string())
        .unwrap_or_default()
        .trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
        .to_lowercase()
}

/// The rules `statement` breaks, each with what it does; records the
/// tables it creates in `scope`.
pub(crate) fn check_statement(statement: &Statement, scope: &mut Scope) -> Vec<(Rule, String)> {
    let mut found = Vec::new();
    match statement {
        Statement::CreateTable(create) => {
            scope.created.insert(table_key(&create.name));
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
        found.push((Rule::RenameTable, format!("renames table {old} to {new}")));
    } else {
        scope.created.insert(table_key(new));
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
    if !scope.is_existing(table) {
        return;
    }
    match operation {
        AlterTableOperation::DropColumn { column_names, .. } => {
            for column in column_names {
                found.push((Rule::DropColumn, format!("drops column {table}.{column}")));
            }
        }
        AlterTableOperation::AddColumn { column_def, .. } => {
            check_add_column(table, column_def, scope, found)
        }
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetNotNull if scope.postgres() => found.push((
                Rule::SetNotNull,
                format!("sets {table}.{column_name} NOT NULL"),
            )),
            AlterColumnOperation::SetDataType { data_type, .. } => found.push((
                Rule::ColumnTypeChange,
                format!("changes the type of {table}.{column_name} to {data_type}"),
            )),
            _ => {}
        },
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            ..
        } => found.push((
            Rule::ColumnTypeChange,
            format!("redefines {table}.{col_name} as {data_type}"),
        )),
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            ..
        } => {
            if old_name.value.eq_ignore_ascii_case(&new_name.value) {
                found.push((
                    Rule::ColumnTypeChange,
                    format!("redefines {table}.{old_name} as {data_type}"),
                ));
            } else {
                found.push((
                    Rule::RenameColumn,
                    format!("renames column {table}.{old_name} to {new_name}"),
                ));
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => found.push((
            Rule::RenameColumn,
            format!("renames column {table}.{old_column_name} to {new_column_name}"),
        )),
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
