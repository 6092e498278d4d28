//! School IP ranges (CIDR) and the client's address behind trusted proxies (`X-Forwarded-For`).
//!
//! A range that parses prints as text that parses back to it, and holds an IPv4 client in
//! either spelling (a.b.c.d or ::ffff:a.b.c.d) alike. The client's address is the peer or an
//! address some entry of the header names; every entry right of it was written by a trusted
//! proxy; and what the client wrote on the left cannot change the answer unless every hop is a
//! trusted proxy (then the left-most entry is the client, by design).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use directory::model::Cidr;
use libfuzzer_sys::fuzz_target;
use openpoort_fuzz::forwarded::{client_ip_from, forwarded_address};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Written as text, or built from an address and a prefix.
    ranges: Vec<Range>,
    peer: Addr,
    /// The peer is the first address of the first range (a trusted proxy), not `peer`.
    peer_is_first_range: bool,
    /// Header lines, each of entries joined by ", ".
    lines: Vec<Vec<Entry>>,
    client_prefix: Vec<u8>,
    probe: u32,
}

/// An entry as proxies write one, or any bytes at all.
#[derive(Arbitrary, Debug)]
enum Entry {
    Addr(Addr, Form),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Form {
    Plain,
    Port(u16),
    Bracketed,
    Quoted,
}

impl Entry {
    fn write(&self, out: &mut Vec<u8>) {
        let text = match self {
            Entry::Raw(bytes) => return out.extend_from_slice(bytes),
            Entry::Addr(a, form) => match (a.ip(), form) {
                (ip, Form::Plain) => ip.to_string(),
                (IpAddr::V4(ip), Form::Port(p)) => format!("{ip}:{p}"),
                (IpAddr::V6(ip), Form::Port(p)) => format!("[{ip}]:{p}"),
                (IpAddr::V4(ip), Form::Bracketed) => ip.to_string(),
                (IpAddr::V6(ip), Form::Bracketed) => format!("[{ip}]"),
                (ip, Form::Quoted) => format!("\"{ip}\""),
            },
        };
        out.extend_from_slice(text.as_bytes());
    }
}

#[derive(Arbitrary, Debug)]
enum Range {
    Text(String),
    V4(u32, u8),
    V6(u128, u8),
    Mapped(u32, u8),
}

#[derive(Arbitrary, Debug)]
enum Addr {
    V4(u32),
    V6(u128),
    Mapped(u32),
}

impl Addr {
    fn ip(&self) -> IpAddr {
        match *self {
            Addr::V4(a) => Ipv4Addr::from(a).into(),
            Addr::V6(a) => Ipv6Addr::from(a).into(),
            Addr::Mapped(a) => Ipv4Addr::from(a).to_ipv6_mapped().into(),
        }
    }
}

fn network(bits: u128, width: u32, prefix: u8) -> u128 {
    let prefix = u32::from(prefix) % (width + 1);
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - prefix)) >> (128 - width)
    }
}

fn range(r: &Range) -> Option<Cidr> {
    let text = match r {
        Range::Text(t) => t.clone(),
        Range::V4(a, p) => {
            let p = u32::from(*p) % 33;
            format!(
                "{}/{p}",
                Ipv4Addr::from(network(u128::from(*a), 32, p as u8) as u32)
            )
        }
        Range::V6(a, p) => {
            let p = u32::from(*p) % 129;
            format!("{}/{p}", Ipv6Addr::from(network(*a, 128, p as u8)))
        }
        Range::Mapped(a, p) => {
            let p = u32::from(*p) % 33;
            let v4 = Ipv4Addr::from(network(u128::from(*a), 32, p as u8) as u32);
            format!("{}/{}", v4.to_ipv6_mapped(), 96 + p)
        }
    };
    Cidr::parse(&text).ok()
}

fuzz_target!(|input: Input| {
    let trusted: Vec<Cidr> = input.ranges.iter().filter_map(range).collect();
    let probe = Ipv4Addr::from(input.probe);
    for c in &trusted {
        let again: Cidr = c.to_string().parse().expect("a range's text parses");
        assert_eq!(again, *c);
        assert!(
            c.contains(c.network().network()),
            "{c} holds its first address"
        );
        assert_eq!(
            c.contains(probe.into()),
            c.contains(probe.to_ipv6_mapped().into()),
            "{c} and {probe} in its two spellings"
        );
    }

    let peer = match trusted.first() {
        Some(first) if input.peer_is_first_range => first.network().network(),
        _ => input.peer.ip(),
    };
    let lines: Vec<Vec<u8>> = input
        .lines
        .iter()
        .map(|entries| {
            let mut line = Vec::new();
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    line.extend_from_slice(b", ");
                }
                e.write(&mut line);
            }
            line
        })
        .collect();
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let got = client_ip_from(peer, lines.iter().copied(), &trusted);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        assert_eq!(got, peer, "the header of an untrusted peer was read");
        return;
    }
    let entries: Vec<Option<IpAddr>> = lines
        .iter()
        .flat_map(|l| l.split(|&b| b == b','))
        .map(|e| std::str::from_utf8(e).ok().and_then(forwarded_address))
        .collect();
    if got != peer {
        let at = entries
            .iter()
            .rposition(|e| *e == Some(got))
            .expect("the answer is an address the header names");
        assert!(
            entries[at + 1..].iter().all(|e| e.is_some_and(is_trusted)),
            "{got} was taken although an entry right of it is not a trusted proxy's"
        );
    }
    // The client writes the left part of the first line; the proxies append to it.
    let all_trusted = entries.iter().all(|e| e.is_some_and(is_trusted));
    if !all_trusted && !lines.is_empty() {
        let mut first = input.client_prefix.clone();
        first.push(b',');
        first.extend_from_slice(lines[0]);
        let mut prefixed: Vec<&[u8]> = vec![&first];
        prefixed.extend_from_slice(&lines[1..]);
        assert_eq!(
            client_ip_from(peer, prefixed.iter().copied(), &trusted),
            got,
            "what the client wrote on the left changed the answer"
        );
    }
});
