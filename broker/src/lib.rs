//! Decisions: the release policy (consent, licence, home access, attribute minimisation,
//! pairwise identifiers). Every protocol and API asks [`Broker::decide`] before it releases a
//! login, and every answer lands in the audit log.
//!
//! Upstream federation with network providers joins this crate with the broker-login issue.

pub mod attributes;
pub mod decision;
pub mod error;
pub mod pairwise;
pub mod portal;

pub use attributes::Attribute;
pub use decision::partner_sector;
pub use decision::{
    Broker, Context, Decision, DenyReason, Release, ReleaseRequest, Subject, Value, staff_may_act,
};
pub use error::BrokerError;
pub use portal::{Portal, Tile};
