//! Beheer: what staff do for their school in the browser. The pupils (`pupils`: groups,
//! pictures, home codes) are for teachers of their own groups and the ICT-coördinator; the
//! ICT-coördinator also switches picture passwords and home login on or off for the school
//! (here), and sets the school's network (`network`), the parties it consents to (`parties`) and
//! where its pupils and staff come from (`imports`: EDEXML uploads and the LAS link).
//!
//! A teacher manages the groups they are linked to; the ICT-coördinator every group of the
//! school. Everything acts on the school chosen in the session; the rules themselves are in
//! `crate::school_admin`, shared with the admin API and the CLI.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;

use crate::app_state::AppState;
use crate::http::{Csrf, Desk, FormView, PageError, Text, see};
use crate::school_admin::{AdminError, Administered};
use crate::session::SchoolManager;

mod imports;
mod material;
mod network;
mod parties;
mod privacy;
mod pupils;
mod staff;

pub use imports::{apply, pull_las, save_las, switch_las, upload, user_data};
pub use material::{material, shortcuts_zip};
pub use network::{add_range, network, remove_range};
pub use parties::{NetworkProviders, Publishers, decline_request, party_page, save_consents};
pub use privacy::{accept_agreement, privacy, privacy_csv};
pub use pupils::{
    bulk_pictures, group, group_codes, overview, pupil_code, set_picture, unlock, void_code,
};
pub use staff::{
    add_staff, deactivate, invite, link_group, person, reset_factor, set_email, set_policy,
    set_roles, staff_list, unlink_group,
};

fn not_allowed() -> PageError {
    SchoolManager::not_allowed()
}

/// The head of every Beheer page: which school, the way to another one for those at several,
/// and the sections this administrator may open.
pub struct Nav {
    school: String,
    several_schools: bool,
    ict: bool,
    current: &'static str,
}

impl Nav {
    fn of(m: &SchoolManager, current: &'static str) -> Nav {
        Nav {
            school: format!("{} ({})", m.school.name, m.school.code()),
            several_schools: m.several_schools,
            ict: m.ict,
            current,
        }
    }
}

/// An ICT-coördinator of the school chosen in the session: the school's own settings need one.
/// Other staff get the refusal every Beheer page gives.
pub struct Administering {
    pub manager: SchoolManager,
    pub admin: Administered,
}

impl FromRequestParts<AppState> for Administering {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let manager = SchoolManager::from_request_parts(parts, state).await?;
        let admin =
            Administered::by_staff(&state.directory, &manager.staff_id, &manager.school.id).await?;
        Ok(Administering { manager, admin })
    }
}

impl Administering {
    fn nav(&self, current: &'static str) -> Nav {
        Nav::of(&self.manager, current)
    }
}

/// The ICT-coördinator at one of the school's own pages, with the state and the form token.
pub type SchoolAdmin = Desk<Administering>;

/// The form again with a refusal beside what was typed; anything else is the error page's.
fn again<F>(e: AdminError, form: F) -> Result<FormView<F>, AdminError> {
    match e {
        AdminError::Refused { nl, en } | AdminError::Conflict { nl, en } => {
            Ok(FormView::refused(Text::new(nl, en), form))
        }
        other => Err(other),
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    picture_password: Option<String>,
    home_login: Option<String>,
}

pub async fn settings(
    s: SchoolAdmin,
    Csrf(form): Csrf<SettingsForm>,
) -> Result<Response, PageError> {
    crate::school_admin::pupils::set_login_methods(
        s.directory(),
        &s.admin,
        crate::school_admin::pupils::LoginMethods {
            picture_password: form.picture_password.is_some(),
            home_login: form.home_login.is_some(),
        },
    )
    .await?;
    Ok(see("/beheer"))
}
