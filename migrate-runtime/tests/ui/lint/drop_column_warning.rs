// A warning finding is a compiler warning (denied here, so that trybuild
// shows it). The allowed `DROP COLUMN` of c3c3c3c3c3c3, the index on a
// table created in the same revision and the `DO` block the parser cannot
// read give nothing.
#![deny(deprecated)]

static RUNNER: migrate_runtime::Runner =
    migrate_runtime::embed_migrations!("tests/fixtures/lint_findings", lint = "postgres");

fn main() {
    let _ = &RUNNER;
}
