//! Who is asking, and through which URL: the client address, scheme and host of a request,
//! honouring `X-Forwarded-*` only from trusted proxies.
//!
//! The outermost layer resolves the address and scheme once per request (the base URL is
//! only written for the answers that need it, [`client`]) and removes the forwarding
//! headers of untrusted peers, so no later code can be fooled by them: a client
//! that sends `X-Forwarded-Host: evil.example` does not get paginator links to that host,
//! and `X-Forwarded-Proto` from anyone but a proxy does not decide the cookies' `Secure`.

use crate::state::ApiContext;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

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
    let addr = resolve_addr(peer, headers, proxies, public_url.map(Arc::from));
    let base = base_of(&addr, headers, authority);
    Client {
        ip: addr.ip,
        https: addr.https,
        base,
    }
}

/// What the middleware resolves on every request: no text is built (the base URL is only
/// written by the few answers that need it, [`client`]).
#[derive(Debug, Clone)]
struct ClientAddr {
    ip: Option<IpAddr>,
    https: bool,
    /// The peer is a trusted proxy: its forwarded host is believed.
    via_proxy: bool,
    public: Option<Arc<str>>,
}

fn resolve_addr(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &[IpNet],
    public: Option<Arc<str>>,
) -> ClientAddr {
    let peer = peer.map(canonical);
    let via_proxy = peer.is_some_and(|p| trusted(p, proxies));
    let mut ip = peer;
    let mut proto_https = false;
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
        proto_https = last_value(headers, "x-forwarded-proto").as_deref() == Some("https");
    }
    let https = match &public {
        Some(u) => u.starts_with("https://"),
        None => proto_https,
    };
    ClientAddr {
        ip,
        https,
        via_proxy,
        public,
    }
}

/// Scheme and host the client used: the public URL when set, else the host a trusted proxy
/// forwarded, the `Host` header or the URI's authority.
fn base_of(addr: &ClientAddr, headers: &HeaderMap, authority: Option<&str>) -> String {
    if let Some(u) = &addr.public {
        return u.trim_end_matches('/').to_string();
    }
    let forwarded = if addr.via_proxy {
        last_value(headers, "x-forwarded-host")
    } else {
        None
    };
    let host = forwarded
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .or_else(|| authority.map(str::to_string))
        .filter(|h| valid_host(h))
        .unwrap_or_else(|| "localhost".into());
    format!("{}://{host}", if addr.https { "https" } else { "http" })
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
/// outermost layer, [`crate::ops::TrackLayer`], before anything reads them).
pub fn client_info(state: &ApiContext, req: &mut Request) {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let opts = &state.0.opts;
    let addr = resolve_addr(
        peer,
        req.headers(),
        &opts.trusted_proxies,
        state.0.public_url.clone(),
    );
    if !peer.is_some_and(|p| trusted(canonical(p), &opts.trusted_proxies)) {
        // Gone before anything reads them: an untrusted client's word is never believed.
        let h = req.headers_mut();
        for name in FORWARDING {
            h.remove(name);
        }
    }
    req.extensions_mut().insert(addr);
}

/// The client address of a request (behind a trusted proxy, the proxy's client).
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    match parts.extensions.get::<ClientAddr>() {
        Some(a) => a.ip,
        None => peer_of(parts).map(canonical),
    }
}

fn peer_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The resolved client (a default from the peer alone when the middleware did not run,
/// as in unit tests of a bare router). Forwarding headers still present come from a
/// trusted proxy: the middleware removed the others.
pub fn client(parts: &Parts) -> Client {
    let peer = peer_of(parts);
    let authority = parts.uri.authority().map(|a| a.as_str());
    match parts.extensions.get::<ClientAddr>() {
        Some(addr) => Client {
            ip: addr.ip,
            https: addr.https,
            base: base_of(addr, &parts.headers, authority),
        },
        None => resolve(peer, &HeaderMap::new(), authority, &[], None),
    }
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
