//! Shared by the database test binaries (`sqlite`, `postgres`, `mysql`): a
//! fresh database per test, migration files rendered from text, queries
//! that look at the schema and the history table, a wire proxy that counts
//! statements, and the cases every database runs (`cases`).
//!
//! Postgres and MySQL tests read `TEST_POSTGRES_URL` and `TEST_MYSQL_URL`
//! (a server URL; each test creates its own database through it). Without
//! the variable a test says it was skipped and returns, except under
//! `CI=true`, where a missing variable fails the test.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod cases;
pub mod faults;
pub mod hand_edits;
pub mod proxy;

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrate_runtime::{Backend, Revision, Runner};
use sqlx::pool::PoolOptions;
use sqlx::Pool;

/// The history table's default name.
pub const HISTORY: &str = "migrate_history";

/// Renders a migration file in the format of DESIGN.md and parses it as
/// `migrations/<id>_test.sql`, exactly as a file on disk would be.
/// `extra` holds further header lines without the `-- ` (for instance
/// `transaction: false` or `branch_labels: billing`).
pub fn file(id: &str, revises: &str, up: &str, down: Option<&str>, extra: &[&str]) -> Revision {
    let mut text = format!("-- revision: {id}\n-- revises: {revises}\n-- message: revision {id}\n");
    for line in extra {
        text.push_str(&format!("-- {line}\n"));
    }
    text.push_str(&format!("\n-- migrate:up\n{up}\n"));
    if let Some(down) = down {
        text.push_str(&format!("\n-- migrate:down\n{down}\n"));
    }
    let path = format!("migrations/{id}_test.sql");
    migrate_runtime::core::parse_migration(&path, text.as_bytes())
        .unwrap_or_else(|errors| panic!("{path} does not parse: {errors:?}\n{text}"))
}

/// A reversible revision with no extra header lines.
pub fn rev(id: &str, revises: &str, up: &str, down: &str) -> Revision {
    file(id, revises, up, Some(down), &[])
}

/// A revision that creates `table` and drops it on the way down.
pub fn creates(id: &str, revises: &str, table: &str) -> Revision {
    rev(
        id,
        revises,
        &format!("CREATE TABLE {table} (id INTEGER)"),
        &format!("DROP TABLE {table}"),
    )
}

/// `rev1 <- rev2 <- ... <- rev<n>`, revision `revN` creating table `tN`.
pub fn chain(n: usize) -> Vec<Revision> {
    (1..=n)
        .map(|i| {
            let parent = if i == 1 {
                String::new()
            } else {
                format!("rev{}", i - 1)
            };
            creates(&format!("rev{i}"), &parent, &format!("t{i}"))
        })
        .collect()
}

/// The ids of some revisions, for comparing with reports.
pub fn ids(revisions: &[&str]) -> Vec<String> {
    revisions.iter().map(|s| s.to_string()).collect()
}

/// What the tests need to look at a database, beyond the runner: written
/// once per database with concrete types (see `impl_test_db!`).
pub trait TestDb: Backend {
    /// DDL commits implicitly (MySQL): a revision that fails after DDL
    /// leaves part of itself, and its history row pending.
    const IMPLICIT_DDL_COMMIT: bool;
    /// A statement that takes a few tens of milliseconds.
    const PAUSE: &'static str;
    /// `FROM ...` counting sessions that wait for a row lock of `blocker`,
    /// where the database shows them.
    const WAITING_FOR_ROW_LOCK: Option<&'static str>;

    /// Runs statements.
    fn exec(pool: &Pool<Self>, sql: &str) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// The one integer a query returns.
    fn scalar(
        pool: &Pool<Self>,
        sql: &str,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send;

    /// Two text columns of every row.
    fn pairs(
        pool: &Pool<Self>,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, sqlx::Error>> + Send;

    /// Runs statements in a transaction left open, holding their locks.
    fn hold(
        pool: &Pool<Self>,
        sql: &str,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self>, sqlx::Error>> + Send;
}

macro_rules! impl_test_db {
    ($db:ty, implicit_ddl_commit: $implicit:literal, pause: $pause:literal, waiting: $waiting:expr) => {
        impl TestDb for $db {
            const IMPLICIT_DDL_COMMIT: bool = $implicit;
            const PAUSE: &'static str = $pause;
            const WAITING_FOR_ROW_LOCK: Option<&'static str> = $waiting;

            async fn exec(pool: &Pool<Self>, sql: &str) -> Result<(), sqlx::Error> {
                sqlx::raw_sql(sql).execute(pool).await.map(drop)
            }

            async fn scalar(pool: &Pool<Self>, sql: &str) -> Result<i64, sqlx::Error> {
                sqlx::query_scalar(sql).fetch_one(pool).await
            }

            async fn pairs(
                pool: &Pool<Self>,
                sql: &str,
            ) -> Result<Vec<(String, String)>, sqlx::Error> {
                sqlx::query_as(sql).fetch_all(pool).await
            }

            async fn hold(
                pool: &Pool<Self>,
                sql: &str,
            ) -> Result<sqlx::Transaction<'static, Self>, sqlx::Error> {
                let mut transaction = pool.begin().await?;
                // The method form: the function form's future is not `Send`
                // (sqlx's higher-ranked `Executor` bound).
                sqlx::Executor::execute(&mut *transaction, sqlx::raw_sql(sql)).await?;
                Ok(transaction)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
impl_test_db!(sqlx::Sqlite, implicit_ddl_commit: false, pause:
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) SELECT COUNT(*) FROM n",
    waiting: None);
#[cfg(feature = "postgres")]
impl_test_db!(sqlx::Postgres, implicit_ddl_commit: false, pause: "SELECT pg_sleep(0.04)",
    waiting: Some("pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"));
#[cfg(feature = "mysql")]
impl_test_db!(sqlx::MySql, implicit_ddl_commit: true, pause: "SELECT SLEEP(0.04)",
    waiting: Some("information_schema.PROCESSLIST WHERE db = DATABASE() AND info LIKE 'UPDATE blocker%'"));

/// Runs statements, panicking with the SQL on error.
pub async fn exec<DB: TestDb>(pool: &Pool<DB>, sql: &str) {
    DB::exec(pool, sql)
        .await
        .unwrap_or_else(|err| panic!("{}: `{sql}` failed: {err}", DB::NAME));
}

/// `SELECT COUNT(*) FROM <from>`, panicking on error.
pub async fn count<DB: TestDb>(pool: &Pool<DB>, from: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {from}");
    DB::scalar(pool, &sql)
        .await
        .unwrap_or_else(|err| panic!("{}: `{sql}` failed: {err}", DB::NAME))
}

/// Whether a table exists (can be read from).
pub async fn table_exists<DB: TestDb>(pool: &Pool<DB>, table: &str) -> bool {
    DB::scalar(pool, &format!("SELECT COUNT(*) FROM {table}"))
        .await
        .is_ok()
}

/// The tables among `candidates` that exist, in the order given.
pub async fn existing<DB: TestDb>(pool: &Pool<DB>, candidates: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for table in candidates {
        if table_exists(pool, table).await {
            found.push(table.to_string());
        }
    }
    found
}

/// The history table's `(revision, state)` rows, ordered by revision;
/// empty when the table does not exist.
pub async fn history<DB: TestDb>(pool: &Pool<DB>) -> Vec<(String, String)> {
    history_in(pool, HISTORY).await
}

/// [`history`] of another history table.
pub async fn history_in<DB: TestDb>(pool: &Pool<DB>, table: &str) -> Vec<(String, String)> {
    if !table_exists(pool, table).await {
        return Vec::new();
    }
    let sql = format!("SELECT revision, state FROM {table} ORDER BY revision");
    DB::pairs(pool, &sql)
        .await
        .unwrap_or_else(|err| panic!("{}: `{sql}` failed: {err}", DB::NAME))
}

/// History rows, every one `applied`, for comparing with [`history`].
pub fn applied(revisions: &[&str]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = revisions
        .iter()
        .map(|id| (id.to_string(), "applied".to_string()))
        .collect();
    rows.sort();
    rows
}

/// A database of its own for one test, dropped (best effort) with it.
pub struct TestDatabase<DB: TestDb> {
    /// Connects to this test's database.
    pub url: String,
    /// A pool of two connections on it.
    pub pool: Pool<DB>,
    cleanup: Cleanup,
}

enum Cleanup {
    /// A database on a server: dropped through the server URL.
    Server { admin_url: String, drop_sql: String },
    /// A temporary directory holding a SQLite file.
    Dir(PathBuf),
}

impl<DB: TestDb> TestDatabase<DB> {
    /// A new pool of at most `max` connections on this test's database.
    pub async fn pool_with(&self, max: u32) -> Pool<DB> {
        pool_on(&self.url, max).await
    }
}

/// A pool with a short acquire timeout, so that a run needing a second
/// connection from a one-connection pool fails instead of hanging.
pub async fn pool_on<DB: TestDb>(url: &str, max: u32) -> Pool<DB> {
    PoolOptions::<DB>::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .unwrap_or_else(|err| panic!("{}: connecting to {url} failed: {err}", DB::NAME))
}

impl<DB: TestDb> Drop for TestDatabase<DB> {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Server {
                admin_url,
                drop_sql,
            } => drop_database::<DB>(admin_url.clone(), drop_sql.clone()),
        }
    }
}

/// Drops a test database from a thread of its own: `Drop` cannot await,
/// and this also runs when the test panicked.
fn drop_database<DB: TestDb>(admin_url: String, drop_sql: String) {
    let note = format!("note: `{drop_sql}` did not complete");
    let dropping = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let work = async {
                let admin = PoolOptions::<DB>::new()
                    .max_connections(1)
                    .connect(&admin_url)
                    .await
                    .ok()?;
                let dropped = DB::exec(&admin, &drop_sql).await;
                admin.close().await;
                dropped.ok()
            };
            tokio::time::timeout(Duration::from_secs(10), work)
                .await
                .ok()
                .flatten()
        })
    });
    if dropping.join().ok().flatten().is_none() {
        let _ = writeln!(std::io::stderr(), "{note}");
    }
}

/// `migrate_t_<pid>_<n>_<ms>`: unique on this machine, and recognisable
/// when one is left behind.
pub fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!(
        "migrate_t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        millis % 100_000_000
    )
}

/// A SQLite database in a fresh file of a temporary directory.
#[cfg(feature = "sqlite")]
pub async fn sqlite() -> Option<TestDatabase<sqlx::Sqlite>> {
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
    Some(TestDatabase {
        pool: pool_on(&url, 2).await,
        url,
        cleanup: Cleanup::Dir(dir),
    })
}

/// A fresh database on the PostgreSQL server of `TEST_POSTGRES_URL`.
#[cfg(feature = "postgres")]
pub async fn postgres() -> Option<TestDatabase<sqlx::Postgres>> {
    server_database("TEST_POSTGRES_URL", |name| {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    })
    .await
}

/// A fresh database on the MySQL or MariaDB server of `TEST_MYSQL_URL`.
#[cfg(feature = "mysql")]
pub async fn mysql() -> Option<TestDatabase<sqlx::MySql>> {
    server_database("TEST_MYSQL_URL", |name| {
        format!("DROP DATABASE IF EXISTS {name}")
    })
    .await
}

async fn server_database<DB: TestDb>(
    variable: &str,
    drop_sql: impl Fn(&str) -> String,
) -> Option<TestDatabase<DB>> {
    let admin_url = server_url(variable)?;
    let name = unique_name();
    let admin = pool_on::<DB>(&admin_url, 1).await;
    exec(&admin, &format!("CREATE DATABASE {name}")).await;
    admin.close().await;
    let url = with_database(&admin_url, &name);
    Some(TestDatabase {
        pool: pool_on(&url, 2).await,
        url,
        cleanup: Cleanup::Server {
            admin_url,
            drop_sql: drop_sql(&name),
        },
    })
}

/// The server URL in `variable`. Missing: a skip, said where the test
/// output shows it; under `CI=true` a failure, so CI never passes silently
/// without the database.
pub fn server_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{variable} is not set, and CI=true: these tests must run against the server")
        }
        _ => {
            // Straight to stderr: libtest captures only the print macros,
            // and a skip must be visible.
            let test = std::thread::current().name().unwrap_or("test").to_string();
            let _ = writeln!(std::io::stderr(), "{test}: skipped, {variable} is not set");
            None
        }
    }
}

/// The parts of a `scheme://user@host:port/database?query` URL.
struct UrlParts<'u> {
    /// `scheme://user@`
    before_host: &'u str,
    host_port: &'u str,
    /// `?query` or empty.
    query: &'u str,
}

fn url_parts(url: &str) -> UrlParts<'_> {
    let (url, query) = match url.find('?') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    let path_start = url[authority_start..]
        .find('/')
        .map_or(url.len(), |at| authority_start + at);
    let host_start = url[authority_start..path_start]
        .rfind('@')
        .map_or(authority_start, |at| authority_start + at + 1);
    UrlParts {
        before_host: &url[..host_start],
        host_port: &url[host_start..path_start],
        query,
    }
}

/// The same server URL, naming another database.
pub fn with_database(url: &str, database: &str) -> String {
    let parts = url_parts(url);
    format!(
        "{}{}/{database}{}",
        parts.before_host, parts.host_port, parts.query
    )
}

/// The `host:port` a URL connects to, with `default_port` when it has none.
pub fn host_port(url: &str, default_port: u16) -> String {
    let host_port = url_parts(url).host_port;
    if host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        host_port.to_string()
    } else {
        format!("{host_port}:{default_port}")
    }
}

/// The same URL through another `host:port`, with an extra query parameter.
pub fn through(url: &str, address: &str, parameter: &str) -> String {
    let parts = url_parts(url);
    let database = {
        let rest = &url[parts.before_host.len() + parts.host_port.len()..];
        &rest[..rest.len() - parts.query.len()]
    };
    let separator = if parts.query.is_empty() { '?' } else { '&' };
    format!(
        "{}{address}{database}{}{separator}{parameter}",
        parts.before_host, parts.query
    )
}

/// The runner of a set of revisions, with a lock timeout short enough that
/// a leaked lock fails a test quickly.
pub fn runner(revisions: Vec<Revision>) -> Runner {
    Runner::new(revisions).with_lock_timeout(Duration::from_secs(20))
}

/// The cases every database runs, for the database `$db` set up by
/// `$fresh`: one list, so a new case reaches all three.
#[macro_export]
macro_rules! shared_database_tests {
    ($db:ty, $fresh:path) => {
        database_tests!($db, $fresh;
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
            failed_only_statement_leaves_nothing_pending,
            half_applied_resolved_as_told,
            stamp_purge_forgets_unknown_rows,
            stamp_repairs_a_history_with_gaps,
            failing_downgrade_says_which_way_it_was_going,
            comment_like_line_inside_a_string_is_sent,
            a_failed_statement_is_named_by_its_line,
            hand_deleted_history_row_is_applied_again,
            hand_added_history_row_is_refused,
            hand_edited_checksum_is_refused,
            hand_edited_message_falls_back_once,
            changed_file_is_refused,
            pending_row_is_refused,
            database_ahead_of_the_build_is_refused,
            emptied_or_dropped_history_is_applied_again,
            stairway_passes_on_a_good_chain,
            stairway_finds_a_down_that_forgets_a_column,
            stairway_finds_a_down_that_forgets_an_index,
            stairway_finds_a_failing_down,
            stairway_refuses_a_database_not_at_base,
            stairway_finds_a_down_that_forgets_a_check,
            stairway_walks_branches_and_a_merge,
        );
    };
}

/// Instantiates cases of [`cases`] for one database: one
/// `#[tokio::test]` per case, each on a fresh database from `$fresh`.
#[macro_export]
macro_rules! database_tests {
    ($db:ty, $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(db) = $fresh().await else { return };
                support::cases::$case::<$db>(&db).await;
            }
        )*
    };
}
