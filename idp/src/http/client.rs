//! Who is asking: the client's address behind trusted proxies, and the address a per-address
//! limit counts under.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use directory::model::Cidr;

use super::forwarded;
use crate::app_state::AppState;

/// The client's address as [`client_ip`] reads it, behind the configured trusted proxies.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = super::PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The accept loop puts the peer into every request (in-process tests: MockConnectInfo);
        // a request without one is a wiring fault, never answered as if from some address.
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|e| super::PageError::bug(format!("no peer address: {e}")))?;
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.web.trusted_proxies,
        )))
    }
}

/// The client's address as [`forwarded::client_ip_from`] reads it from the peer and every
/// `X-Forwarded-For` line.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let lines = headers.get_all("x-forwarded-for");
    forwarded::client_ip_from(peer.ip(), lines.iter().map(HeaderValue::as_bytes), trusted)
}

/// The address a per-address limit counts under. An IPv6 client usually holds a whole /64 and
/// can pick any address in it, so the /64 is what counts as one address; an IPv4 address (or an
/// IPv4-mapped IPv6 one) counts alone.
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    #[test]
    fn addresses_of_one_ipv6_64_count_as_one_address() {
        let key = |text: &str| super::address_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let ip = client_ip(peer("198.51.100.7"), &headers(&["192.0.2.1"]), &trusted);
        assert_eq!(ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_for_is_read_right_to_left_past_trusted_proxies() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client wrote 203.0.113.66 itself; the proxy chain added 192.0.2.1 and 10.1.1.1.
        let h = headers(&["203.0.113.66, 192.0.2.1", "10.1.1.1"]);
        let ip = client_ip(peer("10.0.0.5"), &h, &trusted);
        assert_eq!(ip, "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn malformed_forwarded_for_falls_back_to_the_peer() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let ip = client_ip(peer("10.0.0.5"), &headers(&["not-an-ip"]), &trusted);
        assert_eq!(ip, "10.0.0.5".parse::<IpAddr>().unwrap());
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_unreadable_entry_left_of_the_client_does_not_hide_the_client() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client wrote garbage itself; the proxy appended the address it saw.
        let h = headers(&["<script>, 192.0.2.1"]);
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("192.0.2.1"));
    }

    #[test]
    fn a_byte_that_is_not_text_in_the_clients_entry_does_not_hide_the_proxys_entry() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // The client sent a byte that is not text; the proxy appended 192.0.2.1 to its line.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"198.51.100.9\xff, 192.0.2.1").unwrap(),
        );
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("192.0.2.1"));
        // Where the unreadable entry is the one to be read, the client still does not choose.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"198.51.100.9, \xff10.2.3.4, 10.2.2.2").unwrap(),
        );
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("10.2.2.2"));
    }

    #[test]
    fn an_unreadable_entry_where_the_client_would_be_read_does_not_let_the_client_choose() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // Left of the unreadable entry everything is the client's own writing: 198.51.100.9
        // must not be taken. The nearest trusted hop (10.2.2.2) is what is known.
        for xff in [
            "198.51.100.9, unknown, 10.2.2.2",
            "198.51.100.9, , 10.2.2.2",
            "198.51.100.9, 192.0.2.1:notaport, 10.2.2.2",
        ] {
            let got = client_ip(peer("10.0.0.5"), &headers(&[xff]), &trusted);
            assert_eq!(got, ip("10.2.2.2"), "{xff}");
        }
        let h = headers(&["198.51.100.9, garbage"]);
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("10.0.0.5"));
    }

    #[test]
    fn forwarded_for_entries_with_ports_brackets_and_quotes_are_read() {
        let trusted = [
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("fd00::/8").unwrap(),
        ];
        for (xff, client) in [
            ("192.0.2.1:5678", "192.0.2.1"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("\"[2001:db8::1]:443\"", "2001:db8::1"),
            ("\"192.0.2.1\"", "192.0.2.1"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            // Proxies that add their own port are passed as proxies.
            (
                "203.0.113.66, 192.0.2.1:1234, 10.1.1.1:8080, [fd00::7]:443",
                "192.0.2.1",
            ),
        ] {
            let got = client_ip(peer("10.0.0.5"), &headers(&[xff]), &trusted);
            assert_eq!(got, ip(client), "{xff}");
        }
    }

    #[test]
    fn an_inside_client_behind_trusted_proxies_only_is_the_left_most() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let h = headers(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(client_ip(peer("10.0.0.5"), &h, &trusted), ip("10.9.9.9"));
    }
}
