//! The [`Runner`]: an embedded set of revisions, its settings, and the
//! operations of DESIGN.md (`run`, `upgrade`, `downgrade`, `stamp`,
//! `current`, `status`, `revisions`).

use std::borrow::Cow;
use std::time::Duration;

use sqlx::Pool;

use migrate_core::{
    plan_downgrade, plan_stamp, plan_upgrade, Dialect, Direction, HistoryTable, Plan, Revision,
    RevisionGraph, StampPlan, Target, Wrap,
};

use crate::backend::Backend;
use crate::error::Error;
use crate::fast_path::{FastPath, Verdict};
use crate::history::{CheckedHistory, HistoryRow};
use crate::report::{Report, RevisionState, RevisionStatus, Status, StepReport};
use crate::session::Session;

/// The history table a runner uses unless told otherwise.
pub const DEFAULT_HISTORY_TABLE: &str = migrate_core::config::DEFAULT_HISTORY_TABLE;

/// How long a runner waits for another run's lock unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration =
    Duration::from_secs(migrate_core::config::DEFAULT_LOCK_TIMEOUT_SECS);

/// How long a runner waits for an answer to one of its own statements
/// (history reads and writes, locking, session setup; not a revision's
/// SQL) unless told otherwise.
pub const DEFAULT_IO_TIMEOUT: Duration =
    Duration::from_secs(migrate_core::config::DEFAULT_IO_TIMEOUT_SECS);

/// How revisions are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// One transaction per revision: progress survives a later failure.
    #[default]
    PerRevision,
    /// One transaction for the whole run: all or nothing, and the fastest,
    /// since applying is bound by commits. Revisions marked
    /// `transaction: false` still run on their own.
    Single,
}

/// The embedded migrations and the settings used to apply them.
///
/// Made by `embed_migrations!`, usually as a `static`; the settings are
/// changed with the `with_*` methods:
///
/// ```no_run
/// # async fn boot(pool: sqlx::SqlitePool) -> Result<(), migrate_runtime::Error> {
/// use std::time::Duration;
/// static MIGRATIONS: migrate_runtime::Runner = migrate_runtime::embed_migrations!("../migrations");
/// let report = MIGRATIONS
///     .clone()
///     .with_history_table("app_migrations")
///     .with_lock_timeout(Duration::from_secs(30))
///     .run(&pool)
///     .await?;
/// println!("applied {:?}", report.revisions());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Runner {
    revisions: Cow<'static, [Revision]>,
    history_table: Cow<'static, str>,
    lock_timeout: Duration,
    io_timeout: Duration,
    ignore_unknown: bool,
    transaction_mode: TransactionMode,
    /// The digest of the history with every revision applied, computed by
    /// `embed_migrations!` (see [`Runner::with_applied_digest`]).
    applied_digest: Option<[u8; 32]>,
    /// Whether boots use the history digest and runs store it.
    history_digest: bool,
}

impl Runner {
    /// A runner over a static table, with default settings. This is what
    /// `embed_migrations!` expands to.
    pub const fn from_static(revisions: &'static [Revision]) -> Self {
        Runner {
            revisions: Cow::Borrowed(revisions),
            history_table: Cow::Borrowed(DEFAULT_HISTORY_TABLE),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            io_timeout: DEFAULT_IO_TIMEOUT,
            ignore_unknown: false,
            transaction_mode: TransactionMode::PerRevision,
            applied_digest: None,
            history_digest: true,
        }
    }

    /// A runner over a static table with the settings of the crate's
    /// `migrate.toml`: what `embed_migrations!` expands to when there is
    /// one, so that the application and the CLI use the same history
    /// table, transaction mode and lock timeout.
    pub const fn from_static_configured(
        revisions: &'static [Revision],
        history_table: &'static str,
        lock_timeout: Duration,
        transaction_mode: TransactionMode,
    ) -> Self {
        Runner {
            revisions: Cow::Borrowed(revisions),
            history_table: Cow::Borrowed(history_table),
            lock_timeout,
            io_timeout: DEFAULT_IO_TIMEOUT,
            ignore_unknown: false,
            transaction_mode,
            applied_digest: None,
            history_digest: true,
        }
    }

    /// The digest of the history table in which every revision is applied
    /// (`migrate_core::digest::applied_digest`), computed at compile time
    /// by `embed_migrations!` so that a boot does not hash every revision.
    /// A no-op boot compares it with the digest stored beside the history
    /// table, in one statement whatever the history's length. Without it,
    /// the runner computes it when it needs it.
    pub const fn with_applied_digest(mut self, digest: [u8; 32]) -> Self {
        self.applied_digest = Some(digest);
        self
    }

    /// A runner over revisions loaded at run time (the CLI's case); they are
    /// validated whenever an operation needs the graph (`embed_migrations!`
    /// validates at compile time instead).
    pub fn new(revisions: Vec<Revision>) -> Self {
        Runner {
            revisions: Cow::Owned(revisions),
            ..Runner::from_static(&[])
        }
    }

    /// The history table (default `migrate_history`); `schema.table` is
    /// accepted. Checked as an identifier when the runner is used.
    pub fn with_history_table(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.history_table = name.into();
        self
    }

    /// How long to wait for another run's lock (default 60 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How long to wait for the database to answer one of the runner's own
    /// statements: the history read and writes, taking the lock (beyond
    /// the lock timeout), setting up and ending the session (default 30 s).
    /// A revision's own SQL is not bounded: it takes as long as it takes.
    /// When it strikes, the run fails with [`Error::IoTimeout`] and closes
    /// its connection; on PostgreSQL and MySQL the run's session is also
    /// set up so that the server ends it, freeing the lock, about this
    /// long after the client is gone (see the README's "Network failures").
    /// `const`, for `static` runners.
    pub const fn with_io_timeout(mut self, timeout: Duration) -> Self {
        self.io_timeout = timeout;
        self
    }

    /// Whether to proceed when the database has applied revisions this
    /// build does not know (default: refuse, as after a rollback of the
    /// application to an older build).
    pub fn with_ignore_unknown(mut self, ignore: bool) -> Self {
        self.ignore_unknown = ignore;
        self
    }

    /// Whether a no-op boot may answer from the digest stored beside the
    /// history table (one statement whatever the history's length), and
    /// runs store it: the `<history>_digest` table and the triggers on the
    /// history table that invalidate it (default: yes). The CLI switches
    /// it off, so that a database it migrates holds exactly what its
    /// offline scripts create; the application's next boot stores it.
    pub fn with_history_digest(mut self, enabled: bool) -> Self {
        self.history_digest = enabled;
        self
    }

    /// One transaction per revision (default) or one for the whole run.
    pub fn with_transaction_mode(mut self, mode: TransactionMode) -> Self {
        self.transaction_mode = mode;
        self
    }

    /// The embedded revisions, in file-name order. No database needed.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// The history table's name, as configured.
    pub fn history_table(&self) -> &str {
        &self.history_table
    }

    /// The I/O timeout, as configured (see
    /// [`with_io_timeout`](Self::with_io_timeout)).
    pub fn io_timeout(&self) -> Duration {
        self.io_timeout
    }

    /// The revision graph, validated.
    pub fn graph(&self) -> Result<RevisionGraph<'_>, Error> {
        RevisionGraph::new(&self.revisions).map_err(Error::InvalidMigrations)
    }

    /// The no-op boot's fast path over `table`, unless switched off.
    fn fast_path(&self, dialect: Dialect, table: &HistoryTable) -> Option<FastPath> {
        self.history_digest
            .then(|| FastPath::new(dialect, table, &self.revisions, self.applied_digest))
            .flatten()
    }

    fn table(&self) -> Result<HistoryTable, Error> {
        HistoryTable::new(&self.history_table).map_err(Error::InvalidHistoryTable)
    }

    /// Upgrades to every head: the call an application makes at boot.
    ///
    /// When nothing is pending this sends one statement (the history read)
    /// and takes no lock. Otherwise it locks, reads again under the lock,
    /// verifies and applies. Returns what it applied.
    pub async fn run<DB: Backend>(&self, pool: &Pool<DB>) -> Result<Report, Error> {
        DB::compiled_change(self, pool, Direction::Upgrade, Target::Heads).await
    }

    /// Upgrades to a target: `head`, `heads`, a revision id or unique
    /// prefix, `+N`, `<rev>+N`, `<label>@head`.
    pub async fn upgrade<DB: Backend>(
        &self,
        pool: &Pool<DB>,
        target: &str,
    ) -> Result<Report, Error> {
        let target = Target::parse(target)?;
        DB::compiled_change(self, pool, Direction::Upgrade, target).await
    }

    /// Downgrades to a target: `-N`, `base`, a revision id or prefix,
    /// `<rev>-N`. Refused before anything runs when a revision on the way
    /// has no down section.
    pub async fn downgrade<DB: Backend>(
        &self,
        pool: &Pool<DB>,
        target: &str,
    ) -> Result<Report, Error> {
        let target = Target::parse(target)?;
        DB::compiled_change(self, pool, Direction::Downgrade, target).await
    }

    // The public operations above and below are generic, so each is
    // compiled in the caller's crate: they only call the backend's
    // `compiled_*` entry points (see `Backend::compiled_change`), which run
    // the generic operations below, instantiated once in this crate.

    /// [`upgrade`](Self::upgrade) and [`downgrade`](Self::downgrade).
    pub(crate) async fn change<DB: Backend>(
        &self,
        pool: &Pool<DB>,
        direction: Direction,
        target: Target,
    ) -> Result<Report, Error> {
        let target = &target;
        let table = self.table()?;
        let fast = self.fast_path(DB::DIALECT, &table);
        let mut session = Session::<DB>::open(pool, table, self.io_timeout).await?;

        // The whole of a no-op boot: one statement, whatever the history's
        // length. Anything but "identical" falls back to the full read.
        let to_every_head =
            direction == Direction::Upgrade && matches!(target, Target::Heads | Target::Head);
        let verdict = match &fast {
            Some(fast) if to_every_head => fast.check(&mut session).await?,
            _ => Verdict::Unguarded,
        };
        if verdict == Verdict::Identical {
            tracing::debug!("migrations: nothing pending (history digest)");
            return Ok(Report::nothing(direction));
        }

        // The optimistic read.
        let rows = session.read().await?;
        let checked = CheckedHistory::new(&self.revisions, rows.as_deref().unwrap_or_default());
        if let Some(refusal) = checked.refusal_unlocked(&self.revisions, self.ignore_unknown) {
            return Err(refusal);
        }
        let at_every_head = to_every_head && checked.everything_applied(&self.revisions);
        if at_every_head {
            tracing::debug!("migrations: nothing pending");
            if let (Some(fast), Verdict::Unguarded) = (&fast, verdict) {
                fast.guard(&mut session).await;
            }
            return Ok(Report::nothing(direction));
        }
        let graph = self.graph()?;
        if self.plan(&graph, &checked, direction, target)?.is_empty() {
            return Ok(Report::nothing(direction));
        }

        session.lock(self.lock_timeout).await?;
        if let Some(fast) = &fast {
            fast.prepare(&mut session).await;
        }
        let result = self
            .change_locked(&mut session, &graph, direction, target, rows.is_none())
            .await;
        let report = release(&mut session, result).await?;
        // The run's writes invalidated the digest: store the new one, so
        // that the next boot is a one-statement boot again.
        if let Some(fast) =
            fast.filter(|_| !report.steps.is_empty() || verdict == Verdict::Unguarded)
        {
            fast.guard(&mut session).await;
        }
        Ok(report)
    }

    /// Under the lock: read again (another replica may have done the work),
    /// verify, plan, apply.
    async fn change_locked<DB: Backend>(
        &self,
        session: &mut Session<DB>,
        graph: &RevisionGraph<'_>,
        direction: Direction,
        target: &Target,
        create_table: bool,
    ) -> Result<Report, Error> {
        if create_table {
            session.create_history_table().await?;
        }
        let rows = session.read().await?.unwrap_or_default();
        let checked = CheckedHistory::new(&self.revisions, &rows);
        if let Some(refusal) = checked.refusal(&self.revisions, self.ignore_unknown) {
            return Err(refusal);
        }
        let plan = self.plan(graph, &checked, direction, target)?;
        let single = self.transaction_mode == TransactionMode::Single;
        let mut report = Report::nothing(direction);
        for revision in &plan.steps {
            let step = session
                .run_step(
                    revision,
                    direction == Direction::Upgrade,
                    single,
                    self.lock_timeout,
                )
                .await?;
            tracing::info!(
                revision = %step.revision,
                message = %step.message,
                elapsed_ms = step.duration.as_millis() as u64,
                "migrations: {} {}",
                if direction == Direction::Upgrade { "applied" } else { "reverted" },
                step.revision,
            );
            report.steps.push(step);
        }
        session.commit_run_transaction().await?;
        Ok(report)
    }

    fn plan<'g>(
        &self,
        graph: &RevisionGraph<'g>,
        checked: &CheckedHistory,
        direction: Direction,
        target: &Target,
    ) -> Result<Plan<'g>, Error> {
        let applied = checked.applied_set(graph)?;
        Ok(match direction {
            Direction::Upgrade => plan_upgrade(graph, &applied, target)?,
            Direction::Downgrade => plan_downgrade(graph, &applied, target)?,
        })
    }

    /// Records the database as being at `target` without running any SQL:
    /// rows are added for the target and all it requires, and removed for
    /// what requires it. Also the way out of a half-applied revision: rows
    /// left pending are cleared first.
    pub async fn stamp<DB: Backend>(&self, pool: &Pool<DB>, target: &str) -> Result<Report, Error> {
        let target = Target::parse(target)?;
        DB::compiled_stamp(self, pool, target, false).await
    }

    /// Like [`stamp`](Self::stamp), after forgetting every history row,
    /// known to this build or not (`migrate stamp --purge`): the way out of
    /// a history written by another build or edited by hand. One batch,
    /// under the lock.
    pub async fn stamp_purge<DB: Backend>(
        &self,
        pool: &Pool<DB>,
        target: &str,
    ) -> Result<Report, Error> {
        let target = Target::parse(target)?;
        DB::compiled_stamp(self, pool, target, true).await
    }

    /// [`stamp`](Self::stamp) and [`stamp_purge`](Self::stamp_purge).
    pub(crate) async fn stamp_locked<DB: Backend>(
        &self,
        pool: &Pool<DB>,
        target: Target,
        purge: bool,
    ) -> Result<Report, Error> {
        let graph = self.graph()?;
        let table = self.table()?;
        let mut session = Session::<DB>::open(pool, table.clone(), self.io_timeout).await?;
        session.lock(self.lock_timeout).await?;
        if let Some(fast) = self.fast_path(DB::DIALECT, &table) {
            // Its triggers fire on this write too.
            fast.prepare(&mut session).await;
        }
        let result = async {
            session.create_history_table().await?;
            let rows = session.read().await?.unwrap_or_default();
            let checked = CheckedHistory::new(&self.revisions, &rows);
            if let Some(refusal) = checked.unknown_refusal(self.ignore_unknown || purge) {
                return Err(refusal);
            }
            // A history with gaps is one of the things a stamp repairs, so
            // the applied set is taken as it is, not checked for closure.
            let applied = if purge {
                graph.empty_set()
            } else {
                checked.applied_as_recorded(&graph)
            };
            let plan = plan_stamp(&graph, &applied, &target)?;
            let forget: Vec<&str> = if purge {
                rows.iter().map(|row| row.revision.as_str()).collect()
            } else {
                // Rows left pending by a failed run go first: stamping is
                // how a half-applied revision is resolved.
                checked
                    .half_applied
                    .iter()
                    .map(|&index| self.revisions[index].id.as_ref())
                    .chain(plan.delete.iter().map(|r| r.id.as_ref()))
                    .collect()
            };
            let batch = DB::DIALECT.stamp_batch(&table, &forget, &plan.insert, Wrap::None);
            let rows: Vec<&str> = forget
                .iter()
                .copied()
                .chain(plan.insert.iter().map(|r| r.id.as_ref()))
                .collect();
            session.history_batch(&batch, &rows).await?;
            Ok(stamp_report(&plan))
        }
        .await;
        release(&mut session, result).await
    }

    /// The applied revisions, checked as a run checks them before doing
    /// anything: refused when the database has revisions this build does
    /// not know (unless ignored), a changed file, or a half-applied
    /// revision. For tools that plan from the database's state, such as
    /// the CLI's offline scripts. Reads only; takes no lock.
    pub async fn applied_revisions<DB: Backend>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<Vec<String>, Error> {
        let graph = self.graph()?;
        let rows = DB::compiled_read(self, pool).await?;
        self.applied_of(&graph, &rows)
    }

    fn applied_of(
        &self,
        graph: &RevisionGraph<'_>,
        rows: &[HistoryRow],
    ) -> Result<Vec<String>, Error> {
        let checked = CheckedHistory::new(&self.revisions, rows);
        if let Some(refusal) = checked.refusal(&self.revisions, self.ignore_unknown) {
            return Err(refusal);
        }
        let applied = checked.applied_set(graph)?;
        Ok(graph
            .nodes_in(&applied)
            .into_iter()
            .map(|node| graph.revision(node).id.to_string())
            .collect())
    }

    /// The applied heads: applied revisions that no applied revision
    /// revises, followed by any applied revision this build does not know.
    pub async fn current<DB: Backend>(&self, pool: &Pool<DB>) -> Result<Vec<String>, Error> {
        let graph = self.graph()?;
        let rows = DB::compiled_read(self, pool).await?;
        Ok(self.current_of(&graph, &rows))
    }

    fn current_of(&self, graph: &RevisionGraph<'_>, rows: &[HistoryRow]) -> Vec<String> {
        let checked = CheckedHistory::new(&self.revisions, rows);
        let applied = checked.applied_as_recorded(graph);
        let mut heads: Vec<String> = graph
            .heads_of(&applied)
            .into_iter()
            .map(|node| graph.revision(node).id.to_string())
            .collect();
        // A pending row is not applied, known or not.
        heads.extend(
            checked
                .unknown
                .iter()
                .filter(|id| !checked.unknown_half_applied.contains(id))
                .cloned(),
        );
        heads
    }

    /// Every embedded revision's state (applied, pending, drifted,
    /// half-applied) and the applied revisions this build does not know.
    /// Reads only; takes no lock.
    pub async fn status<DB: Backend>(&self, pool: &Pool<DB>) -> Result<Status, Error> {
        let graph = self.graph()?;
        let rows = DB::compiled_read(self, pool).await?;
        Ok(self.status_of(&graph, &rows))
    }

    fn status_of(&self, graph: &RevisionGraph<'_>, rows: &[HistoryRow]) -> Status {
        let checked = CheckedHistory::new(&self.revisions, rows);
        let state_of = |node: usize| {
            if checked.half_applied.contains(&node) {
                RevisionState::HalfApplied
            } else if checked.drifted.iter().any(|(n, _)| *n == node) {
                RevisionState::Drifted
            } else if checked.applied.contains(&node) {
                RevisionState::Applied
            } else {
                RevisionState::Pending
            }
        };
        Status {
            revisions: graph
                .topological_nodes()
                .iter()
                .map(|&node| {
                    let revision = graph.revision(node);
                    RevisionStatus {
                        revision: revision.id.to_string(),
                        message: revision.message.to_string(),
                        file: revision.file.to_string(),
                        state: state_of(node),
                    }
                })
                .collect(),
            unknown: checked.unknown,
            unknown_half_applied: checked.unknown_half_applied,
        }
    }

    /// Re-records the checksum of every drifted revision: the deliberate,
    /// reviewed acceptance of edited files (`migrate repair`). Returns the
    /// revisions repaired.
    pub async fn repair<DB: Backend>(&self, pool: &Pool<DB>) -> Result<Vec<String>, Error> {
        DB::compiled_repair(self, pool).await
    }

    /// [`repair`](Self::repair).
    pub(crate) async fn repair_locked<DB: Backend>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<Vec<String>, Error> {
        let table = self.table()?;
        let mut session = Session::<DB>::open(pool, table.clone(), self.io_timeout).await?;
        session.lock(self.lock_timeout).await?;
        if let Some(fast) = self.fast_path(DB::DIALECT, &table) {
            // Its triggers fire on this write too.
            fast.prepare(&mut session).await;
        }
        let result = async {
            let rows = session.read().await?.unwrap_or_default();
            let checked = CheckedHistory::new(&self.revisions, &rows);
            let mut repaired = Vec::new();
            for (index, _) in &checked.drifted {
                let revision = &self.revisions[*index];
                session.update_checksum(revision).await?;
                repaired.push(revision.id.to_string());
            }
            Ok(repaired)
        }
        .await;
        release(&mut session, result).await
    }

    /// The history rows, for the read-only operations; no lock.
    pub(crate) async fn read_rows<DB: Backend>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<Vec<HistoryRow>, Error> {
        let mut session = Session::<DB>::open(pool, self.table()?, self.io_timeout).await?;
        Ok(session.read().await?.unwrap_or_default())
    }
}

/// What a stamp did: rows forgotten, then rows recorded.
fn stamp_report(plan: &StampPlan<'_>) -> Report {
    let step = |r: &&Revision| StepReport {
        revision: r.id.to_string(),
        message: r.message.to_string(),
        duration: Duration::ZERO,
    };
    let direction = if plan.insert.is_empty() && !plan.delete.is_empty() {
        Direction::Downgrade
    } else {
        Direction::Upgrade
    };
    Report {
        direction,
        steps: plan
            .delete
            .iter()
            .chain(plan.insert.iter())
            .map(step)
            .collect(),
    }
}

/// Releases the lock whatever happened; the operation's own error wins over
/// a failure to release.
async fn release<DB: Backend, T>(
    session: &mut Session<DB>,
    result: Result<T, Error>,
) -> Result<T, Error> {
    let unlocked = session.unlock().await;
    match (result, unlocked) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(err)) => Err(err),
        (Err(err), unlocked) => {
            if let Err(unlock_err) = unlocked {
                tracing::warn!(%unlock_err, "migrations: releasing the lock failed after an error");
            }
            Err(err)
        }
    }
}
