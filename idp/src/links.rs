//! One-time links for staff: activation (a new account sets its first password) and reset.
//! The token travels only in the mail; the register keeps its SHA-256.

use directory::credentials::TokenPurpose;
use directory::people::Staff;
use directory::{Actor, Directory};

use crate::http::{random_token, sha256_hex};
use crate::mail::{LinkPurpose, Mailer, link_message};

/// An activation link works for a week: new staff often get it before their first school day.
pub const ACTIVATION_VALID_SECONDS: i64 = 7 * 86_400;
/// A reset link works for a day: long enough for a mail to arrive, short enough that an old
/// mailbox is not a key to the account.
pub const RESET_VALID_SECONDS: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{0}")]
    Directory(#[from] directory::DirectoryError),
    #[error("mail: {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error("staff member {0} has no e-mail address")]
    NoAddress(String),
}

/// Issues a link, mails it, and returns it (callers in development mode log it).
pub async fn send_link(
    directory: &Directory,
    mailer: &Mailer,
    public_url: &str,
    staff: &Staff,
    purpose: TokenPurpose,
    actor: &Actor,
) -> Result<String, LinkError> {
    let to = staff
        .email
        .as_deref()
        .ok_or_else(|| LinkError::NoAddress(staff.id.clone()))?;
    let token = random_token();
    let (path, valid, kind) = match purpose {
        TokenPurpose::Activation => (
            "/activeren",
            ACTIVATION_VALID_SECONDS,
            LinkPurpose::Activation,
        ),
        TokenPurpose::Reset => (
            "/wachtwoord-herstellen",
            RESET_VALID_SECONDS,
            LinkPurpose::Reset,
        ),
    };
    directory
        .issue_staff_token(&staff.id, purpose, &sha256_hex(&token), valid, actor)
        .await?;
    let link = format!("{public_url}{path}?token={token}");
    let name = staff
        .roepnaam
        .as_deref()
        .or(staff.voornamen.as_deref())
        .unwrap_or("");
    let valid_for = std::time::Duration::from_secs(valid.unsigned_abs());
    let message = link_message(mailer.from(), to, name, kind, &link, valid_for)?;
    mailer.send(message).await?;
    Ok(link)
}
