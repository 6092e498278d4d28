//! The hosted licence API ("Hosted LIKA") of the partner listener: Basispoort's paths under
//! `/hosted-lika/management/lika/{publisherCode}/`, in which a publisher registers its methods
//! and products and says who may use them. What it writes is a licence of the user's own beside
//! the school's: the release decision and the portal read it at once (`broker`), under the
//! school's consent as always.
//!
//! The caller is the partner listener's [`Partner`]; the tree is a publisher's own: another
//! party's code in the path, or a network provider, is refused (403). Every call is audited
//! here (`lika.call`, or `lika.refused`), and every change by the register in its own
//! transaction (`lika.*`, with what changed); both with the party as actor.
//! Answers are Basispoort's JSON; a write answers with an empty body (Basispoort's clients read
//! nothing else); errors are problem+json with Dutch and English details.
//!
//! One file per resource; this file holds the caller, the shapes and the route list, which the
//! router and the OpenAPI document test both read (see [`all_routes`]).

mod access;
mod applications;
mod openapi;
mod permissions;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use directory::lika::{Application, Target, Written};
use directory::model::PartyKind;
use serde::Deserialize;
use serde_json::{Value, json};

use self::applications::{Methods, Products, create, delete, list, read, replace};
use super::Partner;
use crate::app_state::AppState;
use crate::http::json::JsonShape;
use crate::http::problem::{ApiError, Problem};

/// The tree's root below which `{publisherCode}` follows.
pub const PREFIX: &str = "/hosted-lika/management/lika";

/// A method or product with an inline icon of 256 KiB is about 350 KB of JSON; a bulk list of a
/// few tens of thousands of numbers fits too.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One operation: a method on a path (the document's `{param}` syntax, also axum's).
pub struct Route {
    pub method: Method,
    pub path: String,
    handler: MethodRouter<AppState>,
}

/// A route answering exactly `method` at `PREFIX/{publisherCode}/tail` (or at `tail` itself
/// when it starts with `/`).
fn route<H, T>(method: Method, tail: &str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
    let path = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("{PREFIX}/{{publisherCode}}/{tail}")
    };
    Route {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every operation of the tree, by resource (one file each). The router and the document test
/// both read this list.
fn all_routes() -> Vec<Route> {
    let mut all = vec![
        route(Method::GET, "methode", list::<Methods>),
        route(Method::POST, "methode", create::<Methods>),
        route(Method::GET, "methode/{methodId}", read::<Methods>),
        route(Method::PUT, "methode/{methodId}", replace::<Methods>),
        route(Method::DELETE, "methode/{methodId}", delete::<Methods>),
        route(Method::GET, "methode/{methodId}/product", list::<Products>),
        route(
            Method::POST,
            "methode/{methodId}/product",
            create::<Products>,
        ),
        route(
            Method::GET,
            "methode/{methodId}/product/{productId}",
            read::<Products>,
        ),
        route(
            Method::PUT,
            "methode/{methodId}/product/{productId}",
            replace::<Products>,
        ),
        route(
            Method::DELETE,
            "methode/{methodId}/product/{productId}",
            delete::<Products>,
        ),
        route(Method::POST, "permissions/grant", permissions::grant),
        route(Method::POST, "permissions/revoke", permissions::revoke),
        route(Method::GET, "/hosted-lika/openapi.json", openapi::document),
    ];
    // The access lists: two kinds on each method and each product.
    all.extend(access::routes());
    all
}

/// The tree's routes, merged into the partner listener's router.
pub fn routes() -> Router<AppState> {
    let mut by_path: BTreeMap<String, MethodRouter<AppState>> = BTreeMap::new();
    for r in all_routes() {
        tracing::trace!(method = %r.method, path = r.path, "LIKA route");
        let handler = match by_path.remove(&r.path) {
            Some(existing) => existing.merge(r.handler),
            None => r.handler,
        };
        by_path.insert(r.path, handler);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(&path, handler.fallback(method_not_allowed));
    }
    router
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Problem::MethodNotAllowed,
        "Deze methode kan niet op dit pad van de LIKA-API; zie /hosted-lika/openapi.json.",
        "This method is not available on this path of the LIKA API; see /hosted-lika/openapi.json.",
    )
}

/// A publisher calling its own tree, with the ids the path names.
pub struct Publisher {
    pub partner: Partner,
    pub method: Option<String>,
    pub product: Option<String>,
}

impl Publisher {
    pub fn party_id(&self) -> &str {
        &self.partner.party.id
    }

    pub fn actor(&self) -> &directory::Actor {
        &self.partner.actor
    }

    /// The path's method id (every route that calls this has one).
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or_default()
    }

    /// The access list the path names: its product's when it names one, else its method's.
    pub fn target(&self) -> Target<'_> {
        match &self.product {
            Some(product) => Target::Product {
                method: self.method(),
                product,
            },
            None => Target::Method(self.method()),
        }
    }
}

impl FromRequestParts<AppState> for Publisher {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Publisher, Response> {
        let partner = Partner::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(ApiError::internal)?;
        let param = |name: &str| {
            params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_owned())
        };
        let code = param("publisherCode").unwrap_or_default();
        let refusal = if partner.party.kind != PartyKind::Publisher {
            Some(ApiError::new(
                Problem::Forbidden,
                "Alleen een uitgeverij heeft een LIKA-omgeving; je organisatie is als netwerkaanbieder geregistreerd.",
                "Only a publisher has a LIKA tree; your organisation is registered as a network provider.",
            ))
        } else if code != partner.party.code {
            Some(ApiError::new(
                Problem::Forbidden,
                format!(
                    "Je organisatie heeft code {:?}; een pad met een andere code ({code:?}) is niet van jou.",
                    partner.party.code
                ),
                format!(
                    "Your organisation's code is {:?}; a path with another code ({code:?}) is not yours.",
                    partner.party.code
                ),
            ))
        } else {
            None
        };
        // Every call, before it is answered: a read, a write whatever its outcome (a change
        // adds its own entry with what changed), and a refused attempt, which is a mistake or
        // someone probing.
        state
            .directory
            .audit(directory::audit::AuditEvent {
                actor: &partner.actor,
                action: if refusal.is_some() {
                    "lika.refused"
                } else {
                    "lika.call"
                },
                school_id: None,
                party_id: Some(&partner.party.id),
                subject: None,
                details: json!({"method": parts.method.as_str(), "path": parts.uri.path()}),
            })
            .await
            .map_err(ApiError::internal)?;
        if let Some(refusal) = refusal {
            return Err(refusal.into());
        }
        Ok(Publisher {
            partner,
            method: param("methodId"),
            product: param("productId"),
        })
    }
}

/// What a method or product is written as (Basispoort's `MethodDetails` and
/// `ProductDetails`): optional fields may be missing or `null`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApplicationBody {
    id: String,
    #[serde(default)]
    code: Option<String>,
    naam: String,
    #[serde(default)]
    icon: Option<String>,
    #[serde(default)]
    icon_url: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl JsonShape for ApplicationBody {
    const LIMIT: usize = MAX_BODY_BYTES;
    const SHAPE: &'static str =
        "{\"id\", \"code\", \"naam\", \"icon\", \"iconUrl\", \"url\", \"tags\"}";
}

impl ApplicationBody {
    pub fn into_application(self) -> Application {
        Application {
            id: self.id,
            code: self.code,
            name: self.naam,
            icon: self.icon,
            icon_url: self.icon_url,
            url: self.url,
            tags: self.tags.unwrap_or_default(),
        }
    }
}

/// A method or product as Basispoort answers it, every field present (`null` when unset).
pub fn application_json(a: &Application) -> Value {
    json!({
        "id": a.id,
        "code": a.code,
        "naam": a.name,
        "icon": a.icon,
        "iconUrl": a.icon_url,
        "url": a.url,
        "tags": a.tags,
    })
}

/// The body's id must be the path's: a PUT cannot rename, nor write another id's record.
pub fn same_id(path_id: &str, body_id: &str) -> Result<(), ApiError> {
    if path_id == body_id {
        Ok(())
    } else {
        Err(ApiError::new(
            Problem::Validation,
            format!(
                "Het id in de body ({body_id:?}) is niet het id in het pad ({path_id:?}); een id verandert niet."
            ),
            format!(
                "The id in the body ({body_id:?}) is not the id in the path ({path_id:?}); an id does not change."
            ),
        ))
    }
}

/// The empty answer to a write.
pub fn done(status: StatusCode) -> Response {
    let mut r = status.into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// The answer to a PUT: `201` for a record it made, `204` for one it replaced.
pub fn put_answer(written: Written) -> Response {
    done(match written {
        Written::Created => StatusCode::CREATED,
        Written::Replaced => StatusCode::NO_CONTENT,
    })
}

/// Not found, as the register says it, in the API's words.
pub fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(
        Problem::NotFound,
        format!("{what} {id:?} bestaat niet bij je organisatie"),
        format!("{what} {id:?} does not exist for your organisation"),
    )
}
