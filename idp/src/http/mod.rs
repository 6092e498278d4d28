//! The HTTP layer below every front end (pages, OIDC, SAML, the admin API): responses every
//! one of them sends, the client's address, tokens and encodings. Nothing here knows a
//! protocol or a page; the front ends import from here, never the other way round.

pub mod client;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod oauth;
pub mod page;
pub mod problem;
pub mod token;

pub use client::{ClientIp, address_key, client_ip};
pub use csrf::{Csrf, NoFields, csrf_ok, csrf_refused, csrf_token};
pub use error::PageError;
pub use page::{Text, internal_error, message, page, see_other};
pub use token::{cookie_value, random_token, sha256_hex, url_encode};
