//! SQLite: `sqlite_master` and the table-valued pragmas. CHECK constraints
//! live only in the table's text, which `ALTER TABLE` rewrites, so they
//! are not listed.

use std::future::Future;

use sqlx::{Pool, Sqlite};

use super::{literal, table_name, SchemaSnapshot, Snapshot};

impl SchemaSnapshot for Sqlite {
    fn snapshot<'a>(
        pool: &'a Pool<Self>,
        history_table: &'a str,
    ) -> impl Future<Output = Result<Snapshot, sqlx::Error>> + Send + 'a {
        let tables = format!(
            "m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> {}",
            literal(table_name(history_table))
        );
        let sql = format!(
            "SELECT 'table ' || m.name FROM sqlite_master m WHERE {tables} \
             UNION ALL \
             SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type \
               || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END \
               || COALESCE(' DEFAULT ' || p.dflt_value, '') \
               || CASE WHEN p.pk > 0 THEN ' PRIMARY KEY ' || p.pk ELSE '' END \
             FROM sqlite_master m, pragma_table_info(m.name) p WHERE {tables} \
             UNION ALL \
             SELECT 'index ' || m.name || '.' || l.name || CASE WHEN l.\"unique\" THEN ' UNIQUE' ELSE '' END \
               || ' (' || COALESCE((SELECT group_concat(COALESCE(i.name, '<expression>'), ', ') \
                                    FROM pragma_index_xinfo(l.name) i WHERE i.key = 1), '') || ')' \
               || COALESCE(': ' || (SELECT x.sql FROM sqlite_master x WHERE x.type = 'index' AND x.name = l.name), '') \
             FROM sqlite_master m, pragma_index_list(m.name) l WHERE {tables} \
             UNION ALL \
             SELECT 'foreign key ' || m.name || ' (' || f.\"from\" || ') -> ' || f.\"table\" \
               || ' (' || COALESCE(f.\"to\", '') || ') ON UPDATE ' || f.on_update || ' ON DELETE ' || f.on_delete \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE {tables} \
             UNION ALL \
             SELECT m.type || ' ' || m.name || ': ' || m.sql FROM sqlite_master m WHERE m.type IN ('view', 'trigger')"
        );
        async move {
            let lines: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await?;
            Ok(Snapshot::new(lines))
        }
    }
}
