//! Key material for openpoort: JWT signing keys (RS256, ES256) and the RSA key plus self-signed
//! certificate that signs SAML, stored with their private keys sealed under a key-encryption key.
//!
//! Keys move through `next` (published ahead of use so relying parties can cache them),
//! `current` (signs) and `retired`. Storage is abstracted by [`KeyStorage`] so the directory
//! crate can keep keys in SQLite or PostgreSQL.

mod cert;
mod error;
mod kek;
mod key;
mod manager;
mod record;
mod secret;

pub use cert::certificate_fingerprint;
pub use error::{CertsError, OpenError, StorageError};
pub use kek::Kek;
pub use key::{SigningKey, decrypt_private_key, generate_key};
pub use manager::{KeyManager, KeyStorage};
pub use record::{Algorithm, CertificateProfile, KeyRecord, KeyState, ParseError};
pub use secret::{SealedSecret, Secret, SecretStorage, ensure_secret};
