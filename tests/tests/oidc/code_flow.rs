//! The code flow with a real relying party: discovery, ID tokens and claims, nonce, pairwise sub.

use std::str::FromStr;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, ClientId, CsrfToken, IdToken, IssuerUrl, JsonWebKey,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use openpoort_e2e::{Browser, bram_signed_in, choose_99zz00, log_in_as_bram};

use crate::common::{
    AFTER_LOGOUT, Demo, PUBLISHER, back_at_client, code_for, demo, error_of, form_with, link, peek,
    rp_request,
};

const ACR_PASSWORD: &str = "urn:openpoort:acr:password";
const ACR_SCHOOL_NETWORK: &str = "urn:openpoort:acr:school-network";

/// What openpoort releases beyond the standard claims (and `sid` in ID tokens).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct SchoolClaims {
    #[serde(default)]
    eduperson_affiliation: Vec<String>,
    nl_edu_person_home_organization_id: Option<String>,
    nl_edu_person_home_organization_branch_id: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    jaargroep: Option<String>,
    sid: Option<String>,
}

impl AdditionalClaims for SchoolClaims {}

type SchoolIdToken = IdToken<
    SchoolClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Finn S. of Groep 5 signs in on the school network with the shortcut and his picture.
async fn finn_signed_in(d: &Demo) -> Browser {
    let mut b = d.browser();
    let groups = b.get(&format!("/s/{}", d.instelling_ref)).await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    let names = b.get(&link(&groups, "Groep 5 Uilen")).await;
    let pick = b
        .submit_form(&names, form_with(&names, "Finn S."), &[])
        .await;
    let done = b
        .submit_form(&pick, form_with(&pick, "alt=\"boom\""), &[])
        .await;
    assert_eq!(done.location(), Some("/"), "{}", done.body);
    b
}

#[tokio::test]
async fn relying_party_completes_the_code_flow_with_pkce() {
    let d = demo();
    let secret = d.confidential_client("rp-rekenrijk");
    let (rp, metadata) = d.relying_party("rp-rekenrijk", Some(&secret)).await;

    // The authorization request, as the relying party builds it.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Bram's browser follows it: login, school choice, back to the authorization request, back
    // to the client.
    let mut b = d.browser();
    let to_login = b.get(auth_url.as_str()).await;
    assert_eq!(to_login.status, 303, "{}", to_login.body);
    let login_path = to_login.location().unwrap().to_owned();
    assert!(login_path.starts_with("/inloggen?next="), "{login_path}");
    let logged_in = log_in_as_bram(&mut b, &login_path).await;
    let choose = logged_in.location().unwrap().to_owned();
    assert!(choose.starts_with("/school-kiezen?next="), "{choose}");
    let chosen = choose_99zz00(&mut b, &choose).await;
    let again = chosen.location().unwrap().to_owned();
    assert!(again.starts_with("/oidc/authorize?"), "{again}");
    let q = back_at_client(&b.get(&again).await);
    assert_eq!(q["state"], *csrf.secret(), "state comes back unchanged");
    assert_eq!(q["iss"], d.base(), "RFC 9207 iss");

    // The code for tokens.
    let token = d
        .exchange(&rp, &q["code"], verifier)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let id_token = token.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ID token does not verify: {e:?}"));
    assert_eq!(claims.issuer().as_str(), d.base());
    assert_eq!(claims.audiences()[0].as_str(), "rp-rekenrijk");
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some(ACR_PASSWORD)
    );
    assert!(claims.auth_time().is_some(), "auth_time");
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(
        *expected_hash, actual_hash,
        "at_hash matches the access token"
    );
    let sub = claims.subject().clone();

    // The pairwise subject and the released claims at userinfo.
    let info: openidconnect::UserInfoClaims<SchoolClaims, CoreGenderClaim> = rp
        .user_info(token.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("userinfo: {e:?}"));
    assert_eq!(info.subject(), &sub, "userinfo's sub is the ID token's");
    let school = info.additional_claims();
    assert_eq!(
        school.eduperson_affiliation,
        ["employee", "faculty"],
        "Bram teaches"
    );
    assert_eq!(
        school.nl_edu_person_home_organization_id.as_deref(),
        Some("99ZZ")
    );
    assert_eq!(
        school.nl_edu_person_home_organization_branch_id.as_deref(),
        Some("00")
    );
    assert!(info.email().is_none(), "email was not asked for");

    // Refresh: a new refresh token each time; the old one is refused.
    let first_refresh = token.refresh_token().expect("a refresh token").clone();
    let refreshed = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&d.http)
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));
    let second_refresh = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    // OIDC Core §12.2: a refreshed ID token has no nonce, and the same sub and auth_time.
    let new_claims = refreshed
        .id_token()
        .expect("an ID token with the refresh")
        .claims(&verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("a nonce in a refreshed ID token".to_owned()),
        })
        .unwrap_or_else(|e| panic!("refreshed ID token: {e:?}"));
    assert_eq!(
        new_claims.subject(),
        &sub,
        "the same pairwise sub after a refresh"
    );
    assert_eq!(new_claims.auth_time(), claims.auth_time());
    let old = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&d.http)
        .await;
    assert_eq!(error_of(old), CoreErrorResponseType::InvalidGrant);

    // RP-initiated logout with the ID token as hint: the session's own relying party, so no
    // confirmation; back to the registered address with the state.
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint");
    let logout = LogoutRequest::from(end_session)
        .set_id_token_hint(id_token)
        .set_client_id(ClientId::new("rp-rekenrijk".into()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(AFTER_LOGOUT.into()).unwrap())
        .set_state(CsrfToken::new("na-afmelden".into()))
        .http_get_url();
    let out = b.get(logout.as_str()).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location(),
        Some(&*format!("{AFTER_LOGOUT}?state=na-afmelden"))
    );
    assert_eq!(
        b.get("/").await.location(),
        Some("/inloggen"),
        "the session ended"
    );
}

#[tokio::test]
async fn discovery_and_jwks_parse_as_provider_metadata() {
    let d = demo();
    let metadata = ProviderMetadataWithLogout::discover_async(
        IssuerUrl::new(d.base().to_owned()).unwrap(),
        &d.http,
    )
    .await
    .unwrap_or_else(|e| panic!("discovery: {e:?}"));
    assert_eq!(metadata.issuer().as_str(), d.base());
    assert_eq!(
        metadata.authorization_endpoint().as_str(),
        d.url("/oidc/authorize")
    );
    assert_eq!(
        metadata.token_endpoint().map(|u| u.as_str().to_owned()),
        Some(d.url("/oidc/token"))
    );
    assert_eq!(
        metadata.userinfo_endpoint().map(|u| u.as_str().to_owned()),
        Some(d.url("/oidc/userinfo"))
    );
    assert_eq!(metadata.jwks_uri().as_str(), d.url("/oidc/jwks"));
    assert_eq!(
        metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|u| u.as_str().to_owned()),
        Some(d.url("/oidc/logout"))
    );
    let algs: Vec<String> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .map(|a| {
            serde_json::to_value(a)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(algs, ["RS256", "ES256"]);
    let subject_types: Vec<Value> = metadata
        .subject_types_supported()
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect();
    assert_eq!(subject_types, [json!("pairwise")]);

    // The keys discovery fetched: at least one RSA and one P-256 signing key, each with a kid
    // and an algorithm, and nothing private.
    let keys = metadata.jwks().keys();
    let kty = |k: &CoreJsonWebKey| serde_json::to_value(k.key_type()).unwrap();
    assert!(keys.iter().any(|k| kty(k) == json!("RSA")), "an RSA key");
    assert!(keys.iter().any(|k| kty(k) == json!("EC")), "an EC key");
    assert!(
        keys.iter().all(|k| k.key_id().is_some()),
        "every key has a kid"
    );
    let raw: Value = d.get_json("/oidc/jwks").await;
    for key in raw["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }

    // What openidconnect has no field for.
    let doc: Value = d.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["revocation_endpoint"], d.url("/oidc/revoke"));
    assert_eq!(doc["introspection_endpoint"], d.url("/oidc/introspect"));
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
}

#[tokio::test]
async fn es256_client_gets_es256_id_tokens() {
    let d = demo();
    let secret = d
        .add_client(PUBLISHER, "rp-es256-client", &["--alg", "ES256"])
        .expect("secret");
    let (rp, _) = d.relying_party("rp-es256-client", Some(&secret)).await;
    let mut b = bram_signed_in(d.base()).await;
    let (url, _csrf, nonce, verifier) = rp_request(&rp);
    let q = back_at_client(&b.get(url.as_str()).await);
    let token = d
        .exchange(&rp, &q["code"], verifier)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let id_token = token.id_token().expect("ID token");
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256
    );
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ES256 ID token does not verify: {e:?}"));
    let key = id_token.signing_key(&verifier).unwrap();
    assert_eq!(serde_json::to_value(key.key_type()).unwrap(), json!("EC"));
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        token.access_token(),
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        key,
    )
    .unwrap();
    assert_eq!(*expected, actual);
}

#[tokio::test]
async fn pupil_at_school_gets_id_token_with_school_network_acr() {
    let d = demo();
    let secret = d.confidential_client("rp-pupil-app");
    let (rp, _) = d.relying_party("rp-pupil-app", Some(&secret)).await;
    let mut b = finn_signed_in(&d).await;
    let (url, csrf, nonce, verifier) = rp_request(&rp);
    let q = back_at_client(&b.get(url.as_str()).await);
    assert_eq!(q["state"], *csrf.secret());
    let token = d
        .exchange(&rp, &q["code"], verifier)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let id_token =
        SchoolIdToken::from_str(&token.id_token().expect("ID token").to_string()).unwrap();
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token: {e:?}"));
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some(ACR_SCHOOL_NETWORK)
    );
    let school = claims.additional_claims();
    assert_eq!(school.eduperson_affiliation, ["student"]);
    assert_eq!(school.jaargroep.as_deref(), Some("5"));
    assert!(!school.groups.is_empty(), "his groups");
    assert_eq!(
        school.nl_edu_person_home_organization_id.as_deref(),
        Some("99ZZ")
    );
    assert!(
        claims.given_name().is_none(),
        "no names without the party's policy allowing them"
    );
}

#[tokio::test]
async fn nonce_is_echoed() {
    let d = demo();
    let secret = d.confidential_client("rp-nonce-app");
    let mut b = bram_signed_in(d.base()).await;
    let exchange = |code: String, verifier: String| {
        let (d, secret) = (&d, &secret);
        async move {
            let (status, body) = d.redeem("rp-nonce-app", secret, &code, &verifier).await;
            assert_eq!(status, 200, "{body}");
            peek(body["id_token"].as_str().unwrap())
        }
    };
    let nonce = "n-0S6_WzA2Mj+/=&é";
    let (code, verifier) = code_for(&d, &mut b, "rp-nonce-app", &[("nonce", nonce)]).await;
    assert_eq!(exchange(code, verifier).await["nonce"], nonce);
    // No nonce asked, none made up.
    let (code, verifier) = code_for(&d, &mut b, "rp-nonce-app", &[]).await;
    assert!(exchange(code, verifier).await.get("nonce").is_none());
}

#[tokio::test]
async fn pairwise_sub_differs_between_parties() {
    let d = demo();
    d.add_other_publisher();
    d.cli(&["consent", "grant", "--school", "99ZZ00", "--party", "ander"]);
    d.cli(&[
        "product",
        "add",
        "--party",
        "ander",
        "--code",
        "ander-methode",
        "--methode",
        "M",
        "--name",
        "P",
        "--launch-url",
        "https://ander.example/start",
    ]);
    d.cli(&[
        "licence",
        "add",
        "--school",
        "99ZZ00",
        "--party",
        "ander",
        "--product",
        "ander-methode",
        "--from",
        "2026-08-01",
    ]);
    let clients = [
        (PUBLISHER, "rp-demo-one"),
        (PUBLISHER, "rp-demo-two"),
        ("ander", "rp-ander-one"),
    ];
    let mut b = bram_signed_in(d.base()).await;
    let mut subs = Vec::new();
    for (party, client_id) in clients {
        let secret = d.add_client(party, client_id, &[]).expect("secret");
        let (code, verifier) = code_for(&d, &mut b, client_id, &[]).await;
        let (status, body) = d.redeem(client_id, &secret, &code, &verifier).await;
        assert_eq!(status, 200, "{client_id}: {body}");
        subs.push(peek(body["id_token"].as_str().unwrap())["sub"].clone());
    }
    assert_eq!(subs[0], subs[1], "one party's clients share its sector");
    assert_ne!(subs[0], subs[2], "another party gets another pseudonym");
}
