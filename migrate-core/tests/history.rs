//! `history -r A:B`: which revisions a range lists, by Alembic's rule
//! (checked against Alembic itself in migrate-cli/tests/alembic_differential.rs).

mod common;

use common::{chain, graph, rev, RevExt};
use migrate_core::history::{current_heads, history_nodes};
use migrate_core::{PlanError, Range, Revision, RevisionGraph};

fn listed(
    g: &RevisionGraph<'_>,
    range: &str,
    applied: Option<&[&str]>,
) -> Result<Vec<String>, PlanError> {
    let current = applied.map(|ids| current_heads(g, &g.set_of(ids.iter().copied()).0));
    let nodes = history_nodes(g, &Range::parse(range)?, range, current.as_deref())?;
    Ok(nodes
        .into_iter()
        .map(|n| g.revision(n).id.to_string())
        .collect())
}

fn v(items: &[&str]) -> Result<Vec<String>, PlanError> {
    Ok(items.iter().map(|s| s.to_string()).collect())
}

#[test]
fn a_range_includes_its_start() {
    let revisions = chain(&["a", "b", "c", "d"]);
    let g = graph(&revisions);
    assert_eq!(listed(&g, "b:c", None), v(&["c", "b"]));
    assert_eq!(listed(&g, "b:", None), v(&["d", "c", "b"]));
    assert_eq!(listed(&g, ":b", None), v(&["b", "a"]));
    assert_eq!(listed(&g, "base:b", None), v(&["b", "a"]));
    assert_eq!(listed(&g, ":base", None), v(&[]));
    assert_eq!(listed(&g, "d:", None), v(&["d"]));
    assert_eq!(listed(&g, "heads:", None), v(&["d"]));
    assert_eq!(listed(&g, "head:head", None), v(&["d"]));
    assert_eq!(listed(&g, "a:a+1", None), v(&["b", "a"]));
}

#[test]
fn an_end_of_plus_n_counts_from_the_start_and_stops_at_the_head() {
    let revisions = chain(&["a", "b", "c"]);
    let g = graph(&revisions);
    assert_eq!(listed(&g, ":+1", None), v(&["a"]));
    assert_eq!(listed(&g, "b:+1", None), v(&["c", "b"]));
    assert_eq!(listed(&g, "b:+5", None), v(&["c", "b"]));
}

#[test]
fn a_start_of_minus_n_counts_below_the_heads() {
    let revisions = chain(&["a", "b", "c"]);
    let g = graph(&revisions);
    assert_eq!(listed(&g, "-1:", None), v(&["c", "b"]));
    assert_eq!(listed(&g, "-2:", None), v(&["c", "b", "a"]));
    assert!(matches!(
        listed(&g, "-3:", None),
        Err(PlanError::OutOfRange { .. })
    ));
    assert!(matches!(
        listed(&g, "+1:", None),
        Err(PlanError::RangeSide { .. })
    ));
}

#[test]
fn a_start_above_the_end_is_not_a_range() {
    let revisions = chain(&["a", "b", "c"]);
    let g = graph(&revisions);
    let err = listed(&g, "c:b", None).unwrap_err();
    assert_eq!(
        err,
        PlanError::NotARange {
            given: "c:b".into(),
            start: "c".into(),
            end: "b".into()
        }
    );
    assert!(err.to_string().contains("`c` is not below `b`"), "{err}");
}

/// Two roots: `x ─ y` and the labelled `l1 ─ l2`; `l1` sorts first.
fn two_roots() -> Vec<Revision> {
    vec![
        rev("l1").labels(&["other"]),
        rev("l2").revises(&["l1"]),
        rev("x"),
        rev("y").revises(&["x"]),
    ]
}

#[test]
fn a_start_lists_only_what_grows_from_it() {
    let revisions = two_roots();
    let g = graph(&revisions);
    assert_eq!(listed(&g, "x:", None), v(&["y", "x"]));
    assert_eq!(listed(&g, "l1:", None), v(&["l2", "l1"]));
    assert_eq!(listed(&g, ":y", None), v(&["y", "x"]));
    assert_eq!(listed(&g, ":", None), v(&["y", "x", "l2", "l1"]));
}

#[test]
fn current_is_the_databases_heads() {
    let revisions = chain(&["a", "b", "c", "d"]);
    let g = graph(&revisions);
    assert_eq!(
        listed(&g, "current:", Some(&["a", "b"])),
        v(&["d", "c", "b"])
    );
    assert_eq!(listed(&g, "a:current", Some(&["a", "b"])), v(&["b", "a"]));
    assert_eq!(listed(&g, "-2:current", Some(&["a", "b"])), v(&["b"]));
    // At base, `current` as a start is base, and as an end every head
    // (as Alembic reads an empty current).
    assert_eq!(listed(&g, "current:", Some(&[])), v(&["d", "c", "b", "a"]));
    assert_eq!(listed(&g, "c:current", Some(&[])), v(&["d", "c"]));
}

/// `r ─ f ─ c`, and `l` revising `r` with `depends_on: f`.
#[test]
fn current_counts_a_revision_another_branch_depends_on_as_covered() {
    let revisions = vec![
        rev("r"),
        rev("f").revises(&["r"]),
        rev("l").revises(&["r"]).depends_on(&["f"]).labels(&["lbl"]),
        rev("c").revises(&["f"]),
    ];
    let g = graph(&revisions);
    // The database's heads are `l` alone (`f` is below it), so
    // `current:` lists l, not the pending c above f.
    assert_eq!(listed(&g, "current:", Some(&["r", "f", "l"])), v(&["l"]));
}
