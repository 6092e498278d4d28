//! LAS links on SQLite and PostgreSQL, against a LAS played by a local HTTP server: a link
//! pulls only when the school switched it on, learns from the LAS whether it accepts the key,
//! imports whole or not at all, and asks for one mail per failure streak.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use certs::Kek;
use directory::edexml::Limits;
use directory::las::{
    AuthorisationKey, HttpsConnector, KeyPlacement, LasConnector, LasError, LasRequest, LasVendor,
    NewLasLink, PullStatus, check_endpoint, latest_slot,
};
use directory::model::*;
use directory::outbound::OutboundPolicy;
use directory::schools::NewSchool;
use directory::{Actor, Directory, DirectoryError, on_both_backends};

const KEY: &str = "school-key-7f3a9c";

fn reference() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): the project's shared/ folder must sit beside the checkout",
            path.display()
        )
    })
}

/// What the pretend LAS answers, and what it saw.
struct Las {
    status: StatusCode,
    body: Vec<u8>,
    /// The header and value it requires; anything else gets 401.
    required: (String, String),
    requests: usize,
}

type Shared = Arc<Mutex<Las>>;

async fn edexml(State(las): State<Shared>, headers: HeaderMap) -> (StatusCode, Vec<u8>) {
    let mut las = las.lock().unwrap();
    las.requests += 1;
    let (name, value) = las.required.clone();
    if headers.get(name.as_str()).and_then(|v| v.to_str().ok()) != Some(value.as_str()) {
        return (StatusCode::UNAUTHORIZED, Vec::new());
    }
    (las.status, las.body.clone())
}

/// Starts the LAS on a free loopback port; returns its endpoint.
async fn start_las(las: Shared) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/edexml", get(edexml)).with_state(las);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/edexml")
}

fn las_with(body: String) -> Shared {
    Arc::new(Mutex::new(Las {
        status: StatusCode::OK,
        body: body.into_bytes(),
        required: ("authorization".into(), format!("Bearer {KEY}")),
        requests: 0,
    }))
}

async fn school(d: &Directory) -> String {
    let op = Actor::operator_cli();
    let nummer = Bestuursnummer::parse("99999").unwrap();
    d.create_board(&nummer, "Stichting", &op).await.unwrap();
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse("00").unwrap(),
            name: "Voorbeeldschool".into(),
        },
        &op,
    )
    .await
    .unwrap()
    .id
}

async fn link(d: &Directory, school_id: &str, endpoint: &str, kek: &Kek, on: bool) {
    let op = Actor::operator_cli();
    d.add_las_link(
        school_id,
        &NewLasLink {
            vendor: LasVendor::ParnasSys,
            endpoint: endpoint.into(),
            placement: KeyPlacement::bearer(),
            key: AuthorisationKey::new(KEY).unwrap(),
        },
        kek,
        &op,
    )
    .await
    .unwrap();
    if on {
        d.set_las_enabled(school_id, true, &op).await.unwrap();
    }
}

/// The connector of development mode, where the LAS of these tests may answer on loopback.
fn connector() -> HttpsConnector {
    HttpsConnector::new(
        std::time::Duration::from_secs(5),
        OutboundPolicy::new(true, Vec::new()),
    )
    .unwrap()
}

async fn active_pupils(d: &Directory, school_id: &str) -> Vec<String> {
    let mut keys: Vec<String> = d
        .pupils_of_school(school_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.active)
        .map(|p| p.las_key)
        .collect();
    keys.sort();
    keys
}

async fn pull(
    d: &Directory,
    school_id: &str,
    kek: &Kek,
    limits: &Limits,
) -> directory::las::PullResult {
    d.pull_las(
        school_id,
        &connector(),
        kek,
        limits,
        false,
        &Actor::system("las"),
    )
    .await
    .unwrap()
}

on_both_backends! {
    async fn las_pull_imports_the_file_and_marks_the_link_active(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        link(&d, &school_id, &start_las(las.clone()).await, &kek, true).await;
        assert!(!d.las_link_of_school(&school_id).await.unwrap().unwrap().is_active(), "not active before the LAS answered");

        let result = pull(&d, &school_id, &kek, &Limits::default()).await;
        assert_eq!(result.status, PullStatus::Ok, "{:?}", result.message);
        let file = directory::edexml::parse(reference().as_bytes(), &Limits::default()).unwrap();
        let mut in_file: Vec<String> = file.pupils.iter().map(|p| p.key.to_string()).collect();
        in_file.sort();
        assert_eq!(result.report.unwrap().pupils.added, in_file);
        assert_eq!(active_pupils(&d, &school_id).await, in_file);
        let link = d.las_link_of_school(&school_id).await.unwrap().unwrap();
        assert!(link.is_active() && link.last_success_at.is_some() && link.failing_since.is_none());
        assert_eq!(las.lock().unwrap().requests, 1);
    }
}

on_both_backends! {
    async fn las_pull_with_refused_key_marks_link_not_accepted_and_changes_nothing(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        las.lock().unwrap().required.1 = "Bearer another-key".into();
        link(&d, &school_id, &start_las(las.clone()).await, &kek, true).await;

        let result = pull(&d, &school_id, &kek, &Limits::default()).await;
        assert_eq!(result.status, PullStatus::Refused);
        assert!(result.report.is_none() && result.notify);
        assert!(result.message.unwrap().contains("weigert de autorisatiesleutel"));
        let link = d.las_link_of_school(&school_id).await.unwrap().unwrap();
        assert_eq!(link.accepted_by_las, Some(false));
        assert!(!link.is_active());
        assert!(active_pupils(&d, &school_id).await.is_empty());
        let audit = d.audit_of_school(&school_id, 10).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "las.pull_failed"));
    }
}

on_both_backends! {
    async fn link_switched_off_by_school_is_not_pulled(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        let endpoint = start_las(las.clone()).await;
        // Added but never switched on: neither the schedule nor a manual pull fetches it.
        link(&d, &school_id, &endpoint, &kek, false).await;
        let far_future = 4_102_444_800; // 2100-01-01
        assert!(d.claim_due_las_link(far_future).await.unwrap().is_none());
        let err = d.pull_las(&school_id, &connector(), &kek, &Limits::default(), false, &Actor::system("las")).await.unwrap_err();
        assert!(matches!(err, DirectoryError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("staat uit"), "{err}");

        // On, then off again (as during a merge): the same.
        let op = Actor::operator_cli();
        d.set_las_enabled(&school_id, true, &op).await.unwrap();
        d.set_las_enabled(&school_id, false, &op).await.unwrap();
        assert!(d.claim_due_las_link(far_future).await.unwrap().is_none());
        assert!(d.pull_las(&school_id, &connector(), &kek, &Limits::default(), false, &op).await.is_err());
        assert_eq!(las.lock().unwrap().requests, 0);
        assert!(active_pupils(&d, &school_id).await.is_empty());
    }
}

on_both_backends! {
    async fn a_scheduled_pull_is_claimed_by_one_node_only_once_per_slot(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        link(&d, &school_id, "https://las.example.nl/edexml", &kek, true).await;
        // The slot the link was switched on in has passed already: nothing is due.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!(d.claim_due_las_link(now - 60).await.unwrap().is_none());
        // The next slot: two nodes ask at once, one gets it.
        let slot = now + 1;
        let other = d.clone();
        let (a, b) = tokio::join!(d.claim_due_las_link(slot), other.claim_due_las_link(slot));
        let claimed = [a.unwrap(), b.unwrap()].into_iter().flatten().count();
        assert_eq!(claimed, 1);
        assert!(d.claim_due_las_link(slot).await.unwrap().is_none(), "claimed once per slot");
        // A day later it is due again.
        assert!(d.claim_due_las_link(slot + 86_400).await.unwrap().is_some());
    }
}

on_both_backends! {
    async fn failure_mail_is_due_once_per_failure_streak(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        las.lock().unwrap().status = StatusCode::SERVICE_UNAVAILABLE;
        link(&d, &school_id, &start_las(las.clone()).await, &kek, true).await;
        let limits = Limits::default();

        let first = pull(&d, &school_id, &kek, &limits).await;
        assert_eq!(first.status, PullStatus::Unreachable);
        assert!(first.notify);
        let link = d.las_link_of_school(&school_id).await.unwrap().unwrap();
        assert_eq!(link.accepted_by_las, None, "no answer says nothing about the key");
        d.las_failure_notified(&link, 1).await.unwrap();
        assert!(!pull(&d, &school_id, &kek, &limits).await.notify, "the second night of the streak mails nobody");

        las.lock().unwrap().status = StatusCode::OK;
        assert!(!pull(&d, &school_id, &kek, &limits).await.notify);
        las.lock().unwrap().status = StatusCode::INTERNAL_SERVER_ERROR;
        assert!(pull(&d, &school_id, &kek, &limits).await.notify, "a new streak after a success");
    }
}

on_both_backends! {
    async fn a_bad_file_from_the_las_changes_nothing(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        link(&d, &school_id, &start_las(las.clone()).await, &kek, true).await;
        let limits = Limits::default();
        assert_eq!(pull(&d, &school_id, &kek, &limits).await.status, PullStatus::Ok);
        let before = active_pupils(&d, &school_id).await;

        // A dangling group reference, and a pupil fewer: nothing of it may be applied.
        let broken = reference().replacen("<groep key=\"GRP4B\"/>", "<groep key=\"NOPE\"/>", 1);
        let start = broken.find("<leerling key=\"00002\"").unwrap();
        let end = broken[start..].find("</leerling>").unwrap() + start + "</leerling>".len();
        las.lock().unwrap().body = format!("{}{}", &broken[..start], &broken[end..]).into_bytes();
        let result = pull(&d, &school_id, &kek, &limits).await;
        assert_eq!(result.status, PullStatus::BadFile);
        assert!(result.message.unwrap().contains("NOPE"));
        assert_eq!(active_pupils(&d, &school_id).await, before);
        assert_eq!(d.las_link_of_school(&school_id).await.unwrap().unwrap().accepted_by_las, Some(true));

        // A valid file of another school location is refused too.
        las.lock().unwrap().body = reference().replacen("<brincode>99ZZ</brincode>", "<brincode>98ZZ</brincode>", 1).into_bytes();
        let result = pull(&d, &school_id, &kek, &limits).await;
        assert_eq!(result.status, PullStatus::BadFile);
        assert!(result.message.unwrap().contains("98ZZ00"));
        assert_eq!(active_pupils(&d, &school_id).await, before);
    }
}

on_both_backends! {
    async fn a_file_over_the_import_size_limit_is_refused_unread(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        link(&d, &school_id, &start_las(las.clone()).await, &kek, true).await;
        let small = Limits { max_bytes: 1024 };
        let result = pull(&d, &school_id, &kek, &small).await;
        assert_eq!(result.status, PullStatus::TooLarge);
        assert!(active_pupils(&d, &school_id).await.is_empty());
    }
}

on_both_backends! {
    async fn the_key_is_sent_as_configured_and_never_stored_or_audited_in_the_clear(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        let las = las_with(reference());
        las.lock().unwrap().required = ("x-api-key".into(), KEY.into());
        let endpoint = start_las(las.clone()).await;
        d.add_las_link(&school_id, &NewLasLink {
            vendor: LasVendor::Generic,
            endpoint,
            placement: KeyPlacement::new("X-Api-Key", None).unwrap(),
            key: AuthorisationKey::new(KEY).unwrap(),
        }, &kek, &Actor::operator_cli()).await.unwrap();
        d.set_las_enabled(&school_id, true, &Actor::operator_cli()).await.unwrap();
        assert_eq!(pull(&d, &school_id, &kek, &Limits::default()).await.status, PullStatus::Ok);

        let link = d.las_link_of_school(&school_id).await.unwrap().unwrap();
        assert!(!format!("{link:?}").contains(KEY));
        for e in d.audit_of_school(&school_id, 100).await.unwrap() {
            assert!(!format!("{e:?}").contains(KEY), "{e:?}");
        }
        assert_eq!(d.open_las_key(&link, &kek).unwrap().expose(), KEY);
        assert!(!format!("{:?}", d.open_las_key(&link, &kek).unwrap()).contains(KEY));
        // Another key-encryption key cannot open it, and says what to do.
        let err = d.open_las_key(&link, &Kek::generate()).unwrap_err();
        assert!(err.to_string().contains("keys.kek"), "{err}");
    }
}

on_both_backends! {
    async fn an_unreachable_las_is_reported_and_changes_nothing(d: Directory) {
        let school_id = school(&d).await;
        let kek = Kek::generate();
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        link(&d, &school_id, &format!("http://127.0.0.1:{port}/edexml"), &kek, true).await;
        let result = pull(&d, &school_id, &kek, &Limits::default()).await;
        assert_eq!(result.status, PullStatus::Unreachable);
        assert!(result.message.unwrap().contains("niet bereikbaar"));
        assert!(active_pupils(&d, &school_id).await.is_empty());
    }
}

/// One request of the connector, outside the register: what is under test is where it connects.
async fn fetch_with(connector: &HttpsConnector, endpoint: &str) -> Result<Vec<u8>, LasError> {
    let endpoint = url::Url::parse(endpoint).unwrap();
    connector
        .fetch(&LasRequest {
            school_code: "99ZZ00",
            vendor: LasVendor::ParnasSys,
            endpoint: &endpoint,
            placement: &KeyPlacement::bearer(),
            key: &AuthorisationKey::new(KEY).unwrap(),
            max_bytes: 1024 * 1024,
        })
        .await
}

#[tokio::test]
async fn a_las_on_an_internal_address_is_not_connected_to_in_production() {
    let las = las_with(reference());
    let endpoint = start_las(las.clone()).await;
    let port = endpoint
        .trim_end_matches("/edexml")
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let production = HttpsConnector::new(
        std::time::Duration::from_secs(5),
        OutboundPolicy::new(false, Vec::new()),
    )
    .unwrap();
    for refused in [
        // An address written in the URL, and a name that resolves to loopback, as a host name a
        // DNS answer turns internal would.
        format!("https://127.0.0.1:{port}/edexml"),
        format!("https://localhost:{port}/edexml"),
        // Plain http is not fetched outside development mode.
        format!("http://127.0.0.1:{port}/edexml"),
    ] {
        let err = fetch_with(&production, &refused).await.unwrap_err();
        assert!(
            matches!(err, LasError::Unreachable { .. }),
            "{refused}: {err}"
        );
    }
    assert_eq!(las.lock().unwrap().requests, 0, "nothing reached the LAS");
    // The LAS was there to be reached: development mode, which allows loopback and http, pulls
    // the same endpoint.
    fetch_with(&connector(), &endpoint).await.unwrap();
    assert_eq!(las.lock().unwrap().requests, 1);
}

#[test]
fn only_https_endpoints_are_accepted_except_on_this_machine() {
    assert!(check_endpoint("https://las.example.nl/edexml").is_ok());
    assert!(check_endpoint("http://127.0.0.1:8080/edexml").is_ok());
    assert!(check_endpoint("http://localhost/edexml").is_ok());
    assert!(check_endpoint("http://[::1]/edexml").is_ok());
    for bad in [
        "http://las.example.nl/edexml",
        "ftp://las.example.nl/edexml",
        "https://user:pw@las.example.nl/edexml",
        "las.example.nl/edexml",
    ] {
        let err = check_endpoint(bad).unwrap_err();
        assert!(err.to_string().contains("endpoint"), "{bad}: {err}");
    }
}

#[test]
fn a_key_that_cannot_travel_in_a_header_is_refused_without_quoting_it() {
    let err = AuthorisationKey::new("with space inside").unwrap_err();
    assert!(!err.to_string().contains("space inside"), "{err}");
    assert!(AuthorisationKey::new("").is_err());
    assert!(KeyPlacement::new("Host", None).is_err());
    assert!(KeyPlacement::new("X Api", None).is_err());
    assert!(KeyPlacement::new("X-Api-Key", Some("Token")).is_ok());
}

#[test]
fn the_nightly_slot_is_in_dutch_local_time_summer_and_winter() {
    // 2026-01-15 12:00 UTC (CET): the latest 02:30 was 01:30 UTC that day.
    let winter_noon = 1_768_478_400;
    assert_eq!(latest_slot(winter_noon, 150), 1_768_440_600);
    // 2026-07-15 12:00 UTC (CEST): 02:30 local is 00:30 UTC.
    let summer_noon = 1_784_116_800;
    assert_eq!(latest_slot(summer_noon, 150), 1_784_075_400);
    // Just before the slot, the latest is the day before.
    assert_eq!(latest_slot(1_784_075_399, 150), 1_784_075_400 - 86_400);
    assert_eq!(latest_slot(1_784_075_400, 150), 1_784_075_400);
}

on_both_backends! {
    async fn a_merged_school_is_neither_claimed_nor_pulled_though_its_link_is_on(d: Directory) {
        let school_id = school(&d).await;
        let op = Actor::operator_cli();
        d.create_school(&NewSchool {
            bestuursnummer: Bestuursnummer::parse("99999").unwrap(),
            brin: Brin::parse("99ZZ").unwrap(),
            vestigingscode: Vestigingscode::parse("01").unwrap(),
            name: "Fusieschool".into(),
        }, &op).await.unwrap();
        let kek = Kek::generate();
        let las = las_with(reference());
        link(&d, &school_id, &start_las(las.clone()).await, &kek, true).await;
        d.merge_schools(&SchoolCode::parse("99ZZ00").unwrap(), &SchoolCode::parse("99ZZ01").unwrap(), false, &op).await.unwrap();

        assert!(d.claim_due_las_link(4_102_444_800).await.unwrap().is_none());
        let err = d.pull_las(&school_id, &connector(), &kek, &Limits::default(), false, &op).await.unwrap_err();
        assert!(err.to_string().contains("samengevoegd"), "{err}");
        assert_eq!(las.lock().unwrap().requests, 0);
    }
}

on_both_backends! {
    async fn every_registered_link_is_listed_once_switched_on_or_not(d: Directory) {
        let kek = Kek::generate();
        let school_id = school(&d).await;
        assert!(d.las_links().await.unwrap().is_empty());
        link(&d, &school_id, "https://las.example/edexml", &kek, false).await;
        let links = d.las_links().await.unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!((links[0].school_id.as_str(), links[0].enabled_by_school), (school_id.as_str(), false));
    }
}
