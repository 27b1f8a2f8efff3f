//! The migration file format: every error a single file can produce, with
//! the file and line a user needs to find it, and the fields a valid file
//! yields.

use migrate_core::checksum::{checksum, to_hex};
use migrate_core::{parse_migration, LoadError};

const FILE: &str = "migrations/3f2a9c1b7d4e_add_phone.sql";

fn parse_ok(file: &str, text: &str) -> migrate_core::Revision {
    match parse_migration(file, text.as_bytes()) {
        Ok(revision) => revision,
        Err(errors) => panic!("{file} should parse, got {errors:#?}"),
    }
}

fn parse_err(file: &str, text: &str) -> Vec<LoadError> {
    match parse_migration(file, text.as_bytes()) {
        Ok(revision) => panic!("{file} should not parse, got {revision:#?}"),
        Err(errors) => errors,
    }
}

fn s(text: &str) -> String {
    text.to_string()
}

const FULL: &str = "\
-- revision: 3f2a9c1b7d4e
-- revises: a1b2c3d4e5f6, 0c0ffee00001
-- message: add phone field to users table
-- created: 2026-11-24 10:00:00
-- transaction: false
-- branch_labels: contacts, phones_2
-- depends_on: 99aa88bb77cc

-- A free comment in the header, and a blank line above, are allowed.
-- see also: the ticket (several words before a colon: not a key)

-- migrate:up

CREATE INDEX CONCURRENTLY users_phone ON users (phone);
-- note: a comment with a colon inside SQL is SQL, not a header key
ALTER TABLE users ADD COLUMN phone varchar(20);

-- migrate:down
  DROP INDEX users_phone;
ALTER TABLE users DROP COLUMN phone;

";

#[test]
fn a_full_file_yields_every_field() {
    let r = parse_ok(FILE, FULL);
    assert_eq!(r.id, "3f2a9c1b7d4e");
    assert_eq!(r.parents.as_ref(), ["a1b2c3d4e5f6", "0c0ffee00001"]);
    assert_eq!(r.depends_on.as_ref(), ["99aa88bb77cc"]);
    assert_eq!(r.branch_labels.as_ref(), ["contacts", "phones_2"]);
    assert_eq!(r.message, "add phone field to users table");
    // The value keeps its own colons: only the first one separates the key.
    assert_eq!(r.created.as_deref(), Some("2026-11-24 10:00:00"));
    assert!(!r.transactional);
    assert_eq!(
        r.up_sql,
        "CREATE INDEX CONCURRENTLY users_phone ON users (phone);\n\
         -- note: a comment with a colon inside SQL is SQL, not a header key\n\
         ALTER TABLE users ADD COLUMN phone varchar(20);"
    );
    assert_eq!(
        r.down_sql.as_deref(),
        Some("DROP INDEX users_phone;\nALTER TABLE users DROP COLUMN phone;")
    );
    assert!(r.is_reversible());
    assert_eq!(r.file, FILE);
    assert_eq!(r.checksum, checksum(FULL.as_bytes()));
    assert_eq!(r.checksum_hex(), to_hex(&checksum(FULL.as_bytes())));
    assert_eq!(
        r.requirements().collect::<Vec<_>>(),
        ["a1b2c3d4e5f6", "0c0ffee00001", "99aa88bb77cc"]
    );
}

#[test]
fn a_minimal_file_gets_the_defaults_and_no_down_means_irreversible() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!(r.id, "abc");
    assert!(r.parents.is_empty(), "no `revises` is a root");
    assert!(r.depends_on.is_empty());
    assert!(r.branch_labels.is_empty());
    assert_eq!(r.message, "");
    assert_eq!(r.created, None);
    assert!(
        r.transactional,
        "transactional unless the file says otherwise"
    );
    assert_eq!(r.up_sql, "SELECT 1;");
    assert_eq!(r.down_sql, None);
    assert!(!r.is_reversible());
}

#[test]
fn empty_revises_is_a_root_and_explicit_transaction_true_is_accepted() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- revises:\n-- transaction: true\n-- message:\n-- migrate:up\nSELECT 1;\n",
    );
    assert!(r.parents.is_empty());
    assert!(r.transactional);
    assert_eq!(r.message, "");
}

#[test]
fn an_empty_down_section_is_reversible_with_no_sql() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up\nSELECT 1;\n-- migrate:down\n\n",
    );
    assert_eq!(r.down_sql.as_deref(), Some(""));
    assert!(r.is_reversible());
}

#[test]
fn header_keys_after_the_first_section_are_sql() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up\n-- revision: other\n-- bogus_key: 1\nSELECT 1;\n",
    );
    assert_eq!(r.id, "abc");
    assert_eq!(r.up_sql, "-- revision: other\n-- bogus_key: 1\nSELECT 1;");
}

#[test]
fn section_markers_tolerate_trailing_whitespace() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up   \nSELECT 1;\n-- migrate:down\t\nSELECT 2;\n",
    );
    assert_eq!(r.up_sql, "SELECT 1;");
    assert_eq!(r.down_sql.as_deref(), Some("SELECT 2;"));
}

#[test]
fn not_utf8_reports_the_line_of_the_first_bad_byte() {
    let mut bytes = b"-- revision: abc\n-- migrate:up\nSELECT 'caf".to_vec();
    bytes.extend_from_slice(&[0xE9]); // Latin-1 e-acute
    bytes.extend_from_slice(b"';\nSELECT '\xff';\n");
    let errors = parse_migration("migrations/abc_x.sql", &bytes).unwrap_err();
    assert_eq!(
        errors,
        [LoadError::NotUtf8 {
            file: s("migrations/abc_x.sql"),
            line: 3
        }]
    );
    assert!(errors[0]
        .to_string()
        .starts_with("migrations/abc_x.sql:3: the file is not valid UTF-8"));

    let errors = parse_migration("migrations/abc_x.sql", b"\xff-- revision: abc\n").unwrap_err();
    assert_eq!(
        errors,
        [LoadError::NotUtf8 {
            file: s("migrations/abc_x.sql"),
            line: 1
        }]
    );

    // A multi-byte character cut short at the end of the file.
    let errors = parse_migration("migrations/abc_x.sql", b"\n\n\n\xE2\x82").unwrap_err();
    assert_eq!(
        errors,
        [LoadError::NotUtf8 {
            file: s("migrations/abc_x.sql"),
            line: 4
        }]
    );
}

#[test]
fn missing_revision_line() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revises: def\n-- message: hello\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!(
        errors,
        [LoadError::MissingRevision {
            file: s("migrations/abc_x.sql")
        }]
    );
    assert!(errors[0].to_string().contains("-- revision: <id>"));
}

#[test]
fn a_key_without_a_colon_is_a_free_comment_so_revision_is_missing() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision abc\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!(
        errors,
        [LoadError::MissingRevision {
            file: s("migrations/abc_x.sql")
        }]
    );
}

#[test]
fn duplicate_keys_name_both_lines() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- message: one\n\n-- message: two\n-- revision: abc\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!(
        errors,
        [
            LoadError::DuplicateKey {
                file: s("migrations/abc_x.sql"),
                line: 4,
                key: s("message"),
                first_line: 2
            },
            LoadError::DuplicateKey {
                file: s("migrations/abc_x.sql"),
                line: 5,
                key: s("revision"),
                first_line: 1
            },
        ]
    );
    assert_eq!(
        errors[0].to_string(),
        "migrations/abc_x.sql:4: `message` is set twice (first on line 2); keep one of them"
    );
}

#[test]
fn unknown_keys_suggest_the_key_that_was_meant() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revison: abc\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!(
        errors,
        [
            LoadError::UnknownKey {
                file: s("migrations/abc_x.sql"),
                line: 1,
                key: s("revison"),
                suggestion: Some(s("revision")),
            },
            // The misspelt line does not count as a revision line.
            LoadError::MissingRevision {
                file: s("migrations/abc_x.sql")
            },
        ]
    );
    let text = errors[0].to_string();
    assert!(
        text.starts_with(
            "migrations/abc_x.sql:1: unknown header key `revison` (did you mean `revision`?)"
        ),
        "{text}"
    );
    assert!(text
        .contains("revision, revises, message, created, transaction, branch_labels, depends_on"));
}

#[test]
fn unknown_keys_suggestions_for_other_typos() {
    let cases = [
        ("Revises", Some("revises")),
        ("depend_on", Some("depends_on")),
        ("dependson", Some("depends_on")),
        ("branch_label", Some("branch_labels")),
        ("transactional", Some("transaction")),
        ("mesage", Some("message")),
    ];
    for (key, suggestion) in cases {
        let text = format!("-- revision: abc\n\n-- {key}: x\n-- migrate:up\nSELECT 1;\n");
        let errors = parse_err("migrations/abc_x.sql", &text);
        assert_eq!(
            errors,
            [LoadError::UnknownKey {
                file: s("migrations/abc_x.sql"),
                line: 3,
                key: s(key),
                suggestion: suggestion.map(s),
            }],
            "key {key}"
        );
    }
}

#[test]
fn comments_with_a_colon_are_free_text() {
    let text =
        "-- revision: abc\n-- revises:\n-- TODO: review the index\n-- Note: slow on big tables\n\
                -- author: me\n-- migrate:up\nSELECT 1;\n";
    let revision = parse_migration("migrations/abc_x.sql", text.as_bytes())
        .unwrap_or_else(|errors| panic!("{errors:?}"));
    assert_eq!(&*revision.id, "abc");
    assert_eq!(revision.up_sql.trim(), "SELECT 1;");
}

fn invalid(line: usize, key: &str, value: &str, errors: &[LoadError]) -> String {
    match errors {
        [LoadError::InvalidValue {
            file,
            line: l,
            key: k,
            value: v,
            expected,
        }] => {
            assert_eq!(file, "migrations/abc_x.sql");
            assert_eq!(*l, line, "line of {key}: {value}");
            assert_eq!(k, key);
            assert_eq!(v, value);
            expected.clone()
        }
        other => panic!("expected one InvalidValue for `{key}: {value}`, got {other:#?}"),
    }
}

fn header_with(line: &str) -> String {
    format!("-- revision: abc\n-- message: m\n{line}\n-- migrate:up\nSELECT 1;\n")
}

#[test]
fn invalid_revision_ids() {
    for bad in ["abc-123", "abc_123", "abc 123", "ab.c", "äbc"] {
        let file = format!("migrations/{bad}_x.sql");
        let text = format!("-- revision: {bad}\n-- migrate:up\nSELECT 1;\n");
        let errors = parse_err(&file, &text);
        match errors.as_slice() {
            [LoadError::InvalidValue {
                line: 1,
                key,
                value,
                expected,
                ..
            }] => {
                assert_eq!(key, "revision");
                assert_eq!(value, bad);
                assert!(expected.contains("letters and digits"), "{expected}");
            }
            other => panic!("`revision: {bad}`: {other:#?}"),
        }
    }
    // An empty id is invalid, not missing: the line is there.
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision:\n-- migrate:up\nSELECT 1;\n",
    );
    invalid(1, "revision", "", &errors);
}

#[test]
fn transaction_must_be_true_or_false() {
    for bad in ["maybe", "no", "False", "0"] {
        let errors = parse_err(
            "migrations/abc_x.sql",
            &header_with(&format!("-- transaction: {bad}")),
        );
        let expected = invalid(3, "transaction", bad, &errors);
        assert!(expected.contains("`true` or `false`"));
    }
    let errors = parse_err(
        "migrations/abc_x.sql",
        &header_with("-- transaction: maybe"),
    );
    assert_eq!(
        errors[0].to_string(),
        "migrations/abc_x.sql:3: `transaction: maybe` is not valid: expected `true` or `false`"
    );
}

#[test]
fn revision_lists_reject_duplicates_empty_entries_and_bad_ids() {
    let expected = invalid(
        3,
        "revises",
        "a1, b2, a1",
        &parse_err(
            "migrations/abc_x.sql",
            &header_with("-- revises: a1, b2, a1"),
        ),
    );
    assert!(expected.contains("`a1` is listed twice"), "{expected}");

    let expected = invalid(
        3,
        "revises",
        "a1,,b2",
        &parse_err("migrations/abc_x.sql", &header_with("-- revises: a1,,b2")),
    );
    assert!(expected.contains("empty entry"), "{expected}");

    let expected = invalid(
        3,
        "revises",
        "a1,",
        &parse_err("migrations/abc_x.sql", &header_with("-- revises: a1,")),
    );
    assert!(expected.contains("empty entry"), "{expected}");

    let expected = invalid(
        3,
        "depends_on",
        "a1 b2",
        &parse_err("migrations/abc_x.sql", &header_with("-- depends_on: a1 b2")),
    );
    assert!(
        expected.contains("`a1 b2` is not a revision id"),
        "{expected}"
    );

    let expected = invalid(
        3,
        "depends_on",
        "x, x",
        &parse_err("migrations/abc_x.sql", &header_with("-- depends_on: x, x")),
    );
    assert!(expected.contains("`x` is listed twice"), "{expected}");
}

#[test]
fn branch_labels_must_be_labels_and_not_empty() {
    let expected = invalid(
        3,
        "branch_labels",
        "",
        &parse_err("migrations/abc_x.sql", &header_with("-- branch_labels:")),
    );
    assert!(expected.contains("one or more labels"), "{expected}");

    // A leading digit or a `-` would read as a revision id or `<label>-N`.
    for bad in ["1st", "my-branch", "_x", "a@head"] {
        let errors = parse_err(
            "migrations/abc_x.sql",
            &header_with(&format!("-- branch_labels: {bad}")),
        );
        let expected = invalid(3, "branch_labels", bad, &errors);
        assert!(expected.contains("is not a label"), "{bad}: {expected}");
    }
    let expected = invalid(
        3,
        "branch_labels",
        "a, a",
        &parse_err(
            "migrations/abc_x.sql",
            &header_with("-- branch_labels: a, a"),
        ),
    );
    assert!(expected.contains("listed twice"));
}

#[test]
fn sql_before_the_first_section() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision: abc\n\nCREATE TABLE t (x int);\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!(
        errors,
        [LoadError::ContentBeforeSection {
            file: s("migrations/abc_x.sql"),
            line: 3
        }]
    );
    assert!(errors[0]
        .to_string()
        .starts_with("migrations/abc_x.sql:3: SQL before the first section"));
}

#[test]
fn unknown_section() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n",
    );
    assert_eq!(
        errors,
        [LoadError::UnknownSection {
            file: s("migrations/abc_x.sql"),
            line: 4,
            name: s("downgrade")
        }]
    );
    assert!(errors[0].to_string().contains("`-- migrate:downgrade`"));
}

#[test]
fn duplicate_sections_name_both_lines() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n-- migrate:up\nSELECT 3;\n-- migrate:down\n",
    );
    assert_eq!(
        errors,
        [
            LoadError::DuplicateSection {
                file: s("migrations/abc_x.sql"),
                line: 6,
                name: s("up"),
                first_line: 2
            },
            LoadError::DuplicateSection {
                file: s("migrations/abc_x.sql"),
                line: 8,
                name: s("down"),
                first_line: 4
            },
        ]
    );
}

#[test]
fn missing_up_section() {
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:down\nDROP TABLE t;\n",
    );
    assert_eq!(
        errors,
        [LoadError::MissingUpSection {
            file: s("migrations/abc_x.sql")
        }]
    );
}

#[test]
fn an_empty_file_lacks_both_revision_and_up() {
    let errors = parse_err("migrations/abc_x.sql", "");
    assert_eq!(
        errors,
        [
            LoadError::MissingRevision {
                file: s("migrations/abc_x.sql")
            },
            LoadError::MissingUpSection {
                file: s("migrations/abc_x.sql")
            },
        ]
    );
}

#[test]
fn file_name_must_carry_the_revision_id() {
    let text = "-- revision: abc123\n-- migrate:up\nSELECT 1;\n";
    for accepted in [
        "migrations/abc123_add_users.sql",
        "migrations/abc123.sql",
        "migrations/20261124_1000_abc123_add_users.sql",
        "abc123_x.sql",
        "C:\\project\\migrations\\abc123_x.sql",
        "db/migrations/abc123_x.sql",
    ] {
        let r = parse_ok(accepted, text);
        assert_eq!(r.file, accepted);
    }
    for rejected in [
        "migrations/abc124_add_users.sql",
        // Containing the id is not enough: it must be a whole `_` part.
        "migrations/abc1234_add_users.sql",
        "migrations/xabc123_add_users.sql",
        "migrations/abc123add_users.sql",
        // The directory does not count, only the file name.
        "abc123/add_users.sql",
        "migrations/abc123_x/other.sql",
    ] {
        let errors = parse_err(rejected, text);
        assert_eq!(
            errors,
            [LoadError::FileNameMismatch {
                file: s(rejected),
                id: s("abc123")
            }],
            "{rejected}"
        );
    }
    let errors = parse_err("migrations/abc124_add_users.sql", text);
    assert!(errors[0]
        .to_string()
        .contains("rename the file to `abc123_<slug>.sql`"));
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let text = "\
-- revison: abc
-- revision: abc
-- transaction: maybe
-- message: a
-- message: b
SELECT 1;
-- migrate:upgrade
-- migrate:down
DROP TABLE t;
";
    let errors = parse_err("migrations/zzz_x.sql", text);
    let f = || s("migrations/zzz_x.sql");
    let expected = [
        LoadError::ContentBeforeSection { file: f(), line: 6 },
        LoadError::UnknownSection {
            file: f(),
            line: 7,
            name: s("upgrade"),
        },
        LoadError::UnknownKey {
            file: f(),
            line: 1,
            key: s("revison"),
            suggestion: Some(s("revision")),
        },
        LoadError::InvalidValue {
            file: f(),
            line: 3,
            key: s("transaction"),
            value: s("maybe"),
            expected: s("expected `true` or `false`"),
        },
        LoadError::DuplicateKey {
            file: f(),
            line: 5,
            key: s("message"),
            first_line: 4,
        },
        LoadError::MissingUpSection { file: f() },
        LoadError::FileNameMismatch {
            file: f(),
            id: s("abc"),
        },
    ];
    for error in &expected {
        assert!(errors.contains(error), "missing {error:#?} in {errors:#?}");
    }
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    assert!(errors
        .iter()
        .all(|e| e.file() == Some("migrations/zzz_x.sql")));
}

#[test]
fn crlf_parses_identically_with_the_same_checksum() {
    let crlf = FULL.replace('\n', "\r\n");
    assert_ne!(crlf.as_bytes(), FULL.as_bytes());
    let lf = parse_ok(FILE, FULL);
    let from_crlf = parse_ok(FILE, &crlf);
    assert_eq!(from_crlf, lf, "every field, the checksum included");
    assert!(!from_crlf.up_sql.contains('\r'));
    assert!(!from_crlf.down_sql.as_deref().unwrap().contains('\r'));
}

#[test]
fn crlf_errors_report_the_same_lines() {
    let text = "-- revision: abc\n-- revison: x\nSELECT 1;\n-- migrate:up\n";
    let lf = parse_err("migrations/abc_x.sql", text);
    let crlf = parse_err("migrations/abc_x.sql", &text.replace('\n', "\r\n"));
    assert_eq!(lf, crlf);
    assert_eq!(lf.len(), 2);
}

#[test]
fn a_utf8_byte_order_mark_is_not_content() {
    // Windows editors often save UTF-8 with a BOM; the file is valid UTF-8
    // and must read the same as without one.
    let plain = "-- revision: abc\n-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n";
    let with_bom = format!("\u{feff}{plain}");
    let a = parse_ok("migrations/abc_x.sql", plain);
    let b = parse_ok("migrations/abc_x.sql", &with_bom);
    assert_eq!(a.id, b.id);
    assert_eq!(a.up_sql, b.up_sql);
    assert_eq!(a.down_sql, b.down_sql);
    // The checksum stays that of the bytes as written (the contract only
    // normalises line endings).
    assert_eq!(b.checksum, checksum(with_bom.as_bytes()));
    let crlf = parse_ok("migrations/abc_x.sql", &with_bom.replace('\n', "\r\n"));
    assert_eq!(crlf, b);
    // A BOM anywhere else is content, as before.
    let errors = parse_err(
        "migrations/abc_x.sql",
        "-- revision: abc\n\u{feff}-- message: x\n-- migrate:up\n",
    );
    assert_eq!(
        errors,
        [LoadError::ContentBeforeSection {
            file: s("migrations/abc_x.sql"),
            line: 2
        }]
    );
}

#[test]
fn non_ascii_text_is_fine_in_messages_and_sql() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- message: café ☕ naïve\n-- migrate:up\nINSERT INTO t VALUES ('日本語');\n",
    );
    assert_eq!(r.message, "café ☕ naïve");
    assert_eq!(r.up_sql, "INSERT INTO t VALUES ('日本語');");
}

#[test]
fn a_marker_with_a_space_after_the_colon_is_a_marker() {
    let text = "-- revision: 3f2a9c1b7d4e\n-- migrate:up\nSELECT 1;\n-- migrate: down\nSELECT 2;\n";
    assert_eq!(parse_ok(FILE, text).down_sql.as_deref(), Some("SELECT 2;"));
}

#[test]
fn a_near_miss_section_marker_is_an_error_not_a_comment() {
    // As a comment, `--migrate:down` would fold the revert into the upgrade.
    for (written, expected) in [
        ("--migrate:down", "-- migrate:down"),
        ("-- Migrate:down", "-- migrate:down"),
        ("  -- migrate:down", "-- migrate:down"),
    ] {
        let text = format!(
            "-- revision: 3f2a9c1b7d4e\n\n-- migrate:up\nCREATE TABLE t (id int);\n{written}\nDROP TABLE t;\n"
        );
        let errors = parse_err(FILE, &text);
        assert_eq!(
            errors,
            [LoadError::MalformedSectionMarker {
                file: s(FILE),
                line: 5,
                written: s(written.trim()),
                expected: s(expected),
            }],
            "{written}"
        );
        assert!(errors[0]
            .to_string()
            .contains("write it exactly as `-- migrate:down`"));
    }
}

#[test]
fn revision_ids_are_at_most_64_characters_and_not_target_words() {
    let long = "a".repeat(65);
    for id in [long.as_str(), "head", "heads", "base", "current"] {
        let text = format!("-- revision: {id}\n-- migrate:up\nSELECT 1;\n");
        let errors = parse_err(&format!("migrations/{id}_x.sql"), &text);
        assert!(
            matches!(&errors[0], LoadError::InvalidValue { key, .. } if key == "revision"),
            "{id}: {errors:#?}"
        );
    }
    let id = "b".repeat(64);
    let text = format!("-- revision: {id}\n-- migrate:up\nSELECT 1;\n");
    assert_eq!(parse_ok(&format!("migrations/{id}_x.sql"), &text).id, id);
    let labelled = "-- revision: abc\n-- branch_labels: head\n-- migrate:up\nSELECT 1;\n";
    assert!(matches!(
        &parse_err("migrations/abc_x.sql", labelled)[0],
        LoadError::InvalidValue { key, .. } if key == "branch_labels"
    ));
}

#[test]
fn each_section_knows_the_file_line_its_sql_starts_on() {
    let text = "-- revision: abc\n-- revises:\n-- message: lines\n\n-- migrate:up\n\n\n  CREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n";
    for text in [text.to_string(), text.replace('\n', "\r\n")] {
        let r = parse_ok("migrations/abc_x.sql", &text);
        assert_eq!((r.up_line, r.down_line), (8, 10), "{text:?}");
        assert!(r.up_sql.starts_with("CREATE TABLE"));
    }
    let no_down = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:up\nSELECT 1;\n",
    );
    assert_eq!((no_down.up_line, no_down.down_line), (3, 0));
}

#[test]
fn lint_allow_comments_are_comments_in_the_header_and_in_sections() {
    let r = parse_ok(
        "migrations/abc_x.sql",
        "-- revision: abc\n-- migrate:allow drop-table\n-- migrate:up\n\
         -- migrate:allow drop-column\nALTER TABLE t DROP COLUMN c;\n\
         -- migrate:down\n--migrate:allow  drop-table\nDROP TABLE t;\n",
    );
    assert_eq!(r.id, "abc");
    assert_eq!(
        r.up_sql,
        "-- migrate:allow drop-column\nALTER TABLE t DROP COLUMN c;"
    );
    assert_eq!(
        r.down_sql.as_deref(),
        Some("--migrate:allow  drop-table\nDROP TABLE t;")
    );
}
