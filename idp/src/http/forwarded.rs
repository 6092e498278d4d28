//! The client's address from the peer and the `X-Forwarded-For` lines, on plain bytes.
//!
//! Kept free of everything but `std` and `directory`: the fuzz targets (fuzz/) compile this very
//! file, since an instrumented build of all of `idp` is too slow for them.

use std::net::{IpAddr, SocketAddr};

use directory::model::Cidr;

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy. Entries further left are
/// written by the client and prove nothing, so reading stops at the first entry that is not a
/// trusted proxy, whether it is an address or something unreadable: an unreadable entry there
/// gives the nearest trusted hop's address (skipping it would hand the choice to the client).
pub fn client_ip_from<'a>(
    peer: IpAddr,
    lines: impl IntoIterator<Item = &'a [u8]>,
    trusted: &[Cidr],
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Every entry in order, left to right over all the header's lines; `None` for one that
    // cannot be read. Lines are split as bytes, not read as text first: a proxy appends its
    // entry to the client's own line, and a byte the client wrote that is not text must spoil
    // only the client's entry, not hide the one the proxy appended after it.
    let entries: Vec<Option<IpAddr>> = lines
        .into_iter()
        .flat_map(|line| line.split(|&b| b == b','))
        .map(|entry| std::str::from_utf8(entry).ok().and_then(forwarded_address))
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        match entry {
            Some(ip) if is_trusted(*ip) => nearest = *ip,
            Some(ip) => return *ip,
            None => return nearest,
        }
    }
    // Every hop is a trusted proxy: the client is on the inside, and the left-most is it.
    nearest
}

/// One `X-Forwarded-For` entry as proxies write it: `192.0.2.1`, `192.0.2.1:5678`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`, any of them in double quotes.
pub fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or(entry);
    let ip = if let Ok(ip) = entry.parse::<IpAddr>() {
        ip
    } else if let Ok(socket) = entry.parse::<SocketAddr>() {
        socket.ip()
    } else {
        entry
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse::<std::net::Ipv6Addr>()
            .ok()?
            .into()
    };
    Some(ip.to_canonical())
}
