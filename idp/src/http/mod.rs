//! The HTTP layer below every front end (pages, OIDC, SAML, the admin API): responses every
//! one of them sends, the client's address, tokens and encodings. Nothing here knows a
//! protocol or a page; the front ends import from here, never the other way round.

pub mod client;
pub mod page;
pub mod token;

pub use client::{address_key, client_ip};
pub use page::{Text, internal_error, message, page, see_other};
pub use token::{cookie_value, random_token, sha256_hex, url_encode};
