//! What a page request carries besides its path: cookies (session, language, the login
//! form's double-submit token), whether it came over HTTPS, and the random tokens and
//! constant-time comparison the cookies need.

use crate::net::Client;
use axum::http::{header, HeaderMap};
use clientele_core::Lang;
use rand::RngCore;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "clientele_session";
/// Name of the login form's double-submit cookie.
pub(super) const LOGIN_CSRF_COOKIE: &str = "clientele_login";
/// Name of the language cookie.
pub(super) const LANG_COOKIE: &str = "clientele_lang";

/// A cookie of the request.
pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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
pub(super) fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    }
}

/// `Secure` when the client came over HTTPS: the public URL is https, or a trusted proxy
/// says so (see [`crate::net`]).
pub(super) fn secure(client: &Client) -> &'static str {
    if client.https {
        "; Secure"
    } else {
        ""
    }
}

pub(super) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
}
