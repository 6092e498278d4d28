//! DUO's list of school locations ("Alle schoolvestigingen basisonderwijs" and its kin): the
//! official source of school names and codes, read here into validated rows. Pure: no database.
//!
//! The file is CSV with `;` between fields and `"` around fields that need it. DUO has published
//! it as Windows-1252 and as UTF-8, with and without a byte order mark; a file that is valid UTF-8
//! is read as UTF-8, anything else as Windows-1252 (every byte is a character there, and a
//! Windows-1252 file with accented names is practically never valid UTF-8 by accident).
//!
//! Two header sets are in circulation. The older files name the columns `BRIN NUMMER`,
//! `VESTIGINGSNUMMER` (the whole location code, BRIN + two digits: `16SW03`), `VESTIGINGSNAAM` and
//! `BEVOEGD GEZAG NUMMER`; the newer ones `INSTELLINGSCODE`, `VESTIGINGSCODE`, `VESTIGINGSNAAM`
//! and `BEVOEGD GEZAG NUMMER` (or `BEVOEGDGEZAGNUMMER`). The newer address files again carry the
//! whole code in `VESTIGINGSCODE` (`00AH00`), while DUO's statistics files carry only the two
//! digits, sometimes without the leading zero (`0`). All three forms are accepted; a whole code
//! must start with the row's own BRIN. Column names are compared without case, spaces,
//! underscores or hyphens, so `NAAM_VESTIGING` and `BEVOEGDGEZAGNUMMER` are found too.
//!
//! A board name (`BEVOEGD GEZAG NAAM`), an end date (`DATUM OPHEFFING`, `EINDDATUM`, …) and a
//! status column are optional. Every problem of a file is reported at once, each with its line,
//! column and a Dutch and English message; a file with any problem yields no rows at all.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::error::DirectoryError;
use crate::model::{Bestuursnummer, Brin, Date, SchoolCode, Vestigingscode, display_name};

/// A file larger than this is not a DUO location list (the national list is about 2 MB).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// One school location of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuoLocation {
    /// Line of the file where the row starts (1 is the header).
    pub line: usize,
    pub code: SchoolCode,
    pub name: String,
    pub bestuursnummer: Bestuursnummer,
    /// Only when the file has a board-name column.
    pub board_name: Option<String>,
    /// When DUO says the location closes or closed: an end date, or a closed status without one.
    pub closure: Option<DuoClosure>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuoClosure {
    pub end_date: Option<Date>,
    pub status: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuoEncoding {
    Utf8,
    Windows1252,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuoHeaders {
    /// `BRIN NUMMER` / `VESTIGINGSNUMMER`.
    Older,
    /// `INSTELLINGSCODE` / `VESTIGINGSCODE`.
    Newer,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuoList {
    pub encoding: DuoEncoding,
    pub headers: DuoHeaders,
    pub locations: Vec<DuoLocation>,
}

/// One thing wrong with the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuoProblem {
    pub line: usize,
    /// The column as the file names it; None for problems of the whole row or file.
    pub column: Option<String>,
    pub nl: String,
    pub en: String,
}

impl fmt::Display for DuoProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "regel {}, kolom {c}: {} / line {}, column {c}: {}",
                self.line, self.nl, self.line, self.en
            ),
            None => write!(
                f,
                "regel {}: {} / line {}: {}",
                self.line, self.nl, self.line, self.en
            ),
        }
    }
}

/// Every problem of a file; nothing of it may be applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuoProblems(pub Vec<DuoProblem>);

impl fmt::Display for DuoProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "het DUO-bestand heeft {} probleem/problemen; er is niets gewijzigd / the DUO file has {} problem(s); nothing was changed:",
            self.0.len(),
            self.0.len()
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DuoProblems {}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Field {
    Brin,
    Vestiging,
    Name,
    Board,
    BoardName,
    EndDate,
    Status,
}

/// Accepted column names per field, in their squashed form (upper case, no spaces, `_` or `-`).
const COLUMNS: &[(Field, &[&str])] = &[
    (Field::Brin, &["BRINNUMMER", "INSTELLINGSCODE", "BRIN"]),
    (Field::Vestiging, &["VESTIGINGSNUMMER", "VESTIGINGSCODE"]),
    (
        Field::Name,
        &[
            "VESTIGINGSNAAM",
            "NAAMVESTIGING",
            "INSTELLINGSNAAMVESTIGING",
        ],
    ),
    (Field::Board, &["BEVOEGDGEZAGNUMMER", "BESTUURSNUMMER"]),
    (Field::BoardName, &["BEVOEGDGEZAGNAAM", "BESTUURSNAAM"]),
    (
        Field::EndDate,
        &[
            "DATUMOPHEFFING",
            "OPHEFFINGSDATUM",
            "EINDDATUM",
            "DATUMEINDE",
            "EINDDATUMVESTIGING",
            "DATUMSLUITING",
        ],
    ),
    (Field::Status, &["STATUS", "VESTIGINGSSTATUS"]),
];

const REQUIRED: [(Field, &str); 4] = [
    (Field::Brin, "BRIN NUMMER of/or INSTELLINGSCODE"),
    (Field::Vestiging, "VESTIGINGSNUMMER of/or VESTIGINGSCODE"),
    (Field::Name, "VESTIGINGSNAAM"),
    (
        Field::Board,
        "BEVOEGD GEZAG NUMMER of/or BEVOEGDGEZAGNUMMER",
    ),
];

fn squash(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\u{a0}'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Reads a DUO location list. All problems are returned together.
pub fn parse(bytes: &[u8]) -> Result<DuoList, DuoProblems> {
    let whole = |nl: String, en: String| {
        DuoProblems(vec![DuoProblem {
            line: 1,
            column: None,
            nl,
            en,
        }])
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(whole(
            format!(
                "het bestand is groter dan {} MB; dit is geen lijst van schoolvestigingen van DUO",
                MAX_FILE_BYTES >> 20
            ),
            format!(
                "the file is larger than {} MB; this is not a DUO list of school locations",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let (text, encoding) = match std::str::from_utf8(body) {
        Ok(t) => (t.to_owned(), DuoEncoding::Utf8),
        Err(_) => (
            crate::edexml::encoding::windows_1252(body),
            DuoEncoding::Windows1252,
        ),
    };
    let mut problems = Vec::new();
    let records = split_records(&text, &mut problems);
    let Some((header_line, header)) = records.first() else {
        return Err(whole(
            "het bestand is leeg; verwacht wordt DUO's lijst van schoolvestigingen met een kopregel".into(),
            "the file is empty; expected is DUO's list of school locations with a header line".into(),
        ));
    };

    // Which column holds which field.
    let mut at: HashMap<Field, usize> = HashMap::new();
    let mut headers = DuoHeaders::Newer;
    for (i, name) in header.iter().enumerate() {
        let s = squash(name);
        let Some((field, _)) = COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&s.as_str()))
        else {
            continue;
        };
        if let Some(&first) = at.get(field) {
            problems.push(DuoProblem {
                line: *header_line,
                column: Some(name.trim().to_owned()),
                nl: format!(
                    "deze kolom betekent hetzelfde als kolom {:?}; laat er een van weg",
                    header[first].trim()
                ),
                en: format!(
                    "this column means the same as column {:?}; leave one of them out",
                    header[first].trim()
                ),
            });
            continue;
        }
        if *field == Field::Brin && s == "BRINNUMMER" {
            headers = DuoHeaders::Older;
        }
        at.insert(*field, i);
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|(f, _)| !at.contains_key(f))
        .map(|(_, n)| *n)
        .collect();
    if !missing.is_empty() {
        problems.push(DuoProblem {
            line: *header_line,
            column: None,
            nl: format!(
                "de kopregel mist de kolom(men) {}; is dit DUO's lijst van schoolvestigingen (puntkomma-gescheiden)?",
                missing.join(", ")
            ),
            en: format!(
                "the header line lacks the column(s) {}; is this DUO's list of school locations (semicolon-separated)?",
                missing.join(", ")
            ),
        });
        return Err(DuoProblems(problems));
    }
    if records.len() == 1 {
        problems.push(DuoProblem {
            line: *header_line,
            column: None,
            nl: "het bestand bevat geen vestigingen; een lege lijst zou elke school als gesloten melden".into(),
            en: "the file contains no locations; an empty list would report every school as closed".into(),
        });
        return Err(DuoProblems(problems));
    }

    let column_name = |f: Field| header[at[&f]].trim().to_owned();
    let mut locations = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let mut board_names: HashMap<String, (String, usize)> = HashMap::new();
    for (line, fields) in &records[1..] {
        let line = *line;
        // Excel likes to end rows with empty fields; anything else is a shifted row.
        let extra_filled = fields
            .iter()
            .skip(header.len())
            .any(|f| !f.trim().is_empty());
        if fields.len() < header.len() || extra_filled {
            problems.push(DuoProblem {
                line,
                column: None,
                nl: format!(
                    "de regel heeft {} velden, de kopregel {}; staat er een puntkomma of aanhalingsteken te veel of te weinig?",
                    fields.len(),
                    header.len()
                ),
                en: format!(
                    "the line has {} fields, the header line {}; is there a semicolon or quote too many or too few?",
                    fields.len(),
                    header.len()
                ),
            });
            continue;
        }
        let mut bad = |field: Field, nl: String, en: String| {
            problems.push(DuoProblem {
                line,
                column: Some(column_name(field)),
                nl,
                en,
            });
        };
        let get = |f: Field| at.get(&f).map(|&i| fields[i].trim());
        let from_rule = |e: DirectoryError| match e {
            DirectoryError::Invalid {
                value,
                rule_nl,
                rule_en,
                ..
            } => (
                format!("{value:?} is ongeldig: {rule_nl}"),
                format!("{value:?} is invalid: {rule_en}"),
            ),
            other => (other.to_string(), other.to_string()),
        };

        let brin = match Brin::parse(get(Field::Brin).unwrap_or_default()) {
            Ok(b) => Some(b),
            Err(e) => {
                let (nl, en) = from_rule(e);
                bad(Field::Brin, nl, en);
                None
            }
        };
        let vestiging_raw = get(Field::Vestiging).unwrap_or_default();
        let vestiging = match vestigingscode(vestiging_raw, brin.as_ref()) {
            Ok(v) => Some(v),
            Err((nl, en)) => {
                bad(Field::Vestiging, nl, en);
                None
            }
        };
        let name = match display_name("VESTIGINGSNAAM", get(Field::Name).unwrap_or_default()) {
            Ok(n) => Some(n),
            Err(e) => {
                let (nl, en) = from_rule(e);
                bad(Field::Name, nl, en);
                None
            }
        };
        let board = match Bestuursnummer::parse(get(Field::Board).unwrap_or_default()) {
            Ok(b) => Some(b),
            Err(e) => {
                let (nl, en) = from_rule(e);
                bad(Field::Board, nl, en);
                None
            }
        };
        let board_name = match get(Field::BoardName).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => match display_name("BEVOEGD GEZAG NAAM", n) {
                Ok(n) => Some(n),
                Err(e) => {
                    let (nl, en) = from_rule(e);
                    bad(Field::BoardName, nl, en);
                    None
                }
            },
        };
        let end_date = match get(Field::EndDate).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => match end_date(d) {
                Some(date) => Some(date),
                None => {
                    bad(
                        Field::EndDate,
                        format!("{d:?} is geen datum; gebruik JJJJ-MM-DD, DD-MM-JJJJ of JJJJMMDD"),
                        format!("{d:?} is not a date; use YYYY-MM-DD, DD-MM-YYYY or YYYYMMDD"),
                    );
                    None
                }
            },
        };
        let status = match get(Field::Status).filter(|s| !s.is_empty()) {
            None => Ok(false),
            Some(s) => match closed_status(s) {
                Some(closed) => Ok(closed),
                None => {
                    bad(
                        Field::Status,
                        format!(
                            "onbekende status {s:?}; verwacht wordt bijvoorbeeld \"actief\", \"opgeheven\" of \"gesloten\""
                        ),
                        format!(
                            "unknown status {s:?}; expected is e.g. \"actief\", \"opgeheven\" or \"gesloten\""
                        ),
                    );
                    Err(())
                }
            },
        };

        let (Some(brin), Some(vestiging), Some(name), Some(board), Ok(closed)) =
            (brin, vestiging, name, board, status)
        else {
            continue;
        };
        let code = SchoolCode {
            brin,
            vestigingscode: vestiging,
        };
        if let Some(first) = first_line_of.get(&code.to_string()) {
            problems.push(DuoProblem {
                line,
                column: Some(column_name(Field::Vestiging)),
                nl: format!("vestiging {code} staat ook al op regel {first}; elke vestiging hoort één keer in de lijst"),
                en: format!("location {code} is also on line {first}; each location belongs in the list once"),
            });
            continue;
        }
        first_line_of.insert(code.to_string(), line);
        if let Some(n) = &board_name {
            match board_names.get(board.as_str()) {
                Some((other, first)) if other != n => problems.push(DuoProblem {
                    line,
                    column: Some(column_name(Field::BoardName)),
                    nl: format!("bestuur {board} heet hier {n:?}, maar op regel {first} {other:?}"),
                    en: format!(
                        "board {board} is called {n:?} here, but {other:?} on line {first}"
                    ),
                }),
                Some(_) => {}
                None => {
                    board_names.insert(board.to_string(), (n.clone(), line));
                }
            }
        }
        let closure = (end_date.is_some() || closed).then(|| DuoClosure {
            end_date,
            status: closed.then(|| get(Field::Status).unwrap_or_default().to_owned()),
        });
        locations.push(DuoLocation {
            line,
            code,
            name,
            bestuursnummer: board,
            board_name,
            closure,
        });
    }
    if problems.is_empty() {
        Ok(DuoList {
            encoding,
            headers,
            locations,
        })
    } else {
        Err(DuoProblems(problems))
    }
}

/// The two-digit vestigingscode from either the whole code (`12AB03`, which must start with the
/// row's BRIN) or the digits alone (`03`, or `3` as DUO's statistics files write it).
fn vestigingscode(raw: &str, brin: Option<&Brin>) -> Result<Vestigingscode, (String, String)> {
    let invalid = || {
        (
            format!(
                "{raw:?} is geen vestigingscode; verwacht wordt de BRIN met 2 cijfers (12AB00) of alleen de 2 cijfers (00)"
            ),
            format!(
                "{raw:?} is not a location code; expected is the BRIN with 2 digits (12AB00) or just the 2 digits (00)"
            ),
        )
    };
    let digits = match raw.len() {
        6 if raw.is_char_boundary(4) => {
            let (prefix, digits) = raw.split_at(4);
            if let Some(b) = brin
                && prefix != b.as_str()
            {
                return Err((
                    format!("vestiging {raw:?} hoort niet bij BRIN {b} van dezelfde regel"),
                    format!("location {raw:?} does not belong to BRIN {b} on the same line"),
                ));
            }
            digits.to_owned()
        }
        1 => format!("0{raw}"),
        2 => raw.to_owned(),
        _ => return Err(invalid()),
    };
    Vestigingscode::parse(&digits).map_err(|_| invalid())
}

/// DUO writes dates as `DD-MM-YYYY`, `YYYYMMDD` or ISO, depending on the file.
fn end_date(raw: &str) -> Option<Date> {
    let b = raw.as_bytes();
    let iso = match b.len() {
        10 if (b[2] == b'-' || b[2] == b'/') && b[5] == b[2] => {
            format!("{}-{}-{}", &raw[6..10], &raw[3..5], &raw[0..2])
        }
        10 => raw.to_owned(),
        8 if b.iter().all(u8::is_ascii_digit) => {
            format!("{}-{}-{}", &raw[0..4], &raw[4..6], &raw[6..8])
        }
        _ => return None,
    };
    Date::parse("einddatum", &iso).ok()
}

/// Some(true) for a closed location, Some(false) for an open one, None when unknown.
fn closed_status(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "opgeheven" | "gesloten" | "beëindigd" | "beeindigd" | "inactief" | "closed" => Some(true),
        "actief" | "open" | "geopend" | "active" | "in oprichting" => Some(false),
        _ => None,
    }
}

/// Splits the text into records of fields, each with the line its record starts on. Quoted
/// fields may hold `;`, line breaks and doubled quotes. Blank lines are skipped.
fn split_records(text: &str, problems: &mut Vec<DuoProblem>) -> Vec<(usize, Vec<String>)> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    let finish = |fields: &mut Vec<String>,
                  field: &mut String,
                  start: usize,
                  records: &mut Vec<(usize, Vec<String>)>| {
        fields.push(std::mem::take(field));
        let all = std::mem::take(fields);
        if !(all.len() == 1 && all[0].trim().is_empty()) {
            records.push((start, all));
        }
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            ';' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                finish(&mut fields, &mut field, start, &mut records);
                was_quoted = false;
                line += 1;
                start = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        problems.push(DuoProblem {
            line: start,
            column: None,
            nl: "een veld dat met een aanhalingsteken begint, wordt nergens afgesloten".into(),
            en: "a field that starts with a quote is never closed".into(),
        });
        // The rest of the file is that one field: nothing after it can be read as rows.
        return records;
    }
    if !fields.is_empty() || !field.is_empty() {
        finish(&mut fields, &mut field, start, &mut records);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLDER: &str = "PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;PLAATSNAAM\n\
        Utrecht;41234;12AB;12AB00;De Regenboog;UTRECHT\n\
        Utrecht;41234;12AB;12AB01;\"De Regenboog; dependance Noord\";UTRECHT\n\
        Friesland;52345;34CD;34CD00;Obs De Wâlde;LJOUWERT\n";

    const NEWER: &str = "\u{feff}\"PROVINCIE\";\"BEVOEGDGEZAGNUMMER\";\"INSTELLINGSCODE\";\"VESTIGINGSCODE\";\"VESTIGINGSNAAM\"\r\n\
        \"Limburg\";\"41234\";\"12AB\";\"00\";\"Basisschool Sint-Jozef\"\r\n\
        \"Limburg\";\"41234\";\"12AB\";\"1\";\"Basisschool Sint-Jozef, locatie Zuid\"\r\n";

    #[test]
    fn older_headers_with_whole_location_codes_are_read() {
        let list = parse(OLDER.as_bytes()).unwrap();
        assert_eq!(list.headers, DuoHeaders::Older);
        assert_eq!(list.encoding, DuoEncoding::Utf8);
        let codes: Vec<String> = list.locations.iter().map(|l| l.code.to_string()).collect();
        assert_eq!(codes, ["12AB00", "12AB01", "34CD00"]);
        assert_eq!(list.locations[1].name, "De Regenboog; dependance Noord");
        assert_eq!(list.locations[2].name, "Obs De Wâlde");
        assert_eq!(list.locations[2].bestuursnummer.as_str(), "52345");
        assert_eq!(list.locations[2].line, 4);
    }

    #[test]
    fn newer_headers_with_bom_crlf_and_bare_digits_are_read() {
        let list = parse(NEWER.as_bytes()).unwrap();
        assert_eq!(list.headers, DuoHeaders::Newer);
        let codes: Vec<String> = list.locations.iter().map(|l| l.code.to_string()).collect();
        assert_eq!(codes, ["12AB00", "12AB01"]);
        assert_eq!(
            list.locations[1].name,
            "Basisschool Sint-Jozef, locatie Zuid"
        );
    }

    #[test]
    fn windows_1252_bytes_become_the_accented_characters() {
        // "Daltonschool Café Noël" with é = 0xE9 and ë = 0xEB; a Windows quote 0x92.
        let mut bytes =
            b"BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER\n12AB;12AB00;Daltonschool Caf"
                .to_vec();
        bytes.extend_from_slice(&[0xE9, b' ', b'N', b'o', 0xEB, b'l', b';']);
        bytes.extend_from_slice(b"41234\n12AB;12AB01;De Twee\x92Stromen;41234\n");
        let list = parse(&bytes).unwrap();
        assert_eq!(list.encoding, DuoEncoding::Windows1252);
        assert_eq!(list.locations[0].name, "Daltonschool Café Noël");
        assert_eq!(list.locations[1].name, "De Twee\u{2019}Stromen");
    }

    #[test]
    fn utf8_with_bom_keeps_accents() {
        let text = "\u{feff}INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER\n12AB;12AB00;École Noël;41234\n";
        let list = parse(text.as_bytes()).unwrap();
        assert_eq!(list.encoding, DuoEncoding::Utf8);
        assert_eq!(list.locations[0].name, "École Noël");
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_column() {
        let text = "BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER\n\
            12AB;12AB00;Goed;41234\n\
            1ZAB;1ZAB00;Fout BRIN;41234\n\
            12AB;34CD01;Andere BRIN;41234\n\
            12AB;12AB02;;41234\n\
            12AB;12AB03;Fout bestuur;4123\n\
            12AB;12AB00;Dubbel;41234\n\
            12AB;12AB04;Te kort\n";
        let problems = parse(text.as_bytes()).unwrap_err().0;
        let at: Vec<(usize, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert_eq!(
            at,
            [
                (3, Some("BRIN NUMMER")),
                (4, Some("VESTIGINGSNUMMER")),
                (5, Some("VESTIGINGSNAAM")),
                (6, Some("BEVOEGD GEZAG NUMMER")),
                (7, Some("VESTIGINGSNUMMER")),
                (8, None),
            ],
            "{problems:?}"
        );
        assert!(
            problems[0]
                .nl
                .contains("2 cijfers gevolgd door 2 hoofdletters"),
            "{:?}",
            problems[0]
        );
        assert!(
            problems[1].en.contains("does not belong to BRIN 12AB"),
            "{:?}",
            problems[1]
        );
        assert!(problems[4].nl.contains("regel 2"), "{:?}", problems[4]);
        let shown = DuoProblems(problems).to_string();
        assert!(
            shown.contains("regel 3, kolom BRIN NUMMER")
                && shown.contains("line 3, column BRIN NUMMER"),
            "{shown}"
        );
    }

    #[test]
    fn missing_required_columns_are_named() {
        let text = "BRIN NUMMER;VESTIGINGSNAAM\n12AB;School\n";
        let p = parse(text.as_bytes()).unwrap_err().0;
        assert_eq!(p.len(), 1);
        assert!(
            p[0].nl.contains("VESTIGINGSNUMMER") && p[0].nl.contains("BEVOEGD GEZAG NUMMER"),
            "{:?}",
            p[0]
        );
        // A comma-separated file has one column named after all of them.
        let comma = "BRIN NUMMER,VESTIGINGSNUMMER,VESTIGINGSNAAM,BEVOEGD GEZAG NUMMER\n";
        assert!(
            parse(comma.as_bytes()).unwrap_err().0[0]
                .en
                .contains("semicolon")
        );
    }

    #[test]
    fn a_list_without_rows_or_bytes_is_refused() {
        assert!(parse(b"").unwrap_err().0[0].nl.contains("leeg"));
        let header_only = "INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER\n";
        assert!(
            parse(header_only.as_bytes()).unwrap_err().0[0]
                .en
                .contains("no locations")
        );
    }

    #[test]
    fn quoted_fields_keep_semicolons_quotes_and_line_breaks_and_lines_stay_counted() {
        let head = "INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER;ADRES\n";
        let rows = "12AB;00;\"School \"\"'t Kofschip\"\"; locatie Noord\";41234;\"Dorpsstraat 1\nPostbus 2\"\n\
            12AB;01;Tweede;41234;Kerkpad 3;;\n";
        let list = parse(format!("{head}{rows}").as_bytes()).unwrap();
        assert_eq!(
            list.locations[0].name,
            "School \"'t Kofschip\"; locatie Noord"
        );
        // The line break inside the quoted address still counts: the second row is on line 4.
        assert_eq!(list.locations[1].line, 4);
        let unclosed = format!("{head}{rows}12AB;02;\"Open;41234;x\n");
        let problems = parse(unclosed.as_bytes()).unwrap_err().0;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 5);
        assert!(problems[0].nl.contains("nergens afgesloten"));
    }

    #[test]
    fn end_dates_and_closed_status_are_closures() {
        let text = "INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM;DATUM OPHEFFING;STATUS\n\
            12AB;00;Open;41234;Stichting Noord;;actief\n\
            12AB;01;Sluit;41234;Stichting Noord;31-07-2026;\n\
            12AB;02;Dicht;41234;Stichting Noord;;Opgeheven\n\
            12AB;03;Iso;41234;Stichting Noord;20250801;\n";
        let list = parse(text.as_bytes()).unwrap();
        let l = &list.locations;
        assert_eq!(l[0].closure, None);
        assert_eq!(l[0].board_name.as_deref(), Some("Stichting Noord"));
        assert_eq!(
            l[1].closure
                .as_ref()
                .unwrap()
                .end_date
                .as_ref()
                .unwrap()
                .as_str(),
            "2026-07-31"
        );
        assert_eq!(
            l[2].closure.as_ref().unwrap().status.as_deref(),
            Some("Opgeheven")
        );
        assert_eq!(
            l[3].closure
                .as_ref()
                .unwrap()
                .end_date
                .as_ref()
                .unwrap()
                .as_str(),
            "2025-08-01"
        );
        let bad = text
            .replace("31-07-2026", "31-13-2026")
            .replace("Opgeheven", "misschien");
        let p = parse(bad.as_bytes()).unwrap_err().0;
        assert_eq!(
            p.iter().map(|p| p.column.as_deref()).collect::<Vec<_>>(),
            [Some("DATUM OPHEFFING"), Some("STATUS")]
        );
    }

    #[test]
    fn one_board_with_two_names_is_a_problem() {
        let text = "INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER;BEVOEGD GEZAG NAAM\n\
            12AB;00;A;41234;Stichting Noord\n\
            12AB;01;B;41234;Stichting Zuid\n";
        let p = parse(text.as_bytes()).unwrap_err().0;
        assert_eq!(
            (p[0].line, p[0].column.as_deref()),
            (3, Some("BEVOEGD GEZAG NAAM"))
        );
    }

    #[test]
    fn two_columns_for_one_field_are_refused() {
        let text = "BRIN NUMMER;INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM;BEVOEGD GEZAG NUMMER\n12AB;12AB;00;A;41234\n";
        let p = parse(text.as_bytes()).unwrap_err().0;
        assert_eq!(p[0].column.as_deref(), Some("INSTELLINGSCODE"));
    }
}
