//! What openpoort may fetch on its own initiative: SP metadata, clients' `jwks_uri`, LAS files and
//! back-channel logout. The URLs come from others (an SP's metadata, a client registration, a
//! LAS vendor), so without a policy openpoort is a way into the network it runs in: to the
//! cloud metadata service at 169.254.169.254, a database on 10.x, the admin port on loopback.
//!
//! One policy for all of them, in two places that must both hold:
//! - [`OutboundPolicy::check_url`], before any connection: https only (plain http only in
//!   development mode), no user name or password, no fragment, and a host written as an IP
//!   address must be an allowed one (a literal address is never handed to the resolver);
//! - the resolver of every client built by [`OutboundPolicy::client_builder`], which drops the
//!   addresses a host name resolves to that are not allowed, at the moment of connecting: a name
//!   that resolved to a public address when checked and to 127.0.0.1 a second later (DNS
//!   rebinding) still never reaches loopback.
//!
//! Loopback, private, link-local, shared (CGNAT), multicast and reserved ranges are not allowed,
//! unless the operator lists them in `outbound.allow_networks`; development mode also allows
//! loopback, where the test and demo services run. Redirects are never followed: the URL that
//! was checked is the one that answers. Errors of a failed connection say no more than that it
//! failed, so that a caller who may register a URL cannot map which ports are open.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;

use crate::model::Cidr;

/// Why an outbound fetch was not made or gave nothing usable. Dutch first, then English; never
/// the URL's query (a LAS vendor may put a school identifier in it) nor the cause of a failed
/// connection.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OutboundError {
    #[error("het adres is geen volledige URL / the address is not a full URL")]
    NotAUrl,
    #[error(
        "alleen https:// is toegestaan (http:// alleen in ontwikkelmodus) / only https:// is allowed (http:// only in development mode)"
    )]
    NotHttps,
    #[error(
        "zet geen gebruikersnaam of wachtwoord in het adres / put no user name or password in the address"
    )]
    UserInfo,
    #[error(
        "een adres met #fragment wordt niet opgehaald / an address with a #fragment is not fetched"
    )]
    Fragment,
    #[error(
        "{host} is of wijst naar een intern adres (loopback, privé, link-local); alleen een beheerder kan dat toestaan met outbound.allow_networks / {host} is or points to an internal address (loopback, private, link-local); only an operator can allow that with outbound.allow_networks"
    )]
    Disallowed { host: String },
    /// A refused connection, a silent port and a garbled answer alike: telling them apart
    /// would tell whoever registered the URL which ports are open.
    #[error(
        "geen verbinding of geen bruikbaar antwoord binnen {seconds} s / no connection or no usable answer within {seconds} s"
    )]
    Unreachable { seconds: u64 },
    #[error("het antwoord was HTTP {status} / the answer was HTTP {status}")]
    Status { status: u16 },
    #[error(
        "het antwoord is groter dan {limit} bytes en is niet gelezen / the answer is larger than {limit} bytes and was not read"
    )]
    TooLarge { limit: usize },
    #[error("de HTTP-client kan niet worden gemaakt / the HTTP client cannot be built: {0}")]
    Client(String),
}

/// The operator's allowance and the mode. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundPolicy {
    development: bool,
    allow_networks: Arc<Vec<Cidr>>,
}

/// The resolver's refusal, found again in a reqwest error's sources.
#[derive(Debug, Error)]
#[error("{host}: no allowed address")]
struct NoAllowedAddress {
    host: String,
}

impl OutboundPolicy {
    pub fn new(development: bool, allow_networks: Vec<Cidr>) -> OutboundPolicy {
        OutboundPolicy {
            development,
            allow_networks: Arc::new(allow_networks),
        }
    }

    /// Whether a connection to `ip` may be made.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if self.allow_networks.iter().any(|n| n.contains(ip)) {
            return true;
        }
        if self.development && ip.is_loopback() {
            return true;
        }
        !internal(ip)
    }

    /// Checks a URL before anything is connected to; the parsed URL to fetch.
    pub fn check_url(&self, raw: &str) -> Result<url::Url, OutboundError> {
        let url = url::Url::parse(raw).map_err(|_| OutboundError::NotAUrl)?;
        if url.fragment().is_some() {
            return Err(OutboundError::Fragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OutboundError::UserInfo);
        }
        match url.scheme() {
            "https" => {}
            "http" if self.development => {}
            _ => return Err(OutboundError::NotHttps),
        }
        let literal = match url.host() {
            None => return Err(OutboundError::NotAUrl),
            Some(url::Host::Domain(_)) => None,
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        };
        if let Some(ip) = literal
            && !self.allows(ip)
        {
            return Err(OutboundError::Disallowed {
                host: url.host_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(url)
    }

    /// A client builder that resolves through this policy, follows no redirects and uses no
    /// proxy from the environment (a proxy would connect on openpoort's behalf, past the check
    /// of the addresses).
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .dns_resolver(PolicyResolver {
                policy: self.clone(),
            })
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
    }

    /// A reqwest error as the policy's error: the resolver's refusal by name, and any other
    /// failure to connect or read (a timeout too) without its cause.
    pub fn describe(&self, e: &reqwest::Error, timeout: Duration) -> OutboundError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if let Some(refused) = s.downcast_ref::<NoAllowedAddress>() {
                return OutboundError::Disallowed {
                    host: refused.host.clone(),
                };
            }
            source = s.source();
        }
        OutboundError::Unreachable {
            seconds: timeout.as_secs(),
        }
    }

    /// GET `url` with `client` (built from [`Self::client_builder`]) and read at most `limit`
    /// bytes of a successful answer; a larger answer is refused without reading it further.
    pub async fn get_bounded(
        &self,
        client: &reqwest::Client,
        url: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, OutboundError> {
        let url = self.check_url(url)?;
        let response = client
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| self.describe(&e, timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(OutboundError::Status {
                status: status.as_u16(),
            });
        }
        self.read_bounded(response, limit, timeout).await
    }

    /// Reads an answer's body, refusing it once it passes `limit` bytes.
    pub async fn read_bounded(
        &self,
        mut response: reqwest::Response,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, OutboundError> {
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(OutboundError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.describe(&e, timeout))?
        {
            if body.len() + chunk.len() > limit {
                return Err(OutboundError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A client built within a policy, with the policy beside it: what a fetcher needs to check a
/// URL, fetch it and describe a failure. Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct Outbound {
    policy: OutboundPolicy,
    client: reqwest::Client,
    timeout: Duration,
}

impl Outbound {
    /// `timeout` is the longest any one request may take unless the request sets its own.
    pub fn new(
        policy: OutboundPolicy,
        user_agent: &str,
        timeout: Duration,
    ) -> Result<Outbound, OutboundError> {
        let client = policy
            .client_builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .build()
            .map_err(|e| OutboundError::Client(e.to_string()))?;
        Ok(Outbound {
            policy,
            client,
            timeout,
        })
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The longest a request of [`Self::client`] takes unless it sets its own: what
    /// [`OutboundPolicy::describe`] reports for a request that relied on it.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The client; check a URL with [`OutboundPolicy::check_url`] before sending to it.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// See [`OutboundPolicy::get_bounded`].
    pub async fn get_bounded(
        &self,
        url: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, OutboundError> {
        self.policy
            .get_bounded(&self.client, url, limit, timeout)
            .await
    }
}

/// Resolves with the system's resolver, then keeps only the addresses the policy allows.
struct PolicyResolver {
    policy: OutboundPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(NoAllowedAddress { host }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// An IPv4 address carried in IPv6 (mapped, compatible, NAT64, 6to4) as the IPv4 address it
/// reaches, so that `::ffff:127.0.0.1` is judged as 127.0.0.1.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else {
        return ip;
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    let o = v6.octets();
    let embedded_low = || Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    // IPv4-compatible (deprecated) ::a.b.c.d, but not :: and ::1 themselves.
    if s[..6] == [0; 6] && !v6.is_unspecified() && !v6.is_loopback() {
        return IpAddr::V4(embedded_low());
    }
    // NAT64 64:ff9b::/96.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return IpAddr::V4(embedded_low());
    }
    // 6to4 2002:a.b.c.d::/16.
    if s[0] == 0x2002 {
        return IpAddr::V4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    ip
}

/// Addresses that are not the public internet.
fn internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"; 0.0.0.0 reaches the local host
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> OutboundPolicy {
        OutboundPolicy::new(false, Vec::new())
    }

    #[test]
    fn internal_addresses_are_not_allowed_in_production() {
        let p = production();
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!p.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "145.100.190.1", "2a00:1450:400e:80c::200e"] {
            assert!(p.allows(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn development_allows_loopback_and_the_operator_allows_listed_networks() {
        let dev = OutboundPolicy::new(true, Vec::new());
        assert!(dev.allows("127.0.0.1".parse().unwrap()));
        assert!(dev.allows("::1".parse().unwrap()));
        assert!(!dev.allows("10.0.0.1".parse().unwrap()));
        assert!(!dev.allows("169.254.169.254".parse().unwrap()));
        let listed = OutboundPolicy::new(false, vec![Cidr::parse("10.20.0.0/16").unwrap()]);
        assert!(listed.allows("10.20.3.4".parse().unwrap()));
        assert!(listed.allows("::ffff:10.20.3.4".parse().unwrap()));
        assert!(!listed.allows("10.21.0.1".parse().unwrap()));
        assert!(!listed.allows("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        let p = production();
        let refused = [
            ("http://example.nl/md", OutboundError::NotHttps),
            ("ftp://example.nl/md", OutboundError::NotHttps),
            ("https://user:pw@example.nl/md", OutboundError::UserInfo),
            ("https://user@example.nl/md", OutboundError::UserInfo),
            ("https://example.nl/md#x", OutboundError::Fragment),
            ("/relative", OutboundError::NotAUrl),
        ];
        for (url, why) in refused {
            assert_eq!(p.check_url(url), Err(why), "{url}");
        }
        for url in [
            "https://127.0.0.1/md",
            "https://[::1]/md",
            "https://169.254.169.254/latest",
            "https://[::ffff:7f00:1]/md",
            "https://2130706433/md",
            "https://0x7f.1/md",
        ] {
            assert!(
                matches!(p.check_url(url), Err(OutboundError::Disallowed { .. })),
                "{url}"
            );
        }
        assert!(p.check_url("https://sp.example.nl/metadata?x=1").is_ok());
        let dev = OutboundPolicy::new(true, Vec::new());
        assert!(dev.check_url("http://127.0.0.1:8080/md").is_ok());
        assert!(matches!(
            dev.check_url("http://10.0.0.1/md"),
            Err(OutboundError::Disallowed { .. })
        ));
    }

    /// A server on loopback that counts its connections.
    async fn counting_server() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
        });
        (port, count)
    }

    #[tokio::test]
    async fn a_host_name_resolving_to_loopback_is_not_connected_to() {
        let (port, connections) = counting_server().await;
        // Plain http is a development allowance; the address check is the one under test.
        let policy = OutboundPolicy::new(true, Vec::new());
        let strict = OutboundPolicy {
            development: false,
            ..policy.clone()
        };
        let client = strict.client_builder().build().unwrap();
        // `localhost` passes the URL check (a name, not an address) and resolves to loopback.
        let url = format!("http://localhost:{port}/");
        let sent = client.get(&url).send().await.unwrap_err();
        assert!(
            matches!(
                strict.describe(&sent, Duration::from_secs(1)),
                OutboundError::Disallowed { .. }
            ),
            "{sent:?}"
        );
        assert_eq!(
            connections.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "nothing reached the server"
        );
        // The same with the operator's allowance, to show the server was there to be reached.
        let allowed = OutboundPolicy::new(
            false,
            vec![
                Cidr::parse("127.0.0.0/8").unwrap(),
                Cidr::parse("::1/128").unwrap(),
            ],
        );
        let client = allowed.client_builder().build().unwrap();
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(body, "ok");
    }

    #[tokio::test]
    async fn a_closed_port_and_a_silent_one_fail_alike() {
        let policy = OutboundPolicy::new(true, Vec::new());
        let client = policy.client_builder().build().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_port = silent.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        let mut errors = Vec::new();
        for port in [closed, silent_port] {
            let got = policy
                .get_bounded(
                    &client,
                    &format!("http://127.0.0.1:{port}/"),
                    100,
                    Duration::from_secs(1),
                )
                .await;
            errors.push(got.unwrap_err().to_string());
        }
        assert_eq!(errors[0], errors[1]);
        assert!(!errors[0].contains("refused") && !errors[0].contains("os error"));
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (target, reached) = counting_server().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{target}/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        let policy = OutboundPolicy::new(true, Vec::new());
        let client = policy.client_builder().build().unwrap();
        let got = policy
            .get_bounded(
                &client,
                &format!("http://127.0.0.1:{port}/"),
                100,
                Duration::from_secs(2),
            )
            .await;
        assert_eq!(got, Err(OutboundError::Status { status: 302 }));
        assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_refused() {
        let (port, _) = counting_server().await;
        let policy = OutboundPolicy::new(true, Vec::new());
        let client = policy.client_builder().build().unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        assert_eq!(
            policy
                .get_bounded(&client, &url, 1, Duration::from_secs(2))
                .await,
            Err(OutboundError::TooLarge { limit: 1 })
        );
        assert_eq!(
            policy
                .get_bounded(&client, &url, 2, Duration::from_secs(2))
                .await
                .unwrap(),
            b"ok"
        );
    }
}
