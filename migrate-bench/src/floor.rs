//! The floor of applying: the SQL the migrations contain and nothing else,
//! sent by the database's own command-line client (`psql`, `mariadb`,
//! `sqlite3`) as one string, timed as the wall time of the client process.
//!
//! One string, one request: `psql -c` sends a multi-statement string as
//! one simple query; the `mariadb` client is given a delimiter the script
//! never contains, so it sends the whole script as one multi-statement
//! query instead of one query per `;`; `sqlite3` runs in-process anyway.
//! The client's own start-up (process, connection, one `SELECT 1`) is
//! measured on its own ([`Script::Empty`]) so that it can be subtracted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migrate_core::{Dialect, Revision};

use crate::boot::Kind;

/// What the client is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// `SELECT 1`: the client's start-up and connection, to subtract.
    Empty,
    /// Every migration's SQL between one `BEGIN` and one `COMMIT`.
    OneTransaction,
    /// `BEGIN`, the migration's SQL, `COMMIT`, for each migration.
    PerMigration,
}

/// Linux refuses a single command-line argument longer than this
/// (`MAX_ARG_STRLEN`), and the script is one.
const LONGEST_ARGUMENT: usize = 128 * 1024 - 1;

/// The script's text for `revisions`' up sections.
pub fn script(kind: Kind, revisions: &[Revision], shape: Script) -> String {
    let dialect = dialect(kind);
    let begin = dialect.begin();
    let sections = revisions
        .iter()
        .map(|revision| dialect.section(&revision.up_sql))
        .filter(|sql| !sql.trim().is_empty());
    match shape {
        Script::Empty => "SELECT 1".to_string(),
        Script::OneTransaction => {
            let mut text = format!("{begin};\n");
            for sql in sections {
                text.push_str(sql);
                text.push_str(";\n");
            }
            text.push_str("COMMIT");
            text
        }
        Script::PerMigration => sections
            .map(|sql| format!("{begin};\n{sql};\nCOMMIT"))
            .collect::<Vec<_>>()
            .join(";\n"),
    }
}

fn dialect(kind: Kind) -> Dialect {
    match kind {
        Kind::Sqlite => Dialect::Sqlite,
        Kind::Postgres => Dialect::Postgres,
        Kind::MySql => Dialect::MySql,
    }
}

/// The client's name, for the table.
pub fn client(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite3",
        Kind::Postgres => "psql",
        Kind::MySql => "mariadb",
    }
}

/// Runs `script` with the database's client against `target` (a server
/// URL, or an SQLite file), failing on any error it reports; the wall
/// time of the process.
pub fn run(kind: Kind, target: &str, script: &str) -> Result<Duration, Box<dyn std::error::Error>> {
    if script.len() > LONGEST_ARGUMENT {
        return Err(format!(
            "the floor's script is {} bytes, longer than one command-line argument may be \
             ({LONGEST_ARGUMENT}): run the bench with fewer MIGRATIONS",
            script.len()
        )
        .into());
    }
    let mut command = match kind {
        Kind::Postgres => {
            let mut command = Command::new("psql");
            // No psqlrc; stop at the first error (a `-c` string stops
            // there anyway, this makes the exit status say so).
            command.args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                target,
                "-c",
                script,
            ]);
            command
        }
        Kind::MySql => {
            let url = MySqlUrl::parse(target)?;
            let mut command = Command::new("mariadb");
            command
                .arg("--no-defaults")
                .args(["-h", &url.host, "-P", &url.port, "-u", &url.user])
                // A delimiter no script contains: the client sends the
                // whole script as one multi-statement query.
                .arg("--delimiter=$$migrate-floor$$")
                .args([url.database.as_str(), "-e", script]);
            if let Some(password) = &url.password {
                command.env("MYSQL_PWD", password);
            }
            command
        }
        Kind::Sqlite => {
            let mut command = Command::new("sqlite3");
            command.args(["-batch", "-bail", target, script]);
            command
        }
    };
    command.stdin(Stdio::null()).stdout(Stdio::null());
    let started = Instant::now();
    let output = command.stderr(Stdio::piped()).output()?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // sqlite3 -bail and psql exit non-zero on an error; the mariadb client
    // too, but all of them print it: either fails the sample.
    if !output.status.success() || stderr.contains("ERROR") || stderr.contains("Error") {
        return Err(format!("{} failed on {target}: {stderr}", client(kind)).into());
    }
    Ok(elapsed)
}

/// `mysql://user[:password]@host[:port]/database`, as the client takes it.
struct MySqlUrl {
    user: String,
    password: Option<String>,
    host: String,
    port: String,
    database: String,
}

impl MySqlUrl {
    fn parse(url: &str) -> Result<Self, String> {
        let bad = || format!("cannot read {url} as mysql://user[:password]@host[:port]/database");
        let rest = url.strip_prefix("mysql://").ok_or_else(bad)?;
        let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
        let (credentials, rest) = rest.rsplit_once('@').ok_or_else(bad)?;
        let (server, database) = rest.split_once('/').ok_or_else(bad)?;
        let (user, password) = match credentials.split_once(':') {
            Some((user, password)) => (user, Some(password.to_string())),
            None => (credentials, None),
        };
        let (host, port) = server.split_once(':').unwrap_or((server, "3306"));
        Ok(MySqlUrl {
            user: user.to_string(),
            password,
            host: host.to_string(),
            port: port.to_string(),
            database: database.to_string(),
        })
    }
}
