//! The runner against SQLite: a fresh database file per test.
//!
//! `cargo test -p migrate-runtime --all-features --test sqlite`
#![cfg(feature = "sqlite")]

mod support;

use sqlx::Sqlite;

database_tests!(Sqlite, support::sqlite;
    upgrade_and_downgrade_targets,
    history_row_columns,
    stamp_records_without_running,
    merge_graph_up_and_down,
    branch_labels_up_and_down,
    checksum_drift_refused_before_any_sql,
    unknown_revision_refused,
    failing_revision_in_chain,
    failing_revision_single_transaction,
    single_transaction_failure_after_a_commit,
    irreversible_downgrade_refused,
    concurrent_runners_apply_each_revision_once,
    single_connection_pool,
    lock_released_after_errors,
    lock_timeout_while_a_run_is_in_progress,
    status_and_current,
    non_transactional_failure_leaves_marker,
    half_applied_resolved_as_told,
    stamp_purge_forgets_unknown_rows,
    stamp_repairs_a_history_with_gaps,
    failing_downgrade_says_which_way_it_was_going,
);

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
