//! The revision graph: who revises whom, validated, in topological order.

use std::collections::{BTreeSet, HashMap};

use crate::error::{LoadError, RevisionRef};
use crate::revision::Revision;
use crate::suggest::similar;

/// The validated graph over a set of revisions.
///
/// Nodes are indices into the slice given to [`RevisionGraph::new`]. Two
/// kinds of edges: `revises` (parents: the chain, merges, branch points)
/// and `depends_on` (ordering only). Both must be applied before a revision.
#[derive(Debug, Clone)]
pub struct RevisionGraph<'a> {
    revisions: &'a [Revision],
    index: HashMap<&'a str, usize>,
    /// `revises` edges, child to parent.
    parents: Vec<Vec<usize>>,
    /// `revises` edges, parent to child.
    children: Vec<Vec<usize>>,
    /// `revises` and `depends_on`: everything that must be applied first.
    requires: Vec<Vec<usize>>,
    /// The reverse of `requires`.
    required_by: Vec<Vec<usize>>,
    /// Every node, requirements first; ties broken by file-name order so the
    /// order is the same on every machine.
    order: Vec<usize>,
    /// `position[node]` is the node's place in `order`.
    position: Vec<usize>,
}

/// A set of revisions of one graph (for instance the applied ones), as one
/// flag per node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionSet {
    members: Vec<bool>,
}

impl RevisionSet {
    /// Whether the node is in the set.
    pub fn contains(&self, node: usize) -> bool {
        self.members[node]
    }

    /// How many nodes are in the set.
    pub fn len(&self) -> usize {
        self.members.iter().filter(|&&m| m).count()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        !self.members.contains(&true)
    }

    /// Adds a node.
    pub fn insert(&mut self, node: usize) {
        self.members[node] = true;
    }

    /// Removes a node.
    pub fn remove(&mut self, node: usize) {
        self.members[node] = false;
    }
}

impl<'a> RevisionGraph<'a> {
    /// Builds and validates the graph: unique ids, known `revises` and
    /// `depends_on`, unique branch labels, no cycle, one root and one head
    /// (unless branch labels make a split intentional). Every problem of a
    /// stage is returned; later stages wait until the earlier ones pass
    /// (a cycle is looked for only once every reference resolves).
    pub fn new(revisions: &'a [Revision]) -> Result<Self, Vec<LoadError>> {
        Self::build(revisions, true)
    }

    /// Like [`RevisionGraph::new`], except that several unlabelled heads are
    /// accepted: the state of a directory after two people each added a
    /// migration on the same revision. Only the tools that show and join
    /// heads (`migrate heads`, `migrate merge`) work on such a graph; every
    /// other rule is checked as by `new`.
    pub fn new_allowing_multiple_heads(revisions: &'a [Revision]) -> Result<Self, Vec<LoadError>> {
        Self::build(revisions, false)
    }

    fn build(revisions: &'a [Revision], one_head: bool) -> Result<Self, Vec<LoadError>> {
        let mut errors = Vec::new();
        let mut index: HashMap<&'a str, usize> = HashMap::with_capacity(revisions.len());
        // MySQL's history key ignores case: `a1` and `A1` must not both exist.
        let mut folded: HashMap<String, usize> = HashMap::with_capacity(revisions.len());
        for (node, revision) in revisions.iter().enumerate() {
            if let Some(&first) = index.get(revision.id.as_ref()) {
                errors.push(LoadError::DuplicateRevision {
                    id: revision.id.to_string(),
                    first: revisions[first].file.to_string(),
                    second: revision.file.to_string(),
                });
            } else if let Some(&first) = folded.get(&revision.id.to_ascii_lowercase()) {
                errors.push(LoadError::DuplicateRevisionIgnoringCase {
                    first_id: revisions[first].id.to_string(),
                    first: revisions[first].file.to_string(),
                    second_id: revision.id.to_string(),
                    second: revision.file.to_string(),
                });
            } else {
                index.insert(&revision.id, node);
                folded.insert(revision.id.to_ascii_lowercase(), node);
            }
        }

        let count = revisions.len();
        let mut parents = vec![Vec::new(); count];
        let mut requires = vec![Vec::new(); count];
        for (node, revision) in revisions.iter().enumerate() {
            for parent in revision.parents.iter() {
                match index.get(parent.as_ref()) {
                    Some(&p) => {
                        parents[node].push(p);
                        requires[node].push(p);
                    }
                    None => errors.push(LoadError::UnknownParent {
                        file: revision.file.to_string(),
                        missing: parent.to_string(),
                        candidates: similar(parent, index.keys().copied()),
                    }),
                }
            }
            for dependency in revision.depends_on.iter() {
                match index.get(dependency.as_ref()) {
                    Some(&d) if !requires[node].contains(&d) => requires[node].push(d),
                    Some(_) => {}
                    None => errors.push(LoadError::UnknownDependency {
                        file: revision.file.to_string(),
                        missing: dependency.to_string(),
                        candidates: similar(dependency, index.keys().copied()),
                    }),
                }
            }
        }
        errors.extend(duplicate_labels(revisions));
        errors.extend(labels_that_are_ids(revisions, &index));
        if !errors.is_empty() {
            return Err(errors);
        }

        let children = reverse(&parents);
        let required_by = reverse(&requires);
        let order = match topological_order(&requires, &required_by) {
            Ok(order) => order,
            Err(left_over) => return Err(vec![cycle_error(revisions, &requires, &left_over)]),
        };
        let mut position = vec![0; count];
        for (place, &node) in order.iter().enumerate() {
            position[node] = place;
        }
        let graph = RevisionGraph {
            revisions,
            index,
            parents,
            children,
            requires,
            required_by,
            order,
            position,
        };
        graph.check_roots_and_heads(one_head)?;
        Ok(graph)
    }

    fn check_roots_and_heads(&self, one_head: bool) -> Result<(), Vec<LoadError>> {
        let mut errors = Vec::new();
        let unlabelled = |nodes: Vec<usize>, toward_root: bool| -> Vec<RevisionRef> {
            nodes
                .into_iter()
                .filter(|&node| !self.segment_is_labelled(node, toward_root))
                .map(|node| self.revision_ref(node))
                .collect()
        };
        let roots = unlabelled(self.root_nodes(), false);
        // Two unrelated roots give two heads as well; the roots error is the
        // cause, and "added on top of the same revision" would mislead.
        let two_roots = roots.len() > 1;
        if two_roots {
            errors.push(LoadError::MultipleRoots { roots });
        }
        let heads = unlabelled(self.head_nodes(), true);
        if one_head && !two_roots && heads.len() > 1 {
            errors.push(LoadError::MultipleHeads { heads });
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Whether the straight run of revisions from `node` up to the nearest
    /// branch point or merge (toward the root for a head, toward the heads
    /// for a root) carries a branch label: that marks a split as intended.
    fn segment_is_labelled(&self, mut node: usize, toward_root: bool) -> bool {
        loop {
            if !self.revisions[node].branch_labels.is_empty() {
                return true;
            }
            let (next, back) = if toward_root {
                (&self.parents, &self.children)
            } else {
                (&self.children, &self.parents)
            };
            match next[node].as_slice() {
                [single] if back[*single].len() == 1 => node = *single,
                _ => return false,
            }
        }
    }

    fn revision_ref(&self, node: usize) -> RevisionRef {
        RevisionRef::of(&self.revisions[node])
    }

    /// The revisions, in the order given to [`RevisionGraph::new`].
    pub fn revisions(&self) -> &'a [Revision] {
        self.revisions
    }

    /// The revision at a node.
    pub fn revision(&self, node: usize) -> &'a Revision {
        &self.revisions[node]
    }

    /// The node of a full revision id.
    pub fn node(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The revision with this full id.
    pub fn get(&self, id: &str) -> Option<&'a Revision> {
        self.node(id).map(|node| &self.revisions[node])
    }

    /// Every node, requirements first.
    pub fn topological_nodes(&self) -> &[usize] {
        &self.order
    }

    /// Every revision, requirements first.
    pub fn topological(&self) -> impl DoubleEndedIterator<Item = &'a Revision> + '_ {
        self.order.iter().map(|&node| &self.revisions[node])
    }

    /// A node's place in the topological order.
    pub fn position(&self, node: usize) -> usize {
        self.position[node]
    }

    /// The nodes this node revises.
    pub fn parent_nodes(&self, node: usize) -> &[usize] {
        &self.parents[node]
    }

    /// The nodes that revise this node.
    pub fn child_nodes(&self, node: usize) -> &[usize] {
        &self.children[node]
    }

    /// What a node requires directly: its parents and its `depends_on`.
    pub fn requirements(&self, node: usize) -> &[usize] {
        &self.requires[node]
    }

    /// Nodes with no `revises`.
    pub fn root_nodes(&self) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&node| self.parents[node].is_empty())
            .collect()
    }

    /// Nodes nothing revises, in topological order.
    pub fn head_nodes(&self) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&node| self.children[node].is_empty())
            .collect()
    }

    /// The head revisions.
    pub fn heads(&self) -> Vec<&'a Revision> {
        self.head_nodes()
            .into_iter()
            .map(|node| &self.revisions[node])
            .collect()
    }

    /// Nodes with more than one child: where branches split.
    pub fn branch_point_nodes(&self) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&node| self.children[node].len() > 1)
            .collect()
    }

    /// An empty set over this graph's nodes.
    pub fn empty_set(&self) -> RevisionSet {
        RevisionSet {
            members: vec![false; self.revisions.len()],
        }
    }

    /// The set of the given ids; ids this graph does not know are returned
    /// apart, for the caller to report or ignore.
    pub fn set_of<'i>(&self, ids: impl IntoIterator<Item = &'i str>) -> (RevisionSet, Vec<String>) {
        let mut set = self.empty_set();
        let mut unknown = Vec::new();
        for id in ids {
            match self.node(id) {
                Some(node) => set.insert(node),
                None => unknown.push(id.to_string()),
            }
        }
        (set, unknown)
    }

    /// The members of a set, in topological order.
    pub fn nodes_in(&self, set: &RevisionSet) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&node| set.contains(node))
            .collect()
    }

    /// The applied heads: members of `set` that no member revises.
    pub fn heads_of(&self, set: &RevisionSet) -> Vec<usize> {
        self.nodes_in(set)
            .into_iter()
            .filter(|&node| !self.children[node].iter().any(|&c| set.contains(c)))
            .collect()
    }

    /// The members of `set` that no other member requires (through
    /// `revises` or `depends_on`), in topological order: what Alembic's
    /// version table holds for a database at `set`. Unlike
    /// [`Self::heads_of`], a revision another applied branch depends on is
    /// not one of them: that branch's head stands for it.
    pub fn requirement_heads_of(&self, set: &RevisionSet) -> Vec<usize> {
        self.nodes_in(set)
            .into_iter()
            .filter(|&node| !self.required_by[node].iter().any(|&r| set.contains(r)))
            .collect()
    }

    /// `nodes` and every revision they revise, transitively (not following
    /// `depends_on`).
    pub fn branch_ancestors_inclusive(&self, nodes: &[usize]) -> RevisionSet {
        self.closure(nodes, &self.parents)
    }

    /// Whether `node` is on the line of `anchor`: `anchor` itself, a
    /// revision it revises (transitively), or one that revises it. This is
    /// Alembic's "shares lineage", which `<label>@+N` and `<label>@-N` use
    /// to pick the branch; `depends_on` does not count.
    pub fn shares_lineage(&self, node: usize, anchor: usize) -> bool {
        self.branch_ancestors_inclusive(&[anchor]).contains(node)
            || self.branch_descendants_inclusive(&[anchor]).contains(node)
    }

    /// `nodes` and everything they require, transitively.
    pub fn ancestors_inclusive(&self, nodes: &[usize]) -> RevisionSet {
        self.closure(nodes, &self.requires)
    }

    /// `nodes` and everything that requires them, transitively.
    pub fn descendants_inclusive(&self, nodes: &[usize]) -> RevisionSet {
        self.closure(nodes, &self.required_by)
    }

    /// `nodes` and every revision that revises them, transitively: the
    /// branches growing from them. Unlike [`Self::descendants_inclusive`],
    /// `depends_on` is not followed: another branch that depends on a
    /// revision is not part of that revision's branch.
    pub fn branch_descendants_inclusive(&self, nodes: &[usize]) -> RevisionSet {
        self.closure(nodes, &self.children)
    }

    fn closure(&self, start: &[usize], edges: &[Vec<usize>]) -> RevisionSet {
        let mut set = self.empty_set();
        let mut stack: Vec<usize> = start.to_vec();
        while let Some(node) = stack.pop() {
            if !set.contains(node) {
                set.insert(node);
                stack.extend(&edges[node]);
            }
        }
        set
    }

    /// Every branch label, with the node that carries it.
    pub fn labels(&self) -> impl Iterator<Item = (&'a str, usize)> + '_ {
        self.revisions
            .iter()
            .enumerate()
            .flat_map(|(node, r)| r.branch_labels.iter().map(move |l| (l.as_ref(), node)))
    }

    /// The `(member, requirement)` pairs where a member of `set` requires a
    /// revision outside it; empty when `set` is closed under requirements
    /// (the state a database should be in).
    pub fn missing_requirements(&self, set: &RevisionSet) -> Vec<(usize, usize)> {
        let mut missing = Vec::new();
        for node in self.nodes_in(set) {
            for &required in &self.requires[node] {
                if !set.contains(required) {
                    missing.push((node, required));
                }
            }
        }
        missing
    }
}

fn reverse(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut reversed = vec![Vec::new(); edges.len()];
    for (from, targets) in edges.iter().enumerate() {
        for &to in targets {
            reversed[to].push(from);
        }
    }
    reversed
}

/// Kahn's algorithm, always taking the ready node that comes first in file
/// order. On a cycle, returns which nodes were left out: those on a cycle or
/// behind one.
fn topological_order(
    requires: &[Vec<usize>],
    required_by: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<bool>> {
    let mut waiting: Vec<usize> = requires.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..requires.len()).filter(|&n| waiting[n] == 0).collect();
    let mut order = Vec::with_capacity(requires.len());
    while let Some(node) = ready.pop_first() {
        order.push(node);
        for &next in &required_by[node] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.insert(next);
            }
        }
    }
    if order.len() == requires.len() {
        Ok(order)
    } else {
        Err(waiting.iter().map(|&w| w > 0).collect())
    }
}

/// Walks leftover requirements from a node left over by Kahn's algorithm
/// until a node repeats: the repeated stretch is a cycle. Every leftover node
/// has a leftover requirement (else it would have been ordered), so the walk
/// never stops early and repeats within as many steps as there are nodes.
fn cycle_error(revisions: &[Revision], requires: &[Vec<usize>], left_over: &[bool]) -> LoadError {
    let leftover_requirement = |node: usize| requires[node].iter().copied().find(|&r| left_over[r]);
    let Some(start) = left_over.iter().position(|&l| l) else {
        return LoadError::Cycle { cycle: Vec::new() };
    };
    let mut path = vec![start];
    let mut node = start;
    while let Some(next) = leftover_requirement(node) {
        if let Some(at) = path.iter().position(|&n| n == next) {
            path.drain(..at);
            break;
        }
        path.push(next);
        node = next;
    }
    LoadError::Cycle {
        cycle: path
            .into_iter()
            .map(|n| RevisionRef::of(&revisions[n]))
            .collect(),
    }
}

fn duplicate_labels(revisions: &[Revision]) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let mut seen: HashMap<&str, &Revision> = HashMap::new();
    for revision in revisions {
        for label in revision.branch_labels.iter() {
            if let Some(first) = seen.insert(label, revision) {
                errors.push(LoadError::DuplicateBranchLabel {
                    label: label.to_string(),
                    first: RevisionRef::of(first),
                    second: RevisionRef::of(revision),
                });
            }
        }
    }
    errors
}

/// Labels spelled like another revision's id: a target naming one would
/// silently mean that revision.
fn labels_that_are_ids(revisions: &[Revision], index: &HashMap<&str, usize>) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for (own, revision) in revisions.iter().enumerate() {
        for label in revision.branch_labels.iter() {
            // A label naming its own revision is harmless: both readings
            // of a target mean the same revision.
            if let Some(&node) = index.get(label.as_ref()).filter(|&&node| node != own) {
                errors.push(LoadError::LabelIsRevisionId {
                    label: label.to_string(),
                    labelled: RevisionRef::of(revision),
                    revision: RevisionRef::of(&revisions[node]),
                });
            }
        }
    }
    errors
}
