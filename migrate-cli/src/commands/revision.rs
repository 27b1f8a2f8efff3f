//! The verbs that write files: `init`, `revision`, `merge`. Nothing here
//! touches a database.
//!
//! A new file is checked before it is written, by the same code the macro
//! uses: it is parsed with `parse_migration` and added to the directory's
//! revisions for `RevisionGraph::new`. So `migrate revision` never writes a
//! file that would make `cargo build` fail.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use migrate_core::parse::is_revision_id;
use migrate_core::target::{resolve_revision, Point};
use migrate_core::{parse_migration, LoadError, MigrationDir, Revision, RevisionGraph};

use crate::args::{InitArgs, MergeArgs, RevisionArgs};
use crate::commands::schema::{self, Generated};
use crate::commands::{is_head, resolve_one, Context};
use crate::config::{self, Config};
use crate::error::{io_reason, one_line, CliError, CliResult};
use crate::naming::{fresh_id, slug, Utc};
use crate::output::{Cell, Output, Paint, Table};

/// `migrate init`: the migrations directory, `migrate.toml`, and the
/// `build.rs` line that makes Cargo rebuild when a migration is added.
pub fn init(
    args: &InitArgs,
    config_path: Option<&Path>,
    database_url: Option<&str>,
    out: &Output,
) -> CliResult {
    let toml_path = config_path.unwrap_or(Path::new(config::DEFAULT_FILE));
    let base = toml_path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut done = Table::new();
    let mut step = |what: &str, path: &Path, note: &str| {
        let paint = if what == "created" {
            Paint::GREEN
        } else {
            Paint::DIM
        };
        done.row(vec![
            Cell::styled(what, paint),
            Cell::plain(path.display().to_string()),
            Cell::styled(note, Paint::DIM),
        ]);
    };

    // An existing migrate.toml is kept and followed: `init` is safe to run
    // again, and never overwrites a setting.
    let migrations = if toml_path.exists() {
        let existing = Config::load(Some(toml_path), None)?;
        step("kept", toml_path, "already there");
        existing.migrations_dir
    } else {
        let text = config::initial_file(&args.dir, database_url);
        write_new(toml_path, &text)?;
        step("created", toml_path, "");
        base.join(&args.dir)
    };

    if migrations.is_dir() {
        step("kept", &migrations, "already there");
    } else {
        std::fs::create_dir_all(&migrations).map_err(|err| {
            CliError::usage(format!(
                "cannot create {}: {}",
                migrations.display(),
                io_reason(&err)
            ))
        })?;
        // Git does not keep empty directories, and embed_migrations! needs
        // the directory to exist in a fresh clone. The loader ignores
        // files that are not `*.sql`.
        write_new(&migrations.join(".gitkeep"), "")?;
        step("created", &migrations, "");
    }

    // The path build.rs watches is relative to the crate root, where
    // Cargo.toml is.
    let watched = migrations
        .strip_prefix(&base)
        .unwrap_or(&migrations)
        .display()
        .to_string();
    let build_line = format!("migrate_runtime::build::rerun_if_changed({watched:?});");
    let build_rs = base.join("build.rs");
    let mut advice = None;
    if build_rs.exists() {
        let text = std::fs::read_to_string(&build_rs).unwrap_or_default();
        if text.contains("rerun_if_changed") || text.contains("rerun-if-changed") {
            step("kept", &build_rs, "already there");
        } else {
            advice = Some(format!(
                "add to fn main() in {}: {build_line}\n      (with `migrate-runtime` in [build-dependencies]), \
                 or without the dependency: println!(\"cargo:rerun-if-changed={watched}\");",
                build_rs.display()
            ));
        }
    } else if base.join("Cargo.toml").exists() {
        write_new(&build_rs, &build_script(&watched))?;
        step(
            "created",
            &build_rs,
            "rebuilds the crate when a migration is added",
        );
    } else {
        advice = Some(format!(
            "in the crate that calls embed_migrations!, add a build.rs with: {build_line}\n      \
             so that Cargo rebuilds when a migration is added"
        ));
    }

    if !out.is_quiet() {
        out.data_lines(&done.render(out));
        if let Some(advice) = &advice {
            out.data(&format!(
                "{}: {advice}",
                out.paint(Paint::BOLD_YELLOW, "next")
            ));
        }
        out.data(&format!(
            "{}: migrate revision -m \"create users table\"",
            out.paint(Paint::BOLD, "then")
        ));
    }
    Ok(())
}

/// The `build.rs` that `init` writes. It prints the rerun line itself
/// rather than calling `migrate_runtime::build::rerun_if_changed`, which
/// would need a build-dependency: a file that works without editing
/// Cargo.toml is the better default, and the comment names the helper.
fn build_script(watched: &str) -> String {
    format!(
        "// Written by `migrate init`.\n\
         //\n\
         // embed_migrations! makes Cargo rebuild when an embedded migration changes,\n\
         // but no macro can make it notice a *new* file: this line does. (The same\n\
         // as `migrate_runtime::build::rerun_if_changed({watched:?})`, without\n\
         // needing migrate-runtime as a build-dependency.)\n\
         fn main() {{\n    \
             println!(\"cargo:rerun-if-changed={watched}\");\n\
         }}\n"
    )
}

/// `migrate revision -m "..."`, with `--autogenerate` its SQL from schema.sql.
pub async fn revision(ctx: &Context, args: &RevisionArgs) -> CliResult {
    let (dir, problems) = ctx.load_allowing_heads()?;
    let graph = RevisionGraph::new_allowing_multiple_heads(&dir.revisions)?;
    let unlabelled_heads: Option<Vec<String>> = problems.iter().find_map(|p| match p {
        LoadError::MultipleHeads { heads } => Some(heads.iter().map(|h| h.id.clone()).collect()),
        _ => None,
    });

    let parents: Vec<String> = match &args.head {
        None => match graph.head_nodes().as_slice() {
            [] => Vec::new(),
            [one] => vec![graph.revision(*one).id.to_string()],
            several => {
                let heads: Vec<String> = super::ids(&graph, several);
                return Err(match unlabelled_heads {
                    Some(heads) => merge_first(&heads),
                    None => CliError::usage(format!(
                        "there are {} heads ({}), on labelled branches; say which to build on",
                        heads.len(),
                        heads.join(", ")
                    ))
                    .hint("--head <label>@head or --head <revision>"),
                });
            }
        },
        Some(text) => match resolve_one(&graph, text)? {
            // Before the first revision, or before an independent branch's
            // root: the new revision is a root.
            Point::Base | Point::BeforeRoot(_) => Vec::new(),
            Point::Revision(node) => {
                let id = graph.revision(node).id.to_string();
                if !is_head(&graph, node) && !args.splice {
                    return Err(CliError::usage(format!(
                        "`{id}` is not a head: a revision on it would start a branch"
                    ))
                    .hint(format!(
                        "to branch on purpose: --head {id} --splice --branch-label <name>"
                    )));
                }
                vec![id]
            }
        },
    };

    let mut depends_on: Vec<String> = Vec::new();
    for given in &args.depends_on {
        let id = graph
            .revision(resolve_revision(&graph, given)?)
            .id
            .to_string();
        if !depends_on.contains(&id) {
            depends_on.push(id);
        }
    }

    let mut new = NewRevision {
        id: pick_id(&dir, args.rev_id.as_deref())?,
        parents,
        message: one_line(&args.message),
        branch_labels: args.branch_labels.clone(),
        depends_on,
        generated: None,
    };
    if new.message.is_empty() {
        return Err(CliError::usage(
            "the message (-m) is empty; it says what the revision does and names the file",
        ));
    }
    if args.autogenerate {
        let parent = new.parents.first().map(String::as_str);
        match schema::autogenerate(ctx, &dir, parent, args.dev_url.as_deref()).await? {
            Some(generated) => new.generated = Some(generated),
            None => return Ok(()),
        }
    }
    let (path, revision) = new.write(ctx, &dir, |errors| {
        for error in &errors {
            match error {
                LoadError::MultipleHeads { heads } => {
                    let ids: Vec<String> = heads.iter().map(|h| h.id.clone()).collect();
                    return if args.splice {
                        CliError::usage(format!(
                            "the new revision would be a second head beside {}",
                            ids.iter()
                                .filter(|id| **id != new.id)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .hint("give the new branch a name with --branch-label <name>")
                    } else {
                        merge_first(unlabelled_heads.as_deref().unwrap_or(&ids))
                    };
                }
                LoadError::MultipleRoots { .. } => {
                    return CliError::usage(
                        "--head base starts a second root, independent of the existing revisions",
                    )
                    .hint("mark the independent branch with --branch-label <name>");
                }
                _ => {}
            }
        }
        errors.into()
    })?;
    report_written(ctx, &path, &revision, new.generated.is_some());
    Ok(())
}

/// The refusal when the directory already has several unlabelled heads.
fn merge_first(heads: &[String]) -> CliError {
    CliError::usage(format!(
        "the migrations directory has {} heads ({}): two revisions were added on the same revision",
        heads.len(),
        heads.join(", ")
    ))
    .hint(format!(
        "join them first with `migrate merge {} -m \"merge heads\"`, then run `migrate revision` again",
        heads.join(" ")
    ))
}

/// `migrate merge <rev>... -m "..."`.
pub fn merge(ctx: &Context, args: &MergeArgs) -> CliResult {
    let (dir, _) = ctx.load_allowing_heads()?;
    let graph = RevisionGraph::new_allowing_multiple_heads(&dir.revisions)?;
    let mut nodes: Vec<usize> = Vec::new();
    for given in &args.revisions {
        let found = if given == "heads" {
            graph.head_nodes()
        } else {
            match resolve_one(&graph, given)? {
                Point::Revision(node) => vec![node],
                Point::Base => return Err(CliError::usage("`base` cannot be merged: name heads")),
                Point::BeforeRoot(root) => {
                    return Err(CliError::usage(format!(
                        "`{given}` is the state before the root `{}`, not a revision; a merge joins heads",
                        graph.revision(root).id
                    )))
                }
            }
        };
        for node in found {
            if !is_head(&graph, node) {
                return Err(CliError::usage(format!(
                    "`{}` is not a head; a merge joins heads",
                    graph.revision(node).id
                ))
                .hint("`migrate heads` lists them"));
            }
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
    }
    if nodes.len() < 2 {
        let heads = super::ids(&graph, &graph.head_nodes());
        return Err(CliError::usage(format!(
            "a merge needs two or more heads; {} given, and the directory's heads are {}",
            nodes.len(),
            if heads.is_empty() {
                "none".to_string()
            } else {
                heads.join(", ")
            }
        )));
    }
    let new = NewRevision {
        id: pick_id(&dir, args.rev_id.as_deref())?,
        parents: super::ids(&graph, &nodes),
        message: one_line(args.message.as_deref().unwrap_or("merge heads")),
        branch_labels: args.branch_labels.clone(),
        depends_on: Vec::new(),
        generated: None,
    };
    let (path, revision) = new.write(ctx, &dir, |errors| {
        // Merging some heads of three is progress: only the one-head rule
        // may still fail, and that is a warning below.
        let rest: Vec<LoadError> = errors
            .into_iter()
            .filter(|e| !matches!(e, LoadError::MultipleHeads { .. }))
            .collect();
        rest.into()
    })?;
    report_written(ctx, &path, &revision, false);
    let mut all = dir.revisions.clone();
    all.push(revision);
    if let Err(problems) = RevisionGraph::new(&all) {
        ctx.warn_all(&problems);
    }
    Ok(())
}

/// The comment a new revision's header carries instead of an empty down
/// section.
const DOWN_SECTION_HINT: &str = "\
--
-- Without a down section this revision is irreversible (downgrades stop
-- here). To make it reversible, end the file with a `-- migrate:down` line
-- followed by the SQL that reverts the up section.
";

/// The comment of a generated revision's header.
const GENERATED_NOTE: &str = "\
--
-- Written by `migrate revision --autogenerate` from the declared schema.
-- Read it before applying it, above all the statements marked REVIEW.
";

/// A revision about to be written.
struct NewRevision {
    id: String,
    parents: Vec<String>,
    message: String,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    /// The SQL `--autogenerate` wrote.
    generated: Option<Generated>,
}

impl NewRevision {
    /// The file, in exactly the format `parse_migration` reads.
    fn text(&self, created: &str) -> String {
        let mut text = format!("-- revision: {}\n", self.id);
        text.push_str(&header_line("revises", &self.parents.join(", ")));
        text.push_str(&header_line("message", &self.message));
        text.push_str(&header_line("created", created));
        if !self.branch_labels.is_empty() {
            text.push_str(&header_line(
                "branch_labels",
                &self.branch_labels.join(", "),
            ));
        }
        if !self.depends_on.is_empty() {
            text.push_str(&header_line("depends_on", &self.depends_on.join(", ")));
        }
        if let Some(generated) = &self.generated {
            // A free comment of the header: no `-- word:` shape.
            text.push_str(GENERATED_NOTE);
            text.push_str(&format!(
                "\n-- migrate:up\n{}\n-- migrate:down\n{}",
                generated.up, generated.down
            ));
        } else if self.parents.len() > 1 {
            // A merge has nothing to undo: its empty down section makes it
            // reversible as it is.
            text.push_str("\n-- migrate:up\n\n\n-- migrate:down\n\n");
        } else {
            // No down section until the author writes one: an empty one
            // would make a downgrade drop the history row and revert
            // nothing. The hint is a free comment of the header (no
            // `-- word:` shape, which the parser reads as a key).
            text.push_str(DOWN_SECTION_HINT);
            text.push_str("\n-- migrate:up\n\n");
        }
        text
    }

    /// Checks the file as the macro would, with the directory it joins,
    /// then writes it. Graph errors go through `refusal` so each verb can
    /// say what to do in its own terms.
    fn write(
        &self,
        ctx: &Context,
        dir: &MigrationDir,
        refusal: impl FnOnce(Vec<LoadError>) -> CliError,
    ) -> CliResult<(PathBuf, Revision)> {
        let now = Utc::now();
        let name = ctx
            .config
            .template
            .render(&self.id, &slug(&self.message), &now);
        let path = ctx.config.migrations_dir.join(&name);
        let shown = format!(
            "{}/{name}",
            ctx.config.migrations_shown.trim_end_matches(['/', '\\'])
        );
        let text = self.text(&now.created());
        let revision = parse_migration(&shown, text.as_bytes()).map_err(CliError::from)?;
        let mut all = dir.revisions.clone();
        all.push(revision.clone());
        if let Err(errors) = RevisionGraph::new(&all) {
            let error = refusal(errors);
            if !error.errors.is_empty() {
                return Err(error);
            }
        }
        write_new(&path, &text)?;
        Ok((PathBuf::from(shown), revision))
    }
}

/// `-- key: value`, without a trailing space when the value is empty.
fn header_line(key: &str, value: &str) -> String {
    if value.is_empty() {
        format!("-- {key}:\n")
    } else {
        format!("-- {key}: {value}\n")
    }
}

/// `--rev-id` checked, or a fresh id that is neither an existing id nor a
/// prefix of one (so every existing prefix stays unambiguous).
fn pick_id(dir: &MigrationDir, given: Option<&str>) -> CliResult<String> {
    let clashes = |id: &str| {
        dir.revisions
            .iter()
            .any(|r| r.id.starts_with(id) || id.starts_with(r.id.as_ref()))
    };
    if let Some(id) = given {
        if !is_revision_id(id) {
            return Err(CliError::usage(format!(
                "`{id}` is not a revision id: use ASCII letters and digits"
            )));
        }
        if let Some(existing) = dir.revisions.iter().find(|r| r.id == id) {
            return Err(CliError::usage(format!(
                "revision id `{id}` is taken by {}",
                existing.file
            )));
        }
        return Ok(id.to_string());
    }
    (0..64u64)
        .map(fresh_id)
        .find(|id| !clashes(id))
        .ok_or_else(|| CliError::usage("could not find a free revision id; try --rev-id"))
}

fn report_written(ctx: &Context, path: &Path, revision: &Revision, generated: bool) {
    let out = &ctx.out;
    if out.is_quiet() {
        // The path alone, for `$EDITOR "$(migrate revision -q -m ...)"`.
        out.data(&path.display().to_string());
        return;
    }
    let on = if revision.parents.is_empty() {
        "a new root".to_string()
    } else {
        format!("on {}", revision.parents.join(", "))
    };
    out.data(&format!(
        "{} {}  {}",
        out.paint(Paint::GREEN, "created"),
        out.paint(Paint::BOLD, &path.display().to_string()),
        out.paint(Paint::DIM, &format!("(revision {}, {on})", revision.id)),
    ));
    if revision.parents.len() > 1 {
        // A merge's sections are usually left empty.
        return;
    }
    if generated {
        out.hint("review the file, then `migrate upgrade head`");
        return;
    }
    out.hint(
        "write the upgrade SQL under `-- migrate:up`, then a `-- migrate:down` section with the SQL that reverts it (without one, the revision is irreversible)",
    );
}

/// Creates a file that must not exist yet.
fn write_new(path: &Path, text: &str) -> CliResult {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|err| {
            CliError::usage(format!(
                "cannot create {}: {}",
                path.display(),
                io_reason(&err)
            ))
        })?;
    file.write_all(text.as_bytes()).map_err(|err| {
        CliError::usage(format!(
            "cannot write {}: {}",
            path.display(),
            io_reason(&err)
        ))
    })
}
