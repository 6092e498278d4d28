//! Named secrets other than signing keys (such as the key of the pairwise-identifier hash),
//! generated once, stored sealed under the key-encryption key, and shared by every node.

use std::fmt;
use std::future::Future;

use crate::error::{CertsError, StorageError};
use crate::kek::Kek;

/// A secret as stored: sealed, with the id of the KEK that sealed it.
#[derive(Clone)]
pub struct SealedSecret {
    pub name: String,
    pub sealed: Vec<u8>,
    pub kek_id: String,
    pub created_at: i64,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("name", &self.name)
            .field("sealed_len", &self.sealed.len())
            .field("kek_id", &self.kek_id)
            .finish()
    }
}

/// Storage that the directory crate implements on SQLite and PostgreSQL.
pub trait SecretStorage: Send + Sync {
    fn load_secret(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<SealedSecret>, StorageError>> + Send;
    /// Stores the secret unless one of that name exists; Ok(false) when another node was first.
    fn insert_secret(
        &self,
        secret: SealedSecret,
    ) -> impl Future<Output = Result<bool, StorageError>> + Send;
}

/// Secret bytes in memory. Debug never shows them.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

fn aad(name: &str) -> Vec<u8> {
    format!("secret|{name}").into_bytes()
}

fn open(stored: &SealedSecret, kek: &Kek) -> Result<Secret, CertsError> {
    if stored.kek_id != kek.id() {
        return Err(CertsError::WrongKek {
            kid: format!("secret:{}", stored.name),
            expected_kek_id: stored.kek_id.clone(),
            actual_kek_id: kek.id(),
        });
    }
    kek.open(&stored.sealed, &aad(&stored.name))
        .map(Secret)
        .map_err(|_| CertsError::Decrypt {
            kid: format!("secret:{}", stored.name),
        })
}

/// The secret called `name`: the stored one, or `len` fresh random bytes stored on first use.
/// When two nodes race, both end up with the one that was stored first.
pub async fn ensure_secret<S: SecretStorage>(
    storage: &S,
    kek: &Kek,
    name: &str,
    len: usize,
    now: i64,
) -> Result<Secret, CertsError> {
    if let Some(stored) = storage.load_secret(name).await? {
        return open(&stored, kek);
    }
    let mut fresh = vec![0u8; len];
    openssl::rand::rand_bytes(&mut fresh)?;
    let sealed = SealedSecret {
        name: name.to_owned(),
        sealed: kek.seal(&fresh, &aad(name))?,
        kek_id: kek.id(),
        created_at: now,
    };
    if storage.insert_secret(sealed).await? {
        return Ok(Secret(fresh));
    }
    let stored = storage.load_secret(name).await?.ok_or_else(|| {
        CertsError::Inconsistent(format!(
            "secret {name} was neither inserted nor found afterwards"
        ))
    })?;
    open(&stored, kek)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Memory(Mutex<Vec<SealedSecret>>);

    impl SecretStorage for Memory {
        async fn load_secret(&self, name: &str) -> Result<Option<SealedSecret>, StorageError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|s| s.name == name)
                .cloned())
        }
        async fn insert_secret(&self, secret: SealedSecret) -> Result<bool, StorageError> {
            let mut v = self.0.lock().unwrap();
            if v.iter().any(|s| s.name == secret.name) {
                return Ok(false);
            }
            v.push(secret);
            Ok(true)
        }
    }

    #[tokio::test]
    async fn secret_is_generated_once_and_then_reused() {
        let (store, kek) = (Memory::default(), Kek::generate());
        let a = ensure_secret(&store, &kek, "pairwise", 32, 1)
            .await
            .unwrap();
        let b = ensure_secret(&store, &kek, "pairwise", 32, 2)
            .await
            .unwrap();
        assert_eq!(a.as_bytes(), b.as_bytes());
        assert_eq!(a.as_bytes().len(), 32);
        let stored = store.load_secret("pairwise").await.unwrap().unwrap();
        assert!(
            !stored.sealed.windows(32).any(|w| w == a.as_bytes()),
            "stored in the clear"
        );
    }

    #[tokio::test]
    async fn secret_does_not_open_under_another_kek() {
        let store = Memory::default();
        ensure_secret(&store, &Kek::generate(), "pairwise", 32, 1)
            .await
            .unwrap();
        let err = ensure_secret(&store, &Kek::generate(), "pairwise", 32, 2)
            .await
            .unwrap_err();
        assert!(matches!(err, CertsError::WrongKek { .. }), "{err}");
    }

    #[tokio::test]
    async fn sealed_secret_is_bound_to_its_name() {
        let (store, kek) = (Memory::default(), Kek::generate());
        ensure_secret(&store, &kek, "a", 32, 1).await.unwrap();
        let mut moved = store.load_secret("a").await.unwrap().unwrap();
        moved.name = "b".into();
        store.insert_secret(moved).await.unwrap();
        let err = ensure_secret(&store, &kek, "b", 32, 2).await.unwrap_err();
        assert!(matches!(err, CertsError::Decrypt { .. }), "{err}");
    }

    #[test]
    fn secret_debug_output_does_not_reveal_bytes() {
        let s = Secret(vec![0xAB; 4]);
        assert_eq!(format!("{s:?}"), "Secret(4 bytes)");
    }
}
