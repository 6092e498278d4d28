//! EDEXML upload: the same import as `openpoort import edexml`, for one school location named
//! in the path. The answer is the difference (what was, or in a dry run would be, added,
//! changed and removed); a file with problems is refused whole with every problem listed.

use crate::http::extract::Path;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Admin, ApiError, Problem, ok, read_body};
use crate::app_state::AppState;
use crate::import::{ImportError, import_edexml};

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    /// Absent means an apply, as on the command line.
    #[serde(default)]
    dry_run: Option<String>,
}

fn dry_run(q: &UploadQuery) -> Result<bool, ApiError> {
    match q.dry_run.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::new(
            Problem::BadRequest,
            format!("dry_run {other:?} is ongeldig: gebruik true of false"),
            format!("dry_run {other:?} is invalid: use true or false"),
        )),
    }
}

pub async fn upload(
    admin: Admin,
    State(state): State<AppState>,
    Path(school_ref): Path<String>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            Problem::BadRequest,
            format!("De query is ongeldig: {e}"),
            format!("The query is invalid: {e}"),
        )
    })?;
    let dry_run = dry_run(&query)?;
    let school = super::school(&state, &school_ref).await?;
    super::require_media_type(&headers, &["application/xml", "text/xml"])?;
    let limit = state.api.edexml_max_bytes;
    let bytes = read_body(&headers, body, limit).await?;
    let limits = directory::edexml::Limits { max_bytes: limit };
    let imported = import_edexml(
        &state.directory,
        &state.mailer,
        &state.web.public_url,
        &bytes,
        &limits,
        Some(&school),
        dry_run,
        &admin.actor,
    )
    .await
    .map_err(|e| match e {
        ImportError::Problems(problems) => {
            let n = problems.len();
            ApiError::new(
                Problem::Edexml,
                format!("Het EDEXML-bestand is niet ingelezen: er zijn {n} problemen gevonden; er is niets gewijzigd."),
                format!("The EDEXML file was not imported: {n} problems were found; nothing was changed."),
            )
            .with_errors(
                problems
                    .0
                    .iter()
                    .map(|p| {
                        json!({
                            "line": p.line,
                            "column": p.column,
                            "path": p.path,
                            "rule": p.rule,
                            "detail": p.message_nl,
                            "detail_en": p.message_en,
                        })
                    })
                    .collect(),
            )
        }
        ImportError::WrongSchool { file, expected } => ApiError::new(
            Problem::WrongSchool,
            format!("Het bestand is van school {file}, niet van {expected}; er is niets gewijzigd. Upload het bij de school waarvan het is."),
            format!("The file is for school {file}, not {expected}; nothing was changed. Upload it for the school it describes."),
        ),
        ImportError::Directory(e) => e.into(),
    })?;
    let sent = imported
        .invitations
        .iter()
        .filter(|i| i.sent.is_ok())
        .count();
    let mut answer = serde_json::to_value(&imported.report).map_err(ApiError::internal)?;
    if let Value::Object(o) = &mut answer {
        o.insert("school".into(), json!(imported.school_code));
        o.insert("dry_run".into(), json!(dry_run));
        o.insert(
            "activation_mails".into(),
            json!({"sent": sent, "failed": imported.invitations.len() - sent}),
        );
    }
    tracing::info!(client = %admin.client_id, school = %imported.school_code, dry_run, "EDEXML upload");
    Ok(ok(answer))
}
