//! A client registered on the operator's pages is a client like any other: a relying party
//! with the secret the answer page showed once completes the code flow.

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, TokenResponse};

use openpoort_e2e::{BRAM, bram_signed_in};

use crate::common::{PUBLISHER, REDIRECT, back_at_client, demo};

/// The text of the read-only secret field on the answer page.
fn shown_secret(body: &str) -> String {
    let field = &body[body.find("id=\"client_secret\"").expect("the secret field")..];
    let value = &field[field.find('>').expect("the field's end") + 1..];
    value[..value.find("</textarea>").expect("the secret")].to_owned()
}

#[tokio::test]
async fn a_client_an_operator_registers_on_the_page_completes_the_code_flow() {
    let d = demo();
    d.cli(&["operator", "grant", BRAM]);
    let mut bram = bram_signed_in(d.base()).await;
    let form = bram
        .get(&format!("/operator/partijen/{PUBLISHER}/oidc-clients"))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.field("csrf").unwrap();
    let answer = bram
        .post(
            &format!("/operator/partijen/{PUBLISHER}/oidc-clients"),
            &[
                ("csrf", &csrf),
                ("client_id", "rp-van-de-pagina"),
                ("name", "Rekenrijk via de pagina"),
                ("redirect_uris", &format!("{REDIRECT}\r\n")),
                ("post_logout_redirect_uris", ""),
                ("auth", "client_secret_basic"),
                ("grant", "authorization_code"),
                ("scope", "openid"),
                ("scope", "profile"),
                ("alg", "RS256"),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let secret = shown_secret(&answer.body);
    assert!(secret.len() >= 32, "{secret}");

    let (rp, _) = d.relying_party("rp-van-de-pagina", Some(&secret)).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let q = back_at_client(&bram.get(url.as_str()).await);
    assert_eq!(q["state"], *state.secret());
    let token = d
        .exchange(&rp, &q["code"], verifier)
        .await
        .unwrap_or_else(|e| panic!("token: {e:?}"));
    let claims = token
        .id_token()
        .expect("an ID token")
        .claims(&rp.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token does not verify: {e:?}"));
    assert_eq!(claims.audiences()[0].as_str(), "rp-van-de-pagina");
}
