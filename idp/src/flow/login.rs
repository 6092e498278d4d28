//! The steps of a sign-in that every protocol takes alike: where a request goes while the user
//! still has to log in or choose a school (it comes back to `back`, a path of openpoort's own),
//! (the assurance class of a login is `session::acr`).

use crate::http::url_encode;

/// The login page, coming back to `back` afterwards; `hint` pre-fills the e-mail address.
pub fn to_login(back: &str, hint: Option<&str>) -> String {
    let mut login = format!("/inloggen?next={}", url_encode(back));
    if let Some(hint) = hint {
        login.push_str(&format!("&login_hint={}", url_encode(hint)));
    }
    login
}

/// The login at a network provider (brokered), coming back to `back`; `force` asks the provider
/// to authenticate the user again rather than reuse its own session (SAML ForceAuthn, OIDC
/// `prompt=login`).
pub fn to_network(party_code: &str, back: &str, force: bool) -> String {
    let mut to = format!(
        "/login/netwerk/{}?next={}",
        url_encode(party_code),
        url_encode(back)
    );
    if force {
        to.push_str("&force=1");
    }
    to
}

/// The school choice of a staff member of several schools, coming back to `back`.
pub fn to_school_choice(back: &str) -> String {
    format!("/school-kiezen?next={}", url_encode(back))
}

/// Where to go after login: only back into openpoort's own OIDC authorization endpoint or to a
/// parked SAML request, so the login page can never be used to send someone elsewhere.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| {
        (n.starts_with("/oidc/authorize?") || n.starts_with("/saml/sso/verder?"))
            && n.len() <= 4096
            && !n.contains('\\')
    })
    .map(str::to_owned)
}
