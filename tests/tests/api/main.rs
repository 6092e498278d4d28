//! The admin REST API end to end, against `openpoort demo` (school 99ZZ00 and its second
//! location 99ZZ01; publisher demo-uitgeverij): an admin client registered by the operator on
//! the command line gets a token through client credentials and drives the API as a script
//! would; what the API registers is then used by a browser and a relying party.

mod access;
mod auth;
mod common;
mod edexml;
mod las_link;
mod oidc_clients;
mod party_certificates;
mod party_urls;
mod privacy;
mod pupils;
mod register;
mod saml_sps;
mod school_staff;
mod schools;
mod second_factor;
mod upstreams;
