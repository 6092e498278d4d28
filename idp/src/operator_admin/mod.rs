//! What openpoort's operator does to the register, written once for the `/operator` pages, the
//! admin API and the command line: the outage notice (`notice`), boards and schools with a
//! school's first ICT-coördinator (`register`), parties and their products (`parties`). SAML SPs
//! and OIDC clients have their rules in `crate::service_providers` and `crate::clients`, which
//! the pages call as the API and the CLI do.
//!
//! A function here takes an [`Operating`], the proof that the caller is the operator: made from
//! a session whose account holds the operator role (`Operating::by_staff`, which the
//! `SignedInOperator` extractor calls), or for the admin API's clients and the CLI on the server,
//! which proved it otherwise.

pub mod notice;
pub mod parties;
pub mod register;

use directory::{Actor, Directory};

pub use crate::school_admin::AdminError;

/// Permission to act as openpoort's operator, and who uses it (for the audit trail).
pub struct Operating {
    pub actor: Actor,
}

impl Operating {
    /// A staff member: only while their account holds the operator role and is active. Asked at
    /// every request, so that a revoked role ends at the next one.
    pub async fn by_staff(d: &Directory, staff_id: &str) -> Result<Operating, AdminError> {
        if d.is_operator(staff_id).await? {
            Ok(Operating {
                actor: Actor::staff(staff_id),
            })
        } else {
            Err(AdminError::NotAllowed)
        }
    }

    /// The CLI on the server, or an admin API client holding `openpoort:admin`: callers that
    /// proved to be the operator before they got here.
    pub fn trusted(actor: Actor) -> Operating {
        Operating { actor }
    }
}

/// An optional text field as forms send it: blank is none.
pub(crate) fn optional(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}
