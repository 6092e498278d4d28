//! redirect_uri registration and matching: a URI accepted at registration is an absolute https
//! URL whose raw text has `//` and a host after the scheme, matches itself exactly and nothing
//! that differs from it by a single byte or by what a URL parser would repair.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use metadata::client::{ClientRegistration, GrantType, TokenAuthMethod};

#[derive(Arbitrary, Debug)]
struct Input {
    registered: String,
    presented: String,
    development: bool,
}

fn registration(uri: &str) -> ClientRegistration {
    ClientRegistration {
        client_id: "fuzz-client".to_owned(),
        party_id: "party-1".to_owned(),
        name: "Fuzz".to_owned(),
        redirect_uris: vec![uri.to_owned()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: vec!["openid".to_owned()],
        token_endpoint_auth_method: TokenAuthMethod::ClientSecretBasic,
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: certs::Algorithm::Rs256,
        sector_identifier: None,
        backchannel_logout_uri: None,
        initiate_login_uri: None,
    }
}

fuzz_target!(|input: Input| {
    let r = registration(&input.registered);
    if r.validate(input.development).is_err() {
        return;
    }
    let uri = input.registered.as_str();
    let url = url::Url::parse(uri).expect("an accepted URI parses");
    assert!(url.host().is_some(), "{uri:?} has no host");
    assert!(
        url.scheme() == "https" || (input.development && url.scheme() == "http"),
        "{uri:?}"
    );
    assert!(url.fragment().is_none() && url.username().is_empty() && url.password().is_none());
    let after_scheme = uri.get(url.scheme().len()..).unwrap_or_default();
    assert!(
        after_scheme.starts_with("://") && !after_scheme[3..].starts_with('/'),
        "{uri:?}: no '//' and host in the raw text"
    );
    assert!(r.has_redirect_uri(uri));
    assert_eq!(r.has_redirect_uri(&input.presented), input.presented == uri);
    // What a parser would make of it is a different URI unless it is byte for byte the same.
    assert_eq!(r.has_redirect_uri(url.as_str()), url.as_str() == uri);
    let mut changed = uri.as_bytes().to_vec();
    let at = input.presented.len() % changed.len();
    changed[at] ^= 0x20;
    if let Ok(changed) = String::from_utf8(changed) {
        assert!(!r.has_redirect_uri(&changed), "{changed:?} matched {uri:?}");
    }
});
