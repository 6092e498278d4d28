//! The operator's command line: bad input is refused with the rule, good input lands.

use std::path::Path;

use openpoort_e2e::{openpoort, run, text};

/// Runs an operator command that must succeed; returns its standard output.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(openpoort(dir).args(args));
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Board 41234, school 12AB00 and publisher `uitgeverij-noord`.
fn school_and_publisher(dir: &Path) {
    ok(
        dir,
        &[
            "board",
            "add",
            "--bestuursnummer",
            "41234",
            "--name",
            "Stichting Noord",
        ],
    );
    let added = ok(
        dir,
        &[
            "school",
            "add",
            "--bestuursnummer",
            "41234",
            "--brin",
            "12AB",
            "--vestigingscode",
            "00",
            "--name",
            "De Regenboog",
        ],
    );
    assert!(added.contains("INSTELLING_REF: "), "{added}");
    ok(
        dir,
        &[
            "party",
            "add",
            "--code",
            "uitgeverij-noord",
            "--kind",
            "uitgeverij",
            "--name",
            "Uitgeverij Noord",
        ],
    );
}

#[test]
fn invalid_brin_is_refused_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(openpoort(dir.path()).args([
        "school",
        "add",
        "--bestuursnummer",
        "41234",
        "--brin",
        "1ZAB",
        "--vestigingscode",
        "00",
        "--name",
        "De Regenboog",
    ]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("BRIN \"1ZAB\""), "{err}");
    assert!(
        err.contains("2 cijfers gevolgd door 2 hoofdletters"),
        "{err}"
    );
    assert!(
        err.contains("2 digits followed by 2 capital letters"),
        "{err}"
    );
}

#[test]
fn invalid_vestigingscode_and_cidr_are_refused_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(openpoort(dir.path()).args([
        "school",
        "add",
        "--bestuursnummer",
        "41234",
        "--brin",
        "12AB",
        "--vestigingscode",
        "A1",
        "--name",
        "X",
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("vestigingscode \"A1\""),
        "{}",
        text(&out.stderr)
    );

    let out = run(openpoort(dir.path()).args([
        "ip-range",
        "add",
        "--school",
        "12AB00",
        "--cidr",
        "10.0.0.0/33",
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("prefix hoogstens 32"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_config_key_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("openpoort.toml"),
        "[server]\nlistn = \"127.0.0.1:9\"\n",
    )
    .unwrap();
    let out = run(openpoort(dir.path()).args(["--config", "openpoort.toml", "serve"]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("unknown key `server.listn`"), "{err}");
}

#[test]
fn unknown_openpoort_environment_variable_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(openpoort(dir.path())
        .env("OPENPOORT_SERVER_LISTN", "x")
        .arg("serve"));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("OPENPOORT_SERVER_LISTN"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn production_mode_refuses_to_start_without_a_key_encryption_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(openpoort(dir.path())
        .env("OPENPOORT_SERVER_MODE", "production")
        .env("OPENPOORT_SERVER_PUBLIC_URL", "https://login.example.nl")
        .arg("serve"));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("keys.kek") && err.contains("OPENPOORT_KEYS_KEK"),
        "{err}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing may be created before the refusal"
    );
}

#[test]
fn operator_builds_a_school_with_range_party_product_licence_and_consent() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &str| ok(dir.path(), &args.split(' ').collect::<Vec<_>>());
    school_and_publisher(dir.path());
    ok("ip-range add --school 12AB00 --cidr 192.0.2.0/24 --label hoofdgebouw");
    ok("ip-range add --school 12AB00 --cidr 2001:db8::/48");
    ok(
        "product add --party uitgeverij-noord --code taal --methode Taalzee --name Taalzee-5 --launch-url https://taalzee.example/start --home-allowed",
    );
    ok(
        "licence add --school 12AB00 --party uitgeverij-noord --product taal --from 2026-08-01 --until 2027-07-31",
    );
    ok("consent grant --school 12AB00 --party uitgeverij-noord");

    assert_eq!(ok("ip-range list --school 12AB00").lines().count(), 2);
    assert!(
        ok("licence list --school 12AB00").contains("taal  2026-08-01 t/m 2027-07-31  hele school")
    );
    assert!(ok("consent list --school 12AB00").contains("geldig"));

    // A duplicate is refused and names the field; the register is unchanged.
    let out = run(openpoort(dir.path()).args([
        "school",
        "add",
        "--bestuursnummer",
        "41234",
        "--brin",
        "12AB",
        "--vestigingscode",
        "00",
        "--name",
        "Nog eens",
    ]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("BRIN + vestigingscode \"12AB00\" is al in gebruik"),
        "{err}"
    );
    assert_eq!(ok("school list").lines().count(), 1);
}

#[test]
fn release_policy_and_audit_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &str| ok(dir.path(), &args.split(' ').collect::<Vec<_>>());
    school_and_publisher(dir.path());
    ok("party allow-attribute --party uitgeverij-noord --attribute given_name");
    let listing = ok("party attributes --party uitgeverij-noord");
    assert!(
        listing.contains("given_name") && listing.contains("givenName"),
        "{listing}"
    );
    assert!(!listing.contains("eck_id"), "{listing}");

    // Default attributes are not a policy choice, and unknown names are refused.
    for bad in ["subject", "bsn"] {
        let out = run(openpoort(dir.path()).args([
            "party",
            "allow-attribute",
            "--party",
            "uitgeverij-noord",
            "--attribute",
            bad,
        ]));
        assert!(!out.status.success(), "{bad} accepted");
        assert!(text(&out.stderr).contains(bad), "{}", text(&out.stderr));
    }

    ok("school home-login --school 12AB00 off");
    let log = ok("audit list --school 12AB00");
    assert!(
        log.contains("school.home_login") && log.contains("school.create"),
        "{log}"
    );
    assert!(
        ok("audit list --school 12AB00 --releases")
            .trim()
            .is_empty()
    );
    assert!(ok("audit purge").contains("0 auditregels"));
}
