//! One run's connection: read, lock, apply, release, on a single pooled
//! connection. If the run is dropped half-way (a panic, a cancelled
//! future), the connection is closed rather than returned to the pool, so
//! a session lock can never be left behind on a pooled connection.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::Pool;

use migrate_core::{Dialect, HistoryTable, Revision, Wrap};

use crate::backend::Backend;
use crate::error::{Aftermath, Error};
use crate::history::HistoryRow;
use crate::report::StepReport;

pub(crate) struct Session<DB: Backend> {
    conn: PoolConnection<DB>,
    table: HistoryTable,
    locked: bool,
    /// The run-wide transaction of the single-transaction mode is open.
    in_run_transaction: bool,
    /// A `transaction: false` revision ran, committing the run up to it:
    /// rolling the run back no longer undoes all of it.
    run_committed: bool,
}

/// Single-transaction mode where the lock is a transaction: the run's
/// savepoint in it.
const RUN_SAVEPOINT: &str = "migrate_run";

impl<DB: Backend> Session<DB> {
    pub async fn open(pool: &Pool<DB>, table: HistoryTable) -> Result<Self, Error> {
        Ok(Session {
            conn: pool.acquire().await?,
            table,
            locked: false,
            in_run_transaction: false,
            run_committed: false,
        })
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
        let result = DB::lock(&mut self.conn, &self.table, timeout).await;
        if result.is_err() {
            self.locked = false;
        }
        result
    }

    /// Releases the lock. Errors are returned, but the connection is closed
    /// rather than reused if the release failed.
    pub async fn unlock(&mut self) -> Result<(), Error> {
        let result = DB::unlock(&mut self.conn, &self.table).await;
        if result.is_ok() {
            self.locked = false;
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
            (false, _) => wrap.rollback(),
        };
        self.in_run_transaction = false;
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
            self.execute(&batch).await
        } else {
            self.commit_run_transaction().await?;
            self.run_committed = true;
            self.run_outside_transaction(revision, upgrade, lock_timeout)
                .await
        };
        match result {
            Ok(()) => Ok(StepReport {
                revision: revision.id.to_string(),
                message: revision.message.to_string(),
                duration: started.elapsed(),
            }),
            Err(Error::Database(source)) => {
                self.roll_back(wrap).await;
                let aftermath = if self.is_pending(&revision.id).await {
                    Aftermath::PartiallyApplied
                } else if single_transaction && revision.transactional && self.run_committed {
                    Aftermath::RunRolledBackToCommit
                } else if single_transaction && revision.transactional {
                    Aftermath::RunRolledBack
                } else {
                    Aftermath::RolledBack
                };
                Err(Error::RevisionFailed {
                    revision: revision.id.to_string(),
                    file: revision.file.to_string(),
                    source,
                    aftermath,
                })
            }
            Err(other) => Err(other),
        }
    }

    /// A `transaction: false` revision: the pending row first, on its own,
    /// so that a failure or a crash part-way is visible to the next run.
    async fn run_outside_transaction(
        &mut self,
        revision: &Revision,
        upgrade: bool,
        lock_timeout: Duration,
    ) -> Result<(), Error> {
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
        self.execute(&after).await
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
        if self.locked || self.in_run_transaction {
            // Closing ends the database session, which frees a session
            // lock and rolls back an open transaction.
            self.conn.close_on_drop();
        }
    }
}
