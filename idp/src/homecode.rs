//! Home codes: how a pupil signs in from home. The school prints a card with a code (also as a QR
//! code of the /thuis link) and a 6-digit pin; the register keeps the code's SHA-256 to find the
//! pupil and the pin's argon2id hash to check it.

use std::fmt::Write as _;

use openssl::rand::rand_bytes;
use qrcode::{Color, EcLevel, QrCode};

/// Digits and capitals without 0/O and 1/I/L: a child copying a printed card mixes those up.
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 16 characters of 31 carry 79.3 bits: far beyond guessing online, and beyond an offline search
/// of the stored hashes too, which is why a single SHA-256 is enough for the lookup key.
const CODE_LEN: usize = 16;
/// Groups of four are what people can hold in mind while copying from paper.
const GROUP_LEN: usize = 4;
/// The longest input worth looking at: the grouped code with generous spacing and Unicode
/// dashes. Anything longer is not a code, and refusing it first keeps a hostile post cheap.
const MAX_INPUT_BYTES: usize = 64;
const PIN_DIGITS: usize = 6;
const PIN_RANGE: u32 = 1_000_000;
/// What the QR specification requires around the code for scanners to find it.
const QUIET_ZONE: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum HomeCodeError {
    #[error("{0}")]
    Hash(#[from] crate::password::HashError),
    #[error("{0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("cannot make a QR code of {len} bytes: {source}")]
    Qr {
        len: usize,
        #[source]
        source: qrcode::types::QrError,
    },
}

/// A fresh home code: 16 characters from an unambiguous alphabet (no 0/O/1/I/L), shown in groups
/// of four ("ABCD-EFGH-JKMN-PQRS"), ~80 bits, from openssl::rand.
///
/// # Panics
/// When OpenSSL's random generator fails, as everywhere else in openpoort: a weaker code is no
/// way out.
pub fn new_code() -> String {
    // The largest multiple of the alphabet's size in a byte: bytes above it are drawn again
    // rather than folded in, which would make the first characters likelier.
    const LIMIT: u8 = (256 - 256 % ALPHABET.len()) as u8;
    let mut code = [0u8; CODE_LEN];
    let mut filled = 0;
    let mut random = [0u8; 32];
    while filled < CODE_LEN {
        rand_bytes(&mut random).expect("OpenSSL random generator");
        for b in random.into_iter().filter(|b| *b < LIMIT) {
            if filled == CODE_LEN {
                break;
            }
            code[filled] = ALPHABET[usize::from(b) % ALPHABET.len()];
            filled += 1;
        }
    }
    grouped(&code)
}

/// Normalises what a pupil or parent typed or scanned: lower case becomes upper case, dashes and
/// whitespace go, and anything that is then not 16 characters of the alphabet is refused (None).
/// Returns the 16 characters without dashes.
///
/// Excluded look-alikes (0, O, 1, I, L) are refused rather than mapped to a guess: no code
/// contains them, so a guess could only ever find a different pupil's code.
pub fn normalise(input: &str) -> Option<String> {
    if input.len() > MAX_INPUT_BYTES {
        return None;
    }
    let mut code = String::with_capacity(CODE_LEN);
    for c in input.chars() {
        if c.is_whitespace() || is_dash(c) {
            continue;
        }
        let c = c.to_ascii_uppercase();
        if code.len() == CODE_LEN || !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        code.push(c);
    }
    (code.len() == CODE_LEN).then_some(code)
}

/// Phones and word processors turn a typed hyphen into one of these; pasted from a letter or a
/// message, the code must still work.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// The lookup key stored in the database: hex SHA-256 of the normalised code (the code has 80
/// bits, so a fast hash is enough; it is not a password).
pub fn code_hash(normalised: &str) -> String {
    debug_assert_eq!(
        normalise(normalised).as_deref(),
        Some(normalised),
        "code_hash wants the output of normalise"
    );
    openssl::sha::sha256(normalised.as_bytes()).iter().fold(
        String::with_capacity(64),
        |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        },
    )
}

/// A fresh 6-digit pin, uniformly random (rejection sampling, no modulo bias), as a string with
/// leading zeros.
///
/// # Panics
/// When OpenSSL's random generator fails.
pub fn new_pin() -> String {
    // The largest multiple of a million that fits in a u32; values at or above it would make
    // the low pins likelier.
    const LIMIT: u32 = u32::MAX / PIN_RANGE * PIN_RANGE;
    loop {
        let mut random = [0u8; 4];
        rand_bytes(&mut random).expect("OpenSSL random generator");
        let value = u32::from_be_bytes(random);
        if value < LIMIT {
            return format!("{:0width$}", value % PIN_RANGE, width = PIN_DIGITS);
        }
    }
}

/// `<svg …>` of a QR code (error correction M, quiet zone 4 modules, black on white, no
/// width/height attributes so CSS sizes it, viewBox set) encoding `url`.
///
/// One unit of the viewBox is one module, and dark modules of a row are joined into one
/// rectangle, which keeps the document small and free of hairline gaps between modules.
pub fn qr_svg(url: &str) -> Result<String, HomeCodeError> {
    // M survives a crease or a smudge on a card kept in a school bag, and keeps the code small
    // enough to scan from a phone held at arm's length.
    let code =
        QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|source| {
            HomeCodeError::Qr {
                len: url.len(),
                source,
            }
        })?;
    let width = code.width();
    let modules = code.to_colors();
    let size = width + 2 * QUIET_ZONE;

    let mut svg = String::with_capacity(256 + modules.len() * 4);
    // The white background is part of the image, so the code scans on a dark page or when
    // printed with "background graphics" off; it is a path because a rect needs width=.
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><path fill="#fff" d="M0 0h{size}v{size}H0z"/><path fill="#000" d=""##
    );
    for (y, row) in modules.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            let _ = write!(
                svg,
                "M{} {}h{run}v1h-{run}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE
            );
            x += run;
        }
    }
    svg.push_str(r#""/></svg>"#);
    Ok(svg)
}

/// "ABCDEFGHJKMNPQRS" → "ABCD-EFGH-JKMN-PQRS".
fn grouped(code: &[u8; CODE_LEN]) -> String {
    let mut out = String::with_capacity(CODE_LEN + CODE_LEN / GROUP_LEN);
    for (i, group) in code.chunks(GROUP_LEN).enumerate() {
        if i > 0 {
            out.push('-');
        }
        // The alphabet is ASCII, so every byte is a char of its own.
        out.extend(group.iter().map(|b| char::from(*b)));
    }
    out
}

/// Gives a pupil a new home code and pin (the old card stops working) and returns both in the
/// clear, once: the register keeps only the code's SHA-256 and the pin's argon2id hash.
pub async fn issue(
    directory: &directory::Directory,
    hasher: &crate::password::Hasher,
    pupil_id: &str,
    actor: &directory::Actor,
) -> Result<(String, String), HomeCodeError> {
    let code = new_code();
    let pin = new_pin();
    let pin_hash = hasher.hash(pin.clone()).await?;
    // A fresh code is alphabet characters in groups: without the dashes it is its normal form.
    let hash = code_hash(&code.replace('-', ""));
    directory
        .set_home_code(pupil_id, &hash, &pin_hash, actor)
        .await?;
    Ok((code, pin))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn is_grouped_code(code: &str) -> bool {
        let groups: Vec<&str> = code.split('-').collect();
        groups.len() == CODE_LEN / GROUP_LEN
            && groups
                .iter()
                .all(|g| g.len() == GROUP_LEN && g.bytes().all(|b| ALPHABET.contains(&b)))
    }

    #[test]
    fn codes_are_grouped_unambiguous_and_unique() {
        let codes: Vec<String> = (0..1000).map(|_| new_code()).collect();
        for code in &codes {
            assert!(is_grouped_code(code), "{code}");
            for excluded in ['0', 'O', '1', 'I', 'L'] {
                assert!(!code.contains(excluded), "{code}");
            }
        }
        let distinct: HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        // 16 000 characters over 31 letters: each turns up about 516 times, so one that is
        // missing means the alphabet or the sampling is broken.
        let used: HashSet<char> = codes
            .iter()
            .flat_map(|c| c.chars())
            .filter(|c| *c != '-')
            .collect();
        assert_eq!(used.len(), ALPHABET.len());
    }

    #[test]
    fn normalise_accepts_typed_variants() {
        let expected = Some("ABCDEFGHJKMNPQRS".to_owned());
        for typed in [
            "ABCD-EFGH-JKMN-PQRS",
            "abcd-efgh-jkmn-pqrs",
            "AbCd EfGh JkMn PqRs",
            "ABCDEFGHJKMNPQRS",
            "  abcdefghjkmnpqrs\n",
            "ABCD - EFGH - JKMN - PQRS",
            "ABCD\u{2013}EFGH\u{2013}JKMN\u{2013}PQRS",
            "ABCD\u{a0}EFGH\tJKMN-PQRS",
            "ABCD--EFGH--JKMN--PQRS",
        ] {
            assert_eq!(normalise(typed), expected, "{typed:?}");
        }
        let code = new_code();
        assert_eq!(normalise(&code), Some(code.replace('-', "")));
    }

    #[test]
    fn normalise_refuses_wrong_length_or_excluded_characters() {
        for wrong in [
            "",
            "----",
            "ABCD-EFGH-JKMN-PQR",
            "ABCD-EFGH-JKMN-PQRST",
            "ABCD-EFGH-JKMN-PQRS-ABCD",
            "0BCD-EFGH-JKMN-PQRS",
            "OBCD-EFGH-JKMN-PQRS",
            "1BCD-EFGH-JKMN-PQRS",
            "IBCD-EFGH-JKMN-PQRS",
            "LBCD-EFGH-JKMN-PQRS",
            "lBCD-EFGH-JKMN-PQRS",
            "oBCD-EFGH-JKMN-PQRS",
            "ÄBCD-EFGH-JKMN-PQRS",
            "ABCD_EFGH_JKMN_PQRS",
            "ABCD.EFGH.JKMN.PQRS",
            "https://login.school.example/thuis?code=ABCD-EFGH-JKMN-PQRS",
        ] {
            assert_eq!(normalise(wrong), None, "{wrong:?}");
        }
        let long = format!("ABCD-EFGH-JKMN-PQRS{}", " ".repeat(MAX_INPUT_BYTES));
        assert_eq!(normalise(&long), None);
    }

    #[test]
    fn code_hash_is_hex_sha256_of_the_normalised_code() {
        let hash = code_hash("ABCDEFGHJKMNPQRS");
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(hash, code_hash("ABCDEFGHJKMNPQRS"));
        assert_ne!(hash, code_hash("ABCDEFGHJKMNPQRT"));
        // Pinned: the register holds these hashes, so they must never change.
        assert_eq!(
            hash,
            "f598056127fcd4387651a49b3a4235d8ce50d71f4091068df51511cfc10f388f"
        );
    }

    #[test]
    fn pins_are_six_digits_and_spread() {
        let pins: Vec<String> = (0..10_000).map(|_| new_pin()).collect();
        let mut first_digits = HashSet::new();
        let mut last_digits = HashSet::new();
        for pin in &pins {
            assert_eq!(pin.len(), PIN_DIGITS, "{pin}");
            assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
            first_digits.insert(pin.as_bytes()[0]);
            last_digits.insert(pin.as_bytes()[PIN_DIGITS - 1]);
        }
        assert_eq!(first_digits.len(), 10);
        assert_eq!(last_digits.len(), 10);
        let distinct: HashSet<_> = pins.iter().collect();
        // 10 000 draws from a million collide ~50 times; hundreds would mean a broken generator.
        assert!(distinct.len() > 9_800, "{} distinct", distinct.len());
    }

    #[test]
    fn qr_svg_is_a_standalone_svg() {
        let url = "https://login.school.example/thuis?code=ABCD-EFGH-JKMN-PQRS";
        let svg = qr_svg(url).unwrap();
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("width="));
        assert!(!svg.contains("height="));
        assert!(!svg.contains("<?xml"));
        // 59 bytes need version 4 at level M: 33 modules, plus the quiet zone on both sides.
        let size = 33 + 2 * QUIET_ZONE;
        assert!(
            svg.contains(&format!(r#"viewBox="0 0 {size} {size}""#)),
            "{svg}"
        );
        // The finder pattern's top row: 7 dark modules from the corner inside the quiet zone.
        assert!(svg.contains(&format!("M{QUIET_ZONE} {QUIET_ZONE}h7v1h-7z")));
        assert!(svg.contains(r##"fill="#000""##) && svg.contains(r##"fill="#fff""##));
    }

    #[test]
    fn qr_svg_refuses_what_does_not_fit() {
        let too_long = "x".repeat(4000);
        assert!(matches!(
            qr_svg(&too_long),
            Err(HomeCodeError::Qr { len: 4000, .. })
        ));
    }
}
