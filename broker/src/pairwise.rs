//! Pairwise pseudonyms: one stable identifier per (sector, user), unlinkable across sectors
//! without openpoort's secret. HMAC-SHA256 (through OpenSSL) of the sector and the user's
//! internal id, keyed with a secret kept sealed in the key store.
//!
//! The internal id is what keeps the pseudonym stable: it survives imports, a new school year and
//! a merge, because those move or update the user's row instead of creating a new one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certs::{Kek, Secret, SecretStorage, ensure_secret};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use crate::error::BrokerError;

/// Name of the secret in the key store. A new version would be a new name, so that old
/// pseudonyms stay computable during a migration.
pub const SECRET_NAME: &str = "pairwise-v1";

#[derive(Clone, Debug)]
pub struct Pairwise {
    secret: Secret,
}

impl Pairwise {
    /// Loads the secret, generating and storing it on first use.
    pub async fn load<S: SecretStorage>(
        storage: &S,
        kek: &Kek,
        now: i64,
    ) -> Result<Pairwise, BrokerError> {
        Ok(Pairwise {
            secret: ensure_secret(storage, kek, SECRET_NAME, 32, now).await?,
        })
    }

    /// The pseudonym of `user_id` for `sector`: 43 URL-safe characters.
    pub fn identifier(&self, sector: &str, user_id: &str) -> Result<String, BrokerError> {
        Ok(URL_SAFE_NO_PAD.encode(self.mac(&[sector, user_id])?))
    }

    /// A pairwise number for APIs whose identifiers are JSON integers (Basispoort's partner
    /// API): stable for the same (sector, kind, id), unlinkable across sectors like the
    /// pseudonym. 53 bits, so that JavaScript clients read it exactly; two of a million ids in
    /// one sector share a number with a chance of about one in 18,000.
    pub fn number(&self, sector: &str, kind: &str, id: &str) -> Result<i64, BrokerError> {
        // A domain tag keeps these apart from pseudonyms of the same sector and id.
        let mac = self.mac(&["partner-number", sector, kind, id])?;
        let mut first = [0u8; 8];
        first.copy_from_slice(&mac[..8]);
        let n = u64::from_be_bytes(first) & ((1 << 53) - 1);
        // Zero reads as "no id" in some clients.
        Ok(n.max(1) as i64)
    }

    fn mac(&self, fields: &[&str]) -> Result<Vec<u8>, BrokerError> {
        let key = PKey::hmac(self.secret.as_bytes())?;
        let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
        // Length-prefixed fields, so that ("ab", "c") and ("a", "bc") cannot collide.
        for field in fields {
            signer.update(&(field.len() as u64).to_be_bytes())?;
            signer.update(field.as_bytes())?;
        }
        Ok(signer.sign_to_vec()?)
    }
}
