//! The verbs that read: `current`, `history`, `heads`, `branches`, `show`,
//! `status`, `check`, and `repair` (which writes only checksums). Each
//! prints an aligned table for people, or JSON with `--json`.

use migrate_core::history::{current_heads, history_nodes};
use migrate_core::target::Point;
use migrate_core::{Range, Revision, RevisionGraph, RevisionSet, Target};
use migrate_runtime::{Backend, RevisionState, Runner, Status};
use serde::Serialize;
use sqlx::Pool;

use crate::args::{CurrentArgs, HistoryArgs, JsonArgs, ListArgs, ShowArgs};
use crate::commands::upgrade::at_text;
use crate::commands::{is_head, parents_text, resolve_one, Context};
use crate::database::Access;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, Cell, Output, Paint, Table};
use crate::with_pool;

/// A revision as the JSON output shows it.
#[derive(Debug, Serialize)]
struct RevisionJson {
    revision: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    branch_labels: Vec<String>,
    message: String,
    created: Option<String>,
    file: String,
    checksum: String,
    transactional: bool,
    reversible: bool,
    head: bool,
    branchpoint: bool,
    mergepoint: bool,
    children: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    up_sql: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    down_sql: Option<String>,
}

fn list(items: &[migrate_core::Text]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn revision_json(graph: &RevisionGraph<'_>, node: usize) -> RevisionJson {
    let r = graph.revision(node);
    RevisionJson {
        revision: r.id.to_string(),
        parents: list(&r.parents),
        depends_on: list(&r.depends_on),
        branch_labels: list(&r.branch_labels),
        message: r.message.to_string(),
        created: r.created.as_ref().map(|c| c.to_string()),
        file: r.file.to_string(),
        checksum: r.checksum_hex(),
        transactional: r.transactional,
        reversible: r.is_reversible(),
        head: is_head(graph, node),
        branchpoint: graph.child_nodes(node).len() > 1,
        mergepoint: r.parents.len() > 1,
        children: super::ids(graph, graph.child_nodes(node)),
        current: None,
        up_sql: None,
        down_sql: None,
    }
}

/// `(head)`, `(branchpoint)`, `(mergepoint)`, `(label)`, `(current)`.
fn markers(out: &Output, graph: &RevisionGraph<'_>, node: usize, current: bool) -> String {
    let r = graph.revision(node);
    let mut parts = Vec::new();
    if current {
        parts.push(out.paint(Paint::BOLD_YELLOW, "(current)"));
    }
    if is_head(graph, node) {
        parts.push(out.paint(Paint::BOLD_GREEN, "(head)"));
    }
    if graph.child_nodes(node).len() > 1 {
        parts.push(out.paint(Paint::YELLOW, "(branchpoint)"));
    }
    if r.parents.len() > 1 {
        parts.push(out.paint(Paint::YELLOW, "(mergepoint)"));
    }
    if !r.branch_labels.is_empty() {
        parts.push(out.paint(Paint::BOLD, &format!("({})", r.branch_labels.join(", "))));
    }
    parts.join(" ")
}

/// The markers as a table cell: measured on their plain text.
fn marker_cell(out: &Output, graph: &RevisionGraph<'_>, node: usize, current: bool) -> Cell {
    let plain = Output::new(crate::args::ColorChoice::Never, false);
    Cell::painted(
        markers(&plain, graph, node, current),
        markers(out, graph, node, current),
    )
}

/// The `-v` block of a revision, Alembic's layout.
fn details(out: &Output, graph: &RevisionGraph<'_>, node: usize, current: bool) -> Vec<String> {
    let r = graph.revision(node);
    let mut fields = Table::new();
    let mut field = |key: &str, value: String| {
        fields.row(vec![
            Cell::styled(format!("{key}:"), Paint::BOLD),
            Cell::plain(value),
        ]);
    };
    let marks = markers(out, graph, node, current);
    field(
        "Rev",
        format!("{} {marks}", out.paint(Paint::CYAN, &r.id))
            .trim_end()
            .to_string(),
    );
    field("Parent", parents_text(r));
    if !r.depends_on.is_empty() {
        field("Depends on", r.depends_on.join(", "));
    }
    if graph.child_nodes(node).len() > 1 {
        field(
            "Branches into",
            super::ids(graph, graph.child_nodes(node)).join(", "),
        );
    }
    if !r.branch_labels.is_empty() {
        field("Branch names", r.branch_labels.join(", "));
    }
    field("Path", r.file.to_string());
    if let Some(created) = &r.created {
        field("Created", created.to_string());
    }
    if !r.transactional {
        field("Transaction", "no (transaction: false)".to_string());
    }
    if !r.is_reversible() {
        field("Reversible", "no (no -- migrate:down section)".to_string());
    }
    let mut lines = fields.render(out);
    if !r.message.is_empty() {
        lines.push(String::new());
        lines.push(format!("    {}", r.message));
    }
    lines.push(String::new());
    lines
}

/// The database's current heads and status, read once.
async fn read_state<DB: Backend>(
    runner: &Runner,
    pool: &Pool<DB>,
) -> CliResult<(Vec<String>, Status)> {
    Ok((runner.current(pool).await?, runner.status(pool).await?))
}

/// `migrate current [-v] [--json]`.
pub async fn current(ctx: &Context, args: &CurrentArgs) -> CliResult {
    let out = &ctx.out;
    let dir = ctx.load()?;
    let url = ctx.config.require_database()?;
    let runner = ctx.runner(dir.clone());
    let (current, status) = with_pool!(url, Access::Read, |pool| read_state(&runner, &pool).await)?;
    let graph = RevisionGraph::new(&dir.revisions)?;
    let pending = status.in_state(RevisionState::Pending);

    if args.json {
        #[derive(Serialize)]
        struct CurrentJson {
            current: Vec<RevisionJson>,
            unknown: Vec<String>,
            pending: Vec<String>,
        }
        let current_json = current
            .iter()
            .filter_map(|id| graph.node(id))
            .map(|node| revision_json(&graph, node))
            .collect();
        return out.json(&CurrentJson {
            current: current_json,
            unknown: status.unknown.clone(),
            pending: pending.iter().map(|s| s.to_string()).collect(),
        });
    }
    if current.is_empty() {
        out.data(&format!(
            "base {}",
            out.paint(Paint::DIM, "(nothing applied)")
        ));
    }
    let mut table = Table::new();
    for id in &current {
        match graph.node(id) {
            Some(node) if args.verbose => out.data_lines(&details(out, &graph, node, false)),
            Some(node) => table.row(vec![
                Cell::styled(id.clone(), Paint::CYAN),
                marker_cell(out, &graph, node, false),
                Cell::plain(graph.revision(node).message.to_string()),
            ]),
            None => table.row(vec![
                Cell::styled(id.clone(), Paint::RED),
                Cell::styled("(not in the migrations directory)", Paint::RED),
            ]),
        }
    }
    out.data_lines(&table.render(out));
    match pending.len() {
        0 => {}
        1 => out.hint("1 revision is pending: `migrate upgrade` applies it"),
        n => out.hint(&format!(
            "{n} revisions are pending: `migrate upgrade` applies them"
        )),
    }
    Ok(())
}

/// `migrate history [-r from:to] [-v] [-i] [--json]`.
pub async fn history(ctx: &Context, args: &HistoryArgs) -> CliResult {
    let out = &ctx.out;
    let (dir, problems) = ctx.load_allowing_heads()?;
    let graph = RevisionGraph::new_allowing_multiple_heads(&dir.revisions)?;
    let selected: Vec<usize> = match &args.rev_range {
        None => graph.topological_nodes().iter().rev().copied().collect(),
        Some(text) => {
            let range = Range::parse(text)?;
            let names_current = [&range.from, &range.to]
                .iter()
                .any(|side| matches!(side, Some(Target::Current)));
            let database = if names_current {
                let url = ctx.config.configured_database()?.ok_or_else(|| {
                    CliError::usage(format!(
                        "`{text}` names `current`, the database's state, and no database is configured"
                    ))
                    .hint("give --database-url, or name revisions instead, e.g. `-r <rev>:heads`")
                })?;
                Some(database_state(ctx, &graph, url).await?)
            } else {
                None
            };
            let current = database.map(|applied| current_heads(&graph, &applied));
            history_nodes(&graph, &range, text, current.as_deref())?
        }
    };

    let current: Vec<String> = if args.indicate_current {
        let valid = ctx.load()?;
        let url = ctx.config.require_database()?;
        let runner = ctx.runner(valid);
        with_pool!(url, Access::Read, |pool| runner.current(&pool).await)?
    } else {
        Vec::new()
    };
    let is_current = |node: usize| current.iter().any(|id| *id == graph.revision(node).id);

    if args.json {
        let rows: Vec<RevisionJson> = selected
            .iter()
            .map(|&node| {
                let mut json = revision_json(&graph, node);
                if args.indicate_current {
                    json.current = Some(is_current(node));
                }
                json
            })
            .collect();
        return out.json(&rows);
    }
    ctx.warn_all(&problems);
    if args.verbose {
        for &node in &selected {
            out.data_lines(&details(out, &graph, node, is_current(node)));
        }
        return Ok(());
    }
    out.data_lines(&revision_table(out, &graph, &selected, &is_current));
    Ok(())
}

/// What the database has applied, for `history -r current:` and
/// `-r <rev>:current`: revisions whose SQL ran (a changed file included: this only
/// reads), as a set of `graph`.
async fn database_state(
    ctx: &Context,
    graph: &RevisionGraph<'_>,
    url: &crate::database::DatabaseUrl,
) -> CliResult<RevisionSet> {
    let runner = ctx.runner(ctx.load()?);
    let status = with_pool!(url, Access::Read, |pool| runner.status(&pool).await)?;
    let (set, _) = graph.set_of(status.applied());
    Ok(set)
}

/// `parents -> id  markers  message`, aligned.
fn revision_table(
    out: &Output,
    graph: &RevisionGraph<'_>,
    nodes: &[usize],
    is_current: &dyn Fn(usize) -> bool,
) -> Vec<String> {
    let mut table = Table::new();
    for &node in nodes {
        let r: &Revision = graph.revision(node);
        table.row(vec![
            Cell::styled(parents_text(r), Paint::DIM),
            Cell::styled("->", Paint::DIM),
            Cell::styled(r.id.to_string(), Paint::CYAN),
            marker_cell(out, graph, node, is_current(node)),
            Cell::plain(r.message.to_string()),
        ]);
    }
    table.render(out)
}

/// `migrate heads [-v] [--json]`.
pub fn heads(ctx: &Context, args: &ListArgs) -> CliResult {
    let out = &ctx.out;
    let (dir, problems) = ctx.load_allowing_heads()?;
    let graph = RevisionGraph::new_allowing_multiple_heads(&dir.revisions)?;
    let heads = graph.head_nodes();
    if args.json {
        let rows: Vec<RevisionJson> = heads.iter().map(|&n| revision_json(&graph, n)).collect();
        return out.json(&rows);
    }
    if args.verbose {
        for &node in &heads {
            out.data_lines(&details(out, &graph, node, false));
        }
    } else {
        let mut table = Table::new();
        for &node in &heads {
            let r = graph.revision(node);
            table.row(vec![
                Cell::styled(r.id.to_string(), Paint::CYAN),
                marker_cell(out, &graph, node, false),
                Cell::plain(r.message.to_string()),
            ]);
        }
        out.data_lines(&table.render(out));
    }
    ctx.warn_all(&problems);
    Ok(())
}

/// `migrate branches [-v] [--json]`: each branch point and where it leads.
pub fn branches(ctx: &Context, args: &ListArgs) -> CliResult {
    let out = &ctx.out;
    let (dir, problems) = ctx.load_allowing_heads()?;
    let graph = RevisionGraph::new_allowing_multiple_heads(&dir.revisions)?;
    let points = graph.branch_point_nodes();
    if args.json {
        let rows: Vec<RevisionJson> = points.iter().map(|&n| revision_json(&graph, n)).collect();
        return out.json(&rows);
    }
    for &node in &points {
        if args.verbose {
            out.data_lines(&details(out, &graph, node, false));
        } else {
            let r = graph.revision(node);
            out.data(&format!(
                "{} {}  {}",
                out.paint(Paint::CYAN, &r.id),
                markers(out, &graph, node, false),
                r.message
            ));
        }
        let mut table = Table::new().indent(4);
        for &child in graph.child_nodes(node) {
            let c = graph.revision(child);
            table.row(vec![
                Cell::styled("->", Paint::DIM),
                Cell::styled(c.id.to_string(), Paint::CYAN),
                marker_cell(out, &graph, child, false),
                Cell::plain(c.message.to_string()),
            ]);
        }
        out.data_lines(&table.render(out));
    }
    if points.is_empty() {
        out.info("no branch points: the revisions form one line");
    }
    ctx.warn_all(&problems);
    Ok(())
}

/// `migrate show <rev> [--json]`: the header, the file and the SQL.
pub fn show(ctx: &Context, args: &ShowArgs) -> CliResult {
    let out = &ctx.out;
    let (dir, problems) = ctx.load_allowing_heads()?;
    let graph = RevisionGraph::new_allowing_multiple_heads(&dir.revisions)?;
    let node = match resolve_one(&graph, &args.revision)? {
        Point::Revision(node) => node,
        Point::Base => {
            return Err(CliError::usage(
                "`base` is the state before the first revision; there is nothing to show",
            ))
        }
        Point::BeforeRoot(root) => {
            return Err(CliError::usage(format!(
                "`{}` is the state before the root `{}`; there is nothing to show",
                args.revision,
                graph.revision(root).id
            )))
        }
    };
    let r = graph.revision(node);
    if args.json {
        let mut json = revision_json(&graph, node);
        json.up_sql = Some(r.up_sql.to_string());
        json.down_sql = r.down_sql.as_ref().map(|s| s.to_string());
        return out.json(&json);
    }
    let mut lines = details(out, &graph, node, false);
    lines.push(out.paint(Paint::BOLD, "-- migrate:up"));
    lines.extend(r.up_sql.lines().map(str::to_string));
    if let Some(down) = &r.down_sql {
        lines.push(String::new());
        lines.push(out.paint(Paint::BOLD, "-- migrate:down"));
        lines.extend(down.lines().map(str::to_string));
    }
    out.data_lines(&lines);
    ctx.warn_all(&problems);
    Ok(())
}

/// `migrate status [--json]`: every revision's state in the database.
pub async fn status(ctx: &Context, args: &JsonArgs) -> CliResult {
    let out = &ctx.out;
    let dir = ctx.load()?;
    let url = ctx.config.require_database()?;
    let runner = ctx.runner(dir);
    let status = with_pool!(url, Access::Read, |pool| runner.status(&pool).await)?;

    if args.json {
        #[derive(Serialize)]
        struct Row<'a> {
            revision: &'a str,
            message: &'a str,
            file: &'a str,
            state: &'static str,
        }
        #[derive(Serialize)]
        struct StatusJson<'a> {
            revisions: Vec<Row<'a>>,
            unknown: &'a [String],
            unknown_half_applied: &'a [String],
            up_to_date: bool,
        }
        return out.json(&StatusJson {
            revisions: status
                .revisions
                .iter()
                .map(|r| Row {
                    revision: &r.revision,
                    message: &r.message,
                    file: &r.file,
                    state: state_name(r.state),
                })
                .collect(),
            unknown: &status.unknown,
            unknown_half_applied: &status.unknown_half_applied,
            up_to_date: status.is_up_to_date(),
        });
    }

    let mut table = Table::new();
    for r in &status.revisions {
        let (paint, note) = match r.state {
            RevisionState::Applied => (Paint::GREEN, String::new()),
            RevisionState::Pending => (Paint::YELLOW, String::new()),
            RevisionState::Drifted => (
                Paint::RED,
                format!("{} changed since it was applied", r.file),
            ),
            RevisionState::HalfApplied => (
                Paint::RED,
                "started on an earlier run and did not finish".to_string(),
            ),
        };
        table.row(vec![
            Cell::styled(state_name(r.state), paint),
            Cell::styled(r.revision.clone(), Paint::CYAN),
            Cell::plain(r.message.clone()),
            Cell::styled(note, Paint::RED),
        ]);
    }
    for id in &status.unknown {
        let note = if status.unknown_half_applied.contains(id) {
            "(left pending by a run that did not finish, and not in the migrations directory)"
        } else {
            "(applied, but not in the migrations directory)"
        };
        table.row(vec![
            Cell::styled("unknown", Paint::RED),
            Cell::styled(id.clone(), Paint::RED),
            Cell::styled(note, Paint::RED),
        ]);
    }
    out.data_lines(&table.render(out));

    let count = |state| status.in_state(state).len();
    let mut summary = vec![
        format!("{} applied", count(RevisionState::Applied)),
        format!("{} pending", count(RevisionState::Pending)),
    ];
    for (state, n) in [
        ("drifted", count(RevisionState::Drifted)),
        ("half-applied", count(RevisionState::HalfApplied)),
        ("unknown", status.unknown.len()),
    ] {
        if n > 0 {
            summary.push(format!("{n} {state}"));
        }
    }
    out.info(&out.paint(Paint::DIM, &summary.join(", ")));
    if count(RevisionState::Drifted) > 0 {
        out.hint("review each changed file; then `migrate repair` records its new checksum (or restore the file as applied)");
    }
    if count(RevisionState::Pending) > 0 {
        out.hint("`migrate upgrade` applies the pending revisions");
    }
    Ok(())
}

fn state_name(state: RevisionState) -> &'static str {
    match state {
        RevisionState::Applied => "applied",
        RevisionState::Pending => "pending",
        RevisionState::Drifted => "drifted",
        RevisionState::HalfApplied => "half-applied",
    }
}

/// One thing `check` found.
#[derive(Debug, Serialize)]
struct Problem {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<String>,
    message: String,
}

/// `migrate check [--json]`: exit 0 when the directory is valid, no
/// applied file changed and nothing is pending; else exit 1 with what
/// differs.
pub async fn check(ctx: &Context, json: bool) -> CliResult {
    let out = &ctx.out;
    let mut problems: Vec<Problem> = Vec::new();
    let mut current = Vec::new();
    match ctx.load() {
        Err(err) => {
            for message in err.errors {
                problems.push(Problem {
                    kind: "invalid_directory",
                    revision: None,
                    message,
                });
            }
        }
        Ok(dir) => {
            let url = ctx.config.require_database()?;
            let runner = ctx.runner(dir.clone());
            let (heads, status) =
                with_pool!(url, Access::Read, |pool| read_state(&runner, &pool).await)?;
            current = heads;
            let graph = RevisionGraph::new(&dir.revisions)?;
            database_problems(&graph, &status, &mut problems);
        }
    }

    if json {
        #[derive(Serialize)]
        struct CheckJson<'a> {
            ok: bool,
            current: &'a [String],
            problems: &'a [Problem],
        }
        out.json(&CheckJson {
            ok: problems.is_empty(),
            current: &current,
            problems: &problems,
        })?;
    } else if problems.is_empty() {
        let dir = ctx.load()?;
        let graph = RevisionGraph::new(&dir.revisions)?;
        out.info(&format!(
            "{} the database is at {}: {} applied, checksums match, nothing pending",
            out.paint(Paint::BOLD_GREEN, "ok:"),
            at_text(out, &graph, &current),
            output::count(dir.revisions.len(), "revision")
        ));
    } else {
        let mut table = Table::new();
        for problem in &problems {
            table.row(vec![
                Cell::styled(problem.kind.replace('_', " "), Paint::RED),
                Cell::styled(problem.revision.clone().unwrap_or_default(), Paint::CYAN),
                Cell::plain(problem.message.clone()),
            ]);
        }
        out.data_lines(&table.render(out));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut error = CliError::new(
        Exit::Differences,
        format!(
            "check found {}",
            output::count(problems.len(), "difference")
        ),
    );
    let kinds: Vec<&str> = problems.iter().map(|p| p.kind).collect();
    if kinds.contains(&"invalid_directory") {
        error = error.hint("fix the files named above; `cargo build` refuses them too");
    }
    if kinds.contains(&"unknown") {
        error = error.hint("deploy the code that contains those revisions, or, once the schema is known to match, `migrate stamp <rev> --purge`");
    }
    if kinds.contains(&"half_applied") {
        error = error.hint(
            "inspect the database, finish or undo the revision by hand, then `migrate stamp`",
        );
    }
    if kinds.contains(&"drifted") {
        error = error
            .hint("review the changed files; restore them, or accept them with `migrate repair`");
    }
    if kinds.contains(&"pending") {
        error = error.hint("the database is behind the migrations directory: `migrate upgrade` applies the pending revisions");
    }
    Err(error)
}

fn database_problems(graph: &RevisionGraph<'_>, status: &Status, problems: &mut Vec<Problem>) {
    for id in &status.unknown {
        let message = if status.unknown_half_applied.contains(id) {
            "left pending in the database by a run that did not finish, and not in the migrations directory"
        } else {
            "applied to the database, but not in the migrations directory"
        };
        problems.push(Problem {
            kind: "unknown",
            revision: Some(id.clone()),
            message: message.to_string(),
        });
    }
    for r in &status.revisions {
        let (kind, message) = match r.state {
            RevisionState::Applied => continue,
            RevisionState::HalfApplied => (
                "half_applied",
                format!("{} started on an earlier run and did not finish", r.file),
            ),
            RevisionState::Drifted => (
                "drifted",
                format!(
                    "{} changed after it was applied (its checksum differs)",
                    r.file
                ),
            ),
            RevisionState::Pending => ("pending", format!("not applied: {}", r.message)),
        };
        problems.push(Problem {
            kind,
            revision: Some(r.revision.clone()),
            message,
        });
    }
    let (applied, _) = graph.set_of(status.applied());
    for (node, missing) in graph.missing_requirements(&applied) {
        problems.push(Problem {
            kind: "inconsistent",
            revision: Some(graph.revision(node).id.to_string()),
            message: format!(
                "recorded as applied, but `{}`, which it requires, is not",
                graph.revision(missing).id
            ),
        });
    }
}

/// `migrate repair`: re-records the checksums of changed applied files.
pub async fn repair(ctx: &Context) -> CliResult {
    let out = &ctx.out;
    let dir = ctx.load()?;
    let url = ctx.config.require_database()?;
    let runner = ctx.runner(dir.clone());
    let repaired = with_pool!(url, Access::Read, |pool| runner.repair(&pool).await)?;
    if repaired.is_empty() {
        out.info("nothing to repair: every applied file matches its recorded checksum");
        return Ok(());
    }
    let mut table = Table::new().indent(2);
    for id in &repaired {
        let revision = dir.revisions.iter().find(|r| r.id == *id);
        table.row(vec![
            Cell::styled("re-recorded", Paint::GREEN),
            Cell::styled(id.clone(), Paint::CYAN),
            Cell::plain(revision.map(|r| r.file.to_string()).unwrap_or_default()),
            Cell::styled(
                revision
                    .map(|r| format!("checksum {}", &r.checksum_hex()[..12]))
                    .unwrap_or_default(),
                Paint::DIM,
            ),
        ]);
    }
    if !out.is_quiet() {
        out.data(&format!(
            "Repaired {} (the database now accepts the files as they are):",
            output::count(repaired.len(), "checksum")
        ));
        out.data_lines(&table.render(out));
    }
    Ok(())
}
