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

/// The school choice of a staff member of several schools, coming back to `back`.
pub fn to_school_choice(back: &str) -> String {
    format!("/school-kiezen?next={}", url_encode(back))
}
