//! PostgreSQL: a session-level advisory lock, batches over the simple query
//! protocol (one round trip each, transactional DDL).

use std::time::Duration;

use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition, Postgres};

use sqlx::Executor;

use migrate_core::statements::split_statements;
use migrate_core::{Dialect, HistoryTable};

use super::{history_or_missing, history_rows, Backend, Backoff, BatchFailure};
use crate::error::Error;
use crate::history::HistoryRow;

/// undefined_table
const UNDEFINED_TABLE: &str = "42P01";

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    const LOCK_IS_TRANSACTION: bool = false;

    async fn read_history(
        conn: &mut PgConnection,
        sql: &str,
    ) -> Result<Option<Vec<HistoryRow>>, sqlx::Error> {
        // The simple query protocol: one round trip even on a connection that
        // has prepared nothing yet, as at boot.
        history_or_missing(
            (&mut *conn).fetch_all(sqlx::raw_sql(sql)).await,
            |db| db.code().is_some_and(|code| code == UNDEFINED_TABLE),
            history_rows,
        )
    }

    async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
        (&mut *conn).execute(sqlx::raw_sql(sql)).await.map(drop)
    }

    async fn execute_batch(conn: &mut PgConnection, sql: &str) -> Result<(), BatchFailure> {
        super::execute_counting::<Postgres>(conn, sql, error_position).await
    }

    async fn execute_outside_transaction(
        conn: &mut PgConnection,
        sql: &str,
        _: Duration,
    ) -> Result<Result<(), BatchFailure>, Error> {
        // A multi-statement simple query runs as one implicit transaction,
        // where `CREATE INDEX CONCURRENTLY` refuses to run: send each alone.
        for (completed, statement) in split_statements(sql).into_iter().enumerate() {
            if let Err(source) = (&mut *conn).execute(sqlx::raw_sql(statement)).await {
                return Ok(Err(BatchFailure {
                    position: error_position(&source),
                    source,
                    completed,
                }));
            }
        }
        Ok(Ok(()))
    }

    async fn lock(
        conn: &mut PgConnection,
        table: &HistoryTable,
        timeout: Duration,
    ) -> Result<(), Error> {
        // Polling `pg_try_advisory_lock` instead of waiting in
        // `pg_advisory_lock` keeps the timeout on this side, without a
        // `lock_timeout` setting left behind on a pooled connection.
        let sql = format!(
            "SELECT CASE WHEN pg_try_advisory_lock({}) THEN 'locked' ELSE 'busy' END",
            lock_key(table)
        );
        let mut backoff = Backoff::new(timeout, table.name());
        loop {
            let row = (&mut *conn).fetch_one(sqlx::raw_sql(&sql)).await?;
            let answer: String = sqlx::Row::try_get(&row, 0)?;
            if answer == "locked" {
                return Ok(());
            }
            backoff.wait().await?;
        }
    }

    async fn unlock(conn: &mut PgConnection, table: &HistoryTable) -> Result<(), sqlx::Error> {
        let sql = format!("SELECT pg_advisory_unlock({})", lock_key(table));
        (&mut *conn).execute(sqlx::raw_sql(&sql)).await.map(drop)
    }

    async fn server_session_id(conn: &mut PgConnection) -> Result<Option<u64>, sqlx::Error> {
        let row = (&mut *conn)
            .fetch_one(sqlx::raw_sql("SELECT pg_backend_pid()::text"))
            .await?;
        let pid: String = sqlx::Row::try_get(&row, 0)?;
        Ok(pid.parse().ok())
    }

    async fn cancel_statement(conn: &mut PgConnection, id: u64) -> Result<(), sqlx::Error> {
        // The server aborts the statement and rolls its transaction back;
        // the session itself ends when the dropped connection closes.
        let sql = format!("SELECT pg_cancel_backend({id})");
        (&mut *conn).execute(sqlx::raw_sql(&sql)).await?;
        let gone = format!("SELECT count(*)::text FROM pg_stat_activity WHERE pid = {id}");
        super::wait_until_gone::<Postgres>(conn, &gone).await
    }
}

/// The server's 1-based character position of the error in the query
/// sent; none for an error in a query it made itself (a function body).
fn error_position(err: &sqlx::Error) -> Option<usize> {
    let err = err
        .as_database_error()?
        .try_downcast_ref::<PgDatabaseError>()?;
    match err.position()? {
        PgErrorPosition::Original(position) => Some(position),
        PgErrorPosition::Internal { .. } => None,
    }
}

/// The advisory lock key: FNV-1a of the table name, so that runners sharing
/// a history table share a lock and others do not.
fn lock_key(table: &HistoryTable) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("migrate:{}", table.name()).bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}
