//! The partner API on its own mutual-TLS listener: who may connect and how, and what a party
//! sees of the schools that consented to it (Basispoort's `rest/v2` paths).

mod common;
mod institutions;
mod lika;
mod outage;
mod permission;
mod roster;
mod tls;
