//! Short-lived state shared by every openpoort node: sessions, login-throttling counters and
//! one-time values (authorization codes, SAML request ids).
//!
//! In memory by default, which suits a single node; in Redis in production, so that any number of
//! stateless nodes can stand behind one load balancer and a node can die mid-login unnoticed.
//! Both stores give the same answers to the same calls; the tests run every property on both.
//!
//! Keys may themselves be secrets (a session id, an authorization code), so neither keys nor
//! values ever appear in an error message.

pub mod memory;
pub mod redis;

use std::time::Duration;

use self::memory::MemoryStore;
use self::redis::RedisStore;

/// Why a state operation failed. No variant carries a key, a stored value or a password.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("Redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// The URL is left out on purpose: it may hold the password.
    #[error("invalid Redis URL (not shown, as it may contain a password): {0}")]
    InvalidRedisUrl(#[source] ::redis::RedisError),
    /// `endpoint` is the URL with the credentials removed.
    #[error("cannot connect to Redis at {endpoint}: {source}")]
    Connect {
        endpoint: String,
        #[source]
        source: ::redis::RedisError,
    },
    #[error(
        "Redis at {endpoint} lacks PEXPIRE with NX (Redis 7.0 or newer is needed for login \
         throttling): {source}"
    )]
    Unsupported {
        endpoint: String,
        #[source]
        source: ::redis::RedisError,
    },
    /// A counter operation met a value that is not a count (something else was stored under a
    /// counter's key).
    #[error("the value under a counter key is not a count")]
    NotACounter,
    /// A set was read as a value or the other way round (a programming error, not bad input).
    #[error(
        "the value under this key is of another kind (a set where bytes were expected, or the reverse)"
    )]
    WrongKind,
    /// The memory store holds its maximum of live entries; see
    /// [`memory::DEFAULT_MAX_ENTRIES`].
    #[error("the in-memory state store is full")]
    Full,
}

impl StateError {
    /// Whether Redis could not be reached (refused, dropped, timed out): the same request can
    /// succeed once it is back, which pages say with a 503 instead of a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StateError::Redis(e) => {
                e.is_io_error()
                    || e.is_connection_refusal()
                    || e.is_connection_dropped()
                    || e.is_timeout()
            }
            StateError::Connect { .. } => true,
            _ => false,
        }
    }
}

/// A key-value store for short-lived state. Every entry expires; there is no way to store
/// something forever.
///
/// Durations are kept at millisecond precision and clamped to between 1 ms and [`MAX_TTL`], so
/// that a zero or absurd duration from configuration behaves the same on every store instead of
/// failing on one of them.
pub trait StateStore: Send + Sync {
    /// Stores `value` under `key` for `ttl` (overwrites).
    fn put(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StateError>> + Send;

    /// Stores only if the key is absent; Ok(false) if present (one-time markers, replay checks).
    fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Ok(true) if something was removed.
    fn delete(&self, key: &str) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Atomically removes and returns the value: of two concurrent takes exactly one gets it
    /// (single-use codes).
    fn take(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StateError>> + Send;

    /// Increments a counter whose expiry is set at its FIRST increment to `window` (a fixed
    /// window); returns the new count. Later increments leave the expiry alone, so a steady
    /// trickle of attempts cannot keep a lock-out alive forever. The count is stored as decimal
    /// text, so `get` returns it as such on every store.
    fn incr(
        &self,
        key: &str,
        window: Duration,
    ) -> impl Future<Output = Result<u64, StateError>> + Send;

    /// Counts one attempt against `limit`, atomically: `Some(n)` when it is admitted as the n-th
    /// attempt of the window, `None` (and nothing changes) when `limit` attempts are already
    /// counted. The check and the count are one step, so that no number of parallel attempts gets
    /// more than `limit` through; a caller reserves BEFORE the work it limits (a password check),
    /// not after it. The window is fixed at the first reservation, as with [`Self::incr`].
    fn reserve(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
    ) -> impl Future<Output = Result<Option<u64>, StateError>> + Send;

    /// Reserves one attempt on each `(key, limit)` at once (see [`Self::reserve`]), or on none
    /// when one of them is at its limit: [`Attempt::Refused`] names the first such counter, in
    /// the order given, and no counter changes. One step on the store (one round trip to
    /// Redis), so a refused attempt never holds a place on the others even for a moment.
    fn reserve_all(
        &self,
        limits: &[(&str, u64)],
        window: Duration,
    ) -> impl Future<Output = Result<Attempt, StateError>> + Send;

    /// Takes one reservation back on each key (the attempt succeeded), in one step: one less,
    /// never below zero, expiry kept. Only the caller's own attempt is undone, so a success in
    /// the middle of someone else's burst of guesses frees one place, never the whole window.
    fn release_all(&self, keys: &[&str]) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Adds `member` to the set under `key` (an append: concurrent adds are never lost). The set
    /// lives at least `ttl` from now; a later add extends its life, never shortens it.
    fn add_to_set(
        &self,
        key: &str,
        member: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Runs `steps` in order as one unit, in which no other client's operation comes between
    /// them: one MULTI/EXEC on Redis (one round trip instead of one per step, each waiting for
    /// the one before), one lock in memory. Answers one entry per step: the value for a
    /// [`Step::Get`], `None` for a write. For a request that writes several entries and then
    /// checks one (an authorization: its code, its token family, the session's records of
    /// both, and whether the session still stands).
    fn steps(
        &self,
        steps: &[Step<'_>],
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, StateError>> + Send;

    /// Atomically removes the set under `key` and returns its members (in no particular order;
    /// empty when absent).
    fn take_set(&self, key: &str) -> impl Future<Output = Result<Vec<Vec<u8>>, StateError>> + Send;

    /// Current count (0 when absent or expired).
    fn count(&self, key: &str) -> impl Future<Output = Result<u64, StateError>> + Send;

    /// Remaining time to live of a key, None when absent (used to tell a locked-out user how long
    /// to wait). Also None for a Redis key without expiry, which only something other than
    /// openpoort can have written.
    fn ttl(&self, key: &str) -> impl Future<Output = Result<Option<Duration>, StateError>> + Send;

    fn ping(&self) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// One step of [`StateStore::steps`], with the meaning of the method of the same name. No
/// `Debug`: the keys and values are tokens and codes.
#[derive(Clone, Copy)]
pub enum Step<'a> {
    /// [`StateStore::put`].
    Put(&'a str, &'a [u8], Duration),
    /// [`StateStore::add_to_set`].
    AddToSet(&'a str, &'a [u8], Duration),
    /// [`StateStore::get`].
    Get(&'a str),
}

/// The longest time to live any store accepts; longer ones are shortened to it. Far beyond any
/// session or lock-out, and far from the overflow limits of `Instant` and of Redis' PX argument.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The duration both stores actually apply for a requested one (see [`StateStore`]).
fn effective_ttl(requested: Duration) -> Duration {
    let millis = requested.as_millis().clamp(1, MAX_TTL.as_millis());
    // In range by the clamp above.
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// Decodes a counter as both stores keep it: decimal text.
fn parse_count(raw: &[u8]) -> Result<u64, StateError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or(StateError::NotACounter)
}

/// One attempt reserved on several counters at once (per account and per IP, say), or the
/// first counter that is at its limit.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Reserved on every counter; the counts after this attempt, in the order given.
    Admitted(Vec<u64>),
    /// The counter at this index is at its limit; nothing stays reserved.
    Refused(usize),
}

/// Reserves one attempt on each `(key, limit)` (see [`StateStore::reserve_all`]): a refused
/// attempt counts nowhere, so put the broadest counter (the IP) first, and a locked-out address
/// stores nothing per account.
pub async fn reserve_all<S: StateStore>(
    store: &S,
    limits: &[(&str, u64)],
    window: Duration,
) -> Result<Attempt, StateError> {
    store.reserve_all(limits, window).await
}

/// Gives back an attempt [`reserve_all`] admitted: it succeeded, so it was no failure.
pub async fn release_all<S: StateStore>(store: &S, keys: &[&str]) -> Result<(), StateError> {
    store.release_all(keys).await
}

/// The configured store; Clone is cheap (Arc inside / ConnectionManager).
#[derive(Clone)]
pub enum State {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl State {
    pub fn memory() -> State {
        State::Memory(MemoryStore::new())
    }

    /// Connects (fails fast with a clear error naming the URL without password if Redis is
    /// unreachable). `namespace` prefixes every key ("openpoort:" in production; tests pass a
    /// unique one so parallel tests never see each other's keys).
    pub async fn redis(url: &str, namespace: &str) -> Result<State, StateError> {
        RedisStore::connect(url, namespace).await.map(State::Redis)
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            State::Memory(_) => f.write_str("State::Memory"),
            State::Redis(store) => write!(f, "State::Redis({})", store.endpoint()),
        }
    }
}

/// Every method of the store, forwarded to the configured backend. Written once, so that a method
/// added to the trait is forwarded to both backends or to none (then the impl does not compile).
macro_rules! forward {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StateError> {
            match self {
                State::Memory(store) => store.$name($($arg),*).await,
                State::Redis(store) => store.$name($($arg),*).await,
            }
        })*
    };
}

impl StateStore for State {
    forward! {
        fn put(key: &str, value: &[u8], ttl: Duration) -> ();
        fn get(key: &str) -> Option<Vec<u8>>;
        fn put_if_absent(key: &str, value: &[u8], ttl: Duration) -> bool;
        fn delete(key: &str) -> bool;
        fn take(key: &str) -> Option<Vec<u8>>;
        fn incr(key: &str, window: Duration) -> u64;
        fn reserve(key: &str, limit: u64, window: Duration) -> Option<u64>;
        fn reserve_all(limits: &[(&str, u64)], window: Duration) -> Attempt;
        fn release_all(keys: &[&str]) -> ();
        fn add_to_set(key: &str, member: &[u8], ttl: Duration) -> ();
        fn steps(steps: &[Step<'_>]) -> Vec<Option<Vec<u8>>>;
        fn take_set(key: &str) -> Vec<Vec<u8>>;
        fn count(key: &str) -> u64;
        fn ttl(key: &str) -> Option<Duration>;
        fn ping() -> ();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::sleep;

    use super::{Attempt, State, StateError, StateStore, Step};

    /// Which store a test body runs on; a body that needs two independent stores opens two.
    #[derive(Clone, Copy)]
    enum Backend {
        Memory,
        Redis,
    }

    impl Backend {
        async fn open(self) -> State {
            match self {
                Backend::Memory => State::memory(),
                Backend::Redis => {
                    // Never skip: a green run without Redis would hide the production store.
                    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| {
                        panic!(
                            "TEST_REDIS_URL is not set; run the tests through scripts/test, which \
                             starts Redis and sets it"
                        )
                    });
                    let namespace = format!("test:{}:", uuid::Uuid::new_v4());
                    State::redis(&url, &namespace)
                        .await
                        .unwrap_or_else(|e| panic!("cannot open the test Redis: {e}"))
                }
            }
        }
    }

    /// Runs each named `async fn(Backend)` once per store, as `<name>::memory` and
    /// `<name>::redis`.
    macro_rules! on_both_stores {
        ($($name:ident),* $(,)?) => {$(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$name(super::Backend::Memory).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis() {
                    super::$name(super::Backend::Redis).await;
                }
            }
        )*};
    }

    on_both_stores!(
        value_is_gone_after_its_ttl,
        put_overwrites_and_resets_ttl,
        values_are_binary_safe,
        delete_reports_whether_something_was_removed,
        take_is_single_use_even_when_concurrent,
        put_if_absent_refuses_a_second_writer,
        put_if_absent_admits_exactly_one_of_concurrent_writers,
        counter_window_starts_at_the_first_increment,
        count_of_unknown_key_is_zero,
        namespaces_do_not_see_each_other,
        ttl_reports_remaining_time,
        extreme_ttls_are_clamped_not_rejected,
        errors_never_show_stored_values,
        ping_answers,
        reserve_admits_no_more_than_the_limit_even_when_concurrent,
        reserve_refuses_without_changing_the_count,
        release_gives_back_one_place_and_keeps_the_window,
        concurrent_adds_to_a_set_are_all_kept,
        take_set_is_single_use_and_a_set_lives_as_long_as_its_latest_member_asks,
        reserve_all_counts_on_every_counter_or_on_none,
        a_refused_attempt_never_holds_a_place_another_attempt_needs,
        steps_run_in_order_and_answer_each_get,
        a_grant_recorded_while_its_session_stands_is_collected_by_its_logout,
    );

    const MS: Duration = Duration::from_millis(1);

    async fn value_is_gone_after_its_ttl(backend: Backend) {
        let store = backend.open().await;
        store.put("k", b"v", 500 * MS).await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), Some(b"v".to_vec()));
        sleep(600 * MS).await;
        assert_eq!(store.get("k").await.unwrap(), None);
        assert_eq!(store.ttl("k").await.unwrap(), None);
        assert_eq!(store.take("k").await.unwrap(), None);
        assert!(!store.delete("k").await.unwrap());
        assert!(
            store.put_if_absent("k", b"w", 500 * MS).await.unwrap(),
            "an expired value must not block put_if_absent"
        );
    }

    async fn put_overwrites_and_resets_ttl(backend: Backend) {
        let store = backend.open().await;
        store.put("k", b"first", 400 * MS).await.unwrap();
        sleep(200 * MS).await;
        store.put("k", b"second", 1000 * MS).await.unwrap();
        sleep(400 * MS).await;
        // Past the first ttl, within the second.
        assert_eq!(store.get("k").await.unwrap(), Some(b"second".to_vec()));
    }

    async fn values_are_binary_safe(backend: Backend) {
        let store = backend.open().await;
        let value: Vec<u8> = (0..=255).collect();
        store.put("binary", &value, 10_000 * MS).await.unwrap();
        assert_eq!(store.get("binary").await.unwrap(), Some(value));
        store.put("empty", b"", 10_000 * MS).await.unwrap();
        assert_eq!(store.get("empty").await.unwrap(), Some(Vec::new()));
        // Keys are taken as they are, odd characters included.
        store
            .put("a key:with\nodd ✓", b"x", 10_000 * MS)
            .await
            .unwrap();
        assert_eq!(
            store.get("a key:with\nodd ✓").await.unwrap(),
            Some(b"x".to_vec())
        );
    }

    async fn delete_reports_whether_something_was_removed(backend: Backend) {
        let store = backend.open().await;
        assert!(!store.delete("k").await.unwrap());
        store.put("k", b"v", 10_000 * MS).await.unwrap();
        assert!(store.delete("k").await.unwrap());
        assert!(!store.delete("k").await.unwrap());
        assert_eq!(store.get("k").await.unwrap(), None);
    }

    async fn take_is_single_use_even_when_concurrent(backend: Backend) {
        let store = backend.open().await;
        store.put("code", b"secret", 10_000 * MS).await.unwrap();
        let takers: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.take("code").await.unwrap() })
            })
            .collect();
        let mut winners = Vec::new();
        for taker in takers {
            if let Some(value) = taker.await.unwrap() {
                winners.push(value);
            }
        }
        assert_eq!(
            winners,
            vec![b"secret".to_vec()],
            "exactly one take must win"
        );
        assert_eq!(store.get("code").await.unwrap(), None);
        assert_eq!(store.take("code").await.unwrap(), None);
    }

    async fn put_if_absent_refuses_a_second_writer(backend: Backend) {
        let store = backend.open().await;
        assert!(store.put_if_absent("id", b"first", 400 * MS).await.unwrap());
        assert!(
            !store
                .put_if_absent("id", b"second", 400 * MS)
                .await
                .unwrap()
        );
        assert_eq!(store.get("id").await.unwrap(), Some(b"first".to_vec()));
        sleep(500 * MS).await;
        assert!(
            store.put_if_absent("id", b"third", 400 * MS).await.unwrap(),
            "the marker must end with its ttl"
        );
        assert_eq!(store.get("id").await.unwrap(), Some(b"third".to_vec()));
    }

    async fn put_if_absent_admits_exactly_one_of_concurrent_writers(backend: Backend) {
        let store = backend.open().await;
        let writers: Vec<_> = (0..20u8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .put_if_absent("request-id", &[i], 10_000 * MS)
                        .await
                        .unwrap()
                        .then_some(i)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for writer in writers {
            winners.extend(writer.await.unwrap());
        }
        assert_eq!(winners.len(), 1, "exactly one writer must win: {winners:?}");
        assert_eq!(store.get("request-id").await.unwrap(), Some(winners));
    }

    async fn counter_window_starts_at_the_first_increment(backend: Backend) {
        let store = backend.open().await;
        let window = 800 * MS;
        assert_eq!(store.incr("failures", window).await.unwrap(), 1);
        sleep(300 * MS).await;
        assert_eq!(store.incr("failures", window).await.unwrap(), 2);
        assert_eq!(store.incr("failures", window).await.unwrap(), 3);
        assert_eq!(store.count("failures").await.unwrap(), 3);
        // Past the first increment's window, within a window counted from the last one.
        sleep(600 * MS).await;
        assert_eq!(store.count("failures").await.unwrap(), 0);
        assert_eq!(store.incr("failures", window).await.unwrap(), 1);
    }

    async fn count_of_unknown_key_is_zero(backend: Backend) {
        let store = backend.open().await;
        assert_eq!(store.count("never-counted").await.unwrap(), 0);
        assert_eq!(store.incr("counted", 10_000 * MS).await.unwrap(), 1);
        assert_eq!(store.count("counted").await.unwrap(), 1);
        // Counters are decimal text on every store.
        assert_eq!(store.get("counted").await.unwrap(), Some(b"1".to_vec()));
    }

    async fn namespaces_do_not_see_each_other(backend: Backend) {
        let one = backend.open().await;
        let other = backend.open().await;
        one.put("k", b"one", 10_000 * MS).await.unwrap();
        assert_eq!(other.get("k").await.unwrap(), None);
        assert!(
            other
                .put_if_absent("k", b"other", 10_000 * MS)
                .await
                .unwrap()
        );
        assert_eq!(one.get("k").await.unwrap(), Some(b"one".to_vec()));
        one.incr("n", 10_000 * MS).await.unwrap();
        one.incr("n", 10_000 * MS).await.unwrap();
        assert_eq!(other.count("n").await.unwrap(), 0);
        assert!(other.delete("k").await.unwrap());
        assert_eq!(one.get("k").await.unwrap(), Some(b"one".to_vec()));
    }

    async fn ttl_reports_remaining_time(backend: Backend) {
        let store = backend.open().await;
        assert_eq!(store.ttl("absent").await.unwrap(), None);
        store.put("k", b"v", 1000 * MS).await.unwrap();
        let left = store.ttl("k").await.unwrap().expect("a ttl for a live key");
        assert!(left <= 1000 * MS && left > 500 * MS, "ttl {left:?}");
        store.incr("n", 2000 * MS).await.unwrap();
        sleep(300 * MS).await;
        store.incr("n", 2000 * MS).await.unwrap();
        let left = store.ttl("n").await.unwrap().expect("a ttl for a counter");
        assert!(
            left <= 1700 * MS && left > 1000 * MS,
            "counter ttl {left:?}"
        );
    }

    async fn extreme_ttls_are_clamped_not_rejected(backend: Backend) {
        let store = backend.open().await;
        store.put("zero", b"v", Duration::ZERO).await.unwrap();
        store.put("huge", b"v", Duration::MAX).await.unwrap();
        assert!(
            store
                .put_if_absent("huge2", b"v", Duration::MAX)
                .await
                .unwrap()
        );
        assert_eq!(store.incr("huge-counter", Duration::MAX).await.unwrap(), 1);
        sleep(20 * MS).await;
        assert_eq!(store.get("zero").await.unwrap(), None);
        let left = store.ttl("huge").await.unwrap().expect("a ttl");
        assert!(left > super::MAX_TTL - 60_000 * MS && left <= super::MAX_TTL);
        assert!(store.ttl("huge-counter").await.unwrap().is_some());
        // Entries of a year would outlive the test by far in a developer's Redis.
        for key in ["huge", "huge2", "huge-counter"] {
            assert!(store.delete(key).await.unwrap());
        }
    }

    async fn errors_never_show_stored_values(backend: Backend) {
        let store = backend.open().await;
        store
            .put("k", b"hunter2-secret", 10_000 * MS)
            .await
            .unwrap();
        let count = store.count("k").await.unwrap_err();
        assert!(matches!(count, StateError::NotACounter), "{count:?}");
        let incr = store.incr("k", 10_000 * MS).await.unwrap_err();
        for error in [count, incr] {
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(!shown.contains("k\""), "{shown}");
        }
        // A failed increment leaves the value alone.
        assert_eq!(
            store.get("k").await.unwrap(),
            Some(b"hunter2-secret".to_vec())
        );
    }

    async fn reserve_admits_no_more_than_the_limit_even_when_concurrent(backend: Backend) {
        let store = backend.open().await;
        let attempts: Vec<_> = (0..200)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.reserve("pin", 5, 10_000 * MS).await.unwrap() })
            })
            .collect();
        let mut admitted = Vec::new();
        for attempt in attempts {
            admitted.extend(attempt.await.unwrap());
        }
        admitted.sort_unstable();
        assert_eq!(
            admitted,
            vec![1, 2, 3, 4, 5],
            "exactly the limit, each place once"
        );
        assert_eq!(store.count("pin").await.unwrap(), 5);
    }

    async fn reserve_refuses_without_changing_the_count(backend: Backend) {
        let store = backend.open().await;
        let window = 800 * MS;
        assert_eq!(store.reserve("n", 2, window).await.unwrap(), Some(1));
        sleep(300 * MS).await;
        assert_eq!(store.reserve("n", 2, window).await.unwrap(), Some(2));
        assert_eq!(store.reserve("n", 2, window).await.unwrap(), None);
        assert_eq!(store.count("n").await.unwrap(), 2);
        assert_eq!(store.reserve("zero", 0, window).await.unwrap(), None);
        assert_eq!(store.count("zero").await.unwrap(), 0);
        // The window counts from the first reservation.
        sleep(600 * MS).await;
        assert_eq!(store.reserve("n", 2, window).await.unwrap(), Some(1));
        // Something that is not a count is not taken for one, and not overwritten.
        store.put("text", b"secret", 10_000 * MS).await.unwrap();
        let error = store.reserve("text", 5, window).await.unwrap_err();
        assert!(matches!(error, StateError::NotACounter), "{error:?}");
        assert!(!format!("{error} {error:?}").contains("secret"));
        assert_eq!(store.get("text").await.unwrap(), Some(b"secret".to_vec()));
    }

    async fn release_gives_back_one_place_and_keeps_the_window(backend: Backend) {
        let store = backend.open().await;
        let window = 10_000 * MS;
        for _ in 0..3 {
            store.reserve("n", 3, window).await.unwrap();
        }
        assert_eq!(store.reserve("n", 3, window).await.unwrap(), None);
        store.release_all(&["n"]).await.unwrap();
        assert_eq!(store.count("n").await.unwrap(), 2);
        assert!(
            store.ttl("n").await.unwrap().is_some(),
            "release must keep the expiry"
        );
        assert_eq!(store.reserve("n", 3, window).await.unwrap(), Some(3));
        // Never below zero, and nothing is created for an absent key.
        store.release_all(&["absent"]).await.unwrap();
        assert_eq!(store.get("absent").await.unwrap(), None);
        store.put("z", b"0", window).await.unwrap();
        store.release_all(&["z"]).await.unwrap();
        assert_eq!(store.count("z").await.unwrap(), 0);
    }

    async fn steps_run_in_order_and_answer_each_get(backend: Backend) {
        let store = backend.open().await;
        store.put("old", b"before", 10_000 * MS).await.unwrap();
        let answers = store
            .steps(&[
                Step::Get("old"),
                Step::Put("old", b"after", 10_000 * MS),
                Step::AddToSet("set", b"m", 10_000 * MS),
                Step::Get("old"),
                Step::Get("absent"),
                Step::Put("short", b"v", 200 * MS),
            ])
            .await
            .unwrap();
        assert_eq!(
            answers,
            [
                Some(b"before".to_vec()),
                None,
                None,
                Some(b"after".to_vec()),
                None,
                None
            ]
        );
        assert_eq!(store.take_set("set").await.unwrap(), [b"m".to_vec()]);
        assert!(
            store.ttl("short").await.unwrap().unwrap() <= 200 * MS,
            "a step's ttl is kept"
        );
        sleep(300 * MS).await;
        assert_eq!(store.get("short").await.unwrap(), None);
        // A set read as a value fails the call, as `get` does.
        store.add_to_set("set", b"m", 10_000 * MS).await.unwrap();
        assert!(matches!(
            store
                .steps(&[Step::Put("v", b"x", 10_000 * MS), Step::Get("set")])
                .await,
            Err(StateError::WrongKind)
        ));
        // A lone step too (on Redis a plain command, not a MULTI/EXEC block).
        assert!(matches!(
            store.steps(&[Step::Get("set")]).await,
            Err(StateError::WrongKind)
        ));
        assert_eq!(
            store.steps(&[Step::Get("v")]).await.unwrap(),
            [Some(b"x".to_vec())]
        );
    }

    /// The order an authorization relies on (`Session::record_grant`): it adds its grant and
    /// then looks whether the session still stands; a logout deletes the session and then
    /// collects the grants. Whatever the interleaving, a grant whose authorization saw the
    /// session is one the logout collects, so no token family outlives its session's logout.
    /// An authorization that looked first and added after, in two calls, fails this in the
    /// first rounds on both stores (tried).
    async fn a_grant_recorded_while_its_session_stands_is_collected_by_its_logout(
        backend: Backend,
    ) {
        let store = backend.open().await;
        for round in 0..20u32 {
            let (session, grants) = (format!("session{round}"), format!("grants{round}"));
            store.put(&session, b"s", 10_000 * MS).await.unwrap();
            let authorizations: Vec<_> = (0..8u8)
                .map(|i| {
                    let (store, session, grants) = (store.clone(), session.clone(), grants.clone());
                    tokio::spawn(async move {
                        let family = format!("f{i}");
                        let answers = store
                            .steps(&[
                                Step::AddToSet(&grants, family.as_bytes(), 10_000 * MS),
                                Step::Get(&session),
                            ])
                            .await
                            .unwrap();
                        (family.into_bytes(), answers[1].is_some())
                    })
                })
                .collect();
            let logout = {
                let (store, session, grants) = (store.clone(), session.clone(), grants.clone());
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    store.delete(&session).await.unwrap();
                    store.take_set(&grants).await.unwrap()
                })
            };
            let mut seen_standing = Vec::new();
            for authorization in authorizations {
                let (family, saw_session) = authorization.await.unwrap();
                if saw_session {
                    seen_standing.push(family);
                }
            }
            let collected = logout.await.unwrap();
            for family in seen_standing {
                assert!(
                    collected.contains(&family),
                    "round {round}: a grant recorded while the session stood escaped its logout"
                );
            }
        }
    }

    async fn concurrent_adds_to_a_set_are_all_kept(backend: Backend) {
        let store = backend.open().await;
        let adders: Vec<_> = (0..50u8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .add_to_set("families", format!("f{i}").as_bytes(), 10_000 * MS)
                        .await
                        .unwrap()
                })
            })
            .collect();
        for adder in adders {
            adder.await.unwrap();
        }
        // The same member twice is one member.
        store
            .add_to_set("families", b"f0", 10_000 * MS)
            .await
            .unwrap();
        let mut members = store.take_set("families").await.unwrap();
        members.sort();
        let mut expected: Vec<Vec<u8>> = (0..50).map(|i| format!("f{i}").into_bytes()).collect();
        expected.sort();
        assert_eq!(members, expected);
    }

    async fn take_set_is_single_use_and_a_set_lives_as_long_as_its_latest_member_asks(
        backend: Backend,
    ) {
        let store = backend.open().await;
        assert!(store.take_set("absent").await.unwrap().is_empty());
        store.add_to_set("s", b"a", 400 * MS).await.unwrap();
        store.add_to_set("s", b"b", 1_000 * MS).await.unwrap();
        // A shorter ttl later does not shorten the set's life.
        store.add_to_set("s", b"c", 100 * MS).await.unwrap();
        sleep(600 * MS).await;
        let mut members = store.take_set("s").await.unwrap();
        members.sort();
        assert_eq!(members, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert!(store.take_set("s").await.unwrap().is_empty());
        store.add_to_set("gone", b"a", 300 * MS).await.unwrap();
        sleep(400 * MS).await;
        assert!(store.take_set("gone").await.unwrap().is_empty());
        // Sets and plain values do not mix.
        store.put("plain", b"v", 10_000 * MS).await.unwrap();
        assert!(store.add_to_set("plain", b"m", 10_000 * MS).await.is_err());
        store.add_to_set("set", b"m", 10_000 * MS).await.unwrap();
        assert!(matches!(
            store.get("set").await.unwrap_err(),
            StateError::WrongKind
        ));
        assert!(store.delete("set").await.unwrap());
    }

    async fn reserve_all_counts_on_every_counter_or_on_none(backend: Backend) {
        let store = backend.open().await;
        let window = 10_000 * MS;
        let limits = [("ip", 5), ("pupil", 2)];
        assert_eq!(
            store.reserve_all(&limits, window).await.unwrap(),
            Attempt::Admitted(vec![1, 1])
        );
        assert_eq!(
            store.reserve_all(&limits, window).await.unwrap(),
            Attempt::Admitted(vec![2, 2])
        );
        // The second counter is full: refused, and the first is not counted either.
        assert_eq!(
            store.reserve_all(&limits, window).await.unwrap(),
            Attempt::Refused(1)
        );
        assert_eq!(store.count("ip").await.unwrap(), 2);
        assert_eq!(store.count("pupil").await.unwrap(), 2);
        assert!(store.ttl("pupil").await.unwrap().is_some(), "a window");
        // Both given back at once, never below zero, nothing created for an absent key.
        store.release_all(&["ip", "pupil", "absent"]).await.unwrap();
        assert_eq!(store.count("ip").await.unwrap(), 1);
        assert_eq!(store.count("pupil").await.unwrap(), 1);
        assert_eq!(store.get("absent").await.unwrap(), None);
        assert!(
            store.ttl("ip").await.unwrap().is_some(),
            "the window is kept"
        );
        // Something that is not a count is not taken for one, and nothing is counted.
        store.put("text", b"secret", window).await.unwrap();
        let error = store
            .reserve_all(&[("ip", 5), ("text", 5)], window)
            .await
            .unwrap_err();
        assert!(matches!(error, StateError::NotACounter), "{error:?}");
        assert_eq!(store.count("ip").await.unwrap(), 1);
        assert_eq!(store.get("text").await.unwrap(), Some(b"secret".to_vec()));
    }

    /// Guesses at a locked pupil (refused on the pupil's counter) run while other pupils at the
    /// same address log in: the refused guesses must not take the address's places, even for a
    /// moment, or the other pupils are refused for someone else's lock-out.
    async fn a_refused_attempt_never_holds_a_place_another_attempt_needs(backend: Backend) {
        let store = backend.open().await;
        let window = 10_000 * MS;
        for _ in 0..3 {
            store.reserve("locked", 3, window).await.unwrap();
        }
        let mut attempts = Vec::new();
        for i in 0..300 {
            let store = store.clone();
            attempts.push(tokio::spawn(async move {
                // Every tenth attempt is another pupil's own, the rest guesses at the locked one.
                let pupil = if i % 10 == 0 {
                    format!("pupil-{i}")
                } else {
                    "locked".to_owned()
                };
                let attempt = store
                    .reserve_all(&[("ip", 30), (pupil.as_str(), 3)], window)
                    .await
                    .unwrap();
                (i % 10 == 0, attempt)
            }));
        }
        for attempt in attempts {
            match attempt.await.unwrap() {
                (true, outcome) => assert!(
                    matches!(outcome, Attempt::Admitted(_)),
                    "another pupil's login was refused: {outcome:?}"
                ),
                // Refused on the pupil, or on the address once the others have taken it.
                (false, outcome) => assert!(
                    matches!(outcome, Attempt::Refused(_)),
                    "a guess at a locked pupil was admitted: {outcome:?}"
                ),
            }
        }
        assert_eq!(store.count("ip").await.unwrap(), 30);
    }

    async fn ping_answers(backend: Backend) {
        backend.open().await.ping().await.unwrap();
    }

    #[tokio::test]
    async fn unreachable_redis_fails_with_a_clear_error() {
        for url in [
            "redis://:pa55word-123@127.0.0.1:1/",
            "redis://alice:pa55word-123@127.0.0.1:1/2",
        ] {
            let started = std::time::Instant::now();
            let error = State::redis(url, "test:").await.unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(shown.contains("127.0.0.1:1"), "{shown}");
            assert!(!shown.contains("pa55word"), "{shown}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "took {:?} to give up",
                started.elapsed()
            );
        }
    }

    #[tokio::test]
    async fn invalid_redis_url_is_not_echoed() {
        let error = State::redis("redis://:pa55word-123@/", "test:")
            .await
            .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(matches!(error, StateError::InvalidRedisUrl(_)), "{shown}");
        assert!(!shown.contains("pa55word"), "{shown}");
    }
}
