//! Every customer's folded name, in memory, to count the names holding a common fragment.
//!
//! PostgreSQL's trigram index cannot say how many names hold a fragment without reading
//! each candidate row (`pg_trgm` keeps no positions): 62,000 matches of a million took
//! 75–280 ms, for every new fragment. The folded names end to end take some 25 MB at a
//! million customers, and one pass of `memmem` over them counts any fragment exactly in a
//! few milliseconds. They follow the change feed: the customers a single write changed are
//! read again, an import (or undo) or a long gap loads them all again. The first name
//! search after a start or an import loads them (about a second at a million customers);
//! searches meanwhile do not wait for it.

use crate::sql::{marks, Arg, Db};
use crate::{Result, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

/// Changed customers beyond which the names are loaded again rather than caught up.
const CATCH_UP_AT_MOST: i64 = 10_000;

/// Bytes of names a density probe reads (some 80,000 names): enough to see a fragment
/// held by one name in a thousand about 80 times.
const PROBE_BYTES: usize = 2 << 20;

/// The names, kept at one revision of the data.
#[derive(Default)]
pub(crate) struct Names(Mutex<Option<Loaded>>);

struct Loaded {
    /// The change feed's revision the names are at.
    rev: i64,
    /// The folded names, each ended by `\n` (a folded name holds none).
    text: Vec<u8>,
    /// Where each name starts in `text`.
    starts: Vec<usize>,
    /// The customer of each name.
    ids: Vec<i64>,
    /// Names of customers since changed or deleted.
    dead: Vec<bool>,
    dead_count: usize,
    /// The names loaded at once are in id order; where later ones are.
    later: HashMap<i64, usize>,
    loaded: usize,
}

impl Names {
    /// Run `f` on the names brought to revision `rev` of the data (loaded when missing);
    /// None, without waiting, when another request is loading or catching them up and
    /// `wait` is false.
    fn with<R>(
        &self,
        db: &mut dyn Db,
        rev: i64,
        wait: bool,
        f: impl FnOnce(&Loaded) -> R,
    ) -> Result<Option<R>> {
        let guard = if wait {
            self.0.lock()
        } else {
            match self.0.try_lock() {
                Ok(g) => Ok(g),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
                Err(std::sync::TryLockError::Poisoned(p)) => Err(p),
            }
        };
        // A panic while catching up left the names half changed: load them again.
        let mut names = guard.unwrap_or_else(|poisoned| {
            let mut names = poisoned.into_inner();
            *names = None;
            self.0.clear_poison();
            names
        });
        let current = match names.as_mut() {
            Some(n) if n.rev == rev => true,
            Some(n) => n.catch_up(db, rev)?,
            None => false,
        };
        if !current {
            // Dropped first: two copies never live at once.
            *names = None;
            *names = Some(Loaded::load(db, rev)?);
        }
        Ok(names.as_ref().map(f))
    }

    /// How many customers' folded names hold `fragment` (folded).
    pub(crate) fn count(&self, db: &mut dyn Db, rev: i64, fragment: &str) -> Result<u64> {
        let n = self.with(db, rev, true, |n| n.count(fragment, n.text.len()))?;
        n.ok_or_else(|| StoreError::db("the names could not be loaded"))
    }

    /// Whether `fragment` is held by at least one name in `per` among the first names;
    /// None while another request loads the names (the caller then asks the trigram index).
    pub(crate) fn common(
        &self,
        db: &mut dyn Db,
        rev: i64,
        fragment: &str,
        per: u64,
    ) -> Result<Option<bool>> {
        self.with(db, rev, false, |n| {
            let probe = n.text.len().min(PROBE_BYTES);
            let names = n.starts.partition_point(|&s| s < probe) as u64;
            n.count(fragment, probe) * per >= names.max(1)
        })
    }
}

impl Loaded {
    fn load(db: &mut dyn Db, rev: i64) -> Result<Loaded> {
        let mut n = Loaded {
            rev,
            text: Vec::new(),
            starts: Vec::new(),
            ids: Vec::new(),
            dead: Vec::new(),
            dead_count: 0,
            later: HashMap::new(),
            loaded: 0,
        };
        db.query_each(
            "SELECT id, search FROM customers ORDER BY id",
            &[],
            &mut |r| {
                let id = r.int0(0)?;
                let name = r.text(1)?.unwrap_or_default();
                n.push(id, &name);
                Ok(())
            },
        )?;
        n.loaded = n.ids.len();
        Ok(n)
    }

    fn push(&mut self, id: i64, name: &str) {
        self.starts.push(self.text.len());
        self.text.extend_from_slice(name.as_bytes());
        self.text.push(b'\n');
        self.ids.push(id);
        self.dead.push(false);
    }

    /// The live name of customer `id`.
    fn line_of(&self, id: i64) -> Option<usize> {
        if let Some(&i) = self.later.get(&id) {
            return Some(i);
        }
        let i = self.ids[..self.loaded].binary_search(&id).ok()?;
        (!self.dead[i]).then_some(i)
    }

    /// Read again the customers changed since the names' revision; false when they had
    /// better be loaded again (an import, an undo, many changes).
    fn catch_up(&mut self, db: &mut dyn Db, rev: i64) -> Result<bool> {
        let Some(ids) = super::feed::customers_changed(db, self.rev, rev, CATCH_UP_AT_MOST)? else {
            return Ok(false);
        };
        for chunk in ids.chunks(500) {
            let args: Vec<Arg> = chunk.iter().map(|&i| Arg::Int(i)).collect();
            let now = db.query_vec(
                &format!(
                    "SELECT id, search FROM customers WHERE id IN ({})",
                    marks(1, chunk.len())
                ),
                &args,
                |r| Ok((r.int0(0)?, r.text(1)?.unwrap_or_default())),
            )?;
            for &id in chunk {
                if let Some(i) = self.line_of(id) {
                    self.dead[i] = true;
                    self.dead_count += 1;
                    self.later.remove(&id);
                }
            }
            for (id, name) in now {
                self.later.insert(id, self.ids.len());
                self.push(id, &name);
            }
        }
        self.rev = rev;
        // Dead names past a quarter of the text: loaded again, the text is as small as
        // it can be.
        Ok(self.dead_count * 4 <= self.ids.len())
    }

    /// Live names holding `fragment` that start within the first `within` bytes.
    fn count(&self, fragment: &str, within: usize) -> u64 {
        let finder = memchr::memmem::Finder::new(fragment.as_bytes());
        let text = &self.text[..within.min(self.text.len())];
        let (mut at, mut n) = (0, 0);
        while let Some(found) = finder.find(&text[at..]) {
            // The name holding the match (a fragment never holds the `\n` between names;
            // the first name starts at 0, so the partition point is at least 1).
            let line = self.starts.partition_point(|&s| s <= at + found) - 1;
            if !self.dead[line] {
                n += 1;
            }
            at = self
                .starts
                .get(line + 1)
                .copied()
                .unwrap_or(text.len())
                .min(text.len());
        }
        n
    }
}
