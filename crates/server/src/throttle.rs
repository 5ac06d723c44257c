//! Login throttling: limits per client address across e-mails, per e-mail across
//! addresses, per (e-mail, address) pair, and a global budget, checked in memory before any
//! database read or password hash, so that a refused attempt costs next to nothing.
//!
//! An attacker must not be able to lock a real user out: an address from which a user has
//! logged in successfully ("known" pair) is held only to the pair limit, so a spray or a
//! brute force from elsewhere (which the per-e-mail and global limits stop) does not stop
//! the user's own logins. Every block lasts at most its window (minutes), never longer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The limits (failures allowed per window).
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Per (e-mail, address) pair, per minute: a user's own typos (Laravel's `email|ip`).
    pub per_pair: u32,
    /// Per client address across all e-mails, per `window`: sprays from one address.
    pub per_address: u32,
    /// Per e-mail across all addresses but known ones, per `window`: distributed guessing.
    pub per_email: u32,
    /// All failures together, per minute; past it only known pairs may try.
    pub global: u32,
    /// The window of the per-address and per-e-mail limits.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_pair: 10,
            per_address: 20,
            per_email: 10,
            global: 300,
            window: Duration::from_secs(300),
        }
    }
}

/// Which limit refused an attempt (logged, and told to nobody but the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// Too many failures for this e-mail from this address.
    Pair,
    /// Too many failures from this address.
    Address,
    /// Too many failures for this e-mail.
    Email,
    /// Too many failures on the whole server.
    Global,
}

impl Blocked {
    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Blocked::Pair => "pair",
            Blocked::Address => "address",
            Blocked::Email => "email",
            Blocked::Global => "global",
        }
    }
}

const MINUTE: Duration = Duration::from_secs(60);
/// How long a successful login keeps its address known for that user.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Entries kept per map before expired ones are swept (and, past twice that, the oldest
/// dropped): the maps stay small whatever an attacker sends.
const MAX_ENTRIES: usize = 50_000;
/// Longest e-mail address (RFC 5321): longer input is cut so that a body-sized "e-mail"
/// cannot make an entry hold megabytes.
const MAX_EMAIL: usize = 254;

#[derive(Clone, Copy)]
struct Count {
    start: Instant,
    n: u32,
}

#[derive(Default)]
struct Maps {
    pair: HashMap<(String, Option<IpAddr>), Count>,
    address: HashMap<IpAddr, Count>,
    email: HashMap<String, Count>,
    global: Option<Count>,
    known: HashMap<(String, Option<IpAddr>), Instant>,
    logged: HashMap<Option<IpAddr>, Instant>,
}

/// The login throttle of one server.
pub struct LoginThrottle {
    limits: LoginLimits,
    maps: Mutex<Maps>,
}

fn key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(MAX_EMAIL)
        .collect::<String>()
        .to_lowercase()
}

/// Seconds left in a window that started at `start`, rounded up: retrying after the
/// announced delay must succeed.
fn left(start: Instant, window: Duration) -> Option<u64> {
    let l = window.checked_sub(start.elapsed())?;
    Some(l.as_secs() + u64::from(l.subsec_nanos() > 0)).filter(|s| *s > 0)
}

fn over(c: Option<&Count>, max: u32, window: Duration) -> Option<u64> {
    let c = c?;
    if c.n >= max {
        left(c.start, window)
    } else {
        None
    }
}

fn bump<K: std::hash::Hash + Eq>(m: &mut HashMap<K, Count>, k: K, window: Duration) {
    if m.len() >= MAX_ENTRIES {
        m.retain(|_, c| c.start.elapsed() < window);
        if m.len() >= 2 * MAX_ENTRIES {
            m.clear();
        }
    }
    let now = Instant::now();
    let c = m.entry(k).or_insert(Count { start: now, n: 0 });
    if c.start.elapsed() >= window {
        *c = Count { start: now, n: 0 };
    }
    c.n = c.n.saturating_add(1);
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(limits: LoginLimits) -> LoginThrottle {
        LoginThrottle {
            limits,
            maps: Mutex::new(Maps::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Maps> {
        // Counters only: a panic elsewhere cannot leave them in a state worth refusing.
        self.maps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether an attempt may go on; when blocked, which limit and the seconds to wait.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), (Blocked, u64)> {
        let l = &self.limits;
        let k = key(email);
        let m = self.lock();
        let pair = (k, ip);
        if let Some(s) = over(m.pair.get(&pair), l.per_pair, MINUTE) {
            return Err((Blocked::Pair, s));
        }
        if m.known.get(&pair).is_some_and(|t| t.elapsed() < KNOWN_FOR) {
            return Ok(());
        }
        if let Some(s) = ip.and_then(|ip| over(m.address.get(&ip), l.per_address, l.window)) {
            return Err((Blocked::Address, s));
        }
        if let Some(s) = over(m.email.get(&pair.0), l.per_email, l.window) {
            return Err((Blocked::Email, s));
        }
        if let Some(s) = over(m.global.as_ref(), l.global, MINUTE) {
            return Err((Blocked::Global, s));
        }
        Ok(())
    }

    /// Count a failed attempt against every limit.
    pub fn fail(&self, email: &str, ip: Option<IpAddr>) {
        let w = self.limits.window;
        let k = key(email);
        let mut m = self.lock();
        bump(&mut m.pair, (k.clone(), ip), MINUTE);
        if let Some(ip) = ip {
            bump(&mut m.address, ip, w);
        }
        bump(&mut m.email, k, w);
        let now = Instant::now();
        let g = m.global.get_or_insert(Count { start: now, n: 0 });
        if g.start.elapsed() >= MINUTE {
            *g = Count { start: now, n: 0 };
        }
        g.n = g.n.saturating_add(1);
    }

    /// Whether a refusal for this address should be logged now: the first one, then at
    /// most one a minute, so that a flood of refused attempts does not become a flood of
    /// log lines (each costs CPU that routing wants).
    pub fn log_refusal(&self, ip: Option<IpAddr>) -> bool {
        let mut m = self.lock();
        if m.logged.len() >= MAX_ENTRIES {
            m.logged.retain(|_, t| t.elapsed() < MINUTE);
            if m.logged.len() >= MAX_ENTRIES {
                m.logged.clear();
            }
        }
        match m.logged.get(&ip) {
            Some(t) if t.elapsed() < MINUTE => false,
            _ => {
                m.logged.insert(ip, Instant::now());
                true
            }
        }
    }

    /// A successful login: the pair's failures are forgotten (Laravel's
    /// `clearLoginAttempts`) and the address becomes known for this user.
    pub fn succeed(&self, email: &str, ip: Option<IpAddr>) {
        let pair = (key(email), ip);
        let mut m = self.lock();
        m.pair.remove(&pair);
        if m.known.len() >= MAX_ENTRIES {
            m.known.retain(|_, t| t.elapsed() < KNOWN_FOR);
            if m.known.len() >= MAX_ENTRIES {
                m.known.clear();
            }
        }
        m.known.insert(pair, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, n]))
    }

    fn small() -> LoginThrottle {
        LoginThrottle::new(LoginLimits {
            per_pair: 3,
            per_address: 5,
            per_email: 4,
            global: 12,
            window: Duration::from_secs(300),
        })
    }

    #[test]
    fn pair_limit_counts_one_user_from_one_address() {
        let t = small();
        for _ in 0..3 {
            assert_eq!(t.check("a@x.fr", ip(1)), Ok(()));
            t.fail(" A@X.fr ", ip(1));
        }
        let (why, secs) = t.check("a@x.fr", ip(1)).expect_err("blocked");
        assert_eq!(why, Blocked::Pair);
        assert!((59..=60).contains(&secs), "{secs}");
        // Another user behind the same address is not blocked by this pair.
        assert_eq!(t.check("b@x.fr", ip(1)), Ok(()));
    }

    #[test]
    fn address_limit_stops_a_spray_across_emails() {
        let t = small();
        for i in 0..5 {
            let e = format!("user{i}@x.fr");
            assert_eq!(t.check(&e, ip(1)), Ok(()));
            t.fail(&e, ip(1));
        }
        assert_eq!(
            t.check("fresh@x.fr", ip(1)).map_err(|e| e.0),
            Err(Blocked::Address)
        );
        assert_eq!(t.check("fresh@x.fr", ip(2)), Ok(()));
    }

    #[test]
    fn email_limit_follows_the_email_across_addresses_but_not_known_ones() {
        let t = small();
        t.succeed("boss@x.fr", ip(9));
        for n in 1..=4 {
            t.fail("boss@x.fr", ip(n));
        }
        assert_eq!(
            t.check("boss@x.fr", ip(5)).map_err(|e| e.0),
            Err(Blocked::Email)
        );
        // The real user's usual address still gets through.
        assert_eq!(t.check("boss@x.fr", ip(9)), Ok(()));
    }

    #[test]
    fn global_budget_leaves_known_pairs_through() {
        let t = small();
        t.succeed("boss@x.fr", ip(200));
        for n in 0..12u8 {
            t.fail(&format!("u{n}@x.fr"), ip(n));
        }
        assert_eq!(
            t.check("new@x.fr", ip(100)).map_err(|e| e.0),
            Err(Blocked::Global)
        );
        assert_eq!(t.check("boss@x.fr", ip(200)), Ok(()));
    }

    #[test]
    fn refusals_are_logged_once_a_minute_per_address() {
        let t = small();
        assert!(t.log_refusal(ip(1)));
        assert!(!t.log_refusal(ip(1)));
        assert!(t.log_refusal(ip(2)));
    }

    #[test]
    fn success_clears_the_pair_and_huge_emails_are_cut() {
        let t = small();
        let long = "x".repeat(1_000_000);
        for _ in 0..3 {
            t.fail(&long, ip(1));
        }
        assert!(t.check(&long, ip(1)).is_err());
        t.succeed(&long, ip(1));
        assert_eq!(t.check(&long, ip(1)), Ok(()));
        assert!(t.lock().pair.keys().all(|(k, _)| k.len() <= MAX_EMAIL));
    }
}
