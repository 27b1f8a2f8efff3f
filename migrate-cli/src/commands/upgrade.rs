//! The verbs that change a database, or print what would: `upgrade`,
//! `downgrade` (both with `--sql`), `stamp`.
//!
//! Online, the runner does the work; the CLI plans beforehand only to say
//! what is about to happen and to align the progress lines. Offline
//! (`--sql`), the script is made of the very strings the runtime sends,
//! from `migrate_core::Dialect`, so a script applied by hand leaves the
//! database as `migrate upgrade` would.

use std::collections::HashMap;
use std::sync::Arc;

use migrate_core::{
    plan_downgrade, plan_upgrade, render_script, Dialect, Direction, HistoryTable, MigrationDir,
    Plan, Revision, RevisionGraph, Target,
};
use migrate_runtime::{Backend, RevisionState, Runner, TransactionMode};
use sqlx::Pool;

use crate::args::{DialectArg, DowngradeArgs, StampArgs, UpgradeArgs};
use crate::commands::interrupted::{self, InterruptedRun};
use crate::commands::{is_head, no_database_for, start_state, Bound, Bounds, Context};
use crate::database::Access;
use crate::error::{CliError, CliResult};
use crate::interrupt;
use crate::output::{self, render_row, Cell, Output, Paint, Table};
use crate::progress::Progress;
use crate::with_pool;

/// `migrate upgrade [target] [--sql]`.
pub async fn upgrade(ctx: &Context, args: &UpgradeArgs) -> CliResult {
    change(
        ctx,
        Direction::Upgrade,
        &args.target,
        args.sql,
        args.dialect,
    )
    .await
}

/// `migrate downgrade <target> [--sql]`.
pub async fn downgrade(ctx: &Context, args: &DowngradeArgs) -> CliResult {
    change(
        ctx,
        Direction::Downgrade,
        &args.target,
        args.sql,
        args.dialect,
    )
    .await
}

async fn change(
    ctx: &Context,
    direction: Direction,
    target: &str,
    sql: bool,
    dialect: Option<DialectArg>,
) -> CliResult {
    let dir = ctx.load()?;
    if sql {
        return offline(ctx, dir.revisions, direction, target, dialect).await;
    }
    if target.contains(':') {
        return Err(CliError::usage(format!(
            "`{target}` is a range, which only --sql takes; give one target"
        )));
    }
    if dialect.is_some() {
        return Err(CliError::usage(
            "--dialect is for --sql scripts; online, the database URL decides",
        ));
    }
    // A typo in the target is reported before connecting.
    Target::parse(target)?;
    let url = ctx.config.require_database()?;
    let runner = ctx.runner(dir);
    let access = match direction {
        Direction::Upgrade => Access::Create,
        Direction::Downgrade => Access::Read,
    };
    let shown = url.redacted();
    with_pool!(url, access, |pool| {
        apply(ctx, &runner, &pool, direction, target, &shown).await
    })
}

/// Runs an upgrade or downgrade with one progress line per revision.
async fn apply<DB: Backend>(
    ctx: &Context,
    runner: &Runner,
    pool: &Pool<DB>,
    direction: Direction,
    target: &str,
    shown_url: &str,
) -> CliResult {
    let out = ctx.out;
    let (past, verb) = match direction {
        Direction::Upgrade => ("applied", "upgrade"),
        Direction::Downgrade => ("reverted", "downgrade"),
    };

    let graph = runner.graph()?;
    // When the history is not one a run accepts, the runner refuses with
    // its own message: no plan is shown then, the run below reports the
    // refusal.
    let before = runner.applied_revisions(pool).await.ok();
    let planned: Option<Plan<'_>> = match &before {
        Some(ids) => {
            let applied = graph.set_of(ids.iter().map(String::as_str)).0;
            let parsed = Target::parse(target)?;
            Some(match direction {
                Direction::Upgrade => plan_upgrade(&graph, &applied, &parsed)?,
                Direction::Downgrade => plan_downgrade(&graph, &applied, &parsed)?,
            })
        }
        None => None,
    };
    if let Some(plan) = &planned {
        if plan.is_empty() {
            out.info(&format!(
                "nothing to do: the database is at {}",
                at_text(&out, &graph, &runner.current(pool).await?)
            ));
            return Ok(());
        }
        out.info(&format!(
            "{} {}: {}",
            out.paint(
                Paint::BOLD,
                if verb == "upgrade" {
                    "Upgrading"
                } else {
                    "Downgrading"
                }
            ),
            shown_url,
            output::count(plan.steps.len(), "revision")
        ));
    }

    // Progress lines are aligned to the planned revisions' columns.
    let messages: HashMap<String, String> = graph
        .revisions()
        .iter()
        .map(|r| (r.id.to_string(), r.message.to_string()))
        .collect();
    let mut widths = Table::new();
    for revision in planned.iter().flat_map(|p| p.steps.iter()) {
        widths.row(vec![
            Cell::plain(past),
            Cell::plain(revision.id.to_string()),
            Cell::plain(revision.message.to_string()),
        ]);
    }
    let widths = widths.widths();
    let line = move |id: &str, ms: u64| {
        let message = messages.get(id).cloned().unwrap_or_default();
        render_row(
            &[
                Cell::styled(past, Paint::GREEN),
                Cell::styled(id, Paint::CYAN),
                Cell::plain(message),
                Cell::styled(
                    output::duration(std::time::Duration::from_millis(ms)),
                    Paint::DIM,
                ),
            ],
            &widths,
            2,
            &out,
        )
    };
    // When the run commits once at its end (SQLite, whose lock is the
    // write transaction, or single-transaction mode), a revision finished
    // is not yet applied: its line waits for the commit.
    let commit_at_end = DB::LOCK_IS_TRANSACTION
        || ctx.config.transaction_mode == migrate_runtime::TransactionMode::Single;
    let held_back = Arc::new(std::sync::Mutex::new(Vec::new()));
    let progress = Arc::new(Progress::new({
        let line = line.clone();
        let held_back = Arc::clone(&held_back);
        move |id, ms| {
            if !commit_at_end {
                out.info(&line(id, ms));
            } else if let Ok(mut lines) = held_back.lock() {
                lines.push(line(id, ms));
            }
        }
    }));
    let dispatch = tracing::Dispatch::new(Arc::clone(&progress));
    let outcome = {
        let _guard = tracing::dispatcher::set_default(&dispatch);
        let run = async {
            match direction {
                Direction::Upgrade => runner.upgrade(pool, target).await,
                Direction::Downgrade => runner.downgrade(pool, target).await,
            }
        };
        let outcome = tokio::select! {
            result = run => Ok(result),
            signal = ctx.interrupts.claim() => Err(signal),
        };
        if outcome.is_err() {
            // The run is dropped: its cancellation's warnings, if any,
            // are the runtime's, for the subscriber to collect.
            interrupt::settle(out).await;
        }
        outcome
    };
    for warning in progress.warnings() {
        out.warning(&warning);
    }
    let result = match outcome {
        Ok(result) => result,
        Err(signal) => {
            let after = interrupted::reread(runner, pool).await;
            let seen = progress.seen();
            let interrupted = InterruptedRun {
                signal,
                direction,
                planned: planned.as_ref().map_or(&[], |plan| plan.steps.as_slice()),
                before: before.as_deref().unwrap_or_default(),
                finished: progress.finished(),
            };
            let printed = |id: &str| !commit_at_end && seen.iter().any(|s| s == id);
            return Err(interrupted.report(&out, &graph, after, printed, line));
        }
    };
    let seen = progress.seen();
    if result.is_err()
        && commit_at_end
        && ctx.config.transaction_mode != migrate_runtime::TransactionMode::Single
    {
        // SQLite keeps the revisions finished before the failing one: the
        // runner commits them before reporting the failure.
        for held in held_back.lock().map(|l| l.clone()).unwrap_or_default() {
            out.info(&held);
        }
    }
    let report = result?;
    let printed = |id: &String| !commit_at_end && seen.contains(id);
    for step in report.steps.iter().filter(|s| !printed(&s.revision)) {
        out.info(&line(&step.revision, step.duration.as_millis() as u64));
    }
    if report.is_empty() {
        out.info("nothing to do");
    }
    out.info(&format!(
        "the database is at {}",
        at_text(&out, &graph, &runner.current(pool).await?)
    ));
    Ok(())
}

/// `8c7d6e5f4a3b (head)`, or `base (nothing applied)`.
pub fn at_text(out: &Output, graph: &RevisionGraph<'_>, current: &[String]) -> String {
    if current.is_empty() {
        return format!("base {}", out.paint(Paint::DIM, "(nothing applied)"));
    }
    current
        .iter()
        .map(|id| {
            let marker = match graph.node(id) {
                Some(node) if is_head(graph, node) => out.paint(Paint::BOLD_GREEN, " (head)"),
                Some(_) => String::new(),
                None => out.paint(Paint::RED, " (not in the migrations directory)"),
            };
            format!("{}{marker}", out.paint(Paint::CYAN, id))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `migrate stamp <target> [--purge]`.
pub async fn stamp(ctx: &Context, args: &StampArgs) -> CliResult {
    let dir = ctx.load()?;
    Target::parse(&args.target)?;
    let url = ctx.config.require_database()?;
    let runner = ctx.runner(dir);
    with_pool!(url, Access::Create, |pool| {
        stamp_on(ctx, &runner, &pool, args).await
    })
}

async fn stamp_on<DB: Backend>(
    ctx: &Context,
    runner: &Runner,
    pool: &Pool<DB>,
    args: &StampArgs,
) -> CliResult {
    let out = ctx.out;
    let before_status = runner.status(pool).await?;
    let before = before_status.applied();
    let stamping = async {
        if args.purge {
            runner.stamp_purge(pool, &args.target).await
        } else {
            runner.stamp(pool, &args.target).await
        }
    };
    let outcome = tokio::select! {
        result = stamping => Ok(result),
        signal = ctx.interrupts.claim() => Err(signal),
    };
    match outcome {
        Ok(result) => {
            result?;
        }
        Err(signal) => {
            interrupt::settle(out).await;
            let after = interrupted::reread(runner, pool).await;
            let graph = runner.graph()?;
            return Err(interrupted::stamp_report(
                signal,
                &out,
                &graph,
                &before_status,
                after,
            ));
        }
    }
    if args.purge {
        // Every row went, known or not, and the target was recorded: one
        // batch under the lock.
        out.info(&format!(
            "{} the history table {}",
            out.paint(Paint::YELLOW, "emptied"),
            ctx.config.history_table
        ));
    }
    let after_status = runner.status(pool).await?;
    let after = after_status.applied();
    let graph = runner.graph()?;
    let mut table = Table::new().indent(2);
    if args.purge {
        for id in &before_status.unknown {
            table.row(vec![
                Cell::styled("forgotten", Paint::YELLOW),
                Cell::styled(id.clone(), Paint::CYAN),
                Cell::styled("(not in the migrations directory)", Paint::DIM),
            ]);
        }
    }
    let half_applied_before = before_status.in_state(RevisionState::HalfApplied);
    let half_applied_after = after_status.in_state(RevisionState::HalfApplied);
    for revision in graph.topological() {
        let id = revision.id.as_ref();
        let change = match (before.contains(&id), after.contains(&id)) {
            (false, true) => Cell::styled("recorded", Paint::GREEN),
            (true, false) => Cell::styled("forgotten", Paint::YELLOW),
            // Stamping below a half-applied revision deletes its pending
            // row: a change to the history, though neither side counts it
            // as applied.
            (false, false)
                if half_applied_before.contains(&id) && !half_applied_after.contains(&id) =>
            {
                table.row(vec![
                    Cell::styled("cleared", Paint::YELLOW),
                    Cell::styled(id, Paint::CYAN),
                    Cell::styled("(its pending row: it is not applied)", Paint::DIM),
                ]);
                continue;
            }
            _ => continue,
        };
        table.row(vec![
            change,
            Cell::styled(id, Paint::CYAN),
            Cell::plain(revision.message.to_string()),
        ]);
    }
    if table.is_empty() {
        out.info("nothing to record: the history already says so");
    } else if !out.is_quiet() {
        out.data("Stamped (no migration SQL was run):");
        out.data_lines(&table.render(&out));
    }
    out.info(&format!(
        "the database is at {}",
        at_text(&out, &graph, &runner.current(pool).await?)
    ));
    Ok(())
}

/// `--sql`: prints the script instead of running it.
async fn offline(
    ctx: &Context,
    revisions: Vec<Revision>,
    direction: Direction,
    text: &str,
    dialect_arg: Option<DialectArg>,
) -> CliResult {
    let graph = RevisionGraph::new(&revisions)?;
    let (example, range_example) = match direction {
        Direction::Upgrade => (
            format!("migrate upgrade base:{text} --sql"),
            "migrate upgrade base:head --sql",
        ),
        Direction::Downgrade => (
            format!("migrate downgrade head:{text} --sql"),
            "migrate downgrade head:base --sql",
        ),
    };
    let range = if text.contains(':') {
        Some(Bounds::parse(text)?)
    } else {
        Target::parse(text)?;
        None
    };
    // Without a range, the script starts at the database's state; a range
    // needs it for `current` and `+N` / `-N` starts.
    let reads_database = range.as_ref().is_none_or(Bounds::reads_database);
    let database = if reads_database {
        let url = ctx.config.configured_database()?.ok_or_else(|| match &range {
            Some(_) => no_database_for(text, range_example),
            None => CliError::usage(
                "--sql without a range starts at the database's current state, and no database is configured",
            )
            .hint(format!("give the start as a range: `{example}`")),
        })?;
        let runner = ctx.runner(MigrationDir {
            revisions: revisions.clone(),
            files: Vec::new(),
        });
        // Refused as a run would refuse: a script from a history `migrate
        // upgrade` rejects would not leave the database as a run does.
        let ids = with_pool!(url, Access::Read, |pool| runner
            .applied_revisions(&pool)
            .await)?;
        Some(graph.set_of(ids.iter().map(String::as_str)).0)
    } else {
        None
    };

    let (applied, target, title) = match &range {
        Some(range) => {
            let applied = start_state(&graph, range.from.as_ref(), database.as_ref())?;
            let target = match (&range.to, direction) {
                (Some(Bound::Target(to)), _) => to.clone(),
                (Some(Bound::Current), _) => {
                    let state = database.as_ref().expect("read for `current`");
                    match graph.heads_of(state).as_slice() {
                        [] => Target::Base,
                        [one] => Target::Revision(graph.revision(*one).id.to_string()),
                        several => {
                            return Err(CliError::usage(format!(
                                "the database is at {} revisions ({}); `current` as the end of a range names one",
                                several.len(),
                                super::ids(&graph, several).join(", ")
                            ))
                            .hint("name the revision to go to instead of `current`"))
                        }
                    }
                }
                (None, Direction::Upgrade) => Target::Heads,
                (None, Direction::Downgrade) => {
                    return Err(CliError::usage(format!(
                        "`{text}` does not say where to downgrade to; e.g. `head:base`"
                    )))
                }
            };
            (applied, target, text.to_string())
        }
        None => (
            database.clone().expect("read without a range"),
            Target::parse(text)?,
            format!("{text} from the database's current state"),
        ),
    };
    let dialect = script_dialect(ctx, dialect_arg, reads_database)?;

    let plan = match direction {
        Direction::Upgrade => plan_upgrade(&graph, &applied, &target)?,
        Direction::Downgrade => plan_downgrade(&graph, &applied, &target)?,
    };
    let table = HistoryTable::new(&ctx.config.history_table).map_err(CliError::usage)?;
    let verb = match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    };
    ctx.out.raw(&format!(
        "-- migrate {}: {verb} {title} ({})\n\n{}",
        env!("CARGO_PKG_VERSION"),
        dialect_name(dialect),
        render_script(
            dialect,
            &table,
            &plan,
            ctx.config.transaction_mode == TransactionMode::Single
        )
    ));
    Ok(())
}

/// The script's dialect: `--dialect`, or the database URL's, or the
/// `dialect` of migrate.toml. When the script starts from the database's
/// state, `--dialect` and the URL must agree; with a range, `--dialect`
/// wins (a script for production from a development configuration).
/// Without `--dialect`, the URL and the file must agree: the file's
/// setting is also the dialect the application's build lints for.
pub(crate) fn script_dialect(
    ctx: &Context,
    dialect_arg: Option<DialectArg>,
    reads_database: bool,
) -> CliResult<Dialect> {
    let file_dialect = ctx.config.dialect;
    // With --dialect given, or the file's when the database is not read,
    // an unusable URL (an unset `${VAR}`) is no reason to refuse.
    let url_dialect = match ctx.config.configured_database() {
        Ok(url) => url.map(|u| u.dialect()),
        Err(_) if dialect_arg.is_some() || (file_dialect.is_some() && !reads_database) => None,
        Err(err) => return Err(err),
    };
    match (dialect_arg.map(dialect_of), url_dialect, file_dialect) {
        (Some(given), Some(url), _) if reads_database && given != url => {
            Err(CliError::usage(format!(
                "--dialect {} disagrees with the database URL, which is {}",
                dialect_name(given),
                dialect_name(url)
            )))
        }
        (None, Some(url), Some(file)) if url != file => Err(CliError::usage(format!(
            "the database URL is {} but {} sets `dialect = \"{}\"`",
            dialect_name(url),
            ctx.config.file_shown,
            dialect_name(file)
        ))
        .hint("correct one of them, or give --dialect")),
        (Some(dialect), _, _) | (None, Some(dialect), _) | (None, None, Some(dialect)) => {
            Ok(dialect)
        }
        (None, None, None) => Err(CliError::usage(
            "which SQL dialect? no database URL is configured",
        )
        .hint(format!(
            "give --dialect postgres|mysql|sqlite, or set `dialect` in {}",
            ctx.config.file_shown
        ))),
    }
}

fn dialect_of(arg: DialectArg) -> Dialect {
    match arg {
        DialectArg::Postgres => Dialect::Postgres,
        DialectArg::Mysql => Dialect::MySql,
        DialectArg::Sqlite => Dialect::Sqlite,
    }
}

/// The name `--dialect` takes.
pub fn dialect_name(dialect: Dialect) -> &'static str {
    dialect.name()
}
