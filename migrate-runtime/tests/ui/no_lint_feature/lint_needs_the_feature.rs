// `lint = "..."` without migrate-runtime's `lint` feature: an error saying
// how to enable it (migrate.toml's `dialect` alone is skipped silently).
static RUNNER: migrate_runtime::Runner =
    migrate_runtime::embed_migrations!("tests/fixtures/linear", lint = "postgres");

fn main() {
    let _ = &RUNNER;
}
