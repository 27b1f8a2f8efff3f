//! The runner against MySQL or MariaDB: a fresh database per test on the
//! server of `TEST_MYSQL_URL` (skipped without it, failed under `CI=true`).
//!
//! `TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test -p migrate-runtime --all-features --test mysql`
#![cfg(feature = "mysql")]

mod support;

use sqlx::MySql;
use support::proxy::Protocol;
use support::{applied, file, history, table_exists};

shared_database_tests!(MySql, support::mysql);
database_tests!(MySql, support::mysql; concurrent_runners_with_a_non_transactional_revision);

/// A no-op run sends one COM_QUERY, the history digest check, and no GET_LOCK.
#[tokio::test]
async fn noop_run_sends_one_statement() {
    let Some(db) = support::mysql().await else {
        return;
    };
    support::cases::noop_run_sends_one_statement(&db, Protocol::MySql, 3306, "ssl-mode=disabled")
        .await;
}

/// An empty or comment-only section of a `transaction: false` revision
/// sends no empty query (`1065 Query was empty`) and the revision is
/// applied and reverted whole.
#[tokio::test]
async fn empty_sections_outside_a_transaction() {
    let Some(db) = support::mysql().await else {
        return;
    };
    let runner = support::runner(vec![
        file("rev1", "", "", Some(""), &["transaction: false"]),
        file(
            "rev2",
            "rev1",
            "-- nothing yet\n/* still; nothing */\n# really nothing",
            Some("-- nothing to undo"),
            &["transaction: false"],
        ),
    ]);
    let up = runner.run(&db.pool).await.expect("upgrade");
    assert_eq!(up.revisions(), ["rev1", "rev2"]);
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev2"]));
    let down = runner.downgrade(&db.pool, "base").await.expect("downgrade");
    assert_eq!(down.revisions(), ["rev2", "rev1"]);
    assert_eq!(history(&db.pool).await, applied(&[]));
}

/// Sections ending in a `/* */` comment or a `# comment` line, with and
/// without a final `;`, in a transaction and outside one: the batch's `;`
/// neither ends an empty statement nor hides in the comment.
#[tokio::test]
async fn sections_ending_in_block_and_hash_comments() {
    let Some(db) = support::mysql().await else {
        return;
    };
    let runner = support::runner(vec![
        file(
            "rev1",
            "",
            "CREATE TABLE a (id int);\n/* b next;\n   later */",
            Some("DROP TABLE a\n# gone"),
            &[],
        ),
        file(
            "rev2",
            "rev1",
            "CREATE TABLE b (id int)\n# done",
            Some("DROP TABLE b; /* gone */"),
            &[],
        ),
        file(
            "rev3",
            "rev2",
            "CREATE TABLE c (id int);\n# done\n/* really */",
            Some("DROP TABLE c\n# gone"),
            &["transaction: false"],
        ),
    ]);
    let up = runner.run(&db.pool).await.expect("upgrade");
    assert_eq!(up.revisions(), ["rev1", "rev2", "rev3"]);
    for table in ["a", "b", "c"] {
        assert!(table_exists(&db.pool, table).await, "{table} missing");
    }
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev2", "rev3"]));
    runner.downgrade(&db.pool, "base").await.expect("downgrade");
    for table in ["a", "b", "c"] {
        assert!(!table_exists(&db.pool, table).await, "{table} left");
    }
    assert_eq!(history(&db.pool).await, applied(&[]));
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

/// How the fault tests reach the server through their proxy.
const WIRE: support::faults::Wire = support::faults::Wire {
    protocol: Protocol::MySql,
    default_port: 3306,
    no_tls: "ssl-mode=disabled",
    sleep: "SELECT SLEEP({})",
};

/// Instantiates the proxied fault cases of `support::faults`.
macro_rules! fault_tests {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(db) = support::mysql().await else { return };
                support::faults::$case::<MySql>(&db, WIRE).await;
            }
        )*
    };
}

fault_tests!(
    frozen_history_read_times_out,
    frozen_noop_boot_times_out,
    cut_during_a_revision_that_commits,
    cut_during_a_revision_that_is_rolled_back,
    cut_during_a_non_transactional_revision,
    partition_during_a_revision_gives_up,
);

/// A pending row deleted while its `transaction: false` revision runs
/// fails the run loudly when it is to be marked applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_row_deleted_while_a_revision_runs() {
    let Some(db) = support::mysql().await else {
        return;
    };
    support::faults::history_row_deleted_behind_the_runs_back(&db, "SELECT SLEEP(1)").await;
}

/// Objects the stairway's listing has on MySQL and MariaDB beyond names:
/// a routine's body and an index's prefix length, each changed by an up
/// whose down forgets to change it back.
#[tokio::test]
async fn stairway_finds_routine_bodies_and_index_prefixes() {
    let Some(db) = support::mysql().await else {
        return;
    };
    let cases: [(&str, &str, &str, &str, &str); 2] = [
        (
            "routine",
            "CREATE FUNCTION answer() RETURNS INT DETERMINISTIC RETURN 41",
            "DROP FUNCTION answer",
            "DROP FUNCTION answer;\nCREATE FUNCTION answer() RETURNS INT DETERMINISTIC RETURN 42",
            "+ routine FUNCTION answer body md5 ",
        ),
        (
            "prefix",
            "CREATE TABLE people (name VARCHAR(100));\nCREATE INDEX people_name ON people (name)",
            "DROP TABLE people",
            "DROP INDEX people_name ON people;\nCREATE INDEX people_name ON people (name(10))",
            "+ index people.people_name BTREE (name(10))",
        ),
    ];
    for (name, create, drop, change, expected) in cases {
        let differences = support::cases::stairway_differences(
            &db.pool,
            name,
            vec![
                support::rev("rev1", "", create, drop),
                support::rev("rev2", "rev1", change, "SELECT 1"),
            ],
        )
        .await;
        assert!(
            differences.iter().any(|l| l.starts_with(expected)),
            "{name}: {differences:?}"
        );
    }
}
