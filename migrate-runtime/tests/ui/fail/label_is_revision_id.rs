fn main() {
    let _runner = migrate_runtime::embed_migrations!("tests/fixtures/label_is_revision_id");
}
