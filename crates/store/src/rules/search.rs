//! Search indexes a first import leaves for later.
//!
//! A first import into an empty table drops the search indexes (trigram and sort indexes;
//! on SQLite the trigram index's insert trigger) and, instead of building them inside its
//! own transaction, records what builds them under `meta.search_pending`. They are built
//! afterwards in one transaction of their own (the server does it at start and after every
//! import it hears of), so the import is as fast as it was before they existed. Until then
//! lists test names row by row, and find the same customers.

use crate::sql::{Arg, Db, Lock};
use crate::Result;

/// The `meta` key holding the statements still to run (a JSON array).
const PENDING: &str = "search_pending";

/// Record `statements` as still to run (after any recorded before).
pub(crate) fn defer(db: &mut dyn Db, statements: Vec<String>) -> Result<()> {
    if statements.is_empty() {
        return Ok(());
    }
    let mut all = recorded(db)?;
    for st in statements {
        if !all.contains(&st) {
            all.push(st);
        }
    }
    let json = serde_json::to_string(&all).map_err(crate::StoreError::db)?;
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[PENDING.into(), json.into()],
    )?;
    Ok(())
}

fn recorded(db: &mut dyn Db) -> Result<Vec<String>> {
    let value = db.query_opt(
        "SELECT value FROM meta WHERE key = ?1",
        &[PENDING.into()],
        |r| r.text0(0),
    )?;
    Ok(value
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// Whether search indexes are still to be built (lists then test names row by row).
pub(crate) fn pending(db: &mut dyn Db) -> Result<bool> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM meta WHERE key = ?1",
            &[PENDING.into()],
            |r| r.int(0),
        )?
        .is_some())
}

/// Segments of the SQLite trigram index beyond which it is merged into one.
const SEGMENTS_AT_MOST: i64 = 8;

/// Merge the SQLite trigram index's segments into one when there are more than
/// [`SEGMENTS_AT_MOST`]; whether it did (PostgreSQL: nothing to do, its GIN index's
/// pending list is merged by autovacuum).
///
/// Every write adds a small segment to the FTS5 index and FTS5 merges them only level by
/// level: after a thousand renames at a million customers a name fragment was looked up in
/// some fifteen segments, and `filter[name]` took 9.9/15.4 ms p50/p95 instead of 2.2/3.4.
/// One `optimize` (1.3 s at a million, in one write transaction) brings it back. Counted in
/// the index itself, so that a restart loses nothing of what is due.
pub(crate) fn tidy(db: &mut dyn Db) -> Result<bool> {
    if !scattered(db)? {
        return Ok(false);
    }
    let fts = crate::schema::SQLITE_FTS;
    db.execute(
        &format!("INSERT INTO {fts} ({fts}) VALUES ('optimize')"),
        &[],
    )?;
    Ok(true)
}

/// Whether the SQLite trigram index is in more than [`SEGMENTS_AT_MOST`] segments (a
/// look-up in its small segment table, cheap enough for every poll that saw writes).
pub(crate) fn scattered(db: &mut dyn Db) -> Result<bool> {
    if db.dialect() != crate::schema::Dialect::Sqlite || pending(db)? {
        return Ok(false);
    }
    let fts = crate::schema::SQLITE_FTS;
    let segments = db.query_one(
        &format!("SELECT COUNT(DISTINCT segid) FROM {fts}_idx"),
        &[],
        |r| r.int0(0),
    )?;
    Ok(segments > SEGMENTS_AT_MOST)
}

/// Build the search indexes left by a first import, if any; whether there were some.
/// Call it in a write transaction: the indexes and the end of the pending mark commit
/// together, and two servers never build them twice.
pub(crate) fn build_pending(db: &mut dyn Db) -> Result<bool> {
    db.lock(Lock::Import)?;
    let statements = recorded(db)?;
    if statements.is_empty() {
        return Ok(false);
    }
    if db.dialect() == crate::schema::Dialect::Postgres {
        // The default sort memory (64 MB) spills a million keys to disk.
        db.execute("SET LOCAL maintenance_work_mem = '256MB'", &[])?;
    }
    for st in &statements {
        db.execute(st, &[])?;
    }
    db.execute("DELETE FROM meta WHERE key = ?1", &[Arg::from(PENDING)])?;
    Ok(true)
}
