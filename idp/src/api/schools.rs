//! A school's own settings, as its ICT-coördinator changes them in Beheer: the IP ranges of the
//! pupil shortcut, the parties the school consents to, and who must have a second factor. The rules are `crate::school_admin`'s,
//! the same as the pages' and the CLI's. A range is one percent-encoded path segment
//! (`/schools/12AB00/ip-ranges/192.0.2.0%2F24`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use directory::model::PartyKind;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, JsonBody, JsonShape, Problem, SchoolAdmin, created, ok, school_list};
use crate::app_state::AppState;
use crate::http::extract::Path;
use crate::school_admin::{AdminError, Administered, network, parties, second_factor};
use directory::second_factor::SecondFactorPolicy;

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> ApiError {
        match e {
            // Machine clients of this API act for the operator; a school administrator's
            // refusal cannot reach them, but answers like any forbidden request if it did.
            AdminError::NotAllowed => ApiError::new(
                Problem::InsufficientScope,
                "Geen beheerrechten voor deze school.",
                "No administration rights for this school.",
            ),
            AdminError::Refused { nl, en } => ApiError::new(Problem::Validation, nl, en),
            AdminError::Conflict { nl, en } => ApiError::new(Problem::Conflict, nl, en),
            AdminError::NotFound { what, key } => ApiError::new(
                Problem::NotFound,
                format!("{what} {key:?} bestaat niet"),
                format!("{what} {key:?} does not exist"),
            ),
            AdminError::Internal(e) => ApiError::internal(e),
            AdminError::Broker(e) => ApiError::internal(e),
            e @ AdminError::Fault(_) => ApiError::internal(e),
        }
    }
}

pub async fn list_ranges(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let ranges = network::ranges(&state.directory, &a, None).await?;
    let ranges = ranges
        .into_iter()
        .map(|r| json!({"cidr": r.range.cidr, "label": r.range.label}));
    Ok(school_list(&a, "ip_ranges", ranges))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewRange {
    cidr: String,
    #[serde(default)]
    label: String,
}

impl JsonShape for NewRange {
    const SHAPE: &'static str = "{\"cidr\": …, \"label\": …}";
}

pub async fn add_range(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewRange>,
) -> Result<Response, ApiError> {
    let r = network::add(&state.directory, &a, &new.cidr, &new.label).await?;
    let path = format!(
        "/schools/{}/ip-ranges/{}",
        a.school.code(),
        crate::http::url_encode(&r.cidr)
    );
    Ok(created(
        &state,
        &path,
        json!({"cidr": r.cidr, "label": r.label}),
    ))
}

pub async fn remove_range(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, cidr)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // The caller is a machine, not someone at the school: no address of theirs to protect.
    network::remove(&state.directory, &a, &cidr, None, true).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_consents(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    for kind in [PartyKind::Publisher, PartyKind::NetworkProvider] {
        for r in parties::of_kind(&state.directory, &a, kind).await? {
            let names =
                |list: &[broker::Attribute]| list.iter().map(|x| x.name()).collect::<Vec<_>>();
            out.push(json!({
                "party": r.party.code,
                "name": r.party.name,
                "kind": r.party.kind.as_str(),
                "consent": r.consent.is_some(),
                "granted_at": r.consent.as_ref().map(|c| c.granted_at),
                "receives_about_pupils": names(&r.about_pupils),
                "receives_about_staff": names(&r.about_staff),
            }));
        }
    }
    Ok(school_list(&a, "parties", out))
}

pub async fn grant(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, party)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let c = parties::consent(&state.directory, &a, &party).await?;
    Ok(ok(
        json!({"school": a.school.code(), "party": party, "consent": true, "granted_at": c.granted_at}),
    ))
}

pub async fn revoke(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    Path((_, party)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    parties::revoke(&state.directory, &a, &party).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Who must have a second factor at the school, and which of its staff have one (yes or no).
pub async fn second_factor_policy(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    policy_answer(&state, &a).await
}

/// The policy and the staff's factors as they are now: a change answers with what it left.
async fn policy_answer(state: &AppState, a: &Administered) -> Result<Response, ApiError> {
    let d = &state.directory;
    let p = second_factor::policy(d, a, state.web.second_factor_policy).await?;
    let staff = second_factor::staff_with_factors(d, a).await?;
    Ok(ok(json!({
        "school": a.school.code(),
        "policy": p.school.map(SecondFactorPolicy::as_str),
        "default": p.default.as_str(),
        "effective": p.effective.as_str(),
        "staff": staff.iter().map(|(m, has)| json!({
            "id": m.staff.id,
            "name": crate::school_admin::staff_name(&m.staff),
            "second_factor": has,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyBody {
    policy: Option<String>,
}

impl JsonShape for PolicyBody {
    const SHAPE: &'static str = "{\"policy\": \"managers\"} (none, managers, all_staff, or null for the operator's default)";
}

pub async fn set_second_factor_policy(
    SchoolAdmin(a): SchoolAdmin,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Result<Response, ApiError> {
    let policy = body
        .policy
        .as_deref()
        .map(SecondFactorPolicy::parse)
        .transpose()?;
    second_factor::set_policy(&state.directory, &a, policy).await?;
    policy_answer(&state, &a).await
}
