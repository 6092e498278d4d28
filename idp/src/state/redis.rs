//! The Redis store: state shared by any number of stateless nodes.
//!
//! Every operation is a single command, a MULTI/EXEC block or (where a decision sits between
//! reading and writing: reserving an attempt) a Lua script, so each is atomic towards other
//! nodes without locks. Needs Redis 7.0 or newer (`PEXPIRE` with `NX`), checked when
//! connecting rather than at the first failed login.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ErrorKind, RedisError, ServerErrorKind,
};

use super::{Attempt, StateError, StateStore, Step, effective_ttl, parse_count};

/// Long enough for a Redis across a network under load; short enough that an unreachable one
/// stops start-up within seconds, and that a reconnect attempt does not hang on a silently
/// dropped address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Every command here is O(1) on the server, so a reply this late means Redis is in trouble; a
/// login request then fails instead of hanging.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// How the connection manager retries after a lost connection (see `connect`).
const RECONNECT_RETRIES: usize = 3;
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(400);

#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    namespace: Arc<str>,
    /// The URL without credentials, for messages.
    endpoint: Arc<str>,
}

impl RedisStore {
    pub(super) async fn connect(url: &str, namespace: &str) -> Result<RedisStore, StateError> {
        let client = Client::open(url).map_err(StateError::InvalidRedisUrl)?;
        let endpoint = describe(&client);
        let connect_error = |source: RedisError| StateError::Connect {
            endpoint: endpoint.clone(),
            source,
        };

        // A single attempt, so that a wrong URL fails start-up at once instead of after the
        // manager's retries; the manager below keeps those retries for outages later on.
        let mut probe = client
            .get_multiplexed_async_connection_with_config(
                &AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT)),
            )
            .await
            .map_err(connect_error)?;
        redis::cmd("PING")
            .query_async::<()>(&mut probe)
            .await
            .map_err(connect_error)?;
        // On an absent key this changes nothing; a server older than 7.0 rejects the NX.
        redis::cmd("PEXPIRE")
            .arg(format!("{namespace}openpoort-feature-probe"))
            .arg(1)
            .arg("NX")
            .query_async::<()>(&mut probe)
            .await
            .map_err(|source| {
                if source.kind() == ErrorKind::Server(ServerErrorKind::ResponseError) {
                    StateError::Unsupported {
                        endpoint: endpoint.clone(),
                        source,
                    }
                } else {
                    connect_error(source)
                }
            })?;
        drop(probe);

        // Every command waits while the manager reconnects; its default six retries (0.1 s
        // doubling) kept each request of an outage waiting about 5 s for its 503. Three retries
        // of at most 0.4 s ride out a restart's first second and answer within about a second;
        // the next command after that starts a new round.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(connect_error)?;
        tracing::info!(%endpoint, "connected to Redis for short-lived state");
        Ok(RedisStore {
            connection,
            namespace: namespace.into(),
            endpoint: endpoint.into(),
        })
    }

    pub(super) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    /// A handle for one operation; cloning shares the one multiplexed connection.
    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }
}

/// The URL as the client understood it, without password (which may also sit in the query of a
/// Unix socket URL, so the query is left out altogether).
fn describe(client: &Client) -> String {
    let info = client.get_connection_info();
    let settings = info.redis_settings();
    let user = settings
        .username()
        .map(|name| format!("{name}@"))
        .unwrap_or_default();
    let db = settings.db();
    match info.addr() {
        ConnectionAddr::Tcp(host, port) => format!("redis://{user}{host}:{port}/{db}"),
        ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{user}{host}:{port}/{db}"),
        ConnectionAddr::Unix(path) => format!("unix://{}", path.display()),
        other => other.to_string(),
    }
}

/// Reserves one attempt: -1 when the limit is reached, -2 when the key holds something other
/// than a count (left alone), else the new count. GET, compare and INCR run as one step, which
/// INCR followed by a comparison in openpoort would not give: an attempt past the limit would
/// still be counted, and a check before INCR lets parallel attempts through together.
const RESERVE: &str = r"
local raw = redis.call('GET', KEYS[1])
local n = 0
if raw then
  n = tonumber(raw)
  if n == nil or n < 0 or n ~= math.floor(n) then return -2 end
end
if n >= tonumber(ARGV[1]) then return -1 end
n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX')
return n
";

/// Reserves one attempt on every key (ARGV[1] the window, ARGV[1 + i] the limit of KEYS[i]), or
/// on none: {-1, i - 1} when KEYS[i] is the first at its limit, {-2} when one holds something
/// other than a count, else the new counts. Every check comes before the first count, so a
/// refused attempt changes nothing, and the whole is one round trip instead of one per key.
const RESERVE_ALL: &str = r"
for i, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  local n = 0
  if raw then
    n = tonumber(raw)
    if n == nil or n < 0 or n ~= math.floor(n) then return {-2} end
  end
  if n >= tonumber(ARGV[i + 1]) then return {-1, i - 1} end
end
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  redis.call('PEXPIRE', key, ARGV[1], 'NX')
end
return counts
";

/// Releases one reservation on every key in one round trip: DECR, never below zero, never
/// creating a key; DECR keeps the expiry. -2 at the first key that holds something other than a
/// count.
const RELEASE_ALL: &str = r"
for _, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  if raw then
    local n = tonumber(raw)
    if n == nil then return -2 end
    if n > 0 then redis.call('DECR', key) end
  end
end
return 0
";

/// Redis' WRONGTYPE as the memory store reports it; anything else as it is.
fn wrong_kind(error: RedisError) -> StateError {
    // In a MULTI/EXEC the error is the failing command's, inside the block's.
    let in_block = |e: &RedisError| {
        e.clone()
            .into_server_errors()
            .is_some_and(|errors| errors.iter().any(|(_, e)| e.code() == "WRONGTYPE"))
    };
    if error.code() == Some("WRONGTYPE") || in_block(&error) {
        StateError::WrongKind
    } else {
        StateError::Redis(error)
    }
}

/// Redis' PX argument for a duration, clamped as every store does.
fn millis(duration: Duration) -> u64 {
    u64::try_from(effective_ttl(duration).as_millis()).unwrap_or(u64::MAX)
}

// Replies are only ever decoded into types every expected reply fits (byte strings, integers,
// nil), and counters are parsed here: a failed conversion inside the redis crate would quote the
// reply, which may be a stored secret, in its error message.
impl StateStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StateError> {
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut self.connection())
            .await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        redis::cmd("GET")
            .arg(self.key(key))
            .query_async::<Option<Vec<u8>>>(&mut self.connection())
            .await
            .map_err(wrong_kind)
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StateError> {
        // Nil when the key existed, OK when it was set.
        let reply = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<Option<()>>(&mut self.connection())
            .await?;
        Ok(reply.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        let removed = redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<u64>(&mut self.connection())
            .await?;
        Ok(removed > 0)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async::<Option<Vec<u8>>>(&mut self.connection())
            .await?)
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        let key = self.key(key);
        // NX sets the expiry only where there is none: at the first increment, or on a counter
        // that somehow lost its expiry, which would otherwise lock a user out for good.
        let (count,) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis(window))
            .arg("NX")
            .ignore()
            .query_async::<(i64,)>(&mut self.connection())
            .await?;
        // INCR never yields a negative number on a counter only ever incremented.
        u64::try_from(count).map_err(|_| StateError::NotACounter)
    }

    async fn reserve(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
    ) -> Result<Option<u64>, StateError> {
        let reply = redis::cmd("EVAL")
            .arg(RESERVE)
            .arg(1)
            .arg(self.key(key))
            .arg(limit)
            .arg(millis(window))
            .query_async::<i64>(&mut self.connection())
            .await?;
        match reply {
            -1 => Ok(None),
            n => u64::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or(StateError::NotACounter),
        }
    }

    async fn reserve_all(
        &self,
        limits: &[(&str, u64)],
        window: Duration,
    ) -> Result<Attempt, StateError> {
        let mut eval = redis::cmd("EVAL");
        eval.arg(RESERVE_ALL).arg(limits.len());
        for (key, _) in limits {
            eval.arg(self.key(key));
        }
        eval.arg(millis(window));
        for (_, limit) in limits {
            eval.arg(*limit);
        }
        let reply = eval.query_async::<Vec<i64>>(&mut self.connection()).await?;
        match reply.as_slice() {
            [-1, index] => usize::try_from(*index)
                .map(Attempt::Refused)
                .map_err(|_| StateError::NotACounter),
            counts => counts
                .iter()
                .map(|n| u64::try_from(*n).ok().filter(|n| *n > 0))
                .collect::<Option<Vec<u64>>>()
                .filter(|c| c.len() == limits.len())
                .map(Attempt::Admitted)
                .ok_or(StateError::NotACounter),
        }
    }

    async fn release_all(&self, keys: &[&str]) -> Result<(), StateError> {
        let mut eval = redis::cmd("EVAL");
        eval.arg(RELEASE_ALL).arg(keys.len());
        for key in keys {
            eval.arg(self.key(key));
        }
        let reply = eval.query_async::<i64>(&mut self.connection()).await?;
        if reply < 0 {
            return Err(StateError::NotACounter);
        }
        Ok(())
    }

    async fn add_to_set(&self, key: &str, member: &[u8], ttl: Duration) -> Result<(), StateError> {
        self.steps(&[Step::AddToSet(key, member, ttl)]).await?;
        Ok(())
    }

    async fn steps(&self, steps: &[Step<'_>]) -> Result<Vec<Option<Vec<u8>>>, StateError> {
        let mut pipe = redis::pipe();
        // A lone GET or SET is atomic by itself; MULTI/EXEC would only add two commands.
        if !matches!(steps, [Step::Get(_) | Step::Put(..)]) {
            pipe.atomic();
        }
        for step in steps {
            match *step {
                Step::Put(key, value, ttl) => {
                    pipe.cmd("SET")
                        .arg(self.key(key))
                        .arg(value)
                        .arg("PX")
                        .arg(millis(ttl))
                        .ignore();
                }
                Step::AddToSet(key, member, ttl) => {
                    // NX gives a new set its expiry, GT lets a later member extend it; neither
                    // shortens it.
                    let key = self.key(key);
                    let ms = millis(ttl);
                    pipe.cmd("SADD").arg(&key).arg(member).ignore();
                    pipe.cmd("PEXPIRE").arg(&key).arg(ms).arg("NX").ignore();
                    pipe.cmd("PEXPIRE").arg(&key).arg(ms).arg("GT").ignore();
                }
                Step::Get(key) => {
                    pipe.cmd("GET").arg(self.key(key));
                }
            }
        }
        // Only the GETs answer (the rest are ignored), in order.
        let mut values = pipe
            .query_async::<Vec<Option<Vec<u8>>>>(&mut self.connection())
            .await
            .map_err(wrong_kind)?
            .into_iter();
        let mut answers = Vec::with_capacity(steps.len());
        for step in steps {
            answers.push(match step {
                Step::Get(_) => values.next().flatten(),
                Step::Put(..) | Step::AddToSet(..) => None,
            });
        }
        Ok(answers)
    }

    async fn take_set(&self, key: &str) -> Result<Vec<Vec<u8>>, StateError> {
        let key = self.key(key);
        let (members,) = redis::pipe()
            .atomic()
            .cmd("SMEMBERS")
            .arg(&key)
            .cmd("DEL")
            .arg(&key)
            .ignore()
            .query_async::<(Vec<Vec<u8>>,)>(&mut self.connection())
            .await
            .map_err(wrong_kind)?;
        Ok(members)
    }

    async fn count(&self, key: &str) -> Result<u64, StateError> {
        let raw = redis::cmd("GET")
            .arg(self.key(key))
            .query_async::<Option<Vec<u8>>>(&mut self.connection())
            .await?;
        raw.map_or(Ok(0), |raw| parse_count(&raw))
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StateError> {
        // -2: no such key; -1: a key without expiry.
        let millis = redis::cmd("PTTL")
            .arg(self.key(key))
            .query_async::<i64>(&mut self.connection())
            .await?;
        Ok(u64::try_from(millis).ok().map(Duration::from_millis))
    }

    async fn ping(&self) -> Result<(), StateError> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.connection())
            .await?;
        Ok(())
    }
}
