//! Authentication context classes: the AuthnContextClassRef openpoort states for a login, and
//! whether a login meets an SP's RequestedAuthnContext (SAML Core 3.3.2.2.1).
//!
//! A class stands on a rung of one ladder; `minimum`, `better` and `maximum` compare rungs,
//! `exact` compares the class itself. The rungs leave room between them, so that a class added
//! later slots in without renumbering (as the second factor did, issue #21, above the password).

use serde::{Deserialize, Serialize};

use super::SamlError;
use super::dom::Element;
use super::{NS_ASSERTION, NS_PROTOCOL};
use crate::discovery::{
    ACR_HOME_CODE, ACR_MFA, ACR_NETWORK_PREFIX, ACR_PASSWORD, ACR_SCHOOL_NETWORK,
};

/// SAML's own class for a password sent over TLS (SAML Authentication Context 3.4.19), which is
/// what a staff member's password login is.
pub const PASSWORD_PROTECTED_TRANSPORT: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
/// SAML's class for a time-synchronised one-time code (SAML Authentication Context 3.4.21),
/// stated for a staff member's password followed by a code of their authenticator app (TOTP)
/// or a recovery code: the closest of SAML's classes, and the one SPs ask for a second factor.
pub const TIME_SYNC_TOKEN: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";

/// The rungs of the ladder, weakest first.
const RUNG_SCHOOL_NETWORK: u8 = 10;
const RUNG_HOME_CODE: u8 = 20;
const RUNG_NETWORK: u8 = 20;
const RUNG_PASSWORD: u8 = 30;
const RUNG_SECOND_FACTOR: u8 = 40;

/// The class openpoort states in an assertion for a login whose OIDC `acr` is `acr`: SAML's
/// standard class where one fits, openpoort's own otherwise.
pub fn class_ref(acr: &str) -> &str {
    match acr {
        ACR_PASSWORD => PASSWORD_PROTECTED_TRANSPORT,
        ACR_MFA => TIME_SYNC_TOKEN,
        _ => acr,
    }
}

/// The rung of a class openpoort knows; `None` for any other (which it can never meet). The
/// OIDC names of the password and second-factor classes are accepted as the same classes as
/// SAML's.
pub fn rung(class: &str) -> Option<u8> {
    match class {
        ACR_SCHOOL_NETWORK => Some(RUNG_SCHOOL_NETWORK),
        ACR_HOME_CODE => Some(RUNG_HOME_CODE),
        PASSWORD_PROTECTED_TRANSPORT | ACR_PASSWORD => Some(RUNG_PASSWORD),
        TIME_SYNC_TOKEN | ACR_MFA => Some(RUNG_SECOND_FACTOR),
        c if c
            .strip_prefix(ACR_NETWORK_PREFIX)
            .is_some_and(|code| !code.is_empty()) =>
        {
            Some(RUNG_NETWORK)
        }
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Exact,
    Minimum,
    Maximum,
    Better,
}

/// An AuthnRequest's RequestedAuthnContext. Classes by declaration (AuthnContextDeclRef) are
/// kept only as a count: openpoort states no declarations, so it can meet none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedAuthnContext {
    pub comparison: Comparison,
    pub class_refs: Vec<String>,
    #[serde(default)]
    pub decl_refs: usize,
}

impl RequestedAuthnContext {
    /// Reads the element of an AuthnRequest, if it has one.
    pub fn from_request(root: &Element) -> Result<Option<RequestedAuthnContext>, SamlError> {
        let Some(e) = root.child(NS_PROTOCOL, "RequestedAuthnContext") else {
            return Ok(None);
        };
        let comparison = match e.attr("Comparison") {
            None | Some("exact") => Comparison::Exact,
            Some("minimum") => Comparison::Minimum,
            Some("maximum") => Comparison::Maximum,
            Some("better") => Comparison::Better,
            Some(other) => {
                return Err(SamlError::invalid(format!(
                    "RequestedAuthnContext Comparison=\"{other}\" is not one of exact, minimum, maximum, better"
                )));
            }
        };
        let class_refs: Vec<String> = e
            .children(NS_ASSERTION, "AuthnContextClassRef")
            .map(|c| c.trimmed_text().to_owned())
            .collect();
        let decl_refs = e.children(NS_ASSERTION, "AuthnContextDeclRef").count();
        if class_refs.is_empty() && decl_refs == 0 {
            return Err(SamlError::invalid(
                "RequestedAuthnContext names no AuthnContextClassRef",
            ));
        }
        Ok(Some(RequestedAuthnContext {
            comparison,
            class_refs,
            decl_refs,
        }))
    }

    /// Whether a login of class `class` (as stated in the assertion) meets the request: for
    /// `exact` it is one of the classes asked for; for the others its rung stands at least as
    /// high as (`minimum`), higher than (`better`) or no higher than (`maximum`) that of at
    /// least one class asked for. Classes openpoort does not know take part in no comparison.
    pub fn is_met_by(&self, class: &str) -> bool {
        let Some(have) = rung(class) else {
            return false;
        };
        self.class_refs.iter().any(|asked| match self.comparison {
            Comparison::Exact => same(asked, class),
            Comparison::Minimum => rung(asked).is_some_and(|r| have >= r),
            Comparison::Better => rung(asked).is_some_and(|r| have > r),
            Comparison::Maximum => rung(asked).is_some_and(|r| have <= r),
        })
    }

    /// Whether any login openpoort offers could meet the request; when not, the SP is told at
    /// once rather than after the user has signed in for nothing.
    pub fn can_be_met(&self) -> bool {
        OFFERED.iter().any(|c| self.is_met_by(c)) || self.is_met_by(NETWORK_EXAMPLE)
    }
}

/// Every class openpoort states, for [`RequestedAuthnContext::can_be_met`].
const OFFERED: [&str; 4] = [
    ACR_SCHOOL_NETWORK,
    ACR_HOME_CODE,
    PASSWORD_PROTECTED_TRANSPORT,
    TIME_SYNC_TOKEN,
];
/// A brokered login's class stands for every provider's (they share a rung).
const NETWORK_EXAMPLE: &str = "urn:openpoort:acr:network:x";

/// Two names of one class: SAML's password or one-time-code class and openpoort's OIDC name
/// for it.
fn same(a: &str, b: &str) -> bool {
    class_ref(a) == class_ref(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(comparison: Comparison, classes: &[&str]) -> RequestedAuthnContext {
        RequestedAuthnContext {
            comparison,
            class_refs: classes.iter().map(|c| (*c).to_owned()).collect(),
            decl_refs: 0,
        }
    }

    #[test]
    fn a_password_login_is_stated_as_password_protected_transport_and_pupil_logins_keep_their_class()
     {
        assert_eq!(class_ref(ACR_PASSWORD), PASSWORD_PROTECTED_TRANSPORT);
        assert_eq!(class_ref(ACR_MFA), TIME_SYNC_TOKEN);
        assert_eq!(class_ref(ACR_SCHOOL_NETWORK), ACR_SCHOOL_NETWORK);
        assert_eq!(class_ref(ACR_HOME_CODE), ACR_HOME_CODE);
        assert_eq!(
            class_ref("urn:openpoort:acr:network:moo"),
            "urn:openpoort:acr:network:moo"
        );
    }

    #[test]
    fn comparison_exact_accepts_only_the_class_asked_for() {
        let r = asked(Comparison::Exact, &[PASSWORD_PROTECTED_TRANSPORT]);
        assert!(r.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
        assert!(!r.is_met_by(ACR_SCHOOL_NETWORK), "a lower class");
        assert!(!r.is_met_by(ACR_HOME_CODE));
        let home = asked(Comparison::Exact, &[ACR_HOME_CODE]);
        assert!(
            !home.is_met_by(PASSWORD_PROTECTED_TRANSPORT),
            "exact is not minimum: a higher class does not do either"
        );
        let by_oidc_name = asked(Comparison::Exact, &[ACR_PASSWORD]);
        assert!(by_oidc_name.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
    }

    #[test]
    fn comparison_minimum_accepts_the_class_asked_for_and_stronger_ones() {
        let r = asked(Comparison::Minimum, &[ACR_HOME_CODE]);
        assert!(r.is_met_by(ACR_HOME_CODE));
        assert!(r.is_met_by("urn:openpoort:acr:network:moo"), "same rung");
        assert!(r.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
        assert!(!r.is_met_by(ACR_SCHOOL_NETWORK));
    }

    #[test]
    fn comparison_better_accepts_only_stronger_classes() {
        let r = asked(Comparison::Better, &[ACR_HOME_CODE]);
        assert!(!r.is_met_by(ACR_HOME_CODE));
        assert!(r.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
        let above_password = asked(Comparison::Better, &[PASSWORD_PROTECTED_TRANSPORT]);
        assert!(
            above_password.is_met_by(TIME_SYNC_TOKEN),
            "the second factor"
        );
        assert!(!above_password.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
        let above_all = asked(Comparison::Better, &[TIME_SYNC_TOKEN]);
        assert!(!above_all.can_be_met(), "nothing above the second factor");
    }

    #[test]
    fn a_second_factor_stands_above_the_password_and_meets_a_minimum_of_it() {
        let minimum = asked(Comparison::Minimum, &[PASSWORD_PROTECTED_TRANSPORT]);
        assert!(minimum.is_met_by(TIME_SYNC_TOKEN));
        let exact = asked(Comparison::Exact, &[TIME_SYNC_TOKEN]);
        assert!(exact.is_met_by(TIME_SYNC_TOKEN));
        assert!(!exact.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
        assert!(asked(Comparison::Exact, &[ACR_MFA]).is_met_by(TIME_SYNC_TOKEN));
        let at_most_password = asked(Comparison::Maximum, &[PASSWORD_PROTECTED_TRANSPORT]);
        assert!(!at_most_password.is_met_by(TIME_SYNC_TOKEN));
    }

    #[test]
    fn comparison_maximum_accepts_the_class_asked_for_and_weaker_ones() {
        let r = asked(Comparison::Maximum, &[ACR_HOME_CODE]);
        assert!(r.is_met_by(ACR_SCHOOL_NETWORK));
        assert!(!r.is_met_by(PASSWORD_PROTECTED_TRANSPORT));
    }

    #[test]
    fn an_unknown_class_can_never_be_met_under_any_comparison() {
        for c in [
            Comparison::Exact,
            Comparison::Minimum,
            Comparison::Better,
            Comparison::Maximum,
        ] {
            let r = asked(c, &["urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"]);
            assert!(!r.can_be_met(), "{c:?}");
        }
        let mixed = asked(
            Comparison::Exact,
            &[
                "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
                PASSWORD_PROTECTED_TRANSPORT,
            ],
        );
        assert!(mixed.can_be_met(), "one known class in the list is enough");
    }

    #[test]
    fn the_requested_authn_context_of_a_request_is_read_with_its_comparison() {
        let xml = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef> urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport </saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#;
        let root =
            super::super::dom::parse(xml.as_bytes(), super::super::dom::Limits::MESSAGE).unwrap();
        let r = RequestedAuthnContext::from_request(&root).unwrap().unwrap();
        assert_eq!(r.comparison, Comparison::Minimum);
        assert_eq!(r.class_refs, [PASSWORD_PROTECTED_TRANSPORT]);
        let bad = xml.replace("minimum", "most");
        let root =
            super::super::dom::parse(bad.as_bytes(), super::super::dom::Limits::MESSAGE).unwrap();
        assert!(RequestedAuthnContext::from_request(&root).is_err());
    }
}
