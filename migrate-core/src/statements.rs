//! Splitting a section into statements, for the revisions that must send
//! them one at a time (`transaction: false` on PostgreSQL, where a
//! multi-statement query runs as one implicit transaction and
//! `CREATE INDEX CONCURRENTLY` refuses to run).

/// The statements of `sql`, without their `;`, skipping empty ones.
/// Semicolons inside quotes, `"identifiers"`, `` `identifiers` ``,
/// comments and PostgreSQL `$tag$` bodies do not split.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        i = match bytes[i] {
            b';' => {
                push_statement(&mut statements, &sql[start..i]);
                start = i + 1;
                i + 1
            }
            quote @ (b'\'' | b'"' | b'`') => skip_quoted(bytes, i, quote),
            b'-' if bytes.get(i + 1) == Some(&b'-') => skip_until(bytes, i, b"\n"),
            b'/' if bytes.get(i + 1) == Some(&b'*') => skip_until(bytes, i + 2, b"*/"),
            b'$' => skip_dollar_quoted(sql, i),
            _ => i + 1,
        };
    }
    push_statement(&mut statements, &sql[start..]);
    statements
}

/// Where the code of `sql` ends: past its last byte outside a trailing
/// `--` comment. Quoted runs and `$tag$` bodies count as code, so a line
/// starting with `--` inside a multi-line string is kept.
pub(crate) fn end_of_code(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut end = 0;
    let mut i = 0;
    while i < bytes.len() {
        let next = match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => skip_quoted(bytes, i, quote),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = skip_until(bytes, i, b"\n");
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => skip_until(bytes, i + 2, b"*/"),
            b'$' => skip_dollar_quoted(sql, i),
            byte if byte.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => i + 1,
        };
        end = next;
        i = next;
    }
    end
}

fn push_statement<'s>(statements: &mut Vec<&'s str>, statement: &'s str) {
    let trimmed = statement.trim();
    if !is_only_comments(trimmed) {
        statements.push(trimmed);
    }
}

fn is_only_comments(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with("--"))
}

/// Past a quoted run starting at `open`; a doubled quote is an escaped one
/// (standard SQL strings: a backslash is an ordinary character).
fn skip_quoted(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
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

fn skip_until(bytes: &[u8], from: usize, end: &[u8]) -> usize {
    bytes[from..]
        .windows(end.len())
        .position(|window| window == end)
        .map_or(bytes.len(), |at| from + at + end.len())
}

/// Past a `$tag$ ... $tag$` body; a `$` that does not open one (`$1`) is
/// ordinary text.
fn skip_dollar_quoted(sql: &str, open: usize) -> usize {
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
}
