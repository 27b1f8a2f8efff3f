//! One run's connection: read, lock, apply, release, on a single pooled
//! connection. If the run is dropped half-way (a panic, a cancelled
//! future), the connection is closed rather than returned to the pool, so
//! a session lock can never be left behind on a pooled connection.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, Pool};

use migrate_core::dialect::STATE_APPLIED;
use migrate_core::{
    Dialect, Direction, HistoryTable, Revision, RevisionBatch, SectionSource, Wrap,
};

use crate::backend::{Backend, ForeignKeyViolation};
use crate::error::{Aftermath, Error, HistoryWrite, IoWait, LostOutcome, StepFailure};
use crate::history::HistoryRow;
use crate::report::StepReport;
use crate::watch::{watched, Watch};

pub(crate) struct Session<DB: Backend> {
    conn: PoolConnection<DB>,
    /// Where a cancellation connects from when the run is dropped.
    pool: Pool<DB>,
    /// The server's id of `conn`'s session, read once the lock is taken.
    server_session: Option<u64>,
    table: HistoryTable,
    locked: bool,
    /// The run-wide transaction of the single-transaction mode is open.
    in_run_transaction: bool,
    /// A `transaction: false` revision ran, committing the run up to it:
    /// rolling the run back no longer undoes all of it.
    run_committed: bool,
    /// Foreign-key enforcement was switched off for the run (SQLite) and
    /// must be switched back on before the connection is pooled again.
    foreign_keys_suspended: bool,
    /// The savepoint around a revision whose foreign keys are checked
    /// before its changes are kept is open.
    in_checked_savepoint: bool,
    /// The savepoint of the last revision whose keys were checked is still
    /// open: the next revision's batch releases it, or the commit or
    /// rollback that ends its transaction does.
    checked_savepoint_kept: bool,
    /// The bound of every wait of the runner's own (not a revision's SQL).
    io_timeout: Duration,
    /// The lock that outlives commits, where the lock itself does not
    /// (SQLite): see [`Backend::lock_across_commits`].
    run_lock: Option<DB::Connection>,
    /// What puts the session's settings back before the connection is
    /// pooled again (see [`Backend::prepare_session`]).
    restore_settings: Option<String>,
    /// The connection died or stopped answering: nothing more is sent on
    /// it, and it is closed rather than pooled.
    broken: bool,
}

/// One of the runner's own waits, bounded by `$limit`: on timeout the
/// connection is left mid-message, so it is marked broken (see
/// [`Session::within`]).
macro_rules! bounded {
    ($session:ident, $what:expr, $limit:expr, $future:expr) => {{
        let limit = $limit;
        let result = tokio::time::timeout(limit, $future).await;
        $session.within($what, limit, result)
    }};
}

/// Single-transaction mode where the lock is a transaction: the run's
/// savepoint in it.
const RUN_SAVEPOINT: &str = "migrate_run";

/// Where foreign keys are checked by the run: the savepoint around one
/// revision's batch, released only once no row breaks a key.
const CHECKED_SAVEPOINT: &str = "migrate_checked";

impl<DB: Backend> Session<DB> {
    pub async fn open(
        pool: &Pool<DB>,
        table: HistoryTable,
        io_timeout: Duration,
    ) -> Result<Self, Error> {
        Ok(Session {
            conn: pool.acquire().await?,
            pool: pool.clone(),
            server_session: None,
            table,
            locked: false,
            in_run_transaction: false,
            run_committed: false,
            foreign_keys_suspended: false,
            in_checked_savepoint: false,
            checked_savepoint_kept: false,
            io_timeout,
            run_lock: None,
            restore_settings: None,
            broken: false,
        })
    }

    /// The watch over a revision's SQL, where the server has a session to
    /// watch (see [`crate::watch`]).
    fn watch(&self) -> Option<Watch<DB>> {
        self.server_session.map(|session| Watch {
            options: self.pool.connect_options(),
            session,
            every: self.io_timeout,
        })
    }

    /// The result of a bounded wait: an [`Error::IoTimeout`] when it timed
    /// out, after which the connection is closed, not pooled, and nothing
    /// more is sent on it (the server ends the session, freeing its lock,
    /// once it notices; see [`Backend::prepare_session`]).
    fn within<T, E: Into<Error>>(
        &mut self,
        what: IoWait,
        limit: Duration,
        result: Result<Result<T, E>, tokio::time::error::Elapsed>,
    ) -> Result<T, Error> {
        match result {
            Ok(result) => result.map_err(Into::into),
            Err(_) => {
                self.broken = true;
                self.conn.close_on_drop();
                Err(Error::IoTimeout {
                    what,
                    waited: limit,
                    lock_may_be_held: self.locked,
                })
            }
        }
    }

    /// A read of the fast path's own (`crate::fast_path`), bounded by the
    /// I/O timeout like every statement of the runner's own: a partition
    /// during a no-op boot fails it with [`Error::IoTimeout`], not a hang.
    pub(crate) async fn bounded_read(
        &mut self,
        sql: &str,
    ) -> Result<Option<Vec<HistoryRow>>, Error> {
        if self.broken {
            return Err(Error::Database(sqlx::Error::PoolClosed));
        }
        bounded!(
            self,
            IoWait::HistoryRead,
            self.io_timeout,
            DB::read_history(&mut self.conn, sql)
        )
    }

    /// A statement of the fast path's own, bounded as [`Self::bounded_read`].
    pub(crate) async fn bounded_execute(&mut self, sql: &str) -> Result<(), Error> {
        if self.broken {
            return Err(Error::Database(sqlx::Error::PoolClosed));
        }
        bounded!(
            self,
            IoWait::HistoryWrite,
            self.io_timeout,
            DB::execute(&mut self.conn, sql)
        )
    }

    /// Whether the connection is unusable after a timeout: nothing more is
    /// sent on it.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Makes the connection close instead of returning to the pool.
    pub(crate) fn close_on_drop(&mut self) {
        self.conn.close_on_drop();
    }

    fn dialect(&self) -> Dialect {
        DB::DIALECT
    }

    /// The history rows; `None` when the table does not exist yet.
    pub async fn read(&mut self) -> Result<Option<Vec<HistoryRow>>, Error> {
        let sql = self.dialect().select_history(&self.table);
        bounded!(
            self,
            IoWait::HistoryRead,
            self.io_timeout,
            DB::read_history(&mut self.conn, &sql)
        )
    }

    pub async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        // Marked before the wait: if the run is dropped while the server is
        // still granting the lock, the connection must be closed, not pooled.
        self.locked = true;
        let result = self.take_locks(timeout).await;
        if result.is_err() && !self.broken {
            self.restore_session().await;
            self.locked = false;
        }
        result
    }

    /// The session prepared, then the lock taken: the lock across commits
    /// where there is one, then the lock itself, within `timeout` in all
    /// (each wait bounded by `timeout` plus the I/O timeout). Only a run
    /// that will change something pays these round trips: a no-op boot
    /// takes no lock.
    async fn take_locks(&mut self, timeout: Duration) -> Result<(), Error> {
        let io = self.io_timeout;
        self.foreign_keys_suspended = bounded!(
            self,
            IoWait::Session,
            io,
            DB::suspend_foreign_keys(&mut self.conn)
        )?;
        self.restore_settings = bounded!(
            self,
            IoWait::Session,
            io,
            DB::prepare_session(&mut self.conn, io)
        )?;
        if self.server_session.is_none() {
            self.server_session = bounded!(
                self,
                IoWait::Session,
                io,
                DB::server_session_id(&mut self.conn)
            )?;
        }
        let started = Instant::now();
        self.run_lock = bounded!(
            self,
            IoWait::Lock,
            timeout + io,
            DB::lock_across_commits(&mut self.conn, timeout)
        )?;
        let left = timeout.saturating_sub(started.elapsed());
        bounded!(
            self,
            IoWait::Lock,
            left + io,
            DB::lock(&mut self.conn, &self.table, left)
        )
    }

    /// Everything [`take_locks`](Self::take_locks) changed besides the
    /// lock itself, undone: the lock across commits released, the
    /// session's settings and foreign keys put back.
    async fn restore_session(&mut self) {
        if let Some(lock) = self.run_lock.take() {
            if let Err(err) = sqlx::Connection::close(lock).await {
                tracing::debug!(%err, "migrations: closing the run lock's connection");
            }
        }
        if let Some(sql) = self.restore_settings.take() {
            let io = self.io_timeout;
            if let Err(err) = bounded!(self, IoWait::Session, io, DB::execute(&mut self.conn, &sql))
            {
                tracing::warn!(%err, "migrations: restoring the session's settings failed; closing the connection");
                self.conn.close_on_drop();
            }
        }
        self.restore_foreign_keys().await;
    }

    /// Switches foreign keys back on if the run switched them off; where
    /// that fails, the connection is closed rather than pooled without them.
    async fn restore_foreign_keys(&mut self) {
        if std::mem::take(&mut self.foreign_keys_suspended) && !self.broken {
            if let Err(err) = DB::restore_foreign_keys(&mut self.conn).await {
                tracing::warn!(%err, "migrations: switching foreign keys back on failed; closing the connection");
                self.conn.close_on_drop();
            }
        }
    }

    /// Releases the lock. Errors are returned, but the connection is closed
    /// rather than reused if the release failed.
    /// A broken connection is not used again: it is closed, and its
    /// session's end frees the lock on the server.
    pub async fn unlock(&mut self) -> Result<(), Error> {
        if self.broken {
            return Ok(());
        }
        let io = self.io_timeout;
        let result = bounded!(
            self,
            IoWait::Unlock,
            io,
            DB::unlock(&mut self.conn, &self.table)
        );
        if result.is_ok() {
            self.locked = false;
            self.checked_savepoint_kept = false;
            self.restore_session().await;
        }
        result
    }

    pub async fn create_history_table(&mut self) -> Result<(), Error> {
        let sql = self.dialect().create_history(&self.table);
        self.execute(&sql).await
    }

    /// Runs the runner's own SQL (history table, transaction boundaries),
    /// bounded by the I/O timeout.
    pub async fn execute(&mut self, sql: &str) -> Result<(), Error> {
        let io = self.io_timeout;
        bounded!(
            self,
            IoWait::HistoryWrite,
            io,
            DB::execute(&mut self.conn, sql)
        )
    }

    /// One write of the history table, checked to change exactly one row.
    async fn history_write(
        &mut self,
        sql: &str,
        write: HistoryWrite,
        revision: &str,
    ) -> Result<(), Error> {
        let io = self.io_timeout;
        let counts = bounded!(
            self,
            IoWait::HistoryWrite,
            io,
            send_history_writes::<DB>(&mut self.conn, sql)
        )?;
        expect_one_row(counts.iter().sum(), write, revision)
    }

    /// A batch of history writes only (a stamp): inside a transaction (a
    /// savepoint where the lock is one) that is committed only if every
    /// statement changed exactly one row, and rolled back otherwise.
    pub async fn history_batch(&mut self, body: &str, revisions: &[&str]) -> Result<(), Error> {
        let wrap = self.revision_wrap(false);
        let (begin, commit) = match wrap {
            Wrap::Savepoint => (
                format!("SAVEPOINT {}", migrate_core::dialect::SAVEPOINT),
                format!("RELEASE {}", migrate_core::dialect::SAVEPOINT),
            ),
            _ => (self.dialect().begin().to_string(), "COMMIT".to_string()),
        };
        let io = self.io_timeout;
        let sql = format!("{begin};\n{body}");
        let written = bounded!(
            self,
            IoWait::HistoryWrite,
            io,
            send_history_writes::<DB>(&mut self.conn, &sql)
        )
        .and_then(|counts| {
            let changed = counts.get(1..).unwrap_or_default();
            match revisions.iter().zip(changed).find(|(_, &rows)| rows != 1) {
                Some((revision, &rows)) => expect_one_row(rows, HistoryWrite::Stamp, revision),
                None => Ok(()),
            }
        });
        match written {
            Ok(()) => self.execute(&commit).await,
            Err(err) => {
                if !self.broken {
                    self.roll_back(wrap).await;
                }
                Err(err)
            }
        }
    }

    /// Re-records a revision's checksum (`migrate repair`), checked.
    pub async fn update_checksum(&mut self, revision: &Revision) -> Result<(), Error> {
        let sql = self.dialect().update_checksum(&self.table, revision);
        self.history_write(&sql, HistoryWrite::UpdateChecksum, &revision.id)
            .await
    }

    /// How each revision's batch is wrapped in this mode.
    pub fn revision_wrap(&self, single_transaction: bool) -> Wrap {
        match (single_transaction, DB::LOCK_IS_TRANSACTION) {
            (true, _) => Wrap::None,
            (false, true) => Wrap::Savepoint,
            (false, false) => Wrap::Transaction,
        }
    }

    /// Opens the single-transaction mode's transaction if it is not open.
    /// Where the lock is a transaction already, a savepoint in it: rolling
    /// the run back must not also undo the row a `transaction: false`
    /// revision marked applied in the lock's transaction.
    async fn enter_run_transaction(&mut self) -> Result<(), Error> {
        if !self.in_run_transaction {
            let begin = if DB::LOCK_IS_TRANSACTION {
                format!("SAVEPOINT {RUN_SAVEPOINT}")
            } else {
                self.dialect().begin().to_string()
            };
            // Marked first, for the same reason as the lock.
            self.in_run_transaction = true;
            self.execute(&begin).await?;
        }
        Ok(())
    }

    /// Commits the single-transaction mode's transaction, if open.
    pub async fn commit_run_transaction(&mut self) -> Result<(), Error> {
        if self.in_run_transaction {
            let commit = if DB::LOCK_IS_TRANSACTION {
                format!("RELEASE {RUN_SAVEPOINT}")
            } else {
                "COMMIT".to_string()
            };
            self.execute(&commit).await?;
            self.in_run_transaction = false;
            // Released with the savepoints nested in the run's.
            self.checked_savepoint_kept = false;
        }
        Ok(())
    }

    /// Rolls back whatever a failed step left open.
    pub async fn roll_back(&mut self, wrap: Wrap) {
        let sql = match (self.in_run_transaction, DB::LOCK_IS_TRANSACTION) {
            (true, true) => format!("ROLLBACK TO {RUN_SAVEPOINT}; RELEASE {RUN_SAVEPOINT}"),
            (true, false) => "ROLLBACK".to_string(),
            // Undoes the revision's own savepoint too, released or not.
            (false, _) if self.in_checked_savepoint => {
                format!("ROLLBACK TO {CHECKED_SAVEPOINT}; RELEASE {CHECKED_SAVEPOINT}")
            }
            (false, _) => wrap.rollback(),
        };
        self.in_run_transaction = false;
        self.in_checked_savepoint = false;
        self.checked_savepoint_kept = false;
        let io = self.io_timeout;
        if let Err(err) = bounded!(self, IoWait::Session, io, DB::execute(&mut self.conn, &sql)) {
            // Whatever is still open must not reach the pool's next user.
            tracing::debug!(%err, "rollback after a failed revision");
            self.conn.close_on_drop();
        }
    }

    /// Runs one revision up or down. On failure, what it opened is rolled
    /// back and the error says whether part of it stayed.
    pub async fn run_step(
        &mut self,
        revision: &Revision,
        upgrade: bool,
        single_transaction: bool,
        lock_timeout: Duration,
    ) -> Result<StepReport, Error> {
        let started = Instant::now();
        let wrap = match self.revision_wrap(single_transaction) {
            // The savepoint the foreign-key check opens around the batch
            // is the revision's own: a second one inside it would cost
            // two statements, each a message to sqlx's SQLite worker.
            Wrap::Savepoint if self.foreign_keys_suspended => Wrap::None,
            wrap => wrap,
        };
        let result = if revision.transactional {
            if single_transaction {
                self.enter_run_transaction().await?;
            }
            let direction = direction(upgrade);
            let batch = self
                .dialect()
                .revision_batch(&self.table, revision, direction, wrap);
            let writes = BatchWrites::of(revision, upgrade, wrap);
            self.execute_checked(batch, &writes).await
        } else {
            self.commit_run_transaction().await?;
            self.run_committed = true;
            self.run_outside_transaction(revision, upgrade, lock_timeout)
                .await
        };
        match result {
            Ok(None) => Ok(StepReport {
                revision: revision.id.to_string(),
                message: revision.message.to_string(),
                duration: started.elapsed(),
            }),
            Ok(Some(violation)) => Err(Error::ForeignKeyViolation {
                revision: revision.id.to_string(),
                file: revision.file.to_string(),
                violation,
                aftermath: self
                    .undo_failed(revision, wrap, single_transaction, false)
                    .await,
            }),
            // Where the failed statement was is moot when the connection
            // died: the history read again tells what happened.
            Err(StepFailure { error, .. }) if error.is_connection_lost() => {
                Err(self.lost_connection(revision, upgrade, error).await)
            }
            Err(StepFailure {
                error: error @ Error::HistoryWriteMismatch { .. },
                ..
            }) => {
                if self.in_run_transaction || self.in_checked_savepoint {
                    self.roll_back(wrap).await;
                }
                Err(error)
            }
            Err(StepFailure {
                error: Error::Database(source),
                location,
            }) => {
                // An upgrade whose only statement failed took no effect.
                let nothing_took_effect = upgrade
                    && migrate_core::statements::split_statements(&revision.up_sql).len() <= 1;
                Err(Error::RevisionFailed {
                    revision: revision.id.to_string(),
                    file: revision.file.to_string(),
                    source,
                    location,
                    aftermath: self
                        .undo_failed(revision, wrap, single_transaction, nothing_took_effect)
                        .await,
                })
            }
            Err(StepFailure { error, .. }) => Err(error),
        }
    }

    /// Rolls back a failed revision and tells what stayed of it.
    /// `nothing_took_effect`: none of its statements succeeded.
    async fn undo_failed(
        &mut self,
        revision: &Revision,
        wrap: Wrap,
        single_transaction: bool,
        nothing_took_effect: bool,
    ) -> Aftermath {
        self.roll_back(wrap).await;
        let mut pending = self.is_pending(&revision.id).await;
        if pending && nothing_took_effect && !(single_transaction && revision.transactional) {
            // The pending row committed (on its own, or by MySQL's implicit
            // commit before a DDL statement), but nothing of the revision
            // did: forget the row, and the revision is plainly pending
            // again. (In single-transaction mode a MySQL implicit commit
            // also committed the revisions before it, so the row stays and
            // says so.)
            pending = !self.forget_pending_row(&revision.id).await;
        }
        if pending {
            Aftermath::PartiallyApplied
        } else if single_transaction && revision.transactional && self.run_committed {
            Aftermath::RunRolledBackToCommit
        } else if single_transaction && revision.transactional {
            Aftermath::RunRolledBack
        } else {
            Aftermath::RolledBack
        }
    }

    /// Sends a revision's batch; where the run suspended foreign keys, in a
    /// savepoint that is released only when no row breaks a key, so that a
    /// violation undoes the revision and nothing else.
    /// Its history writes are checked once it has run.
    async fn execute_checked(
        &mut self,
        batch: RevisionBatch<'_>,
        writes: &BatchWrites<'_>,
    ) -> Result<Option<ForeignKeyViolation>, StepFailure> {
        if !self.foreign_keys_suspended {
            let (counts, _) = self.send_batch(&batch, false).await?;
            writes.check(&counts, 0)?;
            return Ok(None);
        }
        // The previous revision's savepoint, kept open until now, is
        // released by this batch: a revision costs one round trip, not
        // three (batch, check, release).
        let (open, prefix) = if std::mem::take(&mut self.checked_savepoint_kept) {
            (
                format!("RELEASE {CHECKED_SAVEPOINT};\nSAVEPOINT {CHECKED_SAVEPOINT}"),
                2,
            )
        } else {
            (format!("SAVEPOINT {CHECKED_SAVEPOINT}"), 1)
        };
        self.in_checked_savepoint = true;
        let batch = batch.preceded_by(&open);
        let (counts, violation) = self.send_batch(&batch, true).await?;
        if violation.is_some() {
            return Ok(violation);
        }
        writes.check(&counts, prefix)?;
        self.in_checked_savepoint = false;
        self.checked_savepoint_kept = true;
        Ok(None)
    }

    /// Sends a revision's batch: the rows each of its statements changed
    /// and, with `check_foreign_keys`, the first row that breaks a key
    /// after it; or a failure that says where in the file it is. A
    /// revision's own SQL takes as long as it takes: no I/O timeout, but a
    /// watch for a partition.
    async fn send_batch(
        &mut self,
        batch: &RevisionBatch<'_>,
        check_foreign_keys: bool,
    ) -> Result<(Vec<u64>, Option<ForeignKeyViolation>), StepFailure> {
        let watch = self.watch();
        let conn = &mut self.conn;
        watched(watch, async {
            let sent = if check_foreign_keys {
                DB::execute_batch_then_check_foreign_keys(conn, batch.sql()).await
            } else {
                DB::execute_batch(conn, batch.sql())
                    .await
                    .map(|counts| (counts, None))
            };
            sent.map_err(|failure| {
                StepFailure::at(batch.locate(failure.completed, failure.position), failure)
            })
        })
        .await
    }

    /// A `transaction: false` revision: the pending row first, on its own,
    /// so that a failure or a crash part-way is visible to the next run.
    async fn run_outside_transaction(
        &mut self,
        revision: &Revision,
        upgrade: bool,
        lock_timeout: Duration,
    ) -> Result<Option<ForeignKeyViolation>, StepFailure> {
        let dialect = self.dialect();
        let (before, sql, after) = if upgrade {
            (
                (
                    dialect.insert_pending(&self.table, revision),
                    HistoryWrite::RecordPending,
                ),
                revision.up_sql.as_ref(),
                (
                    dialect.mark_applied(&self.table, revision),
                    HistoryWrite::MarkApplied,
                ),
            )
        } else {
            (
                (
                    dialect.mark_reverting(&self.table, &revision.id),
                    HistoryWrite::MarkReverting,
                ),
                revision.down_sql.as_deref().unwrap_or_default(),
                (
                    dialect.delete_row(&self.table, &revision.id),
                    HistoryWrite::ForgetReverted,
                ),
            )
        };
        self.history_write(&before.0, before.1, &revision.id)
            .await?;
        // The commit before the SQL (where the lock is a transaction)
        // keeps the last checked revision's savepoint too.
        self.checked_savepoint_kept = false;
        let watch = self.watch();
        let ran = watched(
            watch,
            DB::execute_outside_transaction(&mut self.conn, sql, lock_timeout),
        )
        .await?;
        if let Err(failure) = ran {
            let section = SectionSource::of(revision, direction(upgrade), dialect);
            let location = section.locate(failure.completed, failure.position);
            return Err(StepFailure::at(location, failure));
        }
        if self.foreign_keys_suspended {
            // Committed already: the row stays pending for the operator.
            if let Some(violation) = DB::foreign_key_violation(&mut self.conn).await? {
                return Ok(Some(violation));
            }
        }
        self.history_write(&after.0, after.1, &revision.id).await?;
        Ok(None)
    }

    /// The connection died (or stopped answering) while `revision` ran,
    /// so whether it took effect is not known here. From a new connection
    /// made with the pool's options (a pool of one has no other), the
    /// lost session is given a moment to finish the statement it runs,
    /// then ended, which makes its outcome final and frees its lock; the
    /// history then tells what happened.
    async fn lost_connection(
        &mut self,
        revision: &Revision,
        upgrade: bool,
        source: Error,
    ) -> Error {
        self.broken = true;
        self.conn.close_on_drop();
        self.in_run_transaction = false;
        self.in_checked_savepoint = false;
        let lost_session = self.server_session.take();
        // Short: the connection that failed says the network may be down.
        let step = self.io_timeout.min(Duration::from_secs(10));
        let options = self.pool.connect_options();
        let sql = self.dialect().select_history(&self.table);
        let read_again = async {
            let mut conn = options.connect().await?;
            if let Some(id) = lost_session {
                DB::end_lost_session(&mut conn, id, step).await?;
            }
            let rows = DB::read_history(&mut conn, &sql).await;
            if let Err(err) = sqlx::Connection::close(conn).await {
                tracing::debug!(%err, "closing the connection that read the history again");
            }
            rows
        };
        let bound = step * 3 + Duration::from_secs(5);
        let outcome = match tokio::time::timeout(bound, read_again).await {
            Ok(Ok(rows)) => lost_outcome(rows.unwrap_or_default(), &revision.id, upgrade),
            Ok(Err(err)) => LostOutcome::Unknown(err.to_string()),
            Err(_) => LostOutcome::Unknown(format!("no answer within {bound:?}")),
        };
        Error::ConnectionLost {
            revision: revision.id.to_string(),
            file: revision.file.to_string(),
            upgrade,
            outcome,
            source: Box::new(source),
        }
    }

    /// Deletes a pending row a failed upgrade left; whether it went.
    async fn forget_pending_row(&mut self, id: &str) -> bool {
        let sql = self.dialect().delete_row(&self.table, id);
        match self.execute(&sql).await {
            Ok(()) => true,
            Err(err) => {
                tracing::debug!(%err, "deleting the pending row of a failed revision");
                false
            }
        }
    }

    /// Whether the revision's history row is pending or reverting after a
    /// failure: part of it was committed (MySQL DDL, `transaction: false`).
    async fn is_pending(&mut self, id: &str) -> bool {
        match self.read().await {
            Ok(Some(rows)) => rows
                .iter()
                .any(|row| row.revision == id && row.state != migrate_core::dialect::STATE_APPLIED),
            _ => false,
        }
    }
}

/// The way a step runs.
fn direction(upgrade: bool) -> Direction {
    if upgrade {
        Direction::Upgrade
    } else {
        Direction::Downgrade
    }
}

impl<DB: Backend> Drop for Session<DB> {
    fn drop(&mut self) {
        if self.locked || self.in_run_transaction || self.foreign_keys_suspended {
            // Closing ends the database session, which frees a session
            // lock and rolls back an open transaction.
            self.conn.close_on_drop();
            if let Some(id) = self.server_session {
                spawn_cancel(&self.pool, id);
            }
        }
    }
}

/// What the history says of a revision whose connection was lost.
fn lost_outcome(rows: Vec<HistoryRow>, id: &str, upgrade: bool) -> LostOutcome {
    let state = rows
        .into_iter()
        .find(|row| row.revision == id)
        .map(|row| row.state);
    match (state.as_deref(), upgrade) {
        (Some(STATE_APPLIED), true) | (None, false) => LostOutcome::Committed,
        (None, true) | (Some(STATE_APPLIED), false) => LostOutcome::RolledBack,
        (Some(_), _) => LostOutcome::HalfApplied,
    }
}

/// Sends a batch of the runner's own history writes: the rows each
/// statement changed. Its failure is the database's error alone: no
/// statement of it is in a revision's file.
async fn send_history_writes<DB: Backend>(
    conn: &mut DB::Connection,
    sql: &str,
) -> Result<Vec<u64>, sqlx::Error> {
    DB::execute_batch(conn, sql)
        .await
        .map_err(|failure| failure.source)
}

/// Fails with [`Error::HistoryWriteMismatch`] unless `rows` is 1.
fn expect_one_row(rows: u64, write: HistoryWrite, revision: &str) -> Result<(), Error> {
    if rows == 1 {
        return Ok(());
    }
    Err(Error::HistoryWriteMismatch {
        revision: revision.to_string(),
        write,
        rows,
    })
}

/// Where the history writes sit in a transactional revision's batch: the
/// first write right after the opening statement (if the wrap has one),
/// the last one right before the closing statement.
struct BatchWrites<'r> {
    revision: &'r str,
    first: HistoryWrite,
    last: HistoryWrite,
    /// Statements before the first write, and after the last one.
    wrapped: usize,
}

impl<'r> BatchWrites<'r> {
    fn of(revision: &'r Revision, upgrade: bool, wrap: Wrap) -> Self {
        let (first, last) = if upgrade {
            (HistoryWrite::RecordPending, HistoryWrite::MarkApplied)
        } else {
            (HistoryWrite::MarkReverting, HistoryWrite::ForgetReverted)
        };
        BatchWrites {
            revision: &revision.id,
            first,
            last,
            wrapped: usize::from(wrap != Wrap::None),
        }
    }

    /// Checks the counts of a batch's statements; `prefix` statements came
    /// before the batch's own.
    fn check(&self, counts: &[u64], prefix: usize) -> Result<(), Error> {
        let first = counts.get(prefix + self.wrapped);
        let last = counts
            .len()
            .checked_sub(1 + self.wrapped)
            .and_then(|at| counts.get(at));
        for (rows, write) in [(first, self.first), (last, self.last)] {
            match rows {
                Some(&rows) => expect_one_row(rows, write, self.revision)?,
                // Cannot happen: every statement reports its count.
                None => tracing::warn!(
                    revision = self.revision,
                    "migrations: the batch reported fewer results than it has history writes"
                ),
            }
        }
        Ok(())
    }
}

/// How long a dropped run's cancellation may take, connecting included.
const CANCEL_WITHIN: Duration = Duration::from_secs(10);

/// Cancels the statement of server session `id` from a new connection
/// made with the pool's options (not one of the pool's: a pool of one
/// would wait for the very connection being closed). Drop cannot await,
/// so this runs on the current tokio runtime; [`crate::cancellations`]
/// waits for it. Without a runtime, only the socket is closed.
fn spawn_cancel<DB: Backend>(pool: &Pool<DB>, id: u64) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!(
            id,
            "no tokio runtime: the server statement is not cancelled"
        );
        return;
    };
    let options = pool.connect_options();
    let guard = crate::cancel::Pending::start();
    runtime.spawn(async move {
        let _guard = guard;
        // Bounded, so that a server gone from the network does not keep
        // this task (and a program waiting in `cancellations`) forever.
        let cancel = async {
            let mut conn = options.connect().await?;
            DB::cancel_statement(&mut conn, id).await
        };
        let result = tokio::time::timeout(CANCEL_WITHIN, cancel)
            .await
            .unwrap_or_else(|_| Err(sqlx::Error::PoolTimedOut));
        if let Err(err) = result {
            tracing::warn!(%err, id, "could not cancel the dropped run's statement on the server");
        }
    });
}
