//! Who is asking, and through which URL: the client address, scheme and host of a request,
//! honouring `X-Forwarded-*` only from trusted proxies.
//!
//! A middleware resolves them once per request into a [`Client`] extension and removes the
//! forwarding headers of untrusted peers, so no later code can be fooled by them: a client
//! that sends `X-Forwarded-Host: evil.example` does not get paginator links to that host,
//! and `X-Forwarded-Proto` from anyone but a proxy does not decide the cookies' `Secure`.

use crate::state::ApiContext;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The resolved client of a request.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client's address: the peer, or what a trusted proxy says the peer was.
    pub ip: Option<IpAddr>,
    /// Whether the client reached us over HTTPS (public URL, or a trusted proxy's word).
    pub https: bool,
    /// Scheme and host the client used (`https://crm.example.fr`), for URLs we write.
    pub base: String,
}

const FORWARDING: [&str; 4] = [
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "forwarded",
];

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as IPv4, so that allow-lists and limits
/// written with IPv4 networks match a dual-stack listener's peers.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(&ip))
}

/// The last value of a (possibly repeated, comma-separated) header.
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())
        .map(str::to_string)
}

/// Resolve the client of a request from its peer and headers.
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    authority: Option<&str>,
    proxies: &[IpNet],
    public_url: Option<&str>,
) -> Client {
    let peer = peer.map(canonical);
    let via_proxy = peer.is_some_and(|p| trusted(p, proxies));
    let mut ip = peer;
    let mut proto = None;
    let mut host = None;
    if via_proxy {
        // X-Forwarded-For grows to the right as proxies append: the client is the
        // rightmost address that is not one of our proxies.
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        if let Some(c) = hops.iter().rev().find(|a| !trusted(**a, proxies)) {
            ip = Some(*c);
        } else if let Some(first) = hops.first() {
            ip = Some(*first);
        }
        proto = last_value(headers, "x-forwarded-proto");
        host = last_value(headers, "x-forwarded-host");
    }
    let https;
    let base = match public_url {
        Some(u) => {
            https = u.starts_with("https://");
            u.trim_end_matches('/').to_string()
        }
        None => {
            https = proto.as_deref() == Some("https");
            let host = host
                .or_else(|| {
                    headers
                        .get(header::HOST)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                })
                .or_else(|| authority.map(str::to_string))
                .filter(|h| valid_host(h))
                .unwrap_or_else(|| "localhost".into());
            format!("{}://{host}", if https { "https" } else { "http" })
        }
    };
    Client { ip, https, base }
}

/// A host (and port) as URLs may carry it: no path, user info, spaces or quotes that could
/// turn a written URL into something else.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// Resolve the [`Client`] of a request and drop untrusted forwarding headers (run by the
/// outermost layer, [`crate::ops::track`], before anything reads them).
pub fn client_info(state: &ApiContext, req: &mut Request) {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let opts = &state.0.opts;
    let client = resolve(
        peer,
        req.headers(),
        req.uri().authority().map(|a| a.as_str()),
        &opts.trusted_proxies,
        opts.public_url.as_deref(),
    );
    if !peer.is_some_and(|p| trusted(canonical(p), &opts.trusted_proxies)) {
        let h = req.headers_mut();
        for name in FORWARDING {
            h.remove(name);
        }
    }
    req.extensions_mut().insert(client);
}

/// The resolved client (a default from the peer alone when the middleware did not run,
/// as in unit tests of a bare router).
pub fn client(parts: &Parts) -> Client {
    parts
        .extensions
        .get::<Client>()
        .cloned()
        .unwrap_or_else(|| {
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            resolve(
                peer,
                &HeaderMap::new(),
                parts.uri.authority().map(|a| a.as_str()),
                &[],
                None,
            )
        })
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(client(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn untrusted_peers_cannot_forge_host_scheme_or_address() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        let c = resolve(Some(ip("198.51.100.7")), &h, None, &[], None);
        assert_eq!(c.base, "http://127.0.0.1:8080");
        assert!(!c.https);
        assert_eq!(c.ip, Some(ip("198.51.100.7")));
    }

    #[test]
    fn a_trusted_proxy_is_believed_and_its_own_hops_skipped() {
        let proxies = vec!["10.0.0.0/8".parse::<IpNet>().expect("net")];
        let h = headers(&[
            ("host", "backend:8080"),
            ("x-forwarded-host", "crm.example.fr"),
            ("x-forwarded-proto", "https"),
            // A client-supplied first hop, then the real client, then an inner proxy.
            ("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1"),
        ]);
        let c = resolve(Some(ip("10.0.0.2")), &h, None, &proxies, None);
        assert_eq!(c.base, "https://crm.example.fr");
        assert!(c.https);
        assert_eq!(c.ip, Some(ip("203.0.113.9")));
    }

    #[test]
    fn the_public_url_wins_and_bad_hosts_are_refused() {
        let h = headers(&[("host", "a b/c")]);
        let c = resolve(Some(ip("::ffff:192.0.2.1")), &h, None, &[], None);
        assert_eq!(c.base, "http://localhost");
        assert_eq!(c.ip, Some(ip("192.0.2.1")));
        let c = resolve(None, &h, None, &[], Some("https://crm.example.fr/"));
        assert_eq!(c.base, "https://crm.example.fr");
        assert!(c.https);
    }
}
