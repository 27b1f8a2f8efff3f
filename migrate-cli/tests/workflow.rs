//! The Alembic tutorial's workflow, end to end, from an empty directory, on
//! every available backend: init → revision → upgrade head → current →
//! history → revision → upgrade → downgrade -1 → stamp head → check.

mod common;

use common::{backends, on_each, Kind, Project, TestDb};

#[test]
fn the_whole_workflow_from_an_empty_directory() {
    on_each(
        backends("the_whole_workflow_from_an_empty_directory", false),
        workflow,
    );
}

fn workflow(kind: Kind) {
    let db = TestDb::new(kind, "workflow");
    let project = Project::empty();

    // init: the directory, the configuration, the build.rs advice.
    std::fs::write(
        project.path().join("Cargo.toml"),
        "[package]\nname = \"app\"\n",
    )
    .unwrap();
    let init = project.ok(&["init", "--database-url", &db.url]);
    assert!(init.contains("created  migrate.toml"), "{init}");
    assert!(project.path().join("migrations").is_dir());
    let build_rs = std::fs::read_to_string(project.path().join("build.rs")).unwrap();
    assert!(
        build_rs.contains("cargo:rerun-if-changed=migrations"),
        "{build_rs}"
    );
    let toml = std::fs::read_to_string(project.path().join("migrate.toml")).unwrap();
    assert!(
        toml.contains(&format!("database_url = \"{}\"", db.url)),
        "{toml}"
    );
    // Running it again keeps everything.
    let again = project.ok(&["init"]);
    assert!(!again.contains("created"), "{again}");

    // revision: a new root, in exactly the format the parser reads.
    let users = project.revision("create users table", &[]);
    let users_id = Project::id_of(&users);
    assert_eq!(users_id.len(), 12);
    let text = std::fs::read_to_string(&users).unwrap();
    assert_eq!(
        text,
        format!(
            "-- revision: {users_id}\n-- revises:\n-- message: create users table\n\
             -- created: 2026-11-24 10:00:00\n\
             --\n\
             -- Without a down section this revision is irreversible (downgrades stop\n\
             -- here). To make it reversible, end the file with a `-- migrate:down` line\n\
             -- followed by the SQL that reverts the up section.\n\
             \n-- migrate:up\n\n"
        )
    );
    assert_eq!(
        users.file_name().unwrap().to_str().unwrap(),
        format!("{users_id}_create_users_table.sql")
    );
    project.fill(
        &users,
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n);",
        Some("DROP TABLE users;"),
    );

    // upgrade head: one progress line per revision.
    let up = project.ok(&["upgrade", "head"]);
    assert!(
        up.contains(&format!("applied  {users_id}  create users table")),
        "{up}"
    );
    assert!(
        up.contains(&format!("the database is at {users_id} (head)")),
        "{up}"
    );

    let current = project.ok(&["current"]);
    assert!(
        current.starts_with(&format!("{users_id}  (head)  create users table")),
        "{current}"
    );

    let history = project.ok(&["history"]);
    assert!(
        history.contains(&format!(
            "<base>  ->  {users_id}  (head)  create users table"
        )),
        "{history}"
    );

    // A second revision revises the head.
    let phone = project.revision("add phone to users", &[]);
    let phone_id = Project::id_of(&phone);
    let text = std::fs::read_to_string(&phone).unwrap();
    assert!(
        text.contains(&format!("-- revises: {users_id}\n")),
        "{text}"
    );
    project.fill(
        &phone,
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
        Some("ALTER TABLE users DROP COLUMN phone;"),
    );

    let up = project.ok(&["upgrade"]);
    assert!(up.contains(&format!("applied  {phone_id}")), "{up}");
    assert!(!up.contains(&format!("applied  {users_id}")), "{up}");
    let history = project.ok(&["history"]);
    let lines: Vec<&str> = history.lines().collect();
    assert!(
        lines[0].contains(&format!("{users_id}  ->  {phone_id}  (head)")),
        "{history}"
    );
    assert!(
        lines[1].contains(&format!("<base>        ->  {users_id}")),
        "{history}"
    );
    assert_eq!(
        db.client("SELECT COUNT(*) FROM users WHERE phone IS NULL;")
            .trim(),
        "0"
    );

    // downgrade -1 runs the down section.
    let down = project.ok(&["downgrade", "-1"]);
    assert!(
        down.contains(&format!("reverted  {phone_id}  add phone to users")),
        "{down}"
    );
    assert!(
        down.contains(&format!("the database is at {users_id}\n")),
        "{down}"
    );
    let current = project.ok(&["current"]);
    assert!(current.starts_with(&users_id), "{current}");
    assert!(!current.contains("(head)"), "{current}");

    // check explains that the database is behind.
    let (stdout, stderr) = project.fails(1, &["check"]);
    assert!(stdout.contains(&format!("pending  {phone_id}")), "{stdout}");
    assert!(stderr.contains("behind"), "{stderr}");

    // stamp head records without running: the column is still absent.
    let stamp = project.ok(&["stamp", "head"]);
    assert!(stamp.contains(&format!("recorded  {phone_id}")), "{stamp}");
    let current = project.ok(&["current"]);
    assert!(
        current.starts_with(&format!("{phone_id}  (head)")),
        "{current}"
    );

    let check = project.ok(&["check"]);
    assert!(check.contains("ok:"), "{check}");
    assert!(check.contains(&format!("{phone_id} (head)")), "{check}");

    let status = project.ok(&["status"]);
    assert!(status.contains(&format!("applied  {users_id}")), "{status}");
    assert!(status.contains(&format!("applied  {phone_id}")), "{status}");
}

#[test]
fn a_new_revision_is_irreversible_until_its_author_writes_a_down_section() {
    let db = TestDb::new(Kind::Sqlite, "irreversible");
    let project = Project::new(Some(&db));
    let file = project.revision("create t", &[]);
    let show = project.ok(&["show", "head"]);
    assert!(show.contains("Reversible:"), "{show}");
    // The author writes the up SQL where the file says, and nothing else.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}CREATE TABLE t (id INTEGER);\n")).unwrap();
    project.ok(&["upgrade"]);
    let (_, stderr) = project.fails(2, &["downgrade", "base"]);
    assert!(stderr.contains("no `-- migrate:down` section"), "{stderr}");
    let has_t = || db.client(".tables").split_whitespace().any(|t| t == "t");
    assert!(has_t());
    assert_eq!(db.history().len(), 1, "the row must stay");

    // Following the file's comment makes it reversible.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n-- migrate:down\nDROP TABLE t;\n")).unwrap();
    project.ok(&["repair"]);
    project.ok(&["downgrade", "base"]);
    assert!(db.history().is_empty());
    assert!(!has_t());
}

#[test]
fn quiet_prints_nothing_on_success_and_revision_prints_only_the_path() {
    let db = TestDb::new(Kind::Sqlite, "quiet");
    let project = Project::new(Some(&db));
    let file = project.revision("first", &[]);
    assert!(file.exists());
    project.fill(&file, "CREATE TABLE t (id INTEGER);", Some("DROP TABLE t;"));
    let output = project.migrate().args(["-q", "upgrade"]).output().unwrap();
    assert!(output.status.success());
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn configuration_per_environment_and_the_url_precedence() {
    let dev = TestDb::new(Kind::Sqlite, "dev");
    let prod = TestDb::new(Kind::Sqlite, "prod");
    let flag = TestDb::new(Kind::Sqlite, "flag");
    let project = Project::new(None);
    let file = project.revision("first", &[]);
    project.fill(&file, "CREATE TABLE t (id INTEGER);", Some("DROP TABLE t;"));
    let id = Project::id_of(&file);
    let config = |url: &str| {
        format!("migrations = \"migrations\"\ndatabase_url = \"{url}\"\nhistory_table = \"app_history\"\n")
    };
    std::fs::write(project.path().join("migrate.toml"), config(&dev.url)).unwrap();
    std::fs::write(project.path().join("migrate.prod.toml"), config(&prod.url)).unwrap();

    project.ok(&["-c", "migrate.prod.toml", "upgrade"]);
    assert!(prod.client(".tables").contains("app_history"));
    assert!(
        !dev.sqlite_file().exists(),
        "the default config's database was touched"
    );

    // A file named with -c wins over DATABASE_URL: an exported
    // development URL must not redirect a production command.
    let env = TestDb::new(Kind::Sqlite, "env");
    let with_env = |args: &[&str]| {
        project
            .migrate()
            .env("DATABASE_URL", &env.url)
            .args(args)
            .assert()
            .success();
    };
    with_env(&["-c", "migrate.prod.toml", "downgrade", "base"]);
    assert!(!env.sqlite_file().exists(), "DATABASE_URL won over -c");
    assert_eq!(prod.client("SELECT COUNT(*) FROM app_history;").trim(), "0");

    // Without -c, DATABASE_URL wins over ./migrate.toml.
    with_env(&["upgrade"]);
    assert_eq!(env.client("SELECT revision FROM app_history;").trim(), id);
    assert!(
        !dev.sqlite_file().exists(),
        "migrate.toml won over DATABASE_URL"
    );

    // A -c file without a database_url falls back to DATABASE_URL.
    std::fs::write(
        project.path().join("migrate.nourl.toml"),
        "migrations = \"migrations\"\nhistory_table = \"other_history\"\n",
    )
    .unwrap();
    with_env(&["-c", "migrate.nourl.toml", "stamp", "head"]);
    assert_eq!(env.client("SELECT revision FROM other_history;").trim(), id);

    // --database-url wins over both, with or without -c.
    with_env(&["upgrade", "--database-url", &flag.url]);
    assert_eq!(flag.client("SELECT revision FROM app_history;").trim(), id);
    with_env(&[
        "-c",
        "migrate.prod.toml",
        "stamp",
        "base",
        "--database-url",
        &flag.url,
    ]);
    assert_eq!(flag.client("SELECT COUNT(*) FROM app_history;").trim(), "0");
    assert_eq!(env.client("SELECT revision FROM app_history;").trim(), id);

    // --help says so.
    let help = project.ok(&["--help"]);
    assert!(
        help.contains("with -c FILE: the file's database_url, then DATABASE_URL"),
        "{help}"
    );
}

#[test]
fn a_dated_file_template_names_files_the_loader_accepts() {
    let db = TestDb::new(Kind::Sqlite, "template");
    let project = Project::new(Some(&db));
    let toml = project.path().join("migrate.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace(
        "file_template = \"<rev>_<slug>\"",
        "file_template = \"%Y%m%d_%H%M_<rev>_<slug>\"",
    );
    std::fs::write(&toml, text).unwrap();
    let file = project.revision("Add phone field!", &["--rev-id", "abc123def456"]);
    assert_eq!(
        file.file_name().unwrap().to_str().unwrap(),
        "20261124_1000_abc123def456_add_phone_field.sql"
    );
    project.fill(&file, "CREATE TABLE t (id INTEGER);", Some("DROP TABLE t;"));
    let up = project.ok(&["upgrade"]);
    assert!(up.contains("applied  abc123def456"), "{up}");
}

#[test]
fn help_documents_the_exit_codes() {
    let project = Project::empty();
    let help = project.ok(&["--help"]);
    for line in [
        "Exit codes:",
        "0  success",
        "1  `migrate check`",
        "2  usage",
        "3  database",
        "4  the database's history",
    ] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let db = TestDb::new(Kind::Sqlite, "colour");
    let project = Project::new(Some(&db));
    let file = project.revision("first", &[]);
    project.fill(&file, "CREATE TABLE t (id INTEGER);", Some("DROP TABLE t;"));
    // Not a terminal: plain (checked inside `ok`).
    project.ok(&["history"]);
    let forced = project
        .migrate()
        .args(["--color", "always", "history"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains("\x1b["));
    let never = project
        .migrate()
        .env("NO_COLOR", "1")
        .args(["history"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&never.stdout).contains("\x1b["));
}

/// SQLite's documented table rebuild through `migrate upgrade`: the child
/// rows of an `ON DELETE CASCADE` reference survive the parent's
/// `DROP TABLE` (sqlx connects with foreign keys on, which deleted them).
#[test]
fn a_sqlite_table_rebuild_keeps_the_child_rows() {
    let db = TestDb::new(Kind::Sqlite, "rebuild");
    let project = Project::new(Some(&db));
    let users = project.revision("users and posts", &["--rev-id", "a00000000001"]);
    project.fill(
        &users,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(20));\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, \
         user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE);\n\
         INSERT INTO users VALUES (1, 'ann'), (2, 'bob');\n\
         INSERT INTO posts VALUES (10, 1), (11, 2);",
        None,
    );
    project.ok(&["upgrade", "head"]);
    let rebuild = project.revision("widen users.name", &["--rev-id", "b00000000001"]);
    project.fill(
        &rebuild,
        "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name VARCHAR(500));\n\
         INSERT INTO users_new SELECT id, name FROM users;\n\
         DROP TABLE users;\n\
         ALTER TABLE users_new RENAME TO users;",
        None,
    );
    project.ok(&["upgrade", "head"]);
    assert_eq!(db.client("SELECT count(*) FROM posts;").trim(), "2");
    assert_eq!(
        db.client("PRAGMA foreign_key_check;").trim(),
        "",
        "no dangling key"
    );
}

/// `${VAR}` in migrate.toml: expanded from the environment, and an unset
/// variable is an error naming it and the setting, raised by the commands
/// that need the database only: a developer without the production
/// variable still writes revisions.
#[test]
fn database_url_from_an_environment_variable() {
    let db = TestDb::new(Kind::Sqlite, "envvar");
    let project = Project::new(None);
    std::fs::write(
        project.path().join("migrate.toml"),
        "database_url = \"${MIGRATE_TEST_APP_URL}\"\n",
    )
    .unwrap();
    let (_, stderr) = project.fails(2, &["current"]);
    assert!(
        stderr.contains(
            "migrate.toml: `database_url` uses the environment variable `MIGRATE_TEST_APP_URL`, \
             which is not set"
        ),
        "{stderr}"
    );
    let file = project.revision("create users", &[]);
    project.fill(&file, "CREATE TABLE users (id INTEGER PRIMARY KEY);", None);
    project.ok(&["heads"]);
    project.ok(&["upgrade", "base:head", "--sql", "--dialect", "sqlite"]);
    project
        .migrate()
        .env("MIGRATE_TEST_APP_URL", &db.url)
        .args(["upgrade", "head"])
        .assert()
        .success();
    assert!(db.sqlite_file().exists(), "the expanded URL was used");
}

/// r <- f <- c, and r <- a1 (labelled `billing`, sorting first by file
/// name): the relative steps of issue 7 §6.
fn two_branches(db: &TestDb) -> Project {
    let project = Project::new(Some(db));
    for (id, revises, extra) in [
        ("a00000000000", "", ""),
        (
            "a10000000000",
            "a00000000000",
            "-- branch_labels: billing\n",
        ),
        ("f00000000000", "a00000000000", ""),
        ("f10000000000", "f00000000000", ""),
    ] {
        project.write_migration(
            &format!("{id}_r.sql"),
            &format!(
                "-- revision: {id}\n-- revises: {revises}\n-- message: {id}\n{extra}\n\
                 -- migrate:up\nCREATE TABLE t_{id} (x INTEGER);\n\n\
                 -- migrate:down\nDROP TABLE t_{id};\n"
            ),
        );
    }
    project
}

fn applied(project: &Project) -> Vec<String> {
    let status: serde_json::Value =
        serde_json::from_str(&project.ok(&["status", "--json"])).unwrap();
    status["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "applied")
        .map(|r| r["revision"].as_str().unwrap()[..2].to_string())
        .collect()
}

#[test]
fn relative_steps_move_one_head() {
    on_each(
        backends("relative_steps_move_one_head", false),
        relative_steps_move_one_head_on,
    );
}

fn relative_steps_move_one_head_on(kind: Kind) {
    let db = TestDb::new(kind, "relative");
    let project = two_branches(&db);
    project.ok(&["upgrade", "f00000000000"]);
    // One current head, f: `+1` is f's child, not billing's pending a1,
    // which sorts first.
    project.ok(&["upgrade", "+1"]);
    assert_eq!(applied(&project), ["a0", "f0", "f1"]);
    project.ok(&["upgrade", "billing@+1"]);
    assert_eq!(applied(&project), ["a0", "a1", "f0", "f1"]);

    // Two current heads: a bare step is refused, naming them and the
    // branch form; nothing changes.
    for (verb, step) in [("upgrade", "+1"), ("downgrade", "-1")] {
        let (_, stderr) = project.fails(2, &[verb, step]);
        assert!(
            stderr.contains(&format!(
                "`{step}` is ambiguous: the database has 2 current heads (a10000000000, f10000000000); \
                 say which branch moves, e.g. `billing@{step}`"
            )),
            "{stderr}"
        );
        let (_, stderr) = project.fails(2, &[verb, step, "--sql"]);
        assert!(stderr.contains("is ambiguous"), "--sql: {stderr}");
    }
    assert_eq!(applied(&project), ["a0", "a1", "f0", "f1"]);

    project.ok(&["downgrade", "billing@-1"]);
    assert_eq!(applied(&project), ["a0", "f0", "f1"]);
    project.ok(&["downgrade", "f1@-1"]);
    assert_eq!(applied(&project), ["a0", "f0"]);
    project.ok(&["upgrade", "heads"]);
    // One root: `billing@base` takes down what grows from it, everything.
    project.ok(&["downgrade", "billing@base"]);
    assert!(applied(&project).is_empty());
}
