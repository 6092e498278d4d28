//! A valid EDEXML 2.1 file of a made-up school, for import tests and benchmarks (the
//! `edexml-gen` and `import-bench` tools):
//!
//!     cargo run -p openpoort-e2e --bin edexml-gen -- PUPILS [--seed N] [--brin 99ZZ] [--vestiging 00] > school.xml
//!
//! PUPILS pupils spread evenly over groep 1 to 8, about 25 to a group (groep 1 and 2 together in
//! kleutergroepen "1/2", as most Dutch schools do), a few combined groups (plusgroep, leesgroep,
//! …) that some pupils join, and teachers with e-mail addresses: one or two per group plus an
//! IB'er, an RT'er, a gym teacher and a director for every eight groups. Everything follows from
//! the seed (a xorshift generator), so the same arguments give the same file, byte for byte.
//! The school year is 2025-2026 with peildatum 2025-10-01, whatever the day of generating.

use std::collections::HashSet;
use std::io::{self, Write};

const SCHOOL_YEAR_START: u32 = 2025;
const PUPILS_PER_GROUP: usize = 25;

const BOYS: &[&str] = &[
    "Noah", "Liam", "Luuk", "Sem", "Lucas", "Daan", "Finn", "Levi", "Milan", "Bram", "Jesse",
    "Thijs", "Mees", "Adam", "Sam", "Julian", "Mohammed", "Daniël", "Noë", "Ömer", "Teun", "Jens",
    "Gijs", "Siem", "Jayden", "Hugo", "Otis", "Morris", "Ravi", "Tijn",
];
const GIRLS: &[&str] = &[
    "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Liv", "Anna",
    "Noor", "Lotte", "Saar", "Evi", "Fenna", "Lynn", "Olivia", "Maud", "Amira", "Fleur", "Isa",
    "Lieke", "Roos", "Jasmijn", "Elif", "Hiba", "Chloë", "Renée",
];
const SURNAMES: &[&str] = &[
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Kok",
    "Jacobs",
    "Vermeulen",
    "Willems",
    "Hoekstra",
    "Koster",
    "Prins",
    "Huisman",
    "Postma",
    "Kuipers",
    "Yılmaz",
    "El Amrani",
    "Nguyen",
    "Öztürk",
    "Rodrigues",
    "Kowalski",
    "Boukhari",
    "Schouten",
    "Verhoeven",
    "Timmermans",
    "Groot",
    "Wit",
];
/// Surnames that usually carry a voorvoegsel, with it.
const PREFIXED: &[(&str, &str)] = &[
    ("de", "Vries"),
    ("de", "Jong"),
    ("van", "Dijk"),
    ("van den", "Berg"),
    ("van der", "Meer"),
    ("van", "Leeuwen"),
    ("de", "Boer"),
    ("van der", "Linden"),
    ("van 't", "Hof"),
    ("ter", "Horst"),
    ("in 't", "Veld"),
    ("de", "Graaf"),
];
const COMBINED: &[&str] = &[
    "Plusgroep rekenen",
    "Leesgroep",
    "Remedial teaching",
    "Taalklas",
    "Schaakclub",
    "Verrijkingsklas",
];

/// xorshift64*: small, fast and good enough to vary names; not for anything secret.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 spreads small seeds (0, 1, 2, …) over the whole state, which xorshift
        // needs to be non-zero and well mixed.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Text and attribute values: every character XML treats specially is escaped, so a name such
/// as "van 't Hof" or "D&B" cannot break the file.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Lower-case ASCII for e-mail addresses: "Yılmaz" → "yilmaz", "van 't Hof" → "vanthof".
fn slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'ı' | 'ï' | 'í' | 'ì' | 'î' => Some('i'),
            'ë' | 'é' | 'è' | 'ê' => Some('e'),
            'ö' | 'ó' | 'ò' | 'ô' | 'Ö' => Some('o'),
            'ü' | 'ú' | 'ù' | 'û' => Some('u'),
            'ä' | 'á' | 'à' | 'â' => Some('a'),
            _ => None,
        })
        .collect()
}

struct Person {
    roepnaam: &'static str,
    voornamen: String,
    voorvoegsel: Option<&'static str>,
    achternaam: &'static str,
    girl: bool,
}

fn person(rng: &mut Rng) -> Person {
    let girl = rng.chance(50);
    let names = if girl { GIRLS } else { BOYS };
    let roepnaam = rng.pick(names);
    let voornamen = if rng.chance(60) {
        format!("{roepnaam} {}", rng.pick(names))
    } else {
        roepnaam.to_owned()
    };
    let (voorvoegsel, achternaam) = if rng.chance(30) {
        let (v, a) = PREFIXED[rng.below(PREFIXED.len())];
        (Some(v), a)
    } else {
        (None, rng.pick(SURNAMES))
    };
    Person {
        roepnaam,
        voornamen,
        voorvoegsel,
        achternaam,
        girl,
    }
}

fn initials(voornamen: &str) -> String {
    voornamen
        .split(' ')
        .filter_map(|n| n.chars().next())
        .flat_map(char::to_uppercase)
        .take(6)
        .collect()
}

fn name_elements(p: &Person) -> String {
    let mut s = format!("<achternaam>{}</achternaam>", esc(p.achternaam));
    if let Some(v) = p.voorvoegsel {
        s.push_str(&format!("<voorvoegsel>{}</voorvoegsel>", esc(v)));
    }
    s.push_str(&format!(
        "<voornamen>{}</voornamen><voorletters-1>{}</voorletters-1><roepnaam>{}</roepnaam>",
        esc(&p.voornamen),
        esc(&initials(&p.voornamen)),
        esc(p.roepnaam)
    ));
    s
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A birth date that fits the jaargroep: in groep N a pupil turns N + 4 during the school year
/// (born between 1 October and 30 September, the usual cut-off for moving on to groep 3).
fn birth_date(rng: &mut Rng, jaargroep: u32) -> String {
    let year_from = SCHOOL_YEAR_START - jaargroep - 4;
    let offset = rng.below(12) as u32; // months after October of `year_from`
    let (year, month) = if offset < 3 {
        (year_from, 10 + offset)
    } else {
        (year_from + 1, offset - 2)
    };
    let day = 1 + rng.below(days_in_month(year, month) as usize) as u32;
    format!("{year:04}-{month:02}-{day:02}")
}

struct Group {
    key: String,
    name: String,
    jaargroep: &'static str,
}

fn eck_id(rng: &mut Rng, kind: &str, n: usize) -> String {
    // The index makes every ECK-iD unique; the random part makes them look like the real ones.
    format!("https://ketenid.nl/201703/{kind}{:016x}{n:08x}", rng.next())
}

/// Writes the file of `a` to `out`.
pub fn generate(out: &mut impl Write, a: &Args) -> io::Result<()> {
    let mut rng = Rng::new(a.seed);
    let per_jaargroep: Vec<usize> = (0..8)
        .map(|j| a.pupils / 8 + usize::from(j < a.pupils % 8))
        .collect();

    // Groep 1 and 2 share kleutergroepen (jaargroep C: each pupil carries their own); groep 3
    // to 8 have their own groups.
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of_jaargroep: Vec<Vec<usize>> = vec![Vec::new(); 8];
    let kleuters = per_jaargroep[0] + per_jaargroep[1];
    let letters = |n: usize| -> String {
        let mut s = String::new();
        let mut n = n;
        loop {
            s.insert(0, char::from(b'A' + (n % 26) as u8));
            if n < 26 {
                return s;
            }
            n = n / 26 - 1;
        }
    };
    for i in 0..kleuters.div_ceil(PUPILS_PER_GROUP).max(1) {
        let idx = groups.len();
        groups.push(Group {
            key: format!("GRP12{}", letters(i)),
            name: format!("Groep 1/2{}", letters(i)),
            jaargroep: "C",
        });
        group_of_jaargroep[0].push(idx);
        group_of_jaargroep[1].push(idx);
    }
    const JAARGROEPEN: [&str; 8] = ["1", "2", "3", "4", "5", "6", "7", "8"];
    for (j, n) in per_jaargroep.iter().enumerate().skip(2) {
        for i in 0..n.div_ceil(PUPILS_PER_GROUP).max(1) {
            let idx = groups.len();
            groups.push(Group {
                key: format!("GRP{}{}", j + 1, letters(i)),
                name: format!("{}{}", j + 1, letters(i)),
                jaargroep: JAARGROEPEN[j],
            });
            group_of_jaargroep[j].push(idx);
        }
    }
    let combined: Vec<(String, String)> = (0..(a.pupils / 100).max(3))
        .map(|i| {
            let label = COMBINED[i % COMBINED.len()];
            let round = i / COMBINED.len() + 1;
            (format!("SG{:03}", i + 1), format!("{label} {round}"))
        })
        .collect();

    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<!-- Generated by openpoort's edexml-gen: {} pupils, seed {}. Made-up people. -->",
        a.pupils, a.seed
    )?;
    writeln!(
        out,
        "<EDEX xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"EDEXML.structuur.xsd\">"
    )?;
    writeln!(out, "\t<school>")?;
    writeln!(
        out,
        "\t\t<schooljaar>{}-{}</schooljaar>",
        SCHOOL_YEAR_START,
        SCHOOL_YEAR_START + 1
    )?;
    writeln!(out, "\t\t<peildatum>{SCHOOL_YEAR_START}-10-01</peildatum>")?;
    writeln!(out, "\t\t<brincode>{}</brincode>", a.brin)?;
    writeln!(out, "\t\t<dependancecode>{}</dependancecode>", a.vestiging)?;
    writeln!(
        out,
        "\t\t<aanmaakdatum>{SCHOOL_YEAR_START}-10-01T07:30:00</aanmaakdatum>"
    )?;
    writeln!(out, "\t\t<auteur>edexml-gen</auteur>")?;
    writeln!(out, "\t\t<xsdversie>2.1</xsdversie>")?;
    writeln!(out, "\t</school>")?;

    writeln!(out, "\t<groepen>")?;
    for g in &groups {
        writeln!(
            out,
            "\t\t<groep key=\"{}\"><naam>{}</naam><jaargroep>{}</jaargroep></groep>",
            esc(&g.key),
            esc(&g.name),
            g.jaargroep
        )?;
    }
    for (key, name) in &combined {
        writeln!(
            out,
            "\t\t<samengestelde_groep key=\"{}\"><naam>{}</naam></samengestelde_groep>",
            esc(key),
            esc(name)
        )?;
    }
    writeln!(out, "\t</groepen>")?;

    writeln!(out, "\t<leerlingen>")?;
    let mut n = 0usize;
    for (j, count) in per_jaargroep.iter().enumerate() {
        let jaargroep = j as u32 + 1;
        let own_groups = &group_of_jaargroep[j];
        for i in 0..*count {
            n += 1;
            let p = person(&mut rng);
            // Round robin within the jaargroep keeps the groups even, about 25 each.
            let group = &groups[own_groups[i % own_groups.len()]];
            write!(
                out,
                "\t\t<leerling key=\"{}\" eckid=\"{}\">{}<geboortedatum>{}</geboortedatum><geslacht>{}</geslacht><jaargroep>{}</jaargroep><groep key=\"{}\"/>",
                100_000 + n,
                esc(&eck_id(&mut rng, "LL", n)),
                name_elements(&p),
                birth_date(&mut rng, jaargroep),
                if p.girl { 2 } else { 1 },
                jaargroep,
                esc(&group.key)
            )?;
            if jaargroep >= 3 && rng.chance(15) {
                let first = rng.below(combined.len());
                let mut keys = vec![first];
                if rng.chance(20) {
                    let second = rng.below(combined.len());
                    if second != first {
                        keys.push(second);
                    }
                }
                write!(out, "<samengestelde_groepen>")?;
                for k in keys {
                    write!(
                        out,
                        "<samengestelde_groep key=\"{}\"/>",
                        esc(&combined[k].0)
                    )?;
                }
                write!(out, "</samengestelde_groepen>")?;
            }
            if jaargroep == 8 && rng.chance(50) {
                write!(
                    out,
                    "<uitstroomdatum>{}-07-10</uitstroomdatum>",
                    SCHOOL_YEAR_START + 1
                )?;
            }
            writeln!(out, "</leerling>")?;
        }
    }
    writeln!(out, "\t</leerlingen>")?;

    writeln!(out, "\t<leerkrachten>")?;
    let domain = format!(
        "{}{}.school.example.nl",
        a.brin.to_ascii_lowercase(),
        a.vestiging
    );
    let mut emails: HashSet<String> = HashSet::new();
    let mut t = 0usize;
    let mut teacher = |out: &mut dyn Write,
                       rng: &mut Rng,
                       roles: &[&str],
                       links: &[(&str, &str, &str)]|
     -> io::Result<()> {
        t += 1;
        let p = person(rng);
        let base = format!(
            "{}.{}{}",
            slug(p.roepnaam),
            slug(p.voorvoegsel.unwrap_or_default()),
            slug(p.achternaam)
        );
        let mut email = format!("{base}@{domain}");
        let mut k = 2;
        while !emails.insert(email.clone()) {
            email = format!("{base}{k}@{domain}");
            k += 1;
        }
        write!(
            out,
            "\t\t<leerkracht key=\"LK{t:04}\" eckid=\"{}\">{}<emailadres>{}</emailadres>",
            esc(&eck_id(rng, "LK", t)),
            name_elements(&p),
            esc(&email)
        )?;
        for r in roles {
            write!(out, "<rol>{r}</rol>")?;
        }
        if !links.is_empty() {
            write!(out, "<groepen>")?;
            for (element, key, role) in links {
                if role.is_empty() {
                    write!(out, "<{element} key=\"{}\"/>", esc(key))?;
                } else {
                    write!(
                        out,
                        "<{element} key=\"{}\"><rol>{role}</rol></{element}>",
                        esc(key)
                    )?;
                }
            }
            write!(out, "</groepen>")?;
        }
        writeln!(out, "</leerkracht>")
    };
    for g in &groups {
        teacher(out, &mut rng, &["LRK"], &[("groep", &g.key, "")])?;
        // Many groups have two part-time teachers.
        if rng.chance(30) {
            teacher(out, &mut rng, &["LRK"], &[("groep", &g.key, "")])?;
        }
    }
    for chunk in groups.chunks(8) {
        let ib: Vec<(&str, &str, &str)> = chunk
            .iter()
            .map(|g| ("groep", g.key.as_str(), "IB"))
            .collect();
        teacher(out, &mut rng, &["IB"], &ib)?;
        let gym: Vec<(&str, &str, &str)> = chunk
            .iter()
            .map(|g| ("groep", g.key.as_str(), ""))
            .collect();
        teacher(out, &mut rng, &["VAK"], &gym)?;
        teacher(out, &mut rng, &["DIR"], &[])?;
    }
    for chunk in combined.chunks(3) {
        let rt: Vec<(&str, &str, &str)> = chunk
            .iter()
            .map(|(key, _)| ("samengestelde_groep", key.as_str(), "RT"))
            .collect();
        teacher(out, &mut rng, &["RT"], &rt)?;
    }
    writeln!(out, "\t</leerkrachten>")?;
    writeln!(out, "</EDEX>")?;
    Ok(())
}

/// What to generate: PUPILS pupils of school location BRIN + vestiging, from `seed`.
#[derive(Clone, Debug)]
pub struct Args {
    pub pupils: usize,
    pub seed: u64,
    pub brin: String,
    pub vestiging: String,
}

/// The whole file in memory.
pub fn generate_bytes(a: &Args) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.pupils * 400 + 4096);
    generate(&mut out, a).expect("writing to memory cannot fail");
    out
}
