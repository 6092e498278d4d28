//! openpoort's XML signers (an RS256 key with its certificate, ready for xmlsec): the current
//! key's for the SAML identity provider's responses and the network-provider side's requests,
//! and the metadata signer for both sides' metadata documents.

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

/// The signer of the current key, for responses, logout messages and requests.
pub async fn signer(state: &AppState) -> Result<XmlSigner, SigningError> {
    let key = state.keys.current_signing_key(Algorithm::Rs256).await?;
    if let Some(signer) = cached(state, key.kid()) {
        return Ok(signer);
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
    made(state, key, pem).await
}

/// The signer of openpoort's metadata documents (IdP and SP): the longest-serving published
/// key (see `certs::KeyManager::metadata_signing_key`), so that a party which pinned the
/// certificate that signed the last document still verifies the next one after a rotation.
pub async fn metadata_signer(state: &AppState) -> Result<XmlSigner, SigningError> {
    let (record, key) = state
        .keys
        .metadata_signing_key(Algorithm::Rs256, crate::clock::unix_now())
        .await?;
    if let Some(signer) = cached(state, key.kid()) {
        return Ok(signer);
    }
    let pem = record.certificate_pem.ok_or(SigningError::NoCertificate)?;
    made(state, key, pem).await
}

/// Signers kept by key id: the current key's and, for a grace period after a rotation, the
/// retired one that still signs metadata.
const KEPT_SIGNERS: usize = 2;

fn cached(state: &AppState, kid: &str) -> Option<XmlSigner> {
    lock(&state.saml_signers)
        .iter()
        .find(|(k, _)| k == kid)
        .map(|(_, signer)| signer.clone())
}

async fn made(
    state: &AppState,
    key: certs::SigningKey,
    pem: String,
) -> Result<XmlSigner, SigningError> {
    // Loading signs twice (see XmlSigner::new): off the async threads.
    let made =
        tokio::task::spawn_blocking(move || XmlSigner::new(key.pkey(), &pem).map(|s| (key, s)))
            .await?;
    let (key, signer) = made?;
    let mut kept = lock(&state.saml_signers);
    kept.retain(|(kid, _)| kid != key.kid());
    kept.insert(0, (key.kid().to_owned(), signer.clone()));
    kept.truncate(KEPT_SIGNERS);
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
