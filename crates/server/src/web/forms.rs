//! What pages read from requests: posted forms (their CSRF token checked), query strings
//! (a malformed one is a 400 page), and the page for a form that cannot be read.

use super::cookies::lang_of;
use super::error::WebError;
use super::session::Web;
use crate::error::Error;
use crate::state::ApiContext;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use clientele_core::messages::Arg;
use clientele_core::Lang;
use std::collections::HashMap;

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
        let refuse = |id: &'static str, args: Vec<(&'static str, Arg)>| {
            WebError::msg_with(StatusCode::BAD_REQUEST, id, args)
                .with_lang(lang)
                .into_response()
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
            .map_err(|_| refuse("forms.query_unreadable", Vec::new()))?;
        let mut seen = std::collections::HashSet::new();
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !seen.insert(k.as_str())) {
            let k: String = k.chars().take(100).collect();
            return Err(refuse("forms.query_key_twice", vec![("key", k.into())]));
        }
        serde_urlencoded::from_str(q).map(WebQuery).map_err(|e| {
            refuse(
                "forms.query_malformed",
                vec![("error", e.to_string().into())],
            )
        })
    }
}

/// A form body's rejection as a page: 413 when too large, 400 otherwise.
pub(super) fn form_rejection(e: &axum::extract::rejection::FormRejection, lang: Lang) -> Response {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::from(Error::PayloadTooLarge)
            .with_lang(lang)
            .into_response();
    }
    WebError::msg(StatusCode::BAD_REQUEST, "forms.unreadable")
        .with_lang(lang)
        .into_response()
}

/// A form's values by name (the last wins).
pub(super) fn form_map(form: &[(String, String)]) -> HashMap<&str, &str> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}
