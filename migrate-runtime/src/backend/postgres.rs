//! PostgreSQL: a session-level advisory lock, batches over the simple query
//! protocol (one round trip each, transactional DDL).

use std::time::Duration;

use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition, PgQueryResult, Postgres};

use sqlx::Executor;

use migrate_core::statements::split_statements;
use migrate_core::{Dialect, HistoryTable};

use super::{
    end_session, history_or_missing, history_rows, sessions, Backend, Backoff, BatchFailure,
};
use crate::error::Error;
use crate::history::HistoryRow;

/// undefined_table
const UNDEFINED_TABLE: &str = "42P01";

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    const LOCK_IS_TRANSACTION: bool = false;

    super::compiled_here!();

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

    async fn execute_batch(conn: &mut PgConnection, sql: &str) -> Result<Vec<u64>, BatchFailure> {
        super::execute_counting::<Postgres>(conn, sql, PgQueryResult::rows_affected, error_position)
            .await
    }

    async fn prepare_session(
        conn: &mut PgConnection,
        io_timeout: Duration,
    ) -> Result<Option<String>, sqlx::Error> {
        // The names a server of this version knows (`missing_ok`: NULL for
        // one it does not), with their values, to put back afterwards.
        let settings = session_settings(io_timeout);
        let read = format!(
            "SELECT {}",
            settings
                .iter()
                .map(|(name, _)| format!("current_setting('{name}', true)"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row = (&mut *conn).fetch_one(sqlx::raw_sql(&read)).await?;
        let (mut set, mut restore) = (Vec::new(), Vec::new());
        for (index, (name, value)) in settings.iter().enumerate() {
            let previous: Option<String> = sqlx::Row::try_get(&row, index)?;
            if let Some(previous) = previous {
                set.push(format!("SET {name} = '{value}'"));
                restore.push(format!(
                    "SET {name} = {}",
                    Dialect::Postgres.literal(&previous)
                ));
            }
        }
        // SET, not SET LOCAL: they must hold across the run's commits.
        Self::execute(conn, &set.join(";\n")).await?;
        Ok(Some(restore.join(";\n")))
    }

    async fn session_exists(conn: &mut PgConnection, id: u64) -> Result<bool, sqlx::Error> {
        let count = format!("SELECT count(*)::text FROM pg_stat_activity WHERE pid = {id}");
        Ok(sessions::<Postgres>(conn, &count).await? != "0")
    }

    async fn end_lost_session(
        conn: &mut PgConnection,
        id: u64,
        settle: Duration,
    ) -> Result<(), sqlx::Error> {
        let state = format!("SELECT COALESCE(state, '') FROM pg_stat_activity WHERE pid = {id}");
        let terminate = format!("SELECT pg_terminate_backend({id})");
        end_session::<Postgres>(conn, &state, &terminate, settle).await
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

/// The settings of the run's session: the server probes an idle client
/// (`tcp_keepalives_*`), gives up on one that stops acknowledging
/// (`tcp_user_timeout`, PostgreSQL 12+), checks for a vanished client
/// while a statement runs (`client_connection_check_interval`, 14+), and
/// ends a session left idle in a transaction, each about `io_timeout` after
/// the client is gone; a session that ends frees its advisory lock.
fn session_settings(io_timeout: Duration) -> Vec<(&'static str, String)> {
    let seconds = io_timeout.as_secs().max(2);
    vec![
        ("tcp_keepalives_idle", (seconds / 2).to_string()),
        ("tcp_keepalives_interval", (seconds / 8).max(1).to_string()),
        ("tcp_keepalives_count", "4".to_string()),
        ("tcp_user_timeout", (seconds * 1000).to_string()),
        ("client_connection_check_interval", "1000".to_string()),
        (
            "idle_in_transaction_session_timeout",
            (seconds * 1000).to_string(),
        ),
    ]
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
