//! The hosted licence API (`/hosted-lika/management/lika/{publisherCode}/`): every endpoint as a
//! publisher calls it, another party refused, URLs held to the operator's list, a pupil's tile
//! and login following the publisher's grants at once, and bursts ending consistent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use openpoort_e2e::{Browser, add_client, authorize_url, demo_pupil_login, pkce};

use crate::common::{Answer, Identity, PUBLISHER, PartnerDemo, client_identity, demo_reference};

const APPS: &str = "https://lika.example.nl/apps";

/// Calls to one publisher's tree with one certificate.
struct Lika<'a> {
    demo: &'a PartnerDemo,
    identity: &'a Identity,
    code: String,
}

impl Lika<'_> {
    fn call(&self, method: &str, tail: &str, body: Option<Value>) -> Answer {
        let path = format!("/hosted-lika/management/lika/{}/{tail}", self.code);
        let body = body.map(|b| b.to_string());
        self.demo
            .client(Some(self.identity))
            .request(method, &path, body.as_deref())
            .expect("a TLS connection")
    }

    /// A write that must succeed with an empty body.
    fn ok(&self, method: &str, tail: &str, body: Option<Value>, status: u16) {
        let a = self.call(method, tail, body);
        assert_eq!(a.status, status, "{method} {tail}: {}", a.body);
        assert!(
            a.body.is_empty(),
            "{method} {tail}: a write answers no body: {}",
            a.body
        );
    }

    fn read(&self, tail: &str) -> Value {
        let a = self.call("GET", tail, None);
        assert_eq!(a.status, 200, "GET {tail}: {}", a.body);
        a.json()
    }

    fn users(&self, tail: &str) -> Vec<i64> {
        self.read(tail)["gebruikers"]
            .as_array()
            .expect("gebruikers")
            .iter()
            .map(|v| v.as_i64().expect("a number"))
            .collect()
    }
}

fn svg() -> String {
    format!(
        "image/svg+xml,{}",
        STANDARD.encode(b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 8 8\"><rect width=\"8\" height=\"8\" fill=\"#36c\"/></svg>")
    )
}

fn method(id: &str) -> Value {
    json!({
        "id": id, "code": "m-1", "naam": "Rekenrijk", "icon": svg(), "iconUrl": null,
        "url": format!("{APPS}/{id}"), "tags": ["leerkrachtApplicatie"],
    })
}

fn product(id: &str, name: &str) -> Value {
    json!({
        "id": id, "code": null, "naam": name, "icon": svg(),
        "iconUrl": format!("{APPS}/icons/{id}.svg"), "url": format!("{APPS}/start/{id}"), "tags": [],
    })
}

fn problem(a: &Answer, status: u16, words: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    let body = a.json();
    let detail = format!("{} {}", body["detail"], body["detail_en"]);
    assert!(detail.contains(words), "{words:?} not in {detail}");
}

fn allow_apps(demo: &PartnerDemo, party: &str) {
    demo.cli(&["party", "url-allow", "--party", party, "--url", APPS]);
}

#[test]
fn every_lika_endpoint_writes_and_reads_back_a_publisher_s_methods_products_and_lists() {
    let demo = PartnerDemo::start();
    allow_apps(&demo, PUBLISHER);
    let l = Lika {
        demo: &demo,
        identity: &demo.publisher,
        code: PUBLISHER.into(),
    };

    // Methods.
    l.ok("POST", "methode", Some(method("rekenen")), 201);
    problem(
        &l.call("POST", "methode", Some(method("rekenen"))),
        409,
        "rekenen",
    );
    l.ok(
        "POST",
        "methode",
        Some(json!({"id": "lezen", "naam": "Leesland"})),
        201,
    );
    let listed = l.read("methode");
    assert_eq!(listed["methodes"].as_array().unwrap().len(), 2);
    assert_eq!(
        listed["methodes"][0]["id"], "lezen",
        "sorted by id: {listed}"
    );
    assert_eq!(
        listed["methodes"][0]["code"],
        Value::Null,
        "unset fields read back as null"
    );
    assert_eq!(listed["methodes"][1], method("rekenen"));
    assert_eq!(l.read("methode/rekenen"), method("rekenen"));
    let bare = json!({"id": "rekenen", "code": null, "naam": "Rekenrijk 2", "icon": null, "iconUrl": null, "url": null, "tags": null});
    l.ok("PUT", "methode/rekenen", Some(bare), 204);
    let read = l.read("methode/rekenen");
    assert_eq!(
        (
            read["code"].clone(),
            read["icon"].clone(),
            read["tags"].clone()
        ),
        (Value::Null, Value::Null, json!([])),
        "{read}"
    );
    problem(
        &l.call("PUT", "methode/rekenen", Some(method("anders"))),
        422,
        "anders",
    );
    l.ok("PUT", "methode/rekenen", Some(method("rekenen")), 204);
    problem(
        &l.call("GET", "methode/bestaat-niet", None),
        404,
        "bestaat-niet",
    );

    // Products.
    l.ok(
        "POST",
        "methode/rekenen/product",
        Some(product("rr-5", "Rekenrijk groep 5")),
        201,
    );
    l.ok(
        "PUT",
        "methode/rekenen/product/rr-6",
        Some(product("rr-6", "Rekenrijk groep 6")),
        201,
    );
    let products = l.read("methode/rekenen/product");
    let ids: Vec<&str> = products["producten"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rr-5", "rr-6"]);
    assert_eq!(
        l.read("methode/rekenen/product/rr-5"),
        product("rr-5", "Rekenrijk groep 5")
    );
    l.ok(
        "PUT",
        "methode/rekenen/product/rr-5",
        Some(product("rr-5", "Rekenrijk 5 nieuw")),
        204,
    );
    assert_eq!(
        l.read("methode/rekenen/product/rr-5")["naam"],
        "Rekenrijk 5 nieuw"
    );
    problem(
        &l.call(
            "POST",
            "methode/lezen/product",
            Some(product("rr-5", "Twee keer")),
        ),
        409,
        "rr-5",
    );
    problem(
        &l.call("GET", "methode/lezen/product/rr-5", None),
        404,
        "rr-5",
    );
    let no_url = json!({"id": "rr-7", "naam": "Zonder adres"});
    problem(
        &l.call("POST", "methode/rekenen/product", Some(no_url)),
        422,
        "url",
    );
    let bad_icon = json!({"id": "rr-7", "naam": "X", "url": format!("{APPS}/x"), "icon": "image/png,PHN2Zz4="});
    problem(
        &l.call("POST", "methode/rekenen/product", Some(bad_icon)),
        422,
        "icon",
    );
    let unknown_field = json!({"id": "rr-7", "naam": "X", "url": format!("{APPS}/x"), "prijs": 3});
    problem(
        &l.call("POST", "methode/rekenen/product", Some(unknown_field)),
        422,
        "prijs",
    );

    // Access lists, on the method and on a product, by number and by ECK-iD.
    for owner in ["methode/rekenen", "methode/rekenen/product/rr-5"] {
        let users = format!("{owner}/gebruiker");
        l.ok(
            "PUT",
            &users,
            Some(json!({"gebruikers": [789, 123, 456]})),
            204,
        );
        assert_eq!(l.users(&users), [123, 456, 789]);
        l.ok(
            "POST",
            &format!("{users}/addlist"),
            Some(json!({"gebruikers": [456789, 123456]})),
            204,
        );
        assert_eq!(l.users(&users), [123, 456, 789, 123456, 456789]);
        l.ok(
            "POST",
            &format!("{users}/removelist"),
            Some(json!({"gebruikers": [123, 456, 789, 5]})),
            204,
        );
        assert_eq!(l.users(&users), [123456, 456789]);
        l.ok("DELETE", &users, None, 204);
        assert!(l.users(&users).is_empty());
        problem(
            &l.call("PUT", &users, Some(json!({"gebruikers": [0]}))),
            422,
            "gebruikers",
        );

        let chains = format!("{owner}/gebruiker_eckid");
        let pair = |school: i64, eck: &str| json!({"instellingId": school, "eckId": eck});
        l.ok("PUT", &chains, Some(json!({"gebruikers": [pair(20, "https://ketenid.nl/b"), pair(10, "https://ketenid.nl/a")]})), 204);
        l.ok(
            "POST",
            &format!("{chains}/addlist"),
            Some(json!({"gebruikers": [pair(10, "https://ketenid.nl/c")]})),
            204,
        );
        assert_eq!(
            l.read(&chains)["gebruikers"],
            json!([
                pair(10, "https://ketenid.nl/a"),
                pair(10, "https://ketenid.nl/c"),
                pair(20, "https://ketenid.nl/b")
            ])
        );
        l.ok("POST", &format!("{chains}/removelist"), Some(json!({"gebruikers": [pair(10, "https://ketenid.nl/a"), pair(99, "https://ketenid.nl/x")]})), 204);
        assert_eq!(l.read(&chains)["gebruikers"].as_array().unwrap().len(), 2);
        l.ok("DELETE", &chains, None, 204);
        assert_eq!(l.read(&chains)["gebruikers"], json!([]));
    }

    // Bulk: grant 1..16 on method and product, revoke the even ones and some never granted.
    let grant = json!({"methodes": ["rekenen"], "producten": ["rr-5"], "gebruikers": (1..=16).collect::<Vec<i64>>(), "gebruikerEckIds": []});
    l.ok("POST", "permissions/grant", Some(grant), 204);
    let revoke = json!({"methodes": ["rekenen"], "producten": ["rr-5"], "gebruikers": [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22], "gebruikerEckIds": []});
    l.ok("POST", "permissions/revoke", Some(revoke), 204);
    let odd: Vec<i64> = (1..=16).filter(|n| n % 2 == 1).collect();
    assert_eq!(l.users("methode/rekenen/gebruiker"), odd);
    assert_eq!(l.users("methode/rekenen/product/rr-5/gebruiker"), odd);
    let unknown = json!({"producten": ["rr-5", "bestaat-niet"], "gebruikers": [100]});
    problem(
        &l.call("POST", "permissions/grant", Some(unknown)),
        404,
        "bestaat-niet",
    );
    assert_eq!(
        l.users("methode/rekenen/product/rr-5/gebruiker"),
        odd,
        "all or nothing"
    );

    // Deletes: a product, then a method with what is left of it.
    l.ok("DELETE", "methode/rekenen/product/rr-6", None, 204);
    problem(
        &l.call("GET", "methode/rekenen/product/rr-6", None),
        404,
        "rr-6",
    );
    l.ok("DELETE", "methode/rekenen", None, 204);
    problem(
        &l.call("GET", "methode/rekenen/product", None),
        404,
        "rekenen",
    );
    assert_eq!(l.read("methode")["methodes"].as_array().unwrap().len(), 1);

    // Wrong method and an address outside the tree answer as problems; the document is open.
    let a = l.call("PATCH", "methode/lezen", None);
    assert_eq!(a.status, 405, "{}", a.body);
    let doc = demo
        .client(None)
        .request("GET", "/hosted-lika/openapi.json", None)
        .expect("TLS");
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert!(
        doc.json()["paths"]["/hosted-lika/management/lika/{publisherCode}/permissions/grant"]
            .is_object()
    );
}

#[test]
fn a_url_outside_the_publisher_s_allowed_prefixes_is_refused_and_nothing_is_stored() {
    let demo = PartnerDemo::start();
    let l = Lika {
        demo: &demo,
        identity: &demo.publisher,
        code: PUBLISHER.into(),
    };
    // Nothing allowed yet: every URL is refused.
    problem(
        &l.call("POST", "methode", Some(method("rekenen"))),
        422,
        "url",
    );
    allow_apps(&demo, PUBLISHER);
    assert_eq!(
        demo.cli(&["party", "url-allowed", "--party", PUBLISHER])
            .trim(),
        APPS
    );
    for url in [
        "https://lika.example.nl/appstore",
        "https://lika.example.nl:8443/apps/x",
        "https://elders.example.nl/apps/x",
    ] {
        let m = json!({"id": "rekenen", "naam": "Rekenrijk", "url": url});
        problem(&l.call("POST", "methode", Some(m)), 422, url);
    }
    let icon_elsewhere =
        json!({"id": "rekenen", "naam": "Rekenrijk", "iconUrl": "https://cdn.example.nl/i.png"});
    problem(
        &l.call("POST", "methode", Some(icon_elsewhere)),
        422,
        "iconUrl",
    );
    assert_eq!(l.read("methode"), json!({"methodes": []}), "nothing stored");
    l.ok("POST", "methode", Some(method("rekenen")), 201);
    let outside = json!({"id": "rr-5", "naam": "Groep 5", "url": "https://elders.example.nl/x"});
    problem(
        &l.call("POST", "methode/rekenen/product", Some(outside.clone())),
        422,
        "elders",
    );
    problem(
        &l.call("PUT", "methode/rekenen/product/rr-5", Some(outside)),
        422,
        "elders",
    );
    assert_eq!(l.read("methode/rekenen/product"), json!({"producten": []}));
    demo.cli(&["party", "url-disallow", "--party", PUBLISHER, "--url", APPS]);
    problem(
        &l.call("PUT", "methode/rekenen", Some(method("rekenen"))),
        422,
        "url",
    );
}

#[tokio::test]
async fn another_party_s_code_and_a_network_provider_are_refused_and_every_call_is_audited() {
    let demo = PartnerDemo::start();
    allow_apps(&demo, PUBLISHER);
    let own = Lika {
        demo: &demo,
        identity: &demo.publisher,
        code: PUBLISHER.into(),
    };
    own.ok("POST", "methode", Some(method("rekenen")), 201);

    demo.cli(&[
        "party",
        "add",
        "--code",
        "andere-uitgeverij",
        "--kind",
        "publisher",
        "--name",
        "Andere",
    ]);
    let other = client_identity("Andere koppeling");
    demo.register("andere-uitgeverij", &other.cert);
    allow_apps(&demo, "andere-uitgeverij");
    let trespass = Lika {
        demo: &demo,
        identity: &other,
        code: PUBLISHER.into(),
    };
    for (method_, tail, body) in [
        ("GET", "methode", None),
        ("GET", "methode/rekenen", None),
        ("PUT", "methode/rekenen", Some(method("rekenen"))),
        ("DELETE", "methode/rekenen", None),
        (
            "POST",
            "methode/rekenen/gebruiker/addlist",
            Some(json!({"gebruikers": [1]})),
        ),
        (
            "POST",
            "permissions/revoke",
            Some(json!({"methodes": ["rekenen"], "gebruikers": [1]})),
        ),
    ] {
        problem(
            &trespass.call(method_, tail, body),
            403,
            "andere-uitgeverij",
        );
    }
    assert_eq!(own.read("methode/rekenen"), method("rekenen"), "unchanged");
    assert!(own.users("methode/rekenen/gebruiker").is_empty());
    // Its own tree is its own, and does not show the other's methods.
    let its_own = Lika {
        demo: &demo,
        identity: &other,
        code: "andere-uitgeverij".into(),
    };
    assert_eq!(its_own.read("methode"), json!({"methodes": []}));
    its_own.ok("POST", "methode", Some(method("rekenen")), 201);
    assert_eq!(own.read("methode")["methodes"].as_array().unwrap().len(), 1);

    demo.cli(&[
        "party",
        "add",
        "--code",
        "netwerk",
        "--kind",
        "network_provider",
        "--name",
        "Netwerk",
    ]);
    let network = client_identity("Netwerk koppeling");
    demo.register("netwerk", &network.cert);
    let provider = Lika {
        demo: &demo,
        identity: &network,
        code: "netwerk".into(),
    };
    problem(
        &provider.call("GET", "methode", None),
        403,
        "netwerkaanbieder",
    );

    let stranger = client_identity("Onbekend");
    let unknown = Lika {
        demo: &demo,
        identity: &stranger,
        code: PUBLISHER.into(),
    };
    assert_eq!(unknown.call("GET", "methode", None).status, 401);

    // The register the demo runs on: every call is in its audit log, with the party as actor.
    let file = demo.dir.path().join("data/openpoort.sqlite");
    let pool =
        directory::Pool::connect(&format!("sqlite://{}", file.display()), &Default::default())
            .await
            .expect("the demo's register");
    let register = directory::Directory::new(pool);
    let audit = |code: &'static str| {
        let register = register.clone();
        async move {
            let party = register
                .party_by_code(code)
                .await
                .unwrap()
                .expect("the party");
            register.audit_of_party(&party.id, 200).await.unwrap()
        }
    };
    let trespasser = audit("andere-uitgeverij").await;
    let refused: Vec<_> = trespasser
        .iter()
        .filter(|e| e.action == "lika.refused")
        .collect();
    assert_eq!(refused.len(), 6, "{trespasser:?}");
    assert!(
        refused.iter().all(|e| e.actor == "party:andere-uitgeverij"),
        "{refused:?}"
    );
    let delete_path = format!("/hosted-lika/management/lika/{PUBLISHER}/methode/rekenen");
    assert!(
        refused
            .iter()
            .any(|e| e.details["method"] == "DELETE" && e.details["path"] == delete_path.as_str()),
        "{refused:?}"
    );
    let publisher = audit(PUBLISHER).await;
    let actor = format!("party:{PUBLISHER}");
    let actions: Vec<&str> = publisher
        .iter()
        .filter(|e| e.actor == actor)
        .map(|e| e.action.as_str())
        .collect();
    assert!(
        actions.contains(&"lika.call") && actions.contains(&"lika.method.create"),
        "{actions:?}"
    );
    assert_eq!(
        audit("netwerk")
            .await
            .iter()
            .filter(|e| e.action == "lika.refused")
            .count(),
        1
    );
}

/// The pupil Finn's number for a party, from the partner API as the party reads it.
fn finn_number(l: &Lika<'_>) -> (i64, i64) {
    let client = l.demo.client(Some(l.identity));
    let schools = client
        .request("GET", "/rest/v2/instellingen", None)
        .expect("TLS")
        .ids();
    let school = schools[0];
    let pupils = client
        .request(
            "GET",
            &format!("/rest/v2/instellingen/{school}/leerlingen"),
            None,
        )
        .expect("TLS")
        .json();
    let finn = pupils["leerlingen"]
        .as_array()
        .expect("leerlingen")
        .iter()
        .find(|p| p["persoonsgegevens"]["voornaam"] == "Finn")
        .unwrap_or_else(|| panic!("Finn among {pupils}"))["id"]
        .as_i64()
        .expect("a number");
    (school, finn)
}

/// Finn opens the OpenID Connect client `lika-web`: the answer (303 to the client with a code
/// when released, 403 with openpoort's explanation when not).
async fn finn_opens_the_client(b: &mut Browser) -> openpoort_e2e::Page {
    let (_, challenge) = pkce();
    b.get(&authorize_url(
        "",
        &[
            ("response_type", "code"),
            ("client_id", "lika-web"),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    ))
    .await
}

#[tokio::test]
async fn a_pupil_granted_a_product_through_lika_gets_its_tile_and_a_login_until_it_is_revoked() {
    let demo = PartnerDemo::start();
    // A publisher of its own, with no school licence at all: only its LIKA grants count.
    demo.cli(&[
        "party",
        "add",
        "--code",
        "lika-uitgeverij",
        "--kind",
        "publisher",
        "--name",
        "LIKA Uitgeverij",
    ]);
    demo.cli(&[
        "party",
        "allow-attribute",
        "--party",
        "lika-uitgeverij",
        "--attribute",
        "given_name",
    ]);
    demo.cli(&[
        "consent",
        "grant",
        "--school",
        "99ZZ00",
        "--party",
        "lika-uitgeverij",
    ]);
    allow_apps(&demo, "lika-uitgeverij");
    add_client(
        demo.dir.path(),
        "lika-uitgeverij",
        "lika-web",
        &["--redirect-uri", "http://127.0.0.1:9/callback"],
    );
    let identity = client_identity("LIKA koppeling");
    demo.register("lika-uitgeverij", &identity.cert);
    let l = Lika {
        demo: &demo,
        identity: &identity,
        code: "lika-uitgeverij".into(),
    };
    l.ok("POST", "methode", Some(method("rekenen")), 201);
    l.ok(
        "POST",
        "methode/rekenen/product",
        Some(product("rr-5", "Rekenrijk LIKA")),
        201,
    );
    let (_, finn) = finn_number(&l);

    let mut b = Browser::new(&demo.server.base);
    let shortcut = format!("/s/{}", demo_reference(&demo));
    assert!(
        demo_pupil_login(&mut b, &shortcut).await,
        "Finn signs in at school"
    );
    let portal = b.get("/").await;
    assert!(
        !portal.body.contains("Rekenrijk LIKA"),
        "no tile before the grant"
    );
    let denied = finn_opens_the_client(&mut b).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(denied.body.contains("geen licentie"), "{}", denied.body);

    l.ok(
        "POST",
        "methode/rekenen/product/rr-5/gebruiker/addlist",
        Some(json!({"gebruikers": [finn]})),
        204,
    );
    let portal = b.get("/").await;
    assert!(
        portal.body.contains("Rekenrijk LIKA"),
        "the tile, at once: {}",
        portal.body
    );
    // Its inline icon, served by openpoort under a policy that runs nothing.
    let icon_at = portal
        .body
        .find("/static/icon/")
        .expect("an icon on the tile");
    let icon_path = &portal.body[icon_at..icon_at + portal.body[icon_at..].find('"').unwrap()];
    let icon = b.get(icon_path).await;
    assert_eq!(icon.status, 200, "{icon_path}");
    assert_eq!(icon.headers["content-type"], "image/svg+xml");
    assert!(
        icon.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert!(icon.body.contains("<rect"));
    let released = finn_opens_the_client(&mut b).await;
    assert_eq!(released.status, 303, "{}", released.body);
    let to = released.location().unwrap_or_default();
    assert!(
        to.starts_with("http://127.0.0.1:9/callback?") && to.contains("code="),
        "{to}"
    );

    // Revoked in bulk: no tile and no login from the next request on.
    l.ok(
        "POST",
        "permissions/revoke",
        Some(json!({"producten": ["rr-5"], "gebruikers": [finn]})),
        204,
    );
    assert!(!b.get("/").await.body.contains("Rekenrijk LIKA"));
    assert_eq!(finn_opens_the_client(&mut b).await.status, 403);

    // Granted again through the method's list: covers the product.
    l.ok(
        "PUT",
        "methode/rekenen/gebruiker",
        Some(json!({"gebruikers": [finn]})),
        204,
    );
    assert_eq!(finn_opens_the_client(&mut b).await.status, 303);
    l.ok("DELETE", "methode/rekenen/gebruiker", None, 204);
    assert_eq!(finn_opens_the_client(&mut b).await.status, 403);
}

#[test]
fn a_burst_of_grants_and_creates_ends_with_one_row_each_and_right_answers() {
    let demo = PartnerDemo::start();
    allow_apps(&demo, PUBLISHER);
    let l = Lika {
        demo: &demo,
        identity: &demo.publisher,
        code: PUBLISHER.into(),
    };
    l.ok("POST", "methode", Some(method("rekenen")), 201);
    // Clients made here: the demo itself stays on this thread.
    let base = format!("/hosted-lika/management/lika/{PUBLISHER}");
    let clients: Vec<_> = (0..8).map(|_| demo.client(Some(&demo.publisher))).collect();
    let start = std::sync::Barrier::new(8);
    let answers: Vec<(u16, u16)> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(i, client)| {
                let (start, base) = (&start, &base);
                s.spawn(move || {
                    start.wait();
                    let grant = json!({"gebruikers": [42, 1000 + i as i64]}).to_string();
                    let grant = client
                        .request(
                            "POST",
                            &format!("{base}/methode/rekenen/gebruiker/addlist"),
                            Some(&grant),
                        )
                        .expect("TLS");
                    let create = client
                        .request(
                            "POST",
                            &format!("{base}/methode"),
                            Some(&method("lezen").to_string()),
                        )
                        .expect("TLS");
                    (grant.status, create.status)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread"))
            .collect()
    });
    assert!(answers.iter().all(|(g, _)| *g == 204), "{answers:?}");
    let created = answers.iter().filter(|(_, c)| *c == 201).count();
    let taken = answers.iter().filter(|(_, c)| *c == 409).count();
    assert_eq!((created, taken), (1, 7), "{answers:?}");
    let mut expected = vec![42];
    expected.extend(1000..1008);
    assert_eq!(l.users("methode/rekenen/gebruiker"), expected);
    assert_eq!(l.read("methode")["methodes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_partner_token_writes_its_own_party_s_tree_and_no_other() {
    let demo = PartnerDemo::start();
    allow_apps(&demo, PUBLISHER);
    let secret = add_client(
        demo.dir.path(),
        PUBLISHER,
        "uitgeverij-lika",
        &[
            "--grant",
            "client_credentials",
            "--scope",
            "openpoort:partner",
        ],
    )
    .expect("a secret");
    let answer: Value = reqwest::Client::new()
        .post(demo.server.url("/oidc/token"))
        .basic_auth("uitgeverij-lika", Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "openpoort:partner"),
        ])
        .send()
        .await
        .expect("token endpoint")
        .json()
        .await
        .expect("JSON");
    let mut client = demo.client(None);
    client.bearer = Some(answer["access_token"].as_str().expect("a token").to_owned());
    let path = format!("/hosted-lika/management/lika/{PUBLISHER}/methode");
    let body = method("rekenen").to_string();
    let created = client.request("POST", &path, Some(&body)).expect("TLS");
    assert_eq!(created.status, 201, "{}", created.body);
    let listed = client.request("GET", &path, None).expect("TLS");
    assert_eq!(listed.json()["methodes"][0]["id"], "rekenen");
    demo.cli(&[
        "party",
        "add",
        "--code",
        "ander",
        "--kind",
        "publisher",
        "--name",
        "Ander",
    ]);
    let other = client
        .request("GET", "/hosted-lika/management/lika/ander/methode", None)
        .expect("TLS");
    assert_eq!(other.status, 403, "{}", other.body);
    client.bearer = Some("made-up".into());
    let refused = client.request("GET", &path, None).expect("TLS");
    assert_eq!(refused.status, 401, "{}", refused.body);
}
