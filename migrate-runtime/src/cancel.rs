//! Cancellations still in flight: a dropped run cancels its server
//! statement from a task it spawns (Drop cannot await), and a program about
//! to exit, as the CLI on Ctrl-C, waits for them with [`cancellations`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

static PENDING: AtomicUsize = AtomicUsize::new(0);
static SETTLED: Notify = Notify::const_new();

/// One cancellation in flight, counted until dropped.
pub(crate) struct Pending(());

impl Pending {
    pub(crate) fn start() -> Self {
        PENDING.fetch_add(1, Ordering::SeqCst);
        Pending(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if PENDING.fetch_sub(1, Ordering::SeqCst) == 1 {
            SETTLED.notify_waiters();
        }
    }
}

/// Waits, up to `timeout`, until every dropped run's cancellation has
/// finished: the statement cancelled on the server and its session ended
/// (so its transaction rolled back and its lock released). Returns whether
/// they all finished in time. The cancellations run on the tokio runtime:
/// call this before the runtime shuts down.
pub async fn cancellations(timeout: Duration) -> bool {
    let settled = async {
        loop {
            let notified = SETTLED.notified();
            if PENDING.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    };
    tokio::time::timeout(timeout, settled).await.is_ok()
}
