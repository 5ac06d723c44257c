//! The web pages for the operator's staff: log in, upload a pack and read its report, import,
//! undo, browse and edit customers, a dashboard.
//!
//! Server-rendered HTML (minijinja templates compiled into the binary, French by default
//! with an English switch), a little JavaScript for drag-and-drop and progress, no external
//! resource. Sessions and uploads live in the database, so any of several servers can answer
//! the next page; the progress of a running check or import is held by the server running it.
//!
//! Security: a session is a random token in an `HttpOnly`, `SameSite=Lax` cookie, stored as
//! its SHA-256; every form carries the session's CSRF token (the login form a double-submit
//! cookie); every page but the login page requires a session.

mod customers;
mod imports;
mod setup;
mod tokens;

use crate::auth::hash_token;
use crate::error::Error;
use crate::net::Client;
use crate::state::ApiContext;
use axum::extract::{DefaultBodyLimit, Form, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use clientele_core::Lang;
use clientele_store::{Session, StoreError};
use minijinja::{context, Environment, Value};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "clientele_session";
/// Name of the login form's double-submit cookie.
const LOGIN_CSRF_COOKIE: &str = "clientele_login";
/// Name of the language cookie.
const LANG_COOKIE: &str = "clientele_lang";
/// How long a session lasts.
const SESSION_HOURS: i64 = 12;
/// Name of the CSRF field of every form.
pub const CSRF_FIELD: &str = "_csrf";

/// The page routes, merged into the application router by [`crate::router`].
pub fn router(upload_limit: usize) -> Router<ApiContext> {
    let uploads = Router::new()
        .route("/import", post(imports::upload))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/", get(customers::dashboard))
        .route("/login", get(login_page).post(login))
        .route("/setup", get(setup::page).post(setup::create))
        .route("/logout", post(logout))
        .route("/lang", get(set_lang))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/import", get(imports::form))
        .route("/uploads/{id}", get(imports::show))
        .route("/uploads/{id}/progress", get(imports::progress))
        .route("/uploads/{id}/import", post(imports::import))
        .route("/uploads/{id}/mapping", post(imports::remap))
        .route("/uploads/{id}/annotated.xlsx", get(imports::annotated))
        .route("/uploads/{id}/rejected", get(imports::rejected))
        .route("/template.xlsx", get(imports::template))
        .route("/imports", get(imports::history))
        .route("/imports/{id}/undo", post(imports::undo))
        .route("/customers", get(customers::list))
        .route("/customers/{id}", get(customers::show))
        .route("/communes/{code}", get(customers::communes))
        .route(
            "/customers/{id}/edit",
            get(customers::edit_form).post(customers::edit),
        )
        .route("/tokens", get(tokens::list))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .merge(uploads)
        .layer(axum::middleware::map_response(page_headers))
}

/// Headers of every page: no framing (clickjacking), no sniffing, no caching of customer
/// data by shared caches, no full URLs sent to other sites.
async fn page_headers(mut r: Response) -> Response {
    add_page_headers(&mut r);
    r
}

/// The headers of [`page_headers`], for HTML answered outside the page router (404).
pub fn add_page_headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        // Inline style attributes draw the dashboard's bars; nothing else is inline.
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

// ---------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------

/// The templates, compiled into the binary.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("setup.html", include_str!("../../templates/setup.html")),
            ("error.html", include_str!("../../templates/error.html")),
            (
                "dashboard.html",
                include_str!("../../templates/dashboard.html"),
            ),
            ("import.html", include_str!("../../templates/import.html")),
            ("upload.html", include_str!("../../templates/upload.html")),
            ("imports.html", include_str!("../../templates/imports.html")),
            (
                "customers.html",
                include_str!("../../templates/customers.html"),
            ),
            (
                "customer.html",
                include_str!("../../templates/customer.html"),
            ),
            ("edit.html", include_str!("../../templates/edit.html")),
            ("tokens.html", include_str!("../../templates/tokens.html")),
        ] {
            // The templates are part of the binary and covered by the browser tests: a
            // syntax error is a build defect, reported at the first page rendered.
            if let Err(e) = env.add_template(name, src) {
                tracing::error!("template {name}: {e}");
            }
        }
        // `tr("français", "English")`: the text of the page's language.
        env.add_function(
            "tr",
            |state: &minijinja::State, fr: String, en: String| -> String {
                match state.lookup("lang").as_ref().and_then(Value::as_str) {
                    Some("en") => en,
                    _ => fr,
                }
            },
        );
        env.add_filter("num", |n: i64| group_digits(n));
        env.add_filter("when", when);
        env
    })
}

/// A stored UTC time as `<time>`: the page's script shows it in the viewer's time zone; without
/// script it reads `2024-01-02 03:04 UTC`.
fn when(t: Option<String>) -> Value {
    let Some(t) = t.filter(|t| !t.is_empty()) else {
        return Value::from("—");
    };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let shown: String = t.chars().take(16).collect::<String>().replace('T', " ");
    Value::from_safe_string(format!(
        "<time datetime=\"{}\">{} UTC</time>",
        esc(&t),
        esc(&shown)
    ))
}

/// `1234567` → `1 234 567` (French grouping, also readable in English).
fn group_digits(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    out
}

/// Render a template to a response.
fn render(name: &str, ctx: Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering {name}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "Template error").into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Requests: cookies, language, session
// ---------------------------------------------------------------------------------------

/// A cookie of the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The page language: the cookie set by the switch, French otherwise.
fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    }
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "fr",
        Lang::En => "en",
    }
}

/// `Secure` when the client came over HTTPS: the public URL is https, or a trusted proxy
/// says so (see [`crate::net`]).
fn secure(client: &Client) -> &'static str {
    if client.https {
        "; Secure"
    } else {
        ""
    }
}

/// "45 secondes", "1 minute", "5 minutes" (a wait, rounded up to whole minutes past one).
fn seconds_fr(s: u64) -> String {
    match s {
        0..=1 => "une seconde".into(),
        2..=59 => format!("{s} secondes"),
        60 => "une minute".into(),
        _ => format!("{} minutes", s.div_ceil(60)),
    }
}

fn seconds_en(s: u64) -> String {
    match s {
        0..=1 => "a second".into(),
        2..=59 => format!("{s} seconds"),
        60 => "a minute".into(),
        _ => format!("{} minutes", s.div_ceil(60)),
    }
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

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
    fn base(&self, nav: &str) -> Value {
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
    fn page(&self, name: &str, nav: &str, ctx: Value) -> Response {
        render(name, context! { ..ctx, ..self.base(nav) })
    }

    /// Whether a form carries this session's CSRF token.
    fn csrf_ok(&self, form: &[(String, String)]) -> bool {
        form.iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .is_some_and(|(_, v)| constant_time_eq(v.as_bytes(), self.session.csrf.as_bytes()))
    }

    /// `Err(403 page)` unless the form carries the CSRF token.
    fn check_csrf(&self, form: &[(String, String)]) -> Result<(), WebError> {
        if self.csrf_ok(form) {
            Ok(())
        } else {
            Err(WebError::csrf(self.lang))
        }
    }
}

/// A form posted by a signed-in user, its CSRF token checked: every state-changing page
/// route (but the multipart upload, which checks its own) takes one, so none can forget.
pub struct Posted {
    /// The signed-in request.
    pub web: Web,
    /// The form's fields, in order.
    pub form: Vec<(String, String)>,
}

impl FromRequest<ApiContext> for Posted {
    type Rejection = Response;
    async fn from_request(req: Request, state: &ApiContext) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let web = Web::from_request_parts(&mut parts, state).await?;
        let lang = web.lang;
        let Form(form) =
            Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(|e| form_rejection(&e, lang))?;
        web.check_csrf(&form).map_err(IntoResponse::into_response)?;
        Ok(Posted { web, form })
    }
}

/// A page's query string. A malformed one (a key given twice, a value of the wrong kind) is
/// a 400 page in the layout that says which key, not the framework's plain text.
pub struct WebQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for WebQuery<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let lang = lang_of(&parts.headers);
        let refuse = |fr: String, en: String| {
            WebError::new(StatusCode::BAD_REQUEST, fr, en)
                .with_lang(lang)
                .into_response()
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).map_err(|_| {
            refuse(
                "Adresse mal formée : son paramètre n’est pas lisible.".into(),
                "Malformed address: its query string cannot be read.".into(),
            )
        })?;
        let mut seen = std::collections::HashSet::new();
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !seen.insert(k.as_str())) {
            let k: String = k.chars().take(100).collect();
            return Err(refuse(
                format!("Adresse mal formée : le paramètre « {k} » est donné plusieurs fois."),
                format!("Malformed address: the parameter “{k}” is given more than once."),
            ));
        }
        serde_urlencoded::from_str(q).map(WebQuery).map_err(|e| {
            refuse(
                format!("Adresse mal formée : {e}."),
                format!("Malformed address: {e}."),
            )
        })
    }
}

/// A form body's rejection as a page: 413 when too large, 400 otherwise.
fn form_rejection(e: &axum::extract::rejection::FormRejection, lang: Lang) -> Response {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::from(Error::PayloadTooLarge)
            .with_lang(lang)
            .into_response();
    }
    WebError::new(
        StatusCode::BAD_REQUEST,
        "Formulaire illisible : rechargez la page et recommencez.",
        "The form cannot be read: reload the page and try again.",
    )
    .with_lang(lang)
    .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where to send a visitor without a session: the login page, then back.
fn to_login(path: &str) -> Response {
    let next: String = url_encode(path);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// A safe place to go back to: a local path, never another site (`//host`, `/\host`).
fn local_path(next: Option<&str>) -> String {
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

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// A failed page: an HTML error page with a status.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    fr: String,
    en: String,
    lang: Lang,
}

impl WebError {
    fn new(status: StatusCode, fr: impl Into<String>, en: impl Into<String>) -> WebError {
        WebError {
            status,
            fr: fr.into(),
            en: en.into(),
            lang: Lang::Fr,
        }
    }
    fn with_lang(mut self, lang: Lang) -> WebError {
        self.lang = lang;
        self
    }
    fn not_found() -> WebError {
        WebError::new(
            StatusCode::NOT_FOUND,
            "Cette page n’existe pas (ou plus).",
            "This page does not exist (any more).",
        )
    }
    fn csrf(lang: Lang) -> WebError {
        WebError::new(
            StatusCode::FORBIDDEN,
            "Formulaire refusé : il a expiré ou ne vient pas de Clientèle. Rechargez la page et recommencez.",
            "Form refused: it expired or did not come from Clientèle. Reload the page and try again.",
        )
        .with_lang(lang)
    }
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound => WebError::not_found(),
            Error::Conflict(m) => WebError::new(StatusCode::CONFLICT, m.clone(), m),
            Error::PayloadTooLarge => WebError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Fichier trop volumineux.",
                "File too large.",
            ),
            Error::BadRequest(m) => WebError::new(StatusCode::BAD_REQUEST, m.clone(), m),
            Error::Busy { waiting } => WebError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Le serveur traite déjà d’autres contrôles et imports ({waiting} en attente) : réessayez dans quelques secondes."),
                format!("The server is busy with other checks and imports ({waiting} waiting): try again in a few seconds."),
            ),
            other => {
                tracing::error!("web page failed: {other}");
                WebError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur du serveur ; l’incident est journalisé.",
                    "Server error; it has been logged.",
                )
            }
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        Error::from(e).into()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let lang = lang_code(self.lang);
        let mut r = render(
            "error.html",
            // The menu without the user's name: an error page is still a page of the site
            // (its links lead to the login page when the session is gone).
            context! { lang => lang, status => self.status.as_u16(), fr => self.fr, en => self.en, path_q => "%2F", menu => true },
        );
        *r.status_mut() = self.status;
        r
    }
}

/// The HTML 404 page of unknown paths.
pub fn not_found_page(headers: &HeaderMap) -> Response {
    let mut r = WebError::not_found()
        .with_lang(lang_of(headers))
        .into_response();
    add_page_headers(&mut r);
    r
}

/// Result of a page handler.
type Page = Result<Response, WebError>;

// ---------------------------------------------------------------------------------------
// Running checks and imports
// ---------------------------------------------------------------------------------------

/// A check or import running on this server.
#[derive(Debug, Default)]
pub struct Job {
    /// Rows read so far.
    pub rows: AtomicU64,
    /// Its number in the job queue, to tell how many wait ahead of it.
    pub seq: AtomicU64,
    /// Whether it is an import (else a check).
    pub importing: AtomicBool,
}

/// Running jobs by upload id.
#[derive(Debug, Default)]
pub struct Jobs(Mutex<HashMap<String, Arc<Job>>>);

impl Jobs {
    /// Register a job; `None` when one already runs for this upload.
    pub fn start(&self, id: &str, importing: bool) -> Option<Arc<Job>> {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.contains_key(id) {
            return None;
        }
        let job = Arc::new(Job::default());
        job.importing.store(importing, Ordering::Relaxed);
        m.insert(id.to_string(), job.clone());
        Some(job)
    }
    /// The running job of an upload.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }
    /// Number of jobs running.
    pub fn len(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
    /// Whether no job runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Forget a finished job.
    pub fn end(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }
}

// ---------------------------------------------------------------------------------------
// Login, logout, language, assets
// ---------------------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn login_response(
    headers: &HeaderMap,
    client: &Client,
    next: &str,
    error: Option<(&str, &str)>,
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
            error => error.map(|(fr, en)| if lang == Lang::En { en } else { fr }),
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

async fn login_page(
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

async fn login(
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
                    Some((
                        "Adresse e-mail ou mot de passe incorrect.",
                        "Wrong e-mail address or password.",
                    )),
                    &email,
                    false,
                ))
            }
            Err(Error::Throttled { retry_after }) => {
                let fr = format!(
                    "Trop de tentatives : réessayez dans {}.",
                    seconds_fr(retry_after)
                );
                let en = format!(
                    "Too many attempts: try again in {}.",
                    seconds_en(retry_after)
                );
                let mut r =
                    login_response(&headers, &client, &next, Some((&fr, &en)), &email, false);
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

/// Open a session for user `uid` and go to `next` (after a login or the first-run setup).
async fn signed_in(state: &ApiContext, uid: i64, next: &str, client: &Client, lang: Lang) -> Page {
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

async fn logout(State(state): State<ApiContext>, headers: HeaderMap, _: Posted) -> Page {
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
struct LangQuery {
    set: Option<String>,
    next: Option<String>,
}

/// The language switch: remembered in a cookie (a year), then back to the page.
async fn set_lang(WebQuery(q): WebQuery<LangQuery>) -> Response {
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

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

/// A form's values by name (the last wins).
fn form_map(form: &[(String, String)]) -> HashMap<&str, &str> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1\u{202f}000");
        assert_eq!(group_digits(-1234567), "-1\u{202f}234\u{202f}567");
    }

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

    #[test]
    fn times_are_time_elements() {
        assert_eq!(
            when(Some("2024-01-02T03:04:05.000000Z".into())).to_string(),
            "<time datetime=\"2024-01-02T03:04:05.000000Z\">2024-01-02 03:04 UTC</time>"
        );
        assert_eq!(when(None).to_string(), "—");
        assert!(!when(Some("<b>".into())).to_string().contains("<b>"));
    }

    #[test]
    fn cookies_are_found() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; clientele_session=abc; clientele_lang=en"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(lang_of(&h), Lang::En);
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn every_template_compiles() {
        for name in [
            "base.html",
            "login.html",
            "error.html",
            "dashboard.html",
            "import.html",
            "upload.html",
            "imports.html",
            "customers.html",
            "customer.html",
            "edit.html",
            "tokens.html",
        ] {
            assert!(env().get_template(name).is_ok(), "{name} does not compile");
        }
    }
}
