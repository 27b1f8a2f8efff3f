//! PostgreSQL: `pg_catalog`, every schema but the system's, with the
//! server's own rendering of types, defaults, indexes, constraints, views
//! and triggers (`format_type`, `pg_get_indexdef`, ...), so the same
//! object always reads the same. A function's body is listed by its
//! digest: a down that forgets to restore the body of a function its up
//! replaced shows, without a page of source in the difference.

use std::future::Future;

use sqlx::{Pool, Postgres};

use super::{literal, table_name, SchemaSnapshot, Snapshot};

/// The namespaces of the user's objects.
const USER_NAMESPACE: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

impl SchemaSnapshot for Postgres {
    fn snapshot<'a>(
        pool: &'a Pool<Self>,
        history_table: &'a str,
    ) -> impl Future<Output = Result<Snapshot, sqlx::Error>> + Send + 'a {
        let history = literal(table_name(history_table));
        let history_schema = match history_table.rsplit_once('.') {
            Some((schema, _)) => literal(schema),
            None => "''".to_string(),
        };
        let sql = format!(
            "WITH rel AS ( \
               SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relkind \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE {USER_NAMESPACE} AND c.relname <> {history} \
             ) \
             SELECT 'relation ' || rel.name || ' (' || rel.relkind::text || ')' FROM rel \
               WHERE rel.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
             UNION ALL \
             SELECT 'column ' || rel.name || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
               || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
               || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') \
               || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END \
             FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid \
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE rel.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped \
             UNION ALL \
             SELECT 'index ' || rel.name || ': ' || pg_get_indexdef(i.indexrelid) \
             FROM rel JOIN pg_index i ON i.indrelid = rel.oid \
             UNION ALL \
             SELECT 'constraint ' || rel.name || '.' || con.conname || ': ' || pg_get_constraintdef(con.oid) \
             FROM rel JOIN pg_constraint con ON con.conrelid = rel.oid \
             UNION ALL \
             SELECT 'view ' || rel.name || ': ' || pg_get_viewdef(rel.oid) FROM rel WHERE rel.relkind IN ('v', 'm') \
             UNION ALL \
             SELECT 'trigger ' || rel.name || '.' || t.tgname || ': ' || pg_get_triggerdef(t.oid) \
             FROM rel JOIN pg_trigger t ON t.tgrelid = rel.oid WHERE NOT t.tgisinternal \
             UNION ALL \
             SELECT 'type ' || n.nspname || '.' || t.typname || ' (' || t.typtype::text || ')' \
               || COALESCE(' (' || (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) \
                                    FROM pg_enum e WHERE e.enumtypid = t.oid) || ')', '') \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE {USER_NAMESPACE} AND t.typtype IN ('e', 'd', 'c', 'r') \
               AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c') \
             UNION ALL \
             SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
               || COALESCE(' RETURNS ' || pg_get_function_result(p.oid), '') || ' body md5 ' || md5(p.prosrc) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NAMESPACE} \
             UNION ALL \
             SELECT 'sequence ' || rel.name || ' ' || format_type(s.seqtypid, NULL) || ' START ' || s.seqstart \
               || ' INCREMENT ' || s.seqincrement || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax \
               || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END \
             FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid \
             UNION ALL \
             SELECT 'policy ' || rel.name || '.' || pol.polname || ' ' || pol.polcmd::text \
               || CASE WHEN pol.polpermissive THEN '' ELSE ' RESTRICTIVE' END \
               || COALESCE(' USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')', '') \
               || COALESCE(' WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')', '') \
             FROM rel JOIN pg_policy pol ON pol.polrelid = rel.oid \
             UNION ALL \
             SELECT 'row level security ' || rel.name || CASE WHEN c.relforcerowsecurity THEN ' FORCE' ELSE '' END \
             FROM rel JOIN pg_class c ON c.oid = rel.oid WHERE c.relrowsecurity \
             UNION ALL \
             SELECT 'schema ' || n.nspname FROM pg_namespace n \
             WHERE {USER_NAMESPACE} AND n.nspname <> 'public' AND n.nspname <> {history_schema} \
             UNION ALL \
             SELECT 'extension ' || e.extname FROM pg_extension e WHERE e.extname <> 'plpgsql'"
        );
        async move {
            let lines: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await?;
            Ok(Snapshot::new(lines))
        }
    }
}
