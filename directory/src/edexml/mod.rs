//! EDEXML 2.0 and 2.1: a streaming reader that turns the export of a school's pupil
//! administration (LAS) into a validated snapshot of one school location, or into the complete
//! list of what is wrong with the file.
//!
//! This is the first step of an import; comparing the snapshot with the register and applying
//! the difference come after it. Reading follows `EDEXML.structuur.xsd` and
//! `EDEXML.elementen.xsd` (element order, required elements, cardinalities, value types, unique
//! keys and ECK-iDs, references that resolve) and the business rules of the EDEXML manual
//! (*Handleiding EDEXML 2.1*): every pupil has a jaargroep, a person has at least an achternaam
//! or a roepnaam, achternaam and voorvoegsel carry no stray spaces, keys are trimmed.
//!
//! Decisions beyond the schema, each with a test in `directory/tests/edexml.rs`:
//!
//! - **Safety.** A DOCTYPE anywhere ends the read with a problem, before any entity could be
//!   declared; quick-xml never expands entities, and references other than the five predefined
//!   ones and character references are problems. A file over [`Limits::max_bytes`] is refused
//!   before a byte of it is parsed. Nesting is capped at 64 levels, a field's kept text at 4 KiB,
//!   and the problem list at [`MAX_PROBLEMS`] entries (then counted), so memory follows the
//!   snapshot, not the file's tricks. Malformed XML stops the read with its line and column;
//!   every other problem is collected and the read goes on, so one upload shows them all.
//! - **Encoding.** UTF-8 (with or without BOM) as the schema prescribes; a file whose XML
//!   declaration says ISO-8859-1, Windows-1252 or ISO-8859-15 is decoded from that (ISO-8859-1 as
//!   Windows-1252, as browsers do, since such exports often hold Windows quotes). UTF-16 and any
//!   other declared encoding are refused with a problem asking for a UTF-8 export; bytes that
//!   are not valid UTF-8 in a UTF-8 file are refused with their line and column.
//! - **Version.** `school/xsdversie` declares it (the root element has no version attribute).
//!   "2.0" and "2.1" are read; any other value is a problem. Without `xsdversie` the 2.1 rules
//!   apply (they accept every valid 2.0 file) and [`Snapshot::version`] says "2.1". The
//!   `eckid` attribute and the role TAL are problems in a 2.0 file. Keys may be 256 characters in
//!   both versions: the manual raised the limit from 64 in 2.0, although the stock 2.0 XSD
//!   (marked CONCEPT) still says 64.
//! - **School year.** The stock schemas enumerate 1991-1992 up to 2024-2025 only; any later
//!   school year is accepted by its pattern (two consecutive years).
//! - **School.** openpoort matches a file to a school location by BRIN and dependancecode, so a
//!   file without a brincode (only a schoolkey) is refused. A Flemish file (`instellingsnummer`
//!   instead of `brincode`) is refused with a problem saying so: openpoort serves Dutch schools.
//!   A missing dependancecode means the main location: the schema notes that "00" means the same
//!   as empty; [`Snapshot::dependancecode`] keeps what the file says and
//!   [`Snapshot::school_code`] gives `00` for `None`.
//! - **Pupils who left.** The manual marks ex-pupils with an uitstroomdatum before the
//!   peildatum or, without one, the creation date (`aanmaakdatum`); those pupils are left out of
//!   the snapshot without a problem (their keys are listed in [`Snapshot::left_pupils`]). A file
//!   with neither date is compared with today's date in the Netherlands. A pupil leaving on the
//!   reference date itself is kept (the uitstroomdatum is their last day). Left pupils are still
//!   validated like every other pupil, since the schema's rules cover the whole file. A file in
//!   which every pupil has left is refused: importing it would empty the school.
//! - **Names.** The schema allows a pupil or teacher with only a roepnaam (the reference
//!   examples have them), so `achternaam` is an `Option` in the snapshot.
//! - **Roles.** EDEXML roles are kept as information only ([`SnapshotTeacher::roles_info`]);
//!   the manual itself warns against using them for authorisation, and openpoort never does.
//! - **What is kept.** Only what openpoort uses: no BSN, onderwijsnummer, address, ethnicity,
//!   pupil weight, photo URL or pupil e-mail address is kept, although all of them are checked.
//!   Problem messages never repeat identity numbers.

mod document;
pub(crate) mod encoding;
mod problem;
mod schema;
mod values;
mod xml;

use serde::Serialize;

pub use problem::{Problem, Problems};
pub use values::DateTime;

use crate::model::{Brin, Date, EckId, Email, Jaargroep, LasKey, SchoolCode, Vestigingscode};

/// At most this many problems are listed; the rest of a hopeless file is only counted.
pub const MAX_PROBLEMS: usize = 1000;

/// Limits on what [`parse`] accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Larger files are refused before parsing. Default 64 MiB: a school of 2,000 pupils
    /// exports well under 2 MiB.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// One school location's pupils, groups and teachers as a valid EDEXML file states them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// "2.0" or "2.1", from `school/xsdversie` ("2.1" when the file does not say).
    pub version: String,
    pub brincode: Brin,
    /// As the file states it; `None` means the main location, see [`Snapshot::school_code`].
    pub dependancecode: Option<Vestigingscode>,
    /// E.g. "2025-2026".
    pub schooljaar: String,
    /// `school/peildatum`: the day the data describe, when it differs from the creation date.
    pub peildatum: Option<Date>,
    /// `school/aanmaakdatum`: when the LAS wrote the file.
    pub aanmaakdatum: Option<DateTime>,
    /// The day against which leaving dates were compared: the peildatum, else the creation date,
    /// else the day of reading in the Netherlands.
    pub reference_date: Date,
    /// Stamgroepen (`<groep>`), in file order.
    pub groups: Vec<SnapshotGroup>,
    /// `<samengestelde_groep>`, in file order.
    pub combined_groups: Vec<SnapshotCombinedGroup>,
    /// Pupils at the school on the reference date, in file order.
    pub pupils: Vec<SnapshotPupil>,
    /// Keys of pupils in the file who had left before the reference date.
    pub left_pupils: Vec<LasKey>,
    pub teachers: Vec<SnapshotTeacher>,
}

impl Snapshot {
    /// BRIN and vestigingscode of the location; a file without dependancecode is the main
    /// location, `00`.
    pub fn school_code(&self) -> SchoolCode {
        SchoolCode {
            brin: self.brincode.clone(),
            vestigingscode: self.dependancecode.clone().unwrap_or_else(|| {
                Vestigingscode::parse("00").expect("00 is a well-formed vestigingscode")
            }),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotGroup {
    pub key: LasKey,
    pub name: String,
    pub jaargroep: Jaargroep,
    pub mutatiedatum: Option<DateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotCombinedGroup {
    pub key: LasKey,
    pub name: String,
    pub mutatiedatum: Option<DateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotPupil {
    pub key: LasKey,
    pub eck_id: Option<EckId>,
    /// The significant part of the surname (without voorvoegsel); `None` for a pupil known by
    /// roepnaam only, which EDEXML allows.
    pub achternaam: Option<String>,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub geboortedatum: Option<Date>,
    /// NEN-ISO 5218 code as in the file: "0" unknown, "1" boy, "2" girl, "9" not specified.
    pub geslacht: Option<String>,
    pub jaargroep: Jaargroep,
    pub stamgroep: Option<LasKey>,
    pub combined_groups: Vec<LasKey>,
    /// A leaving date on or after the reference date (earlier ones are left out).
    pub uitstroomdatum: Option<Date>,
    pub mutatiedatum: Option<DateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotTeacher {
    pub key: LasKey,
    pub eck_id: Option<EckId>,
    pub achternaam: Option<String>,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    pub email: Option<Email>,
    pub groups: Vec<LasKey>,
    pub combined_groups: Vec<LasKey>,
    /// EDEXML roles of the teacher (codes such as "IB", or free `rolomschrijving` text), as
    /// information only: never a permission.
    pub roles_info: Vec<String>,
    /// Roles the teacher has in one group (`<groep key="…"><rol>STA</rol></groep>`), likewise
    /// information only.
    pub group_roles_info: Vec<(LasKey, String)>,
    pub mutatiedatum: Option<DateTime>,
}

/// Reads one EDEXML 2.0 or 2.1 file. Either every rule holds and the snapshot is returned, or
/// every problem found is, in file order.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Snapshot, Problems> {
    parse_with_today(bytes, limits, || Date::in_netherlands(crate::now()))
}

fn parse_with_today(
    bytes: &[u8],
    limits: &Limits,
    today: impl FnOnce() -> Date,
) -> Result<Snapshot, Problems> {
    if bytes.len() > limits.max_bytes {
        let mib = |n: usize| n.div_ceil(1024 * 1024);
        return Err(Problems(vec![Problem {
            line: 1,
            column: 1,
            path: "/".into(),
            rule: "bestand.te_groot",
            message_nl: format!(
                "het bestand is {} MiB groot; openpoort leest bestanden tot {} MiB. Controleer \
                 of u het goede bestand hebt gekozen: een EDEXML-export van één school is \
                 meestal kleiner dan 2 MiB.",
                mib(bytes.len()),
                mib(limits.max_bytes)
            ),
            message_en: format!(
                "the file is {} MiB; openpoort reads files up to {} MiB. Check that you chose \
                 the right file: an EDEXML export of one school is usually under 2 MiB.",
                mib(bytes.len()),
                mib(limits.max_bytes)
            ),
        }]));
    }
    let text = encoding::decode(bytes).map_err(|r| {
        Problems(vec![Problem {
            line: r.line,
            column: r.column,
            path: "/".into(),
            rule: r.issue.rule,
            message_nl: r.issue.nl,
            message_en: r.issue.en,
        }])
    })?;
    let mut xml = xml::Xml::new(&text, MAX_PROBLEMS);
    xml.scan_characters(&text);
    let snapshot = match document::Doc::read(&mut xml) {
        Ok(doc) => doc.into_snapshot(&mut xml, today),
        Err(xml::Stop) => None,
    };
    match snapshot {
        Some(s) if xml.is_clean() => Ok(s),
        _ => Err(xml.finish(&text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_DATES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<EDEX>
  <school><schooljaar>2025-2026</schooljaar><brincode>99ZZ</brincode></school>
  <leerlingen>
    <leerling key="1"><roepnaam>Ans</roepnaam><jaargroep>3</jaargroep><uitstroomdatum>2026-01-31</uitstroomdatum></leerling>
    <leerling key="2"><roepnaam>Bo</roepnaam><jaargroep>3</jaargroep><uitstroomdatum>2026-02-01</uitstroomdatum></leerling>
  </leerlingen>
</EDEX>"#;

    #[test]
    fn without_peildatum_or_aanmaakdatum_today_is_the_reference_date() {
        let today = || Date::parse("t", "2026-02-01").unwrap();
        let s = parse_with_today(NO_DATES.as_bytes(), &Limits::default(), today).unwrap();
        assert_eq!(s.reference_date.as_str(), "2026-02-01");
        assert_eq!(s.left_pupils, vec![LasKey::parse("1").unwrap()]);
        assert_eq!(s.pupils.len(), 1);
        assert_eq!(s.pupils[0].key.as_str(), "2");
    }
}
