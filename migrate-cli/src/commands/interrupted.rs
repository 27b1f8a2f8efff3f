//! What `upgrade`, `downgrade` and `stamp` say when Ctrl-C or SIGTERM
//! stops them.
//!
//! By the time this runs, the run's future is dropped and its statement
//! cancelled on the server (see [`crate::interrupt`]). What the database
//! kept is then read again, on a fresh connection, rather than inferred:
//! a run that commits per revision keeps the revisions before the
//! interrupted one, SQLite and the single-transaction mode keep none of
//! the run, and a `transaction: false` revision may have committed part of
//! itself. The report names each case.

use migrate_core::{Direction, Revision, RevisionGraph};
use migrate_runtime::{Backend, Runner, Status};
use sqlx::Pool;

use crate::commands::upgrade::at_text;
use crate::database::fresh_pool;
use crate::error::CliError;
use crate::interrupt::{Signal, REREAD_WAIT};
use crate::output::Output;

/// The history as read after the interruption.
pub struct After {
    /// Every revision's state.
    pub status: Status,
    /// The applied heads.
    pub current: Vec<String>,
    /// A revision left pending, as the next run would report it.
    half_applied: Option<HalfApplied>,
}

/// A revision whose history row an interrupted run left pending.
struct HalfApplied {
    revision: String,
    file: String,
    /// The stamp target that forgets it and nothing else.
    before: String,
    reverting: bool,
}

/// Reads the history again on a new connection, within [`REREAD_WAIT`];
/// the error is one line saying why it could not.
pub async fn reread<DB: Backend>(runner: &Runner, pool: &Pool<DB>) -> Result<After, String> {
    let fresh = fresh_pool(pool);
    let read = async {
        let status = runner.status(&fresh).await?;
        // The runner's own refusal names the revision and the stamp
        // target that resolves it.
        let half_applied = match runner.applied_revisions(&fresh).await {
            Err(migrate_runtime::Error::HalfApplied {
                revision,
                file,
                before,
                reverting,
            }) => Some(HalfApplied {
                revision,
                file,
                before,
                reverting,
            }),
            _ => None,
        };
        let current = runner.current(&fresh).await?;
        Ok::<_, migrate_runtime::Error>(After {
            status,
            current,
            half_applied,
        })
    };
    let result = match tokio::time::timeout(REREAD_WAIT, read).await {
        Ok(Ok(after)) => Ok(after),
        Ok(Err(err)) => Err(CliError::from(err).errors.join("; ")),
        Err(_) => Err(format!("no answer within {} s", REREAD_WAIT.as_secs())),
    };
    if result.is_ok() {
        fresh.close().await;
    }
    result
}

/// An interrupted `upgrade` or `downgrade`.
pub struct InterruptedRun<'a> {
    /// Which signal.
    pub signal: Signal,
    /// Up or down.
    pub direction: Direction,
    /// The planned revisions, in order; empty when the plan is unknown.
    pub planned: &'a [&'a Revision],
    /// The revisions applied before the run.
    pub before: &'a [String],
    /// The revisions the run finished, in order, with their elapsed
    /// milliseconds, committed or not.
    pub finished: Vec<(String, u64)>,
}

impl InterruptedRun<'_> {
    /// Prints what was kept that is not printed yet (`printed` says which
    /// lines are; `line` makes one) and where the database is, and returns
    /// the error that says what became of the interrupted revision.
    pub fn report(
        &self,
        out: &Output,
        graph: &RevisionGraph<'_>,
        after: Result<After, String>,
        printed: impl Fn(&str) -> bool,
        line: impl Fn(&str, u64) -> String,
    ) -> CliError {
        let interrupted = self.signal.interrupted();
        let finished = |id: &str| self.finished.iter().any(|(done, _)| done == id);
        let after = match after {
            Ok(after) => after,
            Err(reason) => {
                let what = match self.planned.iter().find(|r| !finished(&r.id)) {
                    Some(revision) => {
                        format!("{interrupted} before {} finished", self.name(revision))
                    }
                    None => interrupted,
                };
                return CliError::new(
                    self.signal.exit(),
                    format!("{what}; the history could not be read again to confirm what was kept: {reason}"),
                )
                .hint("`migrate status` shows what is applied and whether a revision was left pending");
            }
        };
        let applied_now = after.status.applied();
        let was_applied = |id: &str| self.before.iter().any(|b| b == id);
        let kept = |id: &str| match self.direction {
            Direction::Upgrade => applied_now.contains(&id) && !was_applied(id),
            Direction::Downgrade => was_applied(id) && !applied_now.contains(&id),
        };
        for revision in self
            .planned
            .iter()
            .filter(|r| kept(&r.id) && !printed(&r.id))
        {
            let ms = self
                .finished
                .iter()
                .find(|(id, _)| *id == revision.id)
                .map_or(0, |(_, ms)| *ms);
            out.info(&line(&revision.id, ms));
        }
        out.info(&format!(
            "the database is at {}",
            at_text(out, graph, &after.current)
        ));

        if let Some(half) = &after.half_applied {
            return self.left_pending(graph, half);
        }
        let lost: Vec<String> = self
            .planned
            .iter()
            .filter(|r| finished(&r.id) && !kept(&r.id))
            .map(|r| format!("`{}`", r.id))
            .collect();
        let lost_text = match lost.len() {
            0 => String::new(),
            1 => format!(
                "; {} had finished but was rolled back with it (the run commits once, at its end)",
                lost[0]
            ),
            _ => format!(
                "; {} had finished but were rolled back with it (the run commits once, at its end)",
                lost.join(", ")
            ),
        };
        let message = match self.planned.iter().find(|r| !finished(&r.id) && !kept(&r.id)) {
            Some(revision) => match self.direction {
                Direction::Upgrade => format!(
                    "{interrupted} before {} finished: it was rolled back and nothing of it was kept{lost_text}",
                    self.name(revision)
                ),
                Direction::Downgrade => format!(
                    "{interrupted} before the downgrade of {} finished: it was rolled back, so `{}` stays applied{lost_text}",
                    self.name(revision),
                    revision.id
                ),
            },
            None if !lost.is_empty() => {
                format!("{interrupted} before the run was committed{lost_text}")
            }
            None if self.planned.is_empty() => interrupted,
            None => format!("{interrupted} after the last revision had finished"),
        };
        CliError::new(self.signal.exit(), message)
            .hint("run the same command again to carry on from here")
    }

    /// `` `b2b2…` (migrations/b2b2…_x.sql) ``.
    fn name(&self, revision: &Revision) -> String {
        format!("`{}` ({})", revision.id, revision.file)
    }

    /// A revision that cannot be rolled back was interrupted: what it ran
    /// may have taken effect, and the pending row stays for the user to
    /// resolve, with the advice the next run would give.
    fn left_pending(&self, graph: &RevisionGraph<'_>, half: &HalfApplied) -> CliError {
        let interrupted = self.signal.interrupted();
        let outside = graph
            .node(&half.revision)
            .is_some_and(|node| !graph.revision(node).transactional);
        let how = if outside {
            "outside a transaction (`transaction: false`)"
        } else {
            "with DDL, which MySQL commits as it goes"
        };
        let (what, advice) = if half.reverting {
            (
                "the downgrade of ",
                format!(
                    "inspect the database, then either finish the revert by hand and run `migrate stamp {}`, \
                     or restore what it removed and run `migrate stamp {}`",
                    half.before, half.revision
                ),
            )
        } else {
            (
                "",
                format!(
                    "inspect the database, then either complete the change by hand and run `migrate stamp {}`, \
                     or undo it by hand and run `migrate stamp {}`",
                    half.revision, half.before
                ),
            )
        };
        CliError::new(
            self.signal.exit(),
            format!(
                "{interrupted} while {what}`{}` ({}) was running {how}: what it ran before the interruption \
                 may have taken effect, so its history row is left pending",
                half.revision, half.file
            ),
        )
        .hint(format!("{advice}; then run again"))
    }
}

/// An interrupted `stamp`: one batch in one transaction, so either all of
/// it was recorded or none.
pub fn stamp_report(
    signal: Signal,
    out: &Output,
    graph: &RevisionGraph<'_>,
    before: &Status,
    after: Result<After, String>,
) -> CliError {
    let interrupted = signal.interrupted();
    let message = match after {
        Err(reason) => {
            return CliError::new(
                signal.exit(),
                format!(
                    "{interrupted}; the history could not be read again to confirm whether the stamp was recorded: {reason}"
                ),
            )
            .hint("`migrate status` shows what is recorded")
        }
        Ok(after) => {
            out.info(&format!(
                "the database is at {}",
                at_text(out, graph, &after.current)
            ));
            if after.status == *before {
                format!("{interrupted} before the stamp was recorded: it was rolled back, so the history table is as it was")
            } else {
                format!("{interrupted} after the stamp was recorded")
            }
        }
    };
    CliError::new(signal.exit(), message)
}
