//! Lesmateriaal: the school's licences, the portal as each group sees it, and the shortcuts for
//! the school's devices (a zip of `.url`, `.webloc` and `.desktop` files, and the links written
//! out for iPad, Chromebook and device management).

use std::io::Write;

use directory::model::Date;
use directory::parties::{LicenceMember, LicenceScope};
use directory::people::Group;

use super::{AdminError, Administered};
use crate::app_state::AppState;

/// One licence as the school reads it.
pub struct LicenceRow {
    pub product: String,
    pub party: String,
    /// "hele school" or the groups and how many people it names.
    pub scope: (String, String),
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub in_force: bool,
}

pub async fn licences(
    state: &AppState,
    a: &Administered,
    now: i64,
) -> Result<Vec<LicenceRow>, AdminError> {
    let d = &state.directory;
    let today = Date::in_netherlands(now);
    let groups = d.groups_of_school(&a.school.id).await?;
    let mut rows = Vec::new();
    for l in d.licences_of_school(&a.school.id).await? {
        let Some(product) = d.product_by_id(&l.product_id).await? else {
            continue;
        };
        let party = d
            .party_by_id(&product.party_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        rows.push(LicenceRow {
            product: product_name(&product.methode, &product.name),
            party,
            scope: scope_text(&l.scope, &groups),
            in_force: l.valid_on(&today),
            valid_from: l.valid_from,
            valid_until: l.valid_until,
        });
    }
    rows.sort_by(|x, y| x.product.cmp(&y.product));
    Ok(rows)
}

fn product_name(methode: &str, name: &str) -> String {
    if methode.is_empty() || name.starts_with(methode) {
        name.to_owned()
    } else {
        format!("{methode} – {name}")
    }
}

fn scope_text(scope: &LicenceScope, groups: &[Group]) -> (String, String) {
    let LicenceScope::Members(members) = scope else {
        return ("hele school".into(), "whole school".into());
    };
    let mut names = Vec::new();
    let mut people = 0;
    for m in members {
        match m {
            LicenceMember::Group(id) => names.push(
                groups
                    .iter()
                    .find(|g| g.id == *id)
                    .map_or_else(|| id.clone(), |g| g.name.clone()),
            ),
            LicenceMember::Pupil(_) | LicenceMember::Staff(_) => people += 1,
        }
    }
    let (mut nl, mut en) = (names.join(", "), names.join(", "));
    if people > 0 {
        let sep = if nl.is_empty() { "" } else { "; " };
        nl = format!("{nl}{sep}{people} perso(o)n(en)");
        en = format!("{en}{sep}{people} person(s)");
    }
    (nl, en)
}

/// The products every pupil of each group sees at school, groups in their natural order.
pub async fn group_portals(
    state: &AppState,
    a: &Administered,
    now: i64,
) -> Result<Vec<(Group, Vec<String>)>, AdminError> {
    let mut groups = state.directory.groups_of_school(&a.school.id).await?;
    groups.sort_by(|x, y| super::by_name_naturally(&x.name, &y.name));
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let tiles = state.broker.group_portal(&a.school.id, &g.id, now).await?;
        let names = tiles
            .into_iter()
            .map(|t| product_name(&t.product.methode, &t.product.name))
            .collect();
        out.push((g, names));
    }
    Ok(out)
}

/// A link to put on the school's devices.
pub struct Shortcut {
    pub name: String,
    pub url: String,
    pub note: (&'static str, &'static str),
}

/// The pupils' shortcut, the staff login, and one per licensed product of a party the school
/// consents to (through the pupils' shortcut, so a pupil lands in the product signed in).
pub async fn shortcuts(state: &AppState, a: &Administered) -> Result<Vec<Shortcut>, AdminError> {
    let d = &state.directory;
    let base = state.web.public_url.trim_end_matches('/');
    let pupils = format!(
        "{base}/login/leerlingen/snelkoppelaar?INSTELLING_REF={}",
        a.school.instelling_ref
    );
    let mut out = vec![
        Shortcut {
            name: format!("Leerlingen {}", a.school.name),
            url: pupils.clone(),
            note: (
                "Op de computers van de leerlingen; werkt alleen vanaf de IP-adressen van de school.",
                "On the pupils' computers; works only from the school's IP addresses.",
            ),
        },
        Shortcut {
            name: "Inloggen leerkrachten".into(),
            url: format!("{base}/inloggen"),
            note: (
                "Voor leerkrachten en medewerkers, waar dan ook.",
                "For teachers and staff, anywhere.",
            ),
        },
    ];
    let mut seen = std::collections::BTreeSet::new();
    let mut products = Vec::new();
    for l in d.licences_of_school(&a.school.id).await? {
        if !seen.insert(l.product_id.clone()) {
            continue;
        }
        let Some(p) = d.product_by_id(&l.product_id).await? else {
            continue;
        };
        if d.open_consent(&a.school.id, &p.party_id).await?.is_none() {
            continue;
        }
        let target: String =
            url::form_urlencoded::byte_serialize(p.launch_url.as_bytes()).collect();
        products.push(Shortcut {
            name: product_name(&p.methode, &p.name),
            url: format!("{pupils}&TARGET={target}"),
            note: (
                "Leerlingen loggen in en komen meteen in dit lesmateriaal.",
                "Pupils sign in and go straight to this material.",
            ),
        });
    }
    products.sort_by(|x, y| x.name.cmp(&y.name));
    out.extend(products);
    Ok(out)
}

/// A file name from a shortcut's name: no path separators, no characters Windows refuses.
fn file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '-'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_matches('.');
    if trimmed.is_empty() {
        "snelkoppeling".into()
    } else {
        trimmed.chars().take(100).collect()
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The shortcuts as a zip: `Windows/*.url`, `macOS/*.webloc`, `Linux/*.desktop`.
pub fn zip(shortcuts: &[Shortcut]) -> Result<Vec<u8>, AdminError> {
    let failed = |e: &dyn std::fmt::Display| AdminError::internal(format!("shortcuts zip: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for s in shortcuts {
        let name = file_name(&s.name);
        let files = [
            (
                format!("Windows/{name}.url"),
                format!("[InternetShortcut]\r\nURL={}\r\n", s.url),
            ),
            (
                format!("macOS/{name}.webloc"),
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>URL</key>\n\t<string>{}</string>\n</dict>\n</plist>\n",
                    xml_escape(&s.url)
                ),
            ),
            (
                format!("Linux/{name}.desktop"),
                format!(
                    "[Desktop Entry]\nVersion=1.0\nType=Link\nName={}\nURL={}\n",
                    s.name.replace(['\n', '\r'], " "),
                    s.url
                ),
            ),
        ];
        for (path, body) in files {
            zip.start_file(path, options).map_err(|e| failed(&e))?;
            zip.write_all(body.as_bytes()).map_err(|e| failed(&e))?;
        }
    }
    let cursor = zip.finish().map_err(|e| failed(&e))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortcut_file_name_has_no_path_or_forbidden_characters() {
        assert_eq!(
            file_name("../Reken/rijk: groep 8?"),
            "-Reken-rijk- groep 8-"
        );
        assert_eq!(file_name("..."), "snelkoppeling");
    }
}
