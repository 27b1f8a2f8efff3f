//! Scratch databases: where the migrations and `schema.sql` are run so
//! that the database itself says what they produce. SQLite needs none (an
//! in-memory database per side); on PostgreSQL and MySQL they are created
//! on the server of the development URL, with names no one else uses, and
//! dropped afterwards by [`ScratchServer::drop_all`], which the caller
//! runs on every path (errors and Ctrl-C included).

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use migrate_core::Dialect;
use sqlx::{Connection, Executor, MySqlConnection, PgConnection};

use crate::declared::DeclaredSchema;
use crate::error::{database, SchemaError};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The server scratch databases are made on.
#[derive(Debug)]
pub struct ScratchServer {
    dialect: Dialect,
    /// The development URL, as sqlx reads it (`mysql:` for MariaDB).
    url: String,
    /// The URL as messages show it (no password).
    shown: String,
    created: Mutex<Vec<String>>,
}

impl ScratchServer {
    /// Connects to the development database, which must be empty: the
    /// tool never runs anything in a database that holds tables, since a
    /// development URL pointing at a real database is a mistake to stop.
    pub async fn open(
        dialect: Dialect,
        url: &str,
        shown: &str,
    ) -> Result<ScratchServer, SchemaError> {
        let server = ScratchServer {
            dialect,
            url: url.to_string(),
            shown: shown.to_string(),
            created: Mutex::new(Vec::new()),
        };
        let tables: Vec<String> = match dialect {
            Dialect::Postgres => {
                let mut conn = server.connect_pg(url).await?;
                sqlx::query_scalar(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
                     AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1 LIMIT 5",
                )
                .fetch_all(&mut conn)
                .await
                .map_err(|err| database("cannot read the development database", &err))?
            }
            Dialect::MySql => {
                let mut conn = server.connect_mysql(url).await?;
                sqlx::query_scalar(
                    "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1 LIMIT 5",
                )
                .fetch_all(&mut conn)
                .await
                .map_err(|err| database("cannot read the development database", &err))?
            }
            Dialect::Sqlite => Vec::new(),
        };
        if !tables.is_empty() {
            return Err(SchemaError::new(format!(
                "the development database {shown} is not empty (it holds {}); it must be an empty scratch database",
                tables.join(", ")
            ))
            .hint("point dev_database_url (or --dev-url, MIGRATE_DEV_URL) at an empty database (e.g. CREATE DATABASE migrate_dev); the tool creates and drops its own databases on that server and never writes to this one")
            .configuration());
        }
        Ok(server)
    }

    async fn connect_pg(&self, url: &str) -> Result<PgConnection, SchemaError> {
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .map_err(|err| self.unreachable(&err))?;
        PgConnection::connect_with(&options)
            .await
            .map_err(|err| self.unreachable(&err))
    }

    async fn connect_mysql(&self, url: &str) -> Result<MySqlConnection, SchemaError> {
        let options = sqlx::mysql::MySqlConnectOptions::from_str(url)
            .map_err(|err| self.unreachable(&err))?;
        MySqlConnection::connect_with(&options)
            .await
            .map_err(|err| self.unreachable(&err))
    }

    fn unreachable(&self, err: &sqlx::Error) -> SchemaError {
        database(
            &format!("cannot connect to the development database {}", self.shown),
            err,
        )
        .hint("check dev_database_url in migrate.toml (or --dev-url, MIGRATE_DEV_URL)")
    }

    /// Creates an empty database on the server; returns its URL.
    pub async fn create(&self, purpose: &str) -> Result<String, SchemaError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "migrate_scratch_{purpose}_{}_{nanos:x}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let sql = format!("CREATE DATABASE {name}");
        match self.dialect {
            Dialect::Postgres => self
                .connect_pg(&self.url)
                .await?
                .execute(sql.as_str())
                .await
                .map(drop),
            Dialect::MySql => self
                .connect_mysql(&self.url)
                .await?
                .execute(sql.as_str())
                .await
                .map(drop),
            Dialect::Sqlite => return Err(SchemaError::new("SQLite needs no scratch server")),
        }
        .map_err(|err| {
            database(
                &format!("cannot create a scratch database on {}", self.shown),
                &err,
            )
            .hint("the development URL's user needs the right to create databases")
        })?;
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name.clone());
        Ok(with_database(&self.url, &name))
    }

    /// Drops every database [`ScratchServer::create`] made; returns what
    /// could not be dropped, to print as warnings.
    pub async fn drop_all(&self) -> Vec<String> {
        let names: Vec<String> =
            std::mem::take(&mut *self.created.lock().unwrap_or_else(|e| e.into_inner()));
        let mut failures = Vec::new();
        for name in names {
            let result = match self.dialect {
                Dialect::Postgres => match self.connect_pg(&self.url).await {
                    Ok(mut conn) => conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                    Err(err) => Err(err.message),
                },
                Dialect::MySql => match self.connect_mysql(&self.url).await {
                    Ok(mut conn) => conn
                        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                    Err(err) => Err(err.message),
                },
                Dialect::Sqlite => Ok(()),
            };
            if let Err(reason) = result {
                failures.push(format!(
                    "could not drop the scratch database {name} on {}: {reason}; drop it by hand",
                    self.shown
                ));
            }
        }
        failures
    }
}

/// The URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// Runs the statements of `schema.sql` one by one; a refused statement is
/// an error naming its line.
pub async fn apply_declared<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    declared: &DeclaredSchema,
) -> Result<(), SchemaError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    for statement in &declared.statements {
        sqlx::raw_sql(&statement.sql)
            .execute(&mut *conn)
            .await
            .map_err(|err| {
                let reason = match &err {
                    sqlx::Error::Database(db) => db.message().to_string(),
                    other => other.to_string(),
                };
                SchemaError::new(format!(
                    "{}:{}: the database refused this statement: {reason}",
                    declared.file, statement.line
                ))
                .hint("correct schema.sql; it is run as written into an empty scratch database")
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/dev?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h", "x"), "mysql://root@h/x");
    }
}
