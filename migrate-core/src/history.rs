//! `history -r A:B`: which revisions a range lists, by Alembic's rule.
//!
//! The range includes `A` and lists only what grows from `A` (along
//! `revises`) up to `B` and what `B` requires: on a line A→B→C, `B:C` is
//! `[C, B]`; with two roots X and L, `X:` is X and its descendants, never
//! L's branch. Either side may be left out (`:B` from base, `A:` to every
//! head). `current` is the database's heads; a start of `-N` is N steps
//! below each head of the graph (Alembic counts it from the script
//! directory, not from the database); an end of `+N` is N steps above the
//! start.

use crate::error::PlanError;
use crate::graph::{RevisionGraph, RevisionSet};
use crate::target::{ids, resolve_head, resolve_point, walk, Point, Range, Target};

/// The revisions `range` lists, newest first (reverse topological order).
///
/// `current` is the database's heads as Alembic's version table holds
/// them ([`RevisionGraph::requirement_heads_of`] of the applied set), or
/// `None` when no database was read; a range naming `current` then is an
/// error for the caller to have prevented.
pub fn history_nodes(
    graph: &RevisionGraph<'_>,
    range: &Range,
    given: &str,
    current: Option<&[usize]>,
) -> Result<Vec<usize>, PlanError> {
    let lower = match &range.from {
        None => Vec::new(),
        Some(target) => start_nodes(graph, target, current)?,
    };
    let upper = match &range.to {
        None => real_heads(graph),
        Some(target) => end_nodes(graph, target, &lower, current)?,
    };
    check_overlap(graph, given, &upper)?;
    check_overlap(graph, given, &lower)?;
    let required = graph.ancestors_inclusive(&upper);
    if let Some(&outside) = lower.iter().find(|&&node| !required.contains(node)) {
        return Err(PlanError::NotARange {
            given: given.to_string(),
            start: graph.revision(outside).id.to_string(),
            end: range
                .to
                .as_ref()
                .map_or("heads".to_string(), |t| t.to_string()),
        });
    }
    let below = graph.ancestors_inclusive(&lower);
    let grown = graph.branch_descendants_inclusive(&lower);
    let listed = |node: usize| {
        let needed = required.contains(node) && !below.contains(node);
        let from_start = lower.contains(&node);
        (needed || from_start) && (lower.is_empty() || grown.contains(node))
    };
    let mut nodes: Vec<usize> = graph
        .topological_nodes()
        .iter()
        .copied()
        .filter(|&node| listed(node))
        .collect();
    nodes.reverse();
    Ok(nodes)
}

/// The start of a range: the revisions it lists from (empty for base).
fn start_nodes(
    graph: &RevisionGraph<'_>,
    target: &Target,
    current: Option<&[usize]>,
) -> Result<Vec<usize>, PlanError> {
    let given = target.to_string();
    Ok(match target {
        Target::Current => database(current).to_vec(),
        Target::Heads => real_heads(graph),
        Target::Relative(steps) if *steps < 0 => {
            let mut nodes = Vec::new();
            for head in real_heads(graph) {
                match walk(graph, &given, head, *steps)? {
                    Some(node) if !nodes.contains(&node) => nodes.push(node),
                    Some(_) => {}
                    // Alembic refuses a start below base too.
                    None => {
                        return Err(PlanError::OutOfRange {
                            given,
                            requested: steps.unsigned_abs(),
                            available: steps.unsigned_abs() - 1,
                        })
                    }
                }
            }
            nodes
        }
        Target::Relative(_) => {
            return Err(PlanError::RangeSide {
                given,
                reason: "as the start of a range counts from nothing; \
                         start from a revision (`<rev>:<rev>+N`) or `-N` (below the heads)",
            })
        }
        Target::BranchRelative { .. } => {
            return Err(PlanError::RangeSide {
                given,
                reason: "is not a history range side; name a revision, `<label>@head` or `<rev>-N`",
            })
        }
        Target::BranchBase(_) => Vec::new(),
        other => point(graph, other)?,
    })
}

/// The end of a range: the revisions it lists up to.
fn end_nodes(
    graph: &RevisionGraph<'_>,
    target: &Target,
    lower: &[usize],
    current: Option<&[usize]>,
) -> Result<Vec<usize>, PlanError> {
    let given = target.to_string();
    Ok(match target {
        // At base, Alembic reads an end of `current` as no end: every head.
        Target::Current if database(current).is_empty() => real_heads(graph),
        Target::Current => database(current).to_vec(),
        Target::Heads => real_heads(graph),
        Target::Head => resolve_head(graph)?.into_iter().collect(),
        // Counted from the start, stopping at the last revision when the
        // line is shorter (Alembic does not refuse an over-long range).
        Target::Relative(steps) if *steps > 0 => {
            let mut node = match lower {
                [] => None,
                [one] => Some(*one),
                several => {
                    return Err(PlanError::AmbiguousRelative {
                        given,
                        heads: ids(graph, several),
                        steps: *steps,
                        example: format!("{}:{}", graph.revision(several[0]).id, steps),
                    })
                }
            };
            for _ in 0..steps.unsigned_abs() {
                let next = match node {
                    None => graph.root_nodes(),
                    Some(node) => graph.child_nodes(node).to_vec(),
                };
                match next.as_slice() {
                    [] => break,
                    [one] => node = Some(*one),
                    several => {
                        return Err(PlanError::AmbiguousStep {
                            given,
                            at: node.map_or("base".to_string(), |n| graph.revision(n).id.to_string()),
                            direction: "children",
                            candidates: ids(graph, several),
                        })
                    }
                }
            }
            node.into_iter().collect()
        }
        Target::Relative(_) | Target::BranchRelative { .. } => {
            return Err(PlanError::RangeSide {
                given,
                reason: "is not a history range end; end at a revision, `heads`, `current` or `+N` (above the start)",
            })
        }
        Target::BranchBase(_) => Vec::new(),
        other => point(graph, other)?,
    })
}

/// A side that names one point: base is no revision.
fn point(graph: &RevisionGraph<'_>, target: &Target) -> Result<Vec<usize>, PlanError> {
    Ok(match resolve_point(graph, target)? {
        Some(Point::Revision(node)) => vec![node],
        _ => Vec::new(),
    })
}

/// `heads` in a range, as Alembic reads it there: the revisions nothing
/// requires, so a head another branch `depends_on` is not one.
fn real_heads(graph: &RevisionGraph<'_>) -> Vec<usize> {
    let everything = graph.ancestors_inclusive(&graph.head_nodes());
    graph.requirement_heads_of(&everything)
}

fn database(current: Option<&[usize]>) -> &[usize] {
    current.expect("the caller reads the database for a range naming `current`")
}

/// Alembic refuses a side naming two revisions of which one requires the
/// other (`-1` below two heads that meet one step down).
fn check_overlap(graph: &RevisionGraph<'_>, given: &str, nodes: &[usize]) -> Result<(), PlanError> {
    for (i, &a) in nodes.iter().enumerate() {
        for &b in &nodes[i + 1..] {
            let below_b = graph.ancestors_inclusive(&[b]);
            let below_a = graph.ancestors_inclusive(&[a]);
            if below_b.contains(a) || below_a.contains(b) {
                return Err(PlanError::Overlap {
                    given: given.to_string(),
                    first: graph.revision(a).id.to_string(),
                    second: graph.revision(b).id.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The database's heads for a range: Alembic's version-table heads of the
/// applied set.
pub fn current_heads(graph: &RevisionGraph<'_>, applied: &RevisionSet) -> Vec<usize> {
    graph.requirement_heads_of(applied)
}
