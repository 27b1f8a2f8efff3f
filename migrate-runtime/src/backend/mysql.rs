//! MySQL and MariaDB: `GET_LOCK`, batches over the text protocol. DDL
//! commits implicitly here, which the pending history row accounts for.

use std::time::Duration;

use sqlx::mysql::{MySql, MySqlConnection, MySqlQueryResult};

use sqlx::Executor;

use migrate_core::{Dialect, HistoryTable};

use super::{end_session, history_or_missing, history_rows, sessions, Backend, BatchFailure};
use crate::error::Error;
use crate::history::HistoryRow;

/// ER_NO_SUCH_TABLE's SQLSTATE.
const NO_SUCH_TABLE: &str = "42S02";

impl Backend for MySql {
    const DIALECT: Dialect = Dialect::MySql;
    const LOCK_IS_TRANSACTION: bool = false;

    super::compiled_here!();

    async fn read_history(
        conn: &mut MySqlConnection,
        sql: &str,
    ) -> Result<Option<Vec<HistoryRow>>, sqlx::Error> {
        // The simple query protocol: one round trip even on a connection that
        // has prepared nothing yet, as at boot.
        history_or_missing(
            (&mut *conn).fetch_all(sqlx::raw_sql(sql)).await,
            |db| db.code().is_some_and(|code| code == NO_SUCH_TABLE),
            history_rows,
        )
    }

    async fn execute(conn: &mut MySqlConnection, sql: &str) -> Result<(), sqlx::Error> {
        (&mut *conn).execute(sqlx::raw_sql(sql)).await.map(drop)
    }

    async fn execute_batch(
        conn: &mut MySqlConnection,
        sql: &str,
    ) -> Result<Vec<u64>, BatchFailure> {
        super::execute_counting::<MySql>(conn, sql, MySqlQueryResult::rows_affected, |_| None).await
    }

    async fn execute_outside_transaction(
        conn: &mut MySqlConnection,
        sql: &str,
        _: Duration,
    ) -> Result<Result<(), BatchFailure>, Error> {
        // Outside `START TRANSACTION` every statement commits on its own.
        // An empty or comment-only section sends nothing: MySQL refuses an
        // empty query (1065), and trailing comments would make one.
        let sql = Self::DIALECT.section(sql);
        if sql.is_empty() {
            return Ok(Ok(()));
        }
        Ok(Self::execute_batch(conn, sql).await.map(drop))
    }

    async fn prepare_session(
        conn: &mut MySqlConnection,
        io_timeout: Duration,
    ) -> Result<Option<String>, sqlx::Error> {
        // The server closes a session idle for `wait_timeout`, or stuck
        // reading from or writing to its client for `net_*_timeout`, which
        // frees its GET_LOCK. (TCP keepalive is a global server setting.)
        // The previous values are kept in user variables of the session,
        // read left to right before they are changed.
        let seconds = io_timeout.as_secs().max(1);
        let set = format!(
            "SET @migrate_wait_timeout = @@session.wait_timeout, \
             @migrate_net_read_timeout = @@session.net_read_timeout, \
             @migrate_net_write_timeout = @@session.net_write_timeout, \
             SESSION wait_timeout = {seconds}, SESSION net_read_timeout = {seconds}, \
             SESSION net_write_timeout = {seconds}"
        );
        Self::execute(conn, &set).await?;
        Ok(Some(
            "SET SESSION wait_timeout = @migrate_wait_timeout, \
             SESSION net_read_timeout = @migrate_net_read_timeout, \
             SESSION net_write_timeout = @migrate_net_write_timeout"
                .to_string(),
        ))
    }

    async fn session_exists(conn: &mut MySqlConnection, id: u64) -> Result<bool, sqlx::Error> {
        let count = format!(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE id = {id}"
        );
        Ok(sessions::<MySql>(conn, &count).await? != "0")
    }

    async fn end_lost_session(
        conn: &mut MySqlConnection,
        id: u64,
        settle: Duration,
    ) -> Result<(), sqlx::Error> {
        let state = format!(
            "SELECT CASE WHEN command = 'Query' THEN 'active' ELSE 'idle' END \
             FROM information_schema.processlist WHERE id = {id}"
        );
        end_session::<MySql>(conn, &state, &format!("KILL CONNECTION {id}"), settle).await
    }

    async fn lock(
        conn: &mut MySqlConnection,
        table: &HistoryTable,
        timeout: Duration,
    ) -> Result<(), Error> {
        // GET_LOCK waits on the server, up to its timeout in seconds.
        let sql = format!(
            "SELECT CAST(GET_LOCK({}, {:.3}) AS CHAR)",
            lock_name(table),
            timeout.as_secs_f64()
        );
        let row = (&mut *conn).fetch_one(sqlx::raw_sql(&sql)).await?;
        let answer: Option<String> = sqlx::Row::try_get(&row, 0)?;
        if answer.as_deref() == Some("1") {
            Ok(())
        } else {
            Err(Error::LockTimeout {
                table: table.name(),
                waited: timeout,
            })
        }
    }

    async fn unlock(conn: &mut MySqlConnection, table: &HistoryTable) -> Result<(), sqlx::Error> {
        let sql = format!("SELECT RELEASE_LOCK({})", lock_name(table));
        (&mut *conn).execute(sqlx::raw_sql(&sql)).await.map(drop)
    }

    async fn server_session_id(conn: &mut MySqlConnection) -> Result<Option<u64>, sqlx::Error> {
        let row = (&mut *conn)
            .fetch_one(sqlx::raw_sql("SELECT CAST(CONNECTION_ID() AS CHAR)"))
            .await?;
        let id: String = sqlx::Row::try_get(&row, 0)?;
        Ok(id.parse().ok())
    }

    async fn cancel_statement(conn: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
        // KILL QUERY ends the statement, not the session: the open
        // transaction is then rolled back when the dropped connection closes.
        let sql = format!("KILL QUERY {id}");
        (&mut *conn).execute(sqlx::raw_sql(&sql)).await?;
        let gone = format!(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE id = {id}"
        );
        super::wait_until_gone::<MySql>(conn, &gone).await
    }
}

/// Lock names are server-wide: qualify with the database. At most 64
/// characters.
fn lock_name(table: &HistoryTable) -> String {
    format!(
        "LEFT(CONCAT('migrate:', COALESCE(DATABASE(), ''), ':', {}), 64)",
        Dialect::MySql.literal(&table.name())
    )
}
