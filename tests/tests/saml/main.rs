//! The SAML identity provider end to end, against `openpoort demo` (school 99ZZ00; publisher
//! demo-uitgeverij with a school-wide licence and the school's consent). Service providers are
//! registered from metadata with the operator command; responses are checked by samael acting
//! as the SP and by the `xmlsec1` command, never by openpoort's own code.

mod authn_context;
mod common;
mod idp_initiated;
mod logout;
mod metadata;
mod requests;
mod sp_settings;
mod sso;
