//! What every OpenAPI document of openpoort must satisfy (the admin API's, the partner API's
//! two trees), checked the same way in each front end's tests.

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document's text as JSON, which must be OpenAPI 3.1.
pub fn document(text: &str) -> Value {
    let doc: Value = serde_json::from_str(text).expect("the document is JSON");
    let version = doc["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3.1."), "{version}");
    doc
}

/// Every (method, path) the document describes, the method in lower case.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
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
        .collect()
}

/// The router's operations and the document's are the same set.
pub fn assert_same_operations<'a>(
    doc: &Value,
    routed: impl IntoIterator<Item = (&'a Method, &'a str)>,
) {
    let routed: BTreeSet<(String, String)> = routed
        .into_iter()
        .map(|(m, p)| (m.as_str().to_ascii_lowercase(), p.to_owned()))
        .collect();
    let documented = documented(doc);
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routed but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

/// The operations of a router built from `endpoints` and the document's are the same set.
pub fn assert_endpoints_documented(doc: &Value, endpoints: &[super::routes::Endpoint]) {
    assert_same_operations(doc, endpoints.iter().map(|e| (&e.method, e.path)));
}

/// A parameter or a reference to one, resolved.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.strip_prefix('#').expect("a local reference"))
            .expect(r),
        None => v,
    }
}

/// Every operation has an id of its own, documents its path parameters (on the path or the
/// operation) and a success answer, and, unless public (`security: []`), the refusals in
/// `refusals` that its authentication gives.
pub fn assert_operations_documented(doc: &Value, refusals: &[&str]) {
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().expect("a path item") {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let at = format!("{method} {path}");
            assert!(
                ids.insert(op["operationId"].as_str().expect(&at).to_owned()),
                "{at}: operationId twice"
            );
            let mut params = shared.clone();
            params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
            for name in path
                .split('{')
                .skip(1)
                .map(|s| s.split('}').next().expect("a closed parameter"))
            {
                let documented = params.iter().any(|p| {
                    let p = resolve(doc, p);
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
                for status in refusals {
                    assert!(responses.contains_key(*status), "{at}: no {status}");
                }
            }
        }
    }
}

/// Every `$ref` points at something in the document; answers how many there are.
pub fn assert_references_resolve(doc: &Value) -> usize {
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
    let mut seen = 0;
    walk(doc, doc, &mut seen);
    seen
}
