//! The no-op boot with 3, 1,000 and 10,000 applied revisions on SQLite,
//! PostgreSQL and MariaDB/MySQL, in one table:
//!
//! - steady state: the median of many no-op runs in one process, beside
//!   `SELECT 1` through the same pool (prepared and cached, and as a
//!   simple query, the protocol of our one statement) and sqlx's
//!   `Migrator::run` on a database it migrated;
//! - cold: a fresh process per sample (this binary, run as a child),
//!   timing connect + the no-op run, beside connect + the application's
//!   first query on the same database (SQLite: `SELECT 1 FROM
//!   sqlite_master LIMIT 1`, which pays the schema load a real first
//!   query pays; `SELECT 1` never reads the schema);
//! - peak RSS of such a child: a no-op boot, and `status` (the full read)
//!   with the longest history.
//!
//! Our histories are recorded with `stamp head` (no SQL to run: the
//! length is what is measured); sqlx's by applying its files, each a
//! `SELECT 1`. Generated runners get the digest `embed_migrations!` would
//! compute at compile time, computed before the child's clock starts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migrate_runtime::{Backend, Runner};
use sqlx::pool::PoolOptions;
use sqlx::{Executor, MySql, Pool, Postgres, Sqlite};

use crate::fixtures::{self, Fixture};
use crate::{micros, percentile, targets, time};

/// The databases of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::MySql => "mysql",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        [Kind::Sqlite, Kind::Postgres, Kind::MySql]
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The application's first query on a migrated database.
    fn first_query(self) -> &'static str {
        match self {
            Kind::Sqlite => "SELECT 1 FROM sqlite_master LIMIT 1",
            Kind::Postgres | Kind::MySql => "SELECT 1",
        }
    }
}

/// Where the bench's databases are: a server URL, or a directory for
/// SQLite files.
pub struct Server {
    pub kind: Kind,
    pub url: String,
}

impl Server {
    /// A new empty database's URL.
    pub async fn fresh(&self, name: &str) -> Result<String, Box<dyn std::error::Error>> {
        Ok(match self.kind {
            Kind::Sqlite => {
                let file = self.sqlite_file(name);
                std::fs::remove_file(&file).ok();
                format!("sqlite://{}?mode=rwc", file.display())
            }
            Kind::Postgres => fixtures::fresh_postgres_url(&self.url, name).await?,
            Kind::MySql => fixtures::fresh_mysql(&self.url, name).await?,
        })
    }

    /// The file of SQLite database `name` (see [`Server::fresh`]).
    pub fn sqlite_file(&self, name: &str) -> PathBuf {
        Path::new(&self.url).join(format!("{name}.db"))
    }
}

/// A pool of the bench's usual size on `url`.
pub async fn pool<DB: sqlx::Database>(url: &str) -> Result<Pool<DB>, sqlx::Error> {
    PoolOptions::<DB>::new()
        .max_connections(4)
        .connect(url)
        .await
}

/// One line of the table.
struct Line {
    select_prepared: Duration,
    select_simple: Duration,
    ours: Duration,
    sqlx: Option<Duration>,
    cold_first: Duration,
    cold_ours: Duration,
    cold_sqlx: Option<Duration>,
    rss_ours_kb: u64,
    rss_status_kb: u64,
    /// `migrate status` (the CLI, loading the files), where measured.
    rss_cli_kb: Option<u64>,
}

/// The whole table, for every reachable database and history length.
pub async fn table(
    servers: &[Server],
    scratch: &Path,
    runs: usize,
    cold_samples: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("## No-op boot: steady state (median of runs in one process) and cold (median of fresh processes)\n");
    println!(
        "| database | applied | `SELECT 1` prepared | `SELECT 1` simple | migrate-runtime | vs simple | sqlx | \
         cold first query | cold migrate-runtime | vs first query | cold sqlx | peak RSS boot | peak RSS status | peak RSS `migrate status` |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (count, runs) in [
        (None, runs),
        (Some(1000), (runs / 4).max(50)),
        (Some(10_000), (runs / 20).max(50)),
    ] {
        let applied = count.unwrap_or(3);
        let dir = scratch.join(format!("history-{applied}"));
        let fixture = match count {
            None => Fixture::example(&dir)?,
            Some(count) => Fixture::history(&dir, count)?,
        };
        for server in servers {
            let line = match server.kind {
                Kind::Sqlite => line::<Sqlite>(server, &fixture, count, runs, cold_samples).await?,
                Kind::Postgres => {
                    line::<Postgres>(server, &fixture, count, runs, cold_samples).await?
                }
                Kind::MySql => line::<MySql>(server, &fixture, count, runs, cold_samples).await?,
            };
            println!(
                "| {} | {applied} | {} | {} | {} | {:.2}x | {} | {} | {} | {:.2}x | {} | {} MB | {} MB | {} |",
                server.kind.name(),
                micros(line.select_prepared),
                micros(line.select_simple),
                micros(line.ours),
                ratio(line.ours, line.select_simple),
                line.sqlx.map_or("-".to_string(), micros),
                micros(line.cold_first),
                micros(line.cold_ours),
                ratio(line.cold_ours, line.cold_first),
                line.cold_sqlx.map_or("-".to_string(), micros),
                mb(line.rss_ours_kb),
                mb(line.rss_status_kb),
                line.rss_cli_kb.map_or("-".to_string(), |kb| format!("{} MB", mb(kb))),
            );
            record_targets(server.kind.name(), applied, &line);
        }
    }
    println!();
    Ok(())
}

/// The line's figures in the targets table.
fn record_targets(database: &str, applied: usize, line: &Line) {
    targets::ratio(
        format!("no-op boot, steady state, {applied} applied, ÷ `SELECT 1` simple"),
        database,
        ratio(line.ours, line.select_simple),
        1.2,
        "≤ 1.2x",
    );
    targets::ratio(
        format!("no-op boot, fresh process, {applied} applied, ÷ the first query"),
        database,
        ratio(line.cold_ours, line.cold_first),
        1.2,
        "≤ 1.2x",
    );
    if applied >= 10_000 {
        let memory = [
            ("no-op boot", Some(line.rss_ours_kb)),
            ("`Runner::status`", Some(line.rss_status_kb)),
            ("`migrate status`", line.rss_cli_kb),
        ];
        for (what, kb) in memory {
            let measured = kb.map_or("- (no `migrate` binary)".to_string(), |kb| {
                format!("{} MB", mb(kb))
            });
            targets::figure(
                format!("peak RSS, {what}, {applied} applied"),
                database,
                measured,
            );
        }
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn mb(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

async fn line<DB: Backend>(
    server: &Server,
    fixture: &Fixture,
    count: Option<usize>,
    runs: usize,
    cold_samples: usize,
) -> Result<Line, Box<dyn std::error::Error>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Connection: sqlx::migrate::Migrate,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let applied = count.unwrap_or(3);
    let ours_url = server.fresh(&format!("bench_boot_ours_{applied}")).await?;
    let sqlx_url = server.fresh(&format!("bench_boot_sqlx_{applied}")).await?;
    let ours: Pool<DB> = pool(&ours_url).await?;
    let theirs: Pool<DB> = pool(&sqlx_url).await?;
    match count {
        None => drop(fixture.runner.run(&ours).await?),
        Some(_) => drop(fixture.runner.stamp(&ours, "head").await?),
    }
    // The first no-op boot after a stamp reads everything and stores the
    // digest; from then on a boot is one lookup.
    fixture.runner.run(&ours).await?;
    // sqlx records a history by committing each migration: at 10,000 on
    // this machine that alone takes minutes per database, so sqlx stops at
    // 1,000.
    let with_sqlx = applied <= 1000;
    let migrator = fixture.sqlx_migrator().await?;
    if with_sqlx {
        migrator.run(&theirs).await?;
    }

    let mut select = Vec::with_capacity(runs);
    let mut select_simple = Vec::with_capacity(runs);
    let mut run = Vec::with_capacity(runs);
    let mut sqlx_run = Vec::with_capacity(runs);
    for i in 0..runs + 20 {
        let t = time(async { sqlx::query("SELECT 1").fetch_all(&ours).await.map(drop) }).await?;
        let u =
            time(async { (&ours).fetch_all(sqlx::raw_sql("SELECT 1")).await.map(drop) }).await?;
        let r = time(async { fixture.runner.run(&ours).await.map(drop) }).await?;
        if i >= 20 {
            select.push(t);
            select_simple.push(u);
            run.push(r);
        }
        if with_sqlx {
            let s = time(async { migrator.run(&theirs).await.map(drop) }).await?;
            if i >= 20 {
                sqlx_run.push(s);
            }
        }
    }
    ours.close().await;
    theirs.close().await;

    let sqlx_dir = fixture.sqlx_dir.display().to_string();
    let spec = count.map_or("example".to_string(), |n| n.to_string());
    let cold = |url: &str, variant: &str| {
        cold_median(server.kind, url, &spec, &sqlx_dir, variant, cold_samples)
    };
    let (cold_first, _) = cold(&ours_url, "first")?;
    let (cold_ours, rss_ours_kb) = cold(&ours_url, "ours")?;
    let cold_sqlx = if with_sqlx {
        Some(cold(&sqlx_url, "sqlx")?.0)
    } else {
        None
    };
    let (_, rss_status_kb) = cold(&ours_url, "status")?;
    Ok(Line {
        select_prepared: percentile(&mut select, 50),
        select_simple: percentile(&mut select_simple, 50),
        ours: percentile(&mut run, 50),
        sqlx: with_sqlx.then(|| percentile(&mut sqlx_run, 50)),
        cold_first,
        cold_ours,
        cold_sqlx,
        rss_ours_kb,
        rss_status_kb,
        rss_cli_kb: match count {
            Some(count) if count >= 10_000 => {
                let project = fixture
                    .sqlx_dir
                    .with_extension(format!("cli-{}", server.kind.name()));
                fixture.write_project(&project, &ours_url)?;
                cli_peak_rss_kb(&project)
            }
            _ => None,
        },
    })
}

/// The median time and the largest peak RSS of `samples` child processes.
fn cold_median(
    kind: Kind,
    url: &str,
    spec: &str,
    sqlx_dir: &str,
    variant: &str,
    samples: usize,
) -> Result<(Duration, u64), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(samples);
    let mut rss = 0;
    for _ in 0..samples {
        let output = Command::new(std::env::current_exe()?)
            .args(["child", kind.name(), url, spec, sqlx_dir, variant])
            .output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let mut fields = text.split_whitespace();
        let (Some(us), Some(kb)) = (fields.next(), fields.next()) else {
            return Err(format!(
                "child {variant} on {url} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        };
        times.push(Duration::from_nanos(us.parse::<u64>()? * 1000));
        rss = rss.max(kb.parse()?);
    }
    Ok((percentile(&mut times, 50), rss))
}

/// The child process: `child <kind> <url> <example|count> <sqlx dir>
/// <first|ours|sqlx|status>`. Prints the microseconds from before the
/// pool connects to the end of the operation, and the peak RSS in kB.
pub async fn child(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [kind, url, spec, sqlx_dir, variant] = args else {
        return Err("usage: child <kind> <url> <example|count> <sqlx dir> <variant>".into());
    };
    let kind = Kind::parse(kind).ok_or("unknown database")?;
    let count = (spec != "example").then(|| spec.parse()).transpose()?;
    // Outside the clock: what an application has before it boots (the
    // embedded table) or what sqlx's `migrate!` embeds.
    let runner = Fixture::history_runner(count)?;
    let migrator = sqlx::migrate::Migrator::new(Path::new(sqlx_dir)).await?;
    let elapsed = match kind {
        Kind::Sqlite => child_op::<Sqlite>(kind, url, &runner, &migrator, variant).await?,
        Kind::Postgres => child_op::<Postgres>(kind, url, &runner, &migrator, variant).await?,
        Kind::MySql => child_op::<MySql>(kind, url, &runner, &migrator, variant).await?,
    };
    println!("{} {}", elapsed.as_micros(), peak_rss_kb());
    Ok(())
}

async fn child_op<DB: Backend>(
    kind: Kind,
    url: &str,
    runner: &Runner,
    migrator: &sqlx::migrate::Migrator,
    variant: &str,
) -> Result<Duration, Box<dyn std::error::Error>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Connection: sqlx::migrate::Migrate,
{
    let started = Instant::now();
    let pool: Pool<DB> = pool(url).await?;
    match variant {
        "first" => drop((&pool).fetch_all(sqlx::raw_sql(kind.first_query())).await?),
        "ours" => {
            let report = runner.run(&pool).await?;
            assert!(report.is_empty(), "the cold boot had work to do");
        }
        "sqlx" => migrator.run(&pool).await?,
        "status" => drop(runner.status(&pool).await?),
        other => return Err(format!("unknown variant {other}").into()),
    }
    Ok(started.elapsed())
}

/// Peak RSS of `migrate status` in `project`, run by `/usr/bin/time`,
/// with the `migrate` binary built beside this one (`cargo build --release
/// -p migrate-cli`); `None` when either is missing or it fails.
fn cli_peak_rss_kb(project: &Path) -> Option<u64> {
    let migrate = std::env::current_exe().ok()?.with_file_name("migrate");
    let output = Command::new("/usr/bin/time")
        .args(["-f", "rss %M"])
        .arg(&migrate)
        .arg("status")
        .current_dir(project)
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "migrate status in {} failed: {}",
            project.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .find_map(|line| line.strip_prefix("rss "))
        .and_then(|kb| kb.trim().parse().ok())
}

/// `VmHWM` of this process, in kB (0 where /proc is missing).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
