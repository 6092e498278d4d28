//! A load tool's HTTP/1.1 client: one kept-alive connection, each request written in one piece,
//! each answer read with `httparse` (hyper's own parser).
//!
//! reqwest spends most of a load run's CPU on its pool, its tower stack and its per-request
//! allocations: on this 2-core machine it took about 63% of the CPU in a run against a constant
//! answer, leaving the server a sixth. A load tool shares the machine with the server it
//! measures, so the leaner the client, the closer the figure is to what the server can do. What
//! it leaves out (redirects, proxies, compression) is what the benchmarks do not use. TLS is
//! there for the partner listener, which speaks nothing else: rustls with *ring*, as the server.

use std::io;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A byte stream to the server: plain TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One answer as read off the connection.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A connection to one `host:port`, opened on first use and again when the server closed it.
pub struct Conn {
    authority: String,
    /// For `https://` bases: the client's TLS configuration (trusted roots, client certificate).
    tls: Option<Arc<rustls::ClientConfig>>,
    stream: Option<Box<dyn Io>>,
    /// Bytes read but not yet consumed (the start of the next answer never arrives early, since
    /// requests are not pipelined, but a read may still end mid-body).
    buf: Vec<u8>,
}

const MAX_HEADERS: usize = 32;

impl Conn {
    /// `base` is `http://host:port`; only plain HTTP, which is what the benchmarks run against.
    pub fn new(base: &str) -> Conn {
        let authority = base
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("the load client speaks plain http only, not {base}"))
            .trim_end_matches('/')
            .to_owned();
        Conn {
            authority,
            tls: None,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// `base` is `https://host:port`; the server's certificate is checked against `tls`'s roots
    /// for the name `localhost`, which the load tools' listener certificates carry. Like the
    /// plain connection it is kept alive: one handshake, then requests over it.
    pub fn tls(base: &str, tls: Arc<rustls::ClientConfig>) -> Conn {
        let authority = base
            .strip_prefix("https://")
            .unwrap_or_else(|| panic!("a TLS connection needs an https:// base, not {base}"))
            .trim_end_matches('/')
            .to_owned();
        Conn {
            authority,
            tls: Some(tls),
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends `method path` with `headers` and `body` and reads the answer. A connection the
    /// server closed while idle is opened again once; any other failure is the caller's.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Answer> {
        let mut request = Vec::with_capacity(256 + body.len());
        request.extend_from_slice(method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(path.as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        request.extend_from_slice(self.authority.as_bytes());
        request.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            request.extend_from_slice(name.as_bytes());
            request.extend_from_slice(b": ");
            request.extend_from_slice(value.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        if !body.is_empty() || method == "POST" {
            request.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);

        let reused = self.stream.is_some();
        match self.exchange(&request).await {
            Err(e) if reused && is_closed(&e) => {
                self.stream = None;
                self.exchange(&request).await
            }
            other => other,
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<Answer> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.authority).await?;
            // One write per request already; without this the kernel may still hold the last
            // segment back for an ACK.
            stream.set_nodelay(true)?;
            self.stream = Some(match &self.tls {
                None => Box::new(stream),
                Some(config) => {
                    let name = ServerName::try_from("localhost").expect("a DNS name");
                    let tls = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, stream)
                        .await?;
                    Box::new(tls)
                }
            });
            self.buf.clear();
        }
        let result = self.round_trip(request).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn round_trip(&mut self, request: &[u8]) -> io::Result<Answer> {
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(request).await?;
        self.buf.clear();
        // The head.
        let (status, headers, head_len) = loop {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut slots);
            match parsed.parse(&self.buf).map_err(invalid)? {
                httparse::Status::Complete(len) => {
                    let mut map = HeaderMap::with_capacity(parsed.headers.len());
                    for h in parsed.headers.iter() {
                        map.append(
                            HeaderName::from_bytes(h.name.as_bytes()).map_err(invalid)?,
                            HeaderValue::from_bytes(h.value).map_err(invalid)?,
                        );
                    }
                    break (parsed.code.unwrap_or(0), map, len);
                }
                httparse::Status::Partial => read_more(stream, &mut self.buf).await?,
            }
        };
        let close = headers
            .get("connection")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        // The body: by length, or chunked.
        let body = if let Some(len) = headers.get("content-length") {
            let len: usize = std::str::from_utf8(len.as_bytes())
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| invalid("content-length is not a number"))?;
            while self.buf.len() < head_len + len {
                read_more(stream, &mut self.buf).await?;
            }
            self.buf[head_len..head_len + len].to_vec()
        } else if headers
            .get("transfer-encoding")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"))
        {
            read_chunked(stream, &mut self.buf, head_len).await?
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            Vec::new()
        } else {
            // Neither length nor chunks: the body ends with the connection.
            while read_more(stream, &mut self.buf).await.is_ok() {}
            self.stream = None;
            self.buf[head_len..].to_vec()
        };
        if close {
            self.stream = None;
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

async fn read_more(stream: &mut Box<dyn Io>, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.reserve(8 * 1024);
    if stream.read_buf(buf).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    Ok(())
}

/// A chunked body starting at `at` in `buf`, read to its last chunk (trailers are skipped).
async fn read_chunked(
    stream: &mut Box<dyn Io>,
    buf: &mut Vec<u8>,
    at: usize,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut pos = at;
    loop {
        let line_end = loop {
            if let Some(i) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
                break pos + i;
            }
            read_more(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[pos..line_end]).map_err(invalid)?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(invalid)?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                if let Some(i) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
                    if i == 0 {
                        return Ok(body);
                    }
                    pos += i + 2;
                } else {
                    read_more(stream, buf).await?;
                }
            }
        }
        while buf.len() < pos + size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

fn invalid(e: impl ToString) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// A TLS client configuration that trusts `root` (DER) and, given one, presents `client`
/// (certificate DER, PKCS#8 key DER).
pub fn tls_config(root: &[u8], client: Option<(Vec<u8>, Vec<u8>)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(root.to_vec()))
        .expect("a usable root certificate");
    // The server's provider (idp/src/tls.rs says why ring, deprecated for lacking ML-KEM).
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            )
            .expect("a usable client certificate and key"),
    };
    Arc::new(config)
}
