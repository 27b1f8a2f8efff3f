//! A review of migration SQL for the operations that hurt a live
//! database: data loss, long locks, statements that break the running
//! application, and statements certain to fail. Pure: no database, so the
//! CLI (`migrate check --lint`) runs it anywhere.
//!
//! Each statement of a revision's up and down sections (split as the
//! runtime splits them, per dialect) is parsed with `sqlparser` for its
//! dialect and checked against the [`Rule`]s. A statement the parser
//! cannot read is reported as [`NotChecked`]: neither an error nor safe.
//! The down is checked knowing what the up made: undoing the up (dropping
//! the table it created, the column it added) fires nothing.
//!
//! This crate is apart from `migrate-core` so that an application, which
//! compiles `migrate-core` through the macro and the runtime, does not
//! compile a SQL parser.

mod allow;
mod check;
mod report;
mod rules;

use std::collections::HashSet;

use migrate_core::statements::statement_spans;
use migrate_core::{Dialect, Revision};
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

pub use report::{Finding, LintError, NotChecked, Report};
pub use rules::{Rule, Severity};

use check::{check_statement, Scope};

/// The rules of a project-wide list (`[lint] allow = [...]` in
/// migrate.toml); the error is the message for the first unknown id.
pub fn parse_allow_list(ids: &[String]) -> Result<Vec<Rule>, String> {
    ids.iter()
        .map(|id| Rule::from_id(id).ok_or_else(|| Rule::unknown_id_message(id)))
        .collect()
}

/// Lints `revision`'s up and down sections as `dialect` runs them.
/// `source` is the file's text (its header holds the revision-wide
/// opt-outs); rules in `project_allow` never fire. An unknown rule in a
/// `-- migrate:allow` comment is an error naming its line.
///
/// The down section is read after the up, knowing what the up made: a
/// down that drops the table its up created, drops the column its up
/// added, or renames back what its up renamed is how a revision is undone,
/// and fires nothing. Anything else it does to what was there before the
/// up (dropping a column the up did not add, say) is a finding whose
/// message starts with `down section:`: a rollback runs on the live
/// database too.
pub fn lint_revision(
    revision: &Revision,
    source: &str,
    dialect: Dialect,
    project_allow: &[Rule],
) -> Result<Report, Vec<LintError>> {
    let file = revision.file.as_ref();
    let mut errors = Vec::new();
    let mut allowed: HashSet<Rule> = allow::allows_in(allow::header(source), 1, file, &mut errors);
    allowed.extend(project_allow.iter().copied());

    let mut scope = Scope {
        dialect,
        transactional: revision.transactional,
        created: HashSet::new(),
        column_changes: HashSet::new(),
        renamed_tables: HashSet::new(),
    };
    let mut report = Report::default();
    let mut section = Section {
        file,
        allowed: &allowed,
        scope: &mut scope,
        report: &mut report,
        errors: &mut errors,
    };
    section.lint(&revision.up_sql, revision.up_line, "");
    if let Some(down) = &revision.down_sql {
        section.lint(down, revision.down_line, "down section: ");
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(errors)
    }
}

/// What the sections of one revision share while they are linted.
struct Section<'a> {
    file: &'a str,
    /// The rules the header and the project allow.
    allowed: &'a HashSet<Rule>,
    scope: &'a mut Scope,
    report: &'a mut Report,
    errors: &'a mut Vec<LintError>,
}

impl Section<'_> {
    /// Lints the statements of `sql`, which starts (its first non-blank
    /// character) on file line `first_line`; each finding's message starts
    /// with `prefix`.
    fn lint(&mut self, sql: &str, first_line: usize, prefix: &str) {
        let dialect = self.scope.dialect;
        let leading = sql.len() - sql.trim_start().len();
        let line_at = |offset: usize| first_line + sql[leading..offset].matches('\n').count();
        let mut previous_end = leading;
        for span in statement_spans(sql, dialect) {
            // A span starts with the comments above its statement: those,
            // and any after the previous `;`, are where its opt-outs are
            // written.
            let code_start = span.start + comments_len(&sql[span.clone()]);
            let before = &sql[previous_end..code_start];
            let here = allow::allows_in(before, line_at(previous_end), self.file, self.errors);
            previous_end = span.end;
            let text = &sql[span.clone()];
            let line = line_at(code_start);
            let mut found = Vec::new();
            if dialect == Dialect::Postgres
                && self.scope.transactional
                && is_concurrent_build(&sql[code_start..span.end])
            {
                found.push((
                    Rule::ConcurrentlyInTransaction,
                    "runs CONCURRENTLY in a revision that runs in a transaction".to_string(),
                ));
            }
            match parse(text, dialect) {
                Ok(statements) => {
                    for statement in &statements {
                        found.extend(check_statement(statement, self.scope));
                    }
                }
                Err(reason) => self.report.not_checked.push(NotChecked {
                    file: self.file.to_string(),
                    line,
                    reason,
                }),
            }
            for (rule, message) in found {
                if !self.allowed.contains(&rule) && !here.contains(&rule) {
                    self.report.findings.push(Finding {
                        file: self.file.to_string(),
                        line,
                        rule,
                        message: format!("{prefix}{message}"),
                    });
                }
            }
        }
    }
}

/// The length of the whitespace and comments `text` starts with.
fn comments_len(text: &str) -> usize {
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        rest = if trimmed.starts_with("--") {
            trimmed.find('\n').map_or("", |end| &trimmed[end..])
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            comment.find("*/").map_or("", |end| &comment[end + 2..])
        } else {
            return text.len() - trimmed.len();
        };
    }
}

fn parse(text: &str, dialect: Dialect) -> Result<Vec<sqlparser::ast::Statement>, String> {
    let parsed = match dialect {
        Dialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, text),
        Dialect::MySql => Parser::parse_sql(&MySqlDialect {}, text),
        Dialect::Sqlite => Parser::parse_sql(&SQLiteDialect {}, text),
    };
    parsed.map_err(|err| err.to_string())
}

/// Whether a statement is one PostgreSQL refuses inside a transaction
/// block because of CONCURRENTLY: `CREATE [UNIQUE] INDEX CONCURRENTLY`,
/// `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY`. Read from the
/// leading words, so that it is found even where the parser fails.
fn is_concurrent_build(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .take(4)
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        words.as_slice(),
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
            | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
            | ["DROP", "INDEX", "CONCURRENTLY", ..]
            | ["REINDEX", _, "CONCURRENTLY", ..]
    )
}
