//! Faults a boot meets in production, injected on purpose: a connection cut
//! while a revision runs, a partition while the runner waits for the
//! database (through the test's own [`Proxy`]), and a history row changed
//! behind a run's back. Each case checks the error against the history as
//! it really is, read on a connection of the test's own.

use std::time::{Duration, Instant};

use migrate_runtime::{Error, HistoryWrite, IoWait, LostOutcome, Revision, Runner};
use sqlx::Pool;

use super::proxy::{Fault, Protocol, Proxy};
use super::*;

/// Where a server-side fault test connects: its proxy, and the pool of one
/// connection through it.
pub struct Proxied<DB: TestDb> {
    /// The proxy in between.
    pub proxy: Proxy,
    /// A pool of one connection through the proxy.
    pub pool: Pool<DB>,
}

/// How to reach a database through a proxy of the test's own.
#[derive(Debug, Clone, Copy)]
pub struct Wire {
    /// The protocol the proxy reads.
    pub protocol: Protocol,
    /// The server's port when the URL names none.
    pub default_port: u16,
    /// The URL parameter that switches TLS off.
    pub no_tls: &'static str,
    /// A statement that sleeps `{}` seconds.
    pub sleep: &'static str,
}

impl Wire {
    fn sleep(&self, seconds: &str) -> String {
        self.sleep.replace("{}", seconds)
    }
}

async fn proxied<DB: TestDb>(db: &TestDatabase<DB>, wire: Wire) -> Proxied<DB> {
    let proxy = Proxy::start(host_port(&db.url, wire.default_port), wire.protocol).await;
    let url = through(&db.url, &proxy.address, wire.no_tls);
    Proxied {
        pool: pool_on::<DB>(&url, 1).await,
        proxy,
    }
}

/// The I/O timeout of these tests: short, so that a fault shows quickly.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounds a run that, without the I/O timeout, would hang forever.
async fn bounded<T>(what: &str, run: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for a minute"))
}

fn fault_runner(revisions: Vec<Revision>) -> Runner {
    runner(revisions).with_io_timeout(IO_TIMEOUT)
}

/// A partition while a boot reads the history: the run fails with the I/O
/// timeout, after about that long, instead of hanging.
pub async fn frozen_history_read_times_out<DB: TestDb>(db: &TestDatabase<DB>, wire: Wire) {
    let through = proxied(db, wire).await;
    let runner = fault_runner(vec![creates("rev1", "", "t1")]);
    through
        .proxy
        .fault_on("SELECT revision, checksum, state FROM", Fault::Freeze);
    gives_up_on_the_frozen_read(&through, &runner, "the history read").await;
    let message = result_message(runner.run(&through.pool).await);
    assert!(message.is_empty(), "the pool's next run failed: {message}");
    assert_eq!(history(&db.pool).await, applied(&["rev1"]));
}

/// A partition during a no-op boot, whose one statement is the history
/// digest's check: the boot fails with the I/O timeout instead of hanging.
pub async fn frozen_noop_boot_times_out<DB: TestDb>(db: &TestDatabase<DB>, wire: Wire) {
    let runner = fault_runner(vec![creates("rev1", "", "t1")]);
    ok(
        runner.run(&db.pool).await,
        "the first run, which stores the digest",
    );
    let through = proxied(db, wire).await;
    through.proxy.fault_on("SELECT COALESCE(", Fault::Freeze);
    gives_up_on_the_frozen_read(&through, &runner, "the digest check").await;
    assert_eq!(history(&db.pool).await, applied(&["rev1"]));
}

/// A run through the frozen proxy fails with the I/O timeout on `read`
/// (a read of the runner's own), after about that long.
async fn gives_up_on_the_frozen_read<DB: TestDb>(
    through: &Proxied<DB>,
    runner: &Runner,
    read: &str,
) {
    let started = Instant::now();
    let result = bounded("a run through a frozen proxy", runner.run(&through.pool)).await;
    let waited = started.elapsed();
    assert!(through.proxy.fault_struck(), "{read} was not sent");
    match result {
        Err(Error::IoTimeout {
            what: IoWait::HistoryRead,
            waited: limit,
            lock_may_be_held: false,
        }) => assert_eq!(limit, IO_TIMEOUT),
        other => panic!("expected an I/O timeout on {read}, got {other:?}"),
    }
    assert!(
        waited >= IO_TIMEOUT && waited < IO_TIMEOUT * 5,
        "the run gave up after {waited:?}, the I/O timeout is {IO_TIMEOUT:?}"
    );
}

fn result_message<T>(result: Result<T, Error>) -> String {
    result.err().map(|err| err.to_string()).unwrap_or_default()
}

/// The connection is cut while a revision that completes on the server
/// runs: the error says it committed, and so does the history.
pub async fn cut_during_a_revision_that_commits<DB: TestDb>(db: &TestDatabase<DB>, wire: Wire) {
    let through = proxied(db, wire).await;
    let runner = fault_runner(vec![
        creates("rev1", "", "t1"),
        creates("rev2", "rev1", "cut_commits"),
    ]);
    ok(
        runner.upgrade(&through.pool, "rev1").await,
        "upgrade to rev1",
    );
    through.proxy.fault_on("cut_commits", Fault::Cut);
    let error = bounded("a cut run", runner.run(&through.pool))
        .await
        .expect_err("the connection was cut");
    assert_lost(&error, "rev2", &LostOutcome::Committed);
    assert_eq!(history(&db.pool).await, applied(&["rev1", "rev2"]));
    assert!(table_exists(&db.pool, "cut_commits").await);
    // What the message says to do: run again (nothing left to do).
    let again = ok(runner.run(&db.pool).await, "the run after the cut");
    assert!(again.is_empty(), "{again:?}");
}

/// The connection is cut while a transactional revision's SQL still runs:
/// the lost session is ended, rolling it back, and the error says so.
pub async fn cut_during_a_revision_that_is_rolled_back<DB: TestDb>(
    db: &TestDatabase<DB>,
    wire: Wire,
) {
    let through = proxied(db, wire).await;
    let slow = format!("INSERT INTO t1 VALUES (2);\n{}", wire.sleep("30.25"));
    let runner = fault_runner(vec![
        creates("rev1", "", "t1"),
        rev("rev2", "rev1", &slow, "DELETE FROM t1"),
    ]);
    ok(
        runner.upgrade(&through.pool, "rev1").await,
        "upgrade to rev1",
    );
    through.proxy.fault_on("30.25", Fault::Cut);
    let error = bounded("a cut run", runner.run(&through.pool))
        .await
        .expect_err("the connection was cut");
    assert_lost(&error, "rev2", &LostOutcome::RolledBack);
    assert_eq!(history(&db.pool).await, applied(&["rev1"]));
    assert_eq!(count(&db.pool, "t1").await, 0, "the revision's row stayed");
    // The lost session's lock is gone: the next run applies rev2 (now
    // quickly: the proxy is out of the way, and the sleep is what it is).
    let fast = fault_runner(vec![
        creates("rev1", "", "t1"),
        rev(
            "rev2",
            "rev1",
            "INSERT INTO t1 VALUES (2)",
            "DELETE FROM t1",
        ),
    ]);
    let again = ok(fast.run(&db.pool).await, "the run after the cut");
    assert_eq!(again.revisions(), vec!["rev2"]);
}

/// The connection is cut while a `transaction: false` revision runs: its
/// pending row and its first statement committed, and the error says it
/// was left pending, as the history does.
pub async fn cut_during_a_non_transactional_revision<DB: TestDb>(
    db: &TestDatabase<DB>,
    wire: Wire,
) {
    let through = proxied(db, wire).await;
    let slow = format!("INSERT INTO t1 VALUES (2);\n{}", wire.sleep("30.5"));
    let runner = fault_runner(vec![
        creates("rev1", "", "t1"),
        file(
            "rev2",
            "rev1",
            &slow,
            Some("DELETE FROM t1"),
            &["transaction: false"],
        ),
    ]);
    ok(
        runner.upgrade(&through.pool, "rev1").await,
        "upgrade to rev1",
    );
    through.proxy.fault_on("30.5", Fault::Cut);
    let error = bounded("a cut run", runner.run(&through.pool))
        .await
        .expect_err("the connection was cut");
    assert_lost(&error, "rev2", &LostOutcome::HalfApplied);
    let expected = vec![
        ("rev1".to_string(), "applied".to_string()),
        ("rev2".to_string(), "pending".to_string()),
    ];
    assert_eq!(history(&db.pool).await, expected);
    assert_eq!(count(&db.pool, "t1").await, 1, "the committed statement");
    // The next run refuses, as the message says, and names the stamp.
    let refusal = result_message(runner.run(&db.pool).await);
    assert!(refusal.contains("migrate stamp rev2"), "{refusal}");
}

/// A partition while a revision's own SQL runs (its batch held back, and
/// every new connection unanswered): that SQL has no I/O timeout, but the
/// watch from a second connection finds the server unreachable, and the
/// run gives up, saying the outcome is unknown, instead of hanging.
pub async fn partition_during_a_revision_gives_up<DB: TestDb>(db: &TestDatabase<DB>, wire: Wire) {
    let through = proxied(db, wire).await;
    let slow = format!("INSERT INTO t1 VALUES (2);\n{}", wire.sleep("30.125"));
    let runner = runner(vec![
        creates("rev1", "", "t1"),
        rev("rev2", "rev1", &slow, "DELETE FROM t1"),
    ])
    .with_io_timeout(Duration::from_secs(1));
    ok(
        runner.upgrade(&through.pool, "rev1").await,
        "upgrade to rev1",
    );
    through.proxy.fault_on("30.125", Fault::Partition);
    let error = bounded("a partitioned run", runner.run(&through.pool))
        .await
        .expect_err("the network was partitioned");
    match &error {
        Error::ConnectionLost {
            revision,
            outcome: LostOutcome::Unknown(_),
            source,
            ..
        } if revision == "rev2" => assert!(
            matches!(
                **source,
                Error::IoTimeout {
                    what: IoWait::Watch,
                    ..
                }
            ),
            "{error}"
        ),
        other => panic!("expected a lost connection with an unknown outcome, got: {other}"),
    }
    assert!(error.to_string().contains("migrate current"), "{error}");
    // The batch never reached the server.
    assert_eq!(history(&db.pool).await, applied(&["rev1"]));
}

fn assert_lost(error: &Error, id: &str, expected: &LostOutcome) {
    match error {
        Error::ConnectionLost {
            revision, outcome, ..
        } => {
            assert_eq!(revision, id, "{error}");
            assert_eq!(outcome, expected, "{error}");
        }
        other => panic!("expected a lost connection with {expected:?}, got: {other}"),
    }
    let message = error.to_string();
    assert!(
        !message.contains("fix the file"),
        "a network error must not send the user to the file: {message}"
    );
}

/// A history row deleted behind the run's back while its `transaction:
/// false` revision runs (as a stamp that did not wait would): marking it
/// applied changes no row, and the run fails saying so, instead of
/// reporting success with the row gone.
pub async fn history_row_deleted_behind_the_runs_back<DB: TestDb>(
    db: &TestDatabase<DB>,
    slow: &str,
) {
    let runner = runner(vec![file(
        "rev1",
        "",
        &format!("CREATE TABLE behind (id INTEGER);\n{slow}"),
        Some("DROP TABLE behind"),
        &["transaction: false"],
    )]);
    let pool = db.pool_with(1).await;
    let run = tokio::spawn(async move { runner.run(&pool).await });
    wait_for_history(&db.pool, &[("rev1", "pending")]).await;
    exec(
        &db.pool,
        &format!("DELETE FROM {HISTORY} WHERE revision = 'rev1'"),
    )
    .await;
    let result = bounded("the run", run).await.expect("the run panicked");
    match &result {
        Err(Error::HistoryWriteMismatch {
            revision,
            write: HistoryWrite::MarkApplied,
            rows: 0,
        }) if revision == "rev1" => {}
        other => panic!("expected the mark-applied mismatch of rev1, got {other:?}"),
    }
    let message = result_message(result);
    assert!(message.contains("migrate stamp rev1"), "{message}");
}

/// Polls the history until it is `expected` (for up to 20 s).
pub async fn wait_for_history<DB: TestDb>(pool: &Pool<DB>, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(id, state)| (id.to_string(), state.to_string()))
        .collect();
    let started = Instant::now();
    loop {
        let rows = history(pool).await;
        if rows == expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the history stayed {rows:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ok<T>(result: Result<T, Error>, what: &str) -> T {
    result.unwrap_or_else(|err| panic!("{what} failed: {err}"))
}
