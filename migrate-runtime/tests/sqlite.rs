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
    status_and_current,
    non_transactional_failure_leaves_marker,
    half_applied_resolved_as_told,
);
