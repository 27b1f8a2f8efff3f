//! Alembic's target grammar and how names resolve against a graph.

mod common;

use common::{graph, rev, RevExt};
use migrate_core::target::{
    resolve_branch_head, resolve_head, resolve_point, resolve_revision, walk, Point,
};
use migrate_core::{plan_downgrade, plan_upgrade, PlanError, Range, Target};

fn t(text: &str) -> Target {
    Target::parse(text).unwrap_or_else(|e| panic!("`{text}` should parse: {e}"))
}

fn revision(id: &str) -> Target {
    Target::Revision(id.to_string())
}

#[test]
fn keywords() {
    assert_eq!(t("head"), Target::Head);
    assert_eq!(t("heads"), Target::Heads);
    assert_eq!(t("base"), Target::Base);
    assert_eq!(
        t("  head\n"),
        Target::Head,
        "surrounding whitespace is ignored"
    );
}

#[test]
fn ids_prefixes_and_labels() {
    assert_eq!(t("3f2a9c1b7d4e"), revision("3f2a9c1b7d4e"));
    assert_eq!(t("3f2a"), revision("3f2a"));
    assert_eq!(t("feature_x"), revision("feature_x"));
}

#[test]
fn relative_steps() {
    assert_eq!(t("+1"), Target::Relative(1));
    assert_eq!(t("+12"), Target::Relative(12));
    assert_eq!(t("-1"), Target::Relative(-1));
    assert_eq!(t("-3"), Target::Relative(-3));
}

#[test]
fn steps_from_a_revision_or_label() {
    assert_eq!(
        t("3f2a+2"),
        Target::FromRevision {
            revision: "3f2a".into(),
            steps: 2
        }
    );
    assert_eq!(
        t("3f2a-1"),
        Target::FromRevision {
            revision: "3f2a".into(),
            steps: -1
        }
    );
    assert_eq!(
        t("feature_x-2"),
        Target::FromRevision {
            revision: "feature_x".into(),
            steps: -2
        }
    );
}

#[test]
fn branch_heads() {
    assert_eq!(t("feature@head"), Target::BranchHead("feature".into()));
    assert_eq!(t("3f2a9c@head"), Target::BranchHead("3f2a9c".into()));
}

#[test]
fn branch_relative_steps_and_branch_bases() {
    assert_eq!(
        t("billing@+2"),
        Target::BranchRelative {
            branch: "billing".into(),
            steps: 2
        }
    );
    assert_eq!(
        t("billing@-1"),
        Target::BranchRelative {
            branch: "billing".into(),
            steps: -1
        }
    );
    assert_eq!(
        t("3f2a@+1"),
        Target::BranchRelative {
            branch: "3f2a".into(),
            steps: 1
        }
    );
    assert_eq!(t("billing@base"), Target::BranchBase("billing".into()));
    for bad in [
        "billing@+0",
        "billing@-0",
        "billing@+",
        "billing@1",
        "billing@+-1",
        "@+1",
        "a-b@+1",
    ] {
        assert!(
            matches!(Target::parse(bad), Err(PlanError::Syntax { .. })),
            "`{bad}` should be refused"
        );
    }
}

#[test]
fn bad_syntax_is_refused_with_the_grammar() {
    for bad in [
        "",
        "   ",
        "+0",
        "-0",
        "+",
        "-",
        "+x",
        "1.5",
        "+1.5",
        "a+",
        "a-",
        "@head",
        "a-b@head",
        "my-branch",
        "a@heads",
        "a b",
        "a:b",
        "head+1x",
        "+-1",
        "-+1",
        "++1",
        "--1",
        "a+-1",
        "a++1",
        "+ 1",
        "a+ 1",
        "_x",
        "x@y",
        "+99999999999999999999999",
    ] {
        match Target::parse(bad) {
            Err(PlanError::Syntax { given }) => assert_eq!(given, bad.trim()),
            other => panic!("`{bad}` should be a syntax error, got {other:?}"),
        }
    }
    let text = Target::parse("a b").unwrap_err().to_string();
    assert!(text.contains("`a b` is not a valid target"), "{text}");
    assert!(text.contains("`<label>@head`"), "{text}");
}

#[test]
fn display_round_trips() {
    for text in [
        "head", "heads", "base", "abc", "+2", "-1", "abc+2", "abc-3", "lbl@head", "lbl@+2",
        "lbl@-1", "lbl@base",
    ] {
        let target = t(text);
        assert_eq!(target.to_string(), text);
        assert_eq!(t(&target.to_string()), target);
        assert_eq!(text.parse::<Target>().unwrap(), target);
    }
}

#[test]
fn ranges() {
    assert_eq!(
        Range::parse("abc:head").unwrap(),
        Range {
            from: Some(revision("abc")),
            to: Some(Target::Head)
        }
    );
    assert_eq!(
        Range::parse("abc:").unwrap(),
        Range {
            from: Some(revision("abc")),
            to: None
        }
    );
    assert_eq!(
        Range::parse(":def").unwrap(),
        Range {
            from: None,
            to: Some(revision("def"))
        }
    );
    assert_eq!(
        Range::parse(":").unwrap(),
        Range {
            from: None,
            to: None
        }
    );
    assert_eq!(
        Range::parse("base:-1").unwrap(),
        Range {
            from: Some(Target::Base),
            to: Some(Target::Relative(-1))
        }
    );
    for bad in ["abc", "a:b:c", "a-b:c", "a:+x", ""] {
        assert!(
            matches!(Range::parse(bad), Err(PlanError::Syntax { .. })),
            "`{bad}` should be refused"
        );
    }
}

fn sample() -> Vec<migrate_core::Revision> {
    vec![
        rev("3f2a9c1b7d4e"),
        rev("3f2a0000aaaa").revises(&["3f2a9c1b7d4e"]),
        rev("3f2b11112222")
            .revises(&["3f2a0000aaaa"])
            .labels(&["billing"]),
        rev("a1b2c3d4e5f6").revises(&["3f2a0000aaaa"]),
        rev("a1b2ffffffff").revises(&["3f2b11112222"]),
    ]
}

#[test]
fn resolve_full_ids_unique_prefixes_and_labels() {
    let revisions = sample();
    let g = graph(&revisions);
    let node = |id: &str| g.node(id).unwrap();
    assert_eq!(
        resolve_revision(&g, "3f2a9c1b7d4e"),
        Ok(node("3f2a9c1b7d4e"))
    );
    assert_eq!(resolve_revision(&g, "3f2a9"), Ok(node("3f2a9c1b7d4e")));
    assert_eq!(resolve_revision(&g, "3f2b"), Ok(node("3f2b11112222")));
    assert_eq!(resolve_revision(&g, "a1b2c"), Ok(node("a1b2c3d4e5f6")));
    assert_eq!(resolve_revision(&g, "billing"), Ok(node("3f2b11112222")));
}

#[test]
fn an_ambiguous_prefix_lists_every_candidate() {
    let revisions = sample();
    let g = graph(&revisions);
    let err = resolve_revision(&g, "3f2a").unwrap_err();
    assert_eq!(
        err,
        PlanError::AmbiguousPrefix {
            given: "3f2a".into(),
            candidates: vec!["3f2a9c1b7d4e".into(), "3f2a0000aaaa".into()],
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("3f2a9c1b7d4e") && text.contains("3f2a0000aaaa"),
        "{text}"
    );
    assert!(text.contains("give more characters"), "{text}");
    assert!(matches!(
        resolve_revision(&g, "a1b2"),
        Err(PlanError::AmbiguousPrefix { candidates, .. }) if candidates.len() == 2
    ));
}

#[test]
fn an_unknown_revision_lists_close_matches() {
    let revisions = sample();
    let g = graph(&revisions);
    let err = resolve_revision(&g, "3f2a9c1b7d4f").unwrap_err();
    match &err {
        PlanError::UnknownRevision { given, candidates } => {
            assert_eq!(given, "3f2a9c1b7d4f");
            assert_eq!(candidates.first().map(String::as_str), Some("3f2a9c1b7d4e"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("did you mean `3f2a9c1b7d4e`"));
    assert_eq!(
        resolve_revision(&g, "zzzz"),
        Err(PlanError::UnknownRevision {
            given: "zzzz".into(),
            candidates: vec![]
        })
    );
}

#[test]
fn branch_heads_resolve_through_labels_and_ids() {
    let revisions = sample();
    let g = graph(&revisions);
    let node = |id: &str| g.node(id).unwrap();
    assert_eq!(resolve_branch_head(&g, "billing"), Ok(node("a1b2ffffffff")));
    assert_eq!(
        resolve_branch_head(&g, "3f2b11112222"),
        Ok(node("a1b2ffffffff"))
    );
    assert_eq!(
        resolve_branch_head(&g, "a1b2c3d4e5f6"),
        Ok(node("a1b2c3d4e5f6"))
    );
    // Below the branch point, the branch has two heads.
    assert!(matches!(
        resolve_branch_head(&g, "3f2a9c1b7d4e"),
        Err(PlanError::MultipleHeads { heads, .. }) if heads.len() == 2
    ));
    let err = resolve_branch_head(&g, "biling").unwrap_err();
    assert_eq!(
        err,
        PlanError::UnknownBranch {
            label: "biling".into(),
            known: vec!["billing".into()]
        }
    );
    assert!(err.to_string().contains("the labels are `billing`"));
}

#[test]
fn head_is_the_one_head_or_an_error_naming_them() {
    let revisions = sample();
    let g = graph(&revisions);
    let err = resolve_head(&g).unwrap_err();
    assert_eq!(
        err,
        PlanError::MultipleHeads {
            given: "head".into(),
            heads: vec!["a1b2c3d4e5f6".into(), "a1b2ffffffff".into()]
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("2 heads") && text.contains("migrate merge"),
        "{text}"
    );

    let linear = common::chain(&["a", "b"]);
    let g = graph(&linear);
    assert_eq!(resolve_head(&g), Ok(Some(1)));
    let none = Vec::new();
    assert_eq!(resolve_head(&graph(&none)), Ok(None));
}

#[test]
fn walking_along_revises() {
    let revisions = sample();
    let g = graph(&revisions);
    let node = |id: &str| g.node(id).unwrap();
    let root = node("3f2a9c1b7d4e");
    assert_eq!(walk(&g, "x", root, 1), Ok(Some(node("3f2a0000aaaa"))));
    assert_eq!(
        walk(&g, "x", node("a1b2ffffffff"), -2),
        Ok(Some(node("3f2a0000aaaa")))
    );
    assert_eq!(
        walk(&g, "x", node("3f2a0000aaaa"), -2),
        Ok(None),
        "one past the root is base"
    );
    assert_eq!(walk(&g, "x", root, 0), Ok(Some(root)));
    assert_eq!(
        walk(&g, "3f2a9-3", root, -3),
        Err(PlanError::OutOfRange {
            given: "3f2a9-3".into(),
            requested: 3,
            available: 1
        })
    );
    assert_eq!(
        walk(&g, "billing+3", node("3f2b11112222"), 3),
        Err(PlanError::OutOfRange {
            given: "billing+3".into(),
            requested: 3,
            available: 1
        })
    );
    let err = walk(&g, "3f2a9+2", root, 2).unwrap_err();
    assert_eq!(
        err,
        PlanError::AmbiguousStep {
            given: "3f2a9+2".into(),
            at: "3f2a0000aaaa".into(),
            direction: "children",
            candidates: vec!["3f2b11112222".into(), "a1b2c3d4e5f6".into()],
        }
    );
    assert!(err.to_string().contains("name the revision instead"));
}

#[test]
fn targets_that_name_one_point_resolve_as_planning_does() {
    // a ─ b ─ c   (main line)
    // s1 ─ s2     (s1 labelled `side`: an independent root)
    let revisions = vec![
        rev("a"),
        rev("b").revises(&["a"]),
        rev("c").revises(&["b"]),
        rev("s1").labels(&["side"]),
        rev("s2").revises(&["s1"]),
    ];
    let g = graph(&revisions);
    let node = |id: &str| g.node(id).unwrap();
    let point = |text: &str| resolve_point(&g, &t(text));
    assert_eq!(point("base"), Ok(Some(Point::Base)));
    assert_eq!(point("c"), Ok(Some(Point::Revision(node("c")))));
    assert_eq!(point("side"), Ok(Some(Point::Revision(node("s1")))));
    assert_eq!(point("side@head"), Ok(Some(Point::Revision(node("s2")))));
    assert_eq!(point("a+2"), Ok(Some(Point::Revision(node("c")))));
    assert_eq!(point("c-1"), Ok(Some(Point::Revision(node("b")))));
    // One step past a root is "before that root", not `base`: planning
    // takes only that root's branch down.
    assert_eq!(point("c-3"), Ok(Some(Point::BeforeRoot(node("a")))));
    assert_eq!(point("s2-2"), Ok(Some(Point::BeforeRoot(node("s1")))));
    assert_eq!(point("s2-2").unwrap().unwrap().node(), None);
    assert!(matches!(point("c-4"), Err(PlanError::OutOfRange { .. })));
    assert!(matches!(
        point("head"),
        Err(PlanError::MultipleHeads { .. })
    ));
    assert!(matches!(
        point("zz"),
        Err(PlanError::UnknownRevision { .. })
    ));
    // Sets, or points that depend on a database's state.
    assert_eq!(point("heads"), Ok(None));
    assert_eq!(point("+1"), Ok(None));
    assert_eq!(point("-1"), Ok(None));

    // The same points as the plans reach: upgrading from nothing applies
    // the point and what it requires; downgrading from everything leaves
    // exactly that.
    let everything = g.set_of(["a", "b", "c", "s1", "s2"]).0;
    for text in [
        "base",
        "c",
        "side",
        "side@head",
        "a+2",
        "c-1",
        "c-3",
        "s2-2",
    ] {
        let target = t(text);
        let wanted: Vec<usize> = match point(text).unwrap().unwrap() {
            Point::Revision(n) => g.nodes_in(&g.ancestors_inclusive(&[n])),
            Point::Base | Point::BeforeRoot(_) => Vec::new(),
        };
        let up = plan_upgrade(&g, &g.empty_set(), &target).unwrap();
        let up: Vec<usize> = up.steps.iter().map(|r| g.node(&r.id).unwrap()).collect();
        assert_eq!(up, wanted, "upgrade to `{text}`");

        let down = plan_downgrade(&g, &everything, &target).unwrap();
        let mut left = everything.clone();
        for r in &down.steps {
            left.remove(g.node(&r.id).unwrap());
        }
        let expected: Vec<usize> = match point(text).unwrap().unwrap() {
            Point::Base => Vec::new(),
            Point::BeforeRoot(root) => {
                let gone = g.descendants_inclusive(&[root]);
                g.nodes_in(&everything)
                    .into_iter()
                    .filter(|&n| !gone.contains(n))
                    .collect()
            }
            Point::Revision(n) => {
                let below = g.descendants_inclusive(&[n]);
                let keep = g.ancestors_inclusive(&[n]);
                g.nodes_in(&everything)
                    .into_iter()
                    .filter(|&m| keep.contains(m) || !below.contains(m))
                    .collect()
            }
        };
        assert_eq!(g.nodes_in(&left), expected, "downgrade to `{text}`");
    }
}

#[test]
fn an_ambiguous_label_head_names_the_label_not_head() {
    // trunk <- a (label `app`) <- b, a <- c: `app@head` leads to b and c.
    let revisions = vec![
        rev("trunk"),
        rev("a").revises(&["trunk"]).labels(&["app"]),
        rev("b").revises(&["a"]).labels(&["left"]),
        rev("c").revises(&["a"]).labels(&["right"]),
    ];
    let g = graph(&revisions);
    let err = migrate_core::target::resolve_branch_head(&g, "app").unwrap_err();
    assert!(
        matches!(&err, PlanError::MultipleHeads { given, heads } if given == "app@head" && heads.len() == 2),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("`app@head` is ambiguous"),
        "{err}"
    );
}
