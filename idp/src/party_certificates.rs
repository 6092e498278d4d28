//! The client certificates that name a party on the partner listener, as the CLI and the admin
//! API register them: one rule for both. A certificate is read here (X.509 through OpenSSL);
//! the register keeps its fingerprint, names and validity, and at most two per party.

use directory::partner::{NewPartyCertificate, PartyCertificate};
use directory::{Actor, Directory, DirectoryError};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::{X509, X509NameRef};

use crate::clock::unix_now;

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error(
        "geen certificaat in PEM-vorm gevonden (-----BEGIN CERTIFICATE-----) / no PEM certificate found (-----BEGIN CERTIFICATE-----)"
    )]
    NotPem,
    #[error(
        "het bestand bevat een privésleutel; stuur alleen het certificaat, en maak een nieuwe sleutel aan als deze gedeeld is / the file holds a private key; send the certificate only, and make a new key if this one was shared"
    )]
    PrivateKey,
    #[error(
        "het bestand bevat {0} certificaten; registreer er één per keer (het clientcertificaat zelf) / the file holds {0} certificates; register one at a time (the client certificate itself)"
    )]
    Several(usize),
    #[error(
        "het certificaat is verlopen op {0}; registreer een geldig certificaat / the certificate expired on {0}; register a valid one"
    )]
    Expired(String),
    #[error("het certificaat is niet leesbaar: {0} / the certificate cannot be read: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Directory(#[from] DirectoryError),
}

/// What a PEM certificate says about itself.
#[derive(Debug)]
pub struct ReadCertificate {
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    /// The certificate alone, re-encoded: nothing else the upload held is kept.
    pub pem: String,
}

/// Reads exactly one certificate, still valid now, from PEM text.
pub fn read(pem: &str) -> Result<ReadCertificate, CertificateError> {
    if pem.contains("PRIVATE KEY-----") {
        return Err(CertificateError::PrivateKey);
    }
    let certificates = X509::stack_from_pem(pem.as_bytes())
        .map_err(|e| CertificateError::Unreadable(e.to_string()))?;
    let certificate = match certificates.as_slice() {
        [] => return Err(CertificateError::NotPem),
        [one] => one,
        several => return Err(CertificateError::Several(several.len())),
    };
    let unreadable = |e: openssl::error::ErrorStack| CertificateError::Unreadable(e.to_string());
    let der = certificate.to_der().map_err(unreadable)?;
    let not_before = unix(certificate.not_before()).map_err(unreadable)?;
    let not_after = unix(certificate.not_after()).map_err(unreadable)?;
    if not_after < unix_now() {
        return Err(CertificateError::Expired(
            directory::model::netherlands_clock(not_after),
        ));
    }
    let pem = String::from_utf8(certificate.to_pem().map_err(unreadable)?)
        .map_err(|e| CertificateError::Unreadable(e.to_string()))?;
    Ok(ReadCertificate {
        sha256: crate::tls::fingerprint(&der),
        subject: name(certificate.subject_name()),
        issuer: name(certificate.issuer_name()),
        not_before,
        not_after,
        pem,
    })
}

fn unix(time: &Asn1TimeRef) -> Result<i64, openssl::error::ErrorStack> {
    let diff = Asn1Time::from_unix(0)?.diff(time)?;
    Ok(i64::from(diff.days) * 86_400 + i64::from(diff.secs))
}

/// `CN=…, O=…` in the certificate's order.
fn name(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".to_owned());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fingerprint as people copy it (`AB:CD:…`, upper case) in the register's form.
pub fn normalise_fingerprint(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Registers a certificate (PEM text) for a party.
pub async fn register(
    d: &Directory,
    party_id: &str,
    pem: &str,
    actor: &Actor,
) -> Result<PartyCertificate, CertificateError> {
    let read = read(pem)?;
    let new = NewPartyCertificate {
        sha256: &read.sha256,
        subject: &read.subject,
        issuer: &read.issuer,
        not_before: read.not_before,
        not_after: read.not_after,
        pem: &read.pem,
    };
    Ok(d.add_party_certificate(party_id, &new, actor).await?)
}
