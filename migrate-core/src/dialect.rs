//! The SQL each database is sent: the history table's statements and the
//! batch that applies or reverts one revision. The runtime sends exactly
//! these texts and the CLI's offline mode prints them, so a script applied
//! by hand leaves the database as `upgrade` would.

use crate::location::{RevisionBatch, SectionSource};
use crate::plan::Direction;
use crate::revision::Revision;

/// A database's SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

/// The history table's name, checked as an identifier: `name` or
/// `schema.name`, each part letters, digits and `_`, not starting with a
/// digit, at most 63 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTable {
    parts: Vec<String>,
}

impl HistoryTable {
    /// Checks a table name; the error says what is allowed.
    pub fn new(name: &str) -> Result<Self, String> {
        let parts: Vec<String> = name.split('.').map(str::to_string).collect();
        let valid = |part: &String| {
            !part.is_empty()
                && part.len() <= 63
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if parts.len() <= 2 && parts.iter().all(valid) {
            Ok(HistoryTable { parts })
        } else {
            Err(format!(
                "`{name}` is not a valid history table name: use `name` or `schema.name`, \
                 each of letters, digits and `_`, not starting with a digit, at most 63 characters"
            ))
        }
    }

    /// The name as given.
    pub fn name(&self) -> String {
        self.parts.join(".")
    }

    /// The name quoted for a dialect.
    pub fn quoted(&self, dialect: Dialect) -> String {
        let quote = match dialect {
            Dialect::MySql => '`',
            Dialect::Postgres | Dialect::Sqlite => '"',
        };
        self.parts
            .iter()
            .map(|part| format!("{quote}{part}{quote}"))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// The `state` of a history row for a revision whose SQL ran to the end.
pub const STATE_APPLIED: &str = "applied";
/// The `state` of a history row written before SQL that cannot be rolled
/// back (MySQL DDL, `transaction: false`): it stays behind if that SQL fails
/// or the process dies, and the next run refuses until someone looks.
pub const STATE_PENDING: &str = "pending";
/// The `state` of a history row whose down SQL started: like
/// [`STATE_PENDING`], left behind when that SQL cannot be rolled back and
/// fails, so the next run knows which way the revision was going.
pub const STATE_REVERTING: &str = "reverting";

impl Dialect {
    /// The dialect a name stands for, as `--dialect`, migrate.toml's
    /// `dialect` and the macro's `lint = "..."` take it: `postgres` (or
    /// `postgresql`), `mysql` (or `mariadb`), `sqlite`.
    pub fn from_name(name: &str) -> Option<Dialect> {
        match name {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    /// What to say about a name no dialect has.
    pub fn unknown_name_message(name: &str) -> String {
        format!("unknown dialect `{name}`: write \"postgres\", \"mysql\" (or \"mariadb\") or \"sqlite\"")
    }

    /// The dialect's name, as [`Dialect::from_name`] takes it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// `CREATE TABLE IF NOT EXISTS` for the history table.
    pub fn create_history(self, table: &HistoryTable) -> String {
        let table = table.quoted(self);
        let applied_at = match self {
            Dialect::Postgres => "TIMESTAMPTZ NOT NULL DEFAULT now()",
            Dialect::MySql => "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
            Dialect::Sqlite => "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    \
             revision VARCHAR(64) NOT NULL PRIMARY KEY,\n    \
             checksum CHAR(64) NOT NULL,\n    \
             message TEXT NOT NULL,\n    \
             state VARCHAR(16) NOT NULL,\n    \
             applied_at {applied_at},\n    \
             execution_ms BIGINT NOT NULL\n)"
        )
    }

    /// The one statement of a no-op boot: every row, text columns only so
    /// the simple query protocol can carry it. On SQLite the rows come
    /// packed into one value ([`unpack_history`]): sqlx hands each SQLite
    /// row over from its worker thread as a message of its own, which
    /// dominated a boot with a thousand applied migrations.
    pub fn select_history(self, table: &HistoryTable) -> String {
        match self {
            Dialect::Sqlite => format!(
                "SELECT group_concat(revision || char(31) || checksum || char(31) || state, char(30)) FROM {}",
                table.quoted(self)
            ),
            Dialect::Postgres | Dialect::MySql => format!(
                "SELECT revision, checksum, state FROM {}",
                table.quoted(self)
            ),
        }
    }

    /// `BEGIN` in this dialect.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::Postgres | Dialect::Sqlite => "BEGIN",
            Dialect::MySql => "START TRANSACTION",
        }
    }

    /// A string literal holding `text`.
    pub fn literal(self, text: &str) -> String {
        match self {
            // A hex literal is immune to `NO_BACKSLASH_ESCAPES` either way.
            Dialect::MySql if text.contains('\\') => {
                let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
                format!("CONVERT(X'{hex}' USING utf8mb4)")
            }
            _ => format!("'{}'", text.replace('\'', "''")),
        }
    }

    /// Records a revision as applied (or pending), with its execution time
    /// in milliseconds as an SQL expression.
    pub fn insert_row(
        self,
        table: &HistoryTable,
        revision: &Revision,
        state: &str,
        execution_ms: &str,
    ) -> String {
        format!(
            "INSERT INTO {} (revision, checksum, message, state, execution_ms) VALUES ({}, {}, {}, {}, {execution_ms})",
            table.quoted(self),
            self.literal(&revision.id),
            self.literal(&revision.checksum_hex()),
            self.literal(&revision.message),
            self.literal(state),
        )
    }

    /// Re-records a row's checksum, for `migrate repair` after a review.
    pub fn update_checksum(self, table: &HistoryTable, revision: &Revision) -> String {
        format!(
            "UPDATE {} SET checksum = {} WHERE revision = {}",
            table.quoted(self),
            self.literal(&revision.checksum_hex()),
            self.literal(&revision.id),
        )
    }

    /// Forgets a revision.
    pub fn delete_row(self, table: &HistoryTable, id: &str) -> String {
        format!(
            "DELETE FROM {} WHERE revision = {}",
            table.quoted(self),
            self.literal(id)
        )
    }

    /// What a script must run first so that its session behaves like the
    /// runtime's connections: sqlx 0.8 sets this on every MySQL
    /// connection (its default `MySqlConnectOptions`; `IGNORE_SPACE` comes
    /// from the capability flag of its handshake). Without
    /// `PIPES_AS_CONCAT` `a || b` would be a logical OR in the script and
    /// a concatenation in a run.
    pub fn session_setup(self) -> Option<&'static str> {
        match self {
            Dialect::MySql => Some(
                "SET sql_mode=(SELECT CONCAT(@@sql_mode, ',IGNORE_SPACE,PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION')),\
                 time_zone='+00:00',NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
            ),
            Dialect::Postgres | Dialect::Sqlite => None,
        }
    }

    /// The one batch that applies a transactional revision, wrapped as
    /// `wrap` says so that its SQL and its history row land together or not
    /// at all. The row is written first as pending, with the start time in
    /// `execution_ms`, and marked applied at the end with the elapsed time:
    /// the server times the revision, and on MySQL, whose DDL commits
    /// implicitly, a revision that fails part-way leaves its pending row
    /// behind for the next run to see.
    pub fn upgrade_batch(self, table: &HistoryTable, revision: &Revision, wrap: Wrap) -> String {
        self.revision_batch(table, revision, Direction::Upgrade, wrap)
            .into_sql()
    }

    /// The one batch that reverts a transactional revision: its down SQL and
    /// the removal of its history row, wrapped as `wrap` says.
    pub fn downgrade_batch(self, table: &HistoryTable, revision: &Revision, wrap: Wrap) -> String {
        self.revision_batch(table, revision, Direction::Downgrade, wrap)
            .into_sql()
    }

    /// The batch of [`upgrade_batch`](Self::upgrade_batch) or
    /// [`downgrade_batch`](Self::downgrade_batch), knowing where the
    /// revision's own SQL lies in it, so that the runtime can point a
    /// failure back into the file.
    pub fn revision_batch<'r>(
        self,
        table: &HistoryTable,
        revision: &'r Revision,
        direction: Direction,
        wrap: Wrap,
    ) -> RevisionBatch<'r> {
        let section = SectionSource::of(revision, direction, self);
        let (before, after) = match direction {
            Direction::Upgrade => (
                self.insert_pending(table, revision),
                self.mark_applied(table, revision),
            ),
            Direction::Downgrade => (
                self.mark_reverting(table, &revision.id),
                self.delete_row(table, &revision.id),
            ),
        };
        let head = join_batch(vec![wrap.begin(self), before]);
        let tail = join_batch(vec![
            self.section(section.sql()).to_string(),
            after,
            wrap.commit(),
        ]);
        RevisionBatch::new(format!("{head}{tail}"), head.len(), section)
    }

    /// The one batch of a stamp: rows removed for `forget`, rows added (as
    /// applied, with no execution time) for `record`; no migration SQL.
    pub fn stamp_batch(
        self,
        table: &HistoryTable,
        forget: &[&str],
        record: &[&Revision],
        wrap: Wrap,
    ) -> String {
        let mut batch = vec![wrap.begin(self)];
        batch.extend(forget.iter().map(|id| self.delete_row(table, id)));
        batch.extend(
            record
                .iter()
                .map(|revision| self.insert_row(table, revision, STATE_APPLIED, "0")),
        );
        batch.push(wrap.commit());
        join_batch(batch)
    }

    /// The row written before a revision's SQL runs.
    pub fn insert_pending(self, table: &HistoryTable, revision: &Revision) -> String {
        self.insert_row(table, revision, STATE_PENDING, self.now_ms())
    }

    /// Marks a pending row applied, turning the start time it holds into the
    /// elapsed time.
    pub fn mark_applied(self, table: &HistoryTable, revision: &Revision) -> String {
        format!(
            "UPDATE {} SET state = {}, execution_ms = {} - execution_ms WHERE revision = {}",
            table.quoted(self),
            self.literal(STATE_APPLIED),
            self.now_ms(),
            self.literal(&revision.id),
        )
    }

    /// Marks an applied row `reverting` as its down SQL starts: inside a
    /// transaction the mark rolls back with a failure; where the SQL commits
    /// on its own (MySQL DDL, `transaction: false`) it stays and tells the
    /// next run which way the revision was going.
    pub fn mark_reverting(self, table: &HistoryTable, id: &str) -> String {
        format!(
            "UPDATE {} SET state = {} WHERE revision = {}",
            table.quoted(self),
            self.literal(STATE_REVERTING),
            self.literal(id),
        )
    }

    /// The wall clock in milliseconds since the Unix epoch, read when the
    /// expression runs (not when its transaction or statement started).
    fn now_ms(self) -> &'static str {
        match self {
            Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
            Dialect::MySql => "CAST(UNIX_TIMESTAMP(SYSDATE(6)) * 1000 AS SIGNED)",
            Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        }
    }
}

/// The `(revision, checksum, state)` rows of SQLite's packed history read
/// (see [`Dialect::select_history`]); `None` when a record is not three
/// fields, which only a hand-edited table can cause.
pub fn unpack_history(packed: &str) -> Option<Vec<(&str, &str, &str)>> {
    if packed.is_empty() {
        return Some(Vec::new());
    }
    packed
        .split('\u{1e}')
        .map(|record| {
            let mut fields = record.split('\u{1f}');
            match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(revision), Some(checksum), Some(state), None) => {
                    Some((revision, checksum, state))
                }
                _ => None,
            }
        })
        .collect()
}

/// How a revision's batch is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// Not at all: the caller already holds the transaction.
    None,
    /// In its own transaction.
    Transaction,
    /// In a savepoint of the caller's transaction (SQLite, whose lock is
    /// the run's write transaction).
    Savepoint,
}

/// The savepoint a revision runs in under [`Wrap::Savepoint`].
pub const SAVEPOINT: &str = "migrate_revision";

impl Wrap {
    fn begin(self, dialect: Dialect) -> String {
        match self {
            Wrap::None => String::new(),
            Wrap::Transaction => dialect.begin().to_string(),
            Wrap::Savepoint => format!("SAVEPOINT {SAVEPOINT}"),
        }
    }

    fn commit(self) -> String {
        match self {
            Wrap::None => String::new(),
            Wrap::Transaction => "COMMIT".to_string(),
            Wrap::Savepoint => format!("RELEASE {SAVEPOINT}"),
        }
    }

    /// What undoes a batch that failed part-way.
    pub fn rollback(self) -> String {
        match self {
            Wrap::None | Wrap::Transaction => "ROLLBACK".to_string(),
            Wrap::Savepoint => format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"),
        }
    }
}

/// Statements joined with `;` and a newline, skipping empty ones (an empty
/// up section is a valid no-op revision). Each ends in code (see
/// [`Dialect::section`]), so its `;` is never inside a trailing comment.
fn join_batch(statements: Vec<String>) -> String {
    let mut out = String::new();
    for statement in statements.iter().filter(|s| !s.trim().is_empty()) {
        out.push_str(statement);
        out.push_str(";\n");
    }
    out
}

impl Dialect {
    /// A section's SQL as it goes into a batch: without the comments and
    /// whitespace after its last statement and without its final `;`, so
    /// that the `;` the batch adds neither lands inside a trailing comment
    /// nor ends an empty statement (MySQL rejects one with `1065 Query was
    /// empty`, after its DDL has committed). Empty for a section of only
    /// comments.
    pub fn section(self, sql: &str) -> &str {
        let mut sql = sql;
        loop {
            sql = &sql[..self.code_end(sql)];
            match sql.strip_suffix(';') {
                Some(shorter) => sql = shorter,
                None => return sql,
            }
        }
    }

    /// Where the last code (anything outside comments and whitespace) of
    /// `sql` ends. Comments are `--` lines and `/* */` (nested on
    /// PostgreSQL); on MySQL also `#` lines, while `/*! */` and `/*+ */`
    /// are code there.
    fn code_end(self, sql: &str) -> usize {
        let bytes = sql.as_bytes();
        let mut end = 0;
        let mut i = 0;
        while i < bytes.len() {
            let next = bytes.get(i + 1).copied();
            let is_code = match bytes[i] {
                b if b.is_ascii_whitespace() => {
                    i += 1;
                    false
                }
                b'-' if next == Some(b'-') => {
                    i = line_end(bytes, i);
                    false
                }
                b'#' if self == Dialect::MySql => {
                    i = line_end(bytes, i);
                    false
                }
                b'/' if next == Some(b'*') => {
                    let hint = matches!(bytes.get(i + 2), Some(b'!' | b'+'));
                    i = crate::statements::block_comment_end(bytes, i, self == Dialect::Postgres);
                    self == Dialect::MySql && hint
                }
                quote @ (b'\'' | b'"' | b'`') => {
                    i = self.quoted_end(bytes, i, quote);
                    true
                }
                // A `--` line inside a `$tag$` body is part of it.
                b'$' if self == Dialect::Postgres => {
                    i = crate::statements::skip_dollar_quoted(sql, i);
                    true
                }
                _ => {
                    i += 1;
                    true
                }
            };
            if is_code {
                end = i;
            }
        }
        end
    }

    /// Past a quoted run starting at `open`: a doubled quote stays inside,
    /// and on MySQL so does a backslash-escaped one.
    fn quoted_end(self, bytes: &[u8], open: usize, quote: u8) -> usize {
        let mut i = open + 1;
        while i < bytes.len() {
            let escaped = self == Dialect::MySql && bytes[i] == b'\\' && quote != b'`';
            if escaped || (bytes[i] == quote && bytes.get(i + 1) == Some(&quote)) {
                i += 2;
            } else if bytes[i] == quote {
                return i + 1;
            } else {
                i += 1;
            }
        }
        bytes.len()
    }
}

/// Past the end of the line holding `from`.
fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |at| from + at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(up: &str) -> Revision {
        crate::parse_migration(
            "migrations/abc_x.sql",
            format!("-- revision: abc\n-- migrate:up\n{up}\n").as_bytes(),
        )
        .expect("a valid file")
    }

    fn batch(up: &str) -> String {
        let table = HistoryTable::new("h").expect("a valid name");
        Dialect::MySql.upgrade_batch(&table, &revision(up), Wrap::None)
    }

    #[test]
    fn a_comment_like_line_inside_a_string_is_kept() {
        let sql = "INSERT INTO t VALUES ('first line\n-- second line');\n-- a comment";
        assert_eq!(
            Dialect::Postgres.section(sql),
            "INSERT INTO t VALUES ('first line\n-- second line')"
        );
        assert_eq!(
            Dialect::Postgres.section("SELECT $x$a\n-- b$x$;"),
            "SELECT $x$a\n-- b$x$"
        );
    }

    #[test]
    fn trailing_comments_never_make_an_empty_statement() {
        // Each batch must be the pending row, the SQL and the mark, each
        // ended by one `;` outside comments.
        for up in [
            "CREATE TABLE t (id int);",
            "CREATE TABLE t (id int);\n-- index later",
            "CREATE TABLE t (id int); -- index later",
            "CREATE TABLE t (id int) -- no semicolon",
            "CREATE TABLE t (id int)",
            "CREATE TABLE t (id int);\n/* index\n later; */",
            "CREATE TABLE t (id int)\n# index later",
            "CREATE TABLE t (id int);;\n# done\n/* done */\n",
        ] {
            let text = batch(up);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 3, "{up:?} gave:\n{text}");
            assert_eq!(lines[1], "CREATE TABLE t (id int);", "{up:?} gave:\n{text}");
        }
        assert_eq!(
            batch("CREATE TABLE t (x text DEFAULT '--#;');")
                .lines()
                .nth(1),
            Some("CREATE TABLE t (x text DEFAULT '--#;');")
        );
    }

    #[test]
    fn a_section_of_only_comments_is_empty() {
        for dialect in [Dialect::MySql, Dialect::Postgres] {
            assert_eq!(dialect.section("-- a\n/* b /* c */ \n;\n"), "");
        }
        assert_eq!(Dialect::MySql.section("# nothing yet\n"), "");
        // `#` is an operator on PostgreSQL, `/*!` a statement on MySQL.
        assert_eq!(Dialect::Postgres.section("SELECT 1 # 2"), "SELECT 1 # 2");
        assert_eq!(
            Dialect::MySql.section("SELECT 1 /*!50000 + 1 */;"),
            "SELECT 1 /*!50000 + 1 */"
        );
        assert_eq!(
            Dialect::Postgres.section("SELECT 1; /* a /* b */ c */"),
            "SELECT 1"
        );
    }

    #[test]
    fn packed_history_unpacks_to_its_rows() {
        assert_eq!(unpack_history(""), Some(Vec::new()));
        assert_eq!(
            unpack_history("a\u{1f}00\u{1f}applied\u{1e}b\u{1f}11\u{1f}pending"),
            Some(vec![("a", "00", "applied"), ("b", "11", "pending")])
        );
        assert_eq!(unpack_history("a\u{1f}00"), None);
    }
}
