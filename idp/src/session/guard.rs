//! Extractors that require a session, so that a handler cannot forget to ask for one: a page
//! behind one of these is reached signed in or not at all.
//!
//! Without a session a page read (GET, HEAD) is sent to the login; a form of the staff pages
//! posted with a session that expired meanwhile is sent there with "sessie verlopen", so the
//! user knows why. A page that works with or without a session takes `Option<SignedIn>` or
//! `Option<SignedInStaff>`: `None` then means no such session, and only a failure to read the
//! session store refuses the request.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};

use directory::Actor;
use directory::model::StaffRole;
use directory::people::Group;
use directory::schools::School;

use super::{Session, SessionError, Who, load};
use crate::app_state::AppState;
use crate::http::{PageError, Text, message, see_other};

impl From<SessionError> for PageError {
    fn from(e: SessionError) -> PageError {
        PageError::internal(e)
    }
}

fn to_login(method: &Method) -> PageError {
    let location = if method == Method::GET || method == Method::HEAD {
        "/inloggen"
    } else {
        "/inloggen?melding=sessie-verlopen"
    };
    see_other(location, HeaderMap::new()).into()
}

/// Anyone signed in: a staff member or a pupil.
pub struct SignedIn(pub Session);

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, PageError> {
        Ok(load(state, &parts.headers).await?.map(SignedIn))
    }
}

/// A signed-in staff member; a pupil's session does not count here.
pub struct SignedInStaff {
    pub session: Session,
    pub staff_id: String,
}

impl OptionalFromRequestParts<AppState> for SignedInStaff {
    type Rejection = PageError;

    /// `None` for no session and for a pupil's session alike.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, PageError> {
        Ok(load(state, &parts.headers).await?.and_then(|session| {
            let staff_id = session.data.staff_id()?.to_owned();
            Some(SignedInStaff { session, staff_id })
        }))
    }
}

/// Guards that must hold: their `Option` form, with `None` sent to the login.
macro_rules! required {
    ($($guard:ty),* $(,)?) => {
        $(impl FromRequestParts<AppState> for $guard {
            type Rejection = PageError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, PageError> {
                match <$guard as OptionalFromRequestParts<AppState>>::from_request_parts(
                    parts, state,
                )
                .await?
                {
                    Some(guard) => Ok(guard),
                    None => Err(to_login(&parts.method)),
                }
            }
        })*
    };
}

required!(SignedIn, SignedInStaff);

/// A staff member acting for the school chosen in their session, with what they may manage
/// there: the groups they are linked to, or as ICT-coördinator every group of the school.
pub struct SchoolManager {
    pub staff_id: String,
    pub school: School,
    pub ict: bool,
    pub groups: Vec<Group>,
    /// Whether they work at more than one school, so the pages offer to switch.
    pub several_schools: bool,
}

impl SchoolManager {
    pub fn actor(&self) -> Actor {
        Actor::staff(&self.staff_id)
    }

    /// The refusal for what this staff member may not manage.
    pub fn not_allowed() -> PageError {
        message(
            StatusCode::FORBIDDEN,
            "Geen toegang",
            Text::new(
                "Dit kun je alleen doen voor je eigen groepen, of als ICT-coördinator van de school.",
                "You can only do this for your own classes, or as the school's ICT coordinator.",
            ),
            Some(("/beheer", "Terug / Back")),
        )
        .into()
    }
}

impl FromRequestParts<AppState> for SchoolManager {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        // To the login page without a notice for reads and forms alike, as /beheer always did.
        let Some(s) = load(state, &parts.headers).await? else {
            return Err(see_other("/inloggen", HeaderMap::new()).into());
        };
        // A pupil, or staff who has not chosen a school yet: the portal knows what to offer.
        let (Who::Staff { staff_id, .. }, Some(school_id)) = (&s.data.who, &s.data.school_id)
        else {
            return Err(see_other("/", HeaderMap::new()).into());
        };
        let d = &state.directory;
        let at = d.schools_of_staff(staff_id).await?;
        let several_schools = at.len() > 1;
        let Some(here) = at.into_iter().find(|a| &a.school_id == school_id) else {
            return Err(SchoolManager::not_allowed());
        };
        let Some(school) = d.school_by_id(school_id).await? else {
            return Err(SchoolManager::not_allowed());
        };
        let ict = here.roles.contains(&StaffRole::IctCoordinator);
        let groups = if ict {
            d.groups_of_school(school_id).await?
        } else {
            d.groups_of_staff(staff_id)
                .await?
                .into_iter()
                .filter(|g| &g.school_id == school_id)
                .collect()
        };
        Ok(SchoolManager {
            staff_id: staff_id.clone(),
            school,
            ict,
            groups,
            several_schools,
        })
    }
}

/// A signed-in staff member whose account holds the operator role (granted only with
/// `openpoort operator grant` on the server), checked against the register at every request so
/// that a revoked role ends at once. Without a session: the login; anyone else signed in (a
/// pupil, a teacher, an ICT-coördinator): 403.
pub struct SignedInOperator {
    pub operating: crate::operator_admin::Operating,
}

impl FromRequestParts<AppState> for SignedInOperator {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Some(staff) =
            <SignedInStaff as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
                .await?
        else {
            // A pupil's session is no way in either, but it is a session: refused, not sent to
            // the staff login it might not have.
            if load(state, &parts.headers).await?.is_some() {
                return Err(SignedInOperator::not_allowed());
            }
            return Err(to_login(&parts.method));
        };
        match crate::operator_admin::Operating::by_staff(&state.directory, &staff.staff_id).await {
            Ok(operating) => Ok(SignedInOperator { operating }),
            Err(crate::operator_admin::AdminError::NotAllowed) => {
                Err(SignedInOperator::not_allowed())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl SignedInOperator {
    pub fn not_allowed() -> PageError {
        message(
            StatusCode::FORBIDDEN,
            "Geen toegang",
            Text::new(
                "Deze pagina's zijn voor de beheerders van openpoort.",
                "These pages are for openpoort's operators.",
            ),
            Some(("/", "Naar het portaal / To the portal")),
        )
        .into()
    }
}
