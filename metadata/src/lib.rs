//! The federation registry: relying parties and upstream providers with their SAML metadata or
//! OIDC registration, and openpoort's own IdP metadata and discovery document.
//!
//! Empty on purpose until the protocol endpoints exist: nothing here may pretend to work.
