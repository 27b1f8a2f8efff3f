//! The CLI and the application read the same migrate.toml: after
//! `migrate upgrade` with `history_table = "schema_migrations"`, the
//! application's `embed_migrations!()` runner (a real crate, built with
//! cargo) finds everything applied in that table and has nothing to do.
//! Before the macro read the file, the application used the default table,
//! tried to apply everything again and failed on `CREATE TABLE users`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Kind, Project, TestDb};

#[test]
fn the_application_finds_what_the_cli_applied() {
    let db = TestDb::new(Kind::Sqlite, "app_agrees");
    let project = Project::empty();
    project.ok(&["init", "--database-url", &db.url]);
    // Both read this file; the URL comes from the environment, as in
    // production.
    std::fs::write(
        project.path().join("migrate.toml"),
        "database_url = \"${APP_DATABASE_URL}\"\n\
         history_table = \"schema_migrations\"\n",
    )
    .unwrap();
    let users = project.revision("create users", &[]);
    project.fill(&users, "CREATE TABLE users (id INTEGER PRIMARY KEY);", None);
    let posts = project.revision("create posts", &[]);
    project.fill(
        &posts,
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
        None,
    );
    let upgraded = project
        .migrate()
        .env("APP_DATABASE_URL", &db.url)
        .args(["upgrade", "head"])
        .output()
        .unwrap();
    assert!(
        upgraded.status.success(),
        "{}",
        String::from_utf8_lossy(&upgraded.stderr)
    );
    assert_eq!(
        db.client("SELECT count(*) FROM schema_migrations;").trim(),
        "2"
    );

    write_app(project.path());
    let output = cargo()
        .args(["run", "--quiet", "--offline"])
        .current_dir(project.path())
        .env("APP_DATABASE_URL", &db.url)
        .output()
        .expect("start cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the application failed:\n{stderr}");
    assert_eq!(stdout.trim(), "schema_migrations: nothing to upgrade");
    // The default table was never made: the application used the CLI's.
    assert_eq!(
        db.client("SELECT count(*) FROM sqlite_master WHERE name = 'migrate_history';")
            .trim(),
        "0"
    );
}

/// The application: a binary crate in the project directory (beside
/// migrate.toml and migrations/, as `migrate init` lays them out) whose
/// `main` is the README's boot.
fn write_app(dir: &Path) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let runtime = workspace.join("migrate-runtime");
    let runtime = runtime.to_str().unwrap().replace('\\', "/");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [workspace]\n\n\
             [dependencies]\n\
             migrate-runtime = {{ path = \"{runtime}\" }}\n\
             sqlx = {{ version = \"0.8\", default-features = false, features = [\"sqlite\", \"runtime-tokio\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n"
        ),
    )
    .unwrap();
    // The workspace's lock file: the same versions, nothing to resolve.
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"static RUNNER: migrate_runtime::Runner = migrate_runtime::embed_migrations!();

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::var("APP_DATABASE_URL").unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    match RUNNER.run(&pool).await {
        Ok(report) => println!("{}: {report}", RUNNER.history_table()),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
"#,
    )
    .unwrap();
}

/// The cargo running this test, building into the target directory the
/// runtime's rebuild tests use (its dependencies are built there once), and
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
    command.env_remove("MIGRATE_MANIFEST_DIR_OVERRIDE");
    command
}
