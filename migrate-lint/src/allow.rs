//! The opt-outs written in a migration file: `-- migrate:allow <rule>, ...`
//! in the header (the whole revision) or just before a statement (that
//! statement only).

use std::collections::HashSet;

use migrate_core::parse::is_lint_allow;

use crate::report::LintError;
use crate::rules::Rule;

/// The rules named by the `-- migrate:allow` comments in `text`, whose
/// first line is file line `first_line`. An unknown id is pushed to
/// `errors` with its line: a typo must not silently allow nothing.
pub(crate) fn allows_in(
    text: &str,
    first_line: usize,
    file: &str,
    errors: &mut Vec<LintError>,
) -> HashSet<Rule> {
    let mut rules = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let Some(ids) = allow_ids(line) else {
            continue;
        };
        let line = first_line + index;
        if ids.is_empty() {
            errors.push(LintError {
                file: file.to_string(),
                line,
                message: "`-- migrate:allow` names no rule: write `-- migrate:allow <rule>, ...`"
                    .to_string(),
            });
        }
        for id in ids {
            match Rule::from_id(id) {
                Some(rule) => {
                    rules.insert(rule);
                }
                None => errors.push(LintError {
                    file: file.to_string(),
                    line,
                    message: Rule::unknown_id_message(id),
                }),
            }
        }
    }
    rules
}

/// The ids of one line, when it is a `-- migrate:allow` comment.
fn allow_ids(line: &str) -> Option<Vec<&str>> {
    let after = line
        .trim()
        .strip_prefix("--")?
        .trim_start()
        .strip_prefix("migrate:")?;
    if !is_lint_allow(after) {
        return None;
    }
    let rest = after.trim_start().strip_prefix("allow")?;
    // A second `--` starts a remark (`-- migrate:allow drop-table -- why`).
    let rest = rest.split("--").next().unwrap_or_default();
    Some(
        rest.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|id| !id.is_empty())
            .collect(),
    )
}

/// The header of a migration file: every line before its `-- migrate:up`
/// marker.
pub(crate) fn header(source: &str) -> &str {
    let mut end = 0;
    for line in source.split_inclusive('\n') {
        let is_up = line
            .trim_end()
            .strip_prefix("-- migrate:")
            .is_some_and(|name| name.trim() == "up");
        if is_up {
            break;
        }
        end += line.len();
    }
    &source[..end]
}
