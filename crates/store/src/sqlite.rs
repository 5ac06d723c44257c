//! The SQLite backend: one file, WAL mode, nothing to install.

use crate::import::{Counts, CustomerLink, ImportTx};
use crate::schema::{self, customer_columns, is_int, regime_sql, Dialect};
use crate::sqlite_bulk::{Bind, BulkStatement};
use crate::{ImportRecord, ListQuery, Result, Settings, SortKey, Stats, Store, StoreError};
use clientele_core::catalogue::{F, FIELDS};
use clientele_core::contact::Contact;
use clientele_core::ident::phone;
use clientele_core::model::{Customer, Value, VatRegime};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

// The schema version is written in `PRAGMA user_version`.
use crate::schema::SCHEMA_VERSION;

/// A SQLite database.
pub struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    select: String,
    /// Imports may leave WAL for a rollback journal when nobody else has the file open
    /// (see [`SqliteStore::open_for_import`]).
    exclusive_imports: bool,
    /// The file (the readiness probe opens it afresh).
    path: String,
}

fn init_connection(c: &mut Connection) -> rusqlite::Result<()> {
    // WAL lets readers (API, routing refresh) work while an import writes; a busy timeout
    // makes concurrent writers wait instead of failing at once. The page size only takes
    // effect on a new, empty file (before WAL is on): 16 KiB pages instead of 4 KiB cut a
    // bulk import's page handling and write calls (1M-row pack: about 0.25 s less).
    c.execute_batch(
        "PRAGMA busy_timeout = 30000; PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;",
    )
}

impl SqliteStore {
    /// Open (and create or migrate) the database file at `path`.
    pub fn open(path: &str) -> Result<SqliteStore> {
        Self::open_with(path, false)
    }

    /// Open for a command-line import: when no other connection (of this process or another)
    /// has the file open, the import runs with a rollback journal instead of WAL. Writing a
    /// large import through WAL writes every page twice (log, then checkpoint) and looks
    /// each page up in the log while the indexes are built; new pages under a rollback
    /// journal are written once and need no journal entry, and a kill still rolls back
    /// (the journal is hot at the next open). Measured on the 1M-row pack: 7.3 s → 4.6 s.
    /// A server holds the file open, so an import next to a running server stays on WAL
    /// and never blocks its readers.
    pub fn open_for_import(path: &str) -> Result<SqliteStore> {
        Self::open_with(path, true)
    }

    fn open_with(path: &str, exclusive_imports: bool) -> Result<SqliteStore> {
        // Open once directly: a path that cannot be opened fails at once with SQLite's
        // reason, instead of the pool retrying until its timeout.
        let mut probe = Connection::open(path)
            .map_err(|e| StoreError::db(format!("cannot open {path}: {e}")))?;
        init_connection(&mut probe)
            .map_err(|e| StoreError::db(format!("cannot open {path}: {e}")))?;
        drop(probe);
        let manager = SqliteConnectionManager::file(path).with_init(init_connection);
        let pool = Pool::builder()
            .max_size(8)
            // No idle connection opened ahead: an import can only go exclusive when its own
            // connection is the only one (and a server fills its pool on demand anyway).
            .min_idle(Some(0))
            .build(manager)
            .map_err(|e| StoreError::db(format!("cannot open {path}: {e}")))?;
        let store = SqliteStore {
            pool,
            select: format!(
                "SELECT id, {} FROM customers",
                customer_columns().join(", ")
            ),
            exclusive_imports,
            path: path.to_string(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.conn()?;
        let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::db(format!(
                "the database was written by a newer Clientèle (schema {version})"
            )));
        }
        for (target, statements) in schema::migrations(Dialect::Sqlite) {
            if version >= target {
                continue;
            }
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Another process may have migrated it while we waited for the lock.
            let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if v < target {
                for s in statements {
                    tx.execute(&s, [])?;
                }
                tx.execute_batch(&format!("PRAGMA user_version = {target}"))?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Direct access for the other modules of this backend (users, tokens, contacts).
    pub fn pool(&self) -> &Pool<SqliteConnectionManager> {
        &self.pool
    }
}

/// Read a customer from a row selected with `SELECT id, <customer_columns>`.
fn customer_from_row(r: &Row) -> rusqlite::Result<Customer> {
    let mut c = Customer::new();
    c.id = r.get(0)?;
    for (i, d) in FIELDS.iter().enumerate() {
        let v = match r.get_ref(i + 1)? {
            ValueRef::Null => None,
            ValueRef::Integer(n) if d.kind == clientele_core::Kind::Bool => {
                Some(Value::Bool(n != 0))
            }
            ValueRef::Integer(n) => Some(Value::Int(n)),
            ValueRef::Text(t) => Some(Value::Text(String::from_utf8_lossy(t).into())),
            ValueRef::Real(f) => Some(Value::Text(f.to_string().into())),
            ValueRef::Blob(_) => None,
        };
        c.values[i] = v;
    }
    let n = FIELDS.len() + 1;
    for i in 0..3 {
        c.e164[i] = r.get(n + i)?;
    }
    c.created_at = r.get(n + 4)?;
    c.updated_at = r.get(n + 5)?;
    Ok(c)
}

/// Bind values for [`customer_columns`] (without id), borrowing the customer's text so the
/// import loop does not copy every cell once more.
fn customer_params(c: &Customer, created_import: Option<i64>) -> Vec<ToSqlOutput<'_>> {
    let mut p: Vec<ToSqlOutput<'_>> = Vec::with_capacity(FIELDS.len() + 8);
    for d in FIELDS {
        p.push(match c.get(d.id) {
            None => ToSqlOutput::Owned(SqlValue::Null),
            Some(Value::Text(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Some(Value::Int(i)) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
            Some(Value::Bool(b)) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
        });
        debug_assert!(
            c.get(d.id).is_none() || is_int(d.kind) != matches!(c.get(d.id), Some(Value::Text(_)))
        );
    }
    for e in &c.e164 {
        p.push(
            e.as_deref()
                .map_or(ToSqlOutput::Owned(SqlValue::Null), |t| {
                    ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes()))
                }),
        );
    }
    p.push(ToSqlOutput::Owned(SqlValue::Text(schema::search_text(c))));
    p.push(ToSqlOutput::Borrowed(ValueRef::Text(
        c.created_at.as_bytes(),
    )));
    p.push(ToSqlOutput::Borrowed(ValueRef::Text(
        c.updated_at.as_bytes(),
    )));
    p.push(ToSqlOutput::Owned(
        created_import.map_or(SqlValue::Null, SqlValue::Integer),
    ));
    p
}

fn insert_sql() -> String {
    let cols = customer_columns();
    let marks = (1..=cols.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO customers ({}) VALUES ({marks})",
        cols.join(", ")
    )
}

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

fn update_sql() -> String {
    // created_at and created_import are never rewritten.
    let cols = customer_columns();
    let sets = cols
        .iter()
        .enumerate()
        .filter(|(_, c)| *c != "created_at" && *c != "created_import")
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    format!("UPDATE customers SET {sets} WHERE id = ?{}", cols.len() + 1)
}

/// Rewrite the phone index rows of a customer.
fn write_phones(c: &Connection, id: i64, cust: &Customer, fresh: bool) -> rusqlite::Result<()> {
    if !fresh {
        c.prepare_cached("DELETE FROM phones WHERE customer_id = ?1 AND contact_id IS NULL")?
            .execute([id])?;
    }
    for e in cust.e164.iter().flatten() {
        c.prepare_cached("INSERT INTO phones (e164, last9, customer_id) VALUES (?1, ?2, ?3)")?
            .execute(params![e, phone::last9(e), id])?;
    }
    Ok(())
}

/// Append to the audit trail, in the write's transaction, with the actor of the current call.
pub(crate) fn record_audit(
    c: &Connection,
    action: &str,
    item: i64,
    label: Option<&str>,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO audit (at, actor, action, kind, item, label) VALUES (?1, ?2, ?3, 'customer', ?4, ?5)",
    )?
    .execute(params![crate::now(), crate::audit::actor(), action, item, label])?;
    Ok(())
}

pub(crate) fn record_change(c: &Connection, kind: &str, item: i64) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT INTO changes (kind, item) VALUES (?1, ?2)")?
        .execute(params![kind, item])?;
    Ok(())
}

fn settings_of(c: &Connection) -> Result<Settings> {
    let mut s = Settings::default();
    let mut st = c.prepare_cached(
        "SELECT key, value FROM meta WHERE key IN ('account_prefix', 'account_width')",
    )?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (k, v) = row?;
        match k.as_str() {
            "account_prefix" => s.account_prefix = v,
            "account_width" => s.account_width = v.parse().unwrap_or(4),
            _ => {}
        }
    }
    Ok(s)
}

/// Highest number used by accounts with the settings' prefix.
fn max_account_number(c: &Connection, s: &Settings) -> Result<u64> {
    let mut st = c.prepare_cached("SELECT \"customerAccount\" FROM customers WHERE \"customerAccount\" >= ?1 AND \"customerAccount\" < ?2")?;
    let hi = format!("{}\u{10ffff}", s.account_prefix);
    let mut rows = st.query(params![s.account_prefix, hi])?;
    let mut max = 0;
    while let Some(r) = rows.next()? {
        let a: String = r.get(0)?;
        if let Some(n) = s.number_of(&a) {
            max = max.max(n);
        }
    }
    Ok(max)
}

impl Store for SqliteStore {
    fn settings(&self) -> Result<Settings> {
        let c = self.conn()?;
        settings_of(&c)
    }

    fn next_account(&self) -> Result<String> {
        let c = self.conn()?;
        let s = settings_of(&c)?;
        Ok(s.account(max_account_number(&c, &s)? + 1))
    }

    fn set_settings(&self, s: &Settings) -> Result<()> {
        let c = self.conn()?;
        c.execute("INSERT INTO meta (key, value) VALUES ('account_prefix', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [&s.account_prefix])?;
        c.execute("INSERT INTO meta (key, value) VALUES ('account_width', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [s.account_width.to_string()])?;
        Ok(())
    }

    fn customer(&self, id: i64) -> Result<Customer> {
        let c = self.conn()?;
        let found = c
            .prepare_cached(&format!("{} WHERE id = ?1", self.select))?
            .query_row([id], customer_from_row)?;
        Ok(found)
    }

    fn customer_by_account(&self, account: &str) -> Result<Customer> {
        let c = self.conn()?;
        let found = c
            .prepare_cached(&format!("{} WHERE \"customerAccount\" = ?1", self.select))?
            .query_row([account], customer_from_row)?;
        Ok(found)
    }

    fn list_customers(&self, q: &ListQuery) -> Result<(Vec<Customer>, u64)> {
        let (where_sql, params) = schema::list_filter(q, '?');
        let p: Vec<SqlValue> = params
            .into_iter()
            .map(|v| match v {
                schema::Param::Text(t) => SqlValue::Text(t),
                schema::Param::Int(n) => SqlValue::Integer(n),
            })
            .collect();
        let c = self.conn()?;
        let total: i64 = c.query_row(
            &format!("SELECT COUNT(*) FROM customers{where_sql}"),
            params_from_iter(p.iter()),
            |r| r.get(0),
        )?;
        let order = match q.sort {
            Some((k, desc)) => {
                let dir = if desc { "DESC" } else { "ASC" };
                let col = match k {
                    SortKey::Id => "id",
                    // The folded name first: French order ("Électricité" among the E, not
                    // after "Transports"), the written name to break ties.
                    SortKey::Name => &format!("search {dir}, name COLLATE NOCASE"),
                    SortKey::Account => "\"customerAccount\"",
                    SortKey::CreatedAt => "created_at",
                    SortKey::UpdatedAt => "updated_at",
                };
                format!("{col} {dir}, id {dir}")
            }
            None if q.term.is_some() => {
                "CASE WHEN \"customerAccount\" = ?0 THEN 0 ELSE 1 END, search, name COLLATE NOCASE, id"
                    .replace("?0", &format!("?{}", p.len() + 1))
            }
            None => "id".into(),
        };
        let mut p2 = p.clone();
        if q.sort.is_none() {
            if let Some(t) = &q.term {
                p2.push(SqlValue::Text(t.trim().to_string()));
            }
        }
        p2.push(SqlValue::Integer(q.limit as i64));
        p2.push(SqlValue::Integer(q.offset as i64));
        let sql = format!(
            "{}{where_sql} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            self.select,
            p2.len() - 1,
            p2.len()
        );
        let mut st = c.prepare(&sql)?;
        let rows = st
            .query_map(params_from_iter(p2.iter()), customer_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((rows, total as u64))
    }

    fn create_customer(&self, cust: &Customer) -> Result<Customer> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut cust = cust.clone();
        let now = crate::now();
        cust.created_at.clone_from(&now);
        cust.updated_at = now;
        if cust.text(F::customerAccount).is_none() {
            // The write lock is held (BEGIN IMMEDIATE), so no one else can take this number.
            let s = settings_of(&tx)?;
            let next = max_account_number(&tx, &s)? + 1;
            cust.values[F::customerAccount.idx()] = Some(Value::Text(s.account(next).into()));
        }
        tx.prepare_cached(&insert_sql())?
            .execute(params_from_iter(customer_params(&cust, None)))?;
        cust.id = tx.last_insert_rowid();
        write_phones(&tx, cust.id, &cust, true)?;
        record_audit(&tx, "create", cust.id, cust.text(F::customerAccount))?;
        record_change(&tx, "customer", cust.id)?;
        tx.commit()?;
        Ok(cust)
    }

    fn update_customer(&self, cust: &Customer) -> Result<Customer> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut cust = cust.clone();
        cust.updated_at = crate::now();
        let mut p = customer_params(&cust, None);
        p.push(ToSqlOutput::Owned(SqlValue::Integer(cust.id)));
        let n = tx
            .prepare_cached(&update_sql())?
            .execute(params_from_iter(p))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        write_phones(&tx, cust.id, &cust, false)?;
        record_audit(&tx, "update", cust.id, cust.text(F::customerAccount))?;
        record_change(&tx, "customer", cust.id)?;
        tx.commit()?;
        Ok(cust)
    }

    fn delete_customer(&self, id: i64) -> Result<()> {
        let mut c = self.conn()?;
        let tx = c.transaction()?;
        let account: Option<String> = tx
            .query_row(
                "SELECT \"customerAccount\" FROM customers WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute("DELETE FROM phones WHERE customer_id = ?1", [id])?;
        let n = tx.execute("DELETE FROM customers WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        record_audit(&tx, "delete", id, account.as_deref())?;
        record_change(&tx, "customer", id)?;
        tx.commit()?;
        Ok(())
    }

    fn for_each_customer(
        &self,
        f: &mut dyn FnMut(&Customer) -> std::io::Result<()>,
    ) -> Result<()> {
        let c = self.conn()?;
        let mut st = c.prepare(&format!("{} ORDER BY id", self.select))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            f(&customer_from_row(r)?).map_err(StoreError::Io)?;
        }
        Ok(())
    }

    fn begin_import(&self, file: &str) -> Result<Box<dyn ImportTx + '_>> {
        let conn = self.conn()?;
        // Only when this connection is the pool's only one: the journal mode can change only
        // when no other connection has the file open (SQLite refuses otherwise, e.g. when a
        // server runs on the file, and the import stays on WAL).
        let rollback_journal = self.exclusive_imports
            && self.pool.state().connections == 1
            && enter_rollback_journal(&conn);
        // IMMEDIATE takes the write lock now: two imports never interleave.
        // Temporary files on disk for the import: rebuilding the indexes of a bulk load
        // sorts every row, and with `temp_store = MEMORY` that sort stayed in RAM on top of
        // the page cache (the import's memory peak). It cannot change inside a transaction.
        conn.execute_batch("PRAGMA temp_store = FILE; BEGIN IMMEDIATE")?;
        let result = conn.execute(
            // The SHA-256 is written at finish (it may still be being computed).
            "INSERT INTO imports (file, sha256, at, actor) VALUES (?1, '', ?2, ?3)",
            params![file, crate::now(), crate::audit::actor()],
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
            select: self.select.clone(),
            insert: insert_sql(),
            insert_batch: insert_batch_sql(BATCH, &all_columns()),
            keep: all_columns(),
            update: update_sql(),
            pending: Vec::with_capacity(BATCH),
            now: String::new(),
            rebuild_indexes: false,
            rollback_journal,
            done: false,
        }))
    }

    fn imports(&self) -> Result<Vec<ImportRecord>> {
        let c = self.conn()?;
        let mut st = c.prepare("SELECT id, file, sha256, at, created, updated, unchanged, rejected, contacts, undone_at, actor, undone_by FROM imports ORDER BY id DESC")?;
        let rows = st
            .query_map([], import_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn undo_import(&self, id: i64, force: bool) -> Result<ImportRecord> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rec = tx
            .query_row("SELECT id, file, sha256, at, created, updated, unchanged, rejected, contacts, undone_at, actor, undone_by FROM imports WHERE id = ?1", [id], import_from_row)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        if rec.undone_at.is_some() {
            return Err(StoreError::Refused(format!(
                "import {id} was already undone on {}",
                rec.undone_at.unwrap_or_default()
            )));
        }
        // Refuse when a customer it touched has changed since: undoing would lose that change.
        let changed: Option<String> = tx
            .query_row(
                "SELECT \"customerAccount\" FROM customers WHERE updated_at > ?2 AND (created_import = ?1 OR id IN (SELECT customer_id FROM import_changes WHERE import_id = ?1)) LIMIT 1",
                params![id, rec.at],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(a) = changed.filter(|_| !force) {
            return Err(StoreError::Refused(format!(
                "customer {a} was changed after import {id}; undo the later imports (or changes) first, or force the undo (those changes are lost)"
            )));
        }
        let befores: Vec<(i64, String)> = tx
            .prepare("SELECT customer_id, before FROM import_changes WHERE import_id = ?1")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let select = format!("{} WHERE id = ?1", self.select);
        for (cid, before) in befores {
            let Some(mut cust) = tx
                .prepare_cached(&select)?
                .query_row([cid], customer_from_row)
                .optional()?
            else {
                continue;
            };
            if schema::from_journal(&mut cust, &before).is_none() {
                return Err(StoreError::db(format!(
                    "corrupt journal entry for customer {cid}"
                )));
            }
            let mut p = customer_params(&cust, None);
            p.push(ToSqlOutput::Owned(SqlValue::Integer(cid)));
            tx.prepare_cached(&update_sql())?
                .execute(params_from_iter(p))?;
            write_phones(&tx, cid, &cust, false)?;
        }
        tx.execute("DELETE FROM phones WHERE customer_id IN (SELECT id FROM customers WHERE created_import = ?1)", [id])?;
        tx.execute("DELETE FROM contacts WHERE created_import = ?1", [id])?;
        tx.execute("DELETE FROM customers WHERE created_import = ?1", [id])?;
        let (now, actor) = (crate::now(), crate::audit::actor());
        tx.execute(
            "UPDATE imports SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
            params![id, now, actor],
        )?;
        record_change(&tx, "all", id)?;
        tx.commit()?;
        let mut rec = rec;
        rec.undone_at = Some(now);
        rec.undone_by = Some(actor);
        Ok(rec)
    }

    fn stats(&self) -> Result<Stats> {
        let c = self.conn()?;
        let (total, active, vip, on_call): (i64, i64, i64, i64) = c.query_row(
            "SELECT COUNT(*), COALESCE(SUM(COALESCE(active, 1)), 0), COALESCE(SUM(COALESCE(vip, 0)), 0), COALESCE(SUM(COALESCE(\"onCallDuty\", 0)), 0) FROM customers",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let mut st = c.prepare("SELECT \"resellerLevel\", COUNT(*) FROM customers WHERE \"isReseller\" = 1 GROUP BY 1 ORDER BY 1")?;
        let reseller_levels = st
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut vat_regimes = Vec::new();
        for r in VatRegime::ALL {
            let n: i64 = c.query_row(
                &format!(
                    "SELECT COUNT(*) FROM customers WHERE {}",
                    regime_sql(r.code())
                ),
                [],
                |row| row.get(0),
            )?;
            vat_regimes.push((r.code().to_string(), n as u64));
        }
        Ok(Stats {
            total: total as u64,
            active: active as u64,
            vip: vip as u64,
            on_call: on_call as u64,
            reseller_levels,
            vat_regimes,
        })
    }
}

fn import_from_row(r: &Row) -> rusqlite::Result<ImportRecord> {
    Ok(ImportRecord {
        id: r.get(0)?,
        file: r.get(1)?,
        sha256: r.get(2)?,
        at: r.get(3)?,
        created: r.get::<_, i64>(4)? as u64,
        updated: r.get::<_, i64>(5)? as u64,
        unchanged: r.get::<_, i64>(6)? as u64,
        rejected: r.get::<_, i64>(7)? as u64,
        contacts: r.get::<_, i64>(8)? as u64,
        undone_at: r.get(9)?,
        actor: r.get(10)?,
        undone_by: r.get(11)?,
    })
}

/// Leave WAL for a rollback journal, synchronous FULL (with a rollback journal, NORMAL
/// could lose the database to a power cut). False when SQLite refuses: another connection
/// has the file open.
fn enter_rollback_journal(c: &Connection) -> bool {
    let mode = c.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    });
    match mode {
        Ok(m) if m.eq_ignore_ascii_case("delete") => {
            c.execute_batch("PRAGMA synchronous = FULL").is_ok()
        }
        _ => false,
    }
}

/// Back to the connection settings of [`init_connection`] once the import transaction is
/// over (and back to WAL after an exclusive import).
fn restore_settings(c: &Connection, rollback_journal: bool) {
    // Speed settings: a failure leaves temporary files on disk, still correct.
    let _ = c.execute_batch(
        "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768; PRAGMA threads = 0",
    );
    if rollback_journal {
        // Should this fail, the next connection's `init_connection` switches back to WAL.
        let _ = c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    }
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
    conn: PooledConnection<SqliteConnectionManager>,
    import_id: i64,
    select: String,
    insert: String,
    insert_batch: String,
    /// Columns the multi-row INSERT writes (all, unless the file lacks columns whose
    /// default is NULL: binding fewer parameters is most of an import's cost).
    keep: Vec<usize>,
    update: String,
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
        Ok(())
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
                i if i < n + 3 => present[F::PHONES[i - n].idx()],
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
        // Rows are only appended now (no index, no look-up): a small page cache holds the
        // path being written as well as a large one, and keeps the import's memory down
        // while the engine's in-file tables grow.
        self.conn.execute_batch("PRAGMA cache_size = -4096")?;
        self.rebuild_indexes = true;
        Ok(true)
    }

    fn find_by_account(&mut self, account: &str) -> Result<Option<Customer>> {
        let sql = format!(
            "{} WHERE \"customerAccount\" = ?1 AND created_import IS NOT ?2",
            self.select
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![account, self.import_id], customer_from_row)
            .optional()?)
    }

    fn find_by_siret(&mut self, siret: &str) -> Result<Vec<Customer>> {
        let sql = format!(
            "{} WHERE \"registrationNumber\" = ?1 AND created_import IS NOT ?2 LIMIT 2",
            self.select
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(params![siret, self.import_id], customer_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
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
        self.conn
            .prepare_cached(&self.insert)?
            .execute(params_from_iter(customer_params(&c, Some(self.import_id))))?;
        let id = self.conn.last_insert_rowid();
        write_phones(&self.conn, id, &c, true)?;
        Ok(())
    }

    fn update(&mut self, before: &Customer, after: &Customer) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_changes (import_id, customer_id, before) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                self.import_id,
                before.id,
                schema::to_journal(before)
            ])?;
        let mut p = customer_params(after, None);
        p.push(ToSqlOutput::Owned(SqlValue::Integer(before.id)));
        self.conn
            .prepare_cached(&self.update)?
            .execute(params_from_iter(p))?;
        write_phones(&self.conn, before.id, after, false)?;
        Ok(())
    }

    fn insert_contacts(&mut self, contacts: Vec<(Contact, CustomerLink)>) -> Result<()> {
        self.flush()?;
        // Without the account index each contact would scan the whole table.
        self.build_indexes()?;
        // Insertion order is id order, so the k-th customer created without an account is
        // the k-th of these ids.
        let unnumbered: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM customers WHERE \"customerAccount\" IS NULL AND created_import = ?1 ORDER BY id")?
            .query_map([self.import_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let now = crate::now();
        for (mut contact, link) in contacts {
            contact.customer_id = match link {
                CustomerLink::Id(id) => id,
                CustomerLink::Unnumbered(k) => *unnumbered
                    .get(k)
                    .ok_or_else(|| StoreError::db(format!("no customer #{k} of this import")))?,
                CustomerLink::Account(a) => self
                    .conn
                    .prepare_cached("SELECT id FROM customers WHERE \"customerAccount\" = ?1")?
                    .query_row([&a], |r| r.get(0))?,
            };
            contact.created_at.clone_from(&now);
            contact.updated_at.clone_from(&now);
            crate::sqlite_api::insert_contact(&self.conn, &contact, Some(self.import_id))?;
        }
        Ok(())
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
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM customers WHERE \"customerAccount\" IS NULL AND created_import = ?1 ORDER BY id")?
            .query_map([self.import_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if !ids.is_empty() {
            let first = max_account_number(&self.conn, settings)? + 1;
            let mut st = self
                .conn
                .prepare("UPDATE customers SET \"customerAccount\" = ?1 WHERE id = ?2")?;
            for (n, id) in (first..).zip(ids) {
                st.execute(params![settings.account(n), id])?;
            }
        }
        self.conn.execute(
            "UPDATE imports SET created = ?2, updated = ?3, unchanged = ?4, rejected = ?5, contacts = ?6, at = ?7, sha256 = ?8 WHERE id = ?1",
            params![self.import_id, counts.create as i64, counts.update as i64, counts.unchanged as i64, counts.invalid as i64, counts.contacts as i64, crate::now(), sha256],
        )?;
        record_change(&self.conn, "all", self.import_id)?;
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
