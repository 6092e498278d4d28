//! LAS links from the operator's command line, against a LAS played by a thread of this test.

use std::path::Path;

use openpoort_e2e::{cli_ok, fake_las as las, openpoort, run, text};

#[test]
fn las_link_is_added_switched_on_and_pulled_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| cli_ok(dir.path(), args);
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml"),
    )
    .expect("shared/ must sit beside the checkout");
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
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, "geheim-123\n").unwrap();
    let key = key_file.to_str().unwrap();

    // Plain HTTP to another machine would carry the key in the clear.
    let out = run(openpoort(dir.path()).args([
        "las",
        "add",
        "--school",
        "99ZZ00",
        "--vendor",
        "parnassys",
        "--endpoint",
        "http://las.example.nl/edexml",
        "--key-file",
        key,
    ]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("alleen https://"),
        "{}",
        text(&out.stderr)
    );

    let endpoint = las("geheim-123", example);
    ok(&[
        "las",
        "add",
        "--school",
        "99ZZ00",
        "--vendor",
        "parnassys",
        "--endpoint",
        &endpoint,
        "--key-file",
        key,
    ]);
    let list = ok(&["las", "list"]);
    assert!(
        list.contains("99ZZ00") && list.contains(" off ") && list.contains("unknown"),
        "{list}"
    );
    assert!(!list.contains("geheim-123"));

    let out = run(openpoort(dir.path()).args(["las", "pull", "--school", "99ZZ00"]));
    assert!(!out.status.success(), "switched off: not pulled");
    assert!(
        text(&out.stderr).contains("staat uit"),
        "{}",
        text(&out.stderr)
    );

    ok(&["las", "switch", "--school", "99ZZ00", "on"]);
    let dry = ok(&["las", "pull", "--school", "99ZZ00", "--dry-run"]);
    assert!(dry.contains("proefimport"), "{dry}");
    let pulled = ok(&["las", "pull", "--school", "99ZZ00"]);
    assert!(
        pulled.contains("toegepast") && pulled.contains("leerlingen / pupils: 2 nieuw"),
        "{pulled}"
    );
    let list = ok(&["las", "list"]);
    assert!(
        list.contains("accepted") && list.contains(" yes ") && list.contains(" ok "),
        "{list}"
    );

    // A new key the LAS does not know: refused, reported, nothing changed.
    std::fs::write(&key_file, "verkeerd").unwrap();
    ok(&["las", "set-key", "--school", "99ZZ00", "--key-file", key]);
    let out = run(openpoort(dir.path()).args(["las", "pull", "--school", "99ZZ00"]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("weigert de autorisatiesleutel"),
        "{}",
        text(&out.stderr)
    );
    let list = ok(&["las", "list"]);
    assert!(list.contains("refused") && list.contains(" no "), "{list}");
    let audit = ok(&["audit", "list", "--school", "99ZZ00"]);
    assert!(
        audit.contains("las.pull_failed") && !audit.contains("verkeerd"),
        "{audit}"
    );
}
