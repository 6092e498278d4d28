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

/// The parameters of an HTTP-Redirect binding query string, read once. Each is kept exactly as
/// sent (still URL-encoded): the signature (SAML Bindings 3.4.4.1) covers those octets, and the
/// message is decoded from the very same octets, so what is verified is what is read. A SAML
/// parameter that appears twice is refused: with two copies, a verifier and a reader could each
/// pick a different one, and a validly signed query could carry an unsigned message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectQuery<'q> {
    kind: &'static str,
    message: &'q str,
    relay_state: Option<&'q str>,
    sig_alg: Option<&'q str>,
    signature: Option<&'q str>,
}

/// The parameter names the binding gives a meaning; others (an SP's own) are left alone.
const SAML_PARAMETERS: [&str; 5] = [
    "SAMLRequest",
    "SAMLResponse",
    "RelayState",
    "SigAlg",
    "Signature",
];

fn form_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl<'q> RedirectQuery<'q> {
    /// Reads `query` for a message parameter `kind` (`SAMLRequest` or `SAMLResponse`).
    pub fn parse(query: &'q str, kind: &'static str) -> Result<RedirectQuery<'q>, SamlError> {
        let mut found: [Option<&'q str>; 5] = [None; 5];
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            // Compared decoded, so that `SAML%52equest` is not a second, unnoticed SAMLRequest.
            let name = form_decode(raw_name);
            let Some(slot) = SAML_PARAMETERS.iter().position(|p| *p == name) else {
                continue;
            };
            if found[slot].is_some() {
                return Err(SamlError::invalid(format!(
                    "the {name} parameter appears more than once"
                )));
            }
            found[slot] = Some(raw_value);
        }
        let [request, response, relay_state, sig_alg, signature] = found;
        let message = match kind {
            "SAMLResponse" => response,
            _ => request,
        }
        .ok_or_else(|| SamlError::invalid(format!("the {kind} parameter is missing")))?;
        Ok(RedirectQuery {
            kind,
            message,
            relay_state,
            sig_alg,
            signature,
        })
    }

    /// The message's XML, inflated from the parameter's raw octets.
    pub fn message_xml(&self) -> Result<Vec<u8>, SamlError> {
        decode_redirect(&form_decode(self.message))
    }

    pub fn relay_state(&self) -> Option<String> {
        self.relay_state.map(form_decode)
    }

    pub fn sig_alg(&self) -> Option<String> {
        self.sig_alg.map(form_decode)
    }

    /// The base64 signature, `None` for an unsigned message.
    pub fn signature(&self) -> Option<String> {
        self.signature.map(form_decode)
    }

    /// The octets the signature covers, in the binding's order, as sent; `None` without SigAlg.
    pub fn signed_octets(&self) -> Option<String> {
        let sig_alg = self.sig_alg?;
        let mut octets = format!("{}={}", self.kind, self.message);
        if let Some(relay) = self.relay_state {
            octets.push_str(&format!("&RelayState={relay}"));
        }
        octets.push_str(&format!("&SigAlg={sig_alg}"));
        Some(octets)
    }
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
        let parsed = RedirectQuery::parse(q, "SAMLRequest").unwrap();
        assert_eq!(
            parsed.signed_octets().unwrap(),
            "SAMLRequest=abc%2B&RelayState=r%20s&SigAlg=alg%3A1"
        );
        assert_eq!(parsed.relay_state().as_deref(), Some("r s"));
        assert_eq!(parsed.sig_alg().as_deref(), Some("alg:1"));
    }

    #[test]
    fn a_duplicated_saml_parameter_is_refused() {
        let signed = "SAMLRequest=old&RelayState=r&SigAlg=a&Signature=s";
        for extra in [
            "&SAMLRequest=new",
            "&RelayState=other",
            "&SigAlg=b",
            "&Signature=t",
            "&SAML%52equest=new",
            "&SAMLRequest",
        ] {
            let q = format!("{signed}{extra}");
            assert!(
                matches!(
                    RedirectQuery::parse(&q, "SAMLRequest"),
                    Err(SamlError::Invalid(_))
                ),
                "{q}"
            );
        }
        // Parameters that are not the binding's are the SP's business.
        assert!(RedirectQuery::parse(&format!("{signed}&x=1&x=2"), "SAMLRequest").is_ok());
    }

    #[test]
    fn the_message_read_is_the_message_signed() {
        let xml = "<samlp:LogoutRequest/>";
        let b64 = encode_redirect(xml);
        let raw: String = url::form_urlencoded::byte_serialize(b64.as_bytes()).collect();
        let q = format!("SAMLRequest={raw}&SigAlg=a&Signature=s");
        let parsed = RedirectQuery::parse(&q, "SAMLRequest").unwrap();
        assert_eq!(parsed.message_xml().unwrap(), xml.as_bytes());
        assert!(parsed.signed_octets().unwrap().contains(&raw));
    }
}
