//! The form_post response mode (OAuth 2.0 Form Post Response Mode): the authorization response
//! as hidden fields of a form that submits itself to the client's redirect URI.
//!
//! The page runs one script, allowed by its hash and nothing else, and may send its form only to
//! the redirect URI's origin; every value is HTML-escaped by the template, so a `state` the
//! client chose cannot leave the attribute it is written into.

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The only script the page may run.
const SUBMIT: &str = "document.getElementById(\"oidc-form-post\").submit();";

#[derive(Template)]
#[template(path = "oidc_form_post.html")]
struct FormPostPage<'a> {
    action: &'a str,
    fields: &'a [(&'static str, String)],
    script: &'static str,
}

/// The page that posts `fields` to `action` (a validated redirect URI).
pub fn page(action: &str, fields: &[(&'static str, String)]) -> Response {
    let mut response = crate::http::page(
        StatusCode::OK,
        &FormPostPage {
            action,
            fields,
            script: SUBMIT,
        },
        HeaderMap::new(),
    );
    allow_form_to(&mut response, action, true);
    response
}

/// Replaces the page's policy by one whose forms may go only to `action`'s origin, and which
/// runs the submitting script when `script` (by its SHA-256: a nonce would do as well, but the
/// script never changes).
pub fn allow_form_to(response: &mut Response, action: &str, script: bool) {
    let origin = url::Url::parse(action)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null");
    let script_src = if script {
        format!(
            "'sha256-{}'",
            STANDARD.encode(openssl::sha::sha256(SUBMIT.as_bytes()))
        )
    } else {
        "'none'".to_owned()
    };
    // A redirect URI without an origin (a custom scheme of a native app) cannot be named in
    // form-action; such a client cannot use form_post, and the form stays blocked.
    let form_action = origin.unwrap_or_else(|| "'none'".to_owned());
    let policy = format!(
        "default-src 'none'; script-src {script_src}; style-src 'self'; img-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(r: Response) -> String {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn form_post_values_cannot_leave_their_attribute() {
        let evil = "\"><script>alert(1)</script><input name=\"x";
        let r = page(
            "https://rp.example/cb",
            &[("code", "abc".into()), ("state", evil.into())],
        );
        let body = body_of(r).await;
        assert!(!body.contains("<script>alert"), "{body}");
        assert!(
            body.contains("name=\"state\" value=\"&#34;&#62;&#60;script&#62;"),
            "{body}"
        );
        assert!(body.contains("name=\"code\" value=\"abc\""), "{body}");
    }

    #[tokio::test]
    async fn form_post_runs_only_its_own_script_and_posts_only_to_the_client() {
        let r = page("https://rp.example:8443/cb?x=1", &[("code", "abc".into())]);
        let policy = r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        let hash = STANDARD.encode(openssl::sha::sha256(SUBMIT.as_bytes()));
        assert!(
            policy.contains(&format!("script-src 'sha256-{hash}';")),
            "{policy}"
        );
        assert!(
            policy.contains("form-action https://rp.example:8443;"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let body = body_of(r).await;
        // The hash is of the script exactly as the page carries it.
        assert!(
            body.contains(&format!("<script>{SUBMIT}</script>")),
            "{body}"
        );
        assert!(
            body.contains("action=\"https://rp.example:8443/cb?x=1\""),
            "{body}"
        );
    }
}
