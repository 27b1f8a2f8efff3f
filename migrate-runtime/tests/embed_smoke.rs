//! The repository's own migrations embed, as a `static` and as a `let`.

use migrate_runtime::{embed_migrations, Runner};

static RUNNER: Runner = embed_migrations!("../migrations");

#[test]
fn the_example_migrations_embed_in_file_order() {
    let ids: Vec<&str> = RUNNER.revisions().iter().map(|r| r.id.as_ref()).collect();
    assert_eq!(ids, ["1a2b3c4d5e6f", "3f2a9c1b7d4e", "8c7d6e5f4a3b"]);
    let local = embed_migrations!("../migrations");
    assert_eq!(local.revisions(), RUNNER.revisions());
    assert_eq!(RUNNER.revisions()[1].parents.as_ref(), ["1a2b3c4d5e6f"]);
    assert!(RUNNER.revisions()[2]
        .down_sql
        .as_deref()
        .unwrap()
        .contains("DROP TABLE products"));
}
