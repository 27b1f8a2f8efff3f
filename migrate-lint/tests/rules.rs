//! Every rule: a statement it fires on and a safe twin it spares, on each
//! dialect the rule applies to; the exemption of tables created in the
//! same revision; the opt-outs; and statements the parser cannot read.

use migrate_core::{parse_migration, Dialect};
use migrate_lint::{lint_revision, parse_allow_list, Report, Rule};

const FILE: &str = "migrations/abc123_x.sql";

/// A file whose header has `header` (extra lines) and whose up section is
/// `up`, starting on line 4 when `header` is empty.
fn file(header: &str, up: &str) -> String {
    format!("-- revision: abc123\n{header}-- message: x\n-- migrate:up\n{up}\n")
}

fn lint_file(text: &str, dialect: Dialect) -> Result<Report, Vec<String>> {
    let revision = parse_migration(FILE, text.as_bytes()).expect("the file parses");
    lint_revision(&revision, text, dialect, &[])
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

fn lint(up: &str, dialect: Dialect) -> Report {
    lint_file(&file("", up), dialect).expect("no opt-out errors")
}

fn rules(up: &str, dialect: Dialect) -> Vec<&'static str> {
    lint(up, dialect)
        .findings
        .iter()
        .map(|f| f.rule.id())
        .collect()
}

const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

/// `fires` makes exactly `rule` fire and `safe` fires nothing, on each of
/// `dialects`.
fn fires_and_spares(rule: &str, fires: &str, safe: &str, dialects: &[Dialect]) {
    for &dialect in dialects {
        assert_eq!(rules(fires, dialect), [rule], "{fires} on {dialect:?}");
        assert_eq!(
            rules(safe, dialect),
            Vec::<&str>::new(),
            "{safe} on {dialect:?}"
        );
    }
}

#[test]
fn drop_table() {
    fires_and_spares(
        "drop-table",
        "DROP TABLE users;",
        "DROP VIEW user_names;",
        &ALL,
    );
}

#[test]
fn drop_column() {
    fires_and_spares(
        "drop-column",
        "ALTER TABLE users DROP COLUMN email;",
        "ALTER TABLE users ADD COLUMN email text;",
        &ALL,
    );
}

#[test]
fn add_column_not_null_without_default() {
    fires_and_spares(
        "add-column-not-null-without-default",
        "ALTER TABLE users ADD COLUMN age integer NOT NULL;",
        "ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;",
        &ALL,
    );
}

#[test]
fn set_not_null_on_postgres_only() {
    fires_and_spares(
        "set-not-null",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
        &[Dialect::Postgres],
    );
}

#[test]
fn index_without_concurrently_on_postgres() {
    let text = file(
        "-- transaction: false\n",
        "CREATE INDEX users_email ON users (email);\n\
         CREATE INDEX CONCURRENTLY users_name ON users (name);",
    );
    let report = lint_file(&text, Dialect::Postgres).unwrap();
    let found: Vec<_> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [format!(
            "{FILE}:5: warning[index-without-concurrently]: builds index users_email on users \
             without CONCURRENTLY: {}",
            Rule::IndexWithoutConcurrently.explanation()
        )]
    );
    // MySQL and SQLite have no CONCURRENTLY: a plain index is what they do.
    for dialect in [Dialect::MySql, Dialect::Sqlite] {
        assert!(rules("CREATE INDEX users_email ON users (email);", dialect).is_empty());
    }
}

#[test]
fn concurrently_in_transaction_is_an_error() {
    let up = "CREATE INDEX CONCURRENTLY users_email ON users (email);";
    let report = lint(up, Dialect::Postgres);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].to_string(),
        format!(
            "{FILE}:4: error[concurrently-in-transaction]: runs CONCURRENTLY in a revision that \
             runs in a transaction: {}",
            Rule::ConcurrentlyInTransaction.explanation()
        )
    );
    // Outside a transaction it is the safe way.
    let text = file("-- transaction: false\n", up);
    assert!(lint_file(&text, Dialect::Postgres)
        .unwrap()
        .findings
        .is_empty());
    // Found under an opt-out comment for another rule too.
    let report = lint(
        &format!("-- migrate:allow drop-table\n{up}"),
        Dialect::Postgres,
    );
    assert_eq!(report.findings[0].rule, Rule::ConcurrentlyInTransaction);
    assert_eq!(report.findings[0].line, 5);
    // Found even where the parser cannot read the statement.
    let report = lint("REINDEX TABLE CONCURRENTLY users;", Dialect::Postgres);
    assert_eq!(report.findings[0].rule, Rule::ConcurrentlyInTransaction);
}

#[test]
fn foreign_key_without_not_valid_on_postgres() {
    fires_and_spares(
        "foreign-key-without-not-valid",
        "ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id);",
        "ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
        &[Dialect::Postgres],
    );
    // MySQL has no NOT VALID: adding the key is the only way.
    assert!(rules(
        "ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id);",
        Dialect::MySql
    )
    .is_empty());
}

#[test]
fn unique_on_existing_table() {
    fires_and_spares(
        "unique-on-existing-table",
        "ALTER TABLE users ADD CONSTRAINT users_email UNIQUE (email);",
        "ALTER TABLE users ADD CONSTRAINT users_age CHECK (age > 0);",
        &[Dialect::Postgres, Dialect::MySql],
    );
    fires_and_spares(
        "unique-on-existing-table",
        "CREATE UNIQUE INDEX users_email ON users (email);",
        "CREATE INDEX users_email ON users (email);",
        &[Dialect::MySql, Dialect::Sqlite],
    );
}

#[test]
fn column_type_change() {
    fires_and_spares(
        "column-type-change",
        "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
        "ALTER TABLE users ALTER COLUMN age SET DEFAULT 0;",
        &[Dialect::Postgres],
    );
    fires_and_spares(
        "column-type-change",
        "ALTER TABLE users MODIFY COLUMN age bigint;",
        "ALTER TABLE users ALTER COLUMN age SET DEFAULT 0;",
        &[Dialect::MySql],
    );
}

#[test]
fn rename_column_and_table() {
    fires_and_spares(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN email TO mail;",
        "ALTER TABLE users ADD COLUMN mail text;",
        &ALL,
    );
    fires_and_spares(
        "rename-table",
        "ALTER TABLE users RENAME TO people;",
        "CREATE TABLE people (id integer);",
        &ALL,
    );
    fires_and_spares(
        "rename-table",
        "RENAME TABLE users TO people;",
        "CREATE TABLE people (id integer);",
        &[Dialect::MySql],
    );
}

#[test]
fn volatile_default_on_postgres() {
    fires_and_spares(
        "volatile-default",
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();",
        &[Dialect::Postgres],
    );
    assert_eq!(
        rules(
            "ALTER TABLE users ADD COLUMN n bigserial;",
            Dialect::Postgres
        ),
        ["volatile-default"]
    );
}

#[test]
fn a_table_created_in_the_same_revision_is_exempt() {
    let up = "CREATE TABLE \"Users\" (id integer);\n\
              ALTER TABLE users ADD COLUMN age integer NOT NULL;\n\
              CREATE INDEX users_age ON users (age);\n\
              ALTER TABLE users ADD CONSTRAINT u UNIQUE (age);\n\
              ALTER TABLE users ALTER COLUMN age SET NOT NULL;\n\
              ALTER TABLE users RENAME COLUMN age TO years;\n\
              ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n\
              ALTER TABLE users DROP COLUMN token;\n\
              ALTER TABLE users RENAME TO people;\n\
              ALTER TABLE people ALTER COLUMN years TYPE bigint;\n\
              DROP TABLE people;";
    assert_eq!(rules(up, Dialect::Postgres), Vec::<&str>::new());
    // A table created after the statement is no exemption.
    let up = "ALTER TABLE users DROP COLUMN age;\nCREATE TABLE users2 (id integer);";
    assert_eq!(rules(up, Dialect::Postgres), ["drop-column"]);
}

#[test]
fn an_allow_comment_spares_the_next_statement_only() {
    let up = "-- migrate:allow drop-column -- the column moved to profiles\n\
              ALTER TABLE users DROP COLUMN a;\n\
              ALTER TABLE users DROP COLUMN b;";
    let report = lint(up, Dialect::Postgres);
    let lines: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.line, f.rule.id()))
        .collect();
    assert_eq!(lines, [(6, "drop-column")]);
}

#[test]
fn an_allow_comment_in_the_header_spares_the_revision() {
    let text = file(
        "-- migrate:allow drop-column, drop-table\n",
        "ALTER TABLE users DROP COLUMN a;\nDROP TABLE t;\nALTER TABLE users RENAME COLUMN b TO c;",
    );
    let report = lint_file(&text, Dialect::Sqlite).unwrap();
    let found: Vec<_> = report.findings.iter().map(|f| f.rule.id()).collect();
    assert_eq!(found, ["rename-column"]);
}

#[test]
fn the_project_list_spares_every_revision() {
    let text = file("", "DROP TABLE t;\nALTER TABLE users RENAME COLUMN b TO c;");
    let revision = parse_migration(FILE, text.as_bytes()).unwrap();
    let allow = parse_allow_list(&["drop-table".to_string()]).unwrap();
    let report = lint_revision(&revision, &text, Dialect::Postgres, &allow).unwrap();
    let found: Vec<_> = report.findings.iter().map(|f| f.rule.id()).collect();
    assert_eq!(found, ["rename-column"]);
    assert_eq!(
        parse_allow_list(&["drop-tabel".to_string()]).unwrap_err(),
        "unknown lint rule `drop-tabel`: did you mean `drop-table`?"
    );
}

#[test]
fn an_unknown_rule_is_an_error_naming_the_file_and_line() {
    let text = file(
        "-- migrate:allow drop-colum\n",
        "-- migrate:allow nonsense-rule-name\nDROP TABLE t;",
    );
    let errors = lint_file(&text, Dialect::Postgres).unwrap_err();
    assert_eq!(
        errors,
        [
            format!("{FILE}:2: unknown lint rule `drop-colum`: did you mean `drop-column`?"),
            format!(
                "{FILE}:5: unknown lint rule `nonsense-rule-name`; the rules are: {}",
                Rule::ALL.map(Rule::id).join(", ")
            ),
        ]
    );
}

#[test]
fn a_statement_the_parser_cannot_read_is_not_checked_and_not_safe() {
    let up = "DO $$ BEGIN DROP TABLE users; END $$;\nALTER TABLE users DROP COLUMN a;";
    let report = lint(up, Dialect::Postgres);
    assert_eq!(report.not_checked.len(), 1, "{report:?}");
    let note = report.not_checked[0].to_string();
    assert!(
        note.starts_with(&format!(
            "{FILE}:4: note: not checked: the SQL parser cannot read this statement ("
        )),
        "{note}"
    );
    assert!(note.ends_with("); review it by hand"), "{note}");
    // The statements after it are still checked.
    let found: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.line, f.rule.id()))
        .collect();
    assert_eq!(found, [(5, "drop-column")]);
}

#[test]
fn every_rule_has_a_distinct_id_and_an_explanation() {
    let mut ids: Vec<_> = Rule::ALL.iter().map(|rule| rule.id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), Rule::ALL.len());
    for rule in Rule::ALL {
        assert_eq!(Rule::from_id(rule.id()), Some(rule));
        assert!(!rule.explanation().is_empty());
    }
}

/// A file with an up section and a down section; the up starts on line 4,
/// the down two lines after the up's last.
fn file_with_down(header: &str, up: &str, down: &str) -> String {
    format!("{}\n-- migrate:down\n{down}\n", file(header, up))
}

fn lint_both(up: &str, down: &str, dialect: Dialect) -> Report {
    lint_file(&file_with_down("", up, down), dialect).expect("no opt-out errors")
}

/// (line, rule, message) of each finding.
fn found(report: &Report) -> Vec<(usize, &'static str, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.line, f.rule.id(), f.message.clone()))
        .collect()
}

#[test]
fn a_down_that_undoes_its_up_fires_nothing() {
    for dialect in ALL {
        for (up, down) in [
            (
                "CREATE TABLE orders (id integer);\nCREATE INDEX orders_id ON orders (id);",
                "DROP TABLE orders;",
            ),
            (
                "ALTER TABLE users ADD COLUMN phone text;",
                "ALTER TABLE users DROP COLUMN phone;",
            ),
            ("CREATE TABLE a.users (id integer);", "DROP TABLE a.users;"),
        ] {
            let report = lint_both(up, down, dialect);
            assert_eq!(found(&report), [], "{up} / {down} on {dialect:?}");
        }
        // The up's own finding stays; the down that reverts it adds none.
        for (up, down, rule) in [
            (
                "ALTER TABLE users RENAME COLUMN name TO full_name;",
                "ALTER TABLE users RENAME COLUMN full_name TO name;",
                "rename-column",
            ),
            (
                "ALTER TABLE users RENAME TO people;",
                "ALTER TABLE people RENAME TO users;",
                "rename-table",
            ),
        ] {
            let report = lint_both(up, down, dialect);
            let rules: Vec<_> = found(&report).into_iter().map(|(l, r, _)| (l, r)).collect();
            assert_eq!(rules, [(4, rule)], "{up} / {down} on {dialect:?}");
        }
    }
    let report = lint_both(
        "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
        "ALTER TABLE users ALTER COLUMN age TYPE integer;",
        Dialect::Postgres,
    );
    let rules: Vec<_> = found(&report).into_iter().map(|(l, r, _)| (l, r)).collect();
    assert_eq!(rules, [(4, "column-type-change")]);
}

#[test]
fn a_down_that_drops_what_its_up_did_not_make_fires_in_the_down_section() {
    for dialect in ALL {
        let report = lint_both(
            "ALTER TABLE users ADD COLUMN phone text;",
            "ALTER TABLE users DROP COLUMN email;",
            dialect,
        );
        assert_eq!(
            found(&report),
            [(
                7,
                "drop-column",
                "down section: drops column users.email".to_string()
            )],
            "{dialect:?}"
        );
        assert_eq!(
            report.findings[0].to_string(),
            format!(
                "{FILE}:7: warning[drop-column]: down section: drops column users.email: \
                 its data is lost, and the running version of the application may still read it"
            )
        );
        // The up added a column; its down drops the whole table.
        let report = lint_both(
            "ALTER TABLE users ADD COLUMN phone text;",
            "DROP TABLE users;",
            dialect,
        );
        assert_eq!(
            found(&report),
            [(
                7,
                "drop-table",
                "down section: drops table users".to_string()
            )],
            "{dialect:?}"
        );
        // A down restoring a dropped column NOT NULL without a default
        // fails on a table with rows.
        let report = lint_both(
            "ALTER TABLE users DROP COLUMN age;",
            "ALTER TABLE users ADD COLUMN age integer NOT NULL;",
            dialect,
        );
        let rules: Vec<_> = found(&report).into_iter().map(|(l, r, _)| (l, r)).collect();
        assert_eq!(
            rules,
            [
                (4, "drop-column"),
                (7, "add-column-not-null-without-default")
            ],
            "{dialect:?}"
        );
    }
    // Certain to fail in a down as in an up.
    let report = lint_both(
        "DROP INDEX CONCURRENTLY users_email;",
        "CREATE INDEX CONCURRENTLY users_email ON users (email);",
        Dialect::Postgres,
    );
    let rules: Vec<_> = found(&report).into_iter().map(|(l, r, _)| (l, r)).collect();
    assert_eq!(
        rules,
        [
            (4, "concurrently-in-transaction"),
            (7, "concurrently-in-transaction")
        ]
    );
}

#[test]
fn opt_outs_reach_the_down_section() {
    let report = lint_file(
        &file_with_down(
            "",
            "SELECT 1;",
            "-- migrate:allow drop-column -- the up moved it\nALTER TABLE users DROP COLUMN a;\nALTER TABLE users DROP COLUMN b;",
        ),
        Dialect::Postgres,
    )
    .unwrap();
    let rules: Vec<_> = found(&report).into_iter().map(|(l, r, _)| (l, r)).collect();
    assert_eq!(rules, [(9, "drop-column")]);
    let report = lint_file(
        &file_with_down(
            "-- migrate:allow drop-column\n",
            "SELECT 1;",
            "ALTER TABLE users DROP COLUMN a;",
        ),
        Dialect::Sqlite,
    )
    .unwrap();
    assert_eq!(found(&report), []);
    let errors = lint_file(
        &file_with_down("", "SELECT 1;", "-- migrate:allow drop-colum\nSELECT 1;"),
        Dialect::Sqlite,
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [format!(
            "{FILE}:7: unknown lint rule `drop-colum`: did you mean `drop-column`?"
        )]
    );
}

#[test]
fn schema_qualified_names_are_compared_whole() {
    for dialect in ALL {
        // Another schema's table of the same name is an existing table.
        assert_eq!(
            rules(
                "CREATE TABLE a.users (id integer);\nDROP TABLE b.users;",
                dialect
            ),
            ["drop-table"],
            "{dialect:?}"
        );
        assert_eq!(
            rules(
                "CREATE TABLE a.users (id integer);\nALTER TABLE b.users DROP COLUMN id;",
                dialect
            ),
            ["drop-column"],
            "{dialect:?}"
        );
        assert_eq!(
            rules(
                "CREATE TABLE a.users (id integer);\nDROP TABLE \"a\".users;",
                dialect
            ),
            Vec::<&str>::new(),
            "{dialect:?}"
        );
        let report = lint_both(
            "CREATE TABLE a.users (id integer);",
            "DROP TABLE b.users;",
            dialect,
        );
        assert_eq!(
            found(&report),
            [(
                7,
                "drop-table",
                "down section: drops table b.users".to_string()
            )],
            "{dialect:?}"
        );
    }
    // The default schema is the unqualified name's: PostgreSQL's `public`,
    // SQLite's `main`. MySQL's is the connection's database, unknown here.
    let spared = "CREATE TABLE users (id integer);\nDROP TABLE public.users;";
    assert_eq!(rules(spared, Dialect::Postgres), Vec::<&str>::new());
    let spared = "CREATE TABLE main.users (id integer);\nDROP TABLE users;";
    assert_eq!(rules(spared, Dialect::Sqlite), Vec::<&str>::new());
    let fires = "CREATE TABLE users (id integer);\nDROP TABLE app.users;";
    assert_eq!(rules(fires, Dialect::MySql), ["drop-table"]);
}
