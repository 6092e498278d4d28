//! The partner API while the register's database is gone: an answer a publisher's client can act
//! on (503, a problem with Retry-After, never the generic internal error), and answers again
//! once the database is back, without a restart.

use std::time::{Duration, Instant};

use openpoort_e2e::link::Link;

use crate::common::{PartnerDemo, Register};

#[test]
fn a_lost_database_is_a_503_problem_with_retry_after_until_it_returns() {
    let admin = std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_POSTGRES_URL is not set: run the tests with scripts/test (README)");
    let link = Link::to_service(&admin);
    let demo = PartnerDemo::start_on(Register::PostgresThrough(&link));
    let listed = demo.get("/rest/v2/instellingen").ids();

    link.cut();
    let during = demo.get("/rest/v2/instellingen");
    assert_eq!(during.status, 503, "{}", during.body);
    assert_eq!(
        during.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        during.header("retry-after").is_some(),
        "{:?}",
        during.headers
    );
    assert_eq!(during.json()["type"], "urn:openpoort:problem:unavailable");

    link.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let after = demo.get("/rest/v2/instellingen");
        if after.status == 200 {
            assert_eq!(after.ids(), listed);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} 30 s after the database returned: {}",
            after.status,
            after.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
