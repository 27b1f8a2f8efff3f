fn main() {
    let _runner = migrate_runtime::embed_migrations!("tests/fixtures/ids_differing_in_case");
}
