//! The EDEXML reader: the reference examples, one complete file per version, and a named test
//! for every rule, each with a small hand-written file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use directory::edexml as reader;
use directory::edexml::{Limits, Problem, Problems, Snapshot};

fn parse(xml: &str) -> Result<Snapshot, Problems> {
    reader::parse(xml.as_bytes(), &Limits::default())
}

fn ok(xml: &str) -> Snapshot {
    match parse(xml) {
        Ok(s) => s,
        Err(p) => panic!("expected a clean file, got:\n{p}"),
    }
}

fn problems(xml: &str) -> Problems {
    match parse(xml) {
        Ok(s) => panic!("expected problems, got a snapshot: {s:#?}"),
        Err(p) => p,
    }
}

/// The single problem with `rule`; fails with the whole list otherwise.
fn only<'p>(p: &'p Problems, rule: &str) -> &'p Problem {
    let found: Vec<&Problem> = p.0.iter().filter(|x| x.rule == rule).collect();
    assert_eq!(found.len(), 1, "expected one {rule}, got:\n{p}");
    found[0]
}

fn assert_rules(p: &Problems, rules: &[&str]) {
    assert_eq!(p.rules(), rules, "\n{p}");
}

/// A file with the given school block and body (everything after `</school>`).
fn edex_with_school(school: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EDEX>\n<school>{school}</school>\n{body}\n</EDEX>\n"
    )
}

const SCHOOL: &str = "<schooljaar>2025-2026</schooljaar><peildatum>2025-10-01</peildatum>\
                      <brincode>99ZZ</brincode><dependancecode>00</dependancecode>\
                      <xsdversie>2.1</xsdversie>";

const GROUPS: &str = "<groepen>\
    <groep key=\"G3\"><naam>3A</naam><jaargroep>3</jaargroep></groep>\
    <samengestelde_groep key=\"PLUS\"><naam>Plusgroep</naam></samengestelde_groep>\
    </groepen>";

/// A 2.1 file with the standard school and groups, and these pupils and teachers.
fn edex(pupils: &str, teachers: &str) -> String {
    edex_with_school(
        SCHOOL,
        &format!("{GROUPS}\n<leerlingen>\n{pupils}\n</leerlingen>\n{teachers}"),
    )
}

fn pupil(key: &str, inner: &str) -> String {
    format!("<leerling key=\"{key}\">{inner}</leerling>")
}

const JANSEN: &str =
    "<achternaam>Jansen</achternaam><roepnaam>Piet</roepnaam><jaargroep>3</jaargroep>";

fn one_pupil() -> String {
    edex(&pupil("1", JANSEN), "")
}

fn reference_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference");
    assert!(
        dir.is_dir(),
        "the EDEXML reference files are missing: expected the folder shared/reference beside the \
         workspace ({}); CI and every developer machine have it",
        dir.display()
    );
    dir
}

fn reference(file: &str) -> Vec<u8> {
    let path = reference_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn own(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/edexml")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn keys<'a>(it: impl IntoIterator<Item = &'a directory::model::LasKey>) -> Vec<&'a str> {
    it.into_iter().map(|k| k.as_str()).collect()
}

/// The tests live in a module named after the reader, so that `cargo nextest run -p directory
/// edexml` selects them along with the unit tests of `directory::edexml`.
mod edexml {
    use super::*;

    // ----- the reference examples -----

    #[test]
    fn reference_example_2_0_parses_cleanly() {
        let s = reader::parse(
            &reference("edexml-2.0/EDEXML.Voorbeeld.2.0.xml"),
            &Limits::default(),
        )
        .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.version, "2.0");
        assert_eq!(s.brincode.as_str(), "99ZZ");
        assert_eq!(s.school_code().to_string(), "99ZZ00");
        assert_eq!(s.schooljaar, "2014-2015");
        assert_eq!(s.peildatum.as_ref().map(|d| d.as_str()), Some("2014-10-01"));
        assert_eq!(
            keys(s.groups.iter().map(|g| &g.key)),
            ["001", "002", "003", "GRP4A", "GRP4B"]
        );
        assert_eq!(
            keys(s.combined_groups.iter().map(|g| &g.key)),
            ["sg3", "sg1", "sg2"]
        );
        // Pupil 12345 left on 2014-07-18, before the peildatum 2014-10-01.
        assert_eq!(keys(s.pupils.iter().map(|p| &p.key)), ["00001", "00002"]);
        assert_eq!(keys(&s.left_pupils), ["12345"]);
        let wimpie = &s.pupils[0];
        assert_eq!(wimpie.achternaam, None);
        assert_eq!(wimpie.roepnaam.as_deref(), Some("Wimpie"));
        assert_eq!(wimpie.stamgroep.as_ref().map(|k| k.as_str()), Some("GRP4B"));
        assert_eq!(keys(&wimpie.combined_groups), ["sg1", "sg2"]);
        assert_eq!(s.pupils[1].voornamen.as_deref(), Some("Ismaël Hassan"));
        assert_eq!(s.teachers.len(), 3);
        assert_eq!(
            s.teachers[0].email.as_ref().map(|e| e.as_str()),
            Some("j.van.bemmen@oefenweb.nl")
        );
        assert_eq!(s.teachers[1].roles_info, ["Manusje van alles"]);
        assert_eq!(keys(&s.teachers[1].groups), ["002", "001"]);
        assert_eq!(keys(&s.teachers[1].combined_groups), ["sg1", "sg2", "sg3"]);
        let lia = &s.teachers[2];
        assert_eq!(lia.roepnaam.as_deref(), Some("Lia"));
        assert_eq!(lia.achternaam, None);
        let group_roles: Vec<(&str, &str)> = lia
            .group_roles_info
            .iter()
            .map(|(k, r)| (k.as_str(), r.as_str()))
            .collect();
        assert_eq!(group_roles, [("GRP4A", "STA"), ("GRP4A", "OWA")]);
    }

    #[test]
    fn reference_example_2_1_parses_cleanly() {
        let s = reader::parse(
            &reference("edexml-2.1/EDEXML.Voorbeeld.2.1.xml"),
            &Limits::default(),
        )
        .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.version, "2.1");
        assert_eq!(s.dependancecode.as_ref().map(|d| d.as_str()), Some("00"));
        assert_eq!(
            s.aanmaakdatum.as_ref().map(|d| d.as_str()),
            Some("2014-11-25T14:33:33")
        );
        assert_eq!(s.pupils.len(), 2);
        assert_eq!(keys(&s.left_pupils), ["12345"]);
        assert!(
            s.pupils[0]
                .eck_id
                .as_ref()
                .is_some_and(|e| e.as_str().starts_with("https://id.school/LL_"))
        );
        assert_eq!(s.pupils[0].voorvoegsel.as_deref(), Some("imp"));
        let julia = &s.teachers[0];
        assert_eq!(julia.roles_info, ["TAL"]);
        assert!(julia.eck_id.is_some());
        assert_eq!(
            s.teachers[1].eck_id.as_ref().map(|e| e.as_str()),
            Some("https://id.school/abcde")
        );
    }

    #[test]
    fn flemish_file_is_refused_clearly() {
        let p = reader::parse(
            &reference("edexml-2.1/EDEXML.Voorbeeld.2.1-Vla.xml"),
            &Limits::default(),
        )
        .unwrap_err();
        assert_rules(&p, &["school.instellingsnummer.vlaams"]);
        let v = &p.0[0];
        assert_eq!((v.line, v.column), (5, 3));
        assert_eq!(v.path, "/EDEX/school/instellingsnummer");
        assert!(v.message_nl.contains("Vlaams"), "{v}");
        assert!(v.message_nl.contains("brincode"), "{v}");
        assert!(v.message_en.contains("Flemish"), "{v}");
    }

    // ----- the complete files -----

    #[test]
    fn complete_2_1_file_uses_every_element_and_parses() {
        let s = reader::parse(&own("complete-2.1.xml"), &Limits::default())
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.version, "2.1");
        assert_eq!(s.school_code().to_string(), "99ZZ01");
        assert_eq!(s.schooljaar, "2025-2026");
        assert_eq!(s.reference_date.as_str(), "2025-10-01");
        assert_eq!(s.groups.len(), 2);
        let g = &s.groups[0];
        assert_eq!(
            (g.key.as_str(), g.name.as_str(), g.jaargroep.as_str()),
            ("G34", "Groep 3 & 4", "C")
        );
        assert_eq!(
            g.mutatiedatum.as_ref().map(|d| d.as_str()),
            Some("2025-08-20T10:00:00")
        );
        assert_eq!(
            keys(s.combined_groups.iter().map(|g| &g.key)),
            ["PLUS", "LEES"]
        );
        assert_eq!(
            keys(s.pupils.iter().map(|p| &p.key)),
            ["L1", "L2", "L3", "L4"]
        );
        assert_eq!(keys(&s.left_pupils), ["L5"]);
        let anna = &s.pupils[0];
        assert_eq!(
            anna.eck_id.as_ref().map(|e| e.as_str()),
            Some("https://ketenid.nl/201703/3f9a6c0e")
        );
        assert_eq!(anna.achternaam.as_deref(), Some("Vries"));
        assert_eq!(anna.voorvoegsel.as_deref(), Some("de"));
        assert_eq!(anna.voornamen.as_deref(), Some("Anna Sophie"));
        assert_eq!(anna.roepnaam.as_deref(), Some("Anna"));
        assert_eq!(
            anna.geboortedatum.as_ref().map(|d| d.as_str()),
            Some("2018-03-14")
        );
        assert_eq!(anna.geslacht.as_deref(), Some("2"));
        assert_eq!(anna.jaargroep.as_str(), "4");
        assert_eq!(anna.stamgroep.as_ref().map(|k| k.as_str()), Some("G34"));
        assert_eq!(keys(&anna.combined_groups), ["PLUS", "LEES"]);
        assert_eq!(
            anna.uitstroomdatum.as_ref().map(|d| d.as_str()),
            Some("2030-07-18")
        );
        assert_eq!(
            anna.mutatiedatum.as_ref().map(|d| d.date().as_str()),
            Some("2025-09-30")
        );
        assert_eq!(s.pupils[1].roepnaam.as_deref(), Some("Joël"));
        assert_eq!(s.pupils[2].achternaam.as_deref(), Some("Bakker"));
        assert_eq!(s.pupils[3].achternaam.as_deref(), Some("Yılmaz"));
        let t = &s.teachers[0];
        assert_eq!(
            t.email.as_ref().map(|e| e.as_str()),
            Some("j.vanbemmel@school.example.nl")
        );
        assert_eq!(t.roles_info, ["LRK", "Bouwcoördinator", "TAL"]);
        assert_eq!(keys(&t.groups), ["G34"]);
        assert_eq!(keys(&t.combined_groups), ["PLUS"]);
        let group_roles: Vec<(&str, &str)> = t
            .group_roles_info
            .iter()
            .map(|(k, r)| (k.as_str(), r.as_str()))
            .collect();
        assert_eq!(
            group_roles,
            [("G34", "LRK"), ("G34", "Duo-partner"), ("PLUS", "VAK")]
        );
        assert_eq!(keys(&s.teachers[1].groups), ["G8"]);
    }

    #[test]
    fn complete_2_0_file_uses_every_element_and_parses() {
        let s = reader::parse(&own("complete-2.0.xml"), &Limits::default())
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.version, "2.0");
        assert_eq!(s.pupils.len(), 4);
        assert!(s.pupils.iter().all(|p| p.eck_id.is_none()));
        assert_eq!(s.teachers[0].roles_info, ["LRK", "Bouwcoördinator"]);
    }

    // ----- XML safety and well-formedness -----

    #[test]
    fn doctype_is_refused() {
        let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE EDEX SYSTEM \"EDEXML.dtd\">\n<EDEX/>";
        let p = problems(xml);
        assert_rules(&p, &["xml.doctype"]);
        assert_eq!((p.0[0].line, p.0[0].column), (2, 1));
        assert!(p.0[0].message_nl.contains("DOCTYPE"));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut xml =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_owned()
            } else {
                format!("lol{}", i - 1)
            };
            xml.push_str(&format!(
                " <!ENTITY lol{i} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
        }
        xml.push_str("]>\n<EDEX><school><commentaar>&lol9;</commentaar></school></EDEX>\n");
        let started = Instant::now();
        let p = problems(&xml);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        assert_rules(&p, &["xml.doctype"]);
        assert_eq!(p.0[0].line, 2);
    }

    #[test]
    fn custom_entity_reference_is_refused() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>&lol9;</achternaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "xml.entiteit.onbekend");
        assert_eq!(e.path, "/EDEX/leerlingen/leerling[1]/achternaam");
        assert!(e.message_nl.contains("&lol9;"));
        // In an attribute too.
        let xml = edex(&pupil("&x;", JANSEN), "");
        let p = problems(&xml);
        only(&p, "xml.entiteit.onbekend");
    }

    #[test]
    fn predefined_and_character_references_are_resolved() {
        let xml = edex(
            &pupil(
                "&#x31;&amp;2",
                "<achternaam>O&apos;Neill &#8211; &quot;Lo&lt;&gt;&quot;</achternaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let s = ok(&xml);
        assert_eq!(s.pupils[0].key.as_str(), "1&2");
        assert_eq!(
            s.pupils[0].achternaam.as_deref(),
            Some("O'Neill – \"Lo<>\"")
        );
    }

    #[test]
    fn character_reference_to_a_forbidden_character_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>A&#1;B</achternaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        only(&p, "xml.teken.ongeldig");
    }

    #[test]
    fn forbidden_raw_characters_are_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>A\u{1}B</achternaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "xml.teken.ongeldig");
        assert!(e.message_nl.contains("U+0001"));
        assert_eq!((e.line, e.column), (6, 32));
    }

    #[test]
    fn oversized_file_is_refused_before_parsing() {
        // Not even XML: only the size is judged.
        let bytes = vec![b'<'; 2 * 1024 * 1024 + 1];
        let p = reader::parse(
            &bytes,
            &Limits {
                max_bytes: 2 * 1024 * 1024,
            },
        )
        .unwrap_err();
        assert_rules(&p, &["bestand.te_groot"]);
        assert!(
            p.0[0].message_nl.contains("3 MiB") && p.0[0].message_nl.contains("2 MiB"),
            "{p}"
        );
        assert_eq!(Limits::default().max_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn malformed_xml_reports_line_and_column() {
        let xml = "<?xml version=\"1.0\"?>\n<EDEX>\n  <school>\n    <schooljaar>2025-2026</schooljar>\n  </school>\n</EDEX>\n";
        let p = problems(xml);
        assert_rules(&p, &["xml.onjuist"]);
        let e = &p.0[0];
        assert_eq!(e.line, 4);
        assert_eq!(e.column, 26);
        assert!(
            e.message_nl.contains("</schooljar>") && e.message_nl.contains("<schooljaar>"),
            "{e}"
        );
    }

    #[test]
    fn bare_ampersand_is_malformed() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen & Zn</achternaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["xml.onjuist"]);
        assert!(p.0[0].message_nl.contains("&amp;"));
    }

    #[test]
    fn truncated_file_is_reported() {
        let xml = one_pupil();
        let cut = &xml[..xml.find("</leerlingen>").unwrap()];
        let p = problems(cut);
        assert_rules(&p, &["xml.niet_afgesloten"]);
        assert!(p.0[0].message_nl.contains("<leerlingen>"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let depth = 10_000;
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<leerlingen>{}<toevoegingen>{}{}</toevoegingen></leerlingen>",
                pupil("1", JANSEN),
                "<a>".repeat(depth),
                "</a>".repeat(depth)
            ),
        );
        let p = problems(&xml);
        assert!(p.rules().contains(&"xml.te_diep"), "{p}");
        assert_eq!(p.rules().last(), Some(&"xml.te_diep"));
    }

    #[test]
    fn empty_file_is_reported() {
        assert_rules(&problems(""), &["bestand.leeg"]);
        assert_rules(
            &problems("<?xml version=\"1.0\"?>\n<!-- niets -->\n"),
            &["bestand.leeg"],
        );
    }

    #[test]
    fn wrong_root_element_is_reported() {
        let p = problems("<?xml version=\"1.0\"?>\n<html><body/></html>");
        assert_rules(&p, &["edex.root"]);
        assert!(p.0[0].message_nl.contains("<html>"));
    }

    #[test]
    fn content_outside_the_root_is_reported() {
        let xml = format!("{}<EDEX/>tekst", one_pupil());
        let p = problems(&xml);
        assert_rules(&p, &["xml.inhoud_buiten_edex", "xml.inhoud_buiten_edex"]);
    }

    #[test]
    fn misplaced_xml_declaration_is_refused() {
        let p = problems(&format!(" {}", one_pupil()));
        assert_rules(&p, &["xml.declaratie.positie"]);
    }

    #[test]
    fn default_namespace_is_reported() {
        let xml = one_pupil().replace("<EDEX>", "<EDEX xmlns=\"urn:edex\">");
        assert_rules(&problems(&xml), &["xml.namespace"]);
        // The schema-location attributes of the reference files are fine.
        let xml = one_pupil().replace(
        "<EDEX>",
        "<EDEX xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"EDEXML.structuur.xsd\">",
    );
        ok(&xml);
    }

    // ----- character encoding -----

    fn latin1(text: &str, encoding: &str) -> Vec<u8> {
        let xml = one_pupil().replace("UTF-8", encoding).replace(
            "<roepnaam>Piet</roepnaam>",
            &format!("<roepnaam>{text}</roepnaam>"),
        );
        // Every character used here is below U+0100 or one of the Windows-1252 extras.
        xml.chars()
            .map(|c| match c {
                '’' => 0x92,
                '€' => 0x80,
                c => u8::try_from(u32::from(c)).expect("Latin-1 character"),
            })
            .collect()
    }

    #[test]
    fn iso_8859_1_declared_file_is_decoded() {
        let s = reader::parse(&latin1("Zoë", "ISO-8859-1"), &Limits::default())
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.pupils[0].roepnaam.as_deref(), Some("Zoë"));
    }

    #[test]
    fn windows_1252_quotes_are_decoded() {
        // Declared ISO-8859-1 but with a Windows quote, as many exports do.
        let s = reader::parse(&latin1("D’Angelo", "iso-8859-1"), &Limits::default())
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.pupils[0].roepnaam.as_deref(), Some("D’Angelo"));
        let s = reader::parse(&latin1("D’Angelo", "windows-1252"), &Limits::default())
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.pupils[0].roepnaam.as_deref(), Some("D’Angelo"));
    }

    #[test]
    fn iso_8859_15_declared_file_is_decoded() {
        let mut bytes = latin1("Zoe", "ISO-8859-15");
        let at = bytes.windows(3).position(|w| w == b"Zoe").unwrap();
        bytes[at + 2] = 0xBD; // œ in ISO-8859-15, ½ in ISO-8859-1
        let s = reader::parse(&bytes, &Limits::default()).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(s.pupils[0].roepnaam.as_deref(), Some("Zoœ"));
    }

    #[test]
    fn utf8_with_byte_order_mark_is_read() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(one_pupil().as_bytes());
        reader::parse(&bytes, &Limits::default()).unwrap_or_else(|p| panic!("{p}"));
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_position() {
        // A Latin-1 "ë" in a file that says nothing about its encoding, so is UTF-8.
        let mut bytes = one_pupil().replace("Piet", "Zo#").into_bytes();
        let at = bytes.iter().position(|b| *b == b'#').unwrap();
        bytes[at] = 0xEB;
        let p = reader::parse(&bytes, &Limits::default()).unwrap_err();
        assert_rules(&p, &["xml.codering.ongeldig"]);
        assert_eq!((p.0[0].line, p.0[0].column), (6, 62));
        assert!(p.0[0].message_nl.contains("0xEB"));
    }

    #[test]
    fn utf16_file_is_refused_clearly() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in one_pupil().encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let p = reader::parse(&bytes, &Limits::default()).unwrap_err();
        assert_rules(&p, &["xml.codering.niet_ondersteund"]);
        assert!(p.0[0].message_nl.contains("UTF-16"));
    }

    #[test]
    fn unsupported_encoding_is_refused() {
        let xml = one_pupil().replace("UTF-8", "Shift_JIS");
        let p = problems(&xml);
        assert_rules(&p, &["xml.codering.niet_ondersteund"]);
        assert!(p.0[0].message_nl.contains("Shift_JIS"));
    }

    #[test]
    fn byte_order_mark_contradicting_the_declaration_is_refused() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(one_pupil().replace("UTF-8", "ISO-8859-1").as_bytes());
        let p = reader::parse(&bytes, &Limits::default()).unwrap_err();
        assert_rules(&p, &["xml.codering.tegenstrijdig"]);
    }

    // ----- structure -----

    #[test]
    fn missing_school_block_is_reported() {
        let xml = format!(
            "<EDEX><leerlingen>{}</leerlingen></EDEX>",
            pupil("1", JANSEN)
        );
        assert_rules(&problems(&xml), &["edex.school.verplicht"]);
    }

    #[test]
    fn file_without_pupils_is_refused() {
        let p = problems(&edex_with_school(SCHOOL, GROUPS));
        let e = only(&p, "edex.leerlingen.verplicht");
        assert_eq!(e.path, "/EDEX");
        let p = problems(&edex("", ""));
        let e = only(&p, "leerlingen.leerling.verplicht");
        assert_eq!(e.path, "/EDEX/leerlingen");
        assert!(e.message_nl.contains("minstens één leerling"));
    }

    #[test]
    fn element_order_is_checked() {
        // <leerlingen> before <groepen>, and a pupil's <jaargroep> after <groep>.
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<leerlingen>{}</leerlingen>{GROUPS}",
                pupil(
                    "1",
                    "<achternaam>Jansen</achternaam><groep key=\"G3\"/><jaargroep>3</jaargroep>"
                )
            ),
        );
        let p = problems(&xml);
        assert_rules(&p, &["element.volgorde", "element.volgorde"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen/leerling[1]/jaargroep");
        assert!(p.0[0].message_nl.contains("vóór <groep>"), "{p}");
        assert_eq!(p.0[1].path, "/EDEX/groepen");
    }

    #[test]
    fn unknown_element_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><lievelingskleur>blauw</lievelingskleur><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["element.onbekend"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen/leerling[1]/lievelingskleur");
        assert!(p.0[0].message_nl.contains("<toevoegingen>"));
    }

    #[test]
    fn unknown_elements_in_toevoegingen_are_ignored() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep>\
             <toevoegingen><blok xsi:type=\"Eigen\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
             <code>c</code><lievelingskleur tint=\"donker\">blauw<x/></lievelingskleur><y><z/></y>\
             </blok><nog_iets/></toevoegingen>",
            ),
            "",
        );
        let s = ok(&xml);
        assert_eq!(s.pupils.len(), 1);
    }

    #[test]
    fn element_inside_a_text_field_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jan<b>sen</b></achternaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "element.onbekend");
        assert_eq!(e.path, "/EDEX/leerlingen/leerling[1]/achternaam/b");
    }

    #[test]
    fn loose_text_between_elements_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam>hallo<jaargroep>3</jaargroep>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["tekst.onverwacht"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen/leerling[1]");
    }

    #[test]
    fn unknown_attribute_is_reported() {
        let xml = edex(&pupil("1\" kleur=\"blauw", JANSEN), "");
        let p = problems(&xml);
        assert_rules(&p, &["attribuut.onbekend"]);
        assert!(p.0[0].message_nl.contains("kleur"));
    }

    #[test]
    fn duplicate_attribute_is_malformed() {
        let xml = edex(&pupil("1\" key=\"2", JANSEN), "");
        assert_rules(&problems(&xml), &["xml.onjuist"]);
    }

    #[test]
    fn too_many_occurrences_are_reported() {
        let xml = edex_with_school(
            &format!("{SCHOOL}<commentaar>a</commentaar><commentaar>b</commentaar>"),
            &format!("{GROUPS}<leerlingen>{}</leerlingen>", pupil("1", JANSEN)),
        );
        let p = problems(&xml);
        assert_rules(&p, &["element.te_vaak"]);
        assert_eq!(p.0[0].path, "/EDEX/school/commentaar[2]");
    }

    #[test]
    fn empty_blocks_are_reported() {
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<vestigingen/><groepen></groepen><leerlingen>{}</leerlingen><leerkrachten/>",
                pupil(
                    "1",
                    "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><samengestelde_groepen/>"
                )
            ),
        );
        let p = problems(&xml);
        assert_rules(
            &p,
            &[
                "vestigingen.vestiging.verplicht",
                "groepen.groep.verplicht",
                "leerling.samengestelde_groepen.leeg",
                "leerkrachten.leerkracht.verplicht",
            ],
        );
    }

    #[test]
    fn group_without_name_or_jaargroep_is_reported() {
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<groepen><groep key=\"A\"><omschrijving>x</omschrijving></groep>\
             <samengestelde_groep key=\"B\"/></groepen><leerlingen>{}</leerlingen>",
                pupil("1", JANSEN)
            ),
        );
        let p = problems(&xml);
        assert_rules(
            &p,
            &[
                "groep.naam.verplicht",
                "groep.jaargroep.verplicht",
                "samengestelde_groep.naam.verplicht",
            ],
        );
        assert_eq!(p.0[0].path, "/EDEX/groepen/groep[1]");
    }

    #[test]
    fn location_without_name_is_reported() {
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<vestigingen><vestiging key=\"V\"/></vestigingen><leerlingen>{}</leerlingen>",
                pupil("1", JANSEN)
            ),
        );
        assert_rules(&problems(&xml), &["vestiging.naam.verplicht"]);
    }

    #[test]
    fn teacher_groups_block_must_not_be_empty() {
        let xml = edex(
            &pupil("1", JANSEN),
            "<leerkrachten><leerkracht key=\"T\"><roepnaam>Lia</roepnaam><groepen/></leerkracht></leerkrachten>",
        );
        assert_rules(&problems(&xml), &["leerkracht.groepen.leeg"]);
    }

    // ----- the school -----

    #[test]
    fn missing_schooljaar_is_reported() {
        let xml = edex_with_school(
            "<brincode>99ZZ</brincode>",
            &format!("<leerlingen>{}</leerlingen>", pupil("1", JANSEN)),
        );
        assert_rules(&problems(&xml), &["school.schooljaar.verplicht"]);
    }

    #[test]
    fn missing_brincode_is_reported() {
        let xml = edex_with_school(
            "<schooljaar>2025-2026</schooljaar><schoolkey>123</schoolkey>",
            &format!("<leerlingen>{}</leerlingen>", pupil("1", JANSEN)),
        );
        let p = problems(&xml);
        assert_rules(&p, &["school.brincode.verplicht"]);
        assert_eq!(p.0[0].path, "/EDEX/school");
    }

    #[test]
    fn brincode_format_is_checked() {
        for bad in ["9ZZZ", "99zz", "99ZZ0", "ZZ99"] {
            let xml = one_pupil().replace("<brincode>99ZZ<", &format!("<brincode>{bad}<"));
            let p = problems(&xml);
            assert_rules(&p, &["school.brincode.ongeldig"]);
            assert!(p.0[0].message_nl.contains("2 cijfers en 2 hoofdletters"));
        }
    }

    #[test]
    fn dependancecode_must_be_two_digits() {
        for bad in ["0", "001", "A1"] {
            let xml =
                one_pupil().replace("<dependancecode>00<", &format!("<dependancecode>{bad}<"));
            assert_rules(&problems(&xml), &["school.dependancecode.ongeldig"]);
        }
        let xml = one_pupil().replace("<dependancecode>00<", "<dependancecode>03<");
        assert_eq!(ok(&xml).school_code().to_string(), "99ZZ03");
    }

    #[test]
    fn missing_dependancecode_means_main_location_00() {
        let xml = one_pupil().replace("<dependancecode>00</dependancecode>", "");
        let s = ok(&xml);
        assert_eq!(s.dependancecode, None);
        assert_eq!(s.school_code().vestigingscode.as_str(), "00");
        assert_eq!(s.school_code().to_string(), "99ZZ00");
    }

    #[test]
    fn school_year_after_2024_2025_is_accepted() {
        for year in ["2024-2025", "2025-2026", "2031-2032"] {
            let xml = one_pupil().replace("2025-2026", year);
            assert_eq!(ok(&xml).schooljaar, year);
        }
    }

    #[test]
    fn school_year_must_be_two_consecutive_years() {
        for bad in ["2025-2027", "2025/2026", "1990-1991", "2025"] {
            let xml = one_pupil().replace("2025-2026", bad);
            assert_rules(&problems(&xml), &["schooljaar.ongeldig"]);
        }
    }

    #[test]
    fn unsupported_xsdversie_is_refused() {
        let xml = one_pupil().replace("<xsdversie>2.1<", "<xsdversie>1.03<");
        let p = problems(&xml);
        assert_rules(&p, &["school.xsdversie.niet_ondersteund"]);
        assert!(p.0[0].message_nl.contains("1.03"));
    }

    #[test]
    fn missing_xsdversie_reads_as_2_1() {
        let xml = one_pupil().replace("<xsdversie>2.1</xsdversie>", "");
        assert_eq!(ok(&xml).version, "2.1");
    }

    #[test]
    fn eckid_in_a_2_0_file_is_reported() {
        let xml = edex(
        "<leerling key=\"1\" eckid=\"https://ketenid.nl/x\"><achternaam>Jansen</achternaam><jaargroep>3</jaargroep></leerling>",
        "",
    )
    .replace("<xsdversie>2.1<", "<xsdversie>2.0<");
        assert_rules(&problems(&xml), &["eckid.versie"]);
    }

    #[test]
    fn tal_role_in_a_2_0_file_is_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><roepnaam>Lia</roepnaam><rol>TAL</rol></leerkracht></leerkrachten>";
        let xml = edex(&pupil("1", JANSEN), teachers);
        assert_eq!(ok(&xml).teachers[0].roles_info, ["TAL"]);
        let xml = xml.replace("<xsdversie>2.1<", "<xsdversie>2.0<");
        let p = problems(&xml);
        assert_rules(&p, &["rol.ongeldig"]);
        assert!(p.0[0].message_nl.contains("2.1"));
    }

    #[test]
    fn unknown_role_is_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><roepnaam>Lia</roepnaam><rol>BAAS</rol>\
                    <groepen><groep key=\"G3\"><rol>XYZ</rol></groep></groepen></leerkracht></leerkrachten>";
        let p = problems(&edex(&pupil("1", JANSEN), teachers));
        assert_rules(&p, &["rol.ongeldig", "rol.ongeldig"]);
        assert_eq!(
            p.0[1].path,
            "/EDEX/leerkrachten/leerkracht[1]/groepen/groep[1]/rol[1]"
        );
    }

    // ----- pupils -----

    #[test]
    fn pupil_without_jaargroep_is_reported() {
        let xml = edex(
            &[
                pupil("1", JANSEN),
                pupil("2", JANSEN),
                pupil(
                    "3",
                    "<achternaam>Dijk</achternaam><roepnaam>Sem</roepnaam><groep key=\"G3\"/>",
                ),
            ]
            .join("\n"),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "leerling.jaargroep.verplicht");
        assert_eq!(e.line, 8);
        assert_eq!(e.column, 1);
        assert_eq!(e.path, "/EDEX/leerlingen/leerling[3]");
        assert!(
            e.message_nl
                .starts_with("de leerling Sem Dijk (sleutel \"3\") heeft geen jaargroep."),
            "{e}"
        );
        assert!(
            e.message_nl
                .contains("Vul de jaargroep in de leerlingadministratie in"),
            "{e}"
        );
        assert_eq!(
            e.to_string().lines().next().unwrap(),
            "Regel 8, kolom 1 (/EDEX/leerlingen/leerling[3]): de leerling Sem Dijk (sleutel \"3\") \
         heeft geen jaargroep. Vul de jaargroep in de leerlingadministratie in en exporteer \
         opnieuw. [leerling.jaargroep.verplicht]"
        );
    }

    #[test]
    fn invalid_jaargroep_is_reported() {
        for bad in ["9", "groep 3", ""] {
            let xml = edex(
                &pupil(
                    "1",
                    &format!("<achternaam>Jansen</achternaam><jaargroep>{bad}</jaargroep>"),
                ),
                "",
            );
            let p = problems(&xml);
            assert_rules(&p, &["jaargroep.ongeldig"]);
        }
    }

    #[test]
    fn pupil_with_two_stamgroepen_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><groep key=\"G3\"/><groep key=\"G3\"/>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["leerling.groep.hoogstens_een"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen/leerling[1]/groep[2]");
    }

    #[test]
    fn exclusive_identifiers_are_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><bsn>111222333</bsn><onderwijsnummer>111222333</onderwijsnummer><postcodenl>1234AB</postcodenl><postnummerbe>1000</postnummerbe>",
            ),
            "",
        );
        assert_rules(
            &problems(&xml),
            &[
                "leerling.identificatie.hoogstens_een",
                "leerling.postcode.hoogstens_een",
            ],
        );
    }

    #[test]
    fn pupil_without_name_is_reported() {
        let xml = edex(&pupil("1", "<jaargroep>3</jaargroep>"), "");
        assert_rules(&problems(&xml), &["leerling.naam.verplicht"]);
    }

    #[test]
    fn name_parts_without_achternaam_are_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<voorvoegsel>van</voorvoegsel><roepnaam>Piet</roepnaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        assert_rules(&problems(&xml), &["leerling.naam.achternaam_ontbreekt"]);
    }

    #[test]
    fn achternaam_with_stray_spaces_is_reported() {
        for bad in [" Jansen", "Jansen ", "de  Vries"] {
            let xml = edex(
                &pupil(
                    "1",
                    &format!("<achternaam>{bad}</achternaam><jaargroep>3</jaargroep>"),
                ),
                "",
            );
            assert_rules(&problems(&xml), &["naam.spaties"]);
        }
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><voorvoegsel>van </voorvoegsel><jaargroep>3</jaargroep>",
            ),
            "",
        );
        assert_rules(&problems(&xml), &["naam.spaties"]);
    }

    #[test]
    fn names_with_bidi_or_zero_width_characters_are_refused() {
        // A right-to-left override makes a name display as another; a zero-width or invisible
        // character makes two different names look the same in a picker.
        let teacher = |inner: &str| {
            format!("<leerkrachten><leerkracht key=\"T\">{inner}</leerkracht></leerkrachten>")
        };
        let cases = [
            (
                edex(
                    &pupil(
                        "1",
                        "<achternaam>Jan\u{202E}sen</achternaam><jaargroep>3</jaargroep>",
                    ),
                    "",
                ),
                "U+202E",
                6,
            ),
            (
                edex(
                    &pupil(
                        "1",
                        "<achternaam>Jansen</achternaam><voorvoegsel>van\u{200B}</voorvoegsel><jaargroep>3</jaargroep>",
                    ),
                    "",
                ),
                "U+200B",
                6,
            ),
            (
                edex(
                    &pupil(
                        "1",
                        "<achternaam>Jansen</achternaam><voornamen>Piet \u{2067}Jan</voornamen><jaargroep>3</jaargroep>",
                    ),
                    "",
                ),
                "U+2067",
                6,
            ),
            (
                edex(
                    &pupil(
                        "1",
                        "<achternaam>Jansen</achternaam><roepnaam>Pi\u{200D}et</roepnaam><jaargroep>3</jaargroep>",
                    ),
                    "",
                ),
                "U+200D",
                6,
            ),
            (
                edex(
                    &pupil("1", JANSEN),
                    &teacher("<achternaam>Bakker</achternaam><roepnaam>\u{FEFF}Els</roepnaam>"),
                ),
                "U+FEFF",
                8,
            ),
            (
                edex(
                    &pupil("1", JANSEN),
                    &teacher(
                        "<achternaam>Bakker</achternaam><voorletters-1>E\u{2060}</voorletters-1>",
                    ),
                ),
                "U+2060",
                8,
            ),
            (
                edex(&pupil("1", JANSEN), "").replace("<naam>3A</naam>", "<naam>3A\u{200E}</naam>"),
                "U+200E",
                4,
            ),
        ];
        for (xml, code, line) in cases {
            let p = problems(&xml);
            let e = only(&p, "naam.onzichtbaar_teken");
            assert_eq!(p.0.len(), 1, "{p}");
            assert_eq!(e.line, line, "{e}");
            assert!(e.column > 1, "{e}");
            assert!(
                e.message_nl.contains(code) && e.message_en.contains(code),
                "{e}"
            );
            assert!(
                e.message_nl.contains("onzichtbaar teken")
                    && e.message_en.contains("invisible character"),
                "{e}"
            );
            assert!(
                !e.message_nl
                    .chars()
                    .chain(e.message_en.chars())
                    .any(directory::model::is_invisible_or_bidi),
                "the message shows the character as its code point, not itself: {e:?}"
            );
        }
        // Letters with diacritics and other scripts are names like any other.
        ok(&edex(
            &pupil(
                "1",
                "<achternaam>Çelik-Özdemir</achternaam><roepnaam>Ismaël</roepnaam><jaargroep>3</jaargroep>",
            ),
            "",
        ));
    }

    #[test]
    fn text_fields_are_checked_for_length_and_emptiness() {
        let long = "x".repeat(65);
        let xml = edex(
            &pupil(
                "1",
                &format!(
                    "<achternaam>Jansen</achternaam><roepnaam>{long}</roepnaam><jaargroep>3</jaargroep><gebruikersnaam></gebruikersnaam>"
                ),
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["tekst.te_lang", "tekst.leeg"]);
        assert!(p.0[0].message_nl.contains("hoogstens 64 tekens"));
        // A 5,000-character value is cut in the message and not kept whole.
        let huge = "y".repeat(5000);
        let xml = edex(
            &pupil(
                "1",
                &format!("<achternaam>{huge}</achternaam><jaargroep>3</jaargroep>"),
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["tekst.te_lang"]);
        assert!(p.0[0].message_nl.len() < 400);
    }

    #[test]
    fn control_characters_in_names_are_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><roepnaam>Pi\tet</roepnaam><jaargroep>3</jaargroep>",
            ),
            "",
        );
        assert_rules(&problems(&xml), &["tekst.stuurteken"]);
    }

    #[test]
    fn pupil_value_lists_are_checked() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><geslacht>3</geslacht><jaargroep>3</jaargroep>\
             <etniciteit>2</etniciteit><land>XX</land><land_vader>nl</land_vader><bsn>12345678</bsn>\
             <gewicht_nieuw>0,5</gewicht_nieuw><gewicht>0.3</gewicht><postcodenl>1234 AB</postcodenl>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(
            &p,
            &[
                "geslacht.ongeldig",
                "etniciteit.ongeldig",
                "land.ongeldig",
                "land.ongeldig",
                "nummer.ongeldig",
                "gewicht.ongeldig",
                "gewicht.ongeldig",
                "postcode.ongeldig",
            ],
        );
        // An identity number is never repeated in a message.
        assert!(!p.to_string().contains("12345678"));
    }

    #[test]
    fn dates_must_be_valid() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><geboortedatum>2018-02-30</geboortedatum><jaargroep>3</jaargroep><instroomdatum>22-08-2022</instroomdatum><mutatiedatum>2025-09-30 10:00</mutatiedatum>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(
            &p,
            &["datum.ongeldig", "datum.ongeldig", "datumtijd.ongeldig"],
        );
        assert!(p.0[0].message_nl.contains("JJJJ-MM-DD"));
        let xml = one_pupil().replace("2025-10-01", "2025-13-01");
        assert_rules(&problems(&xml), &["datum.ongeldig"]);
    }

    #[test]
    fn pupil_email_is_checked_but_not_kept() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><emailadres>geen-adres</emailadres>",
            ),
            "",
        );
        assert_rules(&problems(&xml), &["emailadres.ongeldig"]);
    }

    // ----- keys -----

    #[test]
    fn duplicate_pupil_keys_are_reported() {
        let xml = edex(
            &[pupil("1", JANSEN), pupil("2", JANSEN), pupil(" 1 ", JANSEN)].join(""),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "leerling.key.dubbel");
        assert_eq!(e.path, "/EDEX/leerlingen/leerling[3]");
        assert!(e.message_nl.contains("/EDEX/leerlingen/leerling[1]"), "{e}");
    }

    #[test]
    fn duplicate_group_keys_are_reported() {
        // A stamgroep and a combined group share one key space (the schema's groepKeyUnique).
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<groepen><groep key=\"A\"><naam>a</naam><jaargroep>1</jaargroep></groep>\
             <samengestelde_groep key=\"A\"><naam>b</naam></samengestelde_groep>\
             <groep key=\"A\"><naam>c</naam><jaargroep>1</jaargroep></groep></groepen>\
             <leerlingen>{}</leerlingen>",
                pupil("1", JANSEN)
            ),
        );
        let p = problems(&xml);
        assert_rules(&p, &["groep.key.dubbel", "groep.key.dubbel"]);
        assert_eq!(p.0[0].path, "/EDEX/groepen/samengestelde_groep[1]");
        assert_eq!(p.0[1].path, "/EDEX/groepen/groep[2]");
        for e in &p.0 {
            assert!(e.message_nl.contains("(/EDEX/groepen/groep[1])"), "{e}");
        }
    }

    #[test]
    fn duplicate_teacher_and_location_keys_are_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><roepnaam>A</roepnaam></leerkracht>\
                    <leerkracht key=\"T\"><roepnaam>B</roepnaam></leerkracht></leerkrachten>";
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<vestigingen><vestiging key=\"V\"><naam>a</naam></vestiging><vestiging key=\"V\"><naam>b</naam></vestiging></vestigingen>\
             <leerlingen>{}</leerlingen>{teachers}",
                pupil("1", JANSEN)
            ),
        );
        let p = problems(&xml);
        assert_rules(&p, &["vestiging.key.dubbel", "leerkracht.key.dubbel"]);
        assert!(p.0[0].message_nl.contains("/EDEX/vestigingen/vestiging[1]"));
        assert!(
            p.0[1]
                .message_nl
                .contains("/EDEX/leerkrachten/leerkracht[1]")
        );
    }

    #[test]
    fn the_same_key_in_different_kinds_is_fine() {
        let teachers = "<leerkrachten><leerkracht key=\"1\"><roepnaam>A</roepnaam></leerkracht></leerkrachten>";
        let xml = edex(&pupil("1", JANSEN), teachers).replace("key=\"G3\"", "key=\"1\"");
        ok(&xml);
    }

    #[test]
    fn keys_are_trimmed() {
        let xml = edex(
            &pupil(
                "  42\t",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><groep key=\" G3 \"/>",
            ),
            "",
        );
        let s = ok(&xml);
        assert_eq!(s.pupils[0].key.as_str(), "42");
        assert_eq!(
            s.pupils[0].stamgroep.as_ref().map(|k| k.as_str()),
            Some("G3")
        );
    }

    #[test]
    fn key_length_is_1_to_256_characters() {
        let xml = edex(&pupil(&"k".repeat(256), JANSEN), "");
        ok(&xml);
        let xml = edex(&pupil(&"k".repeat(257), JANSEN), "");
        assert_rules(&problems(&xml), &["key.ongeldig"]);
        let xml = edex(&pupil("  ", JANSEN), "");
        assert_rules(&problems(&xml), &["key.ongeldig"]);
        // 2.0 files may use 256 characters too (the manual raised the limit in 2.0).
        let xml = edex(&pupil(&"k".repeat(256), JANSEN), "")
            .replace("<xsdversie>2.1<", "<xsdversie>2.0<");
        ok(&xml);
    }

    #[test]
    fn missing_key_is_reported() {
        let xml = edex(&format!("<leerling>{JANSEN}</leerling>"), "");
        let p = problems(&xml);
        assert_rules(&p, &["key.verplicht"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen/leerling[1]");
    }

    // ----- references -----

    #[test]
    fn dangling_group_reference_is_reported() {
        let xml = edex(
            &[
                pupil("1", JANSEN),
                pupil(
                    "2",
                    "<achternaam>Dijk</achternaam><jaargroep>3</jaargroep><groep key=\"G9\"/>",
                ),
            ]
            .join("\n"),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "leerling.groep.onbekend");
        assert_eq!(e.path, "/EDEX/leerlingen/leerling[2]/groep");
        assert_eq!((e.line, e.column), (7, 72));
        assert!(e.message_nl.contains("\"G9\""));
    }

    #[test]
    fn dangling_combined_group_reference_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><samengestelde_groepen><samengestelde_groep key=\"PLUS\"/><samengestelde_groep key=\"NOPE\"/></samengestelde_groepen>",
            ),
            "",
        );
        let p = problems(&xml);
        let e = only(&p, "leerling.samengestelde_groep.onbekend");
        assert_eq!(
            e.path,
            "/EDEX/leerlingen/leerling[1]/samengestelde_groepen/samengestelde_groep[2]"
        );
    }

    #[test]
    fn references_to_the_wrong_kind_of_group_are_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><roepnaam>Lia</roepnaam><groepen>\
                    <groep key=\"PLUS\"/><samengestelde_groep key=\"G3\"/></groepen></leerkracht></leerkrachten>";
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><groep key=\"PLUS\"/><samengestelde_groepen><samengestelde_groep key=\"G3\"/></samengestelde_groepen>",
            ),
            teachers,
        );
        assert_rules(
            &problems(&xml),
            &[
                "leerling.groep.geen_stamgroep",
                "leerling.samengestelde_groep.is_stamgroep",
                "leerkracht.groep.geen_stamgroep",
                "leerkracht.samengestelde_groep.is_stamgroep",
            ],
        );
    }

    #[test]
    fn dangling_teacher_references_are_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><roepnaam>Lia</roepnaam><groepen>\
                    <groep key=\"X\"/><samengestelde_groep key=\"Y\"/></groepen></leerkracht></leerkrachten>";
        let xml = edex(&pupil("1", JANSEN), teachers);
        let p = problems(&xml);
        assert_rules(
            &p,
            &[
                "leerkracht.groep.onbekend",
                "leerkracht.samengestelde_groep.onbekend",
            ],
        );
        assert_eq!(
            p.0[0].path,
            "/EDEX/leerkrachten/leerkracht[1]/groepen/groep[1]"
        );
        assert_eq!(
            p.0[1].path,
            "/EDEX/leerkrachten/leerkracht[1]/groepen/samengestelde_groep[1]"
        );
    }

    #[test]
    fn dangling_location_reference_is_reported() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><vestiging key=\"V\"/>",
            ),
            "",
        );
        assert_rules(&problems(&xml), &["leerling.vestiging.onbekend"]);
    }

    #[test]
    fn references_are_resolved_whatever_the_section_order() {
        // Groups after pupils is an order problem, not also a dangling reference.
        let xml = edex_with_school(
            SCHOOL,
            &format!(
                "<leerlingen>{}</leerlingen>{GROUPS}",
                pupil(
                    "1",
                    "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><groep key=\"G3\"/>"
                )
            ),
        );
        assert_rules(&problems(&xml), &["element.volgorde"]);
    }

    // ----- ECK-iDs and e-mail addresses -----

    #[test]
    fn duplicate_eck_ids_are_reported() {
        let p1 = "<leerling key=\"1\" eckid=\"https://ketenid.nl/a\">".to_owned()
            + JANSEN
            + "</leerling>";
        let p2 = "<leerling key=\"2\" eckid=\" https://ketenid.nl/a \">".to_owned()
            + JANSEN
            + "</leerling>";
        // A teacher may carry the same ECK-iD as a pupil: uniqueness holds within each kind.
        let teachers = "<leerkrachten><leerkracht key=\"T1\" eckid=\"https://ketenid.nl/a\"><roepnaam>A</roepnaam></leerkracht>\
                    <leerkracht key=\"T2\" eckid=\"https://ketenid.nl/t\"><roepnaam>B</roepnaam></leerkracht>\
                    <leerkracht key=\"T3\" eckid=\"https://ketenid.nl/t\"><roepnaam>C</roepnaam></leerkracht></leerkrachten>";
        let p = problems(&edex(&(p1 + &p2), teachers));
        assert_rules(&p, &["leerling.eckid.dubbel", "leerkracht.eckid.dubbel"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen/leerling[2]");
        assert!(p.0[0].message_nl.contains("leerling[1]"));
    }

    #[test]
    fn invalid_eck_id_is_reported() {
        let xml = edex(
            &("<leerling key=\"1\" eckid=\"met spatie\">".to_owned() + JANSEN + "</leerling>"),
            "",
        );
        assert_rules(&problems(&xml), &["eckid.ongeldig"]);
    }

    #[test]
    fn email_addresses_must_be_valid() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><roepnaam>A</roepnaam><emailadres>juf@school</emailadres></leerkracht></leerkrachten>";
        let p = problems(&edex(&pupil("1", JANSEN), teachers));
        assert_rules(&p, &["emailadres.ongeldig"]);
        assert!(p.0[0].message_nl.contains("naam@domein.nl"));
    }

    #[test]
    fn duplicate_teacher_email_is_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T1\"><roepnaam>A</roepnaam><emailadres>juf@school.nl</emailadres></leerkracht>\
                    <leerkracht key=\"T2\"><roepnaam>B</roepnaam><emailadres>Juf@School.nl</emailadres></leerkracht></leerkrachten>";
        let p = problems(&edex(&pupil("1", JANSEN), teachers));
        assert_rules(&p, &["leerkracht.emailadres.dubbel"]);
        assert_eq!(p.0[0].path, "/EDEX/leerkrachten/leerkracht[2]");
        assert!(
            p.0[0]
                .message_nl
                .contains("/EDEX/leerkrachten/leerkracht[1]"),
            "{p}"
        );
    }

    #[test]
    fn teacher_without_name_is_reported() {
        let teachers = "<leerkrachten><leerkracht key=\"T\"><voornamen>Anna</voornamen></leerkracht></leerkrachten>";
        assert_rules(
            &problems(&edex(&pupil("1", JANSEN), teachers)),
            &[
                "leerkracht.naam.verplicht",
                "leerkracht.naam.achternaam_ontbreekt",
            ],
        );
    }

    // ----- pupils who left -----

    #[test]
    fn pupils_who_left_before_the_peildatum_are_left_out() {
        let pupils = [
            pupil(
                "weg",
                "<achternaam>A</achternaam><jaargroep>8</jaargroep><uitstroomdatum>2025-09-30</uitstroomdatum>",
            ),
            pupil(
                "laatste-dag",
                "<achternaam>B</achternaam><jaargroep>8</jaargroep><uitstroomdatum>2025-10-01</uitstroomdatum>",
            ),
            pupil(
                "gaat-weg",
                "<achternaam>C</achternaam><jaargroep>8</jaargroep><uitstroomdatum>2026-07-10</uitstroomdatum>",
            ),
            pupil(
                "blijft",
                "<achternaam>D</achternaam><jaargroep>8</jaargroep>",
            ),
        ];
        let s = ok(&edex(&pupils.join(""), ""));
        assert_eq!(s.reference_date.as_str(), "2025-10-01");
        assert_eq!(
            keys(s.pupils.iter().map(|p| &p.key)),
            ["laatste-dag", "gaat-weg", "blijft"]
        );
        assert_eq!(keys(&s.left_pupils), ["weg"]);
    }

    #[test]
    fn aanmaakdatum_is_the_reference_date_without_peildatum() {
        let school = "<schooljaar>2025-2026</schooljaar><brincode>99ZZ</brincode>\
                  <aanmaakdatum>2025-11-15T09:00:00</aanmaakdatum>";
        let pupils = [
            pupil(
                "weg",
                "<achternaam>A</achternaam><jaargroep>8</jaargroep><uitstroomdatum>2025-11-14</uitstroomdatum>",
            ),
            pupil(
                "blijft",
                "<achternaam>B</achternaam><jaargroep>8</jaargroep><uitstroomdatum>2025-11-15</uitstroomdatum>",
            ),
        ];
        let s = ok(&edex_with_school(
            school,
            &format!("<leerlingen>{}</leerlingen>", pupils.join("")),
        ));
        assert_eq!(s.peildatum, None);
        assert_eq!(s.reference_date.as_str(), "2025-11-15");
        assert_eq!(keys(&s.left_pupils), ["weg"]);
    }

    #[test]
    fn pupils_who_left_are_still_validated() {
        let gone = pupil(
            "weg",
            "<achternaam>A</achternaam><uitstroomdatum>2020-01-01</uitstroomdatum>",
        );
        let p = problems(&edex(&(gone + &pupil("2", JANSEN)), ""));
        assert_rules(&p, &["leerling.jaargroep.verplicht"]);
    }

    #[test]
    fn file_in_which_every_pupil_left_is_refused() {
        let xml = edex(
            &pupil(
                "weg",
                "<achternaam>A</achternaam><jaargroep>H</jaargroep><uitstroomdatum>2020-07-01</uitstroomdatum>",
            ),
            "",
        );
        let p = problems(&xml);
        assert_rules(&p, &["leerlingen.allemaal_vertrokken"]);
        assert_eq!(p.0[0].path, "/EDEX/leerlingen");
    }

    // ----- reporting -----

    #[test]
    fn all_problems_are_reported_at_once() {
        let xml = edex_with_school(
            "<schooljaar>2025-2027</schooljaar><brincode>99zz</brincode>",
            &format!(
                "{GROUPS}<leerlingen>{}{}{}</leerlingen>",
                pupil("1", "<achternaam>Jansen</achternaam>"),
                pupil(
                    "1",
                    "<achternaam>Dijk</achternaam><jaargroep>3</jaargroep><groep key=\"G9\"/>"
                ),
                pupil(
                    "3",
                    "<achternaam>Berg</achternaam><geboortedatum>2018-02-30</geboortedatum><jaargroep>3</jaargroep><kleur/>"
                ),
            ),
        );
        let p = problems(&xml);
        assert_rules(
            &p,
            &[
                "schooljaar.ongeldig",
                "school.brincode.ongeldig",
                "leerling.jaargroep.verplicht",
                "leerling.key.dubbel",
                "leerling.groep.onbekend",
                "datum.ongeldig",
                "element.onbekend",
            ],
        );
        // File order, every one placed.
        let places: Vec<(usize, usize)> = p.0.iter().map(|x| (x.line, x.column)).collect();
        let mut sorted = places.clone();
        sorted.sort();
        assert_eq!(places, sorted);
        let text = p.to_string();
        assert!(
            text.starts_with("Het EDEXML-bestand is niet ingelezen: er zijn 7 problemen gevonden.")
        );
        assert!(text.contains("The EDEXML file was not imported: 7 problems were found."));
        assert!(
            text.contains(
                "Regel 3, kolom 9 (/EDEX/school/schooljaar): het schooljaar \"2025-2027\""
            )
        );
        assert!(text.contains("Line 3, column 9 (/EDEX/school/schooljaar): the school year"));
        let err: &dyn std::error::Error = &p;
        assert!(err.to_string().contains("leerling.groep.onbekend"));
    }

    #[test]
    fn too_many_problems_are_capped() {
        let bad: String = (0..reader::MAX_PROBLEMS + 500)
            .map(|i| pupil(&i.to_string(), "<achternaam>A</achternaam>"))
            .collect();
        let p = problems(&edex(&bad, ""));
        assert_eq!(p.len(), reader::MAX_PROBLEMS + 1);
        let last = p.0.last().unwrap();
        assert_eq!(last.rule, "bestand.te_veel_problemen");
        assert!(last.message_nl.contains("nog 500 problemen"), "{last}");
    }

    #[test]
    fn snapshot_keeps_file_order_and_deduplicates_references() {
        let xml = edex(
            &pupil(
                "1",
                "<achternaam>Jansen</achternaam><jaargroep>3</jaargroep><samengestelde_groepen>\
             <samengestelde_groep key=\"PLUS\"/><samengestelde_groep key=\"PLUS\"/></samengestelde_groepen>",
            ),
            "",
        );
        assert_eq!(keys(&ok(&xml).pupils[0].combined_groups), ["PLUS"]);
    }
}
