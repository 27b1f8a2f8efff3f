//! Benchmarks of migrate-runtime beside sqlx's own `Migrator`, in the same
//! process, on the same machine and databases:
//!
//! - no-op boot latency (median, p95) on SQLite and PostgreSQL, beside a
//!   bare `SELECT 1` through the same pool;
//! - statements sent by a no-op boot on PostgreSQL, counted on the wire;
//! - time to apply 1,000 small migrations to an empty database.
//!
//! ```text
//! cargo run --release -p migrate-bench [-- RUNS MIGRATIONS]
//! ```
//!
//! PostgreSQL is read from `BENCH_POSTGRES_URL`, then `TEST_POSTGRES_URL`,
//! then `postgres://postgres@127.0.0.1:5432/test`; it is skipped, saying
//! so, when unreachable.

mod fixtures;
mod proxy;

use std::time::{Duration, Instant};

use migrate_runtime::{Backend, Runner, TransactionMode};
use sqlx::{Pool, Postgres, Sqlite};

use fixtures::Fixture;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let migrations: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let scratch = fixtures::scratch_dir("bench")?;

    let example = Fixture::example(&scratch.join("example"))?;
    let tables = Fixture::tables(&scratch.join("tables"), migrations)?;
    let rows = Fixture::rows(&scratch.join("rows"), migrations)?;
    let postgres = fixtures::postgres_url();
    let pg_up = fixtures::reachable(&postgres).await;

    let many_runs = (runs / 10).max(10);
    for (fixture, applied, runs) in [(&example, 3, runs), (&tables, migrations, many_runs)] {
        println!("## No-op boot ({runs} runs each, {applied} applied migrations)\n");
        println!("| database | operation | median | p95 | vs SELECT 1 |");
        println!("|---|---|---|---|---|");
        noop_sqlite(&scratch, fixture, runs, applied).await?;
        if pg_up {
            noop_postgres(&postgres, fixture, runs, applied).await?;
        } else {
            println!("| postgres | skipped: {postgres} unreachable | | | |");
        }
        println!();
    }

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

async fn noop_sqlite(
    scratch: &std::path::Path,
    example: &Fixture,
    runs: usize,
    tag: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let ours = fixtures::sqlite_pool(&scratch.join(format!("noop-ours-{tag}.db"))).await?;
    let theirs = fixtures::sqlite_pool(&scratch.join(format!("noop-sqlx-{tag}.db"))).await?;
    noop_rows("sqlite", &ours, &theirs, example, runs).await
}

async fn noop_postgres(
    url: &str,
    example: &Fixture,
    runs: usize,
    tag: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let ours = fixtures::fresh_postgres(url, &format!("bench_noop_ours_{tag}")).await?;
    let theirs = fixtures::fresh_postgres(url, &format!("bench_noop_sqlx_{tag}")).await?;
    noop_rows("postgres", &ours, &theirs, example, runs).await
}

/// One table row per operation: `SELECT 1`, our no-op run, sqlx's no-op run.
async fn noop_rows<DB: Backend>(
    name: &str,
    ours: &Pool<DB>,
    theirs: &Pool<DB>,
    example: &Fixture,
    runs: usize,
) -> Result<(), Box<dyn std::error::Error>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Connection: sqlx::migrate::Migrate,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    example.runner.run(ours).await?;
    let migrator = example.sqlx_migrator().await?;
    migrator.run(theirs).await?;

    let mut select = Vec::with_capacity(runs);
    let mut select_simple = Vec::with_capacity(runs);
    let mut run = Vec::with_capacity(runs);
    let mut sqlx_run = Vec::with_capacity(runs);
    for i in 0..runs + 50 {
        let t = time(async { sqlx::query("SELECT 1").fetch_all(ours).await.map(drop) }).await?;
        let u = time(async { sqlx::raw_sql("SELECT 1").fetch_all(ours).await.map(drop) }).await?;
        let r = time(async { example.runner.run(ours).await.map(drop) }).await?;
        let s = time(async { migrator.run(theirs).await.map(drop) }).await?;
        if i >= 50 {
            select.push(t);
            select_simple.push(u);
            run.push(r);
            sqlx_run.push(s);
        }
    }
    let baseline = percentile(&mut select, 50);
    for (label, samples) in [
        ("bare `SELECT 1` (prepared, cached)", &mut select),
        ("bare `SELECT 1` (simple query)", &mut select_simple),
        ("migrate-runtime `run`", &mut run),
        ("sqlx `Migrator::run`", &mut sqlx_run),
    ] {
        let median = percentile(samples, 50);
        println!(
            "| {name} | {label} | {} | {} | {:.2}x |",
            micros(median),
            micros(percentile(samples, 95)),
            median.as_secs_f64() / baseline.as_secs_f64()
        );
    }
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
