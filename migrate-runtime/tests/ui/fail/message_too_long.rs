fn main() {
    let _runner = migrate_runtime::embed_migrations!("tests/fixtures/message_too_long");
}
