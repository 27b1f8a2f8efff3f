//! The migration sets measured, written for both tools, and fresh
//! databases to apply them to.

use std::path::{Path, PathBuf};

use migrate_core::parse_migration;
use migrate_runtime::{embed_migrations, Runner};
use sqlx::migrate::Migrator;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};

static EXAMPLE: Runner = embed_migrations!("../migrations");

/// One set of migrations: our runner, and the same SQL as sqlx migration
/// files in a directory.
pub struct Fixture {
    pub runner: Runner,
    pub sqlx_dir: PathBuf,
    /// Our migration files' text, by file name, for the CLI.
    files: Vec<(String, String)>,
}

impl Fixture {
    /// The repository's example migrations.
    pub fn example(dir: &Path) -> std::io::Result<Self> {
        let runner = EXAMPLE.clone();
        let sqlx_dir =
            write_sqlx_dir(dir, runner.revisions().iter().map(|r| r.up_sql.to_string()))?;
        Ok(Fixture {
            runner,
            sqlx_dir,
            files: Vec::new(),
        })
    }

    /// `count` migrations in a chain that change nothing (`SELECT 1`): a
    /// history of that length, cheap to record, for the no-op boot.
    pub fn history(dir: &Path, count: usize) -> Result<Self, Box<dyn std::error::Error>> {
        Self::generated(dir, count, |_| {
            ("SELECT 1;".to_string(), "SELECT 1;".to_string())
        })
    }

    /// The runner of [`Fixture::history`] (or of the example for `None`),
    /// without writing sqlx's files: for a child process.
    pub fn history_runner(count: Option<usize>) -> Result<Runner, Box<dyn std::error::Error>> {
        let Some(count) = count else {
            return Ok(EXAMPLE.clone());
        };
        let (revisions, _) = generate(count, |_| {
            ("SELECT 1;".to_string(), "SELECT 1;".to_string())
        })?;
        Ok(embedded_like(revisions))
    }

    /// Writes our migration files and a `migrate.toml` naming `url` into
    /// `dir`, for the `migrate` CLI.
    pub fn write_project(&self, dir: &Path, url: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("migrations"))?;
        for (name, text) in &self.files {
            std::fs::write(dir.join("migrations").join(name), text)?;
        }
        std::fs::write(
            dir.join("migrate.toml"),
            format!("database_url = \"{url}\"\nmigrations = \"migrations\"\n"),
        )
    }

    /// `count` small migrations in a chain, each creating a table.
    pub fn tables(dir: &Path, count: usize) -> Result<Self, Box<dyn std::error::Error>> {
        Self::generated(dir, count, |i| {
            (
                format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, name TEXT);"),
                format!("DROP TABLE t_{i};"),
            )
        })
    }

    /// `count` data migrations in a chain: the first creates a table, each
    /// other inserts one row into it.
    pub fn rows(dir: &Path, count: usize) -> Result<Self, Box<dyn std::error::Error>> {
        Self::generated(dir, count, |i| match i {
            0 => (
                "CREATE TABLE counter (n INTEGER);".to_string(),
                "DROP TABLE counter;".to_string(),
            ),
            _ => (
                format!("INSERT INTO counter (n) VALUES ({i});"),
                format!("DELETE FROM counter WHERE n = {i};"),
            ),
        })
    }

    fn generated(
        dir: &Path,
        count: usize,
        sql: impl Fn(usize) -> (String, String),
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let (revisions, files) = generate(count, sql)?;
        let sqlx_dir = write_sqlx_dir(dir, revisions.iter().map(|r| r.up_sql.to_string()))?;
        Ok(Fixture {
            runner: embedded_like(revisions),
            sqlx_dir,
            files,
        })
    }

    /// sqlx's `Migrator` over the same SQL.
    pub async fn sqlx_migrator(&self) -> Result<Migrator, sqlx::migrate::MigrateError> {
        Migrator::new(self.sqlx_dir.as_path()).await
    }
}

/// `count` revisions in a chain, and their files' names and text.
#[allow(clippy::type_complexity)]
fn generate(
    count: usize,
    sql: impl Fn(usize) -> (String, String),
) -> Result<(Vec<migrate_core::Revision>, Vec<(String, String)>), Box<dyn std::error::Error>> {
    let mut revisions = Vec::with_capacity(count);
    let mut files = Vec::with_capacity(count);
    let mut previous = String::new();
    for i in 0..count {
        let id = format!("{:012x}", 0xb00000 + i);
        let (up, down) = sql(i);
        let text = format!(
            "-- revision: {id}\n-- revises: {previous}\n-- message: step {i}\n\n\
             -- migrate:up\n{up}\n\n-- migrate:down\n{down}\n"
        );
        let name = format!("{id}_step_{i}.sql");
        let revision = parse_migration(&format!("migrations/{name}"), text.as_bytes())
            .map_err(|errors| format!("{errors:?}"))?;
        revisions.push(revision);
        files.push((name, text));
        previous = id;
    }
    Ok((revisions, files))
}

/// A runner as `embed_migrations!` makes it: the "everything applied"
/// digest computed before the process boots, not during its boot.
fn embedded_like(revisions: Vec<migrate_core::Revision>) -> Runner {
    let digest = migrate_core::digest::applied_digest(&revisions);
    Runner::new(revisions).with_applied_digest(digest)
}

fn write_sqlx_dir(dir: &Path, ups: impl Iterator<Item = String>) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    for (i, up) in ups.enumerate() {
        std::fs::write(dir.join(format!("{}_m{i}.sql", i + 1)), up)?;
    }
    Ok(dir.to_path_buf())
}

/// A directory of its own under the system's temp dir.
pub fn scratch_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("migrate-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub fn postgres_url() -> String {
    std::env::var("BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

pub async fn reachable(url: &str) -> bool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .is_ok()
}

/// The server databases this run made (server URL, name, PostgreSQL?),
/// dropped by [`drop_created`] at its end.
static CREATED: std::sync::Mutex<Vec<(String, String, bool)>> = std::sync::Mutex::new(Vec::new());

fn created(url: &str, name: &str, postgres: bool) {
    let mut created = CREATED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let entry = (url.to_string(), name.to_string(), postgres);
    if !created.contains(&entry) {
        created.push(entry);
    }
}

/// Drops every server database the run made, so that a run leaves the
/// servers as it found them; a failure is reported, not fatal.
pub async fn drop_created() {
    let created = std::mem::take(&mut *CREATED.lock().unwrap_or_else(|p| p.into_inner()));
    for (url, name, postgres) in created {
        let sql = drop_statement(&name, postgres);
        let dropped = if postgres {
            drop_database::<sqlx::Postgres>(&url, &sql).await
        } else {
            drop_database::<sqlx::MySql>(&url, &sql).await
        };
        if let Err(err) = dropped {
            eprintln!("dropping bench database {name}: {err}");
        }
    }
}

/// Drops database `name`; on PostgreSQL, whoever is still connected.
fn drop_statement(name: &str, postgres: bool) -> String {
    if postgres {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    } else {
        format!("DROP DATABASE IF EXISTS {name}")
    }
}

async fn drop_database<DB: sqlx::Database>(url: &str, sql: &str) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let admin = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let result = (&admin).execute(sqlx::raw_sql(sql)).await.map(drop);
    admin.close().await;
    result
}

/// A new, empty database named `name` (dropped first if left over), and a
/// pool on it. `url` names any database on the server.
pub async fn fresh_postgres(url: &str, name: &str) -> Result<PgPool, sqlx::Error> {
    created(url, name, true);
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
    admin.execute(drop_statement(name, true).as_str()).await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    admin.close().await;
    connect_postgres(&with_database(url, name)).await
}

pub async fn connect_postgres(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(4).connect(url).await
}

/// `url` with its database replaced by `name`, keeping any query string.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

pub fn mysql_url() -> String {
    std::env::var("BENCH_MYSQL_URL")
        .or_else(|_| std::env::var("TEST_MYSQL_URL"))
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

pub async fn mysql_reachable(url: &str) -> bool {
    MySqlPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .is_ok()
}

/// A new, empty MySQL database named `name`; its URL.
pub async fn fresh_mysql(url: &str, name: &str) -> Result<String, sqlx::Error> {
    created(url, name, false);
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    admin.execute(drop_statement(name, false).as_str()).await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    admin.close().await;
    Ok(with_database(url, name))
}

/// A new, empty PostgreSQL database named `name`; its URL.
pub async fn fresh_postgres_url(url: &str, name: &str) -> Result<String, sqlx::Error> {
    fresh_postgres(url, name).await?.close().await;
    Ok(with_database(url, name))
}
