//! Privacy: the school's release audit (filtered, paged, and as a CSV file) and the board's
//! processing agreement. The rules are in `crate::school_admin::privacy`.

use askama::Template;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{Nav, SchoolAdmin};
use crate::http::extract::Query;
use crate::http::{Csrf, PageError, Text, see};
use crate::school_admin::AdminError;
use crate::school_admin::privacy::{self, Filter};
use directory::model::netherlands_clock;

/// The filter as the page's form sends it (Dutch names, as the address bar shows them).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct FilterQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partij: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    van: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tot: Option<String>,
    /// Where the page starts: releases older than this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voor: Option<i64>,
}

impl FilterQuery {
    fn filter(&self) -> Filter {
        Filter {
            party: self.partij.clone(),
            group: self.groep.clone(),
            from: self.van.clone(),
            until: self.tot.clone(),
        }
    }

    /// The same filter as a query string, starting at `voor`.
    fn query(&self, voor: Option<i64>) -> String {
        let q = FilterQuery {
            voor,
            ..self.clone()
        };
        serde_urlencoded::to_string(&q).unwrap_or_default()
    }
}

struct Choice {
    value: String,
    name: String,
    selected: bool,
}

impl Choice {
    /// Selected when the filter names it: blanks around the filter's value count as little here
    /// as when the filter is read.
    fn new(value: String, name: String, chosen: &Option<String>) -> Choice {
        Choice {
            selected: chosen.as_deref().map(str::trim) == Some(value.as_str()),
            value,
            name,
        }
    }
}

struct Row {
    at: String,
    party: String,
    person: String,
    /// The person in English where that differs (a name not recorded at the release).
    person_en: Option<String>,
    kind: &'static str,
    groups: String,
    attributes: Vec<(String, String)>,
    context: &'static str,
}

struct AcceptanceView {
    version: String,
    by: String,
    at: String,
    school: String,
}

#[derive(Template)]
#[template(path = "beheer_privacy.html")]
struct PrivacyPage {
    nav: Nav,
    csrf: String,
    error: Option<Text>,
    parties: Vec<Choice>,
    groups: Vec<Choice>,
    from: String,
    until: String,
    rows: Vec<Row>,
    /// The day (Dutch time) before which releases in the filter's range have no groups.
    groups_since: Option<String>,
    first_page: bool,
    next: Option<String>,
    csv: String,
    board: String,
    current: Option<String>,
    current_accepted: bool,
    history: Vec<AcceptanceView>,
}

async fn render(
    s: SchoolAdmin,
    q: &FilterQuery,
    refused: Option<Text>,
) -> Result<Response, PageError> {
    let d = s.directory();
    let (parties, groups) = privacy::choices(d, &s.admin).await?;
    let (page_rows, next, groups_since, error) =
        match privacy::releases(d, &s.admin, &q.filter(), q.voor).await {
            Ok(p) => (p.rows, p.next, p.groups_recorded_since, refused),
            // A filter that cannot be read comes back with what is wrong with it.
            Err(AdminError::Refused { nl, en }) => {
                (Vec::new(), None, None, Some(Text::new(nl, en)))
            }
            Err(AdminError::NotFound { what, key }) => (
                Vec::new(),
                None,
                None,
                Some(Text::new(
                    format!("{what} {key:?} bestaat niet"),
                    format!("{what} {key:?} does not exist"),
                )),
            ),
            Err(e) => return Err(e.into()),
        };
    let rows = page_rows
        .iter()
        .map(|r| (r, privacy::person(r)))
        .map(|(r, (person, en))| Row {
            at: netherlands_clock(r.at),
            party: r.party_name.clone().unwrap_or_else(|| r.party_id.clone()),
            person_en: (en != person).then_some(en),
            person,
            kind: match r.subject_kind.as_str() {
                "pupil" => "leerling / pupil",
                _ => "medewerker / staff",
            },
            groups: privacy::group_names(&groups, &r.group_keys).join(", "),
            attributes: r
                .attributes
                .iter()
                .map(|a| privacy::attribute_label(a))
                .collect(),
            context: privacy::context_label(&r.context),
        })
        .collect();
    let agreement =
        privacy::agreement(d, &s.admin, s.state.web.agreement_version.as_deref()).await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let nav = s.nav("privacy");
    Ok(s.page(status, |csrf| PrivacyPage {
        nav,
        csrf,
        error,
        parties: parties
            .into_iter()
            .map(|p| Choice::new(p.code, p.name, &q.partij))
            .collect(),
        groups: groups
            .into_iter()
            .map(|g| Choice::new(g.las_key, g.name, &q.groep))
            .collect(),
        from: q.van.clone().unwrap_or_default(),
        until: q.tot.clone().unwrap_or_default(),
        rows,
        groups_since: groups_since.map(netherlands_clock),
        first_page: q.voor.is_none(),
        next: next.map(|seq| format!("/beheer/privacy?{}", q.query(Some(seq)))),
        csv: format!("/beheer/privacy.csv?{}", q.query(None)),
        board: agreement.board_name,
        current: agreement.current,
        current_accepted: agreement.current_accepted,
        history: agreement
            .history
            .into_iter()
            .map(|h| AcceptanceView {
                version: h.acceptance.version,
                by: h.acceptance.accepted_by_name,
                at: netherlands_clock(h.acceptance.accepted_at),
                school: h.school.unwrap_or_default(),
            })
            .collect(),
    }))
}

pub async fn privacy(s: SchoolAdmin, Query(q): Query<FilterQuery>) -> Result<Response, PageError> {
    render(s, &q, None).await
}

/// The releases under the filter as `privacy-<school code>.csv`, written while it is read.
pub async fn privacy_csv(
    s: SchoolAdmin,
    Query(q): Query<FilterQuery>,
) -> Result<Response, PageError> {
    let stream = privacy::csv(s.directory(), &s.admin, &q.filter()).await?;
    crate::http::attachment(
        Body::from_stream(stream),
        "text/csv; charset=utf-8",
        &format!("privacy-{}.csv", s.admin.school.code()),
    )
    .map_err(PageError::internal)
}

#[derive(Deserialize)]
pub struct AcceptForm {
    version: String,
}

pub async fn accept_agreement(
    s: SchoolAdmin,
    Csrf(form): Csrf<AcceptForm>,
) -> Result<Response, PageError> {
    let current = s.state.web.agreement_version.as_deref();
    match privacy::accept(s.directory(), &s.admin, current, &form.version).await {
        Ok(_) => Ok(see("/beheer/privacy")),
        Err(AdminError::Refused { nl, en } | AdminError::Conflict { nl, en }) => {
            render(s, &FilterQuery::default(), Some(Text::new(nl, en))).await
        }
        Err(e) => Err(e.into()),
    }
}
