//! The README's stairway test, as an application writes it: an embedded
//! directory, an in-memory SQLite database, one call.
#![cfg(feature = "sqlite")]

use sqlx::sqlite::SqlitePoolOptions;

static MIGRATIONS: migrate_runtime::Runner =
    migrate_runtime::embed_migrations!("tests/fixtures/linear");

#[tokio::test]
async fn every_migration_goes_up_down_and_up_again() {
    // One connection kept open: each connection to `sqlite::memory:` is a
    // database of its own, gone when the connection closes.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    MIGRATIONS.stairway(&pool).await.unwrap();
    assert_eq!(
        MIGRATIONS.current(&pool).await.unwrap(),
        ["c3c3c3c3c3c3"],
        "the stairway ends at the head"
    );
}
