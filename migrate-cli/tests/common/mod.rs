//! Helpers for the black-box tests: a project in a temporary directory,
//! the built `migrate` binary run in it, and a fresh database per test on
//! each backend, inspected with the database's own command-line client.
//!
//! SQLite always runs. PostgreSQL and MariaDB/MySQL run when
//! `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name a server (each test creates
//! and drops its own database there); without them the test prints
//! "skipped", except under `CI=true`, where a missing variable fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use tempfile::TempDir;

/// 2026-11-24 10:00:00 UTC, so that `created:` lines are predictable.
pub const EPOCH: &str = "1795514400";

/// A backend the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
        }
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips (or, in CI, fails) when something a backend needs is missing.
fn unavailable(what: &str, test: &str) {
    if in_ci() {
        panic!("{test}: {what} (CI=true: every backend must run)");
    }
    println!("skipped {test}: {what}");
}

fn client_exists(program: &str) -> bool {
    StdCommand::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// The backends this run can test: SQLite always (its client too, where
/// `needs_client`), the servers when their URL is set.
pub fn backends(test: &str, needs_client: bool) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if !needs_client || client_exists("sqlite3") {
        kinds.push(Kind::Sqlite);
    } else {
        unavailable(
            "the sqlite3 client is not installed (apt-get install -y sqlite3)",
            test,
        );
    }
    for (kind, var, client) in [
        (Kind::Postgres, "TEST_POSTGRES_URL", "psql"),
        (Kind::Mysql, "TEST_MYSQL_URL", "mariadb"),
    ] {
        match std::env::var(var) {
            Ok(url) if !url.trim().is_empty() => {
                if needs_client && !client_exists(client) {
                    unavailable(
                        &format!("{var} is set but `{client}` is not installed"),
                        test,
                    );
                } else {
                    kinds.push(kind);
                }
            }
            _ => unavailable(
                &format!("{var} is not set ({} not tested)", kind.name()),
                test,
            ),
        }
    }
    kinds
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of its own for one test, dropped at the end.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    name: String,
    admin_url: Option<String>,
    _dir: Option<TempDir>,
}

/// `scheme://user:pass@host:port/db?query` in parts, for the clients.
struct UrlParts {
    user: String,
    password: String,
    host: String,
    port: String,
    database: String,
}

fn url_parts(url: &str) -> UrlParts {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, ""));
    UrlParts {
        user: user.to_string(),
        password: password.to_string(),
        host: host.to_string(),
        port: port.to_string(),
        database: path.split('?').next().unwrap_or_default().to_string(),
    }
}

/// The URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

impl TestDb {
    /// A fresh, empty database.
    pub fn new(kind: Kind, label: &str) -> TestDb {
        let name = format!(
            "migrate_cli_{}_{}_{}",
            label,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join(format!("{name}.db"));
                TestDb {
                    kind,
                    url: format!("sqlite://{}", file.display()),
                    name: file.display().to_string(),
                    admin_url: None,
                    _dir: Some(dir),
                }
            }
            Kind::Postgres | Kind::Mysql => {
                let var = if kind == Kind::Postgres {
                    "TEST_POSTGRES_URL"
                } else {
                    "TEST_MYSQL_URL"
                };
                let admin = std::env::var(var).unwrap();
                let db = TestDb {
                    kind,
                    url: with_database(&admin, &name),
                    name: name.clone(),
                    admin_url: Some(admin),
                    _dir: None,
                };
                db.admin(&format!("DROP DATABASE IF EXISTS {name}"));
                db.admin(&format!("CREATE DATABASE {name}"));
                db
            }
        }
    }

    /// Runs SQL on the server's admin database (to create and drop).
    fn admin(&self, sql: &str) {
        let admin = self.admin_url.as_deref().unwrap();
        let output = match self.kind {
            Kind::Postgres => client_command(Kind::Postgres, admin)
                .args(["-c", sql])
                .output()
                .unwrap(),
            Kind::Mysql => client_command(Kind::Mysql, admin)
                .args(["-e", sql])
                .output()
                .unwrap(),
            Kind::Sqlite => unreachable!(),
        };
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The SQLite file, for tests that need it.
    pub fn sqlite_file(&self) -> PathBuf {
        PathBuf::from(&self.name)
    }

    /// Runs SQL with the database's own client and returns its output,
    /// failing the test (with the client's message) if the client fails.
    pub fn client(&self, sql: &str) -> String {
        let mut command = match self.kind {
            Kind::Sqlite => {
                let mut c = StdCommand::new("sqlite3");
                c.args(["-bail", "-batch", &self.name]);
                c
            }
            Kind::Postgres | Kind::Mysql => client_command(self.kind, &self.url),
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(sql.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{} client failed: {}\n--- input ---\n{sql}",
            self.kind.name(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The schema, as the database's dump tool prints it, without the
    /// lines that differ between two databases of the same content.
    pub fn schema(&self) -> String {
        let output = match self.kind {
            Kind::Sqlite => StdCommand::new("sqlite3")
                .args([&self.name, ".schema"])
                .output()
                .unwrap(),
            Kind::Postgres => StdCommand::new("pg_dump")
                .args(["--schema-only", "--no-owner", "--no-privileges", &self.url])
                .output()
                .unwrap(),
            Kind::Mysql => {
                let parts = url_parts(&self.url);
                let mut c = StdCommand::new("mariadb-dump");
                c.args(["--no-data", "--skip-comments", "--skip-dump-date"]);
                mysql_connection_args(&mut c, &parts);
                c.arg(&parts.database);
                c.output().unwrap()
            }
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter(|line| {
                !line.starts_with("--")
                    && !line.starts_with("\\restrict")
                    && !line.starts_with("\\unrestrict")
                    && !line.trim().is_empty()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The history rows without `applied_at` and `execution_ms`, which
    /// differ from run to run.
    pub fn history(&self) -> Vec<String> {
        let sql =
            "SELECT revision, checksum, message, state FROM migrate_history ORDER BY revision;";
        self.client(sql)
            .lines()
            .map(|line| line.replace('\t', "|"))
            .filter(|line| !line.is_empty())
            .collect()
    }

    /// The tables and history in one comparable value.
    pub fn snapshot(&self) -> (String, Vec<String>) {
        (self.schema(), self.history())
    }
}

fn mysql_connection_args(c: &mut StdCommand, parts: &UrlParts) {
    c.arg(format!("--host={}", parts.host));
    if !parts.port.is_empty() {
        c.arg(format!("--port={}", parts.port));
    }
    if !parts.user.is_empty() {
        c.arg(format!("--user={}", parts.user));
    }
    if !parts.password.is_empty() {
        c.arg(format!("--password={}", parts.password));
    }
}

/// psql or mariadb connected to `url`, printing bare rows.
fn client_command(kind: Kind, url: &str) -> StdCommand {
    match kind {
        Kind::Postgres => {
            let mut c = StdCommand::new("psql");
            c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]);
            c
        }
        Kind::Mysql => {
            let parts = url_parts(url);
            let mut c = StdCommand::new("mariadb");
            c.args(["--batch", "--skip-column-names"]);
            mysql_connection_args(&mut c, &parts);
            if !parts.database.is_empty() {
                c.arg(&parts.database);
            }
            c
        }
        Kind::Sqlite => unreachable!(),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.admin_url.is_some() && !std::thread::panicking() {
            let drop = match self.kind {
                Kind::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                _ => format!("DROP DATABASE IF EXISTS {}", self.name),
            };
            self.admin(&drop);
        }
    }
}

/// A project directory with `migrate.toml` and `migrations/`.
pub struct Project {
    pub dir: TempDir,
    pub url: Option<String>,
}

impl Project {
    /// An empty directory (no `migrate init` yet).
    pub fn empty() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
            url: None,
        }
    }

    /// A project after `migrate init`, working on `db`.
    pub fn new(db: Option<&TestDb>) -> Project {
        let mut project = Project::empty();
        project.url = db.map(|db| db.url.clone());
        project.migrate().arg("init").assert().success();
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary, in the project, with a clean environment: the
    /// developer's DATABASE_URL or NO_COLOR must not leak in.
    pub fn migrate(&self) -> Command {
        let mut command = Command::cargo_bin("migrate").unwrap();
        command
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("NO_COLOR")
            .env("SOURCE_DATE_EPOCH", EPOCH);
        if let Some(url) = &self.url {
            command.env("DATABASE_URL", url);
        }
        command
    }

    /// `migrate <args>` as a plain `std::process::Command`, with the
    /// environment of [`Project::migrate`].
    pub fn std_command(&self, args: &[&str]) -> StdCommand {
        let mut command = StdCommand::new(assert_cmd::cargo::cargo_bin("migrate"));
        command
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("NO_COLOR")
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .args(args)
            .stdin(Stdio::null());
        if let Some(url) = &self.url {
            command.env("DATABASE_URL", url);
        }
        command
    }

    /// Runs `migrate <args>` with its stdout already closed by the reader
    /// (`migrate ... | head -1` once `head` is done): every write meets a
    /// broken pipe. Returns the exit code and stderr.
    pub fn with_stdout_closed(&self, args: &[&str]) -> (Option<i32>, String) {
        let mut child = self
            .std_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs `migrate <args>`, expecting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.migrate().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "migrate {args:?} failed with {:?}:\n{}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            !stdout.contains('\x1b'),
            "colour when not on a terminal: {stdout}"
        );
        stdout
    }

    /// Runs `migrate <args>`, expecting exit `code`; returns (stdout, stderr).
    pub fn fails(&self, code: i32, args: &[&str]) -> (String, String) {
        let output = self.migrate().args(args).output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "migrate {args:?}: expected exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        (stdout, stderr)
    }

    /// `migrate revision -q -m <message> <extra>`: the new file's path.
    pub fn revision(&self, message: &str, extra: &[&str]) -> PathBuf {
        let mut args = vec!["revision", "-q", "-m", message];
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        self.path().join(out.trim())
    }

    /// Writes the SQL of a revision file made by `migrate revision`.
    pub fn fill(&self, file: &Path, up: &str, down: Option<&str>) {
        fill(file, up, down, &[]);
    }

    /// The id in a revision file's name.
    pub fn id_of(file: &Path) -> String {
        let text = std::fs::read_to_string(file).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("-- revision: "))
            .unwrap()
            .to_string()
    }

    /// A file in `migrations/` written by hand.
    pub fn write_migration(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join("migrations").join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// A project with two applied revisions, `a00000000001` (create users
/// table) <- `b00000000001` (add phone): the start of several tests.
#[allow(dead_code)] // not every test binary uses it
pub fn users_then_phone(db: &TestDb) -> Project {
    let project = Project::new(Some(db));
    let a = project.revision("create users table", &["--rev-id", "a00000000001"]);
    fill(
        &a,
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        Some("DROP TABLE users;"),
        &[],
    );
    let b = project.revision("add phone", &["--rev-id", "b00000000001"]);
    fill(
        &b,
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
        Some("ALTER TABLE users DROP COLUMN phone;"),
        &[],
    );
    project.ok(&["upgrade", "head"]);
    project
}

/// Replaces everything from `-- migrate:up` on; `extra_header` lines are
/// added to the header (e.g. `transaction: false`).
pub fn fill(file: &Path, up: &str, down: Option<&str>, extra_header: &[&str]) {
    let text = std::fs::read_to_string(file).unwrap();
    let header = &text[..text.find("\n-- migrate:up").unwrap()];
    let mut out = header.trim_end().to_string();
    for line in extra_header {
        out.push_str(&format!("\n-- {line}"));
    }
    out.push_str(&format!("\n\n-- migrate:up\n{up}\n"));
    if let Some(down) = down {
        out.push_str(&format!("\n-- migrate:down\n{down}\n"));
    }
    std::fs::write(file, out).unwrap();
}

/// The number of `error:` lines in stderr.
pub fn error_lines(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.starts_with("error: ")).count()
}

/// Runs `test` once per backend, the backends in parallel: the time goes
/// into waiting on servers and clients, not into this process.
pub fn on_each(kinds: Vec<Kind>, test: impl Fn(Kind) + Sync) {
    std::thread::scope(|scope| {
        let handles: Vec<_> = kinds
            .into_iter()
            .map(|kind| {
                let test = &test;
                (kind, scope.spawn(move || test(kind)))
            })
            .collect();
        for (kind, handle) in handles {
            if let Err(panic) = handle.join() {
                eprintln!("failed on {}", kind.name());
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// For PostgreSQL and MySQL: an empty database of its own named as the
/// project's `dev_database_url`, where the scratch databases of
/// `--autogenerate`, `check --schema` and `check --replay` are made. Keep
/// it alive for the test. `None` for SQLite, whose scratch databases are
/// in memory.
#[allow(dead_code)] // not every test binary uses it
pub fn dev_database(project: &Project, kind: Kind) -> Option<TestDb> {
    if kind == Kind::Sqlite {
        return None;
    }
    let dev = TestDb::new(kind, "dev");
    let toml = project.path().join("migrate.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!("dev_database_url = \"{}\"\n", dev.url));
    std::fs::write(&toml, text).unwrap();
    Some(dev)
}
