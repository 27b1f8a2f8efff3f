//! SQLite: the `pragma_table_info`, `pragma_foreign_key_list`,
//! `pragma_index_list` and `pragma_index_xinfo` table functions, and
//! `sqlite_master`'s stored text only for what they do not answer (CHECK
//! constraints, a partial index's `WHERE`, an expression index's columns,
//! `AUTOINCREMENT`).

use sqlx::{Row, SqliteConnection};

use crate::error::{database, SchemaError};
use crate::introspect::text;
use crate::model::{
    Action, Check, Column, ForeignKey, Identity, Index, Key, Schema, SqliteTable, Table,
};

/// Reads every table of the database except `skip` (the history table).
pub async fn introspect(conn: &mut SqliteConnection, skip: &[&str]) -> Result<Schema, SchemaError> {
    let failed = |err: sqlx::Error| database("cannot read the SQLite catalog", &err);
    let rows = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(failed)?;
    let mut tables = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        if skip.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            continue;
        }
        let create: String = row.get(1);
        tables.push(read_table(conn, name, create).await.map_err(failed)?);
    }
    Ok(Schema {
        tables,
        enums: Vec::new(),
    })
}

async fn read_table(
    conn: &mut SqliteConnection,
    name: String,
    create: String,
) -> Result<Table, sqlx::Error> {
    let column_rows = sqlx::query(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind(&name)
    .fetch_all(&mut *conn)
    .await?;
    let mut columns = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    for row in &column_rows {
        let column: String = row.get(0);
        let data_type: String = row.get(1);
        let not_null: i64 = row.get(2);
        let default: Option<String> = row.get(3);
        let pk_position: i64 = row.get(4);
        if pk_position > 0 {
            pk.push((pk_position, column.clone()));
        }
        columns.push(Column {
            name: column,
            data_type: text::normalize(&data_type),
            nullable: not_null == 0,
            default: default.map(|d| normalize_default(&d)),
            identity: None,
            on_update: None,
            comment: None,
        });
    }
    pk.sort();
    let primary_key = (!pk.is_empty()).then(|| Key {
        name: None,
        columns: pk.into_iter().map(|(_, c)| c).collect(),
    });
    // AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY: the one column.
    if text::has_word(&create, "AUTOINCREMENT") {
        if let Some(key) = &primary_key {
            if let Some(column) = columns.iter_mut().find(|c| c.name == key.columns[0]) {
                column.identity = Some(Identity::AutoIncrement);
            }
        }
    }

    let fk_rows = sqlx::query(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
    )
    .bind(&name)
    .fetch_all(&mut *conn)
    .await?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    for row in &fk_rows {
        let id: i64 = row.get(0);
        let ref_table: String = row.get(1);
        let from: String = row.get(2);
        let to: Option<String> = row.get(3);
        match foreign_keys.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.columns.push(from);
                fk.ref_columns.extend(to);
            }
            _ => foreign_keys.push((
                id,
                ForeignKey {
                    name: None,
                    columns: vec![from],
                    ref_table,
                    ref_columns: to.into_iter().collect(),
                    on_update: Action::from_words(row.get::<String, _>(4).as_str()),
                    on_delete: Action::from_words(row.get::<String, _>(5).as_str()),
                },
            )),
        }
    }
    let mut foreign_keys: Vec<ForeignKey> = foreign_keys.into_iter().map(|(_, fk)| fk).collect();
    for fk in &mut foreign_keys {
        // `REFERENCES parent` without columns means the parent's primary key.
        if fk.ref_columns.is_empty() {
            let parent_pk =
                sqlx::query("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")
                    .bind(&fk.ref_table)
                    .fetch_all(&mut *conn)
                    .await?;
            fk.ref_columns = parent_pk.iter().map(|r| r.get(0)).collect();
        }
    }
    foreign_keys.sort_by(|a, b| (&a.columns, &a.ref_table).cmp(&(&b.columns, &b.ref_table)));

    let index_rows =
        sqlx::query("SELECT name, \"unique\", origin FROM pragma_index_list(?) ORDER BY name")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for row in &index_rows {
        let index: String = row.get(0);
        let unique: i64 = row.get(1);
        let origin: String = row.get(2);
        let key_rows = sqlx::query(
            "SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
        )
        .bind(&index)
        .fetch_all(&mut *conn)
        .await?;
        match origin.as_str() {
            "pk" => {}
            "u" => uniques.push(Key {
                name: None,
                columns: key_rows
                    .iter()
                    .map(|r| r.get::<Option<String>, _>(1).unwrap_or_default())
                    .collect(),
            }),
            _ => {
                let sql: Option<String> = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                )
                .bind(&index)
                .fetch_one(&mut *conn)
                .await?;
                let sql = sql.unwrap_or_default();
                let has_expression = key_rows.iter().any(|r| r.get::<i64, _>(0) == -2);
                let mut definition = if has_expression {
                    text::index_columns(&sql)
                } else {
                    let parts: Vec<String> = key_rows
                        .iter()
                        .map(|r| {
                            let mut part: String =
                                r.get::<Option<String>, _>(1).unwrap_or_default();
                            let coll: Option<String> = r.get(3);
                            if let Some(coll) = coll.filter(|c| !c.eq_ignore_ascii_case("BINARY")) {
                                part.push_str(&format!(" COLLATE {coll}"));
                            }
                            if r.get::<i64, _>(2) == 1 {
                                part.push_str(" DESC");
                            }
                            part
                        })
                        .collect();
                    format!("({})", parts.join(", "))
                };
                if let Some(predicate) = text::index_predicate(&sql) {
                    definition.push_str(&format!(" WHERE {predicate}"));
                }
                indexes.push(Index {
                    name: index,
                    unique: unique == 1,
                    definition,
                    sql: Some(sql),
                });
            }
        }
    }
    uniques.sort_by(|a, b| a.columns.cmp(&b.columns));

    let mut checks: Vec<Check> = text::checks(&create)
        .into_iter()
        .map(|(name, expression)| Check { name, expression })
        .collect();
    checks.sort_by(|a, b| a.expression.cmp(&b.expression));

    let triggers = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
    )
    .bind(&name)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Table {
        name,
        columns,
        primary_key,
        uniques,
        foreign_keys,
        checks,
        indexes,
        sqlite: Some(SqliteTable { create, triggers }),
    })
}

/// A default as SQLite stores it is the author's text: `TRUE` and `1`,
/// `'x'` and `('x')` are the same value.
fn normalize_default(text: &str) -> String {
    let mut value = text::normalize(text);
    while value.starts_with('(') && value.ends_with(')') && balanced_inside(&value) {
        value = value[1..value.len() - 1].trim().to_string();
    }
    match value.as_str() {
        "TRUE" => "1".to_string(),
        "FALSE" => "0".to_string(),
        _ => value,
    }
}

/// Whether the outer parentheses of `(...)` enclose the whole text.
fn balanced_inside(text: &str) -> bool {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != text.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}
