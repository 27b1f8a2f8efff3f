//! Planning: from the applied set and a target, the ordered steps to run.
//! Everything that can be refused is refused here, before any SQL runs.

use crate::error::PlanError;
use crate::graph::{RevisionGraph, RevisionSet};
use crate::relative::{branch_base_drops, downgrade_drops, upgrade_target};
use crate::revision::Revision;
use crate::target::{resolve_branch_head, resolve_head, resolve_revision, walk, Target};

/// Which way a plan goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Running up sections.
    Upgrade,
    /// Running down sections.
    Downgrade,
}

/// The revisions to run, in the order to run them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    /// Up or down.
    pub direction: Direction,
    /// Requirements first for an upgrade; dependents first for a downgrade.
    pub steps: Vec<&'a Revision>,
}

impl Plan<'_> {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// The history rows a stamp writes and removes, without running any SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampPlan<'a> {
    /// Revisions to record as applied, requirements first.
    pub insert: Vec<&'a Revision>,
    /// Revisions to record as not applied, dependents first.
    pub delete: Vec<&'a Revision>,
}

/// Where a target points, once resolved against the graph and the applied set.
enum Destination {
    /// Before the first revision.
    Base,
    /// Before this root: nothing that requires it applied. `<rev>-N` past
    /// an independent branch's root lands here, and must not take the other
    /// branches down as `base` would.
    BeforeRoot(usize),
    /// The state where these revisions (and all they require) are applied.
    At(Vec<usize>),
    /// `+N` / `-N`: these nodes, in the order to run them.
    Steps(Vec<usize>),
}

/// The steps that bring `applied` up to `target`: every revision the target
/// requires that is not applied yet, requirements first.
pub fn plan_upgrade<'a>(
    graph: &RevisionGraph<'a>,
    applied: &RevisionSet,
    target: &Target,
) -> Result<Plan<'a>, PlanError> {
    let nodes = match destination(graph, applied, target, Direction::Upgrade)? {
        Destination::Base | Destination::BeforeRoot(_) => Vec::new(),
        Destination::Steps(nodes) => nodes,
        Destination::At(targets) => {
            let behind = |&t: &usize| applied.contains(t) && has_applied_child(graph, applied, t);
            if targets.iter().any(behind) {
                return Err(PlanError::WrongDirection {
                    given: target.to_string(),
                    reason:
                        "is behind the current state of the database; use `downgrade` to go back",
                });
            }
            missing_ancestors(graph, applied, &targets)
        }
    };
    Ok(Plan {
        direction: Direction::Upgrade,
        steps: nodes.into_iter().map(|n| graph.revision(n)).collect(),
    })
}

/// The steps that bring `applied` down to `target`: every applied revision
/// that requires the target, dependents first. Refused when one of them has
/// no down section.
pub fn plan_downgrade<'a>(
    graph: &RevisionGraph<'a>,
    applied: &RevisionSet,
    target: &Target,
) -> Result<Plan<'a>, PlanError> {
    let nodes = match destination(graph, applied, target, Direction::Downgrade)? {
        Destination::Base => reversed(graph.nodes_in(applied)),
        Destination::BeforeRoot(root) => applied_requiring(graph, applied, root),
        Destination::Steps(nodes) => nodes,
        Destination::At(targets) => {
            if let Some(&missing) = targets.iter().find(|&&t| !applied.contains(t)) {
                return Err(PlanError::NotApplied {
                    id: graph.revision(missing).id.to_string(),
                    current: crate::target::ids(graph, &graph.heads_of(applied)),
                });
            }
            applied_dependents(graph, applied, &targets)
        }
    };
    let steps: Vec<&'a Revision> = nodes.into_iter().map(|n| graph.revision(n)).collect();
    if let Some(irreversible) = steps.iter().find(|r| !r.is_reversible()) {
        return Err(PlanError::Irreversible {
            id: irreversible.id.to_string(),
            file: irreversible.file.to_string(),
        });
    }
    Ok(Plan {
        direction: Direction::Downgrade,
        steps,
    })
}

/// The history rows that make the database look as if it were at `target`,
/// without running any SQL: rows for the target and all it requires, no rows
/// for what requires the target.
pub fn plan_stamp<'a>(
    graph: &RevisionGraph<'a>,
    applied: &RevisionSet,
    target: &Target,
) -> Result<StampPlan<'a>, PlanError> {
    let direction = match target {
        Target::Relative(steps) | Target::BranchRelative { steps, .. } if *steps < 0 => {
            Direction::Downgrade
        }
        Target::BranchBase(_) => Direction::Downgrade,
        _ => Direction::Upgrade,
    };
    let (insert, delete) = match destination(graph, applied, target, direction)? {
        Destination::Base => (Vec::new(), reversed(graph.nodes_in(applied))),
        Destination::BeforeRoot(root) => (Vec::new(), applied_requiring(graph, applied, root)),
        Destination::Steps(nodes) if direction == Direction::Upgrade => (nodes, Vec::new()),
        Destination::Steps(nodes) => (Vec::new(), nodes),
        Destination::At(targets) => (
            missing_ancestors(graph, applied, &targets),
            applied_dependents(graph, applied, &targets),
        ),
    };
    let revisions = |nodes: Vec<usize>| nodes.into_iter().map(|n| graph.revision(n)).collect();
    Ok(StampPlan {
        insert: revisions(insert),
        delete: revisions(delete),
    })
}

fn destination(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    target: &Target,
    direction: Direction,
) -> Result<Destination, PlanError> {
    let given = target.to_string();
    Ok(match target {
        Target::Base => Destination::Base,
        Target::Head => match resolve_head(graph)? {
            Some(head) => Destination::At(vec![head]),
            None => Destination::Base,
        },
        Target::Heads => Destination::At(graph.head_nodes()),
        Target::Current => match graph.heads_of(applied).as_slice() {
            [] => Destination::Base,
            heads => Destination::At(heads.to_vec()),
        },
        Target::Revision(name) => Destination::At(vec![resolve_revision(graph, name)?]),
        Target::BranchHead(label) => Destination::At(vec![resolve_branch_head(graph, label)?]),
        Target::FromRevision { revision, steps } => {
            let start = resolve_revision(graph, revision)?;
            match walk(graph, &given, start, *steps)? {
                Some(node) => Destination::At(vec![node]),
                // One step short of the walk is the root it went past.
                None => match walk(graph, &given, start, steps + 1)? {
                    Some(root) => Destination::BeforeRoot(root),
                    None => Destination::Base,
                },
            }
        }
        Target::Relative(steps) => relative(graph, applied, None, *steps, direction, given)?,
        Target::BranchRelative { branch, steps } => {
            relative(graph, applied, Some(branch), *steps, direction, given)?
        }
        // As an upgrade target, Alembic's `<label>@base` names no revision:
        // nothing to apply.
        Target::BranchBase(_) if direction == Direction::Upgrade => Destination::Base,
        Target::BranchBase(branch) => {
            Destination::Steps(branch_base_drops(graph, applied, branch)?)
        }
    })
}

/// `+N` / `-N` / `<branch>@+N` / `<branch>@-N`: a walk from where the
/// database is ([`crate::relative`]).
fn relative(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    branch: Option<&str>,
    steps: isize,
    direction: Direction,
    given: String,
) -> Result<Destination, PlanError> {
    let going_up = steps > 0;
    if going_up != (direction == Direction::Upgrade) {
        return Err(PlanError::WrongDirection {
            given,
            reason: if going_up {
                "moves forward; use `upgrade`"
            } else {
                "moves back; use `downgrade`"
            },
        });
    }
    let count = steps.unsigned_abs();
    Ok(if going_up {
        Destination::At(vec![upgrade_target(graph, applied, branch, count, &given)?])
    } else {
        Destination::Steps(downgrade_drops(graph, applied, branch, count, &given)?)
    })
}

/// What `targets` require (themselves included) that is not applied, in
/// topological order.
fn missing_ancestors(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    targets: &[usize],
) -> Vec<usize> {
    let wanted = graph.ancestors_inclusive(targets);
    graph
        .topological_nodes()
        .iter()
        .copied()
        .filter(|&node| wanted.contains(node) && !applied.contains(node))
        .collect()
}

/// Applied revisions that go when the database moves down to `targets`,
/// dependents first: the revisions that revise a target, and everything
/// that requires those (through `revises` or `depends_on`). As in Alembic,
/// a revision that only `depends_on` a target stays: the target stays
/// applied, so what it depends on is still there. Once a revision goes,
/// whatever depends on it goes too.
fn applied_dependents(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    targets: &[usize],
) -> Vec<usize> {
    let keep = graph.ancestors_inclusive(targets);
    let next: Vec<usize> = targets
        .iter()
        .flat_map(|&t| graph.child_nodes(t).iter().copied())
        .collect();
    let below = graph.descendants_inclusive(&next);
    reversed(
        graph
            .nodes_in(applied)
            .into_iter()
            .filter(|&node| below.contains(node) && !keep.contains(node))
            .collect(),
    )
}

/// Applied revisions that require `root` (itself included), dependents first.
fn applied_requiring(graph: &RevisionGraph<'_>, applied: &RevisionSet, root: usize) -> Vec<usize> {
    let below = graph.descendants_inclusive(&[root]);
    reversed(
        graph
            .nodes_in(applied)
            .into_iter()
            .filter(|&node| below.contains(node))
            .collect(),
    )
}

/// Whether the branch has moved past `node`: a revision that revises it is
/// applied. A `depends_on` from another branch does not count: that branch
/// builds on `node` without moving `node`'s branch on, so `node` is still a
/// current head (and `heads` must not read as "behind").
fn has_applied_child(graph: &RevisionGraph<'_>, applied: &RevisionSet, node: usize) -> bool {
    graph
        .child_nodes(node)
        .iter()
        .any(|&child| applied.contains(child))
}

fn reversed(mut nodes: Vec<usize>) -> Vec<usize> {
    nodes.reverse();
    nodes
}
