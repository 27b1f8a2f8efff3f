//! Benchmarks of migrate-runtime beside sqlx's own `Migrator`, in the same
//! process, on the same machine and databases:
//!
//! - the no-op boot with 3, 1,000 and 10,000 applied revisions on SQLite,
//!   PostgreSQL and MariaDB/MySQL, steady state and in a fresh process,
//!   beside `SELECT 1` and the application's first query, with peak RSS
//!   (see `boot.rs`);
//! - statements sent by a no-op boot on PostgreSQL, counted on the wire;
//! - time to apply 1,000 small migrations to an empty database.
//!
//! ```text
//! cargo run --release -p migrate-bench [-- RUNS MIGRATIONS COLD_SAMPLES]
//! ```
//!
//! PostgreSQL is read from `BENCH_POSTGRES_URL`, then `TEST_POSTGRES_URL`,
//! then `postgres://postgres@127.0.0.1:5432/test`; MySQL from
//! `BENCH_MYSQL_URL`, `TEST_MYSQL_URL`, `mysql://root@127.0.0.1:3306/test`.
//! Each is skipped, saying so, when unreachable.

mod boot;
mod fixtures;
mod proxy;

use std::time::{Duration, Instant};

use migrate_runtime::{Backend, Runner, TransactionMode};
use sqlx::{Pool, Postgres, Sqlite};

use fixtures::Fixture;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().map(String::as_str) == Some("child") {
        return boot::child(&all[1..]).await;
    }
    let mut args = all.into_iter();
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let migrations: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let cold_samples: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(21);
    let scratch = fixtures::scratch_dir("bench")?;

    let example = Fixture::example(&scratch.join("example"))?;
    let tables = Fixture::tables(&scratch.join("tables"), migrations)?;
    let rows = Fixture::rows(&scratch.join("rows"), migrations)?;
    let postgres = fixtures::postgres_url();
    let pg_up = fixtures::reachable(&postgres).await;
    let mysql = fixtures::mysql_url();
    let mysql_up = fixtures::mysql_reachable(&mysql).await;

    let sqlite_dir = scratch.join("boot");
    std::fs::create_dir_all(&sqlite_dir)?;
    let mut servers = vec![boot::Server {
        kind: boot::Kind::Sqlite,
        url: sqlite_dir.display().to_string(),
    }];
    if pg_up {
        servers.push(boot::Server {
            kind: boot::Kind::Postgres,
            url: postgres.clone(),
        });
    } else {
        println!("PostgreSQL skipped: {postgres} unreachable\n");
    }
    if mysql_up {
        servers.push(boot::Server {
            kind: boot::Kind::MySql,
            url: mysql.clone(),
        });
    } else {
        println!("MySQL skipped: {mysql} unreachable\n");
    }
    boot::table(&servers, &scratch, runs, cold_samples).await?;

    if pg_up {
        println!("\n## Statements per no-op boot (PostgreSQL, counted on the wire)\n");
        statements_postgres(&postgres, &example).await?;
    }

    for (fixture, workload) in [
        (&tables, "creating a table each"),
        (&rows, "inserting a row each"),
    ] {
        println!("\n## Applying {migrations} migrations, {workload}, to an empty database\n");
        println!("| database | tool | time | vs sqlx |");
        println!("|---|---|---|---|");
        apply_sqlite(&scratch, fixture).await?;
        if pg_up {
            apply_postgres(&postgres, fixture).await?;
        }
    }
    std::fs::remove_dir_all(&scratch).ok();
    Ok(())
}

async fn statements_postgres(
    url: &str,
    example: &Fixture,
) -> Result<(), Box<dyn std::error::Error>> {
    let counter = proxy::StatementCounter::start(url).await?;
    let ours = fixtures::fresh_postgres(&counter.url(), "bench_stmt_ours").await?;
    let theirs = fixtures::fresh_postgres(&counter.url(), "bench_stmt_sqlx").await?;
    example.runner.run(&ours).await?;
    let migrator = example.sqlx_migrator().await?;
    migrator.run(&theirs).await?;

    println!("| tool | simple queries | prepared executions | statements | prepares |");
    println!("|---|---|---|---|---|");
    for (label, first) in [("first boot of a connection", true), ("later boots", false)] {
        if first {
            // New pools: nothing prepared on their connections yet.
            ours.close().await;
            theirs.close().await;
        }
        let ours =
            fixtures::connect_postgres(&fixtures::with_database(&counter.url(), "bench_stmt_ours"))
                .await?;
        let theirs =
            fixtures::connect_postgres(&fixtures::with_database(&counter.url(), "bench_stmt_sqlx"))
                .await?;
        if !first {
            example.runner.run(&ours).await?;
            migrator.run(&theirs).await?;
        }
        counter.reset();
        example.runner.run(&ours).await?;
        let (q, p, e) = counter.counts();
        println!(
            "| migrate-runtime `run`, {label} | {q} | {e} | {} | {p} |",
            q + e
        );
        counter.reset();
        migrator.run(&theirs).await?;
        let (q, p, e) = counter.counts();
        println!(
            "| sqlx `Migrator::run`, {label} | {q} | {e} | {} | {p} |",
            q + e
        );
    }
    Ok(())
}

async fn apply_sqlite(
    scratch: &std::path::Path,
    many: &Fixture,
) -> Result<(), Box<dyn std::error::Error>> {
    // A new file each time, across workloads too.
    static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let fresh = || {
        let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        scratch.join(format!("apply-{n}.db"))
    };
    let sqlx_time = {
        let pool = fixtures::sqlite_pool(&fresh()).await?;
        let migrator = many.sqlx_migrator().await?;
        time(async { migrator.run(&pool).await }).await?
    };
    let per_revision = {
        let pool = fixtures::sqlite_pool(&fresh()).await?;
        apply_ours::<Sqlite>(&pool, &many.runner, TransactionMode::PerRevision).await?
    };
    let single = {
        let pool = fixtures::sqlite_pool(&fresh()).await?;
        apply_ours::<Sqlite>(&pool, &many.runner, TransactionMode::Single).await?
    };
    apply_rows("sqlite", sqlx_time, per_revision, single);
    Ok(())
}

async fn apply_postgres(url: &str, many: &Fixture) -> Result<(), Box<dyn std::error::Error>> {
    let sqlx_time = {
        let pool = fixtures::fresh_postgres(url, "bench_apply_sqlx").await?;
        let migrator = many.sqlx_migrator().await?;
        time(async { migrator.run(&pool).await }).await?
    };
    let per_revision = {
        let pool = fixtures::fresh_postgres(url, "bench_apply_ours").await?;
        apply_ours::<Postgres>(&pool, &many.runner, TransactionMode::PerRevision).await?
    };
    let single = {
        let pool = fixtures::fresh_postgres(url, "bench_apply_single").await?;
        apply_ours::<Postgres>(&pool, &many.runner, TransactionMode::Single).await?
    };
    apply_rows("postgres", sqlx_time, per_revision, single);
    Ok(())
}

async fn apply_ours<DB: Backend>(
    pool: &Pool<DB>,
    runner: &Runner,
    mode: TransactionMode,
) -> Result<Duration, migrate_runtime::Error> {
    let runner = runner.clone().with_transaction_mode(mode);
    let started = Instant::now();
    let report = runner.run(pool).await?;
    assert_eq!(report.steps.len(), runner.revisions().len());
    Ok(started.elapsed())
}

fn apply_rows(name: &str, sqlx_time: Duration, per_revision: Duration, single: Duration) {
    let ratio = |d: Duration| d.as_secs_f64() / sqlx_time.as_secs_f64();
    println!(
        "| {name} | sqlx `Migrator::run` | {} | 1.00x |",
        millis(sqlx_time)
    );
    println!(
        "| {name} | migrate-runtime, a transaction per revision | {} | {:.2}x |",
        millis(per_revision),
        ratio(per_revision)
    );
    println!(
        "| {name} | migrate-runtime, one transaction | {} | {:.2}x |",
        millis(single),
        ratio(single)
    );
}

async fn time<E>(work: impl std::future::Future<Output = Result<(), E>>) -> Result<Duration, E> {
    let started = Instant::now();
    work.await?;
    Ok(started.elapsed())
}

fn percentile(samples: &mut [Duration], pct: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * pct / 100).min(samples.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}
