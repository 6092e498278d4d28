//! EDEXML import on PostgreSQL at the library level, phase by phase:
//!
//!     cargo run --release -p openpoort-e2e --bin import-bench -- [PUPILS]...
//!
//! For each size (default 1000 and 50000) it generates a school with `edexml_gen`, opens a fresh
//! schema in `TEST_POSTGRES_URL` (as the register tests do; `eval "$(scripts/services)"` sets
//! it), registers the school, and times: parse and validate, then a first import and an
//! unchanged re-import, each split into reading and comparing, writing, and committing.

use std::time::{Duration, Instant};

use directory::edexml::{Limits, parse};
use directory::import::ImportReport;
use directory::model::{Bestuursnummer, Brin, Vestigingscode};
use directory::schools::NewSchool;
use directory::{Actor, Directory};
use openpoort_e2e::edexml_gen::{Args, generate_bytes};

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn line(what: &str, total: Duration, r: &ImportReport) {
    println!(
        "  {what:<18} {:>9}  (read + diff {}, write {}, commit {}; pupils +{} ~{} -{}, staff +{})",
        ms(total),
        ms(r.timings.read_and_diff),
        ms(r.timings.write),
        ms(r.timings.commit),
        r.pupils.added.len(),
        r.pupils.changed.len(),
        r.pupils.removed.len(),
        r.staff.added.len(),
    );
}

async fn school(d: &Directory) {
    let op = Actor::system("import-bench");
    let nummer = Bestuursnummer::parse("99999").expect("bestuursnummer");
    d.create_board(&nummer, "Stichting Benchmark", &op)
        .await
        .expect("board");
    d.create_school(
        &NewSchool {
            bestuursnummer: nummer,
            brin: Brin::parse("99ZZ").expect("brin"),
            vestigingscode: Vestigingscode::parse("00").expect("vestigingscode"),
            name: "Benchmarkschool".into(),
        },
        &op,
    )
    .await
    .expect("school");
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = {
        let given: Vec<usize> = std::env::args()
            .skip(1)
            .map(|a| a.parse().expect("PUPILS is a positive number"))
            .collect();
        if given.is_empty() {
            vec![1_000, 50_000]
        } else {
            given
        }
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores; PostgreSQL from TEST_POSTGRES_URL");
    let op = Actor::system("import-bench");
    for pupils in sizes {
        let bytes = generate_bytes(&Args {
            pupils,
            seed: 1,
            brin: "99ZZ".into(),
            vestiging: "00".into(),
        });
        let (d, schema) = directory::testing::postgres().await;
        school(&d).await;

        let started = Instant::now();
        let snapshot = parse(&bytes, &Limits::default()).unwrap_or_else(|p| panic!("{p}"));
        let parsing = started.elapsed();
        println!(
            "{pupils} pupils, {} teachers, {} groups ({:.1} MB):",
            snapshot.teachers.len(),
            snapshot.groups.len() + snapshot.combined_groups.len(),
            bytes.len() as f64 / 1e6
        );
        println!("  parse + validate   {:>9}", ms(parsing));

        let started = Instant::now();
        let first = d
            .import_snapshot(&snapshot, false, &op)
            .await
            .expect("first import");
        let first_time = started.elapsed();
        line("first import", first_time, &first);
        println!("  = file to register {:>9}", ms(parsing + first_time));

        let started = Instant::now();
        let again = d
            .import_snapshot(&snapshot, false, &op)
            .await
            .expect("re-import");
        line("unchanged again", started.elapsed(), &again);
        assert!(again.pupils.added.is_empty() && again.pupils.changed.is_empty());

        d.close().await;
        schema.drop().await;
    }
}
