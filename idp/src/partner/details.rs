//! `GET /rest/v2/instellingen/{id}/details`: the school's name, codes and shortcut reference;
//! for a school that merged after consenting, also where it went (`gefuseerdNaar`), since the
//! merge ended its consent and every other path.
//! openpoort keeps no postal address, so the address fields are `null`, as Basispoort answers
//! for a school whose address it does not know.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{Partner, PartnerError, meta_result};
use crate::app_state::AppState;
use crate::http::extract::Path;

pub async fn details(
    partner: Partner,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, PartnerError> {
    let consented = partner.school_or_merged(&state, &id).await?;
    let school = &consented.school;
    let merged_into = match &school.merged_into {
        Some(other) => Some(partner.number(&state, "school", other)?),
        None => None,
    };
    partner
        .audit(&state, "instellingen/details", Some(&school.id))
        .await?;
    Ok(Json(json!({
        "naam": school.name,
        "straat": null,
        "huisnummer": null,
        "huisnummertoevoeging": null,
        "postcode": null,
        "woonplaats": null,
        "brincode": school.brin,
        "dependancecode": school.vestigingscode,
        "schoolkey": null,
        "instellingRef": school.instelling_ref,
        "bestuurscode": consented.bestuursnummer,
        "actief": school.active,
        "gefuseerdNaar": merged_into,
        "metaResult": meta_result(consented.updated_at),
    })))
}
