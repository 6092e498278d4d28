//! `/saml/sp/metadata`: openpoort's signed SP metadata, which network providers load to send
//! their users' assertions to openpoort's ACS.

use axum::extract::State;
use axum::response::Response;

use crate::app_state::AppState;
use crate::upstream::saml::sp_metadata;

pub async fn metadata(State(state): State<AppState>) -> Response {
    super::metadata_document(sp_metadata(&state).await)
}
