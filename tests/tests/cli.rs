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

/// The network provider `moo` beside school 12AB00 and publisher `uitgeverij-noord`.
fn network_provider(dir: &Path) {
    school_and_publisher(dir);
    cli_ok(
        dir,
        &[
            "party",
            "add",
            "--code",
            "moo",
            "--kind",
            "network_provider",
            "--name",
            "MOO Netwerk",
        ],
    );
}

const MOO_IDP: &str = "https://moo.example/idp";

/// `openpoort ARGS` that must fail; its standard error.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = run(openpoort(dir).args(args));
    assert!(
        !out.status.success(),
        "openpoort {args:?} succeeded: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// A metadata host played by a thread of the test: every request gets what `body` holds then.
fn metadata_host(body: std::sync::Arc<std::sync::Mutex<String>>) -> String {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/idp-metadata", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let body = body.lock().unwrap().clone();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_network_provider_is_connected_over_saml_from_a_file_shown_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    network_provider(dir.path());
    let (_, cert) = openpoort_e2e::self_signed("moo idp");
    let file = dir.path().join("moo.xml");
    std::fs::write(&file, openpoort_e2e::idp_metadata(MOO_IDP, &cert, None)).unwrap();
    let file = file.to_str().unwrap();
    let connected = cli_ok(
        dir.path(),
        &[
            "party",
            "upstream-saml",
            "--party",
            "moo",
            "--metadata-file",
            file,
            "--match-by",
            "las_key",
            "--identifier",
            "lasKey",
            "--school-attribute",
            "brinVestiging",
            "--no-unsolicited",
        ],
    );
    assert!(connected.contains(MOO_IDP), "{connected}");
    assert!(connected.contains("/saml/sp/metadata"), "{connected}");
    let shown = cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]);
    for expected in [
        "protocol: saml",
        &format!("entityID: {MOO_IDP}"),
        "uit een bestand / from a file",
        "match by: las_key, identifier lasKey, school brinVestiging",
        "signed assertion required: ja / yes",
        "unsolicited Responses allowed: nee / no",
        "SP-metadata: http://localhost:8080/saml/sp/metadata",
        "ACS: http://localhost:8080/saml/acs",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    // Connected from a file, there is no URL to read again: refused, the connection stays.
    let err = refused(dir.path(), &["party", "upstream-refresh", "--party", "moo"]);
    assert!(
        err.contains("metadatabestand") && err.contains("metadata file"),
        "{err}"
    );
    assert_eq!(
        cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]),
        shown
    );

    let removed = cli_ok(dir.path(), &["party", "upstream-remove", "--party", "moo"]);
    assert!(removed.contains("verwijderd"), "{removed}");
    let after = cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]);
    assert!(after.contains("niet gekoppeld / not connected"), "{after}");
    assert!(!after.contains(MOO_IDP), "{after}");
    let err = refused(dir.path(), &["party", "upstream-remove", "--party", "moo"]);
    assert!(err.contains("netwerkaanbieder-koppeling"), "{err}");
}

#[test]
fn a_refused_saml_upstream_names_the_rule_and_connects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    network_provider(dir.path());
    let (_, cert) = openpoort_e2e::self_signed("moo idp");
    let unsigned = dir.path().join("moo.xml");
    std::fs::write(&unsigned, openpoort_e2e::idp_metadata(MOO_IDP, &cert, None)).unwrap();
    let unsigned = unsigned.to_str().unwrap();
    let (_, federation) = openpoort_e2e::self_signed("federatie");
    let pin = dir.path().join("federatie.pem");
    std::fs::write(&pin, federation.to_pem().unwrap()).unwrap();
    let pin = pin.to_str().unwrap();
    let garbage = dir.path().join("garbage.xml");
    std::fs::write(&garbage, "<html>not metadata</html>").unwrap();
    let garbage = garbage.to_str().unwrap();
    let saml = |party: &'static str, file: &'static str| {
        vec![
            "party",
            "upstream-saml",
            "--party",
            party,
            "--metadata-file",
            file,
        ]
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            [saml("uitgeverij-noord", "F"), vec!["--match-by", "eck_id"]].concat(),
            "geen netwerkaanbieder",
        ),
        (
            [saml("moo", "F"), vec!["--match-by", "las_key"]].concat(),
            "LAS-sleutel",
        ),
        (
            [saml("moo", "F"), vec!["--match-by", "email"]].concat(),
            "nooit e-mail",
        ),
        (
            [saml("moo", "G"), vec!["--match-by", "eck_id"]].concat(),
            "metadata van de netwerkaanbieder is niet bruikbaar",
        ),
        (
            [
                saml("moo", "F"),
                vec!["--match-by", "eck_id", "--metadata-certificate", "P"],
            ]
            .concat(),
            "metadata van de netwerkaanbieder is niet bruikbaar",
        ),
        (
            [saml("nobody", "F"), vec!["--match-by", "eck_id"]].concat(),
            "nobody",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args
            .into_iter()
            .map(|a| match a {
                "F" => unsigned,
                "G" => garbage,
                "P" => pin,
                other => other,
            })
            .collect();
        let err = refused(dir.path(), &args);
        assert!(err.contains(expected), "{args:?}: {expected} in {err}");
        let shown = cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]);
        assert!(shown.contains("niet gekoppeld"), "{args:?}: {shown}");
    }
    // The same metadata signed by the pinned key is taken.
    let (federation_key, federation) = openpoort_e2e::self_signed("federatie 2");
    std::fs::write(dir.path().join("f2.pem"), federation.to_pem().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("signed.xml"),
        openpoort_e2e::idp_metadata(MOO_IDP, &cert, Some((&federation_key, &federation))),
    )
    .unwrap();
    cli_ok(
        dir.path(),
        &[
            "party",
            "upstream-saml",
            "--party",
            "moo",
            "--metadata-file",
            dir.path().join("signed.xml").to_str().unwrap(),
            "--match-by",
            "eck_id",
            "--metadata-certificate",
            dir.path().join("f2.pem").to_str().unwrap(),
        ],
    );
    let shown = cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]);
    assert!(
        shown.contains("metadata certificate pinned: ja / yes"),
        "{shown}"
    );
}

#[test]
fn a_saml_upstream_from_a_url_is_refreshed_and_a_failed_refresh_keeps_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    network_provider(dir.path());
    let (_, cert) = openpoort_e2e::self_signed("moo idp");
    let body = std::sync::Arc::new(std::sync::Mutex::new(openpoort_e2e::idp_metadata(
        MOO_IDP, &cert, None,
    )));
    let url = metadata_host(body.clone());
    cli_ok(
        dir.path(),
        &[
            "party",
            "upstream-saml",
            "--party",
            "moo",
            "--metadata-url",
            &url,
            "--match-by",
            "partner_number",
        ],
    );
    let refreshed = cli_ok(dir.path(), &["party", "upstream-refresh", "--party", "moo"]);
    assert!(refreshed.contains(MOO_IDP), "{refreshed}");
    // The provider now publishes another entityID under the same URL: refused and put on
    // record; the metadata verified before stays in use.
    *body.lock().unwrap() = openpoort_e2e::idp_metadata("https://elders.example/idp", &cert, None);
    let err = refused(dir.path(), &["party", "upstream-refresh", "--party", "moo"]);
    assert!(err.contains("niet bruikbaar"), "{err}");
    let shown = cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]);
    assert!(shown.contains(&format!("entityID: {MOO_IDP}")), "{shown}");
    assert!(shown.contains(&format!("metadata: {url}")), "{shown}");
    assert!(shown.contains("LAST REFRESH FAILED"), "{shown}");
}

#[test]
fn an_oidc_upstream_takes_its_secret_from_a_file_or_the_environment_and_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    network_provider(dir.path());
    let oidc = [
        "party",
        "upstream-oidc",
        "--party",
        "moo",
        "--issuer",
        "https://moo.example",
        "--client-id",
        "openpoort",
        "--auth",
        "client_secret_basic",
        "--match-by",
        "eck_id",
        "--scope",
        "eckid",
    ];
    // A secret method without a secret stored or given: refused.
    let err = refused(dir.path(), &oidc);
    assert!(err.contains("client secret"), "{err}");
    // Never on the command line, where `ps` and the shell's history would show it.
    let err = refused(
        dir.path(),
        &[&oidc[..], &["--client-secret", "zichtbaar"]].concat(),
    );
    assert!(err.contains("--client-secret"), "{err}");
    assert!(
        cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"])
            .contains("niet gekoppeld")
    );

    // From the environment, which the configuration does not refuse as an unknown setting.
    let out = run(openpoort(dir.path())
        .args(oidc)
        .env("OPENPOORT_UPSTREAM_CLIENT_SECRET", "geheim-uit-env\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("geheim-uit-env"));
    let shown = cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"]);
    for expected in [
        "protocol: oidc",
        "issuer: https://moo.example",
        "client_id: openpoort",
        "auth: client_secret_basic",
        "scopes: openid eckid",
        "client secret opgeslagen / stored: ja / yes",
        "redirect URI: http://localhost:8080/login/netwerk/terug",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    assert!(!shown.contains("geheim"), "{shown}");
    // Reconnecting without a secret keeps the stored one; an empty one is refused.
    cli_ok(dir.path(), &oidc);
    assert!(
        cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"])
            .contains("stored: ja / yes")
    );
    let empty = dir.path().join("leeg");
    std::fs::write(&empty, "\n").unwrap();
    let err = refused(
        dir.path(),
        &[
            &oidc[..],
            &["--client-secret-file", empty.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(err.contains("is leeg"), "{err}");
    let file = dir.path().join("geheim");
    std::fs::write(&file, "geheim-uit-bestand\n").unwrap();
    let out = cli_ok(
        dir.path(),
        &[&oidc[..], &["--client-secret-file", file.to_str().unwrap()]].concat(),
    );
    assert!(out.contains("nieuw client secret opgeslagen"), "{out}");
    // An http issuer outside development is refused by the service; here it is an address
    // with a query, refused in every mode.
    let mut bad = oidc.to_vec();
    bad[5] = "https://moo.example/?tenant=1";
    let err = refused(dir.path(), &bad);
    assert!(err.contains("zonder ? of #"), "{err}");
    assert!(
        cli_ok(dir.path(), &["party", "upstream-show", "--party", "moo"])
            .contains("issuer: https://moo.example\n")
    );
}
