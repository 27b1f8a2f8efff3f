//! Merging two heads, and the read-only verbs in text and `--json`.

mod common;

use common::{backends, fill, on_each, users_then_phone, Kind, Project, TestDb};
use serde_json::Value;

/// a <- b and a <- c: two heads, as after two people each added one.
fn two_heads(db: &TestDb) -> Project {
    let project = users_then_phone(db);
    project.write_migration(
        "c00000000001_add_email.sql",
        "-- revision: c00000000001\n-- revises: a00000000001\n-- message: add email\n\n\
         -- migrate:up\nALTER TABLE users ADD COLUMN email VARCHAR(100);\n\n\
         -- migrate:down\nALTER TABLE users DROP COLUMN email;\n",
    );
    project
}

fn json(project: &Project, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&project.ok(&all)).unwrap()
}

#[test]
fn merging_two_heads() {
    on_each(backends("merging_two_heads", false), merging_two_heads_on);
}

fn merging_two_heads_on(kind: Kind) {
    let db = TestDb::new(kind, "merge");
    let project = two_heads(&db);

    // heads and branches read the directory the macro refuses, and say so.
    let output = project.migrate().arg("heads").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("b00000000001  (head)  add phone"),
        "{stdout}"
    );
    assert!(
        stdout.contains("c00000000001  (head)  add email"),
        "{stdout}"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("warning: more than one head revision"),
        "{stderr}"
    );
    let branches = project.ok(&["branches"]);
    assert!(
        branches.starts_with("a00000000001 (branchpoint)  create users"),
        "{branches}"
    );
    assert!(
        branches.contains("    ->  b00000000001  (head)  add phone"),
        "{branches}"
    );

    // A merge needs heads, and two of them.
    let (_, stderr) = project.fails(2, &["merge", "a00000000001", "b00000000001"]);
    assert!(stderr.contains("`a00000000001` is not a head"), "{stderr}");
    let (_, stderr) = project.fails(2, &["merge", "b00000000001"]);
    assert!(
        stderr.contains("a merge needs two or more heads"),
        "{stderr}"
    );

    let merged = project.ok(&[
        "merge",
        "heads",
        "-m",
        "merge phone and email",
        "--rev-id",
        "d00000000001",
    ]);
    assert!(
        merged.contains("created migrations/d00000000001_merge_phone_and_email.sql"),
        "{merged}"
    );
    let text = std::fs::read_to_string(
        project
            .path()
            .join("migrations/d00000000001_merge_phone_and_email.sql"),
    )
    .unwrap();
    assert_eq!(
        text,
        "-- revision: d00000000001\n-- revises: b00000000001, c00000000001\n\
         -- message: merge phone and email\n-- created: 2026-11-24 10:00:00\n\n\
         -- migrate:up\n\n\n-- migrate:down\n\n"
    );

    let heads = project.ok(&["heads"]);
    assert_eq!(
        heads.trim(),
        "d00000000001  (head) (mergepoint)  merge phone and email"
    );
    let up = project.ok(&["upgrade"]);
    assert!(up.contains("applied  c00000000001  add email"), "{up}");
    assert!(
        up.contains("applied  d00000000001  merge phone and email"),
        "{up}"
    );
    assert!(project.ok(&["check"]).contains("ok:"));
    let history = project.ok(&["history"]);
    assert!(
        history.starts_with("b00000000001, c00000000001  ->  d00000000001  (head) (mergepoint)  merge phone and email"),
        "{history}"
    );
    // One step down from a merge does not say which parent: refused, as
    // in Alembic; naming a parent goes back to both heads.
    let (_, stderr) = project.fails(2, &["downgrade", "-1"]);
    assert!(
        stderr.contains(
            "`-1` is ambiguous: `d00000000001` has several parents: b00000000001, c00000000001"
        ),
        "{stderr}"
    );
    project.ok(&["downgrade", "b00000000001"]);
    let current = project.ok(&["current"]);
    assert!(
        current.contains("b00000000001") && current.contains("c00000000001"),
        "{current}"
    );
}

#[test]
fn history_ranges_and_the_current_marker() {
    let db = TestDb::new(Kind::Sqlite, "history");
    let project = two_heads(&db);
    project.ok(&["merge", "heads", "--rev-id", "d00000000001"]);
    let ids = |args: &[&str]| -> Vec<String> {
        json(&project, args)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["revision"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&["history"]),
        [
            "d00000000001",
            "c00000000001",
            "b00000000001",
            "a00000000001"
        ]
    );
    assert_eq!(
        ids(&["history", "-r", "base:b00000000001"]),
        ["b00000000001", "a00000000001"]
    );
    // A range includes its start and lists only what grows from it, as
    // Alembic's does: from c, the merge d, not the other side b.
    assert_eq!(
        ids(&["history", "-r", "a00000000001:"]),
        [
            "d00000000001",
            "c00000000001",
            "b00000000001",
            "a00000000001"
        ]
    );
    assert_eq!(
        ids(&["history", "-r", "c0:head"]),
        ["d00000000001", "c00000000001"]
    );

    let marked = project.ok(&["history", "-i"]);
    let b_line = marked
        .lines()
        .find(|l| l.contains("->  b00000000001"))
        .unwrap();
    assert!(b_line.contains("(current)"), "{marked}");
    let rows = json(&project, &["history", "-i"]);
    assert_eq!(rows[2]["current"], Value::Bool(true));
    assert_eq!(rows[0]["current"], Value::Bool(false));

    let verbose = project.ok(&["history", "-v", "-r", "c00000000001:"]);
    let words = verbose.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Rev: d00000000001 (head) (mergepoint)"),
        "{verbose}"
    );
    assert!(
        words.contains("Parent: b00000000001, c00000000001"),
        "{verbose}"
    );
}

#[test]
fn show_prints_the_header_and_the_sql() {
    let db = TestDb::new(Kind::Sqlite, "show");
    let project = two_heads(&db);
    let show = project.ok(&["show", "c0"]);
    let words = show.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Rev: c00000000001 (head) Parent: a00000000001"),
        "{show}"
    );
    assert!(
        words.contains("Path: migrations/c00000000001_add_email.sql"),
        "{show}"
    );
    assert!(
        show.contains("-- migrate:up\nALTER TABLE users ADD COLUMN email VARCHAR(100);"),
        "{show}"
    );
    assert!(
        show.contains("-- migrate:down\nALTER TABLE users DROP COLUMN email;"),
        "{show}"
    );
    let value = json(&project, &["show", "a00000000001"]);
    assert_eq!(value["revision"], "a00000000001");
    assert_eq!(value["branchpoint"], true);
    assert_eq!(
        value["children"],
        serde_json::json!(["b00000000001", "c00000000001"])
    );
    assert_eq!(
        value["up_sql"],
        "CREATE TABLE users (id INTEGER PRIMARY KEY);"
    );
    assert_eq!(value["checksum"].as_str().unwrap().len(), 64);
}

#[test]
fn every_read_only_verb_speaks_json() {
    let db = TestDb::new(Kind::Sqlite, "json");
    let project = two_heads(&db);
    project.ok(&["merge", "heads", "--rev-id", "d00000000001"]);

    let current = json(&project, &["current"]);
    assert_eq!(current["current"][0]["revision"], "b00000000001");
    assert_eq!(
        current["pending"],
        serde_json::json!(["c00000000001", "d00000000001"])
    );

    let heads = json(&project, &["heads"]);
    assert_eq!(heads.as_array().unwrap().len(), 1);
    assert_eq!(heads[0]["mergepoint"], true);

    let branches = json(&project, &["branches"]);
    assert_eq!(branches[0]["revision"], "a00000000001");

    let status = json(&project, &["status"]);
    let states: Vec<(&str, &str)> = status["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("a00000000001", "applied"),
            ("b00000000001", "applied"),
            ("c00000000001", "pending"),
            ("d00000000001", "pending")
        ]
    );
    assert_eq!(status["up_to_date"], false);

    // check --json still exits 1 on differences, with them in the JSON.
    let output = project
        .migrate()
        .args(["check", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let check: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(check["ok"], false);
    assert_eq!(check["problems"][0]["kind"], "pending");
    assert_eq!(check["problems"][0]["revision"], "c00000000001");

    project.ok(&["upgrade"]);
    let check = json(&project, &["check"]);
    assert_eq!(check["ok"], true);
    assert_eq!(check["current"], serde_json::json!(["d00000000001"]));
}

#[test]
fn stamp_records_and_forgets_without_running_sql() {
    let db = TestDb::new(Kind::Sqlite, "stamp");
    let project = two_heads(&db);
    project.ok(&["merge", "heads", "--rev-id", "d00000000001"]);
    let stamp = project.ok(&["stamp", "head"]);
    assert!(stamp.contains("recorded  c00000000001"), "{stamp}");
    assert!(stamp.contains("recorded  d00000000001"), "{stamp}");
    // The email column was never created: stamp ran no SQL.
    assert!(!db.client("PRAGMA table_info(users);").contains("email"));
    let stamp = project.ok(&["stamp", "b00000000001"]);
    assert!(stamp.contains("forgotten  d00000000001"), "{stamp}");
    let stamp = project.ok(&["stamp", "base"]);
    assert!(stamp.contains("forgotten  a00000000001"), "{stamp}");
    assert!(project.ok(&["current"]).starts_with("base"));
}

/// a <- b <- c <- d, the database at c; c has no down section.
fn chain_at_c(db: Option<&TestDb>) -> Project {
    let project = Project::new(db);
    for (id, message) in [
        ("a00000000001", "create a"),
        ("b00000000001", "create b"),
        ("c00000000001", "create c"),
        ("d00000000001", "create d"),
    ] {
        let file = project.revision(message, &["--rev-id", id]);
        let table = &message[7..];
        let down = format!("DROP TABLE {table};");
        let down = (id != "c00000000001").then_some(down.as_str());
        fill(
            &file,
            &format!("CREATE TABLE {table} (id INTEGER);"),
            down,
            &[],
        );
    }
    if db.is_some() {
        project.ok(&["upgrade", "c00000000001"]);
    }
    project
}

#[test]
fn history_ranges_count_below_the_heads_and_take_current() {
    let db = TestDb::new(Kind::Sqlite, "relative");
    let project = chain_at_c(Some(&db));
    let ids = |range: &str| -> Vec<String> {
        json(&project, &["history", "-r", range])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["revision"].as_str().unwrap()[..1].to_string())
            .collect()
    };
    // As in Alembic: a range includes its start; `-N` as a start is N
    // below the heads; `current` is the database's head (c).
    assert_eq!(ids("-1:"), ["d", "c"]);
    assert_eq!(ids("-2:"), ["d", "c", "b"]);
    assert_eq!(ids("-2:current"), ["c", "b"]);
    assert_eq!(ids("current:"), ["d", "c"]);
    assert_eq!(ids("current:head"), ["d", "c"]);
    assert_eq!(ids("base:current"), ["c", "b", "a"]);
    assert_eq!(ids("b0:c0"), ["c", "b"]);
    // An end of `+N` counts from the start.
    assert_eq!(ids("current:+1"), ["d", "c"]);
    assert_eq!(ids("base:+2"), ["b", "a"]);
    let (_, stderr) = project.fails(2, &["history", "-r", "-4:"]);
    assert!(stderr.contains("`-4` goes 4 step(s)"), "{stderr}");
    let (_, stderr) = project.fails(2, &["history", "-r", "+1:"]);
    assert!(stderr.contains("`+1` as the start of a range"), "{stderr}");
    let (_, stderr) = project.fails(2, &["history", "-r", "d0:b0"]);
    assert!(
        stderr.contains("`d00000000001` is not below `b0`; a range runs `older:newer`"),
        "{stderr}"
    );

    // Without a database, `current` says what is missing.
    let offline = chain_at_c(None);
    for range in ["current:head", "base:current"] {
        let (_, stderr) = offline.fails(2, &["history", "-r", range]);
        assert!(
            stderr.contains("names `current`, the database's state")
                && stderr.contains("no database is configured"),
            "{range}: {stderr}"
        );
        assert!(stderr.contains("hint: give --database-url"), "{stderr}");
    }
    // Ranges of revisions, and `-N` below the heads, need none.
    assert!(offline
        .ok(&["history", "-r", "base:+2"])
        .contains("b00000000001"));
    assert!(offline
        .ok(&["history", "-r", "-1:"])
        .contains("c00000000001"));
}

#[test]
fn show_and_merge_resolve_targets_as_planning_does() {
    let db = TestDb::new(Kind::Sqlite, "points");
    let project = chain_at_c(Some(&db));
    let show = project.ok(&["show", "d0-2"]);
    let words = show.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("Rev: b00000000001"), "{show}");
    let (_, stderr) = project.fails(2, &["show", "d0-4"]);
    assert!(
        stderr.contains("`d0-4` is the state before the root `a00000000001`"),
        "{stderr}"
    );
    let (_, stderr) = project.fails(2, &["show", "heads"]);
    assert!(stderr.contains("does not name one revision"), "{stderr}");
    let (_, stderr) = project.fails(2, &["merge", "d0", "a0-1"]);
    assert!(stderr.contains("a merge joins heads"), "{stderr}");
}
