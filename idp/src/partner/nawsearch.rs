//! `GET /rest/v2/nawsearch?naam=…&brincode=…&bestuurscode=…&activeOnly=…`: a party looks for
//! a school to ask for permission. It searches every school of the register, consented or not,
//! and answers only what DUO publishes about a school anyway (name, codes, board), with the
//! party's number for it, which the `synchronizationpermission` path accepts. `brincode` is the
//! BRIN with the vestigingscode (`12AB00`), as Basispoort answers here (unlike `details`).
//!
//! openpoort keeps no postal addresses, so a search by `adres`, `postcode` or `plaatsnaam` is
//! refused with that explanation rather than answered with nothing; the address fields of a
//! result are `null`. At most [`LIMIT`] schools, by name.

use axum::Json;
use axum::extract::{RawQuery, State};
use directory::DirectoryError;
use directory::model::{Bestuursnummer, Brin, SchoolCode};
use directory::school_search::SchoolSearch;
use serde_json::{Value, json};

use super::{Partner, PartnerError};
use crate::app_state::AppState;

/// The most schools one search answers (the first by name); more means: narrow the search.
pub const LIMIT: usize = 100;

const KNOWN: &str = "naam, brincode, bestuurscode, activeOnly";

fn refused(nl: String, en: String) -> PartnerError {
    PartnerError::BadRequest { nl, en }
}

/// A value the register refuses, explained with the register's own words.
fn invalid(parameter: &str, e: DirectoryError) -> PartnerError {
    match e {
        DirectoryError::Invalid {
            value,
            rule_nl,
            rule_en,
            ..
        } => refused(
            format!("Ongeldige {parameter} {value:?}: {rule_nl}."),
            format!("Invalid {parameter} {value:?}: {rule_en}."),
        ),
        other => other.into(),
    }
}

/// The published client's `InstitutionsSearchPredicate`, read strictly: an unknown or repeated
/// parameter is refused, so that a typo does not widen the search unnoticed.
fn parse(query: &str) -> Result<SchoolSearch, PartnerError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
        refused(
            format!("De zoekparameters zijn niet leesbaar: {e}."),
            format!("The query parameters cannot be read: {e}."),
        )
    })?;
    let mut search = SchoolSearch {
        active_only: true,
        ..SchoolSearch::default()
    };
    let mut seen = Vec::new();
    for (key, value) in &pairs {
        if seen.contains(key) {
            return Err(refused(
                format!("De parameter {key} staat er meer dan één keer."),
                format!("The parameter {key} is given more than once."),
            ));
        }
        seen.push(key.clone());
        let value = value.trim();
        // Forms send empty fields: an empty criterion is no criterion.
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "naam" => search.name = Some(value.to_owned()),
            "brincode" => {
                let code = value.to_ascii_uppercase();
                match code.len() {
                    4 => search.brin = Some(Brin::parse(&code).map_err(|e| invalid(key, e))?),
                    6 => {
                        let c = SchoolCode::parse(&code).map_err(|e| invalid(key, e))?;
                        search.brin = Some(c.brin);
                        search.vestigingscode = Some(c.vestigingscode);
                    }
                    _ => {
                        return Err(refused(
                            format!(
                                "Ongeldige brincode {value:?}: geef een BRIN (12AB) of een BRIN met vestigingscode (12AB00)."
                            ),
                            format!(
                                "Invalid brincode {value:?}: give a BRIN (12AB) or a BRIN with vestigingscode (12AB00)."
                            ),
                        ));
                    }
                }
            }
            "bestuurscode" => {
                search.bestuursnummer =
                    Some(Bestuursnummer::parse(value).map_err(|e| invalid(key, e))?);
            }
            "activeOnly" => {
                search.active_only = match value {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(refused(
                            format!("activeOnly moet true of false zijn, niet {other:?}."),
                            format!("activeOnly must be true or false, not {other:?}."),
                        ));
                    }
                }
            }
            "adres" | "postcode" | "plaatsnaam" => {
                return Err(refused(
                    format!(
                        "openpoort bewaart geen adressen van scholen, dus zoeken op {key} kan niet; zoek op naam, brincode of bestuurscode."
                    ),
                    format!(
                        "openpoort keeps no school addresses, so searching by {key} is not possible; search by naam, brincode or bestuurscode."
                    ),
                ));
            }
            other => {
                return Err(refused(
                    format!("Onbekende zoekparameter {other:?}; nawsearch kent {KNOWN}."),
                    format!("Unknown search parameter {other:?}; nawsearch knows {KNOWN}."),
                ));
            }
        }
    }
    if search.name.is_none() && search.brin.is_none() && search.bestuursnummer.is_none() {
        return Err(refused(
            "Geef minstens één zoekcriterium: naam, brincode of bestuurscode.".into(),
            "Give at least one search criterion: naam, brincode or bestuurscode.".into(),
        ));
    }
    Ok(search)
}

pub async fn search(
    partner: Partner,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Value>>, PartnerError> {
    let search = parse(query.as_deref().unwrap_or(""))?;
    let found = state
        .directory
        .search_schools(&search, LIMIT)
        .await
        .map_err(|e| invalid("naam", e))?;
    let mut results = Vec::with_capacity(found.len());
    for f in found {
        let s = &f.school;
        results.push(json!({
            "id": partner.number(&state, "school", &s.id)?,
            "naam": s.name,
            "brincode": format!("{}{}", s.brin, s.vestigingscode),
            "straat": null,
            "huisnummer": null,
            "huisnummerToevoeging": null,
            "postcode": null,
            "woonplaats": null,
            "telefoonNet": null,
            "telefoonAbon": null,
            "emailadres": null,
            "actief": s.active,
            "bestuurscode": f.bestuursnummer,
        }));
    }
    partner.audit(&state, "nawsearch", None).await?;
    Ok(Json(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(query: &str) -> String {
        match parse(query) {
            Err(PartnerError::BadRequest { en, .. }) => en,
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn a_search_without_a_criterion_is_refused() {
        assert!(refusal("").contains("at least one search criterion"));
        assert!(refusal("activeOnly=true").contains("at least one search criterion"));
        assert!(refusal("naam=&brincode=").contains("at least one search criterion"));
    }

    #[test]
    fn the_brincode_is_read_with_or_without_vestigingscode() {
        let s = parse("brincode=12ab00").unwrap();
        assert_eq!(s.brin.unwrap().as_ref(), "12AB");
        assert_eq!(s.vestigingscode.unwrap().as_ref(), "00");
        let s = parse("brincode=12AB").unwrap();
        assert!(s.vestigingscode.is_none());
        assert!(refusal("brincode=12AB0").contains("BRIN with vestigingscode"));
        assert!(refusal("brincode=AB1200").contains("Invalid brincode"));
    }

    #[test]
    fn an_address_criterion_is_refused_with_the_reason() {
        for key in ["adres", "postcode", "plaatsnaam"] {
            assert!(refusal(&format!("naam=linde&{key}=x")).contains("keeps no school addresses"));
        }
    }

    #[test]
    fn unknown_repeated_and_malformed_parameters_are_refused() {
        assert!(refusal("naam=linde&nam=x").contains("Unknown search parameter"));
        assert!(refusal("naam=linde&naam=eik").contains("more than once"));
        assert!(refusal("naam=linde&activeOnly=yes").contains("activeOnly must be"));
        assert!(refusal("bestuurscode=123").contains("Invalid bestuurscode"));
    }

    #[test]
    fn the_published_clients_query_is_read() {
        // What `InstitutionsSearchPredicate::new().with_name("De Linde")` sends.
        let s = parse("naam=De+Linde&activeOnly=true").unwrap();
        assert_eq!(s.name.as_deref(), Some("De Linde"));
        assert!(s.active_only);
        assert!(!parse("naam=linde&activeOnly=false").unwrap().active_only);
    }
}
