//! `GET /rest/v2/instellingen/{id}/groepen`: stamgroepen and combined groups.

use axum::extract::State;
use axum::response::Response;

use super::roster::{Lists, Roster};
use super::{AtSchool, PartnerError};
use crate::app_state::AppState;

pub async fn groups(at: AtSchool, State(state): State<AppState>) -> Result<Response, PartnerError> {
    let call = "instellingen/groepen";
    at.roster_call(&state, call, Lists::Groups, Roster::groups_answer)
        .await
}
