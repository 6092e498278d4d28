//! `/saml/sp/metadata`: openpoort's signed SP metadata, which network providers load to send
//! their users' assertions to openpoort's ACS.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::failed;
use crate::app_state::AppState;
use crate::upstream::saml::sp_metadata;

pub async fn metadata(State(state): State<AppState>) -> Response {
    match sp_metadata(&state).await {
        Ok(xml) => {
            let mut r = xml.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/samlmetadata+xml"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        Err(e) => failed(e),
    }
}
