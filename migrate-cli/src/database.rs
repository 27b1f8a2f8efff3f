//! From a URL to a pool of the right backend. Commands are written once,
//! as functions generic over `DB: migrate_runtime::Backend`, and the
//! [`with_pool!`](crate::with_pool) macro instantiates them for the backend
//! the URL names.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use migrate_core::Dialect;
use sqlx::pool::PoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Pool};

use crate::error::{io_reason, CliError, CliResult, Exit};

/// How long to wait for a connection: an unreachable host should fail in
/// seconds, not hang a deploy script.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database URL, with the backend its scheme names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    dialect: Dialect,
    /// Where the URL came from, for messages.
    pub source: String,
}

/// Whether a command may create the database (an SQLite file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading only: a missing SQLite file is an error, not a new empty
    /// database (a typo in the path must not read as "nothing applied").
    Read,
    /// `upgrade` and `stamp`: a missing SQLite file is created.
    Create,
}

impl DatabaseUrl {
    /// Checks the scheme: `sqlite:`, `postgres:`/`postgresql:`,
    /// `mysql:`/`mariadb:`.
    pub fn parse(url: &str, source: &str) -> CliResult<Self> {
        let url = url.trim();
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let dialect = match scheme.as_str() {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::MySql,
            _ => {
                return Err(CliError::usage(format!(
                    "the database URL from {source} ({}) has an unsupported scheme `{scheme}:`",
                    redact(url)
                ))
                .hint("use sqlite://app.db, postgres://user@host/db or mysql://user@host/db"))
            }
        };
        let has_authority = url[scheme.len() + 1..].starts_with("//");
        if dialect != Dialect::Sqlite && !has_authority {
            // sqlx would read `user:password@host/db` as the database name
            // and the server would echo it, password and all.
            return Err(CliError::usage(format!(
                "the database URL from {source} ({}) has no `//` after `{scheme}:`",
                redact(url)
            ))
            .hint(format!("write {scheme}://user:password@host/database")));
        }
        Ok(DatabaseUrl {
            url: url.to_string(),
            dialect,
            source: source.to_string(),
        })
    }

    /// The SQL dialect the URL names.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with any password replaced by `***`, for messages.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// sqlx knows MariaDB as `mysql:`.
    pub fn sqlx_url(&self) -> String {
        match self.url.strip_prefix("mariadb:") {
            Some(rest) => format!("mysql:{rest}"),
            None => self.url.clone(),
        }
    }
}

/// Hides every password a URL can carry, as sqlx reads them: the userinfo
/// of `scheme://user:password@host`, also without `//` and with an
/// unencoded `/` or `@` in the password, and query parameters such as
/// PostgreSQL's `?password=`. When unsure where the userinfo ends, more is
/// hidden rather than less.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once(':') else {
        return url.to_string();
    };
    let (slashes, rest) = match rest.strip_prefix("//") {
        Some(after) => ("//", after),
        None => ("", rest),
    };
    // The userinfo ends at the last `@` before the query; an `@` only in
    // the query may still end a password holding an unencoded `?`.
    let query_start = rest.find('?').unwrap_or(rest.len());
    let at = rest[..query_start].rfind('@').or_else(|| rest.rfind('@'));
    let (userinfo, after) = match at {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let mut shown = format!("{scheme}:{slashes}");
    if let Some(info) = userinfo {
        match info.split_once(':') {
            Some((user, _password)) => shown.push_str(&format!("{user}:***@")),
            None => shown.push_str(&format!("{info}@")),
        }
    }
    match after.split_once('?') {
        Some((location, query)) => {
            shown.push_str(location);
            shown.push('?');
            shown.push_str(&redact_query(query));
        }
        None => shown.push_str(after),
    }
    shown
}

/// `text` with every password of `url` (see [`redact`]) replaced by `***`.
fn hide_passwords(text: &str, url: &str) -> String {
    let shown = redact(url);
    let mut text = text.to_string();
    // What `redact` removed from the URL is exactly what must not be shown:
    // every run of characters of `url` that `shown` replaced by `***`.
    let mut rest = url;
    for piece in shown.split("***") {
        // The last piece is empty when the URL ends with a password.
        let found = if piece.is_empty() {
            Some(rest.len())
        } else {
            rest.find(piece)
        };
        if let Some(at) = found {
            let secret = &rest[..at];
            if !secret.is_empty() {
                text = text.replace(secret, "***");
            }
            rest = &rest[at + piece.len()..];
        }
    }
    text
}

/// `key=value&...` with the value of every key naming a password hidden
/// (`password`, `sslpassword`, `ssl-key-password`, in any case).
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                format!("{key}=***")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A pool of one connection: every runner operation holds one connection
/// from start to end, and the CLI runs them one after another.
fn pool_options<DB: sqlx::Database>() -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(1)
        .acquire_timeout(CONNECT_TIMEOUT)
}

/// A new pool of one connection made with `pool`'s options, for reading
/// the history after an interruption: `pool`'s own connection may still
/// be closing (SQLite's waits for the interrupted statement to end).
pub fn fresh_pool<DB: sqlx::Database>(pool: &Pool<DB>) -> Pool<DB> {
    pool_options::<DB>().connect_lazy_with((*pool.connect_options()).clone())
}

/// Connects to PostgreSQL or MySQL; the error is one line.
pub async fn connect<DB: sqlx::Database>(url: &DatabaseUrl) -> CliResult<Pool<DB>> {
    let options = <DB::Connection as Connection>::Options::from_str(&url.sqlx_url())
        .map_err(|err| connect_error(url, &err, None))?;
    open::<DB>(url, options, None).await
}

/// Connects to SQLite, creating the file only for [`Access::Create`].
pub async fn connect_sqlite(url: &DatabaseUrl, access: Access) -> CliResult<Pool<sqlx::Sqlite>> {
    let mut options =
        SqliteConnectOptions::from_str(&url.url).map_err(|err| connect_error(url, &err, None))?;
    if access == Access::Create {
        options = options.create_if_missing(true);
    }
    let file = options.get_filename().to_path_buf();
    open::<sqlx::Sqlite>(url, options, Some(&file)).await
}

/// One direct connection attempt, then the pool. A pool retries a failed
/// connection until its acquire timeout, which would turn "connection
/// refused" into a ten-second wait before the same message; the direct
/// attempt fails at once, with the real reason.
async fn open<DB: sqlx::Database>(
    url: &DatabaseUrl,
    options: <DB::Connection as Connection>::Options,
    sqlite_file: Option<&Path>,
) -> CliResult<Pool<DB>> {
    match tokio::time::timeout(CONNECT_TIMEOUT, DB::Connection::connect_with(&options)).await {
        Err(_) => return Err(connect_error(url, &sqlx::Error::PoolTimedOut, sqlite_file)),
        Ok(Err(err)) => return Err(connect_error(url, &err, sqlite_file)),
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
        }
    }
    Ok(pool_options::<DB>().connect_lazy_with(options))
}

/// One line that says which database could not be reached and why.
fn connect_error(url: &DatabaseUrl, err: &sqlx::Error, sqlite_file: Option<&Path>) -> CliError {
    let target = url.redacted();
    if let Some(file) = sqlite_file {
        let missing =
            !file.as_os_str().is_empty() && file != Path::new(":memory:") && !file.exists();
        if missing {
            return CliError::new(
                Exit::Database,
                format!(
                    "the SQLite database {} does not exist (from {})",
                    file.display(),
                    url.source
                ),
            )
            .hint("`migrate upgrade` creates it; or correct the path");
        }
    }
    let reason = match err {
        sqlx::Error::Configuration(inner) => {
            return CliError::usage(format!(
                "the database URL from {} ({target}) is invalid: {inner}",
                url.source
            ))
        }
        sqlx::Error::Io(io) => io_reason(io),
        // A server may quote what it was given (a database name that
        // swallowed a password, for instance).
        sqlx::Error::Database(db) => hide_passwords(db.message(), &url.url),
        sqlx::Error::PoolTimedOut => format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        sqlx::Error::Tls(inner) => format!("TLS: {inner}"),
        other => other.to_string(),
    };
    CliError::new(
        Exit::Database,
        format!("cannot connect to the database at {target}: {reason}"),
    )
    .hint(format!(
        "the URL came from {}; check that the server runs and the URL is right",
        url.source
    ))
}

/// Runs `$body` with `$pool` bound to a pool of the backend `$url` names;
/// `$body` is usually a call of a function generic over
/// `DB: migrate_runtime::Backend`. The pool is closed afterwards, unless
/// the command was interrupted.
#[macro_export]
macro_rules! with_pool {
    ($url:expr, $access:expr, |$pool:ident| $body:expr) => {{
        let url: &$crate::database::DatabaseUrl = $url;
        match url.dialect() {
            migrate_core::Dialect::Sqlite => {
                let $pool = $crate::database::connect_sqlite(url, $access).await?;
                let result = $body;
                if !$crate::interrupt::was_interrupted(&result) {
                    $pool.close().await;
                }
                result
            }
            migrate_core::Dialect::Postgres => {
                let $pool = $crate::database::connect::<sqlx::Postgres>(url).await?;
                let result = $body;
                if !$crate::interrupt::was_interrupted(&result) {
                    $pool.close().await;
                }
                result
            }
            migrate_core::Dialect::MySql => {
                let $pool = $crate::database::connect::<sqlx::MySql>(url).await?;
                let result = $body;
                if !$crate::interrupt::was_interrupted(&result) {
                    $pool.close().await;
                }
                result
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://app:s3cret@db.local:5432/app"),
            "postgres://app:***@db.local:5432/app"
        );
        assert_eq!(redact("postgres://app@db/app"), "postgres://app@db/app");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(redact("mysql://u:p@w@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("mysql://u:pa/ss@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("postgres:u:pw@h/db"), "postgres:u:***@h/db");
        assert_eq!(
            redact("postgres://h/db?sslmode=disable&password=s3cret&PassWord=x"),
            "postgres://h/db?sslmode=disable&password=***&PassWord=***"
        );
        assert_eq!(
            redact("postgres://u:p?w@h/db?application_name=a"),
            "postgres://u:***@h/db?application_name=a"
        );
        assert_eq!(redact("postgres://u:p?w@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            hide_passwords(
                "database \"x:s3cret@h\" does not exist, other",
                "postgres://u:s3cret@h/db?password=other"
            ),
            "database \"x:***@h\" does not exist, ***"
        );
    }

    #[test]
    fn schemes_pick_the_dialect() {
        let dialect = |url: &str| DatabaseUrl::parse(url, "test").map(|u| u.dialect());
        assert_eq!(dialect("sqlite://a.db").unwrap(), Dialect::Sqlite);
        assert_eq!(dialect("postgresql://h/db").unwrap(), Dialect::Postgres);
        assert_eq!(dialect("mariadb://h/db").unwrap(), Dialect::MySql);
        assert!(dialect("oracle://h/db").is_err());
    }
}
