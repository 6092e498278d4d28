//! The portal: which products a signed-in pupil or staff member may open right now. The same
//! rules as a release (consent, licence, validity, home use, account state), asked per product
//! and without an audit entry, because showing a tile releases nothing.

use std::collections::BTreeMap;

use directory::model::Date;
use directory::parties::Product;

use crate::decision::{Broker, Context, DenyReason, ReleaseRequest, Subject, covers_group, judge};
use crate::error::BrokerError;

#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub product: Product,
    pub party_name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Portal {
    pub tiles: Vec<Tile>,
    /// Why the portal is empty, when it is.
    pub empty_because: Option<DenyReason>,
}

/// When nothing can be opened, the reason a teacher can act on first: an inactive account
/// explains everything; at home, the home rules; then a missing consent, then licences.
fn most_telling(reasons: &[DenyReason]) -> DenyReason {
    const ORDER: [DenyReason; 6] = [
        DenyReason::AccountInactive,
        DenyReason::HomeLoginSwitchedOff,
        DenyReason::NotAllowedAtHome,
        DenyReason::NoConsent,
        DenyReason::LicenceExpired,
        DenyReason::NoLicence,
    ];
    ORDER
        .into_iter()
        .find(|r| reasons.contains(r))
        .unwrap_or(DenyReason::NoLicence)
}

impl Broker {
    pub async fn portal(
        &self,
        subject: &Subject,
        school_id: &str,
        context: Context,
        now: i64,
    ) -> Result<Portal, BrokerError> {
        let today = Date::in_netherlands(now);
        let d = self.directory();
        // The parties whose products the school holds licences for, each asked once.
        let mut parties: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for licence in d.licences_of_school(school_id).await? {
            if let Some(product) = d.product_by_id(&licence.product_id).await? {
                let products = parties.entry(product.party_id).or_default();
                if !products.contains(&product.id) {
                    products.push(product.id);
                }
            }
        }
        // And those the user may use through a publisher's own grants (LIKA), among the parties
        // the school consents to: without consent nothing opens, so no other party is asked.
        for (party_id, product_id) in self.lika_products(subject, school_id).await? {
            let products = parties.entry(party_id).or_default();
            if !products.contains(&product_id) {
                products.push(product_id);
            }
        }
        let mut tiles = Vec::new();
        let mut reasons = Vec::new();
        for (party_id, products) in &parties {
            let base = ReleaseRequest {
                network: None,
                subject: subject.clone(),
                school_id,
                party_id,
                product_id: None,
                requested: None,
                context,
                sector: None,
            };
            let Some(facts) = self.facts(&base).await? else {
                reasons.push(DenyReason::AccountInactive);
                continue;
            };
            for product_id in products {
                let req = ReleaseRequest {
                    product_id: Some(product_id),
                    ..base.clone()
                };
                match judge(&req, &facts, &today) {
                    Ok(()) => {
                        if let Some(p) = facts.products.iter().find(|p| &p.id == product_id) {
                            tiles.push(Tile {
                                product: p.clone(),
                                party_name: facts.party.name.clone(),
                            });
                        }
                    }
                    Err(reason) => reasons.push(reason),
                }
            }
        }
        tiles.sort_by(|a, b| a.product.name.cmp(&b.product.name));
        let empty_because = tiles.is_empty().then(|| most_telling(&reasons));
        Ok(Portal {
            tiles,
            empty_because,
        })
    }

    /// `(party id, product id)` of every product a publisher's LIKA grants give the user at
    /// the school, among the parties the school consents to now.
    async fn lika_products(
        &self,
        subject: &Subject,
        school_id: &str,
    ) -> Result<Vec<(String, String)>, BrokerError> {
        let d = self.directory();
        let mut keys = Vec::new();
        for consent in d.consent_history(school_id).await? {
            if consent.revoked_at.is_none() {
                keys.push(self.lika_key(&consent.party_id, subject, school_id)?);
            }
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let eck_id = match subject {
            Subject::Pupil(id) => d.pupil_by_id(id).await?.and_then(|p| p.eck_id),
            Subject::Staff(id) => d.staff_by_id(id).await?.and_then(|s| s.eck_id),
        };
        Ok(d.lika_grants(&keys, eck_id.as_deref()).await?)
    }

    /// What every pupil of a group sees at school, for the ICT-coördinator's overview: the
    /// products of parties the school consents to, under a licence in force today that covers
    /// the whole school or names the group. A pupil may see more (a licence naming them, or a
    /// combined group); never less while their account is active.
    pub async fn group_portal(
        &self,
        school_id: &str,
        group_id: &str,
        now: i64,
    ) -> Result<Vec<Tile>, BrokerError> {
        let today = Date::in_netherlands(now);
        let d = self.directory();
        let mut seen = std::collections::BTreeSet::new();
        let mut tiles = Vec::new();
        for licence in d.licences_of_school(school_id).await? {
            if !licence.valid_on(&today)
                || !covers_group(&licence, group_id)
                || !seen.insert(licence.product_id.clone())
            {
                continue;
            }
            let Some(product) = d.product_by_id(&licence.product_id).await? else {
                continue;
            };
            if d.open_consent(school_id, &product.party_id)
                .await?
                .is_none()
            {
                continue;
            }
            let party_name = d
                .party_by_id(&product.party_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            tiles.push(Tile {
                product,
                party_name,
            });
        }
        tiles.sort_by(|a, b| a.product.name.cmp(&b.product.name));
        Ok(tiles)
    }
}
