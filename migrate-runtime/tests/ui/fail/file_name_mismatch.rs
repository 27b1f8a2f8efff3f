fn main() {
    let _runner = migrate_runtime::embed_migrations!("tests/fixtures/file_name_mismatch");
}
