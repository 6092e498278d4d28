//! The in-memory store: state of a single node, lost on restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Attempt, StateError, StateStore, Step, effective_ttl, parse_count};

/// Below this many writes a sweep is not worth the lock time.
const MIN_WRITES_BETWEEN_SWEEPS: usize = 1024;

/// How many entries one node keeps at most. Anyone can make openpoort store something without
/// logging in (a throttling counter, a parked request), so without a bound a flood of such
/// requests would grow the map until the process dies. A million entries of a few hundred bytes
/// is a few hundred MB: far beyond a single node's real load (a session, a few tokens and a
/// counter or two per user), far below what kills it.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// When full, at most one full sweep per this interval: a flood that keeps the map full would
/// otherwise make every write scan the whole map.
const FULL_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Entries>>,
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::with_max_entries(DEFAULT_MAX_ENTRIES)
    }
}

/// A value as stored: bytes, or a set (see [`StateStore::add_to_set`]).
enum Value {
    Bytes(Vec<u8>),
    Set(BTreeSet<Vec<u8>>),
}

struct Entries {
    map: HashMap<String, (Value, Instant)>,
    writes_since_sweep: usize,
    max_entries: usize,
    last_full_sweep: Option<Instant>,
}

impl Entries {
    fn with_max_entries(max_entries: usize) -> Entries {
        Entries {
            map: HashMap::new(),
            writes_since_sweep: 0,
            max_entries: max_entries.max(1),
            last_full_sweep: None,
        }
    }

    /// The live entry under `key`. An expired one is removed on the spot, so that it is invisible
    /// at once and need not wait for a sweep to free its memory.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut (Value, Instant)> {
        let expired = self
            .map
            .get(key)
            .is_some_and(|(_, deadline)| *deadline <= now);
        if expired {
            self.map.remove(key);
            return None;
        }
        self.map.get_mut(key)
    }

    /// The live bytes under `key`; a set there is an error, as Redis' WRONGTYPE is.
    fn live_bytes(&mut self, key: &str, now: Instant) -> Result<Option<&mut Vec<u8>>, StateError> {
        match self.live(key, now) {
            None => Ok(None),
            Some((Value::Bytes(bytes), _)) => Ok(Some(bytes)),
            Some((Value::Set(_), _)) => Err(StateError::WrongKind),
        }
    }

    /// Refuses a new key when the map is full of live entries; overwriting an existing key is
    /// always possible, so a full store still lets running sessions and counters go on.
    fn make_room(&mut self, key: &str, now: Instant) -> Result<(), StateError> {
        if self.map.len() < self.max_entries || self.map.contains_key(key) {
            return Ok(());
        }
        let due = self
            .last_full_sweep
            .is_none_or(|at| now.saturating_duration_since(at) >= FULL_SWEEP_INTERVAL);
        if due {
            self.map.retain(|_, (_, deadline)| *deadline > now);
            self.writes_since_sweep = 0;
            self.last_full_sweep = Some(now);
        }
        if self.map.len() < self.max_entries {
            Ok(())
        } else {
            Err(StateError::Full)
        }
    }

    fn insert(
        &mut self,
        key: &str,
        value: Value,
        deadline: Instant,
        now: Instant,
    ) -> Result<(), StateError> {
        self.make_room(key, now)?;
        self.map.insert(key.to_owned(), (value, deadline));
        self.after_write(now);
        Ok(())
    }

    /// Entries never read again would otherwise stay forever. Sweeping once per a number of
    /// writes proportional to the map's size keeps the sweep's cost per write constant, and keeps
    /// expired entries to a fixed multiple of the live ones (plus a small constant).
    fn after_write(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= MIN_WRITES_BETWEEN_SWEEPS.max(self.map.len() / 2) {
            self.map.retain(|_, (_, deadline)| *deadline > now);
            self.writes_since_sweep = 0;
        }
    }
}

impl Entries {
    fn add_to_set(
        &mut self,
        key: &str,
        member: &[u8],
        until: Instant,
        now: Instant,
    ) -> Result<(), StateError> {
        match self.live(key, now) {
            Some((Value::Set(members), deadline)) => {
                members.insert(member.to_vec());
                // A later member extends the set's life, never shortens it.
                *deadline = (*deadline).max(until);
                Ok(())
            }
            Some((Value::Bytes(_), _)) => Err(StateError::WrongKind),
            None => self.insert(
                key,
                Value::Set(BTreeSet::from([member.to_vec()])),
                until,
                now,
            ),
        }
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store that holds at most `max_entries` live entries and refuses new keys beyond that
    /// with [`StateError::Full`].
    pub fn with_max_entries(max_entries: usize) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Mutex::new(Entries::with_max_entries(max_entries))),
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        // A panic while the lock was held cannot leave the map half-updated (every critical
        // section is a single map operation), so a poisoned lock is safe to keep using; refusing
        // would take every login down with it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `now + ttl`, with the ttl clamped as every store does. `MAX_TTL` is far below the range of
/// `Instant` on every platform Rust supports, so the fallback is never taken in practice.
fn deadline(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(effective_ttl(ttl)).unwrap_or(now)
}

impl StateStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError> {
        let now = Instant::now();
        self.entries()
            .insert(key, Value::Bytes(value.to_vec()), deadline(now, ttl), now)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let now = Instant::now();
        Ok(self
            .entries()
            .live_bytes(key, now)?
            .map(|value| value.clone()))
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.live(key, now).is_some() {
            return Ok(false);
        }
        entries.insert(key, Value::Bytes(value.to_vec()), deadline(now, ttl), now)?;
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        let now = Instant::now();
        Ok(self
            .entries()
            .map
            .remove(key)
            .is_some_and(|(_, deadline)| deadline > now))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        // A set is left where it is, as Redis' GETDEL leaves it.
        entries.live_bytes(key, now)?;
        Ok(entries.map.remove(key).and_then(|(value, _)| match value {
            Value::Bytes(bytes) => Some(bytes),
            Value::Set(_) => None,
        }))
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        if let Some(value) = entries.live_bytes(key, now)? {
            // Like Redis, a later increment keeps the expiry of the first: a fixed window.
            // Saturating: no window sees 2^64 attempts, and an error here would unlock nothing.
            let count = parse_count(value)?.saturating_add(1);
            *value = count.to_string().into_bytes();
            return Ok(count);
        }
        entries.insert(key, Value::Bytes(b"1".to_vec()), deadline(now, window), now)?;
        Ok(1)
    }

    async fn reserve(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
    ) -> Result<Option<u64>, StateError> {
        let now = Instant::now();
        // One lock for the check and the count: no other attempt comes between them.
        let mut entries = self.entries();
        if let Some(value) = entries.live_bytes(key, now)? {
            let count = parse_count(value)?;
            if count >= limit {
                return Ok(None);
            }
            *value = (count + 1).to_string().into_bytes();
            return Ok(Some(count + 1));
        }
        if limit == 0 {
            return Ok(None);
        }
        entries.insert(key, Value::Bytes(b"1".to_vec()), deadline(now, window), now)?;
        Ok(Some(1))
    }

    async fn reserve_all(
        &self,
        limits: &[(&str, u64)],
        window: Duration,
    ) -> Result<Attempt, StateError> {
        let now = Instant::now();
        // One lock for every check and every count, as Redis runs its script.
        let mut entries = self.entries();
        for (index, (key, limit)) in limits.iter().enumerate() {
            let count = match entries.live_bytes(key, now)? {
                Some(value) => parse_count(value)?,
                None => 0,
            };
            if count >= *limit {
                return Ok(Attempt::Refused(index));
            }
        }
        let mut counts = Vec::with_capacity(limits.len());
        for (key, _) in limits {
            if let Some(value) = entries.live_bytes(key, now)? {
                let count = parse_count(value)? + 1;
                *value = count.to_string().into_bytes();
                counts.push(count);
            } else {
                entries.insert(key, Value::Bytes(b"1".to_vec()), deadline(now, window), now)?;
                counts.push(1);
            }
        }
        Ok(Attempt::Admitted(counts))
    }

    async fn release_all(&self, keys: &[&str]) -> Result<(), StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        for key in keys {
            if let Some(value) = entries.live_bytes(key, now)? {
                let count = parse_count(value)?.saturating_sub(1);
                *value = count.to_string().into_bytes();
            }
        }
        Ok(())
    }

    async fn add_to_set(&self, key: &str, member: &[u8], ttl: Duration) -> Result<(), StateError> {
        let now = Instant::now();
        self.entries()
            .add_to_set(key, member, deadline(now, ttl), now)
    }

    async fn steps(&self, steps: &[Step<'_>]) -> Result<Vec<Option<Vec<u8>>>, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        let mut answers = Vec::with_capacity(steps.len());
        for step in steps {
            answers.push(match *step {
                Step::Put(key, value, ttl) => {
                    entries.insert(key, Value::Bytes(value.to_vec()), deadline(now, ttl), now)?;
                    None
                }
                Step::AddToSet(key, member, ttl) => {
                    entries.add_to_set(key, member, deadline(now, ttl), now)?;
                    None
                }
                Step::Get(key) => entries.live_bytes(key, now)?.map(|value| value.clone()),
            });
        }
        Ok(answers)
    }

    async fn take_set(&self, key: &str) -> Result<Vec<Vec<u8>>, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        if let Some((Value::Bytes(_), _)) = entries.live(key, now) {
            return Err(StateError::WrongKind);
        }
        Ok(match entries.map.remove(key) {
            Some((Value::Set(members), deadline)) if deadline > now => {
                members.into_iter().collect()
            }
            _ => Vec::new(),
        })
    }

    async fn count(&self, key: &str) -> Result<u64, StateError> {
        let now = Instant::now();
        match self.entries().live_bytes(key, now)? {
            Some(value) => parse_count(value),
            None => Ok(0),
        }
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StateError> {
        let now = Instant::now();
        Ok(self
            .entries()
            .live(key, now)
            .map(|(_, deadline)| deadline.saturating_duration_since(now)))
    }

    async fn ping(&self) -> Result<(), StateError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_swept_so_memory_follows_the_live_ones() {
        let mut entries = Entries::with_max_entries(DEFAULT_MAX_ENTRIES);
        let start = Instant::now();
        let short = start + Duration::from_millis(1);
        for i in 0..10_000 {
            entries
                .insert(&format!("dead{i}"), Value::Bytes(vec![0; 8]), short, start)
                .unwrap();
        }
        // A sweep comes within as many writes as the map holds entries; after that none of the
        // dead entries may remain.
        let later = start + Duration::from_secs(1);
        for i in 0..2 * 10_000 {
            entries
                .insert(
                    &format!("live{i}"),
                    Value::Bytes(vec![0; 8]),
                    later + Duration::from_secs(60),
                    later,
                )
                .unwrap();
        }
        assert!(
            entries.map.keys().all(|key| key.starts_with("live")),
            "expired entries survived a sweep"
        );
    }

    #[test]
    fn a_full_store_refuses_new_keys_but_keeps_serving_the_old_ones() {
        let mut entries = Entries::with_max_entries(100);
        let start = Instant::now();
        let later = start + Duration::from_secs(600);
        for i in 0..100 {
            entries
                .insert(&format!("k{i}"), Value::Bytes(vec![1]), later, start)
                .unwrap();
        }
        assert!(matches!(
            entries.insert("flood", Value::Bytes(vec![1]), later, start),
            Err(StateError::Full)
        ));
        assert_eq!(entries.map.len(), 100, "a refused write must store nothing");
        // An existing key can still be written: running sessions go on.
        entries
            .insert("k1", Value::Bytes(vec![2]), later, start)
            .unwrap();
        // Once entries expire, a sweep makes room again.
        let after = later + Duration::from_secs(1);
        entries
            .insert(
                "fresh",
                Value::Bytes(vec![1]),
                after + Duration::from_secs(60),
                after,
            )
            .unwrap();
        assert_eq!(entries.map.len(), 1);
    }
}
