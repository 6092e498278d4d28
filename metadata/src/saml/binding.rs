//! The HTTP-Redirect (DEFLATE + base64 in the query) and HTTP-POST (base64 in a form) bindings.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use super::SamlError;
use super::dom::Limits;

fn decode_base64(b64: &str) -> Result<Vec<u8>, SamlError> {
    // Base64 is 4/3 of the message; refusing early keeps a huge parameter from being decoded.
    let limit = Limits::MESSAGE.max_bytes * 4 / 3 + 4;
    if b64.len() > limit {
        return Err(SamlError::TooLarge {
            size: b64.len() * 3 / 4,
            limit: Limits::MESSAGE.max_bytes,
        });
    }
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|_| SamlError::Malformed("the SAML parameter is not base64".into()))
}

/// A POST-binding parameter to the XML it carries.
pub fn decode_post(b64: &str) -> Result<Vec<u8>, SamlError> {
    decode_base64(b64)
}

/// A Redirect-binding parameter to XML. Inflation stops at the message limit, so a small
/// compressed bomb cannot make the server inflate gigabytes.
pub fn decode_redirect(b64: &str) -> Result<Vec<u8>, SamlError> {
    let compressed = decode_base64(b64)?;
    let limit = Limits::MESSAGE.max_bytes;
    let mut out = Vec::new();
    DeflateDecoder::new(compressed.as_slice())
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::Malformed("the SAML parameter is not DEFLATE-compressed".into()))?;
    if out.len() > limit {
        return Err(SamlError::TooLarge {
            size: out.len(),
            limit,
        });
    }
    Ok(out)
}

pub fn encode_post(xml: &str) -> String {
    STANDARD.encode(xml.as_bytes())
}

pub fn encode_redirect(xml: &str) -> String {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(xml.as_bytes())
        .and_then(|()| encoder.finish())
        .map(|deflated| STANDARD.encode(deflated))
        .expect("deflating into memory does not fail")
}

/// The raw (still URL-encoded) values of a query string, for Redirect signatures: SAML
/// Bindings 3.4.4.1 signs the parameters exactly as sent.
pub fn raw_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The octets a Redirect-binding signature covers, for a message parameter `kind`
/// (`SAMLRequest` or `SAMLResponse`).
pub fn redirect_signed_octets(query: &str, kind: &str) -> Option<String> {
    let message = raw_param(query, kind)?;
    let sig_alg = raw_param(query, "SigAlg")?;
    let mut octets = format!("{kind}={message}");
    if let Some(relay) = raw_param(query, "RelayState") {
        octets.push_str(&format!("&RelayState={relay}"));
    }
    octets.push_str(&format!("&SigAlg={sig_alg}"));
    Some(octets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_encoding_round_trips() {
        let xml = "<samlp:AuthnRequest/>";
        assert_eq!(
            decode_redirect(&encode_redirect(xml)).unwrap(),
            xml.as_bytes()
        );
    }

    #[test]
    fn a_deflate_bomb_is_refused_at_the_limit() {
        let huge = " ".repeat(10 * 1024 * 1024);
        let b64 = encode_redirect(&huge);
        assert!(b64.len() < 64 * 1024, "the bomb itself is small");
        assert!(matches!(
            decode_redirect(&b64),
            Err(SamlError::TooLarge { .. })
        ));
    }

    #[test]
    fn signed_octets_keep_the_binding_order_and_raw_encoding() {
        let q = "SigAlg=alg%3A1&SAMLRequest=abc%2B&Signature=s&RelayState=r%20s";
        assert_eq!(
            redirect_signed_octets(q, "SAMLRequest").unwrap(),
            "SAMLRequest=abc%2B&RelayState=r%20s&SigAlg=alg%3A1"
        );
    }
}
