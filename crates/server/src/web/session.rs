//! Sessions: the signed-in request ([`Web`]) read from the session cookie, the context
//! every page extends, CSRF checks of the session's forms, and opening a session.

use super::cookies::{constant_time_eq, cookie, lang_of, random_hex, secure, SESSION_COOKIE};
use super::error::{Page, WebError};
use super::layout::{lang_code, render, url_encode};
use crate::auth::hash_token;
use crate::net::Client;
use crate::state::ApiContext;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use clientele_core::Lang;
use clientele_store::Session;
use minijinja::{context, Value};

/// How long a session lasts.
const SESSION_HOURS: i64 = 12;
/// Name of the CSRF field of every form.
pub const CSRF_FIELD: &str = "_csrf";

/// A signed-in request.
pub struct Web {
    /// The session (user and CSRF token).
    pub session: Session,
    /// Page language.
    pub lang: Lang,
    /// The path asked for (to come back after a language switch).
    pub path: String,
}

impl Web {
    /// The context every page extends: language, user, CSRF token, current path.
    pub(super) fn base(&self, nav: &str) -> Value {
        context! {
            lang => lang_code(self.lang),
            user => self.session.user.name.clone(),
            csrf => self.session.csrf.clone(),
            path => self.path.clone(),
            path_q => url_encode(&self.path),
            nav => nav,
        }
    }

    /// Render a page with the base context merged in.
    pub(super) fn page(&self, name: &str, nav: &str, ctx: Value) -> Response {
        render(name, context! { ..ctx, ..self.base(nav) })
    }

    /// Whether a form carries this session's CSRF token.
    pub(super) fn csrf_ok(&self, form: &[(String, String)]) -> bool {
        form.iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .is_some_and(|(_, v)| constant_time_eq(v.as_bytes(), self.session.csrf.as_bytes()))
    }

    /// `Err(403 page)` unless the form carries the CSRF token.
    pub(super) fn check_csrf(&self, form: &[(String, String)]) -> Result<(), WebError> {
        if self.csrf_ok(form) {
            Ok(())
        } else {
            Err(WebError::csrf(self.lang))
        }
    }
}

impl FromRequestParts<ApiContext> for Web {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let lang = lang_of(&parts.headers);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(to_login(&path));
        };
        let hash = hex::encode(hash_token(&token));
        let session = state
            .db(move |s| s.session(&hash))
            .await
            .map_err(|e| WebError::from(e).with_lang(lang).into_response())?;
        match session {
            Some(session) => Ok(Web {
                session,
                lang,
                path,
            }),
            None => Err(to_login(&path)),
        }
    }
}

/// Where to send a visitor without a session: the login page, then back.
fn to_login(path: &str) -> Response {
    let next: String = url_encode(path);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// A safe place to go back to: a local path, never another site (`//host`, `/\host`).
pub(super) fn local_path(next: Option<&str>) -> String {
    match next {
        // Browsers drop tabs and newlines from a Location and read `\` as `/`:
        // `/\t/evil.example` would leave the site.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Open a session for user `uid` and go to `next` (after a login or the first-run setup).
pub(super) async fn signed_in(
    state: &ApiContext,
    uid: i64,
    next: &str,
    client: &Client,
    lang: Lang,
) -> Page {
    let token = random_hex(32);
    let hash = hex::encode(hash_token(&token));
    let csrf = random_hex(24);
    let expires = clientele_store::now_plus(SESSION_HOURS * 3600);
    state
        .db(move |s| s.create_session(&hash, uid, &csrf, &expires))
        .await
        .map_err(|e| WebError::from(e).with_lang(lang))?;
    let mut r = Redirect::to(next).into_response();
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_HOURS * 3600,
        secure(client)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/customers?q=1")), "/customers?q=1");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
        assert_eq!(local_path(Some("/\t/evil.example")), "/");
        assert_eq!(local_path(Some("/\n/evil.example")), "/");
        assert_eq!(local_path(Some("/a\\b")), "/");
    }
}
