//! Watching a revision's own SQL for a partition. That SQL is not bounded
//! by the I/O timeout (a `CREATE INDEX` may take an hour), and sqlx 0.8
//! sets no TCP keepalive on its sockets, so a client whose network went
//! away would wait for the answer forever. Instead, once the SQL has run
//! for the I/O timeout, a second connection asks the server, every I/O
//! timeout, whether it still has the run's session: the run gives up when
//! the server no longer has it (it noticed the partition and ended it, see
//! [`Backend::prepare_session`]) or cannot be reached at all for three
//! I/O timeouts. A revision shorter than the I/O timeout costs nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};

use crate::backend::Backend;
use crate::error::{connection_lost, Error, IoWait};

/// What it takes to watch one session from a second connection.
pub(crate) struct Watch<DB: Backend> {
    pub options: Arc<<DB::Connection as Connection>::Options>,
    /// The server's id of the watched session.
    pub session: u64,
    /// The I/O timeout: between checks, and the bound of each.
    pub every: Duration,
}

/// How many I/O timeouts the server may stay unreachable from a second
/// connection before the run gives up on a revision's SQL.
const UNREACHABLE_CHECKS: u32 = 3;

/// Runs `work` (a revision's SQL) under `watch`, where there is one. The
/// work's own result, or the error that says the session is lost: an
/// [`Error::IoTimeout`] of [`IoWait::Watch`] when the server could not be
/// reached, a database error that [`Error::is_connection_lost`] when the
/// server no longer has the session.
pub(crate) async fn watched<DB: Backend, T, E: From<Error>>(
    watch: Option<Watch<DB>>,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let Some(watch) = watch else {
        return work.await;
    };
    tokio::select! {
        result = work => result,
        lost = watch.until_lost() => Err(lost.into()),
    }
}

impl<DB: Backend> Watch<DB> {
    async fn until_lost(self) -> Error {
        let mut conn: Option<DB::Connection> = None;
        let mut unreachable_since: Option<Instant> = None;
        loop {
            tokio::time::sleep(self.every).await;
            let check = tokio::time::timeout(self.every, self.check(&mut conn)).await;
            let reached = match check {
                Ok(Ok(true)) => true,
                Ok(Ok(false)) => return session_gone(),
                Ok(Err(err)) if !connection_lost(&err) => {
                    // The server answered (too many connections, a
                    // permission): it is there. Not a reason to give up.
                    tracing::debug!(%err, "migrations: watching a revision's session");
                    true
                }
                Ok(Err(_)) | Err(_) => false,
            };
            if reached {
                unreachable_since = None;
                continue;
            }
            conn = None;
            let since = *unreachable_since.get_or_insert_with(Instant::now);
            if since.elapsed() + self.every >= self.every * UNREACHABLE_CHECKS {
                return Error::IoTimeout {
                    what: IoWait::Watch,
                    waited: self.every * UNREACHABLE_CHECKS,
                    lock_may_be_held: true,
                };
            }
        }
    }

    async fn check(&self, conn: &mut Option<DB::Connection>) -> Result<bool, sqlx::Error> {
        let conn = match conn {
            Some(conn) => conn,
            None => conn.insert(self.options.connect().await?),
        };
        DB::session_exists(conn, self.session).await
    }
}

fn session_gone() -> Error {
    Error::Database(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the server no longer has the run's session: it ended it while the revision's SQL ran \
         (the client stopped answering, or someone ended the session)",
    )))
}
