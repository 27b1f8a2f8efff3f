//! The [`Runner`]: an embedded set of revisions and how to apply them.

use std::borrow::Cow;
use std::time::Duration;

use migrate_core::Revision;

/// How revisions are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// One transaction per revision: progress survives a later failure.
    #[default]
    PerRevision,
    /// One transaction for the whole run: all or nothing. Revisions marked
    /// `transaction: false` still run on their own.
    Single,
}

/// The embedded migrations and the settings used to apply them.
///
/// Made by `embed_migrations!`, usually as a `static`.
#[derive(Debug, Clone)]
pub struct Runner {
    revisions: Cow<'static, [Revision]>,
    history_table: Cow<'static, str>,
    lock_timeout: Duration,
    ignore_unknown: bool,
    transaction_mode: TransactionMode,
}

impl Runner {
    /// A runner over a static table, with default settings. This is what
    /// `embed_migrations!` expands to.
    pub const fn from_static(revisions: &'static [Revision]) -> Self {
        Runner {
            revisions: Cow::Borrowed(revisions),
            history_table: Cow::Borrowed("migrate_history"),
            lock_timeout: Duration::from_secs(60),
            ignore_unknown: false,
            transaction_mode: TransactionMode::PerRevision,
        }
    }

    /// The embedded revisions, in file-name order. No database needed.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }
}
