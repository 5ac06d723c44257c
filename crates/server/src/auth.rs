//! Authentication: users and `/api/login`, bearer tokens with scopes, the `api_token` query
//! parameter and IP allow-lists of lookup tokens, and the login rate limit (per e-mail and
//! client address).
//!
//! Tokens are checked against an in-memory map of their SHA-256 (refreshed through the
//! change feed), so a request never waits on the database to be authenticated.

use crate::error::{ApiResult, Error, Invalid};
use crate::input::Input;
use crate::state::ApiContext;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use clientele_store::TokenRecord;
use ipnet::IpNet;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read customers and contacts.
    Read,
    /// Read and write.
    Write,
    /// Only the routing routes.
    Lookup,
}

impl Scope {
    /// Parse `read`, `write` or `lookup`.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "lookup" => Some(Scope::Lookup),
            _ => None,
        }
    }
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Lookup => "lookup",
        }
    }
}

/// A known token.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Scope.
    pub scope: Scope,
    /// Allowed client networks (empty: any).
    pub allow: Vec<IpNet>,
}

/// Token hashes → what they allow; a miss reloads from the database at most once a second.
#[derive(Default)]
pub struct TokenCache {
    map: RwLock<HashMap<[u8; 32], Arc<TokenInfo>>>,
    last_reload: Mutex<Option<Instant>>,
}

impl TokenCache {
    /// Replace the whole map.
    pub fn replace(&self, records: &[TokenRecord]) {
        let mut m = HashMap::with_capacity(records.len());
        for r in records {
            let (Ok(bytes), Some(scope)) = (hex::decode(&r.hash), Scope::parse(&r.scope)) else {
                continue;
            };
            let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                continue;
            };
            let allow = r
                .allow
                .as_deref()
                .map(|a| a.split(',').filter_map(|n| parse_net(n).ok()).collect())
                .unwrap_or_default();
            m.insert(key, Arc::new(TokenInfo { scope, allow }));
        }
        *self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = m;
    }
    /// Add one token (login).
    pub fn insert(&self, hash: [u8; 32], info: TokenInfo) {
        self.map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(hash, Arc::new(info));
    }
    fn get(&self, hash: &[u8; 32]) -> Option<Arc<TokenInfo>> {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hash)
            .cloned()
    }
    /// Whether a miss may reload now (the negative cache: once a second at most).
    fn may_reload(&self) -> bool {
        let mut last = self
            .last_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

/// SHA-256 of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random token and the hex hash to store.
pub fn new_token() -> (String, String) {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    let token = format!("clt_{}", hex::encode(b));
    let hash = hex::encode(hash_token(&token));
    (token, hash)
}

/// Argon2id hash of a password (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Parse a network (`10.0.0.0/8`) or a single address (`192.0.2.7`).
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("not an IP network: {s}"))
}

/// Validate allow-list entries; returns the stored form (comma-separated) or `None`.
pub fn allow_list(entries: &[String]) -> Result<Option<String>, String> {
    let nets = entries
        .iter()
        .flat_map(|e| e.split(','))
        .filter(|e| !e.trim().is_empty())
        .map(parse_net)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((!nets.is_empty()).then(|| {
        nets.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }))
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn query_token(parts: &Parts) -> Option<String> {
    let q = parts.uri.query()?;
    let raw = q.split('&').find_map(|kv| kv.strip_prefix("api_token="))?;
    if raw.contains(['%', '+']) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).ok()?;
        pairs
            .into_iter()
            .find(|(k, _)| k == "api_token")
            .map(|(_, v)| v)
    } else {
        Some(raw.to_string())
    }
}

fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

async fn authenticate(
    parts: &Parts,
    state: &ApiContext,
    allow_query: bool,
) -> ApiResult<Arc<TokenInfo>> {
    let (token, from_query) = match bearer(parts) {
        Some(t) => (t.to_string(), false),
        None if allow_query => (query_token(parts).ok_or(Error::Unauthenticated)?, true),
        None => return Err(Error::Unauthenticated),
    };
    let hash = hash_token(&token);
    let cache = &state.0.tokens;
    let info = match cache.get(&hash) {
        Some(i) => i,
        None if cache.may_reload() => {
            let records = state.db(|s| s.tokens()).await?;
            cache.replace(&records);
            cache.get(&hash).ok_or(Error::Unauthenticated)?
        }
        None => return Err(Error::Unauthenticated),
    };
    // A token in a URL ends up in logs: only lookup tokens may travel that way.
    if from_query && info.scope != Scope::Lookup {
        return Err(Error::Unauthenticated);
    }
    if !info.allow.is_empty() {
        let ip = client_ip(parts).ok_or(Error::Forbidden)?;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if !info.allow.iter().any(|n| n.contains(&ip)) {
            return Err(Error::Forbidden);
        }
    }
    Ok(info)
}

/// A request authenticated with a `read` or `write` token.
pub struct Reader;
/// A request authenticated with a `write` token.
pub struct Writer;
/// A request authenticated with any token (routing routes; `?api_token=` accepted).
pub struct Lookup;

impl FromRequestParts<ApiContext> for Reader {
    type Rejection = Error;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        match authenticate(parts, state, false).await?.scope {
            Scope::Read | Scope::Write => Ok(Reader),
            Scope::Lookup => Err(Error::Forbidden),
        }
    }
}

impl FromRequestParts<ApiContext> for Writer {
    type Rejection = Error;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        match authenticate(parts, state, false).await?.scope {
            Scope::Write => Ok(Writer),
            Scope::Read | Scope::Lookup => Err(Error::Forbidden),
        }
    }
}

impl FromRequestParts<ApiContext> for Lookup {
    type Rejection = Error;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, true).await.map(|_| Lookup)
    }
}

/// The client address of a request, for the login rate limit.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// Failed logins per e-mail and client address in the current minute. The key is the pair,
/// as Laravel's login throttle (`email|ip`): one user's mistakes do not lock out the others
/// behind the same address (an office NAT, a PBX host).
pub struct LoginLimiter {
    max: u32,
    failures: Mutex<Failures>,
}

/// (lowercased e-mail, address) → (start of the window, failures in it).
type Failures = HashMap<(String, Option<IpAddr>), (Instant, u32)>;

const WINDOW: Duration = Duration::from_secs(60);

/// Longest e-mail address (RFC 5321): longer input is cut so that a body-sized "e-mail"
/// cannot make the failure map hold megabytes per entry.
const MAX_EMAIL: usize = 254;

fn limiter_key(email: &str, ip: Option<IpAddr>) -> (String, Option<IpAddr>) {
    let email: String = email.trim().chars().take(MAX_EMAIL).collect();
    (email.to_lowercase(), ip)
}

impl LoginLimiter {
    /// At most `max` failures a minute per e-mail and address.
    pub fn new(max: u32) -> LoginLimiter {
        LoginLimiter {
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// When this e-mail is blocked from this address: the seconds until it may try again.
    pub fn retry_after(&self, email: &str, ip: Option<IpAddr>) -> Option<u64> {
        let m = self.lock();
        let (start, n) = m.get(&limiter_key(email, ip))?;
        let left = WINDOW.checked_sub(start.elapsed())?;
        // Round up: retrying after the announced delay must succeed.
        (*n >= self.max).then(|| left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }
    fn fail(&self, email: &str, ip: Option<IpAddr>) {
        let mut m = self.lock();
        if m.len() > 100_000 {
            m.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let e = m
            .entry(limiter_key(email, ip))
            .or_insert((Instant::now(), 0));
        if e.0.elapsed() >= WINDOW {
            *e = (Instant::now(), 0);
        }
        e.1 += 1;
    }
    /// Forget the failures of a successful login (Laravel's `clearLoginAttempts`).
    fn clear(&self, email: &str, ip: Option<IpAddr>) {
        self.lock().remove(&limiter_key(email, ip));
    }
}

/// Log in with `email` and `password` (query string, form or JSON); returns a new `write`
/// token.
#[utoipa::path(post, path = "/api/login", tag = "auth",
    params(("email" = String, Query, description = "User e-mail (also accepted in a form or JSON body)"),
           ("password" = String, Query, description = "Password")),
    responses((status = 200, description = "`{\"token\":…,\"user\":{\"id\",\"name\",\"email\"},\"teams\":[],\"support_teams\":[]}`", body = serde_json::Value),
              (status = 400, description = "Malformed request: a query string or form that is not UTF-8, malformed JSON or multipart"), (status = 401, description = "Bad credentials"), (status = 422, description = "Missing field"), (status = 429, description = "Too many failed attempts for this e-mail from this address; `Retry-After` gives the seconds to wait")))]
pub async fn login(
    State(state): State<ApiContext>,
    ClientIp(ip): ClientIp,
    input: Input,
) -> ApiResult<impl IntoResponse> {
    let email = input.text("email").unwrap_or_default();
    let password = input.text("password").unwrap_or_default();
    let mut inv = Invalid::new();
    if email.trim().is_empty() {
        inv.push("email", "email.required", "The email field is required.");
    }
    if password.is_empty() {
        inv.push(
            "password",
            "password.required",
            "The password field is required.",
        );
    }
    inv.check()?;
    let user = match check_credentials(&state, ip, email.clone(), password).await {
        Err(Error::TooManyAttempts) => {
            return Err(Error::Throttled {
                // The block may have just ended: then a second is as good a wait as any.
                retry_after: state.0.limiter.retry_after(&email, ip).unwrap_or(1),
            });
        }
        other => other?,
    };
    let (token, hash) = new_token();
    let uid = user.id;
    let h = hash.clone();
    state
        .db(move |s| s.create_token("login", &h, "write", None, Some(uid)))
        .await?;
    state.0.tokens.insert(
        hash_token(&token),
        TokenInfo {
            scope: Scope::Write,
            allow: Vec::new(),
        },
    );
    Ok((
        StatusCode::OK,
        Json(
            json!({"token": token, "user": {"id": user.id, "name": user.name, "email": user.email}, "teams": [], "support_teams": []}),
        ),
    ))
}

/// The user with these credentials; failures count towards the rate limit of this e-mail
/// from this address.
pub(crate) async fn check_credentials(
    state: &ApiContext,
    ip: Option<IpAddr>,
    email: String,
    password: String,
) -> ApiResult<clientele_store::User> {
    let limiter = &state.0.limiter;
    if limiter.retry_after(&email, ip).is_some() {
        return Err(Error::TooManyAttempts);
    }
    let key = email.clone();
    let user = state
        .db(move |s| match s.user_by_email(&email) {
            Ok(u) => Ok(Some(u)),
            Err(clientele_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    // Verify even for an unknown user, so timing does not reveal which e-mails exist.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            let _ = verify_password(&password, DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| ok) else {
        limiter.fail(&key, ip);
        return Err(Error::Unauthenticated);
    };
    limiter.clear(&key, ip);
    Ok(user)
}

/// A valid Argon2 hash of a random password, verified against when the user is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Q8oPlpV3qVz8bq3vQq1pQ6Yq0m8Yb3aYvGzj1m0ZcU";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("s3cret").expect("hash");
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("nope", &h));
        assert!(!verify_password("x", "not a hash"));
        let (t, hash) = new_token();
        assert!(t.starts_with("clt_"));
        assert_eq!(hash, hex::encode(hash_token(&t)));
    }

    #[test]
    fn allow_lists() {
        assert_eq!(
            allow_list(&["10.0.0.0/8".into(), "192.0.2.7".into()]).expect("ok"),
            Some("10.0.0.0/8,192.0.2.7/32".into())
        );
        assert_eq!(allow_list(&[]).expect("ok"), None);
        assert!(allow_list(&["nope".into()]).is_err());
    }

    #[test]
    fn limiter() {
        let l = LoginLimiter::new(2);
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(l.retry_after("a@x.fr", ip), None);
        l.fail("a@x.fr", ip);
        l.fail(" A@X.fr", ip);
        assert!(l
            .retry_after("a@x.fr", ip)
            .is_some_and(|s| (59..=60).contains(&s)));
        assert_eq!(l.retry_after("a@x.fr", None), None);
        assert_eq!(l.retry_after("b@x.fr", ip), None);
        l.clear("a@x.fr", ip);
        assert_eq!(l.retry_after("a@x.fr", ip), None);
    }
}
