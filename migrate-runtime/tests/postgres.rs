//! The runner against PostgreSQL: a fresh database per test on the server
//! of `TEST_POSTGRES_URL` (skipped without it, failed under `CI=true`).
//!
//! `TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p migrate-runtime --all-features --test postgres`
#![cfg(feature = "postgres")]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migrate_runtime::{Report, Revision, TransactionMode};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use support::proxy::Protocol;
use support::{applied, count, creates, file, history, rev};

shared_database_tests!(Postgres, support::postgres);
database_tests!(Postgres, support::postgres; concurrent_runners_with_a_non_transactional_revision);

/// A no-op run sends one simple query, the history digest check, and takes no
/// advisory lock.
#[tokio::test]
async fn noop_run_sends_one_statement() {
    let Some(db) = support::postgres().await else {
        return;
    };
    support::cases::noop_run_sends_one_statement(&db, Protocol::Postgres, 5432, "sslmode=disable")
        .await;
}

/// `CREATE INDEX CONCURRENTLY` in a `transaction: false` revision, up and
/// down, while a second runner waits for the lock: it would wait forever
/// for a transaction held open by the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_concurrently_outside_a_transaction() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let runner = support::runner(vec![
        rev(
            "rev1",
            "",
            "CREATE TABLE ci (a INTEGER, b INTEGER);\n\
             INSERT INTO ci SELECT g, g FROM generate_series(1, 1000) AS g;",
            "DROP TABLE ci",
        ),
        file(
            "rev2",
            "rev1",
            "CREATE INDEX CONCURRENTLY ci_a ON ci (a);\nCREATE INDEX CONCURRENTLY ci_b ON ci (b);",
            Some("DROP INDEX CONCURRENTLY ci_b;\nDROP INDEX CONCURRENTLY ci_a;"),
            &["transaction: false"],
        ),
        creates("rev3", "rev2", "t3"),
    ]);
    let other = db.pool_with(2).await;
    let both = async { tokio::join!(runner.run(&db.pool), runner.run(&other)) };
    let (first, second) = tokio::time::timeout(Duration::from_secs(30), both)
        .await
        .expect("CREATE INDEX CONCURRENTLY hung");
    let mut ran = first.expect("first runner").revisions().join(" ");
    ran.push_str(&second.expect("second runner").revisions().join(" "));
    assert_eq!(ran, "rev1 rev2 rev3");
    let valid = "pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid \
                 WHERE relname IN ('ci_a', 'ci_b') AND indisvalid";
    assert_eq!(count(&db.pool, valid).await, 2);
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev2", "rev3"]));

    let down = tokio::time::timeout(Duration::from_secs(30), runner.downgrade(&db.pool, "rev1"))
        .await
        .expect("DROP INDEX CONCURRENTLY hung")
        .expect("downgrade");
    assert_eq!(down.revisions(), ["rev3", "rev2"]);
    assert_eq!(count(&db.pool, valid).await, 0);
    assert_eq!(history(&db.pool).await, applied(&["rev1"]));

    // In single-transaction mode the run's transaction is committed before
    // the index and opened again after it.
    let single = runner.with_transaction_mode(TransactionMode::Single);
    let up = tokio::time::timeout(Duration::from_secs(30), single.run(&db.pool))
        .await
        .expect("CREATE INDEX CONCURRENTLY hung in single-transaction mode")
        .expect("single-transaction run");
    assert_eq!(up.revisions(), ["rev2", "rev3"]);
    assert_eq!(count(&db.pool, valid).await, 2);
}

/// A `transaction: false` file sends its statements one at a time: none of
/// `E'...'` strings, `BEGIN ATOMIC` bodies, rule actions in parentheses and
/// nested comments is cut at the `;` inside it.
#[tokio::test]
async fn transaction_false_statements_are_split_where_postgres_splits_them() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let up = r"CREATE TABLE notes (body text);
CREATE TABLE audit (n int);
/* setup /* nested; comment */ still; a comment */
INSERT INTO notes VALUES (E'it\'s; here');
CREATE FUNCTION add_note(x text) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO notes VALUES (x);
  SELECT CASE WHEN x = '' THEN 0 ELSE 1 END;
END;
CREATE RULE audit_notes AS ON INSERT TO notes DO ALSO
  (INSERT INTO audit VALUES (1); INSERT INTO audit VALUES (2));
SELECT add_note('second; note');";
    let down = "DROP FUNCTION add_note(text);\nDROP TABLE notes;\nDROP TABLE audit;";
    let runner = support::runner(vec![file(
        "rev1",
        "",
        up,
        Some(down),
        &["transaction: false"],
    )]);
    let report = runner.run(&db.pool).await.expect("upgrade");
    assert_eq!(report.revisions(), ["rev1"]);
    let it_s = "notes WHERE body IN ('it''s; here', 'second; note')";
    assert_eq!(count(&db.pool, it_s).await, 2);
    assert_eq!(count(&db.pool, "audit").await, 2);
    assert_eq!(history(&db.pool).await, applied(&["rev1"]));
    runner.downgrade(&db.pool, "base").await.expect("downgrade");
    assert_eq!(history(&db.pool).await, applied(&[]));
}

/// The child of the kill tests reads its database here.
const CHILD_URL: &str = "MIGRATE_TEST_KILL_CHILD_URL";
/// And its session settings, `name=value` separated by `,`.
const CHILD_SETTINGS: &str = "MIGRATE_TEST_KILL_CHILD_SETTINGS";

/// rev2 sleeps as long as the session setting `migrate_test.sleep` says:
/// the same file (and checksum) is slow in the child and instant after.
fn slow_revisions() -> Vec<Revision> {
    vec![
        creates("rev1", "", "t1"),
        rev(
            "rev2",
            "rev1",
            "CREATE TABLE slow (id INTEGER);\n\
             INSERT INTO slow VALUES (2);\n\
             SELECT pg_sleep(CAST(COALESCE(NULLIF(current_setting('migrate_test.sleep', true), ''), '0') AS float8));",
            "DROP TABLE slow",
        ),
        rev("rev3", "rev2", "INSERT INTO slow VALUES (3)", "DELETE FROM slow WHERE id = 3"),
    ]
}

/// Not a test: the process the kill tests start and kill, running
/// `slow_revisions` with the settings it is given.
#[tokio::test]
#[ignore = "the child process of the kill tests, started by them"]
async fn kill_child() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let settings = std::env::var(CHILD_SETTINGS).unwrap_or_default();
    let settings: Vec<(&str, &str)> = settings
        .split(',')
        .filter_map(|setting| setting.split_once('='))
        .collect();
    let options: PgConnectOptions = url.parse().expect("the child's URL");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options(settings))
        .await
        .expect("the child connects");
    let result = support::runner(slow_revisions()).run(&pool).await;
    panic!("the child should have been killed in rev2, but its run returned {result:?}");
}

/// Starts this test binary as `kill_child`, waits until rev2 sleeps,
/// kills the child with SIGKILL, then runs again in this process.
async fn kill_in_rev2_then_run_again(
    db: &support::TestDatabase<Postgres>,
    settings: &str,
) -> Report {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["kill_child", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_URL, &db.url)
        .env(CHILD_SETTINGS, settings)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the child");
    wait_until_sleeping(&db.pool, &mut child).await;
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    assert_eq!(
        history(&db.pool).await,
        applied(&["rev1"]),
        "rev1 only, before the rerun"
    );

    let runner = support::runner(slow_revisions()).with_lock_timeout(Duration::from_secs(30));
    let report = runner.run(&db.pool).await.expect("the run after the kill");
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev2", "rev3"]));
    assert_eq!(
        count(&db.pool, "pg_tables WHERE tablename = 'slow'").await,
        1
    );
    for id in [2, 3] {
        let rows = count(&db.pool, &format!("slow WHERE id = {id}")).await;
        assert_eq!(rows, 1, "rev{id} ran {rows} times");
    }
    assert!(runner.run(&db.pool).await.expect("a later run").is_empty());
    report
}

async fn wait_until_sleeping(pool: &PgPool, child: &mut std::process::Child) {
    let sleeping = "pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'";
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(pool, sleeping).await == 0 {
        if let Some(status) = child.try_wait().expect("the child's status") {
            panic!("the child exited ({status}) before rev2 started sleeping");
        }
        assert!(Instant::now() < deadline, "rev2 never started sleeping");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Killed in a long revision, where the server notices the dead client
/// (`client_connection_check_interval`): the revision's transaction is
/// rolled back with the session, which frees the lock; the next run
/// applies it, once, without waiting out the sleep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_revision_then_run_again() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let settings = "migrate_test.sleep=30,client_connection_check_interval=100";
    let started = Instant::now();
    let report = kill_in_rev2_then_run_again(&db, settings).await;
    assert_eq!(report.revisions(), ["rev2", "rev3"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the rerun waited out the sleep"
    );
}

/// Killed in a long revision with the server's default settings: the run
/// set `client_connection_check_interval` for its session, so the server
/// notices the dead client within a second instead of when the batch
/// ends (it used to finish rev2, orphaned, holding the lock): rev2 is
/// rolled back, the lock freed, and the next run applies rev2 and rev3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_revision_with_default_server_settings() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let report = kill_in_rev2_then_run_again(&db, "migrate_test.sleep=2").await;
    assert_eq!(report.revisions(), ["rev2", "rev3"]);
}

/// `CREATE INDEX CONCURRENTLY` in a revision that runs in a transaction
/// fails, and the error says which header line fixes it.
#[tokio::test]
async fn a_statement_that_refuses_transactions_gets_the_header_hint() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let runner = support::runner(vec![
        creates("rev1", "", "cic"),
        rev(
            "rev2",
            "rev1",
            "CREATE INDEX CONCURRENTLY cic_id ON cic (id)",
            "DROP INDEX cic_id",
        ),
    ]);
    let error = runner
        .run(&db.pool)
        .await
        .expect_err("CIC in a transaction must fail");
    let message = error.to_string();
    assert!(message.contains("add `-- transaction: false`"), "{message}");
    assert!(message.contains("migrations/rev2_test.sql"), "{message}");
    assert_eq!(history(&db.pool).await, support::applied(&["rev1"]));
}

/// A dropped run's `pg_sleep` is cancelled on the server.
#[tokio::test]
async fn dropped_run_cancels_the_server_statement() {
    let Some(db) = support::postgres().await else {
        return;
    };
    support::cases::dropped_run_cancels_the_server_statement(
        &db,
        "SELECT pg_sleep(30)",
        "pg_stat_activity WHERE datname = current_database() \
         AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
    )
    .await;
}

/// How the fault tests reach the server through their proxy.
const WIRE: support::faults::Wire = support::faults::Wire {
    protocol: Protocol::Postgres,
    default_port: 5432,
    no_tls: "sslmode=disable",
    sleep: "SELECT pg_sleep({})",
};

/// Instantiates the proxied fault cases of `support::faults`.
macro_rules! fault_tests {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(db) = support::postgres().await else { return };
                support::faults::$case::<Postgres>(&db, WIRE).await;
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
    let Some(db) = support::postgres().await else {
        return;
    };
    support::faults::history_row_deleted_behind_the_runs_back(&db, "SELECT pg_sleep(1)").await;
}

/// Objects the stairway's listing has on PostgreSQL beyond tables and
/// columns, each left or changed by a down that forgets it: a sequence's
/// increment, a function's body, a row-level security policy and the
/// switch that enables it.
#[tokio::test]
async fn stairway_finds_sequences_function_bodies_and_policies() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let cases: [(&str, &str, &str, &str, &str); 4] = [
        (
            "sequence",
            "CREATE SEQUENCE invoice_numbers",
            "DROP SEQUENCE invoice_numbers",
            "ALTER SEQUENCE invoice_numbers INCREMENT BY 10",
            "+ sequence public.invoice_numbers bigint START 1 INCREMENT 10 ",
        ),
        (
            "function",
            "CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS 'SELECT 41'",
            "DROP FUNCTION answer()",
            "CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql AS 'SELECT 42'",
            "+ function public.answer() RETURNS integer body md5 ",
        ),
        (
            "policy",
            "CREATE TABLE notes (owner text)",
            "DROP TABLE notes",
            "CREATE POLICY own_notes ON notes USING (owner = current_user)",
            "+ policy public.notes.own_notes * USING ((owner = CURRENT_USER))",
        ),
        (
            "security",
            "CREATE TABLE secrets (owner text)",
            "DROP TABLE secrets",
            "ALTER TABLE secrets ENABLE ROW LEVEL SECURITY",
            "+ row level security public.secrets",
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
