//! OpenID Connect client registrations as the operator's command line and the admin API make
//! them: one set of rules for both. A registration is validated by the metadata crate, stored
//! as its JSON with only the SHA-256 of its secret, and every change is audited as the caller's
//! actor. A deleted client's tokens stop working at once.

use directory::oidc_clients::StoredClient;
use directory::{Actor, Directory, DirectoryError};
use metadata::client::{ClientRegistration, RegistrationError, TokenAuthMethod};

use crate::http::{random_token, sha256_hex};
use crate::state::{State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{} / {}", .0.message_nl(), .0)]
    Invalid(RegistrationError),
    #[error("{0}")]
    Directory(#[from] DirectoryError),
    #[error("session store: {0}")]
    State(#[from] StateError),
    #[error("stored client {client_id} does not parse: {error}")]
    Stored {
        client_id: String,
        error: serde_json::Error,
    },
}

impl ClientError {
    fn conflict(nl: String, en: String) -> ClientError {
        ClientError::Directory(DirectoryError::Conflict { nl, en })
    }
}

/// Whether clients of this method authenticate with a secret openpoort issues.
pub fn uses_secret(method: TokenAuthMethod) -> bool {
    matches!(
        method,
        TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
    )
}

fn not_found(client_id: &str) -> DirectoryError {
    DirectoryError::NotFound {
        what: "client",
        key: client_id.to_owned(),
    }
}

fn stored(registration: &ClientRegistration, secret_hash: Option<String>) -> StoredClient {
    StoredClient {
        client_id: registration.client_id.clone(),
        party_id: registration.party_id.clone(),
        registration: serde_json::to_string(registration)
            .expect("a registration always serialises"),
        secret_hash,
    }
}

/// A stored client's registration.
pub fn parse(stored: &StoredClient) -> Result<ClientRegistration, ClientError> {
    serde_json::from_str(&stored.registration).map_err(|error| ClientError::Stored {
        client_id: stored.client_id.clone(),
        error,
    })
}

pub async fn load(d: &Directory, client_id: &str) -> Result<ClientRegistration, ClientError> {
    let stored = d
        .oidc_client(client_id)
        .await?
        .ok_or_else(|| not_found(client_id))?;
    parse(&stored)
}

pub async fn of_party(
    d: &Directory,
    party_id: &str,
) -> Result<Vec<ClientRegistration>, ClientError> {
    d.oidc_clients_of_party(party_id)
        .await?
        .iter()
        .map(parse)
        .collect()
}

/// Registers a new client; returns its secret (to be shown once) for the secret methods.
pub async fn register(
    d: &Directory,
    registration: &ClientRegistration,
    development: bool,
    actor: &Actor,
) -> Result<Option<String>, ClientError> {
    registration
        .validate(development)
        .map_err(ClientError::Invalid)?;
    let secret = uses_secret(registration.token_endpoint_auth_method).then(random_token);
    d.create_oidc_client(
        &stored(registration, secret.as_deref().map(sha256_hex)),
        actor,
    )
    .await?;
    Ok(secret)
}

/// Replaces a client's registration. A client that moves to a secret method gets a new secret
/// (returned, to be shown once); one that moves away from them loses its secret; otherwise the
/// secret stays.
pub async fn update(
    d: &Directory,
    registration: &ClientRegistration,
    development: bool,
    actor: &Actor,
) -> Result<Option<String>, ClientError> {
    registration
        .validate(development)
        .map_err(ClientError::Invalid)?;
    let existing = d
        .oidc_client(&registration.client_id)
        .await?
        .ok_or_else(|| not_found(&registration.client_id))?;
    let (secret, hash) = match (
        uses_secret(registration.token_endpoint_auth_method),
        existing.secret_hash.is_some(),
    ) {
        (true, false) => {
            let s = random_token();
            let h = sha256_hex(&s);
            (Some(s), Some(Some(h)))
        }
        (false, true) => (None, Some(None)),
        _ => (None, None),
    };
    d.update_oidc_client(
        &stored(registration, None),
        hash.as_ref().map(|h| h.as_deref()),
        actor,
    )
    .await?;
    Ok(secret)
}

/// A new secret for a client that authenticates with one; the old one stops working at once.
pub async fn rotate_secret(
    d: &Directory,
    client_id: &str,
    actor: &Actor,
) -> Result<String, ClientError> {
    let registration = load(d, client_id).await?;
    if !uses_secret(registration.token_endpoint_auth_method) {
        return Err(ClientError::conflict(
            format!(
                "client {client_id} gebruikt geen client_secret maar {}; er is niets te vernieuwen",
                registration.token_endpoint_auth_method
            ),
            format!(
                "client {client_id} does not use a client secret but {}; there is nothing to rotate",
                registration.token_endpoint_auth_method
            ),
        ));
    }
    let secret = random_token();
    d.set_oidc_client_secret(client_id, &sha256_hex(&secret), actor)
        .await?;
    Ok(secret)
}

/// Deletes a client and ends every code and token issued to it. The tokens are ended first:
/// should the register then fail, the client still exists but holds no live token, which is
/// the safe half of a failed deletion.
pub async fn delete(
    d: &Directory,
    store: &State,
    client_id: &str,
    actor: &Actor,
) -> Result<(), ClientError> {
    if d.oidc_client(client_id).await?.is_none() {
        return Err(not_found(client_id).into());
    }
    crate::grants::end_client_tokens(store, client_id).await?;
    d.delete_oidc_client(client_id, actor).await?;
    Ok(())
}
