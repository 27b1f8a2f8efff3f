//! Property-style tests over generated revision graphs: random DAGs with
//! branch points, merges, independent roots and `depends_on`, random
//! applied states and random targets. The expectations are computed here
//! from the revisions' own `revises` / `depends_on` lists, independently of
//! the graph's internals.

mod common;

use std::collections::HashMap;

use common::{RevExt, Rng};
use migrate_core::{
    parse_migration, plan_downgrade, plan_stamp, plan_upgrade, LoadError, PlanError, Revision,
    RevisionGraph, RevisionSet, Target,
};

const CASES: u64 = 300;

/// The relations of a generated graph, computed from the revisions alone.
struct Model {
    ids: Vec<String>,
    /// Parents and dependencies, by index into the revisions slice.
    requires: Vec<Vec<usize>>,
    /// `revises` children.
    children: Vec<Vec<usize>>,
    labels: Vec<(String, usize)>,
}

impl Model {
    fn new(revisions: &[Revision]) -> Self {
        let index: HashMap<&str, usize> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_ref(), i))
            .collect();
        let mut requires = vec![Vec::new(); revisions.len()];
        let mut children = vec![Vec::new(); revisions.len()];
        let mut labels = Vec::new();
        for (i, r) in revisions.iter().enumerate() {
            for p in r.parents.iter() {
                requires[i].push(index[p.as_ref()]);
                children[index[p.as_ref()]].push(i);
            }
            for d in r.depends_on.iter() {
                requires[i].push(index[d.as_ref()]);
            }
            for l in r.branch_labels.iter() {
                labels.push((l.to_string(), i));
            }
        }
        Model {
            ids: revisions.iter().map(|r| r.id.to_string()).collect(),
            requires,
            children,
            labels,
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// `node` and everything it requires.
    fn ancestors(&self, node: usize) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(&self.requires[n]);
            }
        }
        seen
    }

    /// Whether `a` requires `b`, transitively (or is `b`).
    fn requires_transitively(&self, a: usize, b: usize) -> bool {
        self.ancestors(a)[b]
    }

    fn is_closed(&self, state: &[bool]) -> bool {
        (0..self.len()).all(|n| !state[n] || self.requires[n].iter().all(|&r| state[r]))
    }

    fn heads(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&n| self.children[n].is_empty())
            .collect()
    }

    /// The applied revisions no applied revision requires (Alembic's
    /// version-table heads), in the graph's order.
    fn requirement_heads(&self, g: &RevisionGraph<'_>, state: &[bool]) -> Vec<usize> {
        g.topological_nodes()
            .iter()
            .copied()
            .filter(|&n| {
                state[n] && !(0..self.len()).any(|o| state[o] && self.requires[o].contains(&n))
            })
            .collect()
    }

    /// `node` and what it revises, transitively.
    fn revises_line(&self, g: &RevisionGraph<'_>, node: usize) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(g.revision(n).parents.iter().map(|p| self.node(p)));
            }
        }
        seen
    }

    fn node(&self, id: &str) -> usize {
        self.ids.iter().position(|i| i == id).unwrap()
    }

    /// The heads reachable from `start` along `revises`.
    fn branch_heads(&self, start: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![start];
        let mut heads = Vec::new();
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                if self.children[n].is_empty() {
                    heads.push(n);
                }
                stack.extend(&self.children[n]);
            }
        }
        heads
    }
}

/// A random graph that must validate: one unlabelled root and one
/// unlabelled head; every other root and head carries a branch label.
fn generate(rng: &mut Rng, irreversible_percent: u64) -> Vec<Revision> {
    let n = 1 + rng.below(14);
    let mut ids: Vec<String> = Vec::new();
    while ids.len() < n {
        // Short hex ids from a small alphabet, so that prefixes collide.
        let len = 3 + rng.below(4);
        let id: String = (0..len)
            .map(|_| b"0123456789abcdef"[rng.below(4 + ids.len() % 12)] as char)
            .collect();
        if !ids.iter().any(|other| other == &id) {
            ids.push(id);
        }
    }
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut depends: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 1..n {
        if rng.chance(8) {
            continue; // an independent root
        }
        let pick = |rng: &mut Rng| if rng.chance(50) { i - 1 } else { rng.below(i) };
        let first = pick(rng);
        parents[i].push(first);
        if i >= 2 && rng.chance(25) {
            let second = rng.below(i);
            if second != first {
                parents[i].push(second); // a merge
            }
        }
        if rng.chance(15) {
            let dep = rng.below(i);
            if !parents[i].contains(&dep) {
                depends[i].push(dep);
            }
        }
    }
    let mut has_child = vec![false; n];
    for ps in &parents {
        for &p in ps {
            has_child[p] = true;
        }
    }
    let mut labels: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut unlabelled_head_kept = false;
    for i in 0..n {
        let extra_root = i > 0 && parents[i].is_empty();
        let head = !has_child[i];
        let extra_head = head && std::mem::replace(&mut unlabelled_head_kept, true);
        if extra_root || extra_head || rng.chance(10) {
            labels[i].push(format!("lab{i}"));
        }
    }
    let mut revisions: Vec<Revision> = (0..n)
        .map(|i| {
            let names = |list: &[usize]| list.iter().map(|&j| ids[j].as_str()).collect::<Vec<_>>();
            let label_refs: Vec<&str> = labels[i].iter().map(String::as_str).collect();
            let mut r = common::rev(&ids[i])
                .revises(&names(&parents[i]))
                .depends_on(&names(&depends[i]))
                .labels(&label_refs);
            if rng.chance(irreversible_percent) {
                r = r.irreversible();
            }
            r
        })
        .collect();
    rng.shuffle(&mut revisions);
    revisions
}

fn graph_of(revisions: &[Revision]) -> RevisionGraph<'_> {
    RevisionGraph::new(revisions)
        .unwrap_or_else(|e| panic!("generated graph rejected: {e:#?}\n{revisions:#?}"))
}

/// A random applied state closed under requirements.
fn closed_state(rng: &mut Rng, g: &RevisionGraph<'_>) -> RevisionSet {
    let percent = rng.below(101) as u64;
    let picked: Vec<usize> = (0..g.revisions().len())
        .filter(|_| rng.chance(percent))
        .collect();
    g.ancestors_inclusive(&picked)
}

/// The first `k` revisions of the topological order.
fn prefix_state(rng: &mut Rng, g: &RevisionGraph<'_>) -> RevisionSet {
    let k = rng.below(g.revisions().len() + 1);
    let mut set = g.empty_set();
    for &node in &g.topological_nodes()[..k] {
        set.insert(node);
    }
    set
}

fn random_target(rng: &mut Rng, m: &Model) -> Target {
    let n = m.len();
    let node = rng.below(n);
    let steps = 1 + rng.below(n + 1) as isize;
    match rng.below(10) {
        0 => Target::Head,
        1 => Target::Heads,
        2 => Target::Base,
        3 | 4 => Target::Revision(m.ids[node].clone()),
        5 if !m.labels.is_empty() => {
            Target::Revision(m.labels[rng.below(m.labels.len())].0.clone())
        }
        6 if !m.labels.is_empty() => {
            Target::BranchHead(m.labels[rng.below(m.labels.len())].0.clone())
        }
        7 => Target::Relative(if rng.chance(50) { steps } else { -steps }),
        _ => Target::FromRevision {
            revision: m.ids[node].clone(),
            steps: rng.below(5) as isize - 2,
        },
    }
}

fn to_flags(g: &RevisionGraph<'_>, set: &RevisionSet) -> Vec<bool> {
    (0..g.revisions().len()).map(|n| set.contains(n)).collect()
}

fn node_of(g: &RevisionGraph<'_>, r: &Revision) -> usize {
    g.node(&r.id).unwrap()
}

/// Where a non-relative target points, by the model.
#[derive(Debug, Clone, PartialEq)]
enum Dest {
    /// Nothing applied.
    Base,
    /// Nothing that requires this root applied (`<rev>-N` one past a root).
    BeforeRoot(usize),
    /// These revisions and what they require applied, nothing beyond them.
    At(Vec<usize>),
    /// A walk that forks or runs out: the planner must refuse it.
    Invalid,
}

fn model_destination(m: &Model, g: &RevisionGraph<'_>, target: &Target) -> Dest {
    let by_name = |name: &str| {
        m.labels
            .iter()
            .find(|(l, _)| l == name)
            .map(|&(_, n)| n)
            .unwrap_or_else(|| m.node(name))
    };
    match target {
        Target::Base => Dest::Base,
        Target::Head | Target::Heads => Dest::At(m.heads()),
        Target::Revision(name) => Dest::At(vec![by_name(name)]),
        Target::BranchHead(name) => Dest::At(m.branch_heads(by_name(name))),
        Target::FromRevision { revision, steps } => {
            let mut node = by_name(revision);
            let count = steps.unsigned_abs();
            for taken in 0..count {
                let next: Vec<usize> = if *steps > 0 {
                    m.children[node].clone()
                } else {
                    g.revision(node).parents.iter().map(|p| m.node(p)).collect()
                };
                match next.as_slice() {
                    [one] => node = *one,
                    [] if *steps < 0 && taken + 1 == count => return Dest::BeforeRoot(node),
                    _ => return Dest::Invalid,
                }
            }
            Dest::At(vec![node])
        }
        Target::Relative(_)
        | Target::Current
        | Target::BranchRelative { .. }
        | Target::BranchBase(_) => {
            unreachable!("relative targets and `current` are not generated")
        }
    }
}

/// The state a destination describes, starting from `before`: for `At`,
/// what it requires is added and what requires a revision that revises it
/// (and is not required by it) removed; for `Base` / `BeforeRoot`, what requires the root removed.
fn model_state(m: &Model, before: &[bool], dest: &Dest) -> Vec<bool> {
    (0..m.len())
        .map(|n| match dest {
            Dest::Base => false,
            Dest::BeforeRoot(root) => before[n] && !m.requires_transitively(n, *root),
            Dest::At(targets) => {
                let at = targets.iter().any(|&d| m.requires_transitively(d, n));
                // What goes is what requires a revision that revises a
                // target (Alembic's rule): a revision that only
                // `depends_on` a target stays, as the target does.
                let beyond = targets
                    .iter()
                    .any(|&d| m.children[d].iter().any(|&c| m.requires_transitively(n, c)));
                at || (before[n] && !beyond)
            }
            Dest::Invalid => unreachable!(),
        })
        .collect()
}

/// How the model expects a bare `+k` / `-k` to end.
#[derive(Debug, PartialEq)]
enum Walk {
    /// The state after it.
    State(Vec<bool>),
    /// Several current heads: which one moves is not said.
    AmbiguousHeads,
    /// A fork (or merge) on the way.
    Fork,
    /// The line ends first.
    TooFar,
}

/// Alembic's walk, from the revisions' own lists: from the one current
/// head, `+k` follows `revises` children k times (from the roots at base)
/// and applies what the revision reached requires; `-k` follows parents k
/// times (base is one step past a root) and reverts what stands right
/// above the revision reached on the head's line, with all that requires it.
fn model_walk(m: &Model, g: &RevisionGraph<'_>, before: &[bool], k: isize) -> Walk {
    let heads = m.requirement_heads(g, before);
    if heads.len() > 1 {
        return Walk::AmbiguousHeads;
    }
    let roots: Vec<usize> = (0..m.len())
        .filter(|&n| g.revision(n).parents.is_empty())
        .collect();
    if k > 0 {
        let mut node = heads.first().copied();
        for _ in 0..k {
            let next = match node {
                None => roots.clone(),
                Some(n) => m.children[n].clone(),
            };
            match next.as_slice() {
                [one] => node = Some(*one),
                [] => return Walk::TooFar,
                _ => return Walk::Fork,
            }
        }
        let target = m.ancestors(node.unwrap());
        return Walk::State((0..m.len()).map(|n| before[n] || target[n]).collect());
    }
    let Some(&head) = heads.first() else {
        return Walk::TooFar;
    };
    let mut node = Some(head);
    for _ in 0..k.unsigned_abs() {
        let Some(at) = node else {
            return Walk::TooFar;
        };
        let parents: Vec<usize> = g.revision(at).parents.iter().map(|p| m.node(p)).collect();
        match parents.as_slice() {
            [] => node = None,
            [one] => node = Some(*one),
            _ => return Walk::Fork,
        }
    }
    let mut above = match node {
        None => roots,
        Some(n) => m.children[n].clone(),
    };
    if above.len() > 1 {
        let line = m.revises_line(g, head);
        above.retain(|&n| line[n]);
    }
    Walk::State(
        (0..m.len())
            .map(|n| before[n] && !above.iter().any(|&a| m.requires_transitively(n, a)))
            .collect(),
    )
}

/// Whether an upgrade to `dest` would go back: a target's own branch
/// (`revises`) has moved past it.
fn is_behind(m: &Model, before: &[bool], dest: &Dest) -> bool {
    match dest {
        Dest::At(targets) => targets
            .iter()
            .any(|&d| before[d] && m.children[d].iter().any(|&c| before[c])),
        _ => false,
    }
}

fn applied_set(m: &Model, g: &RevisionGraph<'_>, before: &[bool]) -> RevisionSet {
    let ids = m
        .ids
        .iter()
        .enumerate()
        .filter(|(i, _)| before[*i])
        .map(|(_, id)| id.as_str());
    g.set_of(ids).0
}

/// Checks an upgrade plan against the model; returns the state after it.
fn check_upgrade(
    m: &Model,
    g: &RevisionGraph<'_>,
    before: &[bool],
    target: &Target,
) -> Option<Vec<bool>> {
    let plan = match plan_upgrade(g, &applied_set(m, g, before), target) {
        Ok(plan) => plan,
        Err(err) => {
            check_upgrade_refusal(m, g, before, target, &err);
            return None;
        }
    };
    let mut state = before.to_vec();
    for step in &plan.steps {
        let node = node_of(g, step);
        assert!(
            !state[node],
            "{target}: `{}` planned twice or already applied",
            step.id
        );
        for &required in &m.requires[node] {
            assert!(
                state[required],
                "{target}: `{}` planned before its requirement `{}`",
                step.id, m.ids[required]
            );
        }
        state[node] = true;
    }
    assert!(m.is_closed(&state));
    if let Target::Relative(k) = target {
        assert!(*k > 0);
        assert_eq!(
            Walk::State(state.clone()),
            model_walk(m, g, before, *k),
            "{target}"
        );
        return Some(state);
    }
    match model_destination(m, g, target) {
        Dest::Invalid => panic!("upgrade {target} should be refused"),
        dest @ Dest::At(_) => {
            assert!(
                !is_behind(m, before, &dest),
                "upgrade {target} goes back but was planned"
            );
            // Exactly what the destination requires is added, nothing more,
            // and an upgrade removes nothing.
            let at = model_state(m, &vec![false; m.len()], &dest);
            let expected: Vec<bool> = (0..m.len()).map(|n| before[n] || at[n]).collect();
            assert_eq!(state, expected, "upgrade {target}");
        }
        Dest::Base | Dest::BeforeRoot(_) => {
            assert!(plan.steps.is_empty(), "{target}: adds nothing")
        }
    }
    Some(state)
}

fn check_upgrade_refusal(
    m: &Model,
    g: &RevisionGraph<'_>,
    before: &[bool],
    target: &Target,
    err: &PlanError,
) {
    match (target, err) {
        (Target::Relative(k), PlanError::WrongDirection { .. }) => assert!(*k < 0),
        (Target::Relative(k), err) => assert_eq!(
            model_walk(m, g, before, *k),
            walk_refusal(err),
            "upgrade {target}: {err}"
        ),
        (Target::Head, PlanError::MultipleHeads { heads, .. }) => {
            assert_eq!(heads.len(), m.heads().len())
        }
        (Target::BranchHead(_), PlanError::MultipleHeads { .. }) => {
            assert!(matches!(model_destination(m, g, target), Dest::At(d) if d.len() > 1));
        }
        (
            Target::FromRevision { .. },
            PlanError::AmbiguousStep { .. } | PlanError::OutOfRange { .. },
        ) => {
            assert_eq!(model_destination(m, g, target), Dest::Invalid, "{target}");
        }
        (_, PlanError::WrongDirection { .. }) => {
            let dest = model_destination(m, g, target);
            assert!(
                is_behind(m, before, &dest),
                "{target} refused as behind: {err}"
            );
        }
        _ => panic!("unexpected refusal of upgrade {target}: {err:?}"),
    }
}

/// Checks a downgrade plan against the model; returns the state after it.
fn check_downgrade(
    m: &Model,
    g: &RevisionGraph<'_>,
    before: &[bool],
    target: &Target,
) -> Option<Vec<bool>> {
    let applied = applied_set(m, g, before);
    let plan = match plan_downgrade(g, &applied, target) {
        Ok(plan) => plan,
        Err(PlanError::Irreversible { id, file }) => {
            // The same plan over reversible copies goes through the
            // named revision, and it is the first irreversible one.
            let reversible: Vec<Revision> = g
                .revisions()
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.down_sql.get_or_insert_with(|| "SELECT 1;".into());
                    r
                })
                .collect();
            let g2 = RevisionGraph::new(&reversible).unwrap();
            let steps = plan_downgrade(&g2, &applied, target)
                .expect("refused only for irreversibility")
                .steps;
            let first = steps
                .iter()
                .find(|r| g.get(&r.id).unwrap().down_sql.is_none())
                .expect("an irreversible step exists");
            assert_eq!(first.id, id);
            assert_eq!(g.get(&id).unwrap().file, file);
            return None;
        }
        Err(err) => {
            check_downgrade_refusal(m, g, before, target, &err);
            return None;
        }
    };
    let mut state = before.to_vec();
    for step in &plan.steps {
        let node = node_of(g, step);
        assert!(
            state[node],
            "{target}: `{}` removed twice or not applied",
            step.id
        );
        assert!(step.is_reversible());
        state[node] = false;
        // Nothing still applied requires what was just removed.
        let still_requiring =
            (0..m.len()).find(|&other| state[other] && m.requires[other].contains(&node));
        assert_eq!(
            still_requiring.map(|other| &m.ids[other]),
            None,
            "{target}: `{}` removed while that revision still requires it",
            step.id
        );
    }
    if let Target::Relative(k) = target {
        assert!(*k < 0);
        assert_eq!(
            Walk::State(state.clone()),
            model_walk(m, g, before, *k),
            "{target}"
        );
        return Some(state);
    }
    let dest = model_destination(m, g, target);
    if let Dest::At(targets) = &dest {
        assert!(
            targets.iter().all(|&t| before[t]),
            "downgrade {target} to a revision not applied"
        );
    }
    assert_ne!(dest, Dest::Invalid, "downgrade {target} should be refused");
    // A downgrade only removes: the model state is before minus what goes.
    assert_eq!(state, model_state(m, before, &dest), "downgrade {target}");
    Some(state)
}

fn check_downgrade_refusal(
    m: &Model,
    g: &RevisionGraph<'_>,
    before: &[bool],
    target: &Target,
    err: &PlanError,
) {
    match (target, err) {
        (Target::Relative(k), PlanError::WrongDirection { .. }) => assert!(*k > 0),
        (Target::Relative(k), err) => assert_eq!(
            model_walk(m, g, before, *k),
            walk_refusal(err),
            "downgrade {target}: {err}"
        ),
        (Target::Head, PlanError::MultipleHeads { .. }) => assert!(m.heads().len() > 1),
        (Target::BranchHead(_), PlanError::MultipleHeads { .. }) => {
            assert!(matches!(model_destination(m, g, target), Dest::At(d) if d.len() > 1));
        }
        (
            Target::FromRevision { .. },
            PlanError::AmbiguousStep { .. } | PlanError::OutOfRange { .. },
        ) => {
            assert_eq!(model_destination(m, g, target), Dest::Invalid, "{target}");
        }
        (_, PlanError::NotApplied { id, current }) => {
            assert!(!before[m.node(id)], "{target}: `{id}` is applied");
            let applied = applied_set(m, g, before);
            let heads: Vec<String> = g
                .heads_of(&applied)
                .into_iter()
                .map(|n| m.ids[n].clone())
                .collect();
            assert_eq!(current, &heads);
        }
        _ => panic!("unexpected refusal of downgrade {target}: {err:?}"),
    }
}

/// The model's name for a refused walk.
fn walk_refusal(err: &PlanError) -> Walk {
    match err {
        PlanError::AmbiguousRelative { .. } => Walk::AmbiguousHeads,
        PlanError::AmbiguousStep { .. } => Walk::Fork,
        PlanError::OutOfRange { .. } => Walk::TooFar,
        other => panic!("not a walk refusal: {other:?}"),
    }
}

fn check_stamp(m: &Model, g: &RevisionGraph<'_>, before: &[bool], target: &Target) {
    let Ok(plan) = plan_stamp(g, &applied_set(m, g, before), target) else {
        return;
    };
    let mut state = before.to_vec();
    for r in &plan.insert {
        let n = node_of(g, r);
        assert!(!state[n], "stamp {target} inserts an applied `{}`", r.id);
        state[n] = true;
    }
    for r in &plan.delete {
        let n = node_of(g, r);
        assert!(state[n], "stamp {target} deletes a missing `{}`", r.id);
        state[n] = false;
    }
    assert!(
        m.is_closed(&state),
        "stamp {target} leaves an unclosed state"
    );
    if let Target::Relative(_) = target {
        return;
    }
    let dest = model_destination(m, g, target);
    assert_ne!(dest, Dest::Invalid, "stamp {target} should be refused");
    assert_eq!(state, model_state(m, before, &dest), "stamp {target}");
}

#[test]
fn generated_graphs_validate_in_a_deterministic_valid_order() {
    let mut rng = Rng::new(1);
    for case in 0..CASES {
        let revisions = generate(&mut rng, 0);
        let g = graph_of(&revisions);
        let m = Model::new(&revisions);
        // Reference order: Kahn's algorithm, lowest file index first.
        let mut waiting: Vec<usize> = m.requires.iter().map(Vec::len).collect();
        let mut done = vec![false; m.len()];
        let mut expected = Vec::new();
        while let Some(next) = (0..m.len()).find(|&n| !done[n] && waiting[n] == 0) {
            done[next] = true;
            expected.push(next);
            for (count, requires) in waiting.iter_mut().zip(&m.requires) {
                *count -= requires.iter().filter(|&&r| r == next).count();
            }
        }
        assert_eq!(g.topological_nodes(), expected.as_slice(), "case {case}");
        let again = graph_of(&revisions);
        assert_eq!(again.topological_nodes(), g.topological_nodes());
        let heads: Vec<usize> = g.head_nodes();
        let mut model_heads = m.heads();
        model_heads.sort_by_key(|&n| g.position(n));
        assert_eq!(heads, model_heads);
    }
}

#[test]
fn without_labels_extra_roots_and_heads_are_refused() {
    let mut rng = Rng::new(2);
    for _ in 0..CASES {
        let mut revisions = generate(&mut rng, 0);
        for r in &mut revisions {
            *r = r.clone().labels(&[]);
        }
        let m = Model::new(&revisions);
        let roots = (0..m.len())
            .filter(|&n| revisions[n].parents.is_empty())
            .count();
        let heads = m.heads().len();
        match RevisionGraph::new(&revisions) {
            Ok(_) => assert!(roots == 1 && heads == 1),
            Err(errors) => {
                assert_eq!(
                    errors.iter().any(
                        |e| matches!(e, LoadError::MultipleRoots { roots: r } if r.len() == roots)
                    ),
                    roots > 1,
                    "{errors:#?}"
                );
                // Extra roots cause extra heads; only the cause is reported.
                let heads_reported = heads > 1 && roots == 1;
                assert_eq!(
                    errors.iter().any(
                        |e| matches!(e, LoadError::MultipleHeads { heads: h } if h.len() == heads)
                    ),
                    heads_reported,
                    "{errors:#?}"
                );
                assert_eq!(
                    errors.len(),
                    usize::from(roots > 1) + usize::from(heads_reported)
                );
            }
        }
    }
}

#[test]
fn upgrade_downgrade_and_stamp_plans_keep_the_database_consistent() {
    let mut rng = Rng::new(3);
    for _ in 0..CASES {
        let revisions = generate(&mut rng, 15);
        let g = graph_of(&revisions);
        let m = Model::new(&revisions);
        for _ in 0..8 {
            let state = if rng.chance(50) {
                closed_state(&mut rng, &g)
            } else {
                prefix_state(&mut rng, &g)
            };
            let before = to_flags(&g, &state);
            assert!(m.is_closed(&before));
            let target = random_target(&mut rng, &m);
            check_upgrade(&m, &g, &before, &target);
            check_downgrade(&m, &g, &before, &target);
            check_stamp(&m, &g, &before, &target);
        }
    }
}

#[test]
fn one_step_up_then_one_step_down_keeps_only_what_the_step_pulled_in() {
    let mut rng = Rng::new(4);
    let mut round_trips = 0;
    for _ in 0..CASES {
        let revisions = generate(&mut rng, 0);
        let g = graph_of(&revisions);
        let m = Model::new(&revisions);
        for _ in 0..4 {
            let start = if rng.chance(50) {
                closed_state(&mut rng, &g)
            } else {
                prefix_state(&mut rng, &g)
            };
            let before = to_flags(&g, &start);
            let Some(after) = check_upgrade(&m, &g, &before, &Target::Relative(1)) else {
                continue;
            };
            // `+1` moved the one head to a child; `-1` takes that child
            // back and keeps what it pulled in through `depends_on`.
            let [moved_to] = m.requirement_heads(&g, &after)[..] else {
                panic!("+1 leaves one current head");
            };
            let Some(back) = check_downgrade(&m, &g, &after, &Target::Relative(-1)) else {
                assert!(
                    g.revision(moved_to).parents.len() > 1,
                    "-1 refused below a single parent"
                );
                continue;
            };
            let expected: Vec<bool> = (0..m.len()).map(|n| after[n] && n != moved_to).collect();
            assert_eq!(back, expected, "+1 then -1");
            round_trips += 1;
        }
    }
    assert!(
        round_trips > CASES as usize,
        "only {round_trips} round trips ran"
    );
}

#[test]
fn upgrade_to_a_revision_then_downgrade_to_the_start_head_returns_to_the_start() {
    let mut rng = Rng::new(5);
    let mut round_trips = 0;
    for _ in 0..CASES {
        let revisions = generate(&mut rng, 0);
        let g = graph_of(&revisions);
        let m = Model::new(&revisions);
        for _ in 0..4 {
            // Start at one revision h (and what it requires), go up to a
            // revision t that requires h and whose requirements all either
            // are required by h or require a revision that revises h:
            // coming back to h removes exactly what was added. (What only
            // `depends_on` h stays when going back to h, as in Alembic.)
            let h = rng.below(m.len());
            let t = rng.below(m.len());
            let before = m.ancestors(h);
            let added: Vec<usize> = (0..m.len())
                .filter(|&n| m.ancestors(t)[n] && !before[n])
                .collect();
            if !m.requires_transitively(t, h)
                || !added
                    .iter()
                    .all(|&n| m.children[h].iter().any(|&c| m.requires_transitively(n, c)))
            {
                continue;
            }
            let after = check_upgrade(&m, &g, &before, &Target::Revision(m.ids[t].clone()))
                .expect("upgrade");
            let back = check_downgrade(&m, &g, &after, &Target::Revision(m.ids[h].clone()))
                .expect("downgrade");
            assert_eq!(back, before);
            // And to base and back up to t.
            let empty = check_downgrade(&m, &g, &after, &Target::Base).unwrap();
            let again = check_upgrade(&m, &g, &empty, &Target::Revision(m.ids[t].clone())).unwrap();
            assert_eq!(again, m.ancestors(t));
            round_trips += 1;
        }
    }
    assert!(
        round_trips > CASES as usize / 2,
        "only {round_trips} round trips ran"
    );
}

#[test]
fn heads_from_any_state_applies_everything_and_base_removes_everything() {
    let mut rng = Rng::new(6);
    for _ in 0..CASES {
        let revisions = generate(&mut rng, 0);
        let g = graph_of(&revisions);
        let m = Model::new(&revisions);
        let start = to_flags(&g, &closed_state(&mut rng, &g));
        let all = check_upgrade(&m, &g, &start, &Target::Heads).expect("heads is never behind");
        assert!(all.iter().all(|&a| a));
        // Fully applied: heads again is a no-op, not "behind".
        assert_eq!(
            check_upgrade(&m, &g, &all, &Target::Heads),
            Some(all.clone())
        );
        let none = check_downgrade(&m, &g, &all, &Target::Base).unwrap();
        assert!(none.iter().all(|&a| !a));
    }
}

#[test]
fn generated_graphs_round_trip_through_the_file_format() {
    let mut rng = Rng::new(7);
    for _ in 0..CASES / 3 {
        let revisions = generate(&mut rng, 30);
        for r in &revisions {
            let text = render(r, &mut rng);
            let file = format!("migrations/{}_generated.sql", r.id);
            let parsed = parse_migration(&file, text.as_bytes())
                .unwrap_or_else(|e| panic!("{e:#?}\n{text}"));
            assert_eq!(parsed.id, r.id);
            assert_eq!(parsed.parents, r.parents);
            assert_eq!(parsed.depends_on, r.depends_on);
            assert_eq!(parsed.branch_labels, r.branch_labels);
            assert_eq!(parsed.up_sql, r.up_sql);
            assert_eq!(parsed.down_sql, r.down_sql);
            let crlf = parse_migration(&file, text.replace('\n', "\r\n").as_bytes()).unwrap();
            assert_eq!(crlf, parsed);
        }
    }
}

fn render(r: &Revision, rng: &mut Rng) -> String {
    let join = |items: &[migrate_core::Text]| {
        items
            .iter()
            .map(|s| s.as_ref())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![format!("-- revision: {}", r.id)];
    if !r.parents.is_empty() || rng.chance(50) {
        lines.push(format!("-- revises: {}", join(&r.parents)));
    }
    if !r.depends_on.is_empty() {
        lines.push(format!("-- depends_on: {}", join(&r.depends_on)));
    }
    if !r.branch_labels.is_empty() {
        lines.push(format!("-- branch_labels: {}", join(&r.branch_labels)));
    }
    rng.shuffle(&mut lines);
    lines.push(String::new());
    lines.push("-- migrate:up".into());
    lines.push(r.up_sql.to_string());
    if let Some(down) = &r.down_sql {
        lines.push("-- migrate:down".into());
        lines.push(down.to_string());
    }
    lines.join("\n") + "\n"
}

#[test]
fn the_parser_never_panics_on_line_soup() {
    const PIECES: &[&str] = &[
        "-- revision: abc",
        "-- revision: a-b",
        "-- revises: x, y",
        "-- revises: ,",
        "-- depends_on: abc",
        "-- branch_labels: l",
        "-- transaction: false",
        "-- transaction: nope",
        "-- revison: abc",
        "-- migrate:up",
        "-- migrate:down",
        "-- migrate:",
        "-- migrate:sideways",
        "SELECT 1;",
        "",
        "   ",
        "--",
        "-- :",
        "-- a:",
        "--:b",
        "\r",
        "\u{feff}",
        "é",
        "-- message: ü: ö",
    ];
    let mut rng = Rng::new(8);
    for _ in 0..2000 {
        let count = rng.below(12);
        let mut bytes: Vec<u8> = Vec::new();
        for _ in 0..count {
            bytes.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
            match rng.below(10) {
                0 => bytes.push(0xff),
                1 => bytes.extend_from_slice(b"\r\n"),
                2 => {}
                _ => bytes.push(b'\n'),
            }
        }
        match parse_migration("migrations/abc_soup.sql", &bytes) {
            Ok(r) => assert_eq!(r.id, "abc"),
            Err(errors) => {
                assert!(!errors.is_empty());
                for e in &errors {
                    assert_eq!(e.file(), Some("migrations/abc_soup.sql"));
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}
