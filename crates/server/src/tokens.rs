//! The token cache: token hashes → what they allow, kept in memory (refreshed through the
//! change feed) so that a request never waits on the database to be authenticated.
//!
//! A leaf module: the shared state holds a [`TokenCache`] and [`crate::auth`] checks requests
//! against it, so neither the state nor the cache may depend on the handlers.

use clientele_store::{ApiStore, Expiry, StoreError, TokenRecord};
use ipnet::IpNet;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
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
#[derive(Debug)]
pub struct TokenInfo {
    /// Scope.
    pub scope: Scope,
    /// Allowed client networks (empty: any).
    pub allow: Vec<IpNet>,
    /// Id, name, owner and life as stored.
    pub record: TokenRecord,
    /// Milliseconds since the epoch of its last use known here (ours, or the stored one).
    pub last_used: AtomicI64,
    /// The last use this server wrote to the database (or read from it).
    pub stored_use: AtomicI64,
}

impl TokenInfo {
    pub(crate) fn new(scope: Scope, allow: Vec<IpNet>, record: TokenRecord) -> TokenInfo {
        let stored = record
            .last_used_at
            .as_deref()
            .and_then(clientele_store::parse_time)
            .unwrap_or(0);
        TokenInfo {
            scope,
            allow,
            record,
            last_used: AtomicI64::new(stored),
            stored_use: AtomicI64::new(stored),
        }
    }
    /// Who acts with it (audit trail).
    pub fn actor(&self) -> String {
        self.record.actor()
    }
    /// Whether it is no longer accepted at `now` by what this server knows.
    pub(crate) fn expired(&self, now: i64) -> bool {
        let used = self.last_used.load(Ordering::Relaxed);
        self.record.expired_at(now, (used > 0).then_some(used))
    }
}

/// Token hashes → what they allow; a miss reloads from the database at most once a second.
#[derive(Default)]
pub struct TokenCache {
    map: RwLock<HashMap<[u8; 32], Arc<TokenInfo>>>,
    last_reload: Mutex<Option<Instant>>,
}

impl TokenCache {
    /// Replace the whole map (keeping the uses seen here and not yet written).
    pub fn replace(&self, records: &[TokenRecord]) {
        let old = self
            .map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
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
            let info = TokenInfo::new(scope, allow, r.clone());
            if let Some(prev) = old.get(&key).filter(|p| p.record.id == r.id) {
                info.last_used
                    .fetch_max(prev.last_used.load(Ordering::Relaxed), Ordering::Relaxed);
                info.stored_use
                    .fetch_max(prev.stored_use.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            m.insert(key, Arc::new(info));
        }
        *self
            .map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = m;
    }
    /// Add one token (login).
    pub fn insert(&self, hash: [u8; 32], info: TokenInfo) {
        info.last_used
            .fetch_max(clientele_store::now_ms(), Ordering::Relaxed);
        self.map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(hash, Arc::new(info));
    }
    /// Forget one token (revoked or expired here; the change feed tells the other servers).
    pub fn remove_id(&self, id: i64) {
        self.map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, t| t.record.id != id);
    }
    /// The last use known here of every token (milliseconds since the epoch), by id: fresher
    /// than the stored one, which is written at most once a minute.
    pub fn last_uses(&self) -> HashMap<i64, i64> {
        self.all()
            .iter()
            .map(|t| (t.record.id, t.last_used.load(Ordering::Relaxed)))
            .filter(|(_, t)| *t > 0)
            .collect()
    }
    /// Every token known here.
    pub(crate) fn all(&self) -> Vec<Arc<TokenInfo>> {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
    pub(crate) fn get(&self, hash: &[u8; 32]) -> Option<Arc<TokenInfo>> {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(hash)
            .cloned()
    }
    /// Whether a miss may reload now (the negative cache: once a second at most).
    pub(crate) fn may_reload(&self) -> bool {
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

pub(crate) fn log_expired(rec: &TokenRecord, ip: Option<IpAddr>) {
    let client = ip.map(|i| i.to_string());
    tracing::info!(
        token_id = rec.id,
        token = %rec.name,
        owner = %rec.actor(),
        client = client.as_deref().unwrap_or("-"),
        "token expired"
    );
}

/// How long a token's last use may stay unwritten: a minute, or a quarter of its idle
/// timeout when shorter (so that another server, which only knows the written time, still
/// sees a token in use as alive), but never below the poll interval.
fn use_write_interval(rec: &TokenRecord, poll: Duration) -> i64 {
    let minute = 60_000;
    let quarter = rec
        .idle_secs
        .map_or(minute, |s| s.saturating_mul(250).min(minute));
    quarter.max(i64::try_from(poll.as_millis()).unwrap_or(minute))
}

/// Run a store call on the blocking pool (the cache cannot use the state's runner, which
/// depends on it).
async fn blocking<T, F>(store: &Arc<dyn ApiStore>, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ApiStore) -> Result<T, StoreError> + Send + 'static,
{
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(s.as_ref()))
        .await
        .map_err(StoreError::db)?
}

impl TokenCache {
    /// On the poll tick: write the last uses that are due (one batch for every token), and
    /// delete the tokens that expired here (the database confirms, and logs them once).
    pub async fn maintain(
        &self,
        store: &Arc<dyn ApiStore>,
        poll: Duration,
    ) -> Result<(), StoreError> {
        let now = clientele_store::now_ms();
        let mut uses = Vec::new();
        let mut expired = Vec::new();
        for t in self.all() {
            let used = t.last_used.load(Ordering::Relaxed);
            let stored = t.stored_use.load(Ordering::Relaxed);
            if t.expired(now) {
                expired.push(t.clone());
            } else if used > stored && used - stored >= use_write_interval(&t.record, poll) {
                uses.push((t.clone(), used));
            }
        }
        if !uses.is_empty() {
            let batch: Vec<(i64, String)> = uses
                .iter()
                .map(|(t, at)| (t.record.id, clientele_store::format_time(*at)))
                .collect();
            blocking(store, move |s| s.touch_tokens(&batch)).await?;
            for (t, at) in uses {
                t.stored_use.fetch_max(at, Ordering::Relaxed);
            }
        }
        for t in expired {
            let id = t.record.id;
            match blocking(store, move |s| s.expire_token(id)).await? {
                Expiry::Expired(rec) => {
                    log_expired(&rec, None);
                    self.remove_id(id);
                }
                Expiry::Gone => self.remove_id(id),
                Expiry::Alive(rec) => {
                    let stored = rec
                        .last_used_at
                        .as_deref()
                        .and_then(clientele_store::parse_time)
                        .unwrap_or(0);
                    t.stored_use.fetch_max(stored, Ordering::Relaxed);
                    t.last_used.fetch_max(stored, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }
}
