//! Alembic's target grammar: `head`, `heads`, `base`, ids, unique prefixes,
//! branch labels, `+N` / `-N`, `<rev>+N` / `<rev>-N`, `<label>@head`,
//! `<label>@+N` / `<label>@-N`, `<label>@base` and ranges `a:b`.

use std::fmt;
use std::str::FromStr;

use crate::error::PlanError;
use crate::graph::RevisionGraph;
use crate::parse::{is_label, is_revision_id};
use crate::suggest::similar;

/// Where an upgrade, downgrade or stamp should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `head`: the one head (an error where there are several).
    Head,
    /// `heads`: every head.
    Heads,
    /// `base`: before the first revision.
    Base,
    /// `current`: where the database is (its applied heads); a range side
    /// for `history` and offline scripts, a no-op as an upgrade target.
    Current,
    /// A full revision id, a unique prefix of one, or a branch label.
    Revision(String),
    /// `<label>@head`: the head of the branch a label starts.
    BranchHead(String),
    /// `+N` / `-N`: N steps on from the database's one current head, or
    /// back (see [`crate::relative`]).
    Relative(isize),
    /// `<label>@+N` / `<label>@-N` (or `<rev>@+N`): N steps along the
    /// branch the label's revision is on, from where the database is on it.
    BranchRelative {
        /// The label (or revision) naming the branch.
        branch: String,
        /// How many steps, positive toward the heads.
        steps: isize,
    },
    /// `<label>@base`: before the root the label's branch grows from; as a
    /// downgrade, everything that requires that root goes.
    BranchBase(String),
    /// `<rev>+N` / `<rev>-N`: N revisions after or before a revision,
    /// following `revises`.
    FromRevision {
        /// The revision (id, prefix or label) to count from.
        revision: String,
        /// How many steps, positive toward the heads.
        steps: isize,
    },
}

impl Target {
    /// Parses a target as a user writes it.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let text = text.trim();
        let syntax = || PlanError::Syntax {
            given: text.to_string(),
        };
        match text {
            "head" => return Ok(Target::Head),
            "heads" => return Ok(Target::Heads),
            "current" => return Ok(Target::Current),
            "base" => return Ok(Target::Base),
            _ => {}
        }
        if let Some((branch, rest)) = text.split_once('@') {
            if !(is_label(branch) || is_revision_id(branch)) {
                return Err(syntax());
            }
            let branch = branch.to_string();
            return match rest {
                "head" => Ok(Target::BranchHead(branch)),
                "base" => Ok(Target::BranchBase(branch)),
                _ => match signed_steps(rest) {
                    Some(steps) if steps != 0 => Ok(Target::BranchRelative { branch, steps }),
                    _ => Err(syntax()),
                },
            };
        }
        if let Some(at) = text.find(['+', '-']) {
            let steps = signed_steps(&text[at..]).ok_or_else(syntax)?;
            if steps == 0 && at == 0 {
                return Err(syntax());
            }
            let revision = &text[..at];
            return if revision.is_empty() {
                Ok(Target::Relative(steps))
            } else if is_revision_id(revision) || is_label(revision) {
                Ok(Target::FromRevision {
                    revision: revision.to_string(),
                    steps,
                })
            } else {
                Err(syntax())
            };
        }
        if is_revision_id(text) || is_label(text) {
            Ok(Target::Revision(text.to_string()))
        } else {
            Err(syntax())
        }
    }
}

/// `+N` or `-N` with N plain digits: `isize::from_str` alone would also
/// take `+-1` or `++1`, which are typos, not targets.
fn signed_steps(text: &str) -> Option<isize> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: isize = digits.parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

impl FromStr for Target {
    type Err = PlanError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Target::parse(text)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Head => f.write_str("head"),
            Target::Heads => f.write_str("heads"),
            Target::Current => f.write_str("current"),
            Target::Base => f.write_str("base"),
            Target::Revision(id) => f.write_str(id),
            Target::BranchHead(label) => write!(f, "{label}@head"),
            Target::BranchRelative { branch, steps } => write!(f, "{branch}@{steps:+}"),
            Target::BranchBase(label) => write!(f, "{label}@base"),
            Target::Relative(steps) => write!(f, "{steps:+}"),
            Target::FromRevision { revision, steps } => write!(f, "{revision}{steps:+}"),
        }
    }
}

/// A range `from:to` (either side may be left out), for `history` and
/// offline scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// The start, exclusive; `None` for base.
    pub from: Option<Target>,
    /// The end, inclusive; `None` for the heads.
    pub to: Option<Target>,
}

impl Range {
    /// Parses `a:b`, `a:` or `:b`.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let Some((from, to)) = text.split_once(':') else {
            return Err(PlanError::Syntax {
                given: text.to_string(),
            });
        };
        let side = |part: &str| -> Result<Option<Target>, PlanError> {
            if part.trim().is_empty() {
                Ok(None)
            } else {
                Target::parse(part).map(Some)
            }
        };
        Ok(Range {
            from: side(from)?,
            to: side(to)?,
        })
    }
}

/// Resolves an id, a unique prefix of one, or a branch label to a node.
/// An unknown or ambiguous name is an error listing the candidates.
pub fn resolve_revision(graph: &RevisionGraph<'_>, given: &str) -> Result<usize, PlanError> {
    if let Some(node) = graph.node(given) {
        return Ok(node);
    }
    if let Some((_, node)) = graph.labels().find(|(label, _)| *label == given) {
        return Ok(node);
    }
    let ids = || graph.revisions().iter().map(|r| r.id.as_ref());
    let matches: Vec<&str> = ids().filter(|id| id.starts_with(given)).collect();
    match matches.as_slice() {
        [one] => Ok(graph.node(one).expect("a listed id is in the graph")),
        [] => Err(PlanError::UnknownRevision {
            given: given.to_string(),
            candidates: similar(given, ids()),
        }),
        _ => Err(PlanError::AmbiguousPrefix {
            given: given.to_string(),
            candidates: matches.iter().map(|id| id.to_string()).collect(),
        }),
    }
}

/// The head of the branch a label (or a revision) starts: the one head that
/// descends from it.
pub fn resolve_branch_head(graph: &RevisionGraph<'_>, label: &str) -> Result<usize, PlanError> {
    let start = if graph.node(label).is_some() || graph.labels().any(|(l, _)| l == label) {
        resolve_revision(graph, label)?
    } else {
        return Err(PlanError::UnknownBranch {
            label: label.to_string(),
            known: graph.labels().map(|(l, _)| l.to_string()).collect(),
        });
    };
    // Along `revises` only: a branch that merely depends on this one has
    // its own head and must not make this one ambiguous.
    let below = graph.branch_descendants_inclusive(&[start]);
    let heads: Vec<usize> = graph
        .head_nodes()
        .into_iter()
        .filter(|&head| below.contains(head))
        .collect();
    match heads.as_slice() {
        [one] => Ok(*one),
        _ => Err(PlanError::MultipleHeads {
            given: format!("{label}@head"),
            heads: ids(graph, &heads),
        }),
    }
}

/// The one head of the graph, or an error naming them all.
pub fn resolve_head(graph: &RevisionGraph<'_>) -> Result<Option<usize>, PlanError> {
    match graph.head_nodes().as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        heads => Err(PlanError::MultipleHeads {
            given: "head".to_string(),
            heads: ids(graph, heads),
        }),
    }
}

/// One point of the graph, as a target that names one resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Before the first revision (`base`, or `head` of an empty graph).
    Base,
    /// Before this root: `<rev>-N` one step past the root it reaches. In
    /// a graph of one root this is the same state as [`Point::Base`]; past
    /// the root of an independent (labelled) branch it is "none of that
    /// branch", which must not take the other branches down as `base` would.
    BeforeRoot(usize),
    /// A revision.
    Revision(usize),
}

impl Point {
    /// The revision, if the point is one.
    pub fn node(self) -> Option<usize> {
        match self {
            Point::Revision(node) => Some(node),
            Point::Base | Point::BeforeRoot(_) => None,
        }
    }
}

/// Resolves a target that names one point of the graph: `base`, `head`,
/// an id, a unique prefix, a label, `<label>@head`, `<rev>+N`, `<rev>-N`.
/// `Ok(None)` for `heads` and `+N` / `-N`, which name a set, or a point
/// that depends on a database's state; the caller says what it wanted.
///
/// This is the rule planning uses ([`crate::plan_upgrade`] and the others
/// reach the same point for these targets), for tools that need the point
/// itself: `migrate show <rev>`, `migrate revision --head <rev>`.
pub fn resolve_point(
    graph: &RevisionGraph<'_>,
    target: &Target,
) -> Result<Option<Point>, PlanError> {
    Ok(Some(match target {
        Target::Base => Point::Base,
        Target::Head => match resolve_head(graph)? {
            Some(head) => Point::Revision(head),
            None => Point::Base,
        },
        Target::Revision(name) => Point::Revision(resolve_revision(graph, name)?),
        Target::BranchHead(label) => Point::Revision(resolve_branch_head(graph, label)?),
        Target::FromRevision { revision, steps } => {
            let given = target.to_string();
            let start = resolve_revision(graph, revision)?;
            match walk(graph, &given, start, *steps)? {
                Some(node) => Point::Revision(node),
                // One step short of the walk is the root it went past.
                None => match walk(graph, &given, start, steps + 1)? {
                    Some(root) => Point::BeforeRoot(root),
                    None => Point::Base,
                },
            }
        }
        Target::Heads
        | Target::Current
        | Target::Relative(_)
        | Target::BranchRelative { .. }
        | Target::BranchBase(_) => return Ok(None),
    }))
}

/// Walks `steps` revisions from `start` along `revises` (children for a
/// positive count, parents for a negative one). `None` means past the root.
pub fn walk(
    graph: &RevisionGraph<'_>,
    given: &str,
    start: usize,
    steps: isize,
) -> Result<Option<usize>, PlanError> {
    let mut node = start;
    for taken in 0..steps.unsigned_abs() {
        let (next, direction) = if steps > 0 {
            (graph.child_nodes(node), "children")
        } else {
            (graph.parent_nodes(node), "parents")
        };
        match next {
            [one] => node = *one,
            [] if steps < 0 && taken + 1 == steps.unsigned_abs() => return Ok(None),
            [] => {
                return Err(PlanError::OutOfRange {
                    given: given.to_string(),
                    requested: steps.unsigned_abs(),
                    // Going down, the step from the root to base is possible.
                    available: taken + usize::from(steps < 0),
                });
            }
            several => {
                return Err(PlanError::AmbiguousStep {
                    given: given.to_string(),
                    at: graph.revision(node).id.to_string(),
                    direction,
                    candidates: ids(graph, several),
                })
            }
        }
    }
    Ok(Some(node))
}

/// The ids of some nodes.
pub(crate) fn ids(graph: &RevisionGraph<'_>, nodes: &[usize]) -> Vec<String> {
    nodes
        .iter()
        .map(|&node| graph.revision(node).id.to_string())
        .collect()
}
