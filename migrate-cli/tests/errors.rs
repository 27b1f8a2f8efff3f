//! The error cases of the Alembic guides, and the CLI's own: each is a
//! message that says what to do, with its documented exit code, and never
//! a stack of errors or a panic.

mod common;

use std::path::PathBuf;

use common::{backends, error_lines, fill, on_each, users_then_phone, Kind, Project, TestDb};

#[test]
fn an_unknown_revision_lists_close_matches() {
    let db = TestDb::new(Kind::Sqlite, "unknown");
    let project = users_then_phone(&db);
    for args in [
        &["upgrade", "a00000000002"][..],
        &["downgrade", "a00000000002"],
        &["show", "a00000000002"],
        &["stamp", "a00000000002"],
    ] {
        let (_, stderr) = project.fails(2, args);
        assert!(
            stderr.contains(
                "can't locate revision identified by `a00000000002` (did you mean `a00000000001`"
            ),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("hint: `migrate history` lists the revisions"),
            "{stderr}"
        );
        assert_eq!(error_lines(&stderr), 1, "{stderr}");
    }
    let (_, stderr) = project.fails(2, &["upgrade", "+-1"]);
    assert!(stderr.contains("is not a valid target"), "{stderr}");
    // Prefixes work, ambiguous ones are refused with the candidates.
    assert!(project.ok(&["show", "b0"]).contains("b00000000001 (head)"));
    let (_, stderr) = project.fails(2, &["show", "0"]);
    assert!(stderr.contains("can't locate"), "{stderr}");
}

#[test]
fn a_tampered_applied_migration_is_refused_until_repaired() {
    on_each(
        backends(
            "a_tampered_applied_migration_is_refused_until_repaired",
            false,
        ),
        a_tampered_applied_migration_is_refused_until_repaired_on,
    );
}

fn a_tampered_applied_migration_is_refused_until_repaired_on(kind: Kind) {
    let db = TestDb::new(kind, "tamper");
    let project = users_then_phone(&db);
    let file = project
        .path()
        .join("migrations/a00000000001_create_users_table.sql");
    fill(
        &file,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, x INTEGER);",
        Some("DROP TABLE users;"),
        &[],
    );

    let (_, stderr) = project.fails(4, &["upgrade"]);
    assert!(
        stderr.contains("migrations/a00000000001_create_users_table.sql"),
        "{stderr}"
    );
    assert!(stderr.contains("changed after it was applied"), "{stderr}");
    assert!(stderr.contains("migrate repair"), "{stderr}");
    assert_eq!(error_lines(&stderr), 1, "{stderr}");
    project.fails(4, &["downgrade", "-1"]);

    let status = project.ok(&["status"]);
    assert!(status.contains("drifted  a00000000001"), "{status}");
    let (stdout, stderr) = project.fails(1, &["check"]);
    assert!(stdout.contains("drifted  a00000000001"), "{stdout}");
    assert!(stderr.contains("migrate repair"), "{stderr}");

    let repair = project.ok(&["repair"]);
    assert!(
        repair
            .contains("re-recorded  a00000000001  migrations/a00000000001_create_users_table.sql"),
        "{repair}"
    );
    assert!(project.ok(&["check"]).contains("ok:"));
    assert!(project.ok(&["repair"]).contains("nothing to repair"));
}

#[test]
fn a_database_behind_head_still_gets_revisions_and_check_explains() {
    on_each(
        backends(
            "a_database_behind_head_still_gets_revisions_and_check_explains",
            false,
        ),
        a_database_behind_head_still_gets_revisions_and_check_explains_on,
    );
}

fn a_database_behind_head_still_gets_revisions_and_check_explains_on(kind: Kind) {
    let db = TestDb::new(kind, "behind");
    let project = users_then_phone(&db);
    project.ok(&["downgrade", "-1"]);
    // `revision` works on the directory alone.
    let file = project.revision("add email", &[]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("-- revises: b00000000001\n"), "{text}");
    let (stdout, stderr) = project.fails(1, &["check"]);
    assert!(stdout.contains("pending  b00000000001"), "{stdout}");
    assert!(
        stdout.contains(&format!("pending  {}", Project::id_of(&file))),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: check found 2 differences"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the database is behind the migrations directory: `migrate upgrade`"),
        "{stderr}"
    );
    let (_, stderr) = project
        .migrate()
        .arg("current")
        .output()
        .map(|o| (o.stdout, o.stderr))
        .unwrap();
    assert!(String::from_utf8_lossy(&stderr).contains("2 revisions are pending"));
}

#[test]
fn two_heads_refuse_revision_and_upgrade_with_the_merge_command() {
    let db = TestDb::new(Kind::Sqlite, "heads");
    let project = users_then_phone(&db);
    // A colleague's revision on the same parent, merged in from git.
    project.write_migration(
        "c00000000001_colleague.sql",
        "-- revision: c00000000001\n-- revises: a00000000001\n-- message: colleague\n\n-- migrate:up\n\n-- migrate:down\n",
    );
    let (_, stderr) = project.fails(2, &["revision", "-m", "mine"]);
    assert!(
        stderr.contains("has 2 heads (b00000000001, c00000000001)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("migrate merge b00000000001 c00000000001 -m \"merge heads\""),
        "{stderr}"
    );
    let (_, stderr) = project.fails(2, &["revision", "-m", "mine", "--head", "b00000000001"]);
    assert!(stderr.contains("migrate merge"), "{stderr}");
    let (_, stderr) = project.fails(2, &["upgrade"]);
    assert!(stderr.contains("more than one head revision"), "{stderr}");
    assert!(
        stderr.contains("migrate merge b00000000001 c00000000001"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(project.path().join("migrations"))
            .unwrap()
            .count(),
        4,
        "a refused revision wrote a file"
    );
}

#[test]
fn branching_on_purpose_needs_splice_and_a_label() {
    let db = TestDb::new(Kind::Sqlite, "splice");
    let project = users_then_phone(&db);
    let (_, stderr) = project.fails(2, &["revision", "-m", "side", "--head", "a00000000001"]);
    assert!(stderr.contains("is not a head"), "{stderr}");
    assert!(stderr.contains("--splice --branch-label"), "{stderr}");
    let (_, stderr) = project.fails(
        2,
        &[
            "revision",
            "-m",
            "side",
            "--head",
            "a00000000001",
            "--splice",
        ],
    );
    assert!(stderr.contains("--branch-label"), "{stderr}");
    let (_, stderr) = project.fails(2, &["revision", "-m", "root", "--head", "base"]);
    assert!(stderr.contains("second root"), "{stderr}");

    let side = project.revision(
        "side branch",
        &[
            "--head",
            "a00000000001",
            "--splice",
            "--branch-label",
            "side",
            "--depends-on",
            "b0",
        ],
    );
    let text = std::fs::read_to_string(&side).unwrap();
    assert!(
        text.contains("-- revises: a00000000001\n-- message: side branch\n"),
        "{text}"
    );
    assert!(
        text.contains("-- branch_labels: side\n-- depends_on: b00000000001\n"),
        "{text}"
    );
    // Labelled heads: `revision` asks which one, `side@head` names it.
    let (_, stderr) = project.fails(2, &["revision", "-m", "next"]);
    assert!(stderr.contains("labelled branches"), "{stderr}");
    let next = project.revision("next on side", &["--head", "side@head"]);
    let text = std::fs::read_to_string(&next).unwrap();
    assert!(
        text.contains(&format!("-- revises: {}\n", Project::id_of(&side))),
        "{text}"
    );
    project.ok(&["upgrade", "heads"]);
    assert!(project.ok(&["check"]).contains("ok:"));
}

#[test]
fn an_unreachable_or_missing_database_is_one_line() {
    let project = Project::new(None);
    for (url, exit, expected) in [
        ("postgres://app:s3cret@127.0.0.1:1/app", 3, "cannot connect to the database at postgres://app:***@127.0.0.1:1/app: Connection refused"),
        ("mysql://root@127.0.0.1:1/app", 3, "cannot connect to the database at mysql://root@127.0.0.1:1/app: Connection refused"),
        ("sqlite://no/such/dir/app.db", 3, "the SQLite database no/such/dir/app.db does not exist"),
        ("oracle://db/app", 2, "unsupported scheme `oracle:`"),
    ] {
        let started = std::time::Instant::now();
        let (_, stderr) = project.fails(exit, &["--database-url", url, "current"]);
        assert!(started.elapsed().as_secs() < 5, "{url} took {:?}", started.elapsed());
        assert!(stderr.contains(expected), "{url}: {stderr}");
        assert_eq!(error_lines(&stderr), 1, "{stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    let (_, stderr) = project.fails(2, &["status"]);
    assert!(stderr.contains("error: no database configured"), "{stderr}");
    assert!(
        stderr.contains(
            "set `database_url` in migrate.toml, the DATABASE_URL variable, or --database-url"
        ),
        "{stderr}"
    );
    // With `-c`, the hint names the file that was read.
    std::fs::create_dir(project.path().join("deploy")).unwrap();
    std::fs::write(
        project.path().join("deploy/prod.toml"),
        "migrations = \"../migrations\"\n",
    )
    .unwrap();
    let (_, stderr) = project.fails(2, &["-c", "deploy/prod.toml", "status"]);
    assert!(stderr.contains("error: no database configured"), "{stderr}");
    assert!(
        stderr.contains("set `database_url` in deploy/prod.toml,"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_directory_prints_each_problem_on_its_own_line() {
    let project = Project::new(None);
    project.write_migration("e1_bad.sql", "-- revison: e1\n-- migrate:upp\nSELECT 1;\n");
    let (_, stderr) = project.fails(2, &["heads"]);
    assert_eq!(error_lines(&stderr), 5, "{stderr}");
    assert!(stderr.contains("error: migrations/e1_bad.sql:1: unknown header key `revison` (did you mean `revision`?)"), "{stderr}");
    assert!(
        stderr.contains("error: migrations/e1_bad.sql:2: unknown section `-- migrate:upp`"),
        "{stderr}"
    );
    let (stdout, stderr) = project.fails(1, &["check"]);
    assert!(stdout.contains("unknown header key"), "{stdout}");
    assert!(
        stderr.contains("`cargo build` refuses them too"),
        "{stderr}"
    );

    let missing = Project::empty();
    let (_, stderr) = missing.fails(2, &["revision", "-m", "x"]);
    assert!(
        stderr.contains("cannot read the migrations directory `migrations`"),
        "{stderr}"
    );
    assert!(stderr.contains("`migrate init` does"), "{stderr}");
}

#[test]
fn configuration_errors_name_the_file_and_line() {
    let project = Project::new(None);
    let write = |text: &str| std::fs::write(project.path().join("bad.toml"), text).unwrap();
    write("migrations = \"migrations\"\nhistory_tabel = \"x\"\n");
    let (_, stderr) = project.fails(2, &["-c", "bad.toml", "heads"]);
    assert!(
        stderr.contains("bad.toml:2: unknown field `history_tabel`"),
        "{stderr}"
    );
    write("file_template = \"V<rev>__<slug>\"\n");
    let (_, stderr) = project.fails(2, &["-c", "bad.toml", "heads"]);
    assert!(stderr.contains("surround `<rev>` with `_`"), "{stderr}");
    write("file_template = \"%Q_<rev>\"\n");
    let (_, stderr) = project.fails(2, &["-c", "bad.toml", "heads"]);
    assert!(stderr.contains("unknown specifier `%Q`"), "{stderr}");
    write("history_table = \"drop table\"\n");
    let (_, stderr) = project.fails(2, &["-c", "bad.toml", "heads"]);
    assert!(
        stderr.contains("not a valid history table name"),
        "{stderr}"
    );
    let (_, stderr) = project.fails(2, &["-c", "nope.toml", "heads"]);
    assert!(
        stderr.contains("cannot read the configuration file nope.toml"),
        "{stderr}"
    );
}

#[test]
fn an_irreversible_revision_refuses_downgrade_before_anything_runs() {
    let db = TestDb::new(Kind::Sqlite, "irreversible");
    let project = users_then_phone(&db);
    let file = project.revision("no way back", &["--rev-id", "c00000000001"]);
    fill(&file, "CREATE TABLE audit (id INTEGER);", None, &[]);
    project.ok(&["upgrade"]);
    let (_, stderr) = project.fails(2, &["downgrade", "base"]);
    assert!(
        stderr.contains("cannot downgrade through `c00000000001`"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(project.ok(&["current"]).starts_with("c00000000001"));
    let (_, stderr) = project.fails(2, &["upgrade", "a00000000001"]);
    assert!(stderr.contains("use `downgrade`"), "{stderr}");
}

#[test]
fn revisions_the_directory_does_not_know_block_runs_until_stamped() {
    on_each(
        backends(
            "revisions_the_directory_does_not_know_block_runs_until_stamped",
            false,
        ),
        revisions_the_directory_does_not_know_block_runs_until_stamped_on,
    );
}

fn revisions_the_directory_does_not_know_block_runs_until_stamped_on(kind: Kind) {
    let db = TestDb::new(kind, "unknown_rows");
    let project = users_then_phone(&db);
    // The database was upgraded by a newer build; this checkout lacks b.
    std::fs::remove_file(project.path().join("migrations/b00000000001_add_phone.sql")).unwrap();
    let current = project.ok(&["current"]);
    assert!(
        current.contains("b00000000001  (not in the migrations directory)"),
        "{current}"
    );
    let (_, stderr) = project.fails(4, &["upgrade"]);
    assert!(
        stderr.contains("the database is at `b00000000001`, which this build does not know"),
        "{stderr}"
    );
    assert!(stderr.contains("migrate stamp <rev> --purge"), "{stderr}");
    let (stdout, _) = project.fails(1, &["check"]);
    assert!(stdout.contains("unknown  b00000000001"), "{stdout}");
    let stamp = project.ok(&["stamp", "head", "--purge"]);
    assert!(
        stamp.contains("emptied the history table migrate_history"),
        "{stamp}"
    );
    assert!(project.ok(&["check"]).contains("ok:"));
}

#[test]
fn usage_errors_exit_2() {
    let project = Project::new(None);
    project.fails(2, &["frobnicate"]);
    project.fails(2, &["revision"]);
    project.fails(2, &["upgrade", "head", "--dialect", "postgres"]);
    let (_, stderr) = project.fails(2, &["revision", "-m", "x", "--rev-id", "not-hex!"]);
    assert!(stderr.contains("is not a revision id"), "{stderr}");
}

/// `good` applied, then `partial` (`transaction: false`) failing after its
/// first statement committed: its history row is left pending.
fn with_a_half_applied_revision(kind: Kind) -> (TestDb, Project, PathBuf) {
    let db = TestDb::new(kind, "halfapplied");
    let project = Project::new(Some(&db));
    let good = project.revision("good", &["--rev-id", "a00000000001"]);
    fill(
        &good,
        "CREATE TABLE t (id INTEGER);",
        Some("DROP TABLE t;"),
        &[],
    );
    let partial = project.revision("partial", &["--rev-id", "b00000000001"]);
    fill(
        &partial,
        "CREATE TABLE u (id INTEGER);\nINSERT INTO no_such_table VALUES (1);",
        Some("DROP TABLE u;"),
        &["transaction: false"],
    );
    let (_, stderr) = project.fails(3, &["upgrade"]);
    assert!(stderr.contains("left pending"), "{stderr}");
    (db, project, partial)
}

#[test]
fn a_stamp_that_clears_a_pending_row_says_so() {
    on_each(
        backends("a_stamp_that_clears_a_pending_row_says_so", false),
        |kind| {
            let (_db, project, _) = with_a_half_applied_revision(kind);
            let stdout = project.ok(&["stamp", "a00000000001"]);
            assert!(
                stdout.contains("cleared  b00000000001  (its pending row: it is not applied)"),
                "{stdout}"
            );
            assert!(!stdout.contains("nothing to record"), "{stdout}");
            let status = project.ok(&["status"]);
            assert!(
                status.contains("pending") && !status.contains("half-applied"),
                "{status}"
            );
        },
    );
}

#[test]
fn a_pending_row_of_a_deleted_file_is_not_shown_as_applied() {
    on_each(
        backends(
            "a_pending_row_of_a_deleted_file_is_not_shown_as_applied",
            false,
        ),
        |kind| {
            let (_db, project, partial) = with_a_half_applied_revision(kind);
            std::fs::remove_file(partial).unwrap();
            let status = project.ok(&["status"]);
            assert!(
                status.contains("unknown  b00000000001  (left pending by a run that did not finish, and not in the migrations directory)"),
                "{status}"
            );
            assert!(!status.contains("applied, but"), "{status}");
            let current = project.ok(&["current"]);
            assert!(current.starts_with("a00000000001"), "{current}");
            assert!(!current.contains("b00000000001"), "{current}");
            let (stdout, _) = project.fails(1, &["check"]);
            assert!(
                stdout.contains("left pending in the database by a run that did not finish"),
                "{stdout}"
            );
        },
    );
}

#[test]
fn a_failing_revision_keeps_the_progress_before_it() {
    on_each(
        backends("a_failing_revision_keeps_the_progress_before_it", false),
        a_failing_revision_keeps_the_progress_before_it_on,
    );
}

fn a_failing_revision_keeps_the_progress_before_it_on(kind: Kind) {
    let db = TestDb::new(kind, "failing");
    let project = Project::new(Some(&db));
    let good = project.revision("good", &["--rev-id", "a00000000001"]);
    fill(
        &good,
        "CREATE TABLE t (id INTEGER);",
        Some("DROP TABLE t;"),
        &[],
    );
    let bad = project.revision("bad", &["--rev-id", "b00000000001"]);
    fill(&bad, "CREATE TABLE t (id INTEGER);", Some("SELECT 1;"), &[]);
    let (stdout, stderr) = project.fails(3, &["upgrade"]);
    // The first revision's line was printed while the run went on.
    assert!(stdout.contains("applied  a00000000001  good"), "{stdout}");
    assert!(!stdout.contains("b00000000001"), "{stdout}");
    // The error names the file's line of the failed statement, and quotes
    // it on the line under it.
    let text = std::fs::read_to_string(&bad).unwrap();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("CREATE TABLE t"))
        .unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("error: "))
        .expect("an error line");
    assert!(
        lines[at].starts_with(&format!(
            "error: revision `b00000000001` (migrations/b00000000001_bad.sql:{line}) failed: "
        )),
        "{stderr}"
    );
    assert_eq!(
        lines.get(at + 1).copied(),
        Some(format!("  {line} | CREATE TABLE t (id INTEGER);").as_str()),
        "{stderr}"
    );
    assert_eq!(error_lines(&stderr), 1, "{stderr}");
    assert!(project.ok(&["current"]).starts_with("a00000000001"));
    // Its only statement failed, so nothing of it was committed, MySQL's
    // implicit commit of the pending row included: it is plainly pending.
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert!(!stderr.contains("part of it was committed"), "{stderr}");
    assert!(project.ok(&["status"]).contains("pending  b00000000001"));
}

/// Every way a URL can carry a password, through `--database-url` and
/// `DATABASE_URL`, on the servers: the password never appears in the
/// output, whether the command succeeds ("Upgrading ...") or fails.
#[test]
fn passwords_are_never_printed_in_any_url_form() {
    let kinds: Vec<Kind> = backends("passwords_are_never_printed_in_any_url_form", false)
        .into_iter()
        .filter(|&kind| kind != Kind::Sqlite)
        .collect();
    on_each(kinds, |kind| {
        let db = TestDb::new(kind, "redact");
        let project = Project::new(Some(&db));
        let a = project.revision("create t", &["--rev-id", "a00000000001"]);
        fill(
            &a,
            "CREATE TABLE t (id INTEGER);",
            Some("DROP TABLE t;"),
            &[],
        );
        let (scheme, rest) = db.url.split_once("://").unwrap();
        let (user, host_db) = rest.split_once('@').unwrap();
        let forms = [
            format!("{scheme}://{user}@{host_db}?password=s3cret"),
            format!("{scheme}://{user}@{host_db}?sslmode=disable&password=s3cret"),
            format!("{scheme}://{user}:s3cret@{host_db}"),
            format!("{scheme}://{user}:s3/cret@{host_db}"),
            format!("{scheme}://{user}:s3?cret@{host_db}"),
            format!("{scheme}:{user}:s3cret@{host_db}"),
        ];
        let mut upgraded = false;
        for url in &forms {
            for via_env in [false, true] {
                let mut command = project.migrate();
                if via_env {
                    command.env("DATABASE_URL", url);
                } else {
                    command.args(["--database-url", url]);
                }
                let output = command.args(["upgrade", "head"]).output().unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                assert!(!text.contains("cret"), "{url} (env: {via_env}): {text}");
                assert!(!text.contains("panicked"), "{text}");
                if text.contains("Upgrading") {
                    assert!(text.contains("?password=***"), "{text}");
                    upgraded = true;
                }
            }
        }
        // The test servers do not check passwords (trust, empty root
        // password), and both drivers accept `?password=`: the first form
        // goes through and prints the URL in its "Upgrading" line.
        assert!(upgraded, "no form reached the Upgrading line");
    });
}

/// In single-transaction mode the run commits once, at its end: a revision
/// finished before a failure was rolled back with it, so no "applied" line
/// may claim it.
#[test]
fn single_transaction_mode_prints_applied_only_after_the_commit() {
    let db = TestDb::new(Kind::Sqlite, "single-progress");
    let project = Project::new(Some(&db));
    let config = project.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "# transaction_mode = \"per-revision\"",
            "transaction_mode = \"single\"",
        ),
    )
    .unwrap();
    let good = project.revision("good", &["--rev-id", "a00000000001"]);
    fill(
        &good,
        "CREATE TABLE t (id INTEGER);",
        Some("DROP TABLE t;"),
        &[],
    );
    let bad = project.revision("bad", &["--rev-id", "b00000000001"]);
    fill(&bad, "CREATE TABLE t (id INTEGER);", Some("SELECT 1;"), &[]);
    let (stdout, stderr) = project.fails(3, &["upgrade"]);
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert!(!stdout.contains("applied  a00000000001"), "{stdout}");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&bad)
            .unwrap()
            .replace("CREATE TABLE t (id", "CREATE TABLE u (id"),
    )
    .unwrap();
    let stdout = project.ok(&["upgrade"]);
    assert!(
        stdout.contains("applied  a00000000001") && stdout.contains("applied  b00000000001"),
        "{stdout}"
    );
}
