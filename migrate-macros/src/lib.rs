//! `embed_migrations!`: a migrations directory checked and embedded at
//! compile time.
//!
//! The macro is a thin shell: `input` reads the path literal,
//! `migrate_core::load_dir` loads and validates (the same code the CLI
//! runs), `lint` runs migrate-lint's rules when a dialect is named (the
//! `lint` feature), and `expand` turns the result into a `Runner` constant
//! or into one `compile_error!` per problem.

use proc_macro::TokenStream;

mod config;
mod expand;
mod input;
mod lint;

/// Embeds the migrations of a directory, given relative to the crate's
/// `Cargo.toml`, as a `migrate_runtime::Runner` constant expression.
///
/// ```ignore
/// static RUNNER: migrate_runtime::Runner = migrate_runtime::embed_migrations!("migrations");
/// ```
///
/// With no argument (`embed_migrations!()`) the directory is the
/// `migrations` setting of the crate's `migrate.toml`, else `migrations`.
/// Where that file sets `history_table`, `transaction_mode`,
/// `lock_timeout` or `io_timeout`, the runner starts with those settings, the ones the
/// `migrate` CLI uses (the `with_*` methods still override them); a
/// malformed file is a compile error naming its line.
///
/// With migrate-runtime's `lint` feature, `embed_migrations!("migrations",
/// lint = "postgres")` (or `"mysql"`, `"sqlite"`; or migrate.toml's
/// `dialect`, which the argument overrides) runs the rules of `migrate
/// check --lint` on every up section: a finding certain to fail (such as
/// `concurrently-in-transaction`) is a compile error, the others are
/// compiler warnings naming the file and line; `-- migrate:allow <rule>`
/// and `[lint] allow` silence them as they do for the CLI. No dialect, no
/// lint. Without the feature, `lint = "..."` is a compile error that says
/// to enable it, and migrate.toml's `dialect` alone is ignored.
///
/// A directory that does not validate (a bad header, a missing up section,
/// two heads, a cycle, ...) is a compile error naming the file and what to
/// do. Every file read is tracked, so editing one rebuilds the crate; for a
/// *new* file to be picked up, add a `build.rs` that calls
/// `migrate_runtime::build::rerun_if_changed("migrations")`.
#[proc_macro]
pub fn embed_migrations(tokens: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(tokens as input::Input);
    expand::expand(&input).into()
}
