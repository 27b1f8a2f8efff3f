//! `migrate.toml`: where the migrations are, the history table, how new
//! files are named, the database. Precedence for the database URL:
//! `--database-url`; then, for a file named with `-c`, the file's
//! `database_url` before `DATABASE_URL`; without `-c`, `DATABASE_URL`
//! before `./migrate.toml`'s.

use std::path::{Path, PathBuf};
use std::time::Duration;

use migrate_core::config::{expand_variables, key_line, parse_config};
use migrate_core::{
    parse_migration, Dialect, HistoryTable, LoadError, ProjectConfig, TransactionModeSetting,
};
use migrate_lint::{parse_allow_list, Rule};
use migrate_runtime::TransactionMode;

use crate::database::DatabaseUrl;
use crate::error::{io_reason, CliError, CliResult};
use crate::naming::{FileTemplate, Utc, DEFAULT_TEMPLATE};

/// The file read when `-c` is not given.
pub const DEFAULT_FILE: &str = migrate_core::CONFIG_FILE;

/// The settings every command works with, resolved and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The migrations directory.
    pub migrations_dir: PathBuf,
    /// The directory as messages name it (`migrations`).
    pub migrations_shown: String,
    /// The history table, checked as an identifier.
    pub history_table: String,
    /// How new revision files are named.
    pub template: FileTemplate,
    /// The database, when one is configured; or why the configured one
    /// cannot be used (an unset `${VAR}`, a malformed URL). The error is
    /// kept, not raised at load, so that the commands that need no database
    /// (`revision`, `heads`, a script from a range) work without it.
    database_url: Result<Option<DatabaseUrl>, CliError>,
    /// The configuration file as messages name it: the `-c` file, or
    /// `migrate.toml`.
    pub file_shown: String,
    /// One transaction per revision, or one for the run.
    pub transaction_mode: TransactionMode,
    /// How long to wait for another run's lock.
    pub lock_timeout: Duration,
    /// The declared schema file (`schema = ...`, default `schema.sql`).
    pub schema_file: PathBuf,
    /// The schema file as messages name it.
    pub schema_shown: String,
    /// `dev_database_url` of the file, `${VAR}` expanded, with its source.
    pub file_dev_url: Option<(String, String)>,
    /// How long to wait for the database to answer the runner's own
    /// statements.
    pub io_timeout: Duration,
    /// `[lint] allow = [...]`: the rules `migrate check --lint` never
    /// reports; or why the list is wrong (kept, not raised at load, so that
    /// a typo there does not stop `upgrade`).
    pub lint_allow: Result<Vec<Rule>, CliError>,
    /// `dialect = "..."`: the SQL dialect where neither `--dialect` nor a
    /// database URL says it (the one `embed_migrations!` lints for).
    pub dialect: Option<Dialect>,
}

impl Config {
    /// Reads `-c <file>` (which must exist) or `./migrate.toml` (which may
    /// not), then picks the database URL (see the module documentation).
    pub fn load(explicit: Option<&Path>, url_flag: Option<&str>) -> CliResult<Config> {
        let (file, parsed) = match explicit {
            Some(path) => (Some(path.to_path_buf()), read(path)?),
            None => {
                let path = Path::new(DEFAULT_FILE);
                if path.exists() {
                    (Some(path.to_path_buf()), read(path)?)
                } else {
                    (None, (ProjectConfig::default(), String::new()))
                }
            }
        };
        let (parsed, text) = parsed;
        let shown_file = file
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| DEFAULT_FILE.to_string());
        let in_file = |message: String| CliError::usage(format!("{shown_file}: {message}"));

        // Paths in the file are relative to the file, so that `-c
        // deploy/prod.toml` means the same from any directory.
        let base = file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let migrations = parsed.migrations.as_deref().unwrap_or("migrations");
        let migrations_dir = base.join(migrations);
        let migrations_shown = migrations_dir.display().to_string();

        let dialect = parsed.dialect();
        let history_table = parsed
            .history_table
            .unwrap_or_else(|| migrate_runtime::DEFAULT_HISTORY_TABLE.to_string());
        HistoryTable::new(&history_table).map_err(in_file)?;

        let template =
            FileTemplate::new(parsed.file_template.as_deref().unwrap_or(DEFAULT_TEMPLATE))
                .map_err(in_file)?;
        check_template_names(&template, &migrations_shown).map_err(in_file)?;

        // `--database-url` wins. Then a file named with `-c` wins over
        // DATABASE_URL: naming `-c migrate.prod.toml` is the more specific
        // choice, and a DATABASE_URL exported for development must not send
        // a production command to the development database. Without `-c`,
        // DATABASE_URL wins over ./migrate.toml (the usual twelve-factor
        // override of a checked-in default).
        let env_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .map(|url| (url, "DATABASE_URL".to_string()));
        // `${VAR}` keeps a secret out of a checked-in file; expanded only
        // here, since the macro never reads the URL.
        let file_url = parsed.database_url.map(|url| {
            (
                expand_variables(&url, "database_url", |name| std::env::var(name).ok())
                    .map_err(in_file),
                format!("database_url in {shown_file}"),
            )
        });
        let env_url = env_url.map(|(url, source)| (Ok(url), source));
        let chosen = match (url_flag, explicit.is_some()) {
            (Some(url), _) => Some((Ok(url.to_string()), "--database-url".to_string())),
            (None, true) => file_url.or(env_url),
            (None, false) => env_url.or(file_url),
        };
        let database_url = match chosen {
            Some((url, source)) => url.and_then(|url| DatabaseUrl::parse(&url, &source).map(Some)),
            None => Ok(None),
        };

        let schema_file = base.join(parsed.schema.as_deref().unwrap_or("schema.sql"));
        let schema_shown = schema_file.display().to_string();
        let file_dev_url = match parsed.dev_database_url {
            Some(url) => Some((
                expand_variables(&url, "dev_database_url", |name| std::env::var(name).ok())
                    .map_err(in_file)?,
                format!("dev_database_url in {shown_file}"),
            )),
            None => None,
        };

        let lint_allow = parse_allow_list(parsed.lint.as_ref().map_or(&[][..], |lint| &lint.allow))
            .map_err(|message| {
                let at = key_line(&text, "allow").map_or(String::new(), |line| format!(":{line}"));
                CliError::usage(format!("{shown_file}{at}: [lint] allow: {message}"))
            });

        Ok(Config {
            lint_allow,
            dialect,
            schema_file,
            schema_shown,
            file_dev_url,
            migrations_dir,
            migrations_shown,
            history_table,
            template,
            database_url,
            file_shown: shown_file,
            transaction_mode: match parsed.transaction_mode {
                Some(TransactionModeSetting::Single) => TransactionMode::Single,
                Some(TransactionModeSetting::PerRevision) | None => TransactionMode::PerRevision,
            },
            lock_timeout: parsed
                .lock_timeout
                .map_or(migrate_runtime::DEFAULT_LOCK_TIMEOUT, Duration::from_secs),
            io_timeout: parsed
                .io_timeout
                .map_or(migrate_runtime::DEFAULT_IO_TIMEOUT, Duration::from_secs),
        })
    }

    /// The development server for scratch databases: `--dev-url`, then
    /// `MIGRATE_DEV_URL`, then the file's `dev_database_url`.
    pub fn dev_database_url(&self, flag: Option<&str>) -> CliResult<Option<DatabaseUrl>> {
        let env = std::env::var("MIGRATE_DEV_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .map(|url| (url, "MIGRATE_DEV_URL".to_string()));
        let chosen = match flag {
            Some(url) => Some((url.to_string(), "--dev-url".to_string())),
            None => env.or_else(|| self.file_dev_url.clone()),
        };
        chosen
            .map(|(url, source)| DatabaseUrl::parse(&url, &source))
            .transpose()
    }

    /// The database, or the one-line error that says how to configure it.
    pub fn require_database(&self) -> CliResult<&DatabaseUrl> {
        self.configured_database()?.ok_or_else(|| {
            CliError::usage("no database configured").hint(format!(
                "set `database_url` in {}, the DATABASE_URL variable, or --database-url",
                self.file_shown
            ))
        })
    }

    /// The database when one is configured, `None` when none is, or the
    /// error that makes the configured one unusable.
    pub fn configured_database(&self) -> CliResult<Option<&DatabaseUrl>> {
        match &self.database_url {
            Ok(url) => Ok(url.as_ref()),
            Err(err) => Err(err.clone()),
        }
    }
}

fn read(path: &Path) -> CliResult<(ProjectConfig, String)> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        let hint = if err.kind() == std::io::ErrorKind::NotFound {
            "`migrate init` creates migrate.toml; -c names another file"
        } else {
            "check that the file is readable"
        };
        CliError::usage(format!(
            "cannot read the configuration file {}: {}",
            path.display(),
            io_reason(&err)
        ))
        .hint(hint)
    })?;
    let parsed = parse_config(&path.display().to_string(), &text).map_err(CliError::usage)?;
    Ok((parsed, text))
}

/// The rule that a file name must carry its revision id belongs to
/// migrate-core's parser: render a sample name and let the parser judge it,
/// so a template the loader would reject is refused now, not after the
/// first `migrate revision`.
fn check_template_names(template: &FileTemplate, dir: &str) -> Result<(), String> {
    let id = "0123456789ab";
    let name = template.render(id, "sample", &Utc::now());
    let file = format!("{dir}/{name}");
    let sample = format!("-- revision: {id}\n-- migrate:up\n");
    match parse_migration(&file, sample.as_bytes()) {
        Ok(_) => Ok(()),
        Err(errors) if errors.iter().any(|e| matches!(e, LoadError::FileNameMismatch { .. })) => Err(format!(
            "file_template `{}` makes names like `{name}`, in which the revision id is not a part of its own: \
             surround `<rev>` with `_` (e.g. `%Y%m%d_%H%M_<rev>_<slug>`)",
            template.as_str()
        )),
        Err(errors) => Err(errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

/// The `migrate.toml` that `migrate init` writes.
pub fn initial_file(migrations: &str, database_url: Option<&str>) -> String {
    let url_line = match database_url {
        Some(url) => format!("database_url = {}", toml_string(url)),
        None => "# database_url = \"sqlite://app.db\"".to_string(),
    };
    format!(
        "# Settings for the `migrate` command-line tool. Paths are relative to this file.\n\
         # Another environment gets its own file: `migrate -c migrate.prod.toml ...`.\n\
         \n\
         # The migrations directory: the path given to embed_migrations!.\n\
         migrations = {}\n\
         \n\
         # The table that records applied revisions (`name` or `schema.name`).\n\
         history_table = \"migrate_history\"\n\
         \n\
         # How `migrate revision` names files: <rev> (required) and <slug> (from -m),\n\
         # with optional UTC date parts %Y %m %d %H %M %S, e.g. \"%Y%m%d_%H%M_<rev>_<slug>\".\n\
         file_template = \"<rev>_<slug>\"\n\
         \n\
         # The database. --database-url overrides it; so does DATABASE_URL, unless\n\
         # this file is named with -c (then the file wins over DATABASE_URL).\n\
         # sqlite://app.db, postgres://user@host/db, mysql://user@host/db\n\
         {url_line}\n\
         \n\
         # \"per-revision\" (default: progress survives a later failure) or \"single\"\n\
         # (one transaction for the whole run: all or nothing).\n\
         # transaction_mode = \"per-revision\"\n\
         \n\
         # Seconds to wait for another run's lock.\n\
         # lock_timeout = 60\n\
         \n\
         # The declared schema, for `migrate revision --autogenerate`, `migrate check\n\
         # --schema` and `migrate schema dump`.\n\
         # schema = \"schema.sql\"\n\
         \n\
         # PostgreSQL/MySQL: an empty database on whose server those commands create\n\
         # (and drop) their scratch databases. SQLite needs none.\n\
         # dev_database_url = \"postgres://localhost/scratch\"\n\
         \n\
         # Seconds to wait for the database to answer the runner's own statements\n\
         # (history, lock; not a revision's SQL) before giving up, as in a network partition.\n\
         # io_timeout = 30\n\
         \n\
         # `migrate check --lint`: rules never reported in this project (the README\n\
         # lists them; `-- migrate:allow <rule>` in a file allows one statement).\n\
         # [lint]\n\
         # allow = [\"rename-column\"]\n",
        toml_string(migrations)
    )
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
