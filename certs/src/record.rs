use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// JWS signing algorithms the identity provider issues keys for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256; these keys also sign SAML.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Rs256, Algorithm::Es256];

    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Es256 => "ES256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = ParseError;

    /// Accepts any ASCII case so that command-line input like `rs256` works; storage always
    /// writes [`Algorithm::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseError {
                what: "signing algorithm",
                value: s.to_owned(),
                accepted: "RS256, ES256",
            })
    }
}

/// Life cycle of a key: `next` is published ahead of use, `current` signs, `retired` no longer
/// signs or is published but is kept for the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Next,
    Current,
    Retired,
}

impl KeyState {
    pub const ALL: [KeyState; 3] = [KeyState::Next, KeyState::Current, KeyState::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Retired => "retired",
        }
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyState {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseError {
                what: "key state",
                value: s.to_owned(),
                accepted: "next, current, retired",
            })
    }
}

/// A string that is not the name of an [`Algorithm`] or [`KeyState`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (accepted: {accepted})")]
pub struct ParseError {
    what: &'static str,
    value: String,
    accepted: &'static str,
}

/// One signing key as stored; the private key is sealed under the KEK named by `kek_id`.
#[derive(Clone)]
pub struct KeyRecord {
    /// Random and URL-safe; appears as `kid` in JWS headers and JWKS.
    pub kid: String,
    pub alg: Algorithm,
    pub state: KeyState,
    /// SubjectPublicKeyInfo in PEM.
    pub public_key_pem: String,
    /// Self-signed certificate for SAML metadata; present for RS256 keys.
    pub certificate_pem: Option<String>,
    /// [`crate::Kek::seal`] of the PKCS#8 DER private key, with [`KeyRecord::aad`] as
    /// associated data.
    pub encrypted_private_key: Vec<u8>,
    pub kek_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When the key became current.
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
}

impl KeyRecord {
    /// Associated data for sealing this record's private key: binding the ciphertext to kid and
    /// algorithm stops a database writer from moving a private key to another record.
    pub fn aad(&self) -> String {
        record_aad(&self.kid, self.alg)
    }

    /// Current or next: the keys that sign or are about to. Only these are kept decrypted.
    pub fn is_active(&self) -> bool {
        matches!(self.state, KeyState::Current | KeyState::Next)
    }

    /// Whether JWKS and SAML metadata carry this key at `now`: an active key, or one retired
    /// less than `retired_grace` seconds ago, so that what it signed before the rotation (an ID
    /// token, an assertion on its way) still verifies and what a party encrypted to it from
    /// cached metadata can still be opened.
    pub fn is_published_at(&self, now: i64, retired_grace: i64) -> bool {
        self.is_active()
            || (self.state == KeyState::Retired
                && self
                    .retired_at
                    .is_some_and(|at| now < at.saturating_add(retired_grace)))
    }
}

pub(crate) fn record_aad(kid: &str, alg: Algorithm) -> String {
    format!("{kid}|{}", alg.as_str())
}

// Hand-written so that logs never carry the sealed key, even though it is encrypted.
impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("public_key_pem", &self.public_key_pem)
            .field(
                "certificate_pem",
                &self.certificate_pem.as_ref().map(|_| "<PEM>"),
            )
            .field(
                "encrypted_private_key",
                &format_args!("<{} bytes>", self.encrypted_private_key.len()),
            )
            .field("kek_id", &self.kek_id)
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// Subject and lifetime of the self-signed certificates made for RS256 keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateProfile {
    pub common_name: String,
    pub organization: String,
    pub validity_days: u32,
}

impl Default for CertificateProfile {
    /// Ten years: SAML service providers pin the signing certificate from metadata, and keys are
    /// rotated through their state rather than by letting certificates expire.
    fn default() -> Self {
        CertificateProfile {
            common_name: "openpoort".to_owned(),
            organization: "openpoort".to_owned(),
            validity_days: 3650,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(alg.to_string(), alg.as_str());
        }
        assert_eq!(Algorithm::Rs256.as_str(), "RS256");
        assert_eq!(Algorithm::Es256.as_str(), "ES256");
        assert_eq!("es256".parse::<Algorithm>().unwrap(), Algorithm::Es256);
    }

    #[test]
    fn unknown_algorithm_error_names_accepted_values() {
        let msg = "HS256".parse::<Algorithm>().unwrap_err().to_string();
        assert!(msg.contains("HS256"), "{msg}");
        assert!(msg.contains("RS256") && msg.contains("ES256"), "{msg}");
    }

    #[test]
    fn key_state_names_round_trip() {
        for state in KeyState::ALL {
            assert_eq!(state.as_str().parse::<KeyState>().unwrap(), state);
            assert_eq!(state.to_string(), state.as_str());
        }
        assert_eq!(KeyState::Next.as_str(), "next");
        assert_eq!(KeyState::Current.as_str(), "current");
        assert_eq!(KeyState::Retired.as_str(), "retired");
        let msg = "active".parse::<KeyState>().unwrap_err().to_string();
        assert!(msg.contains("next, current, retired"), "{msg}");
    }

    #[test]
    fn record_debug_does_not_print_encrypted_key() {
        let secret = vec![0xabu8; 48];
        let record = KeyRecord {
            kid: "rs256-0011223344556677".to_owned(),
            alg: Algorithm::Rs256,
            state: KeyState::Current,
            public_key_pem: "PEM".to_owned(),
            certificate_pem: None,
            encrypted_private_key: secret.clone(),
            kek_id: "kek-0".to_owned(),
            created_at: 1,
            activated_at: Some(1),
            retired_at: None,
        };
        let debug = format!("{record:?}");
        assert!(debug.contains("<48 bytes>"), "{debug}");
        assert!(!debug.contains("171"), "{debug}");
        assert!(!debug.contains(&format!("{secret:?}")), "{debug}");
    }
}
