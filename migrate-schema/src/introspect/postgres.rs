//! PostgreSQL: `pg_catalog` for the current schema. Types come from
//! `format_type`, defaults from `pg_get_expr`, checks from
//! `pg_get_constraintdef` and indexes from `pg_get_indexdef`: the server's
//! own printing, the same whatever the author wrote.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use crate::error::{database, SchemaError};
use crate::model::{
    Action, Check, Column, EnumType, ForeignKey, Identity, Index, Key, Schema, Table,
};

const TABLES: &str = "\
SELECT c.oid::int8, c.relname::text FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname";

const COLUMNS: &str = "\
SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
       EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
               WHERE dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'),
       col_description(a.attrelid, a.attnum)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

const CONSTRAINTS: &str = "\
SELECT con.conrelid::int8, con.conname::text, con.contype::text, pg_get_constraintdef(con.oid, true),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       fc.relname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       con.confdeltype::text, con.confupdtype::text
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
WHERE c.relnamespace = current_schema()::regnamespace AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.conrelid, con.conname";

const INDEXES: &str = "\
SELECT i.indrelid::int8, ic.relname::text, i.indisunique, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY ic.relname";

const ENUMS: &str = "\
SELECT t.typname::text,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t
WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype = 'e'
ORDER BY t.typname";

/// Reads every table and enum type of the current schema except `skip`
/// (the history table).
pub async fn introspect(conn: &mut PgConnection, skip: &[&str]) -> Result<Schema, SchemaError> {
    read(conn, skip)
        .await
        .map_err(|err| database("cannot read the PostgreSQL catalog", &err))
}

async fn read(conn: &mut PgConnection, skip: &[&str]) -> Result<Schema, sqlx::Error> {
    let mut tables: Vec<Table> = Vec::new();
    let mut by_oid: HashMap<i64, usize> = HashMap::new();
    for row in sqlx::query(TABLES).fetch_all(&mut *conn).await? {
        let name: String = row.get(1);
        if skip.contains(&name.as_str()) {
            continue;
        }
        by_oid.insert(row.get(0), tables.len());
        tables.push(Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            indexes: Vec::new(),
            sqlite: None,
        });
    }
    for row in sqlx::query(COLUMNS).fetch_all(&mut *conn).await? {
        let Some(&at) = by_oid.get(&row.get::<i64, _>(0)) else {
            continue;
        };
        let mut default: Option<String> = row.get(4);
        let identity_kind: String = row.get(5);
        let owns_sequence: bool = row.get(6);
        let identity = match identity_kind.as_str() {
            "a" => Some(Identity::Always),
            "d" => Some(Identity::ByDefault),
            _ if owns_sequence
                && default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval(")) =>
            {
                // The sequence's name is derived from the table's: it is
                // the serial, not a default to compare.
                default = None;
                Some(Identity::Serial)
            }
            _ => None,
        };
        tables[at].columns.push(Column {
            name: row.get(1),
            data_type: row.get(2),
            nullable: !row.get::<bool, _>(3),
            default,
            identity,
            on_update: None,
            comment: row.get(7),
        });
    }
    for row in sqlx::query(CONSTRAINTS).fetch_all(&mut *conn).await? {
        let Some(&at) = by_oid.get(&row.get::<i64, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let kind: String = row.get(2);
        let definition: String = row.get(3);
        let columns: Vec<String> = row.get(4);
        let table = &mut tables[at];
        match kind.as_str() {
            "p" => {
                table.primary_key = Some(Key {
                    name: Some(name),
                    columns,
                })
            }
            "u" => table.uniques.push(Key {
                name: Some(name),
                columns,
            }),
            "c" => table.checks.push(Check {
                name: Some(name),
                expression: definition,
            }),
            _ => table.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                ref_table: row.get::<Option<String>, _>(5).unwrap_or_default(),
                ref_columns: row.get(6),
                on_delete: action(&row.get::<String, _>(7)),
                on_update: action(&row.get::<String, _>(8)),
            }),
        }
    }
    for row in sqlx::query(INDEXES).fetch_all(&mut *conn).await? {
        let Some(&at) = by_oid.get(&row.get::<i64, _>(0)) else {
            continue;
        };
        let full: String = row.get(3);
        let definition = full
            .split_once(" USING ")
            .map_or(full.as_str(), |(_, rest)| rest)
            .to_string();
        tables[at].indexes.push(Index {
            name: row.get(1),
            unique: row.get(2),
            definition,
            sql: None,
        });
    }
    let enums = sqlx::query(ENUMS)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| EnumType {
            name: row.get(0),
            values: row.get(1),
        })
        .collect();
    Ok(Schema { tables, enums })
}

fn action(code: &str) -> Action {
    match code {
        "r" => Action::Restrict,
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        _ => Action::NoAction,
    }
}
