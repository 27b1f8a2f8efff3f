//! Ctrl-C (SIGINT) and SIGTERM during `migrate upgrade`: the real binary,
//! signalled while the server runs a long statement of its second
//! revision. The statement must be cancelled on the server, the revision
//! rolled back, the lock freed, the first revision kept, and the CLI must
//! say so and exit 130 (143 for SIGTERM) at once, not after the statement.

#![cfg(unix)]

mod common;

use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use common::{backends, fill, on_each, Kind, Project, TestDb};

/// Far below the 30 s the statement sleeps: an exit this late means the
/// CLI waited for the statement instead of cancelling it.
const EXIT_WITHIN: Duration = Duration::from_secs(10);

/// The first revision: applied and committed before the slow one starts.
const FIRST: &str = "a00000000001";
/// The revision interrupted while its statement sleeps.
const SLOW: &str = "b00000000001";

/// A `migrate` process, its output collected as it comes.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn collect(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    })
}

impl Running {
    fn start(project: &Project, args: &[&str]) -> Running {
        let mut child = project
            .std_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            collect(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        Running {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, signal).unwrap();
    }

    /// Waits up to `within` for the exit; kills the process past it.
    /// Returns the exit code (`None`: killed by a signal), stdout, stderr
    /// and how long the exit took.
    fn finish(mut self, within: Duration) -> (Option<i32>, String, String, Duration) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = started.elapsed();
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        (status.code(), stdout, stderr, took)
    }
}

/// Polls `done` every 100 ms for up to 20 s; fails with `what` otherwise.
fn wait_until(what: &str, running: &mut Running, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            running.still_running(),
            "migrate exited while waiting until {what}: {}",
            running.stdout()
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited 20 s until {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A statement that sleeps 30 s on the server.
fn sleep_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "SELECT pg_sleep(30);",
        Kind::Mysql => "SELECT SLEEP(30);",
        Kind::Sqlite => unreachable!("SQLite has no sleep; see the SQLite test"),
    }
}

/// How many other sessions of this database run the sleep.
fn sleeping(db: &TestDb) -> usize {
    others_running(db, "pg_sleep(30)", "SLEEP(30)")
}

/// How many sessions of this database, besides this one, run (or, on
/// PostgreSQL, last ran) a statement containing the server's pattern.
fn others_running(db: &TestDb, postgres: &str, mysql: &str) -> usize {
    let sql = match db.kind {
        Kind::Postgres => format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND query LIKE '%{postgres}%';"
        ),
        Kind::Mysql => format!(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() \
             AND id <> CONNECTION_ID() AND info LIKE '%{mysql}%';"
        ),
        Kind::Sqlite => unreachable!(),
    };
    db.client(&sql).trim().parse().unwrap()
}

/// A project whose `upgrade` applies FIRST (creating `kept`), then SLOW,
/// which inserts a row and sleeps; the lock is waited for 2 s at most,
/// so that a lock left behind fails the next run at once.
fn slow_project(db: &TestDb, slow_header: &[&str]) -> (Project, std::path::PathBuf) {
    let project = Project::new(Some(db));
    append_to_config(&project, "lock_timeout = 2\n");
    let first = project.revision("create kept", &["--rev-id", FIRST]);
    fill(
        &first,
        "CREATE TABLE kept (id INTEGER);",
        Some("DROP TABLE kept;"),
        &[],
    );
    let slow = project.revision("slow insert", &["--rev-id", SLOW]);
    fill(
        &slow,
        &format!("INSERT INTO kept VALUES (1);\n{}", sleep_sql(db.kind)),
        Some("DELETE FROM kept;"),
        slow_header,
    );
    (project, slow)
}

/// `migrate upgrade`, signalled once the server runs SLOW's sleep.
fn interrupted_upgrade(
    db: &TestDb,
    project: &Project,
    signal: Signal,
) -> (Option<i32>, String, String) {
    let mut running = Running::start(project, &["upgrade"]);
    wait_until("the server runs the sleep", &mut running, || {
        sleeping(db) == 1
    });
    running.signal(signal);
    let (code, stdout, stderr, took) = running.finish(EXIT_WITHIN);
    assert!(
        took < EXIT_WITHIN,
        "no exit within {EXIT_WITHIN:?} of the signal\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code, stdout, stderr)
}

/// After the interruption: nothing sleeps on the server, the lock is free
/// (a run with a 2 s lock timeout applies the fixed revision), and the
/// history is complete.
fn server_is_clean_and_the_lock_free(db: &TestDb, project: &Project, slow: &std::path::Path) {
    assert_eq!(
        sleeping(db),
        0,
        "the server still runs the interrupted sleep"
    );
    fill(
        slow,
        "INSERT INTO kept VALUES (2);",
        Some("DELETE FROM kept;"),
        &[],
    );
    let next = project.ok(&["upgrade"]);
    assert!(next.contains(SLOW), "{next}");
    let history = db.history();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history.iter().all(|row| row.ends_with("|applied")),
        "{history:?}"
    );
}

fn applied_only_first(db: &TestDb) {
    let history = db.history();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].starts_with(&format!("{FIRST}|")) && history[0].ends_with("|applied"),
        "{history:?}"
    );
}

#[test]
fn ctrl_c_cancels_the_revision_on_the_server_and_exits_130() {
    let kinds = servers("ctrl_c_cancels_the_revision_on_the_server_and_exits_130");
    on_each(kinds, |kind| {
        let db = TestDb::new(kind, "sigint");
        let (project, slow) = slow_project(&db, &[]);
        let (code, stdout, stderr) = interrupted_upgrade(&db, &project, Signal::SIGINT);
        assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
        // What was applied before the interruption, then what happened to
        // the interrupted revision.
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("applied") && l.contains(FIRST)),
            "{stdout}"
        );
        assert!(
            stderr.contains(&format!(
                "error: interrupted by Ctrl-C (SIGINT) before `{SLOW}` (migrations/{SLOW}_slow_insert.sql) \
                 finished: it was rolled back and nothing of it was kept"
            )),
            "{stderr}"
        );
        assert!(
            stdout.contains(&format!("the database is at {FIRST}")),
            "{stdout}"
        );
        applied_only_first(&db);
        assert_eq!(db.client("SELECT COUNT(*) FROM kept;").trim(), "0");
        server_is_clean_and_the_lock_free(&db, &project, &slow);
    });
}

#[test]
fn sigterm_cancels_the_revision_on_the_server_and_exits_143() {
    let kinds = servers("sigterm_cancels_the_revision_on_the_server_and_exits_143");
    on_each(kinds, |kind| {
        let db = TestDb::new(kind, "sigterm");
        let (project, slow) = slow_project(&db, &[]);
        let (code, stdout, stderr) = interrupted_upgrade(&db, &project, Signal::SIGTERM);
        assert_eq!(code, Some(143), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(
            stderr.contains(&format!("error: interrupted by SIGTERM before `{SLOW}`")),
            "{stderr}"
        );
        applied_only_first(&db);
        server_is_clean_and_the_lock_free(&db, &project, &slow);
    });
}

/// A `transaction: false` revision cannot be rolled back: its row is left
/// pending, and the message says how to resolve it, as the next run would.
#[test]
fn ctrl_c_in_a_transaction_false_revision_leaves_it_pending_and_says_how_to_resolve_it() {
    let kinds = servers(
        "ctrl_c_in_a_transaction_false_revision_leaves_it_pending_and_says_how_to_resolve_it",
    );
    on_each(kinds, |kind| {
        let db = TestDb::new(kind, "sigint_notx");
        let (project, slow) = slow_project(&db, &["transaction: false"]);
        let (code, stdout, stderr) = interrupted_upgrade(&db, &project, Signal::SIGINT);
        assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: interrupted by Ctrl-C (SIGINT) while `{SLOW}` (migrations/{SLOW}_slow_insert.sql) \
                 was running outside a transaction (`transaction: false`)"
            )) && stderr.contains("its history row is left pending"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "hint: inspect the database, then either complete the change by hand and run \
                 `migrate stamp {SLOW}`, or undo it by hand and run `migrate stamp {FIRST}`"
            )),
            "{stderr}"
        );
        assert!(
            stdout.contains(&format!("the database is at {FIRST}")),
            "{stdout}"
        );
        let history = db.history();
        assert_eq!(history.len(), 2, "{history:?}");
        assert!(history[1].starts_with(&format!("{SLOW}|")), "{history:?}");
        assert!(history[1].ends_with("|pending"), "{history:?}");
        assert_eq!(
            sleeping(&db),
            0,
            "the server still runs the interrupted sleep"
        );
        // The insert before the sleep committed: the next run refuses,
        // and the advice resolves it.
        assert_eq!(db.client("SELECT COUNT(*) FROM kept;").trim(), "1");
        let (_, refused) = project.fails(4, &["upgrade"]);
        assert!(refused.contains(SLOW), "{refused}");
        db.client("DELETE FROM kept;");
        project.ok(&["stamp", FIRST]);
        server_is_clean_and_the_lock_free(&db, &project, &slow);
    });
}

/// SQLite runs in-process and commits the run once, at its end: Ctrl-C
/// during a long statement exits at once and keeps nothing of the run,
/// not even the revision that had finished before it.
#[test]
fn ctrl_c_on_sqlite_exits_130_and_keeps_nothing_of_the_run() {
    let db = TestDb::new(Kind::Sqlite, "sigint");
    let (project, _) = {
        let project = Project::new(Some(&db));
        let first = project.revision("create kept", &["--rev-id", FIRST]);
        fill(
            &first,
            "CREATE TABLE kept (id INTEGER);",
            Some("DROP TABLE kept;"),
            &[],
        );
        project.ok(&["upgrade"]);
        (project, first)
    };
    let quick = project.revision("quick insert", &["--rev-id", SLOW]);
    fill(&quick, "INSERT INTO kept VALUES (1);", None, &[]);
    let endless = project.revision("endless count", &["--rev-id", "c00000000001"]);
    fill(
        &endless,
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n;",
        None,
        &[],
    );
    let mut running = Running::start(&project, &["upgrade"]);
    let stdout = Arc::clone(&running.stdout);
    wait_until("the upgrade starts", &mut running, || {
        stdout.lock().unwrap().contains("Upgrading")
    });
    // The quick revision takes milliseconds; the endless one runs by now.
    std::thread::sleep(Duration::from_secs(1));
    assert!(running.still_running());
    running.signal(Signal::SIGINT);
    let (code, stdout, stderr, took) = running.finish(EXIT_WITHIN);
    assert!(
        took < EXIT_WITHIN,
        "no exit within {EXIT_WITHIN:?}: {stderr}"
    );
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(
            "error: interrupted by Ctrl-C (SIGINT) before `c00000000001` \
             (migrations/c00000000001_endless_count.sql) finished: it was rolled back and nothing \
             of it was kept"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "`{SLOW}` had finished but was rolled back with it"
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("the database is at {FIRST}")),
        "{stdout}"
    );
    applied_only_first(&db);
    assert_eq!(db.client("SELECT COUNT(*) FROM kept;").trim(), "0");
    // The write lock went with the process: the next run applies both.
    fill(&endless, "SELECT 1;", None, &[]);
    project.ok(&["upgrade"]);
    assert_eq!(db.history().len(), 3);
}

/// PostgreSQL only, when configured.
fn postgres(test: &str) -> Option<TestDb> {
    servers(test)
        .contains(&Kind::Postgres)
        .then(|| TestDb::new(Kind::Postgres, "sig"))
}

fn append_to_config(project: &Project, line: &str) {
    let toml = project.path().join("migrate.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(line);
    std::fs::write(&toml, text).unwrap();
}

/// In single-transaction mode the run commits once, at its end: the
/// revision that had finished is rolled back with the interrupted one,
/// and the message says so.
#[test]
fn ctrl_c_in_single_transaction_mode_keeps_nothing_of_the_run() {
    let Some(db) = postgres("ctrl_c_in_single_transaction_mode_keeps_nothing_of_the_run") else {
        return;
    };
    let (project, slow) = slow_project(&db, &[]);
    append_to_config(&project, "transaction_mode = \"single\"\n");
    let (code, stdout, stderr) = interrupted_upgrade(&db, &project, Signal::SIGINT);
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "before `{SLOW}` (migrations/{SLOW}_slow_insert.sql) finished: it was rolled back and \
             nothing of it was kept; `{FIRST}` had finished but was rolled back with it"
        )),
        "{stderr}"
    );
    assert!(!stdout.contains("applied  "), "{stdout}");
    assert!(stdout.contains("the database is at base"), "{stdout}");
    assert_eq!(db.history(), Vec::<String>::new());
    assert_eq!(
        sleeping(&db),
        0,
        "the server still runs the interrupted sleep"
    );
    fill(&slow, "SELECT 1;", None, &[]);
    project.ok(&["upgrade"]);
    assert_eq!(db.history().len(), 2);
}

/// A downgrade interrupted in its down section: rolled back, the revision
/// stays applied.
#[test]
fn ctrl_c_during_a_downgrade_keeps_the_revision_applied() {
    let Some(db) = postgres("ctrl_c_during_a_downgrade_keeps_the_revision_applied") else {
        return;
    };
    let (project, slow) = slow_project(&db, &[]);
    fill(
        &slow,
        "INSERT INTO kept VALUES (1);",
        Some("DELETE FROM kept;\nSELECT pg_sleep(30);"),
        &[],
    );
    project.ok(&["upgrade"]);
    let mut running = Running::start(&project, &["downgrade", FIRST]);
    wait_until("the server runs the sleep", &mut running, || {
        sleeping(&db) == 1
    });
    running.signal(Signal::SIGINT);
    let (code, stdout, stderr, took) = running.finish(EXIT_WITHIN);
    assert!(
        took < EXIT_WITHIN,
        "no exit within {EXIT_WITHIN:?}: {stderr}"
    );
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: interrupted by Ctrl-C (SIGINT) before the downgrade of `{SLOW}` \
             (migrations/{SLOW}_slow_insert.sql) finished: it was rolled back, so `{SLOW}` stays applied"
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("the database is at {SLOW}")),
        "{stdout}"
    );
    assert_eq!(db.history().len(), 2);
    assert_eq!(db.client("SELECT COUNT(*) FROM kept;").trim(), "1");
    assert_eq!(
        sleeping(&db),
        0,
        "the server still runs the interrupted sleep"
    );
}

/// A second Ctrl-C does not wait for the server: the CLI says so and
/// exits at once.
#[test]
fn a_second_ctrl_c_exits_at_once() {
    let Some(db) = postgres("a_second_ctrl_c_exits_at_once") else {
        return;
    };
    let (project, _) = slow_project(&db, &[]);
    let mut running = Running::start(&project, &["upgrade"]);
    wait_until("the server runs the sleep", &mut running, || {
        sleeping(&db) == 1
    });
    // The first signal starts the cancellation, which takes a new
    // connection to the server: far longer than the next signals take to
    // arrive. (A signal sent before the last was handled may merge with it.)
    running.signal(Signal::SIGINT);
    let started = Instant::now();
    while running.still_running() && started.elapsed() < EXIT_WITHIN {
        let _ = kill(
            Pid::from_raw(i32::try_from(running.child.id()).unwrap()),
            Signal::SIGINT,
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let (code, stdout, stderr, _) = running.finish(EXIT_WITHIN);
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(
            "error: interrupted by Ctrl-C (SIGINT) again: exiting at once, without waiting for the server"
        ),
        "{stderr}"
    );
}

/// Any command, at any await: here `migrate current` connecting to a
/// server that never answers (the connection attempt alone would wait 10 s).
#[test]
fn ctrl_c_while_connecting_exits_130_at_once() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://nobody@{}/nothing", silent.local_addr().unwrap());
    let project = Project::new(None);
    let mut running = Running::start(&project, &["current", "--database-url", &url]);
    // Long enough for the handlers to be installed and the connection sent.
    std::thread::sleep(Duration::from_millis(500));
    assert!(running.still_running());
    running.signal(Signal::SIGINT);
    let (code, stdout, stderr, took) = running.finish(EXIT_WITHIN);
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        stderr,
        "error: interrupted by Ctrl-C (SIGINT)\nhint: this command only reads: nothing was changed\n"
    );
}

/// PostgreSQL and MariaDB, when configured.
fn servers(test: &str) -> Vec<Kind> {
    backends(test, true)
        .into_iter()
        .filter(|kind| *kind != Kind::Sqlite)
        .collect()
}

/// How many sessions of this database, besides this one, are waiting for
/// the migration lock (MariaDB: in `GET_LOCK`; PostgreSQL: polling
/// `pg_try_advisory_lock`, whose last statement stays in `query`).
fn waiting_for_the_lock(db: &TestDb) -> usize {
    others_running(db, "pg_try_advisory_lock", "GET_LOCK")
}

/// A second `migrate upgrade` waits for the lock the first one holds
/// while it sleeps; Ctrl-C on the waiting one must end its wait on the
/// server too (a `GET_LOCK` left waiting would take the lock the moment
/// the first run frees it, for a process that is gone), and the first
/// run is not disturbed.
#[test]
fn ctrl_c_while_waiting_for_the_lock_leaves_no_waiter_on_the_server() {
    let kinds = servers("ctrl_c_while_waiting_for_the_lock_leaves_no_waiter_on_the_server");
    on_each(kinds, |kind| {
        let db = TestDb::new(kind, "lockwait");
        let (project, _) = slow_project(&db, &[]);
        // Long enough that the second run still waits when signalled.
        let toml = project.path().join("migrate.toml");
        let text = std::fs::read_to_string(&toml).unwrap();
        std::fs::write(&toml, text.replace("lock_timeout = 2", "lock_timeout = 60")).unwrap();
        let mut holder = Running::start(&project, &["upgrade"]);
        wait_until("the first run sleeps under the lock", &mut holder, || {
            sleeping(&db) == 1
        });
        let mut waiter = Running::start(&project, &["upgrade"]);
        wait_until("the second run waits for the lock", &mut waiter, || {
            waiting_for_the_lock(&db) == 1
        });
        waiter.signal(Signal::SIGINT);
        let (code, stdout, stderr, took) = waiter.finish(EXIT_WITHIN);
        assert!(took < EXIT_WITHIN, "took {took:?}: {stderr}");
        assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(
            stderr.starts_with("error: interrupted by Ctrl-C (SIGINT)"),
            "{stderr}"
        );
        let started = Instant::now();
        while waiting_for_the_lock(&db) != 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the interrupted run still waits for the lock on the server"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(holder.still_running(), "the first run was disturbed");
        assert_eq!(sleeping(&db), 1);
        holder.signal(Signal::SIGINT);
        let (code, _, stderr, _) = holder.finish(EXIT_WITHIN);
        assert_eq!(code, Some(130), "{stderr}");
    });
}
