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

pub use client::{ClientRegistration, GrantType, RegistrationError, TokenAuthMethod, UriRule};
pub use discovery::{ACR_HOME_CODE, ACR_PASSWORD, ACR_SCHOOL_NETWORK, discovery_document};
pub use jose::{JoseError, Verified, half_hash, peek_claims, sign, verify};
pub use jwks::{jwk, jwk_set};
pub use scopes::{ADMIN_SCOPE, API_SCOPES, SUPPORTED_SCOPES, attributes_for_scopes};
