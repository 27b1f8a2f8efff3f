// An error finding (certain to fail) is a compile error, as is an
// opt-out naming a rule that does not exist.
static RUNNER: migrate_runtime::Runner =
    migrate_runtime::embed_migrations!("tests/fixtures/lint_error", lint = "postgres");

fn main() {
    let _ = &RUNNER;
}
