fn main() {
    let _runner = migrate_runtime::embed_migrations!("tests/fixtures/malformed_marker");
}
