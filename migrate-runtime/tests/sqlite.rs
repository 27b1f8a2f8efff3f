//! The runner against SQLite: a fresh database file per test.
//!
//! `cargo test -p migrate-runtime --all-features --test sqlite`
#![cfg(feature = "sqlite")]

mod support;

use sqlx::Sqlite;

shared_database_tests!(Sqlite, support::sqlite);

/// Known limitation: SQLite's lock is its write transaction, which a
/// `transaction: false` revision has to end while its SQL runs. A runner
/// that takes the lock meanwhile finds the revision's pending row and
/// refuses with HalfApplied instead of waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "known limitation: concurrent runs fail while a transaction: false revision runs on SQLite"]
async fn concurrent_runners_with_a_non_transactional_revision() {
    let Some(db) = support::sqlite().await else {
        return;
    };
    support::cases::concurrent_runners_with_a_non_transactional_revision::<Sqlite>(&db).await;
}
