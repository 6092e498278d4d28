//! SAML HTTP-Redirect decoding: a query string of any shape is read or refused without a
//! panic, what it yields stays within the message limit and is what the signature covers, and
//! decode(encode(x)) gives x back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metadata::saml::AuthnRequest;
use metadata::saml::binding::{RedirectQuery, decode_redirect, encode_redirect};
use metadata::saml::dom::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(query) = RedirectQuery::parse(text, "SAMLRequest") {
        if let Ok(xml) = query.message_xml() {
            assert!(xml.len() <= Limits::MESSAGE.max_bytes);
            let _ = AuthnRequest::parse(&xml);
        }
        if let Some(octets) = query.signed_octets() {
            assert!(octets.starts_with("SAMLRequest="), "{octets}");
            assert!(query.sig_alg().is_some());
        }
        let _ = (query.relay_state(), query.signature());
    }
    // The fuzzer's bytes as a bare parameter value, and as a message to encode.
    if let Ok(xml) = decode_redirect(text) {
        assert!(xml.len() <= Limits::MESSAGE.max_bytes);
    }
    if text.len() <= Limits::MESSAGE.max_bytes {
        let decoded = decode_redirect(&encode_redirect(text)).expect("an encoded message decodes");
        assert_eq!(decoded, text.as_bytes());
    }
});
