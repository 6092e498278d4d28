use std::fmt;
use std::sync::atomic::{Ordering, compiler_fence};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use openssl::rand::rand_bytes;
use openssl::sha::sha256;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

use crate::error::{CertsError, OpenError};

const KEY_LEN: usize = 32;
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Key-encryption key: AES-256-GCM key that seals private keys at rest.
///
/// The key bytes are wiped when the value is dropped.
#[derive(Clone)]
pub struct Kek {
    key: [u8; KEY_LEN],
    id: String,
}

impl Kek {
    /// Parses `keys.kek`: exactly 32 bytes in standard (padded) base64; surrounding whitespace is
    /// ignored because values often come from files with a trailing newline.
    pub fn from_base64(s: &str) -> Result<Kek, CertsError> {
        let mut decoded = STANDARD.decode(s.trim()).map_err(|_| {
            // The decoder's own message quotes the offending character, which is part of the key.
            CertsError::InvalidKek(
                "keys.kek must be 32 bytes encoded as standard base64 (the value is not valid \
                 standard base64; generate one with `openssl rand -base64 32`)"
                    .to_owned(),
            )
        })?;
        let result = match <[u8; KEY_LEN]>::try_from(decoded.as_slice()) {
            Ok(key) => Ok(Kek::from_bytes(key)),
            Err(_) => Err(CertsError::InvalidKek(format!(
                "keys.kek must be 32 bytes encoded as standard base64 (got {} bytes)",
                decoded.len()
            ))),
        };
        wipe(&mut decoded);
        result
    }

    /// A fresh random KEK from OpenSSL's CSPRNG.
    ///
    /// # Panics
    /// If OpenSSL's random generator fails, which only happens when it cannot be seeded; no key
    /// should be made then.
    pub fn generate() -> Kek {
        let mut key = [0u8; KEY_LEN];
        rand_bytes(&mut key).expect("OpenSSL random generator failed while generating a KEK");
        let kek = Kek::from_bytes(key);
        wipe(&mut key);
        kek
    }

    fn from_bytes(key: [u8; KEY_LEN]) -> Kek {
        let digest = sha256(&key);
        let id = format!("kek-{}", hex_lower(&digest[..8]));
        Kek { key, id }
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.key)
    }

    /// `kek-` followed by the first 16 hex characters of SHA-256 of the key: enough for storage
    /// to tell which KEK sealed a record, without revealing anything usable about the key.
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// Encrypts with AES-256-GCM under a fresh random nonce.
    ///
    /// Output: version byte (1) || 12-byte nonce || ciphertext || 16-byte tag. The version byte is
    /// authenticated together with `aad`, so it cannot be altered to steer a future decoder.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CertsError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand_bytes(&mut nonce)?;
        let mut tag = [0u8; TAG_LEN];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            &authenticated_data(aad),
            plaintext,
            &mut tag,
        )?;
        let mut sealed = Vec::with_capacity(HEADER_LEN + ciphertext.len() + TAG_LEN);
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    /// Reverses [`Kek::seal`]; `aad` must be the same bytes given to `seal`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CertsError> {
        let Some(&version) = sealed.first() else {
            return Err(CertsError::Open(OpenError::TooShort(0)));
        };
        if version != FORMAT_VERSION {
            return Err(CertsError::Open(OpenError::UnsupportedVersion(version)));
        }
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(CertsError::Open(OpenError::TooShort(sealed.len())));
        }
        let nonce = &sealed[1..HEADER_LEN];
        let (ciphertext, tag) = sealed[HEADER_LEN..].split_at(sealed.len() - HEADER_LEN - TAG_LEN);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            &authenticated_data(aad),
            ciphertext,
            tag,
        )
        .map_err(|_| CertsError::Open(OpenError::Authentication))
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Drop for Kek {
    fn drop(&mut self) {
        wipe(&mut self.key);
    }
}

fn authenticated_data(aad: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(1 + aad.len());
    data.push(FORMAT_VERSION);
    data.extend_from_slice(aad);
    data
}

/// Overwrites secret bytes before their memory is released or reused.
///
/// Volatile writes plus a fence keep the compiler from eliding stores to memory that is about to
/// be freed, which a plain `fill(0)` does not guarantee.
pub(crate) fn wipe(bytes: &mut [u8]) {
    for byte in bytes.iter_mut() {
        // SAFETY: `byte` is a valid, aligned, exclusive reference to a u8.
        unsafe { std::ptr::write_volatile(byte, 0) };
    }
    compiler_fence(Ordering::SeqCst);
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kek_must_be_32_bytes_of_base64() {
        let short = STANDARD.encode([7u8; 12]);
        let err = Kek::from_base64(&short).unwrap_err();
        assert!(matches!(err, CertsError::InvalidKek(_)));
        let msg = err.to_string();
        assert!(msg.contains("keys.kek"), "{msg}");
        assert!(msg.contains("got 12 bytes"), "{msg}");

        let long = STANDARD.encode([7u8; 33]);
        let msg = Kek::from_base64(&long).unwrap_err().to_string();
        assert!(msg.contains("got 33 bytes"), "{msg}");

        let err = Kek::from_base64("not base64 at all!").unwrap_err();
        assert!(matches!(err, CertsError::InvalidKek(_)));
        assert!(err.to_string().contains("keys.kek"));

        let ok = STANDARD.encode([7u8; 32]);
        assert!(Kek::from_base64(&format!("  {ok}\n")).is_ok());
    }

    #[test]
    fn invalid_kek_message_does_not_echo_the_value() {
        let value = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk!ZWZnaGlqaw==";
        let msg = Kek::from_base64(value).unwrap_err().to_string();
        assert!(!msg.contains('!'), "{msg}");
        assert!(!msg.contains("QUJD"), "{msg}");
    }

    #[test]
    fn kek_base64_round_trips() {
        let kek = Kek::generate();
        let again = Kek::from_base64(&kek.to_base64()).unwrap();
        assert_eq!(kek.id(), again.id());
        let sealed = kek.seal(b"secret", b"aad").unwrap();
        assert_eq!(again.open(&sealed, b"aad").unwrap(), b"secret");
    }

    #[test]
    fn kek_id_is_prefixed_truncated_sha256() {
        let kek = Kek::from_base64(&STANDARD.encode([0u8; 32])).unwrap();
        // SHA-256 of 32 zero bytes starts with 66687aadf862bd77.
        assert_eq!(kek.id(), "kek-66687aadf862bd77");
        assert_ne!(Kek::generate().id(), Kek::generate().id());
    }

    #[test]
    fn kek_debug_output_does_not_reveal_key() {
        let kek = Kek::generate();
        let debug = format!("{kek:?}");
        assert!(debug.contains(&kek.id()), "{debug}");
        assert!(!debug.contains(&kek.to_base64()), "{debug}");
        assert!(!debug.contains(&hex_lower(&kek.key)), "{debug}");
        assert!(!debug.contains(&format!("{:?}", kek.key)), "{debug}");
    }

    #[test]
    fn seal_then_open_returns_plaintext() {
        let kek = Kek::generate();
        for plaintext in [&b""[..], b"x", &[0xa5u8; 1000][..]] {
            let sealed = kek.seal(plaintext, b"kid|RS256").unwrap();
            assert_eq!(sealed.len(), 1 + NONCE_LEN + plaintext.len() + TAG_LEN);
            assert_eq!(sealed[0], FORMAT_VERSION);
            assert_eq!(kek.open(&sealed, b"kid|RS256").unwrap(), plaintext);
        }
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() {
        let kek = Kek::generate();
        let a = kek.seal(b"same", b"").unwrap();
        let b = kek.seal(b"same", b"").unwrap();
        assert_ne!(a[1..HEADER_LEN], b[1..HEADER_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn tampered_ciphertext_is_rejected() {
        let kek = Kek::generate();
        let sealed = kek.seal(b"private key bytes", b"aad").unwrap();
        // Every byte matters: nonce, ciphertext and tag are all covered by authentication.
        for i in 1..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            let err = kek.open(&tampered, b"aad").unwrap_err();
            assert!(
                matches!(err, CertsError::Open(OpenError::Authentication)),
                "byte {i}: {err}"
            );
        }
        let truncated = &sealed[..sealed.len() - 1];
        assert!(matches!(
            kek.open(truncated, b"aad").unwrap_err(),
            CertsError::Open(OpenError::Authentication)
        ));
        assert!(matches!(
            kek.open(&sealed, b"other aad").unwrap_err(),
            CertsError::Open(OpenError::Authentication)
        ));
    }

    #[test]
    fn open_rejects_unknown_version_and_short_input() {
        let kek = Kek::generate();
        let mut sealed = kek.seal(b"data", b"").unwrap();
        sealed[0] = 2;
        assert!(matches!(
            kek.open(&sealed, b"").unwrap_err(),
            CertsError::Open(OpenError::UnsupportedVersion(2))
        ));
        assert!(matches!(
            kek.open(&[], b"").unwrap_err(),
            CertsError::Open(OpenError::TooShort(0))
        ));
        let short = [FORMAT_VERSION; HEADER_LEN + TAG_LEN - 1];
        assert!(matches!(
            kek.open(&short, b"").unwrap_err(),
            CertsError::Open(OpenError::TooShort(28))
        ));
    }

    #[test]
    fn sealed_data_does_not_open_with_another_kek() {
        let sealed = Kek::generate().seal(b"data", b"aad").unwrap();
        assert!(matches!(
            Kek::generate().open(&sealed, b"aad").unwrap_err(),
            CertsError::Open(OpenError::Authentication)
        ));
    }
}
