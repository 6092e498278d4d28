//! A TCP relay between openpoort and a service it depends on (PostgreSQL, Redis), which a test
//! cuts and restores to see the service go away and come back while openpoort keeps running.
//! The shared PostgreSQL and Redis of the test machine are never stopped: other tests use them.

use std::net::{SocketAddr, TcpListener as StdListener};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A relay listening on a port of its own; dropping it stops it.
pub struct Link {
    port: u16,
    /// Whether the service is "up". Cut, the relay stops listening (so connecting is refused,
    /// as with a stopped server) and ends every relayed connection at once.
    up: watch::Sender<bool>,
}

impl Link {
    /// Relays to `target` (`host:port`). Runs on a thread of its own, so that a test blocked in
    /// a synchronous wait (a server starting) does not stall the relay the server is using.
    pub fn to(target: &str) -> Link {
        let target: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(target)
            .expect("a resolvable target")
            .next()
            .expect("a target address");
        let listener = StdListener::bind("127.0.0.1:0").expect("bind a relay port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("relay address").port();
        let (up, watch) = watch::channel(true);
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the relay")
                .block_on(relay(listener, port, target, watch));
        });
        Link { port, up }
    }

    /// Relays to the host and port of `url` (a `postgres://` or `redis://` URL).
    pub fn to_service(url: &str) -> Link {
        let rest = url.split_once("://").expect("a URL with a scheme").1;
        let authority = rest.split('/').next().unwrap_or(rest);
        Link::to(authority.rsplit('@').next().unwrap_or(authority))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `url` (a `postgres://` or `redis://` URL) with its host and port replaced by the relay's.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let credentials = match authority.rfind('@') {
            Some(i) => &authority[..=i],
            None => "",
        };
        format!("{scheme}://{credentials}127.0.0.1:{}{path}", self.port)
    }

    /// The service "dies": every relayed connection ends, and connecting is refused.
    pub fn cut(&self) {
        self.up.send_replace(false);
        // The relay closes its listener on its own thread; connecting must fail from now on.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "the relay still listens after the cut"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The service is back: the relay listens on the same port again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Dropping the sender ends the relay's thread.
        self.up.send_replace(false);
    }
}

async fn relay(first: StdListener, port: u16, target: SocketAddr, mut up: watch::Receiver<bool>) {
    let mut listener = Some(TcpListener::from_std(first).expect("tokio listener"));
    loop {
        let Some(open) = listener.take() else {
            // Cut: wait for the service to come back, then listen on the same port again.
            loop {
                if up.changed().await.is_err() {
                    return;
                }
                if *up.borrow_and_update() {
                    break;
                }
            }
            let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
            socket.set_reuseaddr(true).expect("SO_REUSEADDR");
            socket
                .bind(SocketAddr::from(([127, 0, 0, 1], port)))
                .expect("the relay's port again");
            listener = Some(socket.listen(128).expect("listen"));
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                if let Ok((client, _)) = accepted {
                    tokio::spawn(carry(client, target, up.clone()));
                }
                listener = Some(open);
            }
            changed = up.changed() => {
                if changed.is_err() {
                    return;
                }
                if *up.borrow_and_update() {
                    listener = Some(open);
                }
                // Otherwise `open` is dropped here: the port stops listening.
            }
        }
    }
}

/// Relays one connection until either side closes it or the link is cut.
async fn carry(mut client: TcpStream, target: SocketAddr, mut up: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = up.wait_for(|up| !*up) => {}
    }
}

/// A load balancer in front of several nodes: each new connection goes to the next node in
/// turn, and a node that refuses the connection (stopped, killed) is passed over, as a balancer
/// with connect checks does. Dropping it stops it.
pub struct Balancer {
    port: u16,
    served: std::sync::Arc<Vec<std::sync::atomic::AtomicUsize>>,
    stop: watch::Sender<bool>,
}

impl Balancer {
    /// Balances over `targets` (`host:port` each), on a thread of its own as [`Link::to`].
    pub fn over(targets: &[SocketAddr]) -> Balancer {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind a balancer port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("balancer address").port();
        let served: std::sync::Arc<Vec<_>> = std::sync::Arc::new(
            targets
                .iter()
                .map(|_| std::sync::atomic::AtomicUsize::new(0))
                .collect(),
        );
        let (stop, stopped) = watch::channel(false);
        let (targets, counts) = (targets.to_vec(), served.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the balancer")
                .block_on(balance(listener, targets, counts, stopped));
        });
        Balancer { port, served, stop }
    }

    /// `http://127.0.0.1:port`, the address clients use.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections node `i` has been given.
    pub fn served(&self, i: usize) -> usize {
        self.served[i].load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

async fn balance(
    listener: StdListener,
    targets: Vec<SocketAddr>,
    served: std::sync::Arc<Vec<std::sync::atomic::AtomicUsize>>,
    mut stopped: watch::Receiver<bool>,
) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    let mut next = 0usize;
    loop {
        let mut client = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
            _ = stopped.wait_for(|stop| *stop) => return,
        };
        // The next node that takes the connection, starting after the last one used.
        let mut chosen = None;
        for _ in 0..targets.len() {
            let i = next % targets.len();
            next += 1;
            if let Ok(server) = TcpStream::connect(targets[i]).await {
                chosen = Some((i, server));
                break;
            }
        }
        let Some((i, mut server)) = chosen else {
            continue;
        };
        served[i].fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
    }
}
