//! LAS links in the server and on the command line: one pull with the mails it calls for, and
//! the nightly schedule that `serve` runs.

use std::time::Duration;

use certs::Kek;
use directory::credentials::TokenPurpose;
use directory::edexml::Limits;
use directory::import::ImportReport;
use directory::las::{HttpsConnector, PullResult, latest_slot};
use directory::people::StaffStatus;
use directory::{Actor, Directory};

use crate::app::AppError;
use crate::clock::unix_now;
use crate::config::Config;
use crate::links::send_link;
use crate::mail::{Mailer, las_failure_message};

/// Everything a pull needs; cheap to clone into the schedule's task.
#[derive(Clone)]
pub struct Puller {
    pub directory: Directory,
    mailer: Mailer,
    kek: Kek,
    public_url: String,
    connector: HttpsConnector,
    /// `import.max_mib`: a LAS's answer is held to the same bound as a file the operator
    /// imports, and read no further than that.
    limits: Limits,
}

impl Puller {
    pub fn new(
        config: &Config,
        directory: Directory,
        mailer: Mailer,
        kek: Kek,
    ) -> Result<Puller, AppError> {
        let connector = HttpsConnector::new(
            Duration::from_secs(config.las.timeout_seconds),
            config.outbound_policy(),
        )
        .map_err(|e| AppError::Usage(e.to_string()))?;
        Ok(Puller {
            directory,
            mailer,
            kek,
            public_url: config.server.public_url.clone(),
            connector,
            limits: Limits {
                max_bytes: config.import.max_bytes(),
            },
        })
    }

    /// Pulls one school's file and imports it (whole or nothing). A failure that starts a
    /// streak is mailed to the school's ICT-coördinators; new staff of an applied import get
    /// their activation mail. Mail problems are logged: the pull itself has happened.
    pub async fn pull(
        &self,
        school_id: &str,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<PullResult, AppError> {
        let result = self
            .directory
            .pull_las(
                school_id,
                &self.connector,
                &self.kek,
                &self.limits,
                dry_run,
                actor,
            )
            .await?;
        // A dry run is someone looking, not the school's data going stale: it mails nobody,
        // and a real pull that fails next still starts the streak's mail.
        if result.notify && !dry_run {
            self.mail_failure(school_id, result.message.as_deref().unwrap_or_default())
                .await?;
        }
        if let Some(report) = &result.report
            && report.applied
        {
            self.invite_new_staff(report, actor).await;
        }
        Ok(result)
    }

    async fn mail_failure(&self, school_id: &str, message: &str) -> Result<(), AppError> {
        let d = &self.directory;
        let (Some(link), Some(school)) = (
            d.las_link_of_school(school_id).await?,
            d.school_by_id(school_id).await?,
        ) else {
            return Ok(());
        };
        let school_name = format!("{} ({})", school.name, school.code());
        let mut sent = 0;
        for admin in d.administrators_of(school_id).await? {
            let (Some(to), StaffStatus::Active) = (admin.email.as_deref(), admin.status) else {
                continue;
            };
            let name = admin
                .roepnaam
                .as_deref()
                .or(admin.voornamen.as_deref())
                .unwrap_or("");
            let delivered = match las_failure_message(
                self.mailer.from(),
                to,
                name,
                &school_name,
                link.vendor.display_name(),
                message,
            ) {
                Ok(mail) => self.mailer.send(mail).await,
                Err(e) => Err(e),
            };
            match delivered {
                Ok(()) => sent += 1,
                Err(e) => {
                    tracing::error!(school = %school.code(), staff = %admin.id, error = %e, "cannot mail a LAS failure")
                }
            }
        }
        if sent == 0 {
            // Not marked as told: the next failure of this streak tries again.
            tracing::warn!(school = %school.code(), "LAS pull failed and no ICT-coördinator with an active account and address could be mailed");
            return Ok(());
        }
        d.las_failure_notified(&link, sent).await?;
        Ok(())
    }

    async fn invite_new_staff(&self, report: &ImportReport, actor: &Actor) {
        for id in &report.to_invite {
            let staff = match self.directory.staff_by_id(id).await {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(staff = %id, error = %e, "cannot read new staff member for the activation mail");
                    continue;
                }
            };
            if let Err(e) = send_link(
                &self.directory,
                &self.mailer,
                &self.public_url,
                &staff,
                TokenPurpose::Activation,
                actor,
            )
            .await
            {
                tracing::error!(staff = %id, error = %e, "activation mail after a LAS import not sent");
            }
        }
    }
}

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

    use super::*;

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
