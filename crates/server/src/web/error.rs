//! Failed pages: [`WebError`] renders the error page in the layout, with the status and a
//! message in the page's language.

use super::cookies::lang_of;
use super::layout::{add_page_headers, lang_code, render};
use crate::error::{chain, Error};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use clientele_core::messages::{self, Arg};
use clientele_core::Lang;
use clientele_store::StoreError;
use minijinja::context;

/// A failed page: an HTML error page with a status.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    said: Said,
    lang: Lang,
}

/// What an error page says: a catalogue message (rendered in the page's language, known
/// only once [`WebError::with_lang`] is called), or a text that already is in one language
/// (a store refusal, a framework message).
#[derive(Debug)]
enum Said {
    Message(&'static str, Vec<(&'static str, Arg)>),
    Plain(String),
}

impl WebError {
    /// The page of message `id` of the catalogue.
    pub(super) fn msg(status: StatusCode, id: &'static str) -> WebError {
        WebError::msg_with(status, id, Vec::new())
    }
    /// The page of message `id` with its arguments.
    pub(super) fn msg_with(
        status: StatusCode,
        id: &'static str,
        args: Vec<(&'static str, Arg)>,
    ) -> WebError {
        WebError {
            status,
            said: Said::Message(id, args),
            lang: Lang::Fr,
        }
    }
    /// A page saying `text` as it is, in any language.
    pub(super) fn plain(status: StatusCode, text: impl Into<String>) -> WebError {
        WebError {
            status,
            said: Said::Plain(text.into()),
            lang: Lang::Fr,
        }
    }
    pub(super) fn with_lang(mut self, lang: Lang) -> WebError {
        self.lang = lang;
        self
    }
    pub(super) fn not_found() -> WebError {
        WebError::msg(StatusCode::NOT_FOUND, "error.not_found")
    }
    pub(super) fn csrf(lang: Lang) -> WebError {
        WebError::msg(StatusCode::FORBIDDEN, "error.csrf").with_lang(lang)
    }
    /// The message, in the page's language.
    fn message(&self) -> String {
        match &self.said {
            Said::Message(id, args) => messages::format(self.lang, id, args),
            Said::Plain(t) => t.clone(),
        }
    }
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound => WebError::not_found(),
            Error::Conflict(m) => WebError::plain(StatusCode::CONFLICT, m),
            Error::PayloadTooLarge => {
                WebError::msg(StatusCode::PAYLOAD_TOO_LARGE, "error.file_too_large")
            }
            Error::BadRequest(m) => WebError::plain(StatusCode::BAD_REQUEST, m),
            Error::Busy { waiting } => WebError::msg_with(
                StatusCode::SERVICE_UNAVAILABLE,
                "error.busy",
                vec![("waiting", waiting.into())],
            ),
            other => {
                tracing::error!("web page failed: {}", chain(&other));
                WebError::msg(StatusCode::INTERNAL_SERVER_ERROR, "error.server")
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
            context! { lang => lang, status => self.status.as_u16(), message => self.message(), path_q => "%2F", menu => true },
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
pub type Page = Result<Response, WebError>;
