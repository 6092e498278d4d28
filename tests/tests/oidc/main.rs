//! The OpenID Connect provider end to end, against `openpoort demo` (school 99ZZ00; publisher
//! demo-uitgeverij with a school-wide licence and the school's consent): a real relying party
//! (the `openidconnect` crate, over this crate's reqwest client) for the flows, and raw HTTP for
//! what a well-behaved relying party never sends.
//!
//! Every test runs its own demo server in its own folder, with the server's real address as its
//! public URL: the issuer a relying party discovers must be the one it talks to.

mod authorize;
mod client_auth;
mod client_credentials;
mod code_flow;
mod codes;
mod common;
mod demo_product;
mod logout;
mod operator_pages;
mod pkce;
mod prompt;
mod refresh;
