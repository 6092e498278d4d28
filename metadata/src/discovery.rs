//! openpoort's OpenID Provider metadata (OpenID Connect Discovery 1.0 and RFC 8414), served at
//! `{issuer}/.well-known/openid-configuration`.

use serde_json::{Value, json};

use crate::scopes::{OFFLINE_ACCESS, SUPPORTED_SCOPES};

/// Authentication context: a pupil who signed in at school, from one of the school's IP ranges.
pub const ACR_SCHOOL_NETWORK: &str = "urn:openpoort:acr:school-network";
/// Authentication context: a pupil who signed in at home with a home code and pin.
pub const ACR_HOME_CODE: &str = "urn:openpoort:acr:home-code";
/// Authentication context: a staff member who signed in with e-mail address and password.
pub const ACR_PASSWORD: &str = "urn:openpoort:acr:password";
/// Authentication context: a staff member who signed in with e-mail address and password and
/// then a second factor (a code of their authenticator app, or a recovery code). It meets a
/// request for [`ACR_PASSWORD`] too.
pub const ACR_MFA: &str = "urn:openpoort:acr:mfa";
/// Authentication context: a user a network provider vouched for; the provider's party code
/// follows the prefix (`urn:openpoort:acr:network:moo`), so that a publisher sees who did.
pub const ACR_NETWORK_PREFIX: &str = "urn:openpoort:acr:network:";

/// Whether openpoort can issue `acr` as an authentication context class: one of its fixed
/// classes, or a network provider's (the prefix and a party code).
pub fn is_issued_acr(acr: &str) -> bool {
    [ACR_SCHOOL_NETWORK, ACR_HOME_CODE, ACR_PASSWORD, ACR_MFA].contains(&acr)
        || acr
            .strip_prefix(ACR_NETWORK_PREFIX)
            .is_some_and(|code| !code.is_empty())
}

/// How an authorization response may travel (OAuth 2.0 Multiple Response Type Encoding
/// Practices, OAuth 2.0 Form Post Response Mode); `query` is the default of the code flow.
pub const RESPONSE_MODES: [&str; 2] = ["query", "form_post"];

/// The `prompt` values openpoort answers (OIDC Core 3.1.2.1).
pub const PROMPT_VALUES: [&str; 4] = ["none", "login", "consent", "select_account"];

/// Where the discovery document is served, relative to the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Endpoint paths relative to the issuer; the server routes on the same constants so that the
/// document and the routes cannot drift apart.
pub const AUTHORIZATION_PATH: &str = "/oidc/authorize";
pub const TOKEN_PATH: &str = "/oidc/token";
pub const USERINFO_PATH: &str = "/oidc/userinfo";
pub const JWKS_PATH: &str = "/oidc/jwks";
pub const REVOCATION_PATH: &str = "/oidc/revoke";
pub const INTROSPECTION_PATH: &str = "/oidc/introspect";
pub const END_SESSION_PATH: &str = "/oidc/logout";

/// Claims openpoort may put in ID tokens and userinfo responses: the protocol claims, then the
/// catalogue's claims (the broker's `Attribute::oidc_claim`).
const CLAIMS_SUPPORTED: [&str; 22] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "at_hash",
    "c_hash",
    "sid",
    "eduperson_affiliation",
    "nl_edu_person_home_organization_id",
    "nl_edu_person_home_organization_branch_id",
    "groups",
    "jaargroep",
    "eck_id",
    "given_name",
    "family_name",
    "nl_edu_person_tussenvoegsels",
    "email",
];

/// The issuer as it appears in the document and must appear in every token's `iss`: without
/// trailing slashes, so that `{issuer}{path}` never holds a double slash and `https://a/` and
/// `https://a` name one issuer. The server must use this same value when it signs tokens.
pub fn canonical_issuer(issuer: &str) -> &str {
    issuer.trim_end_matches('/')
}

/// The discovery document for `issuer` (an https URL, checked by the server's configuration).
///
/// Only what openpoort implements is advertised: the authorization code flow with PKCE S256,
/// pairwise subjects, RS256 and ES256 signatures, back-channel logout; no request objects, no
/// claims parameter, no front-channel logout.
pub fn discovery_document(issuer: &str) -> Value {
    let issuer = canonical_issuer(issuer);
    let endpoint = |path: &str| format!("{issuer}{path}");
    let signing_algs = [
        certs::Algorithm::Rs256.as_str(),
        certs::Algorithm::Es256.as_str(),
    ];
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ];
    let mut scopes = SUPPORTED_SCOPES.to_vec();
    scopes.push(OFFLINE_ACCESS);
    json!({
        "issuer": issuer,
        "authorization_endpoint": endpoint(AUTHORIZATION_PATH),
        "token_endpoint": endpoint(TOKEN_PATH),
        "userinfo_endpoint": endpoint(USERINFO_PATH),
        "jwks_uri": endpoint(JWKS_PATH),
        "revocation_endpoint": endpoint(REVOCATION_PATH),
        "introspection_endpoint": endpoint(INTROSPECTION_PATH),
        "end_session_endpoint": endpoint(END_SESSION_PATH),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": RESPONSE_MODES,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": signing_algs,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        // RFC 7009 lets public clients revoke their own tokens; RFC 7662 introspection is for
        // authenticated resource servers only.
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algs,
        "introspection_endpoint_auth_methods_supported": &auth_methods[..3],
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algs,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "claim_types_supported": ["normal"],
        "acr_values_supported": [ACR_SCHOOL_NETWORK, ACR_HOME_CODE, ACR_PASSWORD, ACR_MFA],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "ui_locales_supported": ["nl", "en"],
        "prompt_values_supported": PROMPT_VALUES,
        "authorization_response_iss_parameter_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_document_names_every_endpoint_under_the_issuer() {
        for issuer in ["https://login.openpoort.nl", "https://login.openpoort.nl/"] {
            let doc = discovery_document(issuer);
            assert_eq!(doc["issuer"], "https://login.openpoort.nl");
            for (field, path) in [
                ("authorization_endpoint", "/oidc/authorize"),
                ("token_endpoint", "/oidc/token"),
                ("userinfo_endpoint", "/oidc/userinfo"),
                ("jwks_uri", "/oidc/jwks"),
                ("revocation_endpoint", "/oidc/revoke"),
                ("introspection_endpoint", "/oidc/introspect"),
                ("end_session_endpoint", "/oidc/logout"),
            ] {
                assert_eq!(
                    doc[field],
                    format!("https://login.openpoort.nl{path}"),
                    "{field}"
                );
            }
            assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
            assert_eq!(doc["subject_types_supported"], json!(["pairwise"]));
            assert_eq!(doc["response_types_supported"], json!(["code"]));
            assert_eq!(
                doc["id_token_signing_alg_values_supported"],
                json!(["RS256", "ES256"])
            );
            assert_eq!(
                doc["token_endpoint_auth_methods_supported"],
                json!([
                    "client_secret_basic",
                    "client_secret_post",
                    "private_key_jwt",
                    "none"
                ])
            );
            assert_eq!(
                doc["introspection_endpoint_auth_methods_supported"],
                json!([
                    "client_secret_basic",
                    "client_secret_post",
                    "private_key_jwt"
                ])
            );
            assert_eq!(
                doc["scopes_supported"],
                json!([
                    "openid",
                    "profile",
                    "email",
                    "eckid",
                    "school",
                    "groups",
                    "offline_access"
                ])
            );
            assert_eq!(
                doc["response_modes_supported"],
                json!(["query", "form_post"])
            );
            assert_eq!(
                doc["prompt_values_supported"],
                json!(["none", "login", "consent", "select_account"])
            );
            assert_eq!(
                doc["acr_values_supported"],
                json!([ACR_SCHOOL_NETWORK, ACR_HOME_CODE, ACR_PASSWORD, ACR_MFA])
            );
            assert_eq!(doc["request_parameter_supported"], false);
            assert_eq!(doc["backchannel_logout_supported"], true);
            assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
            let claims = doc["claims_supported"].as_array().unwrap();
            for claim in [
                "sub",
                "sid",
                "at_hash",
                "eck_id",
                "nl_edu_person_home_organization_id",
            ] {
                assert!(claims.contains(&json!(claim)), "{claim}");
            }
        }
        assert!(is_issued_acr(ACR_PASSWORD));
        assert!(is_issued_acr(ACR_MFA));
        assert!(is_issued_acr("urn:openpoort:acr:network:moo"));
        assert!(!is_issued_acr(ACR_NETWORK_PREFIX));
        assert!(!is_issued_acr("urn:mace:incommon:iap:silver"));
        // An issuer with a path keeps it, and a path prefix never doubles a slash.
        let doc = discovery_document("https://school.example/openpoort//");
        assert_eq!(doc["issuer"], "https://school.example/openpoort");
        assert_eq!(
            doc["token_endpoint"],
            "https://school.example/openpoort/oidc/token"
        );
    }
}
