//! The demo product as an OpenID Connect relying party: authorization code with PKCE (S256), a
//! state bound to the browser, a nonce, a client secret sent with HTTP Basic, and an ID token
//! accepted only after its signature and claims check out.

use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use std::time::Instant;

use super::{CLIENT_ID, DemoError, Pending, Product, SignedIn, signed_in};
use crate::http::{random_token, url_encode};

/// Clock difference tolerated between openpoort and the product (they share a machine here,
/// but a product elsewhere would not).
const SKEW_SECONDS: i64 = 60;

#[derive(Deserialize)]
pub struct Initiate {
    /// Third-party initiated login (OIDC Core §4): the issuer that sent the browser here.
    iss: Option<String>,
}

/// Starts a login, from the product's own button or from openpoort's portal tile.
pub async fn login(
    axum::extract::State(p): Product,
    Query(q): Query<Initiate>,
) -> Result<Response, DemoError> {
    // A login initiated by someone else than our issuer is not followed: it would send the
    // browser to an unknown server with our client id.
    if let Some(iss) = q.iss
        && iss != p.issuer
    {
        return Err(DemoError::Protocol(format!(
            "iss {iss:?} is not the issuer this product uses"
        )));
    }
    let state = random_token();
    let nonce = random_token();
    let verifier = random_token();
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    let location = format!(
        "{}/oidc/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={}&scope={}&state={state}&nonce={nonce}&code_challenge={challenge}&code_challenge_method=S256",
        p.issuer,
        url_encode(&p.redirect_uri()),
        url_encode("openid profile school groups"),
    );
    p.start(
        state,
        Pending::Oidc {
            nonce,
            verifier,
            at: Instant::now(),
        },
        &location,
    )
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The browser returns from openpoort: exchange the code, verify the ID token, show the user.
pub async fn callback(
    axum::extract::State(p): Product,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Result<Response, DemoError> {
    let state = q.state.ok_or(DemoError::Unknown)?;
    let Pending::Oidc {
        nonce, verifier, ..
    } = p.take(&state, &headers)?
    else {
        return Err(DemoError::Unknown);
    };
    if let Some(error) = q.error {
        return Err(DemoError::Refused(match q.error_description {
            Some(d) => format!("{error}: {d}"),
            None => error,
        }));
    }
    let code = q
        .code
        .ok_or_else(|| DemoError::Protocol("no code in the answer".into()))?;

    let discovery: Value = p
        .http
        .get(format!("{}/.well-known/openid-configuration", p.backend))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let endpoint = |name: &str| -> Result<String, DemoError> {
        let published = discovery[name]
            .as_str()
            .ok_or_else(|| DemoError::Protocol(format!("discovery has no {name}")))?;
        p.backend_url(published)
    };
    let redirect_uri = p.redirect_uri();
    let tokens = p
        .http
        .post(endpoint("token_endpoint")?)
        .basic_auth(CLIENT_ID, Some(&p.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await?;
    if !tokens.status().is_success() {
        let body: Value = tokens.json().await.unwrap_or(Value::Null);
        return Err(DemoError::Protocol(format!(
            "the token endpoint refused the code: {}",
            body["error"].as_str().unwrap_or("no error code")
        )));
    }
    let tokens: Value = tokens.json().await?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| DemoError::Protocol("no id_token".into()))?;
    let access_token = tokens["access_token"]
        .as_str()
        .ok_or_else(|| DemoError::Protocol("no access_token".into()))?;

    let jwks: Value = p
        .http
        .get(endpoint("jwks_uri")?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let verified = metadata::jose::verify(id_token, &jwks)
        .map_err(|e| DemoError::Protocol(format!("ID token: {e}")))?;
    let claims = verified.claims;
    check_claims(&claims, &p.issuer, &nonce, crate::clock::unix_now())?;

    // The rest of what the school released comes from userinfo, for the token just received.
    let userinfo: Value = p
        .http
        .get(endpoint("userinfo_endpoint")?)
        .bearer_auth(access_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if userinfo["sub"] != claims["sub"] {
        return Err(DemoError::Protocol(
            "userinfo is about another subject than the ID token".into(),
        ));
    }
    let mut received: Vec<(String, String)> = Vec::new();
    for source in [&claims, &userinfo] {
        if let Value::Object(map) = source {
            for (k, v) in map {
                if received.iter().all(|(seen, _)| seen != k) {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    received.push((k.clone(), text));
                }
            }
        }
    }
    received.sort();
    Ok(signed_in(SignedIn {
        protocol: "OpenID Connect",
        greeting: userinfo["given_name"]
            .as_str()
            .or(claims["given_name"].as_str())
            .map(str::to_owned),
        received,
    }))
}

/// The checks OIDC Core §3.1.3.7 asks of a client on a verified ID token.
fn check_claims(claims: &Value, issuer: &str, nonce: &str, now: i64) -> Result<(), DemoError> {
    let bad = |why: &str| Err(DemoError::Protocol(format!("ID token: {why}")));
    if claims["iss"].as_str() != Some(issuer) {
        return bad("iss is not the issuer");
    }
    let audience_ok = match &claims["aud"] {
        Value::String(a) => a == CLIENT_ID,
        Value::Array(list) => {
            list.iter().any(|a| a == CLIENT_ID)
                && (list.len() == 1 || claims["azp"].as_str() == Some(CLIENT_ID))
        }
        _ => false,
    };
    if !audience_ok {
        return bad("not addressed to this product");
    }
    match claims["exp"].as_i64() {
        Some(exp) if exp + SKEW_SECONDS > now => {}
        _ => return bad("expired"),
    }
    match claims["iat"].as_i64() {
        Some(iat) if iat <= now + SKEW_SECONDS => {}
        _ => return bad("issued in the future"),
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return bad("nonce does not match the login this browser started");
    }
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        return bad("no subject");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "http://localhost:8080";

    fn good() -> Value {
        json!({"iss": ISS, "aud": CLIENT_ID, "exp": 2_000, "iat": 1_000, "nonce": "n", "sub": "s"})
    }

    fn refused(change: impl FnOnce(&mut Value)) -> bool {
        let mut c = good();
        change(&mut c);
        check_claims(&c, ISS, "n", 1_500).is_err()
    }

    #[test]
    fn an_id_token_that_meets_every_check_is_accepted() {
        assert!(check_claims(&good(), ISS, "n", 1_500).is_ok());
    }

    #[test]
    fn an_id_token_from_another_issuer_is_refused() {
        assert!(refused(|c| c["iss"] = json!("http://elders.example")));
    }

    #[test]
    fn an_id_token_for_another_client_is_refused() {
        assert!(refused(|c| c["aud"] = json!("other-client")));
        assert!(refused(|c| c["aud"] = json!([CLIENT_ID, "other-client"])));
    }

    #[test]
    fn an_expired_id_token_is_refused() {
        assert!(refused(|c| c["exp"] = json!(1_400 - SKEW_SECONDS)));
    }

    #[test]
    fn an_id_token_with_another_nonce_is_refused() {
        assert!(refused(|c| c["nonce"] = json!("replayed")));
        assert!(refused(|c| {
            c.as_object_mut().unwrap().remove("nonce");
        }));
    }
}
