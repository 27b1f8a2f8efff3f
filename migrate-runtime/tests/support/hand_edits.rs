//! The one-statement boot (the history digest) against every way a
//! history can change behind its back. Each case first checks that the
//! digest is stored, so that the boot under test would take the fast path
//! if the edit went unnoticed: a wrong "nothing to do" fails the case.

use migrate_runtime::core::Dialect;
use migrate_runtime::{Error, Runner};
use sqlx::Pool;

use super::*;

/// The table beside the history that holds its digest.
const DIGEST: &str = "migrate_history_digest";

fn ok<T>(result: Result<T, Error>, what: &str) -> T {
    result.unwrap_or_else(|err| panic!("{what} failed: {err}"))
}

/// Whether a valid digest is stored: the next boot's one statement can
/// answer "nothing to do" on its own.
async fn guarded<DB: TestDb>(pool: &Pool<DB>) -> bool {
    table_exists(pool, DIGEST).await
        && count(pool, &format!("{DIGEST} WHERE digest IS NOT NULL")).await == 1
}

/// `rev1..rev3` applied and the digest stored, as after a deploy.
async fn deployed<DB: TestDb>(pool: &Pool<DB>) -> Runner {
    let runner = runner(chain(3));
    ok(runner.run(pool).await, "first run");
    assert!(
        guarded(pool).await,
        "{}: the run stored no history digest",
        DB::NAME
    );
    assert!(ok(runner.run(pool).await, "no-op run").is_empty());
    runner
}

/// After a problem is repaired, the boot is a no-op again and the digest
/// is stored again: the fast path comes back by itself.
async fn settles<DB: TestDb>(runner: &Runner, pool: &Pool<DB>) {
    assert!(ok(runner.run(pool).await, "run after the repair").is_empty());
    assert!(
        guarded(pool).await,
        "{}: the digest was not stored again",
        DB::NAME
    );
}

/// A row deleted by hand (with its table): the next boot applies the
/// revision again.
pub async fn hand_deleted_history_row_is_applied_again<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = deployed(pool).await;
    exec(
        pool,
        &format!("DELETE FROM {HISTORY} WHERE revision = 'rev3'"),
    )
    .await;
    exec(pool, "DROP TABLE t3").await;
    let report = ok(runner.run(pool).await, "run after the delete");
    assert_eq!(report.revisions(), ["rev3"], "{}", DB::NAME);
    assert!(table_exists(pool, "t3").await);
    settles(&runner, pool).await;
}

/// A row added by hand for a revision this build does not know: refused.
pub async fn hand_added_history_row_is_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = deployed(pool).await;
    let checksum = "0".repeat(64);
    exec(
        pool,
        &format!(
            "INSERT INTO {HISTORY} (revision, checksum, message, state, execution_ms) \
             VALUES ('rev9', '{checksum}', 'by hand', 'applied', 0)"
        ),
    )
    .await;
    match runner.run(pool).await {
        Err(Error::UnknownRevisions { revisions }) => assert_eq!(revisions, ["rev9"]),
        other => panic!("{}: expected UnknownRevisions, got {other:?}", DB::NAME),
    }
    exec(
        pool,
        &format!("DELETE FROM {HISTORY} WHERE revision = 'rev9'"),
    )
    .await;
    settles(&runner, pool).await;
}

/// A checksum edited by hand: refused as drift, naming the file.
pub async fn hand_edited_checksum_is_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = deployed(pool).await;
    let original = runner.revisions()[1].checksum_hex();
    let set = |checksum: &str| {
        format!("UPDATE {HISTORY} SET checksum = '{checksum}' WHERE revision = 'rev2'")
    };
    exec(pool, &set(&"f".repeat(64))).await;
    match runner.run(pool).await {
        Err(Error::ChecksumMismatch { revision, .. }) => assert_eq!(revision, "rev2"),
        other => panic!("{}: expected ChecksumMismatch, got {other:?}", DB::NAME),
    }
    exec(pool, &set(&original)).await;
    settles(&runner, pool).await;
}

/// A harmless edit (a message) still falls back to the full read once,
/// which finds nothing to do and stores the digest again.
pub async fn hand_edited_message_falls_back_once<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = deployed(pool).await;
    exec(
        pool,
        &format!("UPDATE {HISTORY} SET message = 'reworded' WHERE revision = 'rev1'"),
    )
    .await;
    assert!(
        !guarded(pool).await,
        "{}: the edit left the digest valid",
        DB::NAME
    );
    settles(&runner, pool).await;
}

/// A migration file changed after it was applied: the database did not
/// change, the build did, and the boot refuses as drift.
pub async fn changed_file_is_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    deployed(pool).await;
    let mut revisions = chain(3);
    revisions[2] = rev(
        "rev3",
        "rev2",
        "CREATE TABLE t3 (id INTEGER, edited INTEGER)",
        "DROP TABLE t3",
    );
    match super::runner(revisions).run(pool).await {
        Err(Error::ChecksumMismatch { revision, .. }) => assert_eq!(revision, "rev3"),
        other => panic!("{}: expected ChecksumMismatch, got {other:?}", DB::NAME),
    }
}

/// A revision left half-applied (its row pending): refused.
pub async fn pending_row_is_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let runner = deployed(pool).await;
    exec(
        pool,
        &format!("UPDATE {HISTORY} SET state = 'pending' WHERE revision = 'rev3'"),
    )
    .await;
    match runner.run(pool).await {
        Err(Error::HalfApplied { revision, .. }) => assert_eq!(revision, "rev3"),
        other => panic!("{}: expected HalfApplied, got {other:?}", DB::NAME),
    }
    exec(
        pool,
        &format!("UPDATE {HISTORY} SET state = 'applied' WHERE revision = 'rev3'"),
    )
    .await;
    settles(&runner, pool).await;
}

/// A database a newer build migrated further: the older build's boot
/// refuses the revision it does not know (the stored digest is valid, but
/// of another history).
pub async fn database_ahead_of_the_build_is_refused<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    ok(runner(chain(4)).run(pool).await, "newer build");
    assert!(guarded(pool).await);
    match runner(chain(3)).run(pool).await {
        Err(Error::UnknownRevisions { revisions }) => assert_eq!(revisions, ["rev4"]),
        other => panic!("{}: expected UnknownRevisions, got {other:?}", DB::NAME),
    }
}

/// The history emptied (`DELETE` without `WHERE`, and `TRUNCATE` where
/// there is one, which fires no row trigger on MySQL) or dropped, with the
/// tables: every revision is applied again.
pub async fn emptied_or_dropped_history_is_applied_again<DB: TestDb>(db: &TestDatabase<DB>) {
    let pool = &db.pool;
    let mut emptying = vec![
        format!("DELETE FROM {HISTORY}"),
        format!("DROP TABLE {HISTORY}"),
    ];
    if DB::DIALECT != Dialect::Sqlite {
        emptying.push(format!("TRUNCATE TABLE {HISTORY}"));
    }
    for empty in emptying {
        let runner = deployed(pool).await;
        exec(pool, &empty).await;
        exec(pool, "DROP TABLE t1; DROP TABLE t2; DROP TABLE t3").await;
        let report = ok(runner.run(pool).await, &format!("run after `{empty}`"));
        assert_eq!(
            report.revisions(),
            ["rev1", "rev2", "rev3"],
            "{}: after `{empty}`",
            DB::NAME
        );
        settles(&runner, pool).await;
    }
}
