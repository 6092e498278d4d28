//! A party's client certificates for the partner API on the operator's pages: the list (SHA-256
//! fingerprint, subject, validity in Dutch time), add one by pasting its PEM, remove one after a
//! confirmation. The rules (the certificate alone, no private key, not expired, at most two per
//! party, one party per certificate) are `crate::party_certificates`', as for the admin API and
//! `openpoort party certificate-add`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use directory::DirectoryError;
use directory::model::netherlands_clock;
use directory::parties::Party;
use serde::Deserialize;

use super::{Desk, Nav, PARTIES, Removal, confirm};
use crate::http::extract::Path;
use crate::http::{Csrf, FormView, NoFields, PageError, Text, see, url_encode};
use crate::operator_admin::{AdminError, parties};
use crate::party_certificates::{self, CertificateError, normalise_fingerprint};

pub struct CertificateRow {
    sha256: String,
    subject: String,
    issuer: String,
    not_before: String,
    not_after: String,
    expired: bool,
    remove: String,
}

#[derive(Template)]
#[template(path = "operator_certificaten.html")]
struct CertificatesPage {
    nav: Nav,
    csrf: String,
    party_code: String,
    party_name: String,
    path: String,
    certificates: Vec<CertificateRow>,
    room: bool,
    error: Option<Text>,
    pem: String,
}

#[derive(Default, Deserialize)]
pub struct CertificateForm {
    #[serde(default)]
    pem: String,
}

fn path_of(party: &Party) -> String {
    format!(
        "/operator/partijen/{}/certificaten",
        url_encode(&party.code)
    )
}

/// The pasted text again with a refusal the operator can act on; anything else is the error
/// page's.
fn again(e: CertificateError, pem: String) -> Result<FormView<String>, AdminError> {
    let (status, text) = match e {
        CertificateError::Directory(DirectoryError::Duplicate { value, .. }) => (
            StatusCode::CONFLICT,
            Text::new(
                format!(
                    "Certificaat {value} is al geregistreerd, voor deze of een andere partij. Een certificaat hoort bij één partij."
                ),
                format!(
                    "Certificate {value} is registered already, for this or another party. A certificate belongs to one party."
                ),
            ),
        ),
        CertificateError::Directory(DirectoryError::Conflict { nl, en }) => {
            (StatusCode::CONFLICT, Text::new(nl, en))
        }
        CertificateError::Directory(other) => return Err(AdminError::from(other)),
        other => {
            let text = other.to_string();
            let (nl, en) = text.split_once(" / ").unwrap_or((&text, &text));
            (StatusCode::BAD_REQUEST, Text::new(nl, en))
        }
    };
    Ok(FormView::refused_as(status, text, pem))
}

async fn render(desk: Desk, code: &str, view: FormView<String>) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, code).await?;
    let path = path_of(&party);
    let now = crate::clock::unix_now();
    let certificates: Vec<CertificateRow> = desk
        .directory()
        .party_certificates(&party.id)
        .await?
        .into_iter()
        .map(|c| CertificateRow {
            remove: format!("{path}/{}/verwijderen", c.sha256),
            expired: c.not_after < now,
            not_before: netherlands_clock(c.not_before),
            not_after: netherlands_clock(c.not_after),
            sha256: c.sha256,
            subject: c.subject,
            issuer: c.issuer,
        })
        .collect();
    Ok(desk.form_page(view, |csrf, error, pem| CertificatesPage {
        nav: PARTIES,
        csrf,
        room: certificates.len() < directory::partner::CERTIFICATES_PER_PARTY,
        certificates,
        party_code: party.code,
        party_name: party.name,
        path,
        error,
        pem,
    }))
}

pub async fn list(desk: Desk, Path(code): Path<String>) -> Result<Response, PageError> {
    render(desk, &code, FormView::default()).await
}

pub async fn add(
    desk: Desk,
    Path(code): Path<String>,
    Csrf(form): Csrf<CertificateForm>,
) -> Result<Response, PageError> {
    let (d, actor) = (desk.directory(), &desk.operating.actor);
    let party = parties::party(d, &desk.operating, &code).await?;
    match party_certificates::register(d, &party.id, &form.pem, actor).await {
        Ok(_) => Ok(see(&path_of(&party))),
        Err(e) => {
            // A pasted private key is not shown back: the form starts empty.
            let pem = if form.pem.contains("PRIVATE KEY-----") {
                String::new()
            } else {
                form.pem
            };
            render(desk, &code, again(e, pem)?).await
        }
    }
}

pub async fn confirm_remove(
    desk: Desk,
    Path((code, sha256)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, &code).await?;
    let sha256 = normalise_fingerprint(&sha256);
    let held = desk.directory().party_certificates(&party.id).await?;
    let Some(certificate) = held.iter().find(|c| c.sha256 == sha256) else {
        return Err(AdminError::NotFound {
            what: "certificaat",
            key: sha256,
        }
        .into());
    };
    let path = path_of(&party);
    let last = held.len() == 1;
    let removal = Removal {
        title: Text::new("Certificaat verwijderen", "Remove the certificate"),
        warning: Text::new(
            format!(
                "Verbindingen van {} met certificaat {} ({}) worden vanaf het volgende verzoek geweigerd.{}",
                party.name,
                certificate.sha256,
                certificate.subject,
                if last {
                    " Het is het enige certificaat van deze partij: de koppeling stopt tot er een nieuw is geregistreerd."
                } else {
                    ""
                },
            ),
            format!(
                "Connections of {} with certificate {} ({}) are refused from the next request.{}",
                party.name,
                certificate.sha256,
                certificate.subject,
                if last {
                    " It is this party's only certificate: its link stops until a new one is registered."
                } else {
                    ""
                },
            ),
        ),
        action: format!("{path}/{sha256}/verwijderen"),
        button: Text::new("Ja, certificaat verwijderen", "Yes, remove the certificate"),
        back: path,
    };
    Ok(confirm(desk, removal))
}

pub async fn remove(
    desk: Desk,
    Path((code, sha256)): Path<(String, String)>,
    _: Csrf<NoFields>,
) -> Result<Response, PageError> {
    let party = parties::party(desk.directory(), &desk.operating, &code).await?;
    let sha256 = normalise_fingerprint(&sha256);
    match desk
        .directory()
        .remove_party_certificate(&party.id, &sha256, &desk.operating.actor)
        .await
    {
        // Removed meanwhile (a second click, another operator): what was asked for holds.
        Ok(()) | Err(DirectoryError::NotFound { .. }) => {}
        Err(e) => return Err(AdminError::from(e).into()),
    }
    Ok(see(&path_of(&party)))
}
