//! The OpenAPI 3.1 document of the LIKA tree (`idp/api/hosted-lika.openapi.json`), served at
//! `/hosted-lika/openapi.json` on the partner listener without authentication: it describes,
//! it grants nothing.

use axum::response::Response;

use crate::http::openapi::served;

pub const DOCUMENT: &str = include_str!("../../../api/hosted-lika.openapi.json");

pub async fn document() -> Response {
    served(DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::openapi_check as check;

    #[test]
    fn document_and_router_describe_the_same_operations() {
        let doc = check::document(DOCUMENT);
        let routes = super::super::all_routes();
        check::assert_same_operations(&doc, routes.iter().map(|r| (&r.method, r.path.as_str())));
    }

    /// Every operation documents its path parameters and the errors authentication gives, and
    /// every `$ref` resolves.
    #[test]
    fn every_operation_documents_parameters_and_errors_and_references_resolve() {
        let doc = check::document(DOCUMENT);
        check::assert_operations_documented(&doc, &["401", "403", "500", "503"]);
        check::assert_references_resolve(&doc);
    }

    /// The partner API's numbers are the broker's, per the party's default sector: the LIKA
    /// lists only match when both name the sector alike.
    #[test]
    fn the_broker_s_partner_sector_is_the_party_s_default_pairwise_sector() {
        assert_eq!(
            broker::partner_sector("p-1"),
            metadata::pairwise_sector("p-1", None)
        );
    }
}
