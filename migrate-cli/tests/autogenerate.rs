//! `migrate revision --autogenerate`, `check --schema` and `schema dump`
//! on real databases with rows in the tables: for pairs of schemas S1 →
//! S2, the chain producing S1 plus the generated revision produces exactly
//! S2 (read from the catalog of the real database), the rows survive, the
//! down section returns exactly to S1, and a second run writes nothing.

mod common;

use std::path::PathBuf;
use std::str::FromStr;

use common::{backends, on_each, Kind, Project, TestDb};
use migrate_schema::introspect::{mysql, postgres, sqlite};
use migrate_schema::{describe::describe, diff, Renames, Schema};
use sqlx::Connection;

/// The schema of a real database, read from its catalog (the history table
/// left out).
fn catalog(db: &TestDb) -> Schema {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let skip = ["migrate_history"];
        match db.kind {
            Kind::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url).unwrap();
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                sqlite::introspect(&mut conn, &skip).await.unwrap()
            }
            Kind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
                postgres::introspect(&mut conn, &skip).await.unwrap()
            }
            Kind::Mysql => {
                let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
                mysql::introspect(&mut conn, &skip).await.unwrap()
            }
        }
    })
}

/// The schema `sql` creates in a fresh database, read from its catalog.
fn catalog_of(kind: Kind, sql: &str) -> Schema {
    let db = TestDb::new(kind, "expected");
    db.client(sql);
    catalog(&db)
}

/// Asserts that two catalogs describe the same schema.
fn assert_same(actual: &Schema, expected: &Schema, what: &str) {
    let differences = describe(&diff(actual, expected, &Renames::default()));
    assert!(
        differences.is_empty(),
        "{what}: the database differs from the expected schema:\n{}",
        differences.join("\n")
    );
}

/// A project on `app` whose scratch server is `dev` (PostgreSQL, MySQL).
struct Setup {
    app: TestDb,
    _dev: Option<TestDb>,
    project: Project,
}

impl Setup {
    fn new(kind: Kind, label: &str) -> Setup {
        let app = TestDb::new(kind, label);
        let project = Project::new(Some(&app));
        let dev = (kind != Kind::Sqlite).then(|| TestDb::new(kind, "dev"));
        if let Some(dev) = &dev {
            let toml = project.path().join("migrate.toml");
            let mut text = std::fs::read_to_string(&toml).unwrap();
            text.push_str(&format!("dev_database_url = \"{}\"\n", dev.url));
            std::fs::write(&toml, text).unwrap();
        }
        Setup {
            app,
            _dev: dev,
            project,
        }
    }

    fn declare(&self, schema: &str) {
        std::fs::write(self.project.path().join("schema.sql"), schema).unwrap();
    }

    /// `migrate revision --autogenerate -q -m <message>`: the new file.
    fn autogenerate(&self, message: &str) -> PathBuf {
        let out = self
            .project
            .ok(&["revision", "--autogenerate", "-q", "-m", message]);
        let path = self.project.path().join(out.trim());
        assert!(path.is_file(), "no file written: {out}");
        path
    }

    fn files(&self) -> usize {
        std::fs::read_dir(self.project.path().join("migrations"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "sql")
            })
            .count()
    }

    /// A second --autogenerate writes nothing and says so.
    fn assert_nothing_to_generate(&self) {
        let before = self.files();
        let out = self
            .project
            .ok(&["revision", "--autogenerate", "-m", "nothing"]);
        assert!(out.contains("nothing to generate"), "{out}");
        assert_eq!(self.files(), before, "a file was written: {out}");
    }

    fn rows(&self, sql: &str) -> Vec<String> {
        self.app
            .client(sql)
            .lines()
            .map(|l| l.replace('\t', "|"))
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// One round trip: S1 generated and applied, `seed` inserted, S2
/// generated and applied (then `after_up` checked), `down` to S1 (then
/// `after_down` checked), up again.
struct Trip<'a> {
    s1: &'a str,
    s2: &'a str,
    seed: &'a str,
    /// `(query, rows)` after the upgrade to S2.
    after_up: Vec<(&'a str, Vec<&'a str>)>,
    /// `(query, rows)` after the downgrade to S1.
    after_down: Vec<(&'a str, Vec<&'a str>)>,
    /// Text the generated file must contain (REVIEW notes, a rebuild).
    file_has: Vec<&'a str>,
}

fn round_trip(kind: Kind, label: &str, trip: Trip<'_>) -> String {
    let setup = Setup::new(kind, label);
    setup.declare(trip.s1);
    setup.autogenerate("s1");
    setup.project.ok(&["upgrade", "head"]);
    setup.app.client(trip.seed);
    let s1 = catalog_of(kind, trip.s1);
    let s2 = catalog_of(kind, trip.s2);
    assert_same(&catalog(&setup.app), &s1, "after S1");

    setup.declare(trip.s2);
    let file = setup.autogenerate("s2");
    let text = std::fs::read_to_string(&file).unwrap();
    for wanted in &trip.file_has {
        assert!(
            text.contains(wanted),
            "{kind:?}: `{wanted}` missing from:\n{text}"
        );
    }
    setup.project.ok(&["upgrade", "head"]);
    assert_same(
        &catalog(&setup.app),
        &s2,
        &format!("{kind:?} after the upgrade\n{text}"),
    );
    for (query, rows) in &trip.after_up {
        assert_eq!(
            setup.rows(query),
            *rows,
            "{kind:?} after the upgrade: {query}\n{text}"
        );
    }
    setup.assert_nothing_to_generate();
    setup.project.ok(&["check", "--schema"]);

    setup.project.ok(&["downgrade", "-1"]);
    assert_same(
        &catalog(&setup.app),
        &s1,
        &format!("{kind:?} after the downgrade\n{text}"),
    );
    for (query, rows) in &trip.after_down {
        assert_eq!(
            setup.rows(query),
            *rows,
            "{kind:?} after the downgrade: {query}\n{text}"
        );
    }
    setup.project.ok(&["upgrade", "head"]);
    assert_same(
        &catalog(&setup.app),
        &s2,
        &format!("{kind:?} after the second upgrade"),
    );
    text
}

/// The boolean and timestamp types each database spells its own way.
fn boolean(kind: Kind) -> &'static str {
    match kind {
        Kind::Mysql => "BOOLEAN",
        _ => "BOOLEAN",
    }
}

#[test]
fn ten_nullable_columns_and_not_null_defaults_on_a_populated_table() {
    on_each(
        backends(
            "ten_nullable_columns_and_not_null_defaults_on_a_populated_table",
            true,
        ),
        |kind| {
            let s1 = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR(255) NOT NULL\n);\n";
            let mut s2 = String::from(
                "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR(255) NOT NULL,\n",
            );
            for i in 1..=10 {
                s2.push_str(&format!("  extra{i} VARCHAR(50),\n"));
            }
            s2.push_str(&format!(
                "  is_active {} NOT NULL DEFAULT true,\n  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n",
                boolean(kind)
            ));
            let active = if kind == Kind::Postgres { "t" } else { "1" };
            let expected = [
                format!("1|a@example.com|{active}|1"),
                format!("2|b@example.com|{active}|1"),
            ];
            let text = round_trip(
                kind,
                "guide1",
                Trip {
                    s1,
                    s2: &s2,
                    seed: "INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com');",
                    after_up: vec![(
                        "SELECT id, email, is_active, CASE WHEN created_at IS NOT NULL AND extra3 IS NULL THEN 1 ELSE 0 END FROM users ORDER BY id;",
                        expected.iter().map(String::as_str).collect(),
                    )],
                    after_down: vec![(
                        "SELECT id, email FROM users ORDER BY id;",
                        vec!["1|a@example.com", "2|b@example.com"],
                    )],
                    file_has: vec!["-- REVIEW: drops column users.is_active"],
                },
            );
            if kind == Kind::Sqlite {
                // CURRENT_TIMESTAMP is not a constant ALTER TABLE ADD COLUMN takes.
                assert!(text.contains("-- REVIEW: rebuilds table users"), "{text}");
            }
        },
    );
}

#[test]
fn a_phone_column_and_a_profiles_table_with_a_cascading_foreign_key() {
    on_each(
        backends(
            "a_phone_column_and_a_profiles_table_with_a_cascading_foreign_key",
            true,
        ),
        |kind| {
            let s1 = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  name VARCHAR(100) NOT NULL\n);\n";
            let s2 = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  name VARCHAR(100) NOT NULL,\n  phone VARCHAR(20)\n);\n\
                      CREATE TABLE user_profiles (\n  id INTEGER PRIMARY KEY,\n  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n  bio TEXT\n);\n\
                      CREATE INDEX user_profiles_user_id ON user_profiles (user_id);\n";
            let text = round_trip(
                kind,
                "guide2",
                Trip {
                    s1,
                    s2,
                    seed: "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');",
                    after_up: vec![(
                        "SELECT id, name FROM users ORDER BY id;",
                        vec!["1|ann", "2|bob"],
                    )],
                    after_down: vec![(
                        "SELECT id, name FROM users ORDER BY id;",
                        vec!["1|ann", "2|bob"],
                    )],
                    file_has: vec![
                        "-- REVIEW: drops table user_profiles",
                        "-- REVIEW: drops column users.phone",
                    ],
                },
            );
            // The table is created before its index (MySQL: in it).
            let up =
                &text[text.find("-- migrate:up").unwrap()..text.find("-- migrate:down").unwrap()];
            let table = up.find("CREATE TABLE user_profiles").unwrap();
            if kind == Kind::Mysql {
                assert!(up[table..].contains("FOREIGN KEY (user_id)"), "{up}");
                // The one note: MySQL commits each statement on its own.
                assert_eq!(up.matches("REVIEW").count(), 1, "{up}");
                assert!(
                    up.contains(
                        "-- REVIEW: MySQL commits each of these 2 DDL statements on its own"
                    ),
                    "{up}"
                );
            } else {
                assert!(
                    table < up.find("CREATE INDEX user_profiles_user_id").unwrap(),
                    "{up}"
                );
                assert!(
                    !up.contains("REVIEW"),
                    "adding a nullable column and a table risks nothing: {up}"
                );
            }
        },
    );
}

#[test]
fn a_widened_column_and_not_null_default_on_a_parent_keep_the_child_rows() {
    on_each(
        backends(
            "a_widened_column_and_not_null_default_on_a_parent_keep_the_child_rows",
            true,
        ),
        |kind| {
            let s1 = "CREATE TABLE categories (\n  id INTEGER PRIMARY KEY,\n  name VARCHAR(255) NOT NULL,\n  kind VARCHAR(20)\n);\n\
                      CREATE TABLE products (\n  id INTEGER PRIMARY KEY,\n  category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE\n);\n";
            let s2 = "CREATE TABLE categories (\n  id INTEGER PRIMARY KEY,\n  name VARCHAR(500) NOT NULL,\n  kind VARCHAR(20) NOT NULL DEFAULT 'misc'\n);\n\
                      CREATE TABLE products (\n  id INTEGER PRIMARY KEY,\n  category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE\n);\n";
            let text = round_trip(
                kind,
                "guide3",
                Trip {
                    s1,
                    s2,
                    seed: "INSERT INTO categories (id, name, kind) VALUES (1, 'books', NULL), (2, 'games', 'toys');\n\
                           INSERT INTO products (id, category_id) VALUES (10, 1), (11, 1), (12, 2);",
                    after_up: vec![
                        ("SELECT id, name, kind FROM categories ORDER BY id;", vec!["1|books|misc", "2|games|toys"]),
                        ("SELECT id, category_id FROM products ORDER BY id;", vec!["10|1", "11|1", "12|2"]),
                    ],
                    after_down: vec![
                        ("SELECT id, name, kind FROM categories ORDER BY id;", vec!["1|books|misc", "2|games|toys"]),
                        ("SELECT id, category_id FROM products ORDER BY id;", vec!["10|1", "11|1", "12|2"]),
                    ],
                    file_has: vec!["-- REVIEW: makes categories.kind NOT NULL; rows holding NULL there are first set to its default"],
                },
            );
            if kind == Kind::Sqlite {
                assert!(
                    text.contains("-- REVIEW: rebuilds table categories"),
                    "{text}"
                );
            }
        },
    );
}

#[test]
fn unique_indexes_a_named_foreign_key_column_and_a_dropped_table() {
    on_each(
        backends(
            "unique_indexes_a_named_foreign_key_column_and_a_dropped_table",
            true,
        ),
        |kind| {
            let s1 = "CREATE TABLE teams (\n  id INTEGER PRIMARY KEY,\n  name VARCHAR(100) NOT NULL\n);\n\
                      CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR(200) NOT NULL\n);\n\
                      CREATE TABLE legacy_logs (\n  id INTEGER PRIMARY KEY,\n  line TEXT\n);\n";
            let s2 = "CREATE TABLE teams (\n  id INTEGER PRIMARY KEY,\n  name VARCHAR(100) NOT NULL\n);\n\
                      CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR(200) NOT NULL,\n  team_id INTEGER,\n  CONSTRAINT fk_users_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL\n);\n\
                      CREATE UNIQUE INDEX users_email_unique ON users (email);\n\
                      CREATE UNIQUE INDEX teams_name_unique ON teams (name);\n";
            round_trip(
                kind,
                "guide4",
                Trip {
                    s1,
                    s2,
                    seed: "INSERT INTO teams (id, name) VALUES (1, 'red'), (2, 'blue');\n\
                           INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x');\n\
                           INSERT INTO legacy_logs (id, line) VALUES (1, 'old');",
                    after_up: vec![(
                        "SELECT id, email FROM users ORDER BY id;",
                        vec!["1|a@x", "2|b@x"],
                    )],
                    after_down: vec![
                        (
                            "SELECT id, email FROM users ORDER BY id;",
                            vec!["1|a@x", "2|b@x"],
                        ),
                        ("SELECT count(*) FROM legacy_logs;", vec!["0"]),
                    ],
                    file_has: vec![
                        "-- REVIEW: drops table legacy_logs",
                        "-- REVIEW: adds a unique rule on users",
                        "-- REVIEW: adds a foreign key users (team_id) to teams",
                    ],
                },
            );
        },
    );
}

#[test]
fn declared_renames_keep_the_data() {
    on_each(backends("declared_renames_keep_the_data", true), |kind| {
        let s1 = "CREATE TABLE accounts (\n  id INTEGER PRIMARY KEY,\n  username VARCHAR(50) NOT NULL\n);\n";
        let s2 = "CREATE TABLE members ( -- renamed from: accounts\n  id INTEGER PRIMARY KEY,\n  login VARCHAR(50) NOT NULL -- renamed from: username\n);\n";
        let expected_s2 =
            "CREATE TABLE members (\n  id INTEGER PRIMARY KEY,\n  login VARCHAR(50) NOT NULL\n);\n";
        let setup = Setup::new(kind, "rename");
        setup.declare(s1);
        setup.autogenerate("s1");
        setup.project.ok(&["upgrade", "head"]);
        setup
            .app
            .client("INSERT INTO accounts (id, username) VALUES (1, 'ann');");
        setup.declare(s2);
        let file = setup.autogenerate("rename");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("DROP COLUMN"),
            "a rename is not a drop and an add:\n{text}"
        );
        setup.project.ok(&["upgrade", "head"]);
        assert_same(
            &catalog(&setup.app),
            &catalog_of(kind, expected_s2),
            "after the rename",
        );
        assert_eq!(setup.rows("SELECT id, login FROM members;"), vec!["1|ann"]);
        setup.assert_nothing_to_generate();
        setup.project.ok(&["downgrade", "-1"]);
        assert_eq!(
            setup.rows("SELECT id, username FROM accounts;"),
            vec!["1|ann"]
        );
        assert_same(
            &catalog(&setup.app),
            &catalog_of(kind, s1),
            "after the downgrade",
        );
    });
}

#[test]
fn check_schema_reports_the_differences_and_schema_dump_prints_the_chain() {
    on_each(
        backends(
            "check_schema_reports_the_differences_and_schema_dump_prints_the_chain",
            true,
        ),
        |kind| {
            let s1 = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR(100) NOT NULL\n);\nCREATE INDEX users_email ON users (email);\n";
            let setup = Setup::new(kind, "check");
            setup.declare(s1);
            setup.autogenerate("s1");
            let out = setup.project.ok(&["check", "--schema"]);
            assert!(
                out.contains("ok: the migrations produce exactly schema.sql"),
                "{out}"
            );

            setup.declare("CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR(100) NOT NULL,\n  phone VARCHAR(20)\n);\nCREATE INDEX users_email ON users (email);\n");
            let (stdout, stderr) = setup.project.fails(1, &["check", "--schema"]);
            assert!(
                stdout.contains("differs: column users.phone is declared but missing"),
                "{stdout}"
            );
            assert!(
                stderr.contains("error: the migrations do not produce schema.sql: 1 difference"),
                "{stderr}"
            );
            let (json, _) = setup.project.fails(1, &["check", "--schema", "--json"]);
            let json: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(json["ok"], false);
            assert_eq!(json["differences"].as_array().unwrap().len(), 1);

            // The dump is DDL that makes exactly the chain's schema.
            let dump = setup.project.ok(&["schema", "dump"]);
            assert!(dump.contains("CREATE TABLE"), "{dump}");
            assert_same(
                &catalog_of(kind, &dump),
                &catalog_of(kind, s1),
                &format!("the dump\n{dump}"),
            );
            setup.declare(&dump);
            setup.project.ok(&["check", "--schema"]);
        },
    );
}

#[test]
fn schema_file_errors_name_their_line_and_leave_no_scratch_database() {
    on_each(
        backends(
            "schema_file_errors_name_their_line_and_leave_no_scratch_database",
            true,
        ),
        |kind| {
            let setup = Setup::new(kind, "errors");
            setup
                .declare("CREATE TABLE a (id INTEGER PRIMARY KEY);\n\nINSERT INTO a VALUES (1);\n");
            let (_, stderr) = setup
                .project
                .fails(2, &["revision", "--autogenerate", "-m", "x"]);
            assert!(
                stderr.contains("error: schema.sql:3: `INSERT INTO a VALUES (1);` is not a statement a schema file holds"),
                "{stderr}"
            );

            setup.declare("CREATE TABLE a (id INTEGER PRIMARY KEY);\n-- twice\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n");
            let child = setup
                .project
                .std_command(&["revision", "--autogenerate", "-m", "x"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let pid = child.id();
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            assert!(
                stderr.contains("error: schema.sql:3: the database refused this statement: "),
                "{stderr}"
            );
            assert_eq!(setup.files(), 0);
            let left = match kind {
                Kind::Sqlite => String::new(),
                Kind::Postgres => setup.app.client(&format!(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'migrate_scratch_%\\_{pid}\\_%';"
                )),
                Kind::Mysql => setup.app.client(&format!("SHOW DATABASES LIKE 'migrate_scratch_%\\_{pid}\\_%';")),
            };
            assert_eq!(left.trim(), "", "scratch databases left on the server");

            if kind != Kind::Sqlite {
                // A development database with tables in it is refused as a
                // configuration error (exit 2), saying what to do.
                setup.declare("CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
                setup
                    ._dev
                    .as_ref()
                    .unwrap()
                    .client("CREATE TABLE precious (id INTEGER);");
                let (_, stderr) = setup
                    .project
                    .fails(2, &["revision", "--autogenerate", "-m", "x"]);
                assert!(stderr.contains("is not empty (it holds "), "{stderr}");
                assert!(stderr.contains("precious"), "{stderr}");
                assert!(
                    stderr.contains("hint: point dev_database_url (or --dev-url, MIGRATE_DEV_URL) at an empty database"),
                    "{stderr}"
                );
                for verb in [
                    &["check", "--schema"][..],
                    &["schema", "dump"],
                    &["check", "--replay"],
                ] {
                    let (_, stderr) = setup.project.fails(2, verb);
                    assert!(stderr.contains("precious"), "{verb:?}: {stderr}");
                }
            }
        },
    );
}

#[test]
fn postgres_enum_labels_added_and_removed_again_in_the_down() {
    for kind in backends(
        "postgres_enum_labels_added_and_removed_again_in_the_down",
        true,
    ) {
        if kind != Kind::Postgres {
            continue;
        }
        let s1 = "CREATE TYPE mood AS ENUM ('happy', 'sad');\nCREATE TABLE people (\n  id INTEGER PRIMARY KEY,\n  feeling mood NOT NULL DEFAULT 'happy'\n);\n";
        let s2 = "CREATE TYPE mood AS ENUM ('happy', 'meh', 'sad');\nCREATE TABLE people (\n  id INTEGER PRIMARY KEY,\n  feeling mood NOT NULL DEFAULT 'happy'\n);\n";
        round_trip(
            kind,
            "enum",
            Trip {
                s1,
                s2,
                seed: "INSERT INTO people (id, feeling) VALUES (1, 'sad'), (2, 'happy');",
                after_up: vec![(
                    "SELECT id, feeling FROM people ORDER BY id;",
                    vec!["1|sad", "2|happy"],
                )],
                after_down: vec![(
                    "SELECT id, feeling FROM people ORDER BY id;",
                    vec!["1|sad", "2|happy"],
                )],
                file_has: vec![
                    "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad';",
                    "-- REVIEW: rebuilds type mood without the labels 'meh'",
                ],
            },
        );
    }
}

#[test]
fn a_sqlite_rebuild_keeps_triggers_and_adds_a_check() {
    let setup = Setup::new(Kind::Sqlite, "trigger");
    let first = setup
        .project
        .revision("users and audit", &["--rev-id", "a00000000001"]);
    common::fill(
        &first,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER);\n\
         CREATE TABLE audit (user_id INTEGER);\n\
         CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.id); END;",
        Some("DROP TRIGGER users_audit;\nDROP TABLE audit;\nDROP TABLE users;"),
        &[],
    );
    setup.project.ok(&["upgrade", "head"]);
    setup.app.client("INSERT INTO users VALUES (1, 30);");
    setup.declare(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER NOT NULL DEFAULT 0 CHECK (age >= 0));\n\
         CREATE TABLE audit (user_id INTEGER);\n",
    );
    let file = setup.autogenerate("age rules");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("-- REVIEW: rebuilds table users"), "{text}");
    assert!(
        text.contains("-- REVIEW: adds CHECK (AGE >= 0) to users"),
        "{text}"
    );
    setup.project.ok(&["upgrade", "head"]);
    // The row survived, and the trigger still fires.
    setup.app.client("INSERT INTO users VALUES (2, 40);");
    assert_eq!(
        setup.rows("SELECT id, age FROM users ORDER BY id;"),
        vec!["1|30", "2|40"]
    );
    assert_eq!(
        setup.rows("SELECT user_id FROM audit ORDER BY 1;"),
        vec!["1", "2"]
    );
    setup.assert_nothing_to_generate();
    setup.project.ok(&["downgrade", "-1"]);
    assert_eq!(
        setup.rows("SELECT name FROM sqlite_master WHERE type = 'trigger';"),
        vec!["users_audit"]
    );
}

#[test]
fn ctrl_c_during_the_replay_drops_the_scratch_databases() {
    on_each(
        backends("ctrl_c_during_the_replay_drops_the_scratch_databases", true),
        |kind| {
            if kind == Kind::Sqlite {
                return;
            }
            let setup = Setup::new(kind, "interrupt");
            let slow = setup
                .project
                .revision("slow", &["--rev-id", "a00000000001"]);
            let sleep = match kind {
                Kind::Postgres => "SELECT pg_sleep(20);",
                _ => "SELECT SLEEP(20);",
            };
            common::fill(
                &slow,
                &format!("CREATE TABLE a (id INTEGER PRIMARY KEY);\n{sleep}"),
                Some("DROP TABLE a;"),
                &[],
            );
            setup.declare("CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
            let child = setup
                .project
                .std_command(&["revision", "--autogenerate", "-m", "x"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let pid = child.id();
            let scratch = |db: &TestDb| {
                match kind {
                Kind::Postgres => db.client(&format!(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'migrate_scratch_%\\_{pid}\\_%';"
                )),
                _ => db.client(&format!("SHOW DATABASES LIKE 'migrate_scratch_%\\_{pid}\\_%';")),
            }
            };
            // Wait until the replay is under way in its scratch database.
            let started = std::time::Instant::now();
            while scratch(&setup.app).trim().is_empty() {
                assert!(
                    started.elapsed().as_secs() < 15,
                    "no scratch database appeared"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
            let status = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(130), "{stderr}");
            assert!(
                stderr
                    .contains("interrupted by Ctrl-C (SIGINT); the scratch databases are dropped"),
                "{stderr}"
            );
            assert!(
                started.elapsed().as_secs() < 15,
                "the sleep was not cut short"
            );
            assert_eq!(
                scratch(&setup.app).trim(),
                "",
                "scratch databases left on the server"
            );
            assert_eq!(setup.files(), 1);
        },
    );
}

/// Whether an UPDATE of another column moves `updated_at` of row 1, which
/// the seed set to 2000-01-01: what `ON UPDATE CURRENT_TIMESTAMP` does.
fn updated_at_moves(setup: &Setup) -> bool {
    setup.app.client(
        "UPDATE posts SET updated_at = '2000-01-01 00:00:00' WHERE id = 1;\n\
         UPDATE posts SET body = CONCAT(COALESCE(body, ''), '.') WHERE id = 1;",
    );
    setup.rows("SELECT YEAR(updated_at) > 2000 FROM posts WHERE id = 1;") == vec!["1"]
}

#[test]
fn mysql_on_update_current_timestamp_survives_every_modify_column() {
    for kind in backends(
        "mysql_on_update_current_timestamp_survives_every_modify_column",
        true,
    ) {
        if kind != Kind::Mysql {
            continue;
        }
        // updated_at itself changes (nullability and a comment) and so do
        // other columns (a widening, a comment, NOT NULL with a default):
        // each MODIFY COLUMN restates the whole definition.
        let s1 = "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  title VARCHAR(50),\n  body VARCHAR(100),\n  updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP\n);\n";
        let s2 = "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  title VARCHAR(200) NOT NULL DEFAULT 'untitled' COMMENT 'shown in lists',\n  body VARCHAR(100) COMMENT 'markdown, it''s rendered',\n  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT 'last change'\n);\n";
        let setup = Setup::new(kind, "onupdate");
        setup.declare(s1);
        setup.autogenerate("s1");
        setup.project.ok(&["upgrade", "head"]);
        setup.app.client(
            "INSERT INTO posts (id, title, body) VALUES (1, NULL, 'hello'), (2, 'b', NULL);",
        );
        assert!(updated_at_moves(&setup), "S1 itself has ON UPDATE");
        setup
            .app
            .client("UPDATE posts SET updated_at = '2000-01-01 00:00:00';");
        setup.declare(s2);
        let file = setup.autogenerate("s2");
        let text = std::fs::read_to_string(&file).unwrap();
        let up = &text[text.find("-- migrate:up").unwrap()..text.find("-- migrate:down").unwrap()];
        assert!(
            up.contains("MODIFY COLUMN updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() COMMENT 'last change'"),
            "{text}"
        );
        assert!(
            up.contains("MODIFY COLUMN body varchar(100) NULL COMMENT 'markdown, it''s rendered'"),
            "{text}"
        );
        // The backfill of title's NULLs leaves updated_at alone.
        assert!(
            up.contains(
                "UPDATE posts SET title = 'untitled', updated_at = updated_at WHERE title IS NULL"
            ),
            "{text}"
        );
        setup.project.ok(&["upgrade", "head"]);
        assert_eq!(
            setup.rows("SELECT id, YEAR(updated_at) FROM posts ORDER BY id;"),
            vec!["1|2000", "2|2000"],
            "the upgrade stamped the rows\n{text}"
        );
        assert_same(
            &catalog(&setup.app),
            &catalog_of(kind, s2),
            &format!("after the upgrade\n{text}"),
        );
        assert!(
            updated_at_moves(&setup),
            "ON UPDATE lost by the upgrade\n{text}"
        );
        assert_eq!(
            setup.rows("SELECT id, title, body FROM posts ORDER BY id;"),
            vec!["1|untitled|hello..", "2|b|NULL"]
        );
        setup.assert_nothing_to_generate();
        setup.project.ok(&["check", "--schema"]);
        setup.project.ok(&["downgrade", "-1"]);
        assert_same(
            &catalog(&setup.app),
            &catalog_of(kind, s1),
            &format!("after the downgrade\n{text}"),
        );
        assert!(
            updated_at_moves(&setup),
            "ON UPDATE lost by the downgrade\n{text}"
        );
    }
}

#[test]
fn mysql_on_update_added_and_removed_again_in_the_down() {
    for kind in backends("mysql_on_update_added_and_removed_again_in_the_down", true) {
        if kind != Kind::Mysql {
            continue;
        }
        let s1 = "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  body VARCHAR(100),\n  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n";
        let s2 = "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  body VARCHAR(100),\n  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP\n);\n";
        let setup = Setup::new(kind, "onupdate2");
        setup.declare(s1);
        setup.autogenerate("s1");
        setup.project.ok(&["upgrade", "head"]);
        setup
            .app
            .client("INSERT INTO posts (id, body) VALUES (1, 'x');");
        assert!(!updated_at_moves(&setup));

        // check --schema names the difference before the revision exists.
        setup.declare(s2);
        let (stdout, _) = setup.project.fails(1, &["check", "--schema"]);
        assert!(
            stdout.contains("differs: column posts.updated_at is timestamp NOT NULL DEFAULT current_timestamp(), declared timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()"),
            "{stdout}"
        );
        let file = setup.autogenerate("on update");
        let text = std::fs::read_to_string(&file).unwrap();
        let (up, down) = text.split_once("-- migrate:down").unwrap();
        assert!(up.contains("ON UPDATE current_timestamp()"), "{text}");
        assert!(
            down.contains(
                "MODIFY COLUMN updated_at timestamp NOT NULL DEFAULT current_timestamp();"
            ),
            "{text}"
        );
        setup.project.ok(&["upgrade", "head"]);
        assert!(
            updated_at_moves(&setup),
            "the upgrade did not add ON UPDATE\n{text}"
        );
        setup.assert_nothing_to_generate();
        setup.project.ok(&["downgrade", "-1"]);
        assert_same(
            &catalog(&setup.app),
            &catalog_of(kind, s1),
            "after the downgrade",
        );
        assert!(
            !updated_at_moves(&setup),
            "the downgrade did not remove ON UPDATE\n{text}"
        );

        // And the other way: a declared removal.
        setup.project.ok(&["upgrade", "head"]);
        setup.declare(s1);
        let file = setup.autogenerate("no on update");
        let text = std::fs::read_to_string(&file).unwrap();
        setup.project.ok(&["upgrade", "head"]);
        assert!(!updated_at_moves(&setup), "{text}");
        setup.project.ok(&["downgrade", "-1"]);
        assert!(updated_at_moves(&setup), "{text}");
    }
}

#[test]
fn column_comments_are_generated_changed_and_removed() {
    on_each(
        backends("column_comments_are_generated_changed_and_removed", true),
        |kind| {
            let (s1, s2) = match kind {
                Kind::Sqlite => return,
                Kind::Postgres => (
                    "CREATE TABLE notes (\n  id INTEGER PRIMARY KEY,\n  body TEXT,\n  tag VARCHAR(20)\n);\nCOMMENT ON COLUMN notes.tag IS 'old';\n",
                    "CREATE TABLE notes (\n  id INTEGER PRIMARY KEY,\n  body TEXT,\n  tag VARCHAR(20)\n);\nCOMMENT ON COLUMN notes.body IS 'it''s markdown';\n\
                     CREATE TABLE labels (\n  id INTEGER PRIMARY KEY\n);\nCOMMENT ON COLUMN labels.id IS 'the key';\n",
                ),
                Kind::Mysql => (
                    "CREATE TABLE notes (\n  id INTEGER PRIMARY KEY,\n  body TEXT,\n  tag VARCHAR(20) COMMENT 'old'\n);\n",
                    "CREATE TABLE notes (\n  id INTEGER PRIMARY KEY,\n  body TEXT COMMENT 'it''s markdown',\n  tag VARCHAR(20)\n);\n\
                     CREATE TABLE labels (\n  id INTEGER PRIMARY KEY COMMENT 'the key'\n);\n",
                ),
            };
            let text = round_trip(
                kind,
                "comments",
                Trip {
                    s1,
                    s2,
                    seed: "INSERT INTO notes (id, body, tag) VALUES (1, 'hi', 'a');",
                    after_up: vec![("SELECT id, body, tag FROM notes;", vec!["1|hi|a"])],
                    after_down: vec![("SELECT id, body, tag FROM notes;", vec!["1|hi|a"])],
                    file_has: vec!["'it''s markdown'", "'the key'"],
                },
            );
            if kind == Kind::Postgres {
                assert!(
                    text.contains("COMMENT ON COLUMN notes.tag IS NULL;"),
                    "{text}"
                );
            }
        },
    );
}

#[test]
fn a_declared_generated_column_is_refused_on_its_line() {
    on_each(
        backends("a_declared_generated_column_is_refused_on_its_line", true),
        |kind| {
            let setup = Setup::new(kind, "generated");
            let column = match kind {
                Kind::Mysql => "total INTEGER AS (price * 2) STORED",
                _ => "total INTEGER GENERATED ALWAYS AS (price * 2) STORED",
            };
            setup.declare(&format!(
                "CREATE TABLE items (\n  id INTEGER PRIMARY KEY,\n  price INTEGER,\n  {column}\n);\n"
            ));
            for verb in [
                &["revision", "--autogenerate", "-m", "x"][..],
                &["check", "--schema"],
            ] {
                let (_, stderr) = setup.project.fails(2, verb);
                assert!(
                    stderr.contains(
                        "error: schema.sql:4: generated column `total` is not supported yet"
                    ),
                    "{verb:?}: {stderr}"
                );
            }
            assert_eq!(setup.files(), 0);
        },
    );
}
