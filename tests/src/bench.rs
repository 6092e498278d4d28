//! What the load tools measure, written once for all of them: the load itself (flows, latency,
//! errors), and what the flows cost the server: CPU time of the openpoort process and, on the
//! production configuration, of the PostgreSQL backends serving it and of Redis, with the
//! database's transactions and table reads and Redis' commands and round trips per flow.
//!
//! Flows per second on this machine drift with its speed band and with other builds running at
//! the same time; CPU and counts per flow do not, so they are the figures to compare.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::{Browser, PgSchema, openpoort, run, text};

/// The database the production configuration measures in (a fresh schema per run). PostgreSQL
/// counts transactions per database, so a database of its own keeps other engineers' tests out
/// of the counts.
pub const BENCH_DATABASE: &str = "openpoort_bench";

/// PostgreSQL 15 writes a backend's statistics when it goes idle, at most once a second, and
/// when that is too soon, once it has been idle for 10 s (PGSTAT_IDLE_INTERVAL);
/// counts are read this long after the load, so that they hold every flow's work.
const STATS_FLUSH: Duration = Duration::from_millis(11_000);

/// The CPU time (user and system, all threads) that process `pid` has used so far, from
/// `/proc/<pid>/stat`. Flows per second drift with this machine's speed band; CPU per flow does
/// not, so the load tools print both. Resolution: one clock tick (10 ms), so measure runs of
/// seconds.
pub fn process_cpu(pid: u32) -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| -> std::io::Result<u64> {
        fields.get(i).and_then(|f| f.parse().ok()).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("/proc/{pid}/stat: no field {}", i + 3),
            )
        })
    };
    // utime and stime are fields 14 and 15; the state (field 3) is the first after the name.
    let ticks = tick(11)? + tick(12)?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second()? as f64,
    ))
}

/// `getconf CLK_TCK`: the unit of /proc's CPU times (100 on Linux nearly everywhere).
fn clock_ticks_per_second() -> std::io::Result<u64> {
    let out = Command::new("getconf").arg("CLK_TCK").output()?;
    text(&out.stdout).trim().parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("getconf CLK_TCK answered {:?}", text(&out.stdout)),
        )
    })
}

/// What a load run measured: one latency per successful flow.
pub struct Load {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p` quantile (0..=1) of the flow latencies, which are sorted.
    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.latencies.len();
        self.latencies[((n as f64 * p).ceil() as usize).clamp(1, n) - 1]
    }

    /// Prints the machine, the rate for `what`, and p50/p99.
    pub fn report(&self, what: &str) {
        println!(
            "machine: {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!(
            "{what}: {:.0}  ({} ok, {} errors, {:.1} s)",
            self.per_second(),
            self.latencies.len(),
            self.errors,
            self.elapsed.as_secs_f64()
        );
        if !self.latencies.is_empty() {
            println!(
                "latency p50 {:.1} ms, p99 {:.1} ms",
                self.percentile(0.50).as_secs_f64() * 1000.0,
                self.percentile(0.99).as_secs_f64() * 1000.0
            );
        }
    }
}

/// Runs `flows` flows against `base` with `concurrency` clients at once. Each client is one
/// browser (one kept-alive connection through the lean client, `wire`) handed to `flow` and
/// back; `flow` says whether it succeeded.
pub async fn run_load<F, Fut>(base: &str, flows: usize, concurrency: usize, flow: F) -> Load
where
    F: Fn(Browser) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (Browser, bool)> + Send,
{
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let (base, flow) = (base.to_owned(), flow.clone());
        // Spread the flows exactly: the first `flows % concurrency` clients do one more.
        let n = flows / concurrency + usize::from(client < flows % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut b = Browser::lean(&base);
            let mut latencies = Vec::with_capacity(n);
            let mut errors = 0usize;
            for _ in 0..n {
                let t = std::time::Instant::now();
                let (back, ok) = flow(b).await;
                b = back;
                if ok {
                    latencies.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut load = Load {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        load.latencies.extend(l);
        load.errors += e;
    }
    load.elapsed = start.elapsed();
    load.latencies.sort();
    load
}

/// Where the server under measurement keeps its state: the embedded default (SQLite, sessions
/// in memory) or the production configuration (PostgreSQL and Redis).
pub struct BenchStore {
    env: Vec<(String, String)>,
    production: Option<Production>,
}

struct Production {
    schema: PgSchema,
    /// What the server's PostgreSQL connections call themselves, to find their backends.
    application_name: String,
    redis: PrivateRedis,
}

impl BenchStore {
    /// The store a tool's argument names: `sqlite` (the default) or `postgres` (PostgreSQL from
    /// TEST_POSTGRES_URL, `eval "$(scripts/services)"` sets it, and a Redis of the run's own).
    pub fn from_arg(arg: Option<&str>) -> BenchStore {
        match arg.unwrap_or("sqlite") {
            "sqlite" => BenchStore {
                env: vec![("OPENPOORT_SESSIONS_STORE".into(), "memory".into())],
                production: None,
            },
            "postgres" => {
                let application_name = format!("openpoort-bench-{}", std::process::id());
                let schema = PgSchema::create_in(BENCH_DATABASE);
                let redis = PrivateRedis::start();
                let url = format!("{}&application_name={application_name}", schema.url());
                BenchStore {
                    env: vec![
                        ("OPENPOORT_DATABASE_URL".into(), url),
                        ("OPENPOORT_SESSIONS_STORE".into(), "redis".into()),
                        ("OPENPOORT_SESSIONS_REDIS_URL".into(), redis.url()),
                        ("OPENPOORT_SESSIONS_REDIS_PREFIX".into(), "bench:".into()),
                    ],
                    production: Some(Production {
                        schema,
                        application_name,
                        redis,
                    }),
                }
            }
            other => panic!("the store is sqlite or postgres, not {other:?}"),
        }
    }

    /// The environment that puts a server or a command on this store.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn is_production(&self) -> bool {
        self.production.is_some()
    }

    /// `openpoort SUBCOMMAND` (`demo`, `serve`) in `dir` on this store, logging only errors.
    pub fn command(&self, dir: &Path, subcommand: &str) -> Command {
        let mut cmd = openpoort(dir);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("OPENPOORT_LOG_LEVEL", "error")
            .arg(subcommand);
        cmd
    }

    /// `openpoort ARGS` in `dir` on this store, which must succeed; its standard output.
    pub fn cli(&self, dir: &Path, args: &[&str]) -> String {
        let out = run(openpoort(dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args));
        assert!(
            out.status.success(),
            "openpoort {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// One line saying what the server runs on.
    pub fn describe(&self) -> String {
        match &self.production {
            None => "SQLite + in-memory sessions".into(),
            Some(p) => format!(
                "PostgreSQL + Redis (schema {} of database {BENCH_DATABASE}; a redis-server of the run's own, pid {})",
                p.schema.name(),
                p.redis.pid
            ),
        }
    }

    /// CPU time so far of each PostgreSQL backend serving the server.
    pub fn database_cpu(&self) -> BTreeMap<u32, Duration> {
        let Some(p) = &self.production else {
            return BTreeMap::new();
        };
        p.schema
            .backend_pids(&p.application_name)
            .into_iter()
            .filter_map(|pid| process_cpu(pid).ok().map(|t| (pid, t)))
            .collect()
    }

    /// What the server `pid` and its stores have used so far. CPU times are read first, the
    /// counts after [`STATS_FLUSH`]: taken after a load, the CPU then holds no idle time and the
    /// counts every flow; taken before one, the wait lets the warm-up's counts arrive first.
    pub fn snapshot(&self, pid: u32) -> Snapshot {
        let server = process_cpu(pid).expect("the server's CPU time");
        let database = self.database_cpu();
        let redis_cpu = self
            .production
            .as_ref()
            .map(|p| process_cpu(p.redis.pid).expect("redis-server's CPU time"));
        let (pg, redis) = match &self.production {
            None => (None, None),
            Some(p) => {
                std::thread::sleep(STATS_FLUSH);
                (Some(pg_counts(&p.schema)), Some(p.redis.counts()))
            }
        };
        Snapshot {
            server,
            database,
            redis_cpu,
            pg,
            redis,
            load_average: load_average(),
        }
    }
}

/// The machine's load average over the last minute, from /proc/loadavg: other engineers' builds
/// share the two cores, which shows in flows per second and latency, not in CPU per flow.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Counters at one moment; two of them give a run's [`Usage`].
pub struct Snapshot {
    server: Duration,
    database: BTreeMap<u32, Duration>,
    redis_cpu: Option<Duration>,
    pg: Option<PgCounts>,
    redis: Option<RedisCounts>,
    load_average: f64,
}

#[derive(Default, Clone)]
struct PgCounts {
    commits: u64,
    rollbacks: u64,
    tables: BTreeMap<String, TableCounts>,
}

#[derive(Default, Clone, Copy)]
struct TableCounts {
    sequential: u64,
    index: u64,
    written: u64,
}

/// The database's committed and rolled-back transactions, and per table of the schema its
/// sequential and index scans and rows inserted, updated or deleted.
fn pg_counts(schema: &PgSchema) -> PgCounts {
    let sql = format!(
        "SELECT 'db', xact_commit, xact_rollback, 0 FROM pg_stat_database WHERE datname = current_database() \
         UNION ALL SELECT relname, coalesce(seq_scan, 0), coalesce(idx_scan, 0), n_tup_ins + n_tup_upd + n_tup_del \
         FROM pg_stat_user_tables WHERE schemaname = '{}'",
        schema.name()
    );
    let out = Command::new("psql")
        .args([
            schema.admin_url(),
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtF",
            "\t",
            "-c",
            &sql,
        ])
        .output()
        .expect("psql (the PostgreSQL client) runs");
    assert!(out.status.success(), "psql: {}", text(&out.stderr));
    let mut counts = PgCounts::default();
    for line in text(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let n = |i: usize| -> u64 {
            f.get(i)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("a count in {line:?}"))
        };
        if f[0] == "db" {
            counts.commits = n(1);
            counts.rollbacks = n(2);
        } else {
            counts.tables.insert(
                f[0].to_owned(),
                TableCounts {
                    sequential: n(1),
                    index: n(2),
                    written: n(3),
                },
            );
        }
    }
    counts
}

#[derive(Default, Clone)]
struct RedisCounts {
    /// Calls per command (INFO commandstats), the tool's own INFO left out.
    commands: BTreeMap<String, u64>,
    /// Read events on client connections (INFO stats `total_reads_processed`): a pipeline or a
    /// MULTI/EXEC block sent at once arrives in one, so this counts round trips.
    reads: u64,
}

/// A redis-server of the run's own on a free port, without persistence: its CPU time and its
/// command counts are then the server's alone, not those of tests running at the same time.
struct PrivateRedis {
    child: Child,
    port: u16,
    pid: u32,
    info: Mutex<BufReader<TcpStream>>,
}

impl PrivateRedis {
    fn start() -> PrivateRedis {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server runs (scripts/services installs it)");
            for _ in 0..50 {
                if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                    let mut redis = PrivateRedis {
                        pid: child.id(),
                        child,
                        port,
                        info: Mutex::new(BufReader::new(stream)),
                    };
                    let server = redis.info("server");
                    redis.pid = field(&server, "process_id").expect("INFO server: process_id");
                    return redis;
                }
                if child.try_wait().ok().flatten().is_some() {
                    // It ended: most likely another process took the port meanwhile.
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not listen on a free port in five tries");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// `INFO sections` over the tool's one connection (one command and one read event each).
    fn info(&self, sections: &str) -> String {
        let mut conn = self.info.lock().unwrap_or_else(|e| e.into_inner());
        conn.get_mut()
            .write_all(format!("INFO {sections}\r\n").as_bytes())
            .expect("INFO sent to redis-server");
        let mut head = String::new();
        conn.read_line(&mut head).expect("INFO answered");
        let length: usize = head
            .strip_prefix('$')
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("INFO answered {head:?}"));
        let mut body = vec![0; length + 2];
        conn.read_exact(&mut body).expect("INFO's text");
        body.truncate(length);
        String::from_utf8(body).expect("INFO is text")
    }

    fn counts(&self) -> RedisCounts {
        let info = self.info("stats commandstats");
        let commands = info
            .lines()
            .filter_map(|l| l.strip_prefix("cmdstat_"))
            .filter_map(|l| {
                let (name, stats) = l.split_once(':')?;
                let calls = stats
                    .strip_prefix("calls=")?
                    .split(',')
                    .next()?
                    .parse()
                    .ok()?;
                Some((name.to_owned(), calls))
            })
            .filter(|(name, _)| name != "info")
            .collect();
        RedisCounts {
            commands,
            reads: field(&info, "total_reads_processed").expect("INFO stats: reads"),
        }
    }
}

fn field<T: std::str::FromStr>(info: &str, name: &str) -> Option<T> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a run cost between two snapshots.
pub struct Usage {
    pub server: Duration,
    pub database: Duration,
    pub redis: Duration,
    production: bool,
    pg: PgCounts,
    redis_counts: RedisCounts,
    load_average: (f64, f64),
}

impl Usage {
    pub fn between(before: &Snapshot, after: &Snapshot) -> Usage {
        let database = after
            .database
            .iter()
            .map(|(pid, t)| t.saturating_sub(before.database.get(pid).copied().unwrap_or_default()))
            .sum();
        let redis = match (before.redis_cpu, after.redis_cpu) {
            (Some(b), Some(a)) => a.saturating_sub(b),
            _ => Duration::ZERO,
        };
        let pg = match (&before.pg, &after.pg) {
            (Some(b), Some(a)) => PgCounts {
                commits: a.commits - b.commits,
                rollbacks: a.rollbacks - b.rollbacks,
                tables: a
                    .tables
                    .iter()
                    .map(|(name, t)| {
                        let was = b.tables.get(name).copied().unwrap_or_default();
                        (
                            name.clone(),
                            TableCounts {
                                sequential: t.sequential - was.sequential,
                                index: t.index - was.index,
                                written: t.written - was.written,
                            },
                        )
                    })
                    .collect(),
            },
            _ => PgCounts::default(),
        };
        let redis_counts = match (&before.redis, &after.redis) {
            (Some(b), Some(a)) => RedisCounts {
                commands: a
                    .commands
                    .iter()
                    .map(|(name, n)| (name.clone(), n - b.commands.get(name).unwrap_or(&0)))
                    .filter(|(_, n)| *n > 0)
                    .collect(),
                // The tool's own INFO after the run is one read event.
                reads: (a.reads - b.reads).saturating_sub(1),
            },
            _ => RedisCounts::default(),
        };
        Usage {
            server: after.server.saturating_sub(before.server),
            database,
            redis,
            production: after.pg.is_some(),
            pg,
            redis_counts,
            load_average: (before.load_average, after.load_average),
        }
    }

    /// CPU time per flow of openpoort and, on the production configuration, PostgreSQL and Redis.
    pub fn cpu_per_flow(&self, flows: usize) -> Duration {
        (self.server + self.database + self.redis) / flows.max(1) as u32
    }

    /// Prints CPU and counts per flow, for `flows` successful flows.
    pub fn report(&self, flows: usize) {
        let per = |n: u64| n as f64 / flows.max(1) as f64;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / flows.max(1) as f64;
        println!(
            "load average (1 min) {:.2} before, {:.2} after",
            self.load_average.0, self.load_average.1
        );
        if !self.production {
            println!(
                "server CPU per flow: {:.3} ms (openpoort, with SQLite inside it)",
                ms(self.server)
            );
            return;
        }
        println!(
            "server CPU per flow: {:.3} ms (openpoort {:.3} + PostgreSQL {:.3} + Redis {:.3})",
            ms(self.server + self.database + self.redis),
            ms(self.server),
            ms(self.database),
            ms(self.redis)
        );
        let tables = self.pg.tables.values();
        let (sequential, index, written) = tables.fold((0, 0, 0), |(s, i, w), t| {
            (s + t.sequential, i + t.index, w + t.written)
        });
        println!(
            "PostgreSQL per flow: {:.2} transactions ({:.2} committed, {:.2} rolled back; a statement outside a transaction is one), \
             {:.2} table scans ({:.2} sequential, {:.2} by index), {:.2} rows written \
             [pg_stat_database, pg_stat_user_tables; pg_stat_statements needs a server restart to load]",
            per(self.pg.commits + self.pg.rollbacks),
            per(self.pg.commits),
            per(self.pg.rollbacks),
            per(sequential + index),
            per(sequential),
            per(index),
            per(written),
        );
        let busy: Vec<String> = self
            .pg
            .tables
            .iter()
            .filter(|(_, t)| t.sequential + t.index + t.written > 0)
            .map(|(name, t)| {
                format!(
                    "{name} {:.2}/{:.2}/{:.2}",
                    per(t.sequential),
                    per(t.index),
                    per(t.written)
                )
            })
            .collect();
        if !busy.is_empty() {
            println!(
                "  per table (sequential/index scans/rows written): {}",
                busy.join(", ")
            );
        }
        let total: u64 = self.redis_counts.commands.values().sum();
        let mut by_command: Vec<(&String, &u64)> = self.redis_counts.commands.iter().collect();
        by_command.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        println!(
            "Redis per flow: {:.2} commands in {:.2} round trips (read events) [INFO commandstats, INFO stats]: {}",
            per(total),
            per(self.redis_counts.reads),
            by_command
                .iter()
                .map(|(name, n)| format!("{name} {:.2}", per(**n)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Runs `flows` flows with `concurrency` clients against the server `pid` at `base` (see
/// [`run_load`]) and measures what they cost it on `store`.
pub async fn measured_load<F, Fut>(
    store: &BenchStore,
    pid: u32,
    base: &str,
    flows: usize,
    concurrency: usize,
    flow: F,
) -> (Load, Usage)
where
    F: Fn(Browser) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (Browser, bool)> + Send,
{
    let before = store.snapshot(pid);
    let load = run_load(base, flows, concurrency, flow).await;
    let after = store.snapshot(pid);
    (load, Usage::between(&before, &after))
}

/// Prints what a run of `what` measured on `store`.
pub fn report(store: &BenchStore, what: &str, load: &Load, usage: &Usage) {
    println!("store: {}", store.describe());
    load.report(what);
    usage.report(load.latencies.len());
}

/// The demo school's ten pupils: group, name as the name list shows it, own picture (the demo
/// gives them the catalogue in order).
pub const DEMO_PUPILS: [(&str, &str, &str); 10] = [
    ("Groep 1/2 Egeltjes", "Sem B.", "zon"),
    ("Groep 1/2 Egeltjes", "Noor J.", "maan"),
    ("Groep 3 Vossen", "Daan V.", "ster"),
    ("Groep 3 Vossen", "Julia D.", "hart"),
    ("Groep 5 Uilen", "Finn S.", "boom"),
    ("Groep 5 Uilen", "Emma M.", "bloem"),
    ("Groep 5 Uilen", "Liam B.", "vis"),
    ("Groep 8 Dassen", "Tess M.", "huis"),
    ("Groep 8 Dassen", "Lucas B.", "auto"),
    ("Groep 8 Dassen", "Zoë D.", "boot"),
];

/// The demo's pupils signing in at school in turn, as a classroom does, for load tools.
///
/// openpoort reserves a place among a pupil's three wrong pictures before it compares the
/// picture, and the picture page is refused while three are taken, so more than three logins
/// of one pupil at the same moment are refused (429) however right they are. One pupil does not
/// log in many times at once; a load tool that made every client the same pupil measured that
/// refusal (it did on Redis, where the reservation spans round trips). So the logins take the
/// ten pupils in turn, and at most three of one pupil are past the name list at a time.
pub struct DemoPupils {
    next: std::sync::atomic::AtomicUsize,
    slots: Vec<tokio::sync::Semaphore>,
}

impl Default for DemoPupils {
    fn default() -> DemoPupils {
        DemoPupils {
            next: Default::default(),
            slots: DEMO_PUPILS
                .iter()
                .map(|_| tokio::sync::Semaphore::new(3))
                .collect(),
        }
    }
}

impl DemoPupils {
    /// The next pupil signs in through `shortcut` (`/s/{INSTELLING_REF}`): groups, names,
    /// pictures, picture. True when a session was opened.
    pub async fn log_in(&self, b: &mut Browser, shortcut: &str) -> bool {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % DEMO_PUPILS.len();
        let (group, name, picture) = DEMO_PUPILS[i];
        let steps = async {
            let groups = b.get(shortcut).await;
            let names = b.get(&groups.link_to(group)?).await;
            let index = names.form_with(name)?;
            let _slot = self.slots[i].acquire().await.ok()?;
            let pictures = b.submit_form(&names, index, &[]).await;
            let chosen = pictures.form_with(&format!("alt=\"{picture}\""))?;
            Some(b.submit_form(&pictures, chosen, &[]).await.status == 303)
        };
        steps.await.unwrap_or(false)
    }
}
