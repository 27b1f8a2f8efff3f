//! For a crate's `build.rs`: rebuild when a migration is added.
//!
//! `embed_migrations!` makes the compiler read every migration file it
//! embeds (through `include_bytes!`), so Cargo already rebuilds the crate
//! when one of them is edited or deleted. What no macro can do on stable
//! Rust is tell Cargo about a file that does not exist yet: a *new*
//! migration would sit unseen until something else changed. (Nightly has
//! `proc_macro::tracked_path`; stable has nothing.) A build script can:
//! Cargo re-runs it, and rebuilds the crate, when anything under a
//! `cargo:rerun-if-changed` directory changes, which is what
//! [`rerun_if_changed`] asks for. `migrate init` writes that `build.rs`.

/// Makes Cargo rebuild the crate when anything in the migrations directory
/// changes: a file added, edited, renamed or removed.
///
/// Call it from the crate's `build.rs`, with the same path as given to
/// `embed_migrations!` (both are relative to the crate's `Cargo.toml`):
///
/// ```no_run
/// // build.rs
/// fn main() {
///     migrate_runtime::build::rerun_if_changed("migrations");
/// }
/// ```
///
/// ```toml
/// # Cargo.toml
/// [build-dependencies]
/// migrate-runtime = { version = "0.1", default-features = false }
/// ```
///
/// It prints `cargo:rerun-if-changed=<dir>`, for which Cargo compares the
/// modification time of every file under the directory (recursively) with
/// the build script's last run. Two things follow from Cargo's rules:
///
/// - once a build script prints any `rerun-if-changed`, Cargo re-runs it
///   only for the paths it printed, no longer for every change in the
///   package: a `build.rs` with other work must print its own paths too;
/// - the build-dependency compiles `migrate-runtime` once more, for the
///   build script. Where that costs too much, the build script can print the
///   line itself, with no build-dependency:
///   `println!("cargo:rerun-if-changed=migrations");`.
// The example is a whole `build.rs`, so its `fn main` is the point.
#[allow(clippy::needless_doctest_main)]
pub fn rerun_if_changed(dir: &str) {
    println!("cargo:rerun-if-changed={dir}");
}
