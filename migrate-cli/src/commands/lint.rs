//! `migrate check --lint [--since REV] [--dialect D] [--json]`: the
//! migrate-lint rules over every revision, in graph order, without a
//! database.

use migrate_core::target::resolve_revision;
use migrate_core::RevisionGraph;
use migrate_lint::{lint_revision, Finding, NotChecked, Severity};
use serde::Serialize;

use crate::args::CheckArgs;
use crate::commands::upgrade::{dialect_name, script_dialect};
use crate::commands::Context;
use crate::error::{io_reason, CliError, CliResult, Exit};
use crate::output;

/// A finding as `--json` prints it.
#[derive(Debug, Serialize)]
struct FindingJson {
    revision: String,
    file: String,
    line: usize,
    rule: &'static str,
    severity: &'static str,
    message: String,
    explanation: &'static str,
    /// Whether it fails the check (`--since` spares warnings in the
    /// revisions up to REV).
    fails: bool,
}

/// A statement not checked, as `--json` prints it.
#[derive(Debug, Serialize)]
struct NotCheckedJson {
    revision: String,
    file: String,
    line: usize,
    reason: String,
}

/// Lints every revision; exit 1 when a finding fails the check.
pub fn check(ctx: &Context, args: &CheckArgs) -> CliResult {
    let out = &ctx.out;
    let dialect = script_dialect(ctx, args.dialect, false)?;
    let project_allow = ctx.config.lint_allow.clone()?;
    let dir = ctx.load()?;
    let graph = RevisionGraph::new(&dir.revisions)?;
    // With --since, the revisions up to REV are released: only what is
    // certain to fail is still worth failing the check for.
    let released = match &args.since {
        Some(rev) => {
            let node = resolve_revision(&graph, rev)?;
            Some(graph.ancestors_inclusive(&[node]))
        }
        None => None,
    };

    let mut findings: Vec<(String, Finding, bool)> = Vec::new();
    let mut not_checked: Vec<(String, NotChecked)> = Vec::new();
    let mut errors = Vec::new();
    for &node in graph.topological_nodes() {
        let revision = graph.revision(node);
        let index = dir
            .revisions
            .iter()
            .position(|r| r.id == revision.id)
            .expect("the graph's revisions are the directory's");
        let source = std::fs::read_to_string(&dir.files[index]).map_err(|err| {
            CliError::usage(format!(
                "cannot read {}: {}",
                revision.file,
                io_reason(&err)
            ))
        })?;
        let is_released = released.as_ref().is_some_and(|set| set.contains(node));
        match lint_revision(revision, &source, dialect, &project_allow) {
            Ok(report) => {
                for finding in report.findings {
                    let fails = finding.severity() == Severity::Error || !is_released;
                    if fails || args.json {
                        findings.push((revision.id.to_string(), finding, fails));
                    }
                }
                for note in report.not_checked {
                    if !is_released {
                        not_checked.push((revision.id.to_string(), note));
                    }
                }
            }
            Err(found) => errors.extend(found.iter().map(ToString::to_string)),
        }
    }
    if !errors.is_empty() {
        let mut error = CliError::usage(errors.remove(0));
        error.errors.extend(errors);
        return Err(error.hint(format!(
            "`-- migrate:allow` takes rule ids: {}",
            migrate_lint::Rule::ALL.map(|rule| rule.id()).join(", ")
        )));
    }

    let failing = findings.iter().filter(|(_, _, fails)| *fails).count();
    if args.json {
        #[derive(Serialize)]
        struct LintJson {
            ok: bool,
            dialect: &'static str,
            findings: Vec<FindingJson>,
            not_checked: Vec<NotCheckedJson>,
        }
        out.json(&LintJson {
            ok: failing == 0,
            dialect: dialect_name(dialect),
            findings: findings
                .iter()
                .map(|(revision, f, fails)| FindingJson {
                    revision: revision.clone(),
                    file: f.file.clone(),
                    line: f.line,
                    rule: f.rule.id(),
                    severity: f.severity().name(),
                    message: f.message.clone(),
                    explanation: f.rule.explanation(),
                    fails: *fails,
                })
                .collect(),
            not_checked: not_checked
                .iter()
                .map(|(revision, n)| NotCheckedJson {
                    revision: revision.clone(),
                    file: n.file.clone(),
                    line: n.line,
                    reason: n.reason.clone(),
                })
                .collect(),
        })?;
    } else {
        for (_, finding, _) in &findings {
            out.data(&finding.to_string());
        }
        for (_, note) in &not_checked {
            out.data(&note.to_string());
        }
    }
    if failing > 0 {
        return Err(CliError::new(
            Exit::Differences,
            format!("lint found {}", output::count(failing, "finding")),
        )
        .hint(
            "review each statement named above; if it is intended, write \
             `-- migrate:allow <rule>` on the line above it (or in the header for the whole revision)",
        ));
    }
    if !args.json {
        out.info(&format!(
            "ok: {} linted for {}, no findings{}",
            output::count(dir.revisions.len(), "revision"),
            dialect_name(dialect),
            match not_checked.len() {
                0 => String::new(),
                n => format!(
                    "; {} not checked (see the notes above)",
                    output::count(n, "statement")
                ),
            }
        ));
    }
    Ok(())
}
