//! The release decision as every protocol asks it: for the signed-in user at their chosen
//! school, to one party (and where known one product), what may be released; and when nothing
//! may, the explanation the user reads, naming the party as the school knows it.

use broker::{Decision, Release, ReleaseRequest};

use crate::http::Text;
use crate::session::SessionData;

/// The party a login goes to, as the protocol front end knows it.
pub struct Recipient<'a> {
    pub party_id: &'a str,
    /// The client's or SP's own name, shown when the party has none in the register.
    pub fallback_name: &'a str,
    /// The pairwise sector of this client or SP.
    pub sector: &'a str,
    pub product_id: Option<&'a str>,
    /// What the relying party asked for; `None` when it named nothing.
    pub requested: Option<&'a [broker::Attribute]>,
}

/// What the school's rules allow.
pub enum Outcome {
    Allow(Release),
    /// Nothing may be released; the text says why, in the user's terms.
    Deny(Text),
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("release decision: {0}")]
    Broker(#[from] broker::BrokerError),
    #[error("register: {0}")]
    Directory(#[from] directory::DirectoryError),
}

impl From<ReleaseError> for crate::http::PageError {
    fn from(e: ReleaseError) -> crate::http::PageError {
        crate::http::PageError::internal(e)
    }
}

/// Decides for `session` at `school_id` towards `to`, at `now`.
pub async fn decide(
    state: &crate::app_state::AppState,
    session: &SessionData,
    school_id: &str,
    to: &Recipient<'_>,
    now: i64,
) -> Result<Outcome, ReleaseError> {
    let (outcome, _) = decide_with_reason(state, session, school_id, to, now).await?;
    Ok(outcome)
}

/// [`decide`], with the reason of a denial for a protocol that must tell the client more than
/// that it was refused (OIDC's `consent_required` when no page may be shown).
pub async fn decide_with_reason(
    state: &crate::app_state::AppState,
    session: &SessionData,
    school_id: &str,
    to: &Recipient<'_>,
    now: i64,
) -> Result<(Outcome, Option<broker::DenyReason>), ReleaseError> {
    let decision = state
        .broker
        .decide(
            &ReleaseRequest {
                network: session.network.as_deref(),
                subject: session.subject(),
                school_id,
                party_id: to.party_id,
                product_id: to.product_id,
                requested: to.requested,
                context: session.context,
                sector: Some(to.sector),
            },
            now,
        )
        .await?;
    Ok(match decision {
        Decision::Allow(release) => (Outcome::Allow(release), None),
        Decision::Deny(reason) => {
            let party = state
                .directory
                .party_by_id(to.party_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_else(|| to.fallback_name.to_owned());
            let e = reason.explanation(&party);
            (Outcome::Deny(Text::new(e.nl, e.en)), Some(reason))
        }
    })
}
