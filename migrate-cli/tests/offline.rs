//! `--sql` scripts, applied by hand with the database's own client (psql,
//! sqlite3, mariadb), must leave the database exactly as `migrate upgrade`
//! and `migrate downgrade` do: same schema, same history rows (but for
//! `applied_at` and `execution_ms`).

mod common;

use common::{backends, fill, on_each, Kind, Project, TestDb};

/// A project with three revisions: a table, a column added with a message
/// that needs quoting (a quote and a backslash: MySQL's hex literal path),
/// and an index built outside a transaction (`CREATE INDEX CONCURRENTLY`
/// on PostgreSQL).
struct Fixture {
    project: Project,
    ids: Vec<String>,
}

fn fixture(kind: Kind, transaction_mode: Option<&str>) -> Fixture {
    let project = Project::new(None);
    if let Some(mode) = transaction_mode {
        let toml = project.path().join("migrate.toml");
        let text = std::fs::read_to_string(&toml).unwrap().replace(
            "# transaction_mode = \"per-revision\"",
            &format!("transaction_mode = \"{mode}\""),
        );
        std::fs::write(&toml, text).unwrap();
    }
    let users = project.revision("create users table", &[]);
    fill(
        &users,
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL -- who\n);\n\
         INSERT INTO users (id, name) VALUES (1, 'O''Brien; the first');",
        Some("DROP TABLE users;"),
        &[],
    );
    let phone = project.revision(r"add user's phone \ fax", &[]);
    fill(
        &phone,
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
        Some("ALTER TABLE users DROP COLUMN phone;"),
        &[],
    );
    let index = project.revision("index user names", &[]);
    let (up, down) = match kind {
        Kind::Postgres => (
            "CREATE INDEX CONCURRENTLY users_name ON users (name);",
            "DROP INDEX CONCURRENTLY users_name;",
        ),
        Kind::Mysql => (
            "CREATE INDEX users_name ON users (name);",
            "DROP INDEX users_name ON users;",
        ),
        Kind::Sqlite => (
            "CREATE INDEX users_name ON users (name);",
            "DROP INDEX users_name;",
        ),
    };
    fill(&index, up, Some(down), &["transaction: false"]);
    let ids = [&users, &phone, &index]
        .iter()
        .map(|f| Project::id_of(f))
        .collect();
    Fixture { project, ids }
}

impl Fixture {
    /// `migrate <verb> <range> --sql`, for the database's dialect.
    fn script(&self, db: &TestDb, args: &[&str]) -> String {
        let mut all = args.to_vec();
        all.extend(["--sql", "--dialect", db.kind.name()]);
        self.project.ok(&all)
    }

    /// `migrate <args>` on a database.
    fn online(&self, db: &TestDb, args: &[&str]) {
        let mut all = vec!["--database-url", db.url.as_str()];
        all.extend_from_slice(args);
        self.project.ok(&all);
    }
}

#[test]
fn offline_scripts_leave_the_database_as_the_online_commands_do() {
    on_each(
        backends(
            "offline_scripts_leave_the_database_as_the_online_commands_do",
            true,
        ),
        |kind| offline_matches_online(kind, None),
    );
}

#[test]
fn offline_scripts_in_single_transaction_mode_match_too() {
    on_each(
        backends("offline_scripts_in_single_transaction_mode_match_too", true),
        |kind| offline_matches_online(kind, Some("single")),
    );
}

fn offline_matches_online(kind: Kind, mode: Option<&str>) {
    let fx = fixture(kind, mode);
    let [first, second, _third] = [&fx.ids[0], &fx.ids[1], &fx.ids[2]];
    let online = TestDb::new(kind, "online");
    let whole = TestDb::new(kind, "whole");
    let steps = TestDb::new(kind, "steps");

    // base:head in one script, and the same in two scripts.
    fx.online(&online, &["upgrade", "head"]);
    let script = fx.script(&whole, &["upgrade", "base:head"]);
    assert!(script.contains("CREATE TABLE IF NOT EXISTS"), "{script}");
    whole.client(&script);
    assert_eq!(
        whole.snapshot(),
        online.snapshot(),
        "{} base:head\n{script}",
        kind.name()
    );
    assert_eq!(online.history().len(), 3);

    steps.client(&fx.script(&steps, &["upgrade", &format!("base:{first}")]));
    steps.client(&fx.script(&steps, &["upgrade", &format!("{first}:head")]));
    assert_eq!(
        steps.snapshot(),
        online.snapshot(),
        "{} in two steps",
        kind.name()
    );

    // Downgrades: head back to the first revision, then to base.
    fx.online(&online, &["downgrade", first]);
    whole.client(&fx.script(&whole, &["downgrade", &format!("head:{first}")]));
    assert_eq!(
        whole.snapshot(),
        online.snapshot(),
        "{} head:{first}",
        kind.name()
    );
    assert_eq!(online.history().len(), 1);

    fx.online(&online, &["downgrade", "base"]);
    whole.client(&fx.script(&whole, &["downgrade", &format!("{first}:base")]));
    assert_eq!(
        whole.snapshot(),
        online.snapshot(),
        "{} {first}:base",
        kind.name()
    );
    assert!(online.history().is_empty());

    // Without a range, the script starts where the database is.
    fx.online(&online, &["upgrade", second]);
    fx.online(&whole, &["upgrade", second]);
    let rest = fx
        .project
        .ok(&["--database-url", &whole.url, "upgrade", "head", "--sql"]);
    assert!(
        !rest.contains(&format!("upgrade base -> {first}")),
        "{rest}"
    );
    assert!(rest.contains(&format!("-> {}", fx.ids[2])), "{rest}");
    whole.client(&rest);
    fx.online(&online, &["upgrade", "head"]);
    assert_eq!(
        whole.snapshot(),
        online.snapshot(),
        "{} from the current state",
        kind.name()
    );
}

#[test]
fn the_script_is_the_runtime_sql_with_transactions_where_the_runtime_has_them() {
    let fx = fixture(Kind::Postgres, None);
    let script = fx
        .project
        .ok(&["upgrade", "base:head", "--sql", "--dialect", "postgres"]);
    let blocks: Vec<&str> = script.split("\n-- upgrade ").collect();
    assert_eq!(blocks.len(), 4, "{script}");
    assert!(blocks[0].contains("CREATE TABLE IF NOT EXISTS \"migrate_history\""));
    for block in &blocks[1..3] {
        assert!(
            block.contains("\nBEGIN;\nINSERT INTO \"migrate_history\""),
            "{block}"
        );
        assert!(block.trim_end().ends_with("COMMIT;"), "{block}");
    }
    // transaction: false: the pending row, the SQL, the mark; no BEGIN.
    assert!(!blocks[3].contains("BEGIN"), "{}", blocks[3]);
    assert!(
        blocks[3].contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        blocks[3]
    );
    assert!(blocks[3].contains("SET state = 'applied'"), "{}", blocks[3]);

    // Single-transaction mode: one transaction, closed before the
    // revision that must run outside one.
    let single = fixture(Kind::Mysql, Some("single"));
    let script = single
        .project
        .ok(&["upgrade", "base:head", "--sql", "--dialect", "mysql"]);
    assert_eq!(script.matches("START TRANSACTION;").count(), 1, "{script}");
    assert_eq!(script.matches("COMMIT;").count(), 1, "{script}");
    let commit = script.find("COMMIT;").unwrap();
    assert!(commit < script.find("CREATE INDEX").unwrap(), "{script}");
}

#[test]
fn offline_errors_say_what_to_give() {
    let fx = fixture(Kind::Sqlite, None);
    let (_, stderr) = fx.project.fails(2, &["upgrade", "head", "--sql"]);
    assert!(stderr.contains("no database is configured"), "{stderr}");
    assert!(
        stderr.contains("migrate upgrade base:head --sql"),
        "{stderr}"
    );
    let (_, stderr) = fx.project.fails(2, &["upgrade", "base:head", "--sql"]);
    assert!(
        stderr.contains("--dialect postgres|mysql|sqlite"),
        "{stderr}"
    );
    let (_, stderr) = fx
        .project
        .fails(2, &["downgrade", "head:", "--sql", "--dialect", "sqlite"]);
    assert!(stderr.contains("where to downgrade to"), "{stderr}");
    let (_, stderr) = fx.project.fails(2, &["upgrade", "base:head"]);
    assert!(stderr.contains("only --sql takes"), "{stderr}");
    // An irreversible revision refuses an offline downgrade too.
    let file = fx.project.revision("no way back", &[]);
    fill(&file, "CREATE TABLE t (id INTEGER);", None, &[]);
    let (_, stderr) = fx.project.fails(
        2,
        &["downgrade", "head:base", "--sql", "--dialect", "sqlite"],
    );
    assert!(stderr.contains("no `-- migrate:down` section"), "{stderr}");
}

#[test]
fn ranges_may_start_from_the_database() {
    let fx = fixture(Kind::Sqlite, None);
    let db = TestDb::new(Kind::Sqlite, "from_current");
    let [first, second, third] = [&fx.ids[0], &fx.ids[1], &fx.ids[2]];
    fx.online(&db, &["upgrade", first]);
    let script = |range: &str| {
        fx.project
            .ok(&["--database-url", &db.url, "upgrade", range, "--sql"])
    };
    let rest = script("current:head");
    assert!(!rest.contains(&format!("-> {first}:")), "{rest}");
    assert!(rest.contains(&format!("-> {second}:")), "{rest}");
    assert!(rest.contains(&format!("-> {third}:")), "{rest}");
    let again = script("-1:head");
    assert!(again.contains(&format!("base -> {first}:")), "{again}");
    let upto = script("base:current");
    assert!(upto.contains(&format!("base -> {first}:")), "{upto}");
    assert!(!upto.contains(&format!("-> {second}:")), "{upto}");
    // Applied by hand, `current:head` leaves the database at head.
    db.client(&rest);
    assert!(fx
        .project
        .ok(&["--database-url", &db.url, "check"])
        .contains("ok:"));

    // Without a database, a start from it is refused with what to give.
    let (_, stderr) = fx.project.fails(
        2,
        &["upgrade", "current:head", "--sql", "--dialect", "sqlite"],
    );
    assert!(stderr.contains("no database is configured"), "{stderr}");
    assert!(
        stderr.contains("migrate upgrade base:head --sql"),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_is_a_quiet_success() {
    let fx = fixture(Kind::Sqlite, None);
    // `migrate upgrade base:head --sql | head -1`, with the reader gone
    // before the first line.
    let (code, stderr) =
        fx.project
            .with_stdout_closed(&["upgrade", "base:head", "--sql", "--dialect", "sqlite"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    for args in [&["history"][..], &["history", "--json"], &["heads", "-v"]] {
        let (code, stderr) = fx.project.with_stdout_closed(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    // An upgrade whose progress cannot be shown still runs to the end.
    let db = TestDb::new(Kind::Sqlite, "closed_stdout");
    let (code, stderr) =
        fx.project
            .with_stdout_closed(&["--database-url", &db.url, "upgrade", "head"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(db.history().len(), 3);

    // Any other failure to write is an error: the script is incomplete.
    if std::path::Path::new("/dev/full").exists() {
        let output = fx
            .project
            .std_command(&["upgrade", "base:head", "--sql", "--dialect", "sqlite"])
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("error: cannot write the output"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// On MySQL a trigger body (`BEGIN ...; ...; END`) survives the `mariadb`
/// client, and the script's session has the runtime's `sql_mode`, so
/// `a || b` concatenates in both.
#[test]
fn mysql_scripts_keep_compound_bodies_and_the_runtime_sql_mode() {
    let kinds: Vec<Kind> = backends(
        "mysql_scripts_keep_compound_bodies_and_the_runtime_sql_mode",
        true,
    )
    .into_iter()
    .filter(|kind| matches!(kind, Kind::Mysql))
    .collect();
    on_each(kinds, |kind| {
        let project = Project::new(None);
        let notes = project.revision("notes with a trigger", &[]);
        fill(
            &notes,
            "CREATE TABLE notes (body VARCHAR(100), words INTEGER, seen VARCHAR(100));\n\
             CREATE TRIGGER notes_seen BEFORE INSERT ON notes FOR EACH ROW\n\
             BEGIN\n    SET NEW.words = 1;\n    SET NEW.seen = 'seen: ' || NEW.body;\nEND;\n\
             INSERT INTO notes (body) VALUES ('a' || 'b');",
            Some("DROP TABLE notes;"),
            &[],
        );
        let online = TestDb::new(kind, "online");
        let offline = TestDb::new(kind, "offline");
        let mut args = vec!["--database-url", online.url.as_str(), "upgrade", "head"];
        project.ok(&args);
        args = vec!["upgrade", "base:head", "--sql", "--dialect", kind.name()];
        let script = project.ok(&args);
        offline.client(&script);
        let rows = "SELECT body, words, seen FROM notes;";
        assert_eq!(online.client(rows), "ab\t1\tseen: ab\n");
        assert_eq!(offline.client(rows), online.client(rows), "{script}");
        assert_eq!(offline.snapshot(), online.snapshot(), "{script}");
    });
}
