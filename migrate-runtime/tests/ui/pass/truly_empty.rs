//! A directory with nothing in it at all (git keeps no empty directory, so
//! tests/compile.rs creates it before this case is built): a runner with
//! nothing to do, not an error.

fn main() {
    let runner = migrate_runtime::embed_migrations!("tests/fixtures/truly_empty");
    assert!(runner.revisions().is_empty());
}
