use migrate_runtime::{embed_migrations, Runner};

// Not a string literal: the path must be known when the macro runs.
static IDENT: Runner = embed_migrations!(migrations);

const DIR: &str = "migrations";
static CONSTANT: Runner = embed_migrations!(DIR);

static TWO: Runner = embed_migrations!("migrations", "more");

static BYTES: Runner = embed_migrations!(b"migrations");

fn main() {
    let _ = (&IDENT, &CONSTANT, &TWO, &BYTES, DIR);
}
