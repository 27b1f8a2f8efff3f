//! `migrate revision --autogenerate` on a long chain: 1,000 revisions that
//! build 300 tables (a table each, then columns added to them), against
//! replaying that chain alone, which autogenerate must do anyway. The
//! target is autogenerate ≤ 2× the replay.
//!
//! ```text
//! cargo run --release -p migrate-bench --bin autogenerate [-- RUNS]
//! ```
//!
//! PostgreSQL (scratch databases on `BENCH_POSTGRES_URL`, then
//! `TEST_POSTGRES_URL`, which must name an empty database) and MySQL or
//! MariaDB (`BENCH_MYSQL_URL`, then `TEST_MYSQL_URL`, likewise) run when
//! reachable.

use std::str::FromStr;
use std::time::{Duration, Instant};

use migrate_core::{parse_migration, Dialect, Revision};
use migrate_runtime::Runner;
use migrate_schema::introspect::{mysql, postgres, sqlite};
use migrate_schema::scratch::{apply_declared, ScratchServer};
use migrate_schema::{parse_declared, plan, DeclaredSchema};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Pool, Sqlite};

const TABLES: usize = 300;
const REVISIONS: usize = 1000;

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5);
    let (revisions, declared_text) = chain();
    let declared = parse_declared("schema.sql", &declared_text, Dialect::Sqlite)?;
    let runner = Runner::new(revisions.clone()).with_history_digest(false);
    println!(
        "## Autogenerate on {REVISIONS} revisions building {TABLES} tables (median of {runs})\n"
    );
    println!("| database | replay the chain | autogenerate | ratio | samples, ms (replay / autogenerate) |");
    println!("|---|---|---|---|---|");

    let mut replay = Vec::new();
    let mut generate = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let pool = memory().await?;
        runner.run(&pool).await?;
        replay.push(start.elapsed());
        pool.close().await;

        let start = Instant::now();
        let statements = autogenerate_sqlite(&runner, &declared).await?;
        generate.push(start.elapsed());
        assert!(statements > 0, "the declared schema differs by one column");
    }
    row("sqlite (in memory)", &mut replay, &mut generate);

    let url = std::env::var("BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    match ScratchServer::open(Dialect::Postgres, &url, &url).await {
        Err(err) => println!("| postgres | skipped: {} | | | |", err.message),
        Ok(server) => {
            let declared = parse_declared("schema.sql", &declared_text, Dialect::Postgres)?;
            let mut replay = Vec::new();
            let mut generate = Vec::new();
            for _ in 0..runs {
                let start = Instant::now();
                let db = server.create("bench").await?;
                let pool = sqlx::PgPool::connect(&db).await?;
                runner.run(&pool).await?;
                pool.close().await;
                replay.push(start.elapsed());
                server.drop_all().await;

                let start = Instant::now();
                let result = autogenerate_postgres(&server, &runner, &declared).await;
                generate.push(start.elapsed());
                server.drop_all().await;
                assert!(result? > 0);
            }
            row("postgres", &mut replay, &mut generate);
        }
    }

    let url = std::env::var("BENCH_MYSQL_URL")
        .or_else(|_| std::env::var("TEST_MYSQL_URL"))
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string());
    match ScratchServer::open(Dialect::MySql, &url, &url).await {
        Err(err) => println!("| mysql | skipped: {} | | | |", err.message),
        Ok(server) => {
            let declared = parse_declared("schema.sql", &declared_text, Dialect::MySql)?;
            let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
                .fetch_one(&sqlx::MySqlPool::connect(&url).await?)
                .await?;
            let mut replay = Vec::new();
            let mut generate = Vec::new();
            for _ in 0..runs {
                let start = Instant::now();
                let db = server.create("bench").await?;
                let pool = sqlx::MySqlPool::connect(&db).await?;
                runner.run(&pool).await?;
                pool.close().await;
                replay.push(start.elapsed());
                server.drop_all().await;

                let start = Instant::now();
                let result = autogenerate_mysql(&server, &runner, &declared).await;
                generate.push(start.elapsed());
                server.drop_all().await;
                assert!(result? > 0);
            }
            row(&format!("mysql ({version})"), &mut replay, &mut generate);
        }
    }
    Ok(())
}

/// The revisions, and the declared schema: the chain's end plus a column.
fn chain() -> (Vec<Revision>, String) {
    let mut revisions = Vec::new();
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); TABLES];
    let mut parent = String::new();
    for n in 0..REVISIONS {
        let id = format!("{n:012x}");
        let (up, down) = if n < TABLES {
            (
                format!("CREATE TABLE t{n} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);"),
                format!("DROP TABLE t{n};"),
            )
        } else {
            let table = n % TABLES;
            let column = format!("c{n}");
            let sql = (
                format!("ALTER TABLE t{table} ADD COLUMN {column} INTEGER;"),
                format!("ALTER TABLE t{table} DROP COLUMN {column};"),
            );
            columns[table].push(column);
            sql
        };
        let text = format!(
            "-- revision: {id}\n-- revises: {parent}\n-- message: step {n}\n\n-- migrate:up\n{up}\n\n-- migrate:down\n{down}\n"
        );
        revisions.push(
            parse_migration(&format!("migrations/{id}_step.sql"), text.as_bytes())
                .expect("a valid file"),
        );
        parent = id;
    }
    let mut declared = String::new();
    for (table, added) in columns.iter().enumerate() {
        let mut lines = vec![
            "id INTEGER PRIMARY KEY".to_string(),
            "name VARCHAR(100) NOT NULL".to_string(),
        ];
        lines.extend(added.iter().map(|c| format!("{c} INTEGER")));
        if table == 0 {
            lines.push("phone VARCHAR(20)".to_string());
        }
        declared.push_str(&format!(
            "CREATE TABLE t{table} (\n  {}\n);\n",
            lines.join(",\n  ")
        ));
    }
    (revisions, declared)
}

async fn memory() -> Result<Pool<Sqlite>, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:")?)
        .await
}

/// What `migrate revision --autogenerate` does, in process: replay, read,
/// build the declared schema, read, plan.
async fn autogenerate_sqlite(runner: &Runner, declared: &DeclaredSchema) -> Result<usize, Failure> {
    let chain_pool = memory().await?;
    runner.run(&chain_pool).await?;
    let chain = sqlite::introspect(&mut *chain_pool.acquire().await?, &["migrate_history"]).await?;
    let declared_pool = memory().await?;
    let mut conn = declared_pool.acquire().await?;
    apply_declared::<Sqlite>(&mut conn, declared).await?;
    let target = sqlite::introspect(&mut conn, &[]).await?;
    Ok(plan(Dialect::Sqlite, &chain, &target, &declared.renames)?
        .up
        .len())
}

async fn autogenerate_postgres(
    server: &ScratchServer,
    runner: &Runner,
    declared: &DeclaredSchema,
) -> Result<usize, Failure> {
    let chain_pool = sqlx::PgPool::connect(&server.create("chain").await?).await?;
    runner.run(&chain_pool).await?;
    let chain =
        postgres::introspect(&mut *chain_pool.acquire().await?, &["migrate_history"]).await?;
    chain_pool.close().await;
    let declared_pool = sqlx::PgPool::connect(&server.create("declared").await?).await?;
    let mut conn = declared_pool.acquire().await?;
    apply_declared::<sqlx::Postgres>(&mut conn, declared).await?;
    let target = postgres::introspect(&mut conn, &[]).await?;
    drop(conn);
    declared_pool.close().await;
    Ok(plan(Dialect::Postgres, &chain, &target, &declared.renames)?
        .up
        .len())
}

async fn autogenerate_mysql(
    server: &ScratchServer,
    runner: &Runner,
    declared: &DeclaredSchema,
) -> Result<usize, Failure> {
    let chain_pool = sqlx::MySqlPool::connect(&server.create("chain").await?).await?;
    runner.run(&chain_pool).await?;
    let chain = mysql::introspect(&mut *chain_pool.acquire().await?, &["migrate_history"]).await?;
    chain_pool.close().await;
    let declared_pool = sqlx::MySqlPool::connect(&server.create("declared").await?).await?;
    let mut conn = declared_pool.acquire().await?;
    apply_declared::<sqlx::MySql>(&mut conn, declared).await?;
    let target = mysql::introspect(&mut conn, &[]).await?;
    drop(conn);
    declared_pool.close().await;
    Ok(plan(Dialect::MySql, &chain, &target, &declared.renames)?
        .up
        .len())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn row(name: &str, replay: &mut [Duration], generate: &mut [Duration]) {
    let shown = |samples: &[Duration]| {
        samples
            .iter()
            .map(|d| d.as_millis().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Every sample, in run order, before the medians sort them: a shared
    // machine's load shows as outliers.
    let samples = format!("{} / {}", shown(replay), shown(generate));
    let (replay, generate) = (median(replay), median(generate));
    println!(
        "| {name} | {} ms | {} ms | {:.2}× | {samples} |",
        replay.as_millis(),
        generate.as_millis(),
        generate.as_secs_f64() / replay.as_secs_f64()
    );
}
