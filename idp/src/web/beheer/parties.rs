//! Netwerkbeheerders and Uitgeverijen: tick a party to consent to it, untick to withdraw; each
//! shows exactly what it receives about pupils and about staff. A party that asked for consent
//! over the partner API is named at the top until the school answers: ticking it consents (and
//! closes the request), or the request is declined.

use std::collections::BTreeSet;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use directory::model::PartyKind;

use super::{Nav, SchoolAdmin};
use crate::http::extract::Path;
use crate::http::{Csrf, NoFields, PageError, see};
use crate::school_admin::{AdminError, date, parties};

pub struct Row {
    code: String,
    name: String,
    since: Option<String>,
    requested: Option<String>,
    about_pupils: String,
    about_staff: String,
}

#[derive(Template)]
#[template(path = "beheer_partijen.html")]
struct PartiesPage {
    nav: Nav,
    csrf: String,
    kind: Kind,
    rows: Vec<Row>,
}

/// What the two pages differ in.
pub struct Kind {
    party: PartyKind,
    path: &'static str,
    title: (&'static str, &'static str),
    intro: (&'static str, &'static str),
}

/// The page a handler serves, as its type parameter: `party_page::<Publishers>`.
pub trait PartyPage {
    const KIND: Kind;
}

pub struct Publishers;

impl PartyPage for Publishers {
    const KIND: Kind = Kind {
        party: PartyKind::Publisher,
        path: "/beheer/uitgeverijen",
        title: ("Uitgeverijen", "Publishers"),
        intro: (
            "Vink de uitgeverijen aan van wie de school lesmateriaal gebruikt. Alleen bij een aangevinkte uitgeverij kunnen leerlingen en leerkrachten inloggen, en die ontvangt alleen wat hieronder staat. Uitvinken werkt meteen: de volgende keer inloggen bij die uitgeverij lukt niet meer.",
            "Tick the publishers whose material the school uses. Pupils and teachers can sign in only at a ticked publisher, which receives only what is listed below. Unticking takes effect at once: the next sign-in at that publisher is refused.",
        ),
    };
}

pub struct NetworkProviders;

impl PartyPage for NetworkProviders {
    const KIND: Kind = Kind {
        party: PartyKind::NetworkProvider,
        path: "/beheer/netwerkbeheerders",
        title: ("Netwerkbeheerders", "Network providers"),
        intro: (
            "Werkt de school in de netwerkomgeving van een netwerkbeheerder? Vink die hier aan. Staat die er niet bij, dan is er geen koppeling en hoeft er niets aangevinkt te worden. Uitvinken werkt meteen.",
            "Does the school work in a network provider's environment? Tick it here. If it is not listed, it has no link with openpoort and nothing needs ticking. Unticking takes effect at once.",
        ),
    };
}

fn names(attributes: &[broker::Attribute]) -> String {
    attributes
        .iter()
        .map(|a| {
            let (nl, en) = parties::label(*a);
            if nl == en {
                nl.to_owned()
            } else {
                format!("{nl} ({en})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn party_page<P: PartyPage>(s: SchoolAdmin) -> Result<Response, PageError> {
    let kind = P::KIND;
    let rows = parties::of_kind(s.directory(), &s.admin, kind.party)
        .await?
        .into_iter()
        .map(|r| Row {
            since: r.consent.as_ref().map(|c| date(c.granted_at)),
            requested: r.requested_at.map(date),
            about_pupils: names(&r.about_pupils),
            about_staff: names(&r.about_staff),
            code: r.party.code,
            name: r.party.name,
        })
        .collect();
    let nav = s.nav(kind.path.trim_start_matches("/beheer/"));
    Ok(s.page(StatusCode::OK, |csrf| PartiesPage {
        nav,
        csrf,
        kind,
        rows,
    }))
}

/// Consents to every ticked party of this kind and withdraws from every unticked one that had
/// consent; parties of the other kind are not touched.
pub async fn save_consents<P: PartyPage>(
    s: SchoolAdmin,
    Csrf(fields): Csrf<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let kind = P::KIND;
    let ticked: BTreeSet<String> = fields
        .into_iter()
        .filter(|(name, _)| name == "partij")
        .map(|(_, code)| code)
        .collect();
    let d = s.directory();
    let rows = parties::of_kind(d, &s.admin, kind.party).await?;
    for code in &ticked {
        if !rows.iter().any(|r| &r.party.code == code) {
            return Err(AdminError::NotFound {
                what: "partij",
                key: code.clone(),
            }
            .into());
        }
    }
    for r in rows {
        match (ticked.contains(&r.party.code), r.consent.is_some()) {
            (true, false) => {
                parties::consent(d, &s.admin, &r.party.code).await?;
            }
            // Withdrawn meanwhile by someone else: what was asked for holds.
            (false, true) => match parties::revoke(d, &s.admin, &r.party.code).await {
                Ok(_) | Err(AdminError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            },
            _ => {}
        }
    }
    Ok(see(kind.path))
}

/// Declines a party's waiting request. One that is not waiting (answered meanwhile, withdrawn
/// by the party, or never made) is 404, as for a party of another kind.
pub async fn decline_request<P: PartyPage>(
    s: SchoolAdmin,
    Path(code): Path<String>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let kind = P::KIND;
    let d = s.directory();
    let rows = parties::of_kind(d, &s.admin, kind.party).await?;
    if !rows.iter().any(|r| r.party.code == code) {
        return Err(AdminError::NotFound {
            what: "partij",
            key: code.to_owned(),
        }
        .into());
    }
    parties::decline(d, &s.admin, &code).await?;
    Ok(see(kind.path))
}
