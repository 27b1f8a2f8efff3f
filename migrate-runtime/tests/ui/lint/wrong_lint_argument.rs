use migrate_runtime::{embed_migrations, Runner};

static UNKNOWN_DIALECT: Runner = embed_migrations!("tests/fixtures/linear", lint = "postgre");

static NOT_A_LITERAL: Runner = embed_migrations!("tests/fixtures/linear", lint = postgres);

static UNKNOWN_KEY: Runner = embed_migrations!("tests/fixtures/linear", dialect = "postgres");

static AFTER_LINT: Runner = embed_migrations!(lint = "postgres", "tests/fixtures/linear");

fn main() {
    let _ = (&UNKNOWN_DIALECT, &NOT_A_LITERAL, &UNKNOWN_KEY, &AFTER_LINT);
}
