//! The OpenAPI 3.1 document of the admin API (`idp/api/openapi.json`), served with this
//! server's own addresses filled in.

use std::sync::OnceLock;

use super::ApiError;
use crate::app_state::AppState;
use crate::http::openapi::{served, with_token_url};
use axum::extract::State;
use axum::response::Response;

pub const DOCUMENT: &str = include_str!("../../api/openapi.json");

/// The document with `servers` and the token URL pointing at this server's public URL, so
/// that a generated client or a viewer can use it as it is.
fn for_server(public_url: &str) -> Result<String, serde_json::Error> {
    let mut doc = with_token_url(DOCUMENT, "openpoort", public_url)?;
    doc["servers"] = serde_json::json!([{
        "url": format!("{public_url}{}", super::PREFIX),
        "description": "openpoort",
    }]);
    serde_json::to_string_pretty(&doc)
}

pub async fn document(State(state): State<AppState>) -> Result<Response, ApiError> {
    // The public URL is fixed for the life of the process.
    static RENDERED: OnceLock<String> = OnceLock::new();
    let body = match RENDERED.get() {
        Some(b) => b.clone(),
        None => {
            let b = for_server(&state.web.public_url).map_err(ApiError::internal)?;
            RENDERED.get_or_init(|| b).clone()
        }
    };
    Ok(served(body))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::api::Problem;
    use crate::http::openapi_check as check;

    #[test]
    fn document_is_openapi_3_1() {
        let doc = check::document(DOCUMENT);
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let scheme = &doc["components"]["securitySchemes"]["openpoort"];
        assert_eq!(scheme["type"], "oauth2");
        let flow = &scheme["flows"]["clientCredentials"];
        assert_eq!(flow["tokenUrl"], "/oidc/token");
        assert!(flow["scopes"]["openpoort:admin"].is_string(), "{flow}");
        let rendered: Value =
            serde_json::from_str(&for_server("https://login.example.nl").unwrap()).unwrap();
        assert_eq!(
            rendered["servers"][0]["url"],
            "https://login.example.nl/api/v1"
        );
        assert_eq!(
            rendered["components"]["securitySchemes"]["openpoort"]["flows"]["clientCredentials"]["tokenUrl"],
            "https://login.example.nl/oidc/token"
        );
    }

    #[test]
    fn document_and_router_describe_the_same_operations() {
        check::assert_endpoints_documented(&check::document(DOCUMENT), &crate::api::endpoints());
    }

    /// Every operation says who may call it, documents its path parameters, and lists the
    /// errors the authentication can give.
    #[test]
    fn every_operation_documents_security_parameters_and_errors() {
        let doc = check::document(DOCUMENT);
        check::assert_operations_documented(&doc, &["401", "403", "500", "503"]);
        assert_eq!(
            doc["security"],
            serde_json::json!([{"openpoort": ["openpoort:admin"]}])
        );
    }

    #[test]
    fn document_lists_every_problem_type() {
        let doc = check::document(DOCUMENT);
        let listed: BTreeSet<String> =
            doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
                .as_array()
                .expect("Problem.type enum")
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
        let known: BTreeSet<String> = Problem::ALL.iter().map(|p| p.type_uri()).collect();
        assert_eq!(listed, known);
    }

    /// Every `$ref` in the document points at something that exists.
    #[test]
    fn every_reference_resolves() {
        let seen = check::assert_references_resolve(&check::document(DOCUMENT));
        assert!(seen > 10, "only {seen} references");
    }
}
