//! The EDEXML document: school, locations, groups, pupils and teachers as the schema and the
//! manual define them, read element by element into the snapshot, with the cross-checks
//! (unique keys and ECK-iDs, references that resolve) once the whole file has been seen.

use std::collections::HashMap;

use super::problem::Issue;
use super::schema;
use super::values::{self, ADVICE_EN, ADVICE_NL, DateTime, Text};
use super::xml::{Child, Cursor, Site, Stop, Xml};
use super::{Snapshot, SnapshotCombinedGroup, SnapshotGroup, SnapshotPupil, SnapshotTeacher};
use crate::model::{Brin, Date, EckId, Email, LasKey, Vestigingscode};

#[derive(Clone, Copy, PartialEq, Eq)]
enum GroupKind {
    Stam,
    Combined,
}

#[derive(Clone, Copy)]
enum RefKind {
    PupilGroup,
    PupilCombined,
    PupilLocation,
    TeacherGroup,
    TeacherCombined,
}

/// A reference to a group or location, resolved when the whole file has been read: a file with
/// its sections out of order is reported for that, not also for every reference in it.
///
/// Its place is kept as numbers, not as a path string: a large file has a reference or two per
/// pupil, and only dangling ones ever need their path spelled out.
struct Ref {
    kind: RefKind,
    key: LasKey,
    offset: usize,
    /// Index of the pupil or teacher among its siblings.
    owner: u32,
    /// Index of the reference element among its same-named siblings.
    item: u32,
}

impl Ref {
    fn path(&self) -> String {
        let (owner, item) = (self.owner, self.item);
        match self.kind {
            RefKind::PupilGroup => format!("{}/groep", pupil_path(owner)),
            RefKind::PupilCombined => format!(
                "{}/samengestelde_groepen/samengestelde_groep[{item}]",
                pupil_path(owner)
            ),
            RefKind::PupilLocation => format!("{}/vestiging", pupil_path(owner)),
            RefKind::TeacherGroup => format!("{}/groepen/groep[{item}]", teacher_path(owner)),
            RefKind::TeacherCombined => {
                format!(
                    "{}/groepen/samengestelde_groep[{item}]",
                    teacher_path(owner)
                )
            }
        }
    }
}

// The paths of records the schema allows in one place only; they match what `Xml` reports
// (`child` skips a second <leerlingen> or <leerkrachten> block, so none of its records is kept).
fn pupil_path(index: u32) -> String {
    format!("/EDEX/leerlingen/leerling[{index}]")
}

fn teacher_path(index: u32) -> String {
    format!("/EDEX/leerkrachten/leerkracht[{index}]")
}

fn location_path(index: u32) -> String {
    format!("/EDEX/vestigingen/vestiging[{index}]")
}

fn group_path(kind: GroupKind, index: u32) -> String {
    match kind {
        GroupKind::Stam => format!("/EDEX/groepen/groep[{index}]"),
        GroupKind::Combined => format!("/EDEX/groepen/samengestelde_groep[{index}]"),
    }
}

#[derive(Default)]
pub(super) struct Doc {
    /// `None` until `xsdversie` is read; EDEXML 2.1 rules apply without one.
    version: Option<String>,
    schooljaar: Option<String>,
    peildatum: Option<Date>,
    brincode: Option<Brin>,
    dependancecode: Option<Vestigingscode>,
    aanmaakdatum: Option<DateTime>,
    groups: Vec<SnapshotGroup>,
    combined_groups: Vec<SnapshotCombinedGroup>,
    pupils: Vec<SnapshotPupil>,
    teachers: Vec<SnapshotTeacher>,
    /// Group and combined-group keys share one space (the schema's `groepKeyUnique`).
    /// Each unique value maps to the index of the record that had it first.
    group_keys: HashMap<LasKey, (GroupKind, u32)>,
    location_keys: HashMap<LasKey, u32>,
    pupil_keys: HashMap<LasKey, u32>,
    teacher_keys: HashMap<LasKey, u32>,
    pupil_eck_ids: HashMap<EckId, u32>,
    teacher_eck_ids: HashMap<EckId, u32>,
    teacher_emails: HashMap<Email, u32>,
    refs: Vec<Ref>,
    pupils_site: Option<Site>,
}

fn key_of(xml: &mut Xml<'_>, raw: Option<String>) -> Option<LasKey> {
    match values::key(&raw?) {
        Ok(k) => Some(k),
        Err(issue) => {
            xml.report(issue);
            None
        }
    }
}

/// Records which record (`owner`, by index) had a value that must be unique first; on a
/// repeat, reports `issue` with that record's path.
fn claim<K: std::hash::Hash + Eq + Clone>(
    xml: &mut Xml<'_>,
    seen: &mut HashMap<K, u32>,
    value: &K,
    owner: u32,
    path: fn(u32) -> String,
    issue: impl FnOnce(&str) -> Issue,
) {
    if let Some(first) = seen.get(value) {
        let issue = issue(&path(*first));
        xml.report(issue);
    } else {
        seen.insert(value.clone(), owner);
    }
}

/// "de leerling Wimpie Hof (sleutel 00001)" for messages about a person.
fn who(
    nl: &str,
    en: &str,
    key: Option<&LasKey>,
    roepnaam: Option<&str>,
    achternaam: Option<&str>,
) -> (String, String) {
    let name: Vec<&str> = [roepnaam, achternaam].into_iter().flatten().collect();
    let name = if name.is_empty() {
        String::new()
    } else {
        format!(" {}", name.join(" "))
    };
    match key {
        Some(k) => (
            format!("{nl}{name} (sleutel \"{k}\")"),
            format!("{en}{name} (key \"{k}\")"),
        ),
        None => (format!("{nl}{name}"), format!("{en}{name}")),
    }
}

/// The name elements shared by pupils and teachers, and which of them were present at all
/// (present with a wrong value still counts: that value is reported on its own).
#[derive(Default)]
struct Name {
    achternaam: Option<String>,
    voorvoegsel: Option<String>,
    voornamen: Option<String>,
    roepnaam: Option<String>,
    has_achternaam: bool,
    has_roepnaam: bool,
    has_achternaam_parts: bool,
}

impl Name {
    /// Reads `c` if it is a name element; false if it is not one.
    fn read(&mut self, xml: &mut Xml<'_>, c: &Child) -> Result<bool, Stop> {
        match c.name {
            "achternaam" => {
                self.has_achternaam = true;
                self.achternaam =
                    xml.leaf(|t| values::name_part(t, "de achternaam", "the surname", 200))?;
            }
            "voorvoegsel" => {
                self.has_achternaam_parts = true;
                self.voorvoegsel = xml
                    .leaf(|t| values::name_part(t, "het voorvoegsel", "the surname prefix", 10))?;
            }
            "voornamen" => {
                self.has_achternaam_parts = true;
                self.voornamen =
                    xml.leaf(|t| values::name(t, "de voornamen", "the given names", 200))?;
            }
            "voorletters-1" => {
                self.has_achternaam_parts = true;
                xml.leaf(|t| values::name(t, "de voorletters", "the initials", 6))?;
            }
            "roepnaam" => {
                self.has_roepnaam = true;
                self.roepnaam =
                    xml.leaf(|t| values::name(t, "de roepnaam", "the first name", 64))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// "de leerling Wimpie Hof (sleutel "00001")", built only for a message.
    fn who(&self, kind: (&str, &str), key: Option<&LasKey>) -> (String, String) {
        who(
            kind.0,
            kind.1,
            key,
            self.roepnaam.as_deref(),
            self.achternaam.as_deref(),
        )
    }

    /// The manual: at least an achternaam or a roepnaam; voorvoegsel, voornamen and
    /// voorletters only together with an achternaam (the schema's choice of the two forms).
    fn check(
        &self,
        xml: &mut Xml<'_>,
        kind: (&str, &str),
        key: Option<&LasKey>,
        rule: [&'static str; 2],
    ) {
        if self.has_achternaam {
            return;
        }
        if !self.has_roepnaam {
            let who = self.who(kind, key);
            xml.report(Issue::new(
                rule[0],
                format!(
                    "{} heeft geen achternaam en geen roepnaam; minstens een van de twee is \
                     verplicht. Vul de naam in de leerlingadministratie in en exporteer opnieuw.",
                    who.0
                ),
                format!(
                    "{} has neither a surname nor a first name; at least one of them is \
                     required. Fill in the name in the pupil administration and export again.",
                    who.1
                ),
            ));
        }
        if self.has_achternaam_parts {
            let who = self.who(kind, key);
            xml.report(Issue::new(
                rule[1],
                format!(
                    "{} heeft een voorvoegsel, voornamen of voorletters maar geen achternaam; \
                     die mogen alleen samen met een achternaam voorkomen. Vul de achternaam in \
                     de leerlingadministratie in en exporteer opnieuw.",
                    who.0
                ),
                format!(
                    "{} has a surname prefix, given names or initials but no surname; those may \
                     only occur together with a surname. Fill in the surname in the pupil \
                     administration and export again.",
                    who.1
                ),
            ));
        }
    }
}

/// Text whose content EDEXML leaves free (xs:string): only its being text is checked.
fn any_text(_: &Text) -> Result<(), Issue> {
    Ok(())
}

impl Doc {
    fn version_2_0(&self) -> bool {
        self.version.as_deref() == Some("2.0")
    }

    pub fn read(xml: &mut Xml<'_>) -> Result<Doc, Stop> {
        let mut doc = Doc::default();
        xml.root()?;
        let mut cur = Cursor::new(schema::EDEX);
        while let Some(c) = xml.child(&mut cur)? {
            match c.name {
                "school" => doc.school(xml)?,
                "vestigingen" => doc.locations(xml)?,
                "groepen" => doc.groups(xml)?,
                "leerlingen" => doc.pupils(xml)?,
                "leerkrachten" => doc.teachers(xml)?,
                _ => xml.skip()?,
            }
        }
        xml.close();
        xml.epilogue()?;
        doc.resolve(xml);
        Ok(doc)
    }

    fn school(&mut self, xml: &mut Xml<'_>) -> Result<(), Stop> {
        let mut cur = Cursor::new(schema::SCHOOL);
        let mut identified = false;
        while let Some(c) = xml.child(&mut cur)? {
            match c.name {
                "schooljaar" => self.schooljaar = xml.leaf(values::schooljaar)?,
                "peildatum" => {
                    self.peildatum =
                        xml.leaf(|t| values::date(t, "de peildatum", "the peildatum"))?;
                }
                "brincode" => {
                    identified = true;
                    self.brincode = xml.leaf(values::brincode)?;
                }
                "instellingsnummer" => {
                    identified = true;
                    xml.report(Issue::new(
                        "school.instellingsnummer.vlaams",
                        "dit is een Vlaams EDEXML-bestand: de school heeft een instellingsnummer \
                         in plaats van een brincode. openpoort is er voor Nederlandse scholen en \
                         leest alleen bestanden met een brincode. Neem contact op met de \
                         beheerder van openpoort als u denkt dat dit een vergissing is.",
                        "this is a Flemish EDEXML file: the school has an instellingsnummer \
                         instead of a BRIN. openpoort serves Dutch schools and reads only files \
                         with a BRIN. Contact openpoort's operator if you think this is a \
                         mistake.",
                    ));
                    xml.leaf(any_text)?;
                }
                "dependancecode" => self.dependancecode = xml.leaf(values::dependancecode)?,
                "schoolkey" => {
                    xml.leaf(|t| values::key(&t.value).map(drop))?;
                }
                "aanmaakdatum" => {
                    self.aanmaakdatum = xml.leaf(|t| {
                        values::date_time(t, "de aanmaakdatum", "the creation date (aanmaakdatum)")
                    })?;
                }
                "auteur" => {
                    xml.leaf(|t| values::string(t, "de auteur", "the author", 128))?;
                }
                "xsdversie" => {
                    if let Some(v) = xml.leaf(xsd_version)? {
                        self.version = Some(v);
                    }
                }
                "commentaar" => {
                    xml.leaf(any_text)?;
                }
                // Party-specific blocks (ToevoegingsBlokType extensions) are not ours to judge.
                "toevoegingen" => xml.skip()?,
                _ => xml.skip()?,
            }
        }
        if !identified {
            xml.report(Issue::new(
                "school.brincode.verplicht",
                "het blok <school> heeft geen brincode. openpoort koppelt het bestand aan de \
                 school via de brincode (en dependancecode); controleer de schoolgegevens in de \
                 leerlingadministratie en exporteer opnieuw.",
                "the <school> block has no BRIN. openpoort matches the file to the school by its \
                 BRIN (and dependancecode); check the school's details in the pupil \
                 administration and export again.",
            ));
        }
        xml.close();
        Ok(())
    }

    fn locations(&mut self, xml: &mut Xml<'_>) -> Result<(), Stop> {
        let mut cur = Cursor::new(schema::VESTIGINGEN);
        while let Some(c) = xml.child(&mut cur)? {
            if let Some(key) = key_of(xml, c.key) {
                let me = xml.index();
                claim(
                    xml,
                    &mut self.location_keys,
                    &key,
                    me,
                    location_path,
                    |first| duplicate("vestiging.key.dubbel", "vestiging", "location", &key, first),
                );
            }
            let mut inner = Cursor::new(schema::VESTIGING);
            while let Some(c) = xml.child(&mut inner)? {
                match c.name {
                    "naam" => {
                        xml.leaf(|t| {
                            values::name(t, "de naam van de vestiging", "the location's name", 64)
                        })?;
                    }
                    "omschrijving" => {
                        xml.leaf(|t| values::string(t, "de omschrijving", "the description", 256))?;
                    }
                    "mutatiedatum" => {
                        xml.leaf(|t| {
                            values::date_time(t, "de mutatiedatum", "the modification date")
                        })?;
                    }
                    _ => xml.skip()?,
                }
            }
            xml.close();
        }
        xml.close();
        Ok(())
    }

    fn groups(&mut self, xml: &mut Xml<'_>) -> Result<(), Stop> {
        let mut cur = Cursor::new(schema::GROEPEN);
        while let Some(c) = xml.child(&mut cur)? {
            let kind = if c.name == "groep" {
                GroupKind::Stam
            } else {
                GroupKind::Combined
            };
            let key = key_of(xml, c.key);
            if let Some(key) = &key {
                if let Some((first_kind, first)) = self.group_keys.get(key) {
                    let first = group_path(*first_kind, *first);
                    let issue = duplicate("groep.key.dubbel", "groep", "group", key, &first);
                    xml.report(issue);
                } else {
                    self.group_keys.insert(key.clone(), (kind, xml.index()));
                }
            }
            let model = match kind {
                GroupKind::Stam => schema::GROEP,
                GroupKind::Combined => schema::SAMENGESTELDE_GROEP,
            };
            let mut inner = Cursor::new(model);
            let mut name = None;
            let mut jaargroep = None;
            let mut mutatiedatum = None;
            while let Some(c) = xml.child(&mut inner)? {
                match c.name {
                    "naam" => {
                        name = xml.leaf(|t| {
                            values::name(t, "de naam van de groep", "the group's name", 64)
                        })?;
                    }
                    "jaargroep" => jaargroep = xml.leaf(values::jaargroep)?,
                    // Party-specific blocks are not ours to judge.
                    "toevoegingen" => xml.skip()?,
                    "omschrijving" => {
                        xml.leaf(|t| values::string(t, "de omschrijving", "the description", 256))?;
                    }
                    "mutatiedatum" => {
                        mutatiedatum = xml.leaf(|t| {
                            values::date_time(t, "de mutatiedatum", "the modification date")
                        })?;
                    }
                    _ => xml.skip()?,
                }
            }
            xml.close();
            match (kind, key, name, jaargroep) {
                (GroupKind::Stam, Some(key), Some(name), Some(jaargroep)) => {
                    self.groups.push(SnapshotGroup {
                        key,
                        name,
                        jaargroep,
                        mutatiedatum,
                    });
                }
                (GroupKind::Combined, Some(key), Some(name), _) => {
                    self.combined_groups.push(SnapshotCombinedGroup {
                        key,
                        name,
                        mutatiedatum,
                    });
                }
                // Whatever is missing has been reported; the file yields no snapshot.
                _ => {}
            }
        }
        xml.close();
        Ok(())
    }

    fn eck_id(&mut self, xml: &mut Xml<'_>, raw: Option<String>, pupil: bool) -> Option<EckId> {
        let me = xml.index();
        let raw = raw?;
        if self.version_2_0() {
            xml.report(Issue::new(
                "eckid.versie",
                "het attribuut eckid (ECK-iD) bestaat pas in EDEXML 2.1, maar dit bestand is \
                 versie 2.0. Exporteer het bestand als EDEXML 2.1.",
                "the eckid attribute (ECK-iD) exists only from EDEXML 2.1 on, but this file is \
                 version 2.0. Export the file as EDEXML 2.1.",
            ));
        }
        let id = match values::eckid(&raw) {
            Ok(id) => id,
            Err(issue) => {
                xml.report(issue);
                return None;
            }
        };
        let (seen, path, rule, nl, en): (_, fn(u32) -> String, _, _, _) = if pupil {
            (
                &mut self.pupil_eck_ids,
                pupil_path,
                "leerling.eckid.dubbel",
                "leerling",
                "pupil",
            )
        } else {
            (
                &mut self.teacher_eck_ids,
                teacher_path,
                "leerkracht.eckid.dubbel",
                "leerkracht",
                "teacher",
            )
        };
        claim(xml, seen, &id, me, path, |first| {
            Issue::new(
                rule,
                format!(
                    "dit ECK-iD wordt al gebruikt door een andere {nl} ({first}). Een ECK-iD \
                     hoort bij één persoon; controleer de ECK-iD's in de leerlingadministratie \
                     en exporteer opnieuw."
                ),
                format!(
                    "this ECK-iD is already used by another {en} ({first}). An ECK-iD belongs to \
                     one person; check the ECK-iDs in the pupil administration and export again."
                ),
            )
        });
        Some(id)
    }

    /// A reference element (`<groep key="…"/>`): its key is kept for resolving at the end.
    fn reference(
        &mut self,
        xml: &mut Xml<'_>,
        c: Child,
        kind: RefKind,
        owner: u32,
    ) -> Result<Option<LasKey>, Stop> {
        let key = key_of(xml, c.key);
        if let Some(key) = &key {
            self.refs.push(Ref {
                kind,
                key: key.clone(),
                offset: xml.offset(),
                owner,
                item: xml.index(),
            });
        }
        xml.no_content()?;
        Ok(key)
    }

    fn pupils(&mut self, xml: &mut Xml<'_>) -> Result<(), Stop> {
        self.pupils_site = Some(xml.site());
        let mut cur = Cursor::new(schema::LEERLINGEN);
        while let Some(c) = xml.child(&mut cur)? {
            self.pupil(xml, c)?;
        }
        xml.close();
        Ok(())
    }

    fn pupil(&mut self, xml: &mut Xml<'_>, c: Child) -> Result<(), Stop> {
        let me = xml.index();
        let key = key_of(xml, c.key);
        if let Some(key) = &key {
            claim(xml, &mut self.pupil_keys, key, me, pupil_path, |first| {
                duplicate("leerling.key.dubbel", "leerling", "pupil", key, first)
            });
        }
        let eck_id = self.eck_id(xml, c.eckid, true);
        let mut name = Name::default();
        let mut geboortedatum = None;
        let mut geslacht = None;
        let mut jaargroep = None;
        let mut has_jaargroep = false;
        let mut stamgroep = None;
        let mut combined_groups: Vec<LasKey> = Vec::new();
        let mut uitstroomdatum = None;
        let mut mutatiedatum = None;
        let mut cur = Cursor::new(schema::LEERLING);
        while let Some(c) = xml.child(&mut cur)? {
            if name.read(xml, &c)? {
                continue;
            }
            match c.name {
                // Party-specific blocks (ToevoegingsBlokType extensions) are not ours to judge.
                "toevoegingen" => xml.skip()?,
                "geboortedatum" => {
                    geboortedatum =
                        xml.leaf(|t| values::date(t, "de geboortedatum", "the date of birth"))?;
                }
                "geslacht" => geslacht = xml.leaf(values::geslacht)?,
                "start_ondw_jgr3" => {
                    xml.leaf(|t| {
                        values::date(
                            t,
                            "de startdatum van groep 3",
                            "the start date of year group 3",
                        )
                    })?;
                }
                "jaargroep" => {
                    has_jaargroep = true;
                    jaargroep = xml.leaf(values::jaargroep)?;
                }
                "groep" => stamgroep = self.reference(xml, c, RefKind::PupilGroup, me)?,
                "samengestelde_groepen" => {
                    let mut inner = Cursor::new(schema::LEERLING_SAMENGESTELDE_GROEPEN);
                    while let Some(c) = xml.child(&mut inner)? {
                        if let Some(key) = self.reference(xml, c, RefKind::PupilCombined, me)?
                            && !combined_groups.contains(&key)
                        {
                            combined_groups.push(key);
                        }
                    }
                    xml.close();
                }
                "vestiging" => {
                    self.reference(xml, c, RefKind::PupilLocation, me)?;
                }
                "gebruikersnaam" => {
                    xml.leaf(|t| values::string(t, "de gebruikersnaam", "the user name", 64))?;
                }
                "emailadres" => {
                    xml.leaf(|t| {
                        values::string(t, "het e-mailadres", "the e-mail address", 256)?;
                        values::email(t)
                    })?;
                }
                "fotourl" => {
                    xml.leaf(|t| values::string(t, "de foto-URL", "the photo URL", 256))?;
                }
                "etniciteit" => {
                    xml.leaf(values::etniciteit)?;
                }
                "land" | "land_vader" | "land_moeder" => {
                    xml.leaf(values::land)?;
                }
                "sofinummer" => {
                    xml.leaf(|t| values::digits(t, 9, "het sofinummer", "the sofinummer"))?;
                }
                "bsn" => {
                    xml.leaf(|t| values::digits(t, 9, "het BSN", "the BSN"))?;
                }
                "onderwijsnummer" => {
                    xml.leaf(|t| {
                        values::digits(t, 9, "het onderwijsnummer", "the onderwijsnummer")
                    })?;
                }
                "bsn_ondwnr-4" => {
                    xml.leaf(|t| {
                        values::digits(
                            t,
                            4,
                            "bsn_ondwnr-4 (laatste 4 cijfers van BSN of onderwijsnummer)",
                            "bsn_ondwnr-4 (last 4 digits of the BSN or onderwijsnummer)",
                        )
                    })?;
                }
                "rijksregisternummer" => {
                    xml.leaf(|t| {
                        values::digits(t, 11, "het rijksregisternummer", "the rijksregisternummer")
                    })?;
                }
                "gewicht_nieuw" => {
                    xml.leaf(values::gewicht_nieuw)?;
                }
                "gewicht" => {
                    xml.leaf(values::gewicht)?;
                }
                "postcodenl" => {
                    xml.leaf(values::postcode_nl)?;
                }
                "postnummerbe" => {
                    xml.leaf(|t| values::digits(t, 4, "het postnummer", "the postnummer"))?;
                }
                "postcodeoverig" => {
                    xml.leaf(|t| values::string(t, "de postcode", "the postcode", 32))?;
                }
                "instroomdatum" => {
                    xml.leaf(|t| values::date(t, "de instroomdatum", "the date of entry"))?;
                }
                "uitstroomdatum" => {
                    uitstroomdatum =
                        xml.leaf(|t| values::date(t, "de uitstroomdatum", "the leaving date"))?;
                }
                "mutatiedatum" => {
                    mutatiedatum = xml.leaf(|t| {
                        values::date_time(t, "de mutatiedatum", "the modification date")
                    })?;
                }
                _ => xml.skip()?,
            }
        }
        const PUPIL: (&str, &str) = ("de leerling", "the pupil");
        name.check(
            xml,
            PUPIL,
            key.as_ref(),
            [
                "leerling.naam.verplicht",
                "leerling.naam.achternaam_ontbreekt",
            ],
        );
        if !has_jaargroep {
            let who = name.who(PUPIL, key.as_ref());
            xml.report(Issue::new(
                "leerling.jaargroep.verplicht",
                format!(
                    "{} heeft geen jaargroep. Vul de jaargroep in de leerlingadministratie in en \
                     exporteer opnieuw.",
                    who.0
                ),
                format!(
                    "{} has no jaargroep (year group). Fill in the year group in the pupil \
                     administration and export again.",
                    who.1
                ),
            ));
        }
        xml.close();
        if let (Some(key), Some(jaargroep)) = (key, jaargroep) {
            self.pupils.push(SnapshotPupil {
                key,
                eck_id,
                achternaam: name.achternaam,
                voorvoegsel: name.voorvoegsel,
                voornamen: name.voornamen,
                roepnaam: name.roepnaam,
                geboortedatum,
                geslacht,
                jaargroep,
                stamgroep,
                combined_groups,
                uitstroomdatum,
                mutatiedatum,
            });
        }
        Ok(())
    }

    fn teachers(&mut self, xml: &mut Xml<'_>) -> Result<(), Stop> {
        let mut cur = Cursor::new(schema::LEERKRACHTEN);
        while let Some(c) = xml.child(&mut cur)? {
            self.teacher(xml, c)?;
        }
        xml.close();
        Ok(())
    }

    fn role(&self, xml: &mut Xml<'_>, c: &Child) -> Result<Option<String>, Stop> {
        if c.name == "rol" {
            let v2_0 = self.version_2_0();
            xml.leaf(|t| values::rol(t, v2_0))
        } else {
            xml.leaf(|t| values::string(t, "de rolomschrijving", "the role description", 64))
        }
    }

    fn teacher(&mut self, xml: &mut Xml<'_>, c: Child) -> Result<(), Stop> {
        let me = xml.index();
        let key = key_of(xml, c.key);
        if let Some(key) = &key {
            claim(
                xml,
                &mut self.teacher_keys,
                key,
                me,
                teacher_path,
                |first| duplicate("leerkracht.key.dubbel", "leerkracht", "teacher", key, first),
            );
        }
        let eck_id = self.eck_id(xml, c.eckid, false);
        let mut name = Name::default();
        let mut email = None;
        let mut roles_info: Vec<String> = Vec::new();
        let mut group_roles_info: Vec<(LasKey, String)> = Vec::new();
        let mut groups: Vec<LasKey> = Vec::new();
        let mut combined_groups: Vec<LasKey> = Vec::new();
        let mut mutatiedatum = None;
        let mut cur = Cursor::new(schema::LEERKRACHT);
        while let Some(c) = xml.child(&mut cur)? {
            if name.read(xml, &c)? {
                continue;
            }
            match c.name {
                // Party-specific blocks are not ours to judge.
                "toevoegingen" => xml.skip()?,
                "gebruikersnaam" => {
                    xml.leaf(|t| values::string(t, "de gebruikersnaam", "the user name", 64))?;
                }
                "emailadres" => {
                    email = xml.leaf(|t| {
                        values::string(t, "het e-mailadres", "the e-mail address", 256)?;
                        values::email(t)
                    })?;
                    if let Some(e) = &email {
                        claim(
                            xml,
                            &mut self.teacher_emails,
                            e,
                            me,
                            teacher_path,
                            |first| {
                                Issue::new(
                                    "leerkracht.emailadres.dubbel",
                                    format!(
                                        "het e-mailadres {e} is ook opgegeven bij een andere \
                                     leerkracht ({first}). In openpoort is het e-mailadres de \
                                     inlognaam en dus van één persoon. {ADVICE_NL}"
                                    ),
                                    format!(
                                        "the e-mail address {e} is also given for another teacher \
                                     ({first}). In openpoort the e-mail address is the login \
                                     and so belongs to one person. {ADVICE_EN}"
                                    ),
                                )
                            },
                        );
                    }
                }
                "rol" | "rolomschrijving" => {
                    if let Some(r) = self.role(xml, &c)?
                        && !roles_info.contains(&r)
                    {
                        roles_info.push(r);
                    }
                }
                "groepen" => {
                    let mut inner = Cursor::new(schema::LEERKRACHT_GROEPEN);
                    while let Some(c) = xml.child(&mut inner)? {
                        let combined = c.name == "samengestelde_groep";
                        let kind = if combined {
                            RefKind::TeacherCombined
                        } else {
                            RefKind::TeacherGroup
                        };
                        let key = key_of(xml, c.key);
                        if let Some(key) = &key {
                            self.refs.push(Ref {
                                kind,
                                key: key.clone(),
                                offset: xml.offset(),
                                owner: me,
                                item: xml.index(),
                            });
                            let list = if combined {
                                &mut combined_groups
                            } else {
                                &mut groups
                            };
                            if !list.contains(key) {
                                list.push(key.clone());
                            }
                        }
                        let mut roles = Cursor::new(schema::LEERKRACHT_GROEP);
                        while let Some(c) = xml.child(&mut roles)? {
                            if let Some(r) = self.role(xml, &c)?
                                && let Some(key) = &key
                            {
                                let entry = (key.clone(), r);
                                if !group_roles_info.contains(&entry) {
                                    group_roles_info.push(entry);
                                }
                            }
                        }
                        xml.close();
                    }
                    xml.close();
                }
                "mutatiedatum" => {
                    mutatiedatum = xml.leaf(|t| {
                        values::date_time(t, "de mutatiedatum", "the modification date")
                    })?;
                }
                _ => xml.skip()?,
            }
        }
        name.check(
            xml,
            ("de leerkracht", "the teacher"),
            key.as_ref(),
            [
                "leerkracht.naam.verplicht",
                "leerkracht.naam.achternaam_ontbreekt",
            ],
        );
        xml.close();
        if let Some(key) = key {
            self.teachers.push(SnapshotTeacher {
                key,
                eck_id,
                achternaam: name.achternaam,
                voorvoegsel: name.voorvoegsel,
                voornamen: name.voornamen,
                roepnaam: name.roepnaam,
                email,
                groups,
                combined_groups,
                roles_info,
                group_roles_info,
                mutatiedatum,
            });
        }
        Ok(())
    }

    /// Every reference must name a group of the right kind, or a location, in this file.
    fn resolve(&mut self, xml: &mut Xml<'_>) {
        for r in std::mem::take(&mut self.refs) {
            let k = &r.key;
            let issue = match r.kind {
                RefKind::PupilLocation => {
                    if self.location_keys.contains_key(k) {
                        continue;
                    }
                    Issue::new(
                        "leerling.vestiging.onbekend",
                        format!(
                            "de leerling verwijst naar vestiging \"{k}\", maar die staat niet in \
                             <vestigingen>. {ADVICE_NL}"
                        ),
                        format!(
                            "the pupil refers to location \"{k}\", which is not in \
                             <vestigingen>. {ADVICE_EN}"
                        ),
                    )
                }
                kind => {
                    let found = self.group_keys.get(k).map(|(kind, _)| *kind);
                    match (kind, found) {
                        (RefKind::PupilGroup | RefKind::TeacherGroup, Some(GroupKind::Stam))
                        | (
                            RefKind::PupilCombined | RefKind::TeacherCombined,
                            Some(GroupKind::Combined),
                        ) => continue,
                        (RefKind::PupilGroup, None) => Issue::new(
                            "leerling.groep.onbekend",
                            format!(
                                "de leerling zit volgens het bestand in groep \"{k}\", maar die \
                                 groep staat niet in <groepen>. Controleer of de groep in de \
                                 leerlingadministratie bestaat en wordt meegeëxporteerd, en \
                                 exporteer opnieuw."
                            ),
                            format!(
                                "the pupil is in group \"{k}\" according to the file, but that \
                                 group is not in <groepen>. Check that the group exists in the \
                                 pupil administration and is exported, and export again."
                            ),
                        ),
                        (RefKind::PupilGroup, Some(GroupKind::Combined)) => Issue::new(
                            "leerling.groep.geen_stamgroep",
                            format!(
                                "de leerling heeft \"{k}\" als stamgroep (<groep>), maar dat is \
                                 een samengestelde groep. Een samengestelde groep hoort bij \
                                 <samengestelde_groepen>. {ADVICE_NL}"
                            ),
                            format!(
                                "the pupil has \"{k}\" as stamgroep (<groep>), but it is a \
                                 combined group, which belongs in <samengestelde_groepen>. \
                                 {ADVICE_EN}"
                            ),
                        ),
                        (RefKind::PupilCombined, None) => Issue::new(
                            "leerling.samengestelde_groep.onbekend",
                            format!(
                                "de leerling zit volgens het bestand in samengestelde groep \
                                 \"{k}\", maar die groep staat niet in <groepen>. Controleer of \
                                 de groep wordt meegeëxporteerd, en exporteer opnieuw."
                            ),
                            format!(
                                "the pupil is in combined group \"{k}\" according to the file, \
                                 but that group is not in <groepen>. Check that the group is \
                                 exported, and export again."
                            ),
                        ),
                        (RefKind::PupilCombined, Some(GroupKind::Stam)) => Issue::new(
                            "leerling.samengestelde_groep.is_stamgroep",
                            format!(
                                "de leerling heeft \"{k}\" als samengestelde groep, maar dat is \
                                 een stamgroep. {ADVICE_NL}"
                            ),
                            format!(
                                "the pupil has \"{k}\" as a combined group, but it is a \
                                 stamgroep. {ADVICE_EN}"
                            ),
                        ),
                        (RefKind::TeacherGroup, None) => Issue::new(
                            "leerkracht.groep.onbekend",
                            format!(
                                "de leerkracht is volgens het bestand gekoppeld aan groep \
                                 \"{k}\", maar die groep staat niet in <groepen>. Controleer \
                                 of de groep wordt meegeëxporteerd, en exporteer opnieuw."
                            ),
                            format!(
                                "the teacher is linked to group \"{k}\" according to the file, \
                                 but that group is not in <groepen>. Check that the group is \
                                 exported, and export again."
                            ),
                        ),
                        (RefKind::TeacherGroup, Some(GroupKind::Combined)) => Issue::new(
                            "leerkracht.groep.geen_stamgroep",
                            format!(
                                "de leerkracht is via <groep> gekoppeld aan \"{k}\", maar dat is \
                                 een samengestelde groep; gebruik <samengestelde_groep>. \
                                 {ADVICE_NL}"
                            ),
                            format!(
                                "the teacher is linked through <groep> to \"{k}\", which is a \
                                 combined group; use <samengestelde_groep>. {ADVICE_EN}"
                            ),
                        ),
                        (RefKind::TeacherCombined, None) => Issue::new(
                            "leerkracht.samengestelde_groep.onbekend",
                            format!(
                                "de leerkracht is volgens het bestand gekoppeld aan samengestelde \
                                 groep \"{k}\", maar die groep staat niet in <groepen>. \
                                 Controleer of de groep wordt meegeëxporteerd, en exporteer \
                                 opnieuw."
                            ),
                            format!(
                                "the teacher is linked to combined group \"{k}\" according to \
                                 the file, but that group is not in <groepen>. Check that the \
                                 group is exported, and export again."
                            ),
                        ),
                        (RefKind::TeacherCombined, Some(GroupKind::Stam)) => Issue::new(
                            "leerkracht.samengestelde_groep.is_stamgroep",
                            format!(
                                "de leerkracht is via <samengestelde_groep> gekoppeld aan \
                                 \"{k}\", maar dat is een stamgroep; gebruik <groep>. {ADVICE_NL}"
                            ),
                            format!(
                                "the teacher is linked through <samengestelde_groep> to \"{k}\", \
                                 which is a stamgroep; use <groep>. {ADVICE_EN}"
                            ),
                        ),
                        (RefKind::PupilLocation, _) => continue,
                    }
                }
            };
            xml.report_at(r.offset, r.path(), issue);
        }
    }

    /// The snapshot, once the file turned out clean. Pupils who left before the reference date
    /// (peildatum, else the creation date, else today) are left out; a file in which every pupil
    /// has left would empty the school, so it is refused instead.
    pub fn into_snapshot(
        self,
        xml: &mut Xml<'_>,
        today: impl FnOnce() -> Date,
    ) -> Option<Snapshot> {
        let reference_date = self
            .peildatum
            .clone()
            .or_else(|| self.aanmaakdatum.as_ref().map(|d| d.date().clone()))
            .unwrap_or_else(today);
        let mut pupils = self.pupils;
        let left: Vec<LasKey> = pupils
            .extract_if(.., |p| {
                p.uitstroomdatum
                    .as_ref()
                    .is_some_and(|d| *d < reference_date)
            })
            .map(|p| p.key)
            .collect();
        if pupils.is_empty() && !left.is_empty() {
            let site = self.pupils_site.unwrap_or(Site {
                offset: 0,
                path: "/EDEX/leerlingen".into(),
            });
            xml.report_at(
                site.offset,
                site.path,
                Issue::new(
                    "leerlingen.allemaal_vertrokken",
                    format!(
                        "alle {} leerlingen in het bestand hebben de school vóór {reference_date} \
                         verlaten (uitstroomdatum); inlezen zou de school leegmaken. Controleer \
                         de exportinstellingen en het schooljaar in de leerlingadministratie en \
                         exporteer opnieuw.",
                        left.len()
                    ),
                    format!(
                        "all {} pupils in the file left the school before {reference_date} \
                         (uitstroomdatum); importing would empty the school. Check the export \
                         settings and the school year in the pupil administration and export \
                         again.",
                        left.len()
                    ),
                ),
            );
        }
        if !xml.is_clean() {
            return None;
        }
        let (Some(brincode), Some(schooljaar)) = (self.brincode, self.schooljaar) else {
            // Both are required and reported when missing; a clean file always has them.
            return None;
        };
        Some(Snapshot {
            version: self.version.unwrap_or_else(|| "2.1".into()),
            brincode,
            dependancecode: self.dependancecode,
            schooljaar,
            peildatum: self.peildatum,
            aanmaakdatum: self.aanmaakdatum,
            reference_date,
            groups: self.groups,
            combined_groups: self.combined_groups,
            pupils,
            left_pupils: left,
            teachers: self.teachers,
        })
    }
}

fn duplicate(rule: &'static str, nl: &str, en: &str, key: &LasKey, first: &str) -> Issue {
    Issue::new(
        rule,
        format!(
            "de sleutel \"{key}\" wordt al gebruikt door een andere {nl} ({first}). Elke {nl} \
             heeft een eigen, vaste sleutel uit de leerlingadministratie. {ADVICE_NL}"
        ),
        format!(
            "the key \"{key}\" is already used by another {en} ({first}). Every {en} has its \
             own fixed key from the pupil administration. {ADVICE_EN}"
        ),
    )
}

/// `xsdversie`: openpoort reads the two EDEXML versions it knows the rules of.
fn xsd_version(t: &Text) -> Result<String, Issue> {
    let v = t.value.trim();
    match v {
        "2.0" | "2.1" => Ok(v.to_owned()),
        _ => Err(Issue::new(
            "school.xsdversie.niet_ondersteund",
            format!(
                "het bestand is volgens <xsdversie> EDEXML-versie \"{}\"; openpoort leest EDEXML \
                 2.0 en 2.1. Kies in de leerlingadministratie de export naar EDEXML 2.1.",
                v.chars().take(32).collect::<String>()
            ),
            format!(
                "according to <xsdversie> the file is EDEXML version \"{}\"; openpoort reads \
                 EDEXML 2.0 and 2.1. Choose the EDEXML 2.1 export in the pupil administration.",
                v.chars().take(32).collect::<String>()
            ),
        )),
    }
}
