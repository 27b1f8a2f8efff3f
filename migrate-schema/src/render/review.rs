//! What a reviewer is told about a risky statement. Each message says what
//! the statement risks and what to check; none has the `word: value` shape
//! of a header line.

use crate::diff::ColumnChange;
use crate::model::{ForeignKey, Key};

/// Dropping a table.
pub fn drop_table(table: &str) -> String {
    format!("drops table {table} and every row in it; check that nothing still needs them")
}

/// Dropping a column.
pub fn drop_column(table: &str, column: &str) -> String {
    format!("drops column {table}.{column} and the data in it")
}

/// A type change, when it is not a known widening.
pub fn type_change(table: &str, change: &ColumnChange) -> Option<String> {
    (!widens(&change.from.data_type, &change.to.data_type)).then(|| {
        format!(
            "changes the type of {table}.{} from {} to {}, which may not hold every value: \
             check that existing values convert",
            change.to.name, change.from.data_type, change.to.data_type
        )
    })
}

/// NOT NULL added to an existing column.
pub fn not_null(table: &str, column: &str, default: Option<&str>) -> String {
    match default {
        Some(default) => format!(
            "makes {table}.{column} NOT NULL; rows holding NULL there are first set to its default {default}"
        ),
        None => format!(
            "makes {table}.{column} NOT NULL without a default: this fails if a row holds NULL there; fill those rows first"
        ),
    }
}

/// A NOT NULL column without a default added to an existing table.
pub fn not_null_without_default(table: &str, column: &str) -> String {
    format!(
        "adds {table}.{column} NOT NULL without a default: this fails if the table has rows; give it a DEFAULT or fill it in steps"
    )
}

/// A unique constraint or unique index on an existing table.
pub fn unique(table: &str, columns: &str) -> String {
    format!(
        "adds a unique rule on {table} ({columns}): this fails if existing rows hold duplicates"
    )
}

/// A foreign key on an existing table.
pub fn foreign_key(table: &str, fk: &ForeignKey) -> String {
    format!(
        "adds a foreign key {table} ({}) to {}: this fails if existing rows reference missing rows",
        fk.columns.join(", "),
        fk.ref_table
    )
}

/// A check on an existing table.
pub fn check(table: &str, expression: &str) -> String {
    format!("adds {expression} to {table}: this fails if existing rows break it")
}

/// A primary key change.
pub fn primary_key(table: &str, from: Option<&Key>, to: Option<&Key>) -> String {
    let shown = |key: Option<&Key>| {
        key.map_or("none".to_string(), |k| {
            format!("({})", k.columns.join(", "))
        })
    };
    format!(
        "changes the primary key of {table} from {} to {}; check the code and the foreign keys that rely on it",
        shown(from),
        shown(to)
    )
}

/// A SQLite table rebuild.
pub fn rebuild(table: &str, reasons: &[String]) -> String {
    format!(
        "rebuilds table {table} because SQLite's ALTER TABLE cannot {}; every row is copied into a new table \
         that then takes its name, its indexes and triggers are recreated, and foreign keys are checked when the revision ends",
        reasons.join(", ")
    )
}

/// MySQL's implicit commits.
pub fn mysql_commits(statements: usize) -> String {
    format!(
        "MySQL commits each of these {statements} DDL statements on its own: if one fails, the ones before it stay applied \
         and the revision is left failed (fix the database, then `migrate stamp`)"
    )
}

/// Whether a type change keeps every value: a longer string, a wider integer.
fn widens(from: &str, to: &str) -> bool {
    let (from_base, from_args) = split_type(from);
    let (to_base, to_args) = split_type(to);
    const STRINGS: &[&str] = &[
        "char",
        "character",
        "varchar",
        "character varying",
        "text",
        "mediumtext",
        "longtext",
    ];
    const INTEGERS: &[&str] = crate::model::INTEGER_TYPES;
    let rank = |list: &[&str], base: &str| list.iter().position(|t| *t == base);
    if from_base == to_base {
        return match (from_args.first(), to_args.first()) {
            (Some(a), Some(b)) => b >= a && to_args.len() == from_args.len(),
            (Some(_), None) => true,
            _ => from_args == to_args,
        };
    }
    if let (Some(a), Some(b)) = (rank(INTEGERS, &from_base), rank(INTEGERS, &to_base)) {
        let a = if from_base == "integer" { 3 } else { a };
        let b = if to_base == "integer" { 3 } else { b };
        return b >= a;
    }
    if rank(STRINGS, &from_base).is_some() && matches!(to_base.as_str(), "text" | "longtext") {
        return true;
    }
    let varchar = |b: &str| matches!(b, "varchar" | "character varying");
    varchar(&from_base) && varchar(&to_base) && to_args.first() >= from_args.first()
}

/// `character varying(255)` → (`character varying`, [255]).
fn split_type(text: &str) -> (String, Vec<u64>) {
    let lower = text.to_ascii_lowercase();
    let lower = lower.trim_end_matches(" unsigned").trim();
    match lower.split_once('(') {
        Some((base, rest)) => (
            base.trim().to_string(),
            rest.trim_end_matches(')')
                .split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect(),
        ),
        None => (lower.to_string(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::widens;

    #[test]
    fn widenings_are_told_from_narrowings() {
        assert!(widens("character varying(255)", "character varying(500)"));
        assert!(!widens("character varying(500)", "character varying(255)"));
        assert!(widens("VARCHAR(255)", "VARCHAR(500)"));
        assert!(widens("integer", "bigint"));
        assert!(widens("int(11)", "bigint(20)"));
        assert!(!widens("bigint", "integer"));
        assert!(widens("varchar(20)", "text"));
        assert!(!widens("text", "integer"));
    }
}
