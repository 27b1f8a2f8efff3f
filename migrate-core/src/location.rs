//! Pointing a failed statement back into its migration file. A database
//! reports either a character position in the text it was sent
//! (PostgreSQL) or nothing but the failure itself, after the statements
//! before it succeeded (each of those reports a result): from either, and
//! from where the revision's section sits in the batch the runtime sent,
//! this finds the file line and the statement's first line.

use std::ops::Range;

use crate::dialect::Dialect;
use crate::plan::Direction;
use crate::revision::Revision;
use crate::statements::{block_comment_end, statement_spans};

/// Where in its migration file a failed statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The line the database pointed at (PostgreSQL reports a position);
    /// where it pointed nowhere, the failed statement's first line.
    pub line: usize,
    /// The failed statement's first line.
    pub statement_line: usize,
    /// The lines to quote, as `(line number, text)` in file order: the
    /// statement's first line and, where the database pointed further into
    /// the statement, that line too.
    pub quoted: Vec<(usize, String)>,
}

impl SourceLocation {
    /// The quoted lines as shown under a message, numbered like the file,
    /// with a `...` line where lines in between are left out:
    ///
    /// ```text
    ///   10 | INSERT INTO t2 (id)
    ///      | ...
    ///   12 |   SELECT nope FROM t2
    /// ```
    pub fn quote(&self) -> String {
        let width = self
            .quoted
            .iter()
            .map(|(line, _)| line.to_string().len())
            .max()
            .unwrap_or(1);
        let mut out = Vec::new();
        let mut previous: Option<usize> = None;
        for (line, text) in &self.quoted {
            if previous.is_some_and(|previous| line - previous > 1) {
                out.push(format!("  {:>width$} | ...", ""));
            }
            out.push(format!("  {line:>width$} | {text}").trim_end().to_string());
            previous = Some(*line);
        }
        out.join("\n")
    }
}

/// A revision's up or down section as the runtime sends it: its SQL and
/// the file line that SQL starts on.
#[derive(Debug, Clone, Copy)]
pub struct SectionSource<'a> {
    sql: &'a str,
    first_line: usize,
    dialect: Dialect,
}

impl<'a> SectionSource<'a> {
    /// A section whose SQL starts on `first_line` of its file, as
    /// `dialect` reads it.
    pub fn new(sql: &'a str, first_line: usize, dialect: Dialect) -> Self {
        SectionSource {
            sql,
            first_line,
            dialect,
        }
    }

    /// The section a revision runs going `direction` (empty for a missing
    /// down section).
    pub fn of(revision: &'a Revision, direction: Direction, dialect: Dialect) -> Self {
        match direction {
            Direction::Upgrade => Self::new(&revision.up_sql, revision.up_line, dialect),
            Direction::Downgrade => Self::new(
                revision.down_sql.as_deref().unwrap_or_default(),
                revision.down_line,
                dialect,
            ),
        }
    }

    /// The SQL.
    pub fn sql(&self) -> &'a str {
        self.sql
    }

    /// How many statements the database counts in it.
    pub fn statement_count(&self) -> usize {
        self.spans().len()
    }

    /// The statement after the first `index` ones (which succeeded), as the
    /// database counts them; `None` past the last.
    pub fn statement(&self, index: usize) -> Option<SourceLocation> {
        let span = self.spans().get(index)?.clone();
        let start = self.past_comments(span.start, span.end);
        Some(self.location(start, start))
    }

    /// The statement `index` sent on its own (`transaction: false` on
    /// PostgreSQL), at the database's 1-based character `position` in it.
    pub fn position_in_statement(&self, index: usize, position: usize) -> Option<SourceLocation> {
        let span = self.spans().get(index)?.clone();
        let offset = byte_offset(&self.sql[span.clone()], position)?;
        Some(self.location(span.start, span.start + offset))
    }

    /// Where the section failed when sent on its own: after `completed`
    /// statements succeeded, at the database's 1-based character
    /// `position` in the failed statement where it reports one (PostgreSQL,
    /// which is sent such a section one statement at a time).
    pub fn locate(&self, completed: usize, position: Option<usize>) -> Option<SourceLocation> {
        match position {
            Some(position) => self
                .position_in_statement(completed, position)
                .or_else(|| self.statement(completed)),
            None => self.statement(completed),
        }
    }

    /// The statement holding byte `offset` of the section (or ending just
    /// before it, for an error at the `;` after it), pointed at `offset`.
    pub fn at_offset(&self, offset: usize) -> Option<SourceLocation> {
        let offset = offset.min(self.sql.len());
        let spans = self.spans();
        let index = spans
            .iter()
            .rposition(|span| span.start <= offset)
            .unwrap_or(0);
        let span = spans.get(index)?;
        Some(self.location(span.start, offset.max(span.start)))
    }

    fn spans(&self) -> Vec<Range<usize>> {
        statement_spans(self.sql, self.dialect)
    }

    /// The location of the statement starting at byte `start`, pointed at
    /// byte `at`. The statement's first line is that of its code, past the
    /// comments before it.
    fn location(&self, start: usize, at: usize) -> SourceLocation {
        let start = self.past_comments(start, at);
        let statement_line = self.line_of(start);
        let line = self.line_of(at);
        let mut quoted = vec![(statement_line, self.line_text(start).to_string())];
        if line != statement_line {
            quoted.push((line, self.line_text(at).to_string()));
        }
        SourceLocation {
            line,
            statement_line,
            quoted,
        }
    }

    /// Past the whitespace and comments from `from`, but not past `limit`.
    fn past_comments(&self, from: usize, limit: usize) -> usize {
        let bytes = self.sql.as_bytes();
        let mut i = from;
        while i < limit {
            let next = bytes.get(i + 1).copied();
            i = match bytes[i] {
                b if b.is_ascii_whitespace() => i + 1,
                b'-' if next == Some(b'-') => self.line_end(i),
                b'#' if self.dialect == Dialect::MySql => self.line_end(i),
                b'/' if next == Some(b'*') => {
                    block_comment_end(bytes, i, self.dialect == Dialect::Postgres)
                }
                _ => return i,
            };
        }
        limit
    }

    /// Past the end of the line holding byte `from`.
    fn line_end(&self, from: usize) -> usize {
        self.sql[from..]
            .find('\n')
            .map_or(self.sql.len(), |at| from + at + 1)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.first_line + self.sql[..offset].matches('\n').count()
    }

    /// The whole line holding byte `offset`.
    fn line_text(&self, offset: usize) -> &'a str {
        let start = self.sql[..offset].rfind('\n').map_or(0, |at| at + 1);
        let end = self.sql[offset..]
            .find('\n')
            .map_or(self.sql.len(), |at| offset + at);
        self.sql[start..end].trim_end()
    }
}

/// A revision's batch as sent to the database, knowing where the
/// revision's own SQL lies in it, so that a failure can be pointed back
/// into the file (see [`Dialect::revision_batch`]).
#[derive(Debug, Clone)]
pub struct RevisionBatch<'a> {
    sql: String,
    section_start: usize,
    section: SectionSource<'a>,
}

impl<'a> RevisionBatch<'a> {
    /// A batch whose `section` starts at byte `section_start` of `sql`.
    pub fn new(sql: String, section_start: usize, section: SectionSource<'a>) -> Self {
        RevisionBatch {
            sql,
            section_start,
            section,
        }
    }

    /// The text to send.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The text to send.
    pub fn into_sql(self) -> String {
        self.sql
    }

    /// The same batch with `statement` sent before it.
    pub fn preceded_by(self, statement: &str) -> Self {
        let prefix = format!("{statement};\n");
        RevisionBatch {
            section_start: self.section_start + prefix.len(),
            sql: prefix + &self.sql,
            section: self.section,
        }
    }

    /// Where in the file the batch failed, from what the database told:
    /// how many of the batch's statements succeeded before the failure
    /// and, where it gives one (PostgreSQL), the 1-based character
    /// position of the error in the batch. `None` when the failure is in
    /// the batch's own statements (the history row, the commit).
    pub fn locate(&self, completed: usize, position: Option<usize>) -> Option<SourceLocation> {
        let section_end = self.section_start + self.section.sql.len();
        if let Some(offset) = position.and_then(|position| byte_offset(&self.sql, position)) {
            // An error at the `;` right after the section is still the
            // section's last statement.
            return (self.section_start..=section_end)
                .contains(&offset)
                .then(|| self.section.at_offset(offset - self.section_start))
                .flatten();
        }
        let before = statement_spans(&self.sql[..self.section_start], self.section.dialect).len();
        self.section.statement(completed.checked_sub(before)?)
    }
}

/// The byte offset of the 1-based character `position` of `text` (the
/// end of `text` for the position just past its last character), as
/// PostgreSQL counts positions: in characters, not bytes.
fn byte_offset(text: &str, position: usize) -> Option<usize> {
    let index = position.checked_sub(1)?;
    text.char_indices()
        .map(|(at, _)| at)
        .chain(std::iter::once(text.len()))
        .nth(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str =
        "-- a comment\nCREATE TABLE t (id int);\n\nINSERT INTO t\n  (id)\n  SELECT nope FROM t;";

    fn section() -> SectionSource<'static> {
        SectionSource::new(SECTION, 7, Dialect::Postgres)
    }

    #[test]
    fn a_statement_index_is_its_first_line() {
        let first = section().statement(0).expect("a first statement");
        assert_eq!((first.line, first.statement_line), (8, 8));
        assert_eq!(
            first.quoted,
            [(8, "CREATE TABLE t (id int);".to_string())],
            "the comment before the statement is not quoted"
        );
        let second = section().statement(1).expect("a second statement");
        assert_eq!((second.line, second.statement_line), (10, 10));
        assert_eq!(second.quote(), "  10 | INSERT INTO t");
        assert_eq!(section().statement(2), None);
    }

    #[test]
    fn an_offset_points_at_its_line_and_quotes_the_statement_start() {
        let offset = SECTION.find("nope").expect("nope");
        let location = section().at_offset(offset).expect("a location");
        assert_eq!((location.line, location.statement_line), (12, 10));
        assert_eq!(
            location.quote(),
            "  10 | INSERT INTO t\n     | ...\n  12 |   SELECT nope FROM t;"
        );
        // Just past the end: the last statement.
        let end = section().at_offset(SECTION.len()).expect("a location");
        assert_eq!(end.statement_line, 10);
    }

    #[test]
    fn positions_are_characters_not_bytes() {
        let sql = "SELECT '日本語';\nSELECT nope";
        let section = SectionSource::new(sql, 3, Dialect::Postgres);
        // PostgreSQL's position of `nope` in the second statement alone.
        let location = section.position_in_statement(1, 8).expect("a location");
        assert_eq!((location.line, location.statement_line), (4, 4));
        assert_eq!(byte_offset("日本x", 3), Some(6));
        assert_eq!(byte_offset("日本", 3), Some(6));
        assert_eq!(byte_offset("日本", 4), None);
        assert_eq!(byte_offset("x", 0), None);
    }

    #[test]
    fn a_batch_maps_a_position_or_a_statement_count_into_the_section() {
        let prefix = "BEGIN;\nINSERT INTO h VALUES ('café; ünï');\n";
        let batch = RevisionBatch::new(
            format!("{prefix}{SECTION};\nUPDATE h SET x = 1;\nCOMMIT;\n"),
            prefix.len(),
            section(),
        )
        .preceded_by("SAVEPOINT s");
        let chars_before_nope = batch.sql()[..batch.sql().find("nope").expect("nope")]
            .chars()
            .count();
        let by_position = batch.locate(0, Some(chars_before_nope + 1));
        assert_eq!(
            by_position.map(|l| (l.line, l.statement_line)),
            Some((12, 10))
        );
        // Three statements before the section, then its first.
        for (completed, line) in [(3, Some(8)), (4, Some(10)), (5, None), (2, None)] {
            assert_eq!(
                batch.locate(completed, None).map(|l| l.line),
                line,
                "{completed}"
            );
        }
        // A position in the history row's statement is not in the file.
        assert_eq!(batch.locate(0, Some(15)), None);
    }

    #[test]
    fn statements_are_counted_as_each_database_counts_them() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN\n  \
                       UPDATE b SET n = n + 1;\n  \
                       UPDATE c SET n = CASE WHEN n > 0 THEN 1 ELSE 0 END;\n\
                       END;\nSELECT nope;";
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            let section = SectionSource::new(trigger, 1, dialect);
            assert_eq!(section.statement_count(), 2, "{dialect:?}");
            assert_eq!(section.statement(1).map(|l| l.line), Some(5));
        }
        let procedure = "CREATE PROCEDURE p() BEGIN\n  IF 1 THEN SELECT 1; END IF;\n  \
                         WHILE 0 DO SELECT 2; END WHILE;\nEND;\nBEGIN;\nSELECT 'it\\'s; #' # ; comment\n;";
        assert_eq!(
            SectionSource::new(procedure, 1, Dialect::MySql).statement_count(),
            3
        );
        let brackets = "CREATE TABLE [a;b] (x);\nSELECT 1";
        assert_eq!(
            SectionSource::new(brackets, 1, Dialect::Sqlite).statement_count(),
            2
        );
    }
}
