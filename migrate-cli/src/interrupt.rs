//! Ctrl-C (SIGINT) and SIGTERM while a command runs.
//!
//! Without this, the signal kills the process and the server goes on
//! running the batch, holding the lock, and commits it. Instead, the
//! signal is caught and the command's future dropped: a dropped run
//! cancels its statement on the server from a second connection, and
//! [`settle`] waits for that (`migrate_runtime::cancellations`), so the
//! revision is rolled back and the lock released before the CLI exits 130
//! (143 for SIGTERM). A second signal exits at once.
//!
//! Two levels catch the signal: `upgrade`, `downgrade` and `stamp` around
//! their run ([`Interrupts::claim`]), to report what was kept; every
//! command as a whole ([`Interrupts::guard`]), for the rest (connecting,
//! reading). The inner one, when it takes the signal, marks it claimed so
//! that the outer one leaves the command to finish its report.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::{CliError, CliResult, Exit};
use crate::output::Output;

/// How long to wait for the server to confirm that a dropped run's
/// statement was cancelled: it takes milliseconds; a server that does not
/// answer must not keep the user waiting.
pub const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// How long re-reading the history after an interruption may take.
pub const REREAD_WAIT: Duration = Duration::from_secs(2);

/// The signals that stop a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, a container stopping.
    Terminate,
}

impl Signal {
    /// The exit code: 128 + the signal's number, as a shell reports a
    /// process the signal killed.
    pub fn exit(self) -> Exit {
        match self {
            Signal::Interrupt => Exit::Interrupted,
            Signal::Terminate => Exit::Terminated,
        }
    }

    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C (SIGINT)",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// `interrupted by Ctrl-C (SIGINT)`.
    pub fn interrupted(self) -> String {
        format!("interrupted by {}", self.describe())
    }
}

/// The signals received, for any part of a command to wait on.
#[derive(Debug, Clone)]
pub struct Interrupts {
    received: watch::Receiver<Option<Signal>>,
    /// Kept so that the channel never closes, even with no listener.
    _sender: Arc<watch::Sender<Option<Signal>>>,
    /// A command took the first signal to report it itself.
    claimed: Arc<AtomicBool>,
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on; called on the tokio
    /// runtime. The first signal is passed on to the command; the second
    /// exits at once with a one-line message. Where the handlers cannot be
    /// installed, the signals keep their default action (the process dies).
    pub fn listen(out: Output) -> Interrupts {
        let (sender, received) = watch::channel(None);
        let sender = Arc::new(sender);
        let interrupts = Interrupts {
            received,
            _sender: Arc::clone(&sender),
            claimed: Arc::new(AtomicBool::new(false)),
        };
        let Ok(mut signals) = Signals::install() else {
            return interrupts;
        };
        tokio::spawn(async move {
            let first = signals.recv().await;
            sender.send_replace(Some(first));
            let second = signals.recv().await;
            out.error(
                &CliError::new(
                    second.exit(),
                    format!(
                        "{} again: exiting at once, without waiting for the server to cancel the statement",
                        second.interrupted()
                    ),
                )
                .hint(
                    "`migrate status` shows what was kept and whether a revision was left pending",
                ),
            );
            std::process::exit(second.exit() as i32);
        });
        interrupts
    }

    /// The first signal, whenever it comes.
    async fn first(&self) -> Signal {
        let mut received = self.received.clone();
        let signal = received.wait_for(Option::is_some).await.map(|s| *s);
        match signal {
            Ok(signal) => signal.unwrap_or(Signal::Interrupt),
            // The sender lives as long as `self`.
            Err(_) => std::future::pending().await,
        }
    }

    /// The first signal, taken by the caller, which reports the
    /// interruption itself: [`guard`](Self::guard) then leaves the command
    /// to finish.
    pub async fn claim(&self) -> Signal {
        let signal = self.first().await;
        self.claimed.store(true, Ordering::SeqCst);
        signal
    }

    /// The first signal, unless a command claimed it.
    async fn unclaimed(&self) -> Signal {
        let signal = self.first().await;
        if self.claimed.load(Ordering::SeqCst) {
            return std::future::pending().await;
        }
        signal
    }

    /// Runs a whole command; on a signal it has not claimed, drops it,
    /// waits for the server to cancel what it was running, and fails with
    /// the signal's exit code. `hint` says what the user can check.
    pub async fn guard<T>(
        &self,
        out: Output,
        hint: Option<&str>,
        command: impl Future<Output = CliResult<T>>,
    ) -> CliResult<T> {
        // Biased: the command is polled first, so that when it claims the
        // signal, the claim is seen here in the same poll.
        let signal = tokio::select! {
            biased;
            result = command => return result,
            signal = self.unclaimed() => signal,
        };
        settle(out).await;
        let error = CliError::new(signal.exit(), signal.interrupted());
        Err(match hint {
            Some(hint) => error.hint(hint),
            None => error,
        })
    }
}

/// After a dropped run: waits for its cancellation on the server (the
/// statement cancelled, the session ended, so the transaction rolled back
/// and the lock released); warns when the server did not confirm in time.
pub async fn settle(out: Output) {
    if !migrate_runtime::cancellations(CANCEL_WAIT).await {
        out.warning(&format!(
            "the server did not confirm within {} s that the interrupted statement was cancelled; \
             it may still be running",
            CANCEL_WAIT.as_secs()
        ));
    }
}

/// Whether a command's result is an interruption (its pool is then left
/// to the exit: closing it could wait for the very statement interrupted,
/// which SQLite finishes in its own thread).
/// Any result type: commands return the CLI's errors or the runtime's.
pub fn was_interrupted<T, E: std::any::Any>(result: &Result<T, E>) -> bool {
    let Err(err) = result else { return false };
    (err as &dyn std::any::Any)
        .downcast_ref::<CliError>()
        .is_some_and(|err| matches!(err.exit, Exit::Interrupted | Exit::Terminated))
}

#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}

/// Elsewhere, Ctrl-C only.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Signals)
    }

    async fn recv(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}
