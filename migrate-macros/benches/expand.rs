//! What `embed_migrations!` costs at compile time, for a directory of 1,000
//! generated migrations (a linear chain).
//!
//! ```text
//! cargo bench -p migrate-macros --bench expand
//! cargo bench -p migrate-macros --bench expand -- --count 5000 --runs 7 --release
//! ```
//!
//! It writes two throwaway binary crates under `target/tmp`, identical but
//! for one line: `with-macro` embeds the directory with
//! `embed_migrations!("migrations")`, `without-macro` builds an empty
//! `Runner::from_static(&[])`. Both build into `target/tests/rebuild`, the
//! target directory `migrate-runtime/tests/rebuild.rs` uses, so the
//! dependencies are built once (the first run of either takes a minute
//! more). Each measurement touches `src/main.rs` and times `cargo check`
//! and `cargo build`, so only the crate itself recompiles: the time a
//! developer waits after an edit. The difference between the two crates is
//! the macro's cost: reading and validating the files, generating the
//! table, and the compiler's work on the table. In the `dev` profile the
//! incremental cache hides part of that work while the table is unchanged,
//! so it also times a rebuild after editing one migration.
//!
//! It also times `migrate_core::load_dir` alone on the same directory: the
//! part of the macro that is not code generation. The bench binary is
//! optimised; the macro runs unoptimised code (Cargo builds proc macros
//! with opt-level 0), which `--profile dev` reproduces:
//! `cargo bench -p migrate-macros --bench expand --profile dev`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Options {
    count: usize,
    runs: usize,
    release: bool,
}

impl Options {
    fn from_args() -> Options {
        let mut options = Options {
            count: 1000,
            runs: 5,
            release: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--count" => options.count = number(args.next()),
                "--runs" => options.runs = number(args.next()).max(1),
                "--release" => options.release = true,
                // `--bench` (from `cargo bench`), or a filter meant for
                // other benches.
                _ => {}
            }
        }
        options
    }
}

fn number(arg: Option<String>) -> usize {
    arg.and_then(|text| text.parse().ok())
        .expect("--count and --runs take a number")
}

fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`: a
    // minute of cargo builds is not a test.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "expand bench: skipped (run it with `cargo bench -p migrate-macros --bench expand`)"
        );
        return;
    }
    let options = Options::from_args();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let with_macro = tmp.join("expand-bench/with-macro");
    let without_macro = tmp.join("expand-bench/without-macro");
    let main_with = "static RUNNER: migrate_runtime::Runner = \
                     migrate_runtime::embed_migrations!(\"migrations\");\n";
    let main_without = "static RUNNER: migrate_runtime::Runner = \
                        migrate_runtime::Runner::from_static(&[]);\n";
    // black_box: otherwise the optimiser keeps only the table's length.
    let print = "\nfn main() {\n    let runner = std::hint::black_box(&RUNNER);\n    \
                 println!(\"{}\", runner.revisions().len());\n}\n";
    write_crate(&with_macro, "with-macro", &format!("{main_with}{print}"));
    write_crate(
        &without_macro,
        "without-macro",
        &format!("{main_without}{print}"),
    );
    // Both have the directory, so that they differ only by the macro call.
    let bytes = generate_migrations(&with_macro.join("migrations"), options.count);
    generate_migrations(&without_macro.join("migrations"), options.count);

    let profile = if options.release { "release" } else { "dev" };
    println!(
        "{} migrations, {} KiB of SQL files; {} runs each, `{profile}` profile; median (min)",
        options.count,
        bytes / 1024,
        options.runs
    );

    let dir = with_macro.join("migrations");
    let load = time_runs(options.runs.max(10), || {
        let loaded = migrate_core::load_dir(&dir, "migrations").expect("the directory validates");
        assert_eq!(loaded.revisions.len(), options.count);
    });
    println!("migrate_core::load_dir alone:          {}", load.summary());

    for verb in ["check", "build"] {
        // Warm up: dependencies, and the first build of each crate.
        cargo(&with_macro, verb, options.release);
        cargo(&without_macro, verb, options.release);
        let with = time_runs(options.runs, || {
            touch(&with_macro.join("src/main.rs"));
            cargo(&with_macro, verb, options.release);
        });
        let without = time_runs(options.runs, || {
            touch(&without_macro.join("src/main.rs"));
            cargo(&without_macro, verb, options.release);
        });
        println!(
            "cargo {verb}, crate without the macro: {}",
            without.summary()
        );
        println!("cargo {verb}, crate with the macro:    {}", with.summary());
        println!(
            "cargo {verb}, the macro's share:       {}",
            format_duration(with.median().saturating_sub(without.median()))
        );
        // Touching main.rs re-runs the macro, but with the same output the
        // incremental cache (dev profile) can reuse the type-checked table.
        // Editing a migration changes the table: the wait after writing one.
        let migration = with_macro.join("migrations/000000000001_create_table_0.sql");
        let mut edit = 0;
        let edited = time_runs(options.runs, || {
            edit += 1;
            let mut text = std::fs::read_to_string(&migration).unwrap();
            text.push_str(&format!("-- edit {edit}\n"));
            std::fs::write(&migration, text).unwrap();
            cargo(&with_macro, verb, options.release);
        });
        println!(
            "cargo {verb}, after editing a migration:  {}",
            edited.summary()
        );
    }
    let output = run_binary(&with_macro, options.release);
    assert_eq!(output.trim(), options.count.to_string(), "embedded count");
    println!(
        "binary size, with / without:          {} KiB / {} KiB",
        binary_size("with-macro", options.release) / 1024,
        binary_size("without-macro", options.release) / 1024
    );
}

/// A throwaway crate depending on the workspace's `migrate-runtime`.
fn write_crate(dir: &Path, name: &str, main_rs: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let runtime = workspace().join("migrate-runtime");
    let runtime = runtime.to_str().unwrap().replace('\\', "/");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         # Its own workspace: the crate sits inside this repository's target/.\n\
         [workspace]\n\n\
         [dependencies]\nmigrate-runtime = {{ path = \"{runtime}\" }}\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // Same versions as the workspace, nothing to resolve (builds run --offline).
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/main.rs"), main_rs).unwrap();
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A linear chain of `count` revisions, replacing what the directory held.
/// Returns the total size of the files.
fn generate_migrations(dir: &Path, count: usize) -> usize {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    let mut total = 0;
    for step in 0..count {
        let id = format!("{:012x}", step + 1);
        let revises = if step == 0 {
            String::new()
        } else {
            format!("{step:012x}")
        };
        let text = format!(
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
             DROP TABLE table_{step};\n"
        );
        total += text.len();
        std::fs::write(dir.join(format!("{id}_create_table_{step}.sql")), text).unwrap();
    }
    total
}

fn touch(file: &Path) {
    let text = std::fs::read(file).unwrap();
    std::fs::write(file, text).unwrap();
}

fn cargo_command(dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("../tests/rebuild"),
        )
        // What `cargo bench` set for this process, not for the probe crates.
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("CARGO_CRATE_NAME")
        .env_remove("MIGRATE_MANIFEST_DIR_OVERRIDE");
    command
}

fn cargo(dir: &Path, verb: &str, release: bool) {
    let mut command = cargo_command(dir);
    command.args([verb, "--quiet", "--offline"]);
    if release {
        command.arg("--release");
    }
    let output = command.output().expect("start cargo");
    assert!(
        output.status.success(),
        "cargo {verb} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run_binary(dir: &Path, release: bool) -> String {
    let mut command = cargo_command(dir);
    command.args(["run", "--quiet", "--offline"]);
    if release {
        command.arg("--release");
    }
    let output = command.output().expect("start cargo");
    assert!(output.status.success(), "cargo run failed");
    String::from_utf8(output.stdout).unwrap()
}

fn binary_size(name: &str, release: bool) -> u64 {
    let profile = if release { "release" } else { "debug" };
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("../tests/rebuild")
        .join(profile)
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    std::fs::metadata(&binary)
        .unwrap_or_else(|err| panic!("{}: {err}", binary.display()))
        .len()
}

struct Timings(Vec<Duration>);

impl Timings {
    fn median(&self) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }

    fn min(&self) -> Duration {
        self.0.iter().copied().min().unwrap_or_default()
    }

    fn summary(&self) -> String {
        format!(
            "{} ({})",
            format_duration(self.median()),
            format_duration(self.min())
        )
    }
}

fn time_runs(runs: usize, mut work: impl FnMut()) -> Timings {
    Timings(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                work();
                started.elapsed()
            })
            .collect(),
    )
}

fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}
