//! Reading a migrations directory: the one loader the macro and the CLI share.

use std::io::Read;
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
    let mut errors = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            let lossy = name.to_string_lossy();
            if lossy.ends_with(".sql") && !lossy.starts_with('.') {
                errors.push(LoadError::FileNameNotUtf8 {
                    dir: shown_as.to_string(),
                    name: lossy.into_owned(),
                });
            }
            continue;
        };
        if name.ends_with(".sql") && !name.starts_with('.') {
            names.push(name.to_string());
        }
    }
    names.sort();

    let mut revisions = Vec::with_capacity(names.len());
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let shown = format!("{shown_as}/{name}");
        match read_regular_file(dir, &path, &shown) {
            Ok(bytes) => match parse_migration(&shown, &bytes) {
                Ok(revision) => revisions.push(revision),
                Err(file_errors) => errors.extend(file_errors),
            },
            Err(err) => errors.push(err),
        }
        files.push(path);
    }
    if errors.is_empty() {
        Ok(MigrationDir { revisions, files })
    } else {
        Err(errors)
    }
}

/// The largest migration file read, in bytes (16 MiB): far above any
/// hand-written schema change, low enough that a runaway file cannot
/// exhaust the memory of the compiler or the CLI.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads `path` if it is a regular file of at most [`MAX_FILE_BYTES`]. A
/// symbolic link is followed only when it ends at a regular file inside
/// `dir`: a FIFO would block the build forever, a device (`/dev/zero`)
/// would never end, and a file elsewhere is not part of the project.
fn read_regular_file(dir: &Path, path: &Path, shown: &str) -> Result<Vec<u8>, LoadError> {
    let unreadable = |err: std::io::Error| LoadError::FileUnreadable {
        file: shown.to_string(),
        reason: io_reason(&err),
    };
    let not_regular = |kind: &str| LoadError::NotRegularFile {
        file: shown.to_string(),
        kind: kind.to_string(),
    };
    let link = std::fs::symlink_metadata(path).map_err(unreadable)?;
    // `metadata` follows the link; a dangling link is an I/O error here.
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(not_regular(&file_kind(
            &meta.file_type(),
            link.file_type().is_symlink(),
        )));
    }
    if link.file_type().is_symlink() {
        let inside = match (std::fs::canonicalize(path), std::fs::canonicalize(dir)) {
            (Ok(target), Ok(dir)) => target.parent() == Some(dir.as_path()),
            _ => false,
        };
        if !inside {
            return Err(not_regular(
                "a symbolic link to a file outside the directory",
            ));
        }
    }
    let too_large = |size: u64| LoadError::FileTooLarge {
        file: shown.to_string(),
        size,
        limit: MAX_FILE_BYTES,
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    // The bound holds even if the file grows between the check and the read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// How a non-regular file is named in the error.
fn file_kind(kind: &std::fs::FileType, via_link: bool) -> String {
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            if kind.is_fifo() {
                "a FIFO (named pipe)"
            } else if kind.is_char_device() || kind.is_block_device() {
                "a device"
            } else if kind.is_socket() {
                "a socket"
            } else {
                "a special file"
            }
        }
        #[cfg(not(unix))]
        {
            "a special file"
        }
    };
    if via_link {
        format!("a symbolic link to {what}")
    } else {
        what.to_string()
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
