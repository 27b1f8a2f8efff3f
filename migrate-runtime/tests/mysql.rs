//! The runner against MySQL or MariaDB: a fresh database per test on the
//! server of `TEST_MYSQL_URL` (skipped without it, failed under `CI=true`).
//!
//! `TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test -p migrate-runtime --all-features --test mysql`
#![cfg(feature = "mysql")]

mod support;

use sqlx::MySql;
use support::proxy::Protocol;

database_tests!(MySql, support::mysql;
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
    concurrent_runners_with_a_non_transactional_revision,
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

/// A no-op run sends one COM_QUERY, the history read, and no GET_LOCK.
#[tokio::test]
async fn noop_run_sends_one_statement() {
    let Some(db) = support::mysql().await else {
        return;
    };
    support::cases::noop_run_sends_one_statement(&db, Protocol::MySql, 3306, "ssl-mode=disabled")
        .await;
}
