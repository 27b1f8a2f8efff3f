//! Real `cargo build`s of throwaway crates that embed migrations:
//!
//! - Cargo rebuilds the crate when a migration is edited or removed (the
//!   expansion `include_bytes!`es every file), and when one is added (the
//!   `build.rs` helper, `migrate_runtime::build::rerun_if_changed`);
//! - without that helper a new file goes unseen, which is why it exists;
//! - 1,000 generated migrations embed, validated, in file-name order.
//!
//! The crates live under `target/tmp` and build into `target/tests/rebuild`,
//! a target directory of their own: the outer `cargo test` holds the lock on
//! its own, and the dependencies (sqlx...) are built there once and reused
//! by every later run. The first run takes about 40 s on two cores (most of
//! it building those dependencies), later runs about 3 s.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A throwaway binary crate depending on this `migrate-runtime` by path.
struct Probe {
    name: &'static str,
    dir: PathBuf,
}

impl Probe {
    /// Writes the crate afresh: `src/main.rs` prints the embedded table, one
    /// revision per line. With `build_rs`, a `build.rs` calls the helper.
    fn new(name: &'static str, build_rs: bool) -> Probe {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("migrations")).unwrap();
        let runtime = Path::new(env!("CARGO_MANIFEST_DIR"));
        let runtime = runtime.to_str().unwrap().replace('\\', "/");
        let build_dependency = if build_rs {
            // As the helper's documentation advises: no backend is needed to
            // print one line.
            format!(
                "[build-dependencies]\n\
                 migrate-runtime = {{ path = \"{runtime}\", default-features = false }}\n"
            )
        } else {
            String::new()
        };
        let manifest = format!(
            "[package]\n\
             name = \"{name}\"\n\
             version = \"0.0.0\"\n\
             edition = \"2021\"\n\
             publish = false\n\n\
             # Its own workspace: the crate sits inside this repository's target/.\n\
             [workspace]\n\n\
             [dependencies]\n\
             migrate-runtime = {{ path = \"{runtime}\" }}\n\n\
             {build_dependency}"
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        // The workspace's lock file: the same dependency versions as the
        // outer build, and nothing to resolve (the build runs --offline).
        std::fs::copy(runtime_lock_file(), dir.join("Cargo.lock")).unwrap();
        std::fs::write(
            dir.join("src/main.rs"),
            r#"static RUNNER: migrate_runtime::Runner = migrate_runtime::embed_migrations!("migrations");

fn main() {
    for revision in RUNNER.revisions() {
        let parents: Vec<&str> = revision.parents.iter().map(|p| p.as_ref()).collect();
        println!("{} <- [{}] {}", revision.id, parents.join(","), revision.up_sql);
    }
}
"#,
        )
        .unwrap();
        if build_rs {
            std::fs::write(
                dir.join("build.rs"),
                "fn main() {\n    migrate_runtime::build::rerun_if_changed(\"migrations\");\n}\n",
            )
            .unwrap();
        }
        Probe { name, dir }
    }

    fn migration(&self, file: &str) -> PathBuf {
        self.dir.join("migrations").join(file)
    }

    fn write_migration(&self, id: &str, revises: &str, up_sql: &str) {
        std::fs::write(
            self.migration(&format!("{id}_{}.sql", self.name)),
            migration_text(id, revises, up_sql),
        )
        .unwrap();
    }

    /// `cargo run`: builds if Cargo thinks it must, then prints the table.
    fn run(&self) -> Vec<String> {
        let started = Instant::now();
        let output = cargo()
            .args(["run", "--quiet", "--offline"])
            .current_dir(&self.dir)
            .output()
            .expect("start cargo");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "cargo run in {} failed:\n{stderr}",
            self.dir.display()
        );
        eprintln!("{}: cargo run took {:.1?}", self.name, started.elapsed());
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn runtime_lock_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock")
}

fn migration_text(id: &str, revises: &str, up_sql: &str) -> String {
    format!(
        "-- revision: {id}\n-- revises: {revises}\n-- message: step {id}\n\n\
         -- migrate:up\n{up_sql}\n\n-- migrate:down\nSELECT 0;\n"
    )
}

/// The cargo running this test, with a target directory for the probes and
/// without what the outer cargo set for this test process.
fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../tests/rebuild");
    command.env("CARGO_TARGET_DIR", target_dir);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_for_this_test = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || key.starts_with("CARGO_BIN_")
            || matches!(
                &*key,
                "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
            );
        if set_for_this_test {
            command.env_remove(&*key);
        }
    }
    // The override is for the trybuild tests only; here the macro must
    // resolve paths from the probe's own manifest directory.
    command.env_remove("MIGRATE_MANIFEST_DIR_OVERRIDE");
    command
}

#[test]
fn editing_adding_and_removing_a_migration_rebuilds() {
    let probe = Probe::new("rebuild-probe", true);
    probe.write_migration("aaaa00000001", "", "CREATE TABLE one (id INTEGER);");
    assert_eq!(
        probe.run(),
        ["aaaa00000001 <- [] CREATE TABLE one (id INTEGER);"]
    );

    // A new file: seen through build.rs.
    probe.write_migration(
        "aaaa00000002",
        "aaaa00000001",
        "CREATE TABLE two (id INTEGER);",
    );
    assert_eq!(
        probe.run(),
        [
            "aaaa00000001 <- [] CREATE TABLE one (id INTEGER);",
            "aaaa00000002 <- [aaaa00000001] CREATE TABLE two (id INTEGER);",
        ],
        "a new migration was not picked up"
    );

    // An edited file: seen through include_bytes! (and build.rs).
    probe.write_migration(
        "aaaa00000002",
        "aaaa00000001",
        "CREATE TABLE two (id INTEGER, name TEXT);",
    );
    assert_eq!(
        probe.run()[1],
        "aaaa00000002 <- [aaaa00000001] CREATE TABLE two (id INTEGER, name TEXT);",
        "an edited migration was not picked up"
    );

    // A removed file.
    std::fs::remove_file(probe.migration("aaaa00000002_rebuild-probe.sql")).unwrap();
    assert_eq!(
        probe.run(),
        ["aaaa00000001 <- [] CREATE TABLE one (id INTEGER);"],
        "a removed migration is still embedded"
    );
}

/// The reason `migrate_runtime::build` exists. If this starts failing, Cargo
/// or rustc has learnt to track a directory read by a proc macro, and the
/// `build.rs` helper may no longer be needed.
#[test]
fn without_the_build_script_a_new_migration_goes_unseen() {
    let probe = Probe::new("no-build-rs-probe", false);
    probe.write_migration("bbbb00000001", "", "CREATE TABLE one (id INTEGER);");
    assert_eq!(probe.run().len(), 1);

    probe.write_migration(
        "bbbb00000002",
        "bbbb00000001",
        "CREATE TABLE two (id INTEGER);",
    );
    assert_eq!(
        probe.run().len(),
        1,
        "a new file was picked up without build.rs"
    );

    // Editing a file that is already embedded does rebuild, and then the
    // new file is read too.
    probe.write_migration("bbbb00000001", "", "CREATE TABLE uno (id INTEGER);");
    assert_eq!(probe.run().len(), 2);
}

/// Ids that are not in chain order, so that file-name order and chain order
/// differ, from a fixed-seed generator (the test is the same on every run).
fn scrambled_ids(count: usize) -> Vec<String> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut ids: Vec<String> = Vec::with_capacity(count);
    while ids.len() < count {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let id = format!("{:012x}", state >> 16);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

#[test]
fn a_thousand_migrations_embed_in_file_name_order() {
    const COUNT: usize = 1000;
    let probe = Probe::new("thousand-probe", false);
    let chain = scrambled_ids(COUNT);
    for (step, id) in chain.iter().enumerate() {
        let revises = if step == 0 { "" } else { &chain[step - 1] };
        let sql = format!("CREATE TABLE t{step} (id INTEGER PRIMARY KEY, v TEXT);");
        probe.write_migration(id, revises, &sql);
    }

    let lines = probe.run();
    assert_eq!(lines.len(), COUNT);
    let mut expected: Vec<String> = chain
        .iter()
        .enumerate()
        .map(|(step, id)| {
            let revises = if step == 0 { "" } else { &chain[step - 1] };
            format!("{id} <- [{revises}] CREATE TABLE t{step} (id INTEGER PRIMARY KEY, v TEXT);")
        })
        .collect();
    expected.sort();
    assert_eq!(lines, expected);
}

/// `embed_migrations!()` reads the crate's migrate.toml with the CLI's
/// reader: the directory, the history table and the I/O timeout come from it, editing it
/// rebuilds the crate, and a malformed file is a compile error naming its
/// line.
#[test]
fn the_crates_migrate_toml_sets_the_runner() {
    let probe = Probe::new("config-probe", false);
    std::fs::create_dir_all(probe.dir.join("db")).unwrap();
    std::fs::rename(probe.dir.join("migrations"), probe.dir.join("db/changes")).unwrap();
    std::fs::write(
        probe.dir.join("db/changes/a1_first.sql"),
        migration_text("a1", "", "SELECT 1;"),
    )
    .unwrap();
    std::fs::write(
        probe.dir.join("src/main.rs"),
        r#"static RUNNER: migrate_runtime::Runner = migrate_runtime::embed_migrations!();

fn main() {
    let ids: Vec<&str> = RUNNER.revisions().iter().map(|r| r.id.as_ref()).collect();
    println!("{} {} {:?}", RUNNER.history_table(), ids.join(","), RUNNER.io_timeout());
}
"#,
    )
    .unwrap();
    let config = probe.dir.join("migrate.toml");
    let write_config = |table: &str| {
        std::fs::write(
            &config,
            format!(
                "migrations = \"db/changes\"\nhistory_table = \"{table}\"\n\
                 transaction_mode = \"single\"\nlock_timeout = 5\nio_timeout = 7\n\
                 database_url = \"${{SET_ONLY_WHEN_THE_CLI_RUNS}}\"\n"
            ),
        )
        .unwrap()
    };
    write_config("schema_migrations");
    assert_eq!(probe.run(), ["schema_migrations a1 7s"]);
    write_config("app.schema_migrations");
    assert_eq!(
        probe.run(),
        ["app.schema_migrations a1 7s"],
        "edited: rebuilt"
    );

    std::fs::write(
        &config,
        "migrations = \"db/changes\"\n\nhistory_tabel = \"x\"\n",
    )
    .unwrap();
    let output = cargo()
        .args(["build", "--quiet", "--offline"])
        .current_dir(&probe.dir)
        .output()
        .expect("start cargo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("error: migrate.toml:3: unknown field `history_tabel`, expected one of"),
        "{stderr}"
    );
}

/// migrate.toml's `dialect` lints at compile time with the `lint` feature,
/// and is ignored without it (it is the CLI's setting too): a warning
/// finding is a compiler warning naming the file and line, `[lint] allow`
/// silences it (editing migrate.toml rebuilds), an error finding is a
/// compile error, and a typo in the allow list names its line.
#[test]
fn the_dialect_of_migrate_toml_lints_at_compile_time() {
    let probe = Probe::new("lint-probe", false);
    probe.write_migration(
        "cccc00000001",
        "",
        "CREATE TABLE users (id INTEGER, email TEXT);",
    );
    probe.write_migration(
        "cccc00000002",
        "cccc00000001",
        "ALTER TABLE users DROP COLUMN email;",
    );
    let config = probe.dir.join("migrate.toml");
    std::fs::write(&config, "dialect = \"postgres\"\n").unwrap();
    let build = || {
        let output = cargo()
            .args(["build", "--quiet", "--offline"])
            .current_dir(&probe.dir)
            .output()
            .expect("start cargo");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stderr)
    };
    let warning = "migrations/cccc00000002_lint-probe.sql:6: warning[drop-column]: drops column \
                   users.email: its data is lost, and the running version of the application may \
                   still read it (if it is intended, write `-- migrate:allow drop-column` on the \
                   line above the statement)";

    // Without the feature: no SQL parser, no lint, no complaint.
    let (ok, stderr) = build();
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("drop-column"), "{stderr}");

    let manifest = probe.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"))
        .to_str()
        .unwrap()
        .replace('\\', "/");
    let plain = format!("migrate-runtime = {{ path = \"{runtime}\" }}");
    assert!(text.contains(&plain));
    let with_lint = format!("migrate-runtime = {{ path = \"{runtime}\", features = [\"lint\"] }}");
    std::fs::write(&manifest, text.replace(&plain, &with_lint)).unwrap();
    let (ok, stderr) = build();
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: use of deprecated constant `RUNNER::_::migration_lint`: {warning}\n"
        )),
        "{stderr}"
    );
    assert!(stderr.contains(" --> src/main.rs:1:"), "{stderr}");

    std::fs::write(
        &config,
        "dialect = \"postgres\"\n\n[lint]\nallow = [\"drop-column\"]\n",
    )
    .unwrap();
    let (ok, stderr) = build();
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("drop-column"), "edited: rebuilt\n{stderr}");

    std::fs::write(
        &config,
        "dialect = \"postgres\"\n\n[lint]\nallow = [\"drop-colum\"]\n",
    )
    .unwrap();
    let (ok, stderr) = build();
    assert!(!ok);
    assert!(
        stderr.contains(
            "error: migrate.toml:4: [lint] allow: unknown lint rule `drop-colum`: did you mean `drop-column`?"
        ),
        "{stderr}"
    );

    std::fs::write(&config, "dialect = \"postgres\"\n").unwrap();
    probe.write_migration(
        "cccc00000003",
        "cccc00000002",
        "CREATE INDEX CONCURRENTLY users_id ON users (id);",
    );
    let (ok, stderr) = build();
    assert!(!ok);
    assert!(
        stderr.contains(
            "error: migrations/cccc00000003_lint-probe.sql:6: error[concurrently-in-transaction]: "
        ),
        "{stderr}"
    );
}
