//! The command line, as clap reads it. Every verb and option is documented
//! here: this text is what `migrate --help` and `migrate <verb> --help` show.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Shown at the end of `migrate --help`.
const AFTER_HELP: &str = "\
Configuration:
  migrate.toml in the current directory (or the file given with -c) sets the
  migrations directory, the history table, the file name template and the
  database URL. The database URL, first found wins:
    1. --database-url
    2. with -c FILE: the file's database_url, then DATABASE_URL
       without -c:   DATABASE_URL, then ./migrate.toml's database_url
  (a file named with -c is a deliberate choice: an exported DATABASE_URL
  must not redirect `migrate -c migrate.prod.toml`). URLs: sqlite://app.db,
  postgres://user@host/db, mysql://user@host/db (mariadb:// too).

Exit codes:
  0  success
  1  `migrate check` found differences (invalid directory, drift, pending
     revisions, revisions the directory does not know, lint findings)
  2  usage, configuration or migration-file error, or a target that cannot
     be resolved; nothing was changed
  3  database error: unreachable, a statement failed, the lock timed out
  4  the database's history does not match the migrations (a changed applied
     file, an applied revision this directory does not know, a revision left
     half-applied): nothing ran; look before you run again
  130 interrupted by Ctrl-C (SIGINT); 143 by SIGTERM

Ctrl-C or SIGTERM during a command cancels its statement on the server and
waits (up to a few seconds) for the rollback and the lock's release, then
says what was kept and what became of the interrupted revision. A second
Ctrl-C exits at once, without waiting.";

/// Alembic-style migrations for Rust applications: create revision files,
/// apply them, inspect a database, or print the SQL for a DBA.
#[derive(Debug, Parser)]
#[command(name = "migrate", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// The configuration file to read instead of ./migrate.toml (one per
    /// environment, e.g. `-c migrate.prod.toml`). Its database_url wins over
    /// DATABASE_URL.
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The database to work on; overrides the configuration file and
    /// DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Print only errors (and the data a read-only verb was asked for).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to colour the output. `auto` colours a terminal unless NO_COLOR
    /// is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the migrations directory and migrate.toml, and set up the
    /// build.rs line that rebuilds the crate when a migration is added.
    Init(InitArgs),

    /// Create a new revision file on top of the current head.
    Revision(RevisionArgs),

    /// Create a revision that joins two or more heads.
    Merge(MergeArgs),

    /// Apply revisions up to a target (default: every head).
    Upgrade(UpgradeArgs),

    /// Revert revisions down to a target (`-1`, `base`, a revision).
    Downgrade(DowngradeArgs),

    /// Record the database as being at a revision, without running its SQL.
    Stamp(StampArgs),

    /// Show the revisions the database is at.
    Current(CurrentArgs),

    /// List the revisions, newest first.
    History(HistoryArgs),

    /// Show the head revisions of the migrations directory.
    Heads(ListArgs),

    /// Show the branch points of the migrations directory.
    Branches(ListArgs),

    /// Show one revision: its header, file and SQL.
    Show(ShowArgs),

    /// Show every revision's state in the database: applied, pending,
    /// drifted (changed since applied) or half-applied.
    Status(JsonArgs),

    /// Exit 0 when the directory is valid, no applied file changed and
    /// nothing is pending; otherwise exit 1 and say what differs (for CI).
    /// With --schema: whether the migrations produce schema.sql.
    Check(CheckArgs),

    /// The declared schema: `migrate schema dump`.
    Schema(SchemaArgs),

    /// Re-record the checksums of applied files that changed, after you
    /// have reviewed the changes. Asks nothing; prints what it changed.
    Repair,
}

/// `migrate init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The migrations directory to create.
    #[arg(long, default_value = "migrations", value_name = "DIR")]
    pub dir: String,
}

/// `migrate revision`.
#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// What the revision does; it also names the file.
    #[arg(short, long)]
    pub message: String,

    /// The revision to build on (`base` for a new root, a revision id or
    /// prefix, `<label>@head`); default: the one head.
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,

    /// Build on a revision that is not a head, starting a branch (give it a
    /// --branch-label so the split is intended).
    #[arg(long)]
    pub splice: bool,

    /// A label for the branch this revision starts (repeatable).
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,

    /// A revision that must be applied first without being a parent
    /// (repeatable; ids, prefixes or labels).
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,

    /// Use this revision id instead of 12 random hex digits.
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,

    /// Write the SQL (up and down) that turns the schema the migrations
    /// produce into the declared one (`schema` in migrate.toml, default
    /// schema.sql); writes nothing when they are the same.
    #[arg(long)]
    pub autogenerate: bool,

    /// PostgreSQL/MySQL: an empty database on whose server scratch
    /// databases are created and dropped (default: MIGRATE_DEV_URL, then
    /// dev_database_url in migrate.toml).
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
}

/// `migrate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Instead of the database: check that the migrations produce exactly
    /// the declared schema (schema.sql); exit 1 with the differences.
    #[arg(long)]
    pub schema: bool,

    /// Instead of the database: on scratch databases, apply every revision
    /// from base, revert it, check that its down restores the schema, and
    /// apply it again; then `--schema` when schema.sql exists. Exit 1 with
    /// each revision whose up fails, whose down fails or does not restore
    /// the schema.
    #[arg(long, conflicts_with = "json")]
    pub replay: bool,

    /// With --schema or --replay on PostgreSQL/MySQL: the development database (see
    /// `migrate revision --dev-url`).
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,

    /// Instead of the database: review every revision's up SQL for
    /// dangerous operations (dropped data, long locks, renames, statements
    /// certain to fail); exit 1 on findings. No database is used.
    #[arg(long, conflicts_with = "schema")]
    pub lint: bool,

    /// With --lint: only warnings in revisions after REV are shown and fail
    /// the check (for CI: the revisions not yet released); errors fail it
    /// anywhere.
    #[arg(long, value_name = "REV", requires = "lint")]
    pub since: Option<String>,

    /// With --lint: the SQL dialect (default: the configured database URL's).
    #[arg(long, value_enum, requires = "lint")]
    pub dialect: Option<DialectArg>,
}

/// `migrate schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// What to do with the schema.
    #[command(subcommand)]
    pub command: SchemaCommand,
}

/// The verbs of `migrate schema`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Print the schema the migrations produce, as DDL (a start for
    /// schema.sql: `migrate schema dump > schema.sql`).
    Dump(DumpArgs),
}

/// `migrate schema dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// PostgreSQL/MySQL: the development database (see `migrate revision --dev-url`).
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
}

/// `migrate merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The heads to join (ids, prefixes, labels), or `heads` for all.
    #[arg(required = true, value_name = "REV")]
    pub revisions: Vec<String>,

    /// What the merge is; default "merge heads".
    #[arg(short, long)]
    pub message: Option<String>,

    /// A label for the merged branch (repeatable).
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,

    /// Use this revision id instead of 12 random hex digits.
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
}

/// `migrate upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// `head`, `heads`, `+N`, a revision id or prefix, `<rev>+N`,
    /// `<label>@head`; with --sql also a range `from:to` (e.g. `base:head`;
    /// `current:head` and `-1:head` start from the database's state).
    #[arg(
        default_value = "heads",
        allow_hyphen_values = true,
        value_name = "TARGET"
    )]
    pub target: String,

    /// Print the SQL script instead of running it. Without a range the
    /// script starts at the database's current state; with `from:to` no
    /// database is needed.
    #[arg(long)]
    pub sql: bool,

    /// The SQL dialect of the script, when no database URL says it.
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub dialect: Option<DialectArg>,
}

/// `migrate downgrade`.
#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// `-N`, `base`, a revision id or prefix, `<rev>-N`; with --sql also a
    /// range `from:to` (e.g. `head:base`; `current:base` starts from the
    /// database's state).
    #[arg(allow_hyphen_values = true, value_name = "TARGET")]
    pub target: String,

    /// Print the SQL script instead of running it (see `upgrade --sql`).
    #[arg(long)]
    pub sql: bool,

    /// The SQL dialect of the script, when no database URL says it.
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub dialect: Option<DialectArg>,
}

/// `migrate stamp`.
#[derive(Debug, Args)]
pub struct StampArgs {
    /// The revision to record (`head`, `base`, an id, ...).
    #[arg(allow_hyphen_values = true, value_name = "TARGET")]
    pub target: String,

    /// Forget every history row, known to this directory or not, and
    /// record the target, in one step under the lock (for a database whose
    /// history names revisions this directory does not know).
    #[arg(long)]
    pub purge: bool,
}

/// `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
    /// SQLite.
    Sqlite,
}

/// `--json` for the read-only verbs.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `migrate current`.
#[derive(Debug, Args)]
pub struct CurrentArgs {
    /// Show each revision's details.
    #[arg(short, long)]
    pub verbose: bool,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `migrate heads` and `migrate branches`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show each revision's details.
    #[arg(short, long)]
    pub verbose: bool,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `migrate history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only revisions in `from:to` (from exclusive, to inclusive; either
    /// side may be left out), e.g. `-r base:head`, `-r 1a2b:`. `current` is
    /// the database's state, and a start of `-N` / `+N` counts from it
    /// (`-r -3:` the last three applied and what is pending, `-r current:`
    /// what is pending); an end of `+N` / `-N` counts from the start.
    #[arg(short = 'r', long, allow_hyphen_values = true, value_name = "RANGE")]
    pub rev_range: Option<String>,

    /// Show each revision's details.
    #[arg(short, long)]
    pub verbose: bool,

    /// Mark the revisions the database is at (needs the database).
    #[arg(short = 'i', long)]
    pub indicate_current: bool,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `migrate show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A revision id or prefix, a label, `head`, `<label>@head`, `<rev>-N`.
    #[arg(allow_hyphen_values = true, value_name = "REV")]
    pub revision: String,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
