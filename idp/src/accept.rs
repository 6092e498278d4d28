//! The accept loop: HTTP/1.1 connections with time limits, built on hyper directly because
//! `axum::serve` exposes none of them (3,000 half-sent requests were held open without end).
//!
//! A connection is in one of three phases, each with its own limit:
//! - idle, between requests (keep-alive): `idle` from the last byte of the previous answer
//!   until the first byte of the next request;
//! - head: `header_read` from that first byte (or from the accept, for the first request)
//!   until the request's headers are complete;
//! - body: `body` from the headers until the whole body is in (a [`TimedBody`]).
//!
//! Idle and head are watched on the socket ([`Watched`]) rather than with hyper's own header
//! timeout, because hyper starts that one as soon as it waits for a request, so a reverse
//! proxy's pooled connection would be cut after the head limit, not the idle one. While a
//! request is being answered neither applies: an EDEXML import may take minutes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// The time limits of every connection (`server.*_timeout_seconds`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read: Duration,
    pub idle: Duration,
    pub body: Duration,
}

/// Accepts until `shutdown` completes, then stops accepting, lets connections finish their
/// requests for at most `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_on(listener, app, None, limits, grace, shutdown).await
}

/// As [`serve`], over TLS with `tls`. The handshake counts against `header_read`, like the head
/// of a first request; a client certificate the handshake accepted reaches every request of the
/// connection as a [`PeerCertificate`] extension.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    tls: Arc<rustls::ServerConfig>,
    limits: Limits,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_on(listener, app, Some(tls), limits, grace, shutdown).await
}

/// The client certificate of a mutual-TLS connection: the SHA-256 of its DER encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCertificate {
    pub sha256: String,
}

async fn serve_on(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: the cause is outside this
                    // connection; waiting a moment beats spinning on the same error.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let watched = Watched::new(stream, limits, in_flight.clone());
        let app = app.clone();
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        // The handshake runs in the connection's own task, so that a slow client holds up
        // nobody else's accept.
        tokio::spawn(async move {
            let result = match acceptor {
                None => {
                    let service = connection_service(app, peer, None, limits, in_flight);
                    watcher.watch(http1(TokioIo::new(watched), service)).await
                }
                Some(acceptor) => {
                    let tls =
                        match tokio::time::timeout(limits.header_read, acceptor.accept(watched))
                            .await
                        {
                            Ok(Ok(tls)) => tls,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, %peer, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake not complete in time");
                                return;
                            }
                        };
                    let certificate = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|der| PeerCertificate {
                            sha256: crate::tls::fingerprint(der),
                        });
                    let service = connection_service(app, peer, certificate, limits, in_flight);
                    watcher.watch(http1(TokioIo::new(tls), service)).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => Ok(()),
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the shutdown grace period; stopping anyway");
            Ok(())
        }
    }
}

fn http1<I, S>(io: I, service: S) -> hyper::server::conn::http1::Connection<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S: hyper::service::Service<
            Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        >,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timeout would also cut idle keep-alive connections; `Watched`
    // keeps both limits apart. Without a timer hyper would set none anyway.
    builder.header_read_timeout(None);
    builder.serve_connection(io, service)
}

fn connection_service(
    app: Router,
    peer: std::net::SocketAddr,
    certificate: Option<PeerCertificate>,
    limits: Limits,
    in_flight: Arc<AtomicUsize>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        if let Some(c) = &certificate {
            req.extensions_mut().insert(c.clone());
        }
        let req = req.map(|body| Body::new(TimedBody::new(body, limits.body)));
        let mut app = app.clone();
        let answering = InFlight::enter(in_flight.clone());
        async move {
            let response = tower_service::Service::call(&mut app, req).await;
            drop(answering);
            response
        }
    })
}

/// Counts a request as being answered while it lives, so that [`Watched`] does not take a
/// long answer for an idle connection.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for the first byte of a request.
    Idle,
    /// A request has begun; its headers are not complete.
    Head,
}

/// The socket, closed with `TimedOut` when the client keeps an idle connection past `idle` or
/// takes longer than `header_read` over a request's head. Bytes moving either way while no
/// request is being answered restart the clock of the phase they belong to.
pub struct Watched {
    stream: TcpStream,
    limits: Limits,
    in_flight: Arc<AtomicUsize>,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
}

impl Watched {
    fn new(stream: TcpStream, limits: Limits, in_flight: Arc<AtomicUsize>) -> Watched {
        Watched {
            stream,
            limits,
            in_flight,
            // A new connection owes its first request's head at once: a connection that was
            // never used is no keep-alive to spare, and zero-byte connections are the cheapest
            // slowloris of all.
            phase: Phase::Head,
            deadline: Box::pin(tokio::time::sleep(limits.header_read)),
        }
    }

    /// An answer went out: the next request's idle time counts from its last byte. hyper may
    /// have polled the socket for the next request while the answer was being made, when the
    /// clock stood still and was not armed; arming it here makes sure it wakes the connection.
    fn idle_after_answer(&mut self, cx: &mut Context<'_>) {
        self.enter(Phase::Idle);
        let _ = self.deadline.as_mut().poll(cx);
    }

    fn answering(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        let limit = match phase {
            Phase::Idle => self.limits.idle,
            Phase::Head => self.limits.header_read,
        };
        self.deadline.as_mut().reset(Instant::now() + limit);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && !self.answering() && self.phase == Phase::Idle {
                    self.enter(Phase::Head);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // While a request is answered (or its body read, which `TimedBody` limits)
                // the clock stands still.
                if self.answering() {
                    return Poll::Pending;
                }
                ready!(self.deadline.as_mut().poll(cx));
                let what = match self.phase {
                    Phase::Idle => "idle connection",
                    Phase::Head => "request headers not complete",
                };
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
            }
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write(cx, buf));
        if matches!(written, Ok(n) if n > 0) && !self.answering() {
            self.idle_after_answer(cx);
        }
        Poll::Ready(written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, bufs));
        if matches!(written, Ok(n) if n > 0) && !self.answering() {
            self.idle_after_answer(cx);
        }
        Poll::Ready(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A request body that must be in completely within its limit from the moment the headers
/// were read; a body that trickles in slower ends in [`BodyTimedOut`].
pub struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl TimedBody {
    fn new(inner: Incoming, limit: Duration) -> TimedBody {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

/// The body did not arrive within `server.body_timeout_seconds`. The rejections of the
/// extractors recognise it and answer 408.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                ready!(self.deadline.as_mut().poll(cx));
                Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
