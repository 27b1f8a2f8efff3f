//! What `embed_migrations!` accepts and refuses, checked by compiling small
//! crates with trybuild: one compile-fail case per error class under
//! `tests/ui/fail` (the expected compiler output, which is the user's error
//! message, sits beside each case in a `.stderr` file), and the pass cases
//! that need a crate of their own under `tests/ui/pass`. The compile-time
//! lint's cases run with the `lint` feature (`--features lint`, which
//! trybuild passes on to the cases) under `tests/ui/lint` and
//! `tests/ui/lint_pass`, and without it under `tests/ui/no_lint_feature`.
//!
//! Regenerate the `.stderr` files after changing a message with
//! `TRYBUILD=overwrite cargo test -p migrate-runtime --test compile` (and
//! again with `--features lint`), then
//! read them: they are user interface.

use std::path::Path;

#[test]
fn embed_migrations_accepts_and_refuses() {
    let manifest_dir = env!("CARGO_MANIFEST_DIR");
    // trybuild compiles the cases in a crate of its own under
    // target/tests/trybuild, so CARGO_MANIFEST_DIR is not this crate's
    // directory there; the macro resolves `tests/fixtures/...` from this
    // override instead. The test process's environment is inherited by the
    // cargo and rustc that trybuild starts.
    std::env::set_var("MIGRATE_MANIFEST_DIR_OVERRIDE", manifest_dir);
    // Git does not keep empty directories, so the truly empty one is made here.
    std::fs::create_dir_all(Path::new(manifest_dir).join("tests/fixtures/truly_empty"))
        .expect("create tests/fixtures/truly_empty");

    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
    if cfg!(feature = "lint") {
        cases.compile_fail("tests/ui/lint/*.rs");
        cases.pass("tests/ui/lint_pass/*.rs");
    } else {
        cases.compile_fail("tests/ui/no_lint_feature/*.rs");
    }
}
