//! Reverting the newest revision alone, on a graph with branches.
//!
//! The stairway and `migrate check --replay` apply the revisions in
//! topological order and revert each one right after applying it. `-1`
//! says that only while the database has one head: once two branches are
//! applied it is refused (which head?), and from a merge revision a step
//! back does not say which parent. The downgrade here is chosen by the
//! planner itself: among the targets that could take the revision back
//! (its branch one step back, or one of its parents), the first whose plan
//! reverts it alone, else the one that reverts the fewest others, which
//! are applied again after it.

use sqlx::Pool;

use crate::core::graph::RevisionGraph;
use crate::core::plan::plan_downgrade;
use crate::core::target::Target;
use crate::{Backend, Error, Revision, Runner};

/// How to take back the newest of the applied revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepBack {
    /// The downgrade target (`<rev>@-1`, or a parent's id for a merge).
    pub target: String,
    /// Revisions that downgrade also reverts (on other branches below a
    /// merge's parents), to apply again after it, in order: empty in every
    /// graph where some target reverts the revision alone.
    pub reapply: Vec<String>,
}

/// The downgrade that reverts `applied`'s last revision, where `applied`
/// is a start of `graph`'s topological order (nothing applied requires the
/// last one).
pub fn step_back(graph: &RevisionGraph<'_>, applied: &[&Revision]) -> Result<StepBack, Error> {
    let Some(newest) = applied.last() else {
        return Ok(StepBack {
            target: "base".to_string(),
            reapply: Vec::new(),
        });
    };
    let (set, _) = graph.set_of(applied.iter().map(|r| r.id.as_ref()));
    let mut candidates = vec![format!("{}@-1", newest.id)];
    candidates.extend(newest.parents.iter().map(|parent| parent.to_string()));
    let mut best: Option<StepBack> = None;
    let mut first_error = None;
    for target in candidates {
        let plan = match Target::parse(&target).and_then(|t| plan_downgrade(graph, &set, &t)) {
            Ok(plan) => plan,
            Err(error) => {
                first_error.get_or_insert(error);
                continue;
            }
        };
        if !plan.steps.iter().any(|r| r.id == newest.id) {
            continue;
        }
        // The others go in the plan's order (dependents first); applying
        // them again goes the other way.
        let reapply: Vec<String> = plan
            .steps
            .iter()
            .rev()
            .filter(|r| r.id != newest.id)
            .map(|r| r.id.to_string())
            .collect();
        if best
            .as_ref()
            .is_none_or(|b| reapply.len() < b.reapply.len())
        {
            best = Some(StepBack { target, reapply });
        }
    }
    match (best, first_error) {
        (Some(best), _) => Ok(best),
        (None, Some(error)) => Err(error.into()),
        // Unreachable with a topological start (`<rev>@-1` reverts it).
        (None, None) => Ok(StepBack {
            target: "-1".to_string(),
            reapply: Vec::new(),
        }),
    }
}

/// Reverts `applied`'s last revision alone (see [`step_back`]): the
/// database ends with the others of `applied` applied.
pub async fn revert_newest<DB: Backend>(
    runner: &Runner,
    pool: &Pool<DB>,
    applied: &[&Revision],
) -> Result<(), Error> {
    let graph = runner.graph()?;
    let back = step_back(&graph, applied)?;
    runner.downgrade(pool, &back.target).await?;
    for id in &back.reapply {
        runner.upgrade(pool, id).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{step_back, StepBack};
    use crate::core::graph::RevisionGraph;
    use crate::core::parse_migration;
    use crate::Revision;

    fn revision(id: &str, revises: &str) -> Revision {
        let text = format!(
            "-- revision: {id}\n-- revises: {revises}\n-- message: {id}\n\n-- migrate:up\nSELECT 1;\n\n-- migrate:down\nSELECT 1;\n"
        );
        parse_migration(&format!("migrations/{id}_x.sql"), text.as_bytes()).expect("parses")
    }

    fn back(revisions: &[Revision], applied: &[&str]) -> StepBack {
        let graph = RevisionGraph::new_allowing_multiple_heads(revisions).expect("a graph");
        let applied: Vec<&Revision> = applied
            .iter()
            .map(|id| graph.get(id).expect("known"))
            .collect();
        step_back(&graph, &applied).expect("a step back")
    }

    #[test]
    fn the_newest_revision_goes_alone_whatever_the_branches() {
        let revisions = [
            revision("a", ""),
            revision("b1", "a"),
            revision("c1", "a"),
            revision("b2", "b1"),
            revision("c2", "c1"),
            revision("m", "b1, c1"),
        ];
        let alone = |target: &str| StepBack {
            target: target.to_string(),
            reapply: Vec::new(),
        };
        assert_eq!(back(&revisions, &["a"]), alone("a@-1"));
        assert_eq!(back(&revisions, &["a", "b1", "c1"]), alone("c1@-1"));
        assert_eq!(back(&revisions, &["a", "b1", "c1", "m"]), alone("b1"));
        // Each parent of the merge has another child applied: the one that
        // takes the fewest others down, applied again after.
        assert_eq!(
            back(&revisions, &["a", "b1", "c1", "b2", "c2", "m"]),
            StepBack {
                target: "b1".to_string(),
                reapply: vec!["b2".to_string()],
            }
        );
    }
}
