//! MySQL and MariaDB: `information_schema` of the current database.
//! `CAST(... AS CHAR)` because some servers return the catalog's text as
//! binary strings. A CHECK constraint's clause comes from
//! `information_schema.CHECK_CONSTRAINTS` (MariaDB 10.2, MySQL 8.0.16 on),
//! found by schema and name, the columns both servers have; a routine's
//! body is listed by its digest.

use std::future::Future;

use sqlx::{MySql, Pool};

use super::{literal, table_name, SchemaSnapshot, Snapshot};

impl SchemaSnapshot for MySql {
    fn snapshot<'a>(
        pool: &'a Pool<Self>,
        history_table: &'a str,
    ) -> impl Future<Output = Result<Snapshot, sqlx::Error>> + Send + 'a {
        let history = literal(table_name(history_table));
        let mine =
            |schema: &str, table: &str| format!("{schema} = DATABASE() AND {table} <> {history}");
        let tables = mine("TABLE_SCHEMA", "TABLE_NAME");
        let constraints = mine("tc.TABLE_SCHEMA", "tc.TABLE_NAME");
        let triggers = mine("TRIGGER_SCHEMA", "EVENT_OBJECT_TABLE");
        let sql = format!(
            "SELECT CAST(CONCAT('table ', TABLE_NAME, ' (', TABLE_TYPE, ')') AS CHAR) \
             FROM information_schema.TABLES WHERE {tables} \
             UNION ALL \
             SELECT CAST(CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, \
                    IF(IS_NULLABLE = 'NO', ' NOT NULL', ''), IFNULL(CONCAT(' DEFAULT ', COLUMN_DEFAULT), ''), \
                    IF(EXTRA = '', '', CONCAT(' ', EXTRA))) AS CHAR) \
             FROM information_schema.COLUMNS WHERE {tables} \
             UNION ALL \
             SELECT CAST(CONCAT('index ', TABLE_NAME, '.', INDEX_NAME, IF(NON_UNIQUE = 0, ' UNIQUE', ''), \
                    ' ', INDEX_TYPE, ' (', \
                    GROUP_CONCAT(CONCAT(COLUMN_NAME, IFNULL(CONCAT('(', SUB_PART, ')'), '')) \
                                 ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')') AS CHAR) \
             FROM information_schema.STATISTICS WHERE {tables} GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE \
             UNION ALL \
             SELECT CAST(CONCAT('constraint ', tc.TABLE_NAME, '.', tc.CONSTRAINT_NAME, ' ', tc.CONSTRAINT_TYPE, \
                    IFNULL(CONCAT(' -> ', rc.REFERENCED_TABLE_NAME, ' ON UPDATE ', rc.UPDATE_RULE, \
                                  ' ON DELETE ', rc.DELETE_RULE), ''), \
                    IF(tc.CONSTRAINT_TYPE = 'CHECK', IFNULL(CONCAT(': ', \
                       (SELECT GROUP_CONCAT(cc.CHECK_CLAUSE ORDER BY cc.CHECK_CLAUSE SEPARATOR ' | ') \
                        FROM information_schema.CHECK_CONSTRAINTS cc \
                        WHERE cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
                          AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME)), ''), '')) AS CHAR) \
             FROM information_schema.TABLE_CONSTRAINTS tc \
               LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc \
                 ON rc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
                    AND rc.TABLE_NAME = tc.TABLE_NAME \
             WHERE {constraints} \
             UNION ALL \
             SELECT CAST(CONCAT('foreign key ', TABLE_NAME, '.', CONSTRAINT_NAME, ' (', \
                    GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ', '), ') -> ', REFERENCED_TABLE_NAME, \
                    ' (', GROUP_CONCAT(REFERENCED_COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ', '), ')') AS CHAR) \
             FROM information_schema.KEY_COLUMN_USAGE WHERE {tables} AND REFERENCED_TABLE_NAME IS NOT NULL \
             GROUP BY TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME \
             UNION ALL \
             SELECT CAST(CONCAT('view ', TABLE_NAME, ': ', VIEW_DEFINITION) AS CHAR) \
             FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() \
             UNION ALL \
             SELECT CAST(CONCAT('trigger ', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ON ', \
                    EVENT_OBJECT_TABLE, ': ', ACTION_STATEMENT) AS CHAR) \
             FROM information_schema.TRIGGERS WHERE {triggers} \
             UNION ALL \
             SELECT CAST(CONCAT('routine ', ROUTINE_TYPE, ' ', ROUTINE_NAME, \
                    ' body md5 ', MD5(IFNULL(ROUTINE_DEFINITION, ''))) AS CHAR) \
             FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
        );
        async move {
            let lines: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await?;
            Ok(Snapshot::new(lines))
        }
    }
}
