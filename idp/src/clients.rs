//! OpenID Connect client registrations as the operator's command line, the admin API and the
//! operator's pages make them: one set of rules for all three. A registration is validated by
//! the metadata crate, stored as its JSON with only the SHA-256 of its secret, and every change
//! is audited as the caller's actor. A deleted client's tokens stop working at once.
//!
//! Changes go through a [`Registrar`], which says where they come from and so which clients
//! are within reach: admin clients (scope `openpoort:admin`) only from the server itself.

use directory::oidc_clients::StoredClient;
use directory::{Actor, Directory, DirectoryError};
use metadata::client::{ClientRegistration, RegistrationError, TokenAuthMethod};
use metadata::scopes::ADMIN_SCOPE;

use crate::http::{random_token, sha256_hex};
use crate::state::{State, StateError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{} / {}", .0.message_nl(), .0)]
    Invalid(RegistrationError),
    /// A client holding the admin scope, or one that would, changed through the network.
    #[error("{} / {}", ClientError::ADMIN_SCOPE_RESERVED.0, ClientError::ADMIN_SCOPE_RESERVED.1)]
    AdminScopeReserved,
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
    /// Why an admin client is out of reach, in Dutch and in English.
    pub const ADMIN_SCOPE_RESERVED: (&str, &str) = (
        "Clients met scope openpoort:admin worden alleen door de beheerder gemaakt en beheerd, met 'openpoort client …' op de server.",
        "Clients with scope openpoort:admin are made and managed by the operator only, with 'openpoort client …' on the server.",
    );

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

/// Whether a registration holds the admin scope, which opens the admin API.
pub fn holds_admin_scope(registration: &ClientRegistration) -> bool {
    registration.scopes.iter().any(|s| s == ADMIN_SCOPE)
}

/// Where a change to the register of clients comes from, and so which clients it may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// The operator on the server: every client.
    Every,
    /// The admin API and the operator's pages: the parties' clients, not admin clients.
    PartyClients,
}

/// Makes, changes, re-keys and deletes clients for one caller. Made by the front end that
/// knows where the request came from: [`Registrar::on_server`] for `openpoort client …` (and
/// the demo's own product), [`Registrar::remote`] for the admin API and the operator's pages.
///
/// Admin clients are the operator's, set up on the server alone: remotely nobody can give a
/// client the admin scope, nor replace or re-key a client that holds it. An admin token lives
/// ten minutes and an operator's session is a browser's; a new secret for an admin client (its
/// own, or a colleague's) would turn a leaked token or a borrowed session into access for good.
/// Deleting one stays possible everywhere: it ends access, it grants none.
pub struct Registrar<'a> {
    actor: &'a Actor,
    reach: Reach,
}

impl<'a> Registrar<'a> {
    /// The command line on the server, which proved to be the operator by running there.
    pub fn on_server(actor: &'a Actor) -> Registrar<'a> {
        Registrar {
            actor,
            reach: Reach::Every,
        }
    }

    /// The admin API and the operator's pages: every party's clients except admin clients.
    pub fn remote(actor: &'a Actor) -> Registrar<'a> {
        Registrar {
            actor,
            reach: Reach::PartyClients,
        }
    }

    /// Refuses a client (as it is, or as it would become) that is out of this caller's reach.
    fn within_reach(&self, registration: &ClientRegistration) -> Result<(), ClientError> {
        if self.reach == Reach::PartyClients && holds_admin_scope(registration) {
            return Err(ClientError::AdminScopeReserved);
        }
        Ok(())
    }

    /// Registers a new client; returns its secret (to be shown once) for the secret methods.
    /// A taken client id is refused by the register's unique key, so that of two registrations
    /// of one id at the same moment exactly one is made.
    pub async fn register(
        &self,
        d: &Directory,
        registration: &ClientRegistration,
        development: bool,
    ) -> Result<Option<String>, ClientError> {
        self.within_reach(registration)?;
        registration
            .validate(development)
            .map_err(ClientError::Invalid)?;
        let secret = uses_secret(registration.token_endpoint_auth_method).then(random_token);
        d.create_oidc_client(
            &stored(registration, secret.as_deref().map(sha256_hex)),
            self.actor,
        )
        .await?;
        Ok(secret)
    }

    /// Replaces a client's registration. A client that moves to a secret method gets a new
    /// secret (returned, to be shown once); one that moves away from them loses its secret;
    /// otherwise the secret stays.
    pub async fn update(
        &self,
        d: &Directory,
        registration: &ClientRegistration,
        development: bool,
    ) -> Result<Option<String>, ClientError> {
        let existing = d
            .oidc_client(&registration.client_id)
            .await?
            .ok_or_else(|| not_found(&registration.client_id))?;
        self.within_reach(&parse(&existing)?)?;
        self.within_reach(registration)?;
        registration
            .validate(development)
            .map_err(ClientError::Invalid)?;
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
            self.actor,
        )
        .await?;
        Ok(secret)
    }

    /// A new secret for a client that authenticates with one; the old one stops working at
    /// once.
    pub async fn rotate_secret(
        &self,
        d: &Directory,
        client_id: &str,
    ) -> Result<String, ClientError> {
        let registration = load(d, client_id).await?;
        self.within_reach(&registration)?;
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
        d.set_oidc_client_secret(client_id, &sha256_hex(&secret), self.actor)
            .await?;
        Ok(secret)
    }

    /// Deletes a client and ends every code and token issued to it, admin clients included.
    /// The tokens are ended first: should the register then fail, the client still exists but
    /// holds no live token, which is the safe half of a failed deletion.
    pub async fn delete(
        &self,
        d: &Directory,
        store: &State,
        client_id: &str,
    ) -> Result<(), ClientError> {
        if d.oidc_client(client_id).await?.is_none() {
            return Err(not_found(client_id).into());
        }
        crate::grants::end_client_tokens(store, client_id).await?;
        d.delete_oidc_client(client_id, self.actor).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use directory::model::PartyKind;
    use metadata::client::GrantType;

    use super::*;

    fn admin_client(party_id: &str) -> ClientRegistration {
        ClientRegistration {
            client_id: "beheer-script".to_owned(),
            party_id: party_id.to_owned(),
            name: "Beheerscript".to_owned(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![GrantType::ClientCredentials],
            scopes: vec![ADMIN_SCOPE.to_owned()],
            token_endpoint_auth_method: TokenAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            id_token_signed_response_alg: certs::Algorithm::Rs256,
            sector_identifier: None,
            backchannel_logout_uri: None,
            initiate_login_uri: None,
        }
    }

    #[tokio::test]
    async fn admin_clients_are_out_of_remote_reach_and_within_the_server_s() {
        let (d, _db) = directory::testing::sqlite().await;
        let actor = Actor::system("test");
        let party = d
            .create_party("beheer", PartyKind::Publisher, "Eigen beheer", &actor)
            .await
            .unwrap();
        let admin = admin_client(&party.id);
        let remote = Registrar::remote(&actor);
        assert!(matches!(
            remote.register(&d, &admin, false).await,
            Err(ClientError::AdminScopeReserved)
        ));
        assert!(d.oidc_client("beheer-script").await.unwrap().is_none());

        let server = Registrar::on_server(&actor);
        let secret = server.register(&d, &admin, false).await.unwrap();
        assert!(secret.is_some());
        let renamed = ClientRegistration {
            name: "Overgenomen".to_owned(),
            ..admin.clone()
        };
        assert!(matches!(
            remote.update(&d, &renamed, false).await,
            Err(ClientError::AdminScopeReserved)
        ));
        assert!(matches!(
            remote.rotate_secret(&d, "beheer-script").await,
            Err(ClientError::AdminScopeReserved)
        ));
        let stored = d.oidc_client("beheer-script").await.unwrap().unwrap();
        assert_eq!(parse(&stored).unwrap(), admin, "unchanged");
        assert_eq!(stored.secret_hash, secret.as_deref().map(sha256_hex));
        // Lowering it to a party's client is a change of an admin client too.
        let lowered = ClientRegistration {
            scopes: vec!["school".to_owned()],
            ..admin.clone()
        };
        assert!(matches!(
            remote.update(&d, &lowered, false).await,
            Err(ClientError::AdminScopeReserved)
        ));
        // The server may do all of it.
        server.update(&d, &renamed, false).await.unwrap();
        server.rotate_secret(&d, "beheer-script").await.unwrap();
    }
}
