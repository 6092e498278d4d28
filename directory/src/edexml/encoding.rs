//! Character encoding of an EDEXML file.
//!
//! The EDEXML schemas and examples are UTF-8, but some LAS exports write ISO-8859-1 or
//! Windows-1252 and say so in the XML declaration. Those single-byte Western encodings are
//! honoured here by a table lookup of our own: quick-xml's `encoding` feature would pull in
//! encoding_rs and all of its encodings for the sake of three tables. Anything else (UTF-16,
//! other code pages) is refused with a problem that says to export as UTF-8.
//!
//! A declared ISO-8859-1 file is read as Windows-1252, as browsers do (WHATWG Encoding
//! Standard): exports that say ISO-8859-1 often contain Windows quotes and the euro sign in
//! 0x80–0x9F, where real ISO-8859-1 has only invisible control characters.

use std::borrow::Cow;

use super::problem::{Issue, Locator};

/// A refusal with the byte offset (into the bytes as given) where the problem is.
pub(super) struct Refusal {
    pub line: usize,
    pub column: usize,
    pub issue: Issue,
}

/// The document as UTF-8 text, without a byte order mark.
pub(super) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, Refusal> {
    let at_start = |issue| Refusal {
        line: 1,
        column: 1,
        issue,
    };
    if bytes.starts_with(&[0xFE, 0xFF])
        || bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0x00, b'<'])
        || bytes.starts_with(&[b'<', 0x00])
    {
        return Err(at_start(Issue::new(
            "xml.codering.niet_ondersteund",
            "het bestand is in UTF-16 opgeslagen. openpoort leest EDEXML in UTF-8 (zoals de \
             standaard voorschrijft) en in ISO-8859-1/Windows-1252. Exporteer het bestand \
             opnieuw als UTF-8.",
            "the file is stored as UTF-16. openpoort reads EDEXML in UTF-8 (as the standard \
             prescribes) and in ISO-8859-1/Windows-1252. Export the file again as UTF-8.",
        )));
    }
    let (body, bom) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let label = declared_encoding(body);
    let table = match label.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => None,
        Some(
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" | "cp819"
            | "ibm819" | "windows-1252" | "cp1252" | "x-cp1252",
        ) => Some(Table::Windows1252),
        Some("iso-8859-15" | "iso8859-15" | "iso_8859-15" | "latin9" | "latin-9" | "l9") => {
            Some(Table::Iso885915)
        }
        Some(_) => {
            let other = label.as_deref().unwrap_or_default();
            return Err(at_start(Issue::new(
                "xml.codering.niet_ondersteund",
                format!(
                    "het bestand is volgens de XML-declaratie in de tekenset \"{other}\" \
                     opgeslagen; openpoort leest UTF-8 en ISO-8859-1/Windows-1252. Exporteer \
                     het bestand opnieuw als UTF-8."
                ),
                format!(
                    "the XML declaration says the file is in the \"{other}\" character set; \
                     openpoort reads UTF-8 and ISO-8859-1/Windows-1252. Export the file again \
                     as UTF-8."
                ),
            )));
        }
    };
    match table {
        None => match std::str::from_utf8(body) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(e) => {
                let good = e.valid_up_to();
                // The prefix is valid UTF-8 by definition, so the place can be given in
                // characters like every other problem's.
                let prefix = std::str::from_utf8(&body[..good]).unwrap_or_default();
                let (line, column) = Locator::new(prefix).locate(good);
                let byte = body[good];
                Err(Refusal {
                    line,
                    column,
                    issue: Issue::new(
                        "xml.codering.ongeldig",
                        format!(
                            "het bestand bevat hier een teken (byte 0x{byte:02X}) dat geen \
                             geldige UTF-8 is. Waarschijnlijk is het bestand in een andere \
                             tekenset opgeslagen dan het zegt. Exporteer het bestand opnieuw \
                             uit de leerlingadministratie, als UTF-8."
                        ),
                        format!(
                            "the file contains a character here (byte 0x{byte:02X}) that is \
                             not valid UTF-8. The file was probably saved in another character \
                             set than it declares. Export the file again from the pupil \
                             administration, as UTF-8."
                        ),
                    ),
                })
            }
        },
        Some(_) if bom => Err(at_start(Issue::new(
            "xml.codering.tegenstrijdig",
            format!(
                "het bestand begint met een UTF-8-kenmerk (BOM) maar zegt in de XML-declaratie \
                 dat het \"{}\" is. Exporteer het bestand opnieuw als UTF-8.",
                label.as_deref().unwrap_or_default()
            ),
            format!(
                "the file starts with a UTF-8 byte order mark but its XML declaration says it \
                 is \"{}\". Export the file again as UTF-8.",
                label.as_deref().unwrap_or_default()
            ),
        ))),
        Some(table) => Ok(Cow::Owned(body.iter().map(|&b| table.char(b)).collect())),
    }
}

#[derive(Clone, Copy)]
enum Table {
    Windows1252,
    Iso885915,
}

/// Windows-1252's characters for 0x80–0x9F; the five bytes it leaves undefined map to the C1
/// control characters, as in the WHATWG index.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

impl Table {
    fn char(self, b: u8) -> char {
        match (self, b) {
            (Table::Windows1252, 0x80..=0x9F) => WINDOWS_1252_HIGH[usize::from(b - 0x80)],
            (Table::Iso885915, 0xA4) => '\u{20AC}',
            (Table::Iso885915, 0xA6) => '\u{0160}',
            (Table::Iso885915, 0xA8) => '\u{0161}',
            (Table::Iso885915, 0xB4) => '\u{017D}',
            (Table::Iso885915, 0xB8) => '\u{017E}',
            (Table::Iso885915, 0xBC) => '\u{0152}',
            (Table::Iso885915, 0xBD) => '\u{0153}',
            (Table::Iso885915, 0xBE) => '\u{0178}',
            // Everything else is the Latin-1 byte value as a code point.
            _ => char::from(b),
        }
    }
}

/// Bytes read as Windows-1252 (every byte maps to a character), for other imports that meet
/// the same Western single-byte exports, such as DUO's CSV lists.
pub(crate) fn windows_1252(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| Table::Windows1252.char(b)).collect()
}

/// The `encoding` pseudo-attribute of an XML declaration at the very start of `body`, if any.
/// The declaration is ASCII in every encoding accepted here, so it is read from the raw bytes.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let rest = body.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|b| is_xml_space(*b)) {
        return None;
    }
    // A declaration is short; a missing "?>" within this window is left to the XML parser.
    let window = &rest[..rest.len().min(1024)];
    let end = window.windows(2).position(|w| w == b"?>")?;
    let decl = &window[..end];
    let at = find(decl, b"encoding")?;
    let mut i = at + b"encoding".len();
    while decl.get(i).is_some_and(|b| is_xml_space(*b)) {
        i += 1;
    }
    if decl.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while decl.get(i).is_some_and(|b| is_xml_space(*b)) {
        i += 1;
    }
    let quote = *decl.get(i)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let start = i + 1;
    let len = decl[start..].iter().position(|b| *b == quote)?;
    let value = &decl[start..start + len];
    if value.is_empty()
        || !value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return None;
    }
    Some(String::from_utf8_lossy(value).into_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_encoding_is_found_with_either_quote() {
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding='ISO-8859-1'?><a/>").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding = \"utf-8\" ?>").as_deref(),
            Some("utf-8")
        );
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\"?>"), None);
        assert_eq!(declared_encoding(b"<EDEX/>"), None);
    }

    #[test]
    fn windows_1252_and_latin9_tables() {
        assert_eq!(Table::Windows1252.char(0x80), '€');
        assert_eq!(Table::Windows1252.char(0x92), '’');
        assert_eq!(Table::Windows1252.char(0xEB), 'ë');
        assert_eq!(Table::Iso885915.char(0xA4), '€');
        assert_eq!(Table::Iso885915.char(0xEB), 'ë');
    }
}
