use std::error::Error as StdError;
use std::fmt;

use crate::record::Algorithm;

/// Everything that can go wrong in this crate.
///
/// No message ever contains key material: variants carry key ids, KEK ids and counts only.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// The configured key-encryption key is unusable; the message names the setting (`keys.kek`).
    #[error("{0}")]
    InvalidKek(String),

    /// The record was sealed under a different KEK than the one this node is configured with.
    #[error(
        "key {kid} is sealed under KEK {expected_kek_id}, but the configured keys.kek has id \
         {actual_kek_id}; every node must be configured with the KEK that sealed the keys"
    )]
    WrongKek {
        kid: String,
        /// The KEK id stored with the record: the KEK needed to open it.
        expected_kek_id: String,
        /// The id of the KEK this node was given.
        actual_kek_id: String,
    },

    /// The sealed private key failed authentication or is malformed.
    #[error(
        "private key {kid} could not be decrypted: authentication failed or the stored \
         ciphertext is corrupt"
    )]
    Decrypt { kid: String },

    /// [`crate::Kek::open`] rejected its input.
    #[error("sealed data could not be opened: {0}")]
    Open(OpenError),

    /// A decrypted private key does not fit the rest of its record (algorithm, public key or
    /// certificate), so publishing the record and signing with the key would disagree.
    #[error("key {kid} is inconsistent with its record: {reason}")]
    KeyMismatch { kid: String, reason: String },

    /// The certificate profile cannot produce a valid certificate.
    #[error("invalid certificate profile: {0}")]
    InvalidProfile(String),

    /// A unix timestamp that cannot be represented in an X.509 certificate.
    #[error("timestamp {0} cannot be encoded as an X.509 time")]
    InvalidTimestamp(i64),

    #[error("OpenSSL error: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),

    #[error("key storage error: {0}")]
    Storage(#[from] StorageError),

    #[error("there is no current {0} key (keys have not been initialised)")]
    NoCurrentKey(Algorithm),

    #[error("there is no next {0} key to promote")]
    NoNextKey(Algorithm),

    /// Another node or command rotated the key between this rotation's read and its write;
    /// rotating again would retire a key that has only just become current.
    #[error(
        "the {0} key was rotated by another node or command meanwhile; nothing more was rotated"
    )]
    RotatedMeanwhile(Algorithm),

    /// Storage violates an invariant this crate relies on, such as one current key per algorithm.
    #[error("inconsistent key storage: {0}")]
    Inconsistent(String),
}

/// Why [`crate::Kek::open`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than the version byte, nonce and tag together.
    TooShort(usize),
    /// Written by a format this version does not know.
    UnsupportedVersion(u8),
    /// The GCM tag did not verify: wrong KEK, wrong associated data, or altered bytes.
    Authentication,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::TooShort(len) => write!(f, "input of {len} bytes is too short"),
            OpenError::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            OpenError::Authentication => f.write_str(
                "authentication failed (wrong key, wrong associated data or altered ciphertext)",
            ),
        }
    }
}

/// An error from a [`crate::KeyStorage`] implementation.
///
/// A newtype rather than a blanket `From<E: Error>` so that `CertsError` can keep its own `From`
/// impls without coherence conflicts.
#[derive(Debug)]
pub struct StorageError(pub Box<dyn StdError + Send + Sync>);

impl StorageError {
    /// Wraps any error, or a message (`&str` and `String` convert too).
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        StorageError(error.into())
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

// Display already shows the wrapped error, so its source is skipped to avoid printing it twice.
impl StdError for StorageError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl From<Box<dyn StdError + Send + Sync>> for StorageError {
    fn from(error: Box<dyn StdError + Send + Sync>) -> Self {
        StorageError(error)
    }
}
