//! Where a steady-state no-op boot's time goes, beside `SELECT 1` through
//! the same pool: the fast path's statement sent alone (the server and
//! the protocol), the whole `Runner::run` (plus the runner's own Rust),
//! and candidate shapes of the statement. Interleaved, medians.
//!
//! ```text
//! cargo run --release -p migrate-bench --bin boot_profile [-- RUNS REVISIONS]
//! ```
//!
//! On SQLite (a scratch file), PostgreSQL (`BENCH_POSTGRES_URL`, then
//! `TEST_POSTGRES_URL`) and MySQL (`BENCH_MYSQL_URL`, `TEST_MYSQL_URL`)
//! when reachable.

use std::future::Future;
use std::time::{Duration, Instant};

use migrate_core::parse_migration;
use migrate_runtime::{Backend, Runner};
use sqlx::pool::PoolOptions;
use sqlx::{Executor, MySql, Pool, Postgres, Sqlite};

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let runner = chain(count)?;
    let file = std::env::temp_dir().join(format!("boot-profile-{}.db", std::process::id()));
    std::fs::remove_file(&file).ok();
    let sqlite = format!("sqlite://{}?mode=rwc", file.display());
    profile::<Sqlite>("sqlite", &sqlite, &runner, runs, sqlite_shapes()).await?;
    std::fs::remove_file(&file).ok();
    let postgres = env_url("POSTGRES", "postgres://postgres@127.0.0.1:5432/test");
    match fresh::<Postgres>(
        &postgres,
        "DROP DATABASE IF EXISTS bench_profile WITH (FORCE)",
    )
    .await
    {
        Ok(url) => profile::<Postgres>("postgres", &url, &runner, runs, postgres_shapes()).await?,
        Err(err) => println!("postgres skipped: {err}"),
    }
    let mysql = env_url("MYSQL", "mysql://root@127.0.0.1:3306/test");
    match fresh::<MySql>(&mysql, "DROP DATABASE IF EXISTS bench_profile").await {
        Ok(url) => profile::<MySql>("mysql", &url, &runner, runs, mysql_shapes()).await?,
        Err(err) => println!("mysql skipped: {err}"),
    }
    Ok(())
}

fn env_url(name: &str, default: &str) -> String {
    std::env::var(format!("BENCH_{name}_URL"))
        .or_else(|_| std::env::var(format!("TEST_{name}_URL")))
        .unwrap_or_else(|_| default.to_string())
}

/// A new database `bench_profile` on the server of `url`; its URL.
async fn fresh<DB: sqlx::Database>(url: &str, drop: &str) -> Result<String, Failure>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let admin: Pool<DB> = PoolOptions::new().max_connections(1).connect(url).await?;
    (&admin).execute(sqlx::raw_sql(drop)).await?;
    (&admin)
        .execute(sqlx::raw_sql("CREATE DATABASE bench_profile"))
        .await?;
    admin.close().await;
    let server = url.rsplit_once('/').map_or(url, |(server, _)| server);
    Ok(format!("{server}/bench_profile"))
}

/// `count` revisions in a chain, each `SELECT 1`, with the digest
/// `embed_migrations!` would compute.
fn chain(count: usize) -> Result<Runner, Failure> {
    let mut revisions = Vec::with_capacity(count);
    let mut previous = String::new();
    for i in 0..count {
        let id = format!("{:012x}", 0xc00000 + i);
        let text = format!(
            "-- revision: {id}\n-- revises: {previous}\n-- message: step {i}\n\n\
             -- migrate:up\nSELECT 1;\n\n-- migrate:down\nSELECT 1;\n"
        );
        let revision = parse_migration(&format!("migrations/{id}.sql"), text.as_bytes())
            .map_err(|errors| format!("{errors:?}"))?;
        revisions.push(revision);
        previous = id;
    }
    let digest = migrate_core::digest::applied_digest(&revisions);
    Ok(Runner::new(revisions).with_applied_digest(digest))
}

/// A named statement, sent as a simple query (`false`) or prepared and
/// cached (`true`).
type Shape = (&'static str, String, bool);

const ANCHOR: &str = "'000000c00000'";

fn postgres_shapes() -> Vec<Shape> {
    let now = r#"SELECT COALESCE(digest, ''), '', '' FROM "migrate_history_digest" WHERE relid = '"migrate_history"'::regclass::oid"#;
    vec![
        ("the check as sent today", now.to_string(), false),
        ("the check, prepared", now.to_string(), true),
        (
            "without the oid comparison",
            r#"SELECT COALESCE(digest, ''), '', '' FROM "migrate_history_digest""#.to_string(),
            false,
        ),
        (
            "the oid comparison alone",
            r#"SELECT '"migrate_history"'::regclass::oid"#.to_string(),
            false,
        ),
        (
            "one column",
            r#"SELECT digest FROM "migrate_history_digest" WHERE relid = '"migrate_history"'::regclass"#.to_string(),
            false,
        ),
    ]
}

fn mysql_shapes() -> Vec<Shape> {
    let now = format!(
        "SELECT COALESCE(d.digest, ''), '', '' FROM `migrate_history_digest` d \
         WHERE d.id = 1 AND EXISTS (SELECT 1 FROM `migrate_history` WHERE revision = {ANCHOR})"
    );
    vec![
        ("the check as sent today", now.clone(), false),
        ("the check, prepared", now, true),
        (
            "a join of two primary-key lookups",
            format!(
                "SELECT COALESCE(d.digest, ''), '', '' FROM `migrate_history_digest` d \
                 JOIN `migrate_history` h ON h.revision = {ANCHOR} WHERE d.id = 1"
            ),
            false,
        ),
        (
            "the digest row alone",
            "SELECT COALESCE(d.digest, ''), '', '' FROM `migrate_history_digest` d WHERE d.id = 1"
                .to_string(),
            false,
        ),
    ]
}

fn sqlite_shapes() -> Vec<Shape> {
    let now = format!(
        "SELECT COALESCE(digest, '') || char(31) || char(31) FROM \"migrate_history_digest\" \
         WHERE EXISTS (SELECT 1 FROM \"migrate_history\" WHERE revision = {ANCHOR})"
    );
    vec![
        (
            "the check as sent today (prepared, as sent)",
            now.clone(),
            true,
        ),
        ("the check as a simple query", now, false),
        (
            "the digest row alone, prepared",
            "SELECT digest FROM \"migrate_history_digest\"".to_string(),
            true,
        ),
    ]
}

async fn profile<DB: Backend>(
    name: &str,
    url: &str,
    runner: &Runner,
    runs: usize,
    shapes: Vec<Shape>,
) -> Result<(), Failure>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let pool: Pool<DB> = PoolOptions::new().max_connections(4).connect(url).await?;
    runner.stamp(&pool, "head").await?;
    // The first boot after the stamp stores the digest.
    runner.run(&pool).await?;
    let mut select_simple = Vec::with_capacity(runs);
    let mut select_prepared = Vec::with_capacity(runs);
    let mut ours = Vec::with_capacity(runs);
    let mut by_shape: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); shapes.len()];
    for i in 0..runs + 50 {
        let keep = i >= 50;
        let t =
            time(async { (&pool).fetch_all(sqlx::raw_sql("SELECT 1")).await.map(drop) }).await?;
        let p = time(async { sqlx::query("SELECT 1").fetch_all(&pool).await.map(drop) }).await?;
        let r = time(async {
            let report = runner.run(&pool).await?;
            if report.is_empty() {
                Ok(())
            } else {
                Err(migrate_runtime::Error::Database(sqlx::Error::Protocol(
                    "the no-op boot applied something".into(),
                )))
            }
        })
        .await?;
        for (index, (_, sql, prepared)) in shapes.iter().enumerate() {
            let d = if *prepared {
                time(async { sqlx::query(sql).fetch_all(&pool).await.map(drop) }).await?
            } else {
                time(async { (&pool).fetch_all(sqlx::raw_sql(sql)).await.map(drop) }).await?
            };
            if keep {
                by_shape[index].push(d);
            }
        }
        if keep {
            select_simple.push(t);
            select_prepared.push(p);
            ours.push(r);
        }
    }
    pool.close().await;
    let simple = median(&mut select_simple);
    println!("\n## {name}: medians of {runs} interleaved runs\n");
    println!("| what | median | vs `SELECT 1` simple |");
    println!("|---|---|---|");
    let line = |label: &str, d: Duration| {
        println!(
            "| {label} | {:.1} µs | {:.2}x |",
            d.as_secs_f64() * 1e6,
            d.as_secs_f64() / simple.as_secs_f64()
        );
    };
    line("`SELECT 1`, simple query", simple);
    line("`SELECT 1`, prepared", median(&mut select_prepared));
    line("`Runner::run`, no-op", median(&mut ours));
    for ((label, _, _), mut samples) in shapes.iter().zip(by_shape) {
        line(label, median(&mut samples));
    }
    Ok(())
}

async fn time<E>(work: impl Future<Output = Result<(), E>>) -> Result<Duration, E> {
    let started = Instant::now();
    work.await?;
    Ok(started.elapsed())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
