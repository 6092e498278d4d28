//! The in-memory store: state of a single node, lost on restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{StateError, StateStore, effective_ttl, parse_count};

/// Below this many writes a sweep is not worth the lock time.
const MIN_WRITES_BETWEEN_SWEEPS: usize = 1024;

#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Entries>>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, (Vec<u8>, Instant)>,
    writes_since_sweep: usize,
}

impl Entries {
    /// The live entry under `key`. An expired one is removed on the spot, so that it is invisible
    /// at once and need not wait for a sweep to free its memory.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut (Vec<u8>, Instant)> {
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

    fn insert(&mut self, key: &str, value: Vec<u8>, deadline: Instant, now: Instant) {
        self.map.insert(key.to_owned(), (value, deadline));
        self.after_write(now);
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

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
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
            .insert(key, value.to_vec(), deadline(now, ttl), now);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let now = Instant::now();
        Ok(self
            .entries()
            .live(key, now)
            .map(|(value, _)| value.clone()))
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
        entries.insert(key, value.to_vec(), deadline(now, ttl), now);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        Ok(self.take(key).await?.is_some())
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        Ok(entries
            .map
            .remove(key)
            .filter(|(_, deadline)| *deadline > now)
            .map(|(value, _)| value))
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        let now = Instant::now();
        let mut entries = self.entries();
        if let Some((value, _)) = entries.live(key, now) {
            // Like Redis, a later increment keeps the expiry of the first: a fixed window.
            // Saturating: no window sees 2^64 attempts, and an error here would unlock nothing.
            let count = parse_count(value)?.saturating_add(1);
            *value = count.to_string().into_bytes();
            return Ok(count);
        }
        entries.insert(key, b"1".to_vec(), deadline(now, window), now);
        Ok(1)
    }

    async fn count(&self, key: &str) -> Result<u64, StateError> {
        let now = Instant::now();
        match self.entries().live(key, now) {
            Some((value, _)) => parse_count(value),
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
        let mut entries = Entries::default();
        let start = Instant::now();
        let short = start + Duration::from_millis(1);
        for i in 0..10_000 {
            entries.insert(&format!("dead{i}"), vec![0; 8], short, start);
        }
        // A sweep comes within as many writes as the map holds entries; after that none of the
        // dead entries may remain.
        let later = start + Duration::from_secs(1);
        for i in 0..2 * 10_000 {
            entries.insert(
                &format!("live{i}"),
                vec![0; 8],
                later + Duration::from_secs(60),
                later,
            );
        }
        assert!(
            entries.map.keys().all(|key| key.starts_with("live")),
            "expired entries survived a sweep"
        );
    }
}
