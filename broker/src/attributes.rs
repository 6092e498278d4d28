//! The attribute catalogue: every piece of data openpoort can release, with its name in OpenID
//! Connect and in SAML. Protocol code maps through this table only, so that a claim and its SAML
//! attribute can never drift apart.

use serde::Serialize;

use crate::error::BrokerError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    /// The pairwise pseudonym of the user for this party's sector.
    Subject,
    /// eduPersonAffiliation: `student` for pupils; `employee` plus `faculty` (teachers) or
    /// `staff` (other roles) for staff.
    Affiliation,
    /// BRIN of the school.
    HomeOrganization,
    /// Vestigingscode of the school location.
    HomeOrganizationBranch,
    /// LAS keys of the user's groups at this school (stamgroep and combined groups).
    Groups,
    /// The pupil's jaargroep (EDEXML value list).
    Jaargroep,
    /// ECK-iD, where the school has one for the user.
    EckId,
    GivenName,
    FamilyName,
    Tussenvoegsels,
    /// Staff only: pupils have no e-mail address in openpoort.
    Email,
}

impl Attribute {
    pub const ALL: [Attribute; 11] = [
        Attribute::Subject,
        Attribute::Affiliation,
        Attribute::HomeOrganization,
        Attribute::HomeOrganizationBranch,
        Attribute::Groups,
        Attribute::Jaargroep,
        Attribute::EckId,
        Attribute::GivenName,
        Attribute::FamilyName,
        Attribute::Tussenvoegsels,
        Attribute::Email,
    ];

    /// What every party with consent and licence receives.
    pub const DEFAULT: [Attribute; 6] = [
        Attribute::Subject,
        Attribute::Affiliation,
        Attribute::HomeOrganization,
        Attribute::HomeOrganizationBranch,
        Attribute::Groups,
        Attribute::Jaargroep,
    ];

    /// What a party receives only when its release policy names it.
    pub const OPTIONAL: [Attribute; 5] = [
        Attribute::EckId,
        Attribute::GivenName,
        Attribute::FamilyName,
        Attribute::Tussenvoegsels,
        Attribute::Email,
    ];

    /// The catalogue name, used in release policies and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Attribute::Subject => "subject",
            Attribute::Affiliation => "affiliation",
            Attribute::HomeOrganization => "home_organization",
            Attribute::HomeOrganizationBranch => "home_organization_branch",
            Attribute::Groups => "groups",
            Attribute::Jaargroep => "jaargroep",
            Attribute::EckId => "eck_id",
            Attribute::GivenName => "given_name",
            Attribute::FamilyName => "family_name",
            Attribute::Tussenvoegsels => "tussenvoegsels",
            Attribute::Email => "email",
        }
    }

    /// The OpenID Connect claim (standard claims where OIDC Core defines one).
    pub fn oidc_claim(&self) -> &'static str {
        match self {
            Attribute::Subject => "sub",
            Attribute::Affiliation => "eduperson_affiliation",
            Attribute::HomeOrganization => "nl_edu_person_home_organization_id",
            Attribute::HomeOrganizationBranch => "nl_edu_person_home_organization_branch_id",
            Attribute::Groups => "groups",
            Attribute::Jaargroep => "jaargroep",
            Attribute::EckId => "eck_id",
            Attribute::GivenName => "given_name",
            Attribute::FamilyName => "family_name",
            Attribute::Tussenvoegsels => "nl_edu_person_tussenvoegsels",
            Attribute::Email => "email",
        }
    }

    /// The SAML attribute name (eduPerson / nlEduPerson friendly names as Dutch education
    /// federations use them).
    pub fn saml_name(&self) -> &'static str {
        match self {
            Attribute::Subject => "uid",
            Attribute::Affiliation => "eduPersonAffiliation",
            Attribute::HomeOrganization => "nlEduPersonHomeOrganizationId",
            Attribute::HomeOrganizationBranch => "nlEduPersonHomeOrganizationBranchId",
            Attribute::Groups => "groups",
            Attribute::Jaargroep => "jaargroep",
            Attribute::EckId => "eckId",
            Attribute::GivenName => "givenName",
            Attribute::FamilyName => "sn",
            Attribute::Tussenvoegsels => "nlEduPersonTussenvoegsels",
            Attribute::Email => "mail",
        }
    }

    /// The attribute's standard OID, for SPs that take `urn:oid:` names (eduPerson 202208,
    /// inetOrgPerson, X.520); `None` where no standard attribute means the same thing, so the
    /// SAML name stays (nlEduPerson and openpoort's own attributes have no registered OID).
    pub fn saml_oid(&self) -> Option<&'static str> {
        match self {
            // The same name `uid` in its URI form: the value stays the pairwise pseudonym.
            Attribute::Subject => Some("urn:oid:0.9.2342.19200300.100.1.1"),
            Attribute::Affiliation => Some("urn:oid:1.3.6.1.4.1.5923.1.1.1.1"),
            Attribute::GivenName => Some("urn:oid:2.5.4.42"),
            Attribute::FamilyName => Some("urn:oid:2.5.4.4"),
            Attribute::Email => Some("urn:oid:0.9.2342.19200300.100.1.3"),
            Attribute::HomeOrganization
            | Attribute::HomeOrganizationBranch
            | Attribute::Groups
            | Attribute::Jaargroep
            | Attribute::EckId
            | Attribute::Tussenvoegsels => None,
        }
    }

    pub fn from_saml_oid(name: &str) -> Option<Attribute> {
        Attribute::ALL
            .into_iter()
            .find(|a| a.saml_oid() == Some(name))
    }

    /// What a party receives under its release policy: the default set plus the optional
    /// attributes its policy names (names the catalogue does not know are ignored).
    pub fn policy(extra: &[String]) -> std::collections::BTreeSet<Attribute> {
        Attribute::DEFAULT
            .into_iter()
            .chain(extra.iter().filter_map(|n| Attribute::parse(n).ok()))
            .collect()
    }

    /// Whether a pupil can have this attribute (pupils have no e-mail address in openpoort).
    pub fn about_pupils(&self) -> bool {
        !matches!(self, Attribute::Email)
    }

    /// Whether a staff member can have this attribute (a jaargroep is a pupil's).
    pub fn about_staff(&self) -> bool {
        !matches!(self, Attribute::Jaargroep)
    }

    pub fn parse(name: &str) -> Result<Attribute, BrokerError> {
        Attribute::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| BrokerError::UnknownAttribute(name.to_owned()))
    }

    pub fn from_saml_name(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.saml_name() == name)
    }

    pub fn from_oidc_claim(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.oidc_claim() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalogue_names_are_unique_in_every_protocol() {
        for f in [Attribute::name, Attribute::oidc_claim, Attribute::saml_name] {
            let names: HashSet<_> = Attribute::ALL.iter().map(f).collect();
            assert_eq!(names.len(), Attribute::ALL.len());
        }
    }

    #[test]
    fn standard_oids_are_unique_urn_oid_names_that_round_trip() {
        let oids: Vec<&str> = Attribute::ALL
            .iter()
            .filter_map(Attribute::saml_oid)
            .collect();
        assert_eq!(oids.iter().collect::<HashSet<_>>().len(), oids.len());
        for a in Attribute::ALL {
            if let Some(oid) = a.saml_oid() {
                assert!(oid.starts_with("urn:oid:"), "{oid}");
                assert_eq!(Attribute::from_saml_oid(oid), Some(a));
            }
        }
        assert_eq!(
            Attribute::Affiliation.saml_oid(),
            Some("urn:oid:1.3.6.1.4.1.5923.1.1.1.1")
        );
        assert_eq!(
            Attribute::Email.saml_oid(),
            Some("urn:oid:0.9.2342.19200300.100.1.3")
        );
    }

    #[test]
    fn every_attribute_is_either_default_or_optional() {
        for a in Attribute::ALL {
            let d = Attribute::DEFAULT.contains(&a);
            let o = Attribute::OPTIONAL.contains(&a);
            assert!(d ^ o, "{a:?}");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for a in Attribute::ALL {
            assert_eq!(Attribute::parse(a.name()).unwrap(), a);
            assert_eq!(Attribute::from_saml_name(a.saml_name()), Some(a));
            assert_eq!(Attribute::from_oidc_claim(a.oidc_claim()), Some(a));
        }
        let err = Attribute::parse("bsn").unwrap_err().to_string();
        assert!(err.contains("bsn") && err.contains("eck_id"), "{err}");
    }
}
