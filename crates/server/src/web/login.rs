//! Logging in and out, and the language switch.

use super::cookies::{
    constant_time_eq, cookie, lang_of, random_hex, secure, LANG_COOKIE, LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
};
use super::error::{Page, WebError};
use super::forms::{form_rejection, Posted, WebQuery};
use super::layout::{lang_code, render, url_encode};
use super::session::{local_path, signed_in, CSRF_FIELD};
use super::setup;
use crate::auth::hash_token;
use crate::error::Error;
use crate::net::Client;
use crate::state::ApiContext;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use clientele_core::{msg, Lang};
use minijinja::context;

#[derive(serde::Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

fn login_response(
    headers: &HeaderMap,
    client: &Client,
    next: &str,
    error: Option<String>,
    email: &str,
    no_users: bool,
) -> Response {
    let lang = lang_of(headers);
    // Double-submit: the same random value in a cookie and in the form.
    let token = random_hex(16);
    let mut r = render(
        "login.html",
        context! {
            lang => lang_code(lang),
            csrf => token.clone(),
            next => next,
            email => email,
            error => error.clone(),
            path_q => url_encode(&format!("/login?next={}", url_encode(next))),
            no_users => no_users,
        },
    );
    if error.is_some() {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict{}",
        secure(client)
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub(super) async fn login_page(
    State(state): State<ApiContext>,
    client: Client,
    headers: HeaderMap,
    WebQuery(q): WebQuery<NextQuery>,
) -> Response {
    // A fresh installation has no user yet: the first administrator is created in the
    // browser (with the code `clientele serve` printed), or else the page says how.
    let no_users = state.db(|s| s.count_users()).await.is_ok_and(|n| n == 0);
    if no_users && setup::active(&state) {
        return Redirect::to("/setup").into_response();
    }
    login_response(
        &headers,
        &client,
        &local_path(q.next.as_deref()),
        None,
        "",
        no_users,
    )
}

pub(super) async fn login(
    State(state): State<ApiContext>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Page {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return Ok(form_rejection(&e, lang_of(&headers))),
    };
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let next = local_path(Some(&field("next")));
    let email = field("email");
    let lang = lang_of(&headers);
    let sent = field(CSRF_FIELD);
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), cookie_token.as_bytes()) {
        return Err(WebError::csrf(lang));
    }
    let user =
        match crate::auth::check_credentials(&state, client.ip, email.clone(), field("password"))
            .await
        {
            Ok(u) => u,
            Err(Error::Unauthenticated) => {
                return Ok(login_response(
                    &headers,
                    &client,
                    &next,
                    Some(msg!(lang, "login.wrong_password")),
                    &email,
                    false,
                ))
            }
            Err(Error::Throttled { retry_after }) => {
                let said = msg!(lang, "login.throttled", wait = wait(lang, retry_after));
                let mut r = login_response(&headers, &client, &next, Some(said), &email, false);
                *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return Ok(r);
            }
            Err(e) => return Err(WebError::from(e).with_lang(lang)),
        };
    signed_in(&state, user.id, &next, &client, lang).await
}

/// "45 secondes", "une minute", "5 minutes": a wait, rounded up to whole minutes past one
/// (and never "0 secondes").
fn wait(lang: Lang, seconds: u64) -> String {
    let s = seconds.max(1);
    if s < 60 {
        msg!(lang, "login.wait_seconds", s = s)
    } else {
        msg!(lang, "login.wait_minutes", m = s.div_ceil(60))
    }
}

pub(super) async fn logout(State(state): State<ApiContext>, headers: HeaderMap, _: Posted) -> Page {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let hash = hex::encode(hash_token(token));
        state.db(move |s| s.delete_session(&hash)).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("clientele_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(r)
}

#[derive(serde::Deserialize)]
pub(super) struct LangQuery {
    set: Option<String>,
    next: Option<String>,
}

/// The language switch: remembered in a cookie (a year), then back to the page.
pub(super) async fn set_lang(WebQuery(q): WebQuery<LangQuery>) -> Response {
    let lang = if q.set.as_deref() == Some("en") {
        "en"
    } else {
        "fr"
    };
    let mut r = Redirect::to(&local_path(q.next.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
