//! The federation registry's protocol-level pieces. OpenID Connect: client registrations and
//! their validation, openpoort's discovery document, the JWK Set built from the key store, and
//! compact JWS/JWT signing and verification. SAML 2.0 ([`saml`]): service providers from their
//! metadata, the messages they send, and openpoort's signed metadata and responses.
//!
//! Nothing here touches storage or the network: the directory crate persists
//! [`ClientRegistration`] as JSON, and the server fetches a client's `jwks_uri` itself before
//! handing the key set to [`jose::verify`].

pub mod client;
pub mod discovery;
pub mod jose;
pub mod jwks;
pub mod saml;
pub mod scopes;

/// The pairwise sector of a relying party of party `party_id`: the party's own, or a sector of
/// its own *inside* the party's when it names one. A sector is a free name that nobody proves to
/// own, so it never reaches beyond its party: a client naming `party:<another party>` or another
/// party's custom sector would otherwise receive that party's pseudonyms and link its users.
/// Within a party, OIDC clients and SAML SPs that name the same sector share pseudonyms.
pub fn pairwise_sector(party_id: &str, custom: Option<&str>) -> String {
    match custom {
        Some(name) => format!("party:{party_id}/{name}"),
        None => format!("party:{party_id}"),
    }
}

pub use client::{ClientRegistration, GrantType, RegistrationError, TokenAuthMethod, UriRule};
pub use discovery::{ACR_HOME_CODE, ACR_PASSWORD, ACR_SCHOOL_NETWORK, discovery_document};
pub use jose::{JoseError, Verified, half_hash, peek_claims, sign, verify};
pub use jwks::{jwk, jwk_set};
pub use scopes::{ADMIN_SCOPE, API_SCOPES, PARTNER_SCOPE, SUPPORTED_SCOPES, attributes_for_scopes};
