//! The stairway: from base, each revision in order up, down, and up again,
//! the schema compared before its up and after its down.

use std::fmt;

use sqlx::Pool;

use super::revert::revert_newest;
use super::snapshot::{SchemaSnapshot, Snapshot};
use crate::{Error, Revision, Runner};

/// The step of the stairway that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StairwayStep {
    /// The database already had revisions applied; the stairway needs an
    /// empty one (it would otherwise revert the application's data).
    NotAtBase,
    /// The revision's up section failed.
    Up,
    /// Its down section failed.
    Down,
    /// Its down section ran, and the schema differs from the one before
    /// its up.
    DownDiffers,
    /// Its up section failed when applied again after its down.
    UpAgain,
    /// The catalog could not be read.
    ReadSchema,
}

/// Why [`stairway`] failed: the revision, the step, and the database's
/// error or the differences of the schema. Its `Debug` is its `Display`,
/// so that `.unwrap()` in a test prints the readable text.
pub struct StairwayFailure {
    /// The revision's id (empty for [`StairwayStep::NotAtBase`]).
    pub revision: String,
    /// The revision's file, as embedded (`migrations/<id>_<slug>.sql`).
    pub file: String,
    /// What failed.
    pub step: StairwayStep,
    /// The schema after the down against the one before the up: `+ line`
    /// for what the down left, `- line` for what it removed and the up
    /// did not create. Empty unless [`StairwayStep::DownDiffers`].
    pub differences: Vec<String>,
    /// The error of the failing run or catalog read.
    pub error: Option<Error>,
    /// For [`StairwayStep::NotAtBase`]: the applied revisions.
    pub applied: Vec<String>,
}

impl StairwayFailure {
    fn new(revision: &Revision, step: StairwayStep) -> StairwayFailure {
        StairwayFailure {
            revision: revision.id.to_string(),
            file: revision.file.to_string(),
            step,
            differences: Vec::new(),
            error: None,
            applied: Vec::new(),
        }
    }

    fn because(mut self, error: Error) -> StairwayFailure {
        self.error = Some(error);
        self
    }
}

impl fmt::Display for StairwayFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = format!("revision `{}` ({})", self.revision, self.file);
        match self.step {
            StairwayStep::NotAtBase => write!(
                f,
                "stairway: the database is not at base (applied: {}); give the stairway an empty database",
                self.applied.join(", ")
            )?,
            StairwayStep::Up => write!(f, "stairway: the up section of {which} failed")?,
            StairwayStep::Down => write!(f, "stairway: the down section of {which} failed")?,
            StairwayStep::UpAgain => write!(
                f,
                "stairway: the up section of {which} failed when applied again after its down"
            )?,
            StairwayStep::ReadSchema => {
                write!(f, "stairway: cannot read the schema at {which}")?
            }
            StairwayStep::DownDiffers => {
                write!(
                    f,
                    "stairway: the down section of {which} does not restore the schema from before its up \
                     (+ left by the down, - removed by it):"
                )?;
                for line in &self.differences {
                    write!(f, "\n    {line}")?;
                }
            }
        }
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for StairwayFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for StairwayFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Applies every revision of `runner` to the empty database of `pool`,
/// in order from base: up, then down, checking that the schema is exactly
/// as before the up (tables, columns, indexes, constraints, read from the
/// catalog), then up again. Ends with the database at the heads. A
/// revision without a down section is applied and not reverted.
///
/// Stops at the first failure, naming the revision, the step and the
/// database's error or the differences of the schema.
pub async fn stairway<DB: SchemaSnapshot>(
    runner: &Runner,
    pool: &Pool<DB>,
) -> Result<(), StairwayFailure> {
    // The boot's history digest (a table and triggers beside the history
    // table) is the runner's bookkeeping, not the schema under test.
    let runner = &runner.clone().with_history_digest(false);
    let graph = runner.graph().map_err(|error| StairwayFailure {
        revision: String::new(),
        file: String::new(),
        step: StairwayStep::ReadSchema,
        differences: Vec::new(),
        error: Some(error),
        applied: Vec::new(),
    })?;
    let order: Vec<&Revision> = graph.topological().collect();
    let Some(first) = order.first() else {
        return Ok(());
    };
    let applied = runner
        .applied_revisions(pool)
        .await
        .map_err(|error| StairwayFailure::new(first, StairwayStep::ReadSchema).because(error))?;
    if !applied.is_empty() {
        let mut failure = StairwayFailure::new(first, StairwayStep::NotAtBase);
        failure.revision.clear();
        failure.file.clear();
        failure.applied = applied;
        return Err(failure);
    }
    let table = runner.history_table();
    let read = |revision: &Revision| {
        let failure = StairwayFailure::new(revision, StairwayStep::ReadSchema);
        move |error: sqlx::Error| failure.because(Error::Database(error))
    };
    let mut before: Snapshot = DB::snapshot(pool, table).await.map_err(read(first))?;
    for (index, revision) in order.iter().copied().enumerate() {
        let id = revision.id.as_ref();
        let failed = |step| StairwayFailure::new(revision, step);
        runner
            .upgrade(pool, id)
            .await
            .map_err(|e| failed(StairwayStep::Up).because(e))?;
        let after = DB::snapshot(pool, table).await.map_err(read(revision))?;
        if revision.is_reversible() {
            // The applied revisions are the topological order up to this
            // one; `-1` would be refused once two branches are applied.
            revert_newest(runner, pool, &order[..=index])
                .await
                .map_err(|e| failed(StairwayStep::Down).because(e))?;
            let restored = DB::snapshot(pool, table).await.map_err(read(revision))?;
            let differences = restored.differences(&before);
            if !differences.is_empty() {
                let mut failure = failed(StairwayStep::DownDiffers);
                failure.differences = differences;
                return Err(failure);
            }
            runner
                .upgrade(pool, id)
                .await
                .map_err(|e| failed(StairwayStep::UpAgain).because(e))?;
        }
        before = after;
    }
    Ok(())
}

impl Runner {
    /// [`testing::stairway`](crate::testing::stairway) over this runner's
    /// revisions: every revision up, down and up again on the empty
    /// database of `pool`, for an application's own `#[tokio::test]`.
    pub async fn stairway<DB: SchemaSnapshot>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<(), StairwayFailure> {
        stairway(self, pool).await
    }
}
