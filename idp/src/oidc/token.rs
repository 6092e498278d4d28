//! The token endpoint: authorization_code (single use; a replay ends everything it issued),
//! refresh_token (rotated; reuse of an old one ends the family) and client_credentials.

use std::collections::HashMap;

use crate::clock::unix_now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use broker::{Decision, ReleaseRequest};
use metadata::client::GrantType;

use super::client_auth::AuthenticatedClient;
use super::{
    OidcError, claims_of, json_no_store, new_token, oauth_error, requested_attributes, server_error,
};
use crate::app_state::AppState;
use crate::grants::{
    ACCESS_TOKEN_TTL, AccessGrant, Client, CodeGrant, Ended, GrantSubject, ID_TOKEN_TTL,
    REFRESH_TOKEN_TTL, RefreshGrant, access_key, code_key, code_used_key, ended_by_deletion,
    grant_ended, put_json, refresh_key, refresh_used_key, revoke_family,
};
use crate::session::Who;
use crate::state::StateStore;

fn invalid_grant(why: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why)
}

pub async fn token(
    State(state): State<AppState>,
    AuthenticatedClient { client, form }: AuthenticatedClient,
) -> Response {
    let result = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") if client.registration.allows(GrantType::AuthorizationCode) => {
            authorization_code(&state, &client, &form).await
        }
        Some("refresh_token") if client.registration.allows(GrantType::RefreshToken) => {
            refresh(&state, &client, &form).await
        }
        Some("client_credentials") if client.registration.allows(GrantType::ClientCredentials) => {
            client_credentials(&state, &client, &form).await
        }
        Some("authorization_code" | "refresh_token" | "client_credentials") => Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "this client may not use this grant type",
        )),
        _ => Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant_type",
        )),
    };
    let mut response = result.unwrap_or_else(server_error);
    super::cors::allow_client(&mut response, &client);
    response
}

/// PKCE S256: BASE64URL(SHA256(verifier)) == challenge (RFC 7636 §4.6).
fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    valid
        && computed.len() == challenge.len()
        && openssl::memcmp::eq(computed.as_bytes(), challenge.as_bytes())
}

/// A code or a refresh token's grant, the two things a client redeems.
trait Redeemed: serde::de::DeserializeOwned {
    fn client_id(&self) -> &str;
    fn family(&self) -> &str;
}

impl Redeemed for CodeGrant {
    fn client_id(&self) -> &str {
        &self.client_id
    }
    fn family(&self) -> &str {
        &self.family
    }
}

impl Redeemed for RefreshGrant {
    fn client_id(&self) -> &str {
        &self.client_id
    }
    fn family(&self) -> &str {
        &self.family
    }
}

/// Takes the grant a code or refresh token (`what`) names, at most once, for the client it was
/// issued to; otherwise the `invalid_grant` answer. A token that comes back after its use is a
/// replay: one of its two holders is not the client, so everything issued from it ends. So does
/// a token another client presents: it was stolen from the one it was issued to.
async fn redeem<G: Redeemed>(
    state: &AppState,
    client: &Client,
    key: &str,
    used_key: &str,
    what: &str,
) -> Result<Result<G, Response>, OidcError> {
    let Some(raw) = state.state.take(key).await? else {
        if let Some(family) = state.state.get(used_key).await? {
            revoke_family(state, &String::from_utf8_lossy(&family)).await?;
            tracing::warn!(client = %client.id(), "{what} used again; its token family is revoked");
        }
        return Ok(Err(invalid_grant(&format!(
            "the {what} is invalid, expired or already used"
        ))));
    };
    let grant: G = serde_json::from_slice(&raw)?;
    state
        .state
        .put(used_key, grant.family().as_bytes(), REFRESH_TOKEN_TTL)
        .await?;
    if grant.client_id() != client.id() {
        revoke_family(state, grant.family()).await?;
        return Ok(Err(invalid_grant(&format!(
            "the {what} was issued to another client"
        ))));
    }
    Ok(Ok(grant))
}

async fn authorization_code(
    state: &AppState,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Response, OidcError> {
    let Some(code) = form.get("code") else {
        return Ok(invalid_grant("code is missing"));
    };
    let grant: CodeGrant =
        match redeem(state, client, &code_key(code), &code_used_key(code), "code").await? {
            Ok(grant) => grant,
            Err(refused) => return Ok(refused),
        };
    if ended_by_deletion(state, client.id(), grant.issued_at).await? {
        revoke_family(state, &grant.family).await?;
        return Ok(invalid_grant(
            "the code was issued to a client that has since been deleted",
        ));
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        revoke_family(state, &grant.family).await?;
        return Ok(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&grant.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce_ok(verifier, challenge) => {}
        (None, None) => {}
        _ => {
            revoke_family(state, &grant.family).await?;
            return Ok(invalid_grant("PKCE verification failed"));
        }
    }
    let sub = pairwise(state, client, &grant.subject)?;
    let response = issue(
        state,
        client,
        &grant.subject,
        &sub,
        grant.scopes,
        grant.claims,
        Some((&grant.family, grant.issued_at)),
        grant.nonce.as_deref(),
        Some(code),
    )
    .await?;
    Ok(response)
}

async fn refresh(
    state: &AppState,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Response, OidcError> {
    let Some(token) = form.get("refresh_token") else {
        return Ok(invalid_grant("refresh_token is missing"));
    };
    let grant: RefreshGrant = match redeem(
        state,
        client,
        &refresh_key(token),
        &refresh_used_key(token),
        "refresh token",
    )
    .await?
    {
        Ok(grant) => grant,
        Err(refused) => return Ok(refused),
    };
    match grant_ended(state, client.id(), grant.issued_at, Some(&grant.family)).await? {
        Some(Ended::Family) => return Ok(invalid_grant("the refresh token was revoked")),
        Some(Ended::Client) => {
            revoke_family(state, &grant.family).await?;
            return Ok(invalid_grant(
                "the refresh token was issued to a client that has since been deleted",
            ));
        }
        None => {}
    }
    // A staff member's tokens live no longer than their sessions: a password change, "log out
    // everywhere", a deactivation or a removal by import moved the epoch they were issued under.
    if !crate::grants::staff_sessions_stand(state, &grant.subject.who, grant.subject.context)
        .await?
    {
        revoke_family(state, &grant.family).await?;
        return Ok(invalid_grant(
            "the session this refresh token belongs to has ended",
        ));
    }
    // Decide again: a revoked consent, an expired licence or a deactivated account ends the
    // refresh at once.
    let requested = requested_attributes(&grant.scopes);
    let sector = client.sector();
    let decision = state
        .broker
        .decide(
            &ReleaseRequest {
                network: grant.subject.network.as_deref(),
                subject: grant.subject.broker_subject(),
                school_id: &grant.subject.school_id,
                party_id: &client.registration.party_id,
                product_id: None,
                requested: Some(&requested),
                context: grant.subject.context,
                sector: Some(&sector),
            },
            unix_now(),
        )
        .await?;
    let release = match decision {
        Decision::Allow(r) => r,
        Decision::Deny(_) => {
            revoke_family(state, &grant.family).await?;
            return Ok(invalid_grant(
                "the school's rules no longer allow this login",
            ));
        }
    };
    let sub = release.subject().to_owned();
    issue(
        state,
        client,
        &grant.subject,
        &sub,
        grant.scopes,
        claims_of(&release),
        Some((&grant.family, grant.issued_at)),
        None,
        None,
    )
    .await
}

async fn client_credentials(
    state: &AppState,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Response, OidcError> {
    // Only scopes the client registered, and never openid: there is no user here. A scope
    // openpoort does not know asks for nothing and is ignored, as at the authorization
    // endpoint; so is offline_access, since client credentials issue no refresh token.
    let mut granted: Vec<String> = Vec::new();
    for scope in form
        .get("scope")
        .map(String::as_str)
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        let known =
            metadata::scopes::is_known_scope(scope) && scope != metadata::scopes::OFFLINE_ACCESS;
        if !known {
            continue;
        }
        if scope == "openid" || !client.registration.scopes.iter().any(|s| s == scope) {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                &format!("scope {scope} is not available to this client"),
            ));
        }
        if !granted.iter().any(|g| g == scope) {
            granted.push(scope.to_owned());
        }
    }
    let requested = granted;
    let t = unix_now();
    let token = new_token();
    let grant = AccessGrant {
        client_id: client.id().to_owned(),
        party_id: client.registration.party_id.clone(),
        scopes: requested.clone(),
        sub: client.id().to_owned(),
        claims: Map::new(),
        issued_at: t,
        expires_at: t + ACCESS_TOKEN_TTL.as_secs() as i64,
        family: None,
        staff: None,
        staff_context: broker::Context::Password,
    };
    put_json(state, &access_key(&token), &grant, ACCESS_TOKEN_TTL).await?;
    let mut body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL.as_secs(),
    });
    // RFC 6749 5.1 has scope as a list of one or more values: a token with none leaves the
    // member out rather than sending an empty string strict clients refuse.
    if !requested.is_empty() {
        body["scope"] = json!(requested.join(" "));
    }
    Ok(json_no_store(StatusCode::OK, body))
}

/// The pairwise `sub` of a grant's user for this client.
fn pairwise(
    state: &AppState,
    client: &Client,
    subject: &GrantSubject,
) -> Result<String, OidcError> {
    Ok(state
        .broker
        .pseudonym(&client.sector(), subject.user_id())?)
}

/// Access token, refresh token (when the client may refresh) and ID token. `family` is the
/// token family with the time it started.
#[allow(clippy::too_many_arguments)]
async fn issue(
    state: &AppState,
    client: &Client,
    subject: &GrantSubject,
    sub: &str,
    scopes: Vec<String>,
    claims: Map<String, Value>,
    family: Option<(&str, i64)>,
    nonce: Option<&str>,
    code: Option<&str>,
) -> Result<Response, OidcError> {
    let t = unix_now();
    let access = new_token();
    let grant = AccessGrant {
        client_id: client.id().to_owned(),
        party_id: client.registration.party_id.clone(),
        scopes: scopes.clone(),
        sub: sub.to_owned(),
        claims: claims.clone(),
        issued_at: t,
        expires_at: t + ACCESS_TOKEN_TTL.as_secs() as i64,
        family: family.map(|(f, _)| f.to_owned()),
        staff: matches!(subject.who, Who::Staff { .. }).then(|| subject.who.clone()),
        staff_context: subject.context,
    };
    put_json(state, &access_key(&access), &grant, ACCESS_TOKEN_TTL).await?;

    let refresh = match (family, client.registration.allows(GrantType::RefreshToken)) {
        (Some((f, started)), true) => {
            let token = new_token();
            let grant = RefreshGrant {
                client_id: client.id().to_owned(),
                scopes: scopes.clone(),
                subject: subject.clone(),
                family: f.to_owned(),
                issued_at: started,
            };
            put_json(state, &refresh_key(&token), &grant, REFRESH_TOKEN_TTL).await?;
            Some(token)
        }
        _ => None,
    };

    let mut id = Map::new();
    id.insert("iss".into(), json!(state.web.public_url));
    id.insert("aud".into(), json!(client.id()));
    id.insert("azp".into(), json!(client.id()));
    id.insert("iat".into(), json!(t));
    id.insert("exp".into(), json!(t + ID_TOKEN_TTL.as_secs() as i64));
    id.insert("auth_time".into(), json!(subject.auth_time));
    id.insert("acr".into(), json!(subject.acr()));
    let amr = subject.amr();
    if !amr.is_empty() {
        id.insert("amr".into(), json!(amr));
    }
    id.insert("sid".into(), json!(subject.sid));
    if let Some(n) = nonce {
        id.insert("nonce".into(), json!(n));
    }
    id.insert("at_hash".into(), json!(metadata::jose::half_hash(&access)));
    if let Some(c) = code {
        id.insert("c_hash".into(), json!(metadata::jose::half_hash(c)));
    }
    for (k, v) in claims {
        id.insert(k, v);
    }
    // `sub` last, so that no released claim can stand in for it.
    id.insert("sub".into(), json!(sub));
    let key = state
        .keys
        .current_signing_key(client.registration.id_token_signed_response_alg)
        .await?;
    let id_token = metadata::jose::sign(&key, "JWT", &Value::Object(id))?;

    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL.as_secs(),
        "id_token": id_token,
        "scope": scopes.join(" "),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    Ok(json_no_store(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::pkce_ok;

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        // RFC 7636, Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_ok(verifier, challenge));
        assert!(
            !pkce_ok(challenge, challenge),
            "the challenge itself (plain) is refused"
        );
        assert!(!pkce_ok("short", challenge));
    }
}
