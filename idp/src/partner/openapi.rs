//! `GET /rest/v2/openapi.json`: the OpenAPI 3.1 document of the `/rest/v2` tree
//! (`idp/api/partner-openapi.json`), with the token URL of this server filled in. It describes
//! no one's data, so it is served without a certificate or a token.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::PartnerError;
use crate::app_state::AppState;

pub const DOCUMENT: &str = include_str!("../../api/partner-openapi.json");

/// The document with the bearer scheme's token URL at this server's public URL; the paths are
/// relative to the partner listener that serves it.
fn for_server(public_url: &str) -> Result<String, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(DOCUMENT)?;
    if let Some(flows) = doc.pointer_mut("/components/securitySchemes/token/flows") {
        flows["clientCredentials"]["tokenUrl"] = Value::String(format!("{public_url}/oidc/token"));
    }
    serde_json::to_string_pretty(&doc)
}

pub async fn document(State(state): State<AppState>) -> Result<Response, PartnerError> {
    let body =
        for_server(&state.web.public_url).map_err(|e| PartnerError::Internal(e.to_string()))?;
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn doc() -> Value {
        serde_json::from_str(DOCUMENT).expect("partner-openapi.json is JSON")
    }

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    #[test]
    fn document_is_openapi_3_1_with_both_ways_in() {
        let doc = doc();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
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
        let routed: BTreeSet<(String, String)> = super::super::endpoints()
            .iter()
            .map(|e| (e.method.as_str().to_ascii_lowercase(), e.path.to_owned()))
            .collect();
        let documented: BTreeSet<(String, String)> = doc()["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("a path item")
                    .keys()
                    .filter(|k| METHODS.contains(&k.as_str()))
                    .map(move |m| (m.clone(), path.clone()))
            })
            .collect();
        let missing: Vec<_> = routed.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routed).collect();
        assert!(missing.is_empty(), "routed but not documented: {missing:?}");
        assert!(extra.is_empty(), "documented but not routed: {extra:?}");
    }

    /// Every operation has an id, documents its path parameters, a success answer and, unless
    /// public, the refusals of the authentication.
    #[test]
    fn every_operation_documents_parameters_and_errors() {
        let doc = doc();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let at = format!("{method} {path}");
                assert!(
                    ids.insert(op["operationId"].as_str().expect(&at).to_owned()),
                    "{at}: operationId twice"
                );
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                for name in path
                    .split('{')
                    .skip(1)
                    .map(|s| s.split('}').next().unwrap())
                {
                    let documented = params.iter().any(|p| {
                        let p = resolve(&doc, p);
                        p["in"] == "path" && p["name"] == name && p["required"] == true
                    });
                    assert!(documented, "{at}: path parameter {name} undocumented");
                }
                let responses = op["responses"].as_object().expect(&at);
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{at}: no success answer"
                );
                if op["security"] != serde_json::json!([]) {
                    for status in ["401", "500"] {
                        assert!(responses.contains_key(status), "{at}: no {status}");
                    }
                }
            }
        }
    }

    fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
        match v["$ref"].as_str() {
            Some(r) => doc
                .pointer(r.strip_prefix('#').expect("local reference"))
                .expect(r),
            None => v,
        }
    }

    /// Every `$ref` in the document points at something that exists.
    #[test]
    fn every_reference_resolves() {
        fn walk(doc: &Value, v: &Value, seen: &mut usize) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        let target = r.strip_prefix('#').expect("local references only");
                        assert!(doc.pointer(target).is_some(), "{r} does not resolve");
                        *seen += 1;
                    }
                    o.values().for_each(|x| walk(doc, x, seen));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(doc, x, seen)),
                _ => {}
            }
        }
        let doc = doc();
        let mut seen = 0;
        walk(&doc, &doc, &mut seen);
        assert!(seen > 10, "only {seen} references");
    }
}
