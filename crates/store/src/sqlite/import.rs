//! Imports into SQLite: rows appended in multi-row INSERTs through a statement prepared
//! once, the account and SIRET indexes dropped and built once for a first import.

use super::bulk::{Bind, BulkStatement};
use super::{enter_rollback_journal, restore_settings, SqliteDb, SqliteStore};
use crate::import::{Counts, CustomerLink, ImportTx};
use crate::rows;
use crate::rules::{imports, max_account_number, search, write_phones};
use crate::schema::{self, customer_columns, Dialect};
use crate::sql::{Arg, Db};
use crate::{Result, Settings};
use clientele_core::catalogue::{Field, FIELDS};
use clientele_core::contact::Contact;
use clientele_core::model::{Customer, Value};
use rusqlite::{params, OptionalExtension};

/// Rows per multi-row INSERT: one statement step per batch instead of per row (40 columns
/// × 64 rows stays far below SQLite's bound-parameter limit).
const BATCH: usize = 64;

/// A multi-row INSERT of `rows` customers writing only the columns at `keep` (indexes into
/// [`customer_columns`]); the others take their NULL default.
fn insert_batch_sql(rows: usize, keep: &[usize]) -> String {
    let cols = customer_columns();
    let n = keep.len();
    let tuples = (0..rows)
        .map(|r| {
            format!(
                "({})",
                (1..=n)
                    .map(|i| format!("?{}", r * n + i))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let names: Vec<&str> = keep.iter().map(|&i| cols[i].as_str()).collect();
    format!(
        "INSERT INTO customers ({}) VALUES {tuples}",
        names.join(", ")
    )
}

/// Start an import on one pooled connection of `store`.
pub(super) fn begin<'s>(store: &'s SqliteStore, file: &str) -> Result<Box<dyn ImportTx + 's>> {
    let conn = store.conn()?;
    // Only when this connection is the pool's only one: the journal mode can change only
    // when no other connection has the file open (SQLite refuses otherwise, e.g. when a
    // server runs on the file, and the import stays on WAL).
    let rollback_journal = store.exclusive_imports
        && store.pool.state().connections == 1
        && enter_rollback_journal(&conn);
    // IMMEDIATE takes the write lock now: two imports never interleave.
    // Temporary files on disk for the import: rebuilding the indexes of a bulk load
    // sorts every row, and with `temp_store = MEMORY` that sort stayed in RAM on top of
    // the page cache (the import's memory peak). It cannot change inside a transaction.
    conn.execute_batch("PRAGMA temp_store = FILE; BEGIN IMMEDIATE")?;
    let result = conn.execute(
        // The SHA-256 is written at finish (it may still be being computed).
        "INSERT INTO imports (file, sha256, at, actor, upload_id) VALUES (?1, '', ?2, ?3, ?4)",
        params![
            file,
            crate::now(),
            crate::audit::actor(),
            crate::audit::upload()
        ],
    );
    if let Err(e) = result {
        let _ = conn.execute_batch("ROLLBACK");
        restore_settings(&conn, rollback_journal);
        return Err(e.into());
    }
    let import_id = conn.last_insert_rowid();
    Ok(Box::new(SqliteImport {
        bulk: None,
        searches: Vec::new(),
        kept: mask(&all_columns()),
        conn,
        import_id,
        select: rows::customer_select(),
        insert: rows::customer_insert(),
        insert_batch: insert_batch_sql(BATCH, &all_columns()),
        keep: all_columns(),
        pending: Vec::with_capacity(BATCH),
        now: String::new(),
        rebuild_indexes: false,
        rollback_journal,
        rebuild_search: Vec::new(),
        done: false,
    }))
}

/// An import transaction on one pooled connection.
struct SqliteImport {
    /// The full-batch INSERT, prepared once (declared before `conn`: it must be finalized
    /// before the connection goes back to the pool).
    bulk: Option<BulkStatement>,
    /// Search texts of `pending`, in the same order.
    searches: Vec<String>,
    /// `kept[i]`: column `i` of [`customer_columns`] is in `keep`.
    kept: Vec<bool>,
    conn: r2d2::PooledConnection<r2d2_sqlite::SqliteConnectionManager>,
    import_id: i64,
    select: String,
    insert: String,
    insert_batch: String,
    /// Columns the multi-row INSERT writes (all, unless the file lacks columns whose
    /// default is NULL: binding fewer parameters is most of an import's cost).
    keep: Vec<usize>,
    /// Customers without phone numbers waiting for the next multi-row INSERT (their
    /// timestamps are `now`). Boxed on purpose: they arrive boxed from the parsing thread,
    /// and unboxing a customer (over a kilobyte) into the vector was measured at a tenth
    /// of the writing thread's time.
    #[allow(clippy::vec_box)]
    pending: Vec<Box<Customer>>,
    /// Creation time of the customers of this import.
    now: String,
    /// The customer indexes were dropped for a bulk load and must be built at finish.
    rebuild_indexes: bool,
    /// The import runs with a rollback journal (back to WAL at the end).
    rollback_journal: bool,
    /// What puts back the search indexes a bulk load dropped.
    rebuild_search: Vec<String>,
    done: bool,
}

/// `kept[i]` for every column index `i` in `keep`.
fn mask(keep: &[usize]) -> Vec<bool> {
    let mut kept = vec![false; customer_columns().len()];
    for &i in keep {
        if let Some(k) = kept.get_mut(i) {
            *k = true;
        }
    }
    kept
}

/// Every column of [`customer_columns`].
fn all_columns() -> Vec<usize> {
    (0..customer_columns().len()).collect()
}

/// Whether every column of `c` left out of the kept ones is NULL.
fn fits(c: &Customer, kept: &[bool]) -> bool {
    let n = FIELDS.len();
    let kept = |i: usize| kept.get(i).copied().unwrap_or(false);
    (0..n).all(|i| kept(i) || c.values[i].is_none())
        && (0..3).all(|i| kept(n + i) || c.e164[i].is_none())
}

/// The value of column `i` of [`customer_columns`] for a new customer of this import.
fn column_value<'a>(
    c: &'a Customer,
    i: usize,
    (search, now): (&'a str, &'a str),
    import_id: i64,
) -> Bind<'a> {
    let n = FIELDS.len();
    let text = |s: Option<&'a String>| s.map_or(Bind::Null, |t| Bind::Text(t));
    match i {
        i if i < n => match &c.values[i] {
            None => Bind::Null,
            Some(Value::Text(s)) => Bind::Text(s),
            Some(Value::Int(x)) => Bind::Int(*x),
            Some(Value::Bool(b)) => Bind::Int(i64::from(*b)),
        },
        i if i < n + 3 => text(c.e164[i - n].as_ref()),
        i if i == n + 3 => Bind::Text(search),
        i if i == n + 4 || i == n + 5 => Bind::Text(now),
        _ => Bind::Int(import_id),
    }
}

/// Drop the search indexes and the trigram index's insert trigger for a bulk load; returns
/// what creates them again (as the database defines them) and refills the trigram index.
fn drop_search_indexes(c: &rusqlite::Connection) -> Result<Vec<String>> {
    let mut names: Vec<&str> = schema::BULK_SEARCH_INDEXES.to_vec();
    // Every trigger of the trigram index: until it is rebuilt, an update or a delete must
    // not remove from it rows it does not hold (that corrupts an FTS5 index).
    names.extend(schema::SQLITE_FTS_TRIGGERS);
    let mut rebuild = Vec::new();
    for name in names {
        let found: Option<(String, String)> = c
            .query_row(
                "SELECT type, sql FROM sqlite_master WHERE name = ?1 AND sql IS NOT NULL",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((kind, sql)) = found {
            c.execute_batch(&format!("DROP {kind} {name}"))?;
            rebuild.push(sql);
        }
    }
    if rebuild
        .iter()
        .any(|s| s.contains(schema::SQLITE_FTS_TRIGGERS[0]))
    {
        rebuild.push(format!(
            "INSERT INTO {0} ({0}) VALUES ('rebuild')",
            schema::SQLITE_FTS
        ));
    }
    Ok(rebuild)
}

impl SqliteImport {
    /// Build the customer indexes dropped by [`ImportTx::bulk_load`], once every customer
    /// is written (before the contacts, which look their customers up by account).
    fn build_indexes(&mut self) -> Result<()> {
        // Finalized before the index DDL and the commit.
        self.bulk = None;
        if !std::mem::take(&mut self.rebuild_indexes) {
            return Ok(());
        }
        // The sort of each index build may use as much memory as the page cache: a
        // smaller cache for these two statements keeps the import's peak down.
        // By then the parsing thread is done: the sorts may use a second core.
        self.conn
            .execute_batch("PRAGMA cache_size = -8192; PRAGMA threads = 2")?;
        for st in schema::bulk_indexes(Dialect::Sqlite).1 {
            self.conn.execute(&st, [])?;
        }
        // The search indexes (and the trigram index refilled in one pass) are built after
        // the import, in a transaction of their own (see `rules::search`).
        let later = std::mem::take(&mut self.rebuild_search);
        search::defer(&mut SqliteDb(&self.conn), later)
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // A value in a column left out of the statement would be lost: then write all columns.
        let n_columns = self.kept.len();
        let narrow =
            self.keep.len() == n_columns || self.pending.iter().all(|c| fits(c, &self.kept));
        let all;
        let keep: &[usize] = if narrow {
            &self.keep
        } else {
            all = all_columns();
            &all
        };
        // The common case, a full batch, goes through the statement prepared once; a short
        // last batch (or one that needs every column) through one prepared for it.
        let common = narrow && self.pending.len() == BATCH;
        if common && self.bulk.is_none() {
            self.bulk = Some(BulkStatement::prepare(&self.conn, &self.insert_batch)?);
        }
        let mut once;
        let stmt = match &mut self.bulk {
            Some(bulk) if common => bulk,
            _ => {
                once = BulkStatement::prepare(
                    &self.conn,
                    &insert_batch_sql(self.pending.len(), keep),
                )?;
                &mut once
            }
        };
        let (id, now) = (self.import_id, self.now.as_str());
        let values = self
            .pending
            .iter()
            .zip(&self.searches)
            .flat_map(|(c, s)| keep.iter().map(move |&i| column_value(c, i, (s, now), id)));
        stmt.execute(values)?;
        self.pending.clear();
        self.searches.clear();
        Ok(())
    }
}

impl ImportTx for SqliteImport {
    fn columns_hint(&mut self, present: &[bool; clientele_core::N_FIELDS]) {
        // Leave out the fields the file lacks whose default is NULL, and the E.164 column of
        // an absent phone field; search and bookkeeping columns are always written.
        let n = FIELDS.len();
        self.keep = (0..customer_columns().len())
            .filter(|&i| match i {
                i if i < n => present[i] || crate::schema_default_is_set(FIELDS[i].id),
                i if i < n + 3 => present[Field::PHONES[i - n].idx()],
                _ => true,
            })
            .collect();
        self.insert_batch = insert_batch_sql(BATCH, &self.keep);
        self.kept = mask(&self.keep);
        self.bulk = None;
    }

    fn existing_count(&mut self) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM (SELECT 1 FROM customers LIMIT 1)",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn bulk_load(&mut self) -> Result<bool> {
        // The write lock is held since BEGIN IMMEDIATE: the table is still empty.
        // Into an empty table, building the indexes once at the end is much cheaper than
        // maintaining them row by row; the engine checks accounts within the file itself,
        // and the DDL is part of the transaction (rolled back with it).
        self.conn
            .execute_batch(&schema::bulk_indexes(Dialect::Sqlite).0)?;
        self.rebuild_search = drop_search_indexes(&self.conn)?;
        // Rows are only appended now (no index, no look-up): a small page cache holds the
        // path being written as well as a large one, and keeps the import's memory down
        // while the engine's in-file tables grow.
        self.conn.execute_batch("PRAGMA cache_size = -4096")?;
        self.rebuild_indexes = true;
        Ok(true)
    }

    fn find_by_account(&mut self, account: &str) -> Result<Option<Customer>> {
        let (select, id) = (self.select.as_str(), self.import_id);
        imports::find_by_account(&mut SqliteDb(&self.conn), select, id, account)
    }

    fn find_by_siret(&mut self, siret: &str) -> Result<Vec<Customer>> {
        let (select, id) = (self.select.as_str(), self.import_id);
        imports::find_by_siret(&mut SqliteDb(&self.conn), select, id, siret)
    }

    fn insert(&mut self, mut c: Box<Customer>, search: String, now: &str) -> Result<()> {
        if self.now != now {
            self.now = now.to_string();
        }
        if c.e164.iter().all(Option::is_none) {
            self.pending.push(c);
            self.searches.push(search);
            if self.pending.len() == BATCH {
                self.flush()?;
            }
            return Ok(());
        }
        // With phone numbers the new id is needed for the phone index: insert it alone,
        // after the waiting batch, so that ids keep the file's order (accounts are
        // generated, and contacts linked to customers without one, in id order).
        self.flush()?;
        c.created_at = self.now.clone();
        c.updated_at = self.now.clone();
        let db = &mut SqliteDb(&self.conn);
        let id = db.insert(&self.insert, &rows::customer_args(&c, Some(self.import_id)))?;
        write_phones(db, id, &c, true)
    }

    fn update(&mut self, before: &Customer, after: &Customer) -> Result<()> {
        imports::update(&mut SqliteDb(&self.conn), self.import_id, before, after)
    }

    fn insert_contacts(&mut self, contacts: Vec<(Contact, CustomerLink)>) -> Result<()> {
        self.flush()?;
        // Without the account index each contact would scan the whole table.
        self.build_indexes()?;
        let db = &mut SqliteDb(&self.conn);
        let unnumbered = imports::unnumbered(db, self.import_id)?;
        imports::insert_contacts(db, self.import_id, &unnumbered, contacts)
    }

    fn finish(
        mut self: Box<Self>,
        settings: &Settings,
        counts: &Counts,
        sha256: &str,
        commit: bool,
    ) -> Result<Option<i64>> {
        self.done = true;
        if !commit {
            self.bulk = None;
            self.conn.execute_batch("ROLLBACK")?;
            restore_settings(&self.conn, self.rollback_journal);
            return Ok(None);
        }
        self.flush()?;
        self.build_indexes()?;
        // Accounts for rows that had none: numbering continues after the highest number
        // in the database, including accounts this file brought.
        let db = &mut SqliteDb(&self.conn);
        let ids = imports::unnumbered(db, self.import_id)?;
        if !ids.is_empty() {
            let first = max_account_number(db, settings)? + 1;
            for (n, id) in (first..).zip(ids) {
                db.execute(
                    "UPDATE customers SET \"customerAccount\" = ?1 WHERE id = ?2",
                    &[settings.account(n).into(), Arg::Int(id)],
                )?;
            }
        }
        imports::record_counts(db, self.import_id, counts, sha256)?;
        self.conn.execute_batch("COMMIT")?;
        restore_settings(&self.conn, self.rollback_journal);
        Ok(Some(self.import_id))
    }
}

impl Drop for SqliteImport {
    fn drop(&mut self) {
        self.bulk = None;
        if !self.done {
            // An error mid-import: leave the pooled connection clean, nothing written.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        restore_settings(&self.conn, self.rollback_journal);
    }
}
