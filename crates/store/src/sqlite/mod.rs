//! The SQLite backend: one file, WAL mode, nothing to install.

mod bulk;
mod import;

use crate::import::ImportTx;
use crate::ops::PoolState;
use crate::rules::{Backend, ListCache};
use crate::schema::{self, Dialect};
use crate::sql::{Arg, Db, Lock, SqlRow};
use crate::{Result, StoreError};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, OpenFlags, ToSql};
use std::time::Duration;

// The schema version is written in `PRAGMA user_version`.
use crate::schema::SCHEMA_VERSION;

/// A SQLite database.
pub struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    lists: ListCache,
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
            lists: ListCache::default(),
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

impl Backend for SqliteStore {
    fn read<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R> {
        let c = self.conn()?;
        f(&mut SqliteDb(&c))
    }

    fn write<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R> {
        let mut c = self.conn()?;
        // IMMEDIATE takes the write lock at once: a transaction that reads, then writes,
        // never fails half-way because another writer came in between.
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&mut SqliteDb(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn scan<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R> {
        let c = self.conn()?;
        // A sequential scan gains nothing from the connection's 32 MB page cache, and the
        // pages it would leave there stay resident next to the routing index: a small
        // cache for the scan, emptied and set back afterwards.
        c.execute_batch("PRAGMA cache_size = -2048")?;
        let scanned = (|| {
            // One read transaction: one snapshot for every statement of the scan.
            let tx = c.unchecked_transaction()?;
            let out = f(&mut SqliteDb(&tx))?;
            tx.commit()?;
            Ok(out)
        })();
        c.execute_batch("PRAGMA shrink_memory; PRAGMA cache_size = -32768")?;
        scanned
    }

    fn begin_import(&self, file: &str) -> Result<Box<dyn ImportTx + '_>> {
        import::begin(self, file)
    }

    /// The schema version read through a new connection to the file, without creating it:
    /// the pool's connections keep working on a file that was deleted or moved away, so
    /// only a fresh open tells that the database is no longer where it was.
    fn ping(&self, timeout: Duration) -> Result<i64> {
        let c = Connection::open_with_flags(
            self.path(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::described(format!("cannot open {}", self.path()), e))?;
        c.busy_timeout(timeout)?;
        Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn lists(&self) -> &ListCache {
        &self.lists
    }

    fn pool_state(&self) -> PoolState {
        PoolState::of(&self.pool)
    }
}

/// A SQLite connection (or transaction: it derefs to its connection) as a [`Db`].
pub(crate) struct SqliteDb<'c>(pub(crate) &'c Connection);

impl Db for SqliteDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64> {
        let sql = crate::sql::statement(Dialect::Sqlite, sql);
        let n = self
            .0
            .prepare_cached(&sql)?
            .execute(params_from_iter(args))?;
        Ok(n as u64)
    }

    fn insert(&mut self, sql: &str, args: &[Arg]) -> Result<i64> {
        self.execute(sql, args)?;
        Ok(self.0.last_insert_rowid())
    }

    fn query_each(
        &mut self,
        sql: &str,
        args: &[Arg],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let sql = crate::sql::statement(Dialect::Sqlite, sql);
        let mut st = self.0.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            each(r)?;
        }
        Ok(())
    }

    fn lock(&mut self, _lock: Lock) -> Result<()> {
        // Every write transaction holds the file's write lock from its start.
        Ok(())
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Arg::Int(n) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*n)),
            Arg::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Arg::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl SqlRow for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<String>> {
        Ok(match self.get_ref(i)? {
            ValueRef::Null => None,
            ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            // Written by hand into a text column: read as SQLite would print it.
            ValueRef::Integer(n) => Some(n.to_string()),
            ValueRef::Real(f) => Some(f.to_string()),
            ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        })
    }
    fn blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(self.get(i)?)
    }
    fn value_text(&self, i: usize) -> Result<Option<compact_str::CompactString>> {
        Ok(match self.get_ref(i)? {
            ValueRef::Null => None,
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into()),
            ValueRef::Integer(n) => Some(n.to_string().into()),
            ValueRef::Real(f) => Some(f.to_string().into()),
        })
    }
}
