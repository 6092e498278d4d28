//! Validated values of the school register. Every constructor refuses bad input with a message
//! that names the field and the rule, so that neither the CLI, the admin API nor an import can
//! store a value that later code would have to second-guess.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use crate::error::{DirectoryError, Result};

fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Bestuursnummer: DUO's five-digit number of a school board.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Bestuursnummer(String);
string_newtype!(Bestuursnummer);

impl Bestuursnummer {
    pub fn parse(value: &str) -> Result<Self> {
        let v = value.trim();
        if v.len() == 5 && all_ascii_digits(v) {
            Ok(Self(v.to_owned()))
        } else {
            Err(DirectoryError::invalid(
                "bestuursnummer",
                value,
                "een bestuursnummer bestaat uit precies 5 cijfers, bijvoorbeeld 41234",
                "a bestuursnummer is exactly 5 digits, e.g. 41234",
            ))
        }
    }
}

/// BRIN: two digits followed by two capital letters, as DUO issues them (EDEXBrincodeType).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Brin(String);
string_newtype!(Brin);

impl Brin {
    pub fn parse(value: &str) -> Result<Self> {
        let b = value.as_bytes();
        let ok = b.len() == 4
            && b[0].is_ascii_digit()
            && b[1].is_ascii_digit()
            && b[2].is_ascii_uppercase()
            && b[3].is_ascii_uppercase();
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(DirectoryError::invalid(
                "BRIN",
                value,
                "een BRIN bestaat uit 2 cijfers gevolgd door 2 hoofdletters, bijvoorbeeld 12AB",
                "a BRIN is 2 digits followed by 2 capital letters, e.g. 12AB",
            ))
        }
    }
}

/// Vestigingscode: two digits naming one location of a BRIN (EDEXDependancecodeType).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Vestigingscode(String);
string_newtype!(Vestigingscode);

impl Vestigingscode {
    pub fn parse(value: &str) -> Result<Self> {
        if value.len() == 2 && all_ascii_digits(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(DirectoryError::invalid(
                "vestigingscode",
                value,
                "een vestigingscode bestaat uit precies 2 cijfers, bijvoorbeeld 00",
                "a vestigingscode is exactly 2 digits, e.g. 00",
            ))
        }
    }
}

/// A school location as written in Basispoort and DUO lists: BRIN + vestigingscode, `12AB00`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SchoolCode {
    pub brin: Brin,
    pub vestigingscode: Vestigingscode,
}

impl SchoolCode {
    pub fn parse(value: &str) -> Result<Self> {
        if value.len() != 6 || !value.is_char_boundary(4) {
            return Err(DirectoryError::invalid(
                "schoolcode",
                value,
                "een schoolcode is een BRIN met vestigingscode, 6 tekens, bijvoorbeeld 12AB00",
                "a school code is a BRIN followed by a vestigingscode, 6 characters, e.g. 12AB00",
            ));
        }
        Ok(Self {
            brin: Brin::parse(&value[..4])?,
            vestigingscode: Vestigingscode::parse(&value[4..])?,
        })
    }
}

impl fmt::Display for SchoolCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.brin, self.vestigingscode)
    }
}

/// Jaargroep, from EDEXML's EDEXJaargroepType value list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Jaargroep(&'static str);

impl Jaargroep {
    /// The values of EDEXJaargroepType (EDEXML 2.0 and 2.1), in the order the schema lists them;
    /// the order is also the sort order for group pickers.
    pub const VALUES: [&'static str; 22] = [
        "B", "D", "0", "1", "2", "3", "4", "5", "6", "7", "8", "11", "12", "13", "14", "15", "16",
        "S", "V", "C", "N", "H",
    ];

    pub fn parse(value: &str) -> Result<Self> {
        Self::VALUES
            .iter()
            .find(|v| **v == value)
            .map(|v| Jaargroep(v))
            .ok_or_else(|| {
                DirectoryError::invalid(
                    "jaargroep",
                    value,
                    "toegestaan zijn de EDEXML-waarden B, D, 0-8, 11-16, S, V, C, N en H",
                    "allowed are the EDEXML values B, D, 0-8, 11-16, S, V, C, N and H",
                )
            })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Position in the EDEXML value list, so that group 1 sorts before group 8 and before S.
    pub fn rank(&self) -> usize {
        Self::VALUES
            .iter()
            .position(|v| *v == self.0)
            .unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Jaargroep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A key from the school's LAS (EDEXML `key` attribute): 1 to 256 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct LasKey(String);
string_newtype!(LasKey);

impl LasKey {
    pub fn parse(value: &str) -> Result<Self> {
        let n = value.chars().count();
        if (1..=256).contains(&n) && !value.chars().any(char::is_control) {
            Ok(Self(value.to_owned()))
        } else {
            Err(DirectoryError::invalid(
                "LAS-sleutel",
                value,
                "een sleutel uit de leerlingadministratie is 1 tot 256 tekens zonder stuurtekens",
                "a LAS key is 1 to 256 characters without control characters",
            ))
        }
    }
}

/// ECK-iD: the education chain's pseudonymous identifier, an opaque string up to 256 characters
/// (the Nummervoorziening issues a URI such as `https://ketenid.nl/201703/…`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct EckId(String);
string_newtype!(EckId);

impl EckId {
    pub fn parse(value: &str) -> Result<Self> {
        let n = value.chars().count();
        if (1..=256).contains(&n) && !value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(DirectoryError::invalid(
                "ECK-iD",
                value,
                "een ECK-iD is 1 tot 256 tekens zonder spaties",
                "an ECK-iD is 1 to 256 characters without whitespace",
            ))
        }
    }
}

/// E-mail address of a staff member; it is their login, so it is stored in lower case and must
/// be unique across openpoort.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(value: &str) -> Result<Self> {
        let v = value.trim().to_lowercase();
        let invalid = || {
            DirectoryError::invalid(
                "e-mailadres",
                value,
                "een e-mailadres heeft de vorm naam@domein.nl, zonder spaties, hoogstens 254 tekens",
                "an e-mail address looks like name@domain.nl, without spaces, at most 254 characters",
            )
        };
        if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = v.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(v))
    }
}

/// An IP range of a school (IPv4 or IPv6 CIDR). Host bits must be zero, so that what is stored
/// is exactly the range the ICT-coördinator meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr(IpNetwork);

impl Cidr {
    pub fn parse(value: &str) -> Result<Self> {
        let invalid = || {
            DirectoryError::invalid(
                "IP-bereik",
                value,
                "geef een IPv4- of IPv6-bereik in CIDR-notatie, zoals 192.0.2.0/24 of 2001:db8::/48 (prefix hoogstens 32 voor IPv4, 128 voor IPv6)",
                "give an IPv4 or IPv6 range in CIDR notation such as 192.0.2.0/24 or 2001:db8::/48 (prefix at most 32 for IPv4, 128 for IPv6)",
            )
        };
        let v = value.trim();
        let net = if let Some((_, prefix)) = v.split_once('/') {
            // A prefix is plain digits: "+8" or "8/8" would otherwise slip through.
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            IpNetwork::from_str(v).map_err(|_| invalid())?
        } else {
            let addr = IpAddr::from_str(v).map_err(|_| invalid())?;
            IpNetwork::from(addr)
        };
        if net.network() != net.ip() {
            return Err(DirectoryError::invalid(
                "IP-bereik",
                value,
                "het adres heeft bits na de prefix; gebruik het eerste adres van het bereik (bijvoorbeeld 192.0.2.0/24 in plaats van 192.0.2.7/24)",
                "the address has bits set after the prefix; use the first address of the range (e.g. 192.0.2.0/24 instead of 192.0.2.7/24)",
            ));
        }
        Ok(Self(net))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client has two spellings (a.b.c.d, or ::ffff:a.b.c.d through an IPv6 socket)
        // and so may a range (10.0.0.0/8, or ::ffff:10.0.0.0/104): the client is compared in the
        // spelling of the range, so that either spelling of one matches either of the other.
        let ip = match (self.0, ip) {
            (IpNetwork::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            (IpNetwork::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
            _ => ip,
        };
        self.0.contains(ip)
    }

    pub fn network(&self) -> IpNetwork {
        self.0
    }
}

impl FromStr for Cidr {
    type Err = DirectoryError;
    fn from_str(s: &str) -> Result<Self> {
        Cidr::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Cidr::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.network(), self.0.prefix())
    }
}

/// A URL that openpoort sends users' browsers to (product launch URL, icon). Only https, or http
/// on a loopback host for development, because a launch URL carries logins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct WebUrl(String);
string_newtype!(WebUrl);

impl WebUrl {
    pub fn parse(field: &'static str, value: &str) -> Result<Self> {
        let invalid = || {
            DirectoryError::invalid(
                field,
                value,
                "geef een volledige https://-URL zonder gebruikersnaam of wachtwoord (http:// alleen voor localhost)",
                "give a complete https:// URL without user name or password (http:// only for localhost)",
            )
        };
        let url = url::Url::parse(value).map_err(|_| invalid())?;
        let loopback = matches!(
            url.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(_))
                | Some(url::Host::Ipv6(_))
        ) && url
            .host_str()
            .map(|h| {
                h == "localhost"
                    || h.trim_matches(|c| c == '[' || c == ']')
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            })
            .unwrap_or(false);
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
        if !scheme_ok
            || url.host().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(invalid());
        }
        Ok(Self(url.to_string()))
    }
}

/// Characters that change how a name looks without being seen themselves: bidirectional
/// controls, which reorder what is shown around them (a name that reads as another name, or
/// drags the text after it along), and zero-width or invisible characters, which make two
/// different names look the same, so that one can pass for the other in a picker or a list.
/// These are Unicode's format characters (category Cf) that a name can hold, the invisible
/// Hangul fillers and the variation selectors and tags, which no school name or person's
/// name needs.
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// A non-empty display name (school, board, party, product, group, person) of at most 200
/// characters, without control characters and without the invisible and direction-changing
/// characters of [`is_invisible_or_bidi`].
pub fn display_name(field: &'static str, value: &str) -> Result<String> {
    let v = value.trim();
    let n = v.chars().count();
    if !(1..=200).contains(&n) || v.chars().any(char::is_control) {
        return Err(DirectoryError::invalid(
            field,
            value,
            "een naam is 1 tot 200 tekens zonder stuurtekens",
            "a name is 1 to 200 characters without control characters",
        ));
    }
    if v.chars().any(is_invisible_or_bidi) {
        // The value is quoted escaped ({value:?} writes the format characters among these as
        // \u{..}), so the message shows where such a character is instead of being reordered
        // or hidden by it.
        return Err(DirectoryError::invalid(
            field,
            value,
            "een naam mag geen onzichtbare tekens (zoals een zero-width space) of tekens voor de schrijfrichting (zoals U+202E) bevatten",
            "a name must not contain invisible characters (such as a zero-width space) or characters that change the writing direction (such as U+202E)",
        ));
    }
    Ok(v.to_owned())
}

/// A short machine-friendly identifier chosen by the operator (party or product code).
pub fn code(field: &'static str, value: &str) -> Result<String> {
    let ok = (2..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && value.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(value.to_owned())
    } else {
        Err(DirectoryError::invalid(
            field,
            value,
            "een code is 2 tot 64 tekens: kleine letters, cijfers, - en _, beginnend met een letter of cijfer",
            "a code is 2 to 64 characters: lower-case letters, digits, - and _, starting with a letter or digit",
        ))
    }
}

/// Calendar date `YYYY-MM-DD`, kept as text so that it compares the same on SQLite and PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Date(String);
string_newtype!(Date);

impl Date {
    pub fn parse(field: &'static str, value: &str) -> Result<Self> {
        let invalid = || {
            DirectoryError::invalid(
                field,
                value,
                "geef een datum als JJJJ-MM-DD, bijvoorbeeld 2026-08-01",
                "give a date as YYYY-MM-DD, e.g. 2026-08-01",
            )
        };
        let b = value.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(invalid());
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = &value[r];
            all_ascii_digits(s).then(|| s.parse().ok()).flatten()
        };
        let (y, m, d) = match (num(0..4), num(5..7), num(8..10)) {
            (Some(y), Some(m), Some(d)) => (y, m, d),
            _ => return Err(invalid()),
        };
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(invalid()),
        };
        if !(1..=days).contains(&d) || y < 1900 {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }
}

/// (year, month, day) of the proleptic Gregorian calendar for a count of days since 1970-01-01
/// (Howard Hinnant's civil-from-days).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a calendar date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of 01:00 UTC on the last Sunday of `month` (the EU's daylight-saving switch).
fn eu_switch(year: i64, month: u32) -> i64 {
    let last = days_from_civil(year, month, 31);
    let weekday = (last + 4).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Sunday
    (last - weekday) * 86_400 + 3_600
}

/// Seconds the Netherlands' clock is ahead of UTC at `unix` seconds: 3,600 (CET) or 7,200
/// (CEST, from the last Sunday of March to the last Sunday of October, 01:00 UTC).
pub fn netherlands_offset(unix: i64) -> i64 {
    let (year, _, _) = civil_from_days(unix.div_euclid(86_400));
    if unix >= eu_switch(year, 3) && unix < eu_switch(year, 10) {
        7_200
    } else {
        3_600
    }
}

impl Date {
    /// The calendar date in the Netherlands (CET, CEST in summer) at `unix` seconds. Licences
    /// are bought per Dutch calendar day, so they run to the end of their last day there, not
    /// in UTC.
    pub fn in_netherlands(unix: i64) -> Date {
        let local = unix + netherlands_offset(unix);
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        Date(format!("{y:04}-{m:02}-{d:02}"))
    }
}

/// Unix seconds of a Dutch wall-clock time written `YYYY-MM-DDTHH:MM` (as an HTML
/// `datetime-local` field sends it, or `YYYY-MM-DD HH:MM`). An operator types the end of an
/// outage as the clock in the Netherlands shows it, whatever the server's time zone.
pub fn netherlands_time(field: &'static str, value: &str) -> Result<i64> {
    let invalid = || {
        DirectoryError::invalid(
            field,
            value,
            "geef een tijd als JJJJ-MM-DD UU:MM (Nederlandse tijd), bijvoorbeeld 2026-08-01 22:00",
            "give a time as YYYY-MM-DD HH:MM (Dutch time), e.g. 2026-08-01 22:00",
        )
    };
    let v = value.trim();
    if v.len() != 16 || !matches!(v.as_bytes()[10], b'T' | b' ') || v.as_bytes()[13] != b':' {
        return Err(invalid());
    }
    let date = Date::parse(field, &v[..10]).map_err(|_| invalid())?;
    let num = |s: &str| all_ascii_digits(s).then(|| s.parse::<i64>().ok()).flatten();
    let (Some(h), Some(m)) = (num(&v[11..13]), num(&v[14..16])) else {
        return Err(invalid());
    };
    if h > 23 || m > 59 {
        return Err(invalid());
    }
    let d = date.as_str();
    let (y, mo, da) = (num(&d[..4]), num(&d[5..7]), num(&d[8..10]));
    let (Some(y), Some(mo), Some(da)) = (y, mo, da) else {
        return Err(invalid());
    };
    let local = days_from_civil(y, mo as u32, da as u32) * 86_400 + h * 3_600 + m * 60;
    // The offset at the instant itself; around the switch the earlier reading wins, which is
    // the one an operator writing "until 02:30" on the night the clocks go back means first.
    let summer = local - 7_200;
    Ok(if netherlands_offset(summer) == 7_200 {
        summer
    } else {
        local - 3_600
    })
}

/// Unix seconds as RFC 3339 in UTC, `YYYY-MM-DDTHH:MM:SSZ`: for machines (APIs, listings).
pub fn utc_date_time(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let rem = unix.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A unix time as the clock in the Netherlands shows it: `YYYY-MM-DD HH:MM` (CET, CEST in
/// summer). The one way a moment is written for a person to read: every page, the CSV file and
/// the command line's lists; only the admin API's JSON keeps unix seconds.
pub fn netherlands_clock(unix: i64) -> String {
    let local = unix + netherlands_offset(unix);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3_600,
        secs % 3_600 / 60
    )
}

/// Roles a staff member can hold at a school. Only `IctCoordinator` grants administration of
/// the school; the others describe the person to relying parties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Leerkracht,
    IctCoordinator,
    Ib,
    Rt,
    Stagiaire,
    Invalkracht,
}

impl StaffRole {
    pub const ALL: [StaffRole; 6] = [
        StaffRole::Leerkracht,
        StaffRole::IctCoordinator,
        StaffRole::Ib,
        StaffRole::Rt,
        StaffRole::Stagiaire,
        StaffRole::Invalkracht,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            StaffRole::Leerkracht => "leerkracht",
            StaffRole::IctCoordinator => "ict_coordinator",
            StaffRole::Ib => "ib",
            StaffRole::Rt => "rt",
            StaffRole::Stagiaire => "stagiaire",
            StaffRole::Invalkracht => "invalkracht",
        }
    }

    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| {
                DirectoryError::invalid(
                    "rol",
                    value,
                    "toegestaan zijn leerkracht, ict_coordinator, ib, rt, stagiaire en invalkracht",
                    "allowed are leerkracht, ict_coordinator, ib, rt, stagiaire and invalkracht",
                )
            })
    }
}

/// Publishers (uitgeverijen) sign users in to their products; network providers
/// (netwerkaanbieders) broker their users in and read roster data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Publisher,
    NetworkProvider,
}

impl PartyKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PartyKind::Publisher => "publisher",
            PartyKind::NetworkProvider => "network_provider",
        }
    }

    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "publisher" | "uitgeverij" => Ok(PartyKind::Publisher),
            "network_provider" | "netwerkaanbieder" => Ok(PartyKind::NetworkProvider),
            _ => Err(DirectoryError::invalid(
                "soort partij",
                value,
                "kies publisher (uitgeverij) of network_provider (netwerkaanbieder)",
                "choose publisher (uitgeverij) or network_provider (netwerkaanbieder)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_of(e: DirectoryError) -> String {
        e.to_string()
    }

    #[test]
    fn display_names_with_bidi_or_zero_width_characters_are_refused() {
        for bad in [
            "de Vries\u{202E}",
            "Anna\u{200B}",
            "\u{2066}Jansen\u{2069}",
            "Pi\u{00AD}et",
            "Els\u{E0041}",
        ] {
            let msg = rule_of(display_name("achternaam", bad).unwrap_err());
            assert!(
                msg.contains("onzichtbare tekens") && msg.contains("invisible characters"),
                "{msg}"
            );
            assert!(
                !msg.chars().any(is_invisible_or_bidi),
                "escaped in the message: {msg:?}"
            );
        }
        for good in [
            "de Vries",
            "Çelik-Özdemir",
            "Ismaël",
            "O'Neill",
            "Nguyễn",
            "محمد",
        ] {
            assert_eq!(display_name("achternaam", good).unwrap(), good);
        }
    }

    #[test]
    fn brin_must_be_two_digits_and_two_capitals() {
        assert!(Brin::parse("12AB").is_ok());
        for bad in ["1ZAB", "12ab", "123B", "12ABC", "", "１２AB"] {
            let msg = rule_of(Brin::parse(bad).unwrap_err());
            assert!(msg.contains("BRIN"), "{msg}");
            assert!(
                msg.contains("2 cijfers gevolgd door 2 hoofdletters"),
                "{msg}"
            );
        }
    }

    #[test]
    fn vestigingscode_must_be_two_digits() {
        assert!(Vestigingscode::parse("00").is_ok());
        for bad in ["A1", "1", "001", ""] {
            let msg = rule_of(Vestigingscode::parse(bad).unwrap_err());
            assert!(
                msg.contains("vestigingscode") && msg.contains("2 cijfers"),
                "{msg}"
            );
        }
    }

    #[test]
    fn bestuursnummer_must_be_five_digits() {
        assert!(Bestuursnummer::parse("41234").is_ok());
        assert!(Bestuursnummer::parse("4123").is_err());
        assert!(Bestuursnummer::parse("4123A").is_err());
    }

    #[test]
    fn school_code_splits_into_brin_and_vestigingscode() {
        let c = SchoolCode::parse("99ZZ00").unwrap();
        assert_eq!(c.brin.as_str(), "99ZZ");
        assert_eq!(c.vestigingscode.as_str(), "00");
        assert!(SchoolCode::parse("99ZZ0").is_err());
        assert!(SchoolCode::parse("9ZZZ00").is_err());
    }

    #[test]
    fn cidr_prefix_beyond_address_length_is_refused() {
        let msg = rule_of(Cidr::parse("10.0.0.0/33").unwrap_err());
        assert!(msg.contains("IP-bereik") && msg.contains("CIDR"), "{msg}");
        assert!(Cidr::parse("2001:db8::/129").is_err());
        assert!(Cidr::parse("10.0.0.0/8").is_ok());
        assert!(Cidr::parse("2001:db8::/48").is_ok());
    }

    #[test]
    fn cidr_with_host_bits_is_refused() {
        let msg = rule_of(Cidr::parse("192.0.2.7/24").unwrap_err());
        assert!(msg.contains("192.0.2.0/24"), "{msg}");
    }

    #[test]
    fn cidr_matches_ipv4_clients_seen_as_mapped_ipv6() {
        let c = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(c.contains("192.0.2.9".parse().unwrap()));
        assert!(c.contains("::ffff:192.0.2.9".parse().unwrap()));
        assert!(!c.contains("192.0.3.1".parse().unwrap()));
        let bare = Cidr::parse("2001:db8::1").unwrap();
        assert_eq!(bare.to_string(), "2001:db8::1/128");
    }

    #[test]
    fn an_ipv4_mapped_ipv6_range_matches_ipv4_clients_in_either_spelling() {
        let mapped = Cidr::parse("::ffff:10.0.0.0/104").unwrap();
        for inside in ["10.1.2.3", "::ffff:10.1.2.3"] {
            assert!(mapped.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["11.0.0.1", "::ffff:11.0.0.1", "::a01:203", "2001:db8::1"] {
            assert!(!mapped.contains(outside.parse().unwrap()), "{outside}");
        }
        // A native IPv6 range is not widened to IPv4 clients it does not hold.
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(!v6.contains("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn email_is_normalised_to_lower_case_and_checked() {
        assert_eq!(
            Email::parse(" Juf.Anna@School.NL ").unwrap().as_str(),
            "juf.anna@school.nl"
        );
        for bad in [
            "anna",
            "anna@",
            "@school.nl",
            "an na@school.nl",
            "anna@school",
            "a@b@c.nl",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn jaargroep_follows_the_edexml_value_list() {
        for v in Jaargroep::VALUES {
            assert!(Jaargroep::parse(v).is_ok());
        }
        for bad in ["9", "10", "17", "groep 3", ""] {
            assert!(Jaargroep::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(Jaargroep::parse("1").unwrap().rank() < Jaargroep::parse("8").unwrap().rank());
    }

    #[test]
    fn las_key_is_one_to_256_characters() {
        assert!(LasKey::parse("a").is_ok());
        assert!(LasKey::parse(&"x".repeat(256)).is_ok());
        assert!(LasKey::parse(&"x".repeat(257)).is_err());
        assert!(LasKey::parse("").is_err());
    }

    #[test]
    fn launch_url_must_be_https_except_on_localhost() {
        assert!(WebUrl::parse("launch_url", "https://uitgever.example/start").is_ok());
        assert!(WebUrl::parse("launch_url", "http://localhost:9000/start").is_ok());
        assert!(WebUrl::parse("launch_url", "http://127.0.0.1/start").is_ok());
        let msg = rule_of(WebUrl::parse("launch_url", "http://uitgever.example/").unwrap_err());
        assert!(
            msg.contains("launch_url") && msg.contains("https://"),
            "{msg}"
        );
        assert!(WebUrl::parse("launch_url", "javascript:alert(1)").is_err());
        assert!(WebUrl::parse("launch_url", "https://user:pw@uitgever.example/").is_err());
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert!(Date::parse("valid_from", "2028-02-29").is_ok());
        assert!(Date::parse("valid_from", "2027-02-29").is_err());
        assert!(Date::parse("valid_from", "2026-13-01").is_err());
        assert!(Date::parse("valid_from", "26-01-01").is_err());
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1, 0, 10_957, 11_016, 20_415, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn dutch_wall_clock_times_round_trip_in_winter_and_summer() {
        // 2026-01-15 12:00 CET is 11:00 UTC; 2026-07-15 12:00 CEST is 10:00 UTC.
        let winter = netherlands_time("tot", "2026-01-15T12:00").unwrap();
        assert_eq!(winter, days_from_civil(2026, 1, 15) * 86_400 + 11 * 3_600);
        let summer = netherlands_time("tot", "2026-07-15 12:00").unwrap();
        assert_eq!(summer, days_from_civil(2026, 7, 15) * 86_400 + 10 * 3_600);
        assert_eq!(netherlands_clock(winter), "2026-01-15 12:00");
        assert_eq!(netherlands_clock(summer), "2026-07-15 12:00");
        for bad in [
            "2026-01-15",
            "2026-01-15T24:00",
            "2026-02-30T10:00",
            "morgen 10:00",
        ] {
            assert!(netherlands_time("tot", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dutch_calendar_day_follows_cet_and_cest() {
        // 2027-07-31 22:30 UTC is 2027-08-01 00:30 in summer time: a licence "until 31 July"
        // has ended in the Netherlands although it is still 31 July in UTC.
        let summer_night = days_from_civil(2027, 7, 31) * 86_400 + 22 * 3_600 + 1_800;
        assert_eq!(Date::in_netherlands(summer_night).as_str(), "2027-08-01");
        // In winter the offset is one hour.
        let winter = days_from_civil(2027, 1, 10) * 86_400 + 22 * 3_600 + 1_800;
        assert_eq!(Date::in_netherlands(winter).as_str(), "2027-01-10");
        let winter_late = days_from_civil(2027, 1, 10) * 86_400 + 23 * 3_600 + 1_800;
        assert_eq!(Date::in_netherlands(winter_late).as_str(), "2027-01-11");
        // Summer time in 2027 starts on Sunday 28 March at 01:00 UTC.
        let before = days_from_civil(2027, 3, 28) * 86_400 + 3_599;
        assert_eq!(eu_switch(2027, 3), before + 1);
        assert_eq!(
            eu_switch(2027, 10),
            days_from_civil(2027, 10, 31) * 86_400 + 3_600
        );
    }

    #[test]
    fn staff_roles_round_trip() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()).unwrap(), r);
        }
        assert!(StaffRole::parse("admin").is_err());
    }
}
