//! The content models of EDEXML.structuur.xsd / EDEXML.elementen.xsd (2.0 and 2.1 share them)
//! as ordered slots, and the value lists of EDEXML.types.variabel.xsd.
//!
//! Each complex type is a sequence of slots; a slot names the element(s) it admits and how often.
//! The schema's choices are folded into this shape without changing what is valid:
//!
//! - a person's name, `(achternaam, voorvoegsel?, voornamen?, voorletters-1?, roepnaam?) |
//!   roepnaam`, becomes five optional slots plus a check at the end of the person (achternaam or
//!   roepnaam present; voorvoegsel, voornamen and voorletters-1 only with an achternaam);
//! - the school's `(brincode, dependancecode?, schoolkey?) | (instellingsnummer, schoolkey?) |
//!   schoolkey?` becomes brincode|instellingsnummer, dependancecode, schoolkey, with a check that
//!   a dependancecode follows a brincode;
//! - the pupil's mutually exclusive identifiers and postcodes each become one slot admitting any
//!   one of their names.
//!
//! Element names are unique across the slots of one model, so a name's slot tells both whether
//! it may appear and whether it comes too late.

/// Which attributes (besides `xmlns`, `xmlns:*`, `xsi:*` and `xml:*`) an element has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Attrs {
    None,
    /// `key` (required).
    Key,
    /// `key` (required) and `eckid` (optional; EDEXML 2.1 only).
    KeyEckid,
}

pub(super) struct Msg {
    pub rule: &'static str,
    pub nl: &'static str,
    pub en: &'static str,
}

pub(super) struct Slot {
    pub names: &'static [&'static str],
    pub min: u32,
    pub max: u32,
    pub attrs: Attrs,
    /// Reported when a required slot is not filled.
    pub missing: Option<Msg>,
    /// Reported when the slot is filled more often than `max`; `None` gives a generic message.
    pub too_many: Option<Msg>,
}

pub(super) const UNBOUNDED: u32 = u32::MAX;

const fn opt(names: &'static [&'static str]) -> Slot {
    Slot {
        names,
        min: 0,
        max: 1,
        attrs: Attrs::None,
        missing: None,
        too_many: None,
    }
}

const fn req(names: &'static [&'static str], missing: Msg) -> Slot {
    Slot {
        names,
        min: 1,
        max: 1,
        attrs: Attrs::None,
        missing: Some(missing),
        too_many: None,
    }
}

const fn one_or_more(names: &'static [&'static str], missing: Msg, attrs: Attrs) -> Slot {
    Slot {
        names,
        min: 1,
        max: UNBOUNDED,
        attrs,
        missing: Some(missing),
        too_many: None,
    }
}

const fn any_number(names: &'static [&'static str]) -> Slot {
    Slot {
        names,
        min: 0,
        max: UNBOUNDED,
        attrs: Attrs::None,
        missing: None,
        too_many: None,
    }
}

const fn with_attrs(mut slot: Slot, attrs: Attrs) -> Slot {
    slot.attrs = attrs;
    slot
}

const fn with_too_many(mut slot: Slot, msg: Msg) -> Slot {
    slot.too_many = Some(msg);
    slot
}

/// The root element's content (EDEXType).
pub(super) static EDEX: &[Slot] = &[
    req(
        &["school"],
        Msg {
            rule: "edex.school.verplicht",
            nl: "het bestand heeft geen blok <school> met het schooljaar en de brincode. \
                 Exporteer het bestand opnieuw uit de leerlingadministratie.",
            en: "the file has no <school> block with the school year and BRIN. Export the file \
                 again from the pupil administration.",
        },
    ),
    opt(&["vestigingen"]),
    opt(&["groepen"]),
    req(
        &["leerlingen"],
        Msg {
            rule: "edex.leerlingen.verplicht",
            nl: "het bestand bevat geen leerlingen (het blok <leerlingen> ontbreekt). Een \
                 EDEXML-bestand moet minstens één leerling bevatten; controleer de \
                 exportinstellingen in de leerlingadministratie en exporteer opnieuw.",
            en: "the file contains no pupils (the <leerlingen> block is missing). An EDEXML file \
                 must contain at least one pupil; check the export settings in the pupil \
                 administration and export again.",
        },
    ),
    opt(&["leerkrachten"]),
];

/// SchoolType.
pub(super) static SCHOOL: &[Slot] = &[
    req(
        &["schooljaar"],
        Msg {
            rule: "school.schooljaar.verplicht",
            nl: "het schooljaar ontbreekt in het blok <school>. Exporteer het bestand opnieuw \
                 uit de leerlingadministratie.",
            en: "the school year is missing from the <school> block. Export the file again from \
                 the pupil administration.",
        },
    ),
    opt(&["peildatum"]),
    opt(&["brincode", "instellingsnummer"]),
    opt(&["dependancecode"]),
    opt(&["schoolkey"]),
    opt(&["aanmaakdatum"]),
    opt(&["auteur"]),
    opt(&["xsdversie"]),
    opt(&["commentaar"]),
    opt(&["toevoegingen"]),
];

pub(super) static VESTIGINGEN: &[Slot] = &[one_or_more(
    &["vestiging"],
    Msg {
        rule: "vestigingen.vestiging.verplicht",
        nl: "het blok <vestigingen> is leeg. Het moet minstens één <vestiging> bevatten of \
             helemaal wegblijven.",
        en: "the <vestigingen> block is empty. It must contain at least one <vestiging> or be \
             left out.",
    },
    Attrs::Key,
)];

/// VestigingType.
pub(super) static VESTIGING: &[Slot] = &[
    req(
        &["naam"],
        Msg {
            rule: "vestiging.naam.verplicht",
            nl: "de vestiging heeft geen naam. Vul de naam van de vestiging in de \
                 leerlingadministratie in en exporteer opnieuw.",
            en: "the location has no name. Fill in the location's name in the pupil \
                 administration and export again.",
        },
    ),
    opt(&["omschrijving"]),
    opt(&["mutatiedatum"]),
];

pub(super) static GROEPEN: &[Slot] = &[one_or_more(
    &["groep", "samengestelde_groep"],
    Msg {
        rule: "groepen.groep.verplicht",
        nl: "het blok <groepen> is leeg. Het moet minstens één <groep> of \
             <samengestelde_groep> bevatten of helemaal wegblijven.",
        en: "the <groepen> block is empty. It must contain at least one <groep> or \
             <samengestelde_groep>, or be left out.",
    },
    Attrs::Key,
)];

/// GroepType (a stamgroep).
pub(super) static GROEP: &[Slot] = &[
    req(
        &["naam"],
        Msg {
            rule: "groep.naam.verplicht",
            nl: "de groep heeft geen naam. Geef de groep een naam in de leerlingadministratie \
                 en exporteer opnieuw.",
            en: "the group has no name. Give the group a name in the pupil administration and \
                 export again.",
        },
    ),
    req(
        &["jaargroep"],
        Msg {
            rule: "groep.jaargroep.verplicht",
            nl: "de stamgroep heeft geen jaargroep. Vul de jaargroep van de groep in de \
                 leerlingadministratie in (bij een combinatiegroep: C) en exporteer opnieuw.",
            en: "the group has no jaargroep (year group). Fill in the group's year group in the \
                 pupil administration (C for a mixed-year group) and export again.",
        },
    ),
    opt(&["omschrijving"]),
    opt(&["toevoegingen"]),
    opt(&["mutatiedatum"]),
];

/// SamengesteldeGroepType.
pub(super) static SAMENGESTELDE_GROEP: &[Slot] = &[
    req(
        &["naam"],
        Msg {
            rule: "samengestelde_groep.naam.verplicht",
            nl: "de samengestelde groep heeft geen naam. Geef de groep een naam in de \
                 leerlingadministratie en exporteer opnieuw.",
            en: "the combined group has no name. Give the group a name in the pupil \
                 administration and export again.",
        },
    ),
    opt(&["omschrijving"]),
    opt(&["toevoegingen"]),
    opt(&["mutatiedatum"]),
];

pub(super) static LEERLINGEN: &[Slot] = &[one_or_more(
    &["leerling"],
    Msg {
        rule: "leerlingen.leerling.verplicht",
        nl: "het bestand bevat geen leerlingen (het blok <leerlingen> is leeg). Een \
             EDEXML-bestand moet minstens één leerling bevatten; controleer de \
             exportinstellingen in de leerlingadministratie en exporteer opnieuw.",
        en: "the file contains no pupils (the <leerlingen> block is empty). An EDEXML file must \
             contain at least one pupil; check the export settings in the pupil administration \
             and export again.",
    },
    Attrs::KeyEckid,
)];

/// LeerlingType.
pub(super) static LEERLING: &[Slot] = &[
    opt(&["achternaam"]),
    opt(&["voorvoegsel"]),
    opt(&["voornamen"]),
    opt(&["voorletters-1"]),
    opt(&["roepnaam"]),
    opt(&["geboortedatum"]),
    opt(&["geslacht"]),
    opt(&["start_ondw_jgr3"]),
    // Required by the manual's business rule, not by the schema: checked with a message of its
    // own at the end of the pupil.
    opt(&["jaargroep"]),
    with_too_many(
        with_attrs(opt(&["groep"]), Attrs::Key),
        Msg {
            rule: "leerling.groep.hoogstens_een",
            nl: "de leerling heeft meer dan één stamgroep (<groep>). Een leerling zit in \
                 hoogstens één stamgroep; andere groepen horen bij <samengestelde_groepen>. Pas \
                 dit aan in de leerlingadministratie en exporteer opnieuw.",
            en: "the pupil has more than one stamgroep (<groep>). A pupil is in at most one \
                 stamgroep; other groups belong in <samengestelde_groepen>. Correct this in the \
                 pupil administration and export again.",
        },
    ),
    opt(&["samengestelde_groepen"]),
    with_attrs(opt(&["vestiging"]), Attrs::Key),
    opt(&["gebruikersnaam"]),
    opt(&["emailadres"]),
    opt(&["fotourl"]),
    opt(&["etniciteit"]),
    opt(&["land"]),
    opt(&["land_vader"]),
    opt(&["land_moeder"]),
    with_too_many(
        opt(&[
            "sofinummer",
            "bsn",
            "onderwijsnummer",
            "bsn_ondwnr-4",
            "rijksregisternummer",
        ]),
        Msg {
            rule: "leerling.identificatie.hoogstens_een",
            nl: "de leerling heeft meer dan één van sofinummer, bsn, onderwijsnummer, \
                 bsn_ondwnr-4 en rijksregisternummer; die sluiten elkaar uit. Exporteer het \
                 bestand opnieuw.",
            en: "the pupil has more than one of sofinummer, bsn, onderwijsnummer, bsn_ondwnr-4 \
                 and rijksregisternummer, which exclude each other. Export the file again.",
        },
    ),
    opt(&["gewicht_nieuw"]),
    opt(&["gewicht"]),
    with_too_many(
        opt(&["postcodenl", "postnummerbe", "postcodeoverig"]),
        Msg {
            rule: "leerling.postcode.hoogstens_een",
            nl: "de leerling heeft meer dan één van postcodenl, postnummerbe en postcodeoverig; \
                 die sluiten elkaar uit. Exporteer het bestand opnieuw.",
            en: "the pupil has more than one of postcodenl, postnummerbe and postcodeoverig, \
                 which exclude each other. Export the file again.",
        },
    ),
    opt(&["instroomdatum"]),
    opt(&["uitstroomdatum"]),
    opt(&["toevoegingen"]),
    opt(&["mutatiedatum"]),
];

/// SamengesteldeGroepenReferentieType (a pupil's combined groups).
pub(super) static LEERLING_SAMENGESTELDE_GROEPEN: &[Slot] = &[one_or_more(
    &["samengestelde_groep"],
    Msg {
        rule: "leerling.samengestelde_groepen.leeg",
        nl: "het blok <samengestelde_groepen> van de leerling is leeg. Het moet minstens één \
             <samengestelde_groep> bevatten of helemaal wegblijven.",
        en: "the pupil's <samengestelde_groepen> block is empty. It must contain at least one \
             <samengestelde_groep> or be left out.",
    },
    Attrs::Key,
)];

/// A reference element (`<groep key="…"/>` and the like): no content.
pub(super) static EMPTY: &[Slot] = &[];

pub(super) static LEERKRACHTEN: &[Slot] = &[one_or_more(
    &["leerkracht"],
    Msg {
        rule: "leerkrachten.leerkracht.verplicht",
        nl: "het blok <leerkrachten> is leeg. Het moet minstens één <leerkracht> bevatten of \
             helemaal wegblijven.",
        en: "the <leerkrachten> block is empty. It must contain at least one <leerkracht> or be \
             left out.",
    },
    Attrs::KeyEckid,
)];

/// LeerkrachtType.
pub(super) static LEERKRACHT: &[Slot] = &[
    opt(&["achternaam"]),
    opt(&["voorvoegsel"]),
    opt(&["voornamen"]),
    opt(&["voorletters-1"]),
    opt(&["roepnaam"]),
    opt(&["gebruikersnaam"]),
    opt(&["emailadres"]),
    any_number(&["rol", "rolomschrijving"]),
    opt(&["groepen"]),
    opt(&["toevoegingen"]),
    opt(&["mutatiedatum"]),
];

/// LeerkrachtGroepenReferentieType.
pub(super) static LEERKRACHT_GROEPEN: &[Slot] = &[one_or_more(
    &["groep", "samengestelde_groep"],
    Msg {
        rule: "leerkracht.groepen.leeg",
        nl: "het blok <groepen> van de leerkracht is leeg. Het moet minstens één <groep> of \
             <samengestelde_groep> bevatten of helemaal wegblijven.",
        en: "the teacher's <groepen> block is empty. It must contain at least one <groep> or \
             <samengestelde_groep>, or be left out.",
    },
    Attrs::Key,
)];

/// LeerkrachtGroepReferentieType: a group reference with the teacher's roles in that group.
pub(super) static LEERKRACHT_GROEP: &[Slot] = &[any_number(&["rol", "rolomschrijving"])];

/// EDEXLeerkrachtRolType (EDEXJaargroepType is `crate::model::Jaargroep`); `TAL` (toetsafnameleider) was added in 2.1.
pub(super) const ROLES_2_0: [&str; 16] = [
    "ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT", "SMW",
    "STA", "VAK",
];
pub(super) const ROLE_ADDED_IN_2_1: &str = "TAL";

/// EDEXLandType (the same list in 2.0 and 2.1): ISO 3166-1 alpha-2 as EDEXML froze it, with
/// "?" for unknown and a few historical codes.
pub(super) const LANDEN: [&str; 248] = [
    "?", "NL", "AF", "AX", "AL", "DZ", "VI", "AS", "AD", "AO", "AI", "AQ", "AG", "AR", "AM", "AW",
    "AU", "AZ", "BS", "BH", "BD", "BB", "BE", "BZ", "BJ", "BM", "BT", "MM", "BF", "BI", "BO", "BA",
    "BW", "BR", "VG", "BN", "BG", "KH", "CA", "CF", "CL", "CN", "CX", "CC", "CO", "CG", "CD", "CK",
    "CR", "CU", "CY", "DK", "DJ", "DM", "DO", "DE", "EC", "EG", "SV", "GB", "GQ", "ER", "EE", "ET",
    "FO", "FK", "FJ", "PH", "FI", "FR", "GF", "PF", "FX", "TF", "GA", "GM", "GZ", "GE", "GH", "GI",
    "GD", "GR", "GL", "GP", "GU", "GT", "GN", "GW", "GY", "HT", "HN", "HK", "HM", "HU", "IE", "IS",
    "IN", "ID", "IQ", "IR", "IL", "IT", "CI", "JM", "JP", "YE", "YO", "JH", "JO", "KY", "CV", "CM",
    "JE", "QA", "KZ", "KE", "KG", "KI", "KW", "KM", "HR", "LA", "LS", "LV", "LB", "LR", "LY", "LI",
    "LT", "LU", "MO", "MK", "MG", "MW", "MV", "MY", "ML", "MT", "IM", "MA", "MH", "MQ", "MR", "MU",
    "YT", "MX", "FM", "MD", "MC", "MN", "MS", "MZ", "NA", "NR", "AN", "NP", "NI", "NC", "NZ", "NE",
    "NG", "NU", "KP", "MP", "NO", "NF", "UA", "UZ", "OK", "OM", "AT", "TL", "PK", "PW", "PS", "PA",
    "PG", "PY", "PE", "PN", "PL", "PR", "PT", "RE", "RW", "RO", "RU", "SM", "ST", "SA", "SN", "CS",
    "RS", "ME", "SC", "SL", "SG", "SH", "SI", "SK", "SD", "SB", "SO", "ES", "SJ", "LK", "KN", "LC",
    "PM", "VC", "SR", "SZ", "SY", "TJ", "TW", "TZ", "TH", "TB", "TM", "TG", "TK", "TO", "TT", "TD",
    "CZ", "TN", "TR", "TC", "TV", "UG", "UY", "VU", "VA", "VE", "AE", "US", "VN", "WF", "EH", "WS",
    "BY", "ZM", "ZW", "ZA", "KR", "GS", "SE", "CH",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn unique_names(model: &[Slot]) -> bool {
        let mut seen = std::collections::HashSet::new();
        model.iter().flat_map(|s| s.names).all(|n| seen.insert(*n))
    }

    #[test]
    fn every_model_names_each_element_once() {
        for m in [
            EDEX,
            SCHOOL,
            VESTIGINGEN,
            VESTIGING,
            GROEPEN,
            GROEP,
            SAMENGESTELDE_GROEP,
            LEERLINGEN,
            LEERLING,
            LEERLING_SAMENGESTELDE_GROEPEN,
            LEERKRACHTEN,
            LEERKRACHT,
            LEERKRACHT_GROEPEN,
            LEERKRACHT_GROEP,
        ] {
            assert!(unique_names(m));
            for s in m {
                assert_eq!(s.min > 0, s.missing.is_some(), "{:?}", s.names);
            }
        }
    }

    #[test]
    fn land_list_has_no_duplicates() {
        let set: std::collections::HashSet<_> = LANDEN.iter().collect();
        assert_eq!(set.len(), LANDEN.len());
    }
}
