//! The outage notice (storingsmelding): Dutch and English, with an optional end after which it
//! is no longer shown. Every node reads it from the register within a few seconds.

use directory::Directory;
use directory::model::netherlands_time;
use directory::pupil_login::Notice;

use super::{AdminError, Operating, optional};

pub async fn current(d: &Directory, _op: &Operating) -> Result<Option<Notice>, AdminError> {
    Ok(d.notice().await?)
}

/// Sets the notice; `until` is a Dutch wall-clock time (`YYYY-MM-DD HH:MM`) or blank for none.
pub async fn set(
    d: &Directory,
    op: &Operating,
    nl: &str,
    en: &str,
    until: &str,
) -> Result<Notice, AdminError> {
    let until = optional(until)
        .map(|u| netherlands_time("tot", u))
        .transpose()?;
    let notice = Notice {
        nl: nl.trim().to_owned(),
        en: en.trim().to_owned(),
        until,
    };
    d.set_notice(Some(&notice), &op.actor).await?;
    Ok(notice)
}

pub async fn clear(d: &Directory, op: &Operating) -> Result<(), AdminError> {
    Ok(d.set_notice(None, &op.actor).await?)
}
