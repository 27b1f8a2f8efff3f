//! `schema.sql`: the declared schema. Only its statements' kinds and the
//! `-- renamed from:` notes are read here; what the statements mean is
//! left to the database, which runs them into a scratch schema whose
//! catalog is then read like any other.

use migrate_core::statements::split_statements;
use migrate_core::Dialect;

use crate::error::SchemaError;
use crate::renames::Renames;

/// One statement of the file, with the line its code starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredStatement {
    /// The 1-based line of the statement's first word.
    pub line: usize,
    /// The statement's text, without its `;`.
    pub sql: String,
}

/// The file, checked: supported statements only, and the renames it declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredSchema {
    /// The file as messages name it.
    pub file: String,
    /// The statements, in file order.
    pub statements: Vec<DeclaredStatement>,
    /// `-- renamed from: old` notes.
    pub renames: Renames,
}

/// The note that declares a rename, on the line of the renamed table or column.
const RENAME_NOTE: &str = "-- renamed from:";

/// Reads `schema.sql`. A statement that is not `CREATE TABLE`,
/// `CREATE [UNIQUE] INDEX` or (PostgreSQL) `CREATE TYPE ... AS ENUM` is an
/// error naming its line: the file declares a state, and an `ALTER` or an
/// `INSERT` in it would be a migration in disguise.
pub fn parse_declared(
    file: &str,
    text: &str,
    dialect: Dialect,
) -> Result<DeclaredSchema, SchemaError> {
    let mut statements = Vec::new();
    let mut renames = Renames::default();
    for sql in split_statements(text) {
        let offset = sql.as_ptr() as usize - text.as_ptr() as usize;
        let code = offset + code_start(sql);
        let line = line_of(text, code);
        let words = leading_words(&text[code..], 6);
        let kind = statement_kind(&words, dialect).ok_or_else(|| {
            let shown: String = text[code..].lines().next().unwrap_or_default().chars().take(60).collect();
            SchemaError::new(format!(
                "{file}:{line}: `{}` is not a statement a schema file holds",
                shown.trim()
            ))
            .hint(if dialect == Dialect::Postgres {
                "schema.sql declares the state: CREATE TABLE, CREATE [UNIQUE] INDEX and CREATE TYPE ... AS ENUM; \
                 data changes and ALTERs belong in a revision"
            } else {
                "schema.sql declares the state: CREATE TABLE and CREATE [UNIQUE] INDEX; \
                 data changes and ALTERs belong in a revision"
            })
        })?;
        if kind == Kind::Table {
            read_renames(file, text, offset, sql, dialect, &mut renames)?;
        }
        statements.push(DeclaredStatement {
            line,
            sql: sql.to_string(),
        });
    }
    Ok(DeclaredSchema {
        file: file.to_string(),
        statements,
        renames,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Table,
    Index,
    Enum,
}

fn statement_kind(words: &[String], dialect: Dialect) -> Option<Kind> {
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    if w(0) != "CREATE" {
        return None;
    }
    match (w(1), w(2)) {
        ("TABLE", _) => Some(Kind::Table),
        ("INDEX", _) | ("UNIQUE", "INDEX") => Some(Kind::Index),
        ("TYPE", _) if dialect == Dialect::Postgres && w(3) == "AS" && w(4) == "ENUM" => {
            Some(Kind::Enum)
        }
        _ => None,
    }
}

/// The offset of the first character that is neither whitespace nor comment.
fn code_start(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if sql[i..].starts_with("--") {
            i += sql[i..].find('\n').map_or(sql.len() - i, |n| n + 1);
        } else if sql[i..].starts_with("/*") {
            i += sql[i..].find("*/").map_or(sql.len() - i, |n| n + 2);
        } else {
            break;
        }
    }
    i
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The first `count` words, upper-cased (an identifier counts as a word).
fn leading_words(code: &str, count: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = code;
    while words.len() < count {
        rest = rest.trim_start();
        let Some((word, after)) = identifier(rest) else {
            break;
        };
        words.push(word.to_ascii_uppercase());
        rest = after;
    }
    words
}

/// An identifier at the start of `text` (bare, `"quoted"` or `` `quoted` ``):
/// its name and the rest of the text.
fn identifier(text: &str) -> Option<(String, &str)> {
    let first = text.chars().next()?;
    if first == '"' || first == '`' {
        let end = text[1..].find(first)? + 1;
        return Some((text[1..end].to_string(), &text[end + 1..]));
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_string(), &text[end..]))
}

/// A name as the database stores it: PostgreSQL folds bare names to lower case.
fn stored_name(raw: &str, was_quoted: bool, dialect: Dialect) -> String {
    if dialect == Dialect::Postgres && !was_quoted {
        raw.to_lowercase()
    } else {
        raw.to_string()
    }
}

/// The stored name of the identifier at the start of `text`, and the rest.
fn name_at(text: &str, dialect: Dialect) -> Option<(String, &str)> {
    let quoted = text.starts_with('"') || text.starts_with('`');
    let (raw, rest) = identifier(text)?;
    Some((stored_name(&raw, quoted, dialect), rest))
}

/// The table a `CREATE TABLE` statement creates.
fn created_table(code: &str, dialect: Dialect) -> Option<String> {
    let mut rest = code;
    for _ in 0..2 {
        rest = identifier(rest.trim_start())?.1;
    }
    let (mut name, mut after) = name_at(rest.trim_start(), dialect)?;
    if name.eq_ignore_ascii_case("IF") {
        // IF NOT EXISTS
        for _ in 0..2 {
            after = identifier(after.trim_start())?.1;
        }
        (name, after) = name_at(after.trim_start(), dialect)?;
    }
    // `schema.table`: the table is the last part.
    while let Some(dotted) = after.strip_prefix('.') {
        (name, after) = name_at(dotted, dialect)?;
    }
    Some(name)
}

/// Reads the `-- renamed from: old` notes of one `CREATE TABLE`: on the
/// statement's first line the table was renamed, on a column's line the
/// column.
fn read_renames(
    file: &str,
    text: &str,
    offset: usize,
    sql: &str,
    dialect: Dialect,
    renames: &mut Renames,
) -> Result<(), SchemaError> {
    let code = code_start(sql);
    let table = created_table(&sql[code..], dialect).ok_or_else(|| {
        SchemaError::new(format!(
            "{file}:{}: cannot read the table name of this CREATE TABLE",
            line_of(text, offset + code)
        ))
    })?;
    let first_line = line_of(text, offset + code);
    let mut position = 0;
    for line_text in sql.split('\n') {
        let line = line_of(text, offset + position);
        position += line_text.len() + 1;
        let lower = line_text.to_ascii_lowercase();
        let Some(at) = lower.find(RENAME_NOTE) else {
            continue;
        };
        let old_text = line_text[at + RENAME_NOTE.len()..].trim();
        let old = name_at(old_text, dialect)
            .map(|(name, _)| name)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                SchemaError::new(format!(
                    "{file}:{line}: `-- renamed from:` names no table or column"
                ))
                .hint("write the old name after the colon: `-- renamed from: username`")
            })?;
        if line == first_line {
            renames.tables.push((old, table.clone()));
            continue;
        }
        let code_part = line_text[..at]
            .trim_start()
            .trim_start_matches(['(', ','])
            .trim_start();
        let column = name_at(code_part, dialect)
            .map(|(name, _)| name)
            .filter(|name| !is_constraint_word(name))
            .ok_or_else(|| {
                SchemaError::new(format!(
                    "{file}:{line}: `-- renamed from: {old}` is not on a column's line"
                ))
                .hint("put the note at the end of the line that declares the renamed column (or on the CREATE TABLE line for a table)")
            })?;
        renames.columns.push((table.clone(), old, column));
    }
    Ok(())
}

fn is_constraint_word(name: &str) -> bool {
    [
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "FOREIGN",
        "CHECK",
        "EXCLUDE",
    ]
    .iter()
    .any(|w| name.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_renames_and_refusals_name_their_line() {
        let text = "-- the schema\nCREATE TABLE members ( -- renamed from: users\n  id INTEGER PRIMARY KEY,\n  login TEXT -- renamed from: username\n);\n\nCREATE UNIQUE INDEX members_login ON members (login);\n";
        let schema = parse_declared("schema.sql", text, Dialect::Postgres).unwrap();
        assert_eq!(schema.statements.len(), 2);
        assert_eq!(schema.statements[0].line, 2);
        assert_eq!(schema.statements[1].line, 7);
        assert_eq!(
            schema.renames.tables,
            vec![("users".into(), "members".into())]
        );
        assert_eq!(
            schema.renames.columns,
            vec![("members".into(), "username".into(), "login".into())]
        );

        let err = parse_declared(
            "schema.sql",
            "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n",
            Dialect::Sqlite,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "schema.sql:3: `INSERT INTO a VALUES (1);` is not a statement a schema file holds"
        );
        let err = parse_declared("s.sql", "CREATE TYPE mood AS ENUM ('a');", Dialect::Sqlite)
            .unwrap_err();
        assert!(err.message.starts_with("s.sql:1: "), "{}", err.message);
        assert!(parse_declared(
            "s.sql",
            "CREATE TYPE mood AS ENUM ('a');",
            Dialect::Postgres
        )
        .is_ok());
    }
}
