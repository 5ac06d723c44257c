//! The shared state of the handlers, and the loop that keeps the in-memory caches (routing
//! index, tokens) coherent with the database.

use crate::error::Error;
use crate::index::Index;
use crate::jobs::{Jobs, WorkQueue};
use crate::throttle::{LoginLimits, LoginThrottle};
use crate::tokens::TokenCache;
use clientele_core::Lang;
use clientele_store::{ApiStore, RoutingScope, StoreError};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Default language of messages (`Accept-Language: fr…` selects French per request).
    pub lang: Lang,
    /// How often the change feed is polled for other processes' writes.
    pub poll: Duration,
    /// Largest JSON or form body.
    pub json_limit: usize,
    /// Largest upload (pack files).
    pub upload_limit: usize,
    /// Failed logins allowed per e-mail and client address, and minute.
    pub login_failures_per_minute: u32,
    /// The other login limits (per address, per e-mail, global).
    pub login_limits: LoginLimits,
    /// Threads that hash and verify passwords (Argon2), below the routing workers.
    pub hash_threads: usize,
    /// Password checks that may wait for a hashing thread; more are answered 429 at once.
    pub hash_queue: usize,
    /// Checks, imports and workbook builds running at once.
    pub job_workers: usize,
    /// Checks and imports that may wait; more are answered 503 (API) or a busy page.
    pub job_queue: usize,
    /// Proxies whose `X-Forwarded-For`, `-Proto` and `-Host` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The URL clients reach this server by (`https://crm.example.fr`): written in paginator
    /// links, and `Secure` cookies when it is https.
    pub public_url: Option<String>,
    /// Tokens minted by `/api/login` stop being accepted after this long unused.
    pub token_idle: Duration,
    /// Record metrics and serve them at `/metrics`.
    pub metrics: bool,
    /// Client networks allowed to read `/metrics`.
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// `/ready` answers 503 when the routing index was last brought up to date longer ago.
    pub ready_max_lag: Duration,
    /// The one-time code that lets `/setup` create the first administrator, when the
    /// database has no user yet (`clientele serve` prints it at start).
    pub setup_code: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lang: Lang::En,
            poll: Duration::from_millis(500),
            json_limit: 1 << 20,
            upload_limit: 64 << 20,
            login_failures_per_minute: 10,
            login_limits: LoginLimits::default(),
            hash_threads: 1,
            hash_queue: 16,
            job_workers: 1,
            job_queue: 8,
            trusted_proxies: Vec::new(),
            public_url: None,
            token_idle: Duration::from_secs(24 * 3600),
            metrics: true,
            metrics_allow: crate::telemetry::loopback(),
            ready_max_lag: Duration::from_secs(10),
            setup_code: None,
        }
    }
}

/// The handlers' state (cheap to clone).
#[derive(Clone)]
pub struct ApiContext(pub Arc<Inner>);

/// What [`ApiContext`] shares.
pub struct Inner {
    /// The database.
    pub store: Arc<dyn ApiStore>,
    /// Token hashes → scope and networks.
    pub tokens: TokenCache,
    /// The routing index.
    pub index: RwLock<Index>,
    /// Failed logins by address, e-mail and pair.
    pub throttle: LoginThrottle,
    /// Password hashing, on its own low-priority threads.
    pub hashing: WorkQueue,
    /// Checks, imports and workbook builds, on their own lowest-priority threads.
    pub work: WorkQueue,
    /// Settings.
    pub opts: Options,
    /// The public URL, shared with every request without a copy ([`crate::net`]).
    pub public_url: Option<Arc<str>>,
    /// The first-run setup code until it is used ([`crate::web`], `/setup`).
    pub setup_code: std::sync::Mutex<Option<String>>,
    /// Checks and imports started from the web pages and running here.
    pub jobs: Jobs,
    /// Last change-feed revision applied to the caches.
    rev: tokio::sync::Mutex<i64>,
    /// When the routing index was last known up to date with the database.
    synced: std::sync::Mutex<std::time::Instant>,
    /// Whether the routing index holds the whole database (routing answers 503 until then).
    loaded: AtomicBool,
    /// Whether the search indexes are being tidied (see [`ApiContext::tidy_search`]).
    tidying: AtomicBool,
}

/// Changes read in one poll before giving up on incremental updates and rebuilding.
const MAX_INCREMENTAL: u64 = 5_000;

impl ApiContext {
    /// Load the tokens and return the state; the routing index loads in the background
    /// (see [`ApiContext::index_loaded`]), so that the server answers at once.
    pub async fn new(store: Arc<dyn ApiStore>, opts: Options) -> Result<ApiContext, StoreError> {
        let s = store.clone();
        // The revision is read before the index: every change after it is replayed.
        let (rev, tokens) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            Ok((s.last_change()?, s.tokens()?))
        })
        .await
        .map_err(StoreError::db)??;
        let cache = TokenCache::default();
        cache.replace(&tokens);
        let ctx = ApiContext(Arc::new(Inner {
            store,
            tokens: cache,
            index: RwLock::new(Index::default()),
            throttle: LoginThrottle::new(LoginLimits {
                per_pair: opts.login_failures_per_minute,
                ..opts.login_limits.clone()
            }),
            // Nice 10: a hash gets about a tenth of a core that routing wants.
            hashing: WorkQueue::new("clientele-hash", opts.hash_threads, opts.hash_queue, 10),
            // Nice 19: bulk work runs on what routing and logins leave.
            work: WorkQueue::new("clientele-job", opts.job_workers, opts.job_queue, 19),
            public_url: opts.public_url.as_deref().map(Arc::from),
            setup_code: std::sync::Mutex::new(opts.setup_code.clone()),
            opts,
            jobs: Jobs::default(),
            rev: tokio::sync::Mutex::new(rev),
            synced: std::sync::Mutex::new(std::time::Instant::now()),
            loaded: AtomicBool::new(false),
            tidying: AtomicBool::new(false),
        }));
        tokio::spawn(ctx.clone().load_index());
        Ok(ctx)
    }

    /// Whether the routing index is complete: until then the routing routes answer 503
    /// rather than "unknown" for a number that is merely not loaded yet.
    pub fn index_loaded(&self) -> bool {
        self.0.loaded.load(Ordering::Acquire)
    }

    /// Build the routing index from the database, catch up with the changes made
    /// meanwhile, then open routing. Retried while the database cannot be read.
    async fn load_index(self) {
        let mut rev = self.0.rev.lock().await;
        let started = std::time::Instant::now();
        loop {
            match self.db(|s| crate::index::load(s)).await {
                Ok(index) => {
                    *self
                        .0
                        .index
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = index;
                    break;
                }
                Err(e) => {
                    tracing::warn!("cannot load the routing index, retrying: {e}");
                    tokio::time::sleep(self.0.opts.poll.max(Duration::from_millis(500))).await;
                }
            }
        }
        // Numbers written while it loaded must answer from the first routed call on.
        while let Err(e) = self.sync_locked(&mut rev).await {
            tracing::warn!("cannot catch up with the change feed, retrying: {e}");
            tokio::time::sleep(self.0.opts.poll.max(Duration::from_millis(500))).await;
        }
        self.0.loaded.store(true, Ordering::Release);
        let ix = self.index();
        let (c, ct, n) = ix.sizes();
        tracing::info!(
            customers = c,
            contacts = ct,
            numbers = n,
            bytes = ix.footprint().total(),
            ms = started.elapsed().as_millis() as u64,
            "routing index loaded"
        );
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ApiStore> {
        &self.0.store
    }

    /// Run a store call on the blocking pool, its writes recorded as made by `actor`.
    pub async fn db_as<T, F>(&self, actor: String, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn ApiStore) -> Result<T, StoreError> + Send + 'static,
    {
        self.db(move |s| clientele_store::audit::as_actor(&actor, || f(s)))
            .await
    }

    /// Run a store call on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn ApiStore) -> Result<T, StoreError> + Send + 'static,
    {
        let s = self.0.store.clone();
        tokio::task::spawn_blocking(move || f(s.as_ref()))
            .await
            .map_err(Error::internal)?
            .map_err(Error::from)
    }

    /// Time since the routing index was last known up to date with the database.
    pub fn sync_lag(&self) -> Duration {
        self.0
            .synced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .elapsed()
    }

    /// Read access to the routing index.
    pub fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.0
            .index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Apply every change recorded since the last call: this server's own writes (called
    /// right after them) and other processes' (called by the poll loop).
    pub async fn sync(&self) -> Result<(), Error> {
        if !self.index_loaded() {
            // The load replays every change once it is done.
            return Ok(());
        }
        let mut rev = self.0.rev.lock().await;
        let started = std::time::Instant::now();
        let result = self.sync_locked(&mut rev).await;
        crate::telemetry::record_sync(started, result.is_ok());
        if result.is_ok() {
            *self
                .0
                .synced
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = started;
        }
        result
    }

    async fn sync_locked(&self, rev: &mut i64) -> Result<(), Error> {
        let from = *rev;
        let changes = self
            .db(move |s| s.changes_since(from, MAX_INCREMENTAL))
            .await?;
        let Some(last) = changes.last().map(|c| c.rev) else {
            return Ok(());
        };
        let rebuild =
            changes.len() as u64 >= MAX_INCREMENTAL || changes.iter().any(|c| c.kind == "all");
        if rebuild {
            // An import may have left search indexes to build.
            self.build_pending_search();
            // Changes after `start` are replayed by the next sync, so writes that land
            // while the index is rebuilt are not lost.
            // The new index is built beside the old one, which answers meanwhile.
            let (start, index, tokens) = self
                .db(|s| {
                    let start = s.last_change()?;
                    Ok((start, crate::index::load(s)?, s.tokens()?))
                })
                .await?;
            *self
                .0
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = index;
            self.0.tokens.replace(&tokens);
            *rev = start;
            return Ok(());
        }
        let customers: Vec<i64> = changes
            .iter()
            .filter(|c| c.kind == "customer")
            .map(|c| c.item)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let contacts: Vec<i64> = changes
            .iter()
            .filter(|c| c.kind == "contact")
            .map(|c| c.item)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !customers.is_empty() {
            self.tidy_search();
        }
        let tokens = changes.iter().any(|c| c.kind == "token");
        let (cu, ct, tk) = self
            .db(move |s| {
                let cu = if customers.is_empty() {
                    None
                } else {
                    Some((
                        s.routing_data(&RoutingScope::Customers(customers.clone()))?,
                        customers,
                    ))
                };
                let ct = if contacts.is_empty() {
                    None
                } else {
                    Some((
                        s.routing_data(&RoutingScope::Contacts(contacts.clone()))?,
                        contacts,
                    ))
                };
                let tk = if tokens { Some(s.tokens()?) } else { None };
                Ok((cu, ct, tk))
            })
            .await?;
        {
            let mut ix = self
                .0
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((data, ids)) = cu {
                ix.apply_customers(&ids, data);
            }
            if let Some((data, ids)) = ct {
                ix.apply_contacts(&ids, data);
            }
        }
        if let Some(t) = tk {
            self.0.tokens.replace(&t);
        }
        *rev = last;
        Ok(())
    }

    /// Build, in the background, the search indexes a first import left for later (see
    /// the store's `build_pending_search`): lists meanwhile find the same customers, slower.
    pub fn build_pending_search(&self) {
        let store = self.0.store.clone();
        tokio::task::spawn_blocking(move || {
            maintain(
                || store.build_pending_search(),
                "search indexes built",
                "cannot build the search indexes",
            )
        });
    }

    /// Tidy the search indexes in the background if they need it (see the store's
    /// `tidy_search`: SQLite's trigram index past eight segments), one tidying at a time.
    /// Called at start and after every poll that saw single customer changes.
    fn tidy_search(&self) {
        use std::sync::atomic::Ordering;
        if self.0.tidying.swap(true, Ordering::AcqRel) {
            return;
        }
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            maintain(
                || state.0.store.tidy_search(),
                "search indexes tidied",
                "cannot tidy the search indexes",
            );
            state.0.tidying.store(false, Ordering::Release);
        });
    }

    /// Poll the change feed until the process ends.
    pub async fn poll_forever(self) {
        self.build_pending_search();
        self.tidy_search();
        let mut tick = tokio::time::interval(self.0.opts.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.sync().await {
                tracing::warn!("cannot refresh the routing index: {e}");
            }
            if let Err(e) = self
                .0
                .tokens
                .maintain(&self.0.store, self.0.opts.poll)
                .await
            {
                tracing::warn!("cannot record token uses or expiries: {e}");
            }
        }
    }
}

/// Run one piece of store maintenance (on a blocking thread), logging how long it took when
/// it had work to do (`done`), or why it failed (`failed`).
fn maintain(work: impl FnOnce() -> Result<bool, StoreError>, done: &str, failed: &str) {
    let started = std::time::Instant::now();
    match work() {
        Ok(true) => tracing::info!(ms = started.elapsed().as_millis() as u64, "{done}"),
        Ok(false) => {}
        Err(e) => tracing::warn!("{failed}: {e}"),
    }
}
