//! Finding school locations in the register by name, BRIN (with or without vestigingscode) or
//! board: what a publisher does to find a school it wants to ask for permission (the partner
//! API's `nawsearch`). Only the register's public facts are searched and returned: names and
//! codes as DUO publishes them, never anything of a school's pupils or staff.

use serde::Serialize;

use crate::Directory;
use crate::db::reads;
use crate::error::{DirectoryError, Result};
use crate::model::{Bestuursnummer, Brin, Vestigingscode};
use crate::row::RowExt;
use crate::schools::{School, school_from};

/// The shortest name fragment searched for: one letter would match nearly every school.
pub const MIN_NAME_CHARS: usize = 2;

/// What to look for; every given criterion must hold.
#[derive(Clone, Debug, Default)]
pub struct SchoolSearch {
    /// A fragment of the name, compared without regard to case or accents.
    pub name: Option<String>,
    pub brin: Option<Brin>,
    /// Only with `brin`: one location of it.
    pub vestigingscode: Option<Vestigingscode>,
    pub bestuursnummer: Option<Bestuursnummer>,
    /// Leave out schools that closed or merged.
    pub active_only: bool,
}

/// A school found, with its board's number.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoundSchool {
    pub school: School,
    pub bestuursnummer: String,
}

/// Lower case without accents, so that "triolier" finds "De Triôlier" and "een" finds "Één".
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'š' | 'ś' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            other => other,
        })
        .collect()
}

impl Directory {
    /// The schools that meet every criterion of `search`, by name, at most `limit`. A search
    /// without a criterion, or with a name fragment shorter than [`MIN_NAME_CHARS`], is refused.
    pub async fn search_schools(
        &self,
        search: &SchoolSearch,
        limit: usize,
    ) -> Result<Vec<FoundSchool>> {
        let name = search.name.as_deref().map(|n| fold(n.trim()));
        if let Some(n) = &name
            && n.chars().count() < MIN_NAME_CHARS
        {
            return Err(DirectoryError::invalid(
                "naam",
                n.clone(),
                "zoek op minstens 2 tekens van de naam",
                "search for at least 2 characters of the name",
            ));
        }
        if name.is_none() && search.brin.is_none() && search.bestuursnummer.is_none() {
            return Err(DirectoryError::invalid(
                "zoekopdracht",
                "",
                "geef een naam, een BRIN (met of zonder vestigingscode) of een bestuursnummer",
                "give a name, a BRIN (with or without vestigingscode) or a bestuursnummer",
            ));
        }
        // The codes narrow in SQL; the name is compared here, so that case and accents are
        // folded alike on both backends (SQLite's lower() knows ASCII only). The register holds
        // some thousands of locations, so a name-only search reads them all: a few milliseconds.
        const SQL: &str = "SELECT s.id, s.board_id, s.brin, s.vestigingscode, s.name, s.instelling_ref, \
             s.active, s.merged_into, s.home_login_allowed, s.picture_password_enabled, \
             b.bestuursnummer \
             FROM schools s JOIN boards b ON b.id = s.board_id \
             WHERE ($1 IS NULL OR s.brin = $1) AND ($2 IS NULL OR s.vestigingscode = $2) \
             AND ($3 IS NULL OR b.bestuursnummer = $3) AND (s.active OR NOT $4)";
        let brin = search.brin.as_ref().map(|b| b.as_ref().to_owned());
        let vestiging = search
            .vestigingscode
            .as_ref()
            .map(|v| v.as_ref().to_owned());
        let bestuur = search
            .bestuursnummer
            .as_ref()
            .map(|b| b.as_ref().to_owned());
        let mut found: Vec<(String, FoundSchool)> = reads!(self, p => {
            let rows = sqlx::query(SQL).bind(&brin).bind(&vestiging).bind(&bestuur)
                .bind(search.active_only).fetch_all(p).await?;
            let mut out = Vec::new();
            for r in &rows {
                let school = school_from(r)?;
                let folded = fold(&school.name);
                if name.as_ref().is_none_or(|n| folded.contains(n.as_str())) {
                    out.push((folded, FoundSchool { school, bestuursnummer: r.text("bestuursnummer")? }));
                }
            }
            Ok(out)
        })?;
        found.sort_by(|(a, x), (b, y)| {
            (a, &x.school.brin, &x.school.vestigingscode).cmp(&(
                b,
                &y.school.brin,
                &y.school.vestigingscode,
            ))
        });
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, f)| f).collect())
    }

    /// The ids of every school location in the register, closed and merged ones too: for
    /// finding which one a party's pairwise number names.
    pub async fn all_school_ids(&self) -> Result<Vec<String>> {
        reads!(self, p => {
            sqlx::query("SELECT id FROM schools ORDER BY id").fetch_all(p).await?
                .iter().map(|r| r.text("id")).collect()
        })
    }
}
