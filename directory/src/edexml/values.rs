//! Checks of simple values (the schema's simple types and the manual's format rules). Each
//! returns the validated value or an [`Issue`] that says what is wrong in words an
//! ICT-coördinator understands.
//!
//! Surrounding whitespace is not significant (the manual says so for keys; for codes and dates
//! the schema collapses it, and pretty-printed exports put it everywhere), except in achternaam
//! and voorvoegsel, where the manual forbids leading, trailing and double spaces outright.
//!
//! Identity numbers (BSN, onderwijsnummer, …) are never repeated in a message: problem lists end
//! up in logs and screenshots.

use super::problem::Issue;
use super::schema::{LANDEN, ROLE_ADDED_IN_2_1, ROLES_2_0};
use crate::model::{
    Brin, Date, EckId, Email, Jaargroep, LasKey, Vestigingscode, is_invisible_or_bidi,
};

/// The text of a simple element as read, before any check.
pub(super) struct Text {
    pub value: String,
    /// The element held more text than any EDEXML field may; only its start was kept.
    pub truncated: bool,
}

pub(super) const ADVICE_NL: &str =
    "Pas dit aan in de leerlingadministratie en exporteer het bestand opnieuw.";
pub(super) const ADVICE_EN: &str =
    "Correct this in the pupil administration and export the file again.";

fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Shortens a value for quoting in a message, so that a 4 KiB "name" does not fill the screen.
fn quote(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        format!("\"{s}\"")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("\"{head}…\"")
    }
}

/// A string of `min..=max` characters (EDEXString*Type and friends), without control characters.
pub(super) fn string(t: &Text, what_nl: &str, what_en: &str, max: usize) -> Result<String, Issue> {
    let v = trim_xml(&t.value);
    checked_string(v, t.truncated, what_nl, what_en, max)
}

fn checked_string(
    v: &str,
    truncated: bool,
    what_nl: &str,
    what_en: &str,
    max: usize,
) -> Result<String, Issue> {
    if v.is_empty() && !truncated {
        return Err(Issue::new(
            "tekst.leeg",
            format!("{what_nl} is leeg. Vul het in of laat het element helemaal weg. {ADVICE_NL}"),
            format!("{what_en} is empty. Fill it in or leave the element out. {ADVICE_EN}"),
        ));
    }
    let n = v.chars().count();
    if truncated || n > max {
        return Err(Issue::new(
            "tekst.te_lang",
            format!(
                "{what_nl} {} is te lang: hoogstens {max} tekens. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "{what_en} {} is too long: at most {max} characters. {ADVICE_EN}",
                quote(v)
            ),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Issue::new(
            "tekst.stuurteken",
            format!(
                "{what_nl} {} bevat een tab, regeleinde of ander stuurteken. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "{what_en} {} contains a tab, line break or other control character. \
                 {ADVICE_EN}",
                quote(v)
            ),
        ));
    }
    Ok(v.to_owned())
}

/// A name (given names, first name, initials, a group's or location's name): a string that
/// must also look like what it is, see [`is_invisible_or_bidi`].
pub(super) fn name(t: &Text, what_nl: &str, what_en: &str, max: usize) -> Result<String, Issue> {
    let v = string(t, what_nl, what_en, max)?;
    visible(v, what_nl, what_en)
}

/// Refuses a name with an invisible or direction-changing character: shown in a picker, a
/// list or a released attribute, it would read as another name than the one stored.
fn visible(v: String, what_nl: &str, what_en: &str) -> Result<String, Issue> {
    let Some(c) = v.chars().find(|c| is_invisible_or_bidi(*c)) else {
        return Ok(v);
    };
    // Quoted with every such character written as its code point, so that the message shows
    // where it is instead of being reordered or hidden by it.
    let shown: String = v
        .chars()
        .map(|c| {
            if is_invisible_or_bidi(c) {
                format!("<U+{:04X}>", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect();
    let code = format!("U+{:04X}", c as u32);
    Err(Issue::new(
        "naam.onzichtbaar_teken",
        format!(
            "{what_nl} {} bevat een onzichtbaar teken of een teken dat de schrijfrichting \
             verandert ({code}); zo'n naam kan eruitzien als een andere naam. {ADVICE_NL}",
            quote(&shown)
        ),
        format!(
            "{what_en} {} contains an invisible character or one that changes the writing \
             direction ({code}); such a name can look like another name. {ADVICE_EN}",
            quote(&shown)
        ),
    ))
}

/// Achternaam and voorvoegsel (NEN 1888): the manual forbids leading and trailing spaces and
/// two spaces in a row, so these are checked as written, not trimmed.
pub(super) fn name_part(
    t: &Text,
    what_nl: &str,
    what_en: &str,
    max: usize,
) -> Result<String, Issue> {
    let v = t.value.as_str();
    let starts = v.starts_with(char::is_whitespace);
    let ends = v.ends_with(char::is_whitespace);
    if !v.trim().is_empty() && (starts || ends || v.contains("  ")) {
        return Err(Issue::new(
            "naam.spaties",
            format!(
                "{what_nl} {} begint of eindigt met een spatie of bevat twee spaties na elkaar; \
                 dat mag niet volgens de EDEXML-afspraken. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "{what_en} {} starts or ends with a space or contains two spaces in a row, which \
                 EDEXML does not allow. {ADVICE_EN}",
                quote(v)
            ),
        ));
    }
    let v = checked_string(trim_xml(v), t.truncated, what_nl, what_en, max)?;
    visible(v, what_nl, what_en)
}

/// An LAS key (EDEXKeyType): 1 to 256 characters after trimming, as the manual says spaces
/// around a key are not significant.
pub(super) fn key(raw: &str) -> Result<LasKey, Issue> {
    let v = trim_xml(raw);
    LasKey::parse(v).map_err(|_| {
        Issue::new(
            "key.ongeldig",
            format!(
                "de sleutel (key) {} is ongeldig: een sleutel is 1 tot 256 tekens zonder \
                 stuurtekens. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the key {} is invalid: a key is 1 to 256 characters without control \
                 characters. {ADVICE_EN}",
                quote(v)
            ),
        )
    })
}

pub(super) fn eckid(raw: &str) -> Result<EckId, Issue> {
    let v = trim_xml(raw);
    EckId::parse(v).map_err(|_| {
        Issue::new(
            "eckid.ongeldig",
            format!(
                "het ECK-iD {} is ongeldig: een ECK-iD is 1 tot 256 tekens zonder spaties. \
                 {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the ECK-iD {} is invalid: an ECK-iD is 1 to 256 characters without whitespace. \
                 {ADVICE_EN}",
                quote(v)
            ),
        )
    })
}

/// xs:date: `YYYY-MM-DD`, optionally with a time zone (`Z` or `±hh:mm`), which says nothing
/// about which day it is and is dropped.
pub(super) fn date(t: &Text, what_nl: &str, what_en: &str) -> Result<Date, Issue> {
    let v = trim_xml(&t.value);
    let bad = || {
        Issue::new(
            "datum.ongeldig",
            format!(
                "{what_nl} {} is geen geldige datum. Een datum heeft de vorm JJJJ-MM-DD, \
                 bijvoorbeeld 2014-10-01, en moet bestaan. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "{what_en} {} is not a valid date. A date looks like YYYY-MM-DD, e.g. \
                 2014-10-01, and must exist. {ADVICE_EN}",
                quote(v)
            ),
        )
    };
    if t.truncated || !v.is_char_boundary(v.len().min(10)) || v.len() < 10 {
        return Err(bad());
    }
    let (day, zone) = v.split_at(10);
    if !time_zone_ok(zone) {
        return Err(bad());
    }
    Date::parse("datum", day).map_err(|_| bad())
}

fn time_zone_ok(zone: &str) -> bool {
    if zone.is_empty() || zone == "Z" {
        return true;
    }
    let b = zone.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[3] == b':'
        && two_digits(&b[1..3]).is_some_and(|h| h <= 14)
        && two_digits(&b[4..6]).is_some_and(|m| m <= 59)
}

fn two_digits(b: &[u8]) -> Option<u32> {
    (b.len() == 2 && b.iter().all(u8::is_ascii_digit))
        .then(|| u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0'))
}

/// An xs:dateTime (aanmaakdatum, mutatiedatum), kept as written, with its calendar day.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    text: String,
    date: Date,
}

impl DateTime {
    /// As written in the file, e.g. `2014-11-25T14:33:33`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The calendar day as written (a time zone, if any, is not applied).
    pub fn date(&self) -> &Date {
        &self.date
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// xs:dateTime: `YYYY-MM-DDThh:mm:ss[.fff][zone]`.
pub(super) fn date_time(t: &Text, what_nl: &str, what_en: &str) -> Result<DateTime, Issue> {
    let v = trim_xml(&t.value);
    let bad = || {
        Issue::new(
            "datumtijd.ongeldig",
            format!(
                "{what_nl} {} is geen geldig tijdstip. Een tijdstip heeft de vorm \
                 JJJJ-MM-DDTuu:mm:ss, bijvoorbeeld 2014-11-25T14:33:33. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "{what_en} {} is not a valid date and time. It looks like YYYY-MM-DDThh:mm:ss, \
                 e.g. 2014-11-25T14:33:33. {ADVICE_EN}",
                quote(v)
            ),
        )
    };
    let b = v.as_bytes();
    if t.truncated
        || b.len() < 19
        || !b.is_ascii()
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let date = Date::parse("datum", &v[..10]).map_err(|_| bad())?;
    let (Some(h), Some(m), Some(s)) = (
        two_digits(&b[11..13]),
        two_digits(&b[14..16]),
        two_digits(&b[17..19]),
    ) else {
        return Err(bad());
    };
    let mut rest = &v[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &frac[digits..];
    }
    // 24:00:00 is the end of the day in XML Schema 1.0; anything else past 23:59:59 is not.
    let clock_ok = (h < 24 && m < 60 && s < 60) || (h == 24 && m == 0 && s == 0);
    if !clock_ok || !time_zone_ok(rest) {
        return Err(bad());
    }
    Ok(DateTime {
        text: v.to_owned(),
        date,
    })
}

/// EDEXSchooljaarType: the stock schema enumerates 1991-1992 up to 2024-2025 only, so later
/// school years are accepted by their pattern (`YYYY-YYYY`, consecutive years).
pub(super) fn schooljaar(t: &Text) -> Result<String, Issue> {
    let v = trim_xml(&t.value);
    let b = v.as_bytes();
    let year = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = b.get(r)?;
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let ok = b.len() == 9
        && b[4] == b'-'
        && matches!((year(0..4), year(5..9)), (Some(a), Some(z)) if a >= 1991 && z == a + 1);
    if ok {
        Ok(v.to_owned())
    } else {
        Err(Issue::new(
            "schooljaar.ongeldig",
            format!(
                "het schooljaar {} is ongeldig: een schooljaar bestaat uit twee opeenvolgende \
                 jaren, bijvoorbeeld 2025-2026 (vanaf 1991-1992). {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the school year {} is invalid: a school year is two consecutive years such as \
                 2025-2026 (from 1991-1992 on). {ADVICE_EN}",
                quote(v)
            ),
        ))
    }
}

pub(super) fn brincode(t: &Text) -> Result<Brin, Issue> {
    let v = trim_xml(&t.value);
    Brin::parse(v).map_err(|_| {
        Issue::new(
            "school.brincode.ongeldig",
            format!(
                "de brincode {} is ongeldig: een brincode bestaat uit 2 cijfers en 2 \
                 hoofdletters, bijvoorbeeld 12AB. Controleer de schoolgegevens in de \
                 leerlingadministratie en exporteer opnieuw.",
                quote(v)
            ),
            format!(
                "the BRIN {} is invalid: a BRIN is 2 digits followed by 2 capital letters, e.g. \
                 12AB. Check the school's details in the pupil administration and export again.",
                quote(v)
            ),
        )
    })
}

pub(super) fn dependancecode(t: &Text) -> Result<Vestigingscode, Issue> {
    let v = trim_xml(&t.value);
    Vestigingscode::parse(v).map_err(|_| {
        Issue::new(
            "school.dependancecode.ongeldig",
            format!(
                "de dependancecode {} is ongeldig: die bestaat uit precies 2 cijfers, \
                 bijvoorbeeld 00 of 01. Controleer de schoolgegevens in de leerlingadministratie \
                 en exporteer opnieuw.",
                quote(v)
            ),
            format!(
                "the dependancecode {} is invalid: it is exactly 2 digits, e.g. 00 or 01. Check \
                 the school's details in the pupil administration and export again.",
                quote(v)
            ),
        )
    })
}

pub(super) fn jaargroep(t: &Text) -> Result<Jaargroep, Issue> {
    let v = trim_xml(&t.value);
    Jaargroep::parse(v).map_err(|_| {
        Issue::new(
            "jaargroep.ongeldig",
            format!(
                "de jaargroep {} bestaat niet in EDEXML. Toegestaan zijn 1 tot en met 8 (groep \
                 1-8), 0, B, D, 11-16, S (speciaal (basis)onderwijs), V, C \
                 (combinatiegroep), N en H. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the jaargroep (year group) {} does not exist in EDEXML. Allowed are 1 to 8 \
                 (groep 1-8), 0, B, D, 11-16, S (special education), V, C (mixed-year group), N \
                 and H. {ADVICE_EN}",
                quote(v)
            ),
        )
    })
}

/// EDEXGeslachtType (NEN-ISO 5218): 0 unknown, 1 male, 2 female, 9 not specified.
pub(super) fn geslacht(t: &Text) -> Result<String, Issue> {
    one_of(
        t,
        &["0", "1", "2", "9"],
        "geslacht.ongeldig",
        ("het geslacht", "the gender"),
        "0 (onbekend), 1 (jongen), 2 (meisje) of 9 (niet gespecificeerd)",
        "0 (unknown), 1 (boy), 2 (girl) or 9 (not specified)",
    )
}

pub(super) fn etniciteit(t: &Text) -> Result<String, Issue> {
    one_of(
        t,
        &["0", "1", "9"],
        "etniciteit.ongeldig",
        ("de etniciteit", "the ethnicity"),
        "0, 1 of 9",
        "0, 1 or 9",
    )
}

pub(super) fn gewicht_nieuw(t: &Text) -> Result<String, Issue> {
    one_of(
        t,
        &["?", "0", "0,3", "1,2"],
        "gewicht.ongeldig",
        ("het leerlinggewicht", "the pupil weight"),
        "?, 0, 0,3 of 1,2",
        "?, 0, 0,3 or 1,2",
    )
}

pub(super) fn gewicht(t: &Text) -> Result<String, Issue> {
    one_of(
        t,
        &["?", "0.00", "0.25", "0.40", "0.70", "0.90"],
        "gewicht.ongeldig",
        ("het (oude) leerlinggewicht", "the (old) pupil weight"),
        "?, 0.00, 0.25, 0.40, 0.70 of 0.90",
        "?, 0.00, 0.25, 0.40, 0.70 or 0.90",
    )
}

pub(super) fn land(t: &Text) -> Result<String, Issue> {
    let v = trim_xml(&t.value);
    if LANDEN.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(Issue::new(
            "land.ongeldig",
            format!(
                "de landcode {} staat niet in de EDEXML-landenlijst (twee hoofdletters volgens \
                 ISO 3166, bijvoorbeeld NL, of ? voor onbekend). {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the country code {} is not in the EDEXML country list (two capital letters per \
                 ISO 3166, e.g. NL, or ? for unknown). {ADVICE_EN}",
                quote(v)
            ),
        ))
    }
}

fn one_of(
    t: &Text,
    allowed: &[&str],
    rule: &'static str,
    (what_nl, what_en): (&str, &str),
    list_nl: &str,
    list_en: &str,
) -> Result<String, Issue> {
    let v = trim_xml(&t.value);
    if allowed.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(Issue::new(
            rule,
            format!(
                "{what_nl} {} is ongeldig; toegestaan is {list_nl}. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "{what_en} {} is invalid; allowed is {list_en}. {ADVICE_EN}",
                quote(v)
            ),
        ))
    }
}

/// A number of exactly `digits` digits (BSN, sofinummer, onderwijsnummer, BSN-4,
/// rijksregisternummer, Belgian postnummer). The value is not quoted: it identifies a person.
pub(super) fn digits(t: &Text, digits: usize, what_nl: &str, what_en: &str) -> Result<(), Issue> {
    let v = trim_xml(&t.value);
    if v.len() == digits && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Issue::new(
            "nummer.ongeldig",
            format!("{what_nl} moet uit precies {digits} cijfers bestaan. {ADVICE_NL}"),
            format!("{what_en} must be exactly {digits} digits. {ADVICE_EN}"),
        ))
    }
}

/// EDEXPostcodeNlType: `9999XX`.
pub(super) fn postcode_nl(t: &Text) -> Result<(), Issue> {
    let v = trim_xml(&t.value);
    let b = v.as_bytes();
    if b.len() == 6
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_uppercase)
    {
        Ok(())
    } else {
        Err(Issue::new(
            "postcode.ongeldig",
            format!(
                "de postcode {} is ongeldig: schrijf 4 cijfers en 2 hoofdletters zonder spatie, \
                 bijvoorbeeld 6971VB. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the postcode {} is invalid: write 4 digits and 2 capital letters without a \
                 space, e.g. 6971VB. {ADVICE_EN}",
                quote(v)
            ),
        ))
    }
}

/// EDEXLeerkrachtRolType as the file's version knows it.
pub(super) fn rol(t: &Text, version_2_0: bool) -> Result<String, Issue> {
    let v = trim_xml(&t.value);
    if ROLES_2_0.contains(&v) || (v == ROLE_ADDED_IN_2_1 && !version_2_0) {
        return Ok(v.to_owned());
    }
    if v == ROLE_ADDED_IN_2_1 {
        return Err(Issue::new(
            "rol.ongeldig",
            "de rol TAL (toetsafnameleider) bestaat pas in EDEXML 2.1, maar dit bestand is \
             versie 2.0. Exporteer het bestand als EDEXML 2.1."
                .to_owned(),
            "the role TAL (test administrator) exists only from EDEXML 2.1 on, but this file is \
             version 2.0. Export the file as EDEXML 2.1."
                .to_owned(),
        ));
    }
    Err(Issue::new(
        "rol.ongeldig",
        format!(
            "de rol {} bestaat niet in EDEXML. Gebruik een van ADJ, ADM, CON, DIR, ICT, IB, KLA, \
             LRK, LOS, LOC, OWA, OUD, RT, SMW, STA, TAL en VAK, of een vrije omschrijving in \
             <rolomschrijving>. {ADVICE_NL}",
            quote(v)
        ),
        format!(
            "the role {} does not exist in EDEXML. Use one of ADJ, ADM, CON, DIR, ICT, IB, KLA, \
             LRK, LOS, LOC, OWA, OUD, RT, SMW, STA, TAL and VAK, or free text in \
             <rolomschrijving>. {ADVICE_EN}",
            quote(v)
        ),
    ))
}

pub(super) fn email(t: &Text) -> Result<Email, Issue> {
    let v = trim_xml(&t.value);
    let bad = || {
        Issue::new(
            "emailadres.ongeldig",
            format!(
                "het e-mailadres {} is ongeldig: een e-mailadres heeft de vorm \
                 naam@domein.nl, zonder spaties. {ADVICE_NL}",
                quote(v)
            ),
            format!(
                "the e-mail address {} is invalid: an address looks like name@domain.nl, \
                 without spaces. {ADVICE_EN}",
                quote(v)
            ),
        )
    };
    if t.truncated || v.chars().count() > 256 {
        return Err(bad());
    }
    Email::parse(v).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Text {
        Text {
            value: s.to_owned(),
            truncated: false,
        }
    }

    #[test]
    fn dates_accept_time_zones_and_refuse_impossible_days() {
        assert_eq!(
            date(&t("2014-10-01"), "", "").unwrap().as_str(),
            "2014-10-01"
        );
        assert_eq!(
            date(&t(" 2014-10-01Z\n"), "", "").unwrap().as_str(),
            "2014-10-01"
        );
        assert!(date(&t("2014-10-01+02:00"), "", "").is_ok());
        for bad in [
            "2014-02-30",
            "2014-10-1",
            "01-10-2014",
            "2014-10-01+2",
            "1899-12-31",
            "é",
        ] {
            assert_eq!(
                date(&t(bad), "", "").unwrap_err().rule,
                "datum.ongeldig",
                "{bad}"
            );
        }
    }

    #[test]
    fn date_times_are_checked_field_by_field() {
        let ok = date_time(&t("2014-11-25T14:33:33"), "", "").unwrap();
        assert_eq!(ok.date().as_str(), "2014-11-25");
        for good in [
            "2014-11-25T14:33:33.123Z",
            "2014-11-25T24:00:00",
            "2014-11-25T00:00:00-05:00",
        ] {
            assert!(date_time(&t(good), "", "").is_ok(), "{good}");
        }
        for bad in [
            "2014-11-25",
            "2014-11-25 14:33:33",
            "2014-11-25T25:00:00",
            "2014-11-25T14:60:00",
            "2014-02-30T10:00:00",
            "2014-11-25T14:33:33.",
            "2014-11-25T24:00:01",
        ] {
            assert!(date_time(&t(bad), "", "").is_err(), "{bad}");
        }
    }

    #[test]
    fn school_years_are_consecutive() {
        assert!(schooljaar(&t("2014-2015")).is_ok());
        assert!(schooljaar(&t("2031-2032")).is_ok());
        for bad in [
            "2014-2016",
            "2015-2014",
            "1990-1991",
            "2014/2015",
            "14-15",
            "２014-2015",
        ] {
            assert!(schooljaar(&t(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_parts_follow_the_space_rule() {
        assert_eq!(name_part(&t("van 't"), "", "", 10).unwrap(), "van 't");
        for bad in [" Jansen", "Jansen ", "de  Vries"] {
            assert_eq!(
                name_part(&t(bad), "", "", 200).unwrap_err().rule,
                "naam.spaties"
            );
        }
        assert_eq!(
            name_part(&t(""), "", "", 200).unwrap_err().rule,
            "tekst.leeg"
        );
        assert_eq!(
            name_part(&t("abcdefghijk"), "", "", 10).unwrap_err().rule,
            "tekst.te_lang"
        );
    }

    #[test]
    fn numbers_are_never_echoed() {
        let e = digits(&t("12345678"), 9, "het BSN", "the BSN").unwrap_err();
        assert!(!e.nl.contains("12345678") && !e.en.contains("12345678"));
    }
}
