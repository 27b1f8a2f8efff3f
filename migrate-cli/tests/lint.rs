//! `migrate check --lint`: what a user reads (file:line, rule id, why),
//! when it exits 1, `--since` for CI, `--json`, the opt-outs and their
//! typos, and, on real databases, that what it calls certain to fail does
//! fail.

mod common;

use common::{backends, on_each, Kind, Project, TestDb};

/// A project (no database configured) with `files` as `(name, text)`.
fn project(files: &[(&str, &str)]) -> Project {
    let project = Project::new(None);
    for (name, text) in files {
        project.write_migration(name, text);
    }
    project
}

const USERS: (&str, &str) = (
    "a00000000001_users.sql",
    "-- revision: a00000000001\n-- message: users\n\n-- migrate:up\n\
     CREATE TABLE users (id integer, email text);\n\
     CREATE INDEX users_email ON users (email);\n\
     \n-- migrate:down\nDROP TABLE users;\n",
);

const DROP_EMAIL: (&str, &str) = (
    "b00000000002_drop_email.sql",
    "-- revision: b00000000002\n-- revises: a00000000001\n-- message: drop email\n\n\
     -- migrate:up\nALTER TABLE users DROP COLUMN email;\n",
);

const RENAME: (&str, &str) = (
    "c00000000003_rename.sql",
    "-- revision: c00000000003\n-- revises: b00000000002\n-- message: rename\n\n\
     -- migrate:up\n-- migrate:allow drop-table\nALTER TABLE users RENAME COLUMN id TO user_id;\n",
);

#[test]
fn findings_name_the_file_line_rule_and_reason_and_exit_1() {
    let project = project(&[USERS, DROP_EMAIL, RENAME]);
    let (stdout, stderr) = project.fails(1, &["check", "--lint", "--dialect", "postgres"]);
    assert_eq!(
        stdout,
        "migrations/b00000000002_drop_email.sql:6: warning[drop-column]: drops column \
         users.email: its data is lost, and the running version of the application may still read it\n\
         migrations/c00000000003_rename.sql:7: warning[rename-column]: renames column \
         users.id to user_id: breaks the running version of the application, which still uses the old name\n"
    );
    assert!(
        stderr.starts_with("error: lint found 2 findings\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: review each statement named above"),
        "{stderr}"
    );
}

#[test]
fn a_clean_directory_exits_0_and_says_so() {
    // The index on a table created in the same revision is exempt.
    let project = project(&[USERS]);
    let stdout = project.ok(&["check", "--lint", "--dialect", "postgres"]);
    assert_eq!(stdout, "ok: 1 revision linted for postgres, no findings\n");
}

#[test]
fn since_fails_only_on_newer_revisions_but_on_errors_anywhere() {
    let project = project(&[USERS, DROP_EMAIL, RENAME]);
    let (stdout, _) = project.fails(
        1,
        &[
            "check",
            "--lint",
            "--dialect",
            "sqlite",
            "--since",
            "b00000000002",
        ],
    );
    assert!(!stdout.contains("drop-column"), "{stdout}");
    assert!(stdout.contains("warning[rename-column]"), "{stdout}");
    project.ok(&[
        "check",
        "--lint",
        "--dialect",
        "sqlite",
        "--since",
        "c00000000003",
    ]);

    // An error in a released revision still fails: it cannot run.
    let project = Project::new(None);
    project.write_migration(
        "a00000000001_index.sql",
        "-- revision: a00000000001\n-- migrate:up\nCREATE INDEX CONCURRENTLY i ON t (c);\n",
    );
    let (stdout, _) = project.fails(
        1,
        &[
            "check",
            "--lint",
            "--dialect",
            "postgres",
            "--since",
            "a00000000001",
        ],
    );
    assert_eq!(
        stdout,
        "migrations/a00000000001_index.sql:3: error[concurrently-in-transaction]: runs \
         CONCURRENTLY in a revision that runs in a transaction: PostgreSQL refuses CONCURRENTLY \
         inside a transaction block: add `-- transaction: false` to the header\n"
    );
    let (_, stderr) = project.fails(
        2,
        &[
            "check",
            "--lint",
            "--dialect",
            "postgres",
            "--since",
            "nope",
        ],
    );
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn json_lists_findings_and_statements_not_checked() {
    let project = project(&[
        USERS,
        (
            "b00000000002_do.sql",
            "-- revision: b00000000002\n-- revises: a00000000001\n-- migrate:up\n\
             DO $$ BEGIN DROP TABLE users; END $$;\nDROP TABLE users;\n",
        ),
    ]);
    let (stdout, _) = project.fails(1, &["check", "--lint", "--dialect", "postgres", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["dialect"], "postgres");
    let finding = &json["findings"][0];
    assert_eq!(finding["revision"], "b00000000002");
    assert_eq!(finding["file"], "migrations/b00000000002_do.sql");
    assert_eq!(finding["line"], 5);
    assert_eq!(finding["rule"], "drop-table");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["message"], "drops table users");
    assert_eq!(json["findings"].as_array().unwrap().len(), 1);
    let note = &json["not_checked"][0];
    assert_eq!(note["line"], 4);
    assert!(note["reason"].as_str().unwrap().contains("DO"), "{note}");
}

#[test]
fn a_statement_not_checked_is_a_note_not_a_failure() {
    let project = project(&[(
        "a00000000001_do.sql",
        "-- revision: a00000000001\n-- migrate:up\nDO $$ BEGIN PERFORM 1; END $$;\n",
    )]);
    let stdout = project.ok(&["check", "--lint", "--dialect", "postgres"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(
            "migrations/a00000000001_do.sql:3: note: not checked: the SQL parser cannot read this statement ("
        ),
        "{stdout}"
    );
    assert_eq!(
        lines[1],
        "ok: 1 revision linted for postgres, no findings; 1 statement not checked (see the notes above)"
    );
}

#[test]
fn the_dialect_comes_from_the_configured_database_url() {
    let project = project(&[USERS, DROP_EMAIL]);
    // No URL and no --dialect: which rules apply is unknown.
    let (_, stderr) = project.fails(2, &["check", "--lint"]);
    assert!(stderr.contains("which SQL dialect?"), "{stderr}");
    // set-not-null is a PostgreSQL rule: the URL's dialect decides; no
    // connection is made (nothing listens on port 1).
    project.write_migration(
        "c00000000003_not_null.sql",
        "-- revision: c00000000003\n-- revises: b00000000002\n-- migrate:up\n\
         -- migrate:allow drop-column\nALTER TABLE users ALTER COLUMN id SET NOT NULL;\n",
    );
    let lint = |url: &str| {
        let output = project
            .migrate()
            .env("DATABASE_URL", url)
            .args(["check", "--lint"])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(lint("postgres://nobody@127.0.0.1:1/db").contains("warning[set-not-null]"));
    assert!(!lint("sqlite://app.db").contains("set-not-null"));
}

#[test]
fn without_a_url_the_dialect_of_migrate_toml_is_used() {
    let project = project(&[USERS]);
    project.write_migration(
        "b00000000002_not_null.sql",
        "-- revision: b00000000002\n-- revises: a00000000001\n-- migrate:up\n\
         ALTER TABLE users ALTER COLUMN id SET NOT NULL;\n",
    );
    let toml = project.path().join("migrate.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("dialect = \"postgres\"\n{text}")).unwrap();
    // set-not-null is a PostgreSQL rule: the file's dialect decided.
    let (stdout, _) = project.fails(1, &["check", "--lint"]);
    assert!(stdout.contains("warning[set-not-null]"), "{stdout}");
    // --dialect still wins.
    project.ok(&["check", "--lint", "--dialect", "sqlite"]);

    // A URL of another dialect contradicts the file: the build lints for
    // one database and the CLI would for another.
    let output = project
        .migrate()
        .env("DATABASE_URL", "sqlite://app.db")
        .args(["check", "--lint"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "error: the database URL is sqlite but migrate.toml sets `dialect = \"postgres\"`\n\
             hint: correct one of them, or give --dialect\n"
        ),
        "{stderr}"
    );

    std::fs::write(&toml, format!("dialect = \"postgresql\"\n{text}")).unwrap();
    let (stdout, _) = project.fails(1, &["check", "--lint"]);
    assert!(stdout.contains("warning[set-not-null]"), "{stdout}");
    std::fs::write(&toml, format!("dialect = \"postgre\"\n{text}")).unwrap();
    let (_, stderr) = project.fails(2, &["heads"]);
    assert!(
        stderr.starts_with("error: migrate.toml:1: unknown dialect `postgre`: write \"postgres\""),
        "{stderr}"
    );
}

#[test]
fn an_unknown_rule_in_a_file_names_the_file_and_line() {
    let project = project(&[(
        "a00000000001_x.sql",
        "-- revision: a00000000001\n-- migrate:up\n-- migrate:allow drop-colum\nDROP TABLE t;\n",
    )]);
    let (stdout, stderr) = project.fails(2, &["check", "--lint", "--dialect", "sqlite"]);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(
            "error: migrations/a00000000001_x.sql:3: unknown lint rule `drop-colum`: did you mean `drop-column`?\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: `-- migrate:allow` takes rule ids: drop-table, "),
        "{stderr}"
    );
    // The comment is no section marker: the file still loads and runs.
    project.ok(&["heads"]);
}

#[test]
fn the_project_allow_list_in_migrate_toml() {
    let project = project(&[USERS, DROP_EMAIL, RENAME]);
    let toml = project.path().join("migrate.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("{text}\n[lint]\nallow = [\"drop-column\", \"rename-column\"]\n"),
    )
    .unwrap();
    project.ok(&["check", "--lint", "--dialect", "postgres"]);

    let lines = text.lines().count();
    std::fs::write(
        &toml,
        format!("{text}\n[lint]\nallow = [\"rename-colum\"]\n"),
    )
    .unwrap();
    let (_, stderr) = project.fails(2, &["check", "--lint", "--dialect", "postgres"]);
    assert!(
        stderr.starts_with(&format!(
            "error: migrate.toml:{}: [lint] allow: unknown lint rule `rename-colum`: did you mean `rename-column`?\n",
            lines + 3
        )),
        "{stderr}"
    );
    // Only the lint refuses it: the other commands work on.
    project.ok(&["heads"]);
}

/// What the lint calls certain to fail does fail on PostgreSQL, and its
/// safe twin (`-- transaction: false`) applies; a NOT NULL column without
/// a default, which it warns about, fails on a table with rows.
#[test]
fn on_real_databases_the_findings_are_real() {
    let kinds: Vec<Kind> = backends("on_real_databases_the_findings_are_real", false)
        .into_iter()
        .filter(|kind| *kind != Kind::Mysql) // MySQL fills NOT NULL columns with 0
        .collect();
    on_each(kinds, |kind| {
        let db = TestDb::new(kind, "lint");
        let project = Project::new(Some(&db));
        project.write_migration(
            "a00000000001_users.sql",
            "-- revision: a00000000001\n-- migrate:up\nCREATE TABLE users (id integer);\n\
             INSERT INTO users (id) VALUES (1);\n",
        );
        project.write_migration(
            "b00000000002_age.sql",
            "-- revision: b00000000002\n-- revises: a00000000001\n-- migrate:up\n\
             ALTER TABLE users ADD COLUMN age integer NOT NULL;\n",
        );
        let (stdout, _) = project.fails(1, &["check", "--lint"]);
        assert!(
            stdout.starts_with(
                "migrations/b00000000002_age.sql:4: warning[add-column-not-null-without-default]"
            ),
            "{stdout}"
        );
        project.fails(3, &["upgrade", "head"]);
        if kind != Kind::Postgres {
            return;
        }
        let index = project.write_migration(
            "c00000000003_index.sql",
            "-- revision: c00000000003\n-- revises: b00000000002\n-- migrate:up\n\
             CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
        );
        project.write_migration(
            "b00000000002_age.sql",
            "-- revision: b00000000002\n-- revises: a00000000001\n-- migrate:up\n\
             ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;\n",
        );
        let (stdout, _) = project.fails(1, &["check", "--lint"]);
        assert!(
            stdout.starts_with(
                "migrations/c00000000003_index.sql:4: error[concurrently-in-transaction]"
            ),
            "{stdout}"
        );
        let (_, stderr) = project.fails(3, &["upgrade", "head"]);
        assert!(stderr.contains("CONCURRENTLY"), "{stderr}");
        std::fs::write(
            &index,
            "-- revision: c00000000003\n-- revises: b00000000002\n-- transaction: false\n\
             -- migrate:up\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n",
        )
        .unwrap();
        project.ok(&["check", "--lint"]);
        project.ok(&["upgrade", "head"]);
    });
}
