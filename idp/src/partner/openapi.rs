//! `GET /rest/v2/openapi.json`: the OpenAPI 3.1 document of the `/rest/v2` tree
//! (`idp/api/partner-openapi.json`), with the token URL of this server filled in. It describes
//! no one's data, so it is served without a certificate or a token.

use axum::extract::State;
use axum::response::Response;

use super::PartnerError;
use crate::app_state::AppState;
use crate::http::openapi::{served, with_token_url};

pub const DOCUMENT: &str = include_str!("../../api/partner-openapi.json");

/// The document with the bearer scheme's token URL at this server's public URL; the paths are
/// relative to the partner listener that serves it.
fn for_server(public_url: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&with_token_url(DOCUMENT, "token", public_url)?)
}

pub async fn document(State(state): State<AppState>) -> Result<Response, PartnerError> {
    let body = for_server(&state.web.public_url).map_err(|e| PartnerError::Internal(e.into()))?;
    Ok(served(body))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::http::openapi_check as check;

    #[test]
    fn document_is_openapi_3_1_with_both_ways_in() {
        let doc = check::document(DOCUMENT);
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["certificate"]["type"], "mutualTLS");
        assert_eq!(schemes["token"]["type"], "oauth2");
        assert!(
            schemes["token"]["flows"]["clientCredentials"]["scopes"]["openpoort:partner"]
                .is_string()
        );
        assert_eq!(
            doc["security"],
            serde_json::json!([{"certificate": []}, {"token": ["openpoort:partner"]}])
        );
        let rendered: Value =
            serde_json::from_str(&for_server("https://login.example.nl").unwrap()).unwrap();
        assert_eq!(
            rendered["components"]["securitySchemes"]["token"]["flows"]["clientCredentials"]["tokenUrl"],
            "https://login.example.nl/oidc/token"
        );
    }

    #[test]
    fn document_and_router_describe_the_same_operations() {
        check::assert_endpoints_documented(&check::document(DOCUMENT), &super::super::endpoints());
    }

    /// Every operation has an id, documents its path parameters, a success answer and, unless
    /// public, the refusals of the authentication.
    #[test]
    fn every_operation_documents_parameters_and_errors() {
        check::assert_operations_documented(&check::document(DOCUMENT), &["401", "500", "503"]);
    }

    /// Every `$ref` in the document points at something that exists.
    #[test]
    fn every_reference_resolves() {
        let seen = check::assert_references_resolve(&check::document(DOCUMENT));
        assert!(seen > 10, "only {seen} references");
    }
}
