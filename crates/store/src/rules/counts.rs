//! The members of the customer lists counted after a write, so that their totals follow
//! the change feed instead of being counted again.
//!
//! A list's total is kept until the data changes (see `ListCache`). Counting a million rows
//! again after every write took PostgreSQL 60–90 ms (a parallel index-only scan), paid by
//! the first list asked after each write: a deep page right after a write took 64/78 ms
//! p50/p95. A list counted again at a later revision keeps instead which customers it holds
//! (one bit per customer id: 125 KB at a million); each write then costs reading again the
//! customers it changed.

use super::feed::customers_changed;
use crate::sql::{Arg, Db};
use crate::{Result, SortKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Lists whose members are kept (all forgotten at once beyond).
const LISTS_KEPT: usize = 32;

/// Changes beyond which the members are read again rather than caught up.
const CATCH_UP_AT_MOST: i64 = 10_000;

/// The members of the lists counted after a write, by the text of their count.
#[derive(Default)]
pub(crate) struct Members(Mutex<HashMap<String, Arc<Mutex<Option<Set>>>>>);

/// One list's members at one revision.
struct Set {
    rev: i64,
    /// Bit `id % 64` of word `id / 64`: customer `id` is in the list.
    bits: Vec<u64>,
    count: u64,
}

impl Set {
    /// Put customer `id` in the list or out of it; false when ids are too spread out to
    /// be kept (beyond four per member, or four million).
    fn set(&mut self, id: usize, member: bool) -> bool {
        let most = usize::try_from(self.count.saturating_mul(4))
            .unwrap_or(usize::MAX)
            .max(1 << 22);
        if id >= most {
            return false;
        }
        if id / 64 >= self.bits.len() {
            self.bits.resize(id / 64 + 1, 0);
        }
        let (word, bit) = (&mut self.bits[id / 64], 1u64 << (id % 64));
        match (*word & bit != 0, member) {
            (false, true) => self.count += 1,
            (true, false) => self.count -= 1,
            _ => return true,
        }
        *word ^= bit;
        true
    }
}

impl Members {
    /// The number of customers in the list `where_sql` at revision `rev`, from its members
    /// brought up to it; read whole when `counted_before` (the list was counted at another
    /// revision: it is asked again after writes). None when they are not kept: count.
    pub(super) fn count(
        &self,
        db: &mut dyn Db,
        rev: i64,
        (key, where_sql, args): (&str, &str, &[Arg]),
        counted_before: bool,
    ) -> Result<Option<u64>> {
        let list = {
            let mut lists = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if !lists.contains_key(key) && !counted_before {
                return Ok(None);
            }
            if lists.len() >= LISTS_KEPT && !lists.contains_key(key) {
                lists.clear();
            }
            lists.entry(key.to_string()).or_default().clone()
        };
        let mut kept = list.lock().unwrap_or_else(|poisoned| {
            list.clear_poison();
            let mut kept = poisoned.into_inner();
            *kept = None;
            kept
        });
        let caught_up = match kept.as_mut() {
            Some(s) => catch_up(s, db, rev, where_sql, args)?,
            None => false,
        };
        if !caught_up {
            // Forgotten first: a failed read leaves nothing half made.
            *kept = None;
            *kept = read(db, rev, where_sql, args)?;
        }
        Ok(kept.as_ref().map(|s| s.count))
    }
}

/// The members of the list `where_sql`, read whole; None when their ids are too spread out.
fn read(db: &mut dyn Db, rev: i64, where_sql: &str, args: &[Arg]) -> Result<Option<Set>> {
    let mut s = Set {
        rev,
        bits: Vec::new(),
        count: 0,
    };
    let mut spread = false;
    db.query_each(
        &format!("SELECT id FROM customers{where_sql}"),
        args,
        &mut |r| {
            let id = r.int0(0)?;
            // Counted as they come, so that the bound on ids grows with the list.
            match usize::try_from(id) {
                Ok(i) if !spread && s.set(i, true) => {}
                _ => spread = true,
            }
            Ok(())
        },
    )?;
    Ok((!spread).then_some(s))
}

/// Bring `s` to revision `rev`: the customers changed since are in the list or not as they
/// are now; false when it had better be read again (an import, an undo, many changes).
fn catch_up(s: &mut Set, db: &mut dyn Db, rev: i64, where_sql: &str, args: &[Arg]) -> Result<bool> {
    // A request that read the revision before another caught the set up past it counts
    // it as it is (as if it had come a moment later).
    if rev <= s.rev {
        return Ok(true);
    }
    let Some(ids) = customers_changed(db, s.rev, rev, CATCH_UP_AT_MOST)? else {
        return Ok(false);
    };
    // The changed customers the list keeps now (the id order's key is the id alone).
    let now = super::pages::keys_of(db, SortKey::Id, where_sql, args, &ids)?;
    for id in ids {
        let Ok(i) = usize::try_from(id) else {
            return Ok(false);
        };
        if !s.set(i, now.contains_key(&id)) {
            return Ok(false);
        }
    }
    s.rev = rev;
    Ok(true)
}
