//! Decisions: the release policy (consent, licence, home access, attribute minimisation,
//! pairwise identifiers) and upstream federation with network providers.
//!
//! Empty on purpose until the release decision is built: nothing here may pretend to work.
