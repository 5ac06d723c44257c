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
//!
//! Texts come from the catalogue, [`clientele_core::messages`]: `t("id", …)` in the
//! templates, message ids in the Rust code (a [`WebError`] carries an id and renders it in
//! the page's language).
//!
//! The modules depend one way: `layout` (templates, rendering) and `cookies` are
//! leaves; `error` renders in the layout; `session` reads the session cookie; `forms`
//! checks forms against the session; `login` and the pages (customers, imports — and
//! `changes`, its list of every change, which uses its helpers —, setup,
//! tokens) use them all. The types other crates name are re-exported here.

mod changes;
mod cookies;
mod customers;
mod error;
mod fixing;
mod forms;
mod imports;
mod layout;
mod login;
mod report_lang;
mod session;
mod setup;
mod tokens;

pub use crate::jobs::{Job, Jobs};
pub use cookies::SESSION_COOKIE;
pub use error::{not_found_page, WebError};
pub use forms::{Posted, WebQuery};
pub use layout::add_page_headers;
pub use session::{Web, CSRF_FIELD};

use crate::state::ApiContext;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

/// The page routes, merged into the application router by [`crate::router`].
pub fn router(upload_limit: usize) -> Router<ApiContext> {
    let uploads = Router::new()
        .route("/import", post(imports::upload))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/", get(customers::dashboard))
        .route("/login", get(login::login_page).post(login::login))
        .route("/setup", get(setup::page).post(setup::create))
        .route("/logout", post(login::logout))
        .route("/lang", get(login::set_lang))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/fix.js", get(fix_js))
        .route("/import", get(imports::form))
        .route("/uploads/{id}", get(imports::show))
        .route("/uploads/{id}/progress", get(imports::progress))
        .route("/uploads/{id}/import", post(imports::import))
        .route("/uploads/{id}/mapping", post(imports::remap))
        .route("/uploads/{id}/annotated.xlsx", get(imports::annotated))
        .route("/uploads/{id}/rejected", get(imports::rejected))
        .route("/uploads/{id}/fix", get(fixing::page))
        .route("/uploads/{id}/fix/rows", get(fixing::rows))
        .route("/uploads/{id}/fix/cell", post(fixing::edit))
        .route("/uploads/{id}/fix/replace", post(fixing::replace))
        .route("/uploads/{id}/fix/undo", post(fixing::undo))
        .route("/uploads/{id}/fix/check", post(fixing::check))
        .route("/uploads/{id}/fix/download", get(fixing::download))
        .route("/uploads/{id}/changes.csv", get(changes::csv))
        .route("/uploads/{id}/changes.xlsx", get(changes::xlsx))
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
        .layer(axum::middleware::map_response(layout::page_headers))
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

async fn fix_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/fix.js"),
    )
        .into_response()
}
