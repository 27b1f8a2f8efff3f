//! `migrate check --replay`: every revision up, down and up again, on
//! scratch databases, so that the database itself checks the SQL of both
//! sections and a down that does not undo its up is caught before a
//! production rollback needs it.
//!
//! From base, in topological order, each revision is applied, the schema
//! read from the catalog (migrate-schema), the revision reverted, the
//! schema read again and compared with the one before its up, and the
//! revision applied again. After a finding the replay goes on from a fresh
//! scratch database brought up to that revision, so one bad revision does
//! not hide the others; an up that fails on a fresh database stops it,
//! since what follows requires it.

use migrate_core::{Dialect, Revision};
use migrate_runtime::testing::revert_newest;
use migrate_runtime::{Backend, Runner};
use migrate_schema::introspect::{mysql, postgres, sqlite};
use migrate_schema::{describe::describe, Renames, Schema, SchemaError};
use sqlx::pool::PoolOptions;
use sqlx::{MySql, Pool, Postgres, Sqlite};

use crate::args::CheckArgs;
use crate::commands::schema::{self, schema_error, Scratch};
use crate::commands::Context;
use crate::error::{database_error, CliError, CliResult, Exit};
use crate::output::{count, Paint};

/// What the replay found wrong with one revision.
#[derive(Debug)]
struct Finding {
    revision: String,
    file: String,
    /// `up fails on a fresh database`, `down fails`, ...
    problem: &'static str,
    /// The database's error, or the differences of the schema.
    details: Vec<String>,
}

/// What a replay saw.
#[derive(Debug, Default)]
struct Replay {
    findings: Vec<Finding>,
    /// Revisions without a down section (their down is not checked).
    irreversible: Vec<String>,
    /// How many revisions went through the whole round.
    checked: usize,
    /// Revisions not replayed because an up failed before them.
    not_reached: usize,
}

/// A database whose catalog migrate-schema reads.
trait Catalog: Backend {
    async fn read(pool: &Pool<Self>, skip: &[&str]) -> CliResult<Schema>;

    /// A text that is equal for two databases only when their schemas are
    /// (SQLite: `sqlite_master`, which defines the whole schema), read in
    /// one query; `None` where there is none, and the catalog is read.
    async fn fingerprint(_pool: &Pool<Self>, _history_table: &str) -> CliResult<Option<String>> {
        Ok(None)
    }
}

/// Reads a catalog with one of migrate-schema's readers.
macro_rules! read_catalog {
    ($reader:path) => {
        async fn read(pool: &Pool<Self>, skip: &[&str]) -> CliResult<Schema> {
            let mut conn = pool.acquire().await.map_err(|e| database_error(&e))?;
            $reader(&mut conn, skip)
                .await
                .map_err(|err: SchemaError| schema_error(Exit::Database)(err))
        }
    };
}

impl Catalog for Sqlite {
    read_catalog!(sqlite::introspect);

    // Reading the catalog table by table is most of the replay's time on a
    // long chain; one query settles the common case, a down that restores
    // the text of every CREATE exactly.
    async fn fingerprint(pool: &Pool<Self>, history_table: &str) -> CliResult<Option<String>> {
        sqlx::query_scalar(
            "SELECT COALESCE(group_concat(line, char(10)), '') FROM ( \
               SELECT type || ' ' || name || ' ' || tbl_name || ' ' || COALESCE(sql, '') AS line \
               FROM sqlite_master WHERE tbl_name <> ?1 ORDER BY type, name)",
        )
        .bind(history_table)
        .fetch_one(pool)
        .await
        .map(Some)
        .map_err(|e| database_error(&e))
    }
}
impl Catalog for Postgres {
    read_catalog!(postgres::introspect);
}
impl Catalog for MySql {
    read_catalog!(mysql::introspect);
}

/// The schema before a revision's up, as cheaply as it could be taken.
enum Before {
    /// Its fingerprint: the schema itself is rebuilt only if a down's
    /// fingerprint differs.
    Fingerprint(String),
    /// The schema read from the catalog.
    Schema(Schema),
}

impl Before {
    async fn take<DB: Catalog>(pool: &Pool<DB>, history_table: &str) -> CliResult<Before> {
        Ok(match DB::fingerprint(pool, history_table).await? {
            Some(print) => Before::Fingerprint(print),
            None => Before::Schema(DB::read(pool, &[history_table]).await?),
        })
    }
}

/// `migrate check --replay`.
pub async fn check(ctx: &Context, args: &CheckArgs) -> CliResult {
    let dir = ctx.load()?;
    let scratch = Scratch::open(ctx, args.dev_url.as_deref()).await?;
    let runner = schema::runner(ctx, &dir);
    let replay = scratch
        .guard(ctx, async {
            match scratch.dialect {
                Dialect::Sqlite => replay::<Sqlite>(&scratch, &runner).await,
                Dialect::Postgres => replay::<Postgres>(&scratch, &runner).await,
                Dialect::MySql => replay::<MySql>(&scratch, &runner).await,
            }
        })
        .await?;
    report(ctx, &replay, dir.revisions.len());

    // The end of the chain against the declared schema, when there is one.
    let schema_result = if ctx.config.schema_file.is_file() {
        schema::check(ctx, args).await
    } else {
        Ok(())
    };
    if !replay.findings.is_empty() {
        let revisions = count(replay.findings.len(), "revision");
        let error = CliError::new(
            Exit::Differences,
            format!("the replay found problems in {revisions}"),
        )
        .hint("fix each revision named above; `migrate check --replay` again replays from base on fresh scratch databases");
        if let Err(schema_error) = schema_result {
            ctx.out.error(&schema_error);
        }
        return Err(error);
    }
    schema_result
}

/// Prints the findings and the summary.
fn report(ctx: &Context, replay: &Replay, total: usize) {
    let out = &ctx.out;
    for finding in &replay.findings {
        out.data(&format!(
            "{} revision {} ({}): {}",
            out.paint(Paint::RED, "failed:"),
            finding.revision,
            finding.file,
            finding.problem
        ));
        for line in &finding.details {
            out.data(&format!("    {line}"));
        }
    }
    for id in &replay.irreversible {
        out.info(&format!(
            "note: revision {id} has no down section (irreversible); its down was not checked"
        ));
    }
    if replay.not_reached > 0 {
        out.info(&format!(
            "note: {} after the failing up not replayed (they require it)",
            count(replay.not_reached, "revision")
        ));
    }
    if replay.findings.is_empty() {
        out.info(&format!(
            "{} {} replayed up, down and up again; every down restores the schema",
            out.paint(Paint::BOLD_GREEN, "ok:"),
            count(total, "revision"),
        ));
    }
}

/// A fresh, empty scratch database.
async fn fresh<DB: Backend>(scratch: &Scratch) -> CliResult<Pool<DB>> {
    let url = match scratch.dialect {
        Dialect::Sqlite => "sqlite::memory:".to_string(),
        _ => scratch
            .server()
            .create("replay")
            .await
            .map_err(schema_error(Exit::Database))?,
    };
    // One connection never closed for idleness: closing it would lose an
    // in-memory SQLite database.
    PoolOptions::<DB>::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(&url)
        .await
        .map_err(|e| database_error(&e))
}

/// The database's error of a run, on one line per message.
fn failure(err: migrate_runtime::Error) -> Vec<String> {
    let error: CliError = err.into();
    error.errors
}

/// The differences of the schema after a down (`actual`) from the schema
/// before its up (`before`), worded for a round trip.
fn differences(actual: &Schema, before: &Schema) -> Vec<String> {
    let diff = migrate_schema::diff(actual, before, &Renames::default());
    describe(&diff)
        .into_iter()
        .map(|line| {
            line.replace(
                "is created by the migrations but not declared",
                "is still there after the down (the up created it)",
            )
            .replace(
                "exists but is not declared",
                "is still there after the down (the up created it)",
            )
            .replace(
                "is declared but not created by the migrations",
                "was there before the up and is gone after the down",
            )
            .replace(
                "is declared but missing",
                "was there before the up and is gone after the down",
            )
            .replace(
                " is declared as ",
                " differs after the down; before the up it was ",
            )
            .replace(", declared ", " after the down, before the up ")
        })
        .collect()
}

/// Applies `revisions`, a start of the topological order, one by one: the
/// state the replay is in after them (upgrading to the last one alone
/// would leave out the other branches before it).
async fn bring_up<DB: Catalog>(
    runner: &Runner,
    pool: &Pool<DB>,
    revisions: &[&Revision],
) -> CliResult<()> {
    for revision in revisions {
        runner
            .upgrade(pool, revision.id.as_ref())
            .await
            .map_err(schema::replay_error)?;
    }
    Ok(())
}

/// What the down of `order[index]` left that the up did not find, or
/// what it removed: empty when the schema is back as it was.
async fn down_differences<DB: Catalog>(
    scratch: &Scratch,
    runner: &Runner,
    pool: &Pool<DB>,
    before: &Before,
    order: &[&Revision],
    index: usize,
) -> CliResult<Vec<String>> {
    let table = scratch.history_table.as_str();
    let schema_before = match before {
        Before::Schema(schema) => return Ok(differences(&DB::read(pool, &[table]).await?, schema)),
        Before::Fingerprint(print) => {
            if DB::fingerprint(pool, table).await?.as_ref() == Some(print) {
                return Ok(Vec::new());
            }
            // The texts differ: compare the schemas, the one before the up
            // rebuilt in a fresh database from the revisions before it.
            let fresh = fresh::<DB>(scratch).await?;
            bring_up(runner, &fresh, &order[..index]).await?;
            let schema = DB::read(&fresh, &[table]).await;
            fresh.close().await;
            schema?
        }
    };
    Ok(differences(
        &DB::read(pool, &[table]).await?,
        &schema_before,
    ))
}

async fn replay<DB: Catalog>(scratch: &Scratch, runner: &Runner) -> CliResult<Replay> {
    let graph = runner.graph().map_err(CliError::from)?;
    let order: Vec<&Revision> = graph.topological().collect();
    let table = scratch.history_table.as_str();
    let mut replay = Replay::default();
    let mut pool = fresh::<DB>(scratch).await?;
    let mut before = Before::take(&pool, table).await?;
    for (index, revision) in order.iter().enumerate() {
        let id = revision.id.as_ref();
        let finding = |problem, details| Finding {
            revision: id.to_string(),
            file: revision.file.to_string(),
            problem,
            details,
        };
        if let Err(err) = runner.upgrade(&pool, id).await {
            replay
                .findings
                .push(finding("up fails on a fresh database", failure(err)));
            replay.not_reached = order.len() - index - 1;
            break;
        }
        let after = Before::take(&pool, table).await?;
        if !revision.is_reversible() {
            replay.irreversible.push(id.to_string());
            before = after;
            continue;
        }
        // The applied revisions are the topological order up to this one;
        // `-1` would be refused once two branches are applied, and from a
        // merge revision.
        let problem = match revert_newest(runner, &pool, &order[..=index]).await {
            Err(err) => Some(finding("down fails", failure(err))),
            Ok(_) => {
                let lines =
                    down_differences(scratch, runner, &pool, &before, &order, index).await?;
                if !lines.is_empty() {
                    Some(finding(
                        "down does not restore the schema from before its up",
                        lines,
                    ))
                } else if let Err(err) = runner.upgrade(&pool, id).await {
                    Some(finding("up fails again after its down", failure(err)))
                } else {
                    None
                }
            }
        };
        match problem {
            None => replay.checked += 1,
            Some(problem) => {
                replay.findings.push(problem);
                // Go on from a database that the up alone made.
                pool.close().await;
                pool = fresh::<DB>(scratch).await?;
                bring_up(runner, &pool, &order[..=index]).await?;
            }
        }
        before = after;
    }
    pool.close().await;
    Ok(replay)
}
