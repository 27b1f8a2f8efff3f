//! The application crate's release rebuild, beside sqlx: how long a
//! developer waits after editing `main.rs`, and after editing one
//! migration, in a crate that embeds 0, 1,000 or 10,000 migrations and runs
//! them at boot on SQLite.
//!
//! ```text
//! cargo run --release -p migrate-bench --bin rebuild [-- SAMPLES [COUNT...]]
//! ```
//!
//! (The bench itself only starts `cargo`: `--release` is not needed.)
//!
//! For each count it writes two throwaway binary crates, alike but for the
//! tool: `app-migrate-N` calls `embed_migrations!` and `Runner::run` on a
//! `SqlitePool`, `app-sqlx-N` calls sqlx 0.8's `migrate!` and
//! `Migrator::run`. Both embed the same files (the same bytes; sqlx's names
//! are numbered, as it requires). They depend on this workspace's crates by
//! path, and are written with their target directory under the system's
//! temp dir (`migrate-rebuild-bench`), so that dependencies are built once
//! and reused by later runs (the first run takes minutes more).
//! `REBUILD_BENCH_WORKSPACE` names another checkout whose crates to build
//! instead of this one's: how two versions are compared on the same
//! dependencies.
//!
//! Each sample touches `src/main.rs` and times `cargo build --release`,
//! then appends a comment to one migration and times it again. The release
//! profile has no incremental cache, so both rebuild the whole crate (the
//! macro runs again either way); the second one also changes the table.
//! The tools alternate sample by sample, so that a change in the machine's
//! load falls on both. The embedding cost is a count's rebuild after an
//! edited migration minus the rebuild of the same tool's crate with 0
//! migrations after touching `main.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

/// The two tools compared.
#[derive(Clone, Copy)]
enum Tool {
    Migrate,
    Sqlx,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Migrate => "migrate",
            Tool::Sqlx => "sqlx",
        }
    }
}

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let samples: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let counts: Vec<usize> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    let counts = if counts.is_empty() {
        vec![0, 1000, 10_000]
    } else {
        counts
    };
    let tools = [Tool::Migrate, Tool::Sqlx];
    let scratch = std::env::temp_dir().join("migrate-rebuild-bench");
    let target = scratch.join("target");
    println!(
        "release rebuilds, {samples} samples each, of crates in {} depending on {}\n",
        scratch.display(),
        workspace().display()
    );

    let mut rows = Vec::new();
    for &count in &counts {
        let apps: Vec<App> = tools
            .iter()
            .map(|&tool| App::write(&scratch, &target, tool, count))
            .collect::<Result<_, _>>()?;
        for app in &apps {
            // Dependencies, and the crate's first build: not measured.
            let started = Instant::now();
            app.build()?;
            eprintln!("{}: first build {:.1?}", app.name, started.elapsed());
        }
        let mut touched: Vec<Vec<Duration>> = vec![Vec::new(); apps.len()];
        let mut edited: Vec<Vec<Duration>> = vec![Vec::new(); apps.len()];
        for sample in 0..samples {
            for (index, app) in apps.iter().enumerate() {
                touch(&app.dir.join("src/main.rs"))?;
                touched[index].push(app.timed_build()?);
                if count > 0 {
                    app.edit_migration(sample)?;
                    edited[index].push(app.timed_build()?);
                }
            }
            eprintln!(
                "{count} migrations: sample {} of {samples} done",
                sample + 1
            );
        }
        for (index, app) in apps.iter().enumerate() {
            rows.push(Row {
                tool: app.tool,
                count,
                touched: Timings(touched[index].clone()),
                edited: (count > 0).then(|| Timings(edited[index].clone())),
            });
        }
        // The table so far: a long run may be stopped before its end.
        print_table(&rows);
    }
    if let Some(path) = std::env::var_os("REBUILD_TARGETS") {
        std::fs::write(path, target_lines(&rows))?;
    }
    Ok(())
}

/// For migrate-bench's targets table: `<what>\t<ours s>\t<sqlx s>` per
/// figure the issue compares with sqlx.
fn target_lines(rows: &[Row]) -> String {
    let median = |tool: &str, count: usize, edited: bool| {
        let row = rows
            .iter()
            .find(|r| r.tool.name() == tool && r.count == count)?;
        let timings = if edited {
            row.edited.as_ref()?
        } else {
            &row.touched
        };
        Some(timings.median().as_secs_f64())
    };
    let mut out = String::new();
    let mut line = |what: String, ours: Option<f64>, sqlx: Option<f64>| {
        if let (Some(ours), Some(sqlx)) = (ours, sqlx) {
            out.push_str(&format!("{what}\t{ours:.3}\t{sqlx:.3}\n"));
        }
    };
    let names = [Tool::Migrate.name(), Tool::Sqlx.name()];
    line(
        "release rebuild, 0 migrations, main.rs touched".to_string(),
        median(names[0], 0, false),
        median(names[1], 0, false),
    );
    let mut counts: Vec<usize> = rows.iter().map(|r| r.count).filter(|&c| c > 0).collect();
    counts.dedup();
    for count in counts {
        let edited = |tool| median(tool, count, true);
        let embedding = |tool| Some(edited(tool)? - median(tool, 0, false)?);
        line(
            format!("release rebuild, {count} migrations, one edited"),
            edited(names[0]),
            edited(names[1]),
        );
        line(
            format!("embedding {count} migrations (edited − 0 migrations)"),
            embedding(names[0]),
            embedding(names[1]),
        );
    }
    out
}

/// One throwaway application crate.
struct App {
    tool: Tool,
    name: String,
    dir: PathBuf,
    target: PathBuf,
    /// The migration a sample edits.
    edited_file: Option<PathBuf>,
}

impl App {
    /// Writes the crate afresh (the target directory is kept).
    fn write(scratch: &Path, target: &Path, tool: Tool, count: usize) -> Result<App, Failure> {
        let name = format!("app-{}-{count}", tool.name());
        let dir = scratch.join(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(dir.join("src"))?;
        let path_of = |krate: &str| workspace().join(krate).to_string_lossy().replace('\\', "/");
        let dependencies = match tool {
            Tool::Migrate => format!(
                "migrate-runtime = {{ path = \"{}\", features = [\"sqlite\"] }}\n\
                 sqlx = {{ version = \"0.8\", default-features = false, \
                 features = [\"runtime-tokio\", \"sqlite\"] }}\n",
                path_of("migrate-runtime")
            ),
            Tool::Sqlx => "sqlx = { version = \"0.8\", default-features = false, \
                 features = [\"runtime-tokio\", \"sqlite\", \"migrate\", \"macros\"] }\n"
                .to_string(),
        };
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                 publish = false\n\n\
                 # Its own workspace.\n[workspace]\n\n\
                 [dependencies]\n{dependencies}\
                 tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n"
            ),
        )?;
        // The workspace's versions, and nothing to resolve (builds run
        // --offline).
        std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock"))?;
        std::fs::write(dir.join("src/main.rs"), main_rs(tool))?;
        let migrations = dir.join("migrations");
        std::fs::create_dir_all(&migrations)?;
        let mut edited_file = None;
        for step in 0..count {
            let file = migrations.join(file_name(tool, step));
            std::fs::write(&file, migration_text(step))?;
            if step == count / 2 {
                edited_file = Some(file);
            }
        }
        Ok(App {
            tool,
            name,
            dir,
            target: target.to_path_buf(),
            edited_file,
        })
    }

    fn build(&self) -> Result<(), Failure> {
        let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--release", "--quiet", "--offline"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            // What `cargo run` set for this process, not for the crates.
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_MANIFEST_PATH")
            .env_remove("CARGO_PRIMARY_PACKAGE")
            .env_remove("CARGO_CRATE_NAME")
            .env_remove("CARGO_PKG_NAME")
            .env_remove("MIGRATE_MANIFEST_DIR_OVERRIDE")
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "cargo build --release in {} failed:\n{}",
                self.dir.display(),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(())
    }

    fn timed_build(&self) -> Result<Duration, Failure> {
        let started = Instant::now();
        self.build()?;
        Ok(started.elapsed())
    }

    /// Appends a comment: a changed file, and a changed checksum.
    fn edit_migration(&self, sample: usize) -> Result<(), Failure> {
        if let Some(file) = &self.edited_file {
            let mut text = std::fs::read_to_string(file)?;
            text.push_str(&format!("-- edit {sample}\n"));
            std::fs::write(file, text)?;
        }
        Ok(())
    }
}

/// What each application does at boot: run its migrations on SQLite.
fn main_rs(tool: Tool) -> &'static str {
    match tool {
        Tool::Migrate => {
            r#"static MIGRATIONS: migrate_runtime::Runner = migrate_runtime::embed_migrations!("migrations");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    let report = MIGRATIONS.run(&pool).await?;
    println!("{} applied", report.steps.len());
    Ok(())
}
"#
        }
        Tool::Sqlx => {
            r#"static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
    MIGRATOR.run(&pool).await?;
    println!("{} embedded", MIGRATOR.iter().count());
    Ok(())
}
"#
        }
    }
}

/// This project's names start with the revision id; sqlx's with a number.
fn file_name(tool: Tool, step: usize) -> String {
    match tool {
        Tool::Migrate => format!("{}_create_table_{step}.sql", revision_id(step)),
        Tool::Sqlx => format!("{}_create_table_{step}.sql", step + 1),
    }
}

fn revision_id(step: usize) -> String {
    format!("{:012x}", step + 1)
}

/// One link of a linear chain, in this project's format (to sqlx, the
/// headers are comments). The same text as the macro's expand bench.
fn migration_text(step: usize) -> String {
    let revises = if step == 0 {
        String::new()
    } else {
        revision_id(step - 1)
    };
    format!(
        "-- revision: {id}\n\
         -- revises: {revises}\n\
         -- message: create table number {step}\n\
         -- created: 2026-11-24 10:00:00\n\n\
         -- migrate:up\n\
         CREATE TABLE table_{step} (\n    \
             id INTEGER PRIMARY KEY,\n    \
             name VARCHAR(200) NOT NULL,\n    \
             created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n\
         );\n\
         CREATE INDEX table_{step}_name ON table_{step} (name);\n\n\
         -- migrate:down\n\
         DROP TABLE IF EXISTS table_{step};\n",
        id = revision_id(step)
    )
}

/// A new modification time, the same contents.
fn touch(file: &Path) -> std::io::Result<()> {
    let text = std::fs::read(file)?;
    std::fs::write(file, text)
}

/// The checkout whose crates the applications depend on.
fn workspace() -> PathBuf {
    std::env::var_os("REBUILD_BENCH_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

struct Row {
    tool: Tool,
    count: usize,
    touched: Timings,
    edited: Option<Timings>,
}

fn print_table(rows: &[Row]) {
    println!();
    println!("median (min – max) of each rebuild; embedding = edited migration − touched main.rs at 0 migrations, medians\n");
    println!("| tool | migrations | touch main.rs | edit one migration | embedding cost |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let base = rows
            .iter()
            .find(|r| r.count == 0 && r.tool.name() == row.tool.name())
            .map(|r| r.touched.median());
        let (edited, cost) = match (&row.edited, base) {
            (Some(edited), Some(base)) => (
                edited.summary(),
                seconds(edited.median().saturating_sub(base)),
            ),
            (Some(edited), None) => (edited.summary(), "–".to_string()),
            (None, _) => ("–".to_string(), "–".to_string()),
        };
        println!(
            "| {} | {} | {} | {edited} | {cost} |",
            row.tool.name(),
            row.count,
            row.touched.summary()
        );
    }
}

struct Timings(Vec<Duration>);

impl Timings {
    fn median(&self) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }

    fn summary(&self) -> String {
        let min = self.0.iter().min().copied().unwrap_or_default();
        let max = self.0.iter().max().copied().unwrap_or_default();
        format!(
            "{} ({} – {})",
            seconds(self.median()),
            seconds(min),
            seconds(max)
        )
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
