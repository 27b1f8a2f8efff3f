//! The verbs, grouped: [`revision`] writes files (`init`, `revision`,
//! `merge`), [`upgrade`] changes a database or prints the SQL that would
//! (`upgrade`, `downgrade`, `stamp`), [`inspect`] reads (`current`,
//! `history`, `heads`, `branches`, `show`, `status`, `check`, `repair`).
//! What they share is here: loading the directory and building a runner.

pub mod inspect;
pub mod interrupted;
pub mod lint;
pub mod replay;
pub mod revision;
pub mod schema;
pub mod upgrade;

use migrate_core::target::{resolve_point, Point};
use migrate_core::{
    load_dir, load_dir_allowing_multiple_heads, plan_stamp, LoadError, MigrationDir, Range,
    Revision, RevisionGraph, RevisionSet, Target,
};
use migrate_runtime::Runner;

use crate::config::Config;
use crate::error::{CliError, CliResult};
use crate::interrupt::Interrupts;
use crate::output::Output;

/// What every command gets: the settings and the output.
#[derive(Debug, Clone)]
pub struct Context {
    /// `migrate.toml`, `DATABASE_URL` and the flags, resolved.
    pub config: Config,
    /// Where and how to print.
    pub out: Output,
    /// Ctrl-C and SIGTERM, for the verbs that report an interruption.
    pub interrupts: Interrupts,
}

impl Context {
    /// Loads the migrations directory with every rule the macro applies:
    /// what `cargo build` accepts is exactly what this accepts.
    pub fn load(&self) -> CliResult<MigrationDir> {
        load_dir(&self.config.migrations_dir, &self.config.migrations_shown).map_err(Into::into)
    }

    /// Loads the directory accepting several unlabelled heads (for `heads`,
    /// `history`, `show`, `merge`, `revision`); the head problem, if there
    /// is one, is returned apart for the caller to show as a warning.
    pub fn load_allowing_heads(&self) -> CliResult<(MigrationDir, Vec<LoadError>)> {
        let dir = load_dir_allowing_multiple_heads(
            &self.config.migrations_dir,
            &self.config.migrations_shown,
        )?;
        let problems = RevisionGraph::new(&dir.revisions).err().unwrap_or_default();
        Ok((dir, problems))
    }

    /// Prints the problems of [`Context::load_allowing_heads`] as warnings.
    pub fn warn_all(&self, problems: &[LoadError]) {
        for problem in problems {
            self.out.warning(&problem.to_string());
        }
    }

    /// A runner over the directory's revisions, with the configured table,
    /// transaction mode, lock timeout and I/O timeout, without the boot's
    /// history digest.
    pub fn runner(&self, dir: MigrationDir) -> Runner {
        Runner::new(dir.revisions)
            .with_history_table(self.config.history_table.clone())
            .with_transaction_mode(self.config.transaction_mode)
            .with_lock_timeout(self.config.lock_timeout)
            .with_io_timeout(self.config.io_timeout)
            // Its runs are explicit, and a database it migrates must hold
            // exactly what its offline scripts create.
            .with_history_digest(false)
    }
}

/// Resolves a target that names one point of the graph (`head`, `base`,
/// an id or prefix, a label, `<label>@head`, `<rev>+N`, `<rev>-N`), by
/// migrate-core's rule, the one planning uses.
pub fn resolve_one(graph: &RevisionGraph<'_>, text: &str) -> CliResult<Point> {
    resolve_point(graph, &Target::parse(text)?)?.ok_or_else(|| {
        CliError::usage(format!(
            "`{text}` does not name one revision here; give a revision id, a prefix, a label, \
             `head`, `<label>@head` or `<rev>-N`"
        ))
    })
}

/// Whether this revision is a head (nothing revises it), for the `(head)` markers.
pub fn is_head(graph: &RevisionGraph<'_>, node: usize) -> bool {
    graph.child_nodes(node).is_empty()
}

/// `a, b` of a revision's parents, or `<base>`.
pub fn parents_text(revision: &Revision) -> String {
    if revision.parents.is_empty() {
        "<base>".to_string()
    } else {
        revision
            .parents
            .iter()
            .map(|p| p.as_ref())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The ids of nodes.
pub fn ids(graph: &RevisionGraph<'_>, nodes: &[usize]) -> Vec<String> {
    nodes
        .iter()
        .map(|&n| graph.revision(n).id.to_string())
        .collect()
}

/// One side of a range: a target, or `current`, the database's state
/// (Alembic's `history -r current:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// The applied set of the configured database.
    Current,
    /// A target of the grammar.
    Target(Target),
}

impl Bound {
    /// Whether this side needs the database: `current`, and `+N` / `-N`,
    /// which count from the database's state.
    pub fn reads_database(&self) -> bool {
        matches!(self, Bound::Current | Bound::Target(Target::Relative(_)))
    }
}

/// A range `from:to` whose sides may be `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// The start, exclusive; `None` for base.
    pub from: Option<Bound>,
    /// The end, inclusive; `None` for the heads.
    pub to: Option<Bound>,
}

impl Bounds {
    /// Parses `a:b`, `a:`, `:b`, with `current` on either side.
    pub fn parse(text: &str) -> CliResult<Bounds> {
        let range = Range::parse(text)?;
        let bound = |target: Option<Target>| {
            target.map(|target| match target {
                Target::Current => Bound::Current,
                other => Bound::Target(other),
            })
        };
        Ok(Bounds {
            from: bound(range.from),
            to: bound(range.to),
        })
    }

    /// Whether the range needs the database: `current` on either side, or
    /// a start of `+N` / `-N`. (`+N` / `-N` at the end count from the
    /// start.)
    pub fn reads_database(&self) -> bool {
        self.from.as_ref().is_some_and(Bound::reads_database) || self.to == Some(Bound::Current)
    }
}

/// The applied set after moving `applied` to `target` (as a stamp would,
/// so a revision without a down section does not stop the count).
pub fn state_after(
    graph: &RevisionGraph<'_>,
    applied: &RevisionSet,
    target: &Target,
) -> CliResult<RevisionSet> {
    let plan = plan_stamp(graph, applied, target)?;
    let mut state = applied.clone();
    for revision in &plan.insert {
        state.insert(node_of(graph, revision));
    }
    for revision in &plan.delete {
        state.remove(node_of(graph, revision));
    }
    Ok(state)
}

fn node_of(graph: &RevisionGraph<'_>, revision: &Revision) -> usize {
    graph
        .node(&revision.id)
        .expect("a planned revision is in the graph")
}

/// The state a range's start names: base, the database's state
/// (`current`), `+N` / `-N` from the database's state, or the state of a
/// database upgraded from base to the target.
pub fn start_state(
    graph: &RevisionGraph<'_>,
    from: Option<&Bound>,
    database: Option<&RevisionSet>,
) -> CliResult<RevisionSet> {
    match from {
        None => Ok(graph.empty_set()),
        Some(Bound::Current) => Ok(database.expect("read for `current`").clone()),
        Some(Bound::Target(target @ Target::Relative(_))) => {
            state_after(graph, database.expect("read for a relative start"), target)
        }
        Some(Bound::Target(target)) => state_after(graph, &graph.empty_set(), target),
    }
}

/// The refusal when a range needs the database and none is configured.
pub fn no_database_for(text: &str, example: &str) -> CliError {
    CliError::usage(format!(
        "`{text}` counts from the database's current state (`current`, `+N`, `-N`), \
         and no database is configured"
    ))
    .hint(format!(
        "give --database-url, or name revisions instead, e.g. `{example}`"
    ))
}
