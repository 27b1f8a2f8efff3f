//! Planning: which revisions run, in which order, and what is refused
//! before any SQL runs.

mod common;

use common::{chain, graph, ids, ids_of, rev, set, RevExt};
use migrate_core::{
    plan_downgrade, plan_stamp, plan_upgrade, Direction, Plan, PlanError, Revision, RevisionGraph,
    RevisionSet, Target,
};

fn t(text: &str) -> Target {
    Target::parse(text).unwrap()
}

fn up(g: &RevisionGraph<'_>, applied: &[&str], target: &str) -> Result<Vec<String>, PlanError> {
    let plan = plan_upgrade(g, &set(g, applied), &t(target))?;
    assert_eq!(plan.direction, Direction::Upgrade);
    Ok(ids(&plan.steps))
}

fn down(g: &RevisionGraph<'_>, applied: &[&str], target: &str) -> Result<Vec<String>, PlanError> {
    let plan = plan_downgrade(g, &set(g, applied), &t(target))?;
    assert_eq!(plan.direction, Direction::Downgrade);
    Ok(ids(&plan.steps))
}

fn stamp(
    g: &RevisionGraph<'_>,
    applied: &[&str],
    target: &str,
) -> Result<(Vec<String>, Vec<String>), PlanError> {
    let plan = plan_stamp(g, &set(g, applied), &t(target))?;
    Ok((ids(&plan.insert), ids(&plan.delete)))
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn ok(items: &[&str]) -> Result<Vec<String>, PlanError> {
    Ok(v(items))
}

fn linear() -> Vec<Revision> {
    chain(&["a", "b", "c", "d"])
}

// ---------------------------------------------------------------- linear

#[test]
fn upgrade_to_head_runs_what_is_missing_in_order() {
    let revisions = linear();
    let g = graph(&revisions);
    assert_eq!(up(&g, &[], "head"), ok(&["a", "b", "c", "d"]));
    assert_eq!(up(&g, &["a", "b"], "head"), ok(&["c", "d"]));
    assert_eq!(up(&g, &["a", "b"], "heads"), ok(&["c", "d"]));
    let plan = plan_upgrade(&g, &set(&g, &["a", "b", "c", "d"]), &Target::Head).unwrap();
    assert!(plan.is_empty(), "at head, nothing to do");
}

#[test]
fn upgrade_by_relative_steps() {
    let revisions = linear();
    let g = graph(&revisions);
    assert_eq!(up(&g, &[], "+1"), ok(&["a"]));
    assert_eq!(up(&g, &["a"], "+2"), ok(&["b", "c"]));
    assert_eq!(up(&g, &["a"], "+3"), ok(&["b", "c", "d"]));
    let err = up(&g, &["a"], "+4").unwrap_err();
    assert_eq!(
        err,
        PlanError::OutOfRange {
            given: "+4".into(),
            requested: 4,
            available: 3
        }
    );
    assert!(err.to_string().contains("only 3 are possible"));
}

#[test]
fn upgrade_to_a_revision_prefix_or_relative_revision() {
    let revisions = linear();
    let g = graph(&revisions);
    assert_eq!(up(&g, &[], "c"), ok(&["a", "b", "c"]));
    assert_eq!(up(&g, &["a"], "b+1"), ok(&["b", "c"]));
    assert_eq!(up(&g, &["a"], "d-1"), ok(&["b", "c"]));
    assert_eq!(up(&g, &["a", "b"], "b"), ok(&[]), "already there");
    assert!(matches!(
        up(&g, &[], "zz"),
        Err(PlanError::UnknownRevision { .. })
    ));
}

#[test]
fn upgrade_to_an_older_revision_is_the_wrong_direction() {
    let revisions = linear();
    let g = graph(&revisions);
    let err = up(&g, &["a", "b", "c"], "b").unwrap_err();
    assert!(matches!(&err, PlanError::WrongDirection { given, .. } if given == "b"));
    assert!(err.to_string().contains("use `downgrade`"), "{err}");
    assert!(matches!(
        up(&g, &["a", "b", "c"], "c-2"),
        Err(PlanError::WrongDirection { .. })
    ));
    let err = up(&g, &["a"], "-1").unwrap_err();
    assert_eq!(
        err,
        PlanError::WrongDirection {
            given: "-1".into(),
            reason: "moves back; use `downgrade`"
        }
    );
}

#[test]
fn downgrade_by_relative_steps() {
    let revisions = linear();
    let g = graph(&revisions);
    let all = ["a", "b", "c", "d"];
    assert_eq!(down(&g, &all, "-1"), ok(&["d"]));
    assert_eq!(down(&g, &all, "-2"), ok(&["d", "c"]));
    assert_eq!(down(&g, &["a", "b"], "-2"), ok(&["b", "a"]));
    assert_eq!(
        down(&g, &["a", "b"], "-3"),
        Err(PlanError::OutOfRange {
            given: "-3".into(),
            requested: 3,
            available: 2
        })
    );
    assert_eq!(
        down(&g, &all, "+1"),
        Err(PlanError::WrongDirection {
            given: "+1".into(),
            reason: "moves forward; use `upgrade`"
        })
    );
}

#[test]
fn downgrade_to_a_revision_or_base() {
    let revisions = linear();
    let g = graph(&revisions);
    let all = ["a", "b", "c", "d"];
    assert_eq!(down(&g, &all, "b"), ok(&["d", "c"]));
    assert_eq!(down(&g, &all, "d"), ok(&[]), "already there");
    assert_eq!(down(&g, &all, "base"), ok(&["d", "c", "b", "a"]));
    assert_eq!(down(&g, &[], "base"), ok(&[]));
    assert_eq!(down(&g, &all, "c-1"), ok(&["d", "c"]));
    assert_eq!(
        down(&g, &all, "a-1"),
        ok(&["d", "c", "b", "a"]),
        "before the root is base"
    );
    assert_eq!(down(&g, &all, "b-2"), ok(&["d", "c", "b", "a"]));
    assert_eq!(
        down(&g, &all, "b-3"),
        Err(PlanError::OutOfRange {
            given: "b-3".into(),
            requested: 3,
            available: 2
        })
    );
}

#[test]
fn downgrade_to_a_revision_that_is_not_applied() {
    let revisions = linear();
    let g = graph(&revisions);
    let err = down(&g, &["a", "b"], "d").unwrap_err();
    assert_eq!(
        err,
        PlanError::NotApplied {
            id: "d".into(),
            current: v(&["b"])
        }
    );
    assert!(
        err.to_string().contains("the current heads are `b`"),
        "{err}"
    );
    let err = down(&g, &[], "a").unwrap_err();
    assert!(
        err.to_string().contains("none (the database is at base)"),
        "{err}"
    );
}

#[test]
fn a_downgrade_through_an_irreversible_revision_is_refused_whole() {
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]).irreversible(),
        rev("c").revises(&["b"]),
        rev("d").revises(&["c"]),
    ];
    let g = graph(&revisions);
    let all = ["a", "b", "c", "d"];
    for target in ["base", "a", "-3", "b-1"] {
        let err = down(&g, &all, target).unwrap_err();
        assert_eq!(
            err,
            PlanError::Irreversible {
                id: "b".into(),
                file: "migrations/b_test.sql".into()
            },
            "downgrade {target}"
        );
        assert!(err.to_string().contains("nothing was changed"));
    }
    // Down to the irreversible revision itself, or above it, is fine.
    assert_eq!(down(&g, &all, "b"), ok(&["d", "c"]));
    assert_eq!(down(&g, &all, "-2"), ok(&["d", "c"]));
    // Stamping runs no SQL, so it may go through.
    assert_eq!(
        stamp(&g, &all, "base"),
        Ok((v(&[]), v(&["d", "c", "b", "a"])))
    );
}

#[test]
fn the_first_irreversible_revision_on_the_way_down_is_named() {
    let revisions = vec![
        rev("a").irreversible(),
        rev("b").revises(&["a"]),
        rev("c").revises(&["b"]).irreversible(),
        rev("d").revises(&["c"]),
    ];
    let g = graph(&revisions);
    assert!(matches!(
        down(&g, &["a", "b", "c", "d"], "base"),
        Err(PlanError::Irreversible { id, .. }) if id == "c"
    ));
}

#[test]
fn stamps_on_a_chain() {
    let revisions = linear();
    let g = graph(&revisions);
    let all = ["a", "b", "c", "d"];
    assert_eq!(stamp(&g, &["a"], "c"), Ok((v(&["b", "c"]), v(&[]))));
    assert_eq!(stamp(&g, &[], "head"), Ok((v(&all), v(&[]))));
    assert_eq!(stamp(&g, &all, "b"), Ok((v(&[]), v(&["d", "c"]))));
    assert_eq!(
        stamp(&g, &all, "base"),
        Ok((v(&[]), v(&["d", "c", "b", "a"])))
    );
    assert_eq!(stamp(&g, &all, "-1"), Ok((v(&[]), v(&["d"]))));
    assert_eq!(stamp(&g, &["a"], "+1"), Ok((v(&["b"]), v(&[]))));
    assert_eq!(stamp(&g, &all, "heads"), Ok((v(&[]), v(&[]))));
    assert!(matches!(
        stamp(&g, &all, "+1"),
        Err(PlanError::OutOfRange { .. })
    ));
}

// ------------------------------------------------------ branch and merge

/// ```text
/// a ─ b ─ c ─┐
///  └─ x ─ y ─┴─ m ─ n
/// ```
fn diamond() -> Vec<Revision> {
    vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("c").revises(&["b"]),
        rev("x").revises(&["a"]),
        rev("y").revises(&["x"]),
        rev("m").revises(&["c", "y"]),
        rev("n").revises(&["m"]),
    ]
}

#[test]
fn upgrade_through_a_merge() {
    let revisions = diamond();
    let g = graph(&revisions);
    assert_eq!(
        up(&g, &[], "head"),
        ok(&["a", "b", "c", "x", "y", "m", "n"])
    );
    assert_eq!(up(&g, &[], "c"), ok(&["a", "b", "c"]));
    assert_eq!(up(&g, &["a", "b", "c"], "m"), ok(&["x", "y", "m"]));
    assert_eq!(up(&g, &["a", "x"], "m"), ok(&["b", "c", "y", "m"]));
    // `+2` from b walks b -> c -> m: m needs the other side of the merge.
    assert_eq!(up(&g, &["a", "b"], "+2"), ok(&["c", "x", "y", "m"]));
    // With both sides applied there are two current heads: `+1` does not
    // say which moves (Alembic refuses too).
    assert!(matches!(
        up(&g, &["a", "b", "c", "x", "y"], "+1"),
        Err(PlanError::AmbiguousRelative { heads, .. }) if heads == v(&["c", "y"])
    ));
    assert_eq!(up(&g, &["a", "b", "c", "x", "y"], "c@+1"), ok(&["m"]));
    assert_eq!(up(&g, &["a", "b", "c", "x", "y"], "m+1"), ok(&["m", "n"]));
}

#[test]
fn relative_steps_through_a_fork_are_ambiguous() {
    let revisions = diamond();
    let g = graph(&revisions);
    let err = up(&g, &[], "a+1").unwrap_err();
    assert_eq!(
        err,
        PlanError::AmbiguousStep {
            given: "a+1".into(),
            at: "a".into(),
            direction: "children",
            candidates: v(&["b", "x"]),
        }
    );
    let all = ["a", "b", "c", "x", "y", "m", "n"];
    assert!(matches!(
        down(&g, &all, "m-1"),
        Err(PlanError::AmbiguousStep {
            direction: "parents",
            ..
        })
    ));
}

#[test]
fn downgrade_one_side_of_a_merge() {
    let revisions = diamond();
    let g = graph(&revisions);
    let all = ["a", "b", "c", "x", "y", "m", "n"];
    // Down to b: what requires b goes (c, and the merge above it); the
    // other branch stays.
    assert_eq!(down(&g, &all, "b"), ok(&["n", "m", "c"]));
    assert_eq!(down(&g, &all, "x"), ok(&["n", "m", "y"]));
    assert_eq!(down(&g, &all, "m"), ok(&["n"]));
    assert!(matches!(
        down(&g, &["a", "b", "c", "x", "y"], "-1"),
        Err(PlanError::AmbiguousRelative { .. })
    ));
    assert_eq!(down(&g, &["a", "b", "c", "x", "y"], "y@-1"), ok(&["y"]));
    assert_eq!(
        down(&g, &["a", "b", "c", "x", "y"], "a"),
        ok(&["y", "x", "c", "b"])
    );
    assert!(matches!(
        down(&g, &["a", "b", "c"], "y"),
        Err(PlanError::NotApplied { id, current }) if id == "y" && current == v(&["c"])
    ));
}

#[test]
fn upgrade_to_one_parent_of_an_applied_merge_is_the_wrong_direction() {
    let revisions = diamond();
    let g = graph(&revisions);
    let all = ["a", "b", "c", "x", "y", "m", "n"];
    assert!(matches!(
        up(&g, &all, "c"),
        Err(PlanError::WrongDirection { .. })
    ));
    assert!(matches!(
        up(&g, &all, "m"),
        Err(PlanError::WrongDirection { .. })
    ));
    assert_eq!(up(&g, &all, "n"), ok(&[]));
}

// ------------------------------------------------------ labelled branches

/// ```text
/// a ─ b            (b: main)
///  └─ f1 ─ f2      (f1: feature)
/// ```
fn labelled() -> Vec<Revision> {
    vec![
        rev("a"),
        rev("b").revises(&["a"]).labels(&["main"]),
        rev("f1").revises(&["a"]).labels(&["feature"]),
        rev("f2").revises(&["f1"]),
    ]
}

#[test]
fn head_is_refused_where_branches_have_several_heads() {
    let revisions = labelled();
    let g = graph(&revisions);
    let expected = PlanError::MultipleHeads {
        given: "head".to_string(),
        heads: v(&["b", "f2"]),
    };
    assert_eq!(up(&g, &["a"], "head"), Err(expected.clone()));
    assert_eq!(down(&g, &["a"], "head"), Err(expected.clone()));
    assert_eq!(stamp(&g, &["a"], "head"), Err(expected));
}

#[test]
fn heads_and_branch_heads() {
    let revisions = labelled();
    let g = graph(&revisions);
    assert_eq!(up(&g, &[], "heads"), ok(&["a", "b", "f1", "f2"]));
    assert_eq!(up(&g, &["a"], "feature@head"), ok(&["f1", "f2"]));
    assert_eq!(up(&g, &["a"], "main@head"), ok(&["b"]));
    assert_eq!(up(&g, &["a"], "feature"), ok(&["f1"]));
    assert_eq!(up(&g, &["a"], "feature+1"), ok(&["f1", "f2"]));
    assert_eq!(up(&g, &["a", "f1", "f2"], "feature@head"), ok(&[]));
    assert!(matches!(
        up(&g, &[], "nope@head"),
        Err(PlanError::UnknownBranch { .. })
    ));
    assert!(matches!(
        up(&g, &[], "a@head"),
        Err(PlanError::MultipleHeads { .. })
    ));
    // Down along one branch leaves the other alone.
    let all = ["a", "b", "f1", "f2"];
    assert_eq!(down(&g, &all, "feature"), ok(&["f2"]));
    assert_eq!(down(&g, &all, "feature-1"), ok(&["f2", "f1", "b"]));
}

// ------------------------------------------------------------ depends_on

/// ```text
/// r ─ a1 ─ a2             (a1: accounts)
///  └─ b1 ─ b2             (b1: billing; b2 depends_on a2)
/// ```
fn dependent() -> Vec<Revision> {
    vec![
        rev("r"),
        rev("b1").revises(&["r"]).labels(&["billing"]),
        rev("b2").revises(&["b1"]).depends_on(&["a2"]),
        rev("a1").revises(&["r"]).labels(&["accounts"]),
        rev("a2").revises(&["a1"]),
    ]
}

#[test]
fn depends_on_pulls_in_the_other_branch_first() {
    let revisions = dependent();
    let g = graph(&revisions);
    assert_eq!(up(&g, &["r", "b1"], "b2"), ok(&["a1", "a2", "b2"]));
    assert_eq!(
        up(&g, &[], "billing@head"),
        ok(&["r", "b1", "a1", "a2", "b2"])
    );
    assert_eq!(
        stamp(&g, &["r"], "b2"),
        Ok((v(&["b1", "a1", "a2", "b2"]), v(&[])))
    );
}

#[test]
fn depends_on_takes_the_dependent_down_first() {
    let revisions = dependent();
    let g = graph(&revisions);
    let all = ["r", "b1", "b2", "a1", "a2"];
    assert_eq!(down(&g, &all, "a1"), ok(&["b2", "a2"]));
    assert_eq!(down(&g, &all, "accounts-1"), ok(&["b2", "a2", "a1", "b1"]));
    assert_eq!(stamp(&g, &all, "a1"), Ok((v(&[]), v(&["b2", "a2"]))));
}

#[test]
fn upgrading_to_a_current_head_that_another_branch_depends_on_is_a_no_op() {
    let revisions = dependent();
    let g = graph(&revisions);
    let all = ["r", "b1", "b2", "a1", "a2"];
    let applied = set(&g, &all);
    let current: Vec<&str> = g
        .heads_of(&applied)
        .into_iter()
        .map(|n| g.revision(n).id.as_ref())
        .collect();
    assert_eq!(current, ["a2", "b2"], "a2 is a current head");
    // Fully up to date: `heads` (what a deploy runs with labelled
    // branches) and each branch's head are no-ops, not "behind".
    assert_eq!(up(&g, &all, "heads"), ok(&[]));
    assert_eq!(up(&g, &all, "accounts@head"), ok(&[]));
    assert_eq!(up(&g, &all, "a2"), ok(&[]));
    assert_eq!(stamp(&g, &all, "heads"), Ok((v(&[]), v(&[]))));
    // Behind on its own branch is still behind.
    assert!(matches!(
        up(&g, &all, "a1"),
        Err(PlanError::WrongDirection { .. })
    ));
}

// ------------------------------------------------- independent branches

/// ```text
/// a ─ b              (main line)
/// s1 ─ s2            (s1: side; an independent root)
/// ```
fn two_roots() -> Vec<Revision> {
    vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("s1").labels(&["side"]),
        rev("s2").revises(&["s1"]),
    ]
}

#[test]
fn stepping_below_an_independent_root_leaves_the_other_branch_alone() {
    let revisions = two_roots();
    let g = graph(&revisions);
    let all = ["a", "b", "s1", "s2"];
    // `s1-1` is "before s1": the side branch goes, the main line stays.
    assert_eq!(down(&g, &all, "s1-1"), ok(&["s2", "s1"]));
    assert_eq!(down(&g, &all, "side-1"), ok(&["s2", "s1"]));
    assert_eq!(down(&g, &all, "s2-2"), ok(&["s2", "s1"]));
    assert_eq!(down(&g, &all, "a-1"), ok(&["b", "a"]));
    assert_eq!(stamp(&g, &all, "s1-1"), Ok((v(&[]), v(&["s2", "s1"]))));
    // `base` is still everything.
    assert_eq!(down(&g, &all, "base"), ok(&["s2", "s1", "b", "a"]));
    assert_eq!(up(&g, &["a"], "s1-1"), ok(&[]));
}

// ------------------------------------------------------------- empty

#[test]
fn an_empty_graph_plans_nothing() {
    let revisions = Vec::new();
    let g = graph(&revisions);
    let empty = g.empty_set();
    for target in ["head", "heads", "base"] {
        assert!(plan_upgrade(&g, &empty, &t(target)).unwrap().is_empty());
        assert!(plan_downgrade(&g, &empty, &t(target)).unwrap().is_empty());
    }
    assert!(matches!(
        plan_upgrade(&g, &empty, &t("+1")),
        Err(PlanError::OutOfRange { available: 0, .. })
    ));
}

// Plans refer to the graph's own revisions (the runtime compares by pointer
// in places, and a plan must carry the SQL it will run).
#[test]
fn plan_steps_are_the_graph_revisions() {
    let revisions = linear();
    let g = graph(&revisions);
    let plan: Plan<'_> =
        plan_upgrade(&g, &RevisionSet::clone(&g.empty_set()), &Target::Head).unwrap();
    for step in &plan.steps {
        let original = g.get(&step.id).unwrap();
        assert!(std::ptr::eq(*step, original));
        assert_eq!(step.up_sql, original.up_sql);
    }
    assert_eq!(
        ids_of(&g, &g.ancestors_inclusive(&[3])),
        v(&["a", "b", "c", "d"])
    );
}

#[test]
fn current_is_where_the_database_is_and_moves_nothing() {
    let revisions = linear();
    let g = graph(&revisions);
    assert_eq!(t("current"), Target::Current);
    assert_eq!(Target::Current.to_string(), "current");
    for applied in [&[][..], &["a", "b"][..], &["a", "b", "c", "d"][..]] {
        assert_eq!(up(&g, applied, "current"), ok(&[]), "{applied:?}");
        assert_eq!(down(&g, applied, "current"), ok(&[]), "{applied:?}");
        assert_eq!(
            stamp(&g, applied, "current"),
            Ok((v(&[]), v(&[]))),
            "{applied:?}"
        );
    }
}

// ------------------------------------- downgrade past a depends_on only

/// ```text
/// r ─ f ─ c
///  └─ l          (l: lbl4; l depends_on f)
/// ```
fn depends_on_a_kept_revision() -> Vec<Revision> {
    vec![
        rev("r"),
        rev("f").revises(&["r"]),
        rev("l")
            .revises(&["r"])
            .labels(&["lbl4"])
            .depends_on(&["f"]),
        rev("c").revises(&["f"]),
    ]
}

#[test]
fn downgrade_keeps_a_branch_that_only_depends_on_the_target() {
    let revisions = depends_on_a_kept_revision();
    let g = graph(&revisions);
    let all = ["r", "f", "l", "c"];
    // f stays applied, so l (which only depends on f) stays: Alembic's rule.
    assert_eq!(down(&g, &all, "f"), ok(&["c"]));
    assert_eq!(down(&g, &all, "c-1"), ok(&["c"]));
    assert_eq!(stamp(&g, &all, "f"), Ok((v(&[]), v(&["c"]))));
    // Once f itself goes, what depends on it goes too; below r, all of it.
    assert_eq!(down(&g, &all, "r"), ok(&["c", "l", "f"]));
    assert_eq!(down(&g, &all, "base"), ok(&["c", "l", "f", "r"]));
    assert_eq!(down(&g, &all, "f-1"), ok(&["c", "l", "f"]));
}

// ------------------------------------------------- relative steps (Alembic)

/// ```text
/// r ─ f ─ c
///  └─ l (lbl)     `l` sorts first by file name; `c` revises `f`
/// ```
fn two_branches() -> Vec<Revision> {
    vec![
        rev("r"),
        rev("a1").revises(&["r"]).labels(&["lbl"]),
        rev("f").revises(&["r"]),
        rev("c").revises(&["f"]),
    ]
}

#[test]
fn plus_one_moves_the_current_head_not_a_branch_that_sorts_first() {
    let revisions = two_branches();
    let g = graph(&revisions);
    // From f, the one current head, `+1` is f's child c, though the other
    // branch's pending a1 comes first in the topological order.
    assert_eq!(up(&g, &["r", "f"], "+1"), ok(&["c"]));
    assert_eq!(
        up(&g, &["r", "a1"], "+1"),
        Err(PlanError::OutOfRange {
            given: "+1".into(),
            requested: 1,
            available: 0,
        })
    );
    // From r, the way on forks.
    assert!(matches!(
        up(&g, &["r"], "+1"),
        Err(PlanError::AmbiguousStep { at, candidates, .. })
            if at == "r" && candidates == v(&["a1", "f"])
    ));
}

#[test]
fn relative_steps_from_several_heads_are_refused_naming_them() {
    let revisions = two_branches();
    let g = graph(&revisions);
    let applied = ["r", "a1", "f"];
    for (target, steps) in [("+1", 1), ("-1", -1)] {
        let err = if steps > 0 {
            up(&g, &applied, target)
        } else {
            down(&g, &applied, target)
        }
        .unwrap_err();
        assert_eq!(
            err,
            PlanError::AmbiguousRelative {
                given: target.into(),
                heads: v(&["a1", "f"]),
                steps,
                example: format!("lbl@{target}"),
            }
        );
        let text = err.to_string();
        assert!(text.contains("a1, f"), "{text}");
        assert!(text.contains(&format!("`<label>@{target}`")), "{text}");
    }
}

#[test]
fn branch_relative_steps_move_one_branch() {
    let revisions = two_branches();
    let g = graph(&revisions);
    assert_eq!(up(&g, &[], "lbl@+1"), ok(&["r"]));
    assert_eq!(up(&g, &["r"], "lbl@+1"), ok(&["a1"]));
    // f's branch is at r: one step along it is f itself.
    assert_eq!(up(&g, &["r", "a1"], "f@+1"), ok(&["f"]));
    assert_eq!(up(&g, &["r", "a1", "f"], "c@+1"), ok(&["c"]));
    assert_eq!(
        up(&g, &["r", "a1", "f"], "lbl@+1"),
        Err(PlanError::OutOfRange {
            given: "lbl@+1".into(),
            requested: 1,
            available: 0,
        })
    );
    let all = ["r", "a1", "f", "c"];
    assert_eq!(down(&g, &all, "lbl@-1"), ok(&["a1"]));
    assert_eq!(down(&g, &all, "c@-2"), ok(&["c", "f"]));
    // Walking a labelled branch down past the shared root reverts its
    // root: everything, as in Alembic.
    assert_eq!(down(&g, &all, "lbl@-2"), ok(&["c", "f", "a1", "r"]));
    // No current head is on lbl's branch (Alembic fails an assertion).
    assert!(matches!(
        down(&g, &["r", "f"], "lbl@-1"),
        Err(PlanError::NothingOnBranch { .. })
    ));
    assert_eq!(
        down(&g, &[], "lbl@-1"),
        Err(PlanError::NothingOnBranch {
            given: "lbl@-1".into(),
            branch: "lbl".into()
        })
    );
    assert!(matches!(
        up(&g, &[], "nolabel@+1"),
        Err(PlanError::UnknownBranch { label, .. }) if label == "nolabel"
    ));
}

/// Two roots: `x ─ y` and the labelled `l1 ─ l2`.
fn separate_trees() -> Vec<Revision> {
    vec![
        rev("l1").labels(&["other"]),
        rev("l2").revises(&["l1"]),
        rev("x"),
        rev("y").revises(&["x"]),
    ]
}

#[test]
fn branch_base_reverts_the_tree_of_the_branch() {
    let revisions = separate_trees();
    let g = graph(&revisions);
    let all = ["l1", "l2", "x", "y"];
    assert_eq!(down(&g, &all, "other@base"), ok(&["l2", "l1"]));
    assert_eq!(down(&g, &all, "y@base"), ok(&["y", "x"]));
    assert_eq!(up(&g, &[], "other@base"), ok(&[]));
    assert_eq!(
        stamp(&g, &all, "other@base"),
        Ok((v(&[]), v(&["l2", "l1"])))
    );
    // One root shared by every branch: `<label>@base` is base.
    let shared = two_branches();
    let g = graph(&shared);
    assert_eq!(
        down(&g, &["r", "a1", "f", "c"], "lbl@base"),
        ok(&["c", "f", "a1", "r"])
    );
}

#[test]
fn minus_one_from_a_root_of_one_tree_leaves_the_other_tree() {
    let revisions = separate_trees();
    let g = graph(&revisions);
    assert_eq!(down(&g, &["x"], "-1"), ok(&["x"]));
    assert_eq!(down(&g, &["x", "l1"], "other@-1"), ok(&["l1"]));
    assert!(matches!(
        up(&g, &[], "+1"),
        Err(PlanError::AmbiguousStep { at, .. }) if at == "base"
    ));
    assert_eq!(up(&g, &[], "other@+2"), ok(&["l1", "l2"]));
}
