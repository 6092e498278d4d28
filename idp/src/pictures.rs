//! The pictures of the plaatjeswachtwoord: a pupil confirms their name by picking their own
//! picture out of nine.
//!
//! Which nine a pupil sees is a pure function of the pupil id and their picture, so that the
//! screen looks the same at every login: a classmate watching over several logins learns nothing
//! from which pictures come and go. The pupil id is not secret (the name picker posts it) and this
//! code is open, so the nine must not single out the secret to someone who recomputes them either;
//! see [`choices_for`].

use axum::http::header;
use axum::response::{IntoResponse, Response};
use openssl::sha::Sha256;

/// One picture of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Picture {
    /// Stable key, stored as the pupil's secret and used in URLs: never rename one.
    pub name: &'static str,
    pub nl: &'static str,
    pub en: &'static str,
    /// The SVG document, standalone and sized by CSS.
    pub svg: &'static str,
}

/// How many pictures a pupil chooses from: a 3 × 3 grid fits a small tablet held either way.
pub const SHOWN: usize = 9;

macro_rules! picture {
    ($name:literal, $en:literal) => {
        Picture {
            name: $name,
            nl: $name,
            en: $en,
            svg: include_str!(concat!("../static/plaatjes/", $name, ".svg")),
        }
    };
}

/// Every picture a pupil can have. The order is part of no contract except [`choices_for`]'s
/// output: appending one changes every pupil's nine, so add pictures only together with a notice
/// to schools.
pub const CATALOGUE: [Picture; 16] = [
    picture!("zon", "sun"),
    picture!("maan", "moon"),
    picture!("ster", "star"),
    picture!("hart", "heart"),
    picture!("boom", "tree"),
    picture!("bloem", "flower"),
    picture!("vis", "fish"),
    picture!("huis", "house"),
    picture!("auto", "car"),
    picture!("boot", "boat"),
    picture!("appel", "apple"),
    picture!("wolk", "cloud"),
    picture!("paraplu", "umbrella"),
    picture!("bal", "ball"),
    picture!("sleutel", "key"),
    picture!("vlinder", "butterfly"),
];

const COUNT: usize = CATALOGUE.len();
/// The catalogue splits into two halves of this size; see [`choices_for`].
const HALF: usize = COUNT / 2;
const _: () = assert!(COUNT == 2 * HALF && HALF + 1 == SHOWN);

/// Changing this changes every pupil's nine; it keeps these hashes apart from any other SHA-256
/// of a pupil id in openpoort.
const DOMAIN: &[u8] = b"openpoort/plaatjes/v1";

/// How long browsers keep a picture. The URL carries no version, so a redrawn picture must reach
/// the classroom's tablets within days, not a year; a week still spares a school's connection
/// the same sixteen files at every login.
const CACHE_CONTROL: &str = "public, max-age=604800";

/// The picture with this name, if it is in the catalogue.
pub fn by_name(name: &str) -> Option<&'static Picture> {
    let all: &'static [Picture; COUNT] = &CATALOGUE;
    all.iter().find(|p| p.name == name)
}

/// Pictures for `wanted` more pupils of a group whose other pupils have `taken`: each one, at
/// random, among the pictures the group uses least, so that no two pupils of the group share a
/// picture while the catalogue has an unused one, and past sixteen pupils they spread evenly.
/// Random from OpenSSL's generator: a picture is a pupil's (small) secret, so handing them out in
/// catalogue order would let a classmate guess them.
pub fn spread(taken: &[&str], wanted: usize) -> Vec<&'static Picture> {
    let all: &'static [Picture; COUNT] = &CATALOGUE;
    let mut used = [0usize; COUNT];
    for name in taken {
        if let Some(i) = all.iter().position(|p| p.name == *name) {
            used[i] += 1;
        }
    }
    let mut given = Vec::with_capacity(wanted);
    for _ in 0..wanted {
        let least = used.iter().copied().min().unwrap_or(0);
        let candidates: Vec<usize> = (0..COUNT).filter(|&i| used[i] == least).collect();
        let i = candidates[random_below(candidates.len())];
        used[i] += 1;
        given.push(&all[i]);
    }
    given
}

/// A uniform random number below `n` (at most the catalogue's size), without modulo bias.
fn random_below(n: usize) -> usize {
    debug_assert!(n > 0 && n <= 256);
    // The largest multiple of n that fits in a byte: values at or above it are drawn again.
    let zone = 256 - 256 % n;
    loop {
        let mut byte = [0u8; 1];
        openssl::rand::rand_bytes(&mut byte).expect("OpenSSL's random generator");
        if usize::from(byte[0]) < zone {
            return usize::from(byte[0]) % n;
        }
    }
}

/// The 9 pictures shown to one pupil: their secret plus 8 decoys. The set AND its order are fixed
/// per pupil (derived from SHA-256 of the pupil id, and from the secret as described below), so
/// watching several logins of the same pupil does not reveal the secret by intersecting sets.
/// Panics never; if `secret` is not in the catalogue, returns 9 pictures without it.
///
/// The pupil id alone fixes an order of the whole catalogue, split into two halves of eight, and
/// for each half one decoy from the other half. The secret only selects its half. Had the secret
/// gone into the hash directly, anyone knowing the pupil id could recompute the nine for each of
/// the sixteen pictures and find the one that matches the screen. This way every picture of the
/// secret's half yields the very same nine, so the screen narrows the secret down to eight, one
/// fewer than the ideal nine (a split into equal halves is the best sixteen allows). A pupil
/// without a (known) picture sees the first half's nine, like a pupil whose picture is in it.
pub fn choices_for(pupil_id: &str, secret: &str) -> [&'static Picture; SHOWN] {
    let all: &'static [Picture; COUNT] = &CATALOGUE;
    let mut stream = HashStream::new(pupil_id);

    let mut order: [usize; COUNT] = std::array::from_fn(|i| i);
    stream.shuffle(&mut order);
    // Drawn before the secret is looked at, so both halves' extras are fixed per pupil.
    let extra_from_second = order[HALF + stream.below(HALF)];
    let extra_from_first = order[stream.below(HALF)];

    let (first, second) = order.split_at(HALF);
    let in_second = all
        .iter()
        .position(|p| p.name == secret)
        .is_some_and(|i| second.contains(&i));
    let (own, extra) = if in_second {
        (second, extra_from_first)
    } else {
        (first, extra_from_second)
    };

    let mut shown = [extra; SHOWN];
    shown[..HALF].copy_from_slice(own);
    // Otherwise the extra decoy would always sit last, and with it the secret never would.
    stream.shuffle(&mut shown);
    shown.map(|i| &all[i])
}

/// The SVG bytes with content type image/svg+xml and long cache headers for
/// GET /static/plaatjes/{name}.svg; unknown name → None.
pub fn svg_response(file_name: &str) -> Option<Response> {
    let picture = by_name(file_name.strip_suffix(".svg")?)?;
    Some(
        (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, CACHE_CONTROL),
                // Opened on its own, an SVG is a document; ours need nothing, so allow nothing.
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            ],
            picture.svg,
        )
            .into_response(),
    )
}

/// Deterministic bytes from SHA-256 in counter mode, seeded by the pupil id. Not a secret: it
/// only has to look unrelated between pupils and be unbiased.
struct HashStream {
    seed: [u8; 32],
    counter: u32,
    block: [u8; 32],
    used: usize,
}

impl HashStream {
    fn new(pupil_id: &str) -> HashStream {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        // Length-prefixed, so that no other input can produce the same bytes to hash.
        hasher.update(&(pupil_id.len() as u64).to_be_bytes());
        hasher.update(pupil_id.as_bytes());
        HashStream {
            seed: hasher.finish(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.used == self.block.len() {
            let mut hasher = Sha256::new();
            hasher.update(&self.seed);
            hasher.update(&self.counter.to_be_bytes());
            self.block = hasher.finish();
            self.counter = self.counter.wrapping_add(1);
            self.used = 0;
        }
        let b = self.block[self.used];
        self.used += 1;
        b
    }

    /// Uniform in `0..n` for `1 <= n <= 256`: bytes from the uneven top of the range are drawn
    /// again rather than folded in, which would favour the small values.
    fn below(&mut self, n: usize) -> usize {
        debug_assert!((1..=256).contains(&n));
        let limit = 256 - 256 % n;
        loop {
            let b = usize::from(self.byte());
            if b < limit {
                return b % n;
            }
        }
    }

    /// Fisher–Yates.
    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Wrong picks per pupil before a pause. Fewer than the wrong pictures a guesser has to choose
/// from: the nine shown are the secret's half of the catalogue (eight) plus one decoy that anyone
/// can recompute from the open pupil id, leaving seven wrong candidates. Three tries cannot go
/// through them, and leave a guesser at most three chances in eight per window; a pupil who
/// forgets gets help from their teacher, who can lift the pause (/beheer).
pub const MAX_WRONG_PICTURES: u64 = 3;
const _: () = assert!(MAX_WRONG_PICTURES < (SHOWN as u64 - 2));

/// The counter of a pupil's wrong picks; a teacher's unlock removes it.
pub fn wrong_picture_key(pupil_id: &str) -> String {
    format!("pupil-wrong:pupil:{pupil_id}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn names(pictures: &[&Picture]) -> Vec<&'static str> {
        pictures.iter().map(|p| p.name).collect()
    }

    #[test]
    fn spread_gives_no_picture_twice_while_the_catalogue_has_unused_ones() {
        let taken = ["zon", "maan", "vis"];
        for _ in 0..50 {
            let given = names(&spread(&taken, COUNT - taken.len()));
            let distinct: HashSet<_> = given.iter().chain(taken.iter()).collect();
            assert_eq!(distinct.len(), COUNT, "{given:?}");
        }
    }

    #[test]
    fn spread_past_the_catalogue_uses_every_picture_at_most_once_more_than_another() {
        let given = names(&spread(&["zon", "zon"], 2 * COUNT + 3));
        let mut used = std::collections::HashMap::new();
        for name in given.iter().chain(["zon", "zon"].iter()) {
            *used.entry(*name).or_insert(0) += 1;
        }
        assert_eq!(used.len(), COUNT);
        let (lo, hi) = (used.values().min().unwrap(), used.values().max().unwrap());
        assert!(hi - lo <= 1, "{used:?}");
    }

    #[test]
    fn spread_is_not_the_catalogue_order() {
        // Sixteen draws in catalogue order by chance: 1 in 16!; 20 tries never all are.
        let ordered = names(&CATALOGUE.iter().collect::<Vec<_>>());
        assert!((0..20).any(|_| names(&spread(&[], COUNT)) != ordered));
    }

    #[test]
    fn random_below_stays_below_and_reaches_every_value() {
        let seen: HashSet<usize> = (0..2_000).map(|_| random_below(COUNT)).collect();
        assert_eq!(seen, (0..COUNT).collect());
    }

    fn pupil(i: usize) -> String {
        format!("pupil-{i:04}")
    }

    #[test]
    fn catalogue_names_are_unique_and_files_are_small_safe_svg() {
        let unique: HashSet<_> = CATALOGUE.iter().map(|p| p.name).collect();
        assert_eq!(unique.len(), CATALOGUE.len());
        let unique_en: HashSet<_> = CATALOGUE.iter().map(|p| p.en).collect();
        assert_eq!(unique_en.len(), CATALOGUE.len());
        for p in &CATALOGUE {
            assert!(
                !p.name.is_empty() && p.name.bytes().all(|b| b.is_ascii_lowercase()),
                "{}: a name goes into URLs and the register as it is",
                p.name
            );
            assert!(p.svg.len() < 2048, "{} is {} bytes", p.name, p.svg.len());
            assert!(
                p.svg.starts_with("<svg "),
                "{} does not start with <svg",
                p.name
            );
            assert!(p.svg.trim_end().ends_with("</svg>"), "{}", p.name);
            assert!(
                p.svg.contains(r#"viewBox="0 0 100 100""#),
                "{} lacks the viewBox",
                p.name
            );
            let lower = p.svg.to_ascii_lowercase();
            for forbidden in [
                "<script",
                "href=",
                "url(",
                "<image",
                "<foreignobject",
                "<style",
                "<!entity",
                "<?xml-stylesheet",
                "javascript:",
            ] {
                assert!(
                    !lower.contains(forbidden),
                    "{} contains {forbidden}",
                    p.name
                );
            }
            // Attribute names follow whitespace; none of SVG's presentation attributes starts
            // with "on", only event handlers do.
            let event = lower.split_ascii_whitespace().find(|word| {
                word.strip_prefix("on").is_some_and(|rest| {
                    let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
                    name_len > 0 && rest[name_len..].trim_start().starts_with('=')
                })
            });
            assert_eq!(event, None, "{} has an event attribute", p.name);
            for (i, _) in lower.match_indices("<svg") {
                assert_eq!(i, 0, "{} nests an <svg>", p.name);
            }
        }
    }

    #[test]
    fn by_name_finds_every_picture_and_nothing_else() {
        for p in &CATALOGUE {
            assert_eq!(by_name(p.name).map(|q| q.en), Some(p.en));
        }
        for unknown in ["", "Zon", "zon.svg", "draak", " zon"] {
            assert!(by_name(unknown).is_none(), "{unknown:?}");
        }
    }

    #[test]
    fn choices_contain_the_secret_once_and_nine_distinct() {
        for i in 0..200 {
            for secret in &CATALOGUE {
                let shown = names(&choices_for(&pupil(i), secret.name));
                let distinct: HashSet<_> = shown.iter().collect();
                assert_eq!(distinct.len(), SHOWN, "{shown:?}");
                assert_eq!(shown.iter().filter(|n| **n == secret.name).count(), 1);
            }
        }
    }

    #[test]
    fn choices_are_stable_for_a_pupil_and_differ_between_pupils() {
        let mut sets = HashSet::new();
        let mut orders = HashSet::new();
        let mut secret_positions = HashSet::new();
        for i in 0..50 {
            let id = pupil(i);
            let secret = CATALOGUE[i % CATALOGUE.len()].name;
            let shown = names(&choices_for(&id, secret));
            for _ in 0..3 {
                assert_eq!(names(&choices_for(&id, secret)), shown);
            }
            secret_positions.insert(shown.iter().position(|n| *n == secret));
            orders.insert(shown.clone());
            let mut set = shown;
            set.sort_unstable();
            sets.insert(set);
        }
        assert!(sets.len() >= 10, "only {} different sets", sets.len());
        assert_eq!(orders.len(), 50, "two pupils see the same order");
        assert!(
            secret_positions.len() >= 5,
            "the secret keeps to {secret_positions:?}"
        );
    }

    /// Someone who knows the pupil id and this code recomputes the nine for every picture: at
    /// least eight of the nine on the screen must remain possible.
    #[test]
    fn the_screen_does_not_single_out_the_secret() {
        for i in 0..100 {
            let id = pupil(i);
            for secret in &CATALOGUE {
                let shown = choices_for(&id, secret.name);
                let consistent = CATALOGUE
                    .iter()
                    .filter(|candidate| names(&choices_for(&id, candidate.name)) == names(&shown))
                    .count();
                assert!(consistent >= HALF, "{id}/{}: {consistent}", secret.name);
            }
        }
    }

    #[test]
    fn unknown_secret_gives_nine_without_it() {
        for secret in ["", "draak", "Zon", "zon.svg"] {
            for i in 0..20 {
                let shown = names(&choices_for(&pupil(i), secret));
                let distinct: HashSet<_> = shown.iter().collect();
                assert_eq!(distinct.len(), SHOWN);
                assert!(!shown.contains(&secret));
            }
        }
        // Also with an id that is not ASCII, or empty: nothing here may panic.
        assert_eq!(choices_for("", "").len(), SHOWN);
        assert_eq!(choices_for("Zoë 👩‍🏫", "maan").len(), SHOWN);
    }

    #[test]
    fn every_picture_is_a_decoy_for_someone() {
        let mut seen = HashSet::new();
        for i in 0..100 {
            for p in choices_for(&pupil(i), "zon") {
                seen.insert(p.name);
            }
        }
        assert_eq!(seen.len(), CATALOGUE.len());
    }

    #[test]
    fn svg_response_serves_known_pictures_only() {
        let response = svg_response("vlinder.svg").expect("a known picture");
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let h = response.headers();
        assert_eq!(h[header::CONTENT_TYPE], "image/svg+xml");
        assert!(
            h[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("max-age=")
        );
        for unknown in [
            "vlinder",
            "draak.svg",
            "../main.rs",
            "vlinder.svg.svg",
            ".svg",
            "",
        ] {
            assert!(svg_response(unknown).is_none(), "{unknown:?}");
        }
    }
}
