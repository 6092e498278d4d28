//! The operator's school changes through the real binary: DUO's list, a merge and a split.

use std::path::Path;

use openpoort_e2e::{openpoort, run, text};

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(openpoort(dir).args(args));
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn refused(dir: &Path, args: &[&str]) -> String {
    let out = run(openpoort(dir).args(args));
    assert!(
        !out.status.success(),
        "{args:?} should fail: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// DUO's older header set, Windows-1252, CRLF, one quoted name with a semicolon.
fn duo_file(dir: &Path) -> String {
    let bytes = b"PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM\r\n\
        Utrecht;99999;99ZZ;99ZZ00;Voorbeeldschool;UTRECHT\r\n\
        Utrecht;99999;99ZZ;99ZZ01;\"Dependance; De Br\xfcgge\";UTRECHT\r\n\
        Friesland;41234;12AB;12AB00;Caf\xe9 No\xebl;LJOUWERT\r\n"
        .to_vec();
    let path = dir.join("vestigingen.csv");
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn duo_list_then_merge_and_split_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = duo_file(d);

    let dry = ok(d, &["import", "duo", &file, "--dry-run"]);
    assert!(
        dry.contains("nieuwe school / new school 12AB00 Café Noël"),
        "{dry}"
    );
    assert!(
        ok(d, &["school", "list"]).trim().is_empty(),
        "a dry run creates nothing"
    );
    let applied = ok(d, &["import", "duo", &file]);
    assert!(applied.contains("3 nieuw / added"), "{applied}");
    let list = ok(d, &["school", "list"]);
    assert!(
        list.contains("Café Noël") && list.contains("Dependance; De Brügge"),
        "{list}"
    );

    // A list with a bad row is refused whole, naming line and column; nothing changes.
    let bad = d.join("fout.csv");
    std::fs::write(
        &bad,
        "INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGDGEZAGNUMMER\n\
         99ZZ;99ZZ00;Nieuwe naam;99999\n\
         9ZZZ;00;Kapot;99999\n",
    )
    .unwrap();
    let err = refused(d, &["import", "duo", bad.to_str().unwrap()]);
    assert!(
        err.contains("regel 3, kolom INSTELLINGSCODE")
            && err.contains("line 3, column INSTELLINGSCODE"),
        "{err}"
    );
    assert_eq!(ok(d, &["school", "list"]), list);

    // Merge 99ZZ00 (with the example file's pupils) into 99ZZ01.
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/edexml-2.1/EDEXML.Voorbeeld.2.1.xml");
    let example = example.to_str().unwrap();
    ok(d, &["import", "edexml", example]);
    let dry = ok(
        d,
        &[
            "school",
            "merge",
            "--from",
            "99ZZ00",
            "--into",
            "99ZZ01",
            "--dry-run",
        ],
    );
    assert!(
        dry.contains("leerlingen / pupils (2): 00001, 00002"),
        "{dry}"
    );
    assert!(
        !ok(d, &["school", "list"]).contains("merged into"),
        "a dry run merges nothing"
    );
    let merged = ok(
        d,
        &["school", "merge", "--from", "99ZZ00", "--into", "99ZZ01"],
    );
    assert!(merged.contains("(toegepast / applied)"), "{merged}");
    assert!(ok(d, &["school", "list"]).contains("merged into 99ZZ01"));
    let err = refused(d, &["import", "edexml", example]);
    assert!(err.contains("99ZZ00 is samengevoegd met 99ZZ01"), "{err}");
    let again = refused(
        d,
        &["school", "merge", "--from", "99ZZ00", "--into", "99ZZ01"],
    );
    assert!(again.contains("already been merged"), "{again}");

    // Split the moved class GRP4B (and the combined groups of its pupil) into a new location.
    let err = refused(
        d,
        &[
            "school", "split", "--from", "99ZZ01", "--to", "99ZZ02", "--name", "Zuid", "--group",
            "GRP4B",
        ],
    );
    assert!(
        err.contains("\"sg1\"") && err.contains("\"sg2\""),
        "combined groups of the pupil are named: {err}"
    );
    let split = ok(
        d,
        &[
            "school", "split", "--from", "99ZZ01", "--to", "99ZZ02", "--name", "Zuid", "--group",
            "GRP4B", "--group", "sg1", "--group", "sg2",
        ],
    );
    assert!(split.contains("leerlingen / pupils (1): 00001"), "{split}");
    assert!(
        split.contains("leerlingen zonder groep blijven op 99ZZ01"),
        "{split}"
    );
    assert!(ok(d, &["school", "list"]).contains("99ZZ02"));
    let audit = ok(d, &["audit", "list", "--school", "99ZZ02"]);
    assert!(
        audit.contains("school.split") && audit.contains("school.create"),
        "{audit}"
    );
}
