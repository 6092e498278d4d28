//! OpenID Connect clients of a party. The body is the registration as `metadata` defines it
//! (OpenID Connect Dynamic Client Registration names), checked by the same rules as
//! `openpoort client add`; answers never carry the secret's hash, and a new secret only once.

use crate::http::extract::Path;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use metadata::client::ClientRegistration;
use serde_json::{Map, Value, json};

use super::{Admin, ApiError, PartyAdmin, Problem, created, ok, party_list, read_body};
use crate::app_state::AppState;
use crate::clients::{self, Registrar};

/// Far above a registration with a few inline keys and many redirect URIs.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A registration as the API shows it, with the secret when one was just made.
fn answer(registration: &ClientRegistration, secret: Option<String>) -> Value {
    let mut value = serde_json::to_value(registration).expect("a registration serialises");
    if let Some(s) = secret {
        value["client_secret"] = Value::String(s);
    }
    value
}

/// The body as a registration. Fields the path decides (`party_id`, `client_id`) may be left
/// out; given, they must agree with the path. Unknown fields are refused: a misspelt optional
/// field would otherwise vanish without a word.
async fn registration(
    headers: &HeaderMap,
    body: Body,
    implied: &[(&str, &str)],
) -> Result<ClientRegistration, ApiError> {
    super::require_media_type(headers, &["application/json"])?;
    let bytes = read_body(headers, body, MAX_BODY_BYTES).await?;
    let mut object: Map<String, Value> = match serde_json::from_slice(&bytes) {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            return Err(ApiError::new(
                Problem::BadRequest,
                "De body moet een JSON-object zijn.",
                "The body must be a JSON object.",
            ));
        }
        Err(e) => {
            return Err(ApiError::new(
                Problem::BadRequest,
                format!("De body is geen geldige JSON: {e}"),
                format!("The body is not valid JSON: {e}"),
            ));
        }
    };
    for (field, value) in implied {
        match object.get(*field) {
            None => {
                object.insert((*field).to_owned(), Value::String((*value).to_owned()));
            }
            Some(Value::String(given)) if given == value => {}
            Some(given) => {
                return Err(ApiError::new(
                    Problem::Validation,
                    format!("{field} in de body ({given}) hoort bij een ander pad dan {value}; laat het weg of maak ze gelijk"),
                    format!("{field} in the body ({given}) does not match the path's {value}; leave it out or make them equal"),
                )
                .with_errors(vec![json!({
                    "field": field,
                    "pointer": format!("/{field}"),
                    "detail": format!("moet {value:?} zijn, zoals in het pad"),
                    "detail_en": format!("must be {value:?}, as in the path"),
                })]));
            }
        }
    }
    let registration: ClientRegistration = serde_json::from_value(Value::Object(object.clone()))
        .map_err(|e| {
            ApiError::new(
                Problem::Validation,
                format!("De body is geen geldige clientregistratie: {e}"),
                format!("The body is not a valid client registration: {e}"),
            )
            .with_errors(vec![json!({
                "detail": format!("{e}"),
                "detail_en": format!("{e}"),
            })])
        })?;
    let known = serde_json::to_value(&registration).expect("a registration serialises");
    let unknown: Vec<&String> = object
        .keys()
        .filter(|k| known.get(k.as_str()).is_none())
        .collect();
    if !unknown.is_empty() {
        let names = unknown
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ApiError::new(
            Problem::Validation,
            format!("Onbekende velden in de registratie: {names}"),
            format!("Unknown fields in the registration: {names}"),
        )
        .with_errors(
            unknown
                .iter()
                .map(|k| {
                    json!({
                        "field": k,
                        "pointer": format!("/{k}"),
                        "detail": "onbekend veld",
                        "detail_en": "unknown field",
                    })
                })
                .collect(),
        ));
    }
    Ok(registration)
}

pub async fn list(
    PartyAdmin { party, .. }: PartyAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let clients = clients::of_party(&state.directory, &party.id).await?;
    let list = clients.iter().map(|c| answer(c, None));
    Ok(party_list(&party, "oidc_clients", list))
}

pub async fn create(
    PartyAdmin { op, party }: PartyAdmin,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let registration = registration(&headers, body, &[("party_id", &party.id)]).await?;
    let secret = Registrar::remote(&op.actor)
        .register(&state.directory, &registration, state.api.development)
        .await?;
    Ok(created(
        &state,
        &format!("/oidc-clients/{}", registration.client_id),
        answer(&registration, secret),
    ))
}

pub async fn show(
    _admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    let registration = clients::load(&state.directory, &client_id).await?;
    Ok(ok(answer(&registration, None)))
}

pub async fn replace(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let before = clients::load(&state.directory, &client_id).await?;
    let registration = registration(
        &headers,
        body,
        &[("client_id", &client_id), ("party_id", &before.party_id)],
    )
    .await?;
    let secret = Registrar::remote(&admin.actor)
        .update(&state.directory, &registration, state.api.development)
        .await?;
    Ok(ok(answer(&registration, secret)))
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    Registrar::remote(&admin.actor)
        .delete(&state.directory, &state.state, &client_id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn rotate_secret(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    let secret = Registrar::remote(&admin.actor)
        .rotate_secret(&state.directory, &client_id)
        .await?;
    Ok(ok(json!({"client_id": client_id, "client_secret": secret})))
}
