//! Demo data: one board, school 99ZZ00 with groups, pupils and staff, and a publisher whose
//! product the school has licensed and consented to. Seeding is idempotent: a second
//! `openpoort demo` on the same data directory reuses what is there.

use std::net::SocketAddr;
use std::path::Path;

use directory::Actor;
use directory::model::*;
use directory::parties::{LicenceScope, NewLicence, NewProduct};
use directory::people::{GroupKind, NewGroup, NewPupil, NewStaff, StaffStatus};
use directory::schools::{NewSchool, School};

use crate::app::AppError;
use crate::app_state::AppState;
use crate::links::send_link;
use directory::credentials::TokenPurpose;

pub const SCHOOL_CODE: &str = "99ZZ00";

pub struct Seeded {
    pub school: School,
    pub fresh: bool,
    /// Anna's activation link, while her account is not activated yet.
    pub activation_link: Option<String>,
    /// A fresh home code and pin for the first pupil (printed once; a restart issues new ones).
    pub home_code: (String, String),
}

/// Each demo pupil's own picture: the catalogue in order, so the welcome text can tell.
fn demo_picture(index: usize) -> &'static str {
    crate::pictures::CATALOGUE[index % crate::pictures::CATALOGUE.len()].name
}

pub const ANNA: &str = "anna.devries@demo.openpoort.nl";
pub const BRAM: &str = "bram.jansen@demo.openpoort.nl";
/// Printed by `openpoort demo`; a demo database holds no real accounts.
pub const BRAM_PASSWORD: &str = "Fiets-Molen-Tulp-42";

const GROUPS: [(&str, &str, Option<&str>); 5] = [
    ("g12", "Groep 1/2 Egeltjes", Some("1")),
    ("g3", "Groep 3 Vossen", Some("3")),
    ("g5", "Groep 5 Uilen", Some("5")),
    ("g8", "Groep 8 Dassen", Some("8")),
    ("plus", "Plusklas", None),
];

/// LAS key, roepnaam, voorvoegsel, achternaam, jaargroep, stamgroep, in the Plusklas.
type DemoPupil = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    bool,
);

const PUPILS: [DemoPupil; 10] = [
    ("L001", "Sem", None, "Bakker", "1", "g12", false),
    ("L002", "Noor", Some("de"), "Jong", "2", "g12", false),
    ("L003", "Daan", None, "Visser", "3", "g3", false),
    ("L004", "Julia", Some("van"), "Dijk", "3", "g3", false),
    ("L005", "Finn", None, "Smit", "5", "g5", true),
    ("L006", "Emma", None, "Meijer", "5", "g5", false),
    ("L007", "Liam", Some("de"), "Boer", "5", "g5", false),
    ("L008", "Tess", None, "Mulder", "8", "g8", true),
    ("L009", "Lucas", Some("van den"), "Berg", "8", "g8", false),
    ("L010", "Zoë", None, "Dekker", "8", "g8", false),
];

pub async fn seed(state: &AppState) -> Result<Seeded, AppError> {
    let d = &state.directory;
    let code = SchoolCode::parse(SCHOOL_CODE)?;
    if let Some(school) = d.school_by_code(&code).await? {
        let activation_link = anna_link(state).await?;
        let home_code = first_pupil_home_code(state, &school).await?;
        return Ok(Seeded {
            school,
            fresh: false,
            activation_link,
            home_code,
        });
    }
    let actor = Actor::system("demo");
    let nummer = Bestuursnummer::parse("99999")?;
    if d.board_by_nummer(&nummer).await?.is_none() {
        d.create_board(&nummer, "Stichting Openpoort Demo", &actor)
            .await?;
    }
    let school = d
        .create_school(
            &NewSchool {
                bestuursnummer: nummer,
                brin: code.brin.clone(),
                vestigingscode: code.vestigingscode.clone(),
                name: "Basisschool De Demo".into(),
            },
            &actor,
        )
        .await?;
    // Loopback, so that pupil login at school works on the machine that runs the demo.
    for (range, label) in [
        ("127.0.0.0/8", "demo (deze computer)"),
        ("::1/128", "demo (deze computer, IPv6)"),
    ] {
        d.add_ip_range(&school.id, &Cidr::parse(range)?, label, &actor)
            .await?;
    }

    let mut group_ids = std::collections::HashMap::new();
    for (key, name, jaargroep) in GROUPS {
        let g = d
            .create_group(
                &school.id,
                &NewGroup {
                    las_key: LasKey::parse(key)?,
                    name: name.into(),
                    kind: if jaargroep.is_some() {
                        GroupKind::Stamgroep
                    } else {
                        GroupKind::Samengesteld
                    },
                    jaargroep: jaargroep.map(Jaargroep::parse).transpose()?,
                },
                &actor,
            )
            .await?;
        group_ids.insert(key, g.id);
    }
    d.set_picture_password_enabled(&school.id, true, &actor)
        .await?;
    for (i, (key, roepnaam, voorvoegsel, achternaam, jaargroep, stamgroep, plus)) in
        PUPILS.into_iter().enumerate()
    {
        let pupil = d
            .create_pupil(
                &school.id,
                &NewPupil {
                    las_key: LasKey::parse(key)?,
                    achternaam: achternaam.into(),
                    voorvoegsel: voorvoegsel.map(Into::into),
                    voornamen: Some(roepnaam.into()),
                    roepnaam: Some(roepnaam.into()),
                    jaargroep: Jaargroep::parse(jaargroep)?,
                    stamgroep: Some(LasKey::parse(stamgroep)?),
                    combined_groups: if plus {
                        vec![LasKey::parse("plus")?]
                    } else {
                        vec![]
                    },
                    eck_id: None,
                },
                &actor,
            )
            .await?;
        d.set_picture_secret(&pupil.id, Some(demo_picture(i)), &actor)
            .await?;
    }

    // Anna is a new teacher: her account waits for its activation link. Bram is the
    // ICT-coördinator of this school and of a second location, with a known demo password.
    let teachers = [
        ("T01", "Anna", Some("de"), "Vries", ANNA, "g5", false),
        ("T02", "Bram", None, "Jansen", BRAM, "g8", true),
    ];
    let mut coordinator = None;
    for (key, roepnaam, voorvoegsel, achternaam, email, group, ict) in teachers {
        let s = d
            .create_staff(
                &NewStaff {
                    email: Some(Email::parse(email)?),
                    achternaam: achternaam.into(),
                    voorvoegsel: voorvoegsel.map(Into::into),
                    voornamen: Some(roepnaam.into()),
                    roepnaam: Some(roepnaam.into()),
                    eck_id: None,
                },
                &actor,
            )
            .await?;
        d.add_staff_to_school(&s.id, &school.id, Some(&LasKey::parse(key)?), &actor)
            .await?;
        d.grant_role(&s.id, &school.id, StaffRole::Leerkracht, &actor)
            .await?;
        d.assign_staff_group(&s.id, &group_ids[group], &actor)
            .await?;
        if ict {
            let hash = state.hasher.hash(BRAM_PASSWORD.to_owned()).await?;
            d.set_password(&s.id, &hash, &actor).await?;
            d.set_staff_status(&s.id, StaffStatus::Active, &actor)
                .await?;
            d.grant_role(&s.id, &school.id, StaffRole::IctCoordinator, &actor)
                .await?;
            let second = d
                .create_school(
                    &NewSchool {
                        bestuursnummer: Bestuursnummer::parse("99999")?,
                        brin: code.brin.clone(),
                        vestigingscode: Vestigingscode::parse("01")?,
                        name: "Basisschool De Demo, locatie Noord".into(),
                    },
                    &actor,
                )
                .await?;
            d.grant_role(&s.id, &second.id, StaffRole::IctCoordinator, &actor)
                .await?;
            coordinator = Some(s.id.clone());
        }
    }

    let publisher = d
        .create_party(
            "demo-uitgeverij",
            PartyKind::Publisher,
            "Demo Uitgeverij",
            &actor,
        )
        .await?;
    let product = d
        .create_product(
            &publisher.id,
            &NewProduct {
                code: "rekenrijk".into(),
                methode: "Rekenrijk".into(),
                name: "Rekenrijk oefenen".into(),
                launch_url: WebUrl::parse(
                    "launch_url",
                    "https://rekenrijk.demo-uitgeverij.example/start",
                )?,
                icon_url: None,
                home_allowed: true,
            },
            &actor,
        )
        .await?;
    d.create_licence(
        &NewLicence {
            school_id: school.id.clone(),
            product_id: product.id,
            scope: LicenceScope::School,
            valid_from: Date::parse("valid_from", "2026-08-01")?,
            valid_until: Some(Date::parse("valid_until", "2027-07-31")?),
        },
        &actor,
    )
    .await?;
    let consent_by = coordinator.map_or_else(|| actor.clone(), |id| Actor::staff(&id));
    d.grant_consent(&school.id, &publisher.id, &consent_by)
        .await?;
    tracing::info!(school = SCHOOL_CODE, "demo data seeded");
    let activation_link = anna_link(state).await?;
    let home_code = first_pupil_home_code(state, &school).await?;
    Ok(Seeded {
        school,
        fresh: true,
        activation_link,
        home_code,
    })
}

async fn first_pupil_home_code(
    state: &AppState,
    school: &School,
) -> Result<(String, String), AppError> {
    let key = PUPILS[0].0;
    let pupil = state
        .directory
        .pupils_of_school(&school.id)
        .await?
        .into_iter()
        .find(|p| p.las_key == key)
        .ok_or_else(|| AppError::Usage(format!("demo pupil {key} is missing")))?;
    Ok(crate::homecode::issue(
        &state.directory,
        &state.hasher,
        &pupil.id,
        &Actor::system("demo"),
    )
    .await?)
}

/// Mails Anna a fresh activation link while she has not activated her account.
async fn anna_link(state: &AppState) -> Result<Option<String>, AppError> {
    let Some(login) = state.directory.staff_login(&Email::parse(ANNA)?).await? else {
        return Ok(None);
    };
    if login.password_hash.is_some() {
        return Ok(None);
    }
    let link = send_link(
        &state.directory,
        &state.mailer,
        &state.web.public_url,
        &login.staff,
        TokenPurpose::Activation,
        &Actor::system("demo"),
    )
    .await?;
    Ok(Some(link))
}

/// The file in the data directory that says `openpoort demo` made it: a development setup.
pub const MARKER: &str = "openpoort-demo";

/// Marks `data_dir` as the demo's, so that commands run in the same folder without settings use
/// the demo's register (see `lib.rs`, `load_config`).
pub fn mark_data_dir(data_dir: &Path) -> Result<(), AppError> {
    std::fs::create_dir_all(data_dir).map_err(AppError::io("cannot create the data directory"))?;
    std::fs::write(
        data_dir.join(MARKER),
        "Deze map is van `openpoort demo` (ontwikkelmodus). Commando's in de map erboven gebruiken \
         dezelfde gegevens zonder instellingen.\nThis folder belongs to `openpoort demo` \
         (development mode). Commands run in the folder above use the same data without settings.\n",
    )
    .map_err(AppError::io("cannot mark the demo's data directory"))
}

/// Whether `openpoort demo` made `data_dir`.
pub fn is_marked(data_dir: &Path) -> bool {
    data_dir.join(MARKER).is_file()
}

pub fn print_welcome(
    seeded: &Seeded,
    public_url: &str,
    local: SocketAddr,
    outbox: Option<&Path>,
    product: bool,
) {
    let base = format!("http://{local}");
    let s = &seeded.school;
    println!();
    println!(
        "openpoort demo — {} {} ({})",
        s.code(),
        s.name,
        if seeded.fresh {
            "nieuw aangemaakt / newly seeded"
        } else {
            "bestaande gegevens / existing data"
        }
    );
    println!("  gezondheid / health:   {base}/healthz");
    println!("  gereed / readiness:    {base}/readyz");
    println!("  metrics:               {base}/metrics");
    println!("  public_url (issuer):   {public_url}");
    println!(
        "  leerlingen op school / pupils at school (vanaf deze computer / from this computer):"
    );
    println!(
        "    {public_url}/login/leerlingen/snelkoppelaar?INSTELLING_REF={}",
        s.instelling_ref
    );
    println!("    {public_url}/s/{}", s.instelling_ref);
    println!(
        "    plaatjes / pictures: {} = {}, {} = {}, {} = {}, … (de catalogus in volgorde / the catalogue in order)",
        PUPILS[0].1,
        demo_picture(0),
        PUPILS[1].1,
        demo_picture(1),
        PUPILS[4].1,
        demo_picture(4)
    );
    println!("  thuis / at home:       {public_url}/thuis");
    println!(
        "    {}: thuiscode {} pincode {}",
        PUPILS[0].1, seeded.home_code.0, seeded.home_code.1
    );
    println!("  inloggen / log in:     {public_url}/inloggen");
    println!(
        "    {BRAM} / {BRAM_PASSWORD}  (ICT-coördinator van 99ZZ00 en 99ZZ01, leerkracht groep 8)"
    );
    match &seeded.activation_link {
        Some(link) => println!("    {ANNA}  (leerkracht groep 5, nog niet geactiveerd): {link}"),
        None => println!("    {ANNA}  (leerkracht groep 5, geactiveerd)"),
    }
    match outbox {
        Some(dir) => println!("  uitgaande mail / outbox: {}/*.eml", dir.display()),
        None => println!("  uitgaande mail / outgoing mail: SMTP (mail.smtp_host)"),
    }
    println!(
        "  uitgeverij / publisher: demo-uitgeverij, product rekenrijk (licentie hele school, toestemming gegeven)"
    );
    if product {
        println!(
            "  demo-product Leesland: {public_url}/demo-product/ (licentie hele school; nog geen toestemming / no consent yet: Beheer › Uitgeverijen)"
        );
    }
    println!("  stoppen / stop: Ctrl-C");
}
