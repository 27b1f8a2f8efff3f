//! SQLite: the lock is a write transaction (`BEGIN IMMEDIATE`), so each
//! revision runs in a savepoint inside it; a run that has work also holds
//! the write lock of `<database>-migrate-lock` throughout, the lock that
//! outlives the commits of `transaction: false` revisions.

use std::time::Duration;

use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteQueryResult, SqliteRow,
};

use sqlx::{ConnectOptions, Executor};

use migrate_core::dialect::unpack_history;
use migrate_core::{Dialect, HistoryTable};

use super::{history_or_missing, Backend, Backoff, BatchFailure, ForeignKeyViolation};
use crate::error::Error;
use crate::history::HistoryRow;

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    const LOCK_IS_TRANSACTION: bool = true;

    super::compiled_here!();

    async fn read_history(
        conn: &mut SqliteConnection,
        sql: &str,
    ) -> Result<Option<Vec<HistoryRow>>, sqlx::Error> {
        // Prepared once per connection and cached: no network to save here,
        // but parsing the statement on every boot would cost more than the read.
        history_or_missing(
            (&mut *conn).fetch_all(sqlx::query(sql)).await,
            |db| db.message().contains("no such table"),
            unpack_rows,
        )
    }

    async fn execute(conn: &mut SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
        (&mut *conn).execute(sqlx::raw_sql(sql)).await.map(drop)
    }

    async fn execute_batch(
        conn: &mut SqliteConnection,
        sql: &str,
    ) -> Result<Vec<u64>, BatchFailure> {
        super::execute_counting::<Sqlite>(conn, sql, SqliteQueryResult::rows_affected, |_| None)
            .await
    }

    async fn lock_across_commits(
        conn: &mut SqliteConnection,
        timeout: Duration,
    ) -> Result<Option<SqliteConnection>, Error> {
        let Some(path) = lock_file(conn).await? else {
            return Ok(None);
        };
        // A database of its own, beside the migrated one, whose write lock
        // is the run lock: SQLite's own file locking, so it is shared by
        // every process and freed when the holder's process dies, and the
        // file needs no format of ours. Nothing is ever written to it.
        // The journal in memory: holding the lock leaves no `-journal`
        // file beside it, even when the holder dies.
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Memory);
        let mut lock = options.connect().await.map_err(|err| {
            Error::Database(sqlx::Error::Configuration(
                format!(
                    "cannot open the migration lock file {}: {err}; the database's directory \
                     must be writable by the run",
                    path.display()
                )
                .into(),
            ))
        })?;
        begin_immediate(&mut lock, timeout).await?;
        Ok(Some(lock))
    }

    async fn execute_outside_transaction(
        conn: &mut SqliteConnection,
        sql: &str,
        lock_timeout: Duration,
    ) -> Result<Result<(), BatchFailure>, Error> {
        // The lock is a transaction: give it up for the statements, then
        // take it again. Other runs wait on the lock file meanwhile (see
        // `lock_across_commits`); the pending row committed here is what a
        // crash part-way leaves for the next run.
        Self::execute(conn, "COMMIT").await?;
        let result = Self::execute_batch(conn, sql).await;
        begin_immediate(conn, lock_timeout).await?;
        Ok(result.map(drop))
    }

    async fn lock(
        conn: &mut SqliteConnection,
        _: &HistoryTable,
        timeout: Duration,
    ) -> Result<(), Error> {
        begin_immediate(conn, timeout).await
    }

    async fn suspend_foreign_keys(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
        let row = (&mut *conn).fetch_one("PRAGMA foreign_keys").await?;
        let enforced: i64 = sqlx::Row::try_get(&row, 0)?;
        if enforced == 0 {
            return Ok(false);
        }
        Self::execute(conn, "PRAGMA foreign_keys = OFF").await?;
        Ok(true)
    }

    async fn restore_foreign_keys(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        Self::execute(conn, "PRAGMA foreign_keys = ON").await
    }

    async fn foreign_key_violation(
        conn: &mut SqliteConnection,
    ) -> Result<Option<ForeignKeyViolation>, sqlx::Error> {
        let row = (&mut *conn).fetch_optional(FOREIGN_KEY_CHECK).await?;
        row.as_ref().map(violation).transpose()
    }

    async fn execute_batch_then_check_foreign_keys(
        conn: &mut SqliteConnection,
        sql: &str,
    ) -> Result<(Vec<u64>, Option<ForeignKeyViolation>), BatchFailure> {
        // Each message between the task and sqlx's worker thread costs more
        // than the check itself (tens of µs against a few): the check goes
        // in the batch, as its last statement, and its row comes back with
        // the batch's results.
        let sql = format!("{sql}{FOREIGN_KEY_CHECK};");
        let mut results = (&mut *conn).fetch_many(sqlx::raw_sql(&sql));
        // A statement's rows come before its result: `row` is the first row
        // of the statement that ended last, at the end the check's.
        let (mut counts, mut first, mut row) = (Vec::new(), None, None);
        loop {
            match std::future::poll_fn(|cx| results.as_mut().poll_next(cx)).await {
                None => break,
                Some(Ok(sqlx::Either::Left(result))) => {
                    counts.push(result.rows_affected());
                    row = first.take();
                }
                Some(Ok(sqlx::Either::Right(found))) => {
                    first.get_or_insert(found);
                }
                Some(Err(source)) => {
                    return Err(BatchFailure {
                        source,
                        completed: counts.len(),
                        position: None,
                    })
                }
            }
        }
        drop(results);
        // The check's own result is not one of the batch's.
        counts.pop();
        match row.as_ref().map(violation).transpose() {
            Ok(violation) => Ok((counts, violation)),
            Err(source) => Err(BatchFailure {
                source,
                completed: counts.len(),
                position: None,
            }),
        }
    }

    async fn unlock(conn: &mut SqliteConnection, _: &HistoryTable) -> Result<(), sqlx::Error> {
        match Self::execute(conn, "COMMIT").await {
            // A failed single-transaction run has rolled back already.
            Err(err) if err.to_string().contains("no transaction is active") => Ok(()),
            other => other,
        }
    }

    async fn server_session_id(_: &mut SqliteConnection) -> Result<Option<u64>, sqlx::Error> {
        // In-process: sqlx's worker thread finishes the statement it is in,
        // then closing the dropped connection rolls back the uncommitted
        // write transaction. There is no server session to cancel.
        Ok(None)
    }

    async fn cancel_statement(_: &mut SqliteConnection, _: u64) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// The first row that breaks a foreign key (`PRAGMA foreign_key_check`
/// scans every table with one).
const FOREIGN_KEY_CHECK: &str =
    r#"SELECT "table", rowid, parent FROM pragma_foreign_key_check LIMIT 1"#;

fn violation(row: &SqliteRow) -> Result<ForeignKeyViolation, sqlx::Error> {
    Ok(ForeignKeyViolation {
        table: sqlx::Row::try_get(row, 0)?,
        rowid: sqlx::Row::try_get(row, 1)?,
        parent: sqlx::Row::try_get(row, 2)?,
    })
}

/// The lock file of the run lock: `<database file>-migrate-lock`; `None`
/// for a database without a file (in memory, temporary).
async fn lock_file(conn: &mut SqliteConnection) -> Result<Option<std::path::PathBuf>, Error> {
    let row = (&mut *conn)
        .fetch_optional("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .await?;
    let file: Option<String> = row.map(|row| sqlx::Row::try_get(&row, 0)).transpose()?;
    Ok(file
        .filter(|file| !file.is_empty())
        .map(|file| format!("{file}-migrate-lock").into()))
}

/// The packed history value (one row, `NULL` for an empty table).
fn unpack_rows(rows: &[SqliteRow]) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let packed: Option<String> = match rows.first() {
        Some(row) => sqlx::Row::try_get(row, 0)?,
        None => None,
    };
    let records = unpack_history(packed.as_deref().unwrap_or_default()).ok_or_else(|| {
        sqlx::Error::Decode(
            "a history row holds a control character; the table was edited by hand".into(),
        )
    })?;
    Ok(records
        .into_iter()
        .map(|(revision, checksum, state)| HistoryRow {
            revision: revision.to_string(),
            checksum: checksum.to_string(),
            state: state.to_string(),
        })
        .collect())
}

/// `BEGIN IMMEDIATE`, retried while another writer holds the database, for
/// at most `timeout`. SQLite's busy handler also waits inside each attempt,
/// for the connection's `busy_timeout` (5 s by default in sqlx): it is
/// bounded by `timeout` meanwhile, or a short lock timeout would not be
/// honoured.
async fn begin_immediate(conn: &mut SqliteConnection, timeout: Duration) -> Result<(), Error> {
    let row = (&mut *conn).fetch_one("PRAGMA busy_timeout").await?;
    let busy_timeout: i64 = sqlx::Row::try_get(&row, 0)?;
    let bounded = busy_timeout.min(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX));
    Sqlite::execute(conn, &format!("PRAGMA busy_timeout = {bounded}")).await?;
    let locked = retry_begin_immediate(conn, timeout).await;
    let restore = format!("PRAGMA busy_timeout = {busy_timeout}");
    if let Err(err) = Sqlite::execute(conn, &restore).await {
        // Not worth failing the run (or leaving a lock taken unreported):
        // the connection only keeps the shorter wait.
        tracing::warn!(%err, "migrations: restoring the SQLite busy_timeout failed");
    }
    locked
}

async fn retry_begin_immediate(
    conn: &mut SqliteConnection,
    timeout: Duration,
) -> Result<(), Error> {
    let mut backoff = Backoff::new(timeout, "the SQLite database");
    loop {
        match Sqlite::execute(conn, "BEGIN IMMEDIATE").await {
            Ok(()) => return Ok(()),
            Err(err) if is_busy(&err) => backoff.wait().await?,
            Err(err) => return Err(err.into()),
        }
    }
}

fn is_busy(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| {
        matches!(db.code().as_deref(), Some("5") | Some("6") | Some("517"))
            || db.message().contains("database is locked")
    })
}
