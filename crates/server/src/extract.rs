//! Extractors shared by the API handlers: the request's base URL and message language.
//! Above the state (they read its options), below every handler.

use crate::net;
use crate::state::ApiContext;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use clientele_core::Lang;

/// The scheme and host the client used (`http://127.0.0.1:8080`), for paginator URLs: the
/// public URL when one is set, forwarded values only from trusted proxies ([`net`]).
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(net::client(parts).base))
    }
}

/// The message language of a request: French when `Accept-Language` starts with `fr`.
pub struct ReqLang(pub Lang);

impl FromRequestParts<ApiContext> for ReqLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let lang = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(state.0.opts.lang, Lang::parse);
        Ok(ReqLang(lang))
    }
}
