//! Applying a set of migrations to an empty database, on SQLite,
//! PostgreSQL and MariaDB/MySQL: our two transaction modes and sqlx's
//! `Migrator`, beside the floor (the same SQL sent by the database's own
//! client, see `floor.rs`). Every sample of every tool starts from a new
//! database; the samples of the tools are interleaved, so that a burst of
//! load on the shared machine hits all of them; medians.

use std::time::{Duration, Instant};

use migrate_runtime::{Backend, Runner, TransactionMode};
use sqlx::{MySql, Pool, Postgres, Sqlite};

use crate::boot::{pool, Kind, Server};
use crate::fixtures::Fixture;
use crate::floor::{self, Script};
use crate::{millis, percentile, targets};

/// The tools of one line each, in the order they run in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    ClientEmpty,
    FloorOne,
    FloorPer,
    Sqlx,
    PerRevision,
    Single,
}

const TOOLS: [Tool; 6] = [
    Tool::ClientEmpty,
    Tool::FloorOne,
    Tool::FloorPer,
    Tool::Sqlx,
    Tool::PerRevision,
    Tool::Single,
];

/// The table's header.
pub fn header() {
    println!(
        "| database | tool | median | net of client start-up | vs floor (one transaction) | target | vs sqlx |"
    );
    println!("|---|---|---|---|---|---|---|");
}

/// The lines of one database for one workload.
/// `workload` names the fixture in the targets table.
pub async fn lines(
    server: &Server,
    fixture: &Fixture,
    workload: &str,
    samples: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    match server.kind {
        Kind::Sqlite => lines_of::<Sqlite>(server, fixture, workload, samples).await,
        Kind::Postgres => lines_of::<Postgres>(server, fixture, workload, samples).await,
        Kind::MySql => lines_of::<MySql>(server, fixture, workload, samples).await,
    }
}

async fn lines_of<DB: Backend>(
    server: &Server,
    fixture: &Fixture,
    workload: &str,
    samples: usize,
) -> Result<(), Box<dyn std::error::Error>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Connection: sqlx::migrate::Migrate,
{
    let kind = server.kind;
    let revisions = fixture.runner.revisions();
    let scripts = [Script::Empty, Script::OneTransaction, Script::PerMigration]
        .map(|shape| floor::script(kind, revisions, shape));
    let migrator = fixture.sqlx_migrator().await?;
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); TOOLS.len()];
    for _ in 0..samples {
        for (index, tool) in TOOLS.into_iter().enumerate() {
            settle_disk();
            let name = format!("bench_apply_{index}");
            let url = server.fresh(&name).await?;
            let elapsed = match tool {
                Tool::ClientEmpty | Tool::FloorOne | Tool::FloorPer => {
                    let target = match kind {
                        Kind::Sqlite => server.sqlite_file(&name).display().to_string(),
                        Kind::Postgres | Kind::MySql => url,
                    };
                    floor::run(kind, &target, &scripts[index])?
                }
                Tool::Sqlx => {
                    let pool: Pool<DB> = pool(&url).await?;
                    let started = Instant::now();
                    migrator.run(&pool).await?;
                    let elapsed = started.elapsed();
                    pool.close().await;
                    elapsed
                }
                Tool::PerRevision | Tool::Single => {
                    let mode = if tool == Tool::Single {
                        TransactionMode::Single
                    } else {
                        TransactionMode::PerRevision
                    };
                    let pool: Pool<DB> = pool(&url).await?;
                    let elapsed = apply_ours(&pool, &fixture.runner, mode).await?;
                    pool.close().await;
                    elapsed
                }
            };
            times[index].push(elapsed);
        }
    }
    let medians: Vec<Duration> = times
        .iter_mut()
        .map(|samples| percentile(samples, 50))
        .collect();
    let median = |tool: Tool| medians[TOOLS.iter().position(|t| *t == tool).unwrap_or(0)];
    let start_up = median(Tool::ClientEmpty);
    let net = |d: Duration| d.saturating_sub(start_up);
    let floor = net(median(Tool::FloorOne));
    let sqlx = median(Tool::Sqlx);
    // A floor lost in the client's start-up noise (PostgreSQL's 1,000
    // one-row inserts: 5 ms net of psql's ~57 ms, give or take several)
    // gives no ratio: it must exceed the start-up it was netted of.
    let trusted = |b: Duration| b >= Duration::from_millis(5) && b >= start_up;
    let ratio = |a: Duration, b: Duration| {
        if !trusted(b) {
            "-".to_string()
        } else {
            format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
        }
    };
    let client = floor::client(kind);
    let name = kind.name();
    println!(
        "| {name} | `{client}`, `SELECT 1` (start-up and connection) | {} | | | | |",
        millis(start_up)
    );
    for (tool, label) in [
        (Tool::FloorOne, "one string, one transaction (the floor)"),
        (Tool::FloorPer, "one string, a transaction per migration"),
    ] {
        let d = median(tool);
        println!(
            "| {name} | `{client}`, {label} | {} | {} | {} | | |",
            millis(d),
            millis(net(d)),
            ratio(net(d), floor),
        );
    }
    for (tool, label, target, at_most) in [
        (Tool::Sqlx, "sqlx `Migrator::run`", "", None),
        (
            Tool::PerRevision,
            "migrate-runtime, a transaction per revision",
            "≤ 1.25x",
            Some(1.25),
        ),
        (
            Tool::Single,
            "migrate-runtime, one transaction",
            "≤ 1.05x",
            Some(1.05),
        ),
    ] {
        let d = median(tool);
        println!(
            "| {name} | {label} | {} | | {} | {target} | {} |",
            millis(d),
            ratio(d, floor),
            ratio(d, sqlx),
        );
        let Some(at_most) = at_most else { continue };
        let what = format!("apply, {workload}, {label}, ÷ the one-transaction floor");
        if !trusted(floor) {
            targets::unmeasured(what, name, "- (floor within the client's noise)", target);
        } else {
            let measured = d.as_secs_f64() / floor.as_secs_f64();
            targets::ratio(what, name, measured, at_most, target);
        }
    }
    Ok(())
}

/// Writes the page cache back before a tool starts. The tools before it
/// leave up to thousands of synced commits' worth of writeback behind
/// (sqlx and the floor with a transaction per migration), and the next
/// tool's own syncs wait behind it: on SQLite, run after them, ours took
/// 550 ms instead of 330 ms.
fn settle_disk() {
    if let Err(err) = std::process::Command::new("sync").status() {
        eprintln!("sync: {err}");
    }
}

async fn apply_ours<DB: Backend>(
    pool: &Pool<DB>,
    runner: &Runner,
    mode: TransactionMode,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let runner = runner.clone().with_transaction_mode(mode);
    let started = Instant::now();
    let report = runner.run(pool).await?;
    let elapsed = started.elapsed();
    if report.steps.len() != runner.revisions().len() {
        return Err(format!(
            "applied {} of {} revisions",
            report.steps.len(),
            runner.revisions().len()
        )
        .into());
    }
    Ok(elapsed)
}
