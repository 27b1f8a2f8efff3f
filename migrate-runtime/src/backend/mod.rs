//! What differs between databases, behind one trait: how to read the
//! history in one round trip, how to lock, how to send a batch. One module
//! per database, each behind its Cargo feature.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use migrate_core::{Dialect, Direction, HistoryTable, Target};

use crate::error::Error;
use crate::history::HistoryRow;
use crate::report::Report;
use crate::runner::Runner;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

/// A database the runner can migrate: implemented for `sqlx::Postgres`,
/// `sqlx::MySql` and `sqlx::Sqlite`, each behind the feature of the same
/// name. Every method works on one connection, which holds the lock for the
/// whole run.
pub trait Backend: sqlx::Database {
    /// The SQL dialect of the batches.
    const DIALECT: Dialect;

    /// Whether the lock is itself a transaction (SQLite, whose lock is its
    /// write transaction): revisions then nest in savepoints instead of
    /// opening transactions of their own.
    const LOCK_IS_TRANSACTION: bool;

    /// Runs `SELECT revision, checksum, state ...`: the one statement of a
    /// no-op boot, in one round trip (over a network, the simple query
    /// protocol, since prepare-then-execute costs two on a fresh
    /// connection). `None` when the table does not exist yet.
    fn read_history(
        conn: &mut Self::Connection,
        sql: &str,
    ) -> impl Future<Output = Result<Option<Vec<HistoryRow>>, sqlx::Error>> + Send;

    /// Sends a batch of statements in one round trip.
    fn execute(
        conn: &mut Self::Connection,
        sql: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Sends a batch in one round trip, as [`execute`](Self::execute)
    /// does, reading its results statement by statement: on success, the
    /// rows each statement changed, in order (one count per statement, or
    /// per result set), so that the history writes at a revision's ends
    /// can be checked; on failure, how many statements succeeded first and
    /// where the database pointed, so that the failed statement is found
    /// in its file.
    fn execute_batch(
        conn: &mut Self::Connection,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<u64>, BatchFailure>> + Send;

    /// Runs SQL that must not be inside a transaction (`transaction:
    /// false`), statement by statement where the protocol would otherwise
    /// wrap a batch in one. The inner result is the SQL's own: on failure,
    /// how many of its statements succeeded and, where the database
    /// reports one, the position in the failed statement sent on its own.
    fn execute_outside_transaction(
        conn: &mut Self::Connection,
        sql: &str,
        lock_timeout: Duration,
    ) -> impl Future<Output = Result<Result<(), BatchFailure>, Error>> + Send;

    /// Where the lock cannot outlive a commit (SQLite, whose lock is the
    /// write transaction a `transaction: false` revision has to end), a
    /// second lock that can, held by a connection of its own for the whole
    /// run and released by closing it. Taken before [`lock`](Self::lock),
    /// waiting up to `timeout`. `None` where the lock is a session lock
    /// already, or where there is nothing to lock beside (an in-memory
    /// SQLite database).
    fn lock_across_commits(
        conn: &mut Self::Connection,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<Self::Connection>, Error>> + Send {
        let _ = (conn, timeout);
        async { Ok(None) }
    }

    /// Before the lock is taken: settings for this session that make the
    /// server end it, and so free the lock, soon after the client is gone
    /// (a crash, a network partition), about `io_timeout` later. Returns
    /// the SQL that puts the previous values back, run before the
    /// connection returns to the pool.
    fn prepare_session(
        conn: &mut Self::Connection,
        io_timeout: Duration,
    ) -> impl Future<Output = Result<Option<String>, sqlx::Error>> + Send {
        let _ = (conn, io_timeout);
        async { Ok(None) }
    }

    /// Whether the server still has session `id`, asked from `conn`, a
    /// second connection: how a revision's long SQL is watched for a
    /// partition. `true` where there is no server (SQLite).
    fn session_exists(
        conn: &mut Self::Connection,
        id: u64,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send {
        let _ = (conn, id);
        async { Ok(true) }
    }

    /// After this run's connection to session `id` died: from `conn`, a new
    /// connection, waits up to `settle` for the statement the session is
    /// still running to finish, then ends the session (rolling back
    /// whatever it left open and freeing its lock) and waits for it to be
    /// gone, so that the history read next tells the final outcome.
    fn end_lost_session(
        conn: &mut Self::Connection,
        id: u64,
        settle: Duration,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        let _ = (conn, id, settle);
        async { Ok(()) }
    }

    /// Takes the migration lock, waiting up to `timeout`. Session-level: it
    /// survives commits, and ends with the connection if the process dies.
    fn lock(
        conn: &mut Self::Connection,
        table: &HistoryTable,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Releases the lock.
    fn unlock(
        conn: &mut Self::Connection,
        table: &HistoryTable,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Called before the lock is taken: switches off foreign-key
    /// enforcement where it would act on a revision's intermediate states
    /// (SQLite, whose documented table rebuild drops the parent table, and
    /// whose `DROP TABLE` deletes or refuses the child rows while the
    /// setting is on; the setting cannot change inside the run's
    /// transaction). Returns whether it did, so that the run checks each
    /// revision with [`foreign_key_violation`](Self::foreign_key_violation)
    /// and restores the setting with
    /// [`restore_foreign_keys`](Self::restore_foreign_keys). Elsewhere
    /// nothing changes.
    fn suspend_foreign_keys(
        conn: &mut Self::Connection,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send {
        let _ = conn;
        async { Ok(false) }
    }

    /// Switches foreign-key enforcement back on after the lock is released.
    fn restore_foreign_keys(
        conn: &mut Self::Connection,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        let _ = conn;
        async { Ok(()) }
    }

    /// The first row that breaks a foreign key, while enforcement is
    /// suspended: checked before each revision's changes are kept.
    fn foreign_key_violation(
        conn: &mut Self::Connection,
    ) -> impl Future<Output = Result<Option<ForeignKeyViolation>, sqlx::Error>> + Send {
        let _ = conn;
        async { Ok(None) }
    }

    /// A revision's batch, then [`foreign_key_violation`](Self::foreign_key_violation):
    /// the counts of the batch's statements and the first row that breaks
    /// a key. Where the check can ride in the batch (SQLite), one round
    /// trip instead of two.
    fn execute_batch_then_check_foreign_keys(
        conn: &mut Self::Connection,
        sql: &str,
    ) -> impl Future<Output = Result<(Vec<u64>, Option<ForeignKeyViolation>), BatchFailure>> + Send
    {
        async move {
            let counts = Self::execute_batch(conn, sql).await?;
            match Self::foreign_key_violation(conn).await {
                Ok(violation) => Ok((counts, violation)),
                Err(source) => Err(BatchFailure {
                    source,
                    completed: counts.len(),
                    position: None,
                }),
            }
        }
    }

    /// The server's id of this connection's session (PostgreSQL's backend
    /// pid, MySQL's connection id), read once the lock is taken so that a
    /// dropped run can cancel its statement; `None` where the statement
    /// runs in-process and ends with the connection (SQLite).
    fn server_session_id(
        conn: &mut Self::Connection,
    ) -> impl Future<Output = Result<Option<u64>, sqlx::Error>> + Send;

    /// Cancels the statement running in session `id`, from `conn`, a
    /// second connection (closing the first one's socket alone leaves the
    /// server running the statement to its end and committing it), then
    /// waits a little for that session to end: its transaction rolled back,
    /// its lock released.
    fn cancel_statement(
        conn: &mut Self::Connection,
        id: u64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    // The runner's operations, compiled once here, for each backend. The
    // `Runner` methods are generic over the backend, so whatever they
    // contain is compiled again in every crate that calls them: the whole
    // runner, on every rebuild of the application. They only call these,
    // which are not generic: the application's crate compiles a call, and
    // the runner is compiled with migrate-runtime. Implemented by
    // `compiled_here!`. Not a stable API.

    /// [`Runner::upgrade`] and [`Runner::downgrade`], the target parsed.
    #[doc(hidden)]
    fn compiled_change<'a>(
        runner: &'a Runner,
        pool: &'a sqlx::Pool<Self>,
        direction: Direction,
        target: Target,
    ) -> Compiled<'a, Report>;

    /// [`Runner::stamp`] (`purge` false) and [`Runner::stamp_purge`].
    #[doc(hidden)]
    fn compiled_stamp<'a>(
        runner: &'a Runner,
        pool: &'a sqlx::Pool<Self>,
        target: Target,
        purge: bool,
    ) -> Compiled<'a, Report>;

    /// The history rows, as the read-only operations read them.
    #[doc(hidden)]
    fn compiled_read<'a>(
        runner: &'a Runner,
        pool: &'a sqlx::Pool<Self>,
    ) -> Compiled<'a, Vec<HistoryRow>>;

    /// [`Runner::repair`].
    #[doc(hidden)]
    fn compiled_repair<'a>(
        runner: &'a Runner,
        pool: &'a sqlx::Pool<Self>,
    ) -> Compiled<'a, Vec<String>>;
}

/// A runner operation compiled inside this crate for one backend (see
/// [`Backend::compiled_change`]): boxed, so that its type is not generic.
#[doc(hidden)]
pub type Compiled<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// The `compiled_*` methods of a `Backend` impl: each instantiates the
/// runner's generic operation for this backend, here.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
macro_rules! compiled_here {
    () => {
        fn compiled_change<'a>(
            runner: &'a $crate::runner::Runner,
            pool: &'a sqlx::Pool<Self>,
            direction: migrate_core::Direction,
            target: migrate_core::Target,
        ) -> $crate::backend::Compiled<'a, $crate::report::Report> {
            Box::pin(runner.change::<Self>(pool, direction, target))
        }

        fn compiled_stamp<'a>(
            runner: &'a $crate::runner::Runner,
            pool: &'a sqlx::Pool<Self>,
            target: migrate_core::Target,
            purge: bool,
        ) -> $crate::backend::Compiled<'a, $crate::report::Report> {
            Box::pin(runner.stamp_locked::<Self>(pool, target, purge))
        }

        fn compiled_read<'a>(
            runner: &'a $crate::runner::Runner,
            pool: &'a sqlx::Pool<Self>,
        ) -> $crate::backend::Compiled<'a, Vec<$crate::history::HistoryRow>> {
            Box::pin(runner.read_rows::<Self>(pool))
        }

        fn compiled_repair<'a>(
            runner: &'a $crate::runner::Runner,
            pool: &'a sqlx::Pool<Self>,
        ) -> $crate::backend::Compiled<'a, Vec<String>> {
            Box::pin(runner.repair_locked::<Self>(pool))
        }
    };
}
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use compiled_here;

/// SQL sent to the database that failed part-way.
#[derive(Debug)]
pub struct BatchFailure {
    /// The database's error.
    pub source: sqlx::Error,
    /// How many statements succeeded before the failed one (each reports
    /// a result before the next runs).
    pub completed: usize,
    /// The 1-based character position of the error in the text of the
    /// query that failed, where the database reports one (PostgreSQL).
    pub position: Option<usize>,
}

/// Sends `sql` as one query and reads its results one by one (see
/// [`Backend::execute_batch`]): `rows_affected` reads a result's count,
/// `position` the database's error position.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn execute_counting<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    sql: &str,
    rows_affected: impl Fn(&DB::QueryResult) -> u64,
    position: impl Fn(&sqlx::Error) -> Option<usize>,
) -> Result<Vec<u64>, BatchFailure>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut results = sqlx::raw_sql(sql).execute_many(&mut *conn);
    let mut counts = Vec::new();
    loop {
        match std::future::poll_fn(|cx| results.as_mut().poll_next(cx)).await {
            None => return Ok(counts),
            Some(Ok(result)) => counts.push(rows_affected(&result)),
            Some(Err(source)) => {
                return Err(BatchFailure {
                    position: position(&source),
                    source,
                    completed: counts.len(),
                })
            }
        }
    }
}

/// A row whose foreign key names no parent row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyViolation {
    /// The child table.
    pub table: String,
    /// The child row's rowid (`None` for a `WITHOUT ROWID` table).
    pub rowid: Option<i64>,
    /// The table the key refers to.
    pub parent: String,
}

impl std::fmt::Display for ForeignKeyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rowid {
            Some(rowid) => write!(f, "row {rowid} of `{}`", self.table)?,
            None => write!(f, "a row of `{}`", self.table)?,
        }
        write!(
            f,
            " refers to a row of `{}` that does not exist",
            self.parent
        )
    }
}

/// The history read's result: its rows, decoded by `decode`, or `None`
/// where the error says the table does not exist yet (a first boot, not a
/// failure).
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn history_or_missing<R>(
    result: Result<Vec<R>, sqlx::Error>,
    table_is_missing: impl Fn(&dyn sqlx::error::DatabaseError) -> bool,
    decode: impl Fn(&[R]) -> Result<Vec<HistoryRow>, sqlx::Error>,
) -> Result<Option<Vec<HistoryRow>>, sqlx::Error> {
    match result {
        Ok(rows) => decode(&rows).map(Some),
        Err(err) if err.as_database_error().is_some_and(&table_is_missing) => Ok(None),
        Err(err) => Err(err),
    }
}

/// One history row per result row.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn history_rows<R>(rows: &[R]) -> Result<Vec<HistoryRow>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter().map(history_row).collect()
}

/// The text of a history row's columns, read by position.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn history_row<R>(row: &R) -> Result<HistoryRow, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(HistoryRow {
        revision: row.try_get(0)?,
        checksum: row.try_get(1)?,
        state: row.try_get(2)?,
    })
}

/// For [`Backend::end_lost_session`] on a server: polls `state_sql` (one
/// text column: `active` while the session runs a statement; no row once
/// it is gone) for up to `settle`, then runs `terminate_sql` and waits
/// until the session is gone.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn end_session<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    state_sql: &str,
    terminate_sql: &str,
    settle: Duration,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    use sqlx::Executor;
    let started = std::time::Instant::now();
    let gone = loop {
        let row = (&mut *conn)
            .fetch_optional(sqlx::raw_sql(state_sql))
            .await?;
        let state: Option<String> = row.map(|row| sqlx::Row::try_get(&row, 0)).transpose()?;
        match state.as_deref() {
            None => break true,
            Some("active") if started.elapsed() < settle => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some(_) => break false,
        }
    };
    if gone {
        return Ok(());
    }
    // The session may have ended between the poll and this: not an error.
    if let Err(err) = (&mut *conn).execute(sqlx::raw_sql(terminate_sql)).await {
        tracing::debug!(%err, "ending the session of a lost connection");
    }
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if (&mut *conn)
            .fetch_optional(sqlx::raw_sql(state_sql))
            .await?
            .is_none()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Runs `count_sql`, the number of sessions with some id as text.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn sessions<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    count_sql: &str,
) -> Result<String, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    use sqlx::Executor;
    let row = (&mut *conn).fetch_one(sqlx::raw_sql(count_sql)).await?;
    sqlx::Row::try_get(&row, 0)
}

/// Polls `count_sql` (the number of server sessions with the cancelled
/// id, as text) until it says 0, for up to two seconds.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn wait_until_gone<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    count_sql: &str,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    use sqlx::Executor;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        let row = (&mut *conn).fetch_one(sqlx::raw_sql(count_sql)).await?;
        let sessions: String = sqlx::Row::try_get(&row, 0)?;
        if sessions == "0" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Waiting between attempts to take a lock: backs off from 5 ms to 200 ms,
/// and gives up with [`Error::LockTimeout`] once `timeout` has passed.
/// (MySQL waits on the server instead.)
#[cfg(any(feature = "postgres", feature = "sqlite"))]
struct Backoff {
    started: std::time::Instant,
    pause: Duration,
    timeout: Duration,
    what: String,
}

#[cfg(any(feature = "postgres", feature = "sqlite"))]
impl Backoff {
    fn new(timeout: Duration, what: impl Into<String>) -> Self {
        Backoff {
            started: std::time::Instant::now(),
            pause: Duration::from_millis(5),
            timeout,
            what: what.into(),
        }
    }

    async fn wait(&mut self) -> Result<(), Error> {
        if self.started.elapsed() >= self.timeout {
            return Err(Error::LockTimeout {
                table: self.what.clone(),
                waited: self.started.elapsed(),
            });
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_millis(200));
        Ok(())
    }
}
