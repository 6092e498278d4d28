//! TLS where openpoort terminates it itself: the partner API's mutual-TLS listener.
//!
//! Publishers' existing software identifies itself with a client certificate and nothing else,
//! often a self-signed one or one from a CA openpoort has no reason to trust. So the certificate
//! is not judged by its issuer: the handshake proves that the client holds the certificate's
//! private key, and the certificate's SHA-256 fingerprint then names the party, if a party
//! registered exactly that certificate (the directory's `party_certificates`). A client without
//! a certificate may still connect, to present a client-credentials bearer token instead.
//!
//! TLS 1.2 stays on because existing clients offer nothing newer; in both versions only ECDHE
//! key exchange with AES-GCM or ChaCha20-Poly1305 (rustls offers no CBC, RSA key exchange or
//! SHA-1 signatures at all, and the list below says so explicitly).

use std::path::Path;
use std::sync::Arc;

use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::ring::cipher_suite;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate chain {path}: {reason}")]
    Certificates { path: String, reason: String },
    #[error("{path} holds no certificate (PEM, BEGIN CERTIFICATE)")]
    NoCertificate { path: String },
    #[error("cannot read the private key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The SHA-256 of a certificate's DER encoding, lowercase hex: how a registered certificate is
/// found again.
pub fn fingerprint(der: &[u8]) -> String {
    openssl::sha::sha256(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The server side of the partner listener: `certificate` (PEM, the chain from the server's
/// own certificate up) and `key` (PEM, PKCS#8, PKCS#1 or SEC1).
pub fn partner_server_config(
    certificate: &Path,
    key: &Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Certificates {
            path: certificate.display().to_string(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: certificate.display().to_string(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        reason: e.to_string(),
    })?;
    // Deprecated for lacking post-quantum key exchange (ML-KEM), which only aws-lc-rs offers;
    // that would compile a second C crypto library beside OpenSSL for a listener whose clients
    // mostly speak TLS 1.2 with classic ECDHE anyway. Revisit when ring gains ML-KEM.
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    let verifier = Arc::new(PresentedCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    // The accept loop speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts a client certificate that is within its validity period, whoever issued it: which
/// party (if any) it names is decided per request from its fingerprint. rustls still checks
/// that the client signed the handshake with the certificate's key, through
/// `verify_tls1x_signature` below.
#[derive(Debug)]
struct PresentedCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PresentedCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    /// A client without a certificate may present a bearer token instead.
    fn client_auth_mandatory(&self) -> bool {
        false
    }

    /// No CA names: the client sends the certificate it was configured with.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let bad = |e: CertificateError| rustls::Error::InvalidCertificate(e);
        let cert = X509::from_der(end_entity).map_err(|_| bad(CertificateError::BadEncoding))?;
        let now = i64::try_from(now.as_secs())
            .ok()
            .and_then(|t| Asn1Time::from_unix(t).ok())
            .ok_or_else(|| bad(CertificateError::BadEncoding))?;
        if cert.not_before() > now {
            return Err(bad(CertificateError::NotValidYet));
        }
        if cert.not_after() < now {
            return Err(bad(CertificateError::Expired));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
