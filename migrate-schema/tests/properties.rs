//! A property over generated pairs of schemas S1 → S2, with a row in every
//! table: S1 plus the generated up section reads back from the catalog as
//! exactly S2, and the down section then reads back as exactly S1. On
//! SQLite (in memory) always, on PostgreSQL when `TEST_POSTGRES_URL` is set
//! (each case in a schema of its own).

use std::str::FromStr;

use migrate_core::Dialect;
use migrate_schema::describe::describe;
use migrate_schema::introspect::{mysql, postgres, sqlite};
use migrate_schema::{diff, parse_declared, plan, section_text, Renames, Schema};
use sqlx::{Connection, Executor, MySqlConnection, PgConnection, SqliteConnection};

/// xorshift64*: deterministic, so a failing seed can be rerun.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const TYPES: &[&str] = &["INTEGER", "VARCHAR(20)", "VARCHAR(50)", "TEXT"];

/// A schema of up to four tables: columns of random types, nullability and
/// defaults, unique columns, indexes, and foreign keys to earlier tables;
/// on MySQL also comments and `ON UPDATE CURRENT_TIMESTAMP` timestamps.
/// Returns the DDL and the row to insert into each table.
fn schema(rng: &mut Rng, dialect: Dialect) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut rows = Vec::new();
    let mut tables = Vec::new();
    for t in 0..4 {
        if !rng.chance(75) {
            continue;
        }
        let name = format!("t{t}");
        let mut columns = vec!["id INTEGER PRIMARY KEY".to_string()];
        let mut names = vec!["id".to_string()];
        let mut values = vec!["1".to_string()];
        let mut indexes = Vec::new();
        for c in 0..5 {
            if !rng.chance(50) {
                continue;
            }
            let column = format!("c{c}");
            let mut data_type = TYPES[rng.below(TYPES.len() as u64) as usize];
            if dialect == Dialect::MySql && data_type == "TEXT" {
                // MySQL cannot index a TEXT column without a prefix length.
                data_type = "VARCHAR(80)";
            }
            let literal = if data_type == "INTEGER" { "7" } else { "'7'" };
            let mut definition = format!("{column} {data_type}");
            // NOT NULL always comes with a default, so a row can be kept.
            if rng.chance(40) {
                definition.push_str(&format!(" NOT NULL DEFAULT {literal}"));
            } else if rng.chance(30) {
                definition.push_str(&format!(" DEFAULT {literal}"));
            }
            if rng.chance(15) {
                definition.push_str(" UNIQUE");
            }
            if dialect == Dialect::MySql && rng.chance(20) {
                definition.push_str(&format!(" COMMENT 'note {c}'"));
            }
            if rng.chance(25) {
                indexes.push(format!(
                    "CREATE INDEX {name}_{column} ON {name} ({column});\n"
                ));
            }
            columns.push(definition);
            names.push(column);
            values.push(literal.to_string());
        }
        // MySQL: a change to any other attribute of the column must keep
        // its ON UPDATE (MODIFY COLUMN restates the whole definition).
        if dialect == Dialect::MySql && rng.chance(40) {
            let on_update = if rng.chance(50) {
                " ON UPDATE CURRENT_TIMESTAMP"
            } else {
                ""
            };
            let nullable = if rng.chance(50) { "NULL" } else { "NOT NULL" };
            columns.push(format!(
                "updated_at TIMESTAMP {nullable} DEFAULT CURRENT_TIMESTAMP{on_update}"
            ));
        }
        for parent in &tables {
            if rng.chance(35) {
                let action =
                    ["", " ON DELETE CASCADE", " ON DELETE SET NULL"][rng.below(3) as usize];
                columns.push(format!(
                    "ref_{parent} INTEGER REFERENCES {parent} (id){action}"
                ));
            }
        }
        sql.push_str(&format!(
            "CREATE TABLE {name} (\n  {}\n);\n",
            columns.join(",\n  ")
        ));
        for index in indexes {
            sql.push_str(&index);
        }
        rows.push(format!(
            "INSERT INTO {name} ({}) VALUES ({});",
            names.join(", "),
            values.join(", ")
        ));
        tables.push(name);
    }
    (sql, rows)
}

/// A second schema: the first one's generator state drifted a little, so
/// that most tables and columns are kept and some change.
fn pair(seed: u64, dialect: Dialect) -> (String, Vec<String>, String) {
    let (s1, rows) = schema(&mut Rng(seed), dialect);
    let mut drifted = Rng(seed);
    // Same stream for a while, then another: a mix of kept and changed.
    let seed2 = if drifted.chance(20) {
        seed
    } else {
        seed ^ drifted.next()
    };
    let (s2, _) = schema(&mut Rng(seed2), dialect);
    (s1, rows, s2)
}

async fn sqlite_catalog(sql: &str) -> (SqliteConnection, Schema) {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    let schema = sqlite::introspect(&mut conn, &[]).await.unwrap();
    (conn, schema)
}

fn assert_same(actual: &Schema, expected: &Schema, context: &str) {
    let differences = describe(&diff(actual, expected, &Renames::default()));
    assert!(
        differences.is_empty(),
        "{context}\n{}",
        differences.join("\n")
    );
}

#[tokio::test]
async fn generated_sqlite_revisions_go_up_and_down_exactly() {
    let mut changed = 0;
    let mut rebuilds = 0;
    for seed in 1..=150u64 {
        let (s1, rows, s2) = pair(seed, Dialect::Sqlite);
        let (mut db, from) = sqlite_catalog(&s1).await;
        let (_, to) = sqlite_catalog(&s2).await;
        let declared = parse_declared("schema.sql", &s2, Dialect::Sqlite).unwrap();
        let migration = plan(Dialect::Sqlite, &from, &to, &declared.renames).unwrap();
        for row in &rows {
            db.execute(row.as_str()).await.unwrap();
        }
        let up = section_text(&migration.up);
        let down = section_text(&migration.down);
        changed += usize::from(!migration.is_empty());
        rebuilds += usize::from(up.contains("_migrate_new_"));
        let context =
            format!("seed {seed}\n--- S1\n{s1}\n--- S2\n{s2}\n--- up\n{up}\n--- down\n{down}");
        // As the runner does: foreign keys off for the run, checked after.
        db.execute("PRAGMA foreign_keys = OFF").await.unwrap();
        sqlx::raw_sql(&up)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("up: {e}\n{context}"));
        let after_up = sqlite::introspect(&mut db, &[]).await.unwrap();
        assert_same(&after_up, &to, &format!("after up, {context}"));
        sqlx::raw_sql(&down)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("down: {e}\n{context}"));
        let after_down = sqlite::introspect(&mut db, &[]).await.unwrap();
        assert_same(&after_down, &from, &format!("after down, {context}"));
        // Tables both sides have keep their row.
        for table in from.tables.iter().filter(|t| to.table(&t.name).is_some()) {
            let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.name))
                .fetch_one(&mut db)
                .await
                .unwrap();
            assert_eq!(count, 1, "{} lost its row; {context}", table.name);
        }
    }
    // The pairs are not all alike: most differ, and many need a rebuild.
    assert!(
        changed > 100 && rebuilds > 30,
        "{changed} changed, {rebuilds} rebuilds"
    );
}

async fn pg_catalog(conn: &mut PgConnection, schema: &str, sql: &str) -> Schema {
    conn.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}").as_str())
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&mut *conn).await.unwrap();
    postgres::introspect(conn, &[]).await.unwrap()
}

#[tokio::test]
async fn generated_postgres_revisions_go_up_and_down_exactly() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true: TEST_POSTGRES_URL must be set"
        );
        println!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let prefix = format!("migrate_prop_{}", std::process::id());
    let mut changed = 0;
    for seed in 1..=40u64 {
        let (s1, rows, s2) = pair(seed, Dialect::Postgres);
        let to = pg_catalog(&mut conn, &format!("{prefix}_to"), &s2).await;
        let from = pg_catalog(&mut conn, &format!("{prefix}_from"), &s1).await;
        let declared = parse_declared("schema.sql", &s2, Dialect::Postgres).unwrap();
        let migration = plan(Dialect::Postgres, &from, &to, &declared.renames).unwrap();
        for row in &rows {
            conn.execute(row.as_str()).await.unwrap();
        }
        let up = section_text(&migration.up);
        let down = section_text(&migration.down);
        changed += usize::from(!migration.is_empty());
        let context =
            format!("seed {seed}\n--- S1\n{s1}\n--- S2\n{s2}\n--- up\n{up}\n--- down\n{down}");
        sqlx::raw_sql(&up)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("up: {e}\n{context}"));
        assert_same(
            &postgres::introspect(&mut conn, &[]).await.unwrap(),
            &to,
            &format!("after up, {context}"),
        );
        sqlx::raw_sql(&down)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("down: {e}\n{context}"));
        assert_same(
            &postgres::introspect(&mut conn, &[]).await.unwrap(),
            &from,
            &format!("after down, {context}"),
        );
    }
    assert!(changed > 25, "only {changed} of 40 pairs differ");
    conn.execute(
        format!("DROP SCHEMA {prefix}_to CASCADE; DROP SCHEMA {prefix}_from CASCADE").as_str(),
    )
    .await
    .unwrap();
}

/// A fresh database `name` on the server of `url`, connected.
async fn mysql_database(url: &str, name: &str) -> MySqlConnection {
    let mut admin = MySqlConnection::connect(url).await.unwrap();
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    MySqlConnection::connect(&format!("{base}/{name}"))
        .await
        .unwrap()
}

#[tokio::test]
async fn generated_mysql_revisions_go_up_and_down_exactly() {
    let Ok(url) = std::env::var("TEST_MYSQL_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true: TEST_MYSQL_URL must be set"
        );
        println!("skipped: TEST_MYSQL_URL is not set");
        return;
    };
    let prefix = format!("migrate_prop_{}", std::process::id());
    let mut changed = 0;
    for seed in 1..=30u64 {
        let (s1, rows, s2) = pair(seed, Dialect::MySql);
        let mut to_db = mysql_database(&url, &format!("{prefix}_to")).await;
        if !s2.is_empty() {
            sqlx::raw_sql(&s2).execute(&mut to_db).await.unwrap();
        }
        let to = mysql::introspect(&mut to_db, &[]).await.unwrap();
        let mut db = mysql_database(&url, &format!("{prefix}_from")).await;
        if !s1.is_empty() {
            sqlx::raw_sql(&s1).execute(&mut db).await.unwrap();
        }
        let from = mysql::introspect(&mut db, &[]).await.unwrap();
        let declared = parse_declared("schema.sql", &s2, Dialect::MySql).unwrap();
        let migration = plan(Dialect::MySql, &from, &to, &declared.renames).unwrap();
        for row in &rows {
            db.execute(row.as_str()).await.unwrap();
        }
        if migration.is_empty() {
            // MySQL refuses an empty query; there is nothing to run.
            continue;
        }
        let up = section_text(&migration.up);
        let down = section_text(&migration.down);
        changed += usize::from(!migration.is_empty());
        let context =
            format!("seed {seed}\n--- S1\n{s1}\n--- S2\n{s2}\n--- up\n{up}\n--- down\n{down}");
        sqlx::raw_sql(&up)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("up: {e}\n{context}"));
        assert_same(
            &mysql::introspect(&mut db, &[]).await.unwrap(),
            &to,
            &format!("after up, {context}"),
        );
        sqlx::raw_sql(&down)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("down: {e}\n{context}"));
        assert_same(
            &mysql::introspect(&mut db, &[]).await.unwrap(),
            &from,
            &format!("after down, {context}"),
        );
    }
    assert!(changed > 18, "only {changed} of 30 pairs differ");
    let mut admin = MySqlConnection::connect(&url).await.unwrap();
    admin
        .execute(format!("DROP DATABASE {prefix}_to; DROP DATABASE {prefix}_from").as_str())
        .await
        .unwrap();
}
