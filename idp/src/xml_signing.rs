//! openpoort's XML signer (the current RS256 key with its certificate, ready for xmlsec), used
//! by the SAML identity provider for its responses and metadata and by the network-provider
//! side for its requests and SP metadata.

use certs::Algorithm;
use metadata::saml::SamlError;
use metadata::saml::sign::XmlSigner;

use crate::app_state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("keys: {0}")]
    Keys(#[from] certs::CertsError),
    #[error("openpoort has no current RS256 certificate")]
    NoCertificate,
    #[error("loading the signing key: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("SAML: {0}")]
    Saml(#[from] SamlError),
}

/// The signer of the current key: made once per key id and kept until the key rotates.
pub async fn signer(state: &AppState) -> Result<XmlSigner, SigningError> {
    let key = state.keys.current_signing_key(Algorithm::Rs256).await?;
    if let Some((kid, signer)) = &*lock(&state.saml_signer)
        && kid == key.kid()
    {
        return Ok(signer.clone());
    }
    let published = state
        .keys
        .published(Algorithm::Rs256, crate::clock::unix_now())
        .await?;
    let pem = published
        .iter()
        .find(|r| r.kid == key.kid())
        .and_then(|r| r.certificate_pem.clone())
        .ok_or(SigningError::NoCertificate)?;
    // Loading signs twice (see XmlSigner::new): off the async threads.
    let made =
        tokio::task::spawn_blocking(move || XmlSigner::new(key.pkey(), &pem).map(|s| (key, s)))
            .await?;
    let (key, signer) = made?;
    *lock(&state.saml_signer) = Some((key.kid().to_owned(), signer.clone()));
    Ok(signer)
}

/// The published RS256 certificates (base64 DER: current, next, then those retired within the
/// grace period), as metadata lists them.
pub async fn published_certificates(state: &AppState) -> Result<Vec<String>, SigningError> {
    state
        .keys
        .published(Algorithm::Rs256, crate::clock::unix_now())
        .await?
        .iter()
        .filter_map(|r| r.certificate_pem.as_deref())
        .map(|pem| {
            openssl::x509::X509::from_pem(pem.as_bytes())
                .and_then(|c| c.to_der())
                .map(|der| openssl::base64::encode_block(&der).replace('\n', ""))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| SigningError::Saml(SamlError::Certificate(e.to_string())))
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The cached value is replaced whole, so a panic elsewhere cannot leave it half written.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
