//! Where a page of a customer list starts: the orders lists are read in, and the anchors
//! that let a deep page start near itself instead of walking its order from the first row.
//!
//! Neither SQLite nor PostgreSQL can find the 500,000th row of an order without walking
//! the 499,999 before it (`OFFSET`: 1.6–3.8 s a page at a million customers). A list's
//! anchors cut its order into stretches of about [`ANCHOR_EVERY`] rows, each known by
//! the key and id it starts at and by how many rows it holds: a page then walks at most
//! one stretch from the start of its own. Taking them walks the whole order once (a
//! million customers: some 80 ms on SQLite, 450 ms on PostgreSQL); they then follow the
//! change feed: each customer a write changed is moved from the stretch it was in
//! (remembered by id) to the one its key now falls in, so a write costs the next deep
//! page a look-up of the changed rows, not a walk.

use super::feed::customers_changed;
use crate::sql::{marks, Arg, Db, BYTES};
use crate::{Result, SortKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Rows of a stretch when anchors are taken: a deep page walks at most about this many
/// index entries from the start of its stretch (PostgreSQL walked up to half a million,
/// 50–100 ms a page).
const ANCHOR_EVERY: u64 = 10_000;

/// Rows a stretch may grow to through writes (new rows all sorting last, say) before the
/// anchors are taken again.
const STRETCH_AT_MOST: u32 = 2 * ANCHOR_EVERY as u32;

/// Changes beyond which anchors are taken again rather than caught up.
const CATCH_UP_AT_MOST: i64 = 10_000;

/// Lists (order and filter) whose anchors are kept; beyond, the least recently used is
/// forgotten. Each keeps two bytes per customer id up to [`ids_followed`]: 2 MB for a
/// million customers whose ids follow each other, 8 MB at most.
const LISTS_KEPT: usize = 16;

/// The customer ids whose stretch a list of `rows` rows remembers: ids are given in
/// sequence, so beyond four per listed customer (or four million) they are too spread out
/// to be worth a table, and the stretches are taken again at every change instead.
fn ids_followed(rows: u64) -> usize {
    usize::try_from(rows.saturating_mul(4))
        .unwrap_or(usize::MAX)
        .max(1 << 22)
}

/// The stretch of a customer not in the list.
const NOT_LISTED: u16 = u16::MAX;

/// The `ORDER BY` of a list, ascending or not. Every order is that of an index (see
/// [`crate::schema::search_indexes`]), so a page is read in order, never sorted: NULLs
/// first when ascending.
pub(super) fn list_order(sort: Option<(SortKey, bool)>, reversed: bool) -> String {
    let (key, desc) = sort.unwrap_or((SortKey::Id, false));
    let desc = desc != reversed;
    let dir = if desc { "DESC" } else { "ASC" };
    let nulls = if desc { "NULLS LAST" } else { "NULLS FIRST" };
    match key {
        SortKey::Id => format!("id {dir}"),
        // The folded name: French order ("Électricité" among the E, not after
        // "Transports"); names that fold alike in creation order. (The written name as a
        // second key kept PostgreSQL from reading the page from the index alone.)
        SortKey::Name => format!("search{BYTES} {dir} {nulls}, id {dir}"),
        // Accounts are unique: no tie to break (and the unique index is the order).
        SortKey::Account => format!("\"customerAccount\"{BYTES} {dir}"),
        SortKey::CreatedAt => format!("created_at{BYTES} {dir} {nulls}, id {dir}"),
        SortKey::UpdatedAt => format!("updated_at{BYTES} {dir} {nulls}, id {dir}"),
    }
}

/// The column an order's anchors keep beside the id (the id alone orders by id).
fn anchor_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Id => "CAST(NULL AS TEXT)",
        SortKey::Name => "search",
        SortKey::Account => "\"customerAccount\"",
        SortKey::CreatedAt => "created_at",
        SortKey::UpdatedAt => "updated_at",
    }
}

/// `where_sql` (a list's ` WHERE …`, or nothing) and one more condition.
fn and(where_sql: &str, cond: &str) -> String {
    if where_sql.is_empty() {
        format!(" WHERE {cond}")
    } else {
        format!("{where_sql} AND {cond}")
    }
}

/// Where a page lies in a list of `total` rows ordered by `sort`.
#[derive(Clone, Copy)]
pub(super) struct Walk {
    pub sort: Option<(SortKey, bool)>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// The key and id a stretch starts at: the rows at or after it in the order. The row
/// itself may since have changed or gone; the place in the order stays.
#[derive(Debug, Clone)]
struct Anchor {
    key: Option<String>,
    id: i64,
}

/// One list's order cut into stretches, at one revision of the data.
struct Stretches {
    /// The change feed's revision they are at.
    rev: i64,
    /// Where each stretch but the first starts (the first starts at the list's start).
    starts: Vec<Anchor>,
    /// Rows in each stretch.
    sizes: Vec<u32>,
    /// The stretch of each customer, by id ([`NOT_LISTED`] when not in the list); None
    /// when ids are too spread out to be remembered (the stretches are then taken again at
    /// every change).
    stretch_of: Option<Vec<u16>>,
}

/// The anchors of the lists deep pages were asked of, by order and filter.
#[derive(Default)]
pub(crate) struct Anchors(Mutex<Lists>);

/// The lists whose anchors are kept, each with when it was last asked for.
#[derive(Default)]
struct Lists {
    asked: u64,
    kept: HashMap<String, (u64, Shared)>,
}

/// One list's stretches, shared by the requests for it (None until taken).
type Shared = Arc<Mutex<Option<Stretches>>>;

impl Anchors {
    /// The ids of the page `w` of the list `where_sql` when it lies more than
    /// [`ANCHOR_EVERY`] rows from either end, read from the start of its stretch; None for
    /// a page near an end (the plain walk is short) or a list without usable anchors.
    pub(super) fn page_ids(
        &self,
        db: &mut dyn Db,
        rev: i64,
        where_sql: &str,
        args: &[Arg],
        w: Walk,
    ) -> Result<Option<Vec<i64>>> {
        let end = (w.offset + w.limit).min(w.total);
        if w.offset >= w.total || w.offset.min(w.total - end) <= ANCHOR_EVERY {
            return Ok(None);
        }
        let key = w.sort.map_or(SortKey::Id, |(k, _)| k);
        // Where the page starts in the ascending order.
        let start = if w.sort.is_some_and(|(_, desc)| desc) {
            w.total - end
        } else {
            w.offset
        };
        let list = {
            // What the map holds stays whole whatever panicked while it was locked.
            let mut lists = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let name = format!("{key:?} {where_sql} {args:?}");
            if lists.kept.len() >= LISTS_KEPT && !lists.kept.contains_key(&name) {
                let oldest = lists.kept.iter().min_by_key(|(_, (asked, _))| *asked);
                if let Some(oldest) = oldest.map(|(name, _)| name.clone()) {
                    lists.kept.remove(&oldest);
                }
            }
            lists.asked += 1;
            let asked = lists.asked;
            let list = lists.kept.entry(name).or_default();
            list.0 = asked;
            list.1.clone()
        };
        // Requests for the same list wait for one of them to take or catch up its anchors.
        let (anchor, from) = {
            let mut kept = list.lock().unwrap_or_else(|poisoned| {
                // A request that panicked may have left the stretches half caught up.
                list.clear_poison();
                let mut kept = poisoned.into_inner();
                *kept = None;
                kept
            });
            let caught_up = match kept.as_mut() {
                Some(s) => s.catch_up(db, rev, key, where_sql, args)?,
                None => false,
            };
            if !caught_up {
                // Forgotten first: a failed walk leaves nothing half made.
                *kept = None;
                *kept = Stretches::take(db, rev, key, where_sql, args, w.total)?;
            }
            let Some(s) = kept.as_ref() else {
                return Ok(None);
            };
            let Some((j, at)) = s.locate(start) else {
                return Ok(None);
            };
            (j.checked_sub(1).map(|j| s.starts[j].clone()), start - at)
        };
        let limit = end - w.offset;
        match anchor {
            Some(a) => ids_from_anchor(db, key, &a, where_sql, args, from, limit),
            // The first stretch: from the list's start.
            None => ids_after(db, where_sql, args.to_vec(), key, from, limit).map(Some),
        }
    }
}

impl Stretches {
    /// Walk the list `where_sql` in the ascending order of `key` once, cutting it every
    /// [`ANCHOR_EVERY`] rows. None when accounts may be missing (a NULL account sorts
    /// first on SQLite and last on PostgreSQL, and no anchor could stand for it).
    fn take(
        db: &mut dyn Db,
        rev: i64,
        key: SortKey,
        where_sql: &str,
        args: &[Arg],
        total: u64,
    ) -> Result<Option<Self>> {
        if key == SortKey::Account
            && db
                .query_opt(
                    "SELECT 1 FROM customers WHERE \"customerAccount\" IS NULL LIMIT 1",
                    &[],
                    |r| r.int(0),
                )?
                .is_some()
        {
            return Ok(None);
        }
        let most_ids = ids_followed(total);
        let mut s = Stretches {
            rev,
            starts: Vec::new(),
            sizes: Vec::new(),
            stretch_of: Some(Vec::new()),
        };
        let mut n = 0u64;
        // Each start's key is read in the same walk as its place (a key read afterwards
        // may have changed since, and the start would no longer stand where it was cut);
        // the order's index holds it, and only the starts' keys are copied out.
        let sql = format!(
            "SELECT id, {} FROM customers{where_sql} ORDER BY {}",
            anchor_column(key),
            list_order(Some((key, false)), false)
        );
        db.query_each(&sql, args, &mut |r| {
            let id = r.int0(0)?;
            if n.is_multiple_of(ANCHOR_EVERY) {
                if n > 0 {
                    s.starts.push(Anchor {
                        key: r.text(1)?,
                        id,
                    });
                }
                s.sizes.push(0);
            }
            // At least one stretch: the first row made it.
            let j = s.sizes.len() - 1;
            s.sizes[j] += 1;
            n += 1;
            if let Some(of) = s.stretch_of.as_mut() {
                match (usize::try_from(id), u16::try_from(j)) {
                    (Ok(i), Ok(j)) if i < most_ids && j < NOT_LISTED => {
                        if i >= of.len() {
                            of.resize(i + 1, NOT_LISTED);
                        }
                        of[i] = j;
                    }
                    _ => s.stretch_of = None,
                }
            }
            Ok(())
        })?;
        Ok(Some(s))
    }

    /// Move the customers changed since the stretches' revision to the stretches they now
    /// fall in; false when the anchors had better be taken again (an import, an undo,
    /// many changes, a stretch grown too long).
    fn catch_up(
        &mut self,
        db: &mut dyn Db,
        rev: i64,
        key: SortKey,
        where_sql: &str,
        args: &[Arg],
    ) -> Result<bool> {
        // A request that read the revision before another caught the stretches up past
        // it reads them as they are (as if it had come a moment later).
        if rev <= self.rev {
            return Ok(true);
        }
        if self.stretch_of.is_none() {
            return Ok(false);
        }
        // Lists with deep pages filter on the customers' own columns alone.
        let Some(ids) = customers_changed(db, self.rev, rev, CATCH_UP_AT_MOST)? else {
            return Ok(false);
        };
        let most_ids = ids_followed(self.sizes.iter().map(|&n| u64::from(n)).sum());
        for chunk in ids.chunks(500) {
            let now = keys_of(db, key, where_sql, args, chunk)?;
            for &id in chunk {
                let Some(i) = usize::try_from(id).ok().filter(|&i| i < most_ids) else {
                    return Ok(false);
                };
                let new = match now.get(&id) {
                    None => NOT_LISTED,
                    Some(None) if key == SortKey::Account => return Ok(false),
                    Some(k) => self.stretch_at(key, k.as_deref(), id),
                };
                let Some(of) = self.stretch_of.as_mut() else {
                    return Ok(false);
                };
                if i >= of.len() {
                    of.resize(i + 1, NOT_LISTED);
                }
                let old = std::mem::replace(&mut of[i], new);
                if let Some(n) = self.sizes.get_mut(usize::from(old)) {
                    *n = n.saturating_sub(1);
                }
                if let Some(n) = self.sizes.get_mut(usize::from(new)) {
                    *n += 1;
                    if *n > STRETCH_AT_MOST {
                        return Ok(false);
                    }
                }
            }
        }
        self.rev = rev;
        Ok(true)
    }

    /// The stretch a row of key `k` and id `id` falls in: the last starting at or before
    /// it, in the order the walk of [`ids_from_anchor`] reads.
    fn stretch_at(&self, key: SortKey, k: Option<&str>, id: i64) -> u16 {
        let before = |a: &Anchor| match key {
            SortKey::Id => a.id <= id,
            // Accounts are unique: the walk from an anchor reads the accounts from its on.
            SortKey::Account => a.key.as_deref() <= k,
            _ => (a.key.as_deref(), a.id) <= (k, id),
        };
        // Fewer than NOT_LISTED stretches were ever made (see `take`).
        u16::try_from(self.starts.partition_point(before)).unwrap_or(NOT_LISTED - 1)
    }

    /// The stretch holding position `start` of the ascending order, and the position of
    /// its first row.
    fn locate(&self, start: u64) -> Option<(usize, u64)> {
        let mut at = 0u64;
        for (j, &n) in self.sizes.iter().enumerate() {
            if start < at + u64::from(n) {
                return Some((j, at));
            }
            at += u64::from(n);
        }
        None
    }
}

/// The order's key of the customers `ids` that are in the list `where_sql` (an id missing
/// from the map is not in the list).
pub(super) fn keys_of(
    db: &mut dyn Db,
    key: SortKey,
    where_sql: &str,
    args: &[Arg],
    ids: &[i64],
) -> Result<HashMap<i64, Option<String>>> {
    let mut keys = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut with = args.to_vec();
        with.extend(chunk.iter().map(|&i| Arg::Int(i)));
        let sql = format!(
            "SELECT id, {} FROM customers{}",
            anchor_column(key),
            and(
                where_sql,
                &format!("id IN ({})", marks(args.len() + 1, chunk.len()))
            )
        );
        db.query_each(&sql, &with, &mut |r| {
            keys.insert(r.int0(0)?, r.text(1)?);
            Ok(())
        })?;
    }
    Ok(keys)
}

/// The ids of the `limit` rows after the first `offset` of the list `where_sql` and `cond`
/// in the ascending order of `key` (or of `order`, the ids within one key).
fn ids_where(
    db: &mut dyn Db,
    where_sql: &str,
    cond: Option<&str>,
    mut args: Vec<Arg>,
    order: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<i64>> {
    let n = args.len();
    args.push(Arg::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    args.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    let filter = match cond {
        Some(c) => and(where_sql, c),
        None => where_sql.to_string(),
    };
    let sql = format!(
        "SELECT id FROM customers{filter} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    db.query_vec(&sql, &args, |r| r.int0(0))
}

/// The ids of the `limit` rows after the first `offset` of the list in the ascending order
/// of `key`, from its start.
fn ids_after(
    db: &mut dyn Db,
    where_sql: &str,
    args: Vec<Arg>,
    key: SortKey,
    offset: u64,
    limit: u64,
) -> Result<Vec<i64>> {
    let ascending = list_order(Some((key, false)), false);
    ids_where(db, where_sql, None, args, &ascending, offset, limit)
}

/// The ids of the `limit` rows `offset` rows after anchor `a` in the ascending order of
/// `key`, through ranges of the order's index; None for an anchor without its key.
///
/// Rows that share the anchor's key (a whole import shares its creation time) are walked
/// by id within their key first, then those of greater keys: SQLite reads a row value
/// `(key, id) >= (?, ?)` as `key >= ?` alone, and walked every row of the anchor's key
/// (a million customers of one import: 20–45 ms a page).
fn ids_from_anchor(
    db: &mut dyn Db,
    key: SortKey,
    a: &Anchor,
    where_sql: &str,
    args: &[Arg],
    offset: u64,
    limit: u64,
) -> Result<Option<Vec<i64>>> {
    let ascending = list_order(Some((key, false)), false);
    let column = anchor_column(key);
    let n = args.len();
    let mut with = args.to_vec();
    match (key, &a.key) {
        (SortKey::Id, _) => {
            with.push(Arg::Int(a.id));
            let cond = format!("id >= ?{}", n + 1);
            let ids = ids_where(db, where_sql, Some(&cond), with, &ascending, offset, limit)?;
            Ok(Some(ids))
        }
        // Accounts are unique: the account alone places the row.
        (SortKey::Account, Some(k)) => {
            with.push(Arg::from(k.clone()));
            let cond = format!("{column}{BYTES} >= ?{}", n + 1);
            let ids = ids_where(db, where_sql, Some(&cond), with, &ascending, offset, limit)?;
            Ok(Some(ids))
        }
        (_, Some(k)) => {
            // The rest of the anchor's key, by id.
            let mut group = with.clone();
            group.push(Arg::from(k.clone()));
            group.push(Arg::Int(a.id));
            let same = format!("{column}{BYTES} = ?{} AND id >= ?{}", n + 1, n + 2);
            let mut ids = ids_where(
                db,
                where_sql,
                Some(&same),
                group.clone(),
                "id",
                offset,
                limit,
            )?;
            // Then the greater keys, after what the anchor's key held of the offset.
            let after = if ids.is_empty() {
                group.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
                let held = db.query_one(
                    &format!(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM customers{} LIMIT ?{}) s",
                        and(where_sql, &same),
                        n + 3
                    ),
                    &group,
                    |r| r.count(0),
                )?;
                offset - held
            } else {
                0
            };
            let rest = limit - ids.len() as u64;
            if rest > 0 {
                with.push(Arg::from(k.clone()));
                let greater = format!("{column}{BYTES} > ?{}", n + 1);
                ids.extend(ids_where(
                    db,
                    where_sql,
                    Some(&greater),
                    with,
                    &ascending,
                    after,
                    rest,
                )?);
            }
            Ok(Some(ids))
        }
        (_, None) => Ok(None),
    }
}
