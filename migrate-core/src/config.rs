//! `migrate.toml`, read by the `migrate` CLI and by `embed_migrations!`
//! with this one reader, so that the application's embedded runner and the
//! command line agree on the history table, the transaction mode and the
//! lock and I/O timeouts by construction.

use serde::Deserialize;

use crate::dialect::{Dialect, HistoryTable};

/// The file both readers look for: beside the crate's `Cargo.toml` for
/// the macro, in the working directory (or `-c`) for the CLI.
pub const CONFIG_FILE: &str = "migrate.toml";

/// The history table unless configured otherwise.
pub const DEFAULT_HISTORY_TABLE: &str = "migrate_history";

/// Seconds to wait for another run's lock unless configured otherwise.
pub const DEFAULT_LOCK_TIMEOUT_SECS: u64 = 60;

/// Seconds to wait for the database to answer one of the runner's own
/// statements (not a revision's SQL) unless configured otherwise.
pub const DEFAULT_IO_TIMEOUT_SECS: u64 = 30;

/// The settings of a `migrate.toml`, as written and checked. Unknown keys
/// are refused: a typo such as `history_tabel` must not silently fall back
/// to the default table.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// The migrations directory, relative to the file.
    pub migrations: Option<String>,
    /// The history table (`name` or `schema.name`), checked as an identifier.
    pub history_table: Option<String>,
    /// How `migrate revision` names files (checked by the CLI).
    pub file_template: Option<String>,
    /// The database, for the CLI; `${VAR}` is expanded by
    /// [`expand_variables`]. The macro never reads it.
    pub database_url: Option<String>,
    /// One transaction per revision, or one for the run.
    pub transaction_mode: Option<TransactionModeSetting>,
    /// Seconds to wait for another run's lock.
    pub lock_timeout: Option<u64>,
    /// The declared schema (`schema.sql`), relative to the file, for
    /// `migrate revision --autogenerate`, `check --schema`, `schema dump`.
    pub schema: Option<String>,
    /// PostgreSQL/MySQL: the empty database on whose server the CLI
    /// creates its scratch databases; `${VAR}` is expanded like
    /// `database_url`. The macro never reads it.
    pub dev_database_url: Option<String>,
    /// Seconds to wait for the database to answer one of the runner's own
    /// statements (history reads and writes, locking) before giving up.
    pub io_timeout: Option<u64>,
    /// The database's SQL dialect (`postgres`, `mysql`, `sqlite`), checked
    /// by [`parse_config`]: the CLI's fallback when neither `--dialect` nor
    /// a database URL says it, and the dialect `embed_migrations!` lints
    /// for at compile time (with migrate-runtime's `lint` feature). Read it
    /// with [`ProjectConfig::dialect`].
    pub dialect: Option<String>,
    /// `[lint]`: the project's settings for `migrate check --lint`.
    pub lint: Option<LintSettings>,
}

impl ProjectConfig {
    /// The `dialect` setting, checked when the file was parsed.
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect.as_deref().and_then(Dialect::from_name)
    }
}

/// The `[lint]` table of `migrate.toml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSettings {
    /// Rule ids allowed in every revision of the project (`allow =
    /// ["rename-column"]`); checked against the known rules by the lint.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// `transaction_mode` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionModeSetting {
    /// `"per-revision"`, the default.
    PerRevision,
    /// `"single"`.
    Single,
}

/// Parses and checks the text of a configuration file; `shown` names it in
/// messages, which read `<shown>:<line>: <problem>`.
pub fn parse_config(shown: &str, text: &str) -> Result<ProjectConfig, String> {
    let config: ProjectConfig = toml::from_str(text).map_err(|err| {
        // toml's own text is a snippet of the file under a line naming the
        // position; one line with the position and the message reads better.
        let message = err.message().trim().to_string();
        match err.span() {
            Some(span) => format!("{shown}:{}: {message}", line_of(text, span.start)),
            None => format!("{shown}: {message}"),
        }
    })?;
    if let Some(name) = &config.dialect {
        if Dialect::from_name(name).is_none() {
            let message = Dialect::unknown_name_message(name);
            return Err(match key_line(text, "dialect") {
                Some(line) => format!("{shown}:{line}: {message}"),
                None => format!("{shown}: {message}"),
            });
        }
    }
    if let Some(table) = &config.history_table {
        HistoryTable::new(table).map_err(|message| match key_line(text, "history_table") {
            Some(line) => format!("{shown}:{line}: {message}"),
            None => format!("{shown}: {message}"),
        })?;
    }
    Ok(config)
}

/// `${NAME}` replaced by the environment variable's value and `$$` by `$`;
/// `key` names the setting in the error for an unset variable.
pub fn expand_variables(
    value: &str,
    key: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err(format!(
                    "`{key}` has `${{` without a closing `}}`; write `${{NAME}}` for a variable, `$$` for a `$`"
                ));
            };
            let name = &inner[..end];
            let value = lookup(name).ok_or_else(|| {
                format!("`{key}` uses the environment variable `{name}`, which is not set; set it, or write the value in the file")
            })?;
            out.push_str(&value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line on which `key = ...` is set (the first such line), for messages
/// that point at a setting.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_checked_with_their_line() {
        let config = parse_config(
            "migrate.toml",
            "history_table = \"schema_migrations\"\ntransaction_mode = \"single\"\nlock_timeout = 5\nio_timeout = 9\n",
        )
        .unwrap();
        assert_eq!(config.history_table.as_deref(), Some("schema_migrations"));
        assert_eq!(
            config.transaction_mode,
            Some(TransactionModeSetting::Single)
        );
        assert_eq!(config.lock_timeout, Some(5));
        assert_eq!(config.io_timeout, Some(9));

        let err = parse_config("migrate.toml", "\nhistory_tabel = \"x\"\n").unwrap_err();
        assert!(
            err.starts_with("migrate.toml:2: unknown field `history_tabel`"),
            "{err}"
        );
        let err =
            parse_config("m.toml", "lock_timeout = 1\nhistory_table = \"a b\"\n").unwrap_err();
        assert!(err.starts_with("m.toml:2: "), "{err}");
        let err = parse_config("m.toml", "transaction_mode = \"all\"\n").unwrap_err();
        assert!(err.starts_with("m.toml:1: unknown variant `all`"), "{err}");
    }

    #[test]
    fn the_dialect_is_read_and_an_unknown_one_named_with_its_line() {
        let config = parse_config("migrate.toml", "dialect = \"postgres\"\n").unwrap();
        assert_eq!(config.dialect(), Some(Dialect::Postgres));
        let config = parse_config("migrate.toml", "dialect = \"mariadb\"\n").unwrap();
        assert_eq!(config.dialect(), Some(Dialect::MySql));
        assert_eq!(parse_config("migrate.toml", "").unwrap().dialect(), None);

        let err =
            parse_config("migrate.toml", "lock_timeout = 1\ndialect = \"postgre\"\n").unwrap_err();
        assert_eq!(
            err,
            "migrate.toml:2: unknown dialect `postgre`: write \"postgres\", \"mysql\" (or \"mariadb\") or \"sqlite\""
        );
    }

    #[test]
    fn variables_are_expanded_and_an_unset_one_is_named() {
        let env = |name: &str| (name == "PW").then(|| "s3cret".to_string());
        assert_eq!(
            expand_variables("postgres://u:${PW}@h/db?x=$$1&y=$z", "database_url", env).unwrap(),
            "postgres://u:s3cret@h/db?x=$1&y=$z"
        );
        let err = expand_variables("${PROD_DATABASE_URL}", "database_url", env).unwrap_err();
        assert_eq!(
            err,
            "`database_url` uses the environment variable `PROD_DATABASE_URL`, which is not set; \
             set it, or write the value in the file"
        );
        assert!(expand_variables("${OPEN", "database_url", env).is_err());
    }
}
