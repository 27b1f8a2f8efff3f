//! Splitting a section into statements, for the revisions that must send
//! them one at a time (`transaction: false` on PostgreSQL, where a
//! multi-statement query runs as one implicit transaction and
//! `CREATE INDEX CONCURRENTLY` refuses to run).

use std::ops::Range;

use crate::dialect::Dialect;

/// The statements of `sql`, without their `;`, skipping empty and
/// comment-only ones. A `;` splits only outside quotes, `"identifiers"`,
/// `` `identifiers` ``, `E'...'` escape strings, comments (`/* */` nest, as
/// in PostgreSQL), `$tag$` bodies, parentheses (`CREATE RULE ... DO ALSO
/// (...; ...)`) and `BEGIN ATOMIC ... END` function bodies.
pub fn split_statements(sql: &str) -> Vec<&str> {
    statement_spans(sql, Dialect::Postgres)
        .into_iter()
        .map(|span| &sql[span])
        .collect()
}

/// Where each statement of `sql` lies, read as `dialect` reads it: the
/// byte ranges [`split_statements`] returns for PostgreSQL, trimmed, in
/// order. On MySQL a backslash escapes in strings, `#` starts a comment
/// and a trigger or procedure body (`BEGIN ... END`) is one statement; on
/// SQLite a trigger body is one statement and `[name]` is an identifier;
/// only PostgreSQL nests comments and has `$tag$` bodies and `E'...'`
/// strings. Counting statements as the server does is what lets a failure
/// reported as "the statement after the first N" be pointed at its line.
pub fn statement_spans(sql: &str, dialect: Dialect) -> Vec<Range<usize>> {
    let postgres = dialect == Dialect::Postgres;
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    // Whether the current statement holds more than whitespace and comments.
    let mut has_code = false;
    let mut parens = 0usize;
    // Open bodies (`BEGIN ATOMIC` on PostgreSQL, `BEGIN` of a trigger or
    // procedure elsewhere) plus the `CASE`s inside them: each closes with
    // an `END`.
    let mut blocks = 0usize;
    // The word just before this token: `ATOMIC` opens a body only after `BEGIN`.
    let mut previous_word: Option<&str> = None;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let line_comment = (byte == b'-' && bytes.get(i + 1) == Some(&b'-'))
            || (byte == b'#' && dialect == Dialect::MySql);
        if line_comment {
            i = skip_until(bytes, i, b"\n");
            continue;
        }
        if byte == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = block_comment_end(bytes, i, postgres);
            continue;
        }
        let last_word = previous_word.take();
        if byte == b';' && parens == 0 && blocks == 0 {
            if has_code {
                statements.push(trimmed(sql, start..i));
            }
            start = i + 1;
            has_code = false;
            i += 1;
            continue;
        }
        let first_word = !has_code;
        has_code = true;
        i = match byte {
            b'(' => {
                parens += 1;
                i + 1
            }
            b')' => {
                parens = parens.saturating_sub(1);
                i + 1
            }
            quote @ (b'\'' | b'"') => skip_quoted(bytes, i, quote, dialect == Dialect::MySql),
            b'`' => skip_quoted(bytes, i, b'`', false),
            b'[' if dialect == Dialect::Sqlite => skip_until(bytes, i, b"]"),
            b'$' if postgres => skip_dollar_quoted(sql, i),
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let end = word_end(bytes, i);
                let word = &sql[i..end];
                if postgres && bytes.get(end) == Some(&b'\'') && word.eq_ignore_ascii_case("e") {
                    skip_quoted(bytes, end, b'\'', true)
                } else {
                    let next = next_word(sql, end);
                    let opens_body = if postgres {
                        word.eq_ignore_ascii_case("atomic")
                            && last_word.is_some_and(|w| w.eq_ignore_ascii_case("begin"))
                    } else {
                        // `BEGIN` first in a statement starts a
                        // transaction, except MariaDB's `BEGIN NOT ATOMIC`
                        // block.
                        word.eq_ignore_ascii_case("begin")
                            && (!first_word || next.eq_ignore_ascii_case("not"))
                    };
                    let opens_case = blocks > 0 && word.eq_ignore_ascii_case("case");
                    // `END IF`, `END LOOP`, ... close what no counted
                    // word opened.
                    let closes = blocks > 0
                        && word.eq_ignore_ascii_case("end")
                        && !["if", "loop", "while", "repeat"]
                            .iter()
                            .any(|kind| next.eq_ignore_ascii_case(kind));
                    if opens_body || opens_case {
                        blocks += 1;
                    } else if closes {
                        blocks -= 1;
                    }
                    previous_word = Some(word);
                    end
                }
            }
            _ => i + 1,
        };
    }
    if has_code {
        statements.push(trimmed(sql, start..sql.len()));
    }
    statements
}

/// `span` without the whitespace at its ends.
fn trimmed(sql: &str, span: Range<usize>) -> Range<usize> {
    let text = &sql[span.clone()];
    let start = span.start + (text.len() - text.trim_start().len());
    start..start + text.trim().len()
}

/// The word after `from`, past whitespace; empty if something else comes.
fn next_word(sql: &str, from: usize) -> &str {
    let rest = sql[from..].trim_start();
    let at = sql.len() - rest.len();
    &sql[at..word_end(sql.as_bytes(), at)]
}

fn word_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
        .map_or(bytes.len(), |at| from + at)
}

/// Past a quoted run starting at `open`; a doubled quote is an escaped one.
/// In an `E'...'` string (`backslash_escapes`) a backslash escapes the next
/// character too; in standard SQL strings it is an ordinary character.
fn skip_quoted(bytes: &[u8], open: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if backslash_escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Past a `/* ... */` comment starting at `open`. With `nests` (as in
/// PostgreSQL) `/* a /* b */ c */` is one comment; without it (MySQL,
/// SQLite) the first `*/` ends it.
pub(crate) fn block_comment_end(bytes: &[u8], open: usize, nests: bool) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') && (nests || depth == 0) {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn skip_until(bytes: &[u8], from: usize, end: &[u8]) -> usize {
    bytes[from..]
        .windows(end.len())
        .position(|window| window == end)
        .map_or(bytes.len(), |at| from + at + end.len())
}

/// Past a `$tag$ ... $tag$` body; a `$` that does not open one (`$1`) is
/// ordinary text.
pub(crate) fn skip_dollar_quoted(sql: &str, open: usize) -> usize {
    let rest = &sql[open + 1..];
    let tag_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let is_tag =
        rest[tag_len..].starts_with('$') && !rest.starts_with(|c: char| c.is_ascii_digit());
    if !is_tag {
        return open + 1;
    }
    let tag = &sql[open..open + tag_len + 2];
    let body = open + tag.len();
    sql[body..]
        .find(tag)
        .map_or(sql.len(), |at| body + at + tag.len())
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_on_semicolons_outside_quotes_comments_and_bodies() {
        let sql = "CREATE TABLE a (x text DEFAULT ';');\n\
                   -- a comment; still a comment\n\
                   CREATE INDEX CONCURRENTLY i ON a (x);\n\
                   /* block; comment */ SELECT \"odd;name\" FROM a;\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   SELECT $1;";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert_eq!(statements[0], "CREATE TABLE a (x text DEFAULT ';')");
        assert!(statements[1].ends_with("CREATE INDEX CONCURRENTLY i ON a (x)"));
        assert!(statements[3].contains("$body$ SELECT 1; $body$"));
        assert_eq!(statements[4], "SELECT $1");
    }

    #[test]
    fn a_trailing_statement_without_semicolon_and_comment_only_tails() {
        assert_eq!(
            split_statements("SELECT 1; SELECT 2"),
            ["SELECT 1", "SELECT 2"]
        );
        assert_eq!(split_statements("SELECT 1;\n-- done\n"), ["SELECT 1"]);
        assert!(split_statements("  \n-- nothing\n").is_empty());
    }

    #[test]
    fn doubled_quotes_do_not_end_a_string() {
        assert_eq!(
            split_statements("INSERT INTO t VALUES ('it''s; fine'); SELECT 1"),
            ["INSERT INTO t VALUES ('it''s; fine')", "SELECT 1"]
        );
    }

    #[test]
    fn a_backslash_escapes_a_quote_only_in_e_strings() {
        assert_eq!(
            split_statements(r"INSERT INTO t VALUES (E'it\'s; here'); SELECT 'a\'; SELECT 2"),
            [
                r"INSERT INTO t VALUES (E'it\'s; here')",
                r"SELECT 'a\'",
                "SELECT 2"
            ]
        );
        // A word ending in `e` before a string is not an `E` prefix.
        assert_eq!(
            split_statements(r"SELECT name'\'; SELECT 2"),
            [r"SELECT name'\'", "SELECT 2"]
        );
    }

    #[test]
    fn a_begin_atomic_body_is_one_statement() {
        let function = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql\n\
                        BEGIN ATOMIC\n  \
                        INSERT INTO log VALUES (x);\n  \
                        SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n\
                        END";
        let sql = format!("{function};\nBEGIN;\nSELECT 1;\nCOMMIT;");
        assert_eq!(
            split_statements(&sql),
            [function, "BEGIN", "SELECT 1", "COMMIT"]
        );
    }

    #[test]
    fn a_semicolon_inside_parentheses_does_not_split() {
        let rule = "CREATE RULE r AS ON INSERT TO a DO ALSO \
                    (INSERT INTO b VALUES (1); INSERT INTO b VALUES (2))";
        assert_eq!(
            split_statements(&format!("{rule}; SELECT 1")),
            [rule, "SELECT 1"]
        );
    }

    #[test]
    fn block_comments_nest_and_comment_only_statements_are_skipped() {
        assert_eq!(
            split_statements(
                "/* outer /* inner; */ still; comment */ SELECT 1; /* only */; SELECT 2"
            ),
            [
                "/* outer /* inner; */ still; comment */ SELECT 1",
                "SELECT 2"
            ]
        );
        assert!(split_statements("/* a */ ; -- b\n").is_empty());
    }
}
