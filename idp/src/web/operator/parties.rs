//! Partijen (publishers and network providers) and a publisher's products: list, add, change.

use askama::Template;
use axum::response::Response;
use directory::model::PartyKind;
use serde::Deserialize;

use super::{Desk, NameForm, Nav, PARTIES, again, party_path};
use crate::http::extract::Path;
use crate::http::{Csrf, FormView, PageError, Text, see, url_encode};
use crate::operator_admin::parties;

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

async fn render_parties(desk: Desk, view: FormView<PartyForm>) -> Result<Response, PageError> {
    let parties = parties::list(desk.directory(), &desk.operating)
        .await?
        .into_iter()
        .map(|p| PartyRow {
            kind: kind_label(p.kind),
            code: p.code,
            name: p.name,
        })
        .collect();
    Ok(desk.form_page(view, |csrf, error, form| PartiesPage {
        nav: PARTIES,
        csrf,
        parties,
        error,
        form,
    }))
}

pub async fn list(desk: Desk) -> Result<Response, PageError> {
    render_parties(desk, FormView::default()).await
}

pub async fn add(desk: Desk, Csrf(form): Csrf<PartyForm>) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    let added = parties::add(d, op, &form.code, &form.kind, &form.name).await;
    match added {
        Ok(p) => Ok(see(&party_path(&p.code))),
        Err(e) => render_parties(desk, again(e, form)?).await,
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
    desk: Desk,
    code: &str,
    view: FormView<ProductForm>,
) -> Result<Response, PageError> {
    let (party, products) = parties::products(desk.directory(), &desk.operating, code).await?;
    // Listed through the services the CLI and the API register them with.
    let clients = crate::clients::of_party(desk.directory(), &party.id)
        .await
        .map_err(PageError::internal)?;
    let sps = desk.directory().saml_sps_of_party(&party.id).await?;
    Ok(desk.form_page(view, |csrf, error, form| PartyPage {
        nav: PARTIES,
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
    }))
}

pub async fn party(desk: Desk, Path(code): Path<String>) -> Result<Response, PageError> {
    render_party(desk, &code, FormView::default()).await
}

pub async fn rename(
    desk: Desk,
    Path(code): Path<String>,
    Csrf(form): Csrf<NameForm>,
) -> Result<Response, PageError> {
    let renamed = parties::rename(desk.directory(), &desk.operating, &code, &form.name).await;
    match renamed {
        Ok(p) => Ok(see(&party_path(&p.code))),
        Err(e) => render_party(desk, &code, again(e, ProductForm::default())?).await,
    }
}

pub async fn add_product(
    desk: Desk,
    Path(code): Path<String>,
    Csrf(form): Csrf<ProductForm>,
) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    let added = parties::add_product(d, op, &code, &form.code, &form.rules()).await;
    match added {
        Ok(_) => Ok(see(&party_path(&code))),
        Err(e) => render_party(desk, &code, again(e, form)?).await,
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

/// The product's page; without a refused form, the form shows the product as it is.
async fn render_product(
    desk: Desk,
    (party_code, code): (&str, &str),
    refused: Option<FormView<ProductForm>>,
) -> Result<Response, PageError> {
    let (party, product) =
        parties::product(desk.directory(), &desk.operating, party_code, code).await?;
    let code = product.code.clone();
    let view = refused.unwrap_or_else(|| {
        FormView::fresh(ProductForm {
            code: product.code,
            methode: product.methode,
            name: product.name,
            launch_url: product.launch_url,
            icon_url: product.icon_url.unwrap_or_default(),
            home_allowed: product.home_allowed.then(String::new),
        })
    });
    Ok(desk.form_page(view, |csrf, error, form| ProductPage {
        nav: PARTIES,
        csrf,
        party_code: party.code,
        party_name: party.name,
        code,
        error,
        form,
    }))
}

pub async fn product(
    desk: Desk,
    Path((party, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    render_product(desk, (&party, &code), None).await
}

pub async fn change_product(
    desk: Desk,
    Path((party, code)): Path<(String, String)>,
    Csrf(form): Csrf<ProductForm>,
) -> Result<Response, PageError> {
    let (d, op) = (desk.directory(), &desk.operating);
    let changed = parties::change_product(d, op, &party, &code, &form.rules()).await;
    match changed {
        Ok(_) => Ok(see(&party_path(&party))),
        Err(e) => render_product(desk, (&party, &code), Some(again(e, form)?)).await,
    }
}
