//! A party's OpenID Connect clients on the operator's pages: register, change, a new secret,
//! delete (after a confirmation). The rules are `crate::clients`', reached through
//! [`Registrar::remote`] as the admin API reaches them: a client with the admin scope cannot be
//! made, changed or re-keyed here, only with `openpoort client …` on the server.
//!
//! A secret is shown once, in the answer to the POST that made it: never stored in clear,
//! never in a URL (a redirect would need one) and never logged.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use directory::DirectoryError;
use metadata::client::{ClientRegistration, GrantType, RegistrationError, TokenAuthMethod};
use metadata::scopes::SUPPORTED_SCOPES;
use serde_json::Value;

use super::{Desk, Nav, PARTIES, Removal, confirm, party_code, party_path};
use crate::clients::{self, ClientError, Registrar};
use crate::http::extract::Path;
use crate::http::{Csrf, NoFields, PageError, Text, page, see, url_encode};
use crate::operator_admin::parties;

/// The form's fields, as typed: kept as text so that a refused form comes back as it was sent.
#[derive(Clone, Default)]
pub struct ClientForm {
    client_id: String,
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    auth: String,
    grants: Vec<String>,
    scopes: Vec<String>,
    jwks: String,
    jwks_uri: String,
    alg: String,
    sector_identifier: String,
    backchannel_logout_uri: String,
    initiate_login_uri: String,
}

/// A refusal that belongs to one field of the form (`field` empty: to the form as a whole).
#[derive(Default)]
pub struct FieldError {
    field: String,
    text: Option<Text>,
}

impl FieldError {
    fn on(field: &str, text: Text) -> FieldError {
        FieldError {
            field: field.to_owned(),
            text: Some(text),
        }
    }

    fn form(text: Text) -> FieldError {
        FieldError::on("", text)
    }

    /// Whether the refusal is about `field`, for the template.
    pub fn about(&self, field: &str) -> bool {
        self.text.is_some() && self.field == field
    }

    /// A rule of `metadata` the registration breaks, on the form field it names:
    /// `redirect_uris[1]` is the redirect URI box, `jwks.keys[0]` the key set.
    fn registration(e: &RegistrationError) -> FieldError {
        let named = e.field();
        let base = named.split(['[', '.']).next().unwrap_or(named);
        let field = match base {
            "token_endpoint_auth_method" => "auth",
            "grant_types" => "grants",
            "id_token_signed_response_alg" => "alg",
            "party_id" => "",
            other => other,
        };
        FieldError::on(field, Text::new(e.message_nl(), e.to_string()))
    }
}

/// One checkbox or option of the form.
pub struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn optional(text: &str) -> Option<String> {
    crate::operator_admin::optional(text).map(str::to_owned)
}

/// A registration name (`client_secret_basic`, `ES256`) read as `metadata` defines it, so that
/// the page knows no list of its own.
fn named<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T, FieldError> {
    serde_json::from_value(Value::String(value.trim().to_owned())).map_err(|_| {
        FieldError::on(
            field,
            Text::new(
                format!("{field}: {value:?} is geen bekende waarde; kies er een uit de lijst"),
                format!("{field}: {value:?} is not a known value; choose one from the list"),
            ),
        )
    })
}

impl ClientForm {
    fn from_fields(fields: &[(String, String)]) -> ClientForm {
        let mut form = ClientForm::default();
        for (name, value) in fields {
            let value = value.clone();
            match name.as_str() {
                "client_id" => form.client_id = value,
                "name" => form.name = value,
                "redirect_uris" => form.redirect_uris = value,
                "post_logout_redirect_uris" => form.post_logout_redirect_uris = value,
                "auth" => form.auth = value,
                "grant" => form.grants.push(value),
                "scope" => form.scopes.push(value),
                "jwks" => form.jwks = value,
                "jwks_uri" => form.jwks_uri = value,
                "alg" => form.alg = value,
                "sector_identifier" => form.sector_identifier = value,
                "backchannel_logout_uri" => form.backchannel_logout_uri = value,
                "initiate_login_uri" => form.initiate_login_uri = value,
                _ => {}
            }
        }
        form
    }

    /// What a new client starts with: a confidential web application with the code flow.
    fn new_client() -> ClientForm {
        ClientForm {
            auth: TokenAuthMethod::ClientSecretBasic.as_str().to_owned(),
            grants: vec![GrantType::AuthorizationCode.as_str().to_owned()],
            scopes: vec!["openid".to_owned()],
            alg: certs::Algorithm::Rs256.as_str().to_owned(),
            ..ClientForm::default()
        }
    }

    fn from_registration(r: &ClientRegistration) -> ClientForm {
        ClientForm {
            client_id: r.client_id.clone(),
            name: r.name.clone(),
            redirect_uris: r.redirect_uris.join("\n"),
            post_logout_redirect_uris: r.post_logout_redirect_uris.join("\n"),
            auth: r.token_endpoint_auth_method.as_str().to_owned(),
            grants: r
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            scopes: r.scopes.clone(),
            jwks: r
                .jwks
                .as_ref()
                .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
                .unwrap_or_default(),
            jwks_uri: r.jwks_uri.clone().unwrap_or_default(),
            alg: r.id_token_signed_response_alg.as_str().to_owned(),
            sector_identifier: r.sector_identifier.clone().unwrap_or_default(),
            backchannel_logout_uri: r.backchannel_logout_uri.clone().unwrap_or_default(),
            initiate_login_uri: r.initiate_login_uri.clone().unwrap_or_default(),
        }
    }

    /// The registration the form describes, for `client_id` of the party `party_id`. Only
    /// what a form cannot say (a name not in the lists, JSON that does not parse) is refused
    /// here; every rule of a registration is `metadata`'s, checked by the service.
    fn registration(
        &self,
        client_id: &str,
        party_id: &str,
    ) -> Result<ClientRegistration, FieldError> {
        let jwks = match optional(&self.jwks) {
            None => None,
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                FieldError::on(
                    "jwks",
                    Text::new(
                        format!("jwks: geen geldige JSON ({e})"),
                        format!("jwks: not valid JSON ({e})"),
                    ),
                )
            })?),
        };
        Ok(ClientRegistration {
            client_id: client_id.trim().to_owned(),
            party_id: party_id.to_owned(),
            name: self.name.trim().to_owned(),
            redirect_uris: lines(&self.redirect_uris),
            post_logout_redirect_uris: lines(&self.post_logout_redirect_uris),
            grant_types: self
                .grants
                .iter()
                .map(|g| named("grants", g))
                .collect::<Result<_, _>>()?,
            scopes: self.scopes.iter().map(|s| s.trim().to_owned()).collect(),
            token_endpoint_auth_method: named("auth", &self.auth)?,
            jwks,
            jwks_uri: optional(&self.jwks_uri),
            id_token_signed_response_alg: named("alg", &self.alg)?,
            sector_identifier: optional(&self.sector_identifier),
            backchannel_logout_uri: optional(&self.backchannel_logout_uri),
            initiate_login_uri: optional(&self.initiate_login_uri),
        })
    }

    fn auth_choices(&self) -> Vec<Choice> {
        TokenAuthMethod::ALL
            .iter()
            .map(|m| Choice {
                value: m.as_str(),
                label: match m {
                    TokenAuthMethod::ClientSecretBasic => {
                        "client_secret_basic (geheim, HTTP Basic / secret, HTTP Basic)"
                    }
                    TokenAuthMethod::ClientSecretPost => {
                        "client_secret_post (geheim in het formulier / secret in the form)"
                    }
                    TokenAuthMethod::PrivateKeyJwt => "private_key_jwt (eigen sleutel / own key)",
                    TokenAuthMethod::None => "none (publieke client, PKCE / public client, PKCE)",
                },
                checked: self.auth == m.as_str(),
            })
            .collect()
    }

    fn grant_choices(&self) -> Vec<Choice> {
        GrantType::ALL
            .iter()
            .map(|g| Choice {
                value: g.as_str(),
                label: g.as_str(),
                checked: self.grants.iter().any(|x| x == g.as_str()),
            })
            .collect()
    }

    /// The user scopes only: the admin scope is not offered (and refused when sent).
    fn scope_choices(&self) -> Vec<Choice> {
        SUPPORTED_SCOPES
            .iter()
            .map(|s| Choice {
                value: s,
                label: s,
                checked: self.scopes.iter().any(|x| x == s),
            })
            .collect()
    }

    fn alg_choices(&self) -> Vec<Choice> {
        certs::Algorithm::ALL
            .iter()
            .map(|a| Choice {
                value: a.as_str(),
                label: a.as_str(),
                checked: self.alg == a.as_str(),
            })
            .collect()
    }
}

/// The fields of a client's form, for the register and the change page alike.
pub struct Fields {
    form: ClientForm,
    auths: Vec<Choice>,
    grants: Vec<Choice>,
    scopes: Vec<Choice>,
    algs: Vec<Choice>,
    error: FieldError,
}

impl Fields {
    fn new(form: ClientForm, error: FieldError) -> Fields {
        Fields {
            auths: form.auth_choices(),
            grants: form.grant_choices(),
            scopes: form.scope_choices(),
            algs: form.alg_choices(),
            form,
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "operator_client_new.html")]
struct NewClientPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    fields: Fields,
}

#[derive(Template)]
#[template(path = "operator_client.html")]
struct ClientPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    client_id: String,
    path: String,
    uses_secret: bool,
    /// Holds the admin scope: out of the pages' reach (shown, not offered for change).
    admin: bool,
    fields: Fields,
}

#[derive(Template)]
#[template(path = "operator_client_secret.html")]
struct SecretPage {
    nav: Nav,
    party_code: String,
    client_id: String,
    path: String,
    secret: String,
    rotated: bool,
}

/// The path of a client's page.
fn client_path(client_id: &str) -> String {
    format!("/operator/oidc-clients/{}", url_encode(client_id))
}

/// A refusal of the service with its status, on the field it belongs to; what is not the
/// operator's to fix is the error page's.
fn refusal(e: ClientError) -> Result<(StatusCode, FieldError), ClientError> {
    let refused = match e {
        ClientError::Invalid(e) => (StatusCode::BAD_REQUEST, FieldError::registration(&e)),
        ClientError::AdminScopeReserved => {
            let (nl, en) = ClientError::ADMIN_SCOPE_RESERVED;
            (
                StatusCode::FORBIDDEN,
                FieldError::on("scopes", Text::new(nl, en)),
            )
        }
        ClientError::Directory(DirectoryError::Duplicate { field, value }) => (
            StatusCode::CONFLICT,
            FieldError::on(
                "client_id",
                Text::new(
                    format!("{field} {value:?} is al in gebruik; kies een andere client_id"),
                    format!("{field} {value:?} is already in use; choose another client_id"),
                ),
            ),
        ),
        ClientError::Directory(DirectoryError::Conflict { nl, en }) => {
            (StatusCode::CONFLICT, FieldError::form(Text::new(nl, en)))
        }
        other => return Err(other),
    };
    Ok(refused)
}

/// The form again as it was sent, with the refusal.
fn form_again(e: ClientError, form: ClientForm) -> Result<Shown, ClientError> {
    let (status, error) = refusal(e)?;
    Ok((status, form, error))
}

fn secret_page(party_code: String, client_id: &str, secret: String, rotated: bool) -> Response {
    page(
        StatusCode::OK,
        &SecretPage {
            nav: PARTIES,
            party_code,
            client_id: client_id.to_owned(),
            path: client_path(client_id),
            secret,
            rotated,
        },
        HeaderMap::new(),
    )
}

/// A client's form as its page shows it: fresh (200), or refused with the service's status and
/// the field the refusal belongs to.
type Shown = (StatusCode, ClientForm, FieldError);

async fn render_new(
    desk: Desk,
    party_code: &str,
    (status, form, error): Shown,
) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, party_code).await?;
    Ok(desk.page(status, |csrf| NewClientPage {
        nav: PARTIES,
        csrf,
        party_code: party.code,
        party_name: party.name,
        fields: Fields::new(form, error),
    }))
}

pub async fn new_client(desk: Desk, Path(party): Path<String>) -> Result<Response, PageError> {
    let fresh = (
        StatusCode::OK,
        ClientForm::new_client(),
        FieldError::default(),
    );
    render_new(desk, &party, fresh).await
}

/// The registration as loaded, or the page that says it is gone.
async fn load(desk: &Desk, client_id: &str) -> Result<ClientRegistration, PageError> {
    clients::load(desk.directory(), client_id)
        .await
        .map_err(not_found_or_internal)
}

pub async fn register(
    desk: Desk,
    Path(party_code): Path<String>,
    Csrf(fields): Csrf<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, &party_code).await?;
    let form = ClientForm::from_fields(&fields);
    let registration = match form.registration(&form.client_id, &party.id) {
        Ok(r) => r,
        Err(e) => {
            let refused = (StatusCode::BAD_REQUEST, form, e);
            return render_new(desk, &party_code, refused).await;
        }
    };
    let made = Registrar::remote(&desk.operating.actor)
        .register(desk.directory(), &registration, desk.state.api.development)
        .await;
    match made {
        Ok(Some(secret)) => Ok(secret_page(
            party.code,
            &registration.client_id,
            secret,
            false,
        )),
        Ok(None) => Ok(see(&client_path(&registration.client_id))),
        Err(e) => {
            let again = form_again(e, form).map_err(not_found_or_internal)?;
            render_new(desk, &party_code, again).await
        }
    }
}

/// A client's page; without a refused form, the form shows the registration as it is.
async fn render_client(
    desk: Desk,
    client_id: &str,
    refused: Option<Shown>,
) -> Result<Response, PageError> {
    let registration = load(&desk, client_id).await?;
    let party = desk
        .directory()
        .party_by_id(&registration.party_id)
        .await?
        .ok_or_else(|| PageError::bug("a client without its party"))?;
    let (status, form, error) = refused.unwrap_or_else(|| {
        (
            StatusCode::OK,
            ClientForm::from_registration(&registration),
            FieldError::default(),
        )
    });
    Ok(desk.page(status, |csrf| ClientPage {
        nav: PARTIES,
        csrf,
        party_code: party.code,
        party_name: party.name,
        client_id: registration.client_id.clone(),
        path: client_path(&registration.client_id),
        uses_secret: clients::uses_secret(registration.token_endpoint_auth_method),
        admin: clients::holds_admin_scope(&registration),
        fields: Fields::new(form, error),
    }))
}

fn not_found_or_internal(e: ClientError) -> PageError {
    match e {
        ClientError::Directory(DirectoryError::NotFound { what, key }) => {
            crate::operator_admin::AdminError::NotFound { what, key }.into()
        }
        other => PageError::internal(other),
    }
}

pub async fn client(desk: Desk, Path(client_id): Path<String>) -> Result<Response, PageError> {
    render_client(desk, &client_id, None).await
}

pub async fn change(
    desk: Desk,
    Path(client_id): Path<String>,
    Csrf(fields): Csrf<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let before = load(&desk, &client_id).await?;
    let form = ClientForm::from_fields(&fields);
    // The client id and the party are the page's, not the form's: neither changes.
    let registration = match form.registration(&before.client_id, &before.party_id) {
        Ok(r) => r,
        Err(e) => {
            let refused = (StatusCode::BAD_REQUEST, form, e);
            return render_client(desk, &client_id, Some(refused)).await;
        }
    };
    let changed = Registrar::remote(&desk.operating.actor)
        .update(desk.directory(), &registration, desk.state.api.development)
        .await;
    match changed {
        Ok(Some(secret)) => {
            let party = party_code(desk.directory(), &before.party_id).await?;
            Ok(secret_page(party, &client_id, secret, false))
        }
        Ok(None) => Ok(see(&client_path(&client_id))),
        Err(e) => {
            let again = form_again(e, form).map_err(not_found_or_internal)?;
            render_client(desk, &client_id, Some(again)).await
        }
    }
}

pub async fn rotate_secret(
    desk: Desk,
    Path(client_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let rotated = Registrar::remote(&desk.operating.actor)
        .rotate_secret(desk.directory(), &client_id)
        .await;
    match rotated {
        Ok(secret) => {
            let registration = load(&desk, &client_id).await?;
            let party = party_code(desk.directory(), &registration.party_id).await?;
            Ok(secret_page(party, &client_id, secret, true))
        }
        // The form shows the registration as it is: nothing was typed.
        Err(e) => {
            let (status, error) = refusal(e).map_err(not_found_or_internal)?;
            let form = ClientForm::from_registration(&load(&desk, &client_id).await?);
            render_client(desk, &client_id, Some((status, form, error))).await
        }
    }
}

pub async fn confirm_delete(
    desk: Desk,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let registration = load(&desk, &client_id).await?;
    let path = client_path(&registration.client_id);
    let removal = Removal {
        title: Text::new(
            format!("Client {} verwijderen", registration.client_id),
            format!("Delete client {}", registration.client_id),
        ),
        warning: Text::new(
            format!(
                "{} ({}) kan daarna niemand meer laten inloggen: codes en tokens die de client nu heeft, werken meteen niet meer. Dit kan niet ongedaan worden gemaakt.",
                registration.name, registration.client_id
            ),
            format!(
                "{} ({}) can then log nobody in: the codes and tokens it holds stop working at once. This cannot be undone.",
                registration.name, registration.client_id
            ),
        ),
        action: format!("{path}/verwijderen"),
        button: Text::new("Ja, client verwijderen", "Yes, delete the client"),
        back: path,
    };
    Ok(confirm(desk, removal))
}

pub async fn delete(
    desk: Desk,
    Path(client_id): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let registration = load(&desk, &client_id).await?;
    let party = party_code(desk.directory(), &registration.party_id).await?;
    Registrar::remote(&desk.operating.actor)
        .delete(desk.directory(), &desk.state.state, &client_id)
        .await
        .map_err(not_found_or_internal)?;
    Ok(see(&party_path(&party)))
}
