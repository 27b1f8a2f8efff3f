//! `load_dir` on real directories: what is read, what is ignored, in which
//! order, and how errors from several files come back together.

mod common;

use common::TempDir;
use migrate_core::{load_dir, LoadError};

fn file(id: &str, revises: &str) -> String {
    format!("-- revision: {id}\n-- revises: {revises}\n-- migrate:up\nCREATE TABLE t_{id} (x int);\n-- migrate:down\nDROP TABLE t_{id};\n")
}

#[test]
fn a_missing_directory_is_one_error_naming_it_as_shown() {
    let tmp = TempDir::new("missing");
    let missing = tmp.path().join("does-not-exist");
    let errors = load_dir(&missing, "migrations/").unwrap_err();
    match errors.as_slice() {
        [LoadError::DirectoryUnreadable { dir, reason }] => {
            assert_eq!(
                dir, "migrations",
                "trailing `/` trimmed from the name shown"
            );
            assert!(!reason.is_empty());
            assert!(!reason.contains("os error"), "{reason}");
        }
        other => panic!("{other:#?}"),
    }
    let text = errors[0].to_string();
    assert!(
        text.contains("`migrations`") && text.contains("migrate init"),
        "{text}"
    );
    assert_eq!(errors[0].file(), None);
}

#[test]
fn a_file_where_the_directory_should_be_is_unreadable() {
    let tmp = TempDir::new("not-a-dir");
    let path = tmp.write("migrations", "not a directory");
    let errors = load_dir(&path, "migrations").unwrap_err();
    assert!(
        matches!(errors.as_slice(), [LoadError::DirectoryUnreadable { dir, .. }] if dir == "migrations"),
        "{errors:#?}"
    );
}

#[test]
fn an_empty_directory_has_no_revisions() {
    let tmp = TempDir::new("empty");
    let dir = load_dir(tmp.path(), "migrations").unwrap();
    assert!(dir.revisions.is_empty());
    assert!(dir.files.is_empty());
}

#[test]
fn files_are_read_in_file_name_order_and_named_as_shown() {
    let tmp = TempDir::new("order");
    // Written out of order; the graph order (c <- a <- b) differs from the
    // name order too.
    tmp.write("bbb_third.sql", file("bbb", "aaa"));
    tmp.write("ccc_first.sql", file("ccc", ""));
    tmp.write("aaa_second.sql", file("aaa", "ccc"));
    let dir = load_dir(tmp.path(), "db/migrations").unwrap();
    let ids: Vec<&str> = dir.revisions.iter().map(|r| r.id.as_ref()).collect();
    assert_eq!(ids, ["aaa", "bbb", "ccc"]);
    let files: Vec<&str> = dir.revisions.iter().map(|r| r.file.as_ref()).collect();
    assert_eq!(
        files,
        [
            "db/migrations/aaa_second.sql",
            "db/migrations/bbb_third.sql",
            "db/migrations/ccc_first.sql"
        ]
    );
    assert_eq!(
        dir.files,
        [
            tmp.path().join("aaa_second.sql"),
            tmp.path().join("bbb_third.sql"),
            tmp.path().join("ccc_first.sql")
        ]
    );
}

#[test]
fn stray_files_hidden_files_and_subdirectories_are_ignored() {
    let tmp = TempDir::new("stray");
    tmp.write("aaa_init.sql", file("aaa", ""));
    tmp.write("README.md", "# not a migration\n-- migrate:nonsense\n");
    tmp.write("notes.txt", [0xff, 0xfe, 0x00]);
    tmp.write("aaa_init.sql.bak", "garbage");
    tmp.write("aaa_init.sql~", "garbage");
    tmp.write(".#aaa_init.sql", "editor lock file");
    // A subdirectory is not read. (One named like a migration is an error:
    // see a_directory_named_like_a_migration_is_an_error_naming_it.)
    tmp.write("archive/zzz_old.sql", "not even a valid migration");
    let dir = load_dir(tmp.path(), "migrations").unwrap();
    let ids: Vec<&str> = dir.revisions.iter().map(|r| r.id.as_ref()).collect();
    assert_eq!(ids, ["aaa"]);
    assert_eq!(dir.files, [tmp.path().join("aaa_init.sql")]);
}

#[test]
fn a_sql_file_that_does_not_parse_is_an_error_never_skipped() {
    let tmp = TempDir::new("bad-one");
    tmp.write("aaa_init.sql", file("aaa", ""));
    tmp.write(
        "bbb_next.sql",
        "-- revision: bbb\n-- revises: aaa\nno up section\n",
    );
    let errors = load_dir(tmp.path(), "migrations").unwrap_err();
    assert_eq!(
        errors,
        [
            LoadError::ContentBeforeSection {
                file: "migrations/bbb_next.sql".into(),
                line: 3
            },
            LoadError::MissingUpSection {
                file: "migrations/bbb_next.sql".into()
            },
        ]
    );
}

#[test]
fn errors_from_several_files_are_collected_in_file_name_order() {
    let tmp = TempDir::new("several");
    tmp.write(
        "ccc_bad.sql",
        "-- revision: ccc\n-- revison: x\n-- migrate:up\n",
    );
    tmp.write("aaa_init.sql", file("aaa", ""));
    tmp.write(
        "bbb_bad.sql",
        b"-- revision: bbb\n-- migrate:up\nSELECT '\xe9';\n",
    );
    tmp.write("ddd_wrong_name.sql", file("eee", "aaa"));
    let errors = load_dir(tmp.path(), "migrations").unwrap_err();
    assert_eq!(
        errors,
        [
            LoadError::NotUtf8 {
                file: "migrations/bbb_bad.sql".into(),
                line: 3
            },
            LoadError::UnknownKey {
                file: "migrations/ccc_bad.sql".into(),
                line: 2,
                key: "revison".into(),
                suggestion: Some("revision".into())
            },
            LoadError::FileNameMismatch {
                file: "migrations/ddd_wrong_name.sql".into(),
                id: "eee".into()
            },
        ]
    );
}

#[test]
fn graph_errors_come_out_of_load_dir_too() {
    let tmp = TempDir::new("graph");
    tmp.write("aaa_init.sql", file("aaa", ""));
    tmp.write("bbb_next.sql", file("bbb", "aab"));
    tmp.write("ccc_next.sql", file("ccc", "aaa"));
    let errors = load_dir(tmp.path(), "migrations").unwrap_err();
    assert_eq!(
        errors,
        [LoadError::UnknownParent {
            file: "migrations/bbb_next.sql".into(),
            missing: "aab".into(),
            candidates: vec!["aaa".into()],
        }]
    );
}

#[test]
fn two_heads_in_a_directory_is_the_merge_error() {
    let tmp = TempDir::new("heads");
    tmp.write("aaa_init.sql", file("aaa", ""));
    tmp.write("bbb_alice.sql", file("bbb", "aaa"));
    tmp.write("ccc_bob.sql", file("ccc", "aaa"));
    let errors = load_dir(tmp.path(), "migrations").unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let text = errors[0].to_string();
    assert!(text.contains("migrate merge bbb ccc"), "{text}");
}

#[test]
fn crlf_and_lf_directories_load_the_same_revisions() {
    let lf = TempDir::new("lf");
    let crlf = TempDir::new("crlf");
    for (name, text) in [
        ("aaa_init.sql", file("aaa", "")),
        ("bbb_next.sql", file("bbb", "aaa")),
    ] {
        lf.write(name, &text);
        crlf.write(name, text.replace('\n', "\r\n"));
    }
    let a = load_dir(lf.path(), "migrations").unwrap();
    let b = load_dir(crlf.path(), "migrations").unwrap();
    assert_eq!(a.revisions, b.revisions);
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_is_an_unreadable_file_not_skipped() {
    let tmp = TempDir::new("symlink");
    tmp.write("aaa_init.sql", file("aaa", ""));
    std::os::unix::fs::symlink(
        tmp.path().join("nowhere.txt"),
        tmp.path().join("bbb_link.sql"),
    )
    .unwrap();
    let errors = load_dir(tmp.path(), "migrations").unwrap_err();
    match errors.as_slice() {
        [LoadError::FileUnreadable { file, reason }] => {
            assert_eq!(file, "migrations/bbb_link.sql");
            assert!(!reason.contains("os error"), "{reason}");
        }
        other => panic!("{other:#?}"),
    }
}

fn only_error(tmp: &TempDir) -> LoadError {
    let errors = load_dir(tmp.path(), "migrations").unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn a_nul_byte_is_refused_naming_file_and_line() {
    let tmp = TempDir::new("nul");
    tmp.write(
        "aaa_x.sql",
        "-- revision: aaa\n-- migrate:up\nCREATE TABLE a (x int);\n\0\nCREATE TABLE b (x int);\n",
    );
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::NulByte {
            file: "migrations/aaa_x.sql".into(),
            line: 4
        }
    );
    assert!(error.to_string().starts_with("migrations/aaa_x.sql:4: "));
}

#[test]
fn a_file_with_carriage_returns_only_is_refused_on_its_first_line() {
    let tmp = TempDir::new("cr");
    tmp.write(
        "aaa_x.sql",
        "-- revision: aaa\r-- migrate:up\rCREATE TABLE a (x int);\r",
    );
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::LoneCarriageReturn {
            file: "migrations/aaa_x.sql".into(),
            line: 1
        }
    );
    assert!(!error.to_string().contains("CREATE TABLE"), "{error}");
}

#[test]
fn a_message_over_the_limit_is_refused() {
    let tmp = TempDir::new("message");
    let long = "m".repeat(migrate_core::MAX_MESSAGE_BYTES + 1);
    tmp.write(
        "aaa_x.sql",
        format!("-- revision: aaa\n-- message: {long}\n-- migrate:up\nSELECT 1;\n"),
    );
    match only_error(&tmp) {
        LoadError::MessageTooLong {
            file,
            line: 2,
            length,
            limit: 1024,
        } => {
            assert_eq!(file, "migrations/aaa_x.sql");
            assert_eq!(length, 1025);
        }
        other => panic!("{other:#?}"),
    }
    let exact = "m".repeat(migrate_core::MAX_MESSAGE_BYTES);
    tmp.write(
        "aaa_x.sql",
        format!("-- revision: aaa\n-- message: {exact}\n-- migrate:up\nSELECT 1;\n"),
    );
    assert_eq!(
        load_dir(tmp.path(), "migrations").unwrap().revisions.len(),
        1
    );
}

#[test]
fn a_directory_named_like_a_migration_is_an_error_naming_it() {
    let tmp = TempDir::new("dir-sql");
    std::fs::create_dir(tmp.path().join("x.sql")).unwrap();
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::NotRegularFile {
            file: "migrations/x.sql".into(),
            kind: "a directory".into()
        }
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_opening_it() {
    let tmp = TempDir::new("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(tmp.path().join("x.sql"))
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    // Opening the FIFO would block this test forever.
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::NotRegularFile {
            file: "migrations/x.sql".into(),
            kind: "a FIFO (named pipe)".into()
        }
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_device_is_refused() {
    let tmp = TempDir::new("dev-zero");
    std::os::unix::fs::symlink("/dev/zero", tmp.path().join("x.sql")).unwrap();
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::NotRegularFile {
            file: "migrations/x.sql".into(),
            kind: "a symbolic link to a device".into()
        }
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_is_followed_only_to_a_regular_file_inside_the_directory() {
    let tmp = TempDir::new("links");
    let dir = tmp.path().join("migrations");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("aaa_x.sql.txt"), file("aaa", "")).unwrap();
    std::os::unix::fs::symlink("aaa_x.sql.txt", dir.join("aaa_x.sql")).unwrap();
    let loaded = load_dir(&dir, "migrations").unwrap();
    assert_eq!(loaded.revisions.len(), 1);

    let outside = tmp.write("bbb_y.sql", file("bbb", "aaa"));
    std::os::unix::fs::symlink(&outside, dir.join("bbb_y.sql")).unwrap();
    let errors = load_dir(&dir, "migrations").unwrap_err();
    assert_eq!(
        errors,
        [LoadError::NotRegularFile {
            file: "migrations/bbb_y.sql".into(),
            kind: "a symbolic link to a file outside the directory".into()
        }]
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let tmp = TempDir::new("large");
    let path = tmp.write("aaa_x.sql", file("aaa", ""));
    let handle = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    handle.set_len(migrate_core::MAX_FILE_BYTES + 1).unwrap();
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::FileTooLarge {
            file: "migrations/aaa_x.sql".into(),
            size: migrate_core::MAX_FILE_BYTES + 1,
            limit: migrate_core::MAX_FILE_BYTES,
        }
    );
    assert!(error.to_string().contains("16777217 bytes"), "{error}");
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_gets_its_own_error() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = TempDir::new("non-utf8");
    let name = std::ffi::OsStr::from_bytes(b"aaa_\xff.sql");
    std::fs::write(tmp.path().join(name), file("aaa", "")).unwrap();
    let error = only_error(&tmp);
    assert_eq!(
        error,
        LoadError::FileNameNotUtf8 {
            dir: "migrations".into(),
            name: "aaa_\u{fffd}.sql".into()
        }
    );
    assert!(!error.to_string().contains("No such file"), "{error}");
}
