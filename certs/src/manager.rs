use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{CertsError, StorageError};
use crate::kek::Kek;
use crate::key::{SigningKey, decrypt_private_key, generate_key};
use crate::record::{Algorithm, CertificateProfile, KeyRecord, KeyState};

/// Storage that the directory crate implements on SQLite and PostgreSQL.
///
/// Implementations must keep at most one `current` and at most one `next` key per algorithm;
/// [`KeyManager`] reports [`CertsError::Inconsistent`] when they do not.
pub trait KeyStorage: Send + Sync {
    fn load_keys(&self) -> impl Future<Output = Result<Vec<KeyRecord>, StorageError>> + Send;

    /// Insert the first current+next pair for one algorithm, atomically, only if no current key
    /// of that algorithm exists. Ok(false) when another node got there first (the caller then
    /// reloads).
    fn insert_initial(
        &self,
        current: KeyRecord,
        next: KeyRecord,
    ) -> impl Future<Output = Result<bool, StorageError>> + Send;

    /// Atomically, if the current key of `alg` is still `expected_current`: current -> retired
    /// (retired_at = now), next -> current (activated_at = now), insert `new_next`; Ok(true).
    /// Ok(false), changing nothing, when another rotation came first, so that nodes rotating
    /// on a schedule at the same moment rotate once.
    fn rotate(
        &self,
        alg: Algorithm,
        expected_current: String,
        new_next: KeyRecord,
        now: i64,
    ) -> impl Future<Output = Result<bool, StorageError>> + Send;
}

// Lets one storage handle be shared between the key manager and the rest of the server.
impl<S: KeyStorage + ?Sized> KeyStorage for Arc<S> {
    fn load_keys(&self) -> impl Future<Output = Result<Vec<KeyRecord>, StorageError>> + Send {
        (**self).load_keys()
    }

    fn insert_initial(
        &self,
        current: KeyRecord,
        next: KeyRecord,
    ) -> impl Future<Output = Result<bool, StorageError>> + Send {
        (**self).insert_initial(current, next)
    }

    fn rotate(
        &self,
        alg: Algorithm,
        expected_current: String,
        new_next: KeyRecord,
        now: i64,
    ) -> impl Future<Output = Result<bool, StorageError>> + Send {
        (**self).rotate(alg, expected_current, new_next, now)
    }
}

/// Creates, rotates and opens signing keys kept in a [`KeyStorage`].
///
/// Key records are read from storage at most every `RECORDS_TTL`, so a rotation done by
/// another node is seen within that time (at once on the node that rotated). Decrypted keys are
/// kept in memory by kid, which is safe because a kid's key material never changes.
/// Key generation (RSA in particular) runs on the calling task; it happens only at first start
/// and on rotation.
pub struct KeyManager<S: KeyStorage> {
    storage: S,
    kek: Kek,
    profile: CertificateProfile,
    decrypted: Mutex<HashMap<String, SigningKey>>,
    /// The stored records as last read, for signing on the hot path: every ID token would
    /// otherwise read the key table. A rotation by another node is seen within
    /// [`RECORDS_TTL`]; relying parties already hold the next key from the JWKS by then.
    records: Mutex<Option<(std::time::Instant, Vec<KeyRecord>)>>,
    /// How long a retired key stays published, in seconds (see [`KeyRecord::is_published_at`]).
    retired_grace: i64,
}

/// How long signing keeps using the key records it read.
pub const RECORDS_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl<S: KeyStorage> KeyManager<S> {
    pub fn new(storage: S, kek: Kek, profile: CertificateProfile) -> Self {
        KeyManager {
            storage,
            kek,
            profile,
            decrypted: Mutex::new(HashMap::new()),
            records: Mutex::new(None),
            retired_grace: 0,
        }
    }

    /// Keeps a retired key published for `seconds` after its rotation.
    pub fn with_retired_grace(mut self, seconds: i64) -> Self {
        self.retired_grace = seconds.max(0);
        self
    }

    /// The key records, from the short cache when it is fresh.
    async fn cached_records(&self) -> Result<Vec<KeyRecord>, CertsError> {
        if let Some((at, records)) = &*self.records.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < RECORDS_TTL
        {
            return Ok(records.clone());
        }
        let records = self.storage.load_keys().await?;
        *self.records.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), records.clone()));
        Ok(records)
    }

    fn forget_cached_records(&self) {
        *self.records.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    pub fn profile(&self) -> &CertificateProfile {
        &self.profile
    }

    /// On first start: for each algorithm without a current key, generate current
    /// (activated_at = now) + next and insert_initial. Verifies that every current/next key can
    /// be decrypted with this KEK (wrong KEK => [`CertsError::WrongKek`], so that a
    /// misconfigured node refuses to start instead of failing at first login). Returns all
    /// records.
    pub async fn ensure_keys(&self, now: i64) -> Result<Vec<KeyRecord>, CertsError> {
        let mut records = self.storage.load_keys().await?;
        // Checked before inserting anything, so a node with the wrong KEK cannot add keys that
        // the correctly configured nodes would be unable to open.
        self.verify_published(&records)?;

        let mut inserted = false;
        for alg in Algorithm::ALL {
            if single(&records, alg, KeyState::Current)?.is_none() {
                let current = self.generate(alg, KeyState::Current, now)?;
                let next = self.generate(alg, KeyState::Next, now)?;
                // Ok(false) means another node initialised this algorithm first; the reload
                // below adopts its keys.
                self.storage.insert_initial(current, next).await?;
                inserted = true;
            }
        }
        if inserted {
            records = self.storage.load_keys().await?;
            self.verify_published(&records)?;
        }
        for alg in Algorithm::ALL {
            if single(&records, alg, KeyState::Current)?.is_none() {
                return Err(CertsError::Inconsistent(format!(
                    "storage accepted the initial {alg} keys but returns no current {alg} key"
                )));
            }
        }
        sort_records(&mut records);
        Ok(records)
    }

    /// All records, grouped by algorithm, current first, then next, then retired newest first.
    pub async fn list(&self) -> Result<Vec<KeyRecord>, CertsError> {
        let mut records = self.storage.load_keys().await?;
        sort_records(&mut records);
        Ok(records)
    }

    /// next -> current, current -> retired, fresh next. Fails with [`CertsError::NoCurrentKey`]
    /// if ensure_keys never ran, and with [`CertsError::RotatedMeanwhile`] when another node
    /// rotated between this one's read and its write (nothing is rotated twice). Returns the
    /// new current record.
    pub async fn rotate(&self, alg: Algorithm, now: i64) -> Result<KeyRecord, CertsError> {
        self.rotate_when(alg, now, |_| true)
            .await?
            .ok_or(CertsError::RotatedMeanwhile(alg))
    }

    /// Rotates `alg` when its current key has been current for `every` seconds or more: the
    /// new current record, or None when it is not due or another node rotated it first. Every
    /// node may call this on a schedule; the rotation happens once.
    pub async fn rotate_if_due(
        &self,
        alg: Algorithm,
        now: i64,
        every: i64,
    ) -> Result<Option<KeyRecord>, CertsError> {
        self.rotate_when(alg, now, |current| {
            current
                .activated_at
                .unwrap_or(current.created_at)
                .saturating_add(every)
                <= now
        })
        .await
    }

    async fn rotate_when(
        &self,
        alg: Algorithm,
        now: i64,
        due: impl FnOnce(&KeyRecord) -> bool,
    ) -> Result<Option<KeyRecord>, CertsError> {
        self.forget_cached_records();
        let records = self.storage.load_keys().await?;
        let current =
            single(&records, alg, KeyState::Current)?.ok_or(CertsError::NoCurrentKey(alg))?;
        if !due(current) {
            return Ok(None);
        }
        let next = single(&records, alg, KeyState::Next)?.ok_or(CertsError::NoNextKey(alg))?;
        // A key this node cannot open must not become the one it signs with.
        self.signing_key(next)?;

        let new_next = self.generate(alg, KeyState::Next, now)?;
        let rotated = self
            .storage
            .rotate(alg, current.kid.clone(), new_next, now)
            .await?;
        self.forget_cached_records();

        let records = self.storage.load_keys().await?;
        self.forget_unpublished(&records);
        if !rotated {
            return Ok(None);
        }
        single(&records, alg, KeyState::Current)?
            .cloned()
            .map(Some)
            .ok_or(CertsError::NoCurrentKey(alg))
    }

    /// The decrypted current key of `alg`.
    pub async fn current_signing_key(&self, alg: Algorithm) -> Result<SigningKey, CertsError> {
        let records = self.cached_records().await?;
        let current =
            single(&records, alg, KeyState::Current)?.ok_or(CertsError::NoCurrentKey(alg))?;
        let key = self.signing_key(current)?;
        self.forget_unpublished(&records);
        Ok(key)
    }

    /// What JWKS and SAML metadata publish of `alg` at `now`: current, next, then the keys
    /// retired within the grace period, newest first.
    pub async fn published(&self, alg: Algorithm, now: i64) -> Result<Vec<KeyRecord>, CertsError> {
        let mut records = self.cached_records().await?;
        single(&records, alg, KeyState::Current)?;
        single(&records, alg, KeyState::Next)?;
        records.retain(|r| r.alg == alg && r.is_published_at(now, self.retired_grace));
        sort_records(&mut records);
        Ok(records)
    }

    /// The key that signs metadata documents at `now` (openpoort's IdP and SP metadata), with
    /// its record: the longest-serving published key. After a rotation that is the retired key
    /// for as long as it stays published, so that a party which pinned the certificate of the
    /// last document still verifies the next one while it learns the new certificate from it;
    /// the new current key, announced as next a whole period ahead, signs once the grace ends.
    pub async fn metadata_signing_key(
        &self,
        alg: Algorithm,
        now: i64,
    ) -> Result<(KeyRecord, SigningKey), CertsError> {
        let published = self.published(alg, now).await?;
        let record = published
            .into_iter()
            .filter(|r| r.state != KeyState::Next)
            .min_by_key(|r| r.activated_at.unwrap_or(r.created_at))
            .ok_or(CertsError::NoCurrentKey(alg))?;
        // A retired key is opened from its record each time rather than kept decrypted beside
        // the active ones; callers keep what they build from it (an xmlsec signer) by kid.
        let key = if record.is_active() {
            self.signing_key(&record)?
        } else {
            decrypt_private_key(&record, &self.kek)?
        };
        Ok((record, key))
    }

    fn generate(&self, alg: Algorithm, state: KeyState, now: i64) -> Result<KeyRecord, CertsError> {
        generate_key(alg, state, &self.kek, &self.profile, now)
    }

    fn verify_published(&self, records: &[KeyRecord]) -> Result<(), CertsError> {
        for alg in Algorithm::ALL {
            single(records, alg, KeyState::Current)?;
            single(records, alg, KeyState::Next)?;
        }
        for record in records.iter().filter(|r| r.is_active()) {
            self.signing_key(record)?;
        }
        self.forget_unpublished(records);
        Ok(())
    }

    fn signing_key(&self, record: &KeyRecord) -> Result<SigningKey, CertsError> {
        if let Some(key) = self.cache().get(&record.kid)
            && key.alg() == record.alg
        {
            return Ok(key.clone());
        }
        // Decrypted outside the lock: parsing an RSA key is slow enough to stall other callers.
        let key = decrypt_private_key(record, &self.kek)?;
        self.cache().insert(record.kid.clone(), key.clone());
        Ok(key)
    }

    /// Drops decrypted keys that are no longer active, so retired private keys do not linger
    /// in memory (the few decryptions that need one open it from its record).
    fn forget_unpublished(&self, records: &[KeyRecord]) {
        self.cache().retain(|kid, _| {
            records
                .iter()
                .any(|record| record.kid == *kid && record.is_active())
        });
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, SigningKey>> {
        // A panic while holding the lock cannot leave a half-written entry, so the map is
        // still valid.
        self.decrypted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The one record of `alg` in `state`, or an error when storage holds several.
fn single(
    records: &[KeyRecord],
    alg: Algorithm,
    state: KeyState,
) -> Result<Option<&KeyRecord>, CertsError> {
    let mut matching = records
        .iter()
        .filter(|record| record.alg == alg && record.state == state);
    let first = matching.next();
    let extra = matching.count();
    if extra > 0 {
        return Err(CertsError::Inconsistent(format!(
            "{} {state} {alg} keys in storage; expected at most one",
            extra + 1
        )));
    }
    Ok(first)
}

fn sort_records(records: &mut [KeyRecord]) {
    records.sort_by_cached_key(|record| {
        let alg_rank = Algorithm::ALL.iter().position(|alg| *alg == record.alg);
        let state_rank = match record.state {
            KeyState::Current => 0,
            KeyState::Next => 1,
            KeyState::Retired => 2,
        };
        (
            alg_rank,
            state_rank,
            Reverse(record.created_at),
            record.kid.clone(),
        )
    });
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::sign::Verifier;

    use super::*;

    const NOW: i64 = 1_750_000_000;

    /// Enforces the same rules the SQL implementations do: at most one current per algorithm,
    /// unique kids, and all-or-nothing rotation.
    #[derive(Default)]
    struct MemoryStorage {
        records: Mutex<Vec<KeyRecord>>,
    }

    impl MemoryStorage {
        fn snapshot(&self) -> Vec<KeyRecord> {
            self.records.lock().unwrap().clone()
        }

        fn push(&self, record: KeyRecord) {
            self.records.lock().unwrap().push(record);
        }
    }

    impl KeyStorage for MemoryStorage {
        async fn load_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
            Ok(self.snapshot())
        }

        async fn insert_initial(
            &self,
            current: KeyRecord,
            next: KeyRecord,
        ) -> Result<bool, StorageError> {
            if current.alg != next.alg
                || current.state != KeyState::Current
                || next.state != KeyState::Next
            {
                return Err(StorageError::new(
                    "insert_initial needs a current and a next key",
                ));
            }
            let mut records = self.records.lock().unwrap();
            if records
                .iter()
                .any(|r| r.alg == current.alg && r.state == KeyState::Current)
            {
                return Ok(false);
            }
            if records
                .iter()
                .any(|r| r.kid == current.kid || r.kid == next.kid)
            {
                return Err(StorageError::new("duplicate kid"));
            }
            records.push(current);
            records.push(next);
            Ok(true)
        }

        async fn rotate(
            &self,
            alg: Algorithm,
            expected_current: String,
            new_next: KeyRecord,
            now: i64,
        ) -> Result<bool, StorageError> {
            let mut records = self.records.lock().unwrap();
            let position = |state: KeyState| {
                records
                    .iter()
                    .position(|r| r.alg == alg && r.state == state)
                    .ok_or_else(|| StorageError::new(format!("no {state} {alg} key")))
            };
            let current = position(KeyState::Current)?;
            if records[current].kid != expected_current {
                return Ok(false);
            }
            let next = position(KeyState::Next)?;
            if new_next.alg != alg || new_next.state != KeyState::Next {
                return Err(StorageError::new("new_next must be a next key of alg"));
            }
            records[current].state = KeyState::Retired;
            records[current].retired_at = Some(now);
            records[next].state = KeyState::Current;
            records[next].activated_at = Some(now);
            records.push(new_next);
            Ok(true)
        }
    }

    /// Another node acting between this node's read of the keys and each of its writes.
    struct RacingStorage {
        inner: MemoryStorage,
        rival_kek: Kek,
        race: Race,
    }

    /// What the rival does first.
    #[derive(PartialEq)]
    enum Race {
        /// Initialises the keys: a node starting at the same moment.
        Start,
        /// Rotates them.
        Rotation,
    }

    impl RacingStorage {
        fn new(rival_kek: Kek, race: Race) -> RacingStorage {
            RacingStorage {
                inner: MemoryStorage::default(),
                rival_kek,
                race,
            }
        }

        fn rival_key(&self, alg: Algorithm, state: KeyState) -> KeyRecord {
            let profile = CertificateProfile::default();
            generate_key(alg, state, &self.rival_kek, &profile, NOW).expect("a key")
        }
    }

    impl KeyStorage for RacingStorage {
        async fn load_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
            self.inner.load_keys().await
        }

        async fn insert_initial(
            &self,
            current: KeyRecord,
            next: KeyRecord,
        ) -> Result<bool, StorageError> {
            if self.race == Race::Start {
                let alg = current.alg;
                let (rival_current, rival_next) = (
                    self.rival_key(alg, KeyState::Current),
                    self.rival_key(alg, KeyState::Next),
                );
                assert!(self.inner.insert_initial(rival_current, rival_next).await?);
            }
            self.inner.insert_initial(current, next).await
        }

        async fn rotate(
            &self,
            alg: Algorithm,
            expected_current: String,
            new_next: KeyRecord,
            now: i64,
        ) -> Result<bool, StorageError> {
            if self.race == Race::Rotation {
                let rival_next = self.rival_key(alg, KeyState::Next);
                let rotated = self
                    .inner
                    .rotate(alg, expected_current.clone(), rival_next, now)
                    .await?;
                assert!(rotated);
            }
            self.inner
                .rotate(alg, expected_current, new_next, now)
                .await
        }
    }

    fn manager(storage: &Arc<MemoryStorage>, kek: &Kek) -> KeyManager<Arc<MemoryStorage>> {
        KeyManager::new(
            Arc::clone(storage),
            kek.clone(),
            CertificateProfile::default(),
        )
    }

    fn of(records: &[KeyRecord], alg: Algorithm, state: KeyState) -> Vec<KeyRecord> {
        records
            .iter()
            .filter(|r| r.alg == alg && r.state == state)
            .cloned()
            .collect()
    }

    fn kids(records: &[KeyRecord]) -> HashSet<String> {
        records.iter().map(|r| r.kid.clone()).collect()
    }

    #[tokio::test]
    async fn ensure_keys_creates_current_and_next_per_algorithm_once() {
        let storage = Arc::new(MemoryStorage::default());
        let kek = Kek::generate();
        let keys = manager(&storage, &kek);

        let first = keys.ensure_keys(NOW).await.unwrap();
        assert_eq!(first.len(), 4);
        for alg in Algorithm::ALL {
            let current = of(&first, alg, KeyState::Current);
            let next = of(&first, alg, KeyState::Next);
            assert_eq!((current.len(), next.len()), (1, 1), "{alg}");
            assert_eq!(current[0].activated_at, Some(NOW));
            assert_eq!(next[0].activated_at, None);
            assert_eq!(current[0].kek_id, kek.id());
        }
        assert_eq!(kids(&first).len(), 4);

        let second = keys.ensure_keys(NOW + 60).await.unwrap();
        assert_eq!(kids(&second), kids(&first));
        assert_eq!(storage.snapshot().len(), 4);

        // A second node with the same KEK adopts the keys instead of making its own.
        let other_node = manager(&storage, &kek);
        assert_eq!(
            kids(&other_node.ensure_keys(NOW + 120).await.unwrap()),
            kids(&first)
        );
        assert_eq!(storage.snapshot().len(), 4);
    }

    #[tokio::test]
    async fn ensure_keys_adopts_keys_of_a_node_that_won_the_race() {
        let kek = Kek::generate();
        let storage = RacingStorage::new(kek.clone(), Race::Start);
        let keys = KeyManager::new(storage, kek, CertificateProfile::default());
        let records = keys.ensure_keys(NOW).await.unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(kids(&records), kids(&keys.storage().inner.snapshot()));
    }

    #[tokio::test]
    async fn ensure_keys_refuses_wrong_kek() {
        let storage = Arc::new(MemoryStorage::default());
        let right = Kek::generate();
        let wrong = Kek::generate();
        manager(&storage, &right).ensure_keys(NOW).await.unwrap();

        let err = manager(&storage, &wrong)
            .ensure_keys(NOW)
            .await
            .unwrap_err();
        match err {
            CertsError::WrongKek {
                expected_kek_id,
                actual_kek_id,
                ..
            } => {
                assert_eq!(expected_kek_id, right.id());
                assert_eq!(actual_kek_id, wrong.id());
            }
            other => panic!("unexpected error: {other}"),
        }
        assert_eq!(storage.snapshot().len(), 4);
    }

    #[tokio::test]
    async fn ensure_keys_with_wrong_kek_adds_no_keys() {
        // Storage initialised for RS256 only, as by an older release; a node with the wrong KEK
        // must not seal the missing ES256 keys under its own KEK.
        let storage = Arc::new(MemoryStorage::default());
        let right = Kek::generate();
        let profile = CertificateProfile::default();
        for state in [KeyState::Current, KeyState::Next] {
            storage.push(generate_key(Algorithm::Rs256, state, &right, &profile, NOW).unwrap());
        }
        let err = manager(&storage, &Kek::generate())
            .ensure_keys(NOW)
            .await
            .unwrap_err();
        assert!(matches!(err, CertsError::WrongKek { .. }), "{err}");
        assert_eq!(storage.snapshot().len(), 2);

        let records = manager(&storage, &right).ensure_keys(NOW).await.unwrap();
        assert_eq!(of(&records, Algorithm::Es256, KeyState::Current).len(), 1);
    }

    #[tokio::test]
    async fn ensure_keys_rejects_corrupt_key() {
        let storage = Arc::new(MemoryStorage::default());
        let kek = Kek::generate();
        manager(&storage, &kek).ensure_keys(NOW).await.unwrap();
        {
            let mut records = storage.records.lock().unwrap();
            let next = records
                .iter_mut()
                .find(|r| r.state == KeyState::Next)
                .unwrap();
            let last = next.encrypted_private_key.len() - 1;
            next.encrypted_private_key[last] ^= 1;
        }
        let err = manager(&storage, &kek).ensure_keys(NOW).await.unwrap_err();
        assert!(matches!(err, CertsError::Decrypt { .. }), "{err}");
    }

    #[tokio::test]
    async fn rotation_promotes_next_and_retires_current() {
        let storage = Arc::new(MemoryStorage::default());
        let kek = Kek::generate();
        let keys = manager(&storage, &kek);
        let before = keys.ensure_keys(NOW).await.unwrap();
        let old_current = of(&before, Algorithm::Rs256, KeyState::Current).remove(0);
        let old_next = of(&before, Algorithm::Rs256, KeyState::Next).remove(0);

        let later = NOW + 86_400;
        let promoted = keys.rotate(Algorithm::Rs256, later).await.unwrap();
        assert_eq!(promoted.kid, old_next.kid);
        assert_eq!(promoted.state, KeyState::Current);
        assert_eq!(promoted.activated_at, Some(later));

        let after = keys.list().await.unwrap();
        let retired = after.iter().find(|r| r.kid == old_current.kid).unwrap();
        assert_eq!(retired.state, KeyState::Retired);
        assert_eq!(retired.retired_at, Some(later));
        let current = of(&after, Algorithm::Rs256, KeyState::Current);
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].kid, old_next.kid);
        let next = of(&after, Algorithm::Rs256, KeyState::Next);
        assert_eq!(next.len(), 1);
        assert!(next[0].kid != old_current.kid && next[0].kid != old_next.kid);
        assert_eq!(next[0].created_at, later);
        assert!(next[0].certificate_pem.is_some());

        // The other algorithm is untouched.
        let es_states = |records: &[KeyRecord]| {
            let mut states: Vec<(String, KeyState)> = records
                .iter()
                .filter(|r| r.alg == Algorithm::Es256)
                .map(|r| (r.kid.clone(), r.state))
                .collect();
            states.sort_by(|a, b| a.0.cmp(&b.0));
            states
        };
        assert_eq!(es_states(&before), es_states(&after));

        let published = keys.published(Algorithm::Rs256, later).await.unwrap();
        assert_eq!(
            published.iter().map(|r| r.kid.as_str()).collect::<Vec<_>>(),
            [old_next.kid.as_str(), next[0].kid.as_str()]
        );
        // The fresh next key must be usable once it is promoted in turn.
        keys.ensure_keys(later).await.unwrap();
    }

    #[tokio::test]
    async fn rotate_without_keys_fails() {
        let storage = Arc::new(MemoryStorage::default());
        let keys = manager(&storage, &Kek::generate());
        for alg in Algorithm::ALL {
            let err = keys.rotate(alg, NOW).await.unwrap_err();
            assert!(
                matches!(err, CertsError::NoCurrentKey(a) if a == alg),
                "{err}"
            );
            let err = keys.current_signing_key(alg).await.unwrap_err();
            assert!(
                matches!(err, CertsError::NoCurrentKey(a) if a == alg),
                "{err}"
            );
        }
        assert!(storage.snapshot().is_empty());
    }

    #[tokio::test]
    async fn rotate_refuses_to_promote_key_sealed_under_another_kek() {
        let storage = Arc::new(MemoryStorage::default());
        manager(&storage, &Kek::generate())
            .ensure_keys(NOW)
            .await
            .unwrap();
        let before = storage.snapshot();
        let err = manager(&storage, &Kek::generate())
            .rotate(Algorithm::Es256, NOW + 1)
            .await
            .unwrap_err();
        assert!(matches!(err, CertsError::WrongKek { .. }), "{err}");
        assert_eq!(kids(&storage.snapshot()), kids(&before));
    }

    #[tokio::test]
    async fn current_signing_key_follows_rotation() {
        let storage = Arc::new(MemoryStorage::default());
        let keys = manager(&storage, &Kek::generate());
        keys.ensure_keys(NOW).await.unwrap();

        for alg in Algorithm::ALL {
            let published = keys.published(alg, NOW).await.unwrap();
            assert_eq!(published.len(), 2);
            assert_eq!(published[0].state, KeyState::Current);
            assert_eq!(published[1].state, KeyState::Next);

            let signing = keys.current_signing_key(alg).await.unwrap();
            assert_eq!(signing.kid(), published[0].kid);
            assert_eq!(signing.alg(), alg);

            let promoted = keys.rotate(alg, NOW + 10).await.unwrap();
            let signing = keys.current_signing_key(alg).await.unwrap();
            assert_eq!(signing.kid(), promoted.kid);
            assert_eq!(promoted.kid, published[1].kid);

            let public = PKey::public_key_from_pem(promoted.public_key_pem.as_bytes()).unwrap();
            let signature = signing.sign_jws(b"header.payload").unwrap();
            let der = match alg {
                Algorithm::Rs256 => signature,
                Algorithm::Es256 => {
                    let r = openssl::bn::BigNum::from_slice(&signature[..32]).unwrap();
                    let s = openssl::bn::BigNum::from_slice(&signature[32..]).unwrap();
                    openssl::ecdsa::EcdsaSig::from_private_components(r, s)
                        .unwrap()
                        .to_der()
                        .unwrap()
                }
            };
            let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
            assert!(verifier.verify_oneshot(&der, b"header.payload").unwrap());
        }
        // Retired keys are not kept decrypted.
        let cached: HashSet<String> = keys.cache().keys().cloned().collect();
        let published: HashSet<String> = kids(
            &storage
                .snapshot()
                .into_iter()
                .filter(KeyRecord::is_active)
                .collect::<Vec<_>>(),
        );
        assert!(cached.is_subset(&published));
    }

    #[tokio::test]
    async fn two_current_keys_are_reported_as_inconsistent() {
        let storage = Arc::new(MemoryStorage::default());
        let kek = Kek::generate();
        let keys = manager(&storage, &kek);
        keys.ensure_keys(NOW).await.unwrap();
        let profile = CertificateProfile::default();
        storage
            .push(generate_key(Algorithm::Es256, KeyState::Current, &kek, &profile, NOW).unwrap());
        let err = keys
            .current_signing_key(Algorithm::Es256)
            .await
            .unwrap_err();
        assert!(matches!(err, CertsError::Inconsistent(_)), "{err}");
        assert!(keys.current_signing_key(Algorithm::Rs256).await.is_ok());
    }

    #[test]
    fn key_manager_futures_are_send() {
        fn assert_send<T: Send>(_: T) {}
        let keys = manager(&Arc::new(MemoryStorage::default()), &Kek::generate());
        assert_send(keys.ensure_keys(NOW));
        assert_send(keys.list());
        assert_send(keys.rotate(Algorithm::Rs256, NOW));
        assert_send(keys.current_signing_key(Algorithm::Rs256));
        assert_send(keys.published(Algorithm::Rs256, NOW));
    }

    #[tokio::test]
    async fn a_rotation_overtaken_by_another_node_rotates_nothing_more() {
        let kek = Kek::generate();
        let storage = Arc::new(RacingStorage::new(kek.clone(), Race::Rotation));
        let keys = KeyManager::new(Arc::clone(&storage), kek, CertificateProfile::default());
        keys.ensure_keys(NOW).await.unwrap();
        let err = keys.rotate(Algorithm::Rs256, NOW + 1).await.unwrap_err();
        assert!(
            matches!(err, CertsError::RotatedMeanwhile(Algorithm::Rs256)),
            "{err}"
        );
        let retired = storage
            .inner
            .snapshot()
            .into_iter()
            .filter(|r| r.alg == Algorithm::Rs256 && r.state == KeyState::Retired)
            .count();
        assert_eq!(
            retired, 1,
            "the key that had just become current was not retired too"
        );
    }

    #[tokio::test]
    async fn a_scheduled_rotation_waits_until_the_current_key_has_served_its_period() {
        let storage = Arc::new(MemoryStorage::default());
        let keys = manager(&storage, &Kek::generate());
        keys.ensure_keys(NOW).await.unwrap();
        let every = 90 * 86_400;
        let early = keys.rotate_if_due(Algorithm::Es256, NOW + every - 1, every);
        assert!(early.await.unwrap().is_none());
        let due = keys
            .rotate_if_due(Algorithm::Es256, NOW + every, every)
            .await;
        let current = due.unwrap().expect("rotated once due");
        assert_eq!(current.activated_at, Some(NOW + every));
        let again = keys.rotate_if_due(Algorithm::Es256, NOW + every + 1, every);
        assert!(
            again.await.unwrap().is_none(),
            "the new key serves a period of its own"
        );
    }
    /// A party that pinned the certificate of the last metadata document verifies the next one
    /// through every rotation within the grace period; the oldest key still published signs,
    /// so the signer changes only when a retired key stops being published.
    #[tokio::test]
    async fn metadata_stays_signed_by_the_longest_serving_key_until_its_grace_ends() {
        const GRACE: i64 = 7 * 86_400;
        let storage = Arc::new(MemoryStorage::default());
        let keys = manager(&storage, &Kek::generate()).with_retired_grace(GRACE);
        keys.ensure_keys(NOW).await.unwrap();
        let alg = Algorithm::Rs256;
        let signer_at = async |now: i64| {
            let (record, key) = keys.metadata_signing_key(alg, now).await.unwrap();
            // The key returned is the record's own: its signature verifies with the record's
            // public key.
            let public = PKey::public_key_from_pem(record.public_key_pem.as_bytes()).unwrap();
            let signature = key.sign_jws(b"metadata").unwrap();
            let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
            verifier.update(b"metadata").unwrap();
            assert!(verifier.verify(&signature).unwrap(), "{}", record.kid);
            record.kid
        };
        let first = of(&storage.snapshot(), alg, KeyState::Current)[0]
            .kid
            .clone();
        assert_eq!(signer_at(NOW).await, first);

        let second = keys.rotate(alg, NOW + 100).await.unwrap().kid;
        let third = keys.rotate(alg, NOW + 200).await.unwrap().kid;
        assert_eq!(
            signer_at(NOW + 300).await,
            first,
            "two rotations within the grace"
        );
        assert_eq!(signer_at(NOW + 100 + GRACE - 1).await, first);
        assert_eq!(signer_at(NOW + 100 + GRACE).await, second);
        assert_eq!(signer_at(NOW + 200 + GRACE).await, third, "the current key");
    }
}
