//! Alembic's relative steps: `+N` / `-N` from the database's current head,
//! and `<label>@+N` / `<label>@-N` / `<label>@base` along one branch.
//!
//! A step follows `revises` only, one revision at a time, the way Alembic
//! walks: `+1` moves the current head to its child (and applies whatever
//! that child requires), never a pending revision of another branch that
//! happens to sort first. Where the database has several current heads, a
//! bare `+N` / `-N` does not say which one moves, and is refused.
//!
//! "Current heads" here are Alembic's version-table heads
//! ([`RevisionGraph::requirement_heads_of`]): a revision another applied
//! branch `depends_on` is stood for by that branch's head.

use crate::error::PlanError;
use crate::graph::{RevisionGraph, RevisionSet};
use crate::target::{ids, resolve_revision};

/// The revision `steps` steps above where the database is (on the branch
/// of `branch`, when given): the target an upgrade of `+N` or
/// `<branch>@+N` goes to.
pub fn upgrade_target(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    branch: Option<&str>,
    steps: usize,
    given: &str,
) -> Result<usize, PlanError> {
    let anchor = branch.map(|name| resolve_branch(graph, name)).transpose()?;
    let heads = graph.requirement_heads_of(applied);
    let start = match anchor {
        None => single(graph, given, &heads, steps as isize)?,
        Some(anchor) => {
            let on_branch = on_line(graph, &heads, anchor);
            if on_branch.is_empty() {
                // The branch is behind the heads (or not started): start
                // from its newest applied revisions.
                let active = on_line(graph, &graph.nodes_in(applied), anchor);
                let tips: Vec<usize> = active
                    .iter()
                    .copied()
                    .filter(|&node| {
                        !active
                            .iter()
                            .any(|&other| graph.requirements(other).contains(&node))
                    })
                    .collect();
                single(graph, given, &tips, steps as isize)?
            } else {
                single(graph, given, &on_branch, steps as isize)?
            }
        }
    };
    let mut node = start;
    for taken in 0..steps {
        let mut next: Vec<usize> = match node {
            None => graph.root_nodes(),
            Some(node) => graph.child_nodes(node).to_vec(),
        };
        if let Some(anchor) = anchor {
            next.retain(|&n| graph.shares_lineage(n, anchor));
        }
        match next.as_slice() {
            [one] => node = Some(*one),
            [] => {
                return Err(PlanError::OutOfRange {
                    given: given.to_string(),
                    requested: steps,
                    available: taken,
                })
            }
            several => {
                return Err(PlanError::AmbiguousStep {
                    given: given.to_string(),
                    at: node.map_or("base".to_string(), |n| graph.revision(n).id.to_string()),
                    direction: "children",
                    candidates: ids(graph, several),
                })
            }
        }
    }
    Ok(node.expect("at least one step was taken"))
}

/// The applied revisions a downgrade of `-N` or `<branch>@-N` reverts,
/// dependents first: it walks `steps` parents down from the current head
/// (on the branch of `branch`), and reverts what stands above the revision
/// it reaches on that branch, with everything that requires it.
pub fn downgrade_drops(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    branch: Option<&str>,
    steps: usize,
    given: &str,
) -> Result<Vec<usize>, PlanError> {
    let heads = graph.requirement_heads_of(applied);
    let (start, anchor) = match branch {
        None => match single(graph, given, &heads, -(steps as isize))? {
            Some(head) => (head, head),
            None => {
                return Err(PlanError::OutOfRange {
                    given: given.to_string(),
                    requested: steps,
                    available: 0,
                })
            }
        },
        Some(name) => {
            let anchor = resolve_branch(graph, name)?;
            let mut on_branch = on_line(graph, &heads, anchor);
            if on_branch.is_empty() {
                on_branch = on_line(graph, &graph.heads_of(applied), anchor);
            }
            match single(graph, given, &on_branch, -(steps as isize))? {
                Some(head) => (head, anchor),
                None => {
                    return Err(PlanError::NothingOnBranch {
                        given: given.to_string(),
                        branch: name.to_string(),
                    })
                }
            }
        }
    };
    // `None` is base, one step past a root.
    let mut node = Some(start);
    for taken in 0..steps {
        let Some(at) = node else {
            return Err(PlanError::OutOfRange {
                given: given.to_string(),
                requested: steps,
                available: taken,
            });
        };
        match graph.parent_nodes(at) {
            [] => node = None,
            [one] => node = Some(*one),
            several => {
                return Err(PlanError::AmbiguousStep {
                    given: given.to_string(),
                    at: graph.revision(at).id.to_string(),
                    direction: "parents",
                    candidates: ids(graph, several),
                })
            }
        }
    }
    let above = match node {
        None => graph.root_nodes(),
        Some(node) => graph.child_nodes(node).to_vec(),
    };
    Ok(reverting(graph, applied, anchor, above))
}

/// The applied revisions `downgrade <branch>@base` reverts, dependents
/// first: everything that requires the root the branch grows from (in a
/// graph of one root, that is everything, as in Alembic).
pub fn branch_base_drops(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    branch: &str,
) -> Result<Vec<usize>, PlanError> {
    let anchor = resolve_branch(graph, branch)?;
    Ok(reverting(graph, applied, anchor, graph.root_nodes()))
}

/// What goes when the revisions `above` go: where there are several, only
/// those on the line below `anchor` (the branch being stepped back), then
/// everything applied that requires them.
fn reverting(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    anchor: usize,
    mut above: Vec<usize>,
) -> Vec<usize> {
    if above.len() > 1 {
        let line = graph.branch_ancestors_inclusive(&[anchor]);
        above.retain(|&node| line.contains(node));
    }
    let below = graph.descendants_inclusive(&above);
    let mut nodes: Vec<usize> = graph
        .nodes_in(applied)
        .into_iter()
        .filter(|&node| below.contains(node))
        .collect();
    nodes.reverse();
    nodes
}

/// The node of a branch name: a label, a revision id or a unique prefix.
fn resolve_branch(graph: &RevisionGraph<'_>, name: &str) -> Result<usize, PlanError> {
    resolve_revision(graph, name).map_err(|err| match err {
        PlanError::UnknownRevision { .. } => PlanError::UnknownBranch {
            label: name.to_string(),
            known: graph.labels().map(|(l, _)| l.to_string()).collect(),
        },
        other => other,
    })
}

/// The members of `nodes` on the line of `anchor`.
fn on_line(graph: &RevisionGraph<'_>, nodes: &[usize], anchor: usize) -> Vec<usize> {
    nodes
        .iter()
        .copied()
        .filter(|&node| graph.shares_lineage(node, anchor))
        .collect()
}

/// The one start of a walk (`None`: nothing, base), or the refusal naming
/// the heads and the branch-relative form.
fn single(
    graph: &RevisionGraph<'_>,
    given: &str,
    heads: &[usize],
    steps: isize,
) -> Result<Option<usize>, PlanError> {
    match heads {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        several => Err(PlanError::AmbiguousRelative {
            given: given.to_string(),
            heads: ids(graph, several),
            steps,
            example: format!("{}@{steps:+}", branch_name(graph, several[0])),
        }),
    }
}

/// The nearest label on the line below `head`, else its id: how a user
/// names that head's branch.
fn branch_name(graph: &RevisionGraph<'_>, head: usize) -> String {
    let line = graph.branch_ancestors_inclusive(&[head]);
    graph
        .topological_nodes()
        .iter()
        .rev()
        .filter(|&&node| line.contains(node))
        .find_map(|&node| graph.revision(node).branch_labels.first())
        .map_or_else(|| graph.revision(head).id.to_string(), |l| l.to_string())
}
