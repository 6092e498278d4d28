//! Bringing the register in line with DUO's list of school locations (read by [`crate::duo`]).
//!
//! Boards and locations that DUO lists and openpoort lacks are created; names that changed are
//! updated, and a location that moved to another board follows it. Nothing is ever deleted:
//! locations that DUO no longer lists, or lists with an end date or a closed status, are only
//! reported, because closing a school in openpoort ends its pupils' logins and is a decision for
//! a person (often a merge, see [`crate::school_changes`]). Everything happens in one
//! transaction with an audit entry per change; a dry run is the same transaction rolled back.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditEvent, append};
use crate::db::writes;
use crate::duo::DuoList;
use crate::error::{Result, unique_as};
use crate::model::Date;
use crate::row::RowExt;
use crate::{Actor, Directory, new_id, now};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddedBoard {
    pub bestuursnummer: String,
    pub name: String,
    /// The file had no board names, so the board is named after its number until one is known.
    pub placeholder_name: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddedSchool {
    pub code: String,
    pub name: String,
    pub bestuursnummer: String,
}

/// A name that changed, for a board (`key` is its number) or a location (`key` is its code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Renamed {
    pub key: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BoardChanged {
    pub code: String,
    pub from_bestuursnummer: String,
    pub to_bestuursnummer: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", content = "value", rename_all = "snake_case")]
pub enum ClosureReason {
    /// The register has the location, DUO's list does not.
    NotInList,
    /// DUO gives an end date (past or future).
    EndDate(String),
    /// DUO gives a closed status without an end date.
    Status(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Closure {
    pub code: String,
    pub name: String,
    pub reason: ClosureReason,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DuoReport {
    pub boards_added: Vec<AddedBoard>,
    pub boards_renamed: Vec<Renamed>,
    pub schools_added: Vec<AddedSchool>,
    pub schools_renamed: Vec<Renamed>,
    pub schools_board_changed: Vec<BoardChanged>,
    /// Register locations DUO reports closed or no longer lists; nothing was changed for them.
    pub closures: Vec<Closure>,
    /// Locations the list gives as already closed that openpoort never had: not created.
    pub closed_not_created: Vec<String>,
    pub unchanged: usize,
    pub applied: bool,
}

struct RegisterSchool {
    id: String,
    board_id: String,
    name: String,
    active: bool,
    merged: bool,
}

impl Directory {
    /// Applies (or, with `dry_run`, only computes) DUO's list.
    pub async fn import_duo(
        &self,
        list: &DuoList,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<DuoReport> {
        let t = now();
        let today = Date::in_netherlands(t);
        let mut report = DuoReport {
            applied: !dry_run,
            ..Default::default()
        };
        writes!(self, p => {
            let mut tx = p.begin().await?;
            // board number -> (id, name)
            let mut boards: HashMap<String, (String, String)> = HashMap::new();
            for r in sqlx::query("SELECT id, bestuursnummer, name FROM boards").fetch_all(&mut *tx).await? {
                boards.insert(r.text("bestuursnummer")?, (r.text("id")?, r.text("name")?));
            }
            let mut nummer_of: HashMap<String, String> =
                boards.iter().map(|(n, (id, _))| (id.clone(), n.clone())).collect();
            let mut schools: HashMap<String, RegisterSchool> = HashMap::new();
            for r in sqlx::query("SELECT id, board_id, brin, vestigingscode, name, active, merged_into FROM schools")
                .fetch_all(&mut *tx).await? {
                schools.insert(format!("{}{}", r.text("brin")?, r.text("vestigingscode")?), RegisterSchool {
                    id: r.text("id")?, board_id: r.text("board_id")?, name: r.text("name")?,
                    active: r.flag("active")?, merged: r.opt_text("merged_into")?.is_some(),
                });
            }

            let mut in_list: HashSet<String> = HashSet::new();
            for loc in &list.locations {
                let code = loc.code.to_string();
                in_list.insert(code.clone());
                let closed_now = loc.closure.as_ref().is_some_and(|c| {
                    c.status.is_some() || c.end_date.as_ref().is_some_and(|d| *d <= today)
                });
                if closed_now && !schools.contains_key(&code) {
                    report.closed_not_created.push(code);
                    continue;
                }

                // The board: created when unknown, renamed when the file names it differently.
                let nummer = loc.bestuursnummer.to_string();
                let board_id = match boards.get(&nummer) {
                    Some((id, name)) => {
                        if let Some(new_name) = loc.board_name.as_ref().filter(|n| *n != name) {
                            sqlx::query("UPDATE boards SET name = $1 WHERE id = $2")
                                .bind(new_name).bind(id).execute(&mut *tx).await?;
                            append!(&mut *tx, AuditEvent {
                                actor, action: "board.rename", school_id: None, party_id: None, subject: Some(id),
                                details: json!({"bestuursnummer": nummer, "from": name, "to": new_name, "source": "duo"}),
                            });
                            report.boards_renamed.push(Renamed { key: nummer.clone(), from: name.clone(), to: new_name.clone() });
                            let id = id.clone();
                            boards.insert(nummer.clone(), (id.clone(), new_name.clone()));
                            id
                        } else {
                            id.clone()
                        }
                    }
                    None => {
                        let id = new_id();
                        let name = loc.board_name.clone().unwrap_or_else(|| format!("Bevoegd gezag {nummer}"));
                        sqlx::query("INSERT INTO boards (id, bestuursnummer, name, created_at) VALUES ($1, $2, $3, $4)")
                            .bind(&id).bind(&nummer).bind(&name).bind(t)
                            .execute(&mut *tx).await.map_err(unique_as("bestuursnummer", nummer.as_str()))?;
                        append!(&mut *tx, AuditEvent {
                            actor, action: "board.create", school_id: None, party_id: None, subject: Some(&id),
                            details: json!({"bestuursnummer": nummer, "name": name, "source": "duo"}),
                        });
                        report.boards_added.push(AddedBoard {
                            bestuursnummer: nummer.clone(), name: name.clone(), placeholder_name: loc.board_name.is_none(),
                        });
                        boards.insert(nummer.clone(), (id.clone(), name));
                        nummer_of.insert(id.clone(), nummer.clone());
                        id
                    }
                };

                match schools.get(&code) {
                    None => {
                        let id = new_id();
                        let reference = uuid::Uuid::new_v4().to_string();
                        sqlx::query(
                            "INSERT INTO schools (id, board_id, brin, vestigingscode, name, instelling_ref, active, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                            .bind(&id).bind(&board_id).bind(loc.code.brin.as_str()).bind(loc.code.vestigingscode.as_str())
                            .bind(&loc.name).bind(&reference).bind(true).bind(t)
                            .execute(&mut *tx).await.map_err(unique_as("BRIN + vestigingscode", code.as_str()))?;
                        append!(&mut *tx, AuditEvent {
                            actor, action: "school.create", school_id: Some(&id), party_id: None, subject: Some(&id),
                            details: json!({"school": code, "name": loc.name, "source": "duo"}),
                        });
                        report.schools_added.push(AddedSchool { code: code.clone(), name: loc.name.clone(), bestuursnummer: nummer.clone() });
                    }
                    Some(s) => {
                        let mut changed = false;
                        if s.name != loc.name {
                            sqlx::query("UPDATE schools SET name = $1, updated_at = $2 WHERE id = $3")
                                .bind(&loc.name).bind(t).bind(&s.id).execute(&mut *tx).await?;
                            append!(&mut *tx, AuditEvent {
                                actor, action: "school.rename", school_id: Some(&s.id), party_id: None, subject: Some(&s.id),
                                details: json!({"school": code, "from": s.name, "to": loc.name, "source": "duo"}),
                            });
                            report.schools_renamed.push(Renamed { key: code.clone(), from: s.name.clone(), to: loc.name.clone() });
                            changed = true;
                        }
                        if s.board_id != board_id {
                            let from = nummer_of.get(&s.board_id).cloned().unwrap_or_default();
                            sqlx::query("UPDATE schools SET board_id = $1, updated_at = $2 WHERE id = $3")
                                .bind(&board_id).bind(t).bind(&s.id).execute(&mut *tx).await?;
                            append!(&mut *tx, AuditEvent {
                                actor, action: "school.board_change", school_id: Some(&s.id), party_id: None, subject: Some(&s.id),
                                details: json!({"school": code, "from": from, "to": nummer, "source": "duo"}),
                            });
                            report.schools_board_changed.push(BoardChanged {
                                code: code.clone(), from_bestuursnummer: from, to_bestuursnummer: nummer.clone(),
                            });
                            changed = true;
                        }
                        if let Some(c) = &loc.closure {
                            let reason = match (&c.end_date, &c.status) {
                                (Some(d), _) => ClosureReason::EndDate(d.to_string()),
                                (None, s) => ClosureReason::Status(s.clone().unwrap_or_default()),
                            };
                            report.closures.push(Closure { code: code.clone(), name: loc.name.clone(), reason });
                        }
                        if !changed {
                            report.unchanged += 1;
                        }
                    }
                }
            }
            // A merged location is expected to leave DUO's list; so is one already switched off.
            let mut missing: Vec<Closure> = schools.iter()
                .filter(|(code, s)| s.active && !s.merged && !in_list.contains(*code))
                .map(|(code, s)| Closure { code: code.clone(), name: s.name.clone(), reason: ClosureReason::NotInList })
                .collect();
            missing.sort_by(|a, b| a.code.cmp(&b.code));
            report.closures.extend(missing);

            if !dry_run {
                append!(&mut *tx, AuditEvent {
                    actor, action: "duo.import", school_id: None, party_id: None, subject: None,
                    details: json!({
                        "encoding": list.encoding, "headers": list.headers, "locations": list.locations.len(),
                        "boards_added": report.boards_added.len(), "boards_renamed": report.boards_renamed.len(),
                        "schools_added": report.schools_added.len(), "schools_renamed": report.schools_renamed.len(),
                        "schools_board_changed": report.schools_board_changed.len(),
                        "closures": report.closures.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
                    }),
                });
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(())
        })?;
        if dry_run {
            self.audit(AuditEvent {
                actor,
                action: "duo.dry_run",
                school_id: None,
                party_id: None,
                subject: None,
                details: json!({
                    "locations": list.locations.len(),
                    "would_add": report.schools_added.len(),
                    "would_rename": report.schools_renamed.len(),
                }),
            })
            .await?;
        }
        Ok(report)
    }
}
