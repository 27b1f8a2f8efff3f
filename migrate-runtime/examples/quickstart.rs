//! The quickstart: an application that embeds the repository's
//! `migrations/` and brings its database to head at start-up.
//!
//! ```text
//! cargo run -p migrate-runtime --example quickstart                 # SQLite file quickstart.db
//! DATABASE_URL=postgres://postgres@127.0.0.1/test \
//!     cargo run -p migrate-runtime --all-features --example quickstart
//! ```
//!
//! Run it twice: the first run applies the three revisions, the second
//! finds nothing pending and sends a single statement.

use migrate_runtime::{embed_migrations, Backend, Report, Runner};

/// Checked at compile time: a broken migration is a compile error.
static MIGRATIONS: Runner = embed_migrations!("../migrations");

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://quickstart.db?mode=rwc".to_string());
    println!("database: {url}");
    match url.split(':').next().unwrap_or_default() {
        "sqlite" => migrate::<sqlx::Sqlite>(&url).await,
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => migrate::<sqlx::Postgres>(&url).await,
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => migrate::<sqlx::MySql>(&url).await,
        scheme => Err(format!(
            "`{scheme}:` URLs need this example built with the matching feature \
             (`--features postgres` or `--features mysql`)"
        )
        .into()),
    }
}

async fn migrate<DB: Backend>(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let pool = sqlx::Pool::<DB>::connect(url).await?;
    let report = MIGRATIONS.run(&pool).await?;
    print_report(&report);
    let current = MIGRATIONS.current(&pool).await?;
    println!("current head: {}", current.join(", "));
    pool.close().await;
    Ok(())
}

fn print_report(report: &Report) {
    if report.is_empty() {
        println!("nothing pending: the database is up to date");
        return;
    }
    println!("applied {} revision(s):", report.steps.len());
    for step in &report.steps {
        println!(
            "  {}  {:<40} {:>6.1} ms",
            step.revision,
            step.message,
            step.duration.as_secs_f64() * 1000.0
        );
    }
}
