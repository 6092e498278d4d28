//! OpenID Connect client registrations (OpenID Connect Dynamic Client Registration 1.0 names)
//! and the rules a registration must meet before openpoort will serve its client.

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::{Host, Url};

use crate::jose::{JwkProblem, jwks_keys, parse_jwk};
use crate::scopes::{API_SCOPES, SUPPORTED_SCOPES, is_api_scope};

const CLIENT_ID_LEN: (usize, usize) = (8, 128);
const NAME_LEN: (usize, usize) = (1, 200);
const PARTY_ID_LEN: (usize, usize) = (1, 128);
const SECTOR_LEN: (usize, usize) = (1, 255);
/// Far above any real callback URL, and low enough to keep redirects within what browsers and
/// proxies accept for a Location header with the code and state appended.
const MAX_URI_LEN: usize = 2048;

/// How a client authenticates at the token endpoint (registration names, RFC 7591 section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// A public client (a browser or native app) that cannot keep a secret; PKCE protects its
    /// codes instead.
    None,
}

impl TokenAuthMethod {
    pub const ALL: [TokenAuthMethod; 4] = [
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::PrivateKeyJwt,
        TokenAuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenAuthMethod::None => "none",
        }
    }
}

impl fmt::Display for TokenAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OAuth 2.0 grants a client may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    /// Machine-to-machine access to the roster API; never on behalf of a user.
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_id_token_alg() -> certs::Algorithm {
    certs::Algorithm::Rs256
}

/// One OIDC client of a party (publisher or network provider), as the operator registered it.
///
/// Optional fields default when absent from stored JSON, so that registrations written before a
/// field existed still load. The client secret is not part of the registration: the register
/// stores only its hash, next to this.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    /// The party (publisher or network provider) this client belongs to.
    pub party_id: String,
    /// Shown to users on consent and error pages.
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// The scopes the client may ask for (see [`crate::scopes`]).
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: TokenAuthMethod,
    /// Inline JWK Set with the client's public keys for private_key_jwt.
    #[serde(default)]
    pub jwks: Option<Value>,
    /// Where the client publishes its JWK Set for private_key_jwt.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    #[serde(default = "default_id_token_alg")]
    pub id_token_signed_response_alg: certs::Algorithm,
    /// The pairwise sector: clients that share one get the same `sub` for a user. `None` means
    /// the party's own sector.
    #[serde(default)]
    pub sector_identifier: Option<String>,
    /// Where openpoort posts logout tokens (OIDC Back-Channel Logout 1.0).
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Where the portal sends a user to start a login at the client (third-party initiated
    /// login, OIDC Core section 4): the portal's tiles.
    #[serde(default)]
    pub initiate_login_uri: Option<String>,
}

impl ClientRegistration {
    /// Checks every rule a registration must meet, and names the field and the rule broken
    /// first:
    ///
    /// - `client_id`: 8 to 128 characters of `A-Z a-z 0-9 . _ ~ -` (URL-safe, so it travels
    ///   unescaped in query strings and Basic authentication);
    /// - `party_id`: 1 to 128 characters; `name`: 1 to 200 characters, not blank, no control
    ///   characters;
    /// - `grant_types`: at least one, none twice; `refresh_token` only with
    ///   `authorization_code`; `client_credentials` only for confidential clients;
    /// - with `authorization_code`: at least one redirect URI, and `openid` among the scopes;
    /// - every redirect, post-logout redirect, back-channel logout, initiate-login URI and
    ///   `jwks_uri`: an absolute URL with `//` and a host after the scheme, of at most 2048
    ///   characters, no whitespace, control characters or backslashes, no wildcard (`*`), no
    ///   fragment, no user information, and https; in `development`, http is allowed for
    ///   loopback hosts only (`localhost`, 127.0.0.0/8, `[::1]`);
    /// - private_key_jwt: exactly one of `jwks` and `jwks_uri`; an inline set must hold at
    ///   least one RSA (2048 bits or more) or P-256 signing key, no private key material and no
    ///   kid twice; other methods must give neither;
    /// - `scopes`: each one of [`SUPPORTED_SCOPES`] or [`API_SCOPES`], none twice; an API scope
    ///   (`openpoort:admin`) only when `client_credentials` is the only grant type;
    /// - `sector_identifier`: 1 to 255 characters without whitespace or control characters.
    ///
    /// Public clients may register a back-channel logout URI: logging out a browser app's
    /// session is as useful as a server's.
    pub fn validate(&self, development: bool) -> Result<(), RegistrationError> {
        self.validate_identity()?;
        self.validate_grants()?;
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            check_uri(&format!("redirect_uris[{i}]"), uri, development)?;
        }
        check_unique("redirect_uris", &self.redirect_uris)?;
        for (i, uri) in self.post_logout_redirect_uris.iter().enumerate() {
            check_uri(&format!("post_logout_redirect_uris[{i}]"), uri, development)?;
        }
        check_unique("post_logout_redirect_uris", &self.post_logout_redirect_uris)?;
        if let Some(uri) = &self.backchannel_logout_uri {
            check_uri("backchannel_logout_uri", uri, development)?;
        }
        if let Some(uri) = &self.initiate_login_uri {
            check_uri("initiate_login_uri", uri, development)?;
        }
        self.validate_keys(development)?;
        self.validate_scopes()?;
        if let Some(sector) = &self.sector_identifier {
            check_length("sector_identifier", sector, SECTOR_LEN)?;
            if sector.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(RegistrationError::InvalidCharacters {
                    field: "sector_identifier".to_owned(),
                    value: sector.clone(),
                    allowed: "characters other than whitespace and control characters",
                    allowed_nl: "tekens die geen spatie of stuurteken zijn",
                });
            }
        }
        Ok(())
    }

    fn validate_identity(&self) -> Result<(), RegistrationError> {
        check_length("client_id", &self.client_id, CLIENT_ID_LEN)?;
        if !self
            .client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_~".contains(&b))
        {
            return Err(RegistrationError::InvalidCharacters {
                field: "client_id".to_owned(),
                value: self.client_id.clone(),
                allowed: "A-Z, a-z, 0-9 and . _ ~ -",
                allowed_nl: "A-Z, a-z, 0-9 en . _ ~ -",
            });
        }
        check_length("party_id", &self.party_id, PARTY_ID_LEN)?;
        if self.party_id.trim().is_empty() {
            return Err(RegistrationError::Required {
                field: "party_id".to_owned(),
                rule: "must not be blank",
                rule_nl: "mag niet leeg zijn",
            });
        }
        check_length("name", &self.name, NAME_LEN)?;
        if self.name.trim().is_empty() {
            return Err(RegistrationError::Required {
                field: "name".to_owned(),
                rule: "must not be blank",
                rule_nl: "mag niet leeg zijn",
            });
        }
        if self.name.chars().any(char::is_control) {
            return Err(RegistrationError::InvalidCharacters {
                field: "name".to_owned(),
                value: self.name.clone(),
                allowed: "printable characters (no line breaks or control characters)",
                allowed_nl: "leesbare tekens (geen regeleinden of stuurtekens)",
            });
        }
        Ok(())
    }

    fn validate_grants(&self) -> Result<(), RegistrationError> {
        if self.grant_types.is_empty() {
            return Err(RegistrationError::Required {
                field: "grant_types".to_owned(),
                rule: "at least one grant type is required",
                rule_nl: "er is minstens één grant type nodig",
            });
        }
        let names: Vec<&str> = self.grant_types.iter().map(|g| g.as_str()).collect();
        check_unique("grant_types", &names)?;
        let code = self.allows(GrantType::AuthorizationCode);
        if self.allows(GrantType::RefreshToken) && !code {
            return Err(RegistrationError::Conflict {
                field: "grant_types".to_owned(),
                rule: "refresh_token requires authorization_code",
                rule_nl: "refresh_token kan alleen samen met authorization_code",
            });
        }
        if self.allows(GrantType::ClientCredentials) && self.is_public() {
            return Err(RegistrationError::Conflict {
                field: "grant_types".to_owned(),
                rule: "client_credentials requires a confidential client \
                       (token_endpoint_auth_method must not be none)",
                rule_nl: "client_credentials is alleen voor vertrouwelijke clients \
                          (token_endpoint_auth_method mag niet none zijn)",
            });
        }
        if code && self.redirect_uris.is_empty() {
            return Err(RegistrationError::Required {
                field: "redirect_uris".to_owned(),
                rule: "at least one redirect URI is required when authorization_code is granted",
                rule_nl: "met authorization_code is minstens één redirect-URI nodig",
            });
        }
        if code && !self.scopes.iter().any(|s| s == "openid") {
            return Err(RegistrationError::Required {
                field: "scopes".to_owned(),
                rule: "must include openid when authorization_code is granted",
                rule_nl: "moet openid bevatten wanneer authorization_code is toegestaan",
            });
        }
        Ok(())
    }

    fn validate_keys(&self, development: bool) -> Result<(), RegistrationError> {
        if self.token_endpoint_auth_method != TokenAuthMethod::PrivateKeyJwt {
            // Keys that nothing uses are a sign of a misunderstood registration; refusing them
            // keeps an operator from believing a client authenticates with them.
            for (field, given) in [
                ("jwks", self.jwks.is_some()),
                ("jwks_uri", self.jwks_uri.is_some()),
            ] {
                if given {
                    return Err(RegistrationError::Conflict {
                        field: field.to_owned(),
                        rule: "is only used with token_endpoint_auth_method private_key_jwt",
                        rule_nl: "wordt alleen gebruikt met token_endpoint_auth_method private_key_jwt",
                    });
                }
            }
            return Ok(());
        }
        match (&self.jwks, &self.jwks_uri) {
            (None, None) => Err(RegistrationError::Required {
                field: "jwks".to_owned(),
                rule: "private_key_jwt requires jwks or jwks_uri",
                rule_nl: "private_key_jwt vraagt om jwks of jwks_uri",
            }),
            (Some(_), Some(_)) => Err(RegistrationError::Conflict {
                field: "jwks_uri".to_owned(),
                rule: "give either jwks or jwks_uri, not both",
                rule_nl: "geef jwks of jwks_uri, niet allebei",
            }),
            (Some(jwks), None) => check_client_jwks(jwks),
            (None, Some(uri)) => check_uri("jwks_uri", uri, development),
        }
    }

    fn validate_scopes(&self) -> Result<(), RegistrationError> {
        for (i, scope) in self.scopes.iter().enumerate() {
            if is_api_scope(scope) {
                // An API scope grants access to openpoort itself: only a machine client that
                // never takes part in a user's login may hold it, so that no authorization
                // request, stolen code or refresh token can ever carry it.
                if self.grant_types != [GrantType::ClientCredentials] {
                    return Err(RegistrationError::Conflict {
                        field: format!("scopes[{i}]"),
                        rule: "is an API scope: only for clients whose only grant type is \
                               client_credentials",
                        rule_nl: "is een API-scope: alleen voor clients met client_credentials \
                                  als enige grant type",
                    });
                }
            } else if !SUPPORTED_SCOPES.contains(&scope.as_str()) {
                return Err(RegistrationError::UnknownScope {
                    field: format!("scopes[{i}]"),
                    value: scope.clone(),
                });
            }
        }
        check_unique("scopes", &self.scopes)
    }

    /// Whether the client cannot authenticate (auth method `none`).
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == TokenAuthMethod::None
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether `uri` is one of the registered redirect URIs, compared as exact strings with no
    /// normalisation (OAuth 2.0 Security BCP, RFC 9700 section 4.1.3): every normalisation is a
    /// chance to accept a URI the client never registered.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    /// Like [`ClientRegistration::has_redirect_uri`], for RP-initiated logout.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    /// The pairwise sector for this client (see [`crate::pairwise_sector`]).
    pub fn sector(&self) -> String {
        crate::pairwise_sector(&self.party_id, self.sector_identifier.as_deref())
    }
}

/// A rule a registration breaks, naming the field (`redirect_uris[1]`, `jwks.keys[0]`) so that
/// an admin form can mark it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("{field}: must be {min} to {max} characters long (got {actual})")]
    Length {
        field: String,
        min: usize,
        max: usize,
        actual: usize,
    },

    #[error("{field}: {value:?} may contain only {allowed}")]
    InvalidCharacters {
        field: String,
        value: String,
        allowed: &'static str,
        allowed_nl: &'static str,
    },

    #[error("{field}: {value:?} {rule}")]
    InvalidUri {
        field: String,
        value: String,
        rule: UriRule,
    },

    /// Something the rest of the registration makes necessary is missing.
    #[error("{field}: {rule}")]
    Required {
        field: String,
        rule: &'static str,
        rule_nl: &'static str,
    },

    /// The field does not go with another part of the registration.
    #[error("{field}: {rule}")]
    Conflict {
        field: String,
        rule: &'static str,
        rule_nl: &'static str,
    },

    #[error(
        "{field}: {value:?} is not a supported scope (supported: {})",
        supported_scopes()
    )]
    UnknownScope { field: String, value: String },

    #[error("{field}: {value:?} is listed more than once")]
    Duplicate { field: String, value: String },

    #[error("{field}: {reason}")]
    InvalidJwks { field: String, reason: String },
}

fn supported_scopes() -> String {
    SUPPORTED_SCOPES
        .iter()
        .chain(API_SCOPES.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

impl RegistrationError {
    /// The same as [`fmt::Display`], in Dutch, for the admin API and the command line, which
    /// speak Dutch first.
    pub fn message_nl(&self) -> String {
        match self {
            RegistrationError::Length {
                field,
                min,
                max,
                actual,
            } => format!("{field}: moet {min} tot {max} tekens lang zijn (nu {actual})"),
            RegistrationError::InvalidCharacters {
                field,
                value,
                allowed_nl,
                ..
            } => format!("{field}: {value:?} mag alleen {allowed_nl} bevatten"),
            RegistrationError::InvalidUri { field, value, rule } => {
                format!("{field}: {value:?} {}", rule.message_nl())
            }
            RegistrationError::Required { field, rule_nl, .. }
            | RegistrationError::Conflict { field, rule_nl, .. } => format!("{field}: {rule_nl}"),
            RegistrationError::UnknownScope { field, value } => format!(
                "{field}: {value:?} is geen ondersteunde scope (ondersteund: {})",
                supported_scopes()
            ),
            RegistrationError::Duplicate { field, value } => {
                format!("{field}: {value:?} staat er meer dan eens in")
            }
            RegistrationError::InvalidJwks { field, reason } => {
                format!("{field}: geen bruikbare sleutelset ({reason})")
            }
        }
    }

    /// The field the error is about, with an index for list elements.
    pub fn field(&self) -> &str {
        match self {
            RegistrationError::Length { field, .. }
            | RegistrationError::InvalidCharacters { field, .. }
            | RegistrationError::InvalidUri { field, .. }
            | RegistrationError::Required { field, .. }
            | RegistrationError::Conflict { field, .. }
            | RegistrationError::UnknownScope { field, .. }
            | RegistrationError::Duplicate { field, .. }
            | RegistrationError::InvalidJwks { field, .. } => field,
        }
    }
}

/// What is wrong with a registered URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriRule {
    TooLong,
    ForbiddenCharacter,
    Wildcard,
    Fragment,
    NotAbsolute,
    NoAuthority,
    UserInfo,
    NotHttps,
}

impl UriRule {
    /// What is wrong, in Dutch, after the quoted value.
    pub fn message_nl(self) -> String {
        match self {
            UriRule::TooLong => format!("is langer dan {MAX_URI_LEN} tekens"),
            UriRule::ForbiddenCharacter => {
                "mag geen spaties, stuurtekens of backslashes bevatten".to_owned()
            }
            UriRule::Wildcard => "mag geen jokertekens ('*') bevatten".to_owned(),
            UriRule::Fragment => "mag geen fragment ('#') bevatten".to_owned(),
            UriRule::NotAbsolute => "is geen absolute URL".to_owned(),
            UriRule::NoAuthority => "moet na het schema '//' en een host hebben".to_owned(),
            UriRule::UserInfo => "mag geen gebruikersgegevens ('user@') bevatten".to_owned(),
            UriRule::NotHttps => {
                "moet https gebruiken (http alleen voor localhost in ontwikkelmodus)".to_owned()
            }
        }
    }
}

impl fmt::Display for UriRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriRule::TooLong => write!(f, "is longer than {MAX_URI_LEN} characters"),
            UriRule::ForbiddenCharacter => {
                f.write_str("must not contain whitespace, control characters or backslashes")
            }
            UriRule::Wildcard => f.write_str("must not contain wildcards ('*')"),
            UriRule::Fragment => f.write_str("must not contain a fragment ('#')"),
            UriRule::NotAbsolute => f.write_str("is not an absolute URL"),
            UriRule::NoAuthority => f.write_str("must have '//' and a host after the scheme"),
            UriRule::UserInfo => f.write_str("must not contain user information ('user@')"),
            UriRule::NotHttps => {
                f.write_str("must use https (http only for localhost in development mode)")
            }
        }
    }
}

fn check_length(
    field: &str,
    value: &str,
    (min, max): (usize, usize),
) -> Result<(), RegistrationError> {
    let actual = value.chars().count();
    if (min..=max).contains(&actual) {
        Ok(())
    } else {
        Err(RegistrationError::Length {
            field: field.to_owned(),
            min,
            max,
            actual,
        })
    }
}

fn check_unique<T: AsRef<str>>(field: &str, values: &[T]) -> Result<(), RegistrationError> {
    let mut seen = HashSet::new();
    match values.iter().find(|&v| !seen.insert(v.as_ref())) {
        Some(value) => Err(RegistrationError::Duplicate {
            field: field.to_owned(),
            value: value.as_ref().to_owned(),
        }),
        None => Ok(()),
    }
}

/// The rules for every URI in a registration (see [`ClientRegistration::validate`]).
///
/// Checks run on the raw string before parsing, because the URL parser repairs what it can
/// (it trims spaces, turns `\` into `/`, drops an empty `@`) and the raw string is what is
/// matched and redirected to.
pub(crate) fn check_uri(
    field: &str,
    uri: &str,
    development: bool,
) -> Result<(), RegistrationError> {
    let fail = |rule| {
        Err(RegistrationError::InvalidUri {
            field: field.to_owned(),
            value: uri.to_owned(),
            rule,
        })
    };
    if uri.chars().count() > MAX_URI_LEN {
        return fail(UriRule::TooLong);
    }
    if uri
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return fail(UriRule::ForbiddenCharacter);
    }
    if uri.contains('*') {
        return fail(UriRule::Wildcard);
    }
    if uri.contains('#') {
        return fail(UriRule::Fragment);
    }
    let Ok(url) = Url::parse(uri) else {
        return fail(UriRule::NotAbsolute);
    };
    if authority(uri).contains('@') || !url.username().is_empty() || url.password().is_some() {
        return fail(UriRule::UserInfo);
    }
    let allowed = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => development && url.host().is_some_and(is_loopback),
        _ => false,
    };
    if !allowed {
        return fail(UriRule::NotHttps);
    }
    // The parser repairs `https:/host/cb`, `https:host/cb` and `https:///host/cb` into
    // `https://host/cb`, but the raw string is what is matched and redirected to, and a client
    // that registered one of those would not send it back repaired.
    let after_scheme = uri
        .get(url.scheme().len()..)
        .and_then(|rest| rest.strip_prefix("://"));
    if !after_scheme.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')) {
        return fail(UriRule::NoAuthority);
    }
    Ok(())
}

/// The authority part of a raw URI (between `//` and the path, query or fragment), or "".
fn authority(uri: &str) -> &str {
    uri.split_once("//").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or_default()
    })
}

/// Loopback hosts as RFC 8252 section 7.3 names them for native apps; `localhost` is the name
/// developers type.
fn is_loopback(host: Host<&str>) -> bool {
    match host {
        Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip == Ipv6Addr::LOCALHOST,
    }
}

/// An inline JWK Set for private_key_jwt. Keys of other kinds (encryption keys, unknown key
/// types) are passed over as RFC 7517 section 5 allows; keys openpoort would verify with must
/// be sound, and at least one must exist.
fn check_client_jwks(jwks: &Value) -> Result<(), RegistrationError> {
    let keys = jwks_keys(jwks).map_err(|err| RegistrationError::InvalidJwks {
        field: "jwks".to_owned(),
        reason: match err {
            crate::jose::JoseError::InvalidJwks(reason) => format!("not a JWK Set: {reason}"),
            other => other.to_string(),
        },
    })?;
    let mut kids = HashSet::new();
    let mut usable = 0;
    for (i, value) in keys.iter().enumerate() {
        match parse_jwk(value) {
            Ok(key) => {
                if let Some(kid) = key.kid
                    && !kids.insert(kid.clone())
                {
                    return Err(RegistrationError::Duplicate {
                        field: format!("jwks.keys[{i}].kid"),
                        value: kid,
                    });
                }
                usable += 1;
            }
            Err(JwkProblem::Unusable(_)) => {}
            Err(JwkProblem::Malformed(reason)) => {
                return Err(RegistrationError::InvalidJwks {
                    field: format!("jwks.keys[{i}]"),
                    reason,
                });
            }
        }
    }
    if usable == 0 {
        return Err(RegistrationError::InvalidJwks {
            field: "jwks".to_owned(),
            reason: "holds no signing key for RS256, PS256 or ES256 (RSA of 2048 bits or more, \
                     or EC P-256)"
                .to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::tests::key_pair;
    use serde_json::json;

    fn confidential() -> ClientRegistration {
        ClientRegistration {
            client_id: "uitgeverij-rekenen".to_owned(),
            party_id: "party-1".to_owned(),
            name: "Rekenen Plus".to_owned(),
            redirect_uris: vec!["https://rekenen.example.nl/oidc/callback".to_owned()],
            post_logout_redirect_uris: vec!["https://rekenen.example.nl/".to_owned()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: vec!["openid".to_owned(), "profile".to_owned()],
            token_endpoint_auth_method: TokenAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            id_token_signed_response_alg: certs::Algorithm::Rs256,
            sector_identifier: None,
            backchannel_logout_uri: Some("https://rekenen.example.nl/oidc/logout".to_owned()),
            initiate_login_uri: Some("https://rekenen.example.nl/login".to_owned()),
        }
    }

    fn public() -> ClientRegistration {
        ClientRegistration {
            client_id: "lees-app.spa".to_owned(),
            token_endpoint_auth_method: TokenAuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec!["https://lees.example.nl/cb".to_owned()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            initiate_login_uri: None,
            scopes: vec!["openid".to_owned()],
            ..confidential()
        }
    }

    fn private_key_jwt() -> ClientRegistration {
        let (es, _) = key_pair(certs::Algorithm::Es256);
        ClientRegistration {
            token_endpoint_auth_method: TokenAuthMethod::PrivateKeyJwt,
            jwks: Some(crate::jwks::jwk_set(&[es]).unwrap()),
            ..confidential()
        }
    }

    fn roster_reader() -> ClientRegistration {
        ClientRegistration {
            client_id: "roster-reader".to_owned(),
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            initiate_login_uri: None,
            scopes: vec!["school".to_owned(), "groups".to_owned()],
            ..confidential()
        }
    }

    fn error(registration: &ClientRegistration) -> RegistrationError {
        registration.validate(false).unwrap_err()
    }

    #[test]
    fn valid_confidential_and_public_registrations_pass() {
        for registration in [confidential(), public(), private_key_jwt(), roster_reader()] {
            assert_eq!(registration.validate(false), Ok(()), "{registration:?}");
            assert_eq!(registration.validate(true), Ok(()), "{registration:?}");
        }
        assert!(public().is_public());
        assert!(!confidential().is_public());
        assert!(confidential().allows(GrantType::RefreshToken));
        assert!(!confidential().allows(GrantType::ClientCredentials));

        let with_jwks_uri = ClientRegistration {
            jwks: None,
            jwks_uri: Some("https://rekenen.example.nl/jwks.json".to_owned()),
            ..private_key_jwt()
        };
        assert_eq!(with_jwks_uri.validate(false), Ok(()));
        let with_sector = ClientRegistration {
            sector_identifier: Some("rekenen.example.nl".to_owned()),
            ..confidential()
        };
        assert_eq!(with_sector.validate(false), Ok(()));
    }

    #[test]
    fn a_clients_sector_never_reaches_beyond_its_party() {
        let of = |party: &str, sector: Option<&str>| ClientRegistration {
            party_id: party.to_owned(),
            sector_identifier: sector.map(str::to_owned),
            ..confidential()
        };
        let a = of("a", None).sector();
        assert_eq!(a, "party:a");
        // Naming another party's sector, plainly or as that party's own custom sector, gives a
        // sector of one's own party: never the same pseudonyms as the other party's clients.
        assert_ne!(of("b", Some("party:a")).sector(), a);
        assert_ne!(
            of("b", Some("rekenen.example.nl")).sector(),
            of("a", Some("rekenen.example.nl")).sector()
        );
        // Within one party a named sector is shared, and differs from the party's default.
        assert_eq!(
            of("a", Some("rekenen.example.nl")).sector(),
            of("a", Some("rekenen.example.nl")).sector()
        );
        assert_ne!(of("a", Some("rekenen.example.nl")).sector(), a);
    }

    #[test]
    fn redirect_uri_must_be_https_except_loopback_in_development() {
        for uri in [
            "http://localhost/cb",
            "http://localhost:8080/cb",
            "http://LOCALHOST:3000/cb",
            "http://127.0.0.1:8080/cb",
            "http://127.1.2.3/cb",
            "http://[::1]:8080/cb",
        ] {
            let registration = ClientRegistration {
                redirect_uris: vec![uri.to_owned()],
                ..public()
            };
            assert_eq!(registration.validate(true), Ok(()), "{uri}");
            assert!(
                matches!(
                    registration.validate(false),
                    Err(RegistrationError::InvalidUri {
                        rule: UriRule::NotHttps,
                        ..
                    })
                ),
                "{uri} must be refused outside development"
            );
        }
        for uri in [
            "http://example.org/cb",
            "http://localhost.example.org/cb",
            "http://127.0.0.1.nip.io/cb",
            "http://10.0.0.1/cb",
            "http://[::2]/cb",
            "ftp://localhost/cb",
            "nl.uitgeverij.app:/cb",
            "javascript://localhost/%0aalert(1)",
        ] {
            let registration = ClientRegistration {
                redirect_uris: vec!["https://ok.example.nl/cb".to_owned(), uri.to_owned()],
                ..public()
            };
            let err = registration.validate(true).unwrap_err();
            assert_eq!(err.field(), "redirect_uris[1]", "{uri}: {err}");
            assert!(
                matches!(
                    err,
                    RegistrationError::InvalidUri {
                        rule: UriRule::NotHttps,
                        ..
                    }
                ),
                "{uri}: {err}"
            );
        }
        // The same rules hold for every other URI of a registration.
        let registration = ClientRegistration {
            post_logout_redirect_uris: vec!["http://rekenen.example.nl/".to_owned()],
            ..confidential()
        };
        assert_eq!(error(&registration).field(), "post_logout_redirect_uris[0]");
        for (field, registration) in [
            (
                "backchannel_logout_uri",
                ClientRegistration {
                    backchannel_logout_uri: Some("http://rekenen.example.nl/logout".to_owned()),
                    ..confidential()
                },
            ),
            (
                "initiate_login_uri",
                ClientRegistration {
                    initiate_login_uri: Some("http://rekenen.example.nl/login".to_owned()),
                    ..confidential()
                },
            ),
            (
                "jwks_uri",
                ClientRegistration {
                    jwks: None,
                    jwks_uri: Some("http://rekenen.example.nl/jwks".to_owned()),
                    ..private_key_jwt()
                },
            ),
        ] {
            assert_eq!(error(&registration).field(), field);
        }
    }

    #[test]
    fn redirect_uri_with_fragment_or_wildcard_is_refused() {
        for (uri, rule) in [
            ("https://rekenen.example.nl/cb#section", UriRule::Fragment),
            ("https://rekenen.example.nl/cb#", UriRule::Fragment),
            ("https://*.example.nl/cb", UriRule::Wildcard),
            ("https://rekenen.example.nl/*", UriRule::Wildcard),
            ("https://user@rekenen.example.nl/cb", UriRule::UserInfo),
            ("https://user:pw@rekenen.example.nl/cb", UriRule::UserInfo),
            ("https://@rekenen.example.nl/cb", UriRule::UserInfo),
            (
                "https://evil.example\\@rekenen.example.nl/",
                UriRule::ForbiddenCharacter,
            ),
            (
                " https://rekenen.example.nl/cb",
                UriRule::ForbiddenCharacter,
            ),
            (
                "https://rekenen.example.nl/c b",
                UriRule::ForbiddenCharacter,
            ),
            (
                "https://rekenen.example.nl/cb\n",
                UriRule::ForbiddenCharacter,
            ),
            ("/oidc/callback", UriRule::NotAbsolute),
            ("rekenen.example.nl/cb", UriRule::NotAbsolute),
            ("", UriRule::NotAbsolute),
        ] {
            let registration = ClientRegistration {
                redirect_uris: vec![uri.to_owned()],
                ..confidential()
            };
            assert_eq!(
                registration.validate(true),
                Err(RegistrationError::InvalidUri {
                    field: "redirect_uris[0]".to_owned(),
                    value: uri.to_owned(),
                    rule,
                }),
                "{uri:?}"
            );
        }
        let long = format!("https://rekenen.example.nl/{}", "a".repeat(MAX_URI_LEN));
        let registration = ClientRegistration {
            redirect_uris: vec![long],
            ..confidential()
        };
        assert!(matches!(
            error(&registration),
            RegistrationError::InvalidUri {
                rule: UriRule::TooLong,
                ..
            }
        ));
        // A query string is allowed (OAuth 2.0 section 3.1.2); matching stays exact.
        let registration = ClientRegistration {
            redirect_uris: vec!["https://rekenen.example.nl/cb?school=1".to_owned()],
            ..confidential()
        };
        assert_eq!(registration.validate(false), Ok(()));
    }

    #[test]
    fn a_redirect_uri_without_two_slashes_and_a_host_after_the_scheme_is_refused() {
        for uri in [
            "https:/rekenen.example.nl/cb",
            "https:rekenen.example.nl/cb",
            "https:///rekenen.example.nl/cb",
            "HTTPS:/rekenen.example.nl/cb",
        ] {
            let registration = ClientRegistration {
                redirect_uris: vec![uri.to_owned()],
                ..confidential()
            };
            assert_eq!(
                registration.validate(false),
                Err(RegistrationError::InvalidUri {
                    field: "redirect_uris[0]".to_owned(),
                    value: uri.to_owned(),
                    rule: UriRule::NoAuthority,
                }),
                "{uri:?}"
            );
        }
        let registration = ClientRegistration {
            redirect_uris: vec!["HTTPS://rekenen.example.nl/cb".to_owned()],
            ..confidential()
        };
        assert_eq!(registration.validate(false), Ok(()));
    }

    #[test]
    fn public_client_cannot_use_client_credentials() {
        let registration = ClientRegistration {
            grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
            ..public()
        };
        let err = error(&registration);
        assert_eq!(err.field(), "grant_types");
        assert!(err.to_string().contains("confidential"), "{err}");
        let confidential = ClientRegistration {
            token_endpoint_auth_method: TokenAuthMethod::ClientSecretPost,
            ..registration
        };
        assert_eq!(confidential.validate(false), Ok(()));
    }

    #[test]
    fn private_key_jwt_needs_exactly_one_of_jwks_and_jwks_uri() {
        let neither = ClientRegistration {
            jwks: None,
            ..private_key_jwt()
        };
        assert!(matches!(
            error(&neither),
            RegistrationError::Required { ref field, .. } if field == "jwks"
        ));
        let both = ClientRegistration {
            jwks_uri: Some("https://rekenen.example.nl/jwks.json".to_owned()),
            ..private_key_jwt()
        };
        assert!(matches!(
            error(&both),
            RegistrationError::Conflict { ref field, .. } if field == "jwks_uri"
        ));
        // A secret-based client with keys has misunderstood something.
        let stray = ClientRegistration {
            token_endpoint_auth_method: TokenAuthMethod::ClientSecretBasic,
            ..private_key_jwt()
        };
        assert_eq!(error(&stray).field(), "jwks");
    }

    #[test]
    fn private_key_jwt_keys_must_be_usable_public_signing_keys() {
        let (es, es_key) = key_pair(certs::Algorithm::Es256);
        let (rs, _) = key_pair(certs::Algorithm::Rs256);
        let es_jwk = crate::jwks::jwk(&es).unwrap();
        let with_keys = |keys: Value| ClientRegistration {
            jwks: Some(keys),
            ..private_key_jwt()
        };

        // An encryption key and an unknown key type are passed over next to a signing key.
        let mut encryption = crate::jwks::jwk(&rs).unwrap();
        encryption["use"] = json!("enc");
        encryption["kid"] = json!("enc-1");
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            with_keys(json!({"keys": [encryption.clone(), okp.clone(), es_jwk.clone()]}))
                .validate(false),
            Ok(())
        );
        for keys in [json!({"keys": [encryption, okp]}), json!({"keys": []})] {
            let err = error(&with_keys(keys));
            assert_eq!(err.field(), "jwks", "{err}");
        }
        for not_a_set in [
            json!([es_jwk.clone()]),
            json!({"keys": es_jwk.clone()}),
            json!("keys"),
        ] {
            assert_eq!(error(&with_keys(not_a_set)).field(), "jwks");
        }

        let mut private = es_jwk.clone();
        let d = es_key
            .pkey()
            .ec_key()
            .unwrap()
            .private_key()
            .to_vec_padded(32)
            .unwrap();
        private["d"] = json!(base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            d
        ));
        let err = error(&with_keys(json!({"keys": [es_jwk.clone(), private]})));
        assert_eq!(err.field(), "jwks.keys[1]", "{err}");
        assert!(err.to_string().contains("private"), "{err}");

        let mut short_x = es_jwk.clone();
        short_x["x"] = json!("AAAA");
        assert_eq!(
            error(&with_keys(json!({"keys": [short_x]}))).field(),
            "jwks.keys[0]"
        );

        let err = error(&with_keys(json!({"keys": [es_jwk.clone(), es_jwk]})));
        assert!(
            matches!(err, RegistrationError::Duplicate { ref field, .. } if field == "jwks.keys[1].kid"),
            "{err}"
        );
    }

    fn admin() -> ClientRegistration {
        ClientRegistration {
            client_id: "beheer-koppeling".to_owned(),
            scopes: vec![crate::scopes::ADMIN_SCOPE.to_owned()],
            ..roster_reader()
        }
    }

    #[test]
    fn admin_scope_is_only_for_client_credentials_only_clients() {
        assert_eq!(admin().validate(false), Ok(()));
        let with_roster = ClientRegistration {
            scopes: vec!["school".to_owned(), crate::scopes::ADMIN_SCOPE.to_owned()],
            ..admin()
        };
        assert_eq!(with_roster.validate(false), Ok(()));
        // A client that can take part in a user's login can never hold it: not with the code
        // flow next to client credentials, and not as a code-flow client.
        for grant_types in [
            vec![GrantType::ClientCredentials, GrantType::AuthorizationCode],
            vec![GrantType::AuthorizationCode],
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        ] {
            let registration = ClientRegistration {
                grant_types,
                redirect_uris: confidential().redirect_uris,
                scopes: vec!["openid".to_owned(), crate::scopes::ADMIN_SCOPE.to_owned()],
                ..admin()
            };
            let err = error(&registration);
            assert_eq!(err.field(), "scopes[1]", "{err}");
            assert!(err.to_string().contains("client_credentials"), "{err}");
            assert!(err.message_nl().contains("API-scope"), "{err}");
        }
        // A public client cannot use client credentials at all, so not the admin scope either.
        let public_admin = ClientRegistration {
            token_endpoint_auth_method: TokenAuthMethod::None,
            ..admin()
        };
        assert_eq!(error(&public_admin).field(), "grant_types");
    }

    #[test]
    fn every_error_has_a_dutch_message_naming_the_same_field() {
        let (es, _) = key_pair(certs::Algorithm::Es256);
        for registration in [
            ClientRegistration {
                client_id: "short".to_owned(),
                ..confidential()
            },
            ClientRegistration {
                client_id: "a/bcdefghij".to_owned(),
                ..confidential()
            },
            ClientRegistration {
                name: " ".to_owned(),
                ..confidential()
            },
            ClientRegistration {
                grant_types: vec![],
                ..confidential()
            },
            ClientRegistration {
                redirect_uris: vec!["http://example.org/cb".to_owned()],
                ..confidential()
            },
            ClientRegistration {
                scopes: vec!["openid".to_owned(), "address".to_owned()],
                ..confidential()
            },
            ClientRegistration {
                scopes: vec!["openid".to_owned(), "openid".to_owned()],
                ..confidential()
            },
            ClientRegistration {
                jwks: Some(json!({"keys": []})),
                ..private_key_jwt()
            },
            ClientRegistration {
                jwks: Some(crate::jwks::jwk_set(&[es]).unwrap()),
                ..confidential()
            },
        ] {
            let err = error(&registration);
            let (en, nl) = (err.to_string(), err.message_nl());
            assert!(nl.starts_with(&format!("{}: ", err.field())), "{nl}");
            assert_ne!(en, nl, "the Dutch message must not be the English one");
        }
        let unknown = error(&ClientRegistration {
            scopes: vec!["openid".to_owned(), "address".to_owned()],
            ..confidential()
        });
        assert!(
            unknown.message_nl().contains("openpoort:admin"),
            "{unknown}"
        );
        assert!(unknown.to_string().contains("openpoort:admin"), "{unknown}");
    }

    #[test]
    fn refresh_token_requires_authorization_code() {
        let registration = ClientRegistration {
            grant_types: vec![GrantType::ClientCredentials, GrantType::RefreshToken],
            ..roster_reader()
        };
        assert_eq!(
            error(&registration),
            RegistrationError::Conflict {
                field: "grant_types".to_owned(),
                rule: "refresh_token requires authorization_code",
                rule_nl: "refresh_token kan alleen samen met authorization_code",
            }
        );
    }

    #[test]
    fn authorization_code_needs_redirect_uris_and_openid() {
        let no_redirect = ClientRegistration {
            redirect_uris: vec![],
            ..confidential()
        };
        assert_eq!(error(&no_redirect).field(), "redirect_uris");
        let no_openid = ClientRegistration {
            scopes: vec!["profile".to_owned()],
            ..confidential()
        };
        assert_eq!(error(&no_openid).field(), "scopes");
        let unknown = ClientRegistration {
            scopes: vec!["openid".to_owned(), "address".to_owned()],
            ..confidential()
        };
        let err = error(&unknown);
        assert_eq!(err.field(), "scopes[1]");
        assert!(err.to_string().contains("eckid"), "{err}");
        let twice = ClientRegistration {
            scopes: vec!["openid".to_owned(), "openid".to_owned()],
            ..confidential()
        };
        assert!(matches!(error(&twice), RegistrationError::Duplicate { .. }));
        let none = ClientRegistration {
            grant_types: vec![],
            ..confidential()
        };
        assert_eq!(error(&none).field(), "grant_types");
    }

    #[test]
    fn redirect_uri_matching_is_exact() {
        let registration = confidential();
        let registered = "https://rekenen.example.nl/oidc/callback";
        assert!(registration.has_redirect_uri(registered));
        for other in [
            "https://rekenen.example.nl/oidc/callback/",
            "https://rekenen.example.nl/oidc/Callback",
            "https://rekenen.example.nl/oidc/callback?x=1",
            "https://REKENEN.example.nl/oidc/callback",
            "https://rekenen.example.nl:443/oidc/callback",
            "https://rekenen.example.nl/oidc/%63allback",
            "https://rekenen.example.nl/oidc/callback#",
            "https://rekenen.example.nl/oidc/callback ",
            "",
        ] {
            assert!(!registration.has_redirect_uri(other), "{other}");
        }
        assert!(registration.has_post_logout_redirect_uri("https://rekenen.example.nl/"));
        assert!(!registration.has_post_logout_redirect_uri("https://rekenen.example.nl"));
        assert!(!registration.has_post_logout_redirect_uri(registered));
    }

    #[test]
    fn error_names_the_field() {
        let registration = ClientRegistration {
            redirect_uris: vec![
                "https://rekenen.example.nl/cb".to_owned(),
                "http://example.org/cb".to_owned(),
            ],
            ..confidential()
        };
        let err = error(&registration);
        assert_eq!(err.field(), "redirect_uris[1]");
        assert_eq!(
            err.to_string(),
            "redirect_uris[1]: \"http://example.org/cb\" must use https (http only for localhost \
             in development mode)"
        );

        for (registration, field, needle) in [
            (
                ClientRegistration {
                    client_id: "short".to_owned(),
                    ..confidential()
                },
                "client_id",
                "8 to 128 characters",
            ),
            (
                ClientRegistration {
                    client_id: "uitgeverij/rekenen".to_owned(),
                    ..confidential()
                },
                "client_id",
                "A-Z, a-z, 0-9",
            ),
            (
                ClientRegistration {
                    client_id: "x".repeat(129),
                    ..confidential()
                },
                "client_id",
                "got 129",
            ),
            (
                ClientRegistration {
                    name: String::new(),
                    ..confidential()
                },
                "name",
                "1 to 200",
            ),
            (
                ClientRegistration {
                    name: "   ".to_owned(),
                    ..confidential()
                },
                "name",
                "blank",
            ),
            (
                ClientRegistration {
                    name: "a\nb".to_owned(),
                    ..confidential()
                },
                "name",
                "control",
            ),
            (
                ClientRegistration {
                    name: "n".repeat(201),
                    ..confidential()
                },
                "name",
                "got 201",
            ),
            (
                ClientRegistration {
                    party_id: String::new(),
                    ..confidential()
                },
                "party_id",
                "1 to 128",
            ),
            (
                ClientRegistration {
                    sector_identifier: Some(String::new()),
                    ..confidential()
                },
                "sector_identifier",
                "1 to 255",
            ),
            (
                ClientRegistration {
                    sector_identifier: Some("a b".to_owned()),
                    ..confidential()
                },
                "sector_identifier",
                "whitespace",
            ),
            (
                ClientRegistration {
                    sector_identifier: Some("s".repeat(256)),
                    ..confidential()
                },
                "sector_identifier",
                "got 256",
            ),
            (
                ClientRegistration {
                    redirect_uris: vec![
                        "https://a.example/cb".to_owned(),
                        "https://a.example/cb".to_owned(),
                    ],
                    ..confidential()
                },
                "redirect_uris",
                "more than once",
            ),
        ] {
            let err = error(&registration);
            assert_eq!(err.field(), field, "{err}");
            let message = err.to_string();
            assert!(message.starts_with(&format!("{field}: ")), "{message}");
            assert!(message.contains(needle), "{message}");
        }
        // Multi-byte names are measured in characters, not bytes.
        let dutch = ClientRegistration {
            name: "é".repeat(200),
            ..confidential()
        };
        assert_eq!(dutch.validate(false), Ok(()));
    }

    #[test]
    fn registration_round_trips_through_json_with_defaults() {
        for registration in [confidential(), public(), private_key_jwt(), roster_reader()] {
            let json = serde_json::to_string(&registration).unwrap();
            let back: ClientRegistration = serde_json::from_str(&json).unwrap();
            assert_eq!(back, registration);
        }
        let value = serde_json::to_value(private_key_jwt()).unwrap();
        assert_eq!(value["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(
            value["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(value["id_token_signed_response_alg"], "RS256");

        let minimal: ClientRegistration = serde_json::from_value(json!({
            "client_id": "roster-reader",
            "party_id": "party-1",
            "name": "Roster",
            "redirect_uris": [],
            "grant_types": ["client_credentials"],
            "scopes": ["school"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .unwrap();
        assert_eq!(
            minimal.id_token_signed_response_alg,
            certs::Algorithm::Rs256
        );
        assert!(minimal.post_logout_redirect_uris.is_empty() && minimal.jwks.is_none());
        assert_eq!(minimal.validate(false), Ok(()));

        for (value, name) in TokenAuthMethod::ALL
            .iter()
            .map(|m| (serde_json::to_value(m).unwrap(), m.as_str()))
        {
            assert_eq!(value, name);
        }
        for (value, name) in GrantType::ALL
            .iter()
            .map(|g| (serde_json::to_value(g).unwrap(), g.as_str()))
        {
            assert_eq!(value, name);
        }
    }
}
