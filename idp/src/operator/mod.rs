//! Operator commands: keys and the register, from the command line. Every change is audited as
//! `operator:cli`.

mod school_changes;
mod upstream;

use directory::credentials::TokenPurpose;
use directory::las::{AuthorisationKey, KeyPlacement, NewLasLink};
use directory::model::{Email, LasKey, SchoolCode, netherlands_clock};
use directory::parties::{LicenceMember, LicenceScope, NewLicence, NewProduct};
use directory::people::{Group, Pupil, Staff, StaffStatus};
use directory::schools::NewSchool;
use directory::{Actor, Directory, DirectoryError};

use crate::links::send_link;
use crate::operator_admin::{Operating, register};
use crate::party_certificates;
use crate::school_admin::staff as staff_rules;
use crate::school_admin::{Administered, network, parties, privacy, second_factor};
use directory::second_factor::SecondFactorPolicy;

use crate::app::{self, AppError};
use crate::cli::{
    AgreementCommand, AuditCommand, BoardCommand, ClientAdd, ClientCommand, Command,
    ConsentCommand, GroupCommand, ImportCommand, IpRangeCommand, KeysCommand, LasCommand,
    LicenceAdd, LicenceCommand, NoticeCommand, OperatorCommand, PartyCommand, ProductCommand,
    PupilCommand, RoleAt, SchoolCommand, SpCommand, StaffCommand,
};
use crate::config::Config;

pub async fn run(config: &Config, command: Command) -> Result<(), AppError> {
    let directory = app::open_directory(config).await?;
    let result = dispatch(config, &directory, command).await;
    directory.close().await;
    result
}

async fn dispatch(config: &Config, d: &Directory, command: Command) -> Result<(), AppError> {
    let actor = Actor::operator_cli();
    match command {
        Command::Keys(KeysCommand::List) => {
            let keys = app::key_manager(config, d)?.list().await?;
            if keys.is_empty() {
                println!("no signing keys yet: they are created when openpoort first starts");
            }
            println!(
                "{:<24} {:<6} {:<8} {:<20} {:<20} {:<20} CERTIFICATE SHA-256",
                "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"
            );
            for k in keys {
                let fingerprint = match &k.certificate_pem {
                    Some(pem) => certs::certificate_fingerprint(pem)?,
                    None => "-".into(),
                };
                let t = |v: Option<i64>| v.map_or("-".to_string(), netherlands_clock);
                println!(
                    "{:<24} {:<6} {:<8} {:<20} {:<20} {:<20} {}",
                    k.kid,
                    k.alg.as_str(),
                    k.state.as_str(),
                    netherlands_clock(k.created_at),
                    t(k.activated_at),
                    t(k.retired_at),
                    fingerprint
                );
            }
        }
        Command::Keys(KeysCommand::Rotate { alg }) => {
            let keys = app::key_manager(config, d)?;
            keys.ensure_keys(crate::clock::unix_now()).await?;
            let algs = alg.map_or(certs::Algorithm::ALL.to_vec(), |a| vec![a]);
            for alg in algs {
                let current = keys.rotate(alg, crate::clock::unix_now()).await?;
                println!(
                    "{alg}: {} is now current; a new next key was created",
                    current.kid
                );
            }
        }
        Command::Board(BoardCommand::Add {
            bestuursnummer,
            name,
        }) => {
            let b = d.create_board(&bestuursnummer, &name, &actor).await?;
            println!(
                "bestuur {} ({}) toegevoegd / board added",
                b.bestuursnummer, b.name
            );
        }
        Command::Board(BoardCommand::List) => {
            for b in d.list_boards().await? {
                println!("{}  {}", b.bestuursnummer, b.name);
            }
        }
        Command::School(SchoolCommand::Add {
            bestuursnummer,
            brin,
            vestigingscode,
            name,
        }) => {
            let s = d
                .create_school(
                    &NewSchool {
                        bestuursnummer,
                        brin,
                        vestigingscode,
                        name,
                    },
                    &actor,
                )
                .await?;
            println!("school {} ({}) toegevoegd / school added", s.code(), s.name);
            println!("INSTELLING_REF: {}", s.instelling_ref);
        }
        Command::School(SchoolCommand::List) => {
            let schools = d.list_schools().await?;
            let code_of = |id: &str| {
                schools
                    .iter()
                    .find(|s| s.id == id)
                    .map_or_else(|| id.to_owned(), |s| s.code())
            };
            for s in &schools {
                let state = match (&s.merged_into, s.active) {
                    (Some(into), _) => format!("samengevoegd met / merged into {}", code_of(into)),
                    (None, true) => "active".into(),
                    (None, false) => "inactive".into(),
                };
                println!("{}  {}  {}  {}", s.code(), s.instelling_ref, state, s.name);
            }
        }
        Command::School(SchoolCommand::RegenerateRef { school }) => {
            let s = d.require_school(&school).await?;
            let fresh = d.regenerate_instelling_ref(&s.id, &actor).await?;
            println!(
                "nieuwe INSTELLING_REF voor / new INSTELLING_REF for {}: {fresh}",
                s.code()
            );
        }
        Command::School(SchoolCommand::SecondFactorPolicy { school, policy }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            if let Some(policy) = policy {
                let chosen = match policy.as_str() {
                    "default" => None,
                    other => Some(SecondFactorPolicy::parse(other)?),
                };
                second_factor::set_policy(d, &a, chosen).await?;
            }
            let default = config.login.second_factor_policy;
            let p = second_factor::policy(d, &a, default).await?;
            let (nl, en) = second_factor::policy_label(p.effective);
            let own = p.school.map_or("default", SecondFactorPolicy::as_str);
            println!(
                "tweestapsverificatie op {}: {own} ({nl}) / two-step verification at {}: {own} ({en}); standaard / default: {}",
                a.school.code(),
                a.school.code(),
                p.default.as_str()
            );
            for (m, has) in second_factor::staff_with_factors(d, &a).await? {
                println!(
                    "{}  {}  {}",
                    if has { "ja / yes" } else { "nee / no" },
                    m.staff.email.as_deref().unwrap_or("-"),
                    crate::school_admin::staff_name(&m.staff)
                );
            }
        }
        Command::School(SchoolCommand::HomeLogin { school, state }) => {
            let s = d.require_school(&school).await?;
            d.set_home_login_allowed(&s.id, state == "on", &actor)
                .await?;
            println!(
                "thuis inloggen voor {}: {state} / home login for {}: {state}",
                s.code(),
                s.code()
            );
        }
        Command::IpRange(IpRangeCommand::Add {
            school,
            cidr,
            label,
        }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            let r = network::add(d, &a, &cidr.to_string(), &label).await?;
            println!(
                "IP-bereik {} toegevoegd aan / IP range added to {}",
                r.cidr,
                a.school.code()
            );
        }
        Command::IpRange(IpRangeCommand::Remove { school, cidr }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            network::remove(d, &a, &cidr.to_string(), None, true).await?;
            println!("IP-bereik {cidr} verwijderd / IP range removed");
        }
        Command::IpRange(IpRangeCommand::List { school }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            for r in network::ranges(d, &a, None).await? {
                println!("{}  {}", r.range.cidr, r.range.label);
            }
        }
        Command::Party(PartyCommand::Add { code, kind, name }) => {
            let p = d.create_party(&code, kind, &name, &actor).await?;
            println!(
                "partij {} ({}) toegevoegd / party added",
                p.code,
                p.kind.as_str()
            );
        }
        Command::Party(PartyCommand::AllowAttribute { party, attribute }) => {
            let p = d.require_party(&party).await?;
            d.allow_release_attribute(&p.id, attribute.name(), &actor)
                .await?;
            println!(
                "{} mag {} ontvangen / may receive {}",
                p.code,
                attribute.name(),
                attribute.name()
            );
        }
        Command::Party(PartyCommand::DisallowAttribute { party, attribute }) => {
            let p = d.require_party(&party).await?;
            d.disallow_release_attribute(&p.id, attribute.name(), &actor)
                .await?;
            println!(
                "{} ontvangt {} niet meer / no longer receives {}",
                p.code,
                attribute.name(),
                attribute.name()
            );
        }
        Command::Party(PartyCommand::Attributes { party }) => {
            let p = d.require_party(&party).await?;
            let extra = d.release_attributes_of(&p.id).await?;
            for a in broker::Attribute::DEFAULT {
                println!(
                    "{:<26} {:<44} {:<36} altijd / always",
                    a.name(),
                    a.oidc_claim(),
                    a.saml_name()
                );
            }
            for a in broker::Attribute::OPTIONAL
                .into_iter()
                .filter(|a| extra.iter().any(|e| e == a.name()))
            {
                println!(
                    "{:<26} {:<44} {:<36} toegestaan / allowed",
                    a.name(),
                    a.oidc_claim(),
                    a.saml_name()
                );
            }
        }
        Command::Party(PartyCommand::CertificateAdd { party, file }) => {
            let p = d.require_party(&party).await?;
            let pem = read_bounded_text(&file, SMALL_FILE_LIMIT, "a certificate")?;
            let c = party_certificates::register(d, &p.id, &pem, &actor).await?;
            println!(
                "certificaat geregistreerd voor / certificate registered for {}: SHA-256 {}, {}, geldig tot / valid until {}",
                p.code,
                c.sha256,
                c.subject,
                directory::model::netherlands_clock(c.not_after)
            );
        }
        Command::Party(PartyCommand::Certificates { party }) => {
            let p = d.require_party(&party).await?;
            for c in d.party_certificates(&p.id).await? {
                println!(
                    "{}  {}  {} .. {}  (uitgever / issuer {})",
                    c.sha256,
                    c.subject,
                    directory::model::netherlands_clock(c.not_before),
                    directory::model::netherlands_clock(c.not_after),
                    c.issuer
                );
            }
        }
        Command::Party(PartyCommand::CertificateRemove { party, sha256 }) => {
            let p = d.require_party(&party).await?;
            let sha256 = party_certificates::normalise_fingerprint(&sha256);
            d.remove_party_certificate(&p.id, &sha256, &actor).await?;
            println!("certificaat verwijderd / certificate removed: {sha256}");
        }
        Command::Party(PartyCommand::UrlAllow { party, url }) => {
            let p = d.require_party(&party).await?;
            let prefix = d.allow_party_url(&p.id, &url, &actor).await?;
            println!(
                "{} mag LIKA-adressen gebruiken onder / may use LIKA addresses under {}",
                p.code,
                prefix.as_str()
            );
        }
        Command::Party(PartyCommand::UrlAllowed { party }) => {
            let p = d.require_party(&party).await?;
            for prefix in d.party_url_prefixes(&p.id).await? {
                println!("{}", prefix.as_str());
            }
        }
        Command::Party(PartyCommand::UrlDisallow { party, url }) => {
            let p = d.require_party(&party).await?;
            d.disallow_party_url(&p.id, &url, &actor).await?;
            println!("URL-voorvoegsel verwijderd / URL prefix removed: {url}");
        }
        Command::Party(
            command @ (PartyCommand::UpstreamSaml(_)
            | PartyCommand::UpstreamOidc(_)
            | PartyCommand::UpstreamShow { .. }
            | PartyCommand::UpstreamRefresh { .. }
            | PartyCommand::UpstreamRemove { .. }),
        ) => upstream::run(config, d, command, &actor).await?,
        Command::Party(PartyCommand::List) => {
            for p in d.list_parties().await? {
                println!("{}  {}  {}", p.code, p.kind.as_str(), p.name);
            }
        }
        Command::Product(ProductCommand::Add {
            party,
            code,
            methode,
            name,
            launch_url,
            icon_url,
            home_allowed,
        }) => {
            let p = d.require_party(&party).await?;
            let product = d
                .create_product(
                    &p.id,
                    &NewProduct {
                        code,
                        methode,
                        name,
                        launch_url,
                        icon_url,
                        home_allowed,
                    },
                    &actor,
                )
                .await?;
            println!(
                "product {} van / of {} toegevoegd / added",
                product.code, p.code
            );
        }
        Command::Party(PartyCommand::Rename { party, name }) => {
            let op = Operating::trusted(actor.clone());
            let p = crate::operator_admin::parties::rename(d, &op, &party, &name).await?;
            println!("partij {} heet nu / is now called {}", p.code, p.name);
        }
        Command::Product(ProductCommand::Change {
            party,
            code,
            methode,
            name,
            launch_url,
            icon_url,
            home_allowed,
        }) => {
            let op = Operating::trusted(actor.clone());
            let form = crate::operator_admin::parties::ProductForm {
                methode: &methode,
                name: &name,
                launch_url: &launch_url,
                icon_url: &icon_url,
                home_allowed,
            };
            let p = crate::operator_admin::parties::change_product(d, &op, &party, &code, &form)
                .await?;
            println!("product {} gewijzigd / changed: {}", p.code, p.name);
        }
        Command::Product(ProductCommand::List { party }) => {
            let p = d.require_party(&party).await?;
            for product in d.products_of_party(&p.id).await? {
                let home = if product.home_allowed {
                    "thuis"
                } else {
                    "alleen school"
                };
                println!(
                    "{}  {}  {}  {}",
                    product.code, home, product.launch_url, product.name
                );
            }
        }
        Command::Licence(LicenceCommand::Add(add)) => add_licence(d, add, &actor).await?,
        Command::Licence(LicenceCommand::List { school }) => {
            let s = d.require_school(&school).await?;
            for l in d.licences_of_school(&s.id).await? {
                let product = d.product_by_id(&l.product_id).await?;
                let scope = match &l.scope {
                    LicenceScope::School => "hele school".to_string(),
                    LicenceScope::Members(m) => format!("{} groepen/gebruikers", m.len()),
                };
                println!(
                    "{}  {}  {} t/m {}  {}",
                    l.id,
                    product.map_or_else(|| l.product_id.clone(), |p| p.code),
                    l.valid_from,
                    l.valid_until.as_deref().unwrap_or("-"),
                    scope
                );
            }
        }
        Command::Consent(ConsentCommand::Grant { school, party }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            parties::consent(d, &a, &party).await?;
            println!(
                "{} geeft toestemming aan / consents to {party}",
                a.school.code()
            );
        }
        Command::Consent(ConsentCommand::Revoke { school, party }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            parties::revoke(d, &a, &party).await?;
            println!(
                "toestemming van {} aan {party} ingetrokken / consent revoked",
                a.school.code()
            );
        }
        Command::Agreement(AgreementCommand::Show { school }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            let s = privacy::agreement(d, &a, config.privacy.current_agreement()).await?;
            match (&s.current, s.current_accepted) {
                (Some(v), true) => println!(
                    "{}: versie {v} geaccepteerd / version {v} accepted",
                    s.board_name
                ),
                (Some(v), false) => println!(
                    "{}: versie {v} nog niet geaccepteerd / version {v} not accepted yet",
                    s.board_name
                ),
                (None, _) => println!(
                    "{}: geen versie ingesteld (privacy.agreement_version) / no version set",
                    s.board_name
                ),
            }
            for h in &s.history {
                println!(
                    "{}  {}  door / by {}  vanaf / from {}",
                    h.acceptance.version,
                    netherlands_clock(h.acceptance.accepted_at),
                    h.acceptance.accepted_by_name,
                    h.school.as_deref().unwrap_or("-"),
                );
            }
        }
        Command::Agreement(AgreementCommand::Accept { school, version }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            let acc = privacy::accept(d, &a, config.privacy.current_agreement(), &version).await?;
            println!(
                "versie {} geaccepteerd voor het bestuur van {} / version accepted for the board",
                acc.version,
                a.school.code()
            );
        }
        Command::Group(GroupCommand::List { school }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            for g in crate::school_admin::groups(d, &a).await? {
                println!(
                    "{}  {}  {} leerlingen / pupils  (id {})",
                    g.group.las_key, g.group.name, g.pupils, g.group.id
                );
            }
        }
        Command::Consent(ConsentCommand::List { school }) => {
            let a = Administered::by_operator(d, &school, actor).await?;
            for c in parties::history(d, &a).await? {
                let revoked = match (&c.revoked_at, &c.revoked_by) {
                    (Some(at), Some(by)) => format!("ingetrokken / revoked {at} door / by {by}"),
                    _ => "geldig / in force".into(),
                };
                println!(
                    "{} ({})  gegeven / given {} door / by {}  {revoked}",
                    c.party_name, c.party_code, c.granted_at, c.granted_by
                );
            }
        }
        Command::School(SchoolCommand::PicturePassword { school, state }) => {
            let s = d.require_school(&school).await?;
            d.set_picture_password_enabled(&s.id, state == "on", &actor)
                .await?;
            println!(
                "plaatjeswachtwoord voor {}: {state} / picture password: {state}",
                s.code()
            );
        }
        Command::Pupil(PupilCommand::Picture {
            school,
            pupil,
            picture,
        }) => {
            let p = pupil_by_key(d, &school, &pupil).await?;
            let picture = crate::pictures::by_name(&picture).ok_or_else(|| {
                AppError::Usage(format!(
                    "onbekend plaatje {picture:?}; kies uit / unknown picture; choose from: {}",
                    crate::pictures::CATALOGUE
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            d.set_picture_secret(&p.id, Some(picture.name), &actor)
                .await?;
            println!("plaatje ingesteld / picture set");
        }
        Command::Pupil(PupilCommand::HomeCode { school, pupil }) => {
            let p = pupil_by_key(d, &school, &pupil).await?;
            // One PIN from the command line: nothing else waits for this process's hasher.
            let hasher = crate::password::Hasher::new(1, 0).await?;
            let (code, pin) = crate::homecode::issue(d, &hasher, &p.id, &actor).await?;
            println!("thuiscode / home code: {code}");
            println!("pincode / PIN: {pin}");
            println!("{}/thuis?code={code}", config.server.public_url);
        }
        Command::Import(ImportCommand::Edexml { file, dry_run }) => {
            import_edexml(config, d, &file, dry_run, &actor).await?
        }
        Command::Import(ImportCommand::Duo { file, dry_run }) => {
            school_changes::import_duo(config, d, &file, dry_run, &actor).await?
        }
        Command::School(SchoolCommand::Merge {
            from,
            into,
            dry_run,
        }) => school_changes::merge(d, &from, &into, dry_run, &actor).await?,
        Command::School(SchoolCommand::Split {
            from,
            to,
            name,
            groups,
            dry_run,
        }) => {
            school_changes::split(d, &from, &to, name.as_deref(), &groups, dry_run, &actor).await?
        }
        Command::Las(command) => las(config, d, command, &actor).await?,
        Command::Client(ClientCommand::Add(add)) => add_client(config, d, *add, &actor).await?,
        Command::Client(ClientCommand::RotateSecret { client_id }) => {
            let secret = crate::clients::Registrar::on_server(&actor)
                .rotate_secret(d, &client_id)
                .await?;
            println!(
                "nieuw client_secret (wordt niet bewaard; alleen nu zichtbaar) / new client secret (shown once):"
            );
            println!("{secret}");
        }
        Command::Sp(command) => service_providers(config, d, command, &actor).await?,
        Command::Client(ClientCommand::List { party }) => {
            let p = d.require_party(&party).await?;
            for c in d.oidc_clients_of_party(&p.id).await? {
                println!("{}  {}", c.client_id, c.registration);
            }
        }
        Command::Notice(command) => notice(d, command, &actor).await?,
        Command::Operator(command) => operators(d, command, &actor).await?,
        Command::Board(BoardCommand::Rename {
            bestuursnummer,
            name,
        }) => {
            let op = Operating::trusted(actor.clone());
            let b = register::rename_board(d, &op, bestuursnummer.as_str(), &name).await?;
            println!(
                "bestuur {} heet nu / is now called {}",
                b.bestuursnummer, b.name
            );
        }
        Command::School(SchoolCommand::Rename { school, name }) => {
            let op = Operating::trusted(actor.clone());
            let s = register::rename_school(d, &op, &school.to_string(), &name).await?;
            println!("school {} heet nu / is now called {}", s.code(), s.name);
        }
        Command::School(SchoolCommand::FirstIct {
            school,
            email,
            achternaam,
            voorvoegsel,
            roepnaam,
            requested_by,
            document_ref,
        }) => {
            let op = Operating::trusted(actor.clone());
            let mailer = app::mailer(config)?;
            let mailing = staff_rules::Mailing {
                mailer: &mailer,
                public_url: &config.server.public_url,
            };
            let form = register::FirstIctForm {
                person: staff_rules::NewPerson {
                    roepnaam: &roepnaam,
                    voorvoegsel: &voorvoegsel,
                    achternaam: &achternaam,
                    email: email.as_str(),
                },
                requested_by: &requested_by,
                document_ref: &document_ref,
            };
            let (staff, record, sent) =
                register::first_ict(d, &mailing, &op, &school.to_string(), &form).await?;
            println!(
                "eerste ICT-coördinator {} toegevoegd aan {} (aanvraag {} door {}) / first ICT coordinator added",
                staff.email.as_deref().unwrap_or_default(),
                school,
                record.document_ref,
                record.requested_by
            );
            let link = sent?;
            println!(
                "activatielink gemaild naar / activation link mailed to {}",
                staff.email.as_deref().unwrap_or_default()
            );
            if config.is_development() {
                println!("{link}");
            }
        }
        Command::Staff(StaffCommand::Add {
            school,
            email,
            achternaam,
            voorvoegsel,
            roepnaam,
            roles,
        }) => {
            let a = Administered::by_operator(d, &school, actor.clone()).await?;
            let mailer = app::mailer(config)?;
            let mailing = staff_rules::Mailing {
                mailer: &mailer,
                public_url: &config.server.public_url,
            };
            let new = staff_rules::NewPerson {
                roepnaam: roepnaam.as_deref().unwrap_or(""),
                voorvoegsel: voorvoegsel.as_deref().unwrap_or(""),
                achternaam: &achternaam,
                email: email.as_str(),
            };
            let (staff, sent) = staff_rules::add(d, &mailing, &a, &new).await?;
            for role in roles {
                staff_rules::grant_role(d, &a, &staff.id, role).await?;
            }
            let link = sent?;
            println!("activatielink gemaild naar / activation link mailed to {email}");
            if config.is_development() {
                println!("{link}");
            }
        }
        Command::Staff(StaffCommand::Invite { email }) => {
            let login = d
                .staff_login(&email)
                .await?
                .ok_or_else(|| unknown_staff(&email))?;
            // A deactivated account comes back only this way: the re-invite clears the
            // deactivation (and the old password) before the new activation link goes out.
            let deactivated = login.staff.status == StaffStatus::Deactivated;
            if !deactivated && login.password_hash.is_some() {
                return Err(AppError::Usage(format!(
                    "{email} heeft het account al geactiveerd; bij een vergeten wachtwoord helpt 'Wachtwoord vergeten' / {email} has already activated the account; a forgotten password is what 'Wachtwoord vergeten' is for"
                )));
            }
            if deactivated {
                d.reinstate_staff(&login.staff.id, &actor).await?;
            }
            invite(config, d, &login.staff, &actor).await?;
        }
        Command::Staff(StaffCommand::GrantRole(RoleAt {
            email,
            school,
            role,
        })) => {
            let (staff, a) = staff_at(d, &email, &school, &actor).await?;
            staff_rules::grant_role(d, &a, &staff.id, role).await?;
            println!(
                "{email} is nu {} op {} / now holds that role",
                role.as_str(),
                a.school.code()
            );
        }
        Command::Staff(StaffCommand::RevokeRole(RoleAt {
            email,
            school,
            role,
        })) => {
            let (staff, a) = staff_at(d, &email, &school, &actor).await?;
            staff_rules::revoke_role(d, &a, &staff.id, role).await?;
            println!(
                "{email} is geen {} meer op {} / no longer holds that role",
                role.as_str(),
                a.school.code()
            );
        }
        Command::Staff(StaffCommand::ResetSecondFactor { email, school }) => {
            let (staff, a) = staff_at(d, &email, &school, &actor).await?;
            let mailer = app::mailer(config)?;
            let mailing = staff_rules::Mailing {
                mailer: &mailer,
                public_url: &config.server.public_url,
            };
            let default = config.login.second_factor_policy;
            let mailed = second_factor::reset(d, &mailing, &a, &staff.id, default).await?;
            println!(
                "tweestapsverificatie van {email} hersteld; sessies beëindigd / two-step verification of {email} reset; sessions ended"
            );
            match mailed {
                Ok(()) => println!("gemaild naar / mailed to {email}"),
                Err(e) => println!("de mail is niet verstuurd / the mail was not sent: {e}"),
            }
        }
        Command::Staff(StaffCommand::Deactivate { email }) => {
            let staff = require_staff(d, &email).await?;
            d.set_staff_status(&staff.id, StaffStatus::Deactivated, &actor)
                .await?;
            println!(
                "{email} is gedeactiveerd; sessies en openstaande links zijn beëindigd / deactivated; sessions and outstanding links ended"
            );
        }
        Command::Audit(AuditCommand::List {
            school,
            releases,
            party,
            group,
            from,
            to,
            csv,
            limit,
        }) => {
            let filter = privacy::Filter {
                party,
                group,
                from,
                until: to,
            };
            let filtered = [&filter.party, &filter.group, &filter.from, &filter.until]
                .iter()
                .any(|v| v.is_some());
            if releases || csv || filtered {
                let a = Administered::by_operator(d, &school, actor).await?;
                return release_audit(d, &a, &filter, csv, limit as usize).await;
            }
            let s = d.require_school(&school).await?;
            let entries = d.audit_of_school(&s.id, i64::from(limit)).await?;
            for e in entries {
                println!(
                    "{}  {:<32} {:<24} {}  {}",
                    netherlands_clock(e.at),
                    e.action,
                    e.actor,
                    e.subject.as_deref().unwrap_or("-"),
                    e.details
                );
            }
        }
        Command::Audit(AuditCommand::Purge) => {
            let removed = crate::app::purge_audit(d, config.audit.retention_days).await?;
            println!(
                "{removed} auditregels ouder dan {} dagen verwijderd / audit entries removed",
                config.audit.retention_days
            );
        }
        Command::Serve | Command::Demo | Command::Migrate | Command::Config(_) => {
            unreachable!("handled in main")
        }
    }
    Ok(())
}

/// The school's release audit through Beheer's service: a line per release, or its CSV file
/// written to standard output as it is read.
async fn release_audit(
    d: &Directory,
    a: &Administered,
    filter: &privacy::Filter,
    csv: bool,
    limit: usize,
) -> Result<(), AppError> {
    use std::io::Write;
    if csv {
        use futures_util::StreamExt;
        let stream = privacy::csv(d, a, filter).await?;
        let mut stream = std::pin::pin!(stream);
        // Locked per chunk: a lock held across an await would make this future not `Send`.
        let out = std::io::stdout;
        while let Some(chunk) = stream.next().await {
            out()
                .lock()
                .write_all(&chunk?)
                .map_err(|source| AppError::Io {
                    context: "standaarduitvoer / standard output".into(),
                    source,
                })?;
        }
        return out().lock().flush().map_err(|source| AppError::Io {
            context: "standaarduitvoer / standard output".into(),
            source,
        });
    }
    let (_, groups) = privacy::choices(d, a).await?;
    for r in privacy::newest_releases(d, a, filter, limit).await? {
        let (person, _) = privacy::person(&r);
        println!(
            "{}  {}  {}  {}  groepen / groups: {}  gegevens / data: {}  {}",
            netherlands_clock(r.at),
            r.party_name.as_deref().unwrap_or(&r.party_id),
            person,
            r.subject_kind,
            privacy::group_names(&groups, &r.group_keys).join(", "),
            r.attributes.join(" "),
            r.context,
        );
    }
    Ok(())
}

async fn pupil_by_key(d: &Directory, school: &SchoolCode, key: &LasKey) -> Result<Pupil, AppError> {
    let s = d.require_school(school).await?;
    let pupils = d.pupils_of_school(&s.id).await?;
    Ok(by_las_key(&pupils, key)?.clone())
}

/// A group or a pupil, as the command line names it: by its key in the school's LAS.
trait ByLasKey {
    /// What the register calls it when none has the key.
    const WHAT: &'static str;
    fn las_key(&self) -> &str;
}

impl ByLasKey for Group {
    const WHAT: &'static str = "groep";
    fn las_key(&self) -> &str {
        &self.las_key
    }
}

impl ByLasKey for Pupil {
    const WHAT: &'static str = "leerling";
    fn las_key(&self) -> &str {
        &self.las_key
    }
}

fn by_las_key<'a, T: ByLasKey>(all: &'a [T], key: &LasKey) -> Result<&'a T, DirectoryError> {
    all.iter()
        .find(|t| t.las_key() == key.as_str())
        .ok_or_else(|| DirectoryError::NotFound {
            what: T::WHAT,
            key: key.to_string(),
        })
}

fn unknown_staff(email: &Email) -> DirectoryError {
    DirectoryError::NotFound {
        what: "medewerker",
        key: email.to_string(),
    }
}

async fn require_staff(d: &Directory, email: &Email) -> Result<Staff, AppError> {
    Ok(d.staff_by_email(email)
        .await?
        .ok_or_else(|| unknown_staff(email))?)
}

/// A staff member and their school, as the operator administers it.
async fn staff_at(
    d: &Directory,
    email: &Email,
    school: &SchoolCode,
    actor: &Actor,
) -> Result<(Staff, Administered), AppError> {
    let staff = require_staff(d, email).await?;
    let s = d.require_school(school).await?;
    Ok((staff, Administered::operator(s, actor.clone())))
}

async fn import_edexml(
    config: &Config,
    d: &Directory,
    file: &std::path::Path,
    dry_run: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let bytes = read_bounded(file, config.import.max_bytes() as u64, "import.max_mib")?;
    let limits = directory::edexml::Limits {
        max_bytes: config.import.max_bytes(),
    };
    let mailer = app::mailer(config)?;
    let imported = crate::import::import_edexml(
        d,
        &mailer,
        &config.server.public_url,
        &bytes,
        &limits,
        None,
        dry_run,
        actor,
    )
    .await
    .map_err(|e| match e {
        crate::import::ImportError::Directory(e) => AppError::Directory(e),
        other => AppError::Usage(format!("{}: {other}", file.display())),
    })?;
    print_import(&imported.school_code.to_string(), dry_run, &imported.report);
    for invitation in imported.invitations {
        match invitation.sent {
            Ok(link) => {
                println!(
                    "activatielink gemaild naar / activation link mailed to {}",
                    invitation.email
                );
                if config.is_development() {
                    println!("{link}");
                }
            }
            Err(e) => eprintln!("activatiemail niet verstuurd / activation mail not sent: {e}"),
        }
    }
    Ok(())
}

fn print_import(school: &str, dry_run: bool, report: &directory::import::ImportReport) {
    let line = |what: &str, c: &directory::import::Changes| {
        println!(
            "{what}: {} nieuw / added, {} gewijzigd / changed, {} verwijderd / removed",
            c.added.len(),
            c.changed.len(),
            c.removed.len()
        );
    };
    println!(
        "{school} {}",
        if dry_run {
            "(proefimport, niets gewijzigd / dry run, nothing changed)"
        } else {
            "(toegepast / applied)"
        }
    );
    line("groepen / groups", &report.groups);
    line("leerlingen / pupils", &report.pupils);
    line("medewerkers / staff", &report.staff);
    println!(
        "groepslidmaatschappen / group memberships: {} nieuw / added, {} beëindigd / ended",
        report.memberships.added.len(),
        report.memberships.removed.len()
    );
}

/// Keys, certificates and JWKS documents are a few kilobytes; a megabyte is far above any.
const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// A whole file, refused when it is larger than `limit` before it is read: an operator who
/// names the wrong file (a disk image, a log) gets a clear message instead of a process that
/// fills its memory. `bound` names the setting or rule the limit comes from.
pub fn read_bounded(path: &std::path::Path, limit: u64, bound: &str) -> Result<Vec<u8>, AppError> {
    use std::io::Read;
    let cannot = || AppError::io(format!("cannot read {}", path.display()));
    // The size of the file that was opened, not of whatever the path names a moment later.
    let file = std::fs::File::open(path).map_err(cannot())?;
    let size = file.metadata().map_err(cannot())?.len();
    if size > limit {
        return Err(too_large(path, limit, bound));
    }
    // Pipes and devices report no size, and a file may grow while it is read: read one byte
    // past the limit at most, so that either is caught without reading on.
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot())?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, limit, bound));
    }
    Ok(bytes)
}

/// [`read_bounded`] as text.
fn read_bounded_text(path: &std::path::Path, limit: u64, bound: &str) -> Result<String, AppError> {
    String::from_utf8(read_bounded(path, limit, bound)?).map_err(|_| {
        AppError::Usage(format!(
            "{} is geen UTF-8-tekst / is not UTF-8 text",
            path.display()
        ))
    })
}

fn too_large(path: &std::path::Path, limit: u64, bound: &str) -> AppError {
    let mib = limit as f64 / f64::from(1u32 << 20);
    AppError::Usage(format!(
        "{path} is te groot: meer dan {mib} MiB ({bound}); niets gelezen of gewijzigd / {path} is too large: more than {mib} MiB ({bound}); nothing was read or changed",
        path = path.display()
    ))
}

/// The school's authorisation key from a file, or from standard input for "-".
fn read_las_key(path: &std::path::Path) -> Result<AuthorisationKey, AppError> {
    Ok(AuthorisationKey::new(read_small_input(
        path,
        "a key file",
    )?)?)
}

/// A small text (a key, a secret) from a file, or from standard input for "-", so that it
/// never has to stand on the command line.
fn read_small_input(path: &std::path::Path, bound: &str) -> Result<String, AppError> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin(), SMALL_FILE_LIMIT + 1),
            &mut text,
        )
        .map_err(AppError::io("cannot read standard input"))?;
        if text.len() as u64 > SMALL_FILE_LIMIT {
            return Err(too_large(path, SMALL_FILE_LIMIT, bound));
        }
        text
    } else {
        read_bounded_text(path, SMALL_FILE_LIMIT, bound)?
    };
    Ok(text)
}

async fn las(
    config: &Config,
    d: &Directory,
    command: LasCommand,
    actor: &Actor,
) -> Result<(), AppError> {
    match command {
        LasCommand::Add {
            school,
            vendor,
            endpoint,
            header,
            scheme,
            key_file,
        } => {
            let s = d.require_school(&school).await?;
            let scheme = (!scheme.eq_ignore_ascii_case("none")).then_some(scheme.as_str());
            let new = NewLasLink {
                vendor,
                endpoint,
                placement: KeyPlacement::new(&header, scheme)?,
                key: read_las_key(&key_file)?,
            };
            let a = Administered::operator(s, actor.clone());
            crate::school_admin::las::add(d, &app::resolve_kek(config)?, &a, &new).await?;
            println!(
                "LAS-koppeling toegevoegd voor {school}; hij staat uit tot de school hem aanzet (openpoort las switch --school {school} on) / LAS link added for {school}; it stays off until the school switches it on"
            );
        }
        LasCommand::SetKey { school, key_file } => {
            let a = Administered::by_operator(d, &school, actor.clone()).await?;
            let key = read_las_key(&key_file)?;
            crate::school_admin::las::set_key(d, &app::resolve_kek(config)?, &a, &key).await?;
            println!("nieuwe sleutel opgeslagen / new key stored");
        }
        LasCommand::Switch { school, state } => {
            let a = Administered::by_operator(d, &school, actor.clone()).await?;
            crate::school_admin::las::switch(d, &a, state == "on").await?;
            println!("LAS-koppeling van {school}: {state} / LAS link of {school}: {state}");
        }
        LasCommand::List => {
            println!(
                "{:<8} {:<13} {:<7} {:<9} {:<7} {:<20} {:<14} ENDPOINT",
                "SCHOOL", "LAS", "SCHOOL", "LAS-KEY", "ACTIVE", "LAST PULL", "STATUS"
            );
            for link in d.las_links().await? {
                let code = d
                    .school_by_id(&link.school_id)
                    .await?
                    .map_or(link.school_id.clone(), |s| s.code());
                let yes_no = |b: bool| if b { "on" } else { "off" };
                println!(
                    "{:<8} {:<13} {:<7} {:<9} {:<7} {:<20} {:<14} {}",
                    code,
                    link.vendor.as_str(),
                    yes_no(link.enabled_by_school),
                    match link.accepted_by_las {
                        Some(true) => "accepted",
                        Some(false) => "refused",
                        None => "unknown",
                    },
                    if link.is_active() { "yes" } else { "no" },
                    link.last_attempt_at
                        .map_or("-".to_owned(), netherlands_clock),
                    link.last_status.map_or("-", |s| s.as_str()),
                    link.endpoint
                );
            }
        }
        LasCommand::Pull { school, dry_run } => {
            let s = d.require_school(&school).await?;
            let puller = crate::las::Puller::new(
                config,
                d.clone(),
                app::mailer(config)?,
                app::resolve_kek(config)?,
            )
            .map_err(|e| AppError::Usage(e.to_string()))?;
            let result = puller.pull(&s.id, dry_run, actor).await?;
            match (&result.report, &result.message) {
                (Some(report), _) => print_import(&school.to_string(), dry_run, report),
                (None, message) => {
                    return Err(AppError::Usage(format!(
                        "{school}: {}",
                        message.as_deref().unwrap_or(result.status.as_str())
                    )));
                }
            }
        }
    }
    Ok(())
}

async fn service_providers(
    config: &Config,
    d: &Directory,
    command: SpCommand,
    actor: &Actor,
) -> Result<(), AppError> {
    use crate::service_providers as registry;
    let http = crate::app::http_client(config)?;
    let development = config.is_development();
    match command {
        SpCommand::Add(add) => {
            let party = d.require_party(&add.party).await?;
            let xml = match &add.metadata {
                Some(path) => Some(read_bounded(
                    path,
                    config.import.max_bytes() as u64,
                    "import.max_mib",
                )?),
                None => None,
            };
            let metadata_signing_certificate = match &add.metadata_cert {
                Some(path) => Some(read_bounded_text(path, SMALL_FILE_LIMIT, "a certificate")?),
                None => None,
            };
            let settings = metadata::saml::sp::SpSettings {
                party_id: party.id,
                name: add.name,
                signing: registry::signing_choice(add.signing.as_deref(), add.sign_response)?,
                attribute_names: registry::attribute_names_choice(add.attribute_names.as_deref())?,
                encrypt_assertions: add.encrypt,
                sector_identifier: add.sector,
                metadata_url: add.url,
                metadata_signing_certificate,
            };
            let sp = registry::register(d, &http, xml, &settings, development, actor).await?;
            println!(
                "SAML-dienst geregistreerd / service provider registered: {} ({} ACS, {} signing certificate(s), requests signed: {}, signed: {}, attribute names: {})",
                sp.entity_id,
                sp.acs.len(),
                sp.signing_certificates.len(),
                sp.authn_requests_signed,
                sp.signing().name(),
                sp.attribute_names.name()
            );
        }
        SpCommand::Refresh { entity_id } => {
            let all = d.saml_sps().await?;
            let chosen: Vec<_> = match &entity_id {
                Some(id) => {
                    let one: Vec<_> = all.into_iter().filter(|s| &s.entity_id == id).collect();
                    if one.is_empty() {
                        return Err(directory::DirectoryError::NotFound {
                            what: "SAML-dienst",
                            key: id.clone(),
                        }
                        .into());
                    }
                    one
                }
                None => all
                    .into_iter()
                    .filter(|s| s.metadata_url.is_some())
                    .collect(),
            };
            for sp in chosen {
                registry::refresh(d, &http, &sp, development, actor).await?;
                println!("vernieuwd / refreshed: {}", sp.entity_id);
            }
        }
        SpCommand::List { party } => {
            let sps = match &party {
                Some(code) => {
                    d.saml_sps_of_party(&d.require_party(code).await?.id)
                        .await?
                }
                None => d.saml_sps().await?,
            };
            for sp in sps {
                println!(
                    "{}  party={}  url={}  refreshed_at={}{}",
                    sp.entity_id,
                    sp.party_id,
                    sp.metadata_url.as_deref().unwrap_or("-"),
                    netherlands_clock(sp.refreshed_at),
                    sp.refresh_error
                        .map(|e| format!("  LAST REFRESH FAILED: {e}"))
                        .unwrap_or_default()
                );
            }
        }
        SpCommand::Remove { entity_id } => {
            registry::remove(d, &entity_id, actor).await?;
            println!("verwijderd / removed: {entity_id}");
        }
    }
    Ok(())
}

async fn add_client(
    config: &Config,
    d: &Directory,
    add: ClientAdd,
    actor: &Actor,
) -> Result<(), AppError> {
    use metadata::client::{ClientRegistration, GrantType, TokenAuthMethod};
    let party = d.require_party(&add.party).await?;
    let grant = |g: &str| match g {
        "authorization_code" => Ok(GrantType::AuthorizationCode),
        "refresh_token" => Ok(GrantType::RefreshToken),
        "client_credentials" => Ok(GrantType::ClientCredentials),
        other => Err(AppError::Usage(format!(
            "onbekend grant type {other:?} / unknown grant type; kies / choose authorization_code, refresh_token, client_credentials"
        ))),
    };
    let auth = match add.auth.as_str() {
        "client_secret_basic" => TokenAuthMethod::ClientSecretBasic,
        "client_secret_post" => TokenAuthMethod::ClientSecretPost,
        "private_key_jwt" => TokenAuthMethod::PrivateKeyJwt,
        "none" => TokenAuthMethod::None,
        other => {
            return Err(AppError::Usage(format!(
                "onbekende --auth {other:?} / unknown --auth; kies / choose client_secret_basic, client_secret_post, private_key_jwt, none"
            )));
        }
    };
    let jwks = match &add.jwks_file {
        Some(path) => {
            let text = read_bounded_text(path, SMALL_FILE_LIMIT, "a JWKS document")?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| AppError::Usage(format!("{} is not JSON: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let registration = ClientRegistration {
        client_id: add.client_id.clone(),
        party_id: party.id.clone(),
        name: add.name,
        redirect_uris: add.redirect_uris,
        post_logout_redirect_uris: add.post_logout_redirect_uris,
        grant_types: add
            .grants
            .iter()
            .map(|g| grant(g))
            .collect::<Result<_, _>>()?,
        scopes: add.scopes,
        token_endpoint_auth_method: auth,
        jwks,
        jwks_uri: add.jwks_uri,
        id_token_signed_response_alg: add.alg,
        sector_identifier: add.sector,
        backchannel_logout_uri: add.backchannel_logout_uri,
        initiate_login_uri: add.initiate_login_uri,
    };
    let secret = crate::clients::Registrar::on_server(actor)
        .register(d, &registration, config.is_development())
        .await?;
    println!("client {} geregistreerd / registered", add.client_id);
    if let Some(s) = secret {
        println!(
            "client_secret (wordt niet bewaard; alleen nu zichtbaar / not stored, shown once):"
        );
        println!("{s}");
    }
    Ok(())
}

/// Mails an activation link; in development mode the link is printed too.
async fn invite(
    config: &Config,
    d: &Directory,
    staff: &Staff,
    actor: &Actor,
) -> Result<(), AppError> {
    let mailer = app::mailer(config)?;
    let link = send_link(
        d,
        &mailer,
        &config.server.public_url,
        staff,
        TokenPurpose::Activation,
        actor,
    )
    .await?;
    let to = staff.email.as_deref().unwrap_or_default();
    println!("activatielink gemaild naar / activation link mailed to {to}");
    if config.is_development() {
        println!("{link}");
    }
    Ok(())
}

async fn add_licence(d: &Directory, add: LicenceAdd, actor: &Actor) -> Result<(), AppError> {
    let school = d.require_school(&add.school).await?;
    let party = d.require_party(&add.party).await?;
    let product = d
        .product_by_code(&party.id, &add.product)
        .await?
        .ok_or_else(|| DirectoryError::NotFound {
            what: "product",
            key: add.product.clone(),
        })?;
    let mut members = Vec::new();
    if !add.groups.is_empty() {
        let groups = d.groups_of_school(&school.id).await?;
        for key in &add.groups {
            members.push(LicenceMember::Group(by_las_key(&groups, key)?.id.clone()));
        }
    }
    if !add.pupils.is_empty() {
        let pupils = d.pupils_of_school(&school.id).await?;
        for key in &add.pupils {
            members.push(LicenceMember::Pupil(by_las_key(&pupils, key)?.id.clone()));
        }
    }
    for email in &add.staff {
        let s = require_staff(d, &Email::parse(email)?).await?;
        members.push(LicenceMember::Staff(s.id));
    }
    let scope = if members.is_empty() {
        LicenceScope::School
    } else {
        LicenceScope::Members(members)
    };
    let licence = d
        .create_licence(
            &NewLicence {
                school_id: school.id.clone(),
                product_id: product.id,
                scope,
                valid_from: add.from,
                valid_until: add.until,
            },
            actor,
        )
        .await?;
    println!(
        "licentie {} voor {} op {} toegevoegd / licence added",
        licence.id,
        school.code(),
        add.product
    );
    Ok(())
}

async fn notice(d: &Directory, command: NoticeCommand, actor: &Actor) -> Result<(), AppError> {
    let op = Operating::trusted(actor.clone());
    match command {
        NoticeCommand::Set {
            text,
            text_en,
            until,
        } => {
            crate::operator_admin::notice::set(d, &op, &text, &text_en, &until).await?;
            println!("storingsmelding ingesteld / outage notice set");
        }
        NoticeCommand::Clear => {
            crate::operator_admin::notice::clear(d, &op).await?;
            println!("storingsmelding verwijderd / outage notice cleared");
        }
        NoticeCommand::Show => match crate::operator_admin::notice::current(d, &op).await? {
            None => println!("geen storingsmelding / no outage notice"),
            Some(n) => {
                let until =
                    n.until
                        .map_or("(tot ze verwijderd wordt / until cleared)".into(), |u| {
                            format!(
                                "tot / until {} (Nederlandse tijd / Dutch time)",
                                netherlands_clock(u)
                            )
                        });
                println!("{}\n{}\n{until}", n.nl, n.en);
            }
        },
    }
    Ok(())
}

async fn operators(d: &Directory, command: OperatorCommand, actor: &Actor) -> Result<(), AppError> {
    match command {
        OperatorCommand::Grant { email } => {
            let staff = require_staff(d, &email).await?;
            if d.grant_operator(&staff.id, actor).await? {
                println!("{email} is nu beheerder van openpoort / is now an operator");
            } else {
                println!("{email} was al beheerder van openpoort / was an operator already");
            }
        }
        OperatorCommand::Revoke { email } => {
            let staff = require_staff(d, &email).await?;
            d.revoke_operator(&staff.id, actor).await?;
            println!("{email} is geen beheerder van openpoort meer / is no longer an operator");
        }
        OperatorCommand::List => {
            for o in d.operators().await? {
                println!(
                    "{}  {}  sinds / since {}  door / by {}",
                    o.staff.email.as_deref().unwrap_or("-"),
                    staff_rules::status_label(o.staff.status).0,
                    netherlands_clock(o.granted_at),
                    o.granted_by
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{SMALL_FILE_LIMIT, read_bounded};

    #[test]
    fn an_oversized_file_is_refused_by_its_size_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.xml");
        // Sparse: 64 GiB on paper, nothing on disk. Reading it whole would never end well.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(64 << 30)
            .unwrap();
        let start = std::time::Instant::now();
        let message = read_bounded(&path, 1 << 20, "import.max_mib")
            .unwrap_err()
            .to_string();
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            message.contains("te groot") && message.contains("import.max_mib"),
            "{message}"
        );
    }

    #[test]
    fn a_source_without_a_size_is_read_no_further_than_the_limit() {
        // A device reports length 0 and never ends.
        let message = read_bounded(std::path::Path::new("/dev/zero"), SMALL_FILE_LIMIT, "a key")
            .unwrap_err()
            .to_string();
        assert!(message.contains("too large"), "{message}");
    }

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, vec![b'k'; 1 << 20]).unwrap();
        assert_eq!(
            read_bounded(&path, 1 << 20, "a key").unwrap().len(),
            1 << 20
        );
    }
}
