//! A TCP proxy in front of PostgreSQL that counts the statements clients
//! send: simple queries (`Q`), prepares (`P`) and executions of prepared
//! statements (`E`) of the frontend protocol.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy and its counts.
pub struct StatementCounter {
    port: u16,
    upstream_url: String,
    queries: Arc<AtomicUsize>,
    prepares: Arc<AtomicUsize>,
    executes: Arc<AtomicUsize>,
}

impl StatementCounter {
    /// Listens on a free loopback port, forwarding to the server of `url`.
    pub async fn start(url: &str) -> std::io::Result<Self> {
        let upstream = server_address(url);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let queries = Arc::new(AtomicUsize::new(0));
        let prepares = Arc::new(AtomicUsize::new(0));
        let executes = Arc::new(AtomicUsize::new(0));
        let (q, p, e) = (queries.clone(), prepares.clone(), executes.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counts = [q.clone(), p.clone(), e.clone()];
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let _ = relay(client, server, counts).await;
                    }
                });
            }
        });
        Ok(StatementCounter {
            port,
            upstream_url: url.to_string(),
            queries,
            prepares,
            executes,
        })
    }

    /// The server's URL rewritten to go through the proxy, without TLS so
    /// the messages can be read.
    pub fn url(&self) -> String {
        let url = &self.upstream_url;
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let (user, after_host) = match rest.split_once('@') {
            Some((user, host_and_path)) => (format!("{user}@"), host_and_path),
            None => (String::new(), rest),
        };
        let path = after_host.split_once('/').map_or("", |(_, path)| path);
        let separator = if path.contains('?') { '&' } else { '?' };
        format!(
            "{scheme}://{user}127.0.0.1:{}/{path}{separator}sslmode=disable",
            self.port
        )
    }

    pub fn reset(&self) {
        self.queries.store(0, Ordering::SeqCst);
        self.prepares.store(0, Ordering::SeqCst);
        self.executes.store(0, Ordering::SeqCst);
    }

    /// (simple queries, prepares, executions) since the last reset.
    pub fn counts(&self) -> (usize, usize, usize) {
        let load = |count: &AtomicUsize| count.load(Ordering::SeqCst);
        (
            load(&self.queries),
            load(&self.prepares),
            load(&self.executes),
        )
    }
}

fn server_address(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['/', '?']).next().unwrap_or("127.0.0.1");
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

/// Forwards both ways, counting `[Q, P, E]` messages from the client.
async fn relay(
    mut client: TcpStream,
    server: TcpStream,
    counts: [Arc<AtomicUsize>; 3],
) -> std::io::Result<()> {
    let (mut server_read, mut server_write) = server.into_split();
    let (mut client_read, mut client_write) = client.split();
    let to_client = tokio::io::copy(&mut server_read, &mut client_write);
    let to_server = async {
        // The startup packet has a length but no type byte.
        let length = client_read.read_u32().await?;
        let mut body = vec![0; length as usize - 4];
        client_read.read_exact(&mut body).await?;
        server_write.write_u32(length).await?;
        server_write.write_all(&body).await?;
        loop {
            let kind = client_read.read_u8().await?;
            let length = client_read.read_u32().await?;
            let mut body = vec![0; length as usize - 4];
            client_read.read_exact(&mut body).await?;
            if let Some(slot) = [b'Q', b'P', b'E'].iter().position(|&k| k == kind) {
                counts[slot].fetch_add(1, Ordering::SeqCst);
            }
            server_write.write_u8(kind).await?;
            server_write.write_u32(length).await?;
            server_write.write_all(&body).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    };
    tokio::select! {
        result = to_client => result.map(drop),
        result = to_server => result,
    }
}
