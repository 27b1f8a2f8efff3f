//! The runner against MySQL or MariaDB: a fresh database per test on the
//! server of `TEST_MYSQL_URL` (skipped without it, failed under `CI=true`).
//!
//! `TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test -p migrate-runtime --all-features --test mysql`
#![cfg(feature = "mysql")]

mod support;

use sqlx::MySql;
use support::proxy::Protocol;

shared_database_tests!(MySql, support::mysql);
database_tests!(MySql, support::mysql; concurrent_runners_with_a_non_transactional_revision);

/// A no-op run sends one COM_QUERY, the history read, and no GET_LOCK.
#[tokio::test]
async fn noop_run_sends_one_statement() {
    let Some(db) = support::mysql().await else {
        return;
    };
    support::cases::noop_run_sends_one_statement(&db, Protocol::MySql, 3306, "ssl-mode=disabled")
        .await;
}

/// A dropped run's `SLEEP` is killed on the server.
#[tokio::test]
async fn dropped_run_cancels_the_server_statement() {
    let Some(db) = support::mysql().await else {
        return;
    };
    support::cases::dropped_run_cancels_the_server_statement(
        &db,
        "SELECT SLEEP(30)",
        "information_schema.processlist WHERE db = DATABASE() \
         AND info LIKE '%SLEEP(30)%' AND id <> CONNECTION_ID()",
    )
    .await;
}
