//! Partijen (publishers and network providers) and a publisher's products: list, add, change.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use directory::model::PartyKind;
use serde::Deserialize;

use super::{Nav, refusal};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::http::{Csrf, PageError, Text, csrf_token, page, see_other, url_encode};
use crate::operator_admin::parties;
use crate::session::SignedInOperator;

fn kind_label(k: PartyKind) -> (&'static str, &'static str) {
    match k {
        PartyKind::Publisher => ("uitgeverij", "publisher"),
        PartyKind::NetworkProvider => ("netwerkaanbieder", "network provider"),
    }
}

pub struct PartyRow {
    code: String,
    name: String,
    kind: (&'static str, &'static str),
}

#[derive(Template)]
#[template(path = "operator_partijen.html")]
struct PartiesPage {
    nav: Nav,
    csrf: String,
    parties: Vec<PartyRow>,
    error: Option<Text>,
    form: PartyForm,
}

#[derive(Default, Deserialize)]
pub struct PartyForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

async fn render_parties(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    refused: Option<(Text, PartyForm)>,
) -> Result<Response, PageError> {
    let list = parties::list(&state.directory, &op.operating)
        .await?
        .into_iter()
        .map(|p| PartyRow {
            kind: kind_label(p.kind),
            code: p.code,
            name: p.name,
        })
        .collect();
    let (csrf, set) = csrf_token(&state.web, headers);
    let (status, error, form) = match refused {
        Some((e, f)) => (StatusCode::BAD_REQUEST, Some(e), f),
        None => (StatusCode::OK, None, PartyForm::default()),
    };
    Ok(page(
        status,
        &PartiesPage {
            nav: Nav {
                current: "partijen",
            },
            csrf,
            parties: list,
            error,
            form,
        },
        set,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    render_parties(&state, &op, &headers, None).await
}

pub async fn add(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Csrf(form): Csrf<PartyForm>,
) -> Result<Response, PageError> {
    match parties::add(
        &state.directory,
        &op.operating,
        &form.code,
        &form.kind,
        &form.name,
    )
    .await
    {
        Ok(p) => Ok(see_other(
            &format!("/operator/partijen/{}", url_encode(&p.code)),
            HeaderMap::new(),
        )),
        Err(e) => {
            let text = refusal(e)?;
            render_parties(&state, &op, &headers, Some((text, form))).await
        }
    }
}

pub struct ProductRow {
    code: String,
    methode: String,
    name: String,
    launch_url: String,
    home_allowed: bool,
}

#[derive(Template)]
#[template(path = "operator_partij.html")]
struct PartyPage {
    nav: Nav,
    csrf: String,
    code: String,
    name: String,
    kind: (&'static str, &'static str),
    publisher: bool,
    products: Vec<ProductRow>,
    clients: Vec<ClientRow>,
    sps: Vec<SpRow>,
    error: Option<Text>,
    form: ProductForm,
}

pub struct ClientRow {
    client_id: String,
    name: String,
    redirect_uris: String,
    grants: String,
}

pub struct SpRow {
    entity_id: String,
    /// Its page: the entityID percent-encoded as one path segment.
    path: String,
    metadata_url: String,
    refreshed_at: String,
    refresh_error: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    methode: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    launch_url: String,
    #[serde(default)]
    icon_url: String,
    home_allowed: Option<String>,
}

impl ProductForm {
    fn rules(&self) -> parties::ProductForm<'_> {
        parties::ProductForm {
            methode: &self.methode,
            name: &self.name,
            launch_url: &self.launch_url,
            icon_url: &self.icon_url,
            home_allowed: self.home_allowed.is_some(),
        }
    }
}

async fn render_party(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    code: &str,
    refused: Option<(Text, ProductForm)>,
) -> Result<Response, PageError> {
    let (party, products) = parties::products(&state.directory, &op.operating, code).await?;
    // Listed through the services the CLI and the API register them with.
    let clients = crate::clients::of_party(&state.directory, &party.id)
        .await
        .map_err(PageError::internal)?;
    let sps = state.directory.saml_sps_of_party(&party.id).await?;
    let (csrf, set) = csrf_token(&state.web, headers);
    let (status, error, form) = match refused {
        Some((e, f)) => (StatusCode::BAD_REQUEST, Some(e), f),
        None => (StatusCode::OK, None, ProductForm::default()),
    };
    Ok(page(
        status,
        &PartyPage {
            nav: Nav {
                current: "partijen",
            },
            csrf,
            publisher: party.kind == PartyKind::Publisher,
            kind: kind_label(party.kind),
            code: party.code,
            name: party.name,
            products: products
                .into_iter()
                .map(|p| ProductRow {
                    code: p.code,
                    methode: p.methode,
                    name: p.name,
                    launch_url: p.launch_url,
                    home_allowed: p.home_allowed,
                })
                .collect(),
            clients: clients
                .into_iter()
                .map(|c| ClientRow {
                    grants: c
                        .grant_types
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    redirect_uris: c.redirect_uris.join(" "),
                    client_id: c.client_id,
                    name: c.name,
                })
                .collect(),
            sps: sps
                .into_iter()
                .map(|sp| SpRow {
                    path: format!("/operator/saml-sps/{}", url_encode(&sp.entity_id)),
                    entity_id: sp.entity_id,
                    metadata_url: sp.metadata_url.unwrap_or_default(),
                    refreshed_at: directory::model::netherlands_clock(sp.refreshed_at),
                    refresh_error: sp.refresh_error,
                })
                .collect(),
            error,
            form,
        },
        set,
    ))
}

pub async fn party(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    render_party(&state, &op, &headers, &code, None).await
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(code): Path<String>,
    Csrf(form): Csrf<NameForm>,
) -> Result<Response, PageError> {
    match parties::rename(&state.directory, &op.operating, &code, &form.name).await {
        Ok(p) => Ok(see_other(
            &format!("/operator/partijen/{}", url_encode(&p.code)),
            HeaderMap::new(),
        )),
        Err(e) => {
            let text = refusal(e)?;
            render_party(
                &state,
                &op,
                &headers,
                &code,
                Some((text, ProductForm::default())),
            )
            .await
        }
    }
}

pub async fn add_product(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path(code): Path<String>,
    Csrf(form): Csrf<ProductForm>,
) -> Result<Response, PageError> {
    let added = parties::add_product(
        &state.directory,
        &op.operating,
        &code,
        &form.code,
        &form.rules(),
    )
    .await;
    match added {
        Ok(_) => Ok(see_other(
            &format!("/operator/partijen/{}", url_encode(&code)),
            HeaderMap::new(),
        )),
        Err(e) => {
            let text = refusal(e)?;
            render_party(&state, &op, &headers, &code, Some((text, form))).await
        }
    }
}

#[derive(Template)]
#[template(path = "operator_product.html")]
struct ProductPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    code: String,
    error: Option<Text>,
    form: ProductForm,
}

async fn render_product(
    state: &AppState,
    op: &SignedInOperator,
    headers: &HeaderMap,
    (party_code, code): (&str, &str),
    refused: Option<(Text, ProductForm)>,
) -> Result<Response, PageError> {
    let (party, product) =
        parties::product(&state.directory, &op.operating, party_code, code).await?;
    let (csrf, set) = csrf_token(&state.web, headers);
    let (status, error, form) = match refused {
        Some((e, f)) => (StatusCode::BAD_REQUEST, Some(e), f),
        None => (
            StatusCode::OK,
            None,
            ProductForm {
                code: product.code.clone(),
                methode: product.methode,
                name: product.name,
                launch_url: product.launch_url,
                icon_url: product.icon_url.unwrap_or_default(),
                home_allowed: product.home_allowed.then(String::new),
            },
        ),
    };
    Ok(page(
        status,
        &ProductPage {
            nav: Nav {
                current: "partijen",
            },
            csrf,
            party_code: party.code,
            party_name: party.name,
            code: product.code,
            error,
            form,
        },
        set,
    ))
}

pub async fn product(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path((party, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    render_product(&state, &op, &headers, (&party, &code), None).await
}

pub async fn change_product(
    State(state): State<AppState>,
    op: SignedInOperator,
    headers: HeaderMap,
    Path((party, code)): Path<(String, String)>,
    Csrf(form): Csrf<ProductForm>,
) -> Result<Response, PageError> {
    let changed = parties::change_product(
        &state.directory,
        &op.operating,
        &party,
        &code,
        &form.rules(),
    )
    .await;
    match changed {
        Ok(_) => Ok(see_other(
            &format!("/operator/partijen/{}", url_encode(&party)),
            HeaderMap::new(),
        )),
        Err(e) => {
            let text = refusal(e)?;
            render_product(&state, &op, &headers, (&party, &code), Some((text, form))).await
        }
    }
}
