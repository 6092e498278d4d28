//! The WebAuthn relying party for staff passkeys (issue #21), through webauthn-rs, which does
//! every check of a registration or an assertion (challenge, origin, RP id hash, user
//! verification, signature, counter); openpoort keeps its ceremonies in the state store
//! (`flow::passkey`) and its passkeys in the register.
//!
//! The relying party id is the host of `server.public_url` and the only origin accepted is that
//! URL's scheme, host and port: a passkey made for openpoort at `https://login.example.nl`
//! signs in there and nowhere else. Browsers offer WebAuthn only in a secure context and for a
//! domain name, so a public URL whose host is an IP address has no passkeys (the pages then do
//! not offer them), and `http://` works only for `localhost` (development, the tests).

use std::sync::Arc;

pub use webauthn_rs::Webauthn;
use webauthn_rs::prelude::Url;

/// The relying party for `public_url`, or why there is none.
pub fn relying_party(public_url: &str) -> Result<Arc<Webauthn>, String> {
    let url = Url::parse(public_url).map_err(|e| format!("{public_url}: {e}"))?;
    let Some(host) = url.domain() else {
        return Err(format!(
            "{public_url}: passkeys need a domain name, not an IP address"
        ));
    };
    let host = host.to_owned();
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|e| format!("{public_url}: {e}"))?;
    webauthn_rs::WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name("openpoort").build())
        .map(Arc::new)
        .map_err(|e| format!("{public_url}: {e}"))
}

/// base64url without padding, as credential ids are written in the register.
pub fn credential_id_text(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_host_and_origin() {
        assert!(relying_party("https://login.example.nl").is_ok());
        assert!(relying_party("https://login.example.nl/openpoort").is_ok());
        assert!(relying_party("http://localhost:8080").is_ok());
        assert!(relying_party("http://127.0.0.1:8080").is_err(), "no domain");
        assert!(relying_party("https://[::1]").is_err(), "no domain");
    }
}
