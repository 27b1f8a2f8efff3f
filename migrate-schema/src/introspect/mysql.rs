//! MySQL and MariaDB: `information_schema` for the connection's database.
//! Every unique rule is a unique index there (`UNIQUE (a)` and
//! `CREATE UNIQUE INDEX` make the same thing), so uniques are read as
//! [`Index`]es; the primary key is the index named `PRIMARY`.

use std::collections::BTreeMap;

use sqlx::{MySqlConnection, Row};

use crate::error::{database, SchemaError};
use crate::model::{Action, Check, Column, ForeignKey, Identity, Index, Key, Schema, Table};

const TABLES: &str = "\
SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";

const COLUMNS: &str = "\
SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR),
       CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR),
       CAST(COLUMN_COMMENT AS CHAR)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION";

const INDEXES: &str = "\
SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED),
       CAST(COLUMN_NAME AS CHAR), CAST(SUB_PART AS SIGNED), CAST(COLLATION AS CHAR), CAST(INDEX_TYPE AS CHAR)
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const FOREIGN_KEYS: &str = "\
SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR),
       CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR),
       CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR)
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const CHECKS: &str = "\
SELECT CAST(t.TABLE_NAME AS CHAR), CAST(t.CONSTRAINT_NAME AS CHAR), CAST(c.CHECK_CLAUSE AS CHAR)
FROM information_schema.TABLE_CONSTRAINTS t
JOIN information_schema.CHECK_CONSTRAINTS c
  ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
WHERE t.TABLE_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE = 'CHECK'
ORDER BY t.TABLE_NAME, t.CONSTRAINT_NAME";

/// Which catalog dialect the server writes: the two spell a column's
/// default differently in `information_schema.COLUMNS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// MariaDB: `COLUMN_DEFAULT` is SQL (`'misc'`, `7`, `current_timestamp()`,
    /// `NULL` for none).
    MariaDb,
    /// MySQL: `COLUMN_DEFAULT` is the bare value (`misc`, `7`), SQL NULL for
    /// none, and an expression default is marked `DEFAULT_GENERATED` in
    /// `EXTRA`.
    MySql,
}

impl Server {
    /// From `SELECT VERSION()`: MariaDB says so in it (`10.11.6-MariaDB-...`).
    pub fn from_version(version: &str) -> Server {
        if version.to_ascii_lowercase().contains("mariadb") {
            Server::MariaDb
        } else {
            Server::MySql
        }
    }
}

/// A column's default as SQL that `DEFAULT ...` takes back, from the
/// catalog's `COLUMN_DEFAULT` (`raw`) and `EXTRA` of a column of type
/// `data_type`; `None` for no default (or `DEFAULT NULL`, which is the
/// same thing to a nullable column).
pub fn column_default(
    server: Server,
    data_type: &str,
    raw: Option<String>,
    extra: &str,
) -> Option<String> {
    let raw = raw?;
    match server {
        // MariaDB already writes SQL; the text `NULL` (unquoted) is the
        // implicit default of a nullable column.
        Server::MariaDb => (!raw.eq_ignore_ascii_case("NULL")).then_some(raw),
        Server::MySql => {
            let lower = raw.to_ascii_lowercase();
            let generated = extra.to_ascii_lowercase().contains("default_generated");
            let timestamp = ["current_timestamp", "now(", "localtime"]
                .iter()
                .any(|word| lower.starts_with(word));
            // CURRENT_TIMESTAMP is written bare (MySQL 5.7 does not mark it
            // generated, and it is older than expression defaults).
            let temporal = ["timestamp", "datetime"]
                .iter()
                .any(|t| data_type.to_ascii_lowercase().starts_with(t));
            if timestamp && (generated || temporal) {
                return Some(raw);
            }
            if generated {
                // Any other expression takes the parentheses MySQL 8
                // requires around it.
                return Some(if raw.starts_with('(') {
                    raw
                } else {
                    format!("({raw})")
                });
            }
            if is_numeric(data_type) || is_bit_or_binary_literal(data_type, &raw) {
                return Some(raw);
            }
            Some(format!(
                "'{}'",
                raw.replace('\\', "\\\\").replace('\'', "''")
            ))
        }
    }
}

/// Number types, whose defaults MySQL prints as bare numbers that are SQL as is.
fn is_numeric(data_type: &str) -> bool {
    let base = data_type
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    crate::model::INTEGER_TYPES.contains(&base.as_str())
        || ["decimal", "numeric", "float", "double", "real", "year"].contains(&base.as_str())
}

/// `b'101'` of a BIT column and `0x61` of a binary one are printed as literals.
fn is_bit_or_binary_literal(data_type: &str, raw: &str) -> bool {
    let lower = data_type.to_ascii_lowercase();
    (lower.starts_with("bit") && raw.starts_with("b'"))
        || ((lower.contains("binary") || lower.contains("blob")) && raw.starts_with("0x"))
}

/// The `ON UPDATE` expression of a column, from `EXTRA` (`on update
/// current_timestamp()` on MariaDB, `DEFAULT_GENERATED on update
/// CURRENT_TIMESTAMP(3)` on MySQL 8).
pub fn on_update(extra: &str) -> Option<String> {
    let lower = extra.to_ascii_lowercase();
    let at = lower.find("on update ")?;
    // The expression has no spaces; words after it (`INVISIBLE`) are not its.
    let expression = extra[at + "on update ".len()..].split_whitespace().next()?;
    Some(expression.to_string())
}

/// Reads every table of the connection's database except `skip`.
pub async fn introspect(conn: &mut MySqlConnection, skip: &[&str]) -> Result<Schema, SchemaError> {
    read(conn, skip)
        .await
        .map_err(|err| database("cannot read the MySQL catalog", &err))
}

async fn read(conn: &mut MySqlConnection, skip: &[&str]) -> Result<Schema, sqlx::Error> {
    let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
        .fetch_one(&mut *conn)
        .await?;
    let server = Server::from_version(&version);
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in sqlx::query(TABLES).fetch_all(&mut *conn).await? {
        let name: String = row.get(0);
        if skip.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            continue;
        }
        tables.insert(
            name.clone(),
            Table {
                name,
                columns: Vec::new(),
                primary_key: None,
                uniques: Vec::new(),
                foreign_keys: Vec::new(),
                checks: Vec::new(),
                indexes: Vec::new(),
                sqlite: None,
            },
        );
    }
    for row in sqlx::query(COLUMNS).fetch_all(&mut *conn).await? {
        let Some(table) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let data_type: String = row.get(2);
        let extra: String = row.get::<Option<String>, _>(5).unwrap_or_default();
        let comment = row.get::<Option<String>, _>(6).filter(|c| !c.is_empty());
        table.columns.push(Column {
            name: row.get(1),
            default: column_default(server, &data_type, row.get(4), &extra),
            data_type,
            nullable: row.get::<String, _>(3) == "YES",
            identity: extra
                .to_ascii_lowercase()
                .contains("auto_increment")
                .then_some(Identity::AutoIncrement),
            on_update: on_update(&extra),
            comment,
        });
    }
    // (table, index) -> (unique, parts, type)
    let mut indexes: BTreeMap<(String, String), (bool, Vec<String>, String)> = BTreeMap::new();
    for row in sqlx::query(INDEXES).fetch_all(&mut *conn).await? {
        let table: String = row.get(0);
        if !tables.contains_key(&table) {
            continue;
        }
        let column: String = row.get::<Option<String>, _>(3).unwrap_or_default();
        let mut part = crate::render::ident(migrate_core::Dialect::MySql, &column);
        if let Some(length) = row.get::<Option<i64>, _>(4) {
            part.push_str(&format!("({length})"));
        }
        if row.get::<Option<String>, _>(5).as_deref() == Some("D") {
            part.push_str(" DESC");
        }
        let entry = indexes.entry((table, row.get(1))).or_insert_with(|| {
            (
                row.get::<i64, _>(2) == 0,
                Vec::new(),
                row.get::<Option<String>, _>(6).unwrap_or_default(),
            )
        });
        entry.1.push(part);
    }
    for ((table, name), (unique, parts, kind)) in indexes {
        let table = tables.get_mut(&table).expect("filtered above");
        if name == "PRIMARY" {
            table.primary_key = Some(Key {
                name: None,
                columns: parts
                    .iter()
                    .map(|p| p.trim_matches('`').to_string())
                    .collect(),
            });
            continue;
        }
        let prefix = match kind.as_str() {
            "FULLTEXT" => "FULLTEXT ",
            "SPATIAL" => "SPATIAL ",
            _ => "",
        };
        table.indexes.push(Index {
            name,
            unique,
            definition: format!("{prefix}({})", parts.join(", ")),
            sql: None,
        });
    }
    for row in sqlx::query(FOREIGN_KEYS).fetch_all(&mut *conn).await? {
        let Some(table) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let column: String = row.get(2);
        let ref_column: String = row.get(4);
        match table.foreign_keys.last_mut() {
            Some(fk) if fk.name.as_deref() == Some(name.as_str()) => {
                fk.columns.push(column);
                fk.ref_columns.push(ref_column);
            }
            _ => table.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns: vec![column],
                ref_table: row.get(3),
                ref_columns: vec![ref_column],
                on_delete: Action::from_words(&row.get::<String, _>(5)),
                on_update: Action::from_words(&row.get::<String, _>(6)),
            }),
        }
    }
    // MySQL makes (and silently drops) the index a foreign key needs, named
    // after the constraint or the column depending on how the key was
    // added: a plain index on exactly a foreign key's columns is the key's,
    // not compared.
    for table in tables.values_mut() {
        let keyed: Vec<String> = table
            .foreign_keys
            .iter()
            .map(|fk| format!("({})", crate::render::ident_list_mysql(&fk.columns)))
            .collect();
        table
            .indexes
            .retain(|index| index.unique || !keyed.contains(&index.definition));
    }
    for row in sqlx::query(CHECKS).fetch_all(&mut *conn).await? {
        let Some(table) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        table.checks.push(Check {
            name: Some(row.get(1)),
            expression: row.get(2),
        });
    }
    Ok(Schema {
        tables: tables.into_values().collect(),
        enums: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::{column_default, on_update, Server};

    fn default(server: Server, data_type: &str, raw: Option<&str>, extra: &str) -> Option<String> {
        column_default(server, data_type, raw.map(str::to_string), extra)
    }

    #[test]
    fn the_server_is_told_by_its_version() {
        assert_eq!(
            Server::from_version("10.11.19-MariaDB-0+deb12u1"),
            Server::MariaDb
        );
        assert_eq!(Server::from_version("8.0.36"), Server::MySql);
        assert_eq!(Server::from_version("8.4.0-commercial"), Server::MySql);
    }

    #[test]
    fn mariadb_defaults_are_already_sql() {
        let m = Server::MariaDb;
        assert_eq!(
            default(m, "varchar(20)", Some("'misc'"), ""),
            Some("'misc'".into())
        );
        assert_eq!(
            default(m, "varchar(5)", Some("'NULL'"), ""),
            Some("'NULL'".into())
        );
        assert_eq!(default(m, "varchar(5)", Some("NULL"), ""), None);
        assert_eq!(default(m, "varchar(5)", None, ""), None);
        assert_eq!(default(m, "int(11)", Some("7"), ""), Some("7".into()));
        assert_eq!(
            default(
                m,
                "timestamp",
                Some("current_timestamp()"),
                "on update current_timestamp()"
            ),
            Some("current_timestamp()".into())
        );
        assert_eq!(
            default(m, "int(11)", Some("(1 + 2)"), ""),
            Some("(1 + 2)".into())
        );
    }

    #[test]
    fn mysql_8_defaults_are_quoted_unless_numbers_or_expressions() {
        let m = Server::MySql;
        // Strings are stored bare: quoted (and escaped) back.
        assert_eq!(
            default(m, "varchar(20)", Some("misc"), ""),
            Some("'misc'".into())
        );
        assert_eq!(
            default(m, "varchar(20)", Some("it's"), ""),
            Some("'it''s'".into())
        );
        assert_eq!(default(m, "varchar(20)", Some(""), ""), Some("''".into()));
        // The text NULL is a string there: no default is SQL NULL.
        assert_eq!(
            default(m, "varchar(5)", Some("NULL"), ""),
            Some("'NULL'".into())
        );
        assert_eq!(default(m, "varchar(5)", None, ""), None);
        // A string that reads like a function is still a string.
        assert_eq!(
            default(m, "varchar(40)", Some("CURRENT_TIMESTAMP"), ""),
            Some("'CURRENT_TIMESTAMP'".into())
        );
        assert_eq!(default(m, "int", Some("7"), ""), Some("7".into()));
        assert_eq!(
            default(m, "decimal(10,2)", Some("1.50"), ""),
            Some("1.50".into())
        );
        assert_eq!(
            default(m, "bit(3)", Some("b'101'"), ""),
            Some("b'101'".into())
        );
        // Expressions: CURRENT_TIMESTAMP bare, the others in parentheses.
        assert_eq!(
            default(
                m,
                "timestamp",
                Some("CURRENT_TIMESTAMP"),
                "DEFAULT_GENERATED"
            ),
            Some("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            default(
                m,
                "datetime(3)",
                Some("CURRENT_TIMESTAMP(3)"),
                "DEFAULT_GENERATED on update CURRENT_TIMESTAMP(3)"
            ),
            Some("CURRENT_TIMESTAMP(3)".into())
        );
        assert_eq!(
            default(m, "timestamp", Some("CURRENT_TIMESTAMP"), ""),
            Some("CURRENT_TIMESTAMP".into()),
            "MySQL 5.7 does not say DEFAULT_GENERATED"
        );
        assert_eq!(
            default(m, "int", Some("(1 + 2)"), "DEFAULT_GENERATED"),
            Some("(1 + 2)".into())
        );
        assert_eq!(
            default(m, "varchar(36)", Some("uuid()"), "DEFAULT_GENERATED"),
            Some("(uuid())".into())
        );
    }

    #[test]
    fn on_update_is_read_from_extra_on_both_servers() {
        assert_eq!(
            on_update("on update current_timestamp()"),
            Some("current_timestamp()".into())
        );
        assert_eq!(
            on_update("DEFAULT_GENERATED on update CURRENT_TIMESTAMP(3)"),
            Some("CURRENT_TIMESTAMP(3)".into())
        );
        assert_eq!(
            on_update("on update current_timestamp(6) INVISIBLE"),
            Some("current_timestamp(6)".into())
        );
        assert_eq!(on_update("auto_increment"), None);
        assert_eq!(on_update("DEFAULT_GENERATED"), None);
        assert_eq!(on_update(""), None);
    }
}
