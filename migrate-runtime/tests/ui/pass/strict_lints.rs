//! A user crate with strict lints: the expansion of `embed_migrations!`
//! (its `static REVISIONS`, its `const _` file trackers) must trip none of
//! them, in a `static`, a `const` and a `let`.
#![deny(
    warnings,
    unused,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unsafe_code,
    unused_qualifications,
    unused_results,
    unused_import_braces,
    unused_lifetimes,
    unreachable_pub,
    trivial_casts,
    trivial_numeric_casts,
    single_use_lifetimes,
    elided_lifetimes_in_paths,
    let_underscore_drop,
    non_ascii_idents,
    redundant_lifetimes,
    unit_bindings,
    variant_size_differences
)]

use migrate_runtime::{embed_migrations, Runner};

/// The form the documentation recommends.
static STATIC_RUNNER: Runner = embed_migrations!("tests/fixtures/linear");

/// A `const` works too (the expansion is a constant expression).
const CONST_RUNNER: Runner = embed_migrations!("tests/fixtures/branch_merge");

mod nested {
    /// In a module, twice in one scope: each expansion is its own block.
    pub(crate) static FIRST: migrate_runtime::Runner =
        migrate_runtime::embed_migrations!("tests/fixtures/no_transaction");
    /// The second one.
    pub(crate) static SECOND: migrate_runtime::Runner =
        migrate_runtime::embed_migrations!("tests/fixtures/readme_only");
}

fn main() {
    let local = embed_migrations!("tests/fixtures/branch_labels");
    assert_eq!(STATIC_RUNNER.revisions().len(), 3);
    assert_eq!(CONST_RUNNER.revisions().len(), 4);
    assert_eq!(nested::FIRST.revisions().len(), 2);
    assert!(nested::SECOND.revisions().is_empty());
    assert_eq!(local.revisions().len(), 3);
}
