use std::fmt::Write as _;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKeyRef, Private};
use openssl::rand::rand_bytes;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509, X509NameBuilder};

use crate::error::CertsError;
use crate::record::CertificateProfile;

/// Backdating absorbs clock skew between this node and relying parties that check notBefore.
const NOT_BEFORE_SKEW_SECS: i64 = 5 * 60;
const SECS_PER_DAY: i64 = 24 * 60 * 60;
/// RFC 5280 upper bounds for the subject attributes we set.
const MAX_COMMON_NAME_LEN: usize = 64;
const MAX_ORGANIZATION_LEN: usize = 64;

pub(crate) fn validate_profile(profile: &CertificateProfile) -> Result<(), CertsError> {
    let check = |name: &str, value: &str, max: usize| {
        if value.trim().is_empty() {
            Err(CertsError::InvalidProfile(format!(
                "{name} must not be empty"
            )))
        } else if value.chars().count() > max {
            Err(CertsError::InvalidProfile(format!(
                "{name} must be at most {max} characters (got {})",
                value.chars().count()
            )))
        } else {
            Ok(())
        }
    };
    check("common_name", &profile.common_name, MAX_COMMON_NAME_LEN)?;
    check("organization", &profile.organization, MAX_ORGANIZATION_LEN)?;
    if profile.validity_days == 0 {
        return Err(CertsError::InvalidProfile(
            "validity_days must be at least 1".to_owned(),
        ));
    }
    Ok(())
}

/// Self-signed X.509 v3 end-entity certificate for `key`, signed with SHA-256.
pub(crate) fn self_signed_certificate(
    key: &PKeyRef<Private>,
    profile: &CertificateProfile,
    now: i64,
) -> Result<X509, CertsError> {
    validate_profile(profile)?;
    let not_before = now
        .checked_sub(NOT_BEFORE_SKEW_SECS)
        .ok_or(CertsError::InvalidTimestamp(now))?;
    let not_after = i64::from(profile.validity_days)
        .checked_mul(SECS_PER_DAY)
        .and_then(|secs| now.checked_add(secs))
        .ok_or(CertsError::InvalidTimestamp(now))?;

    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", &profile.common_name)?;
    name.append_entry_by_text("O", &profile.organization)?;
    let name = name.build();

    let mut builder = X509::builder()?;
    // The field is zero-based: 2 means X.509 v3, required for extensions.
    builder.set_version(2)?;
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(key)?;
    let not_before = asn1_time(not_before)?;
    let not_after = asn1_time(not_after)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    builder.sign(key, MessageDigest::sha256())?;
    Ok(builder.build())
}

/// A random positive, non-zero 128-bit serial, as RFC 5280 asks; unpredictable serials also
/// keep two certificates made in the same second from colliding.
fn random_serial() -> Result<Asn1Integer, CertsError> {
    loop {
        let mut bytes = [0u8; 16];
        rand_bytes(&mut bytes)?;
        // Built from unsigned bytes, so the number is never negative; zero is the only reject.
        let serial = BigNum::from_slice(&bytes)?;
        if serial.num_bits() > 0 {
            return Ok(serial.to_asn1_integer()?);
        }
    }
}

fn asn1_time(unix: i64) -> Result<Asn1Time, CertsError> {
    // time_t is narrower than i64 on some targets.
    #[allow(clippy::useless_conversion)]
    let time = unix
        .try_into()
        .map_err(|_| CertsError::InvalidTimestamp(unix))?;
    Asn1Time::from_unix(time).map_err(|_| CertsError::InvalidTimestamp(unix))
}

/// SHA-256 fingerprint of a PEM certificate as uppercase hex pairs joined by `:`, the form
/// `openssl x509 -fingerprint -sha256` prints and operators compare against SP configuration.
pub fn certificate_fingerprint(pem: &str) -> Result<String, CertsError> {
    let certificate = X509::from_pem(pem.as_bytes())?;
    let digest = certificate.digest(MessageDigest::sha256())?;
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_fingerprint_is_colon_separated_uppercase_sha256() {
        let key =
            openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let cert =
            self_signed_certificate(&key, &CertificateProfile::default(), 1_700_000_000).unwrap();
        let pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
        let fingerprint = certificate_fingerprint(&pem).unwrap();

        let der = cert.to_der().unwrap();
        let expected: Vec<String> = openssl::sha::sha256(&der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(fingerprint, expected.join(":"));
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert!(certificate_fingerprint("not a certificate").is_err());
    }

    #[test]
    fn certificate_profile_is_validated() {
        let key =
            openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let bad = [
            CertificateProfile {
                common_name: " ".into(),
                ..CertificateProfile::default()
            },
            CertificateProfile {
                organization: String::new(),
                ..CertificateProfile::default()
            },
            CertificateProfile {
                common_name: "x".repeat(65),
                ..CertificateProfile::default()
            },
            CertificateProfile {
                validity_days: 0,
                ..CertificateProfile::default()
            },
        ];
        for profile in bad {
            let err = self_signed_certificate(&key, &profile, 1_700_000_000).unwrap_err();
            assert!(
                matches!(err, CertsError::InvalidProfile(_)),
                "{profile:?}: {err}"
            );
        }
    }

    #[test]
    fn certificate_serials_are_random_and_positive() {
        let key =
            openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let profile = CertificateProfile::default();
        let a = self_signed_certificate(&key, &profile, 1_700_000_000).unwrap();
        let b = self_signed_certificate(&key, &profile, 1_700_000_000).unwrap();
        let serial_a = a.serial_number().to_bn().unwrap();
        let serial_b = b.serial_number().to_bn().unwrap();
        assert!(!serial_a.is_negative() && serial_a.num_bits() > 0);
        assert!(serial_a.num_bits() <= 128);
        assert_ne!(serial_a, serial_b);
    }
}
