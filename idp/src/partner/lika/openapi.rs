//! The OpenAPI 3.1 document of the LIKA tree (`idp/api/hosted-lika.openapi.json`), served at
//! `/hosted-lika/openapi.json` on the partner listener without authentication: it describes,
//! it grants nothing.

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use super::{Route, route};

pub const DOCUMENT: &str = include_str!("../../../api/hosted-lika.openapi.json");

pub fn routes() -> Vec<Route> {
    vec![route(Method::GET, "/hosted-lika/openapi.json", document)]
}

async fn document() -> Response {
    let mut r = DOCUMENT.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        serde_json::from_str(DOCUMENT).expect("hosted-lika.openapi.json is JSON")
    }

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    #[test]
    fn document_and_router_describe_the_same_operations() {
        let routed: BTreeSet<(String, String)> = super::super::all_routes()
            .iter()
            .map(|r| (r.method.as_str().to_ascii_lowercase(), r.path.clone()))
            .collect();
        let doc = doc();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        let documented: BTreeSet<(String, String)> = doc["paths"]
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

    /// Every operation documents its path parameters and the errors authentication gives, and
    /// every `$ref` resolves.
    #[test]
    fn every_operation_documents_parameters_and_errors_and_references_resolve() {
        let doc = doc();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let shared = item["parameters"].as_array().cloned().unwrap_or_default();
            for (method, op) in item.as_object().unwrap() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let at = format!("{method} {path}");
                assert!(
                    ids.insert(op["operationId"].as_str().expect(&at).to_owned()),
                    "{at}"
                );
                let mut params = shared.clone();
                params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
                for name in path
                    .split('{')
                    .skip(1)
                    .map(|s| s.split('}').next().unwrap())
                {
                    let documented = params.iter().any(|p| {
                        let p = match p["$ref"].as_str() {
                            Some(r) => doc.pointer(r.strip_prefix('#').unwrap()).unwrap(),
                            None => p,
                        };
                        p["in"] == "path" && p["name"] == name && p["required"] == true
                    });
                    assert!(documented, "{at}: path parameter {name} undocumented");
                }
                let responses = op["responses"].as_object().expect(&at);
                if op["security"] != serde_json::json!([]) {
                    for status in ["401", "403", "500"] {
                        assert!(responses.contains_key(status), "{at}: no {status}");
                    }
                }
                assert!(responses.keys().any(|s| s.starts_with('2')), "{at}");
            }
        }
        fn walk(doc: &Value, v: &Value) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        let target = r.strip_prefix('#').expect("local references only");
                        assert!(doc.pointer(target).is_some(), "{r} does not resolve");
                    }
                    o.values().for_each(|x| walk(doc, x));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(doc, x)),
                _ => {}
            }
        }
        walk(&doc, &doc);
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
