//! The verbs, grouped: [`revision`] writes files (`init`, `revision`,
//! `merge`), [`upgrade`] changes a database or prints the SQL that would
//! (`upgrade`, `downgrade`, `stamp`), [`inspect`] reads (`current`,
//! `history`, `heads`, `branches`, `show`, `status`, `check`, `repair`).
//! What they share is here: loading the directory and building a runner.

pub mod inspect;
pub mod revision;
pub mod upgrade;

use migrate_core::target::{resolve_branch_head, resolve_head, resolve_revision, walk};
use migrate_core::{
    load_dir, load_dir_allowing_multiple_heads, plan_upgrade, LoadError, MigrationDir, Revision,
    RevisionGraph, RevisionSet, Target,
};
use migrate_runtime::Runner;

use crate::config::Config;
use crate::error::{CliError, CliResult};
use crate::output::Output;

/// What every command gets: the settings and the output.
#[derive(Debug, Clone)]
pub struct Context {
    /// `migrate.toml`, `DATABASE_URL` and the flags, resolved.
    pub config: Config,
    /// Where and how to print.
    pub out: Output,
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
    /// transaction mode and lock timeout.
    pub fn runner(&self, dir: MigrationDir) -> Runner {
        Runner::new(dir.revisions)
            .with_history_table(self.config.history_table.clone())
            .with_transaction_mode(self.config.transaction_mode)
            .with_lock_timeout(self.config.lock_timeout)
    }
}

/// Resolves a target that names one revision (`head`, an id or prefix, a
/// label, `<label>@head`, `<rev>+N`); `None` is `base`.
pub fn resolve_one(graph: &RevisionGraph<'_>, text: &str) -> CliResult<Option<usize>> {
    let target = Target::parse(text)?;
    let node = match &target {
        Target::Base => None,
        Target::Head => resolve_head(graph)?,
        Target::Revision(name) => Some(resolve_revision(graph, name)?),
        Target::BranchHead(label) => Some(resolve_branch_head(graph, label)?),
        Target::FromRevision { revision, steps } => {
            let start = resolve_revision(graph, revision)?;
            walk(graph, &target.to_string(), start, *steps)?
        }
        Target::Heads | Target::Relative(_) => {
            return Err(CliError::usage(format!(
                "`{text}` does not name one revision here; give a revision id, a prefix, a label, `head` or `<label>@head`"
            )))
        }
    };
    Ok(node)
}

/// Whether the graph has one head, for the `(head)` markers.
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

/// The applied set of a database upgraded from base to `target`: the
/// target and everything it requires.
pub fn state_at(graph: &RevisionGraph<'_>, target: &Target) -> CliResult<RevisionSet> {
    let steps = plan_upgrade(graph, &graph.empty_set(), target)?.steps;
    let (set, _) = graph.set_of(steps.iter().map(|r| r.id.as_ref()));
    Ok(set)
}
