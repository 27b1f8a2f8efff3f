//! One run's connection: read, lock, apply, release, on a single pooled
//! connection. If the run is dropped half-way (a panic, a cancelled
//! future), the connection is closed rather than returned to the pool, so
//! a session lock can never be left behind on a pooled connection.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, Pool};

use migrate_core::{Dialect, HistoryTable, Revision, Wrap};

use crate::backend::{Backend, ForeignKeyViolation};
use crate::error::{Aftermath, Error};
use crate::history::HistoryRow;
use crate::report::StepReport;

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
}

/// Single-transaction mode where the lock is a transaction: the run's
/// savepoint in it.
const RUN_SAVEPOINT: &str = "migrate_run";

/// Where foreign keys are checked by the run: the savepoint around one
/// revision's batch, released only once no row breaks a key.
const CHECKED_SAVEPOINT: &str = "migrate_checked";

impl<DB: Backend> Session<DB> {
    pub async fn open(pool: &Pool<DB>, table: HistoryTable) -> Result<Self, Error> {
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
        })
    }

    /// The run's connection, for the fast path's own statements
    /// (`crate::fast_path`).
    pub(crate) fn connection(&mut self) -> &mut PoolConnection<DB> {
        &mut self.conn
    }

    fn dialect(&self) -> Dialect {
        DB::DIALECT
    }

    /// The history rows; `None` when the table does not exist yet.
    pub async fn read(&mut self) -> Result<Option<Vec<HistoryRow>>, Error> {
        let sql = self.dialect().select_history(&self.table);
        Ok(DB::read_history(&mut self.conn, &sql).await?)
    }

    pub async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        // Marked before the wait: if the run is dropped while the server is
        // still granting the lock, the connection must be closed, not pooled.
        self.locked = true;
        let result = self.suspend_foreign_keys_and_lock(timeout).await;
        if result.is_err() {
            self.restore_foreign_keys().await;
            self.locked = false;
            return result;
        }
        // Only a run that will change something pays this round trip: a
        // no-op boot takes no lock.
        if self.server_session.is_none() {
            self.server_session = DB::server_session_id(&mut self.conn).await?;
        }
        result
    }

    async fn suspend_foreign_keys_and_lock(&mut self, timeout: Duration) -> Result<(), Error> {
        self.foreign_keys_suspended = DB::suspend_foreign_keys(&mut self.conn).await?;
        DB::lock(&mut self.conn, &self.table, timeout).await
    }

    /// Switches foreign keys back on if the run switched them off; where
    /// that fails, the connection is closed rather than pooled without them.
    async fn restore_foreign_keys(&mut self) {
        if std::mem::take(&mut self.foreign_keys_suspended) {
            if let Err(err) = DB::restore_foreign_keys(&mut self.conn).await {
                tracing::warn!(%err, "migrations: switching foreign keys back on failed; closing the connection");
                self.conn.close_on_drop();
            }
        }
    }

    /// Releases the lock. Errors are returned, but the connection is closed
    /// rather than reused if the release failed.
    pub async fn unlock(&mut self) -> Result<(), Error> {
        let result = DB::unlock(&mut self.conn, &self.table).await;
        if result.is_ok() {
            self.locked = false;
            self.restore_foreign_keys().await;
        }
        Ok(result?)
    }

    pub async fn create_history_table(&mut self) -> Result<(), Error> {
        let sql = self.dialect().create_history(&self.table);
        self.execute(&sql).await
    }

    pub async fn execute(&mut self, sql: &str) -> Result<(), Error> {
        Ok(DB::execute(&mut self.conn, sql).await?)
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
        if let Err(err) = DB::execute(&mut self.conn, &sql).await {
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
        let wrap = self.revision_wrap(single_transaction);
        let result = if revision.transactional {
            if single_transaction {
                self.enter_run_transaction().await?;
            }
            let batch = if upgrade {
                self.dialect().upgrade_batch(&self.table, revision, wrap)
            } else {
                self.dialect().downgrade_batch(&self.table, revision, wrap)
            };
            self.execute_checked(&batch).await
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
            Err(Error::Database(source)) => {
                // An upgrade whose only statement failed took no effect.
                let nothing_took_effect = upgrade
                    && migrate_core::statements::split_statements(&revision.up_sql).len() <= 1;
                Err(Error::RevisionFailed {
                    revision: revision.id.to_string(),
                    file: revision.file.to_string(),
                    source,
                    aftermath: self
                        .undo_failed(revision, wrap, single_transaction, nothing_took_effect)
                        .await,
                })
            }
            Err(other) => Err(other),
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
    async fn execute_checked(&mut self, batch: &str) -> Result<Option<ForeignKeyViolation>, Error> {
        if !self.foreign_keys_suspended {
            return self.execute(batch).await.map(|()| None);
        }
        self.in_checked_savepoint = true;
        self.execute(&format!("SAVEPOINT {CHECKED_SAVEPOINT};\n{batch}"))
            .await?;
        if let Some(violation) = DB::foreign_key_violation(&mut self.conn).await? {
            return Ok(Some(violation));
        }
        self.execute(&format!("RELEASE {CHECKED_SAVEPOINT}"))
            .await?;
        self.in_checked_savepoint = false;
        Ok(None)
    }

    /// A `transaction: false` revision: the pending row first, on its own,
    /// so that a failure or a crash part-way is visible to the next run.
    async fn run_outside_transaction(
        &mut self,
        revision: &Revision,
        upgrade: bool,
        lock_timeout: Duration,
    ) -> Result<Option<ForeignKeyViolation>, Error> {
        let dialect = self.dialect();
        let (before, sql, after) = if upgrade {
            (
                dialect.insert_pending(&self.table, revision),
                revision.up_sql.as_ref(),
                dialect.mark_applied(&self.table, revision),
            )
        } else {
            (
                dialect.mark_reverting(&self.table, &revision.id),
                revision.down_sql.as_deref().unwrap_or_default(),
                dialect.delete_row(&self.table, &revision.id),
            )
        };
        self.execute(&before).await?;
        DB::execute_outside_transaction(&mut self.conn, sql, lock_timeout).await?;
        if self.foreign_keys_suspended {
            // Committed already: the row stays pending for the operator.
            if let Some(violation) = DB::foreign_key_violation(&mut self.conn).await? {
                return Ok(Some(violation));
            }
        }
        self.execute(&after).await.map(|()| None)
    }

    /// Deletes a pending row a failed upgrade left; whether it went.
    async fn forget_pending_row(&mut self, id: &str) -> bool {
        let sql = self.dialect().delete_row(&self.table, id);
        match DB::execute(&mut self.conn, &sql).await {
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
        let result = async {
            let mut conn = options.connect().await?;
            DB::cancel_statement(&mut conn, id).await
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(%err, id, "could not cancel the dropped run's statement on the server");
        }
    });
}
