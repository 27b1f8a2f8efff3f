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
       CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR)
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

/// Reads every table of the connection's database except `skip`.
pub async fn introspect(conn: &mut MySqlConnection, skip: &[&str]) -> Result<Schema, SchemaError> {
    read(conn, skip)
        .await
        .map_err(|err| database("cannot read the MySQL catalog", &err))
}

async fn read(conn: &mut MySqlConnection, skip: &[&str]) -> Result<Schema, sqlx::Error> {
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
        let extra: String = row.get::<Option<String>, _>(5).unwrap_or_default();
        // MariaDB says `NULL` for a nullable column's implicit default.
        let default = row
            .get::<Option<String>, _>(4)
            .filter(|d| !d.eq_ignore_ascii_case("NULL"));
        table.columns.push(Column {
            name: row.get(1),
            data_type: row.get(2),
            nullable: row.get::<String, _>(3) == "YES",
            default,
            identity: extra
                .to_ascii_lowercase()
                .contains("auto_increment")
                .then_some(Identity::AutoIncrement),
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
