//! A TCP proxy between a pool and the server that logs what the client
//! sends, so that a test can count what a no-op run costs without any
//! server configuration, and that can break a connection as a network
//! failure would ([`Fault`]). TLS must be off on the proxied connections.
//!
//! A statement is a simple query or the execution of a prepared one; the
//! preparations are logged apart, as they run nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The wire protocol to read messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// PostgreSQL: after the untyped startup packet(s), each frontend
    /// message is a type byte and a 4-byte big-endian length (which counts
    /// itself).
    Postgres,
    /// MySQL: each packet is a 3-byte little-endian length and a sequence
    /// number; a command starts a sequence (number 0) with its command byte.
    MySql,
}

/// What a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A statement run: a simple query, or a prepared statement executed
    /// (its SQL as prepared).
    Statement(String),
    /// A statement prepared (Postgres Parse, MySQL COM_STMT_PREPARE).
    Prepare(String),
}

/// What happens to the connection whose client sends the statement a
/// fault waits for ([`Proxy::fault_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The statement reaches the server, then the client's side of the
    /// connection closes, while the server's side stays open and unread:
    /// the client sees the connection die, and the server goes on with
    /// the statement, unaware, as when the network fails between them.
    Cut,
    /// The statement is held back and nothing more passes either way,
    /// with both sockets left open: a partition of this connection.
    Freeze,
    /// Like `Freeze`, and every connection made later hangs unanswered
    /// too: a partition between the client and the server.
    Partition,
}

/// A running proxy. Messages are logged from every connection through it.
pub struct Proxy {
    /// Where clients connect (`127.0.0.1:<port>`).
    pub address: String,
    log: Log,
    fault: Armed,
}

type Log = Arc<Mutex<Vec<Sent>>>;

/// The fault waiting for a statement containing the text, if any, and
/// whether a partition has struck.
#[derive(Default, Clone)]
struct Armed {
    fault: Arc<Mutex<Option<(String, Fault)>>>,
    partitioned: Arc<std::sync::atomic::AtomicBool>,
}

impl Armed {
    fn partitioned(&self) -> bool {
        self.partitioned.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Proxy {
    /// Listens on a free local port and forwards to `server` (`host:port`).
    pub async fn start(server: String, protocol: Protocol) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address").to_string();
        let log = Log::default();
        let fault = Armed::default();
        let (shared, armed) = (Arc::clone(&log), fault.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = Arc::clone(&shared);
                let armed = armed.clone();
                tokio::spawn(forward(client, server.clone(), protocol, log, armed));
            }
        });
        Proxy {
            address,
            log,
            fault,
        }
    }

    /// Arms `fault` for the next statement, on any connection, whose SQL
    /// contains `trigger`; it strikes once.
    pub fn fault_on(&self, trigger: &str, fault: Fault) {
        *self.fault.fault.lock().expect("proxy fault") = Some((trigger.to_string(), fault));
    }

    /// Whether the armed fault has struck.
    pub fn fault_struck(&self) -> bool {
        self.fault.fault.lock().expect("proxy fault").is_none()
    }

    /// Everything logged since the last call, emptying the log.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.log.lock().expect("proxy log"))
    }
}

/// The statements of a log, without the preparations.
pub fn statements(log: &[Sent]) -> Vec<&str> {
    log.iter()
        .filter_map(|sent| match sent {
            Sent::Statement(sql) => Some(sql.as_str()),
            Sent::Prepare(_) => None,
        })
        .collect()
}

/// What one connection has prepared, by statement name (Postgres) or id
/// (MySQL), and what it is waiting for.
#[derive(Default)]
struct Session {
    prepared: HashMap<String, String>,
    /// Postgres: the SQL bound to the unnamed portal.
    portal: Option<String>,
    /// MySQL: a COM_STMT_PREPARE whose answer (with the id) is due.
    preparing: Option<String>,
    /// A freeze struck: the server's answers are held back too.
    frozen: bool,
}

type Shared = Arc<Mutex<Session>>;

/// One client connection: each direction message by message.
async fn forward(client: TcpStream, server: String, protocol: Protocol, log: Log, armed: Armed) {
    if armed.partitioned() {
        let _held = client;
        return std::future::pending().await;
    }
    let Ok(upstream) = TcpStream::connect(&server).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = upstream.into_split();
    let session = Shared::default();
    let answers = tokio::spawn(from_server(
        server_read,
        client_write,
        protocol,
        Arc::clone(&session),
    ));
    let faults = Faults {
        armed,
        answers: answers.abort_handle(),
    };
    let _ = from_client(client_read, server_write, protocol, session, log, faults).await;
}

/// A connection's side of the faults: the armed one, and the task that
/// copies the server's answers to the client.
struct Faults {
    armed: Armed,
    answers: tokio::task::AbortHandle,
}

impl Faults {
    /// The fault that strikes at this statement, disarmed.
    fn strikes(&self, sent: &Option<Sent>) -> Option<Fault> {
        let Some(Sent::Statement(sql)) = sent else {
            return None;
        };
        let mut armed = self.armed.fault.lock().expect("proxy fault");
        let matches = armed
            .as_ref()
            .is_some_and(|(trigger, _)| sql.contains(trigger.as_str()));
        let fault = matches
            .then(|| armed.take().map(|(_, fault)| fault))
            .flatten();
        if fault == Some(Fault::Partition) {
            self.armed
                .partitioned
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        fault
    }
}

async fn from_client(
    mut read: impl AsyncRead + Unpin,
    mut write: impl AsyncWriteExt + Unpin,
    protocol: Protocol,
    session: Shared,
    log: Log,
    faults: Faults,
) -> std::io::Result<()> {
    let mut startup = true;
    loop {
        let frame = match protocol {
            Protocol::Postgres => postgres_message(&mut read, &mut startup).await?,
            Protocol::MySql => mysql_packet(&mut read).await?,
        };
        let sent = match protocol {
            Protocol::Postgres => postgres_sent(&frame, &mut session.lock().expect("session")),
            Protocol::MySql => mysql_sent(&frame, &mut session.lock().expect("session")),
        };
        let fault = faults.strikes(&sent);
        if let Some(sent) = sent {
            log.lock().expect("proxy log").push(sent);
        }
        match fault {
            None => write.write_all(&frame).await?,
            Some(Fault::Freeze | Fault::Partition) => {
                session.lock().expect("session").frozen = true;
                // Holds both sockets open, passing nothing on.
                let _held = (read, write);
                return std::future::pending().await;
            }
            Some(Fault::Cut) => {
                write.write_all(&frame).await?;
                // Ending the answers' task drops the client's write half
                // and, with this read half, the client's socket; the
                // server's socket stays open, its answers unread.
                faults.answers.abort();
                drop(read);
                let _held = write;
                return std::future::pending().await;
            }
        }
    }
}

/// Server to client: copied as is, except that MySQL's answer to a
/// COM_STMT_PREPARE is read for the statement id.
async fn from_server(
    mut read: impl AsyncRead + Unpin,
    mut write: impl AsyncWriteExt + Unpin,
    protocol: Protocol,
    session: Shared,
) -> std::io::Result<()> {
    loop {
        let frame = server_frame(&mut read, protocol, &session).await;
        if session.lock().expect("session").frozen {
            // Holds the client's socket open, passing nothing on, not
            // even the server closing its end.
            let _held = write;
            return std::future::pending().await;
        }
        match frame? {
            Some(frame) => write.write_all(&frame).await?,
            None => return write.shutdown().await,
        }
    }
}

/// The next piece of the server's answers; `None` at its end.
async fn server_frame(
    read: &mut (impl AsyncRead + Unpin),
    protocol: Protocol,
    session: &Shared,
) -> std::io::Result<Option<Vec<u8>>> {
    match protocol {
        Protocol::Postgres => {
            let mut chunk = vec![0; 8192];
            let read = read.read(&mut chunk).await?;
            chunk.truncate(read);
            Ok((read > 0).then_some(chunk))
        }
        Protocol::MySql => {
            let frame = mysql_packet(read).await?;
            prepared_id(&frame, &mut session.lock().expect("session"));
            Ok(Some(frame))
        }
    }
}

/// Reads the id from COM_STMT_PREPARE_OK (0x00, then the id, 4 bytes LE),
/// the answer to the COM_STMT_PREPARE sent last.
fn prepared_id(frame: &[u8], session: &mut Session) {
    if let (Some(sql), Some(&[0, a, b, c, d])) = (session.preparing.take(), frame.get(4..9)) {
        let id = u32::from_le_bytes([a, b, c, d]);
        session.prepared.insert(id.to_string(), sql);
    }
}

/// Reads one PostgreSQL frontend message. The startup phase has untyped
/// packets (an SSL or GSS request is followed by another one).
async fn postgres_message(
    read: &mut (impl AsyncRead + Unpin),
    startup: &mut bool,
) -> std::io::Result<Vec<u8>> {
    let mut frame = Vec::new();
    if !*startup {
        frame.push(read.read_u8().await?);
    }
    let length = read.read_u32().await?;
    frame.extend_from_slice(&length.to_be_bytes());
    let start = frame.len();
    frame.resize(start + (length as usize).saturating_sub(4), 0);
    read.read_exact(&mut frame[start..]).await?;
    if *startup {
        // SSLRequest and GSSENCRequest: the real startup packet follows.
        let code = frame
            .get(4..8)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        *startup = matches!(code, Some(80_877_103) | Some(80_877_104));
    }
    Ok(frame)
}

/// Query: the SQL. Parse: a name, the SQL. Bind: a portal, a statement
/// name. Execute: runs the portal.
fn postgres_sent(frame: &[u8], session: &mut Session) -> Option<Sent> {
    let body = frame.get(5..)?;
    match frame.first()? {
        b'Q' => Some(Sent::Statement(c_strings(body).next()?)),
        b'P' => {
            let mut fields = c_strings(body);
            let (name, sql) = (fields.next()?, fields.next()?);
            session.prepared.insert(name, sql.clone());
            Some(Sent::Prepare(sql))
        }
        b'B' => {
            let statement = c_strings(body).nth(1)?;
            session.portal = session.prepared.get(&statement).cloned();
            None
        }
        b'E' => Some(Sent::Statement(
            session
                .portal
                .clone()
                .unwrap_or_else(|| "<unknown portal>".into()),
        )),
        _ => None,
    }
}

/// The NUL-terminated strings at the start of a message body.
fn c_strings(body: &[u8]) -> impl Iterator<Item = String> + '_ {
    body.split(|&b| b == 0)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

const COM_QUERY: u8 = 0x03;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;

/// Reads one MySQL packet.
async fn mysql_packet(read: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut frame = vec![0; 4];
    read.read_exact(&mut frame).await?;
    let length = u32::from_le_bytes([frame[0], frame[1], frame[2], 0]) as usize;
    frame.resize(4 + length, 0);
    read.read_exact(&mut frame[4..]).await?;
    Ok(frame)
}

/// The commands that carry or run SQL, at the start of a sequence.
fn mysql_sent(frame: &[u8], session: &mut Session) -> Option<Sent> {
    let (sequence, command, rest) = (frame.get(3)?, frame.get(4)?, frame.get(5..)?);
    if *sequence != 0 {
        return None;
    }
    let text = || String::from_utf8_lossy(rest).into_owned();
    match *command {
        COM_QUERY => Some(Sent::Statement(text())),
        COM_STMT_PREPARE => {
            session.preparing = Some(text());
            Some(Sent::Prepare(text()))
        }
        COM_STMT_EXECUTE => {
            let id = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?).to_string();
            let sql = session.prepared.get(&id).cloned();
            Some(Sent::Statement(
                sql.unwrap_or_else(|| format!("<statement {id}>")),
            ))
        }
        _ => None,
    }
}
