//! SAML HTTP-POST decoding: a form value of any shape is read or refused without a panic, line
//! breaks in the base64 do not change the message, and decode(encode(x)) gives x back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metadata::saml::AuthnRequest;
use metadata::saml::binding::{decode_post, encode_post};
use metadata::saml::dom::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(xml) = decode_post(text) {
        assert!(xml.len() <= Limits::MESSAGE.max_bytes + 3);
        if let Ok(request) = AuthnRequest::parse(&xml) {
            assert!(!request.id.is_empty() && !request.issuer.trim().is_empty());
        }
    }
    if text.len() <= Limits::MESSAGE.max_bytes {
        let encoded = encode_post(text);
        assert_eq!(
            decode_post(&encoded).expect("an encoded message decodes"),
            data
        );
        // SPs send base64 folded at 76 characters, with CR LF. Line breaks count towards the
        // size limit (checked before they are dropped), hence the margin.
        let folded: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        if text.len() <= Limits::MESSAGE.max_bytes * 9 / 10 {
            let folded = folded.join("\r\n");
            assert_eq!(decode_post(&folded).expect("folded base64 decodes"), data);
        }
    }
});
