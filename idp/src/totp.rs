//! One-time codes of an authenticator app: TOTP (RFC 6238) over HOTP (RFC 4226) with
//! HMAC-SHA1, 30-second steps and 6 digits, the parameters every authenticator app takes from an
//! `otpauth://totp/` link. And the recovery codes that stand in for a lost authenticator.
//!
//! Everything here is a function of its inputs, the clock included, so the RFC's test vectors
//! run with a fixed time.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub use directory::second_factor::TotpSecret;

/// Seconds per time step (RFC 6238's X).
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// How many steps before and after the current one a code is accepted from: one each way, for a
/// phone's clock that is a little off and a code typed as it changed.
pub const DRIFT_STEPS: i64 = 1;
/// Length of a new secret: 160 bits, the output size of HMAC-SHA1 (RFC 4226 section 4, R6).
const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;

/// A fresh random secret.
///
/// # Panics
/// When OpenSSL's random generator fails, as everywhere else in openpoort.
pub fn new_secret() -> TotpSecret {
    let mut bytes = vec![0u8; SECRET_BYTES];
    openssl::rand::rand_bytes(&mut bytes).expect("OpenSSL random generator");
    TotpSecret::new(bytes)
}

/// The secret as an authenticator app takes it when typed: base32 without padding (RFC 4648).
pub fn base32(secret: &TotpSecret) -> String {
    data_encoding::BASE32_NOPAD.encode(secret.expose())
}

/// The `otpauth://totp/` link (Google Authenticator's key URI format, which every app reads):
/// the label names openpoort and the account, the parameters are this module's.
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(issuer),
        percent_encode(account),
        base32(secret),
        percent_encode(issuer),
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, for the label and
/// the issuer (an e-mail address's `@` becomes `%40`).
fn percent_encode(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes()
        .fold(String::with_capacity(s.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
            out
        })
}

/// The time step of a moment (unix seconds).
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// HOTP (RFC 4226 section 5.3): HMAC-SHA1 of the counter, dynamically truncated, `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC takes a key of any length; the error is for MACs with fixed key sizes.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// The code of a time step, with leading zeros.
pub fn code_at_step(secret: &TotpSecret, step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!(
        "{:0width$}",
        hotp(secret.expose(), counter, DIGITS),
        width = DIGITS as usize
    )
}

/// What someone typed as a code: the six digits, with spaces (apps show "123 456") removed;
/// `None` for anything else.
pub fn normalise_code(input: &str) -> Option<String> {
    if input.len() > 32 {
        return None;
    }
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// The time step whose code `code` is, among the current step at `now` and [`DRIFT_STEPS`]
/// either side; `None` when it is none of them. Whether that step was used already is the
/// caller's to check (a code is single-use).
pub fn matching_step(secret: &TotpSecret, code: &str, now: i64) -> Option<i64> {
    let code = normalise_code(code)?;
    let current = step_at(now);
    (current - DRIFT_STEPS..=current + DRIFT_STEPS).find(|step| {
        let expected = code_at_step(secret, *step);
        openssl::memcmp::eq(expected.as_bytes(), code.as_bytes())
    })
}

/// Fresh recovery codes, in the home codes' form ("ABCD-EFGH-JKMN-PQRS": 16 characters of an
/// alphabet without look-alikes, about 80 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| crate::homecode::new_code())
        .collect()
}

/// The hash a recovery code is stored and looked up by, or `None` when the input cannot be a
/// recovery code. A single SHA-256 is enough, unlike for a password: each code carries about 80
/// random bits, beyond any offline search of a fast hash, and a slow hash would only make every
/// use cost argon2's time.
pub fn recovery_code_hash(input: &str) -> Option<String> {
    crate::homecode::normalise(input).map(|code| crate::homecode::code_hash(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed: the ASCII digits 1 to 0, twice.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::new(b"12345678901234567890".to_vec())
    }

    #[test]
    fn the_rfc_6238_appendix_b_sha1_vectors_hold_at_their_fixed_times() {
        let secret = rfc_secret();
        for (time, eight) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let step = step_at(time);
            assert_eq!(
                hotp(secret.expose(), step as u64, 8),
                eight,
                "8 digits at T={time}"
            );
            // Six digits are the last six of the eight (the same number modulo 10^6).
            let six = format!("{:06}", eight % 1_000_000);
            assert_eq!(code_at_step(&secret, step), six, "6 digits at T={time}");
            assert_eq!(matching_step(&secret, &six, time), Some(step));
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_refused_further_out() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let current = step_at(now);
        for drift in -1..=1 {
            let code = code_at_step(&secret, current + drift);
            assert_eq!(matching_step(&secret, &code, now), Some(current + drift));
        }
        for drift in [-3, -2, 2, 3] {
            let code = code_at_step(&secret, current + drift);
            // A code of a step further out may by chance equal one inside the window; then
            // that step is what matched, never the far one.
            assert_ne!(
                matching_step(&secret, &code, now),
                Some(current + drift),
                "a code {drift} steps away"
            );
            if (-1..=1).all(|d| code_at_step(&secret, current + d) != code) {
                assert_eq!(
                    matching_step(&secret, &code, now),
                    None,
                    "{drift} steps away"
                );
            }
        }
    }

    #[test]
    fn only_six_digits_are_read_as_a_code() {
        assert_eq!(normalise_code(" 123 456 ").as_deref(), Some("123456"));
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert_eq!(normalise_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_otpauth_link_carries_the_secret_in_base32_and_the_rfc_parameters() {
        let secret = rfc_secret();
        assert_eq!(base32(&secret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = otpauth_uri(&secret, "openpoort", "juf@school.nl");
        assert_eq!(
            uri,
            "otpauth://totp/openpoort:juf%40school.nl?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=openpoort&algorithm=SHA1&digits=6&period=30"
        );
        assert!(!format!("{secret:?}").contains("GEZ") && !format!("{secret:?}").contains("123"));
    }

    #[test]
    fn recovery_codes_are_ten_distinct_codes_whose_hash_reads_them_as_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        let code = &codes[0];
        let hash = recovery_code_hash(code).unwrap();
        assert_eq!(recovery_code_hash(&code.to_lowercase()), Some(hash.clone()));
        assert_eq!(recovery_code_hash(&code.replace('-', " ")), Some(hash));
        assert_eq!(
            recovery_code_hash("123456"),
            None,
            "a TOTP code is no recovery code"
        );
    }
}
