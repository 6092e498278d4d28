//! The school's link to its LAS (leerlingadministratiesysteem): which LAS, the authorisation
//! key, the school's switch, and a pull now. [`Puller`] is one pull with the mails it calls for,
//! shared with the nightly schedule (`crate::las`) and the command line.

use std::time::Duration;

use certs::Kek;
use directory::credentials::TokenPurpose;
use directory::edexml::Limits;
use directory::import::ImportReport;
use directory::las::{
    AuthorisationKey, HttpsConnector, KeyPlacement, LasError, LasLink, LasVendor, NewLasLink,
    PullResult,
};
use directory::people::StaffStatus;
use directory::{Actor, Directory, DirectoryError};

use super::{AdminError, Administered};
use crate::app_state::AppState;
use crate::config::Config;
use crate::links::send_link;
use crate::mail::{Mailer, las_failure_message};

/// The school's link, if it has one.
pub async fn link(d: &Directory, a: &Administered) -> Result<Option<LasLink>, AdminError> {
    Ok(d.las_link_of_school(&a.school.id).await?)
}

/// Registers the school's link. It starts switched off, whoever adds it: the school switches it
/// on when ready.
pub async fn add(
    d: &Directory,
    kek: &Kek,
    a: &Administered,
    new: &NewLasLink,
) -> Result<LasLink, AdminError> {
    Ok(d.add_las_link(&a.school.id, new, kek, &a.actor).await?)
}

/// A link as typed on the Beheer page: the LAS by name, its address, and the key it gave the
/// school, sent as a bearer token.
pub fn new_link(vendor: &str, endpoint: &str, key: &str) -> Result<NewLasLink, AdminError> {
    Ok(NewLasLink {
        vendor: LasVendor::parse(vendor)?,
        endpoint: endpoint.trim().to_owned(),
        placement: KeyPlacement::bearer(),
        key: authorisation_key(key)?,
    })
}

/// A new key (the school issued one in its LAS); what the LAS thought of the old one no longer
/// counts.
pub async fn set_key(
    d: &Directory,
    kek: &Kek,
    a: &Administered,
    key: &AuthorisationKey,
) -> Result<(), AdminError> {
    Ok(d.set_las_key(&a.school.id, key, kek, &a.actor).await?)
}

/// The key as typed: surrounding spaces (from copying it) left out.
pub fn authorisation_key(key: &str) -> Result<AuthorisationKey, AdminError> {
    if key.trim().is_empty() {
        return Err(AdminError::refused(
            "Vul de autorisatiesleutel in die het LAS voor openpoort heeft gemaakt.",
            "Fill in the authorisation key the LAS made for openpoort.",
        ));
    }
    Ok(AuthorisationKey::new(key.trim())?)
}

/// The school's side of the link.
pub async fn switch(d: &Directory, a: &Administered, on: bool) -> Result<(), AdminError> {
    Ok(d.set_las_enabled(&a.school.id, on, &a.actor).await?)
}

/// Pulls the school's file now and imports it, as the nightly pull would (the outcome is
/// recorded on the link and audited).
pub async fn pull_now(state: &AppState, a: &Administered) -> Result<PullResult, AdminError> {
    let connector = HttpsConnector::new(state.api.las_timeout, state.api.outbound.clone())
        .map_err(|e| AdminError::refused(e.to_string(), e.to_string()))?;
    let puller = Puller::with(
        state.directory.clone(),
        state.mailer.clone(),
        state.keys.kek().clone(),
        state.web.public_url.clone(),
        connector,
        Limits {
            max_bytes: state.api.edexml_max_bytes,
        },
    );
    Ok(puller.pull(&a.school.id, false, &a.actor).await?)
}

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
    ) -> Result<Puller, LasError> {
        let connector = HttpsConnector::new(
            Duration::from_secs(config.las.timeout_seconds),
            config.outbound_policy(),
        )?;
        Ok(Puller::with(
            directory,
            mailer,
            kek,
            config.server.public_url.clone(),
            connector,
            Limits {
                max_bytes: config.import.max_bytes(),
            },
        ))
    }

    pub fn with(
        directory: Directory,
        mailer: Mailer,
        kek: Kek,
        public_url: String,
        connector: HttpsConnector,
        limits: Limits,
    ) -> Puller {
        Puller {
            directory,
            mailer,
            kek,
            public_url,
            connector,
            limits,
        }
    }

    /// Pulls one school's file and imports it (whole or nothing). A failure that starts a
    /// streak is mailed to the school's ICT-coördinators; new staff of an applied import get
    /// their activation mail. Mail problems are logged: the pull itself has happened.
    pub async fn pull(
        &self,
        school_id: &str,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<PullResult, DirectoryError> {
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

    async fn mail_failure(&self, school_id: &str, message: &str) -> Result<(), DirectoryError> {
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
