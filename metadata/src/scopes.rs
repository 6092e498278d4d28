//! The OAuth scopes openpoort understands and the catalogue attributes each one asks for.
//!
//! A scope is a request, not a grant: the broker's release policy still decides per party which
//! of the asked attributes are released (names, e-mail and ECK-iD only where the party's policy
//! allows them). Attributes are named by their catalogue names (the broker's `Attribute::name`),
//! so this crate does not depend on the broker.
//!
//! | scope | asks for |
//! |---|---|
//! | `openid` | an OpenID Connect login and openpoort's defaults: the pairwise `subject`, `affiliation` (role), `home_organization` (BRIN), `home_organization_branch` (vestigingscode), `groups` and `jaargroep` |
//! | `profile` | the user's name: `given_name`, `family_name`, `tussenvoegsels` |
//! | `email` | `email` (staff only: pupils have no address in openpoort) |
//! | `eckid` | `eck_id`, the Edu-K chain identifier, where the school has one for the user |
//! | `school` | the school part of the defaults: `affiliation`, `home_organization`, `home_organization_branch` |
//! | `groups` | the group part of the defaults: `groups`, `jaargroep` |
//!
//! `school` and `groups` add nothing to `openid`; they exist so that a client can say which part
//! of the defaults it actually uses, which the consent and audit pages can show.
//!
//! Besides these user scopes there are API scopes, which ask for no attribute and are never
//! about a user: [`ADMIN_SCOPE`] lets a machine client call openpoort's admin REST API,
//! [`PARTNER_SCOPE`] a party's client the partner API. They are granted only through client
//! credentials (see `ClientRegistration::validate`), never in an authorization request, and
//! discovery does not advertise them.

/// Every user scope a client may register and ask for, in the order discovery lists them.
pub const SUPPORTED_SCOPES: [&str; 6] = ["openid", "profile", "email", "eckid", "school", "groups"];

/// OIDC Core section 11: a refresh token that outlives the browser session. Not registrable:
/// a client may have it exactly when it is allowed the refresh_token grant, and for any other
/// client the request is ignored as the specification says, not refused.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The admin REST API (`/api/v1`): registering clients, uploading EDEXML.
pub const ADMIN_SCOPE: &str = "openpoort:admin";

/// The partner API (`/rest/v2` on the partner listener): a publisher's or network provider's
/// roster reads, as an alternative to its client certificate. The party is the client's party.
pub const PARTNER_SCOPE: &str = "openpoort:partner";

/// Scopes for openpoort's own APIs: machine access through client credentials only.
pub const API_SCOPES: [&str; 2] = [ADMIN_SCOPE, PARTNER_SCOPE];

/// Whether a scope is one of openpoort's API scopes, which no authorization request may carry.
pub fn is_api_scope(scope: &str) -> bool {
    API_SCOPES.contains(&scope)
}

/// Whether openpoort gives a scope any meaning. A scope it does not know asks for nothing
/// openpoort could release, so an authorization request carrying one is answered without it
/// (RFC 6749 section 3.3) rather than refused; a known scope the client did not register is
/// refused, since it asks for data the client may not have.
pub fn is_known_scope(scope: &str) -> bool {
    SUPPORTED_SCOPES.contains(&scope) || is_api_scope(scope) || scope == OFFLINE_ACCESS
}

/// The catalogue in the broker's order, so that the result does not depend on scope order.
const CATALOGUE: [&str; 11] = [
    "subject",
    "affiliation",
    "home_organization",
    "home_organization_branch",
    "groups",
    "jaargroep",
    "eck_id",
    "given_name",
    "family_name",
    "tussenvoegsels",
    "email",
];

const SCHOOL: [&str; 3] = [
    "affiliation",
    "home_organization",
    "home_organization_branch",
];
const GROUPS: [&str; 2] = ["groups", "jaargroep"];
const DEFAULTS: [&str; 6] = [
    "subject",
    "affiliation",
    "home_organization",
    "home_organization_branch",
    "groups",
    "jaargroep",
];

/// The catalogue attributes a scope asks for; empty for a scope openpoort does not know.
fn attributes_for_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "openid" => &DEFAULTS,
        "profile" => &["given_name", "family_name", "tussenvoegsels"],
        "email" => &["email"],
        "eckid" => &["eck_id"],
        "school" => &SCHOOL,
        "groups" => &GROUPS,
        // An authorization request may carry scopes of other specifications; ignoring them is
        // what RFC 6749 section 3.3 allows, and registration already refuses unknown scopes.
        _ => &[],
    }
}

/// The catalogue names of the attributes the given scopes ask for, each once, in catalogue
/// order. Unknown scopes contribute nothing.
pub fn attributes_for_scopes(scopes: &[&str]) -> Vec<&'static str> {
    CATALOGUE
        .into_iter()
        .filter(|attribute| {
            scopes
                .iter()
                .any(|scope| attributes_for_scope(scope).contains(attribute))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_releases_the_defaults_and_profile_adds_names() {
        assert_eq!(attributes_for_scopes(&["openid"]), DEFAULTS.to_vec());
        assert_eq!(
            attributes_for_scopes(&["profile", "openid"]),
            [
                "subject",
                "affiliation",
                "home_organization",
                "home_organization_branch",
                "groups",
                "jaargroep",
                "given_name",
                "family_name",
                "tussenvoegsels",
            ]
        );
        assert_eq!(
            attributes_for_scopes(&["openid", "email", "eckid"]),
            [
                "subject",
                "affiliation",
                "home_organization",
                "home_organization_branch",
                "groups",
                "jaargroep",
                "eck_id",
                "email",
            ]
        );
    }

    #[test]
    fn school_and_groups_are_parts_of_the_defaults_and_unknown_scopes_add_nothing() {
        assert_eq!(attributes_for_scopes(&["school"]), SCHOOL.to_vec());
        assert_eq!(attributes_for_scopes(&["groups"]), GROUPS.to_vec());
        assert!(attributes_for_scopes(&["address", "phone", ""]).is_empty());
        assert!(attributes_for_scopes(&[]).is_empty());
        // Repeated and overlapping scopes name each attribute once.
        assert_eq!(
            attributes_for_scopes(&["groups", "openid", "groups", "school"]),
            DEFAULTS.to_vec()
        );
    }

    #[test]
    fn api_scopes_ask_for_no_attribute_and_are_not_user_scopes() {
        for scope in API_SCOPES {
            assert!(is_api_scope(scope));
            assert!(!SUPPORTED_SCOPES.contains(&scope), "{scope}");
            assert!(attributes_for_scopes(&[scope]).is_empty(), "{scope}");
        }
        for scope in SUPPORTED_SCOPES {
            assert!(!is_api_scope(scope), "{scope}");
        }
    }

    #[test]
    fn every_supported_scope_asks_for_catalogue_attributes() {
        for scope in SUPPORTED_SCOPES {
            let attributes = attributes_for_scope(scope);
            assert!(!attributes.is_empty(), "{scope}");
            for attribute in attributes {
                assert!(CATALOGUE.contains(attribute), "{scope}: {attribute}");
            }
        }
    }
}
