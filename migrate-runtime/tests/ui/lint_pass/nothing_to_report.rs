//! What the compile-time lint leaves alone, under `deny(warnings)`.
#![deny(warnings)]

use migrate_runtime::{embed_migrations, Runner};

/// No dialect named (and none in migrate.toml): no lint, although the
/// directory has a finding and an error.
static NOT_LINTED: Runner = embed_migrations!("tests/fixtures/lint_error");

/// `CREATE INDEX CONCURRENTLY` in a `transaction: false` revision: fine.
static NO_TRANSACTION: Runner = embed_migrations!("tests/fixtures/no_transaction", lint = "postgres");

fn main() {
    assert_eq!(NOT_LINTED.revisions().len(), 3);
    assert_eq!(NO_TRANSACTION.revisions().len(), 2);
}
