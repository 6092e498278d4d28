//! Demo data: one board, school 99ZZ00 with groups, pupils and staff, and a publisher whose
//! product the school has licensed and consented to. Seeding is idempotent: a second
//! `openpoort demo` on the same data directory reuses what is there.

use std::net::SocketAddr;

use directory::model::*;
use directory::parties::{LicenceScope, NewLicence, NewProduct};
use directory::people::{GroupKind, NewGroup, NewPupil, NewStaff, StaffStatus};
use directory::schools::{NewSchool, School};
use directory::{Actor, Directory};

use crate::app::AppError;

pub const SCHOOL_CODE: &str = "99ZZ00";

pub struct Seeded {
    pub school: School,
    pub staff: Vec<(String, &'static str)>,
    pub fresh: bool,
}

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

pub async fn seed(d: &Directory) -> Result<Seeded, AppError> {
    let code = SchoolCode::parse(SCHOOL_CODE)?;
    let staff_emails = vec![
        (
            "anna.devries@demo.openpoort.nl".to_string(),
            "leerkracht groep 5",
        ),
        (
            "bram.jansen@demo.openpoort.nl".to_string(),
            "ICT-coördinator, leerkracht groep 8",
        ),
    ];
    if let Some(school) = d.school_by_code(&code).await? {
        return Ok(Seeded {
            school,
            staff: staff_emails,
            fresh: false,
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
    d.add_ip_range(
        &school.id,
        &Cidr::parse("127.0.0.0/8")?,
        "demo (deze computer)",
        &actor,
    )
    .await?;
    d.add_ip_range(
        &school.id,
        &Cidr::parse("::1/128")?,
        "demo (deze computer, IPv6)",
        &actor,
    )
    .await?;

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
    for (key, roepnaam, voorvoegsel, achternaam, jaargroep, stamgroep, plus) in PUPILS {
        d.create_pupil(
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
    }

    let teachers = [
        (
            "T01",
            "Anna",
            Some("de"),
            "Vries",
            &staff_emails[0].0,
            "g5",
            false,
        ),
        (
            "T02",
            "Bram",
            None,
            "Jansen",
            &staff_emails[1].0,
            "g8",
            true,
        ),
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
        // Demo accounts start active so that they can sign in as soon as password login exists;
        // real accounts stay inactive until their owner follows the activation link.
        d.set_staff_status(&s.id, StaffStatus::Active, &actor)
            .await?;
        if ict {
            d.grant_role(&s.id, &school.id, StaffRole::IctCoordinator, &actor)
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
    Ok(Seeded {
        school,
        staff: staff_emails,
        fresh: true,
    })
}

pub fn print_welcome(seeded: &Seeded, public_url: &str, local: SocketAddr) {
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
    println!("  INSTELLING_REF:        {}", s.instelling_ref);
    println!("  IP-bereiken / ranges:  127.0.0.0/8, ::1/128");
    println!(
        "  medewerkers / staff (actief; wachtwoord via activatielink zodra aanmelden beschikbaar is):"
    );
    for (email, what) in &seeded.staff {
        println!("    {email}  ({what})");
    }
    println!(
        "  uitgeverij / publisher: demo-uitgeverij, product rekenrijk (licentie hele school, toestemming gegeven)"
    );
    println!("  stoppen / stop: Ctrl-C");
}
