//! Privacy: what the school shared and on what terms. The release audit (who received which
//! attributes about whom, when), read page by page or as one CSV file, and the board's
//! processing agreement (verwerkersovereenkomst): who accepted which version, when.

use axum::body::Bytes;
use broker::Attribute;
use directory::Directory;
use directory::model::{Date, days_from_civil, netherlands_clock, netherlands_offset};
use directory::parties::Party;
use directory::people::Group;
use directory::privacy::{Acceptance, ReleaseFilter, ReleaseRecord};
use futures_util::Stream;
use serde::Deserialize;

use super::{AdminError, Administered, actor_name, by_name_naturally};

/// Releases on one page of the list.
pub const PAGE_SIZE: i64 = 50;
/// Releases read at a time for the CSV file: what the file costs in memory, however long.
const CSV_BATCH: i64 = 500;

/// The filter as people give it: a party's code, a group's key, Dutch calendar days (both
/// included). Empty text counts as not given. The admin API reads it from the query string
/// under these names.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub party: Option<String>,
    pub group: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Days since 1970-01-01 of a checked date.
fn days_of(date: &Date) -> i64 {
    let s = date.as_str();
    // `Date::parse` checked the shape, so the parts are digits.
    days_from_civil(
        s[0..4].parse().unwrap_or(1970),
        s[5..7].parse().unwrap_or(1),
        s[8..10].parse().unwrap_or(1),
    )
}

/// Unix seconds at which the Dutch calendar day `days` (since 1970-01-01) begins.
fn day_start(days: i64) -> i64 {
    // The clocks change at 02:00 or 03:00 local time, so the offset two hours before midnight
    // UTC is the one in force at local midnight.
    days * 86_400 - netherlands_offset(days * 86_400 - 7_200)
}

/// The filter checked and in the register's terms: a party by code (unknown: refused), dates
/// as a half-open range of unix seconds.
pub async fn resolve(d: &Directory, filter: &Filter) -> Result<ReleaseFilter, AdminError> {
    let party_id = match given(&filter.party) {
        None => None,
        Some(code) => Some(
            d.party_by_code(code)
                .await?
                .ok_or_else(|| AdminError::NotFound {
                    what: "partij",
                    key: code.to_owned(),
                })?
                .id,
        ),
    };
    let from = given(&filter.from)
        .map(|v| Date::parse("vanaf / from", v))
        .transpose()?;
    let until = given(&filter.until)
        .map(|v| Date::parse("tot en met / until", v))
        .transpose()?;
    if let (Some(f), Some(u)) = (&from, &until)
        && f > u
    {
        return Err(AdminError::refused(
            "de begindatum ligt na de einddatum; kies een begindatum die eerder is",
            "the start date lies after the end date; choose an earlier start date",
        ));
    }
    Ok(ReleaseFilter {
        party_id,
        group_key: given(&filter.group).map(str::to_owned),
        from: from.as_ref().map(|f| day_start(days_of(f))),
        // Until the start of the next day: the last day counts whole.
        until: until.as_ref().map(|u| day_start(days_of(u) + 1)),
    })
}

/// One page of the school's releases, newest first, and where the next page starts.
pub struct ReleasePage {
    pub rows: Vec<ReleaseRecord>,
    pub next: Option<i64>,
    /// When the filter's range (its group left out) holds releases from before the register
    /// recorded groups, the moment it began to: the group filter cannot find those.
    pub groups_recorded_since: Option<i64>,
}

pub async fn releases(
    d: &Directory,
    a: &Administered,
    filter: &Filter,
    before: Option<i64>,
) -> Result<ReleasePage, AdminError> {
    let f = resolve(d, filter).await?;
    // One more than a page tells whether there is a next one.
    let mut rows = d
        .releases_of_school(&a.school.id, &f, before, PAGE_SIZE + 1)
        .await?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let groups_recorded_since = d.releases_without_groups_since(&a.school.id, &f).await?;
    Ok(ReleasePage {
        rows,
        next,
        groups_recorded_since,
    })
}

/// Up to `limit` of the school's releases under the filter, newest first, read a page at a
/// time (the command line's list).
pub async fn newest_releases(
    d: &Directory,
    a: &Administered,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<ReleaseRecord>, AdminError> {
    let mut out = Vec::new();
    let mut before = None;
    while out.len() < limit {
        let page = releases(d, a, filter, before).await?;
        out.extend(page.rows);
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// How a release names its person, Dutch and English: the name at the release, or today's
/// name marked as such for a release from before names were recorded.
pub fn person(r: &ReleaseRecord) -> (String, String) {
    match (&r.subject_name, r.name_recorded) {
        (Some(name), true) => (name.clone(), name.clone()),
        (Some(name), false) => (
            format!("{name} (huidige naam; de naam bij de verstrekking is niet vastgelegd)"),
            format!("{name} (current name; the name at the release was not recorded)"),
        ),
        (None, _) => (
            "(niet meer in het register)".into(),
            "(no longer registered)".into(),
        ),
    }
}

/// What the filter offers: every party (by name) and the school's groups (as people read them).
pub async fn choices(
    d: &Directory,
    a: &Administered,
) -> Result<(Vec<Party>, Vec<Group>), AdminError> {
    let mut parties = d.list_parties().await?;
    parties.sort_by_cached_key(|p| p.name.to_lowercase());
    let mut groups = d.groups_of_school(&a.school.id).await?;
    groups.sort_by(|x, y| by_name_naturally(&x.name, &y.name));
    Ok((parties, groups))
}

/// An attribute's catalogue name in the words of the Uitgeverijen page, or the name itself
/// for one the catalogue no longer knows.
pub fn attribute_label(name: &str) -> (String, String) {
    match Attribute::parse(name) {
        Ok(a) => {
            let (nl, en) = super::parties::label(a);
            (nl.to_owned(), en.to_owned())
        }
        Err(_) => (name.to_owned(), name.to_owned()),
    }
}

/// How the user signed in, in words.
pub fn context_label(context: &str) -> &'static str {
    match context {
        "school_network" => "op school / at school",
        "home_code" => "thuis met thuiscode / at home with a home code",
        "password" => "met wachtwoord / with a password",
        "network" => "via de netwerkaanbieder / through the network provider",
        _ => "onbekend / unknown",
    }
}

/// One CSV cell: quoted when it holds the separator, a quote or a line break, and defused when a
/// spreadsheet would read it as a formula (it starts with = + - @, a tab or a carriage return):
/// then a leading `'` makes it text, as OWASP advises against CSV injection.
pub fn csv_cell(value: &str) -> String {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if formula || value.contains([';', '"', '\n', '\r', ',']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub const CSV_HEADER: &str = "tijdstip;partij;partijcode;persoon;soort;groepen;gegevens;hoe\r\n";

/// One release as a CSV line; `party_code` and `group_name` resolve ids and keys to what
/// the school recognises.
pub fn csv_line(r: &ReleaseRecord, party_code: &str, group_names: &[String]) -> String {
    let cells = [
        netherlands_clock(r.at),
        r.party_name.clone().unwrap_or_default(),
        party_code.to_owned(),
        match (&r.subject_name, r.name_recorded) {
            (Some(name), true) => name.clone(),
            (Some(name), false) => format!("{name} (huidige naam)"),
            (None, _) => String::new(),
        },
        match r.subject_kind.as_str() {
            "pupil" => "leerling".to_owned(),
            "staff" => "medewerker".to_owned(),
            other => other.to_owned(),
        },
        group_names.join(", "),
        r.attributes.join(" "),
        r.context.clone(),
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(";");
    line.push_str("\r\n");
    line
}

/// Names for the groups of a release: the school's name where the key is still known.
pub fn group_names(groups: &[Group], keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            groups
                .iter()
                .find(|g| &g.las_key == k)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| k.clone())
        })
        .collect()
}

/// The school's releases under the filter as CSV, read `CSV_BATCH` at a time: a school's year
/// of releases never sits in memory at once. The filter is checked before the first byte, so
/// a bad filter is refused as a whole rather than ending a half-sent file.
pub async fn csv(
    d: &Directory,
    a: &Administered,
    filter: &Filter,
) -> Result<impl Stream<Item = Result<Bytes, AdminError>> + Send + 'static, AdminError> {
    let f = resolve(d, filter).await?;
    let (parties, groups) = choices(d, a).await?;
    struct Cursor {
        d: Directory,
        school_id: String,
        filter: ReleaseFilter,
        parties: Vec<Party>,
        groups: Vec<Group>,
        before: Option<i64>,
        header: bool,
        done: bool,
    }
    let start = Cursor {
        d: d.clone(),
        school_id: a.school.id.clone(),
        filter: f,
        parties,
        groups,
        before: None,
        header: true,
        done: false,
    };
    Ok(futures_util::stream::unfold(start, |mut c| async move {
        if c.done {
            return None;
        }
        if c.header {
            c.header = false;
            return Some((Ok(Bytes::from_static(CSV_HEADER.as_bytes())), c));
        }
        let rows = match c
            .d
            .releases_of_school(&c.school_id, &c.filter, c.before, CSV_BATCH)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                c.done = true;
                return Some((Err(AdminError::from(e)), c));
            }
        };
        if rows.is_empty() {
            return None;
        }
        c.done = (rows.len() as i64) < CSV_BATCH;
        c.before = rows.last().map(|r| r.seq);
        let mut out = String::new();
        for r in &rows {
            let code = c
                .parties
                .iter()
                .find(|p| p.id == r.party_id)
                .map(|p| p.code.as_str())
                .unwrap_or_default();
            out.push_str(&csv_line(r, code, &group_names(&c.groups, &r.group_keys)));
        }
        Some((Ok(Bytes::from(out)), c))
    }))
}

/// One acceptance with the school it was given from, for people to read.
pub struct AcceptanceRow {
    pub acceptance: Acceptance,
    pub school: Option<String>,
}

/// The board's processing agreement as a school sees it: the version in force (if the operator
/// set one), whether the board accepted it, and every acceptance, newest first.
pub struct AgreementState {
    pub board_name: String,
    pub current: Option<String>,
    pub current_accepted: bool,
    pub history: Vec<AcceptanceRow>,
}

pub async fn agreement(
    d: &Directory,
    a: &Administered,
    current: Option<&str>,
) -> Result<AgreementState, AdminError> {
    let history = d.agreement_acceptances(&a.school.board_id).await?;
    let schools = d.list_schools().await?;
    let board_name = d
        .list_boards()
        .await?
        .into_iter()
        .find(|b| b.id == a.school.board_id)
        .map(|b| format!("{} ({})", b.name, b.bestuursnummer))
        .unwrap_or_default();
    Ok(AgreementState {
        board_name,
        current: current.map(str::to_owned),
        current_accepted: current.is_some_and(|v| history.iter().any(|h| h.version == v)),
        history: history
            .into_iter()
            .map(|acceptance| AcceptanceRow {
                school: acceptance.school_id.as_ref().and_then(|id| {
                    schools
                        .iter()
                        .find(|s| &s.id == id)
                        .map(|s| format!("{} ({})", s.name, s.code()))
                }),
                acceptance,
            })
            .collect(),
    })
}

/// Accepts `version` for the school's board. Only the version in force can be accepted (the
/// page posts the version it showed, so a version changed in between is not accepted unseen),
/// and only once per board: the record of who accepted it stays as it is.
pub async fn accept(
    d: &Directory,
    a: &Administered,
    current: Option<&str>,
    version: &str,
) -> Result<Acceptance, AdminError> {
    let Some(current) = current else {
        return Err(AdminError::refused(
            "er is geen verwerkersovereenkomst om te accepteren: de beheerder van openpoort heeft nog geen versie ingesteld",
            "there is no processing agreement to accept: openpoort's operator has not set a version yet",
        ));
    };
    if version.trim() != current {
        return Err(AdminError::refused(
            format!(
                "versie {version:?} is niet de geldende versie ({current}); lees de geldende versie en accepteer die"
            ),
            format!(
                "version {version:?} is not the version in force ({current}); read the version in force and accept that one"
            ),
        ));
    }
    let name = actor_name(d, &a.actor.0).await?;
    Ok(d.accept_agreement(
        &a.school.board_id,
        current,
        Some(&a.school.id),
        &a.actor,
        &name,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_read_as_a_formula_becomes_text() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+31"), "\"'+31\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("Jansen"), "Jansen");
    }

    #[test]
    fn a_cell_with_a_separator_quote_or_line_break_is_quoted() {
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("zeg \"hoi\""), "\"zeg \"\"hoi\"\"\"");
        assert_eq!(csv_cell("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn a_dutch_day_starts_at_local_midnight_in_winter_and_summer() {
        // 2026-01-15 00:00 CET = 2026-01-14 23:00 UTC; 2026-07-15 00:00 CEST = 22:00 UTC.
        assert_eq!(
            day_start(days_of(&Date::parse("d", "2026-01-15").unwrap())),
            1_768_431_600
        );
        assert_eq!(
            day_start(days_of(&Date::parse("d", "2026-07-15").unwrap())),
            1_784_066_400
        );
        assert_eq!(netherlands_clock(1_784_066_400), "2026-07-15 00:00");
    }
}
