//! Hearing the register's change notices on PostgreSQL, so that the read cache (`cache`) can be
//! on where several nodes and the operator's command line share one database.
//!
//! Every statement that changes a cached table announces itself at commit on [`CHANNEL`]
//! (triggers, migration 0019), with its schema as the payload. A node listens on a connection of
//! its own and empties its cache at each notice of its schema. To know that it still hears, it
//! sends itself a notice every [`TICK`] through a second connection; hearing one back proves
//! that every change committed before it was heard, because PostgreSQL delivers notices in
//! commit order. A lost connection, an error, or no notice of its own for [`LAPSE`] turns the
//! cache off and empties it; the node then subscribes again and starts over with an empty cache.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use crate::cache::{Cache, LAPSE, TICK};
use crate::{Directory, Pool};

/// The channel the triggers of migration 0019 announce changes on.
pub(crate) const CHANNEL: &str = "openpoort_register";

/// The wait before subscribing again after a failure. Short: the cache is off meanwhile, so
/// every login reads from the database.
const RETRY: Duration = Duration::from_secs(1);

impl Directory {
    /// On PostgreSQL, starts hearing the changes other processes make, which turns the read
    /// cache on (`serve` calls this once). Without it, as in the command line's short runs,
    /// nothing is cached and every read goes to the database. On SQLite there is nothing to
    /// start: the cache polls the register's version there. A second call does nothing.
    pub fn listen_for_changes(&self) {
        let Pool::Postgres(pool) = &self.pool else {
            return;
        };
        let mut slot = self
            .cache
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            let task = tokio::spawn(listen(pool.clone(), self.cache.clone()));
            *slot = Some(task.abort_handle());
        }
    }

    /// Whether the read cache is in use: always on SQLite; on PostgreSQL while this node hears
    /// the register's change notices.
    pub fn cache_in_use(&self) -> bool {
        match self.cache.watch {
            crate::cache::Watch::Version => true,
            crate::cache::Watch::Notices => self.cache.hearing(Instant::now()),
        }
    }

    /// The PostgreSQL backend process of the connection that hears change notices, once one
    /// subscribed: for the tests that cut it.
    #[cfg(feature = "testing")]
    pub fn listener_backend_pid(&self) -> Option<u32> {
        match self.cache.listener_pid.load(Ordering::Relaxed) {
            0 => None,
            pid => Some(pid),
        }
    }

    pub(crate) fn stop_listening(&self) {
        let task = self
            .cache
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task {
            task.abort();
        }
        self.cache.deaf();
    }
}

async fn listen(pool: PgPool, cache: Arc<Cache>) {
    // Connections of its own: the listening one is held for as long as the node runs and would
    // otherwise take a reader's place in the register's pool.
    let options = (*pool.connect_options()).clone();
    let own = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(LAPSE)
        .connect_lazy_with(options);
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let base = Instant::now();
    tokio::select! {
        () = send_ticks(&own, &nonce, base) => {}
        () = hear(&own, &cache, &nonce, base) => {}
    }
}

/// Sends this node's own notice every [`TICK`], carrying when it was sent.
async fn send_ticks(pool: &PgPool, nonce: &str, base: Instant) {
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let sent = base.elapsed().as_micros();
        let send = sqlx::query("SELECT pg_notify($1, current_schema() || ' tick ' || $2)")
            .bind(CHANNEL)
            .bind(format!("{nonce} {sent}"))
            .execute(pool);
        // A tick that is not sent is a tick not heard back: the lapse turns the cache off.
        match tokio::time::timeout(LAPSE, send).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "cannot send the register's own notice"),
            Err(_) => tracing::debug!("sending the register's own notice timed out"),
        }
    }
}

async fn hear(pool: &PgPool, cache: &Cache, nonce: &str, base: Instant) {
    loop {
        cache.deaf();
        let (mut listener, schema, pid) = match tokio::time::timeout(LAPSE, subscribe(pool)).await {
            Ok(Ok(subscribed)) => subscribed,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot listen for register changes; the read cache is off until it can");
                tokio::time::sleep(RETRY).await;
                continue;
            }
            Err(_) => {
                tracing::warn!(
                    "listening for register changes timed out; the read cache is off until it can"
                );
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        cache.listener_pid.store(pid, Ordering::Relaxed);
        cache.subscribed(Instant::now());
        tracing::info!(
            backend_pid = pid,
            "hearing register changes; the read cache is on"
        );
        loop {
            let lapse = cache.hearing_until().unwrap_or_else(Instant::now);
            tokio::select! {
                heard = listener.try_recv() => match heard {
                    Ok(Some(notice)) => on_notice(cache, &schema, nonce, base, notice.payload()),
                    Ok(None) => {
                        tracing::warn!("lost the connection that hears register changes; the read cache is off until it listens again");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "hearing register changes failed; the read cache is off until it listens again");
                        break;
                    }
                },
                () = tokio::time::sleep_until(lapse.into()) => {
                    tracing::warn!("this node's own notices stopped coming back; the read cache is off until it listens again");
                    break;
                }
            }
        }
        cache.listener_pid.store(0, Ordering::Relaxed);
    }
}

/// A listening connection: its schema (the payload of the changes that concern it) and its
/// backend's process id.
async fn subscribe(pool: &PgPool) -> Result<(PgListener, String, u32), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Reconnecting is this module's decision: the cache must be emptied in between.
    listener.eager_reconnect(false);
    let (schema, pid): (String, i32) =
        sqlx::query_as("SELECT current_schema()::text, pg_backend_pid()")
            .fetch_one(&mut listener)
            .await?;
    listener.listen(CHANNEL).await?;
    Ok((listener, schema, u32::try_from(pid).unwrap_or(0)))
}

/// What a notice means for this node: a change in its schema empties the cache, its own tick
/// keeps it hearing; another schema's changes and other nodes' ticks mean nothing here.
fn on_notice(cache: &Cache, schema: &str, nonce: &str, base: Instant, payload: &str) {
    match notice_of(schema, nonce, payload) {
        Notice::Change => cache.forget(),
        Notice::OwnTick(micros) => cache.heard_own_notice(base + Duration::from_micros(micros)),
        Notice::Other => {}
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Notice {
    Change,
    /// Sent this many microseconds after the node's start of listening.
    OwnTick(u64),
    Other,
}

fn notice_of(schema: &str, nonce: &str, payload: &str) -> Notice {
    let Some(rest) = payload.strip_prefix(schema) else {
        return Notice::Other;
    };
    if rest.is_empty() {
        return Notice::Change;
    }
    let tick = rest
        .strip_prefix(" tick ")
        .and_then(|tick| tick.split_once(' '))
        .filter(|(from, _)| *from == nonce)
        .and_then(|(_, sent)| sent.parse().ok());
    tick.map_or(Notice::Other, Notice::OwnTick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_in_the_nodes_own_schema_and_its_own_ticks_count() {
        let n = |payload| notice_of("t_a", "n1", payload);
        assert_eq!(n("t_a"), Notice::Change);
        assert_eq!(n("t_ab"), Notice::Other, "another schema sharing a prefix");
        assert_eq!(n("t_b"), Notice::Other, "another installation's change");
        assert_eq!(n("t_a tick n1 1500"), Notice::OwnTick(1500));
        assert_eq!(n("t_a tick n2 1500"), Notice::Other, "another node's tick");
        assert_eq!(n("t_b tick n1 1500"), Notice::Other);
        assert_eq!(n("t_a tick n1 soon"), Notice::Other);
    }
}
