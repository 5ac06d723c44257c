//! Authentication: users and `/api/login`, bearer tokens with scopes, the `api_token` query
//! parameter and IP allow-lists of lookup tokens, and the login rate limit (per e-mail and
//! client address).
//!
//! Tokens are checked against an in-memory map of their SHA-256 (refreshed through the
//! change feed), so a request never waits on the database to be authenticated.

use crate::error::{ApiResult, Error, Invalid};
use crate::input::Input;
use crate::state::ApiContext;
use crate::tokens::log_expired;
pub use crate::tokens::{
    allow_list, hash_token, new_token, parse_net, Scope, TokenCache, TokenInfo,
};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use clientele_store::{Expiry, StoreError, TokenLife, TokenRecord};
use serde_json::json;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

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

/// On the poll tick: write the tokens' due last uses and delete the expired ones
/// ([`TokenCache::maintain`]).
pub async fn maintain_tokens(state: &ApiContext) -> ApiResult<()> {
    Ok(state
        .0
        .tokens
        .maintain(&state.0.store, state.0.opts.poll)
        .await?)
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
    crate::net::client_ip(parts)
}

/// Refuse an expired token (deleting it), else note its use. What this server knows of its
/// last use may be late (another server may have used it since): the database decides.
async fn check_life(
    state: &ApiContext,
    info: Arc<TokenInfo>,
    ip: Option<IpAddr>,
) -> ApiResult<Arc<TokenInfo>> {
    let now = clientele_store::now_ms();
    if !info.expired(now) {
        // A quarter of a second is precise enough for a last use, and every request of a
        // busy token then only reads the shared counter (no cache line bouncing between
        // cores on each call-routing request).
        if now - info.last_used.load(Ordering::Relaxed) >= 250 {
            info.last_used.fetch_max(now, Ordering::Relaxed);
        }
        return Ok(info);
    }
    let id = info.record.id;
    match state.db(move |s| s.expire_token(id)).await? {
        Expiry::Gone => {
            state.0.tokens.remove_id(id);
            Err(Error::Unauthenticated)
        }
        Expiry::Expired(rec) => {
            log_expired(&rec, ip);
            state.0.tokens.remove_id(id);
            Err(Error::Unauthenticated)
        }
        Expiry::Alive(rec) => {
            // Used on another server meanwhile: take its time and go on.
            let stored = rec
                .last_used_at
                .as_deref()
                .and_then(clientele_store::parse_time)
                .unwrap_or(0);
            info.stored_use.fetch_max(stored, Ordering::Relaxed);
            info.last_used.fetch_max(now, Ordering::Relaxed);
            Ok(info)
        }
    }
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
    let info = check_life(state, info, client_ip(parts)).await?;
    // A token in a URL ends up in logs: only lookup tokens may travel that way.
    if from_query && info.scope != Scope::Lookup {
        return Err(Error::Unauthenticated);
    }
    if !info.allow.is_empty() {
        // Canonical (IPv4-mapped as IPv4), and a trusted proxy's client rather than the proxy.
        let ip = client_ip(parts).ok_or(Error::Forbidden)?;
        if !info.allow.iter().any(|n| n.contains(&ip)) {
            return Err(Error::Forbidden);
        }
    }
    Ok(info)
}

/// A request authenticated with a `read` or `write` token.
pub struct Reader;
/// A request authenticated with a `write` token; holds who it is (audit trail).
pub struct Writer(pub String);
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
        let info = authenticate(parts, state, false).await?;
        match info.scope {
            Scope::Write => Ok(Writer(info.actor())),
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

/// The client address of a request (behind a trusted proxy, the proxy's client), for the
/// login limits.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
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
    let user = check_credentials(&state, ip, email, password).await?;
    let token = mint_login_token(&state, &user, ip).await?;
    Ok((
        StatusCode::OK,
        Json(
            json!({"token": token, "user": {"id": user.id, "name": user.name, "email": user.email}, "teams": [], "support_teams": []}),
        ),
    ))
}

/// A new `write` token for a user who logged in, which expires after the configured idle
/// time; known to this server at once, to the others through the change feed.
async fn mint_login_token(
    state: &ApiContext,
    user: &clientele_store::User,
    ip: Option<IpAddr>,
) -> ApiResult<String> {
    let (token, hash) = new_token();
    let life = TokenLife {
        expires_at: None,
        idle_secs: Some(
            i64::try_from(state.0.opts.token_idle.as_secs().max(1)).unwrap_or(i64::MAX),
        ),
    };
    let (uid, h, l) = (user.id, hash.clone(), life.clone());
    let id = state
        .db(move |s| s.create_token_with_life("login", &h, "write", None, Some(uid), &l))
        .await?;
    let record = TokenRecord {
        id,
        name: "login".into(),
        hash,
        scope: "write".into(),
        allow: None,
        user_id: Some(user.id),
        user_email: Some(user.email.clone()),
        created_at: clientele_store::now(),
        last_used_at: None,
        expires_at: None,
        idle_secs: life.idle_secs,
    };
    state.0.tokens.insert(
        hash_token(&token),
        TokenInfo::new(Scope::Write, Vec::new(), record),
    );
    let client = ip.map(|i| i.to_string());
    tracing::info!(
        token_id = id,
        token = "login",
        owner = %user.email,
        idle_secs = life.idle_secs.unwrap_or_default(),
        client = client.as_deref().unwrap_or("-"),
        "token created"
    );
    Ok(token)
}

/// How long a login refused by a limit waits for its 429.
const REFUSAL_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

/// The user with these credentials. Refused at once, before any database read or hash,
/// when a login limit is reached (`Throttled`, with the seconds to wait) or when every
/// hashing thread is busy and the waiting line full (`Throttled`, one second): a flood of
/// logins costs refusals, never the routing workers' CPU. Failures count towards the limits.
pub(crate) async fn check_credentials(
    state: &ApiContext,
    ip: Option<IpAddr>,
    email: String,
    password: String,
) -> ApiResult<clientele_store::User> {
    let throttle = &state.0.throttle;
    let shown = log_email(&email);
    let addr = ip.map_or_else(|| "-".to_string(), |i| i.to_string());
    if let Err((why, retry_after)) = throttle.check(&email, ip) {
        metrics::counter!(crate::telemetry::LOGIN_THROTTLED).increment(1);
        if throttle.log_refusal(ip) {
            tracing::info!(client = %addr, email = %shown, limit = why.as_str(), retry_after, "login refused: too many failed attempts (logged once a minute per address)");
        }
        // A client over its limit waits for its refusal: a flood over a few connections
        // then sends a few hundred attempts a second instead of tens of thousands, each
        // of which cost a 429's CPU that routing wanted (issue 12: 731,000 refusals in
        // 20 s took routing to 0.29x its quiet throughput). The wait holds a sleeping task,
        // no thread. A full hashing queue (below) still answers at once.
        tokio::time::sleep(REFUSAL_DELAY).await;
        return Err(Error::Throttled { retry_after });
    }
    let key = email.clone();
    let store = state.0.store.clone();
    // The user is read on the hashing thread too, so that a refused attempt costs no
    // database read either.
    let ticket = state
        .0
        .hashing
        .submit(move || -> Result<Option<clientele_store::User>, StoreError> {
            let user = match store.user_by_email(&email) {
                Ok(u) => Some(u),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e),
            };
            // Verify even for an unknown user, so timing does not reveal which e-mails exist.
            let ok = match &user {
                Some(u) => verify_password(&password, &u.password_hash),
                None => {
                    let _ = verify_password(&password, DUMMY_HASH);
                    false
                }
            };
            Ok(user.filter(|_| ok))
        })
        .map_err(|full| {
            metrics::counter!(crate::telemetry::LOGIN_THROTTLED).increment(1);
            if throttle.log_refusal(ip) {
                tracing::info!(client = %addr, waiting = full.waiting, "login refused: every password check is busy (logged once a minute per address)");
            }
            Error::Throttled { retry_after: 1 }
        })?;
    let user = ticket
        .wait()
        .await
        .map_err(|_| Error::internal("the password check failed"))??;
    let Some(user) = user else {
        throttle.fail(&key, ip);
        tracing::info!(client = %addr, email = %shown, "login failed");
        metrics::counter!(crate::telemetry::LOGIN_FAILURES).increment(1);
        return Err(Error::Unauthenticated);
    };
    throttle.succeed(&key, ip);
    tracing::info!(client = %addr, email = %shown, "login");
    Ok(user)
}

/// An e-mail as logged: at most 100 characters, control characters dropped (a log line
/// must not be forged or bloated by what a client typed).
fn log_email(e: &str) -> String {
    e.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect()
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
}
