//! The runner against SQLite: a fresh database file per test.
//!
//! `cargo test -p migrate-runtime --all-features --test sqlite`
#![cfg(feature = "sqlite")]

mod support;

use sqlx::Sqlite;
use support::faults::{history_row_deleted_behind_the_runs_back, wait_for_history};
use support::{applied, count, creates, file, history};

/// A statement that takes about a second and writes nothing (so that it
/// leaves the database's write lock free for others).
const SLOW: &str =
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) \
                    SELECT COUNT(*) FROM n";

/// A second run that starts while the first runs a `transaction: false`
/// revision (the database's write lock given up meanwhile) waits for the
/// first to finish, then finds everything applied; it used to take the
/// write lock, find the pending row and refuse with "half-applied, stamp
/// the parent", which, followed, lost the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waits_for_another_runs_non_transactional_revision() {
    let db = support::sqlite().await.expect("SQLite is always available");
    let runner = support::runner(vec![
        creates("rev1", "", "t1"),
        file(
            "rev2",
            "rev1",
            &format!("INSERT INTO t1 VALUES (1);\n{SLOW}"),
            Some("DELETE FROM t1"),
            &["transaction: false"],
        ),
        creates("rev3", "rev2", "t3"),
    ]);
    let (first_pool, second_pool) = (db.pool_with(1).await, db.pool_with(1).await);
    let first_runner = runner.clone();
    let first = tokio::spawn(async move { first_runner.run(&first_pool).await });
    wait_for_history(&db.pool, &[("rev1", "applied"), ("rev2", "pending")]).await;
    let second = runner.run(&second_pool).await;
    let first = first.await.expect("the first run panicked");
    let first = first.unwrap_or_else(|err| panic!("the first run failed: {err}"));
    let second = second.unwrap_or_else(|err| panic!("the second run failed: {err}"));
    assert_eq!(first.revisions(), vec!["rev1", "rev2", "rev3"]);
    assert!(second.is_empty(), "the second run applied {second:?}");
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev2", "rev3"]));
    assert_eq!(count(&db.pool, "t1").await, 1);
    // The lock file stays beside the database, empty.
    let database = db.url.trim_start_matches("sqlite://");
    let database = database.split('?').next().expect("the database file");
    let lock = std::fs::metadata(format!("{database}-migrate-lock")).expect("the lock file");
    assert_eq!(lock.len(), 0);
}

/// A pending row deleted while its `transaction: false` revision runs
/// fails the run loudly when it is to be marked applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_row_deleted_while_a_revision_runs() {
    let db = support::sqlite().await.expect("SQLite is always available");
    history_row_deleted_behind_the_runs_back(&db, SLOW).await;
}

shared_database_tests!(Sqlite, support::sqlite);

/// SQLite's lock is its write transaction, which a `transaction: false`
/// revision has to end while its SQL runs: the runs that want the lock
/// meanwhile wait on the lock file held across the whole run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runners_with_a_non_transactional_revision() {
    let Some(db) = support::sqlite().await else {
        return;
    };
    support::cases::concurrent_runners_with_a_non_transactional_revision::<Sqlite>(&db).await;
}

/// `users` with two `posts` children: `posts.user_id` references it with
/// `on_delete` (`ON DELETE CASCADE`, or empty for a plain reference).
async fn users_with_posts(
    on_delete: &str,
) -> (
    support::TestDatabase<Sqlite>,
    Vec<migrate_runtime::Revision>,
) {
    let db = support::sqlite().await.expect("SQLite is always available");
    let schema = support::rev(
        "a1",
        "",
        &format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(20));\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) {on_delete});\n\
             INSERT INTO users VALUES (1, 'ann'), (2, 'bob');\n\
             INSERT INTO posts VALUES (10, 1), (11, 2);"
        ),
        "DROP TABLE posts; DROP TABLE users;",
    );
    (db, vec![schema])
}

/// SQLite's documented way to change a column: a new table, a copy, a
/// drop and a rename.
fn rebuild_users(id: &str, revises: &str) -> migrate_runtime::Revision {
    support::file(
        id,
        revises,
        "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL DEFAULT 'misc');\n\
         INSERT INTO users_new (id, name) SELECT id, COALESCE(name, 'misc') FROM users;\n\
         DROP TABLE users;\n\
         ALTER TABLE users_new RENAME TO users;",
        None,
        &[],
    )
}

async fn foreign_keys_enforced(pool: &sqlx::SqlitePool) -> bool {
    let enforced: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    enforced == 1
}

/// A rebuild of a parent table keeps the rows of a child declared
/// `ON DELETE CASCADE` (with enforcement on, `DROP TABLE users` deleted
/// them), and enforcement is back on for the application afterwards.
#[tokio::test]
async fn table_rebuild_keeps_cascading_children() {
    let (db, mut revisions) = users_with_posts("ON DELETE CASCADE").await;
    revisions.push(rebuild_users("a2", "a1"));
    let pool = db.pool_with(1).await;
    assert!(foreign_keys_enforced(&pool).await, "sqlx's default");
    let report = support::runner(revisions).run(&pool).await.unwrap();
    assert_eq!(report.revisions(), ["a1", "a2"]);
    assert_eq!(support::count(&pool, "posts").await, 2);
    assert_eq!(support::count(&pool, "users").await, 2);
    assert!(
        foreign_keys_enforced(&pool).await,
        "restored on the run's connection"
    );
    // The key still works after the rebuild.
    let orphan = sqlx::query("INSERT INTO posts VALUES (12, 99)")
        .execute(&pool)
        .await;
    assert!(orphan.is_err(), "enforcement is on again: {orphan:?}");
    sqlx::query("DELETE FROM users WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(support::count(&pool, "posts").await, 1, "the cascade acts");
}

/// A rebuild of a parent with a plain reference is applied (enforcement on
/// refused the `DROP TABLE` with `FOREIGN KEY constraint failed`), in
/// single-transaction mode too.
#[tokio::test]
async fn table_rebuild_under_a_plain_reference() {
    for mode in [
        migrate_runtime::TransactionMode::PerRevision,
        migrate_runtime::TransactionMode::Single,
    ] {
        let (db, mut revisions) = users_with_posts("").await;
        revisions.push(rebuild_users("a2", "a1"));
        let runner = support::runner(revisions).with_transaction_mode(mode);
        runner
            .run(&db.pool)
            .await
            .unwrap_or_else(|err| panic!("{mode:?}: {err}"));
        assert_eq!(support::count(&db.pool, "posts").await, 2, "{mode:?}");
        assert_eq!(
            support::history(&db.pool).await,
            support::applied(&["a1", "a2"])
        );
    }
}

/// A revision that leaves a child row without its parent fails, naming the
/// table and the row, and nothing of it is kept; the revision before it is.
#[tokio::test]
async fn revision_breaking_a_foreign_key_is_refused_whole() {
    let (db, mut revisions) = users_with_posts("").await;
    revisions.push(support::rev(
        "a2",
        "a1",
        "CREATE TABLE audit (id INTEGER);\nDELETE FROM users WHERE id = 1;",
        "DROP TABLE audit;",
    ));
    let err = support::runner(revisions).run(&db.pool).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, migrate_runtime::Error::ForeignKeyViolation { .. }),
        "{message}"
    );
    assert!(
        message.starts_with(
            "revision `a2` (migrations/a2_test.sql) left row 10 of `posts` \
             refers to a row of `users` that does not exist"
        ),
        "{message}"
    );
    assert!(message.contains("it was rolled back"), "{message}");
    assert_eq!(support::count(&db.pool, "users").await, 2);
    assert!(!support::table_exists(&db.pool, "audit").await);
    assert_eq!(support::history(&db.pool).await, support::applied(&["a1"]));
    assert!(foreign_keys_enforced(&db.pool).await);
}

/// The check rides in each revision's batch, and each revision's
/// savepoint stays open until the next batch releases it: a violation
/// after revisions that return rows, a `transaction: false` revision (its
/// commit ends the kept savepoint) and a plain one still undoes that
/// revision alone, in both transaction modes.
#[tokio::test]
async fn a_violation_after_several_checked_revisions_undoes_only_its_own() {
    for mode in [
        migrate_runtime::TransactionMode::PerRevision,
        migrate_runtime::TransactionMode::Single,
    ] {
        let (db, mut revisions) = users_with_posts("").await;
        revisions.extend([
            support::rev(
                "a2",
                "a1",
                "CREATE TABLE audit (id INTEGER);\nSELECT id FROM users;",
                "DROP TABLE audit;",
            ),
            support::file(
                "a3",
                "a2",
                "INSERT INTO audit VALUES (3);",
                Some("DELETE FROM audit WHERE id = 3;"),
                &["transaction: false"],
            ),
            support::rev(
                "a4",
                "a3",
                "INSERT INTO audit VALUES (4);\nSELECT * FROM posts;",
                "DELETE FROM audit WHERE id = 4;",
            ),
            support::rev(
                "a5",
                "a4",
                "INSERT INTO audit VALUES (5);\nDELETE FROM users WHERE id = 2;\nSELECT * FROM users;",
                "DELETE FROM audit WHERE id = 5;",
            ),
        ]);
        let runner = support::runner(revisions).with_transaction_mode(mode);
        let err = runner.run(&db.pool).await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(
                "revision `a5` (migrations/a5_test.sql) left row 11 of `posts` \
                 refers to a row of `users` that does not exist"
            ),
            "{mode:?}: {message}"
        );
        assert_eq!(support::count(&db.pool, "users").await, 2, "{mode:?}");
        let kept: Vec<i64> = sqlx::query_scalar("SELECT id FROM audit ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        // Single-transaction mode rolls back to the `transaction: false`
        // revision's commit, which keeps what came before it.
        let expected: &[i64] = match mode {
            migrate_runtime::TransactionMode::PerRevision => &[3, 4],
            migrate_runtime::TransactionMode::Single => &[3],
        };
        assert_eq!(kept, expected, "{mode:?}");
        let applied: &[&str] = match mode {
            migrate_runtime::TransactionMode::PerRevision => &["a1", "a2", "a3", "a4"],
            migrate_runtime::TransactionMode::Single => &["a1", "a2", "a3"],
        };
        assert_eq!(
            support::history(&db.pool).await,
            support::applied(applied),
            "{mode:?}"
        );
        // Fixed, the run goes on from there.
        assert!(foreign_keys_enforced(&db.pool).await, "{mode:?}");
    }
}

/// An application that switched enforcement off keeps it off.
#[tokio::test]
async fn foreign_keys_left_off_when_the_application_chose_so() {
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;
    let (db, mut revisions) = users_with_posts("").await;
    revisions.push(rebuild_users("a2", "a1"));
    let options = SqliteConnectOptions::from_str(&db.url)
        .unwrap()
        .foreign_keys(false);
    let pool = sqlx::pool::PoolOptions::<Sqlite>::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    support::runner(revisions).run(&pool).await.unwrap();
    assert!(!foreign_keys_enforced(&pool).await);
}

/// A generated column left by a down: listed by `pragma_table_xinfo`
/// (`table_info` leaves generated columns out).
#[tokio::test]
async fn stairway_finds_a_generated_column_left_by_a_down() {
    let db = support::sqlite().await.expect("SQLite is always available");
    let differences = support::cases::stairway_differences(
        &db.pool,
        "generated",
        vec![
            support::rev(
                "rev1",
                "",
                "CREATE TABLE lines (price INTEGER, quantity INTEGER)",
                "DROP TABLE lines",
            ),
            support::rev(
                "rev2",
                "rev1",
                "ALTER TABLE lines ADD COLUMN total INTEGER GENERATED ALWAYS AS (price * quantity) VIRTUAL",
                "SELECT 1",
            ),
        ],
    )
    .await;
    assert_eq!(
        differences,
        ["+ column lines.total INTEGER GENERATED VIRTUAL"]
    );
}
