//! `migrate check --replay` on real databases: every revision up, down and
//! up again on scratch databases; a down that forgets a column, a down
//! that fails, an up the database rejects and an up that fails again after
//! its down are each reported naming the revision, on a chain and on two
//! branches joined by a merge; the scratch databases are gone afterwards.

mod common;

use common::{backends, dev_database, fill, on_each, Kind, Project, TestDb};

/// A project on a database of its own, with a development server for the
/// scratch databases (PostgreSQL, MySQL).
struct Setup {
    _app: TestDb,
    dev: Option<TestDb>,
    project: Project,
}

impl Setup {
    fn new(kind: Kind, label: &str) -> Setup {
        let app = TestDb::new(kind, label);
        let project = Project::new(Some(&app));
        let dev = dev_database(&project, kind);
        Setup {
            _app: app,
            dev,
            project,
        }
    }

    /// A revision `id` with these sections.
    fn revision(&self, id: &str, up: &str, down: Option<&str>) {
        let file = self.project.revision(id, &["--rev-id", id]);
        fill(&file, up, down, &[]);
    }

    /// A revision file written by hand, for the graphs `migrate revision`
    /// makes only step by step: `revises` (`a, b` for a merge) and the
    /// `depends_on` header line.
    fn written(&self, id: &str, revises: &str, depends_on: &str, up: &str, down: &str) {
        let mut text = format!("-- revision: {id}\n-- revises: {revises}\n-- message: {id}\n");
        if !depends_on.is_empty() {
            text.push_str(&format!("-- depends_on: {depends_on}\n"));
        }
        text.push_str(&format!(
            "\n-- migrate:up\n{up}\n\n-- migrate:down\n{down}\n"
        ));
        self.project
            .write_migration(&format!("{id}_{id}.sql"), &text);
    }

    /// Two branches from `a00000000001`, one of them depending on the
    /// other, joined by the merge `d00000000001`: `left_down` and
    /// `merge_down` are the downs of the left branch and of the merge.
    fn branches(&self, kind: Kind, left_down: &str, merge_down: &str) {
        self.written(
            "a00000000001",
            "",
            "",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            "DROP TABLE users;",
        );
        self.written(
            "b00000000001",
            "a00000000001",
            "",
            "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
            "ALTER TABLE users DROP COLUMN phone;",
        );
        self.written(
            "c00000000001",
            "a00000000001",
            "",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY);",
            left_down,
        );
        // Needs the right branch's column, so it depends on it.
        self.written(
            "c00000000002",
            "c00000000001",
            "b00000000001",
            "CREATE INDEX users_phone ON users (phone);",
            match kind {
                Kind::Mysql => "DROP INDEX users_phone ON users;",
                _ => "DROP INDEX users_phone;",
            },
        );
        self.written(
            "d00000000001",
            "b00000000001, c00000000002",
            "",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
            merge_down,
        );
    }

    /// `migrate check --replay`, expecting exit `code`: (stdout, stderr),
    /// after asserting that no scratch database of that process is left
    /// on the development server.
    fn replay(&self, code: i32) -> (String, String) {
        let child = self
            .project
            .std_command(&["check", "--replay"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let output = child.wait_with_output().unwrap();
        let out = String::from_utf8(output.stdout).unwrap();
        let err = String::from_utf8(output.stderr).unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "stdout:\n{out}\nstderr:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        if let Some(dev) = &self.dev {
            let listed = match dev.kind {
                Kind::Postgres => dev.client(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'migrate_scratch%';",
                ),
                _ => dev.client("SHOW DATABASES LIKE 'migrate_scratch%';"),
            };
            let ours = format!("_{pid}_");
            assert!(
                !listed.lines().any(|l| l.contains(&ours)),
                "scratch databases left: {listed}"
            );
        }
        (out, err)
    }
}

#[test]
fn a_good_chain_passes_and_notes_the_irreversible_revision() {
    on_each(backends("replay_good_chain", true), |kind| {
        let setup = Setup::new(kind, "replay_good");
        setup.revision(
            "a00000000001",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);",
            Some("DROP TABLE users;"),
        );
        setup.revision(
            "b00000000001",
            "ALTER TABLE users ADD COLUMN phone VARCHAR(20);\nCREATE INDEX users_phone ON users (phone);",
            Some(match kind {
                Kind::Mysql => "DROP INDEX users_phone ON users;\nALTER TABLE users DROP COLUMN phone;",
                _ => "DROP INDEX users_phone;\nALTER TABLE users DROP COLUMN phone;",
            }),
        );
        // The down recreates the table spelled differently: the same
        // schema, another text (SQLite keeps the text).
        setup.revision(
            "b00000000002",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20));",
            Some("DROP TABLE tags;"),
        );
        setup.revision(
            "b00000000003",
            "DROP TABLE tags;\nCREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(40));",
            Some("DROP TABLE tags;\nCREATE TABLE tags (\n  id   INTEGER PRIMARY KEY,\n  label VARCHAR(20)\n);"),
        );
        setup.revision(
            "c00000000001",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
            None,
        );
        let (out, _) = setup.replay(0);
        assert!(
            out.contains(
                "ok: 5 revisions replayed up, down and up again; every down restores the schema"
            ),
            "{out}"
        );
        assert!(
            out.contains("note: revision c00000000001 has no down section (irreversible); its down was not checked"),
            "{out}"
        );
        assert!(!out.contains("failed:"), "{out}");
    });
}

#[test]
fn a_down_that_forgets_a_column_and_a_failing_down_are_reported_by_revision() {
    on_each(backends("replay_bad_downs", true), |kind| {
        let setup = Setup::new(kind, "replay_bad");
        setup.revision(
            "a00000000001",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE users;"),
        );
        setup.revision(
            "b00000000001",
            "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
            Some("SELECT 1;"),
        );
        setup.revision(
            "c00000000001",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE no_such_table;"),
        );
        setup.revision(
            "d00000000001",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE audit;"),
        );
        let (out, err) = setup.replay(1);
        assert!(
            out.contains("failed: revision b00000000001 (")
                && out.contains("): down does not restore the schema from before its up"),
            "{out}"
        );
        assert!(
            out.contains(
                "    column users.phone is still there after the down (the up created it)"
            ),
            "{out}"
        );
        assert!(
            out.contains("failed: revision c00000000001 (") && out.contains("): down fails"),
            "{out}"
        );
        assert!(out.contains("no_such_table"), "the database's error: {out}");
        assert!(!out.contains("revision a00000000001"), "{out}");
        assert!(!out.contains("revision d00000000001"), "{out}");
        assert!(
            err.contains("error: the replay found problems in 2 revisions"),
            "{err}"
        );
    });
}

#[test]
fn an_up_the_database_rejects_is_reported_and_stops_the_replay() {
    on_each(backends("replay_syntax_error", true), |kind| {
        let setup = Setup::new(kind, "replay_syntax");
        setup.revision(
            "a00000000001",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE users;"),
        );
        setup.revision(
            "b00000000001",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY,);",
            Some("DROP TABLE orders;"),
        );
        setup.revision(
            "c00000000001",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE audit;"),
        );
        let (out, err) = setup.replay(1);
        assert!(
            out.contains("failed: revision b00000000001 (")
                && out.contains("): up fails on a fresh database"),
            "{out}"
        );
        assert!(out.contains("syntax"), "the database's error: {out}");
        assert!(
            out.contains("note: 1 revision after the failing up not replayed (they require it)"),
            "{out}"
        );
        assert!(
            err.contains("error: the replay found problems in 1 revision"),
            "{err}"
        );
    });
}

#[test]
fn the_end_of_the_chain_is_checked_against_schema_sql() {
    on_each(backends("replay_schema_sql", true), |kind| {
        let setup = Setup::new(kind, "replay_declared");
        setup.revision(
            "a00000000001",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE users;"),
        );
        std::fs::write(
            setup.project.path().join("schema.sql"),
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100));\n",
        )
        .unwrap();
        let (out, err) = setup.replay(1);
        assert!(
            out.contains("ok: 1 revision replayed up, down and up again"),
            "{out}"
        );
        assert!(
            out.contains("differs: column users.email is declared but missing"),
            "{out}"
        );
        assert!(err.contains("the migrations do not produce"), "{err}");
    });
}

#[test]
fn a_branched_graph_with_a_merge_and_depends_on_is_replayed() {
    on_each(backends("replay_branches", true), |kind| {
        let setup = Setup::new(kind, "replay_branches");
        setup.branches(kind, "DROP TABLE orders;", "DROP TABLE audit;");
        let (out, err) = setup.replay(0);
        assert!(
            out.contains(
                "ok: 5 revisions replayed up, down and up again; every down restores the schema"
            ),
            "stdout:\n{out}\nstderr:\n{err}"
        );
        assert!(!out.contains("failed:"), "{out}");
    });
}

#[test]
fn a_bad_down_on_a_branch_and_in_a_merge_are_reported_by_revision() {
    on_each(backends("replay_bad_branches", true), |kind| {
        let setup = Setup::new(kind, "replay_bad_branches");
        setup.branches(kind, "SELECT 1;", "SELECT 1;");
        let (out, err) = setup.replay(1);
        for (id, table) in [("c00000000001", "orders"), ("d00000000001", "audit")] {
            assert!(
                out.contains(&format!(
                    "failed: revision {id} (migrations/{id}_{id}.sql): down does not restore the schema from before its up"
                )),
                "{id}: {out}"
            );
            assert!(
                out.contains(&format!(
                    "    table {table} is still there after the down (the up created it)"
                )),
                "{table}: {out}"
            );
        }
        for id in ["a00000000001", "b00000000001", "c00000000002"] {
            assert!(!out.contains(&format!("revision {id}")), "{id}: {out}");
        }
        assert!(
            err.contains("error: the replay found problems in 2 revisions"),
            "{err}"
        );
    });
}

#[test]
fn an_up_that_fails_again_after_its_down_is_reported() {
    on_each(backends("replay_up_again", true), |kind| {
        let setup = Setup::new(kind, "replay_up_again");
        setup.revision(
            "a00000000001",
            "CREATE TABLE settings (name VARCHAR(20) PRIMARY KEY);",
            Some("DROP TABLE settings;"),
        );
        // The down leaves the row: the schema is as before, the data not.
        setup.revision(
            "b00000000001",
            "INSERT INTO settings (name) VALUES ('theme');",
            Some("DELETE FROM settings WHERE name = 'them';"),
        );
        setup.revision(
            "c00000000001",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
            Some("DROP TABLE audit;"),
        );
        let (out, err) = setup.replay(1);
        assert!(
            out.contains("failed: revision b00000000001 (")
                && out.contains("): up fails again after its down"),
            "{out}"
        );
        let error = out.to_lowercase();
        assert!(
            error.contains("unique") || error.contains("duplicate"),
            "the database's error: {out}"
        );
        assert!(!out.contains("revision a00000000001"), "{out}");
        assert!(!out.contains("revision c00000000001"), "{out}");
        assert!(
            err.contains("error: the replay found problems in 1 revision"),
            "{err}"
        );
    });
}
