//! The operator's pages at `/operator`: the outage notice, boards and schools with a school's
//! first ICT-coördinator, publishers and network providers with their products, OpenID Connect
//! clients, SAML service providers, client certificates for the partner API and network
//! providers' upstreams. Every handler
//! takes [`Desk`], which holds `SignedInOperator`'s proof, so that without the operator role no
//! page is reached (the login for no session, 403 for everyone else), and `Csrf<Form>` for what
//! it posts. The rules are in
//! `crate::operator_admin`, `crate::clients`, `crate::service_providers`,
//! `crate::party_certificates` and `crate::upstream::registry`, shared with the admin API and
//! the CLI.

mod certificates;
mod clients;
mod notice;
mod parties;
mod register;
mod service_providers;
mod upstream;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::app_state::AppState;
use crate::http::{FormView, PageError, Text, url_encode};
use crate::operator_admin::AdminError;
use crate::session::SignedInOperator;

/// Every operator page. The refusal test reads this function's `.route(` lines, so a page added
/// here is checked for refusals without anyone listing it again.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(notice::home))
        .route(
            "/operator/storingsmelding",
            get(notice::page).post(notice::set),
        )
        .route("/operator/storingsmelding/verwijderen", post(notice::clear))
        .route(
            "/operator/besturen",
            get(register::boards).post(register::add_board),
        )
        .route("/operator/besturen/{nummer}", post(register::rename_board))
        .route(
            "/operator/scholen",
            get(register::schools).post(register::add_school),
        )
        .route(
            "/operator/scholen/{code}",
            get(register::school).post(register::rename_school),
        )
        .route(
            "/operator/scholen/{code}/eerste-ict-coordinator",
            post(register::first_ict),
        )
        .route("/operator/partijen", get(parties::list).post(parties::add))
        .route(
            "/operator/partijen/{party}",
            get(parties::party).post(parties::rename),
        )
        .route(
            "/operator/partijen/{party}/producten",
            post(parties::add_product),
        )
        .route(
            "/operator/partijen/{party}/producten/{product}",
            get(parties::product).post(parties::change_product),
        )
        .route(
            "/operator/partijen/{party}/certificaten",
            get(certificates::list).post(certificates::add),
        )
        .route(
            "/operator/partijen/{party}/certificaten/{sha256}/verwijderen",
            get(certificates::confirm_remove).post(certificates::remove),
        )
        .route("/operator/partijen/{party}/koppeling", get(upstream::show))
        .route(
            "/operator/partijen/{party}/koppeling/saml",
            post(upstream::connect::<upstream::SamlForm>),
        )
        .route(
            "/operator/partijen/{party}/koppeling/oidc",
            post(upstream::connect::<upstream::OidcForm>),
        )
        .route(
            "/operator/partijen/{party}/koppeling/vernieuwen",
            post(upstream::refresh),
        )
        .route(
            "/operator/partijen/{party}/koppeling/verwijderen",
            get(upstream::confirm_remove).post(upstream::remove),
        )
        .route(
            "/operator/partijen/{party}/oidc-clients",
            get(clients::new_client).post(clients::register),
        )
        .route(
            "/operator/oidc-clients/{client_id}",
            get(clients::client).post(clients::change),
        )
        .route(
            "/operator/oidc-clients/{client_id}/geheim",
            post(clients::rotate_secret),
        )
        .route(
            "/operator/oidc-clients/{client_id}/verwijderen",
            get(clients::confirm_delete).post(clients::delete),
        )
        .route(
            "/operator/partijen/{party}/saml-sps",
            get(service_providers::new_sp).post(service_providers::register),
        )
        .route("/operator/saml-sps/{entity_id}", get(service_providers::sp))
        .route(
            "/operator/saml-sps/{entity_id}/vernieuwen",
            post(service_providers::refresh),
        )
        .route(
            "/operator/saml-sps/{entity_id}/verwijderen",
            get(service_providers::confirm_remove).post(service_providers::remove),
        )
}

/// The head of every operator page: the sections, with the one shown marked.
pub struct Nav {
    current: &'static str,
}

/// The section of the parties and all that hangs under them (products, clients, SPs,
/// certificates, upstreams).
const PARTIES: Nav = Nav {
    current: "partijen",
};

/// The operator at one of these pages: `SignedInOperator`'s proof, the state, the form token.
type Desk = crate::http::Desk<SignedInOperator>;

/// The question before a removal that cannot be undone.
fn confirm(desk: Desk, removal: Removal) -> Response {
    desk.page(StatusCode::OK, |csrf| ConfirmPage {
        nav: PARTIES,
        csrf,
        removal,
    })
}

/// A party's page.
fn party_path(code: &str) -> String {
    format!("/operator/partijen/{}", url_encode(code))
}

/// The code of the party `party_id` names, for the way back to its page.
async fn party_code(d: &directory::Directory, party_id: &str) -> Result<String, PageError> {
    Ok(d.party_by_id(party_id)
        .await?
        .map(|p| p.code)
        .unwrap_or_default())
}

/// A new name, for a board, a school or a party.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// What a removal's confirmation says: what goes, what follows from it, the button that posts
/// to `action`, and the way `back` for a no.
struct Removal {
    title: Text,
    warning: Text,
    action: String,
    button: Text,
    back: String,
}

#[derive(Template)]
#[template(path = "operator_confirm.html")]
struct ConfirmPage {
    nav: Nav,
    csrf: String,
    removal: Removal,
}

/// The form again with a refusal the operator can act on beside what was typed; anything else
/// is the error page's.
fn again<F>(e: AdminError, form: F) -> Result<FormView<F>, AdminError> {
    let text = match e {
        AdminError::Refused { nl, en } | AdminError::Conflict { nl, en } => Text::new(nl, en),
        AdminError::NotFound { what, key } => Text::new(
            format!("{what} {key:?} bestaat niet."),
            format!("{what} {key:?} does not exist."),
        ),
        other => return Err(other),
    };
    Ok(FormView::refused(text, form))
}
