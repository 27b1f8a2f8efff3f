//! The no-op boot in one statement whose cost does not grow with the
//! history: a digest of the history table, kept beside it, compared with
//! the digest `embed_migrations!` computed at compile time for "every
//! embedded revision applied, nothing else recorded".
//!
//! # Design
//!
//! The full read (every row, checked in Rust) costs O(rows) on the wire
//! and in the process. A server-side aggregate over the rows (`count(*)`
//! plus a hash of `string_agg(...)`) saves the wire but not the work: at
//! 10,000 rows it took 8 ms on PostgreSQL against 24 µs for `SELECT 1`
//! (pgbench, simple protocol, same machine), far from the 1.2× target. So
//! the digest is stored, and the question becomes how a stored value is
//! kept honest when someone edits the table by hand.
//!
//! - The `<history>_digest` table holds one row: the SHA-256 of the
//!   history's `(revision, checksum, state)` rows ([`history_digest`]),
//!   or `NULL`.
//! - Triggers on the history table set it to `NULL` on every insert,
//!   update and delete (and `TRUNCATE` on PostgreSQL), in the writing
//!   transaction: a hand edit, an offline script applied with `psql`, and
//!   the runner's own writes all invalidate it, and it can never describe
//!   a table that no longer exists. The triggers need no hash function in
//!   SQL (SQLite has none), and write only when the digest is not already
//!   `NULL`.
//! - A runner re-establishes it ([`guard`]) when its check found it
//!   missing or `NULL`: after a run that applied something, or a no-op
//!   boot that had to fall back to the full read. It locks the digest row
//!   (PostgreSQL: the history table, which `CREATE TRIGGER` locks anyway),
//!   then reads every row and writes their digest in the same transaction,
//!   so a concurrent hand edit either committed before the read (and is in
//!   the digest) or waits for the commit and then sets it to `NULL`.
//! - The check ([`check`]) is one statement, a primary-key lookup: the
//!   stored digest, on the condition that the history table is still the
//!   one the triggers are on: PostgreSQL compares the table's oid stored
//!   with the digest (a dropped or recreated table differs); MySQL and
//!   SQLite look up one row the expected history holds (a `TRUNCATE`,
//!   which fires no MySQL trigger, removes it; a dropped table fails).
//!   Any error, a missing row or a `NULL` falls back to the full read,
//!   which stays the one place that decides anything else.
//!
//! "Nothing to do" therefore comes only from a digest equal to the
//! expected one, i.e. from a table whose rows are exactly the embedded
//! revisions, applied, with their current checksums: the full read would
//! say the same. Not covered: triggers disabled on purpose
//! (`session_replication_role`, `ALTER TABLE ... DISABLE TRIGGER`), and on
//! MySQL and SQLite a history table dropped and recreated by hand with the
//! same rows (its new copy has no triggers until the next fallback).
//!
//! Everything here is best effort: a failure to check or to guard (say, a
//! role without the right to create triggers) costs the fast path, never
//! the run. Only a timeout fails the boot: every statement here is bounded
//! by the runner's I/O timeout, and an unreachable database would hang the
//! full read too.

use migrate_core::digest::{applied_digest, history_digest};
use migrate_core::{Dialect, HistoryTable, Revision};

use crate::backend::Backend;
use crate::error::Error;
use crate::session::Session;

/// What the one statement of a boot found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The history is exactly "every embedded revision applied": nothing
    /// to do, and the full read would say so.
    Identical,
    /// A valid digest of some other history: the full read decides.
    Differs,
    /// No digest to trust (missing, invalidated, or the check failed):
    /// the full read decides, and the runner re-establishes the digest.
    Unguarded,
}

/// The fast path of one runner over one history table.
pub(crate) struct FastPath {
    dialect: Dialect,
    table: HistoryTable,
    /// `table`, quoted.
    history: String,
    digest_table: String,
    /// The base of the trigger (and function) names.
    guard_name: String,
    /// The schema prefix (`"s".`) of the function on PostgreSQL.
    schema_prefix: String,
    expected: String,
    /// A revision every "everything applied" history holds.
    anchor: String,
}

impl FastPath {
    /// The fast path for `revisions` over `table`; `None` without
    /// revisions (there is no boot to speed up). `precomputed` is the
    /// digest `embed_migrations!` computed; otherwise it is computed here.
    pub fn new(
        dialect: Dialect,
        table: &HistoryTable,
        revisions: &[Revision],
        precomputed: Option<[u8; 32]>,
    ) -> Option<Self> {
        // Any revision of the expected history will do; the first is O(1),
        // which matters on a path that must not grow with the history.
        let anchor = revisions.first()?.id.as_ref();
        let name = table.name();
        let (schema, base) = match name.rsplit_once('.') {
            Some((schema, base)) => (Some(schema), base),
            None => (None, name.as_str()),
        };
        // Room for the longest suffix within 63 characters.
        let base: String = base.chars().take(44).collect();
        let qualified = |object: &str| {
            let name = match schema {
                Some(schema) => format!("{schema}.{object}"),
                None => object.to_string(),
            };
            HistoryTable::new(&name).ok().map(|t| t.quoted(dialect))
        };
        let schema_prefix = match schema {
            Some(schema) => format!("{}.", HistoryTable::new(schema).ok()?.quoted(dialect)),
            None => String::new(),
        };
        let expected = precomputed.unwrap_or_else(|| applied_digest(revisions));
        Some(FastPath {
            dialect,
            table: table.clone(),
            history: table.quoted(dialect),
            digest_table: qualified(&format!("{base}_digest"))?,
            guard_name: format!("{base}_digest_guard"),
            schema_prefix,
            expected: migrate_core::checksum::to_hex(&expected),
            anchor: dialect.literal(anchor),
        })
    }

    /// The one statement of a boot: the stored digest, as the first column
    /// of a history-shaped row (the backends' history read carries it),
    /// `''` when invalidated, no row when it cannot be trusted.
    fn check_sql(&self) -> String {
        let FastPath {
            history,
            digest_table,
            anchor,
            ..
        } = self;
        match self.dialect {
            // The oid comparison also answers "does the table exist?" (an
            // error when not) without touching it: no extra scan, lock or
            // catalog join.
            Dialect::Postgres => format!(
                "SELECT COALESCE(digest, ''), '', '' FROM {digest_table} \
                 WHERE relid = {}::regclass::oid",
                self.dialect.literal(history)
            ),
            Dialect::MySql => format!(
                "SELECT COALESCE(d.digest, ''), '', '' FROM {digest_table} d \
                 WHERE d.id = 1 AND EXISTS (SELECT 1 FROM {history} WHERE revision = {anchor})"
            ),
            // Packed as the SQLite history read expects: three fields.
            Dialect::Sqlite => format!(
                "SELECT COALESCE(digest, '') || char(31) || char(31) FROM {digest_table} \
                 WHERE EXISTS (SELECT 1 FROM {history} WHERE revision = {anchor})"
            ),
        }
    }

    /// Runs the check: one statement, one round trip. Only a timeout is an
    /// error (the database is unreachable: the full read would hang too);
    /// any other failure means the full read decides.
    pub async fn check<DB: Backend>(&self, session: &mut Session<DB>) -> Result<Verdict, Error> {
        let rows = match session.bounded_read(&self.check_sql()).await {
            Ok(Some(rows)) => rows,
            Ok(None) => return Ok(Verdict::Unguarded),
            Err(err @ Error::IoTimeout { .. }) => return Err(err),
            Err(err) => {
                tracing::debug!(%err, "migrations: history digest unreadable; reading the history");
                return Ok(Verdict::Unguarded);
            }
        };
        Ok(match rows.first().map(|row| row.revision.trim_end()) {
            Some(digest) if digest.eq_ignore_ascii_case(&self.expected) => Verdict::Identical,
            Some(digest) if !digest.is_empty() => Verdict::Differs,
            _ => Verdict::Unguarded,
        })
    }

    /// The digest table, created where it is missing, so that the triggers
    /// (on MySQL and SQLite, which fail a write whose trigger names a
    /// missing table) never stop a run. Sent under the lock of a run that
    /// will write the history.
    pub async fn prepare<DB: Backend>(&self, session: &mut Session<DB>) {
        let sql = self.create_digest_table();
        if let Err(err) = session.bounded_execute(&sql).await {
            tracing::debug!(%err, "migrations: creating the history digest table");
        }
    }

    fn create_digest_table(&self) -> String {
        let digest_table = &self.digest_table;
        match self.dialect {
            Dialect::Postgres => {
                format!("CREATE TABLE IF NOT EXISTS {digest_table} (digest TEXT, relid OID)")
            }
            Dialect::MySql => format!(
                "CREATE TABLE IF NOT EXISTS {digest_table} \
                 (id TINYINT NOT NULL PRIMARY KEY, digest CHAR(64) NULL)"
            ),
            Dialect::Sqlite => format!("CREATE TABLE IF NOT EXISTS {digest_table} (digest TEXT)"),
        }
    }

    /// Installs the triggers and stores the digest of the rows as they are
    /// now. Best effort: a failure is logged and rolled back, and the next
    /// boot reads the whole history again.
    pub async fn guard<DB: Backend>(&self, session: &mut Session<DB>) {
        if let Err(err) = self.try_guard(session).await {
            tracing::debug!(%err, "migrations: storing the history digest failed");
            if session.is_broken() {
                return;
            }
            let rollback = session.bounded_execute("ROLLBACK").await;
            if rollback.is_err() {
                // Whatever is still open must not reach the pool's next user.
                session.close_on_drop();
            }
        }
    }

    async fn try_guard<DB: Backend>(&self, session: &mut Session<DB>) -> Result<(), Error> {
        for statement in self.install() {
            session.bounded_execute(&statement).await?;
        }
        let rows = session
            .bounded_read(&self.locking_read())
            .await?
            .unwrap_or_default();
        let digest = history_digest(rows.iter().map(|row| {
            (
                row.revision.as_str(),
                row.checksum.as_str(),
                row.state.as_str(),
            )
        }));
        let store = self.store(&migrate_core::checksum::to_hex(&digest));
        session.bounded_execute(&store).await
    }

    /// Up to the locked read: the table, the triggers, the transaction and
    /// the lock that keeps writers out until the digest is stored.
    fn install(&self) -> Vec<String> {
        let FastPath {
            history,
            digest_table,
            guard_name,
            schema_prefix,
            ..
        } = self;
        let quoted = |name: &str| HistoryTable::new(name).map(|t| t.quoted(self.dialect));
        let create = self.create_digest_table();
        match self.dialect {
            Dialect::Postgres => {
                let trigger = quoted(guard_name).unwrap_or_default();
                let function = format!("{schema_prefix}{trigger}");
                // The search path is pinned to the one the runner resolves
                // names with; a missing digest table must not fail the
                // write that fired the trigger.
                vec![format!(
                    "BEGIN;\n\
                     LOCK TABLE {history} IN SHARE ROW EXCLUSIVE MODE;\n\
                     {create};\n\
                     CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql \
                     SET search_path FROM CURRENT AS $migrate$\n\
                     BEGIN\n\
                       UPDATE {digest_table} SET digest = NULL WHERE digest IS NOT NULL;\n\
                       RETURN NULL;\n\
                     EXCEPTION WHEN undefined_table THEN RETURN NULL;\n\
                     END $migrate$;\n\
                     DROP TRIGGER IF EXISTS {trigger} ON {history};\n\
                     CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {history} \
                     FOR EACH STATEMENT EXECUTE PROCEDURE {function}();\n\
                     DELETE FROM {digest_table}"
                )]
            }
            Dialect::MySql => {
                // DDL commits on its own here: the triggers go first, then
                // the transaction that locks the digest row before reading.
                let mut statements = vec![
                    create,
                    format!("INSERT IGNORE INTO {digest_table} (id, digest) VALUES (1, NULL)"),
                ];
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    let trigger = quoted(&format!("{guard_name}_{}", event.to_lowercase()))
                        .unwrap_or_default();
                    statements.push(format!("DROP TRIGGER IF EXISTS {trigger}"));
                    statements.push(format!(
                        "CREATE TRIGGER {trigger} AFTER {event} ON {history} FOR EACH ROW \
                         UPDATE {digest_table} SET digest = NULL WHERE id = 1 AND digest IS NOT NULL"
                    ));
                }
                statements.push(format!(
                    "START TRANSACTION; SELECT id FROM {digest_table} WHERE id = 1 FOR UPDATE"
                ));
                statements
            }
            Dialect::Sqlite => {
                // The write transaction is the lock: no other writer until
                // the commit.
                let mut batch = format!("BEGIN IMMEDIATE;\n{create};\n");
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    let trigger = quoted(&format!("{guard_name}_{}", event.to_lowercase()))
                        .unwrap_or_default();
                    batch.push_str(&format!(
                        "CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} ON {history} BEGIN \
                         UPDATE {digest_table} SET digest = NULL WHERE digest IS NOT NULL; END;\n"
                    ));
                }
                batch.push_str(&format!("DELETE FROM {digest_table}"));
                vec![batch]
            }
        }
    }

    /// Every row, read so that no writer changes one before the commit.
    fn locking_read(&self) -> String {
        let select = self.dialect.select_history(&self.table);
        match self.dialect {
            // The locks taken up to here already keep writers out.
            Dialect::Postgres | Dialect::Sqlite => select,
            Dialect::MySql => format!("{select} LOCK IN SHARE MODE"),
        }
    }

    /// Stores `digest` and commits.
    fn store(&self, digest: &str) -> String {
        let FastPath { digest_table, .. } = self;
        let digest = self.dialect.literal(digest);
        match self.dialect {
            Dialect::Postgres => format!(
                "INSERT INTO {digest_table} (digest, relid) VALUES ({digest}, {}::regclass::oid); COMMIT",
                self.dialect.literal(&self.history)
            ),
            Dialect::MySql => {
                format!("UPDATE {digest_table} SET digest = {digest} WHERE id = 1; COMMIT")
            }
            Dialect::Sqlite => {
                format!("INSERT INTO {digest_table} (digest) VALUES ({digest}); COMMIT")
            }
        }
    }
}
