//! Graph validation: every rule `embed_migrations!` and `migrate check`
//! enforce between files, and the order revisions are applied in.

mod common;

use common::{chain, graph, graph_errors, rev, RevExt};
use migrate_core::{LoadError, RevisionGraph, RevisionRef};

fn r(id: &str) -> RevisionRef {
    RevisionRef {
        id: id.to_string(),
        file: format!("migrations/{id}_test.sql"),
    }
}

fn order(graph: &RevisionGraph<'_>) -> Vec<String> {
    graph.topological().map(|r| r.id.to_string()).collect()
}

#[test]
fn an_empty_directory_is_a_valid_graph() {
    let revisions = Vec::new();
    let g = graph(&revisions);
    assert!(g.heads().is_empty());
    assert!(g.root_nodes().is_empty());
}

#[test]
fn a_linear_chain_validates_in_order() {
    let revisions = chain(&["c", "a", "b"]);
    let g = graph(&revisions);
    assert_eq!(order(&g), ["c", "a", "b"]);
    assert_eq!(g.heads().len(), 1);
    assert_eq!(g.heads()[0].id, "b");
    assert_eq!(g.root_nodes(), [0]);
}

#[test]
fn duplicate_revision_ids_name_both_files() {
    let mut second = rev("aaa").revises(&["bbb"]);
    second.file = "migrations/aaa_other.sql".into();
    let revisions = vec![rev("aaa"), rev("bbb").revises(&["aaa"]), second];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::DuplicateRevision {
            id: "aaa".into(),
            first: "migrations/aaa_test.sql".into(),
            second: "migrations/aaa_other.sql".into(),
        }]
    );
    let text = errors[0].to_string();
    assert!(text.contains("migrations/aaa_test.sql") && text.contains("migrations/aaa_other.sql"));
    assert_eq!(errors[0].file(), Some("migrations/aaa_other.sql"));
}

#[test]
fn an_unknown_parent_lists_close_ids() {
    let revisions = vec![
        rev("3f2a9c1b7d4e"),
        rev("a1b2c3d4e5f6").revises(&["3f2a9c1b7d4f"]),
        rev("ffff00001111").revises(&["0000deadbeef"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [
            LoadError::UnknownParent {
                file: "migrations/a1b2c3d4e5f6_test.sql".into(),
                missing: "3f2a9c1b7d4f".into(),
                candidates: vec!["3f2a9c1b7d4e".into()],
            },
            LoadError::UnknownParent {
                file: "migrations/ffff00001111_test.sql".into(),
                missing: "0000deadbeef".into(),
                candidates: vec![],
            },
        ]
    );
    assert!(errors[0]
        .to_string()
        .contains("`revises: 3f2a9c1b7d4f` names a revision that does not exist (did you mean `3f2a9c1b7d4e`?)"));
    assert!(!errors[1].to_string().contains("did you mean"));
}

#[test]
fn an_unknown_dependency_lists_close_ids() {
    let revisions = vec![
        rev("abcdef"),
        rev("bcdefa").revises(&["abcdef"]).depends_on(&["abcdeg"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::UnknownDependency {
            file: "migrations/bcdefa_test.sql".into(),
            missing: "abcdeg".into(),
            candidates: vec!["abcdef".into()],
        }]
    );
    assert!(errors[0].to_string().contains("`depends_on: abcdeg`"));
}

#[test]
fn a_branch_label_names_one_revision() {
    let revisions = vec![
        rev("a").labels(&["main"]),
        rev("b").revises(&["a"]).labels(&["other", "main"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::DuplicateBranchLabel {
            label: "main".into(),
            first: r("a"),
            second: r("b"),
        }]
    );
    assert!(errors[0]
        .to_string()
        .contains("branch label `main` is used by both `a`"));
}

#[test]
fn a_cycle_is_reported_with_its_members_in_order() {
    // root <- x <- y <- z <- x: z requires x requires ... y requires x.
    let revisions = vec![
        rev("root"),
        rev("x").revises(&["z"]),
        rev("y").revises(&["x"]),
        rev("z").revises(&["y"]),
        rev("w").revises(&["root"]),
    ];
    let errors = graph_errors(&revisions);
    match errors.as_slice() {
        [LoadError::Cycle { cycle }] => {
            let ids: Vec<&str> = cycle.iter().map(|r| r.id.as_str()).collect();
            // Each requires the next, and the cycle closes.
            assert_eq!(ids, ["x", "z", "y"]);
        }
        other => panic!("{other:#?}"),
    }
    let text = errors[0].to_string();
    assert!(
        text.contains("`x` (migrations/x_test.sql) -> `z` (migrations/z_test.sql) -> `y` (migrations/y_test.sql) -> `x`"),
        "{text}"
    );
}

#[test]
fn a_cycle_through_depends_on_and_a_self_cycle() {
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]).depends_on(&["c"]),
        rev("c").revises(&["b"]),
    ];
    match graph_errors(&revisions).as_slice() {
        [LoadError::Cycle { cycle }] => {
            let ids: Vec<&str> = cycle.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids, ["b", "c"]);
        }
        other => panic!("{other:#?}"),
    }

    let revisions = vec![rev("a"), rev("b").revises(&["b"])];
    match graph_errors(&revisions).as_slice() {
        [LoadError::Cycle { cycle }] => assert_eq!(cycle, &[r("b")]),
        other => panic!("{other:#?}"),
    }
}

#[test]
fn a_node_behind_a_cycle_is_not_reported_as_on_it() {
    // t requires the cycle {p, q} but is not on it.
    let revisions = vec![
        rev("t").revises(&["p"]),
        rev("p").revises(&["q"]),
        rev("q").revises(&["p"]),
        rev("root"),
    ];
    match graph_errors(&revisions).as_slice() {
        [LoadError::Cycle { cycle }] => {
            let ids: Vec<&str> = cycle.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids, ["p", "q"]);
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn two_unlabelled_roots_are_an_error() {
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("c"),
        rev("d").revises(&["c", "b"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::MultipleRoots {
            roots: vec![r("a"), r("c")]
        }]
    );
    assert!(errors[0].to_string().contains("branch_labels:"));
}

#[test]
fn a_second_root_with_a_branch_label_is_an_independent_branch() {
    // The label may be on the root or anywhere on its straight run.
    for labelled in ["x", "y"] {
        let revisions = vec![
            rev("a"),
            rev("b").revises(&["a"]),
            if labelled == "x" {
                rev("x").labels(&["audit"])
            } else {
                rev("x")
            },
            if labelled == "y" {
                rev("y").revises(&["x"]).labels(&["audit"])
            } else {
                rev("y").revises(&["x"])
            },
        ];
        let g = graph(&revisions);
        assert_eq!(g.root_nodes().len(), 2);
        assert_eq!(g.heads().len(), 2);
    }
}

#[test]
fn a_label_past_a_merge_does_not_make_a_root_intentional() {
    // x's straight run ends at the merge m; the label on m is not x's.
    let revisions = vec![
        rev("a"),
        rev("x"),
        rev("m").revises(&["a", "x"]).labels(&["main"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::MultipleRoots {
            roots: vec![r("a"), r("x")]
        }]
    );
}

#[test]
fn two_unlabelled_heads_say_how_to_merge() {
    let revisions = vec![
        rev("aaa"),
        rev("bbb").revises(&["aaa"]),
        rev("ccc").revises(&["aaa"]),
        rev("ddd").revises(&["ccc"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::MultipleHeads {
            heads: vec![r("bbb"), r("ddd")]
        }]
    );
    let text = errors[0].to_string();
    assert!(
        text.contains("run `migrate merge bbb ddd -m \"merge heads\"`"),
        "{text}"
    );
    assert!(text.contains("`bbb` (migrations/bbb_test.sql)"), "{text}");
}

#[test]
fn labelled_branches_may_have_several_heads() {
    let revisions = vec![
        rev("aaa"),
        rev("bbb").revises(&["aaa"]),
        rev("ccc").revises(&["aaa"]).labels(&["feature"]),
        rev("ddd").revises(&["ccc"]),
    ];
    let g = graph(&revisions);
    let heads: Vec<&str> = g.heads().iter().map(|r| r.id.as_ref()).collect();
    assert_eq!(heads, ["bbb", "ddd"]);
    assert_eq!(g.branch_point_nodes(), [0]);
}

#[test]
fn a_label_on_the_shared_trunk_does_not_excuse_two_heads() {
    // The label is below the branch point: it does not mark either branch.
    let revisions = vec![
        rev("aaa").labels(&["main"]),
        rev("bbb").revises(&["aaa"]),
        rev("ccc").revises(&["aaa"]),
    ];
    let errors = graph_errors(&revisions);
    assert!(matches!(errors.as_slice(), [LoadError::MultipleHeads { heads }] if heads.len() == 2));
}

#[test]
fn three_heads_with_one_labelled_still_reports_the_other_two() {
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("c").revises(&["a"]).labels(&["lbl"]),
        rev("d").revises(&["a"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::MultipleHeads {
            heads: vec![r("b"), r("d")]
        }]
    );
}

#[test]
fn a_merge_joins_two_heads() {
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("c").revises(&["a"]),
        rev("m").revises(&["b", "c"]),
        rev("n").revises(&["m"]),
    ];
    let g = graph(&revisions);
    assert_eq!(g.heads().len(), 1);
    assert_eq!(g.heads()[0].id, "n");
    let m = g.node("m").unwrap();
    assert_eq!(g.parent_nodes(m).len(), 2);
    assert_eq!(order(&g), ["a", "b", "c", "m", "n"]);
}

#[test]
fn depends_on_orders_without_making_a_parent() {
    // Two labelled branches; b2 needs a2 applied first.
    let revisions = vec![
        rev("b1").labels(&["billing"]),
        rev("b2").revises(&["b1"]).depends_on(&["a2"]),
        rev("a1").labels(&["accounts"]),
        rev("a2").revises(&["a1"]),
    ];
    let g = graph(&revisions);
    assert_eq!(order(&g), ["b1", "a1", "a2", "b2"]);
    let a2 = g.node("a2").unwrap();
    assert!(
        g.child_nodes(a2).is_empty(),
        "depends_on is not a child edge"
    );
    assert_eq!(g.heads().len(), 2);
    // Requirements include the dependency.
    let b2 = g.node("b2").unwrap();
    let needed = g.ancestors_inclusive(&[b2]);
    assert!(needed.contains(a2) && needed.contains(g.node("a1").unwrap()));
}

#[test]
fn depends_on_a_parent_is_not_counted_twice() {
    let revisions = vec![rev("a"), rev("b").revises(&["a"]).depends_on(&["a"])];
    let g = graph(&revisions);
    assert_eq!(order(&g), ["a", "b"]);
}

#[test]
fn topological_order_breaks_ties_by_file_order_and_is_stable() {
    // A diamond plus an independent labelled branch, given in an order
    // that is not topological.
    let revisions = vec![
        rev("m").revises(&["c", "b"]),
        rev("z").labels(&["side"]),
        rev("c").revises(&["a"]),
        rev("b").revises(&["a"]),
        rev("a"),
    ];
    let first = order(&graph(&revisions));
    assert_eq!(first, ["z", "a", "c", "b", "m"]);
    for _ in 0..10 {
        assert_eq!(order(&graph(&revisions)), first);
    }
    let g = graph(&revisions);
    for (place, &node) in g.topological_nodes().iter().enumerate() {
        assert_eq!(g.position(node), place);
    }
}

#[test]
fn all_independent_errors_are_reported_together() {
    let mut duplicate = rev("a");
    duplicate.file = "migrations/a_again.sql".into();
    let revisions = vec![
        rev("a").labels(&["x"]),
        duplicate,
        rev("b").revises(&["nope"]),
        rev("c")
            .revises(&["a"])
            .depends_on(&["gone"])
            .labels(&["x"]),
    ];
    let errors = graph_errors(&revisions);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(matches!(errors[0], LoadError::DuplicateRevision { .. }));
    assert!(matches!(errors[1], LoadError::UnknownParent { .. }));
    assert!(matches!(errors[2], LoadError::UnknownDependency { .. }));
    assert!(matches!(errors[3], LoadError::DuplicateBranchLabel { .. }));
}

#[test]
fn two_roots_are_reported_without_the_two_heads_they_cause() {
    // Two unrelated files make two heads too, but "added on top of the same
    // revision, run migrate merge" would send the user the wrong way.
    let revisions = vec![rev("a"), rev("b")];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::MultipleRoots {
            roots: vec![r("a"), r("b")]
        }]
    );
}

#[test]
fn sets_heads_and_requirement_checks() {
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("c").revises(&["a"]).labels(&["side"]),
        rev("d").revises(&["b"]).depends_on(&["c"]),
    ];
    let g = graph(&revisions);
    let (applied, unknown) = g.set_of(["a", "b", "zzz"]);
    assert_eq!(unknown, ["zzz"]);
    assert_eq!(applied.len(), 2);
    assert_eq!(g.heads_of(&applied), [g.node("b").unwrap()]);
    assert!(g.missing_requirements(&applied).is_empty());

    let (broken, _) = g.set_of(["a", "d"]);
    let missing: Vec<(usize, usize)> = g.missing_requirements(&broken);
    let d = g.node("d").unwrap();
    assert_eq!(
        missing,
        [(d, g.node("b").unwrap()), (d, g.node("c").unwrap())]
    );
    assert!(g.empty_set().is_empty());
}

#[test]
fn ids_that_differ_only_in_case_are_duplicates_naming_both_files() {
    let revisions = vec![rev("a1"), rev("A1").revises(&["a1"])];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::DuplicateRevisionIgnoringCase {
            first_id: "a1".into(),
            first: "migrations/a1_test.sql".into(),
            second_id: "A1".into(),
            second: "migrations/A1_test.sql".into(),
        }]
    );
    let text = errors[0].to_string();
    assert!(text.contains("differ only in letter case"), "{text}");
}

#[test]
fn a_branch_label_equal_to_another_revisions_id_is_refused() {
    let revisions = vec![rev("aaa"), rev("bbb").revises(&["aaa"]).labels(&["aaa"])];
    let errors = graph_errors(&revisions);
    assert_eq!(
        errors,
        [LoadError::LabelIsRevisionId {
            label: "aaa".into(),
            labelled: r("bbb"),
            revision: r("aaa"),
        }]
    );
    assert!(errors[0].to_string().contains("rename the label"));
    // Its own id is no ambiguity.
    let own = vec![rev("aaa"), rev("bbb").revises(&["aaa"]).labels(&["bbb"])];
    graph(&own);
}
