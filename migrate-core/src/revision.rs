//! The plain data every other part of the toolkit works on: one [`Revision`]
//! per migration file.
//!
//! The same type serves the CLI, which builds it from files at run time, and
//! the macro, which emits it as a `&'static` table: every field is a
//! [`Cow`] so that both an owned and a `const` value can be made.

use std::borrow::Cow;

/// Text that is either borrowed from the binary or owned.
pub type Text = Cow<'static, str>;

/// A list of revision ids or labels, borrowed from the binary or owned.
pub type TextList = Cow<'static, [Text]>;

/// One migration: its identity, its place in the graph and its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The revision id (`-- revision:`), unique in the directory.
    pub id: Text,
    /// The revisions this one revises (`-- revises:`); empty for a root, two or
    /// more for a merge.
    pub parents: TextList,
    /// Revisions that must be applied first without being parents
    /// (`-- depends_on:`).
    pub depends_on: TextList,
    /// Branch labels (`-- branch_labels:`), usable as `label@head` targets.
    pub branch_labels: TextList,
    /// The human description (`-- message:`); empty when absent.
    pub message: Text,
    /// When the file was created (`-- created:`), as written.
    pub created: Option<Text>,
    /// The SQL of the `-- migrate:up` section.
    pub up_sql: Text,
    /// The SQL of the `-- migrate:down` section; `None` makes the revision
    /// irreversible.
    pub down_sql: Option<Text>,
    /// The line of the file (1-based) on which `up_sql` starts, so that a
    /// failed statement can be pointed back into the file.
    pub up_line: usize,
    /// The line of the file on which `down_sql` starts; 0 without a down
    /// section.
    pub down_line: usize,
    /// `false` when the file says `transaction: false`: the revision runs
    /// outside any transaction.
    pub transactional: bool,
    /// SHA-256 of the file with CRLF normalised to LF.
    pub checksum: [u8; 32],
    /// The file as messages name it: the migrations directory as the user
    /// wrote it, then the file name (`migrations/3f2a9c1b7d4e_add_phone.sql`).
    pub file: Text,
}

impl Revision {
    /// Whether a downgrade can run through this revision.
    pub fn is_reversible(&self) -> bool {
        self.down_sql.is_some()
    }

    /// The checksum as 64 lowercase hex digits, the form stored in the
    /// history table.
    pub fn checksum_hex(&self) -> String {
        crate::checksum::to_hex(&self.checksum)
    }

    /// Parents and `depends_on` together: every revision that must be applied
    /// before this one.
    pub fn requirements(&self) -> impl Iterator<Item = &str> {
        self.parents
            .iter()
            .chain(self.depends_on.iter())
            .map(|id| id.as_ref())
    }
}
