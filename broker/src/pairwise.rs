//! Pairwise pseudonyms: one stable identifier per (sector, user), unlinkable across sectors
//! without openpoort's secret. HMAC-SHA256 (through OpenSSL) of the sector and the user's
//! internal id, keyed with a secret kept sealed in the key store.
//!
//! The partner API numbers every pupil of a school in one answer (2,000 of them, and every
//! consenting school to find the one in a path), so the MAC is computed from SHA-256 states
//! keyed once at load (RFC 2104's inner and outer pads, kept by the `hmac` crate), cloned per call. An OpenSSL HMAC key
//! and signing context made per call cost about 8 µs, far more than the hashing: two fifths of
//! the server's CPU for a 2,000-pupil list (partner-bench, README).
//!
//! The internal id is what keeps the pseudonym stable: it survives imports, a new school year and
//! a merge, because those move or update the user's row instead of creating a new one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certs::{Kek, SecretStorage, ensure_secret};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::BrokerError;

/// Name of the secret in the key store. A new version would be a new name, so that old
/// pseudonyms stay computable during a migration.
pub const SECRET_NAME: &str = "pairwise-v1";

#[derive(Clone, Debug)]
pub struct Pairwise {
    key: HmacKey,
}

impl Pairwise {
    /// Loads the secret, generating and storing it on first use.
    pub async fn load<S: SecretStorage>(
        storage: &S,
        kek: &Kek,
        now: i64,
    ) -> Result<Pairwise, BrokerError> {
        let secret = ensure_secret(storage, kek, SECRET_NAME, 32, now).await?;
        Ok(Pairwise {
            key: HmacKey::new(secret.as_bytes()),
        })
    }

    /// The pseudonym of `user_id` for `sector`: 43 URL-safe characters.
    pub fn identifier(&self, sector: &str, user_id: &str) -> Result<String, BrokerError> {
        Ok(URL_SAFE_NO_PAD.encode(self.mac(&[sector, user_id])))
    }

    /// A pairwise number for APIs whose identifiers are JSON integers (Basispoort's partner
    /// API): stable for the same (sector, kind, id), unlinkable across sectors like the
    /// pseudonym. 53 bits, so that JavaScript clients read it exactly; two of a million ids in
    /// one sector share a number with a chance of about one in 18,000.
    pub fn number(&self, sector: &str, kind: &str, id: &str) -> Result<i64, BrokerError> {
        // A domain tag keeps these apart from pseudonyms of the same sector and id.
        let mac = self.mac(&["partner-number", sector, kind, id]);
        let mut first = [0u8; 8];
        first.copy_from_slice(&mac[..8]);
        let n = u64::from_be_bytes(first) & ((1 << 53) - 1);
        // Zero reads as "no id" in some clients.
        Ok(n.max(1) as i64)
    }

    fn mac(&self, fields: &[&str]) -> [u8; 32] {
        self.key.mac(|h| {
            // Length-prefixed fields, so that ("ab", "c") and ("a", "bc") cannot collide.
            for field in fields {
                h.update(&(field.len() as u64).to_be_bytes());
                h.update(field.as_bytes());
            }
        })
    }
}

/// HMAC-SHA256 with its key absorbed once (RustCrypto's `hmac`, whose keyed state is the
/// SHA-256 states after the inner and outer padded key), cloned for each MAC. It stands for the
/// key, so it is never printed.
#[derive(Clone)]
struct HmacKey(Hmac<Sha256>);

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

impl HmacKey {
    fn new(key: &[u8]) -> HmacKey {
        HmacKey(Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length"))
    }

    /// The MAC of what `write` feeds it.
    fn mac(&self, write: impl FnOnce(&mut Hmac<Sha256>)) -> [u8; 32] {
        let mut mac = self.0.clone();
        write(&mut mac);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;

    use super::*;

    fn openssl_hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
        let key = PKey::hmac(key).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
        signer.update(data).unwrap();
        signer.sign_to_vec().unwrap()
    }

    #[test]
    fn the_keyed_states_give_rfc_4231_s_hmac_sha256() {
        // RFC 4231, test cases 1 (short key) and 6 (a key longer than the block).
        let key = HmacKey::new(&[0x0b; 20]);
        assert_eq!(
            hex(&key.mac(|h| h.update(b"Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let key = HmacKey::new(&[0xaa; 131]);
        assert_eq!(
            hex(&key.mac(|h| {
                h.update(b"Test Using Larger Than Block-Size Key");
                h.update(b" - Hash Key First");
            })),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn numbers_and_pseudonyms_stay_what_openssl_s_hmac_made_them() {
        // What parties hold must not change with the implementation: the same MAC as OpenSSL's
        // own HMAC over the length-prefixed fields, for keys of every length around the block.
        for key_len in [1, 32, 63, 64, 65, 100] {
            let secret: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
            let pairwise = Pairwise {
                key: HmacKey::new(&secret),
            };
            for fields in [
                &[
                    "partner-number",
                    "https://uitgeverij.example",
                    "pupil",
                    "p-1",
                ][..],
                &["sector", ""][..],
                &[""][..],
            ] {
                let mut data = Vec::new();
                for f in fields {
                    data.extend_from_slice(&(f.len() as u64).to_be_bytes());
                    data.extend_from_slice(f.as_bytes());
                }
                assert_eq!(
                    pairwise.mac(fields).to_vec(),
                    openssl_hmac(&secret, &data),
                    "key of {key_len} bytes, fields {fields:?}"
                );
            }
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
