//! What every database must do, written once over [`TestDb`] and
//! instantiated per database by `database_tests!`. Each case gets a fresh
//! database and checks what a user sees: the reports and errors, the schema
//! and the history table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use migrate_runtime::core::PlanError;
use migrate_runtime::testing::{SchemaSnapshot, StairwayStep};
use migrate_runtime::{Aftermath, Error, Report, Revision, RevisionState, Runner, TransactionMode};
use sqlx::Pool;

use super::proxy::{statements, Protocol, Proxy, Sent};
use super::*;

pub use super::hand_edits::*;

/// The revisions a report names, in order.
fn ran(report: &Report) -> Vec<&str> {
    report.revisions()
}

/// The result's value, or a panic that shows the error's message.
fn ok<T>(result: Result<T, Error>, what: &str) -> T {
    result.unwrap_or_else(|err| panic!("{what} failed: {err}"))
}

/// The result's error, or a panic naming what unexpectedly succeeded.
fn err<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) -> Error {
    match result {
        Ok(value) => panic!("{what} should have failed, but returned {value:?}"),
        Err(err) => err,
    }
}

async fn sorted_current<DB: TestDb>(runner: &Runner, pool: &Pool<DB>) -> Vec<String> {
    let mut heads = ok(runner.current(pool).await, "current");
    heads.sort();
    heads
}

/// Upgrade to `+1`, to a revision id and to head; downgrade `-1`, to a
/// revision and to `base`: each report, schema and history as expected.
pub async fn upgrade_and_downgrade_targets<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(chain(4));
    let tables = ["t1", "t2", "t3", "t4"];

    let report = ok(runner.upgrade(pool, "+1").await, "upgrade +1");
    assert_eq!(ran(&report), ["rev1"]);
    assert_eq!(existing(pool, &tables).await, ["t1"]);
    assert_eq!(history(pool).await, applied(&["rev1"]));

    let report = ok(runner.upgrade(pool, "rev3").await, "upgrade rev3");
    assert_eq!(ran(&report), ["rev2", "rev3"]);
    assert_eq!(existing(pool, &tables).await, ["t1", "t2", "t3"]);

    let report = ok(runner.run(pool).await, "run");
    assert_eq!(ran(&report), ["rev4"]);
    assert_eq!(existing(pool, &tables).await, tables);
    assert_eq!(
        history(pool).await,
        applied(&["rev1", "rev2", "rev3", "rev4"])
    );
    assert!(ok(runner.run(pool).await, "second run").is_empty());

    let report = ok(runner.downgrade(pool, "-1").await, "downgrade -1");
    assert_eq!(ran(&report), ["rev4"]);
    assert_eq!(existing(pool, &tables).await, ["t1", "t2", "t3"]);

    let report = ok(runner.downgrade(pool, "rev1").await, "downgrade rev1");
    assert_eq!(ran(&report), ["rev3", "rev2"], "dependents first");
    assert_eq!(existing(pool, &tables).await, ["t1"]);
    assert_eq!(history(pool).await, applied(&["rev1"]));

    let report = ok(runner.downgrade(pool, "base").await, "downgrade base");
    assert_eq!(ran(&report), ["rev1"]);
    assert!(existing(pool, &tables).await.is_empty());
    assert!(history(pool).await.is_empty());
    assert!(ok(runner.downgrade(pool, "base").await, "second downgrade").is_empty());
}

/// The history row holds what DESIGN.md lists: the file's checksum, the
/// message, when, and how long.
pub async fn history_row_columns<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let revisions = chain(1);
    let checksum = revisions[0].checksum_hex();
    ok(runner(revisions).run(pool).await, "run");
    let rows = DB::pairs(
        pool,
        &format!("SELECT checksum, message FROM {HISTORY} WHERE revision = 'rev1'"),
    )
    .await
    .expect("read the history row");
    assert_eq!(rows, [(checksum, "revision rev1".to_string())]);
    let sane = format!(
        "{HISTORY} WHERE applied_at IS NOT NULL AND execution_ms >= 0 AND execution_ms < 60000"
    );
    assert_eq!(count(pool, &sane).await, 1, "applied_at and execution_ms");
}

/// Stamp writes and removes history rows and runs no SQL: the tables the
/// revisions would create never appear.
pub async fn stamp_records_without_running<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(chain(4));
    let tables = ["t1", "t2", "t3", "t4"];

    let report = ok(runner.stamp(pool, "head").await, "stamp head");
    assert_eq!(ran(&report), ["rev1", "rev2", "rev3", "rev4"]);
    assert_eq!(
        history(pool).await,
        applied(&["rev1", "rev2", "rev3", "rev4"])
    );
    assert!(existing(pool, &tables).await.is_empty(), "stamp ran SQL");
    assert!(ok(runner.run(pool).await, "run after stamp").is_empty());

    let report = ok(runner.stamp(pool, "rev2").await, "stamp rev2");
    assert_eq!(ran(&report), ["rev4", "rev3"]);
    assert_eq!(history(pool).await, applied(&["rev1", "rev2"]));
    assert!(existing(pool, &tables).await.is_empty(), "stamp ran SQL");

    // The stamped state is where runs continue from.
    let report = ok(runner.run(pool).await, "run");
    assert_eq!(ran(&report), ["rev3", "rev4"]);
    assert_eq!(existing(pool, &tables).await, ["t3", "t4"]);

    ok(runner.stamp(pool, "base").await, "stamp base");
    assert!(history(pool).await.is_empty());
    assert_eq!(existing(pool, &tables).await, ["t3", "t4"], "stamp ran SQL");
}

/// root <- left, root <- right, (left, right) <- merge.
fn merge_graph() -> Vec<Revision> {
    vec![
        creates("root", "", "m_root"),
        creates("left", "root", "m_left"),
        creates("right", "root", "m_right"),
        creates("merge", "left, right", "m_merge"),
    ]
}

/// A merge graph upgraded in parts and as a whole, and downgraded through
/// the merge; `current` reports both heads between.
pub async fn merge_graph_up_and_down<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(merge_graph());
    let tables = ["m_root", "m_left", "m_right", "m_merge"];

    let report = ok(runner.upgrade(pool, "left").await, "upgrade left");
    assert_eq!(ran(&report), ["root", "left"]);
    assert_eq!(sorted_current(&runner, pool).await, ["left"]);

    let report = ok(runner.run(pool).await, "run");
    assert_eq!(ran(&report), ["right", "merge"]);
    assert_eq!(sorted_current(&runner, pool).await, ["merge"]);
    assert_eq!(existing(pool, &tables).await, tables);

    // One step down from a merge does not say which parent (Alembic
    // refuses it too); naming a parent takes the merge back alone.
    let error = err(
        runner.downgrade(pool, "-1").await,
        "downgrade -1 from a merge",
    );
    assert!(
        error
            .to_string()
            .contains("`-1` is ambiguous: `merge` has several parents"),
        "{error}"
    );
    let report = ok(runner.downgrade(pool, "left").await, "downgrade left");
    assert_eq!(ran(&report), ["merge"]);
    assert_eq!(sorted_current(&runner, pool).await, ["left", "right"]);

    let report = ok(runner.downgrade(pool, "root").await, "downgrade root");
    let mut reverted = ran(&report);
    reverted.sort();
    assert_eq!(reverted, ["left", "right"]);
    assert_eq!(sorted_current(&runner, pool).await, ["root"]);
    assert_eq!(existing(pool, &tables).await, ["m_root"]);

    let report = ok(runner.upgrade(pool, "head").await, "upgrade head");
    let order = ran(&report);
    assert_eq!(order.len(), 3);
    assert_eq!(order[2], "merge", "the merge runs after both parents");

    let report = ok(runner.downgrade(pool, "base").await, "downgrade base");
    let order = ran(&report);
    assert_eq!((order[0], order[3]), ("merge", "root"), "{order:?}");
    assert!(existing(pool, &tables).await.is_empty());
    assert!(history(pool).await.is_empty());
}

/// Two labelled branches (two heads on purpose): one branch upgraded by
/// `<label>@head`, then both.
pub async fn branch_labels_up_and_down<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(vec![
        creates("trunk", "", "b_trunk"),
        file(
            "billing",
            "trunk",
            "CREATE TABLE b_billing (id INTEGER)",
            Some("DROP TABLE b_billing"),
            &["branch_labels: invoices"],
        ),
        file(
            "search",
            "trunk",
            "CREATE TABLE b_search (id INTEGER)",
            Some("DROP TABLE b_search"),
            &["branch_labels: lookup"],
        ),
    ]);

    let report = ok(runner.upgrade(pool, "invoices@head").await, "invoices@head");
    assert_eq!(ran(&report), ["trunk", "billing"]);
    assert_eq!(sorted_current(&runner, pool).await, ["billing"]);
    assert!(!table_exists(pool, "b_search").await);

    let report = ok(runner.run(pool).await, "run");
    assert_eq!(ran(&report), ["search"]);
    assert_eq!(sorted_current(&runner, pool).await, ["billing", "search"]);

    let report = ok(runner.downgrade(pool, "trunk").await, "downgrade trunk");
    let mut reverted = ran(&report);
    reverted.sort();
    assert_eq!(reverted, ["billing", "search"]);
    assert_eq!(history(pool).await, applied(&["trunk"]));
}

/// A changed applied file is refused before any SQL: a pending revision of
/// the same build is not applied.
pub async fn checksum_drift_refused_before_any_sql<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let report = ok(runner(chain(1)).run(pool).await, "first build");
    assert!(
        report.to_string().starts_with("upgraded 1 revision: rev1"),
        "{report}"
    );

    let edited = rev(
        "rev1",
        "",
        "CREATE TABLE t1 (id INTEGER, edited INTEGER)",
        "DROP TABLE t1",
    );
    let second = runner(vec![edited, creates("rev2", "rev1", "t2")]);
    let error = err(second.run(pool).await, "run with an edited file");
    match &error {
        Error::ChecksumMismatch { revision, file, .. } => {
            assert_eq!(revision, "rev1");
            assert_eq!(file, "migrations/rev1_test.sql");
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    assert!(
        error.to_string().contains("migrations/rev1_test.sql"),
        "{error}"
    );
    // What `main() -> Result<(), Box<dyn Error>>` prints on `?`: the message,
    // not the variant's fields.
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert_eq!(format!("{boxed:?}"), boxed.to_string());
    assert!(
        !table_exists(pool, "t2").await,
        "rev2 ran despite the drift"
    );
    assert_eq!(history(pool).await, applied(&["rev1"]));

    let status = ok(second.status(pool).await, "status");
    assert_eq!(status.in_state(RevisionState::Drifted), ["rev1"]);
    assert_eq!(status.in_state(RevisionState::Pending), ["rev2"]);
    assert!(matches!(
        second.downgrade(pool, "base").await,
        Err(Error::ChecksumMismatch { .. })
    ));
    assert!(table_exists(pool, "t1").await);
}

/// An applied revision this build does not know is refused, and accepted
/// with `with_ignore_unknown(true)`.
pub async fn unknown_revision_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    ok(runner(chain(2)).run(pool).await, "newer build");

    let older = runner(vec![
        creates("rev1", "", "t1"),
        creates("rev3", "rev1", "t3"),
    ]);
    let error = err(
        older.run(pool).await,
        "run with an unknown revision applied",
    );
    match &error {
        Error::UnknownRevisions { revisions } => assert_eq!(revisions, &["rev2"]),
        other => panic!("expected UnknownRevisions, got {other:?}"),
    }
    assert!(error.to_string().contains("`rev2`"), "{error}");
    assert!(!table_exists(pool, "t3").await);

    let status = ok(older.status(pool).await, "status");
    assert_eq!(status.unknown, ["rev2"]);
    assert_eq!(status.in_state(RevisionState::Pending), ["rev3"]);
    assert_eq!(sorted_current(&older, pool).await, ["rev1", "rev2"]);

    let report = ok(
        older.with_ignore_unknown(true).run(pool).await,
        "run ignoring unknown revisions",
    );
    assert_eq!(ran(&report), ["rev3"]);
    assert_eq!(history(pool).await, applied(&["rev1", "rev2", "rev3"]));
}

/// rev1 fine, rev2 creates a table then fails, rev3 after it.
fn failing_chain() -> Vec<Revision> {
    vec![
        creates("rev1", "", "t1"),
        rev(
            "rev2",
            "rev1",
            "CREATE TABLE t2 (id INTEGER);\nINSERT INTO no_such_table VALUES (1);",
            "DROP TABLE t2",
        ),
        creates("rev3", "rev2", "t3"),
    ]
}

/// The same chain with rev2 fixed.
fn fixed_chain() -> Vec<Revision> {
    chain(3)
}

/// Checks a RevisionFailed for rev2 and returns its aftermath.
fn failed_rev2(error: &Error) -> Aftermath {
    let message = error.to_string();
    match error {
        Error::RevisionFailed {
            revision,
            file,
            aftermath,
            ..
        } => {
            assert_eq!(revision, "rev2");
            assert_eq!(file, "migrations/rev2_test.sql");
            for part in ["rev2", "migrations/rev2_test.sql", "no_such_table"] {
                assert!(message.contains(part), "`{part}` missing from: {message}");
            }
            *aftermath
        }
        other => panic!("expected RevisionFailed, got {other:?}"),
    }
}

/// After a half-applied rev2 (MySQL DDL): the next run refuses and says to
/// stamp; undoing by hand and stamping as told clears the way.
async fn resolve_half_applied_rev2<DB: TestDb>(pool: &Pool<DB>, runner: &Runner) {
    let error = err(runner.run(pool).await, "run after a half-applied revision");
    let Error::HalfApplied {
        revision, before, ..
    } = &error
    else {
        panic!("expected HalfApplied, got {error:?}");
    };
    assert_eq!((revision.as_str(), before.as_str()), ("rev2", "rev1"));
    assert!(error.to_string().contains("migrate stamp"), "{error}");
    let status = ok(runner.status(pool).await, "status");
    assert_eq!(status.in_state(RevisionState::HalfApplied), ["rev2"]);

    exec(pool, "DROP TABLE t2").await;
    ok(
        runner.stamp(pool, before).await,
        "stamp as the message says",
    );
    assert_eq!(history(pool).await, applied(&["rev1"]));
}

/// A failing revision in the middle of a chain: the revision before stays,
/// nothing of the failed one remains where DDL is transactional (MySQL
/// leaves a marker, and the next run refuses until stamped); fixing the
/// file and running again finishes the chain.
pub async fn failing_revision_in_chain<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let broken = runner(failing_chain());
    let error = err(broken.run(pool).await, "run with a failing revision");
    let aftermath = failed_rev2(&error);
    assert!(table_exists(pool, "t1").await, "rev1 must stay applied");
    assert!(!table_exists(pool, "t3").await, "rev3 ran after a failure");

    if DB::IMPLICIT_DDL_COMMIT {
        assert_eq!(aftermath, Aftermath::PartiallyApplied);
        assert!(table_exists(pool, "t2").await);
        let expected = vec![
            ("rev1".into(), "applied".into()),
            ("rev2".into(), "pending".into()),
        ];
        assert_eq!(history(pool).await, expected);
        resolve_half_applied_rev2(pool, &broken).await;
    } else {
        assert_eq!(aftermath, Aftermath::RolledBack);
        assert!(!table_exists(pool, "t2").await, "rev2 was not rolled back");
        assert_eq!(history(pool).await, applied(&["rev1"]));
        // Run again unchanged: the same failure, the same state.
        failed_rev2(&err(broken.run(pool).await, "second run"));
        assert_eq!(history(pool).await, applied(&["rev1"]));
    }

    let report = ok(
        runner(fixed_chain()).run(pool).await,
        "run with the fixed file",
    );
    assert_eq!(ran(&report), ["rev2", "rev3"]);
    assert_eq!(
        existing(pool, &["t1", "t2", "t3"]).await,
        ["t1", "t2", "t3"]
    );
    assert_eq!(history(pool).await, applied(&["rev1", "rev2", "rev3"]));
}

/// Single-transaction mode: a failure leaves nothing of the run where DDL
/// is transactional; the fixed chain then applies in one transaction.
pub async fn failing_revision_single_transaction<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let broken = runner(failing_chain()).with_transaction_mode(TransactionMode::Single);
    let error = err(broken.run(pool).await, "single-transaction run");
    let aftermath = failed_rev2(&error);
    let fixed = runner(fixed_chain()).with_transaction_mode(TransactionMode::Single);

    let expected: &[&str] = if DB::IMPLICIT_DDL_COMMIT {
        // DDL committed rev1 and rev2's marker: there is no all-or-nothing.
        assert_eq!(aftermath, Aftermath::PartiallyApplied);
        assert!(table_exists(pool, "t1").await);
        resolve_half_applied_rev2(pool, &fixed).await;
        &["rev2", "rev3"]
    } else {
        assert_eq!(aftermath, Aftermath::RunRolledBack);
        assert!(
            error.to_string().contains("whole run was rolled back"),
            "{error}"
        );
        assert!(existing(pool, &["t1", "t2", "t3"]).await.is_empty());
        assert!(history(pool).await.is_empty(), "rev1 survived the rollback");
        &["rev1", "rev2", "rev3"]
    };

    let report = ok(fixed.run(pool).await, "single-transaction run, fixed");
    assert_eq!(ran(&report), expected);
    assert_eq!(history(pool).await, applied(&["rev1", "rev2", "rev3"]));
    assert_eq!(
        existing(pool, &["t1", "t2", "t3"]).await,
        ["t1", "t2", "t3"]
    );
}

/// Single-transaction mode with a `transaction: false` revision in the
/// run: that revision commits what ran before it, so a later failure
/// cannot take the run back, and the error must not say it did.
pub async fn single_transaction_failure_after_a_commit<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let revisions = vec![
        creates("rev1", "", "t1"),
        file(
            "rev2",
            "rev1",
            "CREATE TABLE t2 (id INTEGER)",
            Some("DROP TABLE t2"),
            &["transaction: false"],
        ),
        creates("rev3", "rev2", "t3"),
        rev(
            "rev4",
            "rev3",
            "INSERT INTO no_such_table VALUES (1)",
            "SELECT 1",
        ),
    ];
    let single = runner(revisions).with_transaction_mode(TransactionMode::Single);
    let error = err(single.run(pool).await, "single-transaction run");
    let Error::RevisionFailed {
        revision,
        aftermath,
        ..
    } = &error
    else {
        panic!("expected RevisionFailed, got {error:?}");
    };
    assert_eq!(revision, "rev4");
    if DB::IMPLICIT_DDL_COMMIT {
        // rev3's DDL committed it too, and rev4's marker after it.
        assert_eq!(*aftermath, Aftermath::PartiallyApplied, "{error}");
        let mut expected = applied(&["rev1", "rev2", "rev3"]);
        expected.push(("rev4".into(), "pending".into()));
        assert_eq!(history(pool).await, expected);
        return;
    }
    assert_eq!(*aftermath, Aftermath::RunRolledBackToCommit, "{error}");
    assert!(error.to_string().contains("stay applied"), "{error}");
    assert_eq!(history(pool).await, applied(&["rev1", "rev2"]));
    assert_eq!(existing(pool, &["t1", "t2", "t3"]).await, ["t1", "t2"]);
    // Run again: rev3 and rev4 only, in one transaction, rolled back whole.
    let error = err(single.run(pool).await, "run again");
    assert!(
        matches!(
            error,
            Error::RevisionFailed {
                aftermath: Aftermath::RunRolledBack,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(history(pool).await, applied(&["rev1", "rev2"]));
}

/// A downgrade through a revision without a down section is refused at
/// planning, with nothing changed (not even the reversible revisions above
/// it).
pub async fn irreversible_downgrade_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(vec![
        creates("rev1", "", "t1"),
        file("rev2", "rev1", "CREATE TABLE t2 (id INTEGER)", None, &[]),
        creates("rev3", "rev2", "t3"),
    ]);
    ok(runner.run(pool).await, "run");
    let all = applied(&["rev1", "rev2", "rev3"]);

    for target in ["base", "rev1", "-2"] {
        let error = err(runner.downgrade(pool, target).await, target);
        match &error {
            Error::Plan(PlanError::Irreversible { id, file }) => {
                assert_eq!(
                    (id.as_str(), file.as_str()),
                    ("rev2", "migrations/rev2_test.sql")
                );
            }
            other => panic!("downgrade {target}: expected Irreversible, got {other:?}"),
        }
        assert_eq!(
            history(pool).await,
            all,
            "downgrade {target} changed the history"
        );
        assert_eq!(
            existing(pool, &["t1", "t2", "t3"]).await,
            ["t1", "t2", "t3"]
        );
    }

    let report = ok(runner.downgrade(pool, "-1").await, "downgrade -1");
    assert_eq!(ran(&report), ["rev3"]);
}

/// `COUNTER_REVISIONS` revisions, each inserting its number into `counter`.
/// Each also creates a table and then takes a moment, so that a runner
/// starting late reads the history while a revision is in progress (on
/// MySQL its pending row is committed by then).
const COUNTER_REVISIONS: usize = 6;

fn counter_revisions<DB: TestDb>() -> Vec<Revision> {
    (1..=COUNTER_REVISIONS)
        .map(|i| {
            let first = if i == 1 {
                "CREATE TABLE counter (rev INTEGER NOT NULL);\n"
            } else {
                ""
            };
            let up = format!(
                "{first}CREATE TABLE counter_{i} (id INTEGER);\n\
                 INSERT INTO counter VALUES ({i});\n{};",
                DB::PAUSE
            );
            let parent = if i == 1 {
                String::new()
            } else {
                format!("rev{}", i - 1)
            };
            rev(&format!("rev{i}"), &parent, &up, "DELETE FROM counter")
        })
        .collect()
}

/// 16 runners, each with a pool of its own, on a fresh database: half
/// start at once, half one by one while the others apply. All return Ok,
/// and every revision ran exactly once. Driving them with `tokio::spawn`
/// also proves the futures are `Send`.
pub async fn concurrent_runners_apply_each_revision_once<DB: TestDb>(db: &TestDatabase<DB>) {
    concurrent_runners(db, counter_revisions::<DB>()).await;
}

/// The same with a `transaction: false` revision in the chain, which runs
/// outside the run's transaction while the others wait for the lock.
pub async fn concurrent_runners_with_a_non_transactional_revision<DB: TestDb>(
    db: &TestDatabase<DB>,
) {
    let mut revisions = counter_revisions::<DB>();
    let up = format!(
        "INSERT INTO counter VALUES (3);\n{};\n{};",
        DB::PAUSE,
        DB::PAUSE
    );
    revisions[2] = file(
        "rev3",
        "rev2",
        &up,
        Some("SELECT 1"),
        &["transaction: false"],
    );
    concurrent_runners(db, revisions).await;
}

async fn concurrent_runners<DB: TestDb>(db: &TestDatabase<DB>, revisions: Vec<Revision>) {
    const RUNNERS: usize = 16;
    let runner = runner(revisions);
    let start = Arc::new(tokio::sync::Barrier::new(RUNNERS));
    let mut tasks = Vec::new();
    for i in 0..RUNNERS {
        let pool = db.pool_with(2).await;
        let (runner, start) = (runner.clone(), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            if i % 2 == 1 {
                tokio::time::sleep(Duration::from_millis(20 * i as u64)).await;
            }
            runner.run(&pool).await
        }));
    }
    let mut applied_by_someone = Vec::new();
    for task in tasks {
        let report = ok(task.await.expect("runner task panicked"), "concurrent run");
        applied_by_someone.extend(report.revisions().into_iter().map(str::to_string));
    }
    applied_by_someone.sort();
    let all: Vec<String> = (1..=COUNTER_REVISIONS).map(|i| format!("rev{i}")).collect();
    assert_eq!(
        applied_by_someone, all,
        "each revision reported by exactly one runner"
    );

    let pool = &db.pool;
    for i in 1..=COUNTER_REVISIONS {
        let times = count(pool, &format!("counter WHERE rev = {i}")).await;
        assert_eq!(times, 1, "revision {i} ran {times} times");
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    assert_eq!(history(pool).await, applied(&all));
}

/// A pool of one connection: every operation holds just the one.
pub async fn single_connection_pool<DB: TestDb>(db: &TestDatabase<DB>) {
    static EXAMPLE: Runner = migrate_runtime::embed_migrations!("../migrations");
    const USERS: &str = "1a2b3c4d5e6f";
    const CONTACT: &str = "3f2a9c1b7d4e";
    const PRODUCTS: &str = "8c7d6e5f4a3b";
    let pool = &db.pool_with(1).await;
    let runner = EXAMPLE.clone().with_lock_timeout(Duration::from_secs(5));

    let report = ok(runner.run(pool).await, "run");
    assert_eq!(ran(&report), [USERS, CONTACT, PRODUCTS]);
    assert!(ok(runner.status(pool).await, "status").is_up_to_date());
    assert_eq!(ok(runner.current(pool).await, "current"), [PRODUCTS]);
    assert!(ok(runner.run(pool).await, "no-op run").is_empty());

    let report = ok(runner.downgrade(pool, "-1").await, "downgrade -1");
    assert_eq!(ran(&report), [PRODUCTS]);
    assert!(!table_exists(pool, "products").await);
    let report = ok(runner.upgrade(pool, "+1").await, "upgrade +1");
    assert_eq!(ran(&report), [PRODUCTS]);

    ok(runner.downgrade(pool, "base").await, "downgrade base");
    assert!(!table_exists(pool, "users").await);
    let report = ok(runner.stamp(pool, "head").await, "stamp head");
    assert_eq!(ran(&report), [USERS, CONTACT, PRODUCTS]);
    assert!(!table_exists(pool, "users").await, "stamp ran SQL");
    let status = ok(runner.status(pool).await, "status");
    assert_eq!(status.in_state(RevisionState::Applied).len(), 3);

    // A failing run on the one connection leaves it usable.
    let broken = crate::support::runner(failing_chain()).with_history_table("other_history");
    failed_rev2(&err(broken.run(pool).await, "failing run"));
    assert!(ok(runner.run(pool).await, "run after a failure").is_empty());
}

/// After each kind of failed run, a runner on another pool takes the lock
/// at once: a lock left behind would show as LockTimeout after 2 s.
pub async fn lock_released_after_errors<DB: TestDb>(db: &TestDatabase<DB>) {
    let failing = db.pool_with(1).await;
    let other = db.pool_with(1).await;
    let short = |revisions| runner(revisions).with_lock_timeout(Duration::from_secs(2));
    // rev2 fails without DDL, so that it rolls back on every database.
    let bad_up = || {
        vec![
            creates("rev1", "", "t1"),
            rev(
                "rev2",
                "rev1",
                "INSERT INTO t1 VALUES (1);\nINSERT INTO no_such_table VALUES (1);",
                "DELETE FROM t1",
            ),
        ]
    };
    let good = || {
        vec![
            creates("rev1", "", "t1"),
            rev(
                "rev2",
                "rev1",
                "INSERT INTO t1 VALUES (2)",
                "DELETE FROM no_such_table",
            ),
        ]
    };
    let taken_at_once = |started: Instant, what: &str| {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{what} waited for the lock"
        );
    };

    failed_rev2(&err(short(bad_up()).run(&failing).await, "failing upgrade"));
    let started = Instant::now();
    let report = ok(
        short(good()).run(&other).await,
        "upgrade after a failed upgrade",
    );
    assert_eq!(ran(&report), ["rev2"]);
    taken_at_once(started, "upgrade after a failed upgrade");

    // The good revisions' rev2 has a failing down section.
    failed_rev2(&err(
        short(good()).downgrade(&failing, "-1").await,
        "failing downgrade",
    ));
    let started = Instant::now();
    ok(
        short(good()).stamp(&other, "rev1").await,
        "stamp after a failed downgrade",
    );
    taken_at_once(started, "stamp after a failed downgrade");

    let single = short(bad_up()).with_transaction_mode(TransactionMode::Single);
    failed_rev2(&err(
        single.run(&failing).await,
        "failing single-transaction run",
    ));
    let started = Instant::now();
    let report = ok(
        short(good()).run(&other).await,
        "upgrade after a failed single run",
    );
    assert_eq!(ran(&report), ["rev2"]);
    taken_at_once(started, "upgrade after a failed single run");

    // The pool whose runs failed is as good as new.
    let status = ok(
        short(good()).status(&failing).await,
        "status on the failing pool",
    );
    assert!(status.is_up_to_date(), "{status:?}");
    ok(
        short(good()).stamp(&failing, "rev1").await,
        "stamp on the failing pool",
    );
}

/// While a run holds the lock (its revision waits for a row the test has
/// locked; on SQLite, the test's write transaction keeps it from even
/// starting), another run gives up after its lock timeout with LockTimeout
/// and changes nothing; the first then finishes once, and the other's next
/// run has nothing to do.
pub async fn lock_timeout_while_a_run_is_in_progress<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    exec(pool, "CREATE TABLE blocker (id INTEGER)").await;
    exec(pool, "INSERT INTO blocker VALUES (1)").await;
    let revisions = vec![rev(
        "rev1",
        "",
        "UPDATE blocker SET id = id + 10",
        "SELECT 1",
    )];
    let holder = DB::hold(pool, "UPDATE blocker SET id = id + 1")
        .await
        .expect("lock the row");

    let first_pool = db.pool_with(1).await;
    let first = runner(revisions.clone());
    let first = tokio::spawn(async move { first.run(&first_pool).await });
    wait_for_row_lock_wait::<DB>(pool).await;

    let other = db.pool_with(1).await;
    let impatient = runner(revisions).with_lock_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = err(
        impatient.run(&other).await,
        "run while another holds the lock",
    );
    let waited = started.elapsed();
    let Error::LockTimeout { table, .. } = &error else {
        panic!("expected LockTimeout, got {error:?}");
    };
    // SQLite's lock is the database's write lock, and says so.
    assert!(
        table == HISTORY || table == "the SQLite database",
        "{error}"
    );
    // The holder may be the application's own write transaction (on
    // SQLite any writer takes the lock), not only another run.
    assert!(
        error.to_string().contains("any open write transaction"),
        "{error}"
    );
    assert!(
        waited >= Duration::from_millis(300),
        "gave up after {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "a 300 ms lock timeout waited {waited:?}"
    );

    holder.commit().await.expect("release the row");
    let report = ok(
        first.await.expect("the first run panicked"),
        "the first run",
    );
    assert_eq!(ran(&report), ["rev1"]);
    assert!(ok(impatient.run(&other).await, "the other's next run").is_empty());
    assert_eq!(count(pool, "blocker WHERE id = 12").await, 1);
}

/// Until some session waits for a row lock (or, where that cannot be
/// seen, a moment).
async fn wait_for_row_lock_wait<DB: TestDb>(pool: &Pool<DB>) {
    let Some(waiting) = DB::WAITING_FOR_ROW_LOCK else {
        tokio::time::sleep(Duration::from_millis(200)).await;
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(pool, waiting).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the first run never reached the locked row"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `status` reports applied, pending, drifted and half-applied revisions,
/// and `current` the applied heads.
pub async fn status_and_current<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(chain(3));
    let status = ok(runner.status(pool).await, "status of an empty database");
    assert_eq!(
        status.in_state(RevisionState::Pending),
        ["rev1", "rev2", "rev3"]
    );
    assert!(!status.is_up_to_date());
    assert!(ok(runner.current(pool).await, "current").is_empty());

    ok(runner.upgrade(pool, "+1").await, "upgrade +1");
    let status = ok(runner.status(pool).await, "status");
    assert_eq!(status.in_state(RevisionState::Applied), ["rev1"]);
    assert_eq!(status.in_state(RevisionState::Pending), ["rev2", "rev3"]);
    assert_eq!(ok(runner.current(pool).await, "current"), ["rev1"]);

    ok(runner.run(pool).await, "run");
    let status = ok(runner.status(pool).await, "status");
    assert!(status.is_up_to_date(), "{status:?}");
    assert_eq!(status.revisions[1].file, "migrations/rev2_test.sql");
    assert_eq!(ok(runner.current(pool).await, "current"), ["rev3"]);

    let mut edited = chain(3);
    edited[1] = rev(
        "rev2",
        "rev1",
        "CREATE TABLE t2 (id BIGINT)",
        "DROP TABLE t2",
    );
    let status = ok(crate::support::runner(edited).status(pool).await, "status");
    assert_eq!(status.in_state(RevisionState::Drifted), ["rev2"]);
    assert!(!status.is_up_to_date());

    // What a crash in the middle of a revision that cannot roll back
    // leaves behind.
    let crash = format!("UPDATE {HISTORY} SET state = 'pending' WHERE revision = 'rev3'");
    exec(pool, &crash).await;
    let status = ok(runner.status(pool).await, "status");
    assert_eq!(status.in_state(RevisionState::HalfApplied), ["rev3"]);
    assert_eq!(ok(runner.current(pool).await, "current"), ["rev2"]);
    let error = err(runner.run(pool).await, "run with a half-applied revision");
    assert!(
        matches!(error, Error::HalfApplied { ref before, .. } if before == "rev2"),
        "{error:?}"
    );
}

/// A `transaction: false` revision that fails leaves its row pending; the
/// next run refuses until the database is stamped.
pub async fn non_transactional_failure_leaves_marker<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let broken = runner(vec![
        creates("rev1", "", "t1"),
        file(
            "rev2",
            "rev1",
            "CREATE TABLE t2 (id INTEGER);\nINSERT INTO no_such_table VALUES (1);",
            Some("DROP TABLE t2"),
            &["transaction: false"],
        ),
    ]);
    let aftermath = failed_rev2(&err(broken.run(pool).await, "run"));
    assert_eq!(aftermath, Aftermath::PartiallyApplied);
    let expected = vec![
        ("rev1".into(), "applied".into()),
        ("rev2".into(), "pending".into()),
    ];
    assert_eq!(history(pool).await, expected);
    resolve_half_applied_rev2(pool, &broken).await;
}

/// A revision whose only statement fails committed nothing, even where its
/// pending row was committed first (`transaction: false`; MySQL DDL): the
/// row goes, the error says it was rolled back, and once the file is fixed
/// the next run applies it.
pub async fn failed_only_statement_leaves_nothing_pending<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    for extra in [&["transaction: false"][..], &[]] {
        let broken = runner(vec![
            creates("rev1", "", "t1"),
            file(
                "rev2",
                "rev1",
                "INSERT INTO no_such_table VALUES (1);",
                Some("SELECT 1"),
                extra,
            ),
        ]);
        let error = err(broken.run(pool).await, "run");
        assert_eq!(failed_rev2(&error), Aftermath::RolledBack, "{extra:?}");
        assert!(
            !error.to_string().contains("part of it was committed"),
            "{error}"
        );
        assert_eq!(history(pool).await, applied(&["rev1"]), "{extra:?}");
        let status = ok(broken.status(pool).await, "status");
        assert_eq!(status.in_state(RevisionState::Pending), ["rev2"]);
    }
    let fixed = runner(vec![
        creates("rev1", "", "t1"),
        creates("rev2", "rev1", "t2"),
    ]);
    ok(fixed.run(pool).await, "run with the fixed file");
    assert_eq!(history(pool).await, applied(&["rev1", "rev2"]));
}

/// The stamp a HalfApplied error proposes to forget the revision is a
/// target that resolves, and forgets nothing else: for a merge revision,
/// and for a revision whose parent has an applied sibling branch.
pub async fn half_applied_resolved_as_told<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let failing = |id: &str, revises: &str, table: &str, label: &str| {
        let up =
            format!("CREATE TABLE {table} (id INTEGER);\nINSERT INTO no_such_table VALUES (1);");
        let labels = format!("branch_labels: {label}");
        let down = format!("DROP TABLE {table}");
        file(
            id,
            revises,
            &up,
            Some(&down),
            &["transaction: false", &labels],
        )
    };

    let mut revisions = merge_graph();
    revisions[3] = failing("merge", "left, right", "m_merge", "joined");
    let merge = runner(revisions);
    err(merge.run(pool).await, "run with a failing merge");
    forget_as_told(pool, &merge, "merge", "m_merge").await;
    assert_eq!(history(pool).await, applied(&["left", "right", "root"]));

    let table = "sibling_history";
    let siblings = runner(vec![
        creates("trunk", "", "s_trunk"),
        failing("alpha", "trunk", "s_alpha", "alpha"),
        file(
            "beta",
            "trunk",
            "CREATE TABLE s_beta (id INTEGER)",
            None,
            &["branch_labels: beta"],
        ),
    ])
    .with_history_table(table);
    ok(
        siblings.upgrade(pool, "beta@head").await,
        "upgrade beta@head",
    );
    err(siblings.run(pool).await, "run with a failing alpha");
    forget_as_told(pool, &siblings, "alpha", "s_alpha").await;
    assert_eq!(history_in(pool, table).await, applied(&["beta", "trunk"]));
}

/// Expects the run to refuse with HalfApplied for `revision`, undoes it by
/// hand and stamps as the message says.
async fn forget_as_told<DB: TestDb>(pool: &Pool<DB>, runner: &Runner, revision: &str, table: &str) {
    let error = err(runner.run(pool).await, "run after a failure");
    let Error::HalfApplied {
        revision: id,
        before,
        ..
    } = &error
    else {
        panic!("expected HalfApplied, got {error:?}");
    };
    assert_eq!(id, revision);
    assert!(
        error
            .to_string()
            .contains(&format!("migrate stamp {before}")),
        "{error}"
    );
    exec(pool, &format!("DROP TABLE {table}")).await;
    ok(
        runner.stamp(pool, before).await,
        &format!("stamp {before}, as the error says"),
    );
}

/// A no-op run sends one statement, the history digest's check, and takes no lock:
/// on a connection that ran before, and on the first connection of a new
/// pool (an application's boot).
pub async fn noop_run_sends_one_statement<DB: TestDb>(
    db: &TestDatabase<DB>,
    protocol: Protocol,
    default_port: u16,
    no_tls: &str,
) {
    let proxy = Proxy::start(host_port(&db.url, default_port), protocol).await;
    let url = through(&db.url, &proxy.address, no_tls);
    let runner = runner(chain(3));

    let pool = pool_on::<DB>(&url, 1).await;
    ok(runner.run(&pool).await, "first run");
    let first = proxy.take();
    assert!(
        statements(&first)
            .iter()
            .any(|sql| sql.to_lowercase().contains("lock")),
        "the proxy did not see the lock of the first run: {first:#?}"
    );
    for boot in ["a later boot", "a new pool's first boot"] {
        if boot == "a new pool's first boot" {
            pool.close().await;
            let fresh = pool_on::<DB>(&url, 1).await;
            proxy.take(); // connecting
            assert_one_read(&ok(runner.run(&fresh).await, boot), &proxy.take(), boot);
        } else {
            assert_one_read(&ok(runner.run(&pool).await, boot), &proxy.take(), boot);
        }
    }
}

fn assert_one_read(report: &Report, log: &[Sent], boot: &str) {
    assert!(report.is_empty());
    let sent = statements(log);
    assert_eq!(sent.len(), 1, "{boot} sent {log:#?}");
    // The stored digest of the history, not its rows: a statement whose
    // cost does not grow with the history.
    assert!(
        sent[0].starts_with("SELECT COALESCE(") && sent[0].contains("migrate_history_digest"),
        "{boot}: {log:#?}"
    );
}

/// `stamp_purge` is the way out of a history written by a newer build:
/// `stamp` refuses the unknown rows, the purge forgets them in the same
/// locked batch and records the target; `applied_revisions` refuses and
/// then reports as a run would.
pub async fn stamp_purge_forgets_unknown_rows<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    ok(runner(chain(4)).run(pool).await, "run with the newer build");
    let older = runner(chain(3));
    let refused = err(older.applied_revisions(pool).await, "applied_revisions");
    assert!(
        matches!(refused, Error::UnknownRevisions { .. }),
        "{refused}"
    );
    let refused = err(older.stamp(pool, "head").await, "stamp head");
    assert!(
        matches!(refused, Error::UnknownRevisions { .. }),
        "{refused}"
    );

    let report = ok(older.stamp_purge(pool, "rev3").await, "stamp --purge rev3");
    assert_eq!(ran(&report), ["rev1", "rev2", "rev3"]);
    assert_eq!(history(pool).await, applied(&["rev1", "rev2", "rev3"]));
    assert_eq!(
        ok(older.applied_revisions(pool).await, "applied_revisions"),
        ["rev1", "rev2", "rev3"]
    );
    assert!(ok(older.run(pool).await, "run after the purge").is_empty());
}

/// A history with a gap (a row deleted by hand) stops runs with
/// `InconsistentHistory`, whose advice is `migrate stamp`: the stamp must
/// accept that history to repair it.
pub async fn stamp_repairs_a_history_with_gaps<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(chain(3));
    ok(runner.run(pool).await, "run");
    exec(
        pool,
        &format!("DELETE FROM {HISTORY} WHERE revision = 'rev1'"),
    )
    .await;
    let refused = err(runner.run(pool).await, "run with a gap");
    assert!(
        matches!(refused, Error::InconsistentHistory { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("migrate stamp"), "{refused}");

    let report = ok(runner.stamp(pool, "head").await, "stamp head");
    assert_eq!(ran(&report), ["rev1"]);
    assert_eq!(history(pool).await, applied(&["rev1", "rev2", "rev3"]));
    assert!(ok(runner.run(pool).await, "run after the stamp").is_empty());
}

/// A downgrade that fails after its first statement: rolled back where DDL
/// is transactional; on MySQL the row is left `reverting`, and the next run
/// says it was a downgrade and how to finish it (stamp below it), which
/// works.
pub async fn failing_downgrade_says_which_way_it_was_going<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(vec![
        creates("rev1", "", "d1"),
        rev(
            "rev2",
            "rev1",
            "CREATE TABLE d2 (id INTEGER)",
            "DROP TABLE d2;\nINSERT INTO no_such_table VALUES (1);",
        ),
    ]);
    ok(runner.run(pool).await, "run");
    let error = err(runner.downgrade(pool, "-1").await, "failing downgrade");
    let Error::RevisionFailed { aftermath, .. } = &error else {
        panic!("expected RevisionFailed, got {error:?}");
    };
    if !DB::IMPLICIT_DDL_COMMIT {
        assert_eq!(*aftermath, Aftermath::RolledBack, "{error}");
        assert_eq!(history(pool).await, applied(&["rev1", "rev2"]));
        assert_eq!(existing(pool, &["d1", "d2"]).await, ["d1", "d2"]);
        return;
    }
    assert_eq!(*aftermath, Aftermath::PartiallyApplied, "{error}");
    assert_eq!(
        history(pool).await,
        [
            ("rev1".to_string(), "applied".to_string()),
            ("rev2".to_string(), "reverting".to_string())
        ]
    );
    let refusal = err(runner.run(pool).await, "run after the failed downgrade");
    let message = refusal.to_string();
    assert!(
        matches!(&refusal, Error::HalfApplied { reverting: true, before, .. } if before == "rev1"),
        "{refusal:?}"
    );
    assert!(
        message.starts_with("the downgrade of revision `rev2`"),
        "{message}"
    );
    assert!(
        message.contains("finish the revert by hand and run `migrate stamp rev1`"),
        "{message}"
    );
    // The DROP went through: the revert is finished by stamping below it.
    ok(
        runner.stamp(pool, "rev1").await,
        "stamp as the message says",
    );
    assert_eq!(history(pool).await, applied(&["rev1"]));
    assert!(
        ok(runner.downgrade(pool, "base").await, "downgrade base")
            .steps
            .len()
            == 1
    );
}

/// A string literal whose last line starts with `--` is SQL, not a
/// trailing comment: the statement reaches the server whole.
pub async fn comment_like_line_inside_a_string_is_sent<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let revisions = vec![rev(
        "rev1",
        "",
        "CREATE TABLE notes (v VARCHAR(100));\nINSERT INTO notes VALUES ('first line\n-- second line');",
        "DROP TABLE notes;",
    )];
    ok(runner(revisions).run(pool).await, "run");
    let kept = "notes WHERE v LIKE 'first line%' AND v LIKE '%-- second line'";
    assert_eq!(count(pool, kept).await, 1, "the string arrived whole");
}

/// A run dropped by an application timeout while the server runs a long
/// statement: the statement is cancelled on the server (not left running
/// to commit), the revision rolled back, the lock free. `sleep` runs for
/// 30 s; `sleeping` counts the other sessions still running it.
pub async fn dropped_run_cancels_the_server_statement<DB: TestDb>(
    db: &TestDatabase<DB>,
    sleep: &str,
    sleeping: &str,
) {
    let slow = rev(
        "rev2",
        "rev1",
        &format!("INSERT INTO t1 VALUES (1);\n{sleep};"),
        "DELETE FROM t1",
    );
    let first = rev("rev1", "", "CREATE TABLE t1 (a INTEGER)", "DROP TABLE t1");
    ok(runner(vec![first.clone()]).run(&db.pool).await, "rev1");
    let runner = runner(vec![first.clone(), slow]);
    let pool = db.pool_with(1).await;
    let dropped = tokio::time::timeout(Duration::from_millis(1500), runner.run(&pool)).await;
    assert!(
        dropped.is_err(),
        "the run should still be sleeping: {dropped:?}"
    );
    let started = Instant::now();
    assert!(migrate_runtime::cancellations(Duration::from_secs(5)).await);
    assert_eq!(
        count(&db.pool, sleeping).await,
        0,
        "the server still runs `{sleep}`"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        count(&db.pool, "t1").await,
        0,
        "the interrupted revision was kept"
    );
    // The lock is free: a run needing it proceeds at once.
    let next = runner_with_lock_timeout(
        vec![first, creates("rev3", "rev1", "t3")],
        Duration::from_secs(1),
    );
    ok(next.run(&db.pool).await, "the next run");
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev3"]));
}

fn runner_with_lock_timeout(
    revisions: Vec<migrate_runtime::Revision>,
    timeout: Duration,
) -> Runner {
    runner(revisions).with_lock_timeout(timeout)
}

/// rev2 of [`a_failed_statement_is_named_by_its_line`], with Windows line
/// endings: a header of several lines, multibyte text before the
/// statements (PostgreSQL counts its positions in characters), a first
/// statement that succeeds, then (when `up_fails`) one over three lines
/// (11 to 13) whose error is on its second; the down section's second
/// statement (17 to 18) fails when `up_fails` is false.
fn pointed_file(table: &str, up_fails: bool, header: &str) -> Revision {
    let (selected, dropped) = if up_fails {
        ("nope", table.to_string())
    } else {
        ("id", format!("missing_{table}"))
    };
    let text = format!(
        "-- revision: rev2\n\
         -- revises: rev1\n\
         -- message: points at the line\n\
         -- created: 2026-12-02 10:00:00\n\
         {header}\n\
         \n\
         -- migrate:up\n\
         -- 日本語のコメントです、ここに書きます: ünïcödé ça va très bien\n\
         CREATE TABLE {table} (id INTEGER, label VARCHAR(20) DEFAULT 'ça; va');\n\
         \n\
         INSERT INTO {table} (id)\n  \
           SELECT {selected}\n  \
           FROM {table};\n\
         \n\
         -- migrate:down\n\
         DELETE FROM {table};\n\
         DROP TABLE\n  \
           {dropped};\n"
    )
    .replace('\n', "\r\n");
    migrate_runtime::core::parse_migration("migrations/rev2_test.sql", text.as_bytes())
        .unwrap_or_else(|errors| panic!("rev2 does not parse: {errors:?}\n{text}"))
}

/// The location a failed rev2 names, checked against its message, which
/// must name `file:line` and quote the statement's first line.
fn location_of(error: &Error) -> (usize, usize, String) {
    let message = error.to_string();
    let Error::RevisionFailed {
        location: Some(location),
        ..
    } = error
    else {
        panic!("expected RevisionFailed with a location, got {message}");
    };
    let named = format!(
        "revision `rev2` (migrations/rev2_test.sql:{}) failed",
        location.line
    );
    assert!(
        message.starts_with(&named),
        "`{named}` missing from: {message}"
    );
    assert!(message.ends_with(&location.quote()), "{message}");
    (location.line, location.statement_line, location.quote())
}

/// A failed statement is named by the file line it is on, and its first
/// line is quoted: up and down, one transaction per revision, one for the
/// run and `transaction: false`. PostgreSQL points into the statement (at
/// `nope` on line 12 of the statement of lines 11 to 13); elsewhere the
/// statement is found from how many statements succeeded before it.
pub async fn a_failed_statement_is_named_by_its_line<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let pointed_line = if DB::DIALECT == migrate_runtime::core::Dialect::Postgres {
        12
    } else {
        11
    };
    let modes = [
        (
            "per_revision",
            TransactionMode::PerRevision,
            "-- reviewed by the DBA",
        ),
        ("single", TransactionMode::Single, "-- reviewed by the DBA"),
        (
            "outside",
            TransactionMode::PerRevision,
            "-- transaction: false",
        ),
    ];
    for (name, mode, header) in modes {
        let up = runner(vec![
            creates("rev1", "", &format!("base_up_{name}")),
            pointed_file(&format!("up_{name}"), true, header),
        ])
        .with_history_table(format!("history_up_{name}"))
        .with_transaction_mode(mode);
        let error = err(up.run(pool).await, &format!("{name}: failing upgrade"));
        let (line, statement_line, quote) = location_of(&error);
        assert_eq!(
            (line, statement_line),
            (pointed_line, 11),
            "{name}: {error}"
        );
        assert!(
            quote.starts_with(&format!("  11 | INSERT INTO up_{name} (id)")),
            "{name}: {quote}"
        );
        // The database's words follow "failed: " directly: sqlx's own
        // "error returned from database" prefix says nothing here.
        let message = error.to_string();
        assert!(
            !message.contains("error returned from database"),
            "{name}: {message}"
        );

        let down = runner(vec![
            creates("rev1", "", &format!("base_down_{name}")),
            pointed_file(&format!("down_{name}"), false, header),
        ])
        .with_history_table(format!("history_down_{name}"))
        .with_transaction_mode(mode);
        ok(down.run(pool).await, &format!("{name}: upgrade"));
        let error = err(
            down.downgrade(pool, "base").await,
            &format!("{name}: failing downgrade"),
        );
        let (line, statement_line, quote) = location_of(&error);
        assert_eq!((line, statement_line), (17, 17), "{name}: {error}");
        assert_eq!(quote, "  17 | DROP TABLE", "{name}");
    }
}

/// A chain of tables, a foreign key, an added column, an index and an
/// irreversible revision.
fn stairway_chain<DB: TestDb>(phone_down: &str, index_down: Option<&str>) -> Vec<Revision> {
    let drop_index = match DB::DIALECT {
        migrate_runtime::core::Dialect::MySql => "DROP INDEX users_phone ON users",
        _ => "DROP INDEX users_phone",
    };
    vec![
        rev(
            "rev1",
            "",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT 'x')",
            "DROP TABLE users",
        ),
        rev(
            "rev2",
            "rev1",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, \
             FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE)",
            "DROP TABLE orders",
        ),
        rev(
            "rev3",
            "rev2",
            "ALTER TABLE users ADD COLUMN phone VARCHAR(20)",
            phone_down,
        ),
        rev(
            "rev4",
            "rev3",
            "CREATE UNIQUE INDEX users_phone ON users (phone)",
            index_down.unwrap_or(drop_index),
        ),
        file(
            "rev5",
            "rev4",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY)",
            None,
            &[],
        ),
    ]
}

/// The stairway of a chain whose downs undo their ups passes, and leaves
/// the database at the head.
pub async fn stairway_passes_on_a_good_chain<DB: TestDb + SchemaSnapshot>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = runner(stairway_chain::<DB>(
        "ALTER TABLE users DROP COLUMN phone",
        None,
    ));
    if let Err(failure) = runner.stairway(pool).await {
        panic!("the stairway of a good chain failed: {failure}");
    }
    assert_eq!(
        history(pool).await,
        applied(&["rev1", "rev2", "rev3", "rev4", "rev5"])
    );
    assert_eq!(
        existing(pool, &["users", "orders", "audit"]).await,
        ["users", "orders", "audit"]
    );
}

/// A down that forgets to drop the column its up added: the failure names
/// the revision, its file and the column left behind.
pub async fn stairway_finds_a_down_that_forgets_a_column<DB: TestDb + SchemaSnapshot>(
    db: &TestDatabase<DB>,
) {
    let runner = runner(stairway_chain::<DB>("SELECT 1", None));
    let failure = match migrate_runtime::testing::stairway(&runner, &db.pool).await {
        Ok(()) => panic!("the stairway passed a down that forgets a column"),
        Err(failure) => failure,
    };
    assert_eq!(failure.step, StairwayStep::DownDiffers, "{failure}");
    assert_eq!(failure.revision, "rev3");
    let left: Vec<&String> = failure
        .differences
        .iter()
        .filter(|l| l.starts_with("+ column ") && l.contains("users.phone"))
        .collect();
    assert_eq!(left.len(), 1, "{failure}");
    assert!(
        failure.differences.iter().all(|l| l.contains("phone")),
        "only the column differs: {failure}"
    );
    let text = failure.to_string();
    assert!(
        text.starts_with(
            "stairway: the down section of revision `rev3` (migrations/rev3_test.sql) \
             does not restore the schema from before its up (+ left by the down, - removed by it):\n    + column "
        ),
        "{text}"
    );
    assert_eq!(format!("{failure:?}"), text, "Debug reads as Display");
}

/// A down that forgets the index its up created is found too.
pub async fn stairway_finds_a_down_that_forgets_an_index<DB: TestDb + SchemaSnapshot>(
    db: &TestDatabase<DB>,
) {
    let runner = runner(stairway_chain::<DB>(
        "ALTER TABLE users DROP COLUMN phone",
        Some("SELECT 1"),
    ));
    let failure = runner.stairway(&db.pool).await.unwrap_err();
    assert_eq!(failure.step, StairwayStep::DownDiffers, "{failure}");
    assert_eq!(failure.revision, "rev4");
    assert!(
        failure
            .differences
            .iter()
            .any(|l| l.starts_with("+ ") && l.contains("users_phone")),
        "{failure}"
    );
}

/// A down the database rejects: the failure names the revision and
/// carries the database's error.
pub async fn stairway_finds_a_failing_down<DB: TestDb + SchemaSnapshot>(db: &TestDatabase<DB>) {
    let runner = runner(stairway_chain::<DB>("DROP TABLE no_such_table", None));
    let failure = runner.stairway(&db.pool).await.unwrap_err();
    assert_eq!(failure.step, StairwayStep::Down, "{failure}");
    assert_eq!(failure.revision, "rev3");
    let text = failure.to_string();
    assert!(
        text.starts_with(
            "stairway: the down section of revision `rev3` (migrations/rev3_test.sql) failed: "
        ),
        "{text}"
    );
    assert!(text.contains("no_such_table"), "{text}");
}

/// A database with revisions applied is refused before anything runs.
pub async fn stairway_refuses_a_database_not_at_base<DB: TestDb + SchemaSnapshot>(
    db: &TestDatabase<DB>,
) {
    let pool = &db.pool;
    let runner = runner(stairway_chain::<DB>(
        "ALTER TABLE users DROP COLUMN phone",
        None,
    ));
    ok(runner.upgrade(pool, "rev2").await, "upgrade to rev2");
    let failure = runner.stairway(pool).await.unwrap_err();
    assert_eq!(failure.step, StairwayStep::NotAtBase);
    assert_eq!(
        failure.to_string(),
        "stairway: the database is not at base (applied: rev1, rev2); give the stairway an empty database"
    );
    assert_eq!(history(pool).await, applied(&["rev1", "rev2"]));
}

/// `accounts` with a named CHECK (rev1), dropped by rev2, whose down is
/// `check_down`: the stairway of [`stairway_finds_a_down_that_forgets_a_check`].
fn check_chain<DB: TestDb>(table: &str, check_down: &str) -> Vec<Revision> {
    let create = |check: &str| {
        format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL{check})")
    };
    let checked = create(", CONSTRAINT balance_positive CHECK (balance >= 0)");
    // SQLite has no ALTER TABLE for constraints: the table is rebuilt.
    let rebuild = |check: &str| {
        format!(
            "CREATE TABLE {table}_new (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL{check});\n\
             INSERT INTO {table}_new SELECT id, balance FROM {table};\n\
             DROP TABLE {table};\n\
             ALTER TABLE {table}_new RENAME TO {table}"
        )
    };
    let (drop, down) = match DB::DIALECT {
        migrate_runtime::core::Dialect::Sqlite => (rebuild(""), rebuild(check_down)),
        _ => (
            format!("ALTER TABLE {table} DROP CONSTRAINT balance_positive"),
            if check_down.is_empty() {
                "SELECT 1".to_string()
            } else {
                format!("ALTER TABLE {table} ADD{check_down}")
            },
        ),
    };
    vec![
        rev("rev1", "", &checked, &format!("DROP TABLE {table}")),
        rev("rev2", "rev1", &drop, &down),
    ]
}

/// A revision dropping a CHECK whose down does not put it back, or puts
/// back another: the stairway names rev2 and the constraint; the down that
/// restores it passes.
pub async fn stairway_finds_a_down_that_forgets_a_check<DB: TestDb + SchemaSnapshot>(
    db: &TestDatabase<DB>,
) {
    let pool = &db.pool;
    let stairway = |table: &str, check_down: &str| {
        runner(check_chain::<DB>(table, check_down)).with_history_table(format!("history_{table}"))
    };
    let restores = stairway(
        "accounts_restored",
        " CONSTRAINT balance_positive CHECK (balance >= 0)",
    );
    if let Err(failure) = restores.stairway(pool).await {
        panic!("the stairway failed a down that restores the check: {failure}");
    }

    let failure = stairway("accounts_forgot", "")
        .stairway(pool)
        .await
        .unwrap_err();
    assert_eq!(failure.step, StairwayStep::DownDiffers, "{failure}");
    assert_eq!(failure.revision, "rev2");
    assert_eq!(failure.differences.len(), 1, "{failure}");
    let line = &failure.differences[0];
    assert!(
        line.starts_with("- ")
            && line.contains("accounts_forgot")
            && line.contains("balance_positive")
            && line.contains(">= 0"),
        "{failure}"
    );
    let text = failure.to_string();
    assert!(
        text.starts_with(
            "stairway: the down section of revision `rev2` (migrations/rev2_test.sql) \
             does not restore the schema from before its up (+ left by the down, - removed by it):\n    - "
        ),
        "{text}"
    );

    // Restored under its name, but not the same check.
    let failure = stairway(
        "accounts_other",
        " CONSTRAINT balance_positive CHECK (balance > 0)",
    )
    .stairway(pool)
    .await
    .unwrap_err();
    assert_eq!(failure.step, StairwayStep::DownDiffers, "{failure}");
    assert_eq!(failure.revision, "rev2");
    let mut signs: Vec<&str> = failure.differences.iter().map(|l| &l[..1]).collect();
    signs.sort();
    assert_eq!(signs, ["+", "-"], "{failure}");
    assert!(
        failure
            .differences
            .iter()
            .any(|l| l.starts_with("+ ") && l.contains("> 0"))
            && failure
                .differences
                .iter()
                .any(|l| l.starts_with("- ") && l.contains(">= 0")),
        "{failure}"
    );
}

/// The stairway of `revisions` on `pool` under a history table of its own
/// (`history_<name>`), expected to fail at the last revision's down with
/// a difference: the differences. For the database-specific objects of
/// the listing, each checked on the same database.
pub async fn stairway_differences<DB: TestDb + SchemaSnapshot>(
    pool: &Pool<DB>,
    name: &str,
    revisions: Vec<Revision>,
) -> Vec<String> {
    let last = revisions.last().expect("a revision").id.to_string();
    let runner = runner(revisions).with_history_table(format!("history_{name}"));
    let failure = match runner.stairway(pool).await {
        Ok(()) => panic!("{name}: the stairway passed a down that forgets"),
        Err(failure) => failure,
    };
    assert_eq!(failure.step, StairwayStep::DownDiffers, "{name}: {failure}");
    assert_eq!(failure.revision, last, "{name}: {failure}");
    failure.differences
}

/// A chain whose branches are applied side by side and joined by a merge
/// revision, with a `depends_on` across them: every revision goes up, down
/// and up again (`-1` is refused with two heads, and from a merge), and a
/// down on one branch that forgets its table is found at that revision.
pub async fn stairway_walks_branches_and_a_merge<DB: TestDb + SchemaSnapshot>(
    db: &TestDatabase<DB>,
) {
    let pool = &db.pool;
    let graph = |left_down: &str| {
        vec![
            creates("root", "", "b_root"),
            rev(
                "left",
                "root",
                "CREATE TABLE b_left (id INTEGER)",
                left_down,
            ),
            creates("right", "root", "b_right"),
            file(
                "across",
                "right",
                "CREATE TABLE b_across (id INTEGER)",
                Some("DROP TABLE b_across"),
                &["depends_on: left"],
            ),
            creates("merge", "left, across", "b_merge"),
            creates("after", "merge", "b_after"),
        ]
    };
    let good = runner(graph("DROP TABLE b_left")).with_history_table("history_branches_good");
    if let Err(failure) = good.stairway(pool).await {
        panic!("the stairway of a good branched graph failed: {failure}");
    }
    let mut current = ok(good.current(pool).await, "current");
    current.sort();
    assert_eq!(current, ["after"], "the stairway ends at the head");
    ok(good.downgrade(pool, "base").await, "downgrade to base");

    let bad = runner(graph("SELECT 1")).with_history_table("history_branches_bad");
    let failure = bad.stairway(pool).await.unwrap_err();
    assert_eq!(failure.step, StairwayStep::DownDiffers, "{failure}");
    assert_eq!(failure.revision, "left", "{failure}");
    assert!(
        failure
            .differences
            .iter()
            .all(|l| l.starts_with("+ ") && l.contains("b_left")),
        "{failure}"
    );
}
