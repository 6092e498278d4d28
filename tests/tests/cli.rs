//! The operator's command line: bad input is refused with the rule, good input lands.

use std::path::Path;

use openpoort_e2e::{cli_ok, openpoort, run, text};

/// Board 41234, school 12AB00 and publisher `uitgeverij-noord`.
fn school_and_publisher(dir: &Path) {
    cli_ok(
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
    let added = cli_ok(
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
    cli_ok(
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
    let ok = |args: &str| cli_ok(dir.path(), &args.split(' ').collect::<Vec<_>>());
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
    let ok = |args: &str| cli_ok(dir.path(), &args.split(' ').collect::<Vec<_>>());
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

#[test]
fn edexml_import_shows_the_difference_applies_it_and_mails_new_teachers() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
    assert!(
        example.exists(),
        "{} is missing: shared/ must sit beside the checkout",
        example.display()
    );
    let ok = |args: &[&str]| cli_ok(dir.path(), args);
    ok(&[
        "board",
        "add",
        "--bestuursnummer",
        "99999",
        "--name",
        "Stichting",
    ]);
    ok(&[
        "school",
        "add",
        "--bestuursnummer",
        "99999",
        "--brin",
        "99ZZ",
        "--vestigingscode",
        "00",
        "--name",
        "Voorbeeldschool",
    ]);
    let file = example.to_str().unwrap();

    let dry = ok(&["import", "edexml", file, "--dry-run"]);
    assert!(
        dry.contains("proefimport") && dry.contains("leerlingen / pupils: "),
        "{dry}"
    );
    assert!(
        !dir.path().join("data/outbox").exists(),
        "a dry run mails nobody"
    );
    let applied = ok(&["import", "edexml", file]);
    assert_eq!(
        dry.lines()
            .filter(|l| l.contains("nieuw"))
            .collect::<Vec<_>>(),
        applied
            .lines()
            .filter(|l| l.contains("nieuw"))
            .collect::<Vec<_>>(),
        "the dry run foretold the apply"
    );
    // The example's teachers have no e-mail address, so nobody is mailed; a location whose
    // file has one (the project's complete 2.1 file, 99ZZ01) mails that teacher.
    assert!(
        !dir.path().join("data/outbox").exists(),
        "no address, no mail"
    );
    ok(&[
        "school",
        "add",
        "--bestuursnummer",
        "99999",
        "--brin",
        "99ZZ",
        "--vestigingscode",
        "01",
        "--name",
        "Dependance",
    ]);
    let complete = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../directory/tests/edexml/complete-2.1.xml");
    ok(&["import", "edexml", complete.to_str().unwrap()]);
    let mails: Vec<String> = std::fs::read_dir(dir.path().join("data/outbox"))
        .expect("an outbox")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "one teacher with an address");
    assert!(
        mails[0]
            .to_lowercase()
            .contains("j.vanbemmel@school.example.nl")
            && mails[0].contains("/activeren?token=")
    );
    let again = ok(&["import", "edexml", file]);
    assert!(
        again.contains(
            "leerlingen / pupils: 0 nieuw / added, 0 gewijzigd / changed, 0 verwijderd / removed"
        ),
        "{again}"
    );

    // A broken file is refused whole, with its problems, and changes nothing.
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&example)
            .unwrap()
            .replace("<jaargroep>4</jaargroep>", "<jaargroep>9</jaargroep>"),
    )
    .unwrap();
    let out = run(openpoort(dir.path()).args(["import", "edexml", broken.to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("jaargroep"),
        "{}",
        text(&out.stderr)
    );
    let after = ok(&["import", "edexml", file, "--dry-run"]);
    assert!(
        after.contains(
            "leerlingen / pupils: 0 nieuw / added, 0 gewijzigd / changed, 0 verwijderd / removed"
        ),
        "{after}"
    );
}

#[test]
fn a_typed_name_with_bidi_or_zero_width_characters_is_refused_and_adds_nobody() {
    let dir = tempfile::tempdir().unwrap();
    school_and_publisher(dir.path());
    for name in ["de Vries\u{202E}", "Jan\u{200B}sen"] {
        let out = run(openpoort(dir.path()).args([
            "staff",
            "add",
            "--school",
            "12AB00",
            "--email",
            "anna@school.nl",
            "--achternaam",
            name,
        ]));
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(
            err.contains("onzichtbare tekens") && err.contains("invisible characters"),
            "{err}"
        );
    }
    // Nobody was added: the address is still free for the corrected name.
    cli_ok(
        dir.path(),
        &[
            "staff",
            "add",
            "--school",
            "12AB00",
            "--email",
            "anna@school.nl",
            "--achternaam",
            "de Vries",
        ],
    );
}
