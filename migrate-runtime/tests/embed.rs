//! What `embed_migrations!` puts in the binary, checked field by field
//! against the fixture directories under `tests/fixtures/`: ids, parents,
//! SQL, flags, and checksums equal to `migrate_core::checksum::checksum` of
//! the file's bytes as they are on disk.
//!
//! The refusals are in `tests/compile.rs` (trybuild), which also covers a
//! truly empty directory and a crate with strict lints.

use std::path::Path;

use migrate_runtime::{embed_migrations, Revision, Runner};

static LINEAR: Runner = embed_migrations!("tests/fixtures/linear");

/// The bytes of a fixture file, read at run time (not through the macro),
/// so the checksum comparison is independent of the expansion.
fn fixture_bytes(file: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

fn ids(revisions: &[Revision]) -> Vec<&str> {
    revisions.iter().map(|r| r.id.as_ref()).collect()
}

fn list(items: &[migrate_core::Text]) -> Vec<&str> {
    items.iter().map(|item| item.as_ref()).collect()
}

/// Every embedded checksum is the checksum of the file it names.
fn assert_checksums_match_files(revisions: &[Revision]) {
    for revision in revisions {
        let bytes = fixture_bytes(&revision.file);
        assert_eq!(
            revision.checksum,
            migrate_core::checksum::checksum(&bytes),
            "checksum of {}",
            revision.file
        );
    }
}

#[test]
fn a_linear_chain_embeds_in_file_order_with_its_sql() {
    let revisions = LINEAR.revisions();
    assert_eq!(
        ids(revisions),
        ["a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"]
    );
    assert!(list(&revisions[0].parents).is_empty());
    assert_eq!(list(&revisions[1].parents), ["a1a1a1a1a1a1"]);
    assert_eq!(list(&revisions[2].parents), ["b2b2b2b2b2b2"]);

    let first = &revisions[0];
    assert_eq!(first.message, "create users");
    assert_eq!(first.created.as_deref(), Some("2026-11-24 10:00:00"));
    assert_eq!(
        first.up_sql,
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL\n);"
    );
    assert_eq!(first.down_sql.as_deref(), Some("DROP TABLE users;"));
    assert_eq!(
        first.file,
        "tests/fixtures/linear/a1a1a1a1a1a1_create_users.sql"
    );
    assert!(first.transactional);
    assert!(first.depends_on.is_empty() && first.branch_labels.is_empty());

    // No down section: embedded as irreversible, not as an empty downgrade.
    assert_eq!(revisions[2].down_sql, None);
    assert!(!revisions[2].is_reversible());
    assert_checksums_match_files(revisions);
}

#[test]
fn a_readme_beside_the_migrations_is_ignored() {
    assert!(LINEAR.revisions().iter().all(|r| r.file.ends_with(".sql")));
    let only_readme = embed_migrations!("tests/fixtures/readme_only");
    assert!(only_readme.revisions().is_empty());
}

#[test]
fn let_static_and_const_runners_hold_the_same_table() {
    const CONST_RUNNER: Runner = embed_migrations!("tests/fixtures/linear");
    let local = embed_migrations!("tests/fixtures/linear");
    assert_eq!(local.revisions(), LINEAR.revisions());
    assert_eq!(CONST_RUNNER.revisions(), LINEAR.revisions());
}

#[test]
fn a_branch_and_its_merge_embed_with_both_parents() {
    let runner = embed_migrations!("tests/fixtures/branch_merge");
    let revisions = runner.revisions();
    assert_eq!(
        ids(revisions),
        [
            "100000000000",
            "200000000000",
            "300000000000",
            "400000000000"
        ]
    );
    assert_eq!(list(&revisions[1].parents), ["100000000000"]);
    assert_eq!(list(&revisions[2].parents), ["100000000000"]);
    assert_eq!(
        list(&revisions[3].parents),
        ["200000000000", "300000000000"]
    );
    // A merge usually has no SQL of its own: an empty section is kept as
    // empty SQL, and an empty down section still makes it reversible.
    assert_eq!(revisions[3].up_sql, "");
    assert_eq!(revisions[3].down_sql.as_deref(), Some(""));
    assert_checksums_match_files(revisions);
}

#[test]
fn labelled_branches_may_both_be_heads() {
    let runner = embed_migrations!("tests/fixtures/branch_labels");
    let revisions = runner.revisions();
    assert_eq!(
        ids(revisions),
        ["aaaa00000000", "bbbb00000000", "cccc00000000"]
    );
    assert!(revisions[0].branch_labels.is_empty());
    assert_eq!(list(&revisions[1].branch_labels), ["billing"]);
    assert_eq!(list(&revisions[2].branch_labels), ["search", "fts"]);
    assert_eq!(list(&revisions[2].parents), ["aaaa00000000"]);
    assert_checksums_match_files(revisions);
}

#[test]
fn transaction_false_is_embedded() {
    let runner = embed_migrations!("tests/fixtures/no_transaction");
    let [table, index] = runner.revisions() else {
        panic!("expected two revisions");
    };
    assert!(table.transactional);
    assert!(!index.transactional);
    assert_eq!(
        index.up_sql,
        "CREATE INDEX CONCURRENTLY users_email ON users (email);"
    );
    assert_checksums_match_files(runner.revisions());
}

#[test]
fn a_crlf_file_embeds_lf_sql_and_the_lf_checksum() {
    let runner = embed_migrations!("tests/fixtures/crlf");
    let [revision] = runner.revisions() else {
        panic!("expected one revision");
    };
    let bytes = fixture_bytes(&revision.file);
    // Guard against git having normalised the fixture (see .gitattributes).
    assert!(
        bytes.windows(2).any(|pair| pair == b"\r\n"),
        "{} lost its CRLF line endings",
        revision.file
    );
    assert_eq!(revision.up_sql, "CREATE TABLE t (id INTEGER);");
    assert_eq!(revision.down_sql.as_deref(), Some("DROP TABLE t;"));
    assert_eq!(revision.message, "written on Windows");
    let lf: Vec<u8> = String::from_utf8(bytes)
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    assert_eq!(revision.checksum, migrate_core::checksum::checksum(&lf));
}
