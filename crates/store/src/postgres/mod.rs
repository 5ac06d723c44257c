//! The PostgreSQL backend: several servers on one database.
//!
//! It mirrors the SQLite backend row for row (same schema from [`crate::schema`], same
//! search and filter semantics, same import journal and undo rules). What differs is
//! concurrency: SQLite serialises every writer on one file lock, while here API writes go on
//! during an import, so the few places that need an order take transaction-scoped advisory
//! locks (see the `*_LOCK` constants).

mod import;

use crate::import::ImportTx;
use crate::ops::PoolState;
use crate::rules::{Backend, ListCache};
use crate::schema::{self, Dialect};
use crate::sql::{Arg, Db, Lock, SqlRow};
use crate::{redact, Result, StoreError};
use ::postgres::error::SqlState;
use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use ::postgres::{GenericClient, NoTls, Row, Statement};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::HashMap;
use std::time::Duration;

// The schema version is written in `meta` under `schema_version`.
use crate::schema::SCHEMA_VERSION;

// Advisory lock keys (arbitrary constants, "Cl" + a number). Transaction-scoped: a crashed
// client's locks go with its connection.
/// Held while creating or migrating the schema: two servers starting at once.
const MIGRATE_LOCK: i64 = 0x436c_0001;
/// Held for a whole import or undo: they never interleave (as with SQLite's write lock).
const IMPORT_LOCK: i64 = 0x436c_0002;
/// Held from "highest account number" to commit, by API creates and an import's finish.
const ACCOUNT_LOCK: i64 = 0x436c_0003;
/// Held from appending to `changes` to commit, so revisions become visible in order and a
/// reader of the feed never skips a revision that commits late.
const CHANGES_LOCK: i64 = 0x436c_0004;

type Manager = PostgresConnectionManager<NoTls>;
pub(crate) type Conn = PooledConnection<Manager>;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => {
                StoreError::Conflict(db.detail().unwrap_or(db.message()).to_string())
            }
            Some(db) => {
                let message = format!("{}: {}", db.severity(), db.message());
                StoreError::described(message, e)
            }
            // Connection-level errors carry no credentials, but say what failed (and why:
            // "connection refused" is in the source).
            None => match std::error::Error::source(&e) {
                Some(why) => StoreError::described(format!("{e}: {why}"), e),
                None => StoreError::Db(Box::new(e)),
            },
        }
    }
}

/// A PostgreSQL database.
pub struct PgStore {
    pool: Pool<Manager>,
    lists: ListCache,
}

impl PgStore {
    /// Connect to `url` (`postgres://user:pass@host:port/db`), creating or migrating the schema.
    pub fn open(url: &str) -> Result<PgStore> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::db(format!("invalid database URL {}: {e}", redact(url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // One connection by hand first: the pool would retry for its whole timeout and then
        // only say it timed out, where PostgreSQL says why (no such database, role,
        // password, or nothing listening).
        if let Err(e) = config.connect(NoTls) {
            let why = match StoreError::from(e) {
                StoreError::Db(m) => m.to_string(),
                other => other.to_string(),
            };
            return Err(StoreError::db(format!(
                "cannot connect to {}: {why}",
                redact(url)
            )));
        }
        let manager = PostgresConnectionManager::new(config, NoTls);
        // One connection up front (the CLI needs one or two); the server grows to max_size.
        let pool = Pool::builder()
            .max_size(16)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            // Failed connections surface where a connection is asked for, with their
            // reason; r2d2's own handler also printed each retry on standard error.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(manager)
            .map_err(|e| StoreError::db(format!("cannot connect to {}: {e}", redact(url))))?;
        let store = PgStore {
            pool,
            lists: ListCache::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub(crate) fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        // DDL is transactional here: the lock makes a second server wait, then see version 1.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
        let exists: bool = tx
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
            .get(0);
        let version: i64 = if exists {
            tx.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
                .and_then(|r| r.get::<_, String>(0).parse().ok())
                .unwrap_or(0)
        } else {
            0
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::db(format!(
                "the database was written by a newer Clientèle (schema {version})"
            )));
        }
        for (target, statements) in schema::migrations(Dialect::Postgres) {
            if version < target {
                let mut trigrams = true;
                for s in statements {
                    if s.starts_with("CREATE EXTENSION") {
                        // Creating an extension needs a privilege the database's owner may
                        // not have: without it, searches work, by scanning.
                        tx.batch_execute("SAVEPOINT extension")?;
                        trigrams = tx.batch_execute(&s).is_ok();
                        tx.batch_execute(if trigrams {
                            "RELEASE SAVEPOINT extension"
                        } else {
                            "ROLLBACK TO SAVEPOINT extension"
                        })?;
                    } else if trigrams || !s.contains("gin_trgm_ops") {
                        tx.batch_execute(&s)?;
                    }
                }
            }
        }
        if version < SCHEMA_VERSION {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&SCHEMA_VERSION.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl Backend for PgStore {
    fn read<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R> {
        let mut c = self.conn()?;
        f(&mut PgDb::new(&mut *c))
    }

    fn write<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        let out = f(&mut PgDb::new(&mut tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn scan<R>(&self, f: impl FnOnce(&mut dyn Db) -> Result<R>) -> Result<R> {
        let mut c = self.conn()?;
        // One snapshot for every statement of the scan; rows are streamed from the socket.
        let mut tx = c
            .build_transaction()
            .isolation_level(::postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let out = f(&mut PgDb::new(&mut tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn retry_create(&self, e: &StoreError) -> bool {
        // The generated account is being brought by an import that has not committed (its
        // unique key clashes, or the 200 ms wait for its row ran out): let go of the account
        // lock (the import needs it to finish) and try again.
        match e {
            StoreError::Conflict(m) => m.contains("(\"customerAccount\")"),
            other => sql_state(other) == Some(SqlState::LOCK_NOT_AVAILABLE),
        }
    }

    fn begin_import(&self, file: &str) -> Result<Box<dyn ImportTx + '_>> {
        let (conn, ids_conn) = (self.conn()?, self.conn()?);
        Ok(Box::new(import::PgImport::begin(conn, ids_conn, file)?))
    }

    /// The schema version, on a pooled connection obtained within `timeout`.
    fn ping(&self, timeout: Duration) -> Result<i64> {
        let mut c = self.pool.get_timeout(timeout).map_err(|e| {
            StoreError::described(
                format!(
                    "no connection to PostgreSQL within {} ms",
                    timeout.as_millis()
                ),
                e,
            )
        })?;
        let db: &mut dyn Db = &mut PgDb::new(&mut *c);
        let v = db.query_opt(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            &[],
            |r| r.text(0),
        )?;
        Ok(v.flatten().and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    fn lists(&self) -> &ListCache {
        &self.lists
    }

    fn pool_state(&self) -> PoolState {
        PoolState::of(&self.pool)
    }
}

/// The SQLSTATE of the PostgreSQL error behind `e`, if any.
fn sql_state(e: &StoreError) -> Option<SqlState> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(db) = c
            .downcast_ref::<::postgres::Error>()
            .and_then(|p| p.as_db_error())
        {
            return Some(db.code().clone());
        }
        cause = c.source();
    }
    None
}

/// A PostgreSQL connection or transaction as a [`Db`], with an optional cache of prepared
/// statements (the import's connection thread keeps one: its look-ups run once per row).
pub(crate) struct PgDb<'c, C: GenericClient> {
    client: &'c mut C,
    cache: Option<&'c mut HashMap<String, Statement>>,
}

impl<'c, C: GenericClient> PgDb<'c, C> {
    /// Statements prepared anew each time (one round trip more, nothing kept).
    pub(crate) fn new(client: &'c mut C) -> Self {
        PgDb {
            client,
            cache: None,
        }
    }

    /// Statements prepared once and kept in `cache`.
    pub(crate) fn cached(client: &'c mut C, cache: &'c mut HashMap<String, Statement>) -> Self {
        PgDb {
            client,
            cache: Some(cache),
        }
    }

    fn prepared(&mut self, sql: &str) -> Result<Option<Statement>> {
        let Some(cache) = self.cache.as_deref_mut() else {
            return Ok(None);
        };
        if let Some(st) = cache.get(sql) {
            return Ok(Some(st.clone()));
        }
        let st = self.client.prepare(sql)?;
        cache.insert(sql.to_string(), st.clone());
        Ok(Some(st))
    }
}

fn params<'a>(args: &'a [Arg]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl<C: GenericClient> Db for PgDb<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64> {
        let sql = crate::sql::statement(Dialect::Postgres, sql);
        Ok(match self.prepared(&sql)? {
            Some(st) => self.client.execute(&st, &params(args))?,
            None => self.client.execute(sql.as_ref(), &params(args))?,
        })
    }

    fn insert(&mut self, sql: &str, args: &[Arg]) -> Result<i64> {
        let sql = format!("{sql} RETURNING id");
        let db: &mut dyn Db = self;
        db.query_one(&sql, args, |r| r.int0(0))
    }

    fn query_each(
        &mut self,
        sql: &str,
        args: &[Arg],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let sql = crate::sql::statement(Dialect::Postgres, sql);
        let p = params(args);
        // Rows come from the socket as they are read (never all in memory).
        let mut rows = match self.prepared(&sql)? {
            Some(st) => self.client.query_raw(&st, p)?,
            None => self.client.query_raw(sql.as_ref(), p)?,
        };
        while let Some(r) = rows.next()? {
            each(&r)?;
        }
        Ok(())
    }

    fn lock(&mut self, lock: Lock) -> Result<()> {
        let key = match lock {
            Lock::Import => IMPORT_LOCK,
            Lock::Account => ACCOUNT_LOCK,
            Lock::Changes => CHANGES_LOCK,
            Lock::BriefWaits => {
                self.client
                    .batch_execute("SET LOCAL lock_timeout = '200ms'")?;
                return Ok(());
            }
            Lock::NormalWaits => {
                self.client
                    .batch_execute("SET LOCAL lock_timeout = DEFAULT")?;
                return Ok(());
            }
        };
        self.client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
        Ok(())
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Arg::Null => Ok(IsNull::Yes),
            // Whole numbers in the width the statement wants (a `substr` position is int4).
            Arg::Int(n) => match *ty {
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            Arg::Text(t) => t.as_ref().to_sql(ty, out),
            Arg::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each variant checks its type as it writes (see `to_sql`).
        true
    }

    to_sql_checked!();
}

impl SqlRow for Row {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        match self.columns().get(i).map(|c| c.type_().clone()) {
            Some(Type::INT4) => Ok(self.try_get::<_, Option<i32>>(i)?.map(i64::from)),
            Some(Type::INT2) => Ok(self.try_get::<_, Option<i16>>(i)?.map(i64::from)),
            _ => Ok(self.try_get(i)?),
        }
    }
    fn text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(self.try_get(i)?)
    }
    fn value_text(&self, i: usize) -> Result<Option<compact_str::CompactString>> {
        Ok(self.try_get::<_, Option<&str>>(i)?.map(Into::into))
    }
}
