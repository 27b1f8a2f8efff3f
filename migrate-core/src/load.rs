//! Reading a migrations directory: the one loader the macro and the CLI share.

use std::path::{Path, PathBuf};

use crate::error::LoadError;
use crate::graph::RevisionGraph;
use crate::parse::parse_migration;
use crate::revision::Revision;

/// A migrations directory that parsed and validated.
#[derive(Debug, Clone)]
pub struct MigrationDir {
    /// One revision per `*.sql` file, in file-name order.
    pub revisions: Vec<Revision>,
    /// The absolute path of every `*.sql` file read, for rebuild tracking.
    pub files: Vec<PathBuf>,
}

/// Loads every `*.sql` file of `dir` (not recursing; other files are
/// ignored) and validates the whole set. `shown_as` is how the directory is
/// named in messages, e.g. `migrations`, so that errors read the same on
/// every machine. Every problem found is returned, not only the first.
pub fn load_dir(dir: &Path, shown_as: &str) -> Result<MigrationDir, Vec<LoadError>> {
    let loaded = read_files(dir, shown_as)?;
    RevisionGraph::new(&loaded.revisions)?;
    Ok(loaded)
}

/// Like [`load_dir`], except that several unlabelled heads are accepted
/// (see [`RevisionGraph::new_allowing_multiple_heads`]): for `migrate heads`
/// and `migrate merge`, which must read the directory that `load_dir`
/// refuses until its heads are merged.
pub fn load_dir_allowing_multiple_heads(
    dir: &Path,
    shown_as: &str,
) -> Result<MigrationDir, Vec<LoadError>> {
    let loaded = read_files(dir, shown_as)?;
    RevisionGraph::new_allowing_multiple_heads(&loaded.revisions)?;
    Ok(loaded)
}

/// Parses every file without validating the graph between them.
fn read_files(dir: &Path, shown_as: &str) -> Result<MigrationDir, Vec<LoadError>> {
    let shown_as = shown_as.trim_end_matches(['/', '\\']);
    let unreadable = |err: std::io::Error| {
        vec![LoadError::DirectoryUnreadable {
            dir: shown_as.to_string(),
            reason: io_reason(&err),
        }]
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map(|t| !t.is_dir()).unwrap_or(true);
        if is_file && name.ends_with(".sql") && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();

    let mut revisions = Vec::with_capacity(names.len());
    let mut files = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let shown = format!("{shown_as}/{name}");
        match std::fs::read(&path) {
            Ok(bytes) => match parse_migration(&shown, &bytes) {
                Ok(revision) => revisions.push(revision),
                Err(file_errors) => errors.extend(file_errors),
            },
            Err(err) => errors.push(LoadError::FileUnreadable {
                file: shown,
                reason: io_reason(&err),
            }),
        }
        files.push(path);
    }
    if errors.is_empty() {
        Ok(MigrationDir { revisions, files })
    } else {
        Err(errors)
    }
}

/// The OS message without the "(os error 2)" suffix, which helps no one.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}
