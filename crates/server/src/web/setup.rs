//! First run in the browser: while the database has no user, `/setup` creates the first
//! administrator, for whoever gives the one-time code `clientele serve` printed at start
//! (someone who can read the server's output). The code is forgotten once used; a server
//! started with users already there has none, and the page then says how to add one from
//! the command line.

use super::cookies::{constant_time_eq, cookie, lang_of, random_hex, secure};
use super::error::{Page, WebError};
use super::forms::form_rejection;
use super::layout::{lang_code, render, url_encode};
use super::session::{signed_in, CSRF_FIELD};
use crate::net::Client;
use crate::state::ApiContext;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use clientele_core::messages;
use minijinja::context;

/// The double-submit cookie of the setup form.
const SETUP_CSRF_COOKIE: &str = "clientele_setup";

/// Whether a setup code is waiting to be used.
pub(super) fn active(state: &ApiContext) -> bool {
    state
        .0
        .setup_code
        .lock()
        .map(|c| c.is_some())
        .unwrap_or(false)
}

/// What the form had, given back with a message when it is refused.
#[derive(Default)]
struct Filled<'a> {
    name: &'a str,
    email: &'a str,
}

fn setup_response(
    headers: &HeaderMap,
    client: &Client,
    state: &ApiContext,
    error: Option<&'static str>,
    filled: &Filled<'_>,
) -> Response {
    let lang = lang_of(headers);
    let token = random_hex(16);
    let mut r = render(
        "setup.html",
        context! {
            lang => lang_code(lang),
            csrf => token.clone(),
            active => active(state),
            name => filled.name,
            email => filled.email,
            error => error.map(|id| messages::text(lang, id)),
            path_q => url_encode("/setup"),
        },
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SETUP_CSRF_COOKIE}={token}; Path=/setup; HttpOnly; SameSite=Strict{}",
        secure(client)
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /setup`: the form while no user exists, else to the login page.
pub(super) async fn page(
    State(state): State<ApiContext>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    if state.db(|s| s.count_users()).await.is_ok_and(|n| n > 0) {
        return Redirect::to("/login").into_response();
    }
    setup_response(&headers, &client, &state, None, &Filled::default())
}

/// `POST /setup`: check the code and the form, create the first administrator, sign in.
pub(super) async fn create(
    State(state): State<ApiContext>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Page {
    let lang = lang_of(&headers);
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return Ok(form_rejection(&e, lang)),
    };
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let sent = field(CSRF_FIELD);
    let cookie_token = cookie(&headers, SETUP_CSRF_COOKIE).unwrap_or_default();
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), cookie_token.as_bytes()) {
        return Err(WebError::csrf(lang));
    }
    if state.db(|s| s.count_users()).await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    let filled = Filled {
        name: field("name").trim(),
        email: field("email").trim(),
    };
    let refuse = |id: &'static str| {
        let mut r = setup_response(&headers, &client, &state, Some(id), &filled);
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(r)
    };
    // Codes are compared without their dashes and case, in constant time.
    let norm = |c: &str| -> String {
        c.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let expected = state
        .0
        .setup_code
        .lock()
        .map(|c| c.as_deref().map(norm))
        .unwrap_or(None);
    let Some(expected) = expected else {
        return refuse("setup.closed");
    };
    if !constant_time_eq(norm(field("code")).as_bytes(), expected.as_bytes()) {
        return refuse("setup.wrong_code");
    }
    if !clientele_core::validate::is_email(filled.email) {
        return refuse("setup.bad_email");
    }
    let password = field("password");
    if password != field("password_confirmation") {
        return refuse("setup.passwords_differ");
    }
    if let Err(e) = crate::password::check(password) {
        return if e.contains("too short") {
            refuse("setup.password_short")
        } else {
            refuse("setup.password_common")
        };
    }
    // Taken before the (slow) hash: two forms sent at once create one user. Given back if
    // the user cannot be created, so that the form can be sent again.
    let code = state
        .0
        .setup_code
        .lock()
        .map(|mut c| c.take())
        .unwrap_or(None);
    let Some(code) = code else {
        return Ok(Redirect::to("/login").into_response());
    };
    let give_back = |state: &ApiContext| {
        if let Ok(mut c) = state.0.setup_code.lock() {
            *c = Some(code.clone());
        }
    };
    let pw = password.to_string();
    let hashed = tokio::task::spawn_blocking(move || crate::auth::hash_password(&pw)).await;
    let hash = match hashed {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            give_back(&state);
            return Err(WebError::from(crate::error::Error::internal(e)).with_lang(lang));
        }
        Err(e) => {
            give_back(&state);
            return Err(WebError::from(crate::error::Error::internal(e)).with_lang(lang));
        }
    };
    let name = if filled.name.is_empty() {
        filled
            .email
            .split('@')
            .next()
            .unwrap_or("admin")
            .to_string()
    } else {
        filled.name.to_string()
    };
    let email = filled.email.to_string();
    let user = match state.db(move |s| s.create_user(&name, &email, &hash)).await {
        Ok(u) => u,
        Err(e) => {
            give_back(&state);
            return Err(WebError::from(e).with_lang(lang));
        }
    };
    tracing::info!(
        user = user.id,
        "first administrator created in the browser (/setup)"
    );
    signed_in(&state, user.id, "/", &client, lang).await
}
