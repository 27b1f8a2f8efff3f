//! Offline scripts (`migrate upgrade --sql`): a plan rendered as the SQL
//! the runtime would send, for a DBA to review and apply by hand.
//!
//! Every statement comes from [`Dialect`]'s builders, the ones the runtime
//! sends, so a script applied with the database's own client leaves the
//! database (schema and history rows) as a run would. Only the transaction
//! boundaries are decided here, as the runtime decides them:
//!
//! - one transaction per revision: each transactional revision's batch is
//!   wrapped in `BEGIN` / `COMMIT`;
//! - one transaction for the run: consecutive transactional revisions share
//!   one `BEGIN` ... `COMMIT`;
//! - a `transaction: false` revision always runs outside any transaction:
//!   an open run transaction is committed before it.

use crate::dialect::{Dialect, HistoryTable, Wrap};
use crate::plan::{Direction, Plan};
use crate::revision::Revision;

/// The script of a plan: the history table's `CREATE TABLE IF NOT EXISTS`,
/// then, for each revision, a `-- upgrade <parents> -> <id>: <message>`
/// (or `-- downgrade ...`) comment and its batch. Every statement ends with
/// `;`, ready for `psql -v ON_ERROR_STOP=1 -f`, `sqlite3 -bail` or
/// `mariadb`. `single_transaction` is the runtime's single-transaction mode.
pub fn render_script(
    dialect: Dialect,
    table: &HistoryTable,
    plan: &Plan<'_>,
    single_transaction: bool,
) -> String {
    let mut out = dialect
        .session_setup()
        .map(|setup| format!("{setup};\n"))
        .unwrap_or_default();
    out.push_str(&format!("{};\n", dialect.create_history(table)));
    let mut in_run_transaction = false;
    for revision in &plan.steps {
        let (verb, from, to) = match plan.direction {
            Direction::Upgrade => ("upgrade", parents(revision), revision.id.to_string()),
            Direction::Downgrade => ("downgrade", revision.id.to_string(), parents(revision)),
        };
        out.push_str(&format!(
            "\n-- {verb} {from} -> {to}: {}\n",
            revision.message
        ));
        let wrap = if !revision.transactional {
            if in_run_transaction {
                out.push_str("COMMIT;\n");
                in_run_transaction = false;
            }
            Wrap::None
        } else if single_transaction {
            if !in_run_transaction {
                out.push_str(&format!("{};\n", dialect.begin()));
                in_run_transaction = true;
            }
            Wrap::None
        } else {
            Wrap::Transaction
        };
        let batch = match plan.direction {
            Direction::Upgrade => dialect.upgrade_batch(table, revision, wrap),
            Direction::Downgrade => dialect.downgrade_batch(table, revision, wrap),
        };
        out.push_str(&client_batch(dialect, batch));
    }
    if in_run_transaction {
        out.push_str("COMMIT;\n");
    }
    out
}

/// A batch as the database's client must read it. The `mariadb` client
/// cuts its input at every `;`, which would cut a trigger or procedure
/// body (`BEGIN ...; ...; END`) apart: a batch with a `BEGIN` is sent
/// whole, between `DELIMITER` lines, as the one multi-statement query the
/// runtime sends.
fn client_batch(dialect: Dialect, batch: String) -> String {
    if dialect != Dialect::MySql || !has_word(&batch, "begin") {
        return batch;
    }
    let delimiter = (1..)
        .map(|n| "$$".repeat(n))
        .find(|candidate| !batch.contains(candidate.as_str()))
        .unwrap_or_default();
    format!(
        "DELIMITER {delimiter}\n{}\n{delimiter}\nDELIMITER ;\n",
        batch.trim_end()
    )
}

/// Whether `text` holds `word` (ASCII, any case) as a whole word.
fn has_word(text: &str, word: &str) -> bool {
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let bytes = text.as_bytes();
    text.to_ascii_lowercase()
        .match_indices(word)
        .any(|(at, _)| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + word.len()).copied();
            !before.is_some_and(is_word_byte) && !after.is_some_and(is_word_byte)
        })
}

/// `a, b`, or `base` for a root.
fn parents(revision: &Revision) -> String {
    if revision.parents.is_empty() {
        "base".to_string()
    } else {
        revision.parents.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::RevisionGraph;
    use crate::plan::{plan_downgrade, plan_upgrade};
    use crate::target::Target;

    fn revision(id: &str, revises: &str, transactional: bool) -> Revision {
        let header = if transactional {
            String::new()
        } else {
            "-- transaction: false\n".to_string()
        };
        crate::parse_migration(
            &format!("migrations/{id}_x.sql"),
            format!(
                "-- revision: {id}\n-- revises: {revises}\n-- message: make {id}\n{header}\
                 -- migrate:up\nCREATE TABLE {id} (x int);\n-- migrate:down\nDROP TABLE {id};\n"
            )
            .as_bytes(),
        )
        .expect("a valid file")
    }

    fn revisions() -> Vec<Revision> {
        vec![
            revision("a1", "", true),
            revision("b2", "a1", true),
            revision("c3", "b2", false),
            revision("d4", "c3", true),
        ]
    }

    fn upgrade_script(single: bool) -> String {
        let revisions = revisions();
        let graph = RevisionGraph::new(&revisions).expect("a valid graph");
        let plan = plan_upgrade(&graph, &graph.empty_set(), &Target::Head).expect("a plan");
        let table = HistoryTable::new("h").expect("a valid name");
        render_script(Dialect::Postgres, &table, &plan, single)
    }

    #[test]
    fn per_revision_wraps_each_transactional_batch_and_not_the_others() {
        let script = upgrade_script(false);
        assert!(
            script.starts_with("CREATE TABLE IF NOT EXISTS \"h\""),
            "{script}"
        );
        let blocks: Vec<&str> = script.split("\n-- upgrade ").collect();
        assert_eq!(blocks.len(), 5, "{script}");
        assert!(blocks[1].starts_with("base -> a1: make a1\n"), "{script}");
        for block in [blocks[1], blocks[2], blocks[4]] {
            assert_eq!(block.matches("BEGIN;").count(), 1, "{block}");
            assert!(block.trim_end().ends_with("COMMIT;"), "{block}");
        }
        assert!(!blocks[3].contains("BEGIN"), "{}", blocks[3]);
        assert!(!blocks[3].contains("COMMIT"), "{}", blocks[3]);
        // The very batch the runtime sends.
        let revisions = revisions();
        let table = HistoryTable::new("h").expect("a valid name");
        assert!(script.contains(&Dialect::Postgres.upgrade_batch(
            &table,
            &revisions[1],
            Wrap::Transaction
        )));
        assert!(script.contains(&Dialect::Postgres.upgrade_batch(
            &table,
            &revisions[2],
            Wrap::None
        )));
    }

    #[test]
    fn single_transaction_commits_before_a_revision_outside_transactions() {
        let script = upgrade_script(true);
        assert_eq!(script.matches("BEGIN;").count(), 2, "{script}");
        assert_eq!(script.matches("COMMIT;").count(), 2, "{script}");
        let first_commit = script.find("COMMIT;").expect("a commit");
        let outside = script.find("CREATE TABLE c3").expect("c3's SQL");
        let second_begin = script.rfind("BEGIN;").expect("a begin");
        assert!(first_commit < outside && outside < second_begin, "{script}");
        assert!(script.trim_end().ends_with("COMMIT;"), "{script}");
    }

    #[test]
    fn downgrades_run_dependents_first_with_their_down_sql() {
        let revisions = revisions();
        let graph = RevisionGraph::new(&revisions).expect("a valid graph");
        let (all, _) = graph.set_of(["a1", "b2", "c3", "d4"]);
        let plan = plan_downgrade(&graph, &all, &Target::Revision("b2".into())).expect("a plan");
        let table = HistoryTable::new("h").expect("a valid name");
        let script = render_script(Dialect::Sqlite, &table, &plan, false);
        let d4 = script.find("-- downgrade d4 -> c3: make d4").expect("d4");
        let c3 = script.find("-- downgrade c3 -> b2: make c3").expect("c3");
        assert!(d4 < c3, "{script}");
        assert!(script.contains("DROP TABLE d4"), "{script}");
        assert!(!script.contains("DROP TABLE b2"), "{script}");
    }

    #[test]
    fn mysql_scripts_set_the_runtime_session_and_keep_bodies_whole() {
        let body = "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW\nBEGIN\n  SET NEW.x = 1;\n  SET NEW.y = '$$';\nEND;";
        let revision = crate::parse_migration(
            "migrations/a1_x.sql",
            format!("-- revision: a1\n-- migrate:up\n{body}\n").as_bytes(),
        )
        .expect("a valid file");
        let revisions = vec![revision];
        let graph = RevisionGraph::new(&revisions).expect("a valid graph");
        let plan = plan_upgrade(&graph, &graph.empty_set(), &Target::Head).expect("a plan");
        let table = HistoryTable::new("h").expect("a valid name");
        let script = render_script(Dialect::MySql, &table, &plan, false);
        assert!(script.starts_with("SET sql_mode="), "{script}");
        let batch = Dialect::MySql.upgrade_batch(&table, &revisions[0], Wrap::Transaction);
        // `$$` is in the body, so the delimiter is the next candidate.
        let wrapped = format!("DELIMITER $$$$\n{}\n$$$$\nDELIMITER ;\n", batch.trim_end());
        assert!(script.contains(&wrapped), "{script}");
        // Without a `BEGIN` the batch is left as it is.
        assert_eq!(
            client_batch(Dialect::MySql, "SELECT 1;\n".into()),
            "SELECT 1;\n"
        );
        assert_eq!(
            client_batch(Dialect::MySql, "SELECT begins;\n".into()),
            "SELECT begins;\n"
        );
        assert!(render_script(Dialect::Postgres, &table, &plan, false).starts_with("CREATE TABLE"));
    }
}
