//! Every operation of the admin API, read from the OpenAPI document so that a new one cannot be
//! missed, refused without credentials, with a made-up token and with a token lacking the admin
//! scope, and none of them changing anything.
//!
//! The admin API has no per-school clients: the `openpoort:admin` scope is the operator's and
//! reaches every school (README, "Admin API"). A school's own administrator works in Beheer,
//! whose walk as another school's administrator is in the Beheer tests.

use serde_json::Value;

use crate::common::{PUBLISHER, demo};

/// Every (method, path) of the document with the admin scope required.
fn operations() -> Vec<(reqwest::Method, String)> {
    let doc: Value = serde_json::from_str(include_str!("../../../idp/api/openapi.json"))
        .expect("the OpenAPI document");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let Ok(m) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "PUT", "POST", "DELETE", "PATCH"].contains(&m.as_str()) {
                continue;
            }
            // The document itself is public by design: `security: []`.
            if op["security"] == serde_json::json!([]) {
                continue;
            }
            out.push((m, path.clone()));
        }
    }
    out
}

/// Real ids of the demo for every path parameter, so that a refusal is the credential check's
/// and not a missing object's.
struct Ids {
    staff: String,
    group: String,
    pupil: String,
    entity: String,
    certificate: String,
}

fn fill(path: &str, ids: &Ids) -> String {
    // A network provider's upstream exists only for a network provider: a connected one, so
    // that a refused change would show in the snapshot.
    let party = if path.contains("/upstream") {
        crate::upstreams::PROVIDER
    } else {
        PUBLISHER
    };
    let filled = path
        .replace("{party_id}", party)
        .replace("{party}", "demo-leesland")
        .replace("{product}", "rekenrijk")
        .replace("{client_id}", "demo-leesland-web")
        .replace(
            "{entity_id}",
            &url::form_urlencoded::byte_serialize(ids.entity.as_bytes()).collect::<String>(),
        )
        .replace("{school_id}", "99ZZ00")
        .replace("{bestuursnummer}", "99999")
        .replace("{cidr}", "127.0.0.0%2F8")
        .replace("{staff_id}", &ids.staff)
        .replace("{role}", "ib")
        .replace("{group_id}", &ids.group)
        .replace("{pupil_id}", &ids.pupil)
        .replace("{sha256}", &ids.certificate)
        .replace("{prefix}", "https%3A%2F%2Fapps.example.nl");
    assert!(
        !filled.contains('{'),
        "a path parameter without a value here: {path}"
    );
    filled
}

#[tokio::test]
async fn every_admin_api_operation_is_refused_without_admin_credentials_and_changes_nothing() {
    let d = demo();
    let admin = d.admin_token().await;
    let staff = d.get("/schools/99ZZ00/staff", &admin).await;
    let anna = staff.body["staff"]
        .as_array()
        .or(staff.body.as_array())
        .unwrap_or_else(|| panic!("a staff list: {}", staff.body))
        .iter()
        .find(|m| m.to_string().contains("anna.devries"))
        .expect("Anna")
        .clone();
    let staff_id = anna["id"]
        .as_str()
        .or(anna["staff"]["id"].as_str())
        .unwrap_or_else(|| panic!("Anna's id: {anna}"))
        .to_owned();
    let sps = d.get("/parties/demo-leesland/saml-sps", &admin).await;
    let entity = sps.body.to_string();
    let entity = entity
        .split("\"entity_id\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("Leesland's SP: {}", sps.body))
        .to_owned();
    let group = d.cli(&["group", "list", "--school", "99ZZ00"]);
    let group = group
        .lines()
        .find(|l| l.contains("Dassen"))
        .and_then(|l| l.rsplit("(id ").next())
        .map(|id| id.trim_end_matches(')'))
        .unwrap_or_else(|| panic!("group 8: {group}"))
        .to_owned();
    let dassen = d
        .get(&format!("/schools/99ZZ00/groups/{group}/pupils"), &admin)
        .await;
    let pupil = dassen.body["pupils"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a pupil of group 8: {}", dassen.body))
        .to_owned();
    let (_, certificate) = openpoort_e2e::self_signed("Demo Uitgeverij koppeling");
    let pem = String::from_utf8(certificate.to_pem().expect("PEM")).expect("text");
    let registered = d
        .send_json(
            reqwest::Method::POST,
            &format!("/parties/{PUBLISHER}/certificates"),
            &admin,
            &serde_json::json!({ "pem": pem }),
        )
        .await;
    let certificate = registered.body["sha256"]
        .as_str()
        .unwrap_or_else(|| panic!("a registered certificate: {}", registered.body))
        .to_owned();
    crate::upstreams::add_provider(&d);
    let connected = d
        .send_json(
            reqwest::Method::PUT,
            &format!("/parties/{}/upstream", crate::upstreams::PROVIDER),
            &admin,
            &serde_json::json!({
                "protocol": "saml", "metadata_xml": crate::upstreams::metadata(),
                "match_by": "eck_id",
            }),
        )
        .await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    let ids = Ids {
        staff: staff_id,
        group,
        pupil,
        entity,
        certificate,
    };
    // A publisher's client with client credentials but not the admin scope.
    let secret = d
        .add_client(
            PUBLISHER,
            "rp-not-admin",
            &["--grant", "client_credentials", "--scope", "school"],
        )
        .unwrap();
    let other = d
        .client_credentials("rp-not-admin", &secret, "school")
        .await;

    let ops = operations();
    assert!(ops.len() >= 30, "the document was not read right: {ops:?}");
    let reads: Vec<String> = ops
        .iter()
        .filter(|(m, _)| m == reqwest::Method::GET)
        .map(|(_, p)| fill(p, &ids))
        .collect();
    let snapshot = || async {
        let mut all = Vec::new();
        for p in &reads {
            let a = d.get(p, &admin).await;
            all.push(format!("{p}: {} {}", a.status, a.body));
        }
        all.push(d.cli(&["audit", "list", "--school", "99ZZ00"]));
        all
    };
    let before = snapshot().await;
    // Whatever an operation reads, in both media types the API takes.
    let json = serde_json::json!({
        "client_id": "demo-leesland-web", "redirect_uris": ["https://x.example/cb"],
        "metadata_url": "https://127.0.0.1:9/md", "cidr": "192.0.2.0/24", "label": "x",
        "achternaam": "Inbreker", "email": "inbreker@example.org", "enabled": true,
        "vendor": "esis", "endpoint": "https://127.0.0.1:9/edexml", "key": "k",
        "pem": "-----BEGIN CERTIFICATE-----", "picture": "vis", "void_existing": true,
        "protocol": "saml", "metadata_xml": crate::upstreams::metadata(), "match_by": "eck_id",
    })
    .to_string()
    .into_bytes();
    for (method, path) in &ops {
        let url = fill(path, &ids);
        let media = if path.ends_with("/edexml") {
            "application/xml"
        } else {
            "application/json"
        };
        let body = if path.ends_with("/edexml") {
            crate::common::complete_edexml().into_bytes()
        } else {
            json.clone()
        };
        for (token, expected, what) in [
            (None, 401, "without credentials"),
            (Some("made-up-token"), 401, "with a made-up token"),
            (
                Some(other.as_str()),
                403,
                "with a token without the admin scope",
            ),
        ] {
            let a = d
                .call(method.clone(), &url, token, Some((media, body.clone())))
                .await;
            assert_eq!(a.status, expected, "{method} {url} {what}: {}", a.body);
            assert!(
                matches!(a.problem(), "unauthorized" | "insufficient-scope"),
                "{method} {url} {what}: {}",
                a.body
            );
        }
    }
    assert_eq!(snapshot().await, before, "nothing changed");
}
