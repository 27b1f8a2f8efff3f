//! The little of SQLite's stored `CREATE` text that its catalog does not
//! answer: CHECK constraints and a partial index's `WHERE`. A scan for a
//! keyword at parenthesis depth 0 outside quotes and comments is all that
//! takes; a full SQL parser would add a large dependency for two clauses.

/// `(byte offset, upper-cased word)` of every word of `sql` outside quotes
/// and comments, with the parenthesis depth it is at.
fn words(sql: &str) -> Vec<(usize, usize, String)> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if b == b'[' { b']' } else { b };
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == close {
                        if close != b']' && bytes.get(i + 1) == Some(&close) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(bytes.len(), |n| i + n + 4);
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((start, depth, sql[start..i].to_ascii_uppercase()));
            }
            _ => i += 1,
        }
    }
    out
}

/// The offset just after the parenthesis that closes the one at `open`.
fn closing(sql: &str, open: usize) -> usize {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => {
                let q = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The CHECK constraints of a `CREATE TABLE` text: `(name, expression)`,
/// the name from a `CONSTRAINT name` just before.
pub fn checks(create_table: &str) -> Vec<(Option<String>, String)> {
    let words = words(create_table);
    let mut out = Vec::new();
    for (index, (at, depth, word)) in words.iter().enumerate() {
        // Inside the table's parentheses, not inside an expression.
        if word != "CHECK" || *depth != 1 {
            continue;
        }
        let Some(open) = create_table[*at..].find('(').map(|n| at + n) else {
            continue;
        };
        let end = closing(create_table, open);
        let expression = normalize(&create_table[open + 1..end - 1]);
        let name = index
            .checked_sub(2)
            .and_then(|i| words.get(i))
            .filter(|(_, _, w)| w == "CONSTRAINT")
            .and_then(|_| words.get(index - 1))
            .map(|(start, _, _)| {
                let rest = &create_table[*start..];
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                rest[..end].to_string()
            });
        out.push((name, expression));
    }
    out
}

/// Whether `word` appears as a word of `sql` outside quotes and comments.
pub fn has_word(sql: &str, word: &str) -> bool {
    let word = word.to_ascii_uppercase();
    words(sql).iter().any(|(_, _, w)| *w == word)
}

/// The `WHERE` of a `CREATE INDEX` text, normalized.
pub fn index_predicate(create_index: &str) -> Option<String> {
    words(create_index)
        .iter()
        .find(|(_, depth, w)| *depth == 0 && w == "WHERE")
        .map(|(at, _, _)| normalize(&create_index[at + 5..]))
}

/// The column list of a `CREATE INDEX` text (the first parentheses),
/// normalized, parentheses included.
pub fn index_columns(create_index: &str) -> String {
    match create_index.find('(') {
        Some(open) => normalize(&create_index[open..closing(create_index, open)]),
        None => String::new(),
    }
}

/// Whitespace collapsed, none just inside parentheses, and upper case
/// outside quotes: SQLite keeps the author's spelling, and these are the
/// differences of spelling that never change meaning.
pub fn normalize(sql: &str) -> String {
    let mut out = String::new();
    let mut chars = sql.trim().chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            if space && !out.ends_with('(') {
                out.push(' ');
            }
            space = false;
            out.push(c);
            while let Some(q) = chars.next() {
                out.push(q);
                if q == c {
                    if chars.peek() == Some(&c) {
                        out.push(chars.next().unwrap_or(c));
                        continue;
                    }
                    break;
                }
            }
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && c != ')' && !out.ends_with('(') && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_predicates_are_found_outside_quotes() {
        let sql = "CREATE TABLE t (a int CHECK (a > 0), b text DEFAULT 'CHECK (x)', CONSTRAINT b_len CHECK ( length(b) < 10 ))";
        assert_eq!(
            checks(sql),
            vec![
                (None, "A > 0".to_string()),
                (Some("b_len".to_string()), "LENGTH(B) < 10".to_string())
            ]
        );
        assert_eq!(
            index_predicate("CREATE INDEX i ON t (a) WHERE  deleted_at IS NULL"),
            Some("DELETED_AT IS NULL".to_string())
        );
        assert_eq!(
            index_columns("CREATE INDEX i ON t ( a ,  lower(b) )"),
            "(A , LOWER(B))"
        );
        assert_eq!(normalize("x = 'It''s  Ok'"), "X = 'It''s  Ok'");
    }
}
