//! Every error migrate-core reports. Each message says what is wrong, where
//! (file, line, revision), and what to do about it: these texts are shown
//! verbatim by the compiler (through `embed_migrations!`) and by the CLI.

use std::fmt;

/// A revision and the file that defines it, as shown in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRef {
    /// The revision id.
    pub id: String,
    /// The file, as `<dir>/<name>.sql`.
    pub file: String,
}

impl RevisionRef {
    /// The reference to a revision.
    pub fn of(revision: &crate::Revision) -> Self {
        RevisionRef {
            id: revision.id.to_string(),
            file: revision.file.to_string(),
        }
    }
}

impl fmt::Display for RevisionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({})", self.id, self.file)
    }
}

/// A problem with the migrations directory or one of its files: the rules
/// checked identically at compile time and by `migrate check`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The directory does not exist or cannot be listed.
    #[error(
        "cannot read the migrations directory `{dir}`: {reason}; \
         create it (`migrate init` does) or correct the path"
    )]
    DirectoryUnreadable {
        /// The directory as given.
        dir: String,
        /// The operating system's reason.
        reason: String,
    },

    /// A `*.sql` file that cannot be read.
    #[error("cannot read `{file}`: {reason}; check that it is a readable file")]
    FileUnreadable {
        /// The file.
        file: String,
        /// The operating system's reason.
        reason: String,
    },

    /// A `*.sql` entry that is not a regular file (a directory, a FIFO, a
    /// device, a symlink to one of those or out of the directory): reading
    /// it could block forever or never end.
    #[error(
        "`{file}` is {kind}, not a regular file; migration files must be regular files \
         (a symbolic link is followed only to a regular file inside the directory): \
         replace it with the file itself, or rename it so that it does not end in `.sql`"
    )]
    NotRegularFile {
        /// The file.
        file: String,
        /// What it is instead, e.g. `a directory`.
        kind: String,
    },

    /// A `*.sql` file larger than [`crate::MAX_FILE_BYTES`].
    #[error(
        "`{file}` is {size} bytes, over the limit of {limit} bytes for one migration file; \
         split it into several revisions, or load bulk data outside migrations"
    )]
    FileTooLarge {
        /// The file.
        file: String,
        /// Its size in bytes (at least `limit + 1` when it kept growing).
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// An entry ending in `.sql` whose name is not valid UTF-8.
    #[error(
        "{dir}/{name}: the file name is not valid UTF-8 (its undecodable bytes shown as `\u{fffd}`); \
         rename the file to `<revision>_<slug>.sql` using UTF-8"
    )]
    FileNameNotUtf8 {
        /// The directory as shown.
        dir: String,
        /// The name with the undecodable bytes replaced.
        name: String,
    },

    /// A NUL byte in a migration file: SQLite reads SQL only up to it (and
    /// may loop forever), other servers refuse it.
    #[error(
        "{file}:{line}: the file contains a NUL byte (\\0); migration files are text: \
         remove it (write `char(0)` or an escape in the SQL if the data needs one)"
    )]
    NulByte {
        /// The file.
        file: String,
        /// The line of the first NUL byte.
        line: usize,
    },

    /// A carriage return not followed by a line feed (old Mac line endings).
    #[error(
        "{file}:{line}: a carriage return (\\r) not followed by a line feed; \
         save the file with LF or CRLF line endings"
    )]
    LoneCarriageReturn {
        /// The file.
        file: String,
        /// The line it is on.
        line: usize,
    },

    /// A `message:` longer than [`crate::MAX_MESSAGE_BYTES`].
    #[error(
        "{file}:{line}: `message:` is {length} bytes, over the limit of {limit} \
         (the history table stores it on every backend); shorten it and put details \
         in a comment below the header"
    )]
    MessageTooLong {
        /// The file.
        file: String,
        /// The line of `message:`.
        line: usize,
        /// Its length in bytes.
        length: usize,
        /// The limit.
        limit: usize,
    },

    /// A file that is not UTF-8.
    #[error(
        "{file}:{line}: the file is not valid UTF-8 (the first invalid byte is on this line); \
         save it with the UTF-8 encoding"
    )]
    NotUtf8 {
        /// The file.
        file: String,
        /// The line of the first invalid byte.
        line: usize,
    },

    /// The header has no `revision:` line.
    #[error(
        "{file}: the header has no `-- revision:` line; \
         add `-- revision: <id>` above `-- migrate:up`, with the id the file name starts with"
    )]
    MissingRevision {
        /// The file.
        file: String,
    },

    /// A header key set twice.
    #[error("{file}:{line}: `{key}` is set twice (first on line {first_line}); keep one of them")]
    DuplicateKey {
        /// The file.
        file: String,
        /// The line of the second occurrence.
        line: usize,
        /// The key.
        key: String,
        /// The line of the first occurrence.
        first_line: usize,
    },

    /// A header key this format does not have (usually a typo).
    #[error(
        "{file}:{line}: unknown header key `{key}`{}; the keys are: {}",
        suggestion_text(.suggestion.as_deref()),
        crate::parse::HEADER_KEYS.join(", ")
    )]
    UnknownKey {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The key as written.
        key: String,
        /// The known key it most resembles.
        suggestion: Option<String>,
    },

    /// A header value that does not have the expected form.
    #[error("{file}:{line}: `{key}: {value}` is not valid: {expected}")]
    InvalidValue {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What the value must look like.
        expected: String,
    },

    /// SQL (or anything but header lines and comments) before the first section.
    #[error(
        "{file}:{line}: SQL before the first section; the header holds only `-- key: value` lines, \
         so put a `-- migrate:up` line above the upgrade SQL"
    )]
    ContentBeforeSection {
        /// The file.
        file: String,
        /// The line.
        line: usize,
    },

    /// A `-- migrate:<name>` line other than `up` and `down`.
    #[error(
        "{file}:{line}: unknown section `-- migrate:{name}`; \
         the sections are `-- migrate:up` and `-- migrate:down`"
    )]
    UnknownSection {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The section name as written.
        name: String,
    },

    /// A line that looks like a section marker but is not written as one.
    #[error(
        "{file}:{line}: `{written}` looks like a section marker but is not one, so the SQL below it \
         would run as part of the section above; write it exactly as `{expected}`, at the start of the line"
    )]
    MalformedSectionMarker {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The line as written.
        written: String,
        /// The marker it should be.
        expected: String,
    },

    /// A section that appears twice.
    #[error("{file}:{line}: a second `-- migrate:{name}` section (first on line {first_line}); merge them into one")]
    DuplicateSection {
        /// The file.
        file: String,
        /// The line of the second marker.
        line: usize,
        /// `up` or `down`.
        name: String,
        /// The line of the first marker.
        first_line: usize,
    },

    /// No `-- migrate:up` section.
    #[error(
        "{file}: no `-- migrate:up` section; put the upgrade SQL below a `-- migrate:up` line"
    )]
    MissingUpSection {
        /// The file.
        file: String,
    },

    /// The file name does not carry the header's revision id.
    #[error(
        "{file}: the file name does not contain its revision id `{id}`; \
         rename the file to `{id}_<slug>.sql` or correct the `revision:` line"
    )]
    FileNameMismatch {
        /// The file.
        file: String,
        /// The id from the header.
        id: String,
    },

    /// Two files with the same revision id.
    #[error(
        "revision id `{id}` is used by two files, {first} and {second}; \
         give one of them a new id (in its header and its file name)"
    )]
    DuplicateRevision {
        /// The id.
        id: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },

    /// Two ids that differ only in letter case: one key in MySQL's
    /// history table, whose collation ignores case.
    #[error(
        "revision ids `{first_id}` ({first}) and `{second_id}` ({second}) differ only in letter case, \
         which MySQL and MariaDB treat as the same id; give one of them a new id \
         (in its header and its file name)"
    )]
    DuplicateRevisionIgnoringCase {
        /// The first id.
        first_id: String,
        /// The first file.
        first: String,
        /// The second id.
        second_id: String,
        /// The second file.
        second: String,
    },

    /// A branch label spelled like another revision's id: a target naming
    /// it would be ambiguous.
    #[error(
        "branch label `{label}` of {labelled} is also the id of revision {revision}; \
         a target naming it would be ambiguous: rename the label"
    )]
    LabelIsRevisionId {
        /// The label.
        label: String,
        /// The revision carrying the label.
        labelled: RevisionRef,
        /// The revision whose id it is.
        revision: RevisionRef,
    },

    /// `revises` names a revision that is not in the directory.
    #[error(
        "{file}: `revises: {missing}` names a revision that does not exist{}; \
         correct the id, or restore the missing migration file",
        candidates_text(.candidates)
    )]
    UnknownParent {
        /// The file.
        file: String,
        /// The unknown id.
        missing: String,
        /// Known ids that resemble it.
        candidates: Vec<String>,
    },

    /// `depends_on` names a revision that is not in the directory.
    #[error(
        "{file}: `depends_on: {missing}` names a revision that does not exist{}; \
         correct the id, or restore the missing migration file",
        candidates_text(.candidates)
    )]
    UnknownDependency {
        /// The file.
        file: String,
        /// The unknown id.
        missing: String,
        /// Known ids that resemble it.
        candidates: Vec<String>,
    },

    /// The same branch label on two revisions.
    #[error(
        "branch label `{label}` is used by both {first} and {second}; \
         a label must name one branch: rename it in one of the two files"
    )]
    DuplicateBranchLabel {
        /// The label.
        label: String,
        /// The first revision.
        first: RevisionRef,
        /// The second revision.
        second: RevisionRef,
    },

    /// `revises` / `depends_on` form a cycle.
    #[error(
        "revisions form a cycle, each requiring the next through `revises` or `depends_on`: {}; \
         correct the `revises:` or `depends_on:` line of one of these files so that it names an older revision",
        cycle_text(.cycle)
    )]
    Cycle {
        /// The revisions on the cycle, each requiring the next.
        cycle: Vec<RevisionRef>,
    },

    /// More than one revision without `revises`.
    #[error(
        "more than one root revision (no `revises`): {}; \
         set `revises:` on the newer one to the revision it follows, \
         or give it a `branch_labels:` line if it starts an independent branch on purpose",
        list_text(.roots)
    )]
    MultipleRoots {
        /// The unlabelled roots.
        roots: Vec<RevisionRef>,
    },

    /// More than one head without branch labels: two migrations were added
    /// on top of the same revision.
    #[error(
        "more than one head revision: {}; two migrations were probably added on top of the same revision: \
         run `migrate merge {} -m \"merge heads\"` to join them, \
         or give each branch a `branch_labels:` line if the split is intended",
        list_text(.heads),
        ids_text(.heads)
    )]
    MultipleHeads {
        /// The unlabelled heads.
        heads: Vec<RevisionRef>,
    },
}

impl LoadError {
    /// The file the error is about, when it is about one file.
    pub fn file(&self) -> Option<&str> {
        use LoadError::*;
        match self {
            FileUnreadable { file, .. }
            | NotRegularFile { file, .. }
            | FileTooLarge { file, .. }
            | NulByte { file, .. }
            | LoneCarriageReturn { file, .. }
            | MessageTooLong { file, .. }
            | NotUtf8 { file, .. }
            | MissingRevision { file }
            | DuplicateKey { file, .. }
            | UnknownKey { file, .. }
            | InvalidValue { file, .. }
            | ContentBeforeSection { file, .. }
            | UnknownSection { file, .. }
            | MalformedSectionMarker { file, .. }
            | DuplicateSection { file, .. }
            | MissingUpSection { file }
            | FileNameMismatch { file, .. }
            | UnknownParent { file, .. }
            | UnknownDependency { file, .. } => Some(file),
            DuplicateRevision { second, .. } | DuplicateRevisionIgnoringCase { second, .. } => {
                Some(second)
            }
            DirectoryUnreadable { .. }
            | FileNameNotUtf8 { .. }
            | LabelIsRevisionId { .. }
            | DuplicateBranchLabel { .. }
            | Cycle { .. }
            | MultipleRoots { .. }
            | MultipleHeads { .. } => None,
        }
    }
}

/// A target that cannot be resolved, or a plan that must not run. Raised
/// before any statement is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The target is not in the grammar.
    #[error(
        "`{given}` is not a valid target; use `head`, `heads`, `base`, a revision id or prefix, \
         `+N`, `-N`, `<rev>+N`, `<rev>-N`, `<label>@head`, `<label>@+N`, `<label>@-N` or `<label>@base`"
    )]
    Syntax {
        /// The target as given.
        given: String,
    },

    /// No revision has this id, prefix or label.
    #[error("can't locate revision identified by `{given}`{}", candidates_text(.candidates))]
    UnknownRevision {
        /// The target as given.
        given: String,
        /// Known ids that resemble it.
        candidates: Vec<String>,
    },

    /// A prefix that matches several revisions.
    #[error(
        "`{given}` is ambiguous: it is a prefix of {}; give more characters",
        .candidates.join(", ")
    )]
    AmbiguousPrefix {
        /// The prefix as given.
        given: String,
        /// Every id it is a prefix of.
        candidates: Vec<String>,
    },

    /// `head` (or `<label>@head`) asked for where it leads to several heads.
    #[error(
        "`{given}` is ambiguous: it leads to {} heads ({}); name one (`<label>@head` or a revision id), \
         use `heads` for all of them, or merge them with `migrate merge`",
        .heads.len(),
        .heads.join(", ")
    )]
    MultipleHeads {
        /// The target as given.
        given: String,
        /// The heads.
        heads: Vec<String>,
    },

    /// A branch label no revision carries.
    #[error("no branch is labelled `{label}`{}", labels_text(.known))]
    UnknownBranch {
        /// The label.
        label: String,
        /// The labels that exist.
        known: Vec<String>,
    },

    /// A relative step that goes past the end of the graph.
    #[error("`{given}` goes {requested} step(s) but only {available} are possible from the current state")]
    OutOfRange {
        /// The target as given.
        given: String,
        /// Steps asked for.
        requested: usize,
        /// Steps possible.
        available: usize,
    },

    /// `rev+N` / `rev-N` through a branch point or merge, where the way on is
    /// not unique.
    #[error(
        "`{given}` is ambiguous: `{at}` has several {direction}: {}; name the revision instead",
        .candidates.join(", ")
    )]
    AmbiguousStep {
        /// The target as given.
        given: String,
        /// Where the walk forks.
        at: String,
        /// `children` or `parents`.
        direction: &'static str,
        /// The ways on.
        candidates: Vec<String>,
    },

    /// `+N` / `-N` where the database has several current heads: which
    /// one moves is not said.
    #[error(
        "`{given}` is ambiguous: the database has {} current heads ({}); say which branch moves, \
         e.g. `{example}` (`<label>@{steps:+}` or `<rev>@{steps:+}`)",
        .heads.len(),
        .heads.join(", ")
    )]
    AmbiguousRelative {
        /// The target as given.
        given: String,
        /// The current heads.
        heads: Vec<String>,
        /// The steps asked for, for the suggested form.
        steps: isize,
        /// A branch-relative form naming the first head.
        example: String,
    },

    /// `<label>@-N` where no current head is on that branch.
    #[error(
        "`{given}`: none of the database's current heads is on the branch of `{branch}`, \
         so there is nothing of it to step back; `migrate current` shows the heads"
    )]
    NothingOnBranch {
        /// The target as given.
        given: String,
        /// The label or revision naming the branch.
        branch: String,
    },

    /// A `history` range whose start is not below its end.
    #[error(
        "`{given}` is not a range of one line of history: `{start}` is not below `{end}`; \
         a range runs `older:newer`"
    )]
    NotARange {
        /// The range as given.
        given: String,
        /// The start revision that is not an ancestor of the end.
        start: String,
        /// The end as given.
        end: String,
    },

    /// A range side that names two revisions of which one requires the other.
    #[error(
        "`{given}` names `{first}` and `{second}`, and one requires the other; name one revision"
    )]
    Overlap {
        /// The range side as given.
        given: String,
        /// One revision.
        first: String,
        /// The other.
        second: String,
    },

    /// A target that has no meaning on this side of a range.
    #[error("`{given}` {reason}")]
    RangeSide {
        /// The target as given.
        given: String,
        /// Why, and what to write instead.
        reason: &'static str,
    },

    /// An upgrade to an older target, or a downgrade to a newer one.
    #[error("`{given}` {reason}")]
    WrongDirection {
        /// The target as given.
        given: String,
        /// Why, and which verb to use.
        reason: &'static str,
    },

    /// A downgrade to a revision that is not applied.
    #[error(
        "cannot downgrade to `{id}`: it is not applied; \
         the current heads are {}",
        heads_text(.current)
    )]
    NotApplied {
        /// The target revision.
        id: String,
        /// The applied heads.
        current: Vec<String>,
    },

    /// A downgrade through a revision without a down section.
    #[error(
        "cannot downgrade through `{id}` ({file}): it has no `-- migrate:down` section; \
         nothing was changed. Add a down section, or `migrate stamp` the database to a revision below it"
    )]
    Irreversible {
        /// The irreversible revision.
        id: String,
        /// Its file.
        file: String,
    },
}

fn suggestion_text(suggestion: Option<&str>) -> String {
    suggestion
        .map(|key| format!(" (did you mean `{key}`?)"))
        .unwrap_or_default()
}

fn candidates_text(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", quoted(candidates, " or "))
    }
}

fn labels_text(labels: &[String]) -> String {
    if labels.is_empty() {
        "; no revision has a `branch_labels:` line".to_string()
    } else {
        format!("; the labels are {}", quoted(labels, ", "))
    }
}

fn heads_text(heads: &[String]) -> String {
    if heads.is_empty() {
        "none (the database is at base)".to_string()
    } else {
        quoted(heads, ", ")
    }
}

fn quoted(items: &[String], separator: &str) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(separator)
}

fn list_text(revisions: &[RevisionRef]) -> String {
    list_text_with(revisions, ", ")
}

fn ids_text(revisions: &[RevisionRef]) -> String {
    revisions
        .iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn cycle_text(cycle: &[RevisionRef]) -> String {
    let mut text = list_text_with(cycle, " -> ");
    if let Some(first) = cycle.first() {
        text.push_str(&format!(" -> `{}`", first.id));
    }
    text
}

fn list_text_with(revisions: &[RevisionRef], separator: &str) -> String {
    revisions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}
