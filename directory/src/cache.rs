//! A read cache for what every login reads: the school behind a shortcut, its groups and
//! pupils, a client's registration, the facts of a release decision.
//!
//! On SQLite each read is a hand-off to the connection's worker thread and back, and those
//! thread switches, not the queries, were most of a login's cost: a pupil's login through a
//! product read the register about fifteen times. On PostgreSQL each read is a round trip and
//! work for the database server, which a login did a dozen times. The cache is never knowingly
//! stale:
//!
//! - Every write this process makes (`writes!`; reads go through `reads!` or `login_reads!`,
//!   which tests hold to reading, see `db`) empties the cache once it is done, so a change made
//!   here, through the admin UI, the API or an import, applies to the next request.
//! - A change made by another process (another node, the operator's command line, a fix by
//!   hand) is learnt of by the database, not by the process that made it:
//!   - On SQLite it counts up the register's version in its own transaction (triggers,
//!     migrations 0009 and 0019). The cache reads that version at most [`POLL`] apart and
//!     empties itself when it moved, so such a change applies within a quarter of a second.
//!   - On PostgreSQL it announces itself at commit (triggers, migration 0019) to every node
//!     that listens (`notices`), and each empties its cache when the notice arrives: within
//!     milliseconds. A node keeps and serves values only while it knows it hears: it sends
//!     itself a notice every [`TICK`] and counts as hearing for [`LAPSE`] after sending one it
//!     heard back. Notices arrive in commit order, so hearing its own notice means having heard
//!     every change committed before it; a listening connection that died, even silently, thus
//!     leaves a change unseen for [`LAPSE`] at the most. Without a listener (the command line)
//!     the cache keeps nothing.
//! - A read that raced a change is not kept: the cache keeps a value only when nothing was
//!   emptied between the moment the read started and the moment it ended.
//!
//! Only values that exist are kept: a client, a school or a pupil registered a moment ago is
//! found at once, whatever asked for it before.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Directory;
use crate::db::login_reads;
use crate::error::Result;

/// How long a version read stands on SQLite: the longest a change by another process goes
/// unseen.
pub const POLL: Duration = Duration::from_millis(250);

/// How often a PostgreSQL node sends itself a notice to learn that it still hears.
pub const TICK: Duration = Duration::from_millis(500);

/// How long after sending a notice it heard back a PostgreSQL node trusts its cache: the longest
/// a change by another process goes unseen there when the listening connection fails silently.
/// Four ticks, so that one slow round trip does not turn the cache off.
pub const LAPSE: Duration = Duration::from_secs(2);

/// Beyond this many values the cache starts over, so that a whole country's pupils never all
/// sit in memory; a login keeps a handful, and [`POLL`] empties it at every outside change.
const MAX_VALUES: usize = 100_000;

type Value = Arc<dyn Any + Send + Sync>;

/// How the cache learns of changes made by other processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Watch {
    /// SQLite: by polling the register's version.
    Version,
    /// PostgreSQL: by the notices a listener hears (`notices`); deaf until one listens.
    Notices,
}

#[derive(Debug)]
pub(crate) struct Cache {
    pub(crate) watch: Watch,
    inner: Mutex<Inner>,
    /// The task that hears change notices, stopped when the register closes.
    pub(crate) listener: Mutex<Option<tokio::task::AbortHandle>>,
    /// The listening connection's backend process id, 0 while there is none.
    pub(crate) listener_pid: std::sync::atomic::AtomicU32,
}

#[derive(Default)]
struct Inner {
    /// Counts every emptying; a read keeps its value only if this did not move meanwhile.
    generation: u64,
    version: Option<i64>,
    checked_at: Option<Instant>,
    /// With [`Watch::Notices`]: until when values may be kept and served.
    hearing_until: Option<Instant>,
    values: HashMap<(&'static str, String), Value>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("generation", &self.generation)
            .field("version", &self.version)
            .field("hearing_until", &self.hearing_until)
            .field("values", &self.values.len())
            .finish()
    }
}

impl Inner {
    fn forget(&mut self) {
        self.generation += 1;
        self.values.clear();
    }
}

impl Cache {
    pub(crate) fn new(watch: Watch) -> Cache {
        Cache {
            watch,
            inner: Mutex::new(Inner::default()),
            listener: Mutex::new(None),
            listener_pid: std::sync::atomic::AtomicU32::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves nothing half-done that matters: start over.
        self.inner.lock().unwrap_or_else(|poisoned| {
            let mut inner = poisoned.into_inner();
            inner.forget();
            inner
        })
    }

    /// Something may have changed the register: keep nothing read before now.
    pub(crate) fn forget(&self) {
        self.lock().forget();
    }

    /// The listener lost its connection, or stopped hearing: keep and serve nothing until it
    /// listens again.
    pub(crate) fn deaf(&self) {
        let mut inner = self.lock();
        inner.hearing_until = None;
        inner.forget();
    }

    /// A listener subscribed at `at`: every change committed from now on will be heard, and
    /// what was read before may be stale.
    pub(crate) fn subscribed(&self, at: Instant) {
        let mut inner = self.lock();
        inner.forget();
        inner.hearing_until = Some(at + LAPSE);
    }

    /// The listener heard back the notice it sent at `sent`: every change committed before then
    /// has been heard.
    pub(crate) fn heard_own_notice(&self, sent: Instant) {
        let mut inner = self.lock();
        if let Some(until) = &mut inner.hearing_until {
            *until = (*until).max(sent + LAPSE);
        }
    }

    /// Whether values may be kept and served at `now`.
    pub(crate) fn hearing(&self, now: Instant) -> bool {
        self.lock().hearing_until.is_some_and(|until| now < until)
    }

    /// Until when the listener counts as hearing, if it does.
    pub(crate) fn hearing_until(&self) -> Option<Instant> {
        self.lock().hearing_until
    }

    fn version_due(&self, now: Instant) -> bool {
        self.lock()
            .checked_at
            .is_none_or(|at| now.duration_since(at) >= POLL)
    }

    /// The version read at `started` is `version`.
    fn version_read(&self, version: i64, started: Instant) {
        let mut inner = self.lock();
        if inner.version != Some(version) {
            inner.version = Some(version);
            inner.forget();
        }
        inner.checked_at = Some(inner.checked_at.map_or(started, |at| at.max(started)));
    }

    /// The kept value, or the generation a read that starts now must still see to keep its.
    fn get<T: Clone + 'static>(&self, kind: &'static str, key: &str) -> Result<T, u64> {
        let inner = self.lock();
        // Keys are few kinds of short ids; building one per lookup is cheaper than the hop.
        match inner
            .values
            .get(&(kind, key.to_owned()))
            .and_then(|v| v.downcast_ref::<T>())
        {
            Some(v) => Ok(v.clone()),
            None => Err(inner.generation),
        }
    }

    fn put<T: Send + Sync + 'static>(
        &self,
        kind: &'static str,
        key: String,
        generation: u64,
        value: T,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.values.len() >= MAX_VALUES {
            inner.values.clear();
        }
        inner.values.insert((kind, key), Arc::new(value));
    }
}

/// Empties the cache when dropped: at the end of anything done through the pool, whether it
/// finished, failed or was abandoned.
pub(crate) struct ForgetOnDrop<'a>(pub(crate) &'a Cache);

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.forget();
    }
}

impl Directory {
    /// `read`'s value, from the cache when it holds one for `(kind, key)`; a value `keep` turns
    /// down (an absent school, say) is read every time.
    pub(crate) async fn cached<T, F, Fut>(
        &self,
        kind: &'static str,
        key: String,
        keep: fn(&T) -> bool,
        read: F,
    ) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let now = Instant::now();
        match self.cache.watch {
            Watch::Version => {
                if self.cache.version_due(now) {
                    let version = login_reads!(self, c => {
                        let row: (i64,) = sqlx::query_as("SELECT version FROM register_version WHERE id = 1")
                            .fetch_one(c).await?;
                        Ok(row.0)
                    })?;
                    self.cache.version_read(version, now);
                }
            }
            Watch::Notices => {
                if !self.cache.hearing(now) {
                    return read().await;
                }
            }
        }
        let generation = match self.cache.get::<T>(kind, &key) {
            Ok(value) => return Ok(value),
            Err(generation) => generation,
        };
        let value = read().await?;
        if keep(&value) {
            self.cache.put(kind, key, generation, value.clone());
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let c = Cache::new(Watch::Version);
        let generation = c.get::<u32>("k", "a").unwrap_err();
        c.forget(); // a write finished while the read was under way
        c.put("k", "a".into(), generation, 1u32);
        assert!(c.get::<u32>("k", "a").is_err(), "possibly old value kept");

        let generation = c.get::<u32>("k", "a").unwrap_err();
        c.put("k", "a".into(), generation, 2u32);
        assert_eq!(c.get::<u32>("k", "a"), Ok(2));
    }

    #[test]
    fn a_moved_register_version_empties_the_cache() {
        let c = Cache::new(Watch::Version);
        let start = Instant::now();
        c.version_read(7, start);
        let generation = c.get::<u32>("k", "a").unwrap_err();
        c.put("k", "a".into(), generation, 1u32);
        c.version_read(7, start);
        assert_eq!(c.get::<u32>("k", "a"), Ok(1), "same version: kept");
        c.version_read(8, start);
        assert!(c.get::<u32>("k", "a").is_err(), "changed elsewhere: gone");
    }

    #[test]
    fn a_deaf_cache_serves_nothing_until_subscribed_and_forgets_on_subscribing() {
        let c = Cache::new(Watch::Notices);
        let start = Instant::now();
        assert!(!c.hearing(start), "no listener yet");
        c.subscribed(start);
        assert!(c.hearing(start));
        let generation = c.get::<u32>("k", "a").unwrap_err();
        c.put("k", "a".into(), generation, 1u32);
        c.deaf();
        assert!(!c.hearing(start), "lost its connection");
        assert!(c.get::<u32>("k", "a").is_err(), "kept while deaf");
        let generation = c.get::<u32>("k", "a").unwrap_err();
        c.put("k", "a".into(), generation, 2u32);
        c.subscribed(start);
        assert!(
            c.get::<u32>("k", "a").is_err(),
            "read before subscribing kept"
        );
    }

    #[test]
    fn hearing_lapses_unless_the_nodes_own_notices_come_back() {
        let c = Cache::new(Watch::Notices);
        let start = Instant::now();
        c.heard_own_notice(start);
        assert!(
            !c.hearing(start),
            "a notice heard while not subscribed counts"
        );
        c.subscribed(start);
        assert!(!c.hearing(start + LAPSE), "heard nothing since subscribing");
        c.heard_own_notice(start + TICK);
        assert!(c.hearing(start + LAPSE));
        assert!(!c.hearing(start + TICK + LAPSE), "the bound on staleness");
        c.heard_own_notice(start);
        assert_eq!(
            c.hearing_until(),
            Some(start + TICK + LAPSE),
            "an older notice shortened it"
        );
    }

    #[test]
    fn the_version_is_read_again_once_the_poll_interval_passed() {
        let c = Cache::new(Watch::Version);
        let start = Instant::now();
        assert!(c.version_due(start), "never read");
        c.version_read(1, start);
        assert!(!c.version_due(start + POLL / 2));
        assert!(c.version_due(start + POLL));
    }
}
