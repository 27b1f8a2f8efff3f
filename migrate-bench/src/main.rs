//! Benchmarks of migrate-runtime beside sqlx's own `Migrator`, in the same
//! process, on the same machine and databases:
//!
//! - the no-op boot with 3, 1,000 and 10,000 applied revisions on SQLite,
//!   PostgreSQL and MariaDB/MySQL, steady state and in a fresh process,
//!   beside `SELECT 1` and the application's first query, with peak RSS
//!   (see `boot.rs`);
//! - statements sent by a no-op boot on PostgreSQL, counted on the wire;
//! - time to apply 1,000 small migrations to an empty database, beside
//!   the floor: the same SQL sent by the database's own client (see
//!   `apply.rs` and `floor.rs`).
//!
//! ```text
//! cargo run --release -p migrate-bench [-- RUNS MIGRATIONS COLD_SAMPLES APPLY_SAMPLES]
//! ```
//!
//! Defaults 2000 1000 21 5. `BENCH_ONLY=boot,statements,apply,rebuild`
//! (any of them) runs only those sections; `rebuild` (the release
//! rebuild of an application crate, beside sqlx: the `rebuild` binary,
//! some 10 minutes) runs only when named. A table of every target, each
//! beside its limit, ends the run.
//!
//! PostgreSQL is read from `BENCH_POSTGRES_URL`, then `TEST_POSTGRES_URL`,
//! then `postgres://postgres@127.0.0.1:5432/test`; MySQL from
//! `BENCH_MYSQL_URL`, `TEST_MYSQL_URL`, `mysql://root@127.0.0.1:3306/test`.
//! Each is skipped, saying so, when unreachable.

mod apply;
mod boot;
mod fixtures;
mod floor;
mod proxy;
mod targets;

use std::time::{Duration, Instant};

use fixtures::Fixture;

/// Whether `BENCH_ONLY` (a comma-separated list of `boot`, `statements`,
/// `apply`, `rebuild`; all but `rebuild`, which takes minutes, when
/// unset) asks for a section.
fn wanted(section: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(section != "rebuild", |only| {
        only.split(',').any(|s| s.trim() == section)
    })
}

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
    let apply_samples: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
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
    if wanted("boot") {
        boot::table(&servers, &scratch, runs, cold_samples).await?;
        fixtures::drop_created().await;
    }

    if pg_up && wanted("statements") {
        println!("\n## Statements per no-op boot (PostgreSQL, counted on the wire)\n");
        statements_postgres(&postgres, &example).await?;
    }

    if wanted("apply") {
        for (fixture, workload) in [
            (&tables, "creating a table each"),
            (&rows, "inserting a row each"),
        ] {
            println!(
                "\n## Applying {migrations} migrations, {workload}, to an empty database \
                 (median of {apply_samples}, a new database each)\n"
            );
            apply::header();
            for server in &servers {
                apply::lines(server, fixture, workload, apply_samples).await?;
            }
        }
    }
    if wanted("rebuild") {
        rebuild_section()?;
    }
    targets::print();
    fixtures::drop_created().await;
    std::fs::remove_dir_all(&scratch).ok();
    Ok(())
}

/// The rebuild bench (`--bin rebuild`, built beside this binary) with its
/// defaults: it writes its medians where `REBUILD_TARGETS` says, for the
/// targets table.
fn rebuild_section() -> Result<(), Box<dyn std::error::Error>> {
    println!("\n## Rebuilding the application crate (the `rebuild` bench)\n");
    let rebuild = std::env::current_exe()?.with_file_name("rebuild");
    let medians = std::env::temp_dir().join(format!("migrate-rebuild-{}", std::process::id()));
    let status = std::process::Command::new(&rebuild)
        .env("REBUILD_TARGETS", &medians)
        .status()
        .map_err(|err| {
            format!(
                "{}: {err}; build it with `cargo build --release -p migrate-bench`",
                rebuild.display()
            )
        })?;
    if !status.success() {
        return Err(format!("{} failed: {status}", rebuild.display()).into());
    }
    let text = std::fs::read_to_string(&medians)?;
    std::fs::remove_file(&medians).ok();
    targets::read_rebuild(&text);
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
        targets::count(
            format!("statements of a no-op boot, {label}"),
            "postgres",
            q + e,
            1,
        );
        counter.reset();
        migrator.run(&theirs).await?;
        let (q, p, e) = counter.counts();
        println!(
            "| sqlx `Migrator::run`, {label} | {q} | {e} | {} | {p} |",
            q + e
        );
    }
    // Through the proxy, which goes with this function.
    fixtures::drop_created().await;
    Ok(())
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
