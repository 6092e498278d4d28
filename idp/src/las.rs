//! LAS links in the server: the nightly schedule that `serve` runs. One pull with the mails it
//! calls for is [`Puller`], in `school_admin::las`, shared with Beheer and the command line.

use std::time::Duration;

use directory::Actor;
use directory::las::latest_slot;

pub use crate::school_admin::las::Puller;

use crate::clock::unix_now;

/// Pulls every switched-on link once a night at `las.pull_time` (Dutch local time), for as
/// long as the server runs. Every node runs this; the register's claim makes sure one node
/// pulls a given school per night. A failed pull is recorded and reported to the school; an
/// error of the register is logged and the next minute tries again.
pub fn spawn_las_schedule(puller: Puller, pull_minutes: u32) {
    tokio::spawn(async move {
        let actor = Actor::system("las");
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        every_minute.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every_minute.tick().await;
            let slot = latest_slot(unix_now(), pull_minutes);
            loop {
                let link = match puller.directory.claim_due_las_link(slot).await {
                    Ok(Some(link)) => link,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot claim due LAS links; retrying in a minute");
                        break;
                    }
                };
                match puller.pull(&link.school_id, false, &actor).await {
                    Ok(r) => tracing::info!(
                        school_id = %link.school_id,
                        status = r.status.as_str(),
                        "scheduled LAS pull done"
                    ),
                    Err(e) => tracing::error!(
                        school_id = %link.school_id,
                        error = %e,
                        "scheduled LAS pull could not run"
                    ),
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;
    use directory::las::{AuthorisationKey, KeyPlacement, LasVendor, NewLasLink, PullStatus};
    use directory::model::{Bestuursnummer, Brin, Email, StaffRole, Vestigingscode};
    use directory::people::NewStaff;
    use directory::schools::{NewSchool, School};

    use certs::Kek;
    use directory::Directory;
    use directory::people::StaffStatus;

    use super::*;
    use crate::config::Config;
    use crate::mail::Mailer;

    /// The LAS: answers with `.0` and, when that is 200, the project's complete 2.1 file
    /// (school location 99ZZ01, one teacher with an address).
    type Answer = Arc<Mutex<StatusCode>>;

    async fn edexml(State(answer): State<Answer>) -> (StatusCode, String) {
        let status = *answer.lock().unwrap();
        let file = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../directory/tests/edexml/complete-2.1.xml"),
        )
        .unwrap();
        (
            status,
            if status == StatusCode::OK {
                file
            } else {
                String::new()
            },
        )
    }

    fn outbox(data: &std::path::Path) -> Vec<String> {
        match std::fs::read_dir(data.join("outbox")) {
            Ok(entries) => entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn staff(d: &Directory, school_id: &str, email: &str, active: bool) {
        let op = Actor::operator_cli();
        let s = d
            .create_staff(
                &NewStaff {
                    email: Some(Email::parse(email).unwrap()),
                    achternaam: "Jansen".into(),
                    voorvoegsel: None,
                    voornamen: None,
                    roepnaam: Some("Bram".into()),
                    eck_id: None,
                },
                &op,
            )
            .await
            .unwrap();
        d.grant_role(&s.id, school_id, StaffRole::IctCoordinator, &op)
            .await
            .unwrap();
        if active {
            d.set_staff_status(&s.id, StaffStatus::Active, &op)
                .await
                .unwrap();
        }
    }

    /// A LAS that answers every request with `size` bytes of XML.
    async fn las_answering(size: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/edexml", listener.local_addr().unwrap());
        let body = format!("<EDEX>{}</EDEX>", " ".repeat(size.saturating_sub(13)));
        let app = Router::new().route("/edexml", get(move || async move { body }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        endpoint
    }

    /// An ESIS link of `school` to `endpoint`, switched on by the school.
    async fn esis_link_switched_on(
        d: &Directory,
        school: &str,
        endpoint: String,
        kek: &Kek,
        op: &Actor,
    ) {
        d.add_las_link(
            school,
            &NewLasLink {
                vendor: LasVendor::Esis,
                endpoint,
                placement: KeyPlacement::bearer(),
                key: AuthorisationKey::new("k").unwrap(),
            },
            kek,
            op,
        )
        .await
        .unwrap();
        d.set_las_enabled(school, true, op).await.unwrap();
    }

    /// Board 99999 and its school location 99ZZ01, the school of these tests.
    async fn dependance(d: &Directory, op: &Actor) -> School {
        let nummer = Bestuursnummer::parse("99999").unwrap();
        d.create_board(&nummer, "Stichting", op).await.unwrap();
        d.create_school(
            &NewSchool {
                bestuursnummer: nummer,
                brin: Brin::parse("99ZZ").unwrap(),
                vestigingscode: Vestigingscode::parse("01").unwrap(),
                name: "De Dependance".into(),
            },
            op,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_las_answer_over_import_max_mib_is_refused_and_audited() {
        let data = tempfile::tempdir().unwrap();
        let (d, _db) = directory::testing::sqlite().await;
        let op = Actor::operator_cli();
        let school = dependance(&d, &op).await;
        // Under the built-in 64 MiB, over the operator's 1 MiB.
        let endpoint = las_answering(2 * 1024 * 1024).await;
        let mut config = Config::default();
        config.server.mode = crate::config::Mode::Development;
        config.storage.data_dir = data.path().to_owned();
        config.import.max_mib = 1;
        let kek = Kek::generate();
        let mailer = Mailer::new(&config.mail, data.path()).unwrap();
        let puller = Puller::new(&config, d.clone(), mailer, kek.clone()).unwrap();
        esis_link_switched_on(&d, &school.id, endpoint, &kek, &op).await;

        let r = puller
            .pull(&school.id, false, &Actor::system("las"))
            .await
            .unwrap();
        assert_eq!(r.status, PullStatus::TooLarge, "{:?}", r.message);
        let message = r.message.unwrap();
        assert!(message.contains("1048576 bytes"), "{message}");
        let audit = d.audit_of_school(&school.id, 10).await.unwrap();
        let failed = audit
            .iter()
            .find(|e| e.action == "las.pull_failed")
            .expect("the refused pull is audited");
        assert_eq!(failed.details["status"], "too_large");
    }

    #[tokio::test]
    async fn a_failure_streak_mails_active_ict_coordinators_once_and_a_good_pull_invites_new_staff()
    {
        let data = tempfile::tempdir().unwrap();
        let (d, _db) = directory::testing::sqlite().await;
        let op = Actor::operator_cli();
        let school = dependance(&d, &op).await;
        staff(&d, &school.id, "ict@school.example.nl", true).await;
        staff(&d, &school.id, "nog-niet-actief@school.example.nl", false).await;

        let answer: Answer = Arc::new(Mutex::new(StatusCode::UNAUTHORIZED));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/edexml", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/edexml", get(edexml))
            .with_state(answer.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let mut config = Config::default();
        // The LAS of this test answers on loopback, which only development mode allows.
        config.server.mode = crate::config::Mode::Development;
        config.storage.data_dir = data.path().to_owned();
        let kek = Kek::generate();
        let mailer = Mailer::new(&config.mail, data.path()).unwrap();
        let puller = Puller::new(&config, d.clone(), mailer, kek.clone()).unwrap();
        esis_link_switched_on(&d, &school.id, endpoint, &kek, &op).await;
        let las = Actor::system("las");

        for _night in 0..3 {
            let r = puller.pull(&school.id, false, &las).await.unwrap();
            assert_eq!(r.status, PullStatus::Refused);
        }
        let mails = outbox(data.path());
        assert_eq!(
            mails.len(),
            1,
            "one mail for the streak, to the active coordinator"
        );
        assert!(mails[0].contains("ict@school.example.nl"));
        assert!(mails[0].contains("LAS-koppeling mislukt"));
        assert!(mails[0].contains("ESIS"));

        *answer.lock().unwrap() = StatusCode::OK;
        let r = puller.pull(&school.id, false, &las).await.unwrap();
        assert_eq!(r.status, PullStatus::Ok, "{:?}", r.message);
        let mails = outbox(data.path());
        assert_eq!(mails.len(), 2, "plus the new teacher's activation mail");
        assert!(mails.iter().any(|m| m.contains("/activeren?token=")));

        *answer.lock().unwrap() = StatusCode::BAD_GATEWAY;
        puller.pull(&school.id, false, &las).await.unwrap();
        assert_eq!(outbox(data.path()).len(), 3, "a new streak, a new mail");
    }
}
