//! Operator commands for the school register's own changes: DUO's list, merges and splits. Each
//! prints what it did (or, in a dry run, would do) in Dutch and English.

use directory::duo_import::ClosureReason;
use directory::model::{LasKey, SchoolCode};
use directory::{Actor, Directory};

use crate::app::AppError;

fn heading(dry_run: bool) -> &'static str {
    if dry_run {
        "(proef, niets gewijzigd / dry run, nothing changed)"
    } else {
        "(toegepast / applied)"
    }
}

fn keys(list: &[String]) -> String {
    if list.is_empty() {
        "-".into()
    } else {
        list.join(", ")
    }
}

/// The groups and pupils a merge or a split moves, counted and by their LAS keys.
fn print_moving(groups: &[String], pupils: &[String]) {
    println!("  groepen / groups ({}): {}", groups.len(), keys(groups));
    println!("  leerlingen / pupils ({}): {}", pupils.len(), keys(pupils));
}

pub async fn import_duo(
    config: &crate::config::Config,
    d: &Directory,
    file: &std::path::Path,
    dry_run: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let bytes = super::read_bounded(file, config.import.max_bytes() as u64, "import.max_mib")?;
    let list = directory::duo::parse(&bytes)
        .map_err(|problems| AppError::Usage(format!("{}: {problems}", file.display())))?;
    let r = d.import_duo(&list, dry_run, actor).await?;
    println!(
        "DUO-lijst / DUO list: {} vestigingen / locations {}",
        list.locations.len(),
        heading(dry_run)
    );
    for b in &r.boards_added {
        let note = if b.placeholder_name {
            " (naam volgt / name to follow: de lijst noemt geen bestuursnamen / the list names no boards)"
        } else {
            ""
        };
        println!(
            "  nieuw bestuur / new board {} {}{note}",
            b.bestuursnummer, b.name
        );
    }
    for b in &r.boards_renamed {
        println!("  bestuur / board {}: {:?} -> {:?}", b.key, b.from, b.to);
    }
    for s in &r.schools_added {
        println!(
            "  nieuwe school / new school {} {} (bestuur / board {})",
            s.code, s.name, s.bestuursnummer
        );
    }
    for s in &r.schools_renamed {
        println!("  hernoemd / renamed {}: {:?} -> {:?}", s.key, s.from, s.to);
    }
    for s in &r.schools_board_changed {
        println!(
            "  ander bestuur / other board {}: {} -> {}",
            s.code, s.from_bestuursnummer, s.to_bestuursnummer
        );
    }
    for c in &r.closures {
        let why = match &c.reason {
            ClosureReason::NotInList => {
                "staat niet meer in de lijst / no longer in the list".to_string()
            }
            ClosureReason::EndDate(date) => format!("einddatum / end date {date}"),
            ClosureReason::Status(status) => format!("status {status:?}"),
        };
        println!("  sluiting / closure {} {}: {why}", c.code, c.name);
    }
    if !r.closed_not_created.is_empty() {
        println!(
            "  al gesloten, niet aangemaakt / already closed, not created: {}",
            keys(&r.closed_not_created)
        );
    }
    println!(
        "besturen / boards: {} nieuw / added, {} hernoemd / renamed; scholen / schools: {} nieuw / added, {} hernoemd / renamed, {} ander bestuur / other board, {} ongewijzigd / unchanged; {} sluitingen gemeld (niets verwijderd) / closures reported (nothing removed)",
        r.boards_added.len(),
        r.boards_renamed.len(),
        r.schools_added.len(),
        r.schools_renamed.len(),
        r.schools_board_changed.len(),
        r.unchanged,
        r.closures.len()
    );
    Ok(())
}

pub async fn merge(
    d: &Directory,
    from: &SchoolCode,
    into: &SchoolCode,
    dry_run: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let r = d.merge_schools(from, into, dry_run, actor).await?;
    println!(
        "samenvoegen / merge {} -> {} {}",
        r.from,
        r.into,
        heading(dry_run)
    );
    print_moving(&r.groups, &r.pupils);
    println!(
        "  medewerkers / staff: {} verhuisd / moved, {} werkten al op / already worked at {}",
        r.staff_moved, r.staff_already_at_target, r.into
    );
    println!(
        "  IP-bereiken / IP ranges: {} verhuisd / moved, {} had {} al / already there",
        keys(&r.ip_ranges_moved),
        keys(&r.ip_ranges_already_at_target),
        r.into
    );
    println!(
        "  licenties / licences: {} verhuisd / moved, {} beperkt tot de groepen en leerlingen van {} / narrowed to {}'s groups and pupils",
        keys(&r.licences_moved),
        keys(&r.licences_narrowed),
        r.from,
        r.from
    );
    for c in &r.consents_ended {
        if c.target_consents {
            println!(
                "  toestemming / consent {}: beëindigd bij / ended at {}; {} had die al / already has it",
                c.party, r.from, r.into
            );
        } else {
            println!(
                "  LET OP / NOTE: toestemming voor {} beëindigd bij {}; {} heeft die niet: de ICT-coördinator van {} beslist (consent grant) / consent to {} ended at {}; {} has none: {}'s ICT-coördinator decides (consent grant)",
                c.party, r.from, r.into, r.into, c.party, r.from, r.into, r.into
            );
        }
    }
    if !r.administrators_not_moved.is_empty() {
        println!(
            "  LET OP / NOTE: ICT-coördinatoren van {} beheren {} niet vanzelf (staff grant-role) / {}'s ICT coordinators do not administer {} automatically: {}",
            r.from,
            r.into,
            r.from,
            r.into,
            keys(&r.administrators_not_moved)
        );
    }
    Ok(())
}

pub async fn split(
    d: &Directory,
    from: &SchoolCode,
    to: &SchoolCode,
    name: Option<&str>,
    groups: &[LasKey],
    dry_run: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let r = d
        .split_school(from, to, name, groups, dry_run, actor)
        .await?;
    let created = if r.created_target {
        " (nieuwe vestiging / new location)"
    } else {
        ""
    };
    println!(
        "splitsen / split {} -> {}{created} {}",
        r.from,
        r.to,
        heading(dry_run)
    );
    print_moving(&r.groups, &r.pupils);
    if !r.pupils_without_group.is_empty() {
        println!(
            "  LET OP / NOTE: leerlingen zonder groep blijven op {} / pupils in no group stay at {}: {}",
            r.from,
            r.from,
            keys(&r.pupils_without_group)
        );
    }
    println!(
        "  leerkrachten ook op / teachers also at {}: {}",
        r.to,
        keys(&r.staff_added)
    );
    println!(
        "  licenties / licences: {} verhuisd / moved, {} nieuw voor / new for {}",
        keys(&r.licences_moved),
        keys(&r.licences_created),
        r.to
    );
    println!(
        "  toestemmingen overgenomen / consents carried over: {}",
        keys(&r.consents_copied)
    );
    if r.target_ip_ranges == 0 {
        println!(
            "  LET OP / NOTE: {} heeft geen IP-bereiken; leerlingen kunnen pas op school inloggen na ip-range add / {} has no IP ranges; pupils can sign in at school after ip-range add",
            r.to, r.to
        );
    }
    Ok(())
}
