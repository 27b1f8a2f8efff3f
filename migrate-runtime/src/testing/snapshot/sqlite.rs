//! SQLite: `sqlite_master` and the table-valued pragmas. CHECK constraints
//! are kept nowhere but in the table's text: they are read out of it
//! ([`check_constraints`]), their spacing made uniform, so that a down that
//! recreates a table with its checks spelled the same way reads the same.

use std::future::Future;

use sqlx::{Pool, Sqlite};

use super::{literal, table_name, SchemaSnapshot, Snapshot};

impl SchemaSnapshot for Sqlite {
    fn snapshot<'a>(
        pool: &'a Pool<Self>,
        history_table: &'a str,
    ) -> impl Future<Output = Result<Snapshot, sqlx::Error>> + Send + 'a {
        let tables = format!(
            "m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> {}",
            literal(table_name(history_table))
        );
        // `pragma_table_xinfo` rather than `table_info`: generated columns
        // (hidden 2 and 3) are columns too.
        let sql = format!(
            "SELECT 'table ' || m.name FROM sqlite_master m WHERE {tables} \
             UNION ALL \
             SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type \
               || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END \
               || COALESCE(' DEFAULT ' || p.dflt_value, '') \
               || CASE WHEN p.pk > 0 THEN ' PRIMARY KEY ' || p.pk ELSE '' END \
               || CASE p.hidden WHEN 2 THEN ' GENERATED VIRTUAL' WHEN 3 THEN ' GENERATED STORED' ELSE '' END \
             FROM sqlite_master m, pragma_table_xinfo(m.name) p WHERE {tables} \
             UNION ALL \
             SELECT 'index ' || m.name || '.' || l.name || CASE WHEN l.\"unique\" THEN ' UNIQUE' ELSE '' END \
               || ' (' || COALESCE((SELECT group_concat(COALESCE(i.name, '<expression>'), ', ') \
                                    FROM pragma_index_xinfo(l.name) i WHERE i.key = 1), '') || ')' \
               || COALESCE(': ' || (SELECT x.sql FROM sqlite_master x WHERE x.type = 'index' AND x.name = l.name), '') \
             FROM sqlite_master m, pragma_index_list(m.name) l WHERE {tables} \
             UNION ALL \
             SELECT 'foreign key ' || m.name || ' (' || f.\"from\" || ') -> ' || f.\"table\" \
               || ' (' || COALESCE(f.\"to\", '') || ') ON UPDATE ' || f.on_update || ' ON DELETE ' || f.on_delete \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE {tables} \
             UNION ALL \
             SELECT m.type || ' ' || m.name || ': ' || m.sql FROM sqlite_master m WHERE m.type IN ('view', 'trigger')"
        );
        let texts =
            format!("SELECT m.name, COALESCE(m.sql, '') FROM sqlite_master m WHERE {tables}");
        async move {
            let mut lines: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await?;
            let tables: Vec<(String, String)> = sqlx::query_as(&texts).fetch_all(pool).await?;
            for (table, text) in tables {
                lines.extend(
                    check_constraints(&text)
                        .into_iter()
                        .map(|check| format!("check {table}: {check}")),
                );
            }
            Ok(Snapshot::new(lines))
        }
    }
}

/// One piece of a `CREATE TABLE` text.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// A keyword or bare name.
    Word(&'a str),
    /// A string literal or quoted name, quotes included.
    Quoted(&'a str),
    /// Any other character.
    Symbol(char),
}

/// The text's tokens, comments and spacing left out.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        match bytes[at] {
            b if b.is_ascii_whitespace() => at += 1,
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                at = text[at..].find('\n').map_or(bytes.len(), |n| at + n + 1);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = text[at + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| at + 2 + n + 2);
            }
            quote @ (b'\'' | b'"' | b'`' | b'[') => {
                let close = if quote == b'[' { b']' } else { quote };
                at += 1;
                while at < bytes.len() {
                    if bytes[at] == close {
                        // A doubled quote is one quote inside the literal.
                        if close != b']' && bytes.get(at + 1) == Some(&close) {
                            at += 2;
                            continue;
                        }
                        at += 1;
                        break;
                    }
                    at += 1;
                }
                out.push(Token::Quoted(&text[start..at]));
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 => {
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_' || bytes[at] >= 0x80)
                {
                    at += 1;
                }
                out.push(Token::Word(&text[start..at]));
            }
            _ => {
                let symbol = text[at..].chars().next().unwrap_or(' ');
                at += symbol.len_utf8();
                out.push(Token::Symbol(symbol));
            }
        }
    }
    out
}

/// The CHECK constraints of a `CREATE TABLE` text, each as
/// `CHECK (<expression>)`, prefixed by `CONSTRAINT <name>` when it has a
/// name, with one space between tokens (none inside parentheses, before
/// a comma or within an operator).
fn check_constraints(text: &str) -> Vec<String> {
    let tokens = tokens(text);
    let mut checks = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if !matches!(token, Token::Word(word) if word.eq_ignore_ascii_case("check")) {
            continue;
        }
        if tokens.get(index + 1) != Some(&Token::Symbol('(')) {
            continue;
        }
        let mut depth = 0usize;
        let mut end = index + 1;
        for (offset, token) in tokens[index + 1..].iter().enumerate() {
            match token {
                Token::Symbol('(') => depth += 1,
                Token::Symbol(')') => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = index + 1 + offset;
                break;
            }
        }
        let named = match index
            .checked_sub(2)
            .map(|at| (&tokens[at], &tokens[at + 1]))
        {
            Some((Token::Word(keyword), name)) if keyword.eq_ignore_ascii_case("constraint") => {
                Some(spell(std::slice::from_ref(name)))
            }
            _ => None,
        };
        let check = format!("CHECK {}", spell(&tokens[index + 1..=end]));
        checks.push(match named {
            Some(name) => format!("CONSTRAINT {name} {check}"),
            None => check,
        });
    }
    checks
}

/// Tokens back to text, spaced uniformly.
fn spell(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    let mut previous: Option<&Token<'_>> = None;
    for token in tokens {
        let operator = |t: &Token<'_>| matches!(t, Token::Symbol(c) if !"(),".contains(*c));
        let glued = matches!(previous, Some(Token::Symbol('(')) | None)
            || matches!(token, Token::Symbol(')' | ','))
            || (previous.is_some_and(operator) && operator(token));
        if !glued {
            out.push(' ');
        }
        match token {
            Token::Word(text) | Token::Quoted(text) => out.push_str(text),
            Token::Symbol(symbol) => out.push(*symbol),
        }
        previous = Some(token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check_constraints;

    #[test]
    fn checks_are_read_out_of_the_table_text_spaced_alike() {
        let text = "CREATE TABLE t (id INTEGER PRIMARY KEY, -- check (not this)\n\
                    age INT check(age>=0 AND age < 200), note TEXT DEFAULT 'check (no)', \
                    CONSTRAINT \"positive id\" CHECK ( id > (0) ))";
        assert_eq!(
            check_constraints(text),
            [
                "CHECK (age >= 0 AND age < 200)",
                "CONSTRAINT \"positive id\" CHECK (id > (0))"
            ]
        );
        assert_eq!(
            check_constraints("CREATE TABLE t (age INT CHECK (age >= 0))"),
            ["CHECK (age >= 0)"],
            "the same check spelled otherwise reads the same"
        );
        assert!(check_constraints("CREATE TABLE checks (checked INT)").is_empty());
    }
}
