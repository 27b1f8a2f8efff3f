//! Identifiers and column definitions, as each dialect writes them.

use migrate_core::Dialect;

use crate::model::Action;

/// Words every dialect reserves that make sensible column names (`user`,
/// `order`, ...): quoted wherever they appear.
const RESERVED: &[&str] = &[
    "all",
    "and",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "primary",
    "references",
    "right",
    "select",
    "set",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "with",
];

/// A name as written in a statement: bare when it is a plain identifier
/// the dialect would store as is, quoted otherwise.
pub fn ident(dialect: Dialect, name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        // PostgreSQL folds bare names to lower case.
        && (dialect != Dialect::Postgres || !name.chars().any(|c| c.is_ascii_uppercase()))
        && !RESERVED.contains(&name.to_ascii_lowercase().as_str());
    if plain {
        return name.to_string();
    }
    match dialect {
        Dialect::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// `a, b, c`, each quoted where needed.
pub fn ident_list(dialect: Dialect, names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(dialect, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` ON DELETE ... ON UPDATE ...`, leaving out the defaults.
pub fn actions(on_delete: Action, on_update: Action) -> String {
    let mut text = String::new();
    if on_delete != Action::NoAction {
        text.push_str(&format!(" ON DELETE {}", on_delete.sql()));
    }
    if on_update != Action::NoAction {
        text.push_str(&format!(" ON UPDATE {}", on_update.sql()));
    }
    text
}
